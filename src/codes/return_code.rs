use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// The address of an A record in a DNSBL answer, such as `127.0.0.2`.
///
/// An open newtype: every IPv4 address is a `ReturnCode`, so decoding an answer never loses
/// what a list said, including codes outside `127.0.0.0/8`, which are errors, never listings
/// (see [`ReturnCode::is_loopback_code`]).
///
/// # Examples
///
/// ```
/// use rblkit::codes::ReturnCode;
///
/// let c: ReturnCode = "127.0.0.4".parse()?;
/// assert_eq!(c.last_octet(), 4);
/// assert_eq!(c, ReturnCode::new_assert(127, 0, 0, 4));
/// assert_eq!(ReturnCode::LISTED.to_string(), "127.0.0.2");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReturnCode(Ipv4Addr);

impl ReturnCode {
    /// `127.0.0.2`, the usual "listed" answer and the RFC 5782 IPv4 test point.
    pub const LISTED: ReturnCode = ReturnCode(Ipv4Addr::new(127, 0, 0, 2));

    /// A code from its four octets.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// const DBL_SPAM: ReturnCode = ReturnCode::new_assert(127, 0, 1, 2);
    /// assert_eq!(DBL_SPAM.to_string(), "127.0.1.2");
    /// ```
    pub const fn new_assert(a: u8, b: u8, c: u8, d: u8) -> ReturnCode {
        ReturnCode(Ipv4Addr::new(a, b, c, d))
    }

    /// The address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(ReturnCode::LISTED.addr(), std::net::Ipv4Addr::new(127, 0, 0, 2));
    /// ```
    pub const fn addr(self) -> Ipv4Addr {
        self.0
    }

    /// The last octet, which most lists use for the reason or a bitmask of reasons.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(ReturnCode::new_assert(127, 0, 0, 10).last_octet(), 10);
    /// ```
    pub const fn last_octet(self) -> u8 {
        self.0.octets()[3]
    }

    /// Whether the code is inside `127.0.0.0/8`, the only range where listings are answered
    /// (RFC 5782, 2.3).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// assert!(ReturnCode::LISTED.is_loopback_code());
    /// assert!(!ReturnCode::new_assert(192, 0, 2, 1).is_loopback_code());
    /// ```
    pub const fn is_loopback_code(self) -> bool {
        self.0.octets()[0] == 127
    }
}

impl From<Ipv4Addr> for ReturnCode {
    fn from(a: Ipv4Addr) -> ReturnCode {
        ReturnCode(a)
    }
}

impl From<ReturnCode> for Ipv4Addr {
    fn from(c: ReturnCode) -> Ipv4Addr {
        c.0
    }
}

impl fmt::Display for ReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for ReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReturnCode({})", self.0)
    }
}

impl FromStr for ReturnCode {
    type Err = super::CodesError;
    fn from_str(s: &str) -> Result<ReturnCode, super::CodesError> {
        s.parse::<Ipv4Addr>()
            .map(ReturnCode)
            .map_err(|_| super::CodesError::BadReturnCode {
                text: super::error::cut(s),
            })
    }
}
