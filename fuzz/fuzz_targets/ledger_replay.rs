#![no_main]
//! Arbitrary event sequences with arbitrary timestamps (time going backwards included), and
//! the policy's list/delist calls between them: no panic, scores finite and not negative,
//! the lifecycle consistent.

use libfuzzer_sys::fuzz_target;
use rblkit::codes::{Reason, ReasonSet};
use rblkit::ledger::{
    Counter, DisputeDecision, DisputeReason, Event, Evidence, Ledger, Lifecycle, ScoreKind,
    SmtpOutcome,
};
use rblkit::{Subject, Timestamp};

const SUBJECTS: [&str; 8] = [
    "192.0.2.1",
    "192.0.2.2",
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

fuzz_target!(|data: &[u8]| {
    let subjects: Vec<Subject> = SUBJECTS.iter().map(|s| s.parse().unwrap()).collect();
    let mut l = Ledger::new(Default::default());
    for chunk in data.chunks_exact(11) {
        let (op, sel, arg, t) = (chunk[0], chunk[1], chunk[2], time(&chunk[3..11]));
        let s = &subjects[usize::from(sel) % subjects.len()];
        let evidence = match op % 17 {
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
                recipient: text(arg),
                sasl_username: None,
                fingerprint: None,
            },
            5 => Evidence::SmtpOutcome {
                outcome: SmtpOutcome::ALL[usize::from(arg) % SmtpOutcome::ALL.len()],
                recipient: None,
            },
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
                continue;
            }
            15 => {
                l.delist(s, t);
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
                continue;
            }
        };
        let _ = l.apply(&Event::new(t, s.clone(), evidence));
    }
    assert!(l.len() <= subjects.len());
    let _ = l.memory();
});
