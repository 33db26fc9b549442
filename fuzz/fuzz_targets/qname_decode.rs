#![no_main]
//! RFC 5782 query names: no panic; whatever decodes re-encodes to a name that decodes the
//! same; addresses round-trip.

use libfuzzer_sys::fuzz_target;
use rblkit::qname::{Query, QueryZone, ZoneKind};
use rblkit::subject::{Domain, Subject};
use std::net::{Ipv4Addr, Ipv6Addr};

fn check(zone: &QueryZone, name: &str) {
    // Decoding is strict, so what it accepts is the canonical name but for ASCII case.
    let bare = name.strip_suffix('.').unwrap_or(name);
    match zone.decode(name) {
        Ok(Query::Apex) => {
            let n = name.strip_suffix('.').unwrap_or(name);
            assert!(n.eq_ignore_ascii_case(zone.origin().as_str()));
        }
        Ok(Query::Ip(q)) => {
            assert_eq!(zone.kind(), ZoneKind::Ip);
            assert!(q.ipv4_prefix().is_some() || q.ipv6_prefix().is_some());
            if let Some(net) = q.ipv4_prefix() {
                let mut again = String::new();
                zone.write_net(net.into(), &mut again).expect("aligned");
                assert!(again.eq_ignore_ascii_case(bare), "{name:?} -> {again:?}");
                match zone.decode(&again).expect("canonical") {
                    Query::Ip(r) => assert_eq!(r.ipv4_prefix(), Some(net)),
                    other => panic!("{name:?} -> {again:?} -> {other:?}"),
                }
            }
            if let Some(net) = q.ipv6_prefix() {
                let mut again = String::new();
                zone.write_net(net.into(), &mut again).expect("aligned");
                assert!(again.eq_ignore_ascii_case(bare), "{name:?} -> {again:?}");
                match zone.decode(&again).expect("canonical") {
                    Query::Ip(r) => assert_eq!(r.ipv6_prefix(), Some(net)),
                    other => panic!("{name:?} -> {again:?} -> {other:?}"),
                }
            }
        }
        Ok(Query::Domain(d)) => {
            assert_eq!(zone.kind(), ZoneKind::Domain);
            // Decoding checks the syntax of host names, not A-labels (that needs IDNA).
            let domain = match Domain::new(d) {
                Ok(domain) => domain,
                Err(rblkit::subject::SubjectError::BadIdn { .. }) => return,
                Err(e) => panic!("{d:?}: {e}"),
            };
            assert!(domain.as_str().eq_ignore_ascii_case(d));
            let again = zone.name(&Subject::Domain(domain)).expect("fits");
            assert!(again.eq_ignore_ascii_case(bare), "{name:?} -> {again:?}");
            assert_eq!(
                zone.decode(&again).expect("canonical"),
                Query::Domain(&again[..d.len()])
            );
        }
        Ok(other) => panic!("{other:?}"),
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let ip_zone = QueryZone::new("bl.example", ZoneKind::Ip).expect("origin");
    let dom_zone = QueryZone::new("dbl.example", ZoneKind::Domain).expect("origin");

    // Addresses from the raw bytes.
    if data.len() >= 16 {
        let v4 = Ipv4Addr::new(data[0], data[1], data[2], data[3]);
        let v6 = Ipv6Addr::from(u128::from_be_bytes(
            data[..16].try_into().expect("16 bytes"),
        ));
        let q = match ip_zone.decode(&ip_zone.ipv4(v4)) {
            Ok(Query::Ip(q)) => q,
            other => panic!("{other:?}"),
        };
        assert_eq!(q.ipv4(), Some(v4));
        let q = match ip_zone.decode(&ip_zone.ipv6(v6)) {
            Ok(Query::Ip(q)) => q,
            other => panic!("{other:?}"),
        };
        assert_eq!(q.ipv6(), Some(v6));
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // "origin\nname" tries a zone of the input's own; any other text is a name.
    if let Some((origin, name)) = text.split_once('\n') {
        for kind in [ZoneKind::Ip, ZoneKind::Domain] {
            if let Ok(zone) = QueryZone::new(origin, kind) {
                check(&zone, name);
            }
        }
    } else {
        check(&ip_zone, text);
        check(&dom_zone, text);
        check(&ip_zone, &format!("{text}.bl.example"));
        check(&dom_zone, &format!("{text}.dbl.example"));
    }
});
