//! `List` against a naive linear-scan oracle, on random sets with exclusions and overlapping
//! prefixes, for both precedence rules.

use proptest::prelude::*;
use rblkit::codes::ReturnCode;
use rblkit::list::{DomainPattern, DomainScope, Entry, Precedence};
use rblkit::{List, Listing, Subject};
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What the oracle compares: codes and TXT templates as sets.
type Answer = Option<(BTreeSet<ReturnCode>, BTreeSet<String>)>;

fn answer(l: Option<&Listing>) -> Answer {
    l.map(|l| {
        (
            l.codes().iter().copied().collect(),
            l.txt().iter().map(|t| t.to_string()).collect(),
        )
    })
}

fn merge(ls: &[&Listing]) -> Answer {
    if ls.is_empty() {
        return None;
    }
    let mut codes = BTreeSet::new();
    let mut txt = BTreeSet::new();
    for l in ls {
        codes.extend(l.codes().iter().copied());
        txt.extend(l.txt().iter().map(|t| t.to_string()));
    }
    Some((codes, txt))
}

/// An entry of the oracle: a prefix (start, len) over `bits`-bit keys, or an exclusion.
#[derive(Debug, Clone)]
struct NetEntry {
    start: u128,
    len: u8,
    listing: Option<Listing>,
}

fn covers(e: &NetEntry, bits: u32, key: u128) -> bool {
    if e.len == 0 {
        return true;
    }
    let shift = bits - u32::from(e.len);
    (key >> shift) == (e.start >> shift)
}

fn oracle_net(entries: &[NetEntry], bits: u32, key: u128, p: Precedence) -> Answer {
    let cov: Vec<&NetEntry> = entries.iter().filter(|e| covers(e, bits, key)).collect();
    if cov.is_empty() {
        return None;
    }
    if p == Precedence::ExclusionsWin && cov.iter().any(|e| e.listing.is_none()) {
        return None;
    }
    let best = cov.iter().map(|e| e.len).max().expect("non-empty");
    let top: Vec<&&NetEntry> = cov.iter().filter(|e| e.len == best).collect();
    if top.iter().any(|e| e.listing.is_none()) {
        return None;
    }
    merge(
        &top.iter()
            .filter_map(|e| e.listing.as_ref())
            .collect::<Vec<_>>(),
    )
}

fn listing_strategy() -> impl Strategy<Value = Listing> {
    (2u8..8, proptest::option::of(0u8..4)).prop_map(|(c, t)| {
        let l = Listing::new(ReturnCode::new_assert(127, 0, 0, c));
        match t {
            Some(t) => l.with_txt(format!("reason {t}: $")),
            None => l,
        }
    })
}

/// IPv4 entries packed into 10.0.0.0/20 so that they overlap often.
fn v4_entries() -> impl Strategy<Value = Vec<NetEntry>> {
    proptest::collection::vec(
        (
            0u32..4096,
            20u8..=32,
            proptest::option::weighted(0.75, listing_strategy()),
        ),
        0..60,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(off, len, listing)| {
                let addr = (10u32 << 24) | off;
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                NetEntry {
                    start: u128::from(addr & mask),
                    len,
                    listing,
                }
            })
            .collect()
    })
}

fn build_v4(entries: &[NetEntry], p: Precedence) -> List {
    let mut b = List::builder();
    b.precedence(p);
    for e in entries {
        let net = ipnet::Ipv4Net::new(Ipv4Addr::from(e.start as u32), e.len).expect("valid");
        match &e.listing {
            Some(l) => b.insert_net(net.into(), l.clone()),
            None => b.exclude_net(net.into()),
        };
    }
    b.build()
}

fn precedence() -> impl Strategy<Value = Precedence> {
    prop_oneof![
        Just(Precedence::ExclusionsWin),
        Just(Precedence::MostSpecific)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn ipv4_matches_oracle(entries in v4_entries(), p in precedence(), probes in proptest::collection::vec(0u32..4200, 64)) {
        let list = build_v4(&entries, p);
        let mut keys: Vec<u32> = probes.iter().map(|o| (10u32 << 24) + o).collect();
        // every boundary of every entry, and one past it
        for e in &entries {
            let s = e.start as u32;
            let last = if e.len == 32 { s } else { s | (u32::MAX >> e.len) };
            keys.extend([s, s.wrapping_sub(1), last, last.wrapping_add(1)]);
        }
        let ips: Vec<Ipv4Addr> = keys.iter().map(|&k| Ipv4Addr::from(k)).collect();
        let mut batch = vec![None; ips.len()];
        list.lookup_ipv4_batch(&ips, &mut batch);
        for (i, &k) in keys.iter().enumerate() {
            let want = oracle_net(&entries, 32, u128::from(k), p);
            let got = answer(list.lookup_ipv4(Ipv4Addr::from(k)));
            prop_assert_eq!(&got, &want, "address {}", Ipv4Addr::from(k));
            prop_assert_eq!(answer(batch[i]), want, "batch, address {}", Ipv4Addr::from(k));
        }
    }

    #[test]
    fn ipv4_same_contents_same_list(entries in v4_entries(), p in precedence()) {
        let a = build_v4(&entries, p);
        let b = build_v4(&entries, p);
        prop_assert_eq!(&a, &b);
        // rebuilding from what the list says gives the same answers everywhere
        let mut rb = List::builder();
        rb.precedence(Precedence::MostSpecific);
        for (first, last, e) in a.ipv4_ranges() {
            for net in ipnet::Ipv4Subnets::new(first, last, 0) {
                match e {
                    Entry::Listed(l) => rb.insert_net(net.into(), l.clone()),
                    Entry::Excluded => rb.exclude_net(net.into()),
                    _ => unreachable!(),
                };
            }
        }
        for (addr, e) in a.ipv4_addresses() {
            let s = Subject::Ip(addr.into());
            match e {
                Entry::Listed(l) => rb.insert(&s, l.clone()),
                Entry::Excluded => rb.exclude(&s),
                _ => unreachable!(),
            };
        }
        let r = rb.build();
        for off in 0u32..4200 {
            let ip = Ipv4Addr::from((10u32 << 24) + off);
            prop_assert_eq!(answer(r.lookup_ipv4(ip)), answer(a.lookup_ipv4(ip)), "{}", ip);
        }
    }

    #[test]
    fn ipv6_matches_oracle(
        raw in proptest::collection::vec((0u16..256, 104u8..=128, proptest::option::weighted(0.75, listing_strategy())), 0..40),
        p in precedence(),
        probes in proptest::collection::vec(0u16..300, 64),
    ) {
        let base: u128 = u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0));
        let entries: Vec<NetEntry> = raw
            .into_iter()
            .map(|(off, len, listing)| {
                let addr = base | u128::from(off);
                let mask = u128::MAX << (128 - u32::from(len)).min(127);
                let mask = if len == 128 { u128::MAX } else { mask };
                NetEntry { start: addr & mask, len, listing }
            })
            .collect();
        let mut b = List::builder();
        b.precedence(p);
        for e in &entries {
            let net = ipnet::Ipv6Net::new(Ipv6Addr::from(e.start), e.len).expect("valid");
            match &e.listing {
                Some(l) => b.insert_net(net.into(), l.clone()),
                None => b.exclude_net(net.into()),
            };
        }
        let list = b.build();
        for off in probes {
            let key = base | u128::from(off);
            let want = oracle_net(&entries, 128, key, p);
            prop_assert_eq!(answer(list.lookup_ipv6(Ipv6Addr::from(key))), want, "{}", Ipv6Addr::from(key));
        }
    }

    #[test]
    fn domains_match_oracle(
        raw in proptest::collection::vec((0usize..12, 0u8..3, proptest::option::weighted(0.75, listing_strategy())), 0..30),
        p in precedence(),
    ) {
        const NAMES: [&str; 12] = [
            "example", "com", "example.com", "a.example.com", "b.a.example.com", "c.b.a.example.com",
            "other.com", "x.other.com", "net", "bad.net", "www.bad.net", "a.b.c.d.e.net",
        ];
        let entries: Vec<(DomainPattern, Option<Listing>)> = raw
            .into_iter()
            .map(|(i, s, l)| {
                let scope = [DomainScope::Exact, DomainScope::Subdomains, DomainScope::NameAndSubdomains][s as usize];
                (DomainPattern::new(NAMES[i].parse().unwrap(), scope), l)
            })
            .collect();
        let mut b = List::builder();
        b.precedence(p);
        for (pat, l) in &entries {
            match l {
                Some(l) => b.insert_domain(pat, l.clone()),
                None => b.exclude_domain(pat),
            };
        }
        let list = b.build();
        let queries = NAMES.iter().copied().chain(["zz.c.b.a.example.com", "q.www.bad.net", "EXAMPLE.COM", "a.example.com.", "unlisted.org", "e.net"]);
        for q in queries {
            let qn = q.trim_end_matches('.').to_ascii_lowercase();
            let want = oracle_domain(&entries, &qn, p);
            prop_assert_eq!(answer(list.lookup_domain(q)), want, "{}", q);
        }
    }

    #[test]
    fn emails_match_oracle(raw in proptest::collection::vec((0usize..4, proptest::option::weighted(0.75, listing_strategy())), 0..10)) {
        const ADDRS: [&str; 4] = ["a@x.example", "b@x.example", "a@y.example", "sender1@relay.example"];
        let mut b = List::builder();
        for (i, l) in &raw {
            let s: Subject = ADDRS[*i].parse().unwrap();
            match l {
                Some(l) => b.insert(&s, l.clone()),
                None => b.exclude(&s),
            };
        }
        let list = b.build();
        for (i, a) in ADDRS.iter().enumerate() {
            let mine: Vec<&Option<Listing>> = raw.iter().filter(|r| r.0 == i).map(|r| &r.1).collect();
            let want = if mine.iter().any(|l| l.is_none()) {
                None
            } else {
                merge(&mine.iter().filter_map(|l| l.as_ref()).collect::<Vec<_>>())
            };
            prop_assert_eq!(answer(list.lookup_email(a)), want.clone(), "{}", a);
            prop_assert_eq!(answer(list.lookup_email(&a.to_uppercase())), want, "{}", a);
        }
    }
}

fn oracle_domain(entries: &[(DomainPattern, Option<Listing>)], q: &str, p: Precedence) -> Answer {
    let at_name: Vec<&(DomainPattern, Option<Listing>)> = entries
        .iter()
        .filter(|(pat, _)| pat.domain().as_str() == q && pat.scope().covers_name())
        .collect();
    // parents that carry subdomain entries, nearest first
    let labels: Vec<&str> = q.split('.').collect();
    let mut parents: Vec<Vec<&(DomainPattern, Option<Listing>)>> = Vec::new();
    for k in 1..labels.len() {
        let parent = labels[k..].join(".");
        let v: Vec<_> = entries
            .iter()
            .filter(|(pat, _)| pat.domain().as_str() == parent && pat.scope().covers_subdomains())
            .collect();
        if !v.is_empty() {
            parents.push(v);
        }
    }
    if p == Precedence::ExclusionsWin
        && at_name
            .iter()
            .chain(parents.iter().flatten())
            .any(|(_, l)| l.is_none())
    {
        return None;
    }
    let decisive = if !at_name.is_empty() {
        at_name
    } else {
        parents.into_iter().next()?
    };
    if decisive.iter().any(|(_, l)| l.is_none()) {
        return None;
    }
    merge(
        &decisive
            .iter()
            .filter_map(|(_, l)| l.as_ref())
            .collect::<Vec<_>>(),
    )
}

#[test]
fn rbldnsd_style_precedence() {
    // list a /16, exclude a /24 inside it, list one address inside the exclusion again
    let mut b = List::builder();
    b.precedence(Precedence::MostSpecific);
    let l = Listing::new(ReturnCode::LISTED);
    b.insert(&"10.1.0.0/16".parse().unwrap(), l.clone());
    b.exclude(&"10.1.2.0/24".parse().unwrap());
    b.insert(&"10.1.2.3".parse().unwrap(), l.clone());
    let most = b.build();
    assert!(most.lookup_ipv4("10.1.2.3".parse().unwrap()).is_some());
    assert!(most.lookup_ipv4("10.1.2.4".parse().unwrap()).is_none());
    assert!(most.lookup_ipv4("10.1.3.4".parse().unwrap()).is_some());

    let mut b = List::builder();
    b.insert(&"10.1.0.0/16".parse().unwrap(), l.clone());
    b.exclude(&"10.1.2.0/24".parse().unwrap());
    b.insert(&"10.1.2.3".parse().unwrap(), l);
    let excl = b.build();
    assert!(excl.lookup_ipv4("10.1.2.3".parse().unwrap()).is_none());
    assert!(excl.lookup_ipv4("10.1.3.4".parse().unwrap()).is_some());
}

#[test]
fn whole_address_space() {
    let mut b = List::builder();
    b.insert(
        &"0.0.0.0/0".parse().unwrap(),
        Listing::new(ReturnCode::LISTED),
    );
    b.exclude(&"255.255.255.255".parse().unwrap());
    b.exclude(&"0.0.0.0".parse().unwrap());
    b.insert(&"::/0".parse().unwrap(), Listing::new(ReturnCode::LISTED));
    b.exclude(
        &"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124"
            .parse()
            .unwrap(),
    );
    let list = b.build();
    assert!(list.lookup_ipv4("0.0.0.1".parse().unwrap()).is_some());
    assert!(list
        .lookup_ipv4("255.255.255.254".parse().unwrap())
        .is_some());
    assert!(list
        .lookup_ipv4("255.255.255.255".parse().unwrap())
        .is_none());
    assert!(list.lookup_ipv4("0.0.0.0".parse().unwrap()).is_none());
    assert!(list.lookup_ipv6("::".parse().unwrap()).is_some());
    assert!(list
        .lookup_ipv6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap())
        .is_none());
    assert!(list
        .lookup_ipv6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffef".parse().unwrap())
        .is_some());
}

#[test]
fn many_listings_use_wide_entries() {
    // more distinct listings than the packed entry format holds
    let mut b = List::builder();
    for i in 0..70_000u32 {
        let code = ReturnCode::new_assert(127, (i >> 16) as u8, (i >> 8) as u8, i as u8);
        b.insert(
            &Subject::Ip(Ipv4Addr::from(0x0a00_0000 + i * 7).into()),
            Listing::new(code),
        );
    }
    let list = b.build();
    for i in (0..70_000u32).step_by(997) {
        let l = list
            .lookup_ipv4(Ipv4Addr::from(0x0a00_0000 + i * 7))
            .expect("listed");
        assert_eq!(
            l.codes(),
            &[ReturnCode::new_assert(
                127,
                (i >> 16) as u8,
                (i >> 8) as u8,
                i as u8
            )]
        );
        assert!(list
            .lookup_ipv4(Ipv4Addr::from(0x0a00_0000 + i * 7 + 1))
            .is_none());
    }
    assert_eq!(list.stats().listings, 70_000);
}

#[test]
fn merged_listings_keep_since_and_expiry() {
    let t1: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let t2: rblkit::Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
    let mut b = List::builder();
    let s: Subject = "192.0.2.1".parse().unwrap();
    b.insert(
        &s,
        Listing::new(ReturnCode::LISTED)
            .with_since(t2)
            .with_expires(t2),
    );
    b.insert(
        &s,
        Listing::new(ReturnCode::new_assert(127, 0, 0, 4))
            .with_since(t1)
            .with_expires(t1),
    );
    let list = b.build();
    let l = list.lookup(&s).unwrap();
    assert_eq!(l.since(), Some(t1));
    assert_eq!(l.expires(), Some(t2));
    assert_eq!(l.codes().len(), 2);
}

#[test]
fn network_subject_lookup() {
    let mut b = List::builder();
    b.insert(
        &"10.0.0.0/8".parse().unwrap(),
        Listing::new(ReturnCode::LISTED),
    );
    b.exclude(&"10.9.9.9".parse().unwrap());
    let list = b.build();
    assert!(list.lookup(&"10.1.0.0/16".parse().unwrap()).is_some());
    assert!(list.lookup(&"10.9.9.0/24".parse().unwrap()).is_none());
    assert!(list.lookup(&"10.0.0.0/7".parse().unwrap()).is_none());
}

#[test]
fn network_lookup_sees_exact_entries() {
    let mut b = List::builder();
    b.insert(
        &"10.0.0.0/8".parse().unwrap(),
        Listing::new(ReturnCode::LISTED),
    );
    for i in 0..1000u32 {
        b.insert(
            &Subject::Ip(Ipv4Addr::from(0x0b00_0000 + i * 65_536).into()),
            Listing::new(ReturnCode::LISTED),
        );
    }
    b.insert(
        &"10.200.0.7".parse().unwrap(),
        Listing::new(ReturnCode::new_assert(127, 0, 0, 4)),
    );
    let list = b.build();
    assert!(list.lookup(&"10.200.0.0/24".parse().unwrap()).is_none());
    assert!(list.lookup(&"10.201.0.0/24".parse().unwrap()).is_some());
    assert!(list.lookup(&"11.3.0.0/16".parse().unwrap()).is_none());
    assert!(list.lookup(&"11.3.0.1/32".parse().unwrap()).is_none());
    assert!(list.lookup(&"11.3.0.0/32".parse().unwrap()).is_some());
}

#[test]
fn swapped_while_readers_run() {
    use arc_swap::ArcSwap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    // generation g lists 10.0.0.0/24 with code 127.0.0.(g % 200 + 2) on every address;
    // a reader must always see one whole generation, never a mix
    fn generation(g: u8) -> List {
        let mut b = List::builder();
        let l = Listing::new(ReturnCode::new_assert(127, 0, 0, g % 200 + 2));
        for i in 0..256u32 {
            b.insert(
                &Subject::Ip(Ipv4Addr::from(0x0a00_0000 + i).into()),
                l.clone(),
            );
        }
        b.build()
    }
    let current = Arc::new(ArcSwap::from_pointee(generation(0)));
    let stop = Arc::new(AtomicBool::new(false));
    // readers that finished a first check: the swaps go on until both have, however the
    // threads are scheduled
    let started = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let current = Arc::clone(&current);
            let stop = Arc::clone(&stop);
            let started = Arc::clone(&started);
            std::thread::spawn(move || {
                let mut checks = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let list = current.load();
                    let first = list
                        .lookup_ipv4(Ipv4Addr::new(10, 0, 0, 0))
                        .expect("listed")
                        .codes()[0];
                    for i in 0..256u32 {
                        let c = list
                            .lookup_ipv4(Ipv4Addr::from(0x0a00_0000 + i))
                            .expect("listed")
                            .codes()[0];
                        assert_eq!(c, first, "mixed generations");
                    }
                    if checks == 0 {
                        started.fetch_add(1, Ordering::Relaxed);
                    }
                    checks += 1;
                }
                checks
            })
        })
        .collect();
    let mut g = 1u8;
    while g < 50 || started.load(Ordering::Relaxed) < 2 {
        current.store(Arc::new(generation(g)));
        g = g.wrapping_add(1).max(1);
        std::thread::yield_now();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }
}

#[test]
fn large_buckets_found_by_interpolation() {
    // 300k addresses: whole /24s (dense, skewed inside their /16), scattered addresses and
    // a run of consecutive ones; every one is found, its unlisted neighbours are not
    let mut set = BTreeSet::new();
    for net in 0..200u32 {
        let base = 0x0a0b_0000 + (net % 50) * 256 + (net / 50) * 0x0100_0000;
        for host in 0..256u32 {
            set.insert(base + host);
        }
    }
    let mut x: u32 = 12345;
    while set.len() < 300_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        set.insert(x);
    }
    for i in 0..5000u32 {
        set.insert(0xc000_0000 + i);
    }
    for distinct in [1u32, 70_000] {
        let mut b = List::builder();
        for (i, &a) in set.iter().enumerate() {
            let c = (i as u32) % distinct;
            let code = ReturnCode::new_assert(
                127,
                (c >> 16) as u8,
                (c >> 8) as u8,
                (c as u8).wrapping_add(2),
            );
            b.insert(&Subject::Ip(Ipv4Addr::from(a).into()), Listing::new(code));
        }
        let list = b.build();
        for (i, &a) in set.iter().enumerate() {
            let c = (i as u32) % distinct;
            let code = ReturnCode::new_assert(
                127,
                (c >> 16) as u8,
                (c >> 8) as u8,
                (c as u8).wrapping_add(2),
            );
            let got = list.lookup_ipv4(Ipv4Addr::from(a)).map(|l| l.codes()[0]);
            assert_eq!(got, Some(code), "{}", Ipv4Addr::from(a));
            for n in [a.wrapping_sub(1), a.wrapping_add(1)] {
                assert_eq!(
                    list.lookup_ipv4(Ipv4Addr::from(n)).is_some(),
                    set.contains(&n),
                    "{}",
                    Ipv4Addr::from(n)
                );
            }
        }
        assert_eq!(list.ipv4_addresses().count(), set.len());
    }
}

#[test]
fn batch_lookups_on_a_line_table_answer_as_single_ones() {
    // 2.3M addresses (the cache-line table), networks around some of them and excluded
    // addresses among them; batches of every length from 0 to past the prefetch distance,
    // and an output longer than the input
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u32
    };
    let listed = Listing::new(ReturnCode::LISTED);
    let net = Listing::new(ReturnCode::new_assert(127, 0, 0, 3));
    let mut b = List::builder();
    let addrs: Vec<u32> = (0..2_300_000).map(|_| next()).collect();
    for &a in &addrs {
        b.insert(&Subject::Ip(Ipv4Addr::from(a).into()), listed.clone());
    }
    for i in 0..2_000u32 {
        let a = addrs[i as usize * 7] & 0xffff_ff00;
        let n = ipnet::Ipv4Net::new(Ipv4Addr::from(a), 24).expect("valid");
        b.insert(&Subject::Net(n.into()), net.clone());
    }
    for &a in addrs.iter().skip(3).step_by(101) {
        b.exclude(&Subject::Ip(Ipv4Addr::from(a).into()));
    }
    let list = b.build();
    let mut queries: Vec<Ipv4Addr> = Vec::new();
    for i in 0..300_000usize {
        let q = match i % 4 {
            0 | 1 => addrs[next() as usize % addrs.len()],
            2 => addrs[next() as usize % addrs.len()] ^ 1,
            _ => next(),
        };
        queries.push(Ipv4Addr::from(q));
    }
    let mut out = vec![None; 600];
    let mut at = 0;
    let mut len = 0;
    let mut listed_seen = 0;
    while at < queries.len() {
        let batch = &queries[at..(at + len).min(queries.len())];
        out.iter_mut().for_each(|o| *o = Some(&listed));
        list.lookup_ipv4_batch(batch, &mut out);
        for (q, o) in batch.iter().zip(&out) {
            assert_eq!(*o, list.lookup_ipv4(*q), "{q}");
            listed_seen += usize::from(o.is_some());
        }
        // what lies past the input is left alone
        assert!(out[batch.len()..].iter().all(|o| o == &Some(&listed)));
        at += batch.len();
        len = (len + 1) % 300;
    }
    assert!(listed_seen > 100_000, "{listed_seen}");
}
