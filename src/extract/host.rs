//! Host normalisation: percent-decoding, de-obfuscation, invisible characters, IPv4 in all
//! its numeric forms, IPv6 literals, UTS #46 via [`Domain::normalize`].

use super::Flags;
use crate::subject::Domain;
use crate::subject::{MAX_LABEL_LEN, MAX_NAME_LEN};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest raw host text looked at.
const MAX_RAW_HOST: usize = 1024;

/// A normalised host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostOut<'a> {
    pub(crate) host: Cow<'a, str>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) flags: Flags,
}

/// Which numeric IPv4 forms are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numeric {
    /// Decimal, hex, octal, one to four parts (`0x7f.1`, `2130706433`): what browsers accept
    /// in a URL.
    Loose,
    /// Only four decimal parts without leading zeros: what prose holds.
    DottedQuad,
}

/// Characters that render as nothing (or almost nothing) and are dropped from hosts.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
    )
}

/// Full stops other than `.` that resolvers and browsers treat as one.
pub(crate) fn is_unicode_dot(c: char) -> bool {
    matches!(c, '\u{3002}' | '\u{FF0E}' | '\u{FF61}')
}

#[inline]
const fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%xx` escapes; `None` when the result is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let mut buf = Vec::new();
    decode_into(s, &mut buf);
    String::from_utf8(buf).ok()
}

/// `s` with its `%xx` escapes decoded, in `buf` (cleared first); `None` when the decoded text
/// is not UTF-8.
pub(crate) fn percent_decode_str<'b>(s: &str, buf: &'b mut Vec<u8>) -> Option<&'b str> {
    decode_into(s, buf);
    std::str::from_utf8(buf).ok()
}

/// The bytes of `s` with its `%xx` escapes decoded, in `buf` (cleared first): the text is
/// copied whole and decoded in place from its first escape on, so the part before it costs one
/// copy. Hexadecimal digits are read from a table ([`HEX`]): no branch on a digit's kind.
fn decode_into(s: &str, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(s.as_bytes());
    let n = buf.len();
    let Some(first) = pos(buf, b'%') else {
        return;
    };
    let (mut r, mut w) = (first, first);
    while r < n {
        let mut c = buf[r];
        r += 1;
        if c == b'%' {
            if let (Some(&h), Some(&l)) = (buf.get(r), buf.get(r + 1)) {
                let (h, l) = (HEX[h as usize], HEX[l as usize]);
                if h | l < 16 {
                    c = h << 4 | l;
                    r += 2;
                }
            }
        }
        buf[w] = c;
        w += 1;
    }
    buf.truncate(w);
}

/// The value of each hexadecimal digit; 255 for every other byte.
static HEX: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = hex_val(c as u8) {
            t[c] = v;
        }
        c += 1;
    }
    t
};

/// Length of an obfuscated dot (`[.]`, `(dot)`, `{.}`, …) at the start of `b`.
pub(crate) fn obfuscated_dot_len(b: &[u8]) -> usize {
    let close = match b.first() {
        Some(b'[') => b']',
        Some(b'(') => b')',
        Some(b'{') => b'}',
        _ => return 0,
    };
    let rest = &b[1..];
    let inner = if rest.first() == Some(&b'.') {
        1
    } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"dot") {
        3
    } else {
        return 0;
    };
    if rest.get(inner) == Some(&close) {
        inner + 2
    } else {
        0
    }
}

/// Length of an obfuscated at sign (`[at]`, `(at)`, `{at}`) at the start of `b`.
pub(crate) fn obfuscated_at_len(b: &[u8]) -> usize {
    let close = match b.first() {
        Some(b'[') => b']',
        Some(b'(') => b')',
        Some(b'{') => b'}',
        _ => return 0,
    };
    if b.len() >= 4 && b[1..3].eq_ignore_ascii_case(b"at") && b[3] == close {
        4
    } else {
        0
    }
}

#[inline]
fn is_plain_host_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_'
}

/// Where the last `c` is in a short `b`: a plain backward loop, cheaper than the set-up of a
/// vectorised search on host-sized texts.
#[inline]
pub(crate) fn rpos(b: &[u8], c: u8) -> Option<usize> {
    b.iter().rposition(|&x| x == c)
}

/// Where the first `c` is in a short `b` (see [`rpos`]).
#[inline]
pub(crate) fn pos(b: &[u8], c: u8) -> Option<usize> {
    b.iter().position(|&x| x == c)
}

/// The text after the last `.` (all of it when there is none).
#[inline]
pub(crate) fn last_label(s: &str) -> &str {
    match rpos(s.as_bytes(), b'.') {
        Some(k) => &s[k + 1..],
        None => s,
    }
}

/// Whether `needle` occurs in a short `hay` (no searcher set-up, unlike `memmem`).
#[inline]
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    let first = first.to_ascii_lowercase();
    let n = needle.len();
    hay.len() >= n
        && hay[..=hay.len() - n].iter().enumerate().any(|(i, c)| {
            c.to_ascii_lowercase() == first && hay[i..i + n].eq_ignore_ascii_case(needle)
        })
}

/// Normalises a host as written in a URL, an email address or prose.
pub(crate) fn normalize_host(raw: &str, numeric: Numeric) -> Option<HostOut<'_>> {
    if raw.is_empty() || raw.len() > MAX_RAW_HOST {
        return None;
    }
    ascii_name(raw).or_else(|| normalize_general(raw, numeric))
}

/// Every host form: IPv6 literals, IPv4 forms, percent-encoding, obfuscations, Unicode.
fn normalize_general(raw: &str, numeric: Numeric) -> Option<HostOut<'_>> {
    let mut flags = Flags::empty();
    if let Some(inner) = raw.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        let inner = inner.split('%').next().unwrap_or(inner);
        let ip: Ipv6Addr = inner.parse().ok()?;
        let ip = match ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(ip),
        };
        return Some(HostOut {
            host: Cow::Owned(ip.to_string()),
            ip: Some(ip),
            flags: flags | Flags::NUMERIC_IP,
        });
    }
    if raw.bytes().all(is_plain_host_byte) {
        return finish(raw, numeric, flags);
    }
    let cleaned = clean(raw, &mut flags)?;
    finish(&cleaned, numeric, flags).map(|h| HostOut {
        host: Cow::Owned(h.host.into_owned()),
        ip: h.ip,
        flags: h.flags,
    })
}

const C_DOT: u8 = 1;
const C_UPPER: u8 = 2;
const C_HYPHEN: u8 = 4;
const C_BAD: u8 = 8;

/// Byte classes of [`ascii_name`]: letters, digits and `_` are 0.
static NAME_CLASS: [u8; 256] = {
    let mut t = [C_BAD; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' {
            t[i] = 0;
        } else if c.is_ascii_uppercase() {
            t[i] = C_UPPER;
        }
        i += 1;
    }
    t[b'.' as usize] = C_DOT;
    t[b'-' as usize] = C_HYPHEN;
    t
};

/// Whether `text`, whose labels before `last` (where its last label starts) are 1 to 63
/// bytes, is a name by its end: a last label of 1 to 63 bytes that is not numeric, and at most
/// 253 bytes in all.
#[inline]
fn name_tail(text: &str, last: usize) -> bool {
    let l = text.get(last..).unwrap_or("");
    !l.is_empty() && l.len() <= MAX_LABEL_LEN && text.len() <= MAX_NAME_LEN && !is_numeric_label(l)
}

/// The host [`normalize_host`] gives for `text` when its bytes are lowercase letters, digits,
/// `_` and dots and its labels before `last` are 1 to 63 bytes (what a caller's own walk
/// found): the name as it stands, when it ends as a name ([`name_tail`]).
#[inline]
pub(crate) fn plain_name(text: &str, last: usize) -> Option<HostOut<'_>> {
    name_tail(text, last).then_some(HostOut {
        host: Cow::Borrowed(text),
        ip: None,
        flags: Flags::empty(),
    })
}

/// The common case in one pass: an ASCII name of letters, digits, `-` and `_` in labels of 1
/// to 63 bytes, at most 253 bytes (after an optional final dot), whose last label is not
/// numeric and that has no `xn--` label. It is lowercased (borrowed when it already is);
/// anything else is `None` and takes the general path ([`finish`] after [`clean`]), which
/// gives the same answer for these names.
fn ascii_name(raw: &str) -> Option<HostOut<'_>> {
    let text = raw.strip_suffix('.').unwrap_or(raw);
    let b = text.as_bytes();
    if b.is_empty() || b.len() > MAX_NAME_LEN {
        return None;
    }
    // One table look-up a byte; label lengths are checked at the dots.
    let mut seen = 0u8;
    let mut label_start = 0usize;
    for (i, &c) in b.iter().enumerate() {
        let k = NAME_CLASS[c as usize];
        if k == C_DOT {
            if i == label_start || i - label_start > MAX_LABEL_LEN {
                return None;
            }
            label_start = i + 1;
        }
        seen |= k;
    }
    if seen & C_BAD != 0 || !name_tail(text, label_start) {
        return None;
    }
    let upper = seen & C_UPPER != 0;
    let hyphen = seen & C_HYPHEN != 0;
    let mut flags = Flags::empty();
    if hyphen && contains(b, b"xn--") {
        if b.windows(4)
            .enumerate()
            .any(|(i, w)| w.eq_ignore_ascii_case(b"xn--") && (i == 0 || b[i - 1] == b'.'))
        {
            // An ACE label: UTS #46 checks it.
            return None;
        }
        flags |= Flags::IDN;
    }
    let host = if upper {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    };
    Some(HostOut {
        host,
        ip: None,
        flags,
    })
}

/// IPv4 or domain name, from a text already cleaned.
fn finish(text: &str, numeric: Numeric, mut flags: Flags) -> Option<HostOut<'_>> {
    let text = text.strip_suffix('.').unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    let last = last_label(text);
    if is_numeric_label(last) {
        let (ip, standard) = parse_ipv4(text)?;
        if !standard {
            if numeric == Numeric::DottedQuad {
                return None;
            }
            flags |= Flags::OBFUSCATED;
        }
        // A standard dotted quad (decimal, no leading zeros) is already its own text.
        let host = if standard && !text.ends_with('.') {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(ip.to_string())
        };
        return Some(HostOut {
            host,
            ip: Some(IpAddr::V4(ip)),
            flags: flags | Flags::NUMERIC_IP,
        });
    }
    let host = Domain::normalize(text).ok()?;
    if contains(host.as_bytes(), b"xn--") {
        flags |= Flags::IDN;
    }
    Some(HostOut {
        host,
        ip: None,
        flags,
    })
}

/// Percent-decoding, obfuscated dots, invisible characters and unusual full stops.
fn clean(raw: &str, flags: &mut Flags) -> Option<String> {
    let decoded;
    let mut s = raw;
    if raw.contains('%') {
        decoded = percent_decode(raw)?;
        if decoded != raw {
            *flags |= Flags::OBFUSCATED;
        }
        s = &decoded;
    }
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x80 {
            let n = obfuscated_dot_len(&b[i..]);
            if n > 0 {
                out.push('.');
                *flags |= Flags::OBFUSCATED;
                i += n;
                continue;
            }
            out.push(c as char);
            i += 1;
            continue;
        }
        let ch = s[i..].chars().next()?;
        i += ch.len_utf8();
        if is_invisible(ch) {
            *flags |= Flags::UNUSUAL_CHARS;
        } else if is_unicode_dot(ch) {
            *flags |= Flags::UNUSUAL_CHARS;
            out.push('.');
        } else {
            if ('\u{FF01}'..='\u{FF5E}').contains(&ch) {
                *flags |= Flags::UNUSUAL_CHARS;
            }
            out.push(ch);
        }
    }
    Some(out)
}

fn is_numeric_label(l: &str) -> bool {
    let b = l.as_bytes();
    if b.is_empty() {
        return false;
    }
    if b.len() >= 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' {
        return b[2..].iter().all(u8::is_ascii_hexdigit);
    }
    b.iter().all(u8::is_ascii_digit)
}

/// A standard dotted quad (four decimal parts up to 255 without leading zeros: the form
/// `Ipv4Addr`'s parser reads), as [`normalize_host`] gives it back: its own text, and the
/// address.
pub(crate) fn dotted_quad(raw: &str) -> Option<HostOut<'_>> {
    let ip: Ipv4Addr = raw.parse().ok()?;
    Some(HostOut {
        host: Cow::Borrowed(raw),
        ip: Some(IpAddr::V4(ip)),
        flags: Flags::NUMERIC_IP,
    })
}

/// Parses an IPv4 address the way browsers read a URL host: one to four parts, each decimal,
/// `0x` hex or `0` octal, the last filling the remaining bytes. The flag says whether it was
/// written as a standard dotted quad.
pub(crate) fn parse_ipv4(s: &str) -> Option<(Ipv4Addr, bool)> {
    let s = s.strip_suffix('.').unwrap_or(s);
    let mut parts = [0u64; 4];
    let mut n = 0;
    let mut standard = true;
    for p in s.as_bytes().split(|&c| c == b'.') {
        if n == 4 {
            return None;
        }
        let (v, std_form) = parse_part(p)?;
        standard &= std_form;
        parts[n] = v;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    standard &= n == 4;
    for &p in &parts[..n - 1] {
        if p > 255 {
            return None;
        }
    }
    let last = parts[n - 1];
    if last >= 1u64 << (8 * (5 - n)) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, &p) in parts[..n - 1].iter().enumerate() {
        v |= p << (8 * (3 - i));
    }
    v |= last;
    let v = u32::try_from(v).ok()?;
    Some((Ipv4Addr::from(v), standard))
}

fn parse_part(b: &[u8]) -> Option<(u64, bool)> {
    if b.is_empty() || b.len() > 40 {
        return None;
    }
    let (digits, radix, std_form) = if b.len() >= 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' {
        (&b[2..], 16u64, false)
    } else if b.len() > 1 && b[0] == b'0' {
        (&b[1..], 8, false)
    } else {
        (b, 10, true)
    };
    let mut v: u64 = 0;
    for &d in digits {
        let x = u64::from(hex_val(d)?);
        if x >= radix {
            return None;
        }
        v = v.checked_mul(radix)?.checked_add(x)?;
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    Some((v, std_form))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::xorshift;

    #[test]
    fn dotted_quads_as_the_general_path() {
        for raw in [
            "192.0.2.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3.256",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.",
            "0x7f.0.0.1",
            "1.2.3.4a",
            "1000.1.1.1",
            "10.0.0.010",
        ] {
            let general = normalize_host(raw, Numeric::DottedQuad);
            match dotted_quad(raw) {
                Some(h) => {
                    let g = general.expect(raw);
                    assert_eq!((h.host, h.ip, h.flags), (g.host, g.ip, g.flags), "{raw}");
                }
                // refused here: not a standard quad, so the general path gives no address
                // in its own text
                None => assert!(
                    general.is_none_or(|g| g.ip.is_none() || g.host != raw),
                    "{raw}"
                ),
            }
        }
    }

    #[test]
    fn percent_decoding() {
        for (s, want) in [
            ("a%2Fb%3a", Some("a/b:")),
            ("%%41", Some("%A")),
            ("%zz%4", Some("%zz%4")),
            ("%", Some("%")),
            ("100%", Some("100%")),
            ("%E2%80%8B.x", Some("\u{200B}.x")),
            ("%e2%80%8b", Some("\u{200B}")),
            ("%F0%9F%98%80!", Some("\u{1F600}!")),
            ("é%41%", Some("éA%")),
            ("", Some("")),
            // not UTF-8 once decoded: a lone byte, a cut sequence, a surrogate, an overlong
            ("%FF", None),
            ("%C3%A9t%C3", None),
            ("%C3é", None),
            ("%E2%80", None),
            ("%ED%A0%80", None),
            ("%C0%AF", None),
        ] {
            // what the buffer held before does not count
            let mut buf = b"old".to_vec();
            assert_eq!(percent_decode_str(s, &mut buf), want, "{s}");
            assert_eq!(percent_decode(s).as_deref(), want, "{s}");
        }
    }

    /// The decoder gives what a plain reading gives, for escapes whole, cut and not
    /// hexadecimal, anywhere in the text.
    #[test]
    fn decode_agrees_with_a_byte_loop() {
        fn reference(s: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut r = 0;
            while r < s.len() {
                let hex = |k: usize| s.get(k).and_then(|&c| hex_val(c));
                match (s[r], hex(r + 1), hex(r + 2)) {
                    (b'%', Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        r += 3;
                    }
                    (c, _, _) => {
                        out.push(c);
                        r += 1;
                    }
                }
            }
            out
        }
        const PARTS: &[&str] = &[
            "%41", "%2f", "%", "%4", "%zz", "a", "bc", "defghij", "%%", "é",
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut buf = Vec::new();
        for _ in 0..20_000 {
            xorshift(&mut x);
            let mut y = x;
            let mut s = String::new();
            for _ in 0..y % 12 {
                y = y.wrapping_mul(0x2545_F491_4F6C_DD1D).rotate_left(23);
                s.push_str(PARTS[(y >> 40) as usize % PARTS.len()]);
            }
            decode_into(&s, &mut buf);
            assert_eq!(buf, reference(s.as_bytes()), "{s:?}");
        }
    }

    #[test]
    fn ipv4_forms() {
        for (s, want, std) in [
            ("127.0.0.1", "127.0.0.1", true),
            ("0x7f.1", "127.0.0.1", false),
            ("2130706433", "127.0.0.1", false),
            ("0x7f000001", "127.0.0.1", false),
            ("017700000001", "127.0.0.1", false),
            ("0177.0.0.01", "127.0.0.1", false),
            ("127.1", "127.0.0.1", false),
            ("192.168.257", "192.168.1.1", false),
            ("0x", "0.0.0.0", false),
            ("1.2.3.4.", "1.2.3.4", true),
        ] {
            assert_eq!(parse_ipv4(s), Some((want.parse().unwrap(), std)), "{s}");
        }
        for s in [
            "256.1.1.1",
            "1.2.3.4.5",
            "4294967296",
            "08.1.1.1",
            "1..2",
            "",
            "1.2.3.256",
            "99999999999999999999999999999999999999999",
        ] {
            assert_eq!(parse_ipv4(s), None, "{s}");
        }
    }

    proptest::proptest! {
        /// The one-pass path for plain ASCII names gives what the general path gives.
        #[test]
        fn ascii_fast_path_agrees(parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::string::string_regex("[a-zA-Z0-9_-]{1,8}").unwrap(),
                proptest::string::string_regex("[a-z0-9]{60,66}").unwrap(),
                proptest::prop_oneof![
                    proptest::strategy::Just("xn--".to_owned()),
                    proptest::strategy::Just("XN--".to_owned()),
                    proptest::strategy::Just("0x".to_owned()),
                    proptest::strategy::Just("0X1f".to_owned()),
                    proptest::strategy::Just(".".to_owned()),
                    proptest::strategy::Just("".to_owned()),
                ],
            ],
            1..40,
        ), dots in proptest::collection::vec(proptest::bool::ANY, 40)) {
            let mut raw = String::new();
            for (i, p) in parts.iter().enumerate() {
                raw.push_str(p);
                if dots[i] {
                    raw.push('.');
                }
            }
            if let Some(fast) = ascii_name(&raw) {
                for numeric in [Numeric::Loose, Numeric::DottedQuad] {
                    let general = normalize_general(&raw, numeric);
                    proptest::prop_assert_eq!(Some(&fast), general.as_ref(), "{:?}", raw);
                }
            }
        }
    }

    #[test]
    fn ascii_fast_path_cases() {
        for raw in [
            "Example.COM",
            "a.b-c.d_e.",
            "abcxn--d.com",
            "x.0x1g",
            "1.2.example",
            &format!("{}.com", "a".repeat(63)),
        ] {
            let fast = ascii_name(raw);
            assert!(fast.is_some(), "{raw}");
            assert_eq!(fast, normalize_general(raw, Numeric::Loose), "{raw}");
        }
        for raw in [
            "xn--mnchen-3ya.de",
            "a.XN--p1ai",
            "a.0x1f",
            "a.123",
            "a..b",
            "a.b..",
            &format!("{}.com", "a".repeat(64)),
            &"a.".repeat(128),
            "a b.com",
        ] {
            assert_eq!(ascii_name(raw), None, "{raw}");
        }
    }

    #[test]
    fn hosts() {
        let h = |s: &str| normalize_host(s, Numeric::Loose).map(|h| (h.host.into_owned(), h.flags));
        assert_eq!(h("Example.COM").unwrap().0, "example.com");
        assert_eq!(
            h("example[.]com").unwrap(),
            ("example.com".to_owned(), Flags::OBFUSCATED)
        );
        assert_eq!(h("example(DOT)com").unwrap().0, "example.com");
        assert_eq!(
            h("%65xample.com").unwrap(),
            ("example.com".to_owned(), Flags::OBFUSCATED)
        );
        assert_eq!(
            h("exa\u{200B}mple.com").unwrap(),
            ("example.com".into(), Flags::UNUSUAL_CHARS)
        );
        assert_eq!(h("example\u{3002}com").unwrap().0, "example.com");
        assert_eq!(h("ｅｘａｍｐｌｅ．ｃｏｍ").unwrap().0, "example.com");
        assert_eq!(
            h("münchen.de").unwrap(),
            ("xn--mnchen-3ya.de".into(), Flags::IDN)
        );
        assert_eq!(h("[::1]").unwrap(), ("::1".into(), Flags::NUMERIC_IP));
        assert_eq!(h("[::ffff:192.0.2.1]").unwrap().0, "192.0.2.1");
        assert_eq!(
            h("0x7f.1").unwrap(),
            ("127.0.0.1".into(), Flags::NUMERIC_IP | Flags::OBFUSCATED)
        );
        assert_eq!(normalize_host("0x7f.1", Numeric::DottedQuad), None);
        assert_eq!(h("300.1.2.3"), None);
        assert_eq!(h("a b.com"), None);
        assert_eq!(h("[::1"), None);
        assert_eq!(h(""), None);
        assert_eq!(h("%ff.com"), None);
    }
}
