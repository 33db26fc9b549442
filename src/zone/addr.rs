//! Address forms as rbldnsd reads them (its `ip4parse.c` and `ip6addr.c`), with the reason of
//! each failure kept.

/// Why an address field did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrErr {
    Bad,
    Octet,
    Prefix,
    Reversed,
    Bare,
}

pub(crate) const fn mask4(bits: u8) -> u32 {
    if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits as u32)
    }
}

pub(crate) const fn mask6(bits: u8) -> u128 {
    if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits as u32)
    }
}

/// `a`, `a.b`, `a.b.c` or `a.b.c.d`: the octets given, left-aligned, with 8, 16, 24 or 32
/// bits, and the bytes consumed.
pub(crate) fn ip4prefix(s: &[u8]) -> Result<(u32, u8, usize), AddrErr> {
    let mut a = 0u32;
    let mut i = 0usize;
    for k in 0..4u8 {
        if k > 0 {
            if s.get(i) != Some(&b'.') {
                return Ok((a, 8 * k, i));
            }
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(AddrErr::Bad);
        }
        let mut o = 0u32;
        while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
            o = o * 10 + u32::from(c - b'0');
            if o > 255 {
                return Err(AddrErr::Octet);
            }
            i += 1;
        }
        a |= o << (24 - 8 * k as u32);
    }
    Ok((a, 32, i))
}

/// A prefix length after `/`: digits, at most `max`.
fn mbits(s: &[u8], max: u32) -> Result<(u8, usize), AddrErr> {
    if !s.first().is_some_and(u8::is_ascii_digit) {
        return Err(AddrErr::Bad);
    }
    let mut bits = 0u32;
    let mut i = 0;
    while let Some(&c) = s.get(i).filter(|c| c.is_ascii_digit()) {
        bits = bits * 10 + u32::from(c - b'0');
        if bits > max {
            return Err(AddrErr::Prefix);
        }
        i += 1;
    }
    Ok((bits as u8, i))
}

/// An ip4set entry: prefix, CIDR or range. Returns (first, last, bits, consumed); bits is
/// 32 for a range (the host part of `first` is checked against it by the caller).
pub(crate) fn ip4range(s: &[u8]) -> Result<(u32, u32, u8, usize), AddrErr> {
    let (a, bits, n) = ip4prefix(s)?;
    match s.get(n) {
        Some(b'-') => {
            let (mut b, mut bbits, m) = ip4prefix(&s[n + 1..])?;
            if bbits == 8 {
                // 127.0.0.1-2 is 127.0.0.1-127.0.0.2: the last octet given
                b = (b >> (bits - 8)) | (a & mask4(bits - 8));
                bbits = bits;
            } else if bbits != bits {
                return Err(AddrErr::Bad);
            }
            if bbits != 32 {
                b |= !mask4(bbits);
            }
            if a > b {
                return Err(AddrErr::Reversed);
            }
            Ok((a, b, 32, n + 1 + m))
        }
        Some(b'/') => {
            let (bits, m) = mbits(&s[n + 1..], 32)?;
            Ok((a, a | !mask4(bits), bits, n + 1 + m))
        }
        _ if bits == 8 => Err(AddrErr::Bare),
        _ => Ok((a, a | !mask4(bits), bits, n)),
    }
}

/// An ip4trie entry: prefix or CIDR, no ranges.
pub(crate) fn ip4cidr(s: &[u8]) -> Result<(u32, u8, usize), AddrErr> {
    let (a, bits, n) = ip4prefix(s)?;
    match s.get(n) {
        Some(b'/') => {
            let (bits, m) = mbits(&s[n + 1..], 32)?;
            Ok((a, bits, n + 1 + m))
        }
        _ if bits == 8 => Err(AddrErr::Bare),
        _ => Ok((a, bits, n)),
    }
}

/// rbldnsd's `ip4addr`: inet_aton-like short forms, `1.2` being 1.0.0.2.
pub(crate) fn ip4addr(s: &[u8]) -> Result<(u32, u8, usize), AddrErr> {
    let (a, bits, n) = ip4prefix(s)?;
    let a = match bits {
        8 => a >> 24,
        16 => (a & 0xff00_0000) | ((a >> 16) & 255),
        24 => (a & 0xffff_0000) | ((a >> 8) & 255),
        _ => a,
    };
    Ok((a, bits, n))
}

fn hex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// `x:x:…` with `::`; bits are 16 per word given, 128 with `::`.
pub(crate) fn ip6prefix(s: &[u8]) -> Result<(u128, u8, usize), AddrErr> {
    let mut ap = [0u8; 16];
    let mut bytes = 0usize;
    let mut zstart: Option<usize> = None;
    let mut i = 0usize;
    let mut ret: Option<u8> = None;
    if s.starts_with(b"::") {
        zstart = Some(0);
        i = 2;
    }
    loop {
        let start = i;
        let mut v = 0u32;
        let mut over = false;
        while let Some(n) = s.get(i).and_then(|&c| hex(c)) {
            v = (v << 4) + n;
            if v > 0xffff {
                over = true;
                break;
            }
            i += 1;
        }
        if start == i || over {
            break;
        }
        ap[bytes] = (v >> 8) as u8;
        ap[bytes + 1] = v as u8;
        bytes += 2;
        if s.get(i) != Some(&b':') || bytes + 2 > 16 {
            ret = Some((bytes * 8) as u8);
            break;
        }
        i += 1;
        if zstart.is_none() && s.get(i) == Some(&b':') {
            zstart = Some(bytes);
            i += 1;
        }
    }
    if let Some(z) = zstart {
        let nzeros = 16 - bytes;
        if nzeros == 0 {
            return Err(AddrErr::Bad);
        }
        ap.copy_within(z..bytes, z + nzeros);
        ap[z..z + nzeros].fill(0);
        ret = Some(128);
    }
    match ret {
        Some(bits) => Ok((u128::from_be_bytes(ap), bits, i)),
        None => Err(AddrErr::Bad),
    }
}

/// An ip6trie entry: prefix with an optional `/bits`; a single bare word is refused.
pub(crate) fn ip6cidr(s: &[u8]) -> Result<(u128, u8, usize), AddrErr> {
    let (a, bits, n) = ip6prefix(s)?;
    match s.get(n) {
        Some(b'/') => {
            let (bits, m) = mbits(&s[n + 1..], 128)?;
            Ok((a, bits, n + 1 + m))
        }
        _ if bits == 16 => Err(AddrErr::Bare),
        _ => Ok((a, bits, n)),
    }
}

/// An IPv6 address as rbldnsd writes it (its `ip6atos`): lowercase hex words, the longest
/// run of two or more zero words as `::`, never the dotted IPv4 tail that `Ipv6Addr`'s
/// `Display` uses for mapped addresses.
pub(crate) fn ip6_text(a: u128, out: &mut String) {
    use std::fmt::Write;
    let w: [u16; 8] = std::array::from_fn(|i| (a >> (112 - 16 * i)) as u16);
    let (mut best, mut best_len) = (0usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if w[i] == 0 {
            let j = (i..8).find(|&j| w[j] != 0).unwrap_or(8);
            if j - i > best_len {
                best = i;
                best_len = j - i;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_len = 0;
    }
    let mut first = true;
    let mut i = 0;
    while i < 8 {
        if best_len > 0 && i == best {
            out.push_str("::");
            i += best_len;
            first = true;
            continue;
        }
        if !first {
            out.push(':');
        }
        let _ = write!(out, "{:x}", w[i]);
        first = false;
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip4_forms() {
        assert_eq!(
            ip4range(b"127.0.0.0/24"),
            Ok((0x7f00_0000, 0x7f00_00ff, 24, 12))
        );
        assert_eq!(ip4range(b"127.0.0"), Ok((0x7f00_0000, 0x7f00_00ff, 24, 7)));
        assert_eq!(ip4range(b"127/24"), Ok((0x7f00_0000, 0x7f00_00ff, 24, 6)));
        assert_eq!(
            ip4range(b"127.0.0.1-255").map(|r| (r.0, r.1)),
            Ok((0x7f00_0001, 0x7f00_00ff))
        );
        assert_eq!(
            ip4range(b"127.16-31").map(|r| (r.0, r.1)),
            Ok((0x7f10_0000, 0x7f1f_ffff))
        );
        assert_eq!(
            ip4range(b"127.16.0-127.31.255").map(|r| (r.0, r.1)),
            Ok((0x7f10_0000, 0x7f1f_ffff))
        );
        assert_eq!(ip4range(b"127"), Err(AddrErr::Bare));
        assert_eq!(ip4range(b"127-127.0.0"), Err(AddrErr::Bad));
        assert_eq!(ip4range(b"1.2.3.256"), Err(AddrErr::Octet));
        assert_eq!(ip4range(b"1.2.3.0/33"), Err(AddrErr::Prefix));
        assert_eq!(ip4range(b"1.2.3.9-1.2.3.4"), Err(AddrErr::Reversed));
        assert_eq!(ip4range(b"0/0").map(|r| (r.0, r.1)), Ok((0, u32::MAX)));
        assert_eq!(ip4addr(b"2").map(|r| r.0), Ok(2));
        assert_eq!(ip4addr(b"1.2").map(|r| r.0), Ok(0x0100_0002));
    }

    #[test]
    fn ip6_forms() {
        let p = |s: &str| ip6cidr(s.as_bytes()).map(|(a, b, _)| (a, b));
        assert_eq!(p("2001:21ab:c000/36"), Ok((0x2001_21ab_c000u128 << 80, 36)));
        assert_eq!(
            p("2001:21ab:def7:4242"),
            Ok((0x2001_21ab_def7_4242u128 << 64, 64))
        );
        assert_eq!(p("::1"), Ok((1, 128)));
        assert_eq!(p("2605:6001:42::/52"), Ok((0x2605_6001_0042u128 << 80, 52)));
        assert_eq!(p("2001"), Err(AddrErr::Bare));
        // eight words end the address; what follows is the caller's business
        assert_eq!(ip6cidr(b"1:2:3:4:5:6:7:8::").map(|r| r.2), Ok(15));
        assert_eq!(p("1::2:3:4:5:6:7:8"), Err(AddrErr::Bad));
        assert_eq!(p("12345::"), Err(AddrErr::Bad));
        assert_eq!(p("::/129"), Err(AddrErr::Prefix));
    }

    #[test]
    fn ip6_text_like_rbldnsd() {
        let t = |a: u128| {
            let mut s = String::new();
            ip6_text(a, &mut s);
            s
        };
        assert_eq!(t(1), "::1");
        assert_eq!(t(0), "::");
        assert_eq!(t(0xffff_0102_0304), "::ffff:102:304");
        assert_eq!(
            t(0x2001_0db8_0000_0001_0000_0000_0000_0001),
            "2001:db8:0:1::1"
        );
        assert_eq!(t(0x2001_0db8u128 << 96), "2001:db8::");
        for a in [
            1u128,
            0x2001_0db8 << 96,
            0x2001_0db8_0000_0001_0000_0000_0000_0001,
            5 << 64,
        ] {
            assert_eq!(
                t(a).parse::<std::net::Ipv6Addr>().unwrap(),
                std::net::Ipv6Addr::from(a)
            );
        }
    }
}
