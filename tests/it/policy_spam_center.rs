//! The spam.center-like profile, read like its description.

use rblkit::codes::ReturnCode;
use rblkit::ledger::{Event, Evidence, Ledger, Lifecycle, Outcome, Refusal};
use rblkit::policy::{compile, explain, Policy, State};
use rblkit::{Subject, Timestamp};
use std::net::Ipv4Addr;
use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn at(secs: u64) -> Timestamp {
    "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap() + Duration::from_secs(secs)
}

fn trap(s: &Subject, secs: u64) -> Event {
    Event::new(at(secs), s.clone(), Evidence::TrapHit { trap: "t1".into() })
}

fn ham(s: &Subject, secs: u64) -> Event {
    Event::new(
        at(secs),
        s.clone(),
        Evidence::HamReport {
            reporter: "recipient".into(),
        },
    )
}

fn self_delist(s: &Subject, secs: u64) -> Event {
    Event::new(at(secs), s.clone(), Evidence::SelfDelist)
}

fn listed(ledger: &Ledger, policy: &Policy, s: &Subject, secs: u64) -> bool {
    compile(ledger, policy, at(secs)).lookup(s).is_some()
}

#[test]
fn self_delist_for_7_days_third_use_refused_recurrence_relists_with_a_longer_period() {
    let ip: Subject = "198.51.100.7".parse().unwrap();
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    p.apply(&mut l, &trap(&ip, 0));
    p.apply(&mut l, &trap(&ip, 60));
    assert!(listed(&l, &p, &ip, 120), "two trap hits list it");

    // first use: excluded for 7 days
    assert_eq!(
        p.apply(&mut l, &self_delist(&ip, HOUR)),
        Outcome::Accepted {
            until: Some(at(HOUR + 7 * DAY))
        }
    );
    assert!(
        !listed(&l, &p, &ip, 2 * HOUR),
        "not listed while self-delisted"
    );
    assert_eq!(
        explain(&l, &p, &ip, at(2 * HOUR)).state,
        State::SelfDelisted
    );

    // spam recurs: relisted at once, for longer than the first listing (1 day → 2 days)
    p.apply(&mut l, &trap(&ip, 2 * DAY));
    let Lifecycle::Listed(second) = l.lifecycle(&ip, at(2 * DAY)) else {
        panic!("relisted: {:?}", l.lifecycle(&ip, at(2 * DAY)));
    };
    assert_eq!(second.listings, 2);
    assert_eq!(second.expires, Some(at(2 * DAY + 2 * DAY)));
    assert!(listed(&l, &p, &ip, 2 * DAY + 1));

    // second use accepted, recurrence again: 4 days
    assert!(matches!(
        p.apply(&mut l, &self_delist(&ip, 2 * DAY + HOUR)),
        Outcome::Accepted { .. }
    ));
    p.apply(&mut l, &trap(&ip, 3 * DAY));
    let Lifecycle::Listed(third) = l.lifecycle(&ip, at(3 * DAY)) else {
        panic!("relisted again");
    };
    assert_eq!(third.listings, 3);
    assert_eq!(third.expires, Some(at(3 * DAY + 4 * DAY)));

    // third use in the period: refused
    assert!(matches!(
        p.apply(&mut l, &self_delist(&ip, 3 * DAY + HOUR)),
        Outcome::Refused(Refusal::UsesExhausted { .. })
    ));
    assert!(listed(&l, &p, &ip, 3 * DAY + 2 * HOUR));
    let x = explain(&l, &p, &ip, at(3 * DAY + 2 * HOUR));
    assert_eq!(x.self_delist_uses.map(|u| (u.0, u.1)), Some((2, 2)));
    assert!(x.delisted_by.iter().any(|d| d.contains("used up")), "{x}");
}

#[test]
fn the_other_profiles_refuse_self_delisting() {
    let ip: Subject = "198.51.100.8".parse().unwrap();
    for p in [Policy::spamcop(), Policy::relay()] {
        let mut l = Ledger::new(Default::default());
        assert_eq!(
            p.apply(&mut l, &self_delist(&ip, 0)),
            Outcome::Refused(Refusal::NotOffered),
            "{}",
            p.name()
        );
    }
}

#[test]
fn a_release_and_train_report_lowers_the_score_below_threshold() {
    let ip: Subject = "198.51.100.9".parse().unwrap();
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    for i in 0..3 {
        p.apply(&mut l, &trap(&ip, i));
    }
    assert!(listed(&l, &p, &ip, 20), "three trap hits: about 9 points");
    p.apply(&mut l, &ham(&ip, 30));
    p.apply(&mut l, &ham(&ip, 40));
    assert!(
        listed(&l, &p, &ip, 50),
        "two release & train reports: about 9 - 4 = 5, still over 4"
    );
    p.apply(&mut l, &ham(&ip, 50));
    assert!(!listed(&l, &p, &ip, 60), "a third one brings it under");
    let x = explain(&l, &p, &ip, at(60));
    assert_eq!(x.counts.map(|c| (c[1], c[2])), Some((3, 3)));
}

#[test]
fn the_score_decays_and_explain_says_when_it_falls_under_the_threshold() {
    let ip: Subject = "198.51.100.10".parse().unwrap();
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    // 2 trap hits: 6 points, trap hits halve every 2 days: under 4 after 2·log2(1.5) days
    p.apply(&mut l, &trap(&ip, 0));
    p.apply(&mut l, &trap(&ip, 0));
    let x = explain(&l, &p, &ip, at(HOUR));
    let until = x.until.expect("decays");
    let expected = (2.0 * DAY as f64 * 1.5f64.log2()) as u64;
    assert!(
        until.unix_seconds().abs_diff(at(expected).unix_seconds()) <= 120,
        "{until} vs {}",
        at(expected)
    );
    assert!(listed(&l, &p, &ip, expected - 300));
    assert!(!listed(&l, &p, &ip, expected + 300));
}

#[test]
fn public_answers_never_say_why_and_explain_does() {
    let ip: Subject = "198.51.100.11".parse().unwrap();
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    for i in 0..3 {
        p.apply(&mut l, &trap(&ip, i));
    }
    let list = compile(&l, &p, at(HOUR));
    let hit = list.lookup(&ip).unwrap();
    assert_eq!(hit.codes(), [ReturnCode::LISTED]);
    let txt = hit.render_txt(0, "198.51.100.11").unwrap();
    for word in ["trap", "report", "score", "reputation", "t1"] {
        assert!(!txt.contains(word), "{txt}");
    }
    let x = explain(&l, &p, &ip, at(HOUR));
    assert_eq!(x.criteria[0].name, "reputation_score");
    assert_eq!(x.criteria[0].evidence, 3);
    assert!(x.to_string().contains("3 trap hits"), "{x}");
    assert_eq!(x.to_json()["criteria"][0]["reason"], "poor_reputation");
}

#[test]
fn eight_listed_addresses_in_a_slash_24_list_the_network_except_the_allowlisted() {
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    let ip = |i: u8| Subject::Ip(Ipv4Addr::new(203, 0, 113, i).into());
    for i in 1..=7 {
        p.apply(&mut l, &trap(&ip(i), 0));
        p.apply(&mut l, &trap(&ip(i), 1));
    }
    let list = compile(&l, &p, at(10));
    assert!(list.lookup(&ip(200)).is_none(), "7 listed: no roll-up");
    p.apply(&mut l, &trap(&ip(8), 2));
    p.apply(&mut l, &trap(&ip(8), 3));
    p.apply(
        &mut l,
        &Event::new(at(4), ip(50), Evidence::AllowlistAdd { note: None }),
    );
    let list = compile(&l, &p, at(10));
    let net = list.lookup(&ip(200)).expect("the /24 is listed");
    assert_eq!(net.codes(), [ReturnCode::new_assert(127, 0, 0, 3)]);
    assert_eq!(
        list.lookup(&ip(1)).unwrap().codes(),
        [ReturnCode::LISTED],
        "a listed address keeps its own code"
    );
    assert!(list.lookup(&ip(50)).is_none(), "allowlisting wins");
    assert!(list
        .lookup(&Subject::Ip(Ipv4Addr::new(203, 0, 114, 1).into()))
        .is_none());
    let x = explain(&l, &p, &ip(1), at(10));
    assert_eq!(x.network.map(|n| n.1), Some(8));
}

#[test]
fn ipv6_addresses_roll_up_into_their_slash_64() {
    let p = Policy::spam_center();
    let mut l = Ledger::new(Default::default());
    for i in 1..=8u16 {
        let s: Subject = format!("2001:db8:1:2::{i:x}").parse().unwrap();
        p.apply(&mut l, &trap(&s, 0));
        p.apply(&mut l, &trap(&s, 1));
    }
    let list = compile(&l, &p, at(10));
    let other: Subject = "2001:db8:1:2:ffff::1".parse().unwrap();
    assert_eq!(
        list.lookup(&other).unwrap().codes(),
        [ReturnCode::new_assert(127, 0, 0, 3)]
    );
    assert!(list
        .lookup(&"2001:db8:1:3::1".parse::<Subject>().unwrap())
        .is_none());
}
