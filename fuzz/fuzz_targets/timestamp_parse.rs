#![no_main]
//! RFC 3339 timestamps: no panic; accepted values round-trip.

use libfuzzer_sys::fuzz_target;
use rblkit::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = text.parse::<Timestamp>() {
        let canonical = t.to_string();
        assert_eq!(canonical.parse::<Timestamp>().expect("canonical"), t);
    }
});
