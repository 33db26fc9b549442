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
