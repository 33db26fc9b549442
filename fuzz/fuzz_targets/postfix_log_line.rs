#![no_main]
//! Log lines of any bytes never panic the Postfix log parser or the follower; whatever
//! they make is an `smtp_outcome` event about a sender seen in a `from=` or
//! `sasl_username=` line; a DNS list site parses back to itself.

use libfuzzer_sys::fuzz_target;
use rblkit::ledger::Evidence;
use rblkit::smtp::{DnsList, LogLine, PostfixLog};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = rblkit::Timestamp::from_unix_assert(1_800_000_000);
    let mut log = PostfixLog::new();
    for line in text.split('\n') {
        let parsed = LogLine::parse(line);
        if let Some(e) = log.line(line, now) {
            assert!(parsed.is_some());
            assert!(matches!(e.evidence, Evidence::SmtpOutcome { .. }));
            let who = e.subject.to_string();
            assert!(
                text.contains("from=<") || text.contains("sasl_username="),
                "{who}"
            );
        }
    }
    if let Ok(l) = text.parse::<DnsList>() {
        assert_eq!(l.to_string().parse::<DnsList>().unwrap(), l);
    }
});
