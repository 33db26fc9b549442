#![no_main]
//! Policy protocol bytes of any kind, cut into lines as a connection reads them, never
//! panic the request parser; every request it completes is valid, within the limits, and
//! reads back from its text form to itself; a reply text parses back to itself.

use libfuzzer_sys::fuzz_target;
use rblkit::smtp::{Limits, Reply, Request, RequestParser};

fuzz_target!(|data: &[u8]| {
    let mut limits = Limits::default();
    limits.max_line = 256;
    limits.max_attributes = 16;
    let mut p = RequestParser::new(limits);
    for line in data.split(|&b| b == b'\n') {
        match p.line(line) {
            Ok(Some(r)) => {
                assert!(r.attributes().count() <= 16);
                assert_eq!(r.get("request"), Some("smtpd_access_policy"));
                let again: Request = r.to_string().parse().expect("a request reads back");
                assert_eq!(again, r);
            }
            Ok(None) => {}
            Err(_) => assert!(!p.in_request(), "an error starts afresh"),
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = text.parse::<Reply>() {
            assert_eq!(r.to_string().parse::<Reply>().unwrap(), r);
        }
    }
});
