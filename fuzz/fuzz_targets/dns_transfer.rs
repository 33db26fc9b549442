#![no_main]
//! Transfer queries from the network (AXFR, IXFR with any authority section): never a
//! panic; every message sent is a well-formed DNS message with its TCP length, echoing the
//! ID, and a transfer starts and ends with the zone's SOA.

use domain::base::iana::Rtype;
use domain::base::Message;
use libfuzzer_sys::fuzz_target;
use rblkit::dns::server::{transfer, Catalog};
use rblkit::zone::{DatasetKind, DatasetParser, Zone};
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let mut p = DatasetParser::new(DatasetKind::Ip4Set);
        p.parse_file(
            "a",
            b"$SOA 1h ns.bl.test. h.bl.test. 9 1h 1h 1d 1h\n$NS 1h ns.example.net.\n:127.0.0.2:listed $\n192.0.2.0/24\n!192.0.2.7\n10.0.0.1\n",
        )
        .unwrap();
        let z = Zone::new("bl.test".parse().unwrap(), vec![p.finish().into()]);
        Catalog::builder().zone(z).build().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let Some(r) = transfer(catalog(), data, &mut |m| {
        messages.push(m.to_vec());
        Ok(())
    }) else {
        return;
    };
    r.expect("sending to a vector does not fail");
    let mut types = Vec::new();
    for m in &messages {
        assert_eq!(usize::from(u16::from_be_bytes([m[0], m[1]])), m.len() - 2);
        let msg = Message::from_octets(&m[2..]).expect("message parses");
        assert_eq!(msg.header().id(), u16::from_be_bytes([data[0], data[1]]));
        assert!(msg.header().qr());
        for rr in msg.answer().expect("answer section") {
            types.push(rr.expect("record").rtype());
        }
    }
    if let (Some(first), Some(last)) = (types.first(), types.last()) {
        assert_eq!(*first, Rtype::SOA);
        assert_eq!(*last, Rtype::SOA);
    }
});
