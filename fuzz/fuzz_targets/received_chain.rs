#![no_main]
//! `Received` fields of any bytes parse without panicking; the walk down the chain only
//! returns addresses that a hop recorded and that pass the trust rules.

use libfuzzer_sys::fuzz_target;
use rblkit::intake::{find_source, is_special_purpose, Hop, SourceSearch, TrustedNetworks};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let hops: Vec<Hop> = text.split('\n').map(Hop::parse).collect();
    let trusted: TrustedNetworks = "10.0.0.0/8, 2001:db8::/32".parse().unwrap();
    for allow in [false, true] {
        if let SourceSearch::Found { hop, ip } = find_source(&hops, &trusted, allow) {
            assert_eq!(hops[hop].ip(), Some(ip));
            assert!(!trusted.contains(ip));
            assert!(allow || !is_special_purpose(ip));
        }
    }
});
