//! The return codes of well-known public lists, for decoding their answers.
//!
//! Each scheme is what the list documents for its public zones; [`for_zone`] finds the scheme
//! of a zone by name. A list not here is best decoded with [`GENERIC`]: any `127.0.0.0/8`
//! code is a listing, and the common error codes are errors.
//!
//! # Examples
//!
//! ```
//! use rblkit::codes::{known, Reason, ReturnCode, Verdict};
//!
//! let list = known::for_zone("ZEN.Spamhaus.org.").expect("known");
//! assert_eq!(list.name, "Spamhaus ZEN");
//! let v = list.scheme.decode_answer(&[ReturnCode::new_assert(127, 0, 0, 11)]);
//! assert_eq!(v, Verdict::Listed { reasons: Reason::Dynamic.into(), unknown: false });
//! assert!(known::for_zone("bl.example").is_none());
//! ```

use super::{CodeLayout, CodeScheme, ListError, Reason, ReasonSet, ReturnCode};
use Reason::*;

const fn c(a: u8, b: u8, c: u8, d: u8) -> ReturnCode {
    ReturnCode::new_assert(a, b, c, d)
}

const fn r(reasons: &[Reason]) -> ReasonSet {
    ReasonSet::of(reasons)
}

/// Spamhaus' error codes, answered by all its public zones.
const SPAMHAUS_ERRORS: [(ReturnCode, ListError); 3] = [
    (c(127, 255, 255, 252), ListError::BadQuery),
    (c(127, 255, 255, 254), ListError::PublicResolver),
    (c(127, 255, 255, 255), ListError::RateLimited),
];

/// Spamhaus ZEN (and its parts SBL, XBL, PBL): `127.0.0.2` SBL, `.3` SBL CSS, `.4`–`.7` XBL,
/// `.9` DROP, `.10` and `.11` PBL.
pub static SPAMHAUS_ZEN: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[
        (c(127, 0, 0, 2), r(&[SpamOperation])),
        (c(127, 0, 0, 3), r(&[Snowshoe])),
        (c(127, 0, 0, 4), r(&[Exploited])),
        (c(127, 0, 0, 5), r(&[Exploited])),
        (c(127, 0, 0, 6), r(&[Exploited])),
        (c(127, 0, 0, 7), r(&[Exploited])),
        (c(127, 0, 0, 9), r(&[Hijacked])),
        (c(127, 0, 0, 10), r(&[Dynamic])),
        (c(127, 0, 0, 11), r(&[Dynamic])),
    ],
    &SPAMHAUS_ERRORS,
);

/// Spamhaus DBL: `127.0.1.2` spam, `.4` phishing, `.5` malware, `.6` botnet C&C, and
/// `.102`–`.106` the same on abused legitimate domains (`.103`: an abused redirector);
/// `127.0.1.255` refuses a query for an IP address.
pub static SPAMHAUS_DBL: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 1, 2),
    &[
        (c(127, 0, 1, 2), r(&[SpamDomain])),
        (c(127, 0, 1, 4), r(&[Phishing])),
        (c(127, 0, 1, 5), r(&[Malware])),
        (c(127, 0, 1, 6), r(&[BotnetCc])),
        (c(127, 0, 1, 102), r(&[SpamDomain, Compromised])),
        (c(127, 0, 1, 103), r(&[Redirector])),
        (c(127, 0, 1, 104), r(&[Phishing, Compromised])),
        (c(127, 0, 1, 105), r(&[Malware, Compromised])),
        (c(127, 0, 1, 106), r(&[BotnetCc, Compromised])),
    ],
    &[
        (c(127, 0, 1, 255), ListError::BadQuery),
        SPAMHAUS_ERRORS[0],
        SPAMHAUS_ERRORS[1],
        SPAMHAUS_ERRORS[2],
    ],
);

/// SpamCop: `127.0.0.2`, listed on spam reports and spam trap hits.
pub static SPAMCOP: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamSource, SpamTrap]))],
    &[],
);

/// Barracuda's reputation list: `127.0.0.2`, a poor reputation.
pub static BARRACUDA: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[PoorReputation]))],
    &[],
);

/// PSBL (the Passive Spam Block List): `127.0.0.2`, spam trap hits.
pub static PSBL: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamTrap]))],
    &[],
);

/// UCEPROTECT level 1: `127.0.0.2`, single addresses that hit its spam traps.
pub static UCEPROTECT_1: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamTrap]))],
    &[],
);

/// SURBL multi: a bitmask over `127.0.0.0` with 8 phishing, 16 malware, 64 abuse (spam)
/// and 128 cracked (compromised) sites; `127.0.0.1` refuses the query.
pub static SURBL_MULTI: CodeScheme = CodeScheme::from_static(
    CodeLayout::Bitmask {
        base: c(127, 0, 0, 0),
    },
    c(127, 0, 0, 64),
    &[
        (c(127, 0, 0, 8), r(&[Phishing])),
        (c(127, 0, 0, 16), r(&[Malware])),
        (c(127, 0, 0, 64), r(&[SpamDomain])),
        (c(127, 0, 0, 128), r(&[Compromised])),
    ],
    &[(c(127, 0, 0, 1), ListError::Refused)],
);

/// URIBL multi: a bitmask over `127.0.0.0` with 2 black (spam), 4 grey (bulk) and 8 red
/// (newly observed); `127.0.0.1` refuses the query.
pub static URIBL_MULTI: CodeScheme = CodeScheme::from_static(
    CodeLayout::Bitmask {
        base: c(127, 0, 0, 0),
    },
    c(127, 0, 0, 2),
    &[
        (c(127, 0, 0, 2), r(&[SpamDomain])),
        (c(127, 0, 0, 4), r(&[Bulk])),
        (c(127, 0, 0, 8), r(&[NewlyObserved])),
    ],
    &[(c(127, 0, 0, 1), ListError::Refused)],
);

/// For a list not otherwise known: `127.0.0.2` (and any other `127.0.0.0/8` code) is a
/// listing; `127.0.0.1` and Spamhaus-style `127.255.255.252`/`.254`/`.255` are errors, since
/// taking an error for a listing would refuse good mail.
pub static GENERIC: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[Listed]))],
    &[
        (c(127, 0, 0, 1), ListError::Refused),
        SPAMHAUS_ERRORS[0],
        SPAMHAUS_ERRORS[1],
        SPAMHAUS_ERRORS[2],
    ],
);

/// A well-known public list: its name, its public zone and its codes.
///
/// # Examples
///
/// ```
/// use rblkit::codes::known;
/// let l = &known::LISTS[0];
/// assert_eq!(known::for_zone(l.zone).unwrap().name, l.name);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct KnownList {
    /// A human name.
    pub name: &'static str,
    /// The public zone, lowercase without the trailing dot. A zone starting with `.` is a
    /// suffix: the list is queried at `<key>.<zone>` (Spamhaus' Data Query Service).
    pub zone: &'static str,
    /// Its return codes.
    pub scheme: &'static CodeScheme,
}

const fn l(name: &'static str, zone: &'static str, scheme: &'static CodeScheme) -> KnownList {
    KnownList { name, zone, scheme }
}

/// The lists [`for_zone`] knows.
///
/// # Examples
///
/// ```
/// use rblkit::codes::known;
/// assert!(known::LISTS.iter().any(|l| l.zone == "multi.uribl.com"));
/// ```
pub static LISTS: &[KnownList] = &[
    l("Spamhaus ZEN", "zen.spamhaus.org", &SPAMHAUS_ZEN),
    l("Spamhaus SBL", "sbl.spamhaus.org", &SPAMHAUS_ZEN),
    l("Spamhaus XBL", "xbl.spamhaus.org", &SPAMHAUS_ZEN),
    l("Spamhaus PBL", "pbl.spamhaus.org", &SPAMHAUS_ZEN),
    l("Spamhaus SBL-XBL", "sbl-xbl.spamhaus.org", &SPAMHAUS_ZEN),
    l("Spamhaus DBL", "dbl.spamhaus.org", &SPAMHAUS_DBL),
    l("Spamhaus ZEN (DQS)", ".zen.dq.spamhaus.net", &SPAMHAUS_ZEN),
    l("Spamhaus SBL (DQS)", ".sbl.dq.spamhaus.net", &SPAMHAUS_ZEN),
    l("Spamhaus XBL (DQS)", ".xbl.dq.spamhaus.net", &SPAMHAUS_ZEN),
    l("Spamhaus PBL (DQS)", ".pbl.dq.spamhaus.net", &SPAMHAUS_ZEN),
    l("Spamhaus DBL (DQS)", ".dbl.dq.spamhaus.net", &SPAMHAUS_DBL),
    l("SpamCop", "bl.spamcop.net", &SPAMCOP),
    l("Barracuda", "b.barracudacentral.org", &BARRACUDA),
    l("PSBL", "psbl.surriel.com", &PSBL),
    l(
        "UCEPROTECT level 1",
        "dnsbl-1.uceprotect.net",
        &UCEPROTECT_1,
    ),
    l("SURBL multi", "multi.surbl.org", &SURBL_MULTI),
    l("URIBL multi", "multi.uribl.com", &URIBL_MULTI),
];

/// The known list served at `zone` (ASCII case-insensitive, trailing dot allowed).
///
/// # Examples
///
/// ```
/// use rblkit::codes::known;
/// assert_eq!(known::for_zone("bl.spamcop.net").unwrap().name, "SpamCop");
/// assert_eq!(known::for_zone("mykey.dbl.dq.spamhaus.net").unwrap().name, "Spamhaus DBL (DQS)");
/// assert!(known::for_zone("dbl.dq.spamhaus.net").is_none());
/// ```
pub fn for_zone(zone: &str) -> Option<&'static KnownList> {
    let zone = zone.strip_suffix('.').unwrap_or(zone);
    LISTS.iter().find(|l| {
        if l.zone.starts_with('.') {
            zone.len() > l.zone.len()
                && zone.is_char_boundary(zone.len() - l.zone.len())
                && zone[zone.len() - l.zone.len()..].eq_ignore_ascii_case(l.zone)
        } else {
            zone.eq_ignore_ascii_case(l.zone)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> impl Iterator<Item = &'static CodeScheme> {
        LISTS.iter().map(|l| l.scheme).chain([&GENERIC])
    }

    #[test]
    fn static_schemes_are_valid() {
        for s in all() {
            // The builder validates and sorts; a static table must come out unchanged.
            let mut b = CodeScheme::builder(s.layout(), s.fallback());
            for &(code, reasons) in s.entries() {
                b.code(code, reasons);
            }
            for &(code, kind) in s.errors() {
                b.error(code, kind);
            }
            assert_eq!(&b.build().unwrap(), s, "{s}");
            assert_eq!(&s.to_string().parse::<CodeScheme>().unwrap(), s);
        }
    }

    #[test]
    fn zones_are_lowercase_and_unique() {
        for (i, l) in LISTS.iter().enumerate() {
            assert_eq!(l.zone, l.zone.to_ascii_lowercase());
            assert!(LISTS[..i].iter().all(|o| o.zone != l.zone));
            let probe = if l.zone.starts_with('.') {
                format!("key{}", l.zone)
            } else {
                l.zone.to_string()
            };
            assert_eq!(for_zone(&probe).map(|f| f.name), Some(l.name));
        }
    }

    #[test]
    fn every_encoding_decodes_back() {
        for s in all() {
            for &r in Reason::ALL {
                let codes = s.encode(r.into());
                assert!(!codes.is_empty());
                match s.decode_answer(&codes) {
                    super::super::Verdict::Listed { reasons, unknown } => {
                        assert!(!unknown, "{s} {r}");
                        assert!(!reasons.is_empty());
                    }
                    v => panic!("{s} {r}: {v:?}"),
                }
            }
        }
    }
}
