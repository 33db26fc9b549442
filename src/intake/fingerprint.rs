//! Message fingerprints: a stable hash of a message's normalised body, so that one message
//! reported twice is recognised, and copies of one campaign share a value.

/// The fingerprint of a message body (the bytes after the header block): 64-bit FNV-1a
/// over the body with ASCII letters lowercased, white space and line ends dropped, and
/// MIME boundary lines (those starting with `--`) left out, written as 16 hex digits.
/// Stable across versions and platforms.
///
/// # Examples
///
/// ```
/// use rblkit::intake::fingerprint;
/// let a = fingerprint(b"Buy NOW at\r\n  www.example.com\r\n");
/// let b = fingerprint(b"buy now at www.example.com");
/// assert_eq!(a, b);
/// assert_eq!(a.len(), 16);
/// assert_ne!(a, fingerprint(b"something else"));
/// // Different random boundaries, same content.
/// assert_eq!(
///     fingerprint(b"--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n"),
///     fingerprint(b"--zz9\r\nContent-Type: text/plain\r\n\r\nhi\r\n--zz9--\r\n"),
/// );
/// ```
pub fn fingerprint(body: &[u8]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for line in body.split(|&b| b == b'\n') {
        if line.starts_with(b"--") {
            continue;
        }
        for &b in line {
            if b.is_ascii_whitespace() {
                continue;
            }
            h ^= u64::from(b.to_ascii_lowercase());
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:016x}")
}
