//! RFC 5782 query names: how a subject is asked of a DNS list, and back.
//!
//! - An IPv4 address is its four decimal octets reversed under the zone:
//!   `192.0.2.99` → `99.2.0.192.bl.example`.
//! - An IPv6 address is its 32 hex nibbles reversed, lowercase:
//!   `2001:db8::1` → `1.0.0.0.….8.b.d.0.1.0.0.2.bl.example`.
//! - A domain is itself under the zone: `spam.example` → `spam.example.dbl.example`.
//!
//! Decoding ([`QueryZone::decode`]) allocates nothing. It ignores ASCII case and a trailing
//! dot, and is otherwise strict, with one error per fault and the offset of the label at
//! fault: octets are decimal `0`–`255` without leading zeros (`01` is octal to some resolvers,
//! and rbldnsd's acceptance of it gives an address several names), nibbles are single hex
//! digits, and a name has at most 4 octets or 32 nibbles. A name with fewer labels than an
//! address (`0.0.127.bl.example`) decodes to the network it stands for, so that a server can
//! answer an empty non-terminal with NOERROR (RFC 8020) and junk with NXDOMAIN. A name of one
//! to four single-digit labels reads both ways, as an IPv4 and as an IPv6 prefix.
//!
//! The RFC 5782 test points, and a check of a list's answers for them, are in
//! [`codes::test_points`](crate::codes::test_points).
//!
//! # Examples
//!
//! ```
//! use rblkit::qname::{Query, QueryZone, ZoneKind};
//! use std::net::Ipv4Addr;
//!
//! let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
//! assert_eq!(zone.ipv4(Ipv4Addr::new(192, 0, 2, 99)), "99.2.0.192.bl.example");
//!
//! let Query::Ip(q) = zone.decode("99.2.0.192.BL.example.")? else { unreachable!() };
//! assert_eq!(q.ipv4(), Some(Ipv4Addr::new(192, 0, 2, 99)));
//!
//! let Query::Ip(q) = zone.decode("2.0.192.bl.example")? else { unreachable!() };
//! assert_eq!(q.ipv4(), None);
//! assert_eq!(q.ipv4_prefix().unwrap().to_string(), "192.0.2.0/24");
//!
//! let dbl = QueryZone::new("dbl.example", ZoneKind::Domain)?;
//! assert_eq!(dbl.name(&"Spam.Example".parse()?)?, "spam.example.dbl.example");
//! assert_eq!(dbl.decode("spam.example.dbl.example")?, Query::Domain("spam.example"));
//! assert_eq!(dbl.decode("dbl.example")?, Query::Apex);
//! # Ok::<(), rblkit::Error>(())
//! ```

mod error;

pub use error::QnameError;

use crate::subject::{Domain, Subject};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The longest name a query name has (RFC 1035, without the trailing dot).
const MAX_NAME_LEN: usize = 253;

/// The longest zone origin: room below it for an IPv6 name (32 labels and their dots, 64
/// octets), so that every IP query name fits.
pub const MAX_ORIGIN_LEN: usize = MAX_NAME_LEN - 64;

/// What a zone's names stand for.
///
/// # Examples
///
/// ```
/// use rblkit::qname::ZoneKind;
/// assert_eq!(ZoneKind::Domain.to_string(), "domain");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ZoneKind {
    /// Reversed IPv4 octets and IPv6 nibbles (a DNSBL).
    Ip,
    /// Domain names (an RHSBL or URIBL).
    Domain,
}

impl fmt::Display for ZoneKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ZoneKind::Ip => "IP",
            ZoneKind::Domain => "domain",
        })
    }
}

/// A list's zone: its origin and what its names stand for. It builds the query names of
/// subjects and decodes query names back.
///
/// # Examples
///
/// ```
/// use rblkit::qname::{QueryZone, ZoneKind};
/// let zone = QueryZone::new("BL.Example.", ZoneKind::Ip)?;
/// assert_eq!(zone.origin().as_str(), "bl.example");
/// assert_eq!(zone.kind(), ZoneKind::Ip);
/// assert_eq!(zone.to_string(), "bl.example");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryZone {
    origin: Domain,
    kind: ZoneKind,
}

/// What a query name asks, as [`QueryZone::decode`] reads it.
///
/// # Examples
///
/// ```
/// use rblkit::qname::{Query, QueryZone, ZoneKind};
/// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
/// assert_eq!(zone.decode("bl.example")?, Query::Apex);
/// assert!(matches!(zone.decode("2.0.0.127.bl.example")?, Query::Ip(_)));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Query<'a> {
    /// The zone's origin itself (SOA, NS and the like).
    Apex,
    /// A name under an IP zone.
    Ip(IpQuery),
    /// A name under a domain zone: the part below the origin, as given (any ASCII case, which
    /// list lookups ignore), checked to be a host name whose last label is not numeric.
    /// A-labels (`xn--`) are not checked against IDNA: that would allocate, and a lookup of an
    /// invalid one simply finds nothing.
    Domain(&'a str),
}

/// A name under an IP zone, read as reversed IPv4 octets, as IPv6 nibbles, or both. A full
/// name is a `/32` or `/128`; a shorter one is the network of the labels it has.
///
/// # Examples
///
/// ```
/// use rblkit::qname::{Query, QueryZone, ZoneKind};
/// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
/// let Query::Ip(q) = zone.decode("1.0.0.2.bl.example")? else { unreachable!() };
/// assert_eq!(q.ipv4(), Some("2.0.0.1".parse().unwrap()));
/// assert_eq!(q.ipv6_prefix().unwrap().to_string(), "2001::/16");
/// assert_eq!(q.addr(), Some("2.0.0.1".parse().unwrap()));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpQuery {
    v4: Option<Ipv4Net>,
    v6: Option<Ipv6Net>,
}

impl IpQuery {
    /// The IPv4 address, when the name has all four octets.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let Query::Ip(q) = zone.decode("2.0.0.127.bl.example")? else { unreachable!() };
    /// assert_eq!(q.ipv4(), Some(rblkit::codes::test_points::IPV4_LISTED));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.v4.filter(|n| n.prefix_len() == 32).map(|n| n.addr())
    }

    /// The IPv6 address, when the name has all 32 nibbles.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let name = zone.ipv6("2001:db8::1".parse().unwrap());
    /// let Query::Ip(q) = zone.decode(&name)? else { unreachable!() };
    /// assert_eq!(q.ipv6(), Some("2001:db8::1".parse().unwrap()));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        self.v6.filter(|n| n.prefix_len() == 128).map(|n| n.addr())
    }

    /// The IPv4 reading: the network of the octets the name has (`/32` when all four).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let Query::Ip(q) = zone.decode("0.127.bl.example")? else { unreachable!() };
    /// assert_eq!(q.ipv4_prefix().unwrap().to_string(), "127.0.0.0/16");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv4_prefix(&self) -> Option<Ipv4Net> {
        self.v4
    }

    /// The IPv6 reading: the network of the nibbles the name has (`/128` when all 32).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let Query::Ip(q) = zone.decode("8.b.d.0.1.0.0.2.bl.example")? else { unreachable!() };
    /// assert_eq!(q.ipv6_prefix().unwrap().to_string(), "2001:db8::/32");
    /// assert_eq!(q.ipv4_prefix(), None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv6_prefix(&self) -> Option<Ipv6Net> {
        self.v6
    }

    /// The address the name asks for: the IPv4 one when the name has four octets, else the
    /// IPv6 one when it has 32 nibbles; `None` for a partial name.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let Query::Ip(q) = zone.decode("0.0.127.bl.example")? else { unreachable!() };
    /// assert_eq!(q.addr(), None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn addr(&self) -> Option<IpAddr> {
        self.ipv4()
            .map(IpAddr::V4)
            .or_else(|| self.ipv6().map(IpAddr::V6))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends ASCII built on the stack in one copy.
fn push_ascii(out: &mut String, buf: &[u8]) {
    out.push_str(std::str::from_utf8(buf).expect("ASCII"));
}

fn push_reversed_octets(out: &mut String, octets: &[u8]) {
    let mut buf = [0u8; 16];
    let mut n = 0;
    for &o in octets.iter().rev() {
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + o / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        buf[n + 1] = b'.';
        n += 2;
    }
    push_ascii(out, &buf[..n]);
}

fn push_reversed_nibbles(out: &mut String, bits: u128, nibbles: u32) {
    let mut buf = [0u8; 64];
    for (j, i) in (0..nibbles).rev().enumerate() {
        let n = (bits >> (124 - 4 * i)) & 0xf;
        buf[2 * j] = HEX[n as usize];
        buf[2 * j + 1] = b'.';
    }
    push_ascii(out, &buf[..2 * nibbles as usize]);
}

impl QueryZone {
    /// A zone with this origin.
    ///
    /// # Errors
    ///
    /// [`QnameError::BadOrigin`] when the origin is not a domain name,
    /// [`QnameError::OriginTooLong`] when it is longer than [`MAX_ORIGIN_LEN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind, QnameError};
    /// assert!(QueryZone::new("zen.example", ZoneKind::Ip).is_ok());
    /// assert!(matches!(QueryZone::new("a..b", ZoneKind::Ip), Err(QnameError::BadOrigin(_))));
    /// ```
    pub fn new(origin: &str, kind: ZoneKind) -> Result<QueryZone, QnameError> {
        let origin = Domain::new(origin).map_err(QnameError::BadOrigin)?;
        if origin.as_str().len() > MAX_ORIGIN_LEN {
            return Err(QnameError::OriginTooLong {
                len: origin.as_str().len(),
                max: MAX_ORIGIN_LEN,
            });
        }
        Ok(QueryZone { origin, kind })
    }

    /// The origin.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// assert_eq!(QueryZone::new("bl.example", ZoneKind::Ip)?.origin().label_count(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn origin(&self) -> &Domain {
        &self.origin
    }

    /// What the zone's names stand for.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// assert_eq!(QueryZone::new("dbl.example", ZoneKind::Domain)?.kind(), ZoneKind::Domain);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn kind(&self) -> ZoneKind {
        self.kind
    }

    /// Appends the query name of an IPv4 address to `out`; allocates only when `out` must
    /// grow.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let mut name = String::with_capacity(64);
    /// zone.write_ipv4("198.51.100.7".parse().unwrap(), &mut name);
    /// assert_eq!(name, "7.100.51.198.bl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_ipv4(&self, ip: Ipv4Addr, out: &mut String) {
        push_reversed_octets(out, &ip.octets());
        out.push_str(self.origin.as_str());
    }

    /// Appends the query name of an IPv6 address to `out`: 32 lowercase nibbles, reversed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let mut name = String::new();
    /// zone.write_ipv6(rblkit::codes::test_points::IPV6_LISTED, &mut name);
    /// assert_eq!(name, "2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_ipv6(&self, ip: Ipv6Addr, out: &mut String) {
        push_reversed_nibbles(out, u128::from(ip), 32);
        out.push_str(self.origin.as_str());
    }

    /// The query name of an IPv4 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// use rblkit::codes::test_points::IPV4_LISTED;
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// assert_eq!(zone.ipv4(IPV4_LISTED), "2.0.0.127.bl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv4(&self, ip: Ipv4Addr) -> String {
        let mut out = String::with_capacity(16 + self.origin.as_str().len());
        self.write_ipv4(ip, &mut out);
        out
    }

    /// The query name of an IPv6 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// assert!(zone.ipv6("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv6(&self, ip: Ipv6Addr) -> String {
        let mut out = String::with_capacity(64 + self.origin.as_str().len());
        self.write_ipv6(ip, &mut out);
        out
    }

    /// Appends the name that stands for a network: its whole labels only, so the prefix
    /// length is a multiple of 8 (IPv4) or 4 (IPv6). Host bits are ignored; a `/0` is the
    /// origin itself. This is the name a zone file puts `*.` before to list the network.
    ///
    /// # Errors
    ///
    /// [`QnameError::UnalignedPrefix`] for any other prefix length.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// let mut name = String::new();
    /// zone.write_net("192.0.2.0/24".parse().unwrap(), &mut name)?;
    /// assert_eq!(name, "2.0.192.bl.example");
    /// assert!(zone.write_net("192.0.2.0/25".parse().unwrap(), &mut name).is_err());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_net(&self, net: IpNet, out: &mut String) -> Result<(), QnameError> {
        let len = net.prefix_len();
        match net.trunc() {
            IpNet::V4(n) if len.is_multiple_of(8) => {
                push_reversed_octets(out, &n.addr().octets()[..usize::from(len / 8)]);
            }
            IpNet::V6(n) if len.is_multiple_of(4) => {
                push_reversed_nibbles(out, u128::from(n.addr()), u32::from(len / 4));
            }
            _ => return Err(QnameError::UnalignedPrefix { prefix_len: len }),
        }
        out.push_str(self.origin.as_str());
        Ok(())
    }

    /// Appends the query name of a domain: the domain under the origin.
    ///
    /// # Errors
    ///
    /// [`QnameError::NameTooLong`] when the two make more than 253 octets.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("dbl.example", ZoneKind::Domain)?;
    /// let mut name = String::new();
    /// zone.write_domain(&"spam.example".parse()?, &mut name)?;
    /// assert_eq!(name, "spam.example.dbl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_domain(&self, domain: &Domain, out: &mut String) -> Result<(), QnameError> {
        let len = domain.as_str().len() + 1 + self.origin.as_str().len();
        if len > MAX_NAME_LEN {
            return Err(QnameError::NameTooLong { len });
        }
        out.push_str(domain.as_str());
        out.push('.');
        out.push_str(self.origin.as_str());
        Ok(())
    }

    /// The query name of a subject this zone lists: an address or an aligned network in an
    /// IP zone, a domain in a domain zone.
    ///
    /// # Errors
    ///
    /// [`QnameError::WrongKind`] for a subject the zone does not list (an email address in
    /// any zone), and the errors of [`write_net`](QueryZone::write_net) and
    /// [`write_domain`](QueryZone::write_domain).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{QueryZone, ZoneKind};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// assert_eq!(zone.name(&"192.0.2.1".parse()?)?, "1.2.0.192.bl.example");
    /// assert_eq!(zone.name(&"10.0.0.0/8".parse()?)?, "10.bl.example");
    /// assert!(zone.name(&"spam.example".parse()?).is_err());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn name(&self, subject: &Subject) -> Result<String, QnameError> {
        let mut out = String::with_capacity(64 + self.origin.as_str().len());
        match (self.kind, subject) {
            (ZoneKind::Ip, Subject::Ip(IpAddr::V4(ip))) => self.write_ipv4(*ip, &mut out),
            (ZoneKind::Ip, Subject::Ip(IpAddr::V6(ip))) => self.write_ipv6(*ip, &mut out),
            (ZoneKind::Ip, Subject::Net(net)) => self.write_net(*net, &mut out)?,
            (ZoneKind::Domain, Subject::Domain(d)) => self.write_domain(d, &mut out)?,
            _ => {
                return Err(QnameError::WrongKind {
                    subject: subject.kind(),
                    zone: self.kind,
                })
            }
        }
        Ok(out)
    }

    /// Reads a query name: the origin, an address or partial address under an IP zone, or a
    /// domain under a domain zone. ASCII case is ignored and a trailing dot allowed; nothing
    /// is allocated.
    ///
    /// # Errors
    ///
    /// [`QnameError::NotInZone`] for a name outside the zone (a server answers REFUSED);
    /// the others for a name in the zone that no subject has (NXDOMAIN), with the offset of
    /// the label at fault.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::qname::{Query, QueryZone, ZoneKind, QnameError};
    /// let zone = QueryZone::new("bl.example", ZoneKind::Ip)?;
    /// assert!(matches!(zone.decode("2.0.0.127.other.example"), Err(QnameError::NotInZone)));
    /// assert!(matches!(zone.decode("256.0.0.127.bl.example"), Err(QnameError::OctetTooLarge { offset: 0 })));
    /// let dbl = QueryZone::new("dbl.example", ZoneKind::Domain)?;
    /// assert!(matches!(dbl.decode("2.0.0.127.dbl.example"), Err(QnameError::NumericLastLabel { offset: 6 })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn decode<'a>(&self, qname: &'a str) -> Result<Query<'a>, QnameError> {
        let name = qname.strip_suffix('.').unwrap_or(qname);
        if name.len() > MAX_NAME_LEN {
            return Err(QnameError::NameTooLong { len: name.len() });
        }
        let (n, o) = (name.as_bytes(), self.origin.as_str().as_bytes());
        if n.len() < o.len() || !n[n.len() - o.len()..].eq_ignore_ascii_case(o) {
            return Err(QnameError::NotInZone);
        }
        if n.len() == o.len() {
            return Ok(Query::Apex);
        }
        let dot = n.len() - o.len() - 1;
        if n[dot] != b'.' {
            return Err(QnameError::NotInZone);
        }
        // `dot` is an ASCII byte, so a character boundary.
        let sub = &name[..dot];
        match self.kind {
            ZoneKind::Ip => decode_ip(sub).map(Query::Ip),
            ZoneKind::Domain => check_domain(sub).map(|()| Query::Domain(sub)),
        }
    }
}

impl fmt::Display for QueryZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.origin.fmt(f)
    }
}

/// A decimal octet label: `0` to `255`, without leading zeros (`01` is octal to some
/// resolvers and would give one address two names).
fn octet(label: &[u8], at: usize) -> Result<u8, QnameError> {
    if !label.iter().all(u8::is_ascii_digit) {
        return Err(QnameError::NotDecimal { offset: at });
    }
    if label.len() > 1 && label[0] == b'0' {
        return Err(QnameError::LeadingZero { offset: at });
    }
    if label.len() > 3 {
        return Err(QnameError::OctetTooLarge { offset: at });
    }
    let v = label
        .iter()
        .fold(0u16, |v, &d| v * 10 + u16::from(d - b'0'));
    u8::try_from(v).map_err(|_| QnameError::OctetTooLarge { offset: at })
}

/// A nibble label: one hex digit, either case.
fn nibble(label: &[u8], at: usize) -> Result<u8, QnameError> {
    match label {
        [d] => (*d as char)
            .to_digit(16)
            .map(|v| v as u8)
            .ok_or(QnameError::NotHex { offset: at }),
        _ => Err(QnameError::NibbleTooLong { offset: at }),
    }
}

/// The labels of `sub` with their offsets, left to right.
fn labels(sub: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    sub.split(|&b| b == b'.').map(move |l| {
        let at = start;
        start += l.len() + 1;
        (at, l)
    })
}

/// The value of a lowercase or uppercase hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A full IPv6 name, 32 single-digit labels, in one pass; `None` sends the name to the
/// general path.
fn fast_ipv6(sub: &[u8]) -> Option<Ipv6Addr> {
    if sub.len() != 63 {
        return None;
    }
    let mut v = 0u128;
    for (i, pair) in sub.chunks(2).enumerate() {
        if pair.len() == 2 && pair[1] != b'.' {
            return None;
        }
        v |= u128::from(hex(pair[0])?) << (4 * i);
    }
    Some(Ipv6Addr::from(v))
}

/// A full IPv4 name with at least one label of two or more digits (one of single digits
/// only also reads as an IPv6 prefix), in one pass; `None` sends the name to the general path.
fn fast_ipv4(sub: &[u8]) -> Option<Ipv4Addr> {
    if sub.len() > 15 {
        return None;
    }
    let (mut v, mut labels, mut long) = (0u32, 0u32, false);
    for label in sub.split(|&b| b == b'.') {
        if labels == 4
            || label.is_empty()
            || label.len() > 3
            || (label.len() > 1 && label[0] == b'0')
        {
            return None;
        }
        let mut o = 0u32;
        for &d in label {
            if !d.is_ascii_digit() {
                return None;
            }
            o = o * 10 + u32::from(d - b'0');
        }
        if o > 255 {
            return None;
        }
        long |= label.len() > 1;
        v |= o << (8 * labels);
        labels += 1;
    }
    (labels == 4 && long).then(|| Ipv4Addr::from(v))
}

fn decode_ip(sub: &str) -> Result<IpQuery, QnameError> {
    let sub = sub.as_bytes();
    if let Some(a) = fast_ipv4(sub) {
        return Ok(IpQuery {
            v4: Some(Ipv4Net::from(a)),
            v6: None,
        });
    }
    if let Some(a) = fast_ipv6(sub) {
        return Ok(IpQuery {
            v4: None,
            v6: Some(Ipv6Net::from(a)),
        });
    }
    decode_ip_labels(sub)
}

/// Reads every label both ways: the path for partial names and errors.
fn decode_ip_labels(sub: &[u8]) -> Result<IpQuery, QnameError> {
    let count = sub.iter().filter(|&&b| b == b'.').count() + 1;
    if count > 32 {
        return Err(QnameError::TooManyLabels { labels: count });
    }
    // Labels left to right are the address's least significant part first.
    let (mut v4, mut v6) = (0u32, 0u128);
    let (mut v4_err, mut v6_err) = (None, None);
    for (i, (at, label)) in labels(sub).enumerate() {
        if label.is_empty() {
            return Err(QnameError::EmptyLabel { offset: at });
        }
        let k = count - 1 - i; // index from the most significant end
        match octet(label, at) {
            Ok(o) if k < 4 => v4 |= u32::from(o) << (24 - 8 * k),
            Ok(_) => {}
            Err(e) => {
                v4_err.get_or_insert(e);
            }
        }
        match nibble(label, at) {
            Ok(x) => v6 |= u128::from(x) << (124 - 4 * k),
            Err(e) => {
                v6_err.get_or_insert(e);
            }
        }
    }
    let v4 = (count <= 4 && v4_err.is_none())
        .then(|| Ipv4Net::new(Ipv4Addr::from(v4), (8 * count) as u8).ok())
        .flatten();
    let v6 = v6_err
        .is_none()
        .then(|| Ipv6Net::new(Ipv6Addr::from(v6), (4 * count) as u8).ok())
        .flatten();
    if v4.is_some() || v6.is_some() {
        return Ok(IpQuery { v4, v6 });
    }
    // Neither reading: say what is wrong with the one the name looks like.
    Err(match (count <= 4, v4_err, v6_err) {
        (true, Some(e), _) => e,
        (false, None, _) => QnameError::TooManyOctets { labels: count },
        (_, _, Some(e)) => e,
        (_, _, None) => unreachable!("a name with no error has a reading"),
    })
}

fn check_domain(sub: &str) -> Result<(), QnameError> {
    let mut last = (0, &b""[..]);
    for (at, label) in labels(sub.as_bytes()) {
        if label.is_empty() {
            return Err(QnameError::EmptyLabel { offset: at });
        }
        if label.len() > 63 {
            return Err(QnameError::LabelTooLong {
                offset: at,
                len: label.len(),
            });
        }
        if let Some(i) = label
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        {
            return Err(QnameError::BadChar {
                offset: at + i,
                byte: label[i],
            });
        }
        last = (at, label);
    }
    if last.1.iter().all(u8::is_ascii_digit) {
        return Err(QnameError::NumericLastLabel { offset: last.0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::test_points::{
        IPV4_LISTED as TEST_IPV4_LISTED, IPV6_LISTED as TEST_IPV6_LISTED,
    };

    fn ip_zone() -> QueryZone {
        QueryZone::new("bl.example", ZoneKind::Ip).unwrap()
    }

    fn ip(q: Result<Query<'_>, QnameError>) -> IpQuery {
        match q {
            Ok(Query::Ip(q)) => q,
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        /// The one-pass paths for full names agree with reading every label.
        #[test]
        fn fast_paths_agree(name in "([0-9a-fA-F]{1,3}\\.){0,33}[0-9a-fA-F]{1,3}|([0-9a-f]\\.){31}[0-9a-g]") {
            proptest::prop_assert_eq!(decode_ip(&name), decode_ip_labels(name.as_bytes()), "{}", name);
        }
    }

    #[test]
    fn rfc5782_examples() {
        let z = ip_zone();
        assert_eq!(
            z.ipv4(Ipv4Addr::new(192, 0, 2, 99)),
            "99.2.0.192.bl.example"
        );
        // RFC 5782 section 2.4's IPv6 example
        let a: Ipv6Addr = "2001:db8:1:2:3:4:567:89ab".parse().unwrap();
        assert_eq!(
            z.ipv6(a),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example"
        );
        assert_eq!(ip(z.decode(&z.ipv6(a))).ipv6(), Some(a));
    }

    #[test]
    fn case_and_trailing_dot() {
        let z = ip_zone();
        let q = ip(z.decode("2.0.0.127.BL.EXAMPLE."));
        assert_eq!(q.ipv4(), Some(TEST_IPV4_LISTED));
        let upper = z.ipv6(TEST_IPV6_LISTED).replace('f', "F");
        assert_eq!(ip(z.decode(&upper)).ipv6(), Some(TEST_IPV6_LISTED));
    }

    #[test]
    fn partial_names() {
        let z = ip_zone();
        let q = ip(z.decode("0.0.127.bl.example"));
        assert_eq!(q.ipv4_prefix(), Some("127.0.0.0/24".parse().unwrap()));
        assert_eq!(q.ipv6_prefix(), None);
        assert_eq!(q.addr(), None);
        let q = ip(z.decode("1.bl.example"));
        assert_eq!(q.ipv4_prefix(), Some("1.0.0.0/8".parse().unwrap()));
        assert_eq!(q.ipv6_prefix(), Some("1000::/4".parse().unwrap()));
        let q = ip(z.decode("f.bl.example"));
        assert_eq!(q.ipv4_prefix(), None);
        assert_eq!(q.ipv6_prefix(), Some("f000::/4".parse().unwrap()));
        // five single-digit labels: only an IPv6 prefix
        let q = ip(z.decode("5.4.3.2.1.bl.example"));
        assert_eq!(q.ipv4_prefix(), None);
        assert_eq!(q.ipv6_prefix(), Some("1234:5000::/20".parse().unwrap()));
    }

    #[test]
    fn bad_ip_names() {
        let z = ip_zone();
        let e = |s: &str| z.decode(s).unwrap_err();
        assert_eq!(e("1..2.bl.example"), QnameError::EmptyLabel { offset: 2 });
        assert_eq!(e(".bl.example"), QnameError::EmptyLabel { offset: 0 });
        // four labels or fewer read as IPv4 octets
        assert_eq!(e("a.10.bl.example"), QnameError::NotDecimal { offset: 0 });
        assert_eq!(e("-1.bl.example"), QnameError::NotDecimal { offset: 0 });
        assert_eq!(
            e("2.0.0.01.bl.example"),
            QnameError::LeadingZero { offset: 6 }
        );
        assert_eq!(
            e("002.0.0.127.bl.example"),
            QnameError::LeadingZero { offset: 0 }
        );
        assert_eq!(
            e("256.0.0.127.bl.example"),
            QnameError::OctetTooLarge { offset: 0 }
        );
        assert_eq!(
            e("1.2000.0.127.bl.example"),
            QnameError::OctetTooLarge { offset: 2 }
        );
        // more as IPv6 nibbles
        assert_eq!(
            e("10.0.0.0.1.bl.example"),
            QnameError::TooManyOctets { labels: 5 }
        );
        assert_eq!(e("1.2.3.4.x.bl.example"), QnameError::NotHex { offset: 8 });
        assert_eq!(
            e("1.2.3.4.ab.bl.example"),
            QnameError::NibbleTooLong { offset: 8 }
        );
        let many = "0.".repeat(33) + "bl.example";
        assert_eq!(e(&many), QnameError::TooManyLabels { labels: 33 });
        assert_eq!(e("xbl.example"), QnameError::NotInZone);
        assert_eq!(e("example"), QnameError::NotInZone);
        assert_eq!(e("2.0.0.127.bl.example.."), QnameError::NotInZone);
        let long = "a.".repeat(127) + "bl.example";
        assert_eq!(e(&long), QnameError::NameTooLong { len: long.len() });
        // non-ASCII before the origin
        assert_eq!(e("é.bl.example"), QnameError::NotDecimal { offset: 0 });
    }

    #[test]
    fn domains() {
        let z = QueryZone::new("dbl.example", ZoneKind::Domain).unwrap();
        assert_eq!(
            z.decode("WWW.Spam.Example.dbl.example.").unwrap(),
            Query::Domain("WWW.Spam.Example")
        );
        assert_eq!(z.decode("test.dbl.example").unwrap(), Query::Domain("test"));
        let e = |s: &str| z.decode(s).unwrap_err();
        assert_eq!(
            e("a b.dbl.example"),
            QnameError::BadChar {
                offset: 1,
                byte: b' '
            }
        );
        assert_eq!(e("a..dbl.example"), QnameError::EmptyLabel { offset: 2 });
        let l64 = "a".repeat(64);
        assert_eq!(
            e(&format!("x.{l64}.dbl.example")),
            QnameError::LabelTooLong { offset: 2, len: 64 }
        );
        assert_eq!(
            e("1.2.dbl.example"),
            QnameError::NumericLastLabel { offset: 2 }
        );
        assert_eq!(
            z.name(&"192.0.2.1".parse().unwrap()).unwrap_err(),
            QnameError::WrongKind {
                subject: crate::subject::SubjectKind::Ipv4,
                zone: ZoneKind::Domain
            }
        );
        let long =
            Domain::new(&format!("{0}.{0}.{0}.{1}", "a".repeat(63), "b".repeat(50))).unwrap();
        assert!(matches!(
            z.name(&Subject::Domain(long)),
            Err(QnameError::NameTooLong { len: 254 })
        ));
    }

    #[test]
    fn origin_limits() {
        let max = format!("{}.{}.{}", "a".repeat(63), "b".repeat(63), "c".repeat(61));
        assert_eq!(max.len(), MAX_ORIGIN_LEN);
        let z = QueryZone::new(&max, ZoneKind::Ip).unwrap();
        let name = z.ipv6(Ipv6Addr::UNSPECIFIED);
        assert_eq!(name.len(), 253);
        assert_eq!(ip(z.decode(&name)).ipv6(), Some(Ipv6Addr::UNSPECIFIED));
        assert_eq!(
            QueryZone::new(&format!("x.{max}"), ZoneKind::Ip),
            Err(QnameError::OriginTooLong {
                len: MAX_ORIGIN_LEN + 2,
                max: MAX_ORIGIN_LEN
            })
        );
    }

    #[test]
    fn networks() {
        let z = ip_zone();
        let name = |n: &str| {
            let mut s = String::new();
            z.write_net(n.parse().unwrap(), &mut s).map(|()| s)
        };
        assert_eq!(name("0.0.0.0/0").unwrap(), "bl.example");
        assert_eq!(name("10.1.2.3/16").unwrap(), "1.10.bl.example");
        assert_eq!(name("192.0.2.1/32").unwrap(), "1.2.0.192.bl.example");
        assert_eq!(name("2001:db8::/32").unwrap(), "8.b.d.0.1.0.0.2.bl.example");
        assert_eq!(
            name("2001:db8::/34"),
            Err(QnameError::UnalignedPrefix { prefix_len: 34 })
        );
        assert_eq!(
            name("10.0.0.0/12"),
            Err(QnameError::UnalignedPrefix { prefix_len: 12 })
        );
        assert_eq!(
            ip(z.decode(&name("2001:db8::/32").unwrap())).ipv6_prefix(),
            Some("2001:db8::/32".parse().unwrap())
        );
    }
}
