#![no_main]
//! HTML extraction never panics, stays linear, and reports spans inside the input.

use libfuzzer_sys::fuzz_target;
use rblkit::extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let ex = Extractor::new();
    let mut hits = Vec::new();
    let _ = ex.extract_html(&html, &mut hits);
    for h in &hits {
        let s = h.span();
        assert!(s.start <= s.end && s.end <= html.len());
        assert!(!h.host().is_empty());
        if let Some(r) = h.registrable_domain() {
            assert!(h.host().ends_with(r));
        }
    }
});
