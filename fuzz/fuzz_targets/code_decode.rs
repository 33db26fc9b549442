#![no_main]
//! Return codes, reasons and code schemes: no panic; every accepted text round-trips; and
//! what a scheme encodes decodes back to a listing that loses no reason.

use libfuzzer_sys::fuzz_target;
use rblkit::codes::{
    known, CodeLayout, CodeMeaning, CodeScheme, ListError, ReasonSet, ReturnCode, Verdict,
};

fn check_scheme(s: &CodeScheme, bits: u64, code: ReturnCode) {
    let text = s.to_string();
    assert_eq!(&text.parse::<CodeScheme>().expect("canonical"), s, "{text}");

    // Keep the reasons that exist.
    let reasons: ReasonSet = rblkit::codes::Reason::ALL
        .iter()
        .copied()
        .filter(|r| bits >> r.id() & 1 == 1)
        .collect();
    let codes = s.encode(reasons);
    assert_eq!(codes.is_empty(), reasons.is_empty());
    match s.decode_answer(&codes) {
        Verdict::NotListed => assert!(reasons.is_empty()),
        Verdict::Listed {
            reasons: got,
            unknown,
        } => {
            assert!(!unknown, "{text}: {reasons} -> {codes:?}");
            let fallback = s
                .entries()
                .iter()
                .find(|e| e.0 == s.fallback())
                .expect("entry")
                .1;
            assert!(
                got.is_subset(reasons.union(fallback)),
                "{text}: {reasons} -> {got}"
            );
            let fallback_used = match s.layout() {
                CodeLayout::Bitmask { base } => {
                    codes[0].last_octet() & s.fallback().last_octet() & !base.last_octet() != 0
                }
                _ => codes.contains(&s.fallback()),
            };
            assert!(
                fallback_used || reasons.is_subset(got),
                "{text}: {reasons} -> {got}"
            );
        }
        other => panic!("{text}: {reasons} -> {codes:?} -> {other:?}"),
    }

    match s.decode(code) {
        CodeMeaning::Error(ListError::NotACode) => assert!(!code.is_loopback_code()),
        CodeMeaning::Error(e) => assert!(s.errors().contains(&(code, e))),
        CodeMeaning::Listed { .. } => assert!(code.is_loopback_code()),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // Binary part: a code and a reason mask to try with every known scheme.
    let mut head = [0u8; 12];
    let n = data.len().min(12);
    head[..n].copy_from_slice(&data[..n]);
    let code = ReturnCode::from(std::net::Ipv4Addr::new(head[0], head[1], head[2], head[3]));
    let bits = u64::from_le_bytes(head[4..12].try_into().expect("8 bytes"));
    for l in known::LISTS {
        check_scheme(l.scheme, bits, code);
    }
    check_scheme(&known::GENERIC, bits, code);

    // Text part: the whole input as each text form.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = text.parse::<ReturnCode>() {
        assert_eq!(c.to_string().parse::<ReturnCode>().expect("canonical"), c);
    }
    if let Ok(r) = text.parse::<ReasonSet>() {
        assert_eq!(r.to_string().parse::<ReasonSet>().expect("canonical"), r);
    }
    if let Ok(s) = text.parse::<CodeScheme>() {
        check_scheme(&s, bits, code);
    }
});
