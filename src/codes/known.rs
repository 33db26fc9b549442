//! The return codes of well-known public lists, for decoding their answers.
//!
//! Each scheme is what the list documents for its public zones, with the source named on
//! each item; [`for_zone`] finds the list of a zone by name, with what it lists and whether
//! it is a blocklist or an allowlist. A list not here is best decoded with [`GENERIC`]: any
//! `127.0.0.0/8` code is a listing, and the common error codes are errors.
//!
//! Answers outside `127.0.0.0/8` are errors under every scheme: when SpamCop's domain lapsed
//! in January 2021, a parking service answered every query, and mail servers that took any
//! answer for a listing refused all mail.
//!
//! | zone | lists | kind | codes |
//! | --- | --- | --- | --- |
//! | `zen.spamhaus.org` (and `sbl`, `xbl`, `pbl`, `sbl-xbl`) | IPv4 | block | [`SPAMHAUS_ZEN`] |
//! | `dbl.spamhaus.org` | domains | block | [`SPAMHAUS_DBL`] |
//! | `<key>.zen.dq.spamhaus.net`, `<key>.dbl.dq.spamhaus.net`, … | as above | block | as above |
//! | `bl.spamcop.net` | IPv4 | block | [`SPAMCOP`] |
//! | `b.barracudacentral.org` | IPv4 | block | [`BARRACUDA`] |
//! | `psbl.surriel.com` | IPv4 | block | [`PSBL`] |
//! | `dnsbl-1.uceprotect.net` | IPv4 | block | [`UCEPROTECT_1`] |
//! | `dnsbl-2.uceprotect.net`, `dnsbl-3.uceprotect.net` | IPv4 | block | [`UCEPROTECT_2_3`] |
//! | `bl.mailspike.net` | IPv4 | block | [`MAILSPIKE_BL`] |
//! | `all.s5h.net` | IPv4, IPv6 | block | [`S5H`] |
//! | `multi.surbl.org` | domains | block | [`SURBL_MULTI`] |
//! | `multi.uribl.com` | domains | block | [`URIBL_MULTI`] |
//! | `list.dnswl.org` | IPv4 | allow | [`DNSWL`] |
//!
//! Not here yet: Mailspike's reputation zones (`rep.`, `wl.`), whose levels are scores more
//! than reasons, and Spamhaus ZRD, whose codes count hours.
//!
//! # Examples
//!
//! ```
//! use rblkit::codes::{known, Reason, ReturnCode, Verdict};
//! use rblkit::codes::known::{ListedSubjects, Polarity};
//!
//! let list = known::for_zone("ZEN.Spamhaus.org.").expect("known");
//! assert_eq!(list.name, "Spamhaus ZEN");
//! assert_eq!(list.subjects, ListedSubjects::Ipv4);
//! assert_eq!(list.polarity, Polarity::Blocklist);
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

/// Spamhaus' error codes, answered by all its public zones: `127.255.255.252` a typing error
/// in the zone name, `.254` a query through a public or open resolver, `.255` an excessive
/// number of queries.
const SPAMHAUS_ERRORS: [(ReturnCode, ListError); 3] = [
    (c(127, 255, 255, 252), ListError::BadQuery),
    (c(127, 255, 255, 254), ListError::PublicResolver),
    (c(127, 255, 255, 255), ListError::RateLimited),
];

/// Spamhaus ZEN and its parts SBL, XBL, PBL: `127.0.0.2` SBL (spam operations), `.3` SBL
/// CSS (snowshoe), `.4` XBL (exploited hosts; `.5`–`.7` are XBL's too, unused for now), `.9`
/// DROP (hijacked space, always beside SBL), `.10` PBL maintained by the ISP, `.11` PBL
/// maintained by Spamhaus, `.30` BCL (botnet controllers). Errors: `127.255.255.252` a
/// typing error in the zone name, `.254` a query through a public or open resolver, `.255`
/// an excessive number of queries.
///
/// Source: the zones table of the Spamhaus data-set documentation
/// (docs.spamhaus.com, "Available Zones"), and Spamhaus' page on the error codes for users
/// of its public mirrors.
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
        (c(127, 0, 0, 30), r(&[BotnetCc])),
    ],
    &SPAMHAUS_ERRORS,
);

/// Spamhaus DBL: `127.0.1.2` low-reputation (spam) domain, `.4` phishing, `.5` malware, `.6`
/// botnet C&C, `.102` abused legitimate domain, `.103` abused redirector, `.104`–`.106`
/// abused domains used for phishing, malware, C&C; `127.0.1.255` refuses a query for an IP
/// address; and Spamhaus' errors, as for [`SPAMHAUS_ZEN`].
///
/// Source: the zones table of the Spamhaus data-set documentation (docs.spamhaus.com,
/// "Available Zones").
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

/// SpamCop: listed on spam reports and spam trap hits (the SpamCop FAQ for administrators).
/// The code is RFC 5782's `127.0.0.2`; the pages found do not state another, so any other
/// `127.0.0.0/8` code decodes as a listing of unknown meaning.
pub static SPAMCOP: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamSource, SpamTrap]))],
    &[],
);

/// Barracuda's reputation block list: a poor sending reputation. The code is RFC 5782's
/// `127.0.0.2`, not confirmed from Barracuda's own pages.
pub static BARRACUDA: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[PoorReputation]))],
    &[],
);

/// PSBL, the Passive Spam Block List: addresses that sent to its spam traps. The code is RFC
/// 5782's `127.0.0.2`, not confirmed from the list's own pages.
pub static PSBL: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamTrap]))],
    &[],
);

/// UCEPROTECT level 1: single addresses that hit its spam traps or tried to relay (its
/// listing policy). The code is RFC 5782's `127.0.0.2`, not confirmed from UCEPROTECT's
/// pages.
pub static UCEPROTECT_1: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamTrap]))],
    &[],
);

/// UCEPROTECT levels 2 and 3: whole allocations (level 2) or autonomous systems (level 3)
/// with too many level-1 listings, so an address is listed for its neighbours (its listing
/// policy). The code is RFC 5782's `127.0.0.2`, not confirmed from UCEPROTECT's pages.
pub static UCEPROTECT_2_3: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[NetworkReputation]))],
    &[],
);

/// Mailspike `bl`: `127.0.0.2` an address seen in a distributed spam wave (the `z` zone), or
/// the reputation levels L5, L4, L3 as `127.0.0.10`, `.11`, `.12` (worst, very bad, bad).
///
/// Source: Mailspike's usage page (zones `z`, `bl`, `rep`) and its table of reputation levels.
pub static MAILSPIKE_BL: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[
        (c(127, 0, 0, 2), r(&[SpamSource])),
        (c(127, 0, 0, 10), r(&[PoorReputation])),
        (c(127, 0, 0, 11), r(&[PoorReputation])),
        (c(127, 0, 0, 12), r(&[PoorReputation])),
    ],
    &[],
);

/// System 5 Hosting's `all.s5h.net`: sources of spam in mail or HTTP requests, IPv4 and IPv6
/// (its RBL page says the zone follows RFC 5782). The code is RFC 5782's `127.0.0.2`, not
/// confirmed from the list's pages.
pub static S5H: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 0, 2),
    &[(c(127, 0, 0, 2), r(&[SpamSource]))],
    &[],
);

/// SURBL multi: a bitmask over `127.0.0.0` with 4 DM (disposable mail domains), 8 PH
/// (phishing), 16 MW (malware), 32 CT (click trackers), 64 ABUSE (spam and abuse) and 128 CR
/// (cracked, that is compromised, sites); `127.0.0.1` refuses the query.
///
/// Source: SURBL's list description ("multi", bit positions 8, 16, 64, 128) and its
/// announcement of the DM and CT codes.
pub static SURBL_MULTI: CodeScheme = CodeScheme::from_static(
    CodeLayout::Bitmask {
        base: c(127, 0, 0, 0),
    },
    c(127, 0, 0, 64),
    &[
        (c(127, 0, 0, 4), r(&[DisposableDomain])),
        (c(127, 0, 0, 8), r(&[Phishing])),
        (c(127, 0, 0, 16), r(&[Malware])),
        (c(127, 0, 0, 32), r(&[ClickTracker])),
        (c(127, 0, 0, 64), r(&[SpamDomain])),
        (c(127, 0, 0, 128), r(&[Compromised])),
    ],
    &[(c(127, 0, 0, 1), ListError::Refused)],
);

/// URIBL multi: a bitmask over `127.0.0.0` with 2 black (domains of spammers), 4 grey (bulk
/// mail that may be legitimate) and 8 red (very young or hidden domains new in mail flow);
/// `127.0.0.1` is a refused query, never a listing.
///
/// Source: URIBL's list information page and its "query refused" page.
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

const TRUST: [Reason; 4] = [TrustNone, TrustLow, TrustMedium, TrustHigh];

/// `127.0.X.Y` for DNSWL's categories X = 2 to 15 and trust levels Y = 0 to 3.
const DNSWL_ENTRIES: [(ReturnCode, ReasonSet); 56] = {
    let mut out = [(c(127, 0, 0, 0), ReasonSet::EMPTY); 56];
    let mut i = 0;
    while i < 56 {
        let (category, trust) = (2 + i / 4, i % 4);
        out[i] = (
            c(127, 0, category as u8, trust as u8),
            ReasonSet::EMPTY.with(TRUST[trust]),
        );
        i += 1;
    }
    out
};

/// DNSWL, an allowlist: `127.0.X.Y` with X the category of the sender (2 financial services
/// to 15 email marketing providers) and Y its trust level, 0 none (only avoid outright
/// blocking), 1 low, 2 medium, 3 high, decoded as [`Reason::TrustNone`] to
/// [`Reason::TrustHigh`]; `127.0.0.255` refuses the query (over its free-use limits).
///
/// Source: DNSWL's return-code table as quoted on its users' list; DNSWL's policy page.
pub static DNSWL: CodeScheme = CodeScheme::from_static(
    CodeLayout::OnePerReason,
    c(127, 0, 10, 0),
    &DNSWL_ENTRIES,
    &[(c(127, 0, 0, 255), ListError::Refused)],
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

/// What a list lists, that is how it is queried (see [`crate::qname`]).
///
/// # Examples
///
/// ```
/// use rblkit::codes::known::{self, ListedSubjects};
/// assert_eq!(known::for_zone("all.s5h.net").unwrap().subjects, ListedSubjects::Ipv4AndIpv6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListedSubjects {
    /// IPv4 addresses.
    Ipv4,
    /// IPv4 and IPv6 addresses.
    Ipv4AndIpv6,
    /// Domain names.
    Domains,
}

/// Whether a listing counts against the subject or for it.
///
/// # Examples
///
/// ```
/// use rblkit::codes::known::{self, Polarity};
/// assert_eq!(known::for_zone("list.dnswl.org").unwrap().polarity, Polarity::Allowlist);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Polarity {
    /// A listing counts against the subject.
    Blocklist,
    /// A listing vouches for the subject.
    Allowlist,
}

/// A well-known public list: its name, its public zone, what it lists and its codes.
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
    /// What it lists.
    pub subjects: ListedSubjects,
    /// Blocklist or allowlist.
    pub polarity: Polarity,
    /// Its return codes.
    pub scheme: &'static CodeScheme,
}

const fn block(
    name: &'static str,
    zone: &'static str,
    subjects: ListedSubjects,
    scheme: &'static CodeScheme,
) -> KnownList {
    KnownList {
        name,
        zone,
        subjects,
        polarity: Polarity::Blocklist,
        scheme,
    }
}

use ListedSubjects::{Domains, Ipv4, Ipv4AndIpv6};

/// The lists [`for_zone`] knows.
///
/// # Examples
///
/// ```
/// use rblkit::codes::known;
/// assert!(known::LISTS.iter().any(|l| l.zone == "multi.uribl.com"));
/// ```
pub static LISTS: &[KnownList] = &[
    block("Spamhaus ZEN", "zen.spamhaus.org", Ipv4, &SPAMHAUS_ZEN),
    block("Spamhaus SBL", "sbl.spamhaus.org", Ipv4, &SPAMHAUS_ZEN),
    block("Spamhaus XBL", "xbl.spamhaus.org", Ipv4, &SPAMHAUS_ZEN),
    block("Spamhaus PBL", "pbl.spamhaus.org", Ipv4, &SPAMHAUS_ZEN),
    block(
        "Spamhaus SBL-XBL",
        "sbl-xbl.spamhaus.org",
        Ipv4,
        &SPAMHAUS_ZEN,
    ),
    block("Spamhaus DBL", "dbl.spamhaus.org", Domains, &SPAMHAUS_DBL),
    block(
        "Spamhaus ZEN (DQS)",
        ".zen.dq.spamhaus.net",
        Ipv4,
        &SPAMHAUS_ZEN,
    ),
    block(
        "Spamhaus SBL (DQS)",
        ".sbl.dq.spamhaus.net",
        Ipv4,
        &SPAMHAUS_ZEN,
    ),
    block(
        "Spamhaus XBL (DQS)",
        ".xbl.dq.spamhaus.net",
        Ipv4,
        &SPAMHAUS_ZEN,
    ),
    block(
        "Spamhaus PBL (DQS)",
        ".pbl.dq.spamhaus.net",
        Ipv4,
        &SPAMHAUS_ZEN,
    ),
    block(
        "Spamhaus DBL (DQS)",
        ".dbl.dq.spamhaus.net",
        Domains,
        &SPAMHAUS_DBL,
    ),
    block("SpamCop", "bl.spamcop.net", Ipv4, &SPAMCOP),
    block("Barracuda", "b.barracudacentral.org", Ipv4, &BARRACUDA),
    block("PSBL", "psbl.surriel.com", Ipv4, &PSBL),
    block(
        "UCEPROTECT level 1",
        "dnsbl-1.uceprotect.net",
        Ipv4,
        &UCEPROTECT_1,
    ),
    block(
        "UCEPROTECT level 2",
        "dnsbl-2.uceprotect.net",
        Ipv4,
        &UCEPROTECT_2_3,
    ),
    block(
        "UCEPROTECT level 3",
        "dnsbl-3.uceprotect.net",
        Ipv4,
        &UCEPROTECT_2_3,
    ),
    block("Mailspike", "bl.mailspike.net", Ipv4, &MAILSPIKE_BL),
    block("s5h", "all.s5h.net", Ipv4AndIpv6, &S5H),
    block("SURBL multi", "multi.surbl.org", Domains, &SURBL_MULTI),
    block("URIBL multi", "multi.uribl.com", Domains, &URIBL_MULTI),
    KnownList {
        name: "DNSWL",
        zone: "list.dnswl.org",
        subjects: Ipv4,
        polarity: Polarity::Allowlist,
        scheme: &DNSWL,
    },
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
