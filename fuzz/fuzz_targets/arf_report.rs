#![no_main]
//! Any bytes as an ARF report, a trap hit or a forwarded spam report: an error or a report,
//! never a panic; every event names the source or one of the domains found.

use libfuzzer_sys::fuzz_target;
use rblkit::intake::{Intake, IntakeConfig, ReportKind, SpecialSources};
use rblkit::{Subject, Timestamp};
use std::sync::OnceLock;

fn intake() -> &'static Intake {
    static I: OnceLock<Intake> = OnceLock::new();
    I.get_or_init(|| {
        Intake::new(
            IntakeConfig::default()
                .special_sources(SpecialSources::Allow)
                .max_message_bytes(1 << 20),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_unix_assert(1_795_168_800);
    for kind in [
        ReportKind::Arf,
        ReportKind::trap("t"),
        ReportKind::spam("r"),
    ] {
        if let Ok(r) = intake().report(data, &kind, now) {
            for e in &r.events {
                let ok = match &e.subject {
                    Subject::Ip(ip) => r.source == Some(*ip),
                    Subject::Domain(d) => r.domains.contains(d),
                    _ => false,
                };
                assert!(ok, "event for {} not found in the report", e.subject);
            }
        }
    }
});
