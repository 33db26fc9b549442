//! Evidence JSON lines: every error names its line and field; written lines read back equal.

use proptest::prelude::*;
use rblkit::codes::{Reason, ReturnCode};
use rblkit::ledger::{
    parse_lines, DisputeDecision, DisputeReason, Event, Evidence, LedgerError, Ownership,
    SmtpOutcome, SpfResult,
};
use rblkit::{Subject, Timestamp};
use std::net::{Ipv4Addr, Ipv6Addr};

const HEAD: &str = r#""at":"2026-11-20T10:00:00Z","subject":"192.0.2.1""#;

fn parse(body: &str) -> Result<Event, LedgerError> {
    Event::parse_line(&format!("{{{HEAD},{body}}}"), 42)
}

#[test]
fn every_event_of_the_design_table_parses() {
    let cases = [
        (
            r#""event":"spam_report","reporter":"r","fingerprint":"f","weight":0.5"#,
            "spam_report",
        ),
        (r#""event":"trap_hit","trap":"t""#, "trap_hit"),
        (r#""event":"ham_report","reporter":"r""#, "ham_report"),
        (
            r#""event":"third_party_listing","list":"bl.example","code":"127.0.0.4""#,
            "third_party_listing",
        ),
        (
            r#""event":"message","recipient":"a@b.example","sasl_username":"u""#,
            "message",
        ),
        (
            r#""event":"smtp_outcome","outcome":"no_such_user","recipient":"a@b.example""#,
            "smtp_outcome",
        ),
        (
            r#""event":"manual_list","note":"n","reason":"spam_trap""#,
            "manual_list",
        ),
        (r#""event":"manual_unlist","note":"n""#, "manual_unlist"),
        (r#""event":"allowlist_add""#, "allowlist_add"),
        (
            r#""event":"allowlist_remove","note":"n""#,
            "allowlist_remove",
        ),
        (r#""event":"self_delist""#, "self_delist"),
        (
            r#""event":"dispute","reason":"user_error","reporter":"r","contact":"c","text":"t""#,
            "dispute",
        ),
        (
            r#""event":"dispute_decision","decision":"upheld","note":"ok""#,
            "dispute_decision",
        ),
        (
            r#""event":"spf_result","result":"softfail","domain":"b.example""#,
            "spf_result",
        ),
        (
            r#""event":"domain_ownership","result":"not_owned""#,
            "domain_ownership",
        ),
    ];
    for (body, name) in cases {
        let e = parse(body).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(e.evidence.name(), name);
        assert_eq!(e.subject, "192.0.2.1".parse::<Subject>().unwrap());
    }
    assert!(matches!(
        parse(r#""event":"spf_result","result":"maybe""#),
        Err(LedgerError::BadValue {
            field: "result",
            ..
        })
    ));
    assert!(matches!(
        parse(r#""event":"domain_ownership""#),
        Err(LedgerError::MissingField {
            field: "result",
            ..
        })
    ));
    let e = parse(r#""event":"third_party_listing","list":"x","code":"127.0.0.4""#).unwrap();
    assert_eq!(
        e.evidence,
        Evidence::ThirdPartyListing {
            list: "x".into(),
            code: ReturnCode::new_assert(127, 0, 0, 4)
        }
    );
    let e = parse(r#""event":"manual_list","note":"n","reason":"spam_trap""#).unwrap();
    assert_eq!(
        e.evidence,
        Evidence::ManualList {
            note: "n".into(),
            reason: Some(Reason::SpamTrap)
        }
    );
}

#[test]
fn unknown_fields_are_ignored_and_null_is_absent() {
    let e = parse(r#""event":"spam_report","reporter":"r","weight":null,"x":{"y":[1,2]}"#).unwrap();
    assert_eq!(
        e.evidence,
        Evidence::SpamReport {
            reporter: "r".into(),
            fingerprint: None,
            weight: None
        }
    );
}

#[test]
fn errors_name_line_and_field() {
    use LedgerError as E;
    let l = |t: &str| Event::parse_line(t, 9).unwrap_err();
    assert!(
        matches!(
            l("not json"),
            E::NotJson {
                line: 9,
                column: 2,
                ..
            }
        ),
        "{}",
        l("not json")
    );
    assert!(matches!(
        l(r#"{"at":"#),
        E::NotJson {
            line: 9,
            problem: "unexpected end",
            ..
        }
    ));
    assert_eq!(l("[1]"), E::NotObject { line: 9 });
    assert_eq!(
        l(r#"{"subject":"192.0.2.1","event":"self_delist"}"#),
        E::MissingField {
            line: 9,
            field: "at"
        }
    );
    assert!(matches!(
        l(r#"{"at":"2026-11-20","subject":"192.0.2.1","event":"self_delist"}"#),
        E::BadTime { line: 9, .. }
    ));
    assert!(matches!(
        l(r#"{"at":"2026-11-20T10:00:00Z","subject":"300.1.2.3","event":"self_delist"}"#),
        E::BadSubject { line: 9, .. }
    ));
    assert_eq!(
        l(r#"{"at":5,"subject":"192.0.2.1","event":"self_delist"}"#),
        E::WrongType {
            line: 9,
            field: "at",
            expected: "a string"
        }
    );
    assert_eq!(
        parse(r#""event":"spam""#).unwrap_err(),
        E::UnknownEvent {
            line: 42,
            event: "spam".into()
        }
    );
    assert_eq!(
        parse(r#""event":"trap_hit""#).unwrap_err(),
        E::MissingField {
            line: 42,
            field: "trap"
        }
    );
    assert_eq!(
        parse(r#""event":"trap_hit","trap":7"#).unwrap_err(),
        E::WrongType {
            line: 42,
            field: "trap",
            expected: "a string"
        }
    );
    assert!(matches!(
        parse(r#""event":"trap_hit","trap":"""#).unwrap_err(),
        E::BadValue {
            line: 42,
            field: "trap",
            ..
        }
    ));
    assert!(matches!(
        parse(r#""event":"spam_report","reporter":"r","weight":-1"#).unwrap_err(),
        E::BadValue {
            field: "weight",
            ..
        }
    ));
    assert_eq!(
        parse(r#""event":"spam_report","reporter":"r","weight":"1""#).unwrap_err(),
        E::WrongType {
            line: 42,
            field: "weight",
            expected: "a number"
        }
    );
    assert!(matches!(
        parse(r#""event":"smtp_outcome","outcome":"lost""#).unwrap_err(),
        E::BadValue {
            field: "outcome",
            ..
        }
    ));
    assert_eq!(
        parse(r#""event":"smtp_outcome""#).unwrap_err(),
        E::MissingField {
            line: 42,
            field: "outcome"
        }
    );
    assert!(matches!(
        parse(r#""event":"third_party_listing","list":"x","code":"nope""#).unwrap_err(),
        E::BadValue { field: "code", .. }
    ));
    assert!(matches!(
        parse(r#""event":"dispute","reason":"because""#).unwrap_err(),
        E::BadValue {
            field: "reason",
            ..
        }
    ));
    assert!(matches!(
        parse(r#""event":"dispute_decision","decision":"maybe""#).unwrap_err(),
        E::BadValue {
            field: "decision",
            ..
        }
    ));
    assert!(matches!(
        parse(r#""event":"manual_list","note":"n","reason":"no_such_reason""#).unwrap_err(),
        E::BadValue {
            field: "reason",
            ..
        }
    ));
    let msg = parse(r#""event":"trap_hit""#).unwrap_err().to_string();
    assert_eq!(msg, "line 42: missing field \"trap\"");
}

#[test]
fn lines_are_numbered_physically() {
    let text = format!("\n{{{HEAD},\"event\":\"self_delist\"}}\n  \nbad\n");
    let got: Vec<(u64, bool)> = parse_lines(&text).map(|(n, r)| (n, r.is_ok())).collect();
    assert_eq!(got, vec![(2, true), (4, false)]);
}

fn text() -> impl Strategy<Value = Box<str>> {
    "[^\u{0}]{0,3}[\\PC\u{1}-\u{1f}\"\\\\]{1,8}".prop_map(Box::from)
}

fn opt_text() -> impl Strategy<Value = Option<Box<str>>> {
    proptest::option::of(text())
}

fn subject() -> impl Strategy<Value = Subject> {
    prop_oneof![
        any::<u32>().prop_map(|a| Subject::Ip(Ipv4Addr::from(a).into())),
        any::<u128>().prop_map(|a| Subject::Ip(Ipv6Addr::from(a).into())),
        (any::<u32>(), 0u8..32)
            .prop_map(|(a, p)| format!("{}/{p}", Ipv4Addr::from(a)).parse().unwrap()),
        "[a-z0-9]{1,10}\\.(example|test|xn--bcher-kva)".prop_map(|d| d.parse().unwrap()),
        "[a-z0-9.+_-]{1,10}@[a-z]{1,8}\\.example".prop_filter_map("email", |e| e.parse().ok()),
    ]
}

fn reason() -> impl Strategy<Value = Option<Reason>> {
    proptest::option::of(proptest::sample::select(Reason::ALL))
}

fn evidence() -> impl Strategy<Value = Evidence> {
    prop_oneof![
        (text(), opt_text(), proptest::option::of(0.0f64..=1000.0)).prop_map(
            |(reporter, fingerprint, weight)| Evidence::SpamReport {
                reporter,
                fingerprint,
                weight
            }
        ),
        text().prop_map(|trap| Evidence::TrapHit { trap }),
        text().prop_map(|reporter| Evidence::HamReport { reporter }),
        (text(), any::<[u8; 4]>()).prop_map(|(list, c)| Evidence::ThirdPartyListing {
            list,
            code: ReturnCode::new_assert(c[0], c[1], c[2], c[3])
        }),
        (text(), opt_text(), opt_text(), opt_text(), any::<bool>()).prop_map(
            |(recipient, sasl_username, fingerprint, sender, refused)| Evidence::Message {
                recipient,
                sasl_username,
                fingerprint,
                sender,
                refused,
            }
        ),
        (proptest::sample::select(SmtpOutcome::ALL), opt_text())
            .prop_map(|(outcome, recipient)| Evidence::SmtpOutcome { outcome, recipient }),
        (text(), reason()).prop_map(|(note, reason)| Evidence::ManualList { note, reason }),
        (text(), reason()).prop_map(|(note, reason)| Evidence::ManualUnlist { note, reason }),
        opt_text().prop_map(|note| Evidence::AllowlistAdd { note }),
        opt_text().prop_map(|note| Evidence::AllowlistRemove { note }),
        Just(Evidence::SelfDelist),
        (
            proptest::sample::select(DisputeReason::ALL),
            opt_text(),
            opt_text(),
            opt_text()
        )
            .prop_map(|(reason, reporter, contact, text)| Evidence::Dispute {
                reason,
                reporter,
                contact,
                text
            }),
        (proptest::sample::select(DisputeDecision::ALL), opt_text())
            .prop_map(|(decision, note)| Evidence::DisputeDecision { decision, note }),
        (proptest::sample::select(SpfResult::ALL), opt_text())
            .prop_map(|(result, domain)| Evidence::SpfResult { result, domain }),
        (proptest::sample::select(Ownership::ALL), opt_text())
            .prop_map(|(result, domain)| Evidence::DomainOwnership { result, domain }),
    ]
}

pub(crate) fn event() -> impl Strategy<Value = Event> {
    (
        Timestamp::MIN.unix_seconds()..=Timestamp::MAX.unix_seconds(),
        subject(),
        evidence(),
    )
        .prop_map(|(t, s, e)| Event::new(Timestamp::from_unix(t).unwrap(), s, e))
}

proptest! {
    #[test]
    fn written_lines_read_back_equal(e in event()) {
        let mut line = String::new();
        e.write_line(&mut line);
        prop_assert!(!line.contains('\n'));
        let back = Event::parse_line(&line, 1).map_err(|err| TestCaseError::fail(format!("{line}: {err}")))?;
        prop_assert_eq!(back, e);
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = Event::parse_line(&s, 1);
    }
}
