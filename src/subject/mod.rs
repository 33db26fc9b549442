//! What a list lists: IP addresses, networks, domain names and email addresses.
//!
//! Every subject has one canonical text form ([`Display`](std::fmt::Display)) that parses back to
//! the same value ([`FromStr`]):
//!
//! - IPv4 in dotted decimal, IPv6 in RFC 5952 form (as [`std::net`] prints them);
//! - networks as `address/prefix` with the host bits cleared (`192.0.2.7/24` becomes
//!   `192.0.2.0/24`); a `/32` or `/128` network is the address itself;
//! - domain names as lowercase A-labels (UTS #46 / IDNA 2008 via the `idna` crate), without a
//!   trailing dot, labels of 1–63 octets, at most 253 octets in all; a name whose last label is
//!   all digits, like `300.1.2.3`, is neither an IP address nor a domain and is refused;
//! - email addresses as `local@domain`, the domain normalised as above and the local part with
//!   ASCII letters lowercased (addresses compare case-insensitively, as in Postfix access
//!   tables and in the address lists of public DNSBLs).
//!
//! # Examples
//!
//! ```
//! use rblkit::subject::{Subject, Domain};
//!
//! let s: Subject = "Bücher.Example.".parse()?;
//! assert_eq!(s.to_string(), "xn--bcher-kva.example");
//!
//! let net: Subject = "192.0.2.77/24".parse()?;
//! assert_eq!(net.to_string(), "192.0.2.0/24");
//!
//! let mail: Subject = "Sender1@Mail.Example.COM".parse()?;
//! assert_eq!(mail.to_string(), "sender1@mail.example.com");
//!
//! assert!("300.1.2.3".parse::<Subject>().is_err());
//! assert!(Domain::new("a..b").is_err());
//! # Ok::<(), rblkit::Error>(())
//! ```

mod domain;
mod email;
mod error;

pub use domain::Domain;
pub(crate) use domain::{MAX_LABEL_LEN, MAX_NAME_LEN};
pub use email::EmailAddr;
pub use error::SubjectError;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A listed or queried subject: an IP address, a network, a domain name or an email address.
///
/// # Examples
///
/// ```
/// use rblkit::subject::{Subject, SubjectKind};
///
/// let s: Subject = "2001:db8::1".parse()?;
/// assert_eq!(s.kind(), SubjectKind::Ipv6);
/// assert_eq!(s.to_string().parse::<Subject>()?, s);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Subject {
    /// A single IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A network, always with host bits cleared and a prefix shorter than the address.
    Net(IpNet),
    /// A domain name.
    Domain(Domain),
    /// An email address.
    Email(EmailAddr),
}

/// The kind of a [`Subject`], for dispatch and for messages.
///
/// # Examples
///
/// ```
/// use rblkit::subject::{Subject, SubjectKind};
/// let s: Subject = "10.0.0.0/8".parse()?;
/// assert_eq!(s.kind(), SubjectKind::Ipv4Net);
/// assert_eq!(s.kind().to_string(), "IPv4 network");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectKind {
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// An IPv4 network.
    Ipv4Net,
    /// An IPv6 network.
    Ipv6Net,
    /// A domain name.
    Domain,
    /// An email address.
    Email,
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubjectKind::Ipv4 => "IPv4 address",
            SubjectKind::Ipv6 => "IPv6 address",
            SubjectKind::Ipv4Net => "IPv4 network",
            SubjectKind::Ipv6Net => "IPv6 network",
            SubjectKind::Domain => "domain",
            SubjectKind::Email => "email address",
        })
    }
}

impl Subject {
    /// Parses a subject; the same as [`str::parse`].
    ///
    /// # Errors
    ///
    /// [`SubjectError`] saying which part of the text is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Subject;
    /// assert!(Subject::new("example.com").is_ok());
    /// assert!(Subject::new("").is_err());
    /// ```
    pub fn new(text: &str) -> Result<Subject, SubjectError> {
        text.parse()
    }

    /// A network subject from an [`IpNet`], with host bits cleared; a full-length prefix
    /// becomes an address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Subject;
    /// let n: ipnet::IpNet = "192.0.2.9/32".parse().unwrap();
    /// assert_eq!(Subject::from_net(n), Subject::Ip("192.0.2.9".parse().unwrap()));
    /// ```
    pub fn from_net(net: IpNet) -> Subject {
        let net = net.trunc();
        if net.prefix_len() == net.max_prefix_len() {
            Subject::Ip(net.addr())
        } else {
            Subject::Net(net)
        }
    }

    /// The kind of subject.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::{Subject, SubjectKind};
    /// assert_eq!(Subject::new("a@b.example")?.kind(), SubjectKind::Email);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn kind(&self) -> SubjectKind {
        match self {
            Subject::Ip(IpAddr::V4(_)) => SubjectKind::Ipv4,
            Subject::Ip(IpAddr::V6(_)) => SubjectKind::Ipv6,
            Subject::Net(IpNet::V4(_)) => SubjectKind::Ipv4Net,
            Subject::Net(IpNet::V6(_)) => SubjectKind::Ipv6Net,
            Subject::Domain(_) => SubjectKind::Domain,
            Subject::Email(_) => SubjectKind::Email,
        }
    }

    /// The subject as a network when it is an address or a network (an address is a `/32` or
    /// `/128`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Subject;
    /// let s = Subject::new("192.0.2.1")?;
    /// assert_eq!(s.as_net().unwrap().to_string(), "192.0.2.1/32");
    /// assert!(Subject::new("example.com")?.as_net().is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn as_net(&self) -> Option<IpNet> {
        match *self {
            Subject::Ip(ip) => Some(IpNet::from(ip)),
            Subject::Net(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Ip(ip) => ip.fmt(f),
            Subject::Net(n) => n.fmt(f),
            Subject::Domain(d) => d.fmt(f),
            Subject::Email(e) => e.fmt(f),
        }
    }
}

fn parse_net(text: &str) -> Result<IpNet, SubjectError> {
    let bad = || SubjectError::BadNetwork { text: text.into() };
    let (addr, len) = text.split_once('/').ok_or_else(bad)?;
    let len: u8 = if !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit()) {
        len.parse().map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    match addr.parse::<IpAddr>().map_err(|_| bad())? {
        IpAddr::V4(a) => Ipv4Net::new(a, len).map(IpNet::V4).map_err(|_| bad()),
        IpAddr::V6(a) => Ipv6Net::new(a, len).map(IpNet::V6).map_err(|_| bad()),
    }
}

impl FromStr for Subject {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Subject, SubjectError> {
        if text.is_empty() {
            return Err(SubjectError::Empty);
        }
        if text.contains('@') {
            return EmailAddr::new(text).map(Subject::Email);
        }
        if text.contains('/') {
            return parse_net(text).map(Subject::from_net);
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Subject::Ip(ip));
        }
        if text.contains(':') {
            return Err(SubjectError::BadAddress { text: text.into() });
        }
        Domain::new(text).map(Subject::Domain)
    }
}

impl From<IpAddr> for Subject {
    fn from(ip: IpAddr) -> Subject {
        Subject::Ip(ip)
    }
}

impl From<IpNet> for Subject {
    fn from(net: IpNet) -> Subject {
        Subject::from_net(net)
    }
}

impl From<Domain> for Subject {
    fn from(d: Domain) -> Subject {
        Subject::Domain(d)
    }
}

impl From<EmailAddr> for Subject {
    fn from(e: EmailAddr) -> Subject {
        Subject::Email(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dispatch_by_shape() {
        assert_eq!(Subject::new("192.0.2.1").unwrap().kind(), SubjectKind::Ipv4);
        assert_eq!(Subject::new("::1").unwrap().kind(), SubjectKind::Ipv6);
        assert_eq!(
            Subject::new("2001:db8::/32").unwrap().kind(),
            SubjectKind::Ipv6Net
        );
        assert_eq!(
            Subject::new("192.0.2.0/24").unwrap().kind(),
            SubjectKind::Ipv4Net
        );
        assert_eq!(
            Subject::new("example.com").unwrap().kind(),
            SubjectKind::Domain
        );
        assert_eq!(
            Subject::new("a@example.com").unwrap().kind(),
            SubjectKind::Email
        );
        assert_eq!(
            Subject::new("::ffff:127.0.0.2").unwrap().kind(),
            SubjectKind::Ipv6
        );
    }

    #[test]
    fn networks_are_canonical() {
        assert_eq!(
            Subject::new("192.0.2.200/25").unwrap().to_string(),
            "192.0.2.128/25"
        );
        assert_eq!(
            Subject::new("192.0.2.1/32").unwrap().to_string(),
            "192.0.2.1"
        );
        assert_eq!(
            Subject::new("2001:db8::1/128").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(Subject::new("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        for bad in [
            "192.0.2.0/33",
            "192.0.2.0/",
            "192.0.2.0/+1",
            "x/24",
            "::/129",
            "1.2.3/24",
        ] {
            assert!(
                matches!(Subject::new(bad), Err(SubjectError::BadNetwork { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn numeric_names_are_neither() {
        for bad in ["300.1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3", "999"] {
            assert!(Subject::new(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Subject::new("1:2"),
            Err(SubjectError::BadAddress { .. })
        ));
    }

    fn subject_strategy() -> impl Strategy<Value = Subject> {
        let label = "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?";
        let domain = proptest::collection::vec(label, 1..5)
            .prop_map(|v| v.join("."))
            .prop_filter("numeric last label", |d| {
                !d.rsplit('.')
                    .next()
                    .unwrap()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            });
        prop_oneof![
            any::<std::net::Ipv4Addr>().prop_map(|a| Subject::Ip(a.into())),
            any::<std::net::Ipv6Addr>().prop_map(|a| Subject::Ip(a.into())),
            (any::<std::net::Ipv4Addr>(), 0u8..=32)
                .prop_map(|(a, l)| Subject::from_net(Ipv4Net::new(a, l).unwrap().into())),
            (any::<std::net::Ipv6Addr>(), 0u8..=128)
                .prop_map(|(a, l)| Subject::from_net(Ipv6Net::new(a, l).unwrap().into())),
            domain
                .clone()
                .prop_map(|d| Subject::Domain(Domain::new(&d).unwrap())),
            ("[a-z0-9._%+-]{1,20}", domain).prop_filter_map("local part", |(l, d)| {
                EmailAddr::new(&format!("{l}@{d}")).ok().map(Subject::Email)
            }),
        ]
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(s in subject_strategy()) {
            let text = s.to_string();
            prop_assert_eq!(text.parse::<Subject>().unwrap(), s);
        }

        #[test]
        fn parse_is_idempotent(text in "\\PC{0,40}") {
            if let Ok(s) = text.parse::<Subject>() {
                let again: Subject = s.to_string().parse().unwrap();
                prop_assert_eq!(again, s);
            }
        }
    }
}
