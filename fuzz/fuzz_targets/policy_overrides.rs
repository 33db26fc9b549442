#![no_main]
//! Any text never panics the overrides map parser; every key it keeps is lowercase, of a
//! known class, and found again by its own name; an error names the file and a line.

use libfuzzer_sys::fuzz_target;
use rblkit::smtp::Overrides;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Overrides::parse(text, "f.map") {
        Ok(o) => {
            assert!(o.len() <= text.lines().count());
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                let Some(key) = line.split_ascii_whitespace().next() else {
                    continue;
                };
                assert!(o.get(&key.to_ascii_lowercase()).is_some(), "{key}");
            }
        }
        Err(e) => assert!(e.to_string().starts_with("f.map:"), "{e}"),
    }
});
