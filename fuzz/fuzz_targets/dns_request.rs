#![no_main]
//! DNS requests from the network: the parser never panics; what it accepts, the `domain`
//! crate reads as the same question; every answer built for it is a well-formed message
//! echoing the ID and the question, within the size the transport allows.

use domain::base::name::ToLabelIter;
use domain::base::Message;
use libfuzzer_sys::fuzz_target;
use rblkit::dns::server::{respond, Catalog, Request, Scratch, Transport};
use rblkit::zone::{DatasetKind, DatasetParser, Zone};
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| {
        let mut p = DatasetParser::new(DatasetKind::Ip4Set);
        p.parse_file(
            "a",
            b"$SOA 1h ns.bl.test. h.bl.test. 1 1h 1h 1d 1h\n$NS 1h ns.bl.test.\n:127.0.0.2:listed $\n192.0.2.0/24\n!192.0.2.7\n",
        )
        .unwrap();
        let a = p.finish();
        let mut p = DatasetParser::new(DatasetKind::DnSet);
        p.parse_file("d", b"*.spam.example :3:$ listed\nns :127.0.0.1\n").unwrap();
        let d = p.finish();
        let z = Zone::new("bl.test".parse().unwrap(), vec![a.into(), d.into()]);
        Catalog::builder().zone(z).build().unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Request::parse(data) {
        if let Ok(m) = Message::from_octets(data) {
            if let Some(q) = m.first_question() {
                let mut theirs = Vec::new();
                for l in q.qname().iter_labels() {
                    theirs.push(l.len() as u8);
                    theirs.extend(l.as_slice().iter().map(u8::to_ascii_lowercase));
                }
                assert_eq!(theirs, r.qname(), "{data:?}");
                assert_eq!(q.qtype().to_int(), r.qtype());
                assert_eq!(q.qclass().to_int(), r.qclass());
            }
        }
    }
    let mut scratch = Scratch::new();
    let mut out = vec![0u8; 65535];
    for t in [Transport::Udp, Transport::Tcp] {
        let n = respond(catalog(), data, t, &mut scratch, &mut out);
        if n == 0 {
            continue;
        }
        let limit = match (t, Request::parse(data).ok().and_then(|r| r.edns())) {
            (Transport::Tcp, _) => 65535,
            (_, Some(e)) => usize::from(e.udp_size).max(512),
            _ => 512,
        };
        assert!(n <= limit.max(12));
        let m = Message::from_octets(&out[..n]).expect("answer parses");
        assert_eq!(m.header().id(), u16::from_be_bytes([data[0], data[1]]));
        assert!(m.header().qr());
        for rr in m.answer().expect("answer section") {
            rr.expect("answer record");
        }
        let mut sections = m.answer().unwrap().next_section().unwrap();
        while let Some(s) = sections {
            let mut s2 = s.clone();
            for rr in &mut s2 {
                rr.expect("record");
            }
            sections = s.next_section().unwrap();
        }
    }
});
