#![no_main]
//! rbldnsd `acl` and `aclkey` files (the first byte picks which): every key loaded is found
//! again in any case, lookups of addresses and labels taken from the input never panic, and
//! an acl never holds more networks than entry lines. (`zone_parse` checks these types'
//! strict and lenient modes against each other, with the other dataset types.)

use libfuzzer_sys::fuzz_target;
use rblkit::zone::{DatasetKind, DatasetParser};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, text)) = data.split_first() else {
        return;
    };
    let kind = DatasetKind::ACCESS[usize::from(sel) % DatasetKind::ACCESS.len()];
    let mut p = DatasetParser::new(kind);
    p.parse_file("fuzz", text)
        .expect("lenient mode only fails on I/O");
    let ds = p.finish();

    if let Some(acl) = ds.acl() {
        assert!(acl.len() as u64 <= ds.entries());
        for c in text.chunks(16) {
            let mut b = [0u8; 16];
            b[..c.len()].copy_from_slice(c);
            let _ = acl.lookup(IpAddr::V6(Ipv6Addr::from(b)));
            let _ = acl.lookup(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])));
        }
    }
    if let Some(keys) = ds.keys() {
        for i in 0..keys.len() {
            let name = keys.name(i);
            let (j, _) = keys.lookup(name.as_bytes()).expect("a loaded key is found");
            assert_eq!(i, j);
            let upper = name.to_ascii_uppercase();
            assert_eq!(keys.lookup(upper.as_bytes()).map(|x| x.0), Some(i));
        }
        for w in text.split(|&c| c == b'.' || c == b'\n') {
            let _ = keys.lookup(w);
        }
    }
});
