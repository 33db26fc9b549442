#![no_main]
//! rbldnsd dataset files of every type, the access types acl and aclkey included (the first
//! byte picks it): no panic, the strict and
//! lenient modes agree on the first bad line, and whatever loads is written back with
//! `write_rbldnsd` (when the type can say it) and reads back to an equal list, and as a
//! master file without error.

use libfuzzer_sys::fuzz_target;
use rblkit::zone::{DatasetKind, DatasetParser, Strictness, Zone, ZoneError};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let kinds: Vec<DatasetKind> = DatasetKind::ALL
        .into_iter()
        .chain(DatasetKind::ACCESS)
        .collect();
    let kind = kinds[usize::from(sel) % kinds.len()];
    let mut p = DatasetParser::new(kind);
    p.parse_file("fuzz", text)
        .expect("lenient mode only fails on I/O");
    let ds = p.finish();

    let mut strict = DatasetParser::new(kind);
    strict.strictness(Strictness::Strict);
    match (strict.parse_file("fuzz", text), ds.warnings().first()) {
        (Ok(()), None) => {}
        (Err(ZoneError::Line(e)), Some(w)) => assert_eq!(&e, w),
        (r, w) => panic!("strict {r:?} vs first warning {w:?}"),
    }

    let mut out = Vec::new();
    if ds.write_rbldnsd(&mut out).is_ok() {
        let mut again = DatasetParser::new(kind);
        again.strictness(Strictness::Strict);
        again
            .parse_file("written", &out)
            .expect("written files read back cleanly");
        let back = again.finish();
        assert!(
            back.list() == ds.list(),
            "read back differs:\n{}",
            String::from_utf8_lossy(&out)
        );
    }
    if ds.list().stats().ipv4_ranges + ds.list().stats().ipv6_ranges < 64 {
        let zone = Zone::new("fuzz.example".parse().unwrap(), vec![ds.into()]);
        let _ = zone.write_master(&mut Vec::new());
    }
});
