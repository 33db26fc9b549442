#![no_main]
//! Subjects, domain patterns and domain normalisation: no panic, and every accepted text
//! round-trips through its canonical form.

use libfuzzer_sys::fuzz_target;
use rblkit::list::DomainPattern;
use rblkit::subject::{Domain, Subject};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = text.parse::<Subject>() {
        let canonical = s.to_string();
        let again: Subject = canonical.parse().expect("canonical form parses");
        assert_eq!(again, s, "{text:?} -> {canonical:?}");
        assert_eq!(again.to_string(), canonical);
    }
    if let Ok(d) = Domain::new(text) {
        assert!(d.as_str().len() <= 253);
        assert_eq!(Domain::new(d.as_str()).expect("canonical"), d);
        assert_eq!(
            Domain::normalize(d.as_str()).expect("canonical"),
            d.as_str()
        );
    }
    if let Ok(p) = text.parse::<DomainPattern>() {
        assert_eq!(
            p.to_string().parse::<DomainPattern>().expect("canonical"),
            p
        );
    }
});
