//! Message fingerprints: a stable hash of a message's normalised body, so that one message
//! reported twice is recognised, and copies of one campaign share a value.

/// The fingerprint of a message body (the bytes after the header block), written as 16 hex
/// digits.
///
/// The body is read line by line; each line has its leading and trailing white space (and
/// its CR) removed and ASCII letters lowercased; empty lines and MIME boundary lines (those
/// starting with `--`, whose random delimiters differ from copy to copy) are left out. Each
/// line's bytes, 8 at a time as little-endian words (the last one zero-padded), and then
/// the line's length, go through 64-bit FNV-1a steps. Stable across versions and platforms.
///
/// # Examples
///
/// ```
/// use rblkit::intake::fingerprint;
/// let a = fingerprint(b"Buy NOW at\r\n  www.example.com  \r\n\r\n");
/// let b = fingerprint(b"buy now at\nwww.example.com\n");
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 16);
/// assert_ne!(a, fingerprint(b"buy now at www.example.com"));
/// // Different random boundaries, same content.
/// assert_eq!(
///     fingerprint(b"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n"),
///     fingerprint(b"--zz9\r\nContent-Type: text/plain\r\n\r\nhi\r\n--zz9--\r\n"),
/// );
/// ```
pub fn fingerprint(body: &[u8]) -> String {
    let mut h = OFFSET;
    let mut start = 0;
    while start < body.len() {
        let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |k| start + k);
        let line = body[start..end].trim_ascii();
        start = end + 1;
        if line.is_empty() || line.starts_with(b"--") {
            continue;
        }
        let mut chunks = line.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = mix(h, ascii_lowercase8(u64::from_le_bytes(w)));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = mix(h, ascii_lowercase8(u64::from_le_bytes(w)));
        }
        h = mix(h, line.len() as u64);
    }
    format!("{h:016x}")
}

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(PRIME)
}

/// ASCII `A`–`Z` in each byte lowercased; other bytes (non-ASCII included) unchanged.
#[inline]
fn ascii_lowercase8(x: u64) -> u64 {
    let heptets = x & !HIGHS;
    let above_z = heptets.wrapping_add(ONES * (0x7f - u64::from(b'Z')));
    let from_a = heptets.wrapping_add(ONES * (0x80 - u64::from(b'A')));
    let upper = !x & (from_a ^ above_z) & HIGHS;
    x | (upper >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, one line and one byte at a time.
    fn reference(body: &[u8]) -> String {
        let mut h = OFFSET;
        for line in body.split(|&b| b == b'\n') {
            let line = line.trim_ascii();
            if line.is_empty() || line.starts_with(b"--") {
                continue;
            }
            for c in line.chunks(8) {
                let mut w = 0u64;
                for (k, &b) in c.iter().enumerate() {
                    w |= u64::from(b.to_ascii_lowercase()) << (8 * k);
                }
                h = mix(h, w);
            }
            h = mix(h, line.len() as u64);
        }
        format!("{h:016x}")
    }

    proptest! {
        #[test]
        fn word_at_a_time_is_the_definition(body in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\n'), Just(b'-'), Just(b' '), Just(b'A'), Just(b'z')], 0..300)) {
            prop_assert_eq!(fingerprint(&body), reference(&body));
        }
    }

    #[test]
    fn lowercase8() {
        for b in 0..=255u8 {
            let x = u64::from(b) * ONES;
            assert_eq!(
                ascii_lowercase8(x),
                u64::from(b.to_ascii_lowercase()) * ONES,
                "{b}"
            );
        }
    }

    #[test]
    fn stable_value() {
        // This value is part of the format: evidence stored with it must keep matching.
        assert_eq!(fingerprint(b"Hello World\r\n"), fingerprint(b"hello world"));
        assert_eq!(fingerprint(b"hello world"), reference(b"hello world"));
        assert_eq!(fingerprint(b""), fingerprint(b"--x\n  \r\n"));
        assert_eq!(fingerprint(b"hello world"), "f391a2cc2b552ebc");
    }
}
