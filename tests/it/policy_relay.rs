//! The relay provider's profile, read like its description.

use rblkit::codes::{Reason, ReturnCode};
use rblkit::ledger::{Event, Evidence, Ledger, Ownership, SmtpOutcome, SpfResult};
use rblkit::policy::{compile, explain, is_invalid_sender, Policy};
use rblkit::{Subject, Timestamp};
use std::time::Duration;

const HOUR: u64 = 3600;

fn at(secs: u64) -> Timestamp {
    "2026-11-20T10:00:00Z".parse::<Timestamp>().unwrap() + Duration::from_secs(secs)
}

fn subject(s: &str) -> Subject {
    s.parse().unwrap()
}

fn message(from: &Subject, secs: u64, to: &str, fingerprint: Option<&str>) -> Event {
    Event::new(
        at(secs),
        from.clone(),
        Evidence::Message {
            recipient: to.into(),
            sasl_username: None,
            fingerprint: fingerprint.map(Into::into),
            sender: None,
            refused: false,
        },
    )
}

fn outcome(from: &Subject, secs: u64, outcome: SmtpOutcome, to: &str) -> Event {
    Event::new(
        at(secs),
        from.clone(),
        Evidence::SmtpOutcome {
            outcome,
            recipient: Some(to.into()),
        },
    )
}

fn reasons(l: &Ledger, s: &Subject, secs: u64) -> Vec<Reason> {
    Policy::relay()
        .decide(l, s, at(secs))
        .reasons
        .iter()
        .collect()
}

fn blocked(l: &Ledger, s: &Subject, secs: u64) -> bool {
    compile(l, &Policy::relay(), at(secs)).lookup(s).is_some()
}

#[test]
fn the_301st_message_in_an_hour_is_refused_a_different_sender_is_not() {
    let a = subject("newsletter@shop.example.com");
    let b = subject("person@shop.example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..299 {
        l.apply(&message(&a, i * 10, &format!("r{i}@example.net"), None));
    }
    assert!(
        !blocked(&l, &a, 2990),
        "299 messages: the 300th is accepted"
    );
    l.apply(&message(&a, 2990, "last@example.net", None));
    assert!(blocked(&l, &a, 2990), "300 messages: the 301st is refused");
    assert_eq!(reasons(&l, &a, 2990), [Reason::RateLimit]);
    for i in 0..10 {
        l.apply(&message(&b, i * 10, "r@example.net", None));
    }
    assert!(!blocked(&l, &b, 2990));
    // a rolling hour, not a clock hour: the first messages leave the window one by one
    assert!(blocked(&l, &a, HOUR - 1));
    assert!(!blocked(&l, &a, HOUR), "the first message left the window");
    let list = compile(&l, &Policy::relay(), at(2990));
    assert_eq!(
        list.lookup(&a).unwrap().codes(),
        [ReturnCode::new_assert(127, 0, 0, 20)]
    );
}

#[test]
fn whoever_keeps_sending_while_blocked_is_blocked_for_good_with_its_own_reason() {
    let a = subject("spammer@bulk.example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..330 {
        l.apply(&message(&a, i, &format!("r{i}@example.net"), None));
    }
    let d = Policy::relay().decide(&l, &a, at(400));
    assert!(d.reasons.contains(Reason::KeptSending), "{d:?}");
    assert_eq!(d.expires, None, "permanent");
    // long after the rate limit ended, still blocked
    assert_eq!(reasons(&l, &a, 30 * 86_400), [Reason::KeptSending]);
    let x = explain(&l, &Policy::relay(), &a, at(30 * 86_400));
    assert!(x.delisted_by[0].contains("operator"), "{x}");
    // an operator's unlisting forgets it
    l.apply(&Event::new(
        at(30 * 86_400),
        a.clone(),
        Evidence::ManualUnlist {
            note: "promised to stop".into(),
            reason: None,
        },
    ));
    assert!(!blocked(&l, &a, 30 * 86_400 + 1));
    // 329 messages (29 while blocked) are not enough
    let b = subject("eager@bulk.example.com");
    for i in 0..329 {
        l.apply(&message(&b, i, &format!("r{i}@example.net"), None));
    }
    assert_eq!(reasons(&l, &b, 400), [Reason::RateLimit]);
}

#[test]
fn sender1_to_sender5_sending_the_same_campaign_are_listed_together() {
    let mut l = Ledger::new(Default::default());
    let senders: Vec<Subject> = (1..=5)
        .map(|i| subject(&format!("sender{i}@promo.example.com")))
        .collect();
    let other = subject("news@other.example.org");
    for (i, s) in senders.iter().enumerate() {
        l.apply(&message(
            s,
            i as u64 * 60,
            "r@example.net",
            Some("campaign-7"),
        ));
    }
    l.apply(&message(&other, 400, "r@example.net", Some("campaign-7")));
    let list = compile(&l, &Policy::relay(), at(600));
    for s in &senders {
        let hit = list.lookup(s).unwrap_or_else(|| panic!("{s} listed"));
        assert_eq!(hit.codes(), [ReturnCode::new_assert(127, 0, 0, 21)]);
    }
    assert!(
        list.lookup(&other).is_none(),
        "the same content from another domain is another group"
    );
    let x = explain(&l, &Policy::relay(), &senders[0], at(600));
    assert_eq!(x.criteria[0].name, "sender_rotation");
    assert_eq!(x.criteria[0].evidence, 5);
    // a day after the campaign's last message, no longer
    assert!(!blocked(&l, &senders[0], 240 + 86_400));
}

#[test]
fn two_senders_of_one_campaign_are_not_a_rotation_but_one_account_with_many_addresses_is() {
    let mut l = Ledger::new(Default::default());
    let a = subject("a@one.example.com");
    let b = subject("b@one.example.com");
    l.apply(&message(&a, 0, "r@example.net", Some("fp")));
    l.apply(&message(&b, 1, "r@example.net", Some("fp")));
    assert!(!blocked(&l, &a, 10));
    // three addresses of different domains, one authenticated account
    let addrs = ["x@d1.example.com", "y@d2.example.com", "z@d3.example.com"];
    for (i, s) in addrs.iter().enumerate() {
        l.apply(&Event::new(
            at(i as u64),
            subject(s),
            Evidence::Message {
                recipient: "r@example.net".into(),
                sasl_username: Some("customer42".into()),
                fingerprint: Some("fp2".into()),
                sender: None,
                refused: false,
            },
        ));
    }
    for s in addrs {
        assert!(blocked(&l, &subject(s), 10), "{s}");
    }
}

#[test]
fn the_same_pair_every_minute_with_failures_is_repetitive_mail() {
    let bot = subject("bot@scripts.example.com");
    let calm = subject("cron@scripts.example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..6 {
        l.apply(&message(&bot, i * 60, "victim@example.net", None));
        l.apply(&outcome(
            &bot,
            i * 60 + 1,
            SmtpOutcome::Rejected,
            "victim@example.net",
        ));
        l.apply(&message(&calm, i * 60, "ops@example.net", None));
        l.apply(&outcome(
            &calm,
            i * 60 + 1,
            SmtpOutcome::Delivered,
            "ops@example.net",
        ));
    }
    assert_eq!(reasons(&l, &bot, 400), [Reason::RepetitiveMail]);
    assert!(
        reasons(&l, &calm, 400).is_empty(),
        "a fixed cadence that delivers is a cron job"
    );
}

#[test]
fn many_messages_to_one_recipient_quickly_is_mailbombing() {
    let s = subject("angry@example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..29 {
        l.apply(&message(&s, i * 10, "target@example.net", None));
    }
    assert!(!blocked(&l, &s, 300));
    l.apply(&message(&s, 295, "target@example.net", None));
    assert!(reasons(&l, &s, 300).contains(&Reason::Mailbombing));
    // 30 messages spread over many recipients are not
    let t = subject("list@example.com");
    for i in 0..30 {
        l.apply(&message(&t, i, &format!("member{i}@example.net"), None));
    }
    assert!(!blocked(&l, &t, 300));
}

#[test]
fn many_messages_to_nonexistent_recipients_count_and_ratio() {
    let s = subject("harvester@example.com");
    let ok = subject("big@example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..40 {
        let o = if i % 2 == 0 {
            SmtpOutcome::NoSuchUser
        } else {
            SmtpOutcome::Delivered
        };
        l.apply(&outcome(&s, i, o, &format!("u{i}@example.net")));
    }
    assert_eq!(reasons(&l, &s, 50), [Reason::NonexistentRecipients]);
    // 20 bounces among 200 deliveries: 10 %, under the ratio
    for i in 0..200 {
        let o = if i % 10 == 0 {
            SmtpOutcome::NoSuchUser
        } else {
            SmtpOutcome::Delivered
        };
        l.apply(&outcome(&ok, i, o, &format!("u{i}@example.net")));
    }
    assert!(reasons(&l, &ok, 250).is_empty());
}

#[test]
fn a_recipient_that_cannot_receive_goes_on_the_recipient_list() {
    let s = subject("shop@example.com");
    let full = subject("full-mailbox@example.net");
    let mut l = Ledger::new(Default::default());
    l.apply(&outcome(
        &s,
        0,
        SmtpOutcome::CannotReceive,
        "full-mailbox@example.net",
    ));
    assert!(!blocked(&l, &full, 1), "once may be chance");
    l.apply(&outcome(
        &s,
        60,
        SmtpOutcome::CannotReceive,
        "full-mailbox@example.net",
    ));
    let list = compile(&l, &Policy::relay(), at(61));
    assert_eq!(
        list.lookup(&full).unwrap().codes(),
        [ReturnCode::new_assert(127, 0, 0, 29)]
    );
    assert!(list.lookup(&s).is_none(), "the sender is not to blame");
}

#[test]
fn invalid_senders_are_refused_never_the_null_sender() {
    let mut l = Ledger::new(Default::default());
    for bad in [
        "root@localhost",
        "user@mailhost",
        "a@host.localhost",
        "a@b.invalid",
        "a@b.test",
        "a@b.example",
    ] {
        let s = subject(bad);
        l.apply(&message(&s, 0, "r@example.net", None));
        assert_eq!(reasons(&l, &s, 1), [Reason::InvalidSender], "{bad}");
        assert!(is_invalid_sender(bad));
    }
    let good = subject("root@host.example.com");
    l.apply(&message(&good, 0, "r@example.net", None));
    assert!(reasons(&l, &good, 1).is_empty());
    assert!(!is_invalid_sender("<>"));
    assert!(!is_invalid_sender(""));
    assert!(
        "".parse::<Subject>().is_err(),
        "the null sender is no subject"
    );
}

#[test]
fn spf_and_domain_ownership_results_are_evidence_hooks() {
    let s = subject("ceo@bank.example.com");
    let mut l = Ledger::new(Default::default());
    let spf = |secs, result| {
        Event::new(
            at(secs),
            s.clone(),
            Evidence::SpfResult {
                result,
                domain: Some("bank.example.com".into()),
            },
        )
    };
    l.apply(&spf(0, SpfResult::Neutral));
    assert!(!blocked(&l, &s, 1));
    l.apply(&spf(10, SpfResult::Fail));
    assert_eq!(reasons(&l, &s, 11), [Reason::SpfNotAuthorized]);
    l.apply(&spf(20, SpfResult::Pass));
    assert!(!blocked(&l, &s, 21), "a later pass clears it");
    l.apply(&Event::new(
        at(30),
        s.clone(),
        Evidence::DomainOwnership {
            result: Ownership::NotOwned,
            domain: None,
        },
    ));
    let list = compile(&l, &Policy::relay(), at(31));
    let hit = list.lookup(&s).unwrap();
    assert_eq!(hit.codes(), [ReturnCode::new_assert(127, 0, 0, 27)]);
    let txt = hit.render_txt(0, "ceo@bank.example.com").unwrap();
    assert_eq!(
        txt,
        "ceo@bank.example.com blocked: mail from a domain the sender does not own"
    );
}

#[test]
fn an_operators_unlisting_is_a_fresh_start_for_the_rate_limit_and_a_mailbomb() {
    let a = subject("flood@bulk.example.com");
    let mut l = Ledger::new(Default::default());
    for i in 0..301 {
        l.apply(&message(&a, i, "victim@example.net", None));
    }
    assert_eq!(
        reasons(&l, &a, 400),
        [Reason::RateLimit, Reason::Mailbombing]
    );
    l.apply(&Event::new(
        at(400),
        a.clone(),
        Evidence::ManualUnlist {
            note: "reset".into(),
            reason: None,
        },
    ));
    assert!(!blocked(&l, &a, 401), "{:?}", reasons(&l, &a, 401));
    // and it starts counting again from zero
    for i in 0..29 {
        l.apply(&message(&a, 401 + i, "victim@example.net", None));
    }
    assert!(!blocked(&l, &a, 430));
    l.apply(&message(&a, 430, "victim@example.net", None));
    assert_eq!(reasons(&l, &a, 431), [Reason::Mailbombing]);
}
