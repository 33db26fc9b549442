#![no_main]
//! Text extraction never panics, stays linear, and reports spans inside the input.

use libfuzzer_sys::fuzz_target;
use rblkit::extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ex = Extractor::new();
    let mut hits = Vec::new();
    let _ = ex.extract_text(&text, &mut hits);
    for h in &hits {
        let s = h.span();
        assert!(s.start <= s.end && s.end <= text.len());
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        assert!(!h.host().is_empty());
        assert!(!h.host().bytes().any(|b| b.is_ascii_uppercase()));
        if let Some(r) = h.registrable_domain() {
            assert!(h.host().ends_with(r));
        }
        if let Some(u) = h.url() {
            assert!(u.contains(h.host()));
        }
    }
});
