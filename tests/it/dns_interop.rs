//! Interop: real rbldnsd (Debian package `rbldnsd`) and `rblkit::dns::server` serve the same
//! generated datasets (every type, a zone of several datasets, a combined dataset, `$SOA`,
//! `$NS`, `$TTL`, `:A:TXT`); thousands of queries (listed, unlisted, excluded, boundaries,
//! apex, out of zone, A/TXT/ANY/AAAA/MX/SOA/NS, mixed case, with and without EDNS) must get
//! the same answer from both — rcode, AA/TC/RD, every record of every section with its TTL —
//! or differ only where the server follows the RFCs on purpose, each checked as such:
//! an empty non-terminal (NOERROR, not NXDOMAIN), an OPT record echoed, and an answer too big
//! for 512 octets (TC instead of records dropped silently).

use super::dns_tools::{read, serve, tcp_ask, Udp, A, Q};
use super::zone_interop::fixture;
use super::zone_tools::{tool, Rbldnsd, TempDir};
use std::collections::HashSet;
use std::net::SocketAddr;

fn same(t: &A, o: &A) -> bool {
    (
        t.rcode,
        t.aa,
        t.tc,
        t.rd,
        &t.question,
        &t.answer,
        &t.authority,
        &t.additional,
    ) == (
        o.rcode,
        o.aa,
        o.tc,
        o.rd,
        &o.question,
        &o.answer,
        &o.authority,
        &o.additional,
    )
}

#[test]
fn answers_like_rbldnsd() {
    let Some(bin) = tool("rbldnsd", &["/usr/sbin/rbldnsd"], "rbldnsd") else {
        return;
    };
    let dir = TempDir::new("dns-interop");
    let (specs, names) = fixture(&dir);
    let theirs = Rbldnsd::start(&bin, &dir, &specs);
    let ours = serve(&specs, 2, None);
    let ct = Udp::new(SocketAddr::from(([127, 0, 0, 1], theirs.port)));
    let co = Udp::new(ours.local_addrs()[0]);

    let mut qs: Vec<Q> = Vec::new();
    let other_types = [255u16, 28, 15, 6, 2];
    for (i, (name, _zone)) in names.iter().enumerate() {
        qs.push(Q::new(name, 1));
        qs.push(Q::new(name, 16));
        if i % 3 == 0 {
            qs.push(Q::new(name, other_types[i / 3 % other_types.len()]));
        }
        if i % 5 == 0 {
            let mut q = Q::new(name, if i % 2 == 0 { 16 } else { 1 }).edns(1232);
            q.rd = i % 4 == 0;
            qs.push(q);
        }
    }
    let mut zones: Vec<String> = specs
        .iter()
        .map(|s| s.split(':').next().unwrap().to_owned())
        .collect();
    zones.dedup();
    for z in &zones {
        for t in [1u16, 16, 255, 28, 15, 6, 2] {
            qs.push(Q::new(z, t));
            qs.push(Q::new(&z.to_ascii_uppercase(), t).edns(4096));
        }
        let mut q = Q::new(&format!("2.0.0.127.{z}"), 16);
        q.qclass = 255;
        qs.push(q);
        for sub in [
            "10",
            "0.10",
            "1.0.10",
            "0.1.0.10",
            "com",
            "example",
            "b.d.0.1.0.0.2",
        ] {
            qs.push(Q::new(&format!("{sub}.{z}"), 1));
        }
    }
    for out in [
        "example.org",
        "test",
        "x.test",
        "ip4set.test.evil",
        "tset.test",
        ".",
    ] {
        qs.push(Q::new(out, 1));
        qs.push(Q::new(out, 16).edns(1232));
    }

    let mut failures = Vec::new();
    let mut positive: HashSet<String> = HashSet::new();
    let mut ent: Vec<String> = Vec::new();
    let mut truncated: Vec<Q> = Vec::new();
    let (mut identical, mut with_opt) = (0usize, 0usize);
    for q in &qs {
        let (Some(tr), Some(or)) = (ct.ask(q), co.ask(q)) else {
            failures.push(format!("{q:?}: no answer from one of them"));
            continue;
        };
        let (Some(t), Some(o)) = (read(&tr), read(&or)) else {
            failures.push(format!("{q:?}: answer does not parse"));
            continue;
        };
        // EDNS: ours always answers an OPT with one (rbldnsd only for answers over 512)
        if o.opt.is_some() != q.edns.is_some() {
            failures.push(format!("{q:?}: OPT in answer {:?}", o.opt));
        }
        with_opt += usize::from(o.opt.is_some());
        if t.rcode == 0 && !t.answer.is_empty() {
            positive.insert(q.name.to_ascii_lowercase());
        }
        if same(&t, &o) {
            identical += 1;
            continue;
        }
        if t.rcode == 3
            && o.rcode == 0
            && o.answer.is_empty()
            && t.answer.is_empty()
            && t.authority == o.authority
            && (t.aa, t.tc) == (o.aa, o.tc)
        {
            ent.push(q.name.to_ascii_lowercase());
            continue;
        }
        if o.tc && o.answer.is_empty() && !t.aa && t.size > 400 {
            truncated.push(q.clone());
            continue;
        }
        failures.push(format!("{q:?}:\n  rbldnsd {t:?}\n  rblkit  {o:?}"));
    }
    // every NOERROR-where-rbldnsd-says-NXDOMAIN must be a name with listed names below it
    let mut unexplained = Vec::new();
    for n in &ent {
        let suffix = format!(".{n}");
        if !positive.iter().any(|p| p.ends_with(&suffix)) {
            unexplained.push(n.clone());
        }
    }
    // every truncated answer comes complete over TCP, holding what rbldnsd squeezed in
    for q in &truncated {
        let full = tcp_ask(ours.local_addrs()[0], &q.wire(7)).and_then(|m| read(&m));
        let t = read(&ct.ask(q).unwrap()).unwrap();
        match full {
            Some(f) if !f.tc && t.answer.iter().all(|r| f.answer.contains(r)) => {}
            other => failures.push(format!("{q:?}: over TCP {other:?}")),
        }
    }
    eprintln!(
        "{} queries: {identical} identical, {} empty non-terminals, {} truncated, {with_opt} with OPT",
        qs.len(),
        ent.len(),
        truncated.len()
    );
    assert!(qs.len() > 5000, "only {} queries", qs.len());
    assert!(
        unexplained.is_empty(),
        "NOERROR for names without listed names below: {unexplained:?}"
    );
    assert!(
        failures.is_empty(),
        "{} differences, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(12)].join("\n")
    );
    assert!(identical > qs.len() * 9 / 10);
}
