//! The ledger's state: decay, order independence, reporters, counters, the lifecycle.

use proptest::prelude::*;
use rblkit::codes::{Reason, ReasonSet};
use rblkit::ledger::{
    Counter, DisputeDecision, DisputeReason, Event, Evidence, Ledger, LedgerConfig, Lifecycle,
    Outcome, Refusal, ScoreKind, SmtpOutcome,
};
use rblkit::{Subject, Timestamp};
use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn t0() -> Timestamp {
    "2026-11-20T10:00:00Z".parse().unwrap()
}

fn at(secs: u64) -> Timestamp {
    t0() + Duration::from_secs(secs)
}

fn ip(s: &str) -> Subject {
    s.parse().unwrap()
}

fn report(s: &Subject, secs: u64, reporter: &str) -> Event {
    Event::new(
        at(secs),
        s.clone(),
        Evidence::SpamReport {
            reporter: reporter.into(),
            fingerprint: None,
            weight: None,
        },
    )
}

fn ev(s: &Subject, secs: u64, e: Evidence) -> Event {
    Event::new(at(secs), s.clone(), e)
}

fn message(s: &Subject, secs: u64) -> Event {
    ev(
        s,
        secs,
        Evidence::Message {
            recipient: "rcpt@example.com".into(),
            sasl_username: None,
            fingerprint: None,
            sender: None,
            refused: false,
        },
    )
}

#[test]
fn scores_halve_per_half_life_of_their_kind() {
    let cfg = LedgerConfig::default()
        .with_half_life(ScoreKind::SpamReport, Duration::from_secs(HOUR))
        .unwrap();
    let mut l = Ledger::new(cfg);
    let s = ip("192.0.2.1");
    l.apply(&report(&s, 0, "r1"));
    l.apply(&ev(&s, 0, Evidence::TrapHit { trap: "t".into() }));
    let r = l.reputation(&s, at(HOUR)).unwrap();
    assert!((r.score(ScoreKind::SpamReport) - 0.5).abs() < 1e-6);
    // trap hits: two days by default
    assert!((r.score(ScoreKind::TrapHit) - 0.5f64.powf(1.0 / 48.0)).abs() < 1e-6);
    let r = l.reputation(&s, at(3 * HOUR)).unwrap();
    assert!((r.score(ScoreKind::SpamReport) - 0.125).abs() < 1e-6);
    assert_eq!(r.reports, 1);
    assert_eq!(r.first_seen, t0());
}

#[test]
fn weights_add_up() {
    let mut l = Ledger::new(Default::default());
    let s = ip("192.0.2.1");
    l.apply(&ev(
        &s,
        0,
        Evidence::SpamReport {
            reporter: "r".into(),
            fingerprint: None,
            weight: Some(2.5),
        },
    ));
    l.apply(&report(&s, 0, "q"));
    let r = l.reputation(&s, at(0)).unwrap();
    assert!((r.score(ScoreKind::SpamReport) - 3.5).abs() < 1e-6);
    assert_eq!(r.reporters, 2);
}

#[test]
fn an_upheld_user_error_drops_that_reporters_reports() {
    // mallory alone, in the middle of the reporter list, at its head, at its tail
    for reporters in [
        &["mallory"][..],
        &["alice", "mallory", "bob"][..],
        &["alice", "bob", "mallory"][..],
        &["mallory", "alice", "bob"][..],
    ] {
        let mut l = Ledger::new(Default::default());
        let s = ip("192.0.2.9");
        for (i, r) in reporters.iter().enumerate() {
            l.apply(&report(&s, i as u64 * 60, r));
        }
        l.apply(&report(&s, 600, "mallory"));
        let before = l.reputation(&s, at(700)).unwrap();
        assert_eq!(before.reports as usize, reporters.len() + 1);
        let dispute = Evidence::Dispute {
            reason: DisputeReason::UserError,
            reporter: Some("mallory".into()),
            contact: None,
            text: None,
        };
        assert_eq!(
            l.apply(&ev(&s, 700, dispute)),
            Outcome::Accepted { until: None }
        );
        assert!(matches!(
            l.lifecycle(&s, at(700)),
            Lifecycle::UnderReview {
                dispute: DisputeReason::UserError,
                listing: None
            }
        ));
        let decide = Evidence::DisputeDecision {
            decision: DisputeDecision::Upheld,
            note: None,
        };
        assert_eq!(
            l.apply(&ev(&s, 800, decide.clone())),
            Outcome::Accepted { until: None }
        );
        let after = l.reputation(&s, at(800)).unwrap();
        assert_eq!(after.reports as usize, reporters.len() - 1);
        let others = before.score(ScoreKind::SpamReport) * 0.5f64.powf(100.0 / 86_400.0)
            - after.score(ScoreKind::SpamReport);
        // what is left is the others' share: one report each, 2 of mallory's gone
        let expected_left = (reporters.len() - 1) as f64;
        assert!(
            (after.score(ScoreKind::SpamReport) - expected_left).abs() < 0.02,
            "{after:?}"
        );
        assert!(others > 1.9, "mallory's two reports were dropped");
        assert_eq!(l.lifecycle(&s, at(800)), Lifecycle::Clean);
        assert_eq!(
            l.apply(&ev(&s, 900, decide)),
            Outcome::Refused(Refusal::NoOpenDispute)
        );
        if reporters.len() > 1 {
            let others_last = reporters
                .iter()
                .enumerate()
                .filter(|(_, r)| **r != "mallory")
                .map(|(i, _)| i as u64 * 60)
                .max()
                .unwrap();
            assert_eq!(after.last_report, Some(at(others_last)));
            assert_eq!(after.reporters as usize, reporters.len() - 1);
        } else {
            assert_eq!(after.last_report, None);
        }
    }
}

#[test]
fn an_upheld_technical_error_lifts_the_listing_and_a_rejected_one_changes_nothing() {
    let mut l = Ledger::new(Default::default());
    let s = ip("192.0.2.3");
    let r = ReasonSet::of(&[Reason::SpamSource]);
    l.list(&s, r, at(0));
    let dispute = |reason| Evidence::Dispute {
        reason,
        reporter: None,
        contact: Some("postmaster@example.com".into()),
        text: None,
    };
    let decide = |decision| Evidence::DisputeDecision {
        decision,
        note: None,
    };
    l.apply(&ev(&s, 10, dispute(DisputeReason::TechnicalError)));
    let state = l.lifecycle(&s, at(10));
    assert!(state.is_listed(), "still listed while under review");
    assert!(matches!(
        state,
        Lifecycle::UnderReview {
            listing: Some(_),
            ..
        }
    ));
    assert_eq!(
        l.apply(&ev(&s, 11, dispute(DisputeReason::UserError))),
        Outcome::Refused(Refusal::DisputeOpen)
    );
    l.apply(&ev(&s, 20, decide(DisputeDecision::Rejected)));
    assert!(matches!(l.lifecycle(&s, at(20)), Lifecycle::Listed(_)));
    l.apply(&ev(&s, 30, dispute(DisputeReason::TechnicalError)));
    l.apply(&ev(&s, 40, decide(DisputeDecision::Upheld)));
    assert_eq!(l.lifecycle(&s, at(40)), Lifecycle::Clean);
    // the wrong listing does not escalate the next one
    let next = l.list(&s, r, at(50));
    assert_eq!(next.listings, 1);
    assert_eq!(next.expires, Some(at(50 + DAY)));
}

#[test]
fn self_delist_for_7_days_third_use_refused_recurrence_relists_longer() {
    let mut l = Ledger::new(Default::default());
    let s = ip("198.51.100.7");
    let r = ReasonSet::of(&[Reason::PoorReputation]);
    let first = l.list(&s, r, at(0));
    assert_eq!(first.expires, Some(at(DAY)));
    assert_eq!(
        l.apply(&ev(&s, HOUR, Evidence::SelfDelist)),
        Outcome::Accepted {
            until: Some(at(HOUR + 7 * DAY))
        }
    );
    assert!(matches!(
        l.lifecycle(&s, at(2 * HOUR)),
        Lifecycle::SelfDelisted { until, .. } if until == at(HOUR + 7 * DAY)
    ));
    assert!(!l.lifecycle(&s, at(2 * HOUR)).is_listed());
    // spam recurs during the exclusion: relisted, escalated (second listing: 2 days)
    let second = l.list(&s, r, at(2 * DAY));
    assert_eq!(second.listings, 2);
    assert_eq!(second.expires, Some(at(4 * DAY)));
    assert!(matches!(
        l.apply(&ev(&s, 2 * DAY + 1, Evidence::SelfDelist)),
        Outcome::Accepted { .. }
    ));
    let third = l.list(&s, r, at(3 * DAY));
    assert_eq!(third.expires, Some(at(3 * DAY + 4 * DAY)));
    // the third use in the period is refused
    assert!(matches!(
        l.apply(&ev(&s, 3 * DAY + 1, Evidence::SelfDelist)),
        Outcome::Refused(Refusal::UsesExhausted { next }) if next == at(HOUR + 90 * DAY)
    ));
    assert!(l.lifecycle(&s, at(3 * DAY + 2)).is_listed());
    // a clean subject cannot self-delist
    assert_eq!(
        l.apply(&ev(&ip("198.51.100.8"), 0, Evidence::SelfDelist)),
        Outcome::Refused(Refusal::NotListed)
    );
}

#[test]
fn escalation_is_capped_and_forgotten_after_a_while() {
    let mut l = Ledger::new(Default::default());
    let s = ip("203.0.113.5");
    let r = ReasonSet::of(&[Reason::SpamTrap]);
    let mut t = 0;
    let mut lengths = Vec::new();
    for _ in 0..8 {
        let listed = l.list(&s, r, at(t));
        let len = listed
            .expires
            .unwrap()
            .saturating_duration_since(at(t))
            .as_secs()
            / DAY;
        lengths.push(len);
        t += len * DAY + HOUR; // relisted an hour after it expired
    }
    assert_eq!(lengths, [1, 2, 4, 8, 16, 30, 30, 30]);
    let later = l.list(&s, r, at(t + 91 * DAY));
    assert_eq!(later.listings, 1);
    assert_eq!(later.expires, Some(at(t + 92 * DAY)));
}

#[test]
fn allowlisting_wins_over_everything_while_it_lasts() {
    let mut l = Ledger::new(Default::default());
    let s: Subject = "good.example".parse().unwrap();
    l.apply(&ev(
        &s,
        0,
        Evidence::ManualList {
            note: "n".into(),
            reason: None,
        },
    ));
    assert!(matches!(
        l.lifecycle(&s, at(0)),
        Lifecycle::Listed(listed) if listed.expires.is_none() && listed.reasons.contains(Reason::Manual)
    ));
    l.apply(&ev(&s, 10, Evidence::AllowlistAdd { note: None }));
    assert_eq!(l.lifecycle(&s, at(10)), Lifecycle::Allowlisted);
    assert_eq!(
        l.apply(&ev(&s, 11, Evidence::SelfDelist)),
        Outcome::Refused(Refusal::Allowlisted)
    );
    l.apply(&ev(&s, 20, Evidence::AllowlistRemove { note: None }));
    assert!(l.lifecycle(&s, at(20)).is_listed());
    l.apply(&ev(
        &s,
        30,
        Evidence::ManualUnlist {
            note: "n".into(),
            reason: None,
        },
    ));
    assert_eq!(l.lifecycle(&s, at(30)), Lifecycle::Clean);
}

#[test]
fn late_lifecycle_events_never_move_a_listing_back_in_time() {
    let mut l = Ledger::new(Default::default());
    let s = ip("192.0.2.44");
    l.list(&s, ReasonSet::EMPTY, at(10 * DAY));
    // a manual unlist stamped before the listing arrives afterwards: it is applied at the
    // listing's time
    l.apply(&ev(
        &s,
        0,
        Evidence::ManualUnlist {
            note: "late".into(),
            reason: None,
        },
    ));
    assert_eq!(l.lifecycle(&s, at(10 * DAY)), Lifecycle::Clean);
    let again = l.list(&s, ReasonSet::EMPTY, at(DAY));
    assert_eq!(again.since, at(10 * DAY));
}

#[test]
fn the_301st_message_in_a_rolling_hour_counts_301_a_different_sender_does_not() {
    let mut l = Ledger::new(Default::default());
    let a: Subject = "sender1@relay.example".parse().unwrap();
    let b: Subject = "sender2@relay.example".parse().unwrap();
    // 300 messages 12 s apart from 10:30 to 11:29:48 (across two clock hours)
    for i in 0..300 {
        l.apply(&message(&a, 1800 + i * 12));
    }
    assert_eq!(l.count(&a, Counter::Messages, at(1800 + 299 * 12)), 300);
    // the 301st, inside the first message's rolling hour
    l.apply(&message(&a, 1800 + 3590));
    assert_eq!(l.count(&a, Counter::Messages, at(1800 + 3590)), 301);
    l.apply(&message(&b, 1800 + 3590));
    assert_eq!(l.count(&b, Counter::Messages, at(1800 + 3590)), 1);
    // an hour after the first message it no longer counts
    assert_eq!(l.count(&a, Counter::Messages, at(1800 + 3600)), 300);
    assert_eq!(l.count(&a, Counter::Messages, at(1800 + 3590 + 3600)), 0);
    l.apply(&ev(
        &a,
        5000,
        Evidence::SmtpOutcome {
            outcome: SmtpOutcome::NoSuchUser,
            recipient: None,
        },
    ));
    assert_eq!(l.count(&a, Counter::NoSuchUser, at(5000)), 1);
    assert_eq!(l.count(&a, Counter::Delivered, at(5000)), 0);
}

#[test]
fn ingesting_known_subjects_does_not_allocate() {
    let mut l = Ledger::new(Default::default());
    let subjects: Vec<Subject> = (0..100u32)
        .map(|i| Subject::Ip(std::net::Ipv4Addr::from(0xc000_0200 + i).into()))
        .collect();
    let events: Vec<Event> = subjects
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            [
                report(s, i as u64, "r1"),
                ev(s, i as u64, Evidence::TrapHit { trap: "t".into() }),
            ]
        })
        .collect();
    for e in &events {
        l.apply(e);
    }
    let (n, ()) = crate::alloc::allocations(|| {
        for e in &events {
            l.apply(e);
        }
    });
    assert_eq!(n, 0, "{n} allocations");
}

#[test]
fn memory_per_ipv4_subject_is_within_budget() {
    let mut l = Ledger::new(Default::default());
    for i in 0..200_000u32 {
        let s = Subject::Ip(std::net::Ipv4Addr::from(0x0a00_0000 + i * 7).into());
        l.apply(&report(&s, u64::from(i % 1000), "r1"));
    }
    let m = l.memory();
    assert_eq!(m.subjects, 200_000);
    let per = m.bytes / m.subjects;
    assert!(per <= 128, "{per} bytes per subject");
}

proptest! {
    #[test]
    fn decay_is_monotone(secs in proptest::collection::vec(0u64..10 * DAY, 1..20), probe in 0u64..10 * DAY, step in 1u64..DAY) {
        let mut l = Ledger::new(Default::default());
        let s = ip("192.0.2.1");
        for &t in &secs {
            l.apply(&ev(&s, t, Evidence::TrapHit { trap: "t".into() }));
        }
        let newest = secs.iter().copied().max().unwrap();
        let now = probe.max(newest);
        let a = l.reputation(&s, at(now)).unwrap().score(ScoreKind::TrapHit);
        let b = l.reputation(&s, at(now + step)).unwrap().score(ScoreKind::TrapHit);
        prop_assert!(b <= a);
        prop_assert!(a <= secs.len() as f64 + 1e-3);
    }

    #[test]
    fn scores_do_not_depend_on_arrival_order(
        events in proptest::collection::vec((0u64..5 * DAY, 0u8..4, 0u8..3), 1..40),
        seed in any::<u64>(),
    ) {
        let s = ip("192.0.2.1");
        let make = |&(t, kind, who): &(u64, u8, u8)| match kind {
            0 => report(&s, t, ["a", "b", "c"][usize::from(who)]),
            1 => ev(&s, t, Evidence::TrapHit { trap: "t".into() }),
            2 => ev(&s, t, Evidence::HamReport { reporter: "h".into() }),
            _ => message(&s, t),
        };
        let mut shuffled = events.clone();
        // a deterministic shuffle from the seed
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut a = Ledger::new(Default::default());
        let mut b = Ledger::new(Default::default());
        for e in &events { a.apply(&make(e)); }
        for e in &shuffled { b.apply(&make(e)); }
        let now = at(6 * DAY);
        let (ra, rb) = (a.reputation(&s, now).unwrap(), b.reputation(&s, now).unwrap());
        for k in ScoreKind::ALL {
            prop_assert!((ra.score(k) - rb.score(k)).abs() < 1e-3, "{:?} {:?}", ra, rb);
        }
        prop_assert_eq!((ra.first_seen, ra.last_seen, ra.last_report, ra.last_trap), (rb.first_seen, rb.last_seen, rb.last_report, rb.last_trap));
        prop_assert_eq!((ra.reports, ra.traps, ra.hams, ra.reporters), (rb.reports, rb.traps, rb.hams, rb.reporters));
        prop_assert_eq!(a.count(&s, Counter::Messages, at(5 * DAY)), b.count(&s, Counter::Messages, at(5 * DAY)));
    }

    #[test]
    fn a_batch_gives_what_one_by_one_gives(
        events in proptest::collection::vec((0u64..3 * DAY, 0u8..40, 0u8..5), 1..120),
    ) {
        let subjects: Vec<Subject> = (0..7).map(|i| ip(&format!("192.0.2.{i}"))).collect();
        let make = |&(t, who, kind): &(u64, u8, u8)| {
            let s = &subjects[usize::from(who) % subjects.len()];
            match kind {
                0 | 1 => report(s, t, ["a", "b", "c", "d"][usize::from(who / 7) % 4]),
                2 => ev(s, t, Evidence::TrapHit { trap: "t".into() }),
                3 => message(s, t),
                _ => ev(s, t, Evidence::Dispute { reason: DisputeReason::UserError, reporter: Some("b".into()), contact: None, text: None }),
            }
        };
        let mut evs: Vec<Event> = events.iter().map(make).collect();
        // decide every open dispute at the end
        for s in &subjects {
            evs.push(ev(s, 3 * DAY, Evidence::DisputeDecision { decision: DisputeDecision::Upheld, note: None }));
        }
        let mut one = Ledger::new(Default::default());
        let singles: Vec<Outcome> = evs.iter().map(|e| one.apply(e)).collect();
        let mut batch = Ledger::new(Default::default());
        let mut batched = vec![Outcome::Recorded; evs.len()];
        batch.apply_batch(&evs, |i, o| batched[i] = o);
        prop_assert_eq!(singles, batched);
        for s in &subjects {
            prop_assert_eq!(one.reputation(s, at(4 * DAY)), batch.reputation(s, at(4 * DAY)));
            prop_assert_eq!(one.lifecycle(s, at(4 * DAY)), batch.lifecycle(s, at(4 * DAY)));
        }
    }

    #[test]
    fn arbitrary_event_sequences_do_not_panic(events in proptest::collection::vec(crate::ledger_json::event(), 0..40)) {
        let mut l = Ledger::new(Default::default());
        for e in &events {
            let _ = l.apply(e);
            let _ = l.lifecycle(&e.subject, e.at);
            let _ = l.reputation(&e.subject, e.at);
        }
        // an event tracks its subject, and a `cannot_receive` outcome also its recipient
        prop_assert!(l.len() <= 2 * events.len());
    }
}

#[test]
fn one_reporter_reporting_one_message_twice_counts_once() {
    use rblkit::ledger::{Event, Evidence, Ledger, Outcome};
    let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let s: rblkit::Subject = "192.0.2.77".parse().unwrap();
    let report = |reporter: &str, fp: Option<&str>| {
        Event::new(
            t,
            s.clone(),
            Evidence::SpamReport {
                reporter: reporter.into(),
                fingerprint: fp.map(Into::into),
                weight: None,
            },
        )
    };
    let mut l = Ledger::new(Default::default());
    assert_eq!(l.apply(&report("alice", Some("fp1"))), Outcome::Recorded);
    assert_eq!(l.apply(&report("alice", Some("fp1"))), Outcome::Duplicate);
    // Another message, another reporter, or no fingerprint: each counts.
    assert_eq!(l.apply(&report("alice", Some("fp2"))), Outcome::Recorded);
    assert_eq!(l.apply(&report("bob", Some("fp1"))), Outcome::Recorded);
    assert_eq!(l.apply(&report("carol", None)), Outcome::Recorded);
    assert_eq!(l.apply(&report("carol", None)), Outcome::Recorded);
    assert_eq!(l.reputation(&s, t).unwrap().reports, 5);
    // The same message about another subject is another report.
    let other = Event::new(
        t,
        "spam.example".parse().unwrap(),
        Evidence::SpamReport {
            reporter: "alice".into(),
            fingerprint: Some("fp1".into()),
            weight: None,
        },
    );
    assert_eq!(l.apply(&other), Outcome::Recorded);
}
