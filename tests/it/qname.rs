//! RFC 5782 query names: round trips, what resolvers send, partial names, and decoding
//! without allocation.

use crate::alloc::allocations;
use proptest::prelude::*;
use rblkit::codes::test_points::{
    TestPoint, DOMAIN_UNLISTED, IPV4_LISTED as TEST_IPV4_LISTED,
    IPV4_UNLISTED as TEST_IPV4_UNLISTED, IPV6_LISTED as TEST_IPV6_LISTED,
};
use rblkit::qname::{IpQuery, QnameError, Query, QueryZone, ZoneKind};
use rblkit::subject::{Domain, Subject};
use std::net::{Ipv4Addr, Ipv6Addr};

fn zone(kind: ZoneKind) -> impl Strategy<Value = QueryZone> {
    proptest::collection::vec("[a-z][a-z0-9-]{0,10}[a-z]", 1..4)
        // a label starting `xn--` must be a valid A-label: leave those to the IDN tests
        .prop_filter("random xn-- label", |ls| {
            ls.iter().all(|l| !l.starts_with("xn--"))
        })
        .prop_map(move |labels| QueryZone::new(&labels.join("."), kind).unwrap())
}

fn ip(q: Result<Query<'_>, QnameError>) -> IpQuery {
    match q {
        Ok(Query::Ip(q)) => q,
        other => panic!("{other:?}"),
    }
}

/// Flips the ASCII case of the letters whose bit is set in `mask`.
fn flip_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, ch)| {
            if mask >> (i % 64) & 1 == 1 {
                ch.to_ascii_uppercase()
            } else {
                ch
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn ipv4_round_trip(z in zone(ZoneKind::Ip), a in any::<Ipv4Addr>(), mask in any::<u64>(), dot in any::<bool>()) {
        let name = z.ipv4(a);
        prop_assert_eq!(z.name(&Subject::Ip(a.into())).unwrap(), name.clone());
        let mut sent = flip_case(&name, mask);
        if dot {
            sent.push('.');
        }
        let q = ip(z.decode(&sent));
        prop_assert_eq!(q.ipv4(), Some(a));
        prop_assert_eq!(q.addr(), Some(a.into()));
    }

    #[test]
    fn ipv6_round_trip(z in zone(ZoneKind::Ip), a in any::<Ipv6Addr>(), mask in any::<u64>()) {
        let name = z.ipv6(a);
        prop_assert_eq!(name.len(), 64 + z.origin().as_str().len());
        let q = ip(z.decode(&flip_case(&name, mask)));
        prop_assert_eq!(q.ipv6(), Some(a));
        prop_assert_eq!(q.ipv4_prefix(), None);
    }

    /// A network's name decodes to the network; this is the empty non-terminal a server
    /// answers NOERROR for when something is listed inside it.
    #[test]
    fn network_round_trip(z in zone(ZoneKind::Ip), a in any::<Ipv4Addr>(), b in any::<Ipv6Addr>(), l4 in 0u8..=4, l6 in 0u8..=32) {
        let n4 = ipnet::Ipv4Net::new(a, l4 * 8).unwrap().trunc();
        let mut name = String::new();
        z.write_net(n4.into(), &mut name).unwrap();
        match z.decode(&name).unwrap() {
            Query::Apex => prop_assert_eq!(l4, 0),
            Query::Ip(q) => prop_assert_eq!(q.ipv4_prefix(), Some(n4)),
            other => prop_assert!(false, "{other:?}"),
        }
        let n6 = ipnet::Ipv6Net::new(b, l6 * 4).unwrap().trunc();
        name.clear();
        z.write_net(n6.into(), &mut name).unwrap();
        match z.decode(&name).unwrap() {
            Query::Apex => prop_assert_eq!(l6, 0),
            Query::Ip(q) => prop_assert_eq!(q.ipv6_prefix(), Some(n6)),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn domain_round_trip(z in zone(ZoneKind::Domain), labels in proptest::collection::vec("[a-z0-9_-]{1,12}", 1..5), last in "[a-z][a-z0-9-]{0,6}", mask in any::<u64>()) {
        prop_assume!(!labels.iter().chain([&last]).any(|l| l.starts_with("xn--")));
        let d = Domain::new(&format!("{}.{last}", labels.join("."))).unwrap();
        let name = z.name(&Subject::Domain(d.clone())).unwrap();
        let sent = flip_case(&name, mask);
        match z.decode(&sent).unwrap() {
            Query::Domain(got) => prop_assert!(got.eq_ignore_ascii_case(d.as_str())),
            other => prop_assert!(false, "{other:?}"),
        }
    }

    /// Whatever the name, decoding does not panic, and what it accepts re-encodes to a name
    /// that decodes the same.
    #[test]
    fn decode_anything(z in zone(ZoneKind::Ip), d in zone(ZoneKind::Domain), sub in "[0-9a-fA-F.]{0,70}|\\PC{0,20}") {
        let name = format!("{sub}.{}", z.origin());
        if let Ok(Query::Ip(q)) = z.decode(&name) {
            // strict decoding: what is accepted is canonical but for case
            if let Some(a) = q.ipv4() {
                prop_assert!(z.ipv4(a).eq_ignore_ascii_case(&name));
                prop_assert_eq!(ip(z.decode(&z.ipv4(a))), q);
            }
            if let Some(a) = q.ipv6() {
                prop_assert!(z.ipv6(a).eq_ignore_ascii_case(&name));
                prop_assert_eq!(ip(z.decode(&z.ipv6(a))), q);
            }
            for net in [q.ipv4_prefix().map(ipnet::IpNet::V4), q.ipv6_prefix().map(ipnet::IpNet::V6)].into_iter().flatten() {
                let mut again = String::new();
                z.write_net(net, &mut again).unwrap();
                prop_assert!(again.eq_ignore_ascii_case(&name), "{} -> {}", name, again);
            }
        }
        let name = format!("{sub}.{}", d.origin());
        if let Ok(Query::Domain(got)) = d.decode(&name) {
            // decoding checks host-name syntax; only IDNA may still refuse an A-label
            match Domain::new(got) {
                Ok(dom) => prop_assert!(dom.as_str().eq_ignore_ascii_case(got)),
                Err(e) => prop_assert!(matches!(e, rblkit::subject::SubjectError::BadIdn { .. }), "{got:?}: {e}"),
            }
        }
    }
}

#[test]
fn rfc5782_test_points() {
    let z = QueryZone::new("bl.example", ZoneKind::Ip).unwrap();
    assert_eq!(z.ipv4(TEST_IPV4_LISTED), "2.0.0.127.bl.example");
    assert_eq!(z.ipv4(TEST_IPV4_UNLISTED), "1.0.0.127.bl.example");
    let v6 = ip(z.decode(&z.ipv6(TEST_IPV6_LISTED)));
    assert_eq!(
        v6.ipv6().and_then(|a| a.to_ipv4_mapped()),
        Some(TEST_IPV4_LISTED)
    );
    let d = QueryZone::new("dbl.example", ZoneKind::Domain).unwrap();
    assert_eq!(
        d.decode("TEST.dbl.example.").unwrap(),
        Query::Domain("TEST")
    );
    assert_eq!(
        d.name(&DOMAIN_UNLISTED.parse().unwrap()).unwrap(),
        "invalid.dbl.example"
    );
}

/// Every test point has a query name in a zone of its kind.
#[test]
fn test_point_names() {
    let z = QueryZone::new("bl.example", ZoneKind::Ip).unwrap();
    let d = QueryZone::new("dbl.example", ZoneKind::Domain).unwrap();
    let names: Vec<String> = TestPoint::ALL
        .iter()
        .map(|p| {
            let s = p.subject();
            z.name(&s).or_else(|_| d.name(&s)).unwrap()
        })
        .collect();
    assert_eq!(names[0], "2.0.0.127.bl.example");
    assert_eq!(names[4], "test.dbl.example");
    assert_eq!(names[5], "invalid.dbl.example");
}

#[test]
fn wrong_kinds() {
    let z = QueryZone::new("bl.example", ZoneKind::Ip).unwrap();
    for s in ["a@b.example", "spam.example"] {
        let err = z.name(&s.parse().unwrap()).unwrap_err();
        assert!(matches!(err, QnameError::WrongKind { .. }), "{s}");
        let err: rblkit::Error = err.into();
        assert!(err.to_string().contains("IP"), "{err}");
    }
}

#[test]
fn decoding_allocates_nothing() {
    // the counter sees allocations at all
    assert_eq!(allocations(|| drop(String::from("x"))).0, 1);
    let z = QueryZone::new("bl.example", ZoneKind::Ip).unwrap();
    let d = QueryZone::new("dbl.example", ZoneKind::Domain).unwrap();
    let names = [
        z.ipv4(Ipv4Addr::new(192, 0, 2, 1)),
        z.ipv6("2001:db8::1".parse().unwrap()),
        "0.0.127.BL.EXAMPLE.".to_string(),
        "x.y.bl.example".to_string(),
        "2.0.0.127.elsewhere.example".to_string(),
    ];
    let dnames = [
        "www.spam.example.dbl.example".to_string(),
        "1.2.3.4.dbl.example".to_string(),
        format!("{}.dbl.example", "a.".repeat(130)),
    ];
    let mut out = String::with_capacity(256);
    let (n, hits) = allocations(|| {
        let mut hits = 0;
        for name in &names {
            hits += usize::from(z.decode(name).is_ok());
        }
        for name in &dnames {
            hits += usize::from(d.decode(name).is_ok());
        }
        z.write_ipv4(Ipv4Addr::new(198, 51, 100, 7), &mut out);
        out.clear();
        z.write_ipv6(Ipv6Addr::LOCALHOST, &mut out);
        hits
    });
    assert_eq!(hits, 4);
    assert_eq!(
        n, 0,
        "decoding and encoding into a buffer with room allocated"
    );
}
