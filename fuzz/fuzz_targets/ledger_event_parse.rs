#![no_main]
//! Evidence JSON lines: no panic; an accepted line writes back to a line that reads back
//! equal.

use libfuzzer_sys::fuzz_target;
use rblkit::ledger::Event;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Event::parse_line(text, 1) {
        let mut line = String::new();
        e.write_line(&mut line);
        let back = Event::parse_line(&line, 1).expect("a written line parses");
        assert_eq!(back, e, "{line}");
    }
});
