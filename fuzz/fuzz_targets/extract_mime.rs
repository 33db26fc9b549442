#![no_main]
//! Message extraction never panics and stays within its limits.

use libfuzzer_sys::fuzz_target;
use rblkit::extract::Extractor;

fuzz_target!(|data: &[u8]| {
    let ex = Extractor::builder()
        .max_mime_depth(20)
        .max_mime_parts(200)
        .build()
        .unwrap();
    let mut hits = Vec::new();
    let _ = ex.extract_message(data, &mut hits);
    for h in &hits {
        assert!(!h.host().is_empty());
        if let Some(r) = h.registrable_domain() {
            assert!(h.host().ends_with(r));
        }
    }
});
