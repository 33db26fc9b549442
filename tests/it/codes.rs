//! Return codes, reasons and code schemes: text round trips, encode/decode agreement, and
//! the decoding of well-known lists' answers.

use proptest::prelude::*;
use rblkit::codes::{
    known, CodeLayout, CodeMeaning, CodeScheme, ListError, Reason, ReasonSet, ReturnCode, Verdict,
};

fn c(a: u8, b: u8, cc: u8, d: u8) -> ReturnCode {
    ReturnCode::new_assert(a, b, cc, d)
}

fn reason_set() -> impl Strategy<Value = ReasonSet> {
    proptest::collection::vec(proptest::sample::select(Reason::ALL), 0..6)
        .prop_map(|v| v.into_iter().collect())
}

fn code() -> impl Strategy<Value = ReturnCode> {
    prop_oneof![
        (0u8..4, any::<u8>()).prop_map(|(x, d)| c(127, 0, x, d)),
        any::<u32>().prop_map(|a| ReturnCode::from(std::net::Ipv4Addr::from(a))),
    ]
}

/// Random inputs to the builder; most are valid.
fn scheme() -> impl Strategy<Value = CodeScheme> {
    let per_reason = (
        0u8..16,
        proptest::collection::vec((0u8..16, reason_set()), 0..8),
        proptest::collection::vec(
            (200u8..=255, proptest::sample::select(ListError::ALL)),
            0..3,
        ),
    )
        .prop_filter_map("invalid per-reason scheme", |(fb, entries, errors)| {
            let mut b = CodeScheme::builder(CodeLayout::OnePerReason, c(127, 0, 0, fb));
            for (d, r) in entries {
                b.code(c(127, 0, 0, d), r);
            }
            for (d, e) in errors {
                b.error(c(127, 0, 0, d), e);
            }
            b.build().ok()
        });
    let bitmask = (
        1u32..8,
        proptest::collection::vec((1u32..8, reason_set()), 0..6),
    )
        .prop_filter_map("invalid bitmask scheme", |(fb, entries)| {
            let bit = |i: u32| c(127, 0, 0, 1 << i);
            let mut b = CodeScheme::builder(
                CodeLayout::Bitmask {
                    base: c(127, 0, 0, 0),
                },
                bit(fb),
            );
            for (i, r) in entries {
                b.code(bit(i), r);
            }
            b.error(c(127, 0, 0, 1), ListError::Refused);
            b.build().ok()
        });
    prop_oneof![per_reason, bitmask]
}

fn fallback_reasons(s: &CodeScheme) -> ReasonSet {
    s.entries()
        .iter()
        .find(|e| e.0 == s.fallback())
        .map(|e| e.1)
        .unwrap()
}

proptest! {
    #[test]
    fn scheme_text_round_trip(s in scheme()) {
        let text = s.to_string();
        prop_assert_eq!(text.parse::<CodeScheme>().unwrap(), s);
    }

    /// No reason vanishes: each reason asked for is decoded back, or the fallback says it;
    /// and nothing is decoded that was not asked for, but for the fallback's reasons.
    #[test]
    fn encode_then_decode(s in scheme(), reasons in reason_set()) {
        let codes = s.encode(reasons);
        prop_assert_eq!(codes.is_empty(), reasons.is_empty());
        prop_assert!(codes.windows(2).all(|w| w[0] < w[1]));
        match s.decode_answer(&codes) {
            Verdict::NotListed => prop_assert!(reasons.is_empty()),
            Verdict::Listed { reasons: got, unknown } => {
                prop_assert!(!unknown);
                let fb = fallback_reasons(&s);
                prop_assert!(got.is_subset(reasons.union(fb)), "{} -> {:?} -> {}", reasons, codes, got);
                let fallback_used = match s.layout() {
                    CodeLayout::Bitmask { base } => codes[0].last_octet() & s.fallback().last_octet() & !base.last_octet() != 0,
                    _ => codes.contains(&s.fallback()),
                };
                prop_assert!(fallback_used || reasons.is_subset(got), "{} -> {:?} -> {}", reasons, codes, got);
            }
            other => prop_assert!(false, "{reasons} -> {codes:?} -> {other:?}"),
        }
    }

    #[test]
    fn decode_any_code(s in scheme(), code in code()) {
        match s.decode(code) {
            // outside 127/8, or a code the scheme itself maps to that error
            CodeMeaning::Error(ListError::NotACode) => prop_assert!(
                !code.is_loopback_code() || s.errors().contains(&(code, ListError::NotACode))
            ),
            CodeMeaning::Error(e) => prop_assert!(s.errors().contains(&(code, e))),
            CodeMeaning::Listed { reasons, unknown } => {
                prop_assert!(code.is_loopback_code());
                if !unknown {
                    prop_assert!(!reasons.is_empty());
                }
                if s.layout() == CodeLayout::OnePerReason {
                    prop_assert_eq!(!unknown, s.entries().iter().any(|e| e.0 == code));
                }
            }
            _ => {}
        }
    }

    #[test]
    fn known_lists_decode_without_panic(code in code()) {
        for l in known::LISTS {
            let _ = l.scheme.decode_answer(&[code, ReturnCode::LISTED]);
        }
    }

    #[test]
    fn scheme_parser_never_panics(text in "(per-reason|bitmask:127\\.0\\.0\\.0)?( [a-z0-9.:=,_]{0,24}){0,5}") {
        if let Ok(s) = text.parse::<CodeScheme>() {
            prop_assert_eq!(s.to_string().parse::<CodeScheme>().unwrap(), s);
        }
    }
}

#[test]
fn spamhaus_zen() {
    let zen = known::for_zone("zen.spamhaus.org").unwrap().scheme;
    let v = |codes: &[ReturnCode]| zen.decode_answer(codes);
    assert_eq!(
        v(&[c(127, 0, 0, 3)]),
        Verdict::Listed {
            reasons: Reason::Snowshoe.into(),
            unknown: false
        }
    );
    assert_eq!(
        v(&[c(127, 0, 0, 4), c(127, 0, 0, 11), c(127, 0, 0, 9)]),
        Verdict::Listed {
            reasons: ReasonSet::of(&[Reason::Exploited, Reason::Dynamic, Reason::Hijacked]),
            unknown: false
        }
    );
    assert_eq!(
        v(&[c(127, 0, 0, 8)]),
        Verdict::Listed {
            reasons: ReasonSet::EMPTY,
            unknown: true
        }
    );
    assert_eq!(
        v(&[c(127, 255, 255, 252)]),
        Verdict::Error(ListError::BadQuery)
    );
    // an error among listings still makes the answer unusable
    assert_eq!(
        v(&[c(127, 0, 0, 2), c(127, 255, 255, 254)]),
        Verdict::Error(ListError::PublicResolver)
    );
    // a wildcarded or hijacked zone
    assert_eq!(v(&[c(192, 0, 2, 1)]), Verdict::Error(ListError::NotACode));
    // encoding with ZEN's own codes
    assert_eq!(
        zen.encode(ReasonSet::of(&[Reason::Exploited, Reason::Dynamic])),
        [c(127, 0, 0, 4), c(127, 0, 0, 10)]
    );
}

#[test]
fn spamhaus_dbl() {
    let dbl = known::for_zone("dbl.spamhaus.org.").unwrap().scheme;
    assert_eq!(
        dbl.decode(c(127, 0, 1, 104)),
        CodeMeaning::Listed {
            reasons: ReasonSet::of(&[Reason::Compromised, Reason::Phishing]),
            unknown: false
        }
    );
    assert_eq!(
        dbl.decode(c(127, 0, 1, 255)),
        CodeMeaning::Error(ListError::BadQuery)
    );
    // the largest entry wins, smaller ones it implies are not added
    assert_eq!(
        dbl.encode(ReasonSet::of(&[Reason::Compromised, Reason::Phishing])),
        [c(127, 0, 1, 104)]
    );
    assert_eq!(
        dbl.encode(ReasonSet::of(&[
            Reason::Compromised,
            Reason::Phishing,
            Reason::Malware
        ])),
        [c(127, 0, 1, 104), c(127, 0, 1, 105)]
    );
    // a reason DBL has no code for falls back to the spam code
    assert_eq!(dbl.encode(Reason::RateLimit.into()), [c(127, 0, 1, 2)]);
}

#[test]
fn bitmask_lists() {
    let surbl = known::for_zone("MULTI.SURBL.ORG").unwrap().scheme;
    assert_eq!(
        surbl.decode(c(127, 0, 0, 136)),
        CodeMeaning::Listed {
            reasons: ReasonSet::of(&[Reason::Phishing, Reason::Compromised]),
            unknown: false
        }
    );
    // retired SURBL bits are listings all the same
    assert_eq!(
        surbl.decode(c(127, 0, 0, 66)),
        CodeMeaning::Listed {
            reasons: Reason::SpamDomain.into(),
            unknown: true
        }
    );
    assert_eq!(
        surbl.decode(c(127, 0, 0, 1)),
        CodeMeaning::Error(ListError::Refused)
    );
    let uribl = known::for_zone("multi.uribl.com").unwrap().scheme;
    assert_eq!(
        uribl.encode(ReasonSet::of(&[Reason::SpamDomain, Reason::NewlyObserved])),
        [c(127, 0, 0, 10)]
    );
    assert_eq!(uribl.encode(Reason::Phishing.into()), [c(127, 0, 0, 2)]);
}

#[test]
fn generic_scheme_is_cautious() {
    let g = &known::GENERIC;
    assert!(g.decode_answer(&[ReturnCode::LISTED]).is_listed());
    assert!(g.decode_answer(&[c(127, 0, 0, 77)]).is_listed());
    assert_eq!(
        g.decode_answer(&[c(127, 0, 0, 1)]),
        Verdict::Error(ListError::Refused)
    );
    assert_eq!(
        g.decode_answer(&[c(127, 255, 255, 255)]),
        Verdict::Error(ListError::RateLimited)
    );
}

#[test]
fn scheme_text_examples() {
    let s: CodeScheme =
        "bitmask:127.0.1.0   fallback=127.0.1.2\t127.0.1.4=phishing error:127.0.1.1=refused"
            .parse()
            .unwrap();
    assert_eq!(
        s.to_string(),
        "bitmask:127.0.1.0 fallback=127.0.1.2 127.0.1.2=listed 127.0.1.4=phishing error:127.0.1.1=refused"
    );
    assert_eq!(
        s.encode(ReasonSet::of(&[Reason::Phishing, Reason::Bulk])),
        [c(127, 0, 1, 6)]
    );
    let err: rblkit::Error = "per-reason fallback=10.0.0.2"
        .parse::<CodeScheme>()
        .unwrap_err()
        .into();
    assert_eq!(
        err.to_string(),
        "return code 10.0.0.2 is outside 127.0.0.0/8"
    );
}

#[test]
fn txt_expansion_is_unchanged() {
    let mut out = String::new();
    rblkit::codes::expand_txt("$ listed; $$ is a dollar; $$$", "192.0.2.1", &mut out);
    assert_eq!(out, "192.0.2.1 listed; $ is a dollar; $192.0.2.1");
}

#[test]
fn allowlist_and_reputation_lists() {
    use rblkit::codes::known::{ListedSubjects, Polarity};
    let dnswl = known::for_zone("list.dnswl.org").unwrap();
    assert_eq!(dnswl.polarity, Polarity::Allowlist);
    // category 10 ("special cases"), trust none: DNSWL's answer for its test point
    assert_eq!(
        dnswl.scheme.decode_answer(&[c(127, 0, 10, 0)]),
        Verdict::Listed {
            reasons: Reason::TrustNone.into(),
            unknown: false
        }
    );
    assert_eq!(
        dnswl.scheme.decode(c(127, 0, 15, 3)),
        CodeMeaning::Listed {
            reasons: Reason::TrustHigh.into(),
            unknown: false
        }
    );
    assert_eq!(
        dnswl.scheme.decode(c(127, 0, 0, 255)),
        CodeMeaning::Error(ListError::Refused)
    );
    assert_eq!(
        dnswl.scheme.decode(c(127, 0, 16, 0)),
        CodeMeaning::Listed {
            reasons: ReasonSet::EMPTY,
            unknown: true
        }
    );
    let mailspike = known::for_zone("bl.mailspike.net").unwrap().scheme;
    assert_eq!(
        mailspike.decode(c(127, 0, 0, 11)),
        CodeMeaning::Listed {
            reasons: Reason::PoorReputation.into(),
            unknown: false
        }
    );
    let s5h = known::for_zone("all.s5h.net").unwrap();
    assert_eq!(s5h.subjects, ListedSubjects::Ipv4AndIpv6);
    for level in 1..=3 {
        let l = known::for_zone(&format!("dnsbl-{level}.uceprotect.net")).unwrap();
        assert!(l.scheme.decode_answer(&[ReturnCode::LISTED]).is_listed());
    }
    // Spamhaus BCL
    assert_eq!(
        known::SPAMHAUS_ZEN.decode(c(127, 0, 0, 30)),
        CodeMeaning::Listed {
            reasons: Reason::BotnetCc.into(),
            unknown: false
        }
    );
}

#[test]
fn own_lists() {
    use rblkit::codes::{OWN_DOMAIN, OWN_IP};
    let reasons = ReasonSet::of(&[Reason::RateLimit, Reason::KeptSending, Reason::Manual]);
    let codes = OWN_IP.encode(reasons);
    assert_eq!(
        codes,
        [c(127, 0, 0, 20), c(127, 0, 0, 31), c(127, 0, 0, 100)]
    );
    assert_eq!(
        OWN_IP.decode_answer(&codes),
        Verdict::Listed {
            reasons,
            unknown: false
        }
    );
    assert_eq!(
        OWN_DOMAIN.decode(c(127, 0, 1, 255)),
        CodeMeaning::Error(ListError::BadQuery)
    );
}

proptest! {
    #[test]
    fn txt_strings_split_without_loss(text in "\\PC{0,400}") {
        let parts: Vec<&str> = rblkit::codes::txt_strings(&text).collect();
        prop_assert!(!parts.is_empty());
        prop_assert!(parts.iter().all(|p| p.len() <= rblkit::codes::TXT_STRING_MAX));
        prop_assert!(parts[..parts.len() - 1].iter().all(|p| p.len() > rblkit::codes::TXT_STRING_MAX - 4));
        prop_assert_eq!(parts.concat(), text);
    }

    /// Our own schemes say every reason set back exactly, but for reasons a list kind has no
    /// code for, which the fallback says.
    #[test]
    fn own_schemes_round_trip(reasons in reason_set()) {
        for s in [&rblkit::codes::OWN_IP, &rblkit::codes::OWN_DOMAIN] {
            let covered: ReasonSet = s.entries().iter().fold(ReasonSet::EMPTY, |a, e| a.union(e.1));
            match s.decode_answer(&s.encode(reasons)) {
                Verdict::NotListed => prop_assert!(reasons.is_empty()),
                Verdict::Listed { reasons: got, unknown } => {
                    prop_assert!(!unknown);
                    prop_assert_eq!(got.intersection(reasons), reasons.intersection(covered));
                    if !reasons.is_subset(covered) {
                        prop_assert!(got.contains(Reason::Listed));
                    }
                }
                other => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
