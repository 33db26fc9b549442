//! The cost of response-rate limiting and the query quota on the answer path: answers the
//! same queries from 4096 client networks, none of them over its rate or quota, with
//! `respond_from` (no limits) or through `Limits` (rate limiting, or rate limiting and a
//! quota). `scripts/rrl-cost.sh` runs it under callgrind and compares instructions per
//! query.
//!
//!     cargo run --release --example answer_cost --features dns -- plain|rrl|rrl+quota [N]

use rblkit::dns::server::{
    respond_from, Catalog, Client, Limits, Quota, RateLimit, Scratch, Transport,
};
use rblkit::zone::{DatasetKind, DatasetParser, Zone};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

fn catalog() -> Catalog {
    let mut text = String::from(
        "$SOA 1h ns.bl.test. hostmaster.bl.test. 1 1h 15m 1w 5m\n:127.0.0.2:Listed, see https://bl.test/?ip=$\n",
    );
    for i in 0..100_000u32 {
        text.push_str(&format!("{}\n", Ipv4Addr::from(0x0a00_0000 + i * 97)));
    }
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("bl.txt", text.as_bytes()).unwrap();
    let zone = Zone::new("bl.test".parse().unwrap(), vec![p.finish().into()]);
    Catalog::builder().zone(zone).build().unwrap()
}

fn queries() -> Vec<Vec<u8>> {
    (0..1024u32)
        .map(|i| {
            let a = Ipv4Addr::from(0x0a00_0000 + i * 50).octets();
            let mut q = vec![0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
            for l in [a[3], a[2], a[1], a[0]] {
                let t = l.to_string();
                q.push(t.len() as u8);
                q.extend_from_slice(t.as_bytes());
            }
            q.extend_from_slice(b"\x02bl\x04test\x00");
            q.extend_from_slice(&[0, if i % 2 == 0 { 1 } else { 16 }, 0, 1]);
            q
        })
        .collect()
}

fn client(i: usize) -> IpAddr {
    IpAddr::from([100, 64 + (i / 256 % 16) as u8, (i % 256) as u8, 1])
}

#[inline(never)]
fn run_plain(c: &Catalog, qs: &[Vec<u8>], n: usize, out: &mut [u8]) -> usize {
    let mut s = Scratch::new();
    let mut total = 0;
    for i in 0..n {
        total += respond_from(
            c,
            black_box(&qs[i % qs.len()]),
            Transport::Udp,
            Client::at(client(i)),
            &mut s,
            out,
        );
    }
    total
}

#[inline(never)]
fn run_limited(c: &Catalog, l: &Limits, qs: &[Vec<u8>], n: usize, out: &mut [u8]) -> usize {
    let mut s = Scratch::new();
    let mut total = 0;
    for i in 0..n {
        // 10 µs per query: each client network asks about 24 times a second
        let now = (i / 100) as u64;
        total += l.answer_udp(c, black_box(&qs[i % qs.len()]), client(i), now, &mut s, out);
    }
    total
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "plain".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let c = catalog();
    let qs = queries();
    let mut out = [0u8; 512];
    let rrl = || RateLimit::builder().rate(1000).window(4).build().unwrap();
    let total = match mode.as_str() {
        "plain" => run_plain(&c, &qs, n, &mut out),
        "rrl" => run_limited(&c, &Limits::new(Some(rrl()), None), &qs, n, &mut out),
        "rrl+quota" => {
            let q = Quota::builder().queries(1 << 40).build().unwrap();
            run_limited(&c, &Limits::new(Some(rrl()), Some(q)), &qs, n, &mut out)
        }
        other => panic!("unknown mode {other}"),
    };
    println!("{mode}: {n} queries, {total} octets answered");
}
