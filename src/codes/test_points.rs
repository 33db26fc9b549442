//! RFC 5782's test entries (section 5): what every list must and must not list, and a check
//! of a list's answers for them.
//!
//! A list that does not list its positive test point is empty, gone or refusing the querier;
//! one that lists the negative test point lists everything (a wildcard, or a lapsed domain
//! answered by a parking service) and must not be used.
//!
//! # Examples
//!
//! ```
//! use rblkit::codes::{known, ReturnCode};
//! use rblkit::codes::test_points::{TestOutcome, TestPoint};
//!
//! let zen = &known::SPAMHAUS_ZEN;
//! assert_eq!(TestPoint::Ipv4Listed.check(zen, &[ReturnCode::LISTED]), TestOutcome::Passed);
//! assert_eq!(TestPoint::Ipv4Unlisted.check(zen, &[]), TestOutcome::Passed);
//! // a wildcarded zone answers for everything
//! assert!(matches!(
//!     TestPoint::Ipv4Unlisted.check(zen, &[ReturnCode::LISTED]),
//!     TestOutcome::Failed(_)
//! ));
//! ```

use super::{CodeScheme, ListError, ReturnCode, Verdict};
use crate::subject::{Domain, Subject};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IPv4 address every IPv4 list lists: `127.0.0.2`.
pub const IPV4_LISTED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The IPv4 address no IPv4 list lists: `127.0.0.1`.
pub const IPV4_UNLISTED: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// The IPv6 address every IPv6 list lists: `::ffff:7f00:2`.
pub const IPV6_LISTED: Ipv6Addr = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x7f00, 2);
/// The IPv6 address no IPv6 list lists: `::ffff:7f00:1`.
pub const IPV6_UNLISTED: Ipv6Addr = Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1);
/// The name every domain list lists (`TEST` in the RFC; names are case-insensitive).
pub const DOMAIN_LISTED: &str = "test";
/// The name no domain list lists (`INVALID` in the RFC).
pub const DOMAIN_UNLISTED: &str = "invalid";

/// One of RFC 5782's test entries.
///
/// # Examples
///
/// ```
/// use rblkit::codes::test_points::{Expect, TestPoint};
/// assert_eq!(TestPoint::DomainListed.subject().to_string(), "test");
/// assert_eq!(TestPoint::Ipv6Unlisted.expect(), Expect::NotListed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TestPoint {
    /// `127.0.0.2`, listed.
    Ipv4Listed,
    /// `127.0.0.1`, not listed.
    Ipv4Unlisted,
    /// `::ffff:7f00:2`, listed.
    Ipv6Listed,
    /// `::ffff:7f00:1`, not listed.
    Ipv6Unlisted,
    /// `test`, listed.
    DomainListed,
    /// `invalid`, not listed.
    DomainUnlisted,
}

/// What a list must answer for a test point.
///
/// # Examples
///
/// ```
/// use rblkit::codes::test_points::{Expect, TestPoint};
/// assert_eq!(TestPoint::Ipv4Listed.expect(), Expect::Listed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expect {
    /// At least one listing code.
    Listed,
    /// No A record.
    NotListed,
}

/// How a list answered a test point.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{known, ListError, ReturnCode, Verdict};
/// use rblkit::codes::test_points::{TestOutcome, TestPoint};
/// let zen = &known::SPAMHAUS_ZEN;
/// assert_eq!(TestPoint::Ipv4Listed.check(zen, &[]), TestOutcome::Failed(Verdict::NotListed));
/// let refused = [ReturnCode::new_assert(127, 255, 255, 254)];
/// assert_eq!(TestPoint::Ipv4Listed.check(zen, &refused), TestOutcome::Unanswered(ListError::PublicResolver));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TestOutcome {
    /// As the RFC says.
    Passed,
    /// Not as the RFC says; the verdict is what the answer meant.
    Failed(Verdict),
    /// The list answered with an error code, so nothing is known.
    Unanswered(ListError),
}

impl TestPoint {
    /// Every test point.
    pub const ALL: [TestPoint; 6] = [
        TestPoint::Ipv4Listed,
        TestPoint::Ipv4Unlisted,
        TestPoint::Ipv6Listed,
        TestPoint::Ipv6Unlisted,
        TestPoint::DomainListed,
        TestPoint::DomainUnlisted,
    ];

    /// The subject to query.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::test_points::TestPoint;
    /// assert_eq!(TestPoint::Ipv4Listed.subject().to_string(), "127.0.0.2");
    /// assert_eq!(TestPoint::Ipv6Listed.subject().to_string(), "::ffff:127.0.0.2");
    /// ```
    pub fn subject(self) -> Subject {
        match self {
            TestPoint::Ipv4Listed => Subject::Ip(IpAddr::V4(IPV4_LISTED)),
            TestPoint::Ipv4Unlisted => Subject::Ip(IpAddr::V4(IPV4_UNLISTED)),
            TestPoint::Ipv6Listed => Subject::Ip(IpAddr::V6(IPV6_LISTED)),
            TestPoint::Ipv6Unlisted => Subject::Ip(IpAddr::V6(IPV6_UNLISTED)),
            TestPoint::DomainListed => {
                Subject::Domain(Domain::new(DOMAIN_LISTED).expect("valid name"))
            }
            TestPoint::DomainUnlisted => {
                Subject::Domain(Domain::new(DOMAIN_UNLISTED).expect("valid name"))
            }
        }
    }

    /// What the list must answer.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::test_points::{Expect, TestPoint};
    /// assert_eq!(TestPoint::DomainUnlisted.expect(), Expect::NotListed);
    /// ```
    pub fn expect(self) -> Expect {
        match self {
            TestPoint::Ipv4Listed | TestPoint::Ipv6Listed | TestPoint::DomainListed => {
                Expect::Listed
            }
            TestPoint::Ipv4Unlisted | TestPoint::Ipv6Unlisted | TestPoint::DomainUnlisted => {
                Expect::NotListed
            }
        }
    }

    /// Checks a list's answer (its A records, none for NXDOMAIN) for this test point, decoded
    /// with the list's scheme.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, ReturnCode};
    /// use rblkit::codes::test_points::{TestOutcome, TestPoint};
    /// let dbl = &known::SPAMHAUS_DBL;
    /// let answer = [ReturnCode::new_assert(127, 0, 1, 2)];
    /// assert_eq!(TestPoint::DomainListed.check(dbl, &answer), TestOutcome::Passed);
    /// ```
    pub fn check(self, scheme: &CodeScheme, answer: &[ReturnCode]) -> TestOutcome {
        let verdict = scheme.decode_answer(answer);
        match (verdict, self.expect()) {
            (Verdict::Error(e), _) => TestOutcome::Unanswered(e),
            (Verdict::Listed { .. }, Expect::Listed) | (Verdict::NotListed, Expect::NotListed) => {
                TestOutcome::Passed
            }
            (v, _) => TestOutcome::Failed(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::known;

    #[test]
    fn outcomes() {
        let g = &known::GENERIC;
        for p in TestPoint::ALL {
            let listed = [ReturnCode::LISTED];
            let (yes, no) = (p.check(g, &listed), p.check(g, &[]));
            match p.expect() {
                Expect::Listed => {
                    assert_eq!(yes, TestOutcome::Passed);
                    assert_eq!(no, TestOutcome::Failed(Verdict::NotListed));
                }
                Expect::NotListed => {
                    assert!(matches!(yes, TestOutcome::Failed(Verdict::Listed { .. })));
                    assert_eq!(no, TestOutcome::Passed);
                }
            }
            let outside = [ReturnCode::new_assert(192, 0, 2, 1)];
            assert_eq!(
                p.check(g, &outside),
                TestOutcome::Unanswered(ListError::NotACode)
            );
        }
        assert_eq!(
            TestPoint::Ipv4Unlisted.subject(),
            "127.0.0.1".parse().unwrap()
        );
    }
}
