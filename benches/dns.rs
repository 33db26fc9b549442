//! Answering one query: the server's own path (request read in place, answer written into
//! a fixed buffer) beside the stock `domain` path (its message parser and builder, the
//! zone's owned-string query).

use criterion::{criterion_group, criterion_main, Criterion};
use domain::base::iana::{Class, Rcode};
use domain::base::{Message, MessageBuilder};
use domain::rdata::{Txt, A};
use rblkit::dns::server::{
    respond, respond_from, Catalog, Client, Limits, RateLimit, Scratch, Transport,
};
use rblkit::zone::{DatasetKind, DatasetParser, Zone};
use std::hint::black_box;

fn zone() -> Zone {
    let mut text = String::from(
        "$SOA 1h ns.bl.test. hostmaster.bl.test. 1 1h 15m 1w 5m\n$TTL 10m\n:127.0.0.2:Listed, see https://bl.test/?ip=$\n",
    );
    for i in 0..100_000u32 {
        let a = 0x0a00_0000 + i * 97;
        text.push_str(&format!("{}\n", std::net::Ipv4Addr::from(a)));
    }
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("bl.txt", text.as_bytes()).unwrap();
    Zone::new("bl.test".parse().unwrap(), vec![p.finish().into()])
}

fn query(name: &str, qtype: u16) -> Vec<u8> {
    let mut q = vec![0x12, 0x34, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for l in name.split('.') {
        q.push(l.len() as u8);
        q.extend_from_slice(l.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    q
}

/// The stock way: `domain` parses, the zone answers in owned strings, `domain` builds.
fn stock(zone: &Zone, q: &[u8], target: Vec<u8>) -> Vec<u8> {
    let msg = Message::from_octets(q).unwrap();
    let question = msg.first_question().unwrap();
    let name = question.qname().to_string();
    let answer = zone.query(&name);
    let rcode = if answer.is_some() {
        Rcode::NOERROR
    } else {
        Rcode::NXDOMAIN
    };
    let mut b = MessageBuilder::from_target(target)
        .unwrap()
        .start_answer(&msg, rcode)
        .unwrap();
    b.header_mut().set_aa(true);
    if let Some(a) = answer {
        let ttl = domain::base::Ttl::from_secs(a.ttl.unwrap_or(2100));
        if question.qtype() == domain::base::iana::Rtype::A {
            for c in &a.codes {
                b.push((question.qname(), Class::IN, ttl, A::new(c.addr())))
                    .unwrap();
            }
        } else {
            for t in &a.txt {
                let txt = Txt::<Vec<u8>>::build_from_slice(t.as_bytes()).unwrap();
                b.push((question.qname(), Class::IN, ttl, txt)).unwrap();
            }
        }
    }
    b.finish()
}

fn bench(c: &mut Criterion) {
    let z = zone();
    let catalog = Catalog::builder().zone(z.clone()).build().unwrap();
    let cases = [
        ("listed A", query("1.0.0.10.bl.test", 1)),
        ("listed TXT", query("97.0.0.10.bl.test", 16)),
        ("unlisted A", query("2.0.0.10.bl.test", 1)),
    ];
    let mut g = c.benchmark_group("answer");
    for (what, q) in &cases {
        let mut scratch = Scratch::new();
        let mut out = [0u8; 512];
        g.bench_function(format!("rblkit {what}"), |b| {
            b.iter(|| {
                respond(
                    &catalog,
                    black_box(q),
                    Transport::Udp,
                    &mut scratch,
                    &mut out,
                )
            })
        });
        g.bench_function(format!("domain stock {what}"), |b| {
            b.iter(|| stock(&z, black_box(q), Vec::with_capacity(512)).len())
        });
    }
    g.finish();

    // rate limiting with no client over its rate, beside the same answers without it
    let limits = Limits::new(
        Some(
            RateLimit::builder()
                .rate(100_000)
                .window(4)
                .build()
                .unwrap(),
        ),
        None,
    );
    let clients: Vec<std::net::IpAddr> = (0..4096u32)
        .map(|i| std::net::IpAddr::from([100, 64 + (i / 256) as u8, (i % 256) as u8, 1]))
        .collect();
    let mut g = c.benchmark_group("limits");
    for (what, q) in &cases {
        let mut scratch = Scratch::new();
        let mut out = [0u8; 512];
        let mut i = 0usize;
        g.bench_function(format!("unlimited {what}"), |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let from = Client::at(clients[i % clients.len()]);
                respond_from(
                    &catalog,
                    black_box(q),
                    Transport::Udp,
                    from,
                    &mut scratch,
                    &mut out,
                )
            })
        });
        let mut i = 0usize;
        g.bench_function(format!("rate limited {what}"), |b| {
            b.iter(|| {
                i = i.wrapping_add(1);
                let from = clients[i % clients.len()];
                limits.answer_udp(
                    &catalog,
                    black_box(q),
                    from,
                    (i / 100) as u64,
                    &mut scratch,
                    &mut out,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
