#![no_main]
//! Arbitrary event sequences with arbitrary timestamps (time going backwards included), and
//! the policy's list/delist calls between them, applied through one of the three profiles
//! (`Policy::apply`): no panic, scores finite and not negative, the lifecycle consistent,
//! decisions consistent with the lifecycle, explain and compile agreeing with decide, and a
//! replay of the same events giving the same list.

use libfuzzer_sys::fuzz_target;
use rblkit::codes::{Reason, ReasonSet};
use rblkit::ledger::{
    Counter, DisputeDecision, DisputeReason, Event, Evidence, Ledger, Lifecycle, Ownership,
    ScoreKind, SmtpOutcome, SpfResult,
};
use rblkit::list::ListDiff;
use rblkit::policy::{compile, explain, Policy};
use rblkit::{Subject, Timestamp};

const SUBJECTS: [&str; 10] = [
    "192.0.2.1",
    "192.0.2.2",
    "root@localhost",
    "a@example.net",
    "2001:db8::1",
    "198.51.100.0/24",
    "spam.example",
    "xn--bcher-kva.example",
    "sender1@relay.example",
    "sender2@relay.example",
];

fn time(b: &[u8]) -> Timestamp {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    let raw = i64::from_le_bytes(w);
    let (min, max) = (Timestamp::MIN.unix_seconds(), Timestamp::MAX.unix_seconds());
    let t = if raw & 1 == 0 {
        // mostly near one another, so that windows and decay interact
        1_795_168_800 + (raw >> 1) % 400_000
    } else {
        min + (raw >> 1).rem_euclid(max - min + 1)
    };
    Timestamp::from_unix(t).expect("in range")
}

fn text(b: u8) -> Box<str> {
    ["a", "b", "c", "mallory"][usize::from(b % 4)].into()
}

/// Recipients: the addresses of the subjects (so that outcomes name tracked subjects), and
/// a few that are no subject.
fn recipient(b: u8) -> Box<str> {
    [
        "a@example.net",
        "sender1@relay.example",
        "root@localhost",
        "x",
        "",
        "b@c.example.com",
    ][usize::from(b % 6)]
    .into()
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, data)) = data.split_first() else {
        return;
    };
    let policy = Policy::profile(Policy::PROFILES[usize::from(which) % Policy::PROFILES.len()])
        .expect("a profile");
    let subjects: Vec<Subject> = SUBJECTS.iter().map(|s| s.parse().unwrap()).collect();
    let mut l = Ledger::new(Default::default());
    let mut applied: Vec<Event> = Vec::new();
    let mut direct = false;
    let mut last = Timestamp::MIN;
    for chunk in data.chunks_exact(11) {
        let (op, sel, arg, t) = (chunk[0], chunk[1], chunk[2], time(&chunk[3..11]));
        let s = &subjects[usize::from(sel) % subjects.len()];
        last = last.max(t);
        let evidence = match op % 21 {
            0 => Evidence::SpamReport {
                reporter: text(arg),
                fingerprint: None,
                weight: (arg & 0x80 != 0).then(|| f64::from(arg & 0x7f) * 7.9),
            },
            1 => Evidence::TrapHit { trap: text(arg) },
            2 => Evidence::HamReport {
                reporter: text(arg),
            },
            3 => Evidence::ThirdPartyListing {
                list: text(arg),
                code: rblkit::codes::ReturnCode::LISTED,
            },
            4 => Evidence::Message {
                recipient: recipient(arg),
                sasl_username: (arg & 0x40 != 0).then(|| text(arg >> 2)),
                fingerprint: (arg & 0x80 != 0).then(|| text(arg >> 4)),
                sender: (arg & 0x20 != 0).then(|| text(arg >> 3)),
                refused: arg & 0x10 != 0,
            },
            5 => Evidence::SmtpOutcome {
                outcome: SmtpOutcome::ALL[usize::from(arg) % SmtpOutcome::ALL.len()],
                recipient: (arg & 0x80 != 0).then(|| recipient(arg >> 3)),
            },
            17 => Evidence::SpfResult {
                result: SpfResult::ALL[usize::from(arg) % SpfResult::ALL.len()],
                domain: None,
            },
            18 => Evidence::DomainOwnership {
                result: Ownership::ALL[usize::from(arg) % 2],
                domain: None,
            },
            19 => {
                // explain and decide agree
                let d = policy.decide(&l, s, t);
                let x = explain(&l, &policy, s, t);
                assert_eq!(d.listed, x.listed);
                assert_eq!(d.expires, x.until);
                if let Some(e) = d.expires.filter(|_| d.listed) {
                    assert!(
                        e > t || policy.time_to_delist(&l, s, t) == Some(std::time::Duration::ZERO)
                    );
                }
                let _ = x.to_json().to_string();
                let _ = x.to_string();
                continue;
            }
            6 => Evidence::ManualList {
                note: text(arg),
                reason: Reason::from_id(arg % 40),
            },
            7 => Evidence::ManualUnlist {
                note: text(arg),
                reason: None,
            },
            8 => Evidence::AllowlistAdd { note: None },
            9 => Evidence::AllowlistRemove { note: None },
            10 => Evidence::SelfDelist,
            11 => Evidence::Dispute {
                reason: DisputeReason::ALL[usize::from(arg) % 2],
                reporter: (arg & 4 != 0).then(|| text(arg >> 3)),
                contact: None,
                text: None,
            },
            12 => Evidence::DisputeDecision {
                decision: DisputeDecision::ALL[usize::from(arg) % 2],
                note: None,
            },
            13 | 14 => {
                let listed = l.list(s, ReasonSet::EMPTY.with(Reason::SpamSource), t);
                assert!(listed.listings >= 1);
                direct = true;
                continue;
            }
            15 => {
                l.delist(s, t);
                direct = true;
                continue;
            }
            _ => {
                // a query at an arbitrary time
                let state = l.lifecycle(s, t);
                if let Some(rep) = l.reputation(s, t) {
                    for k in ScoreKind::ALL {
                        let v = rep.score(k);
                        assert!(v.is_finite() && v >= 0.0, "{k:?} {v}");
                    }
                    assert!(rep.first_seen <= rep.last_seen);
                }
                let _ = l.count(s, Counter::Messages, t);
                if let Lifecycle::Listed(listed) = state {
                    assert!(listed.expires.is_none_or(|e| e > t));
                }
                let d = policy.decide(&l, s, t);
                match state {
                    Lifecycle::Allowlisted | Lifecycle::SelfDelisted { .. } => assert!(!d.listed),
                    _ if state.is_listed() => assert!(d.listed),
                    _ => {}
                }
                continue;
            }
        };
        let e = Event::new(t, s.clone(), evidence);
        let _ = policy.apply(&mut l, &e);
        applied.push(e);
    }
    // recipients are tracked too: at most the subjects and the recipients that parse
    assert!(l.len() <= subjects.len() + 6);
    let _ = l.memory();
    // compile agrees with decide, and (without direct list/delist calls) a replay of the
    // same events gives the same list
    let list = compile(&l, &policy, last);
    for s in &subjects {
        let d = policy.decide(&l, s, last);
        // (no roll-up can happen here: too few addresses in one network)
        assert_eq!(d.listed, list.lookup(s).is_some(), "{s}");
    }
    if !direct {
        let mut again = Ledger::new(Default::default());
        policy.apply_batch(&mut again, &applied, |_, _| {});
        assert!(ListDiff::between(&list, &compile(&again, &policy, last)).is_empty());
    }
});
