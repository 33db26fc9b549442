//! Policies read like their descriptions.

use rblkit::ledger::{DisputeDecision, DisputeReason, Event, Evidence, Ledger};
use rblkit::policy::{compile, Policy};
use rblkit::{Subject, Timestamp};
use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn at(secs: u64) -> Timestamp {
    "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap() + Duration::from_secs(secs)
}

fn report(s: &Subject, secs: u64, who: &str) -> Event {
    Event::new(
        at(secs),
        s.clone(),
        Evidence::SpamReport {
            reporter: who.into(),
            fingerprint: None,
            weight: None,
        },
    )
}

#[test]
fn a_trap_hit_and_3_reports_list_an_ip_24h_after_the_last_report_it_is_delisted_a_new_report_relists_it(
) {
    let ip: Subject = "192.0.2.1".parse().unwrap();
    let v4 = "192.0.2.1".parse().unwrap();
    let mut ledger = Ledger::new(Default::default());
    let policy = Policy::spamcop();
    ledger.apply(&Event::new(
        at(0),
        ip.clone(),
        Evidence::TrapHit { trap: "t1".into() },
    ));
    ledger.apply(&report(&ip, 60, "a"));
    ledger.apply(&report(&ip, 120, "b"));
    assert!(
        compile(&ledger, &policy, at(130)).lookup_ipv4(v4).is_some(),
        "a trap hit and two reports already reach the threshold"
    );
    ledger.apply(&report(&ip, 180, "c"));
    let list = compile(&ledger, &policy, at(HOUR));
    let hit = list.lookup_ipv4(v4).expect("listed");
    assert_eq!(hit.expires(), Some(at(180 + DAY)));
    assert_eq!(
        policy.time_to_delist(&ledger, &ip, at(HOUR)),
        Some(Duration::from_secs(180 + DAY - HOUR))
    );
    // still listed a second before 24 h after the last report, delisted at 24 h
    assert!(compile(&ledger, &policy, at(180 + DAY - 1))
        .lookup_ipv4(v4)
        .is_some());
    assert!(compile(&ledger, &policy, at(180 + DAY))
        .lookup_ipv4(v4)
        .is_none());
    assert_eq!(policy.time_to_delist(&ledger, &ip, at(180 + DAY)), None);
    // a new report relists it (the earlier evidence still weighs, decayed)
    ledger.apply(&report(&ip, 2 * DAY, "d"));
    let list = compile(&ledger, &policy, at(2 * DAY));
    assert_eq!(
        list.lookup_ipv4(v4).expect("relisted").expires(),
        Some(at(3 * DAY))
    );
}

#[test]
fn one_report_alone_does_not_list_and_an_upheld_user_error_delists() {
    let ip: Subject = "192.0.2.2".parse().unwrap();
    let v4 = "192.0.2.2".parse().unwrap();
    let mut ledger = Ledger::new(Default::default());
    let policy = Policy::spamcop();
    ledger.apply(&report(&ip, 0, "a"));
    assert!(compile(&ledger, &policy, at(1)).lookup_ipv4(v4).is_none());
    ledger.apply(&report(&ip, 10, "mallory"));
    ledger.apply(&report(&ip, 20, "mallory"));
    assert!(compile(&ledger, &policy, at(30)).lookup_ipv4(v4).is_some());
    ledger.apply(&Event::new(
        at(40),
        ip.clone(),
        Evidence::Dispute {
            reason: DisputeReason::UserError,
            reporter: Some("mallory".into()),
            contact: None,
            text: None,
        },
    ));
    assert!(
        compile(&ledger, &policy, at(50)).lookup_ipv4(v4).is_some(),
        "listed while under review"
    );
    ledger.apply(&Event::new(
        at(60),
        ip.clone(),
        Evidence::DisputeDecision {
            decision: DisputeDecision::Upheld,
            note: None,
        },
    ));
    assert!(compile(&ledger, &policy, at(70)).lookup_ipv4(v4).is_none());
}

#[test]
fn allowlisting_keeps_a_subject_out_of_the_list() {
    let ip: Subject = "192.0.2.3".parse().unwrap();
    let mut ledger = Ledger::new(Default::default());
    for i in 0..5 {
        ledger.apply(&report(&ip, i, "a"));
    }
    ledger.apply(&Event::new(
        at(10),
        ip.clone(),
        Evidence::AllowlistAdd { note: None },
    ));
    let list = compile(&ledger, &Policy::spamcop(), at(20));
    assert!(list.lookup(&ip).is_none());
}

mod properties {
    use proptest::prelude::*;
    use rblkit::ledger::{
        DisputeDecision, DisputeReason, Event, Evidence, Ledger, ScoreKind, SmtpOutcome,
    };
    use rblkit::list::ListDiff;
    use rblkit::policy::{compile, Policy, ReputationScore};
    use rblkit::{Subject, Timestamp};
    use std::time::Duration;

    const SUBJECTS: [&str; 6] = [
        "192.0.2.1",
        "192.0.2.2",
        "2001:db8::1",
        "spam.example.com",
        "sender1@bulk.example.com",
        "sender2@bulk.example.com",
    ];

    fn evidence() -> impl Strategy<Value = Evidence> {
        let who = proptest::sample::select(vec!["a", "b", "c"]);
        prop_oneof![
            4 => (who.clone(), proptest::option::of(0.0f64..5.0)).prop_map(|(r, weight)| Evidence::SpamReport {
                reporter: r.into(),
                fingerprint: None,
                weight,
            }),
            3 => Just(Evidence::TrapHit { trap: "t".into() }),
            2 => who.clone().prop_map(|r| Evidence::HamReport { reporter: r.into() }),
            1 => Just(Evidence::ThirdPartyListing {
                list: "other".into(),
                code: rblkit::codes::ReturnCode::LISTED,
            }),
            3 => (who.clone(), proptest::option::of(Just("fp"))).prop_map(|(r, fp)| Evidence::Message {
                recipient: format!("{r}@example.net").into(),
                sasl_username: None,
                fingerprint: fp.map(Into::into),
                sender: None,
                refused: false,
            }),
            2 => (proptest::sample::select(SmtpOutcome::ALL), who.clone()).prop_map(|(outcome, r)| {
                Evidence::SmtpOutcome { outcome, recipient: Some(format!("{r}@example.net").into()) }
            }),
            1 => Just(Evidence::SelfDelist),
            1 => Just(Evidence::AllowlistAdd { note: None }),
            1 => Just(Evidence::AllowlistRemove { note: None }),
            1 => Just(Evidence::ManualList { note: "n".into(), reason: None }),
            1 => Just(Evidence::ManualUnlist { note: "n".into(), reason: None }),
            1 => (proptest::sample::select(DisputeReason::ALL), proptest::option::of(who)).prop_map(
                |(reason, r)| Evidence::Dispute { reason, reporter: r.map(Into::into), contact: None, text: None }
            ),
            1 => proptest::sample::select(DisputeDecision::ALL)
                .prop_map(|decision| Evidence::DisputeDecision { decision, note: None }),
        ]
    }

    /// Events over a few subjects within a few days, time going backwards now and then.
    fn events() -> impl Strategy<Value = Vec<Event>> {
        let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        proptest::collection::vec(
            (0usize..SUBJECTS.len(), 0u64..4 * 86_400, evidence()),
            0..80,
        )
        .prop_map(move |v| {
            v.into_iter()
                .map(|(s, dt, e)| {
                    Event::new(
                        t0 + Duration::from_secs(dt),
                        SUBJECTS[s].parse().unwrap(),
                        e,
                    )
                })
                .collect()
        })
    }

    fn replay(policy: &Policy, events: &[Event]) -> Ledger {
        let mut l = Ledger::new(Default::default());
        for e in events {
            policy.apply(&mut l, e);
        }
        l
    }

    proptest! {
        #[test]
        fn decay_is_monotone(events in events(), a in 0u64..30 * 86_400, b in 0u64..30 * 86_400) {
            let l = replay(&Policy::spamcop(), &events);
            let t0: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
            let (early, late) = (t0 + Duration::from_secs(a.min(b)), t0 + Duration::from_secs(a.max(b)));
            let score = ReputationScore::default();
            for s in SUBJECTS {
                let s: Subject = s.parse().unwrap();
                let (Some(r1), Some(r2)) = (l.reputation(&s, early), l.reputation(&s, late)) else {
                    continue;
                };
                for k in ScoreKind::ALL {
                    prop_assert!(r2.score(k) <= r1.score(k), "{k:?}: {} > {}", r2.score(k), r1.score(k));
                    prop_assert!(r1.score(k) >= 0.0);
                }
                // the score without its release & train part never grows either
                let positive = |r: &rblkit::ledger::Reputation, t| score.score(r, t) + 2.0 * r.projected(ScoreKind::HamReport, t);
                prop_assert!(positive(&r2, late) <= positive(&r1, early) + 1e-9);
            }
        }

        #[test]
        fn replaying_the_same_events_gives_the_same_list(events in events(), at in 0u64..10 * 86_400) {
            let now: Timestamp = "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap() + Duration::from_secs(at);
            for name in Policy::PROFILES {
                let p = Policy::profile(name).unwrap();
                let (a, b) = (replay(&p, &events), replay(&p, &events));
                let (la, lb) = (compile(&a, &p, now), compile(&b, &p, now));
                prop_assert!(ListDiff::between(&la, &lb).is_empty(), "{name}");
                // in batches, the same
                let mut c = Ledger::new(Default::default());
                p.apply_batch(&mut c, &events, |_, _| {});
                let lc = compile(&c, &p, now);
                prop_assert!(ListDiff::between(&la, &lc).is_empty(), "{name} batch");
                for s in SUBJECTS {
                    let s: Subject = s.parse().unwrap();
                    prop_assert_eq!(p.decide(&a, &s, now), p.decide(&c, &s, now));
                }
            }
        }
    }
}
