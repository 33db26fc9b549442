#![no_main]
//! The checker's answer decoding: arbitrary bytes as the response to a given query never
//! panic, and what decodes is bounded by the message (each A or TXT record takes at least
//! 15 or 13 octets), so decoding is linear. Half the inputs get a valid header and question
//! in front, so that the fuzzer spends its time in the records.

use libfuzzer_sys::fuzz_target;
use rblkit::codes::known;
use rblkit::dns::client::{CheckResult, ListSpec, QueryType, Question};

const NAMES: [&str; 4] = [
    "2.0.0.127.bl.example",
    "spam.example.dbl.example",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example",
    "bl.example",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let qtype = if sel & 1 == 0 {
        QueryType::A
    } else {
        QueryType::Txt
    };
    let q = Question::new(NAMES[usize::from(sel >> 1) % NAMES.len()], qtype).expect("valid");
    let id = 0x5a5a;
    let mut msg = Vec::new();
    if sel & 0x80 != 0 && rest.len() >= 6 {
        // header: id, flags from the input, QDCOUNT 1, the other counts from the input
        let mut query = Vec::new();
        q.write_query(id, &mut query);
        msg.extend_from_slice(&id.to_be_bytes());
        msg.extend_from_slice(&[0x80 | rest[0], rest[1], 0, 1]);
        msg.extend_from_slice(&rest[2..6]);
        msg.extend_from_slice(&[0, 0]);
        msg.extend_from_slice(&query[12..12 + q.name_len() + 4]);
        msg.extend_from_slice(&rest[6..]);
    } else {
        msg.extend_from_slice(rest);
    }
    if let Ok(a) = q.decode(id, &msg) {
        assert!(a.codes.len() * 15 <= msg.len());
        assert!(a.txt.len() * 13 <= msg.len());
        assert!(qtype == QueryType::A || a.codes.is_empty());
        assert!(qtype == QueryType::Txt || a.txt.is_empty());
        // and the result a check makes of it never takes an error code for a listing
        let list: ListSpec = "bl.example".parse().expect("valid");
        let r = CheckResult::from_codes(
            "192.0.2.1".parse().expect("valid"),
            list,
            a.codes.clone(),
            a.txt,
        );
        if r.outcome.is_listed() {
            assert!(a.codes.iter().all(|c| c.is_loopback_code()));
            assert!(!matches!(
                known::GENERIC.decode_answer(&a.codes),
                rblkit::codes::Verdict::Error(_)
            ));
        }
    }
});
