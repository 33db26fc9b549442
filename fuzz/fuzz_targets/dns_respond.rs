#![no_main]
//! The answer builder over fuzzed datasets: a dnset or ip4set file and a query from the
//! input; the answer never panics, parses, stays within 512 octets over UDP without EDNS,
//! and over TCP holds every record the UDP answer holds.

use domain::base::{Message, ParsedName};
use domain::rdata::AllRecordData;
use libfuzzer_sys::fuzz_target;
use rblkit::dns::server::{respond, Catalog, Scratch, Transport};
use rblkit::zone::{DatasetKind, DatasetParser, Zone};

fuzz_target!(|data: &[u8]| {
    let Some(cut) = data.iter().position(|&b| b == 0xff) else {
        return;
    };
    let (file, rest) = data.split_at(cut);
    let rest = &rest[1..];
    if rest.len() < 3 {
        return;
    }
    let kind = if rest[0] & 1 == 0 {
        DatasetKind::DnSet
    } else {
        DatasetKind::Ip4Set
    };
    let qtype = [1u16, 16, 255, 2, 6, 15, 28][usize::from(rest[1] % 7)];
    let mut p = DatasetParser::new(kind);
    if p.parse_file("f", file).is_err() {
        return;
    }
    let ds = p.finish();
    let z = Zone::new("bl.test".parse().unwrap(), vec![ds.into()]);
    let Ok(c) = Catalog::builder().zone(z).build() else {
        return;
    };
    // the query name: labels from the input's text, under the zone
    let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    let text = &rest[2..];
    for l in text.split(|&b| b == b'.') {
        if l.is_empty() || l.len() > 63 || q.len() + l.len() > 240 {
            continue;
        }
        q.push(l.len() as u8);
        q.extend_from_slice(l);
    }
    q.extend_from_slice(b"\x02bl\x04test\x00");
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    let mut scratch = Scratch::new();
    let mut udp = vec![0u8; 4096];
    let mut tcp = vec![0u8; 65535];
    let n = respond(&c, &q, Transport::Udp, &mut scratch, &mut udp);
    let k = respond(&c, &q, Transport::Tcp, &mut scratch, &mut tcp);
    assert!(n > 0 && n <= 512 && k > 0);
    let records = |m: &[u8]| -> (bool, Vec<String>) {
        let msg = Message::from_octets(m).expect("answer parses");
        let mut v = Vec::new();
        for rr in msg.answer().expect("answer section") {
            let rr = rr.expect("record");
            let rec = rr
                .into_any_record::<AllRecordData<_, ParsedName<_>>>()
                .expect("record data");
            v.push(rec.to_string());
        }
        (msg.header().tc(), v)
    };
    let (utc, u) = records(&udp[..n]);
    let (ttc, t) = records(&tcp[..k]);
    assert!(!ttc);
    assert_eq!(udp[3] & 15, tcp[3] & 15);
    if !utc {
        assert_eq!(u, t);
    }
});
