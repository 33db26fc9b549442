//! Query-name decoding and encoding, beside the usual way of doing it (split, reverse, join,
//! parse: one allocation or more per query).

use criterion::{criterion_group, criterion_main, Criterion};
use rblkit::qname::{Query, QueryZone, ZoneKind};
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The reference: what a straightforward DNSBL server does with a query name.
fn naive_decode_ipv4(name: &str, zone: &str) -> Option<Ipv4Addr> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let sub = lower.strip_suffix(zone)?.strip_suffix('.')?;
    let mut labels: Vec<&str> = sub.split('.').collect();
    if labels.len() != 4 {
        return None;
    }
    labels.reverse();
    labels.join(".").parse().ok()
}

fn naive_decode_ipv6(name: &str, zone: &str) -> Option<Ipv6Addr> {
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let sub = lower.strip_suffix(zone)?.strip_suffix('.')?;
    let nibbles: Vec<&str> = sub.split('.').rev().collect();
    if nibbles.len() != 32 || nibbles.iter().any(|n| n.len() != 1) {
        return None;
    }
    let hex: String = nibbles.concat();
    u128::from_str_radix(&hex, 16).ok().map(Ipv6Addr::from)
}

fn bench(c: &mut Criterion) {
    let zone = QueryZone::new("zen.bl.example", ZoneKind::Ip).unwrap();
    let v4 = zone.ipv4(Ipv4Addr::new(198, 51, 100, 77));
    let v6 = zone.ipv6("2001:db8:1:2:3:4:567:89ab".parse().unwrap());

    let mut g = c.benchmark_group("qname_decode_ipv4");
    g.bench_function("rblkit", |b| {
        b.iter(|| match zone.decode(black_box(&v4)) {
            Ok(Query::Ip(q)) => q.ipv4(),
            _ => None,
        })
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive_decode_ipv4(black_box(&v4), "zen.bl.example"))
    });
    g.finish();

    let mut g = c.benchmark_group("qname_decode_ipv6");
    g.bench_function("rblkit", |b| {
        b.iter(|| match zone.decode(black_box(&v6)) {
            Ok(Query::Ip(q)) => q.ipv6(),
            _ => None,
        })
    });
    g.bench_function("naive", |b| {
        b.iter(|| naive_decode_ipv6(black_box(&v6), "zen.bl.example"))
    });
    g.finish();

    let mut g = c.benchmark_group("qname_encode_ipv4");
    let mut buf = String::with_capacity(64);
    let ip = Ipv4Addr::new(198, 51, 100, 77);
    g.bench_function("rblkit_into_buffer", |b| {
        b.iter(|| {
            buf.clear();
            zone.write_ipv4(black_box(ip), &mut buf);
            buf.len()
        })
    });
    g.bench_function("format", |b| {
        b.iter(|| {
            let [a, bb, cc, d] = black_box(ip).octets();
            format!("{d}.{cc}.{bb}.{a}.zen.bl.example").len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
