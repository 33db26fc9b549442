//! `Received` header fields: the connecting address each hop recorded, and the walk down the
//! chain to the first hop that trusted networks do not vouch for.
//!
//! The parser is tolerant by design: it knows the shapes that Postfix, Sendmail, Exim, qmail,
//! Courier, Exchange, Gmail and others write, but it reads any field as clauses (`from`,
//! `by`, `via`, `with`, `id`, `for`, then `;` and the date) with comments in parentheses, and
//! takes the address from where receiving servers put the one they saw: in brackets or
//! parentheses after the name the client gave. A literal the client gave in HELO is never the
//! address.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One hop of the `Received` chain, as one header field records it.
///
/// # Examples
///
/// ```
/// use rblkit::intake::Hop;
/// let h = Hop::parse("from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net (Postfix) with ESMTPS id 4ABC; Mon, 30 Nov 2026 10:00:00 +0000");
/// assert_eq!(h.ip(), Some("198.51.100.7".parse().unwrap()));
/// assert_eq!(h.helo(), Some("mail.example.org"));
/// assert_eq!(h.by(), Some("mx.example.net"));
/// assert_eq!(h.protocol(), Some("ESMTPS"));
/// assert!(!h.authenticated());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    helo: Option<Box<str>>,
    ip: Option<IpAddr>,
    by: Option<Box<str>>,
    protocol: Option<Box<str>>,
    authenticated: bool,
    has_from: bool,
}

/// Keywords that start a clause of a `Received` field (RFC 5321 section 4.4).
const CLAUSES: &[&str] = &["from", "by", "via", "with", "id", "for"];

/// The longest field the parser reads; the rest of a longer one is ignored.
const MAX_FIELD: usize = 4096;

impl Hop {
    /// Reads one `Received` field value (folded or not). Never fails: what cannot be read is
    /// left out.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::intake::Hop;
    /// // qmail: the HELO name in a comment, the address in parentheses.
    /// let h = Hop::parse("from unknown (HELO friend) (203.0.113.50) by mail.example.net with SMTP; 1 Dec 2026 10:00:00 -0000");
    /// assert_eq!(h.ip(), Some("203.0.113.50".parse().unwrap()));
    /// // A literal the client gave in HELO is not the address.
    /// let h = Hop::parse("from [10.0.0.1] (unknown [203.0.113.9]) by mx.example.net (Postfix) with ESMTP id X1");
    /// assert_eq!(h.ip(), Some("203.0.113.9".parse().unwrap()));
    /// ```
    pub fn parse(value: &str) -> Hop {
        let value = cut(value, MAX_FIELD);
        // The date follows the last `;` outside comments; the clauses come before it.
        let clauses_end = last_top_level(value, b';').unwrap_or(value.len());
        let clauses = split_clauses(&value[..clauses_end]);
        let mut hop = Hop {
            helo: None,
            ip: None,
            by: None,
            protocol: None,
            authenticated: false,
            has_from: false,
        };
        for (kw, text) in &clauses {
            match *kw {
                "from" => {
                    hop.has_from = true;
                    let (name, ip) = from_clause(text);
                    hop.helo = name.map(Into::into);
                    hop.ip = ip;
                }
                "by" => hop.by = first_word(text).map(Into::into),
                "with" => hop.protocol = first_word(text).map(Into::into),
                _ => {}
            }
        }
        hop.authenticated = is_authenticated(value, hop.protocol.as_deref());
        hop
    }

    /// The connecting address the receiving server recorded.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The name after `from`: what the client said in HELO/EHLO (or, for some servers, the
    /// reverse DNS name); never evidence on its own.
    pub fn helo(&self) -> Option<&str> {
        self.helo.as_deref()
    }

    /// The receiving server's name after `by`.
    pub fn by(&self) -> Option<&str> {
        self.by.as_deref()
    }

    /// The protocol after `with` (`SMTP`, `ESMTPS`, `ESMTPSA`, `LMTP`, …), as written.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether the client authenticated (`ESMTPA`/`ESMTPSA`, `Authenticated sender:`,
    /// Sendmail's `authenticated`).
    pub fn authenticated(&self) -> bool {
        self.authenticated
    }

    /// Whether the field has a `from` clause (internal hand-offs such as `by host with LMTP`
    /// have none).
    pub fn has_from(&self) -> bool {
        self.has_from
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The offset of the last `c` outside parentheses.
fn last_top_level(s: &str, c: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut last = None;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ if b == c && depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

/// The clauses of a field: each keyword (lowercase) with its text, in order. Keywords count
/// only as whole words outside comments; text before the first keyword is dropped.
fn split_clauses(s: &str) -> Vec<(&'static str, &str)> {
    let b = s.as_bytes();
    let mut out: Vec<(&'static str, usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            c if depth == 0 && c.is_ascii_alphabetic() && (i == 0 || is_space(b[i - 1])) => {
                let mut j = i;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let word = &s[i..j];
                let ends = j == b.len() || is_space(b[j]) || b[j] == b'(' || b[j] == b'<';
                if ends {
                    if let Some(kw) = CLAUSES.iter().find(|k| k.eq_ignore_ascii_case(word)) {
                        // A keyword inside a clause's own value (`id`, `for`) only once each;
                        // a second `from` is text (Exchange: "from mail pickup service").
                        if !out.iter().any(|(k, _, _)| k == kw) {
                            if let Some(last) = out.last_mut() {
                                last.2 = i;
                            }
                            out.push((kw, j, b.len()));
                        }
                    }
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out.into_iter()
        .map(|(k, s0, e)| (k, s[s0..e].trim()))
        .collect()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn first_word(s: &str) -> Option<&str> {
    s.split(|c: char| c.is_ascii_whitespace() || c == '(' || c == ';')
        .find(|w| !w.is_empty())
}

/// The name and the recorded address of a `from` clause.
fn from_clause(text: &str) -> (Option<&str>, Option<IpAddr>) {
    let b = text.as_bytes();
    // The name: the first run up to a space or a comment.
    let name_end = b
        .iter()
        .position(|&c| is_space(c) || c == b'(')
        .unwrap_or(b.len());
    let name = &text[..name_end];
    let rest = &text[name_end..];
    // The comments (everything after the name, nested parentheses included).
    if let Some(ip) = address_in_comments(rest) {
        return (non_empty(name), Some(ip));
    }
    // No address in the comments: a literal in the name position was recorded by the
    // receiving server (Exim writes `from [ip] (helo=name)`, and servers that record no
    // comment write the address they saw), since a client's own HELO literal always comes
    // with the server's record of the connection in the comments.
    let ip = parse_ip(name);
    (non_empty(name), ip)
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// The first address in brackets, else the first bare address, in the comments of a `from`
/// clause, skipping what follows `helo=`/`HELO `/`EHLO `.
fn address_in_comments(rest: &str) -> Option<IpAddr> {
    let mut bare: Option<IpAddr> = None;
    let b = rest.as_bytes();
    let mut i = 0;
    let mut after_helo = false;
    while i < b.len() {
        let c = b[i];
        if c == b'[' {
            let end = rest[i + 1..].find(']').map(|e| i + 1 + e)?;
            if !after_helo {
                if let Some(ip) = parse_ip(&rest[i + 1..end]) {
                    return Some(ip);
                }
            }
            after_helo = false;
            i = end + 1;
            continue;
        }
        if is_token_byte(c) {
            let mut j = i;
            while j < b.len() && is_token_byte(b[j]) {
                j += 1;
            }
            let word = &rest[i..j];
            let lower_is = |w: &str| word.eq_ignore_ascii_case(w);
            if lower_is("helo") || lower_is("ehlo") {
                after_helo = true;
                // `helo=` runs straight into its value.
                if j < b.len() && b[j] == b'=' {
                    j += 1;
                    if j < b.len() && b[j] != b'[' {
                        // The value is a word: skip it.
                        while j < b.len() && is_token_byte(b[j]) {
                            j += 1;
                        }
                        after_helo = false;
                    }
                }
                i = j;
                continue;
            }
            if after_helo {
                after_helo = false;
            } else if bare.is_none() {
                bare = parse_ip(word);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    bare
}

fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'-' | b'_' | b'%')
}

/// An address as receiving servers write it: bare, `IPv6:`-prefixed, with a `:port` after an
/// IPv4 address, a zone after an IPv6 one; `::ffff:a.b.c.d` is the IPv4 address.
///
/// # Examples
///
/// ```
/// use rblkit::intake::parse_hop_address;
/// assert_eq!(parse_hop_address("IPv6:2001:db8::1"), Some("2001:db8::1".parse().unwrap()));
/// assert_eq!(parse_hop_address("::ffff:198.51.100.2"), Some("198.51.100.2".parse().unwrap()));
/// assert_eq!(parse_hop_address("198.51.100.2:25"), Some("198.51.100.2".parse().unwrap()));
/// assert_eq!(parse_hop_address("mail.example"), None);
/// ```
pub fn parse_hop_address(s: &str) -> Option<IpAddr> {
    parse_ip(s)
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    let s = strip_prefix_ignore_case(s, "ipv6:").unwrap_or(s);
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let ip = if let Ok(v4) = s.parse::<Ipv4Addr>() {
        IpAddr::V4(v4)
    } else if let Some((a, port)) = s.split_once(':').filter(|(_, p)| !p.contains(':')) {
        // `a.b.c.d:port`
        if !port.bytes().all(|c| c.is_ascii_digit()) || port.is_empty() {
            return None;
        }
        IpAddr::V4(a.parse::<Ipv4Addr>().ok()?)
    } else {
        let v6 = s.split('%').next().unwrap_or(s);
        IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?)
    };
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn is_authenticated(value: &str, protocol: Option<&str>) -> bool {
    if let Some(p) = protocol {
        let p = p.to_ascii_lowercase();
        // RFC 3848: ESMTPA, ESMTPSA, LMTPA, LMTPSA, UTF8SMTPA, UTF8SMTPSA, UTF8LMTPA, …
        if (p.ends_with("smtpa") || p.ends_with("smtpsa") || p.ends_with("lmtpa"))
            || p.ends_with("lmtpsa")
        {
            return true;
        }
    }
    let lower = value.to_ascii_lowercase();
    lower.contains("authenticated sender:")
        || lower.contains("(authenticated")
        || lower.contains("authenticated_id")
        || lower.contains("auth=")
}

/// Addresses that are not a source by default: loopback, private, link-local, shared,
/// documentation, benchmarking, multicast and other special-purpose ranges whose addresses
/// are not globally reachable (IANA's special-purpose address registries).
///
/// # Examples
///
/// ```
/// use rblkit::intake::is_special_purpose;
/// assert!(is_special_purpose("127.0.0.9".parse().unwrap()));
/// assert!(is_special_purpose("10.1.2.3".parse().unwrap()));
/// assert!(is_special_purpose("fd00::1".parse().unwrap()));
/// assert!(!is_special_purpose("8.8.8.8".parse().unwrap()));
/// assert!(!is_special_purpose("2a00:1450:4001::1".parse().unwrap()));
/// ```
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_unspecified()
                || a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_broadcast()
                || a.is_documentation()
                || a.is_multicast()
                || o[0] == 0
                || o[0] >= 240
                // Shared address space (CGN), 100.64.0.0/10.
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
                // IETF protocol assignments, 192.0.0.0/24.
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                // Benchmarking, 198.18.0.0/15.
                || (o[0] == 198 && (o[1] & 0xFE) == 18)
                // 6to4 relay anycast (deprecated), 192.88.99.0/24.
                || (o[0] == 192 && o[1] == 88 && o[2] == 99)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_unspecified()
                || a.is_loopback()
                || a.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
                || (s[0] & 0xFE00) == 0xFC00
                || (s[0] & 0xFFC0) == 0xFE80
                || (s[0] & 0xFFC0) == 0xFEC0
                // Documentation 2001:db8::/32 and 3fff::/20.
                || (s[0] == 0x2001 && s[1] == 0x0DB8)
                || (s[0] & 0xFFF0) == 0x3FF0
                // Discard-only 100::/64.
                || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
                // Benchmarking 2001:2::/48, ORCHID 2001:10::/28, ORCHIDv2 2001:20::/28.
                || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0)
                || (s[0] == 0x2001 && (s[1] & 0xFFF0) == 0x0010)
                || (s[0] == 0x2001 && (s[1] & 0xFFF0) == 0x0020)
                // IPv4-compatible (deprecated) ::/96 beyond :: and ::1.
                || (s[..6] == [0; 6])
        }
    }
}

/// Networks whose hops tell the truth: their servers' records of who connected are
/// believed, so the walk goes on below them.
///
/// # Examples
///
/// ```
/// use rblkit::intake::TrustedNetworks;
/// let t: TrustedNetworks = "192.0.2.0/24, 2001:db8::1".parse()?;
/// assert!(t.contains("192.0.2.77".parse().unwrap()));
/// assert!(!t.contains("198.51.100.1".parse().unwrap()));
/// assert_eq!(t.to_string(), "192.0.2.0/24, 2001:db8::1/128");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedNetworks {
    nets: Vec<IpNet>,
}

impl TrustedNetworks {
    /// No trusted networks.
    pub fn new() -> TrustedNetworks {
        TrustedNetworks::default()
    }

    /// Adds a network (host bits are cleared).
    pub fn add(&mut self, net: IpNet) {
        self.nets.push(net.trunc());
    }

    /// Whether `ip` is inside one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

impl std::str::FromStr for TrustedNetworks {
    type Err = super::IntakeError;

    /// Addresses or CIDR networks separated by commas or white space.
    fn from_str(s: &str) -> Result<TrustedNetworks, super::IntakeError> {
        let mut t = TrustedNetworks::new();
        let mut offset = 0;
        for piece in s.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
            if !piece.is_empty() {
                t.add(
                    parse_net(piece).ok_or_else(|| super::IntakeError::BadNetwork {
                        text: piece.into(),
                        offset,
                    })?,
                );
            }
            offset += piece.len() + 1;
        }
        Ok(t)
    }
}

impl std::fmt::Display for TrustedNetworks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, n) in self.nets.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// An address (a host network) or a CIDR network.
pub(crate) fn parse_net(s: &str) -> Option<IpNet> {
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n);
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Where the walk down the chain ended.
///
/// # Examples
///
/// ```
/// use rblkit::intake::{find_source, Hop, SourceSearch, TrustedNetworks};
/// let hops = [
///     Hop::parse("from localhost (localhost [127.0.0.1]) by mx.example.net (Postfix) with ESMTP id A"),
///     Hop::parse("from spam.example (spam.example [45.95.147.10]) by mx.example.net (Postfix) with ESMTP id B"),
/// ];
/// let found = find_source(&hops, &TrustedNetworks::new(), false);
/// assert_eq!(found, SourceSearch::Found { hop: 1, ip: "45.95.147.10".parse().unwrap() });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceSearch {
    /// The first untrusted hop: its index from the top and its connecting address.
    Found {
        /// Index of the hop, 0 for the topmost `Received` field.
        hop: usize,
        /// The address.
        ip: IpAddr,
    },
    /// The message has no `Received` field.
    NoReceived,
    /// Every hop with an address was trusted, or special-purpose and passed over.
    AllTrusted {
        /// How many hops recorded an address.
        with_address: usize,
    },
}

/// Walks the chain (topmost field first): hops inside `trusted`, and special-purpose
/// addresses unless `allow_special`, are passed over; hops that record no address
/// (internal hand-offs, local submissions) are skipped; the first other hop is the source.
pub fn find_source(hops: &[Hop], trusted: &TrustedNetworks, allow_special: bool) -> SourceSearch {
    if hops.is_empty() {
        return SourceSearch::NoReceived;
    }
    let mut with_address = 0;
    for (i, h) in hops.iter().enumerate() {
        let Some(ip) = h.ip else { continue };
        with_address += 1;
        if trusted.contains(ip) || (!allow_special && is_special_purpose(ip)) {
            continue;
        }
        return SourceSearch::Found { hop: i, ip };
    }
    SourceSearch::AllTrusted { with_address }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_outside_comments() {
        let c = split_clauses("from a (b by c) by d with ESMTP id X for <u@x>");
        let kws: Vec<_> = c.iter().map(|(k, _)| *k).collect();
        assert_eq!(kws, ["from", "by", "with", "id", "for"]);
        assert_eq!(c[0].1, "a (b by c)");
        assert_eq!(c[1].1, "d");
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_ip("[IPv6:::ffff:1.2.3.4]"), "1.2.3.4".parse().ok());
        assert_eq!(parse_ip("fe80::1%eth0"), "fe80::1".parse().ok());
        assert_eq!(parse_ip("1.2.3.4:x"), None);
        assert_eq!(parse_ip("300.1.2.3"), None);
    }

    #[test]
    fn long_fields_are_cut_at_a_char_boundary() {
        let s = format!("from a ([1.2.3.4]) {}", "é".repeat(5000));
        let h = Hop::parse(&s);
        assert_eq!(h.ip(), "1.2.3.4".parse().ok());
    }
}
