//! Lookup benchmarks of the compiled `List`, each beside the reference crates in the same run:
//!
//! - `ipv4_mixed_1m`: 1M /32 + 50k /24 + 50k /16 (ip_network_table, prefix-trie);
//! - `ipv4_10m_32`: 10M random /32, single and batched lookups (ip_network_table, prefix-trie);
//! - `ipv6_100k`: 100k IPv6 prefixes /32–/64 and /128 (ip_network_table, prefix-trie);
//! - `domain_1m`: 1M domain entries, exact and wildcard (a `HashSet<String>` suffix walk).
//!
//! Before the criterion groups it prints build time and bytes per entry of every structure,
//! measured with a counting allocator. `RBLKIT_BENCH_SMALL=1` divides the sizes by ten.

use criterion::{Criterion, Throughput};
use ip_network::{Ipv4Network, Ipv6Network};
use ip_network_table::IpNetworkTable;
use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use rblkit::codes::ReturnCode;
use rblkit::list::DomainPattern;
use rblkit::{List, Listing};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator with the same arguments; the counter
// only observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        // SAFETY: same layout as the caller's, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `System.alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `System.alloc` with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A deterministic xorshift generator: the same data every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn u32(&mut self) -> u32 {
        (self.next() >> 16) as u32
    }
}

fn scale() -> usize {
    if std::env::var_os("RBLKIT_BENCH_SMALL").is_some() {
        10
    } else {
        1
    }
}

/// Builds with `f`, returning the value, the time and the bytes it holds.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let v = f();
    let d = t.elapsed();
    let after = LIVE.load(Ordering::Relaxed);
    (v, d, after.saturating_sub(before))
}

fn report(name: &str, what: &str, entries: usize, d: Duration, bytes: usize) {
    println!(
        "{name:<16} {what:<22} build {:>8.3} s   {:>6.1} B/entry   ({} entries)",
        d.as_secs_f64(),
        bytes as f64 / entries as f64,
        entries
    );
}

struct V4Set {
    nets: Vec<(Ipv4Addr, u8)>,
    queries: Vec<Ipv4Addr>,
}

fn mixed_1m() -> V4Set {
    let s = scale();
    let mut r = Rng(0x5eed_0001);
    let mut nets = Vec::new();
    for _ in 0..1_000_000 / s {
        nets.push((Ipv4Addr::from(r.u32()), 32));
    }
    for _ in 0..50_000 / s {
        nets.push((Ipv4Addr::from(r.u32() & 0xffff_ff00), 24));
    }
    for _ in 0..50_000 / s {
        nets.push((Ipv4Addr::from(r.u32() & 0xffff_0000), 16));
    }
    let mut queries = Vec::with_capacity(1 << 20);
    for i in 0..(1usize << 20) {
        let q = match i % 3 {
            0 => u32::from(nets[(r.next() as usize) % (1_000_000 / s)].0),
            1 => {
                let (a, l) = nets[1_000_000 / s + (r.next() as usize) % (100_000 / s)];
                u32::from(a) | (r.u32() >> l)
            }
            _ => r.u32(),
        };
        queries.push(Ipv4Addr::from(q));
    }
    V4Set { nets, queries }
}

fn random_10m() -> V4Set {
    let s = scale();
    let mut r = Rng(0x5eed_0002);
    let nets: Vec<(Ipv4Addr, u8)> = (0..10_000_000 / s)
        .map(|_| (Ipv4Addr::from(r.u32()), 32))
        .collect();
    let queries = (0..(1usize << 20))
        .map(|i| {
            if i % 2 == 0 {
                nets[(r.next() as usize) % nets.len()].0
            } else {
                Ipv4Addr::from(r.u32())
            }
        })
        .collect();
    V4Set { nets, queries }
}

fn build_list_v4(set: &V4Set) -> List {
    let listing = Listing::new(ReturnCode::LISTED).with_txt("listed, see https://bl.example/?$");
    let mut b = List::builder();
    for &(a, l) in &set.nets {
        b.insert_net(
            Ipv4Net::new(a, l).expect("valid").trunc().into(),
            listing.clone(),
        );
    }
    b.build()
}

fn build_table_v4(set: &V4Set) -> IpNetworkTable<u32> {
    let mut t = IpNetworkTable::new();
    for &(a, l) in &set.nets {
        t.insert(Ipv4Network::new_truncate(a, l).expect("valid"), 2u32);
    }
    t
}

fn build_trie_v4(set: &V4Set) -> PrefixMap<Ipv4Net, u32> {
    let mut t = PrefixMap::new();
    for &(a, l) in &set.nets {
        t.insert(Ipv4Net::new(a, l).expect("valid").trunc(), 2u32);
    }
    t
}

fn v4_group(c: &mut Criterion, name: &str, set: &V4Set, batched: bool) {
    let n = set.nets.len();
    let (list, d, bytes) = measured(|| build_list_v4(set));
    report(name, "rblkit List", n, d, bytes);
    let (table, d, bytes) = measured(|| build_table_v4(set));
    report(name, "ip_network_table", n, d, bytes);
    let (trie, d, bytes) = measured(|| build_trie_v4(set));
    report(name, "prefix-trie", n, d, bytes);

    // the three agree before they are timed
    for q in set.queries.iter().take(100_000) {
        let a = list.lookup_ipv4(*q).is_some();
        assert_eq!(a, table.longest_match_ipv4(*q).is_some(), "{q}");
        assert_eq!(a, trie.get_lpm(&Ipv4Net::from(*q)).is_some(), "{q}");
    }

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(set.queries.len() as u64));
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("rblkit", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for q in &set.queries {
                hits += usize::from(list.lookup_ipv4(black_box(*q)).is_some());
            }
            hits
        })
    });
    if batched {
        g.bench_function("rblkit_batch", |b| {
            let mut out = vec![None; 256];
            b.iter(|| {
                let mut hits = 0usize;
                for chunk in set.queries.chunks(256) {
                    list.lookup_ipv4_batch(black_box(chunk), &mut out);
                    hits += out.iter().filter(|o| o.is_some()).count();
                }
                hits
            })
        });
    }
    if batched {
        // the machine's floor for any structure of this size: one read per lookup from an
        // array as large as the list's tables, at a position the address predicts, with no
        // search and no compare
        let words = (list.stats().memory_bytes / 4).max(1);
        let floor: Vec<u32> = (0..words as u32).collect();
        g.bench_function("memory_floor", |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for q in &set.queries {
                    let k = u64::from(u32::from(black_box(*q)));
                    sum += u64::from(floor[((k * words as u64) >> 32) as usize]);
                }
                sum
            })
        });
    }
    g.bench_function("ip_network_table", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for q in &set.queries {
                hits += usize::from(table.longest_match_ipv4(black_box(*q)).is_some());
            }
            hits
        })
    });
    g.bench_function("prefix-trie", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for q in &set.queries {
                hits += usize::from(trie.get_lpm(&Ipv4Net::from(black_box(*q))).is_some());
            }
            hits
        })
    });
    g.finish();
}

fn ipv6_group(c: &mut Criterion) {
    let s = scale();
    let mut r = Rng(0x5eed_0003);
    let mut nets: Vec<(Ipv6Addr, u8)> = Vec::new();
    for i in 0..100_000 / s {
        // clustered like real allocations: a few hundred /16s, then random bits
        let top = (0x2000u128 + u128::from(r.u32() % 300)) << 112;
        let addr = Ipv6Addr::from(top | (u128::from(r.next()) << 48) | u128::from(r.next()));
        let len = match i % 10 {
            0 => 128,
            1..=2 => 48,
            3..=4 => 56,
            _ => 64,
        };
        nets.push((addr, len));
    }
    let queries: Vec<Ipv6Addr> = (0..(1usize << 18))
        .map(|i| {
            let (a, l) = nets[(r.next() as usize) % nets.len()];
            let inside = if l == 128 {
                0
            } else {
                u128::from(r.next()) >> l
            };
            if i % 2 == 0 {
                Ipv6Addr::from((u128::from(a) & !(u128::MAX >> l.min(127))) | inside)
            } else {
                Ipv6Addr::from(u128::from(a) ^ (1u128 << 70))
            }
        })
        .collect();
    let listing = Listing::new(ReturnCode::LISTED);
    let n = nets.len();
    let (list, d, bytes) = measured(|| {
        let mut b = List::builder();
        for &(a, l) in &nets {
            b.insert_net(
                Ipv6Net::new(a, l).expect("valid").trunc().into(),
                listing.clone(),
            );
        }
        b.build()
    });
    report("ipv6_100k", "rblkit List", n, d, bytes);
    let (table, d, bytes) = measured(|| {
        let mut t = IpNetworkTable::new();
        for &(a, l) in &nets {
            t.insert(Ipv6Network::new_truncate(a, l).expect("valid"), 2u32);
        }
        t
    });
    report("ipv6_100k", "ip_network_table", n, d, bytes);
    let (trie, d, bytes) = measured(|| {
        let mut t: PrefixMap<Ipv6Net, u32> = PrefixMap::new();
        for &(a, l) in &nets {
            t.insert(Ipv6Net::new(a, l).expect("valid").trunc(), 2u32);
        }
        t
    });
    report("ipv6_100k", "prefix-trie", n, d, bytes);
    for q in queries.iter().take(50_000) {
        let a = list.lookup_ipv6(*q).is_some();
        assert_eq!(a, table.longest_match_ipv6(*q).is_some(), "{q}");
        assert_eq!(a, trie.get_lpm(&Ipv6Net::from(*q)).is_some(), "{q}");
    }
    let mut g = c.benchmark_group("ipv6_100k");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("rblkit", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| list.lookup_ipv6(black_box(**q)).is_some())
                .count()
        })
    });
    g.bench_function("ip_network_table", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| table.longest_match_ipv6(black_box(**q)).is_some())
                .count()
        })
    });
    g.bench_function("prefix-trie", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| trie.get_lpm(&Ipv6Net::from(black_box(**q))).is_some())
                .count()
        })
    });
    g.finish();
}

fn label(r: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| (b'a' + (r.next() % 26) as u8) as char)
        .collect()
}

fn domain_group(c: &mut Criterion) {
    let s = scale();
    let mut r = Rng(0x5eed_0004);
    const TLDS: [&str; 8] = ["com", "net", "org", "info", "ru", "cn", "xyz", "top"];
    let mut exact = Vec::new();
    let mut wild = Vec::new();
    for i in 0..1_000_000 / s {
        let len = 5 + (r.next() % 10) as usize;
        let name = format!("{}.{}", label(&mut r, len), TLDS[(r.next() % 8) as usize]);
        if i % 5 == 0 {
            wild.push(name);
        } else {
            exact.push(name);
        }
    }
    let queries: Vec<String> = (0..(1usize << 18))
        .map(|i| match i % 4 {
            0 => exact[(r.next() as usize) % exact.len()].clone(),
            1 => format!(
                "{}.{}",
                label(&mut r, 3),
                wild[(r.next() as usize) % wild.len()]
            ),
            2 => format!("www.{}", exact[(r.next() as usize) % exact.len()]),
            _ => format!("{}.{}", label(&mut r, 8), TLDS[(r.next() % 8) as usize]),
        })
        .collect();
    let n = exact.len() + wild.len();
    let listing = Listing::new(ReturnCode::new_assert(127, 0, 1, 2));
    let (list, d, bytes) = measured(|| {
        let mut b = List::builder();
        for e in &exact {
            b.insert(&e.parse().expect("valid"), listing.clone());
        }
        for w in &wild {
            let p: DomainPattern = format!(".{w}").parse().expect("valid");
            b.insert_domain(&p, listing.clone());
        }
        b.build()
    });
    report("domain_1m", "rblkit List", n, d, bytes);
    let ((set_exact, set_wild), d, bytes) = measured(|| {
        let e: HashSet<String> = exact.iter().cloned().collect();
        let w: HashSet<String> = wild.iter().cloned().collect();
        (e, w)
    });
    report("domain_1m", "HashSet<String> walk", n, d, bytes);
    let walk = |q: &str| -> bool {
        if set_exact.contains(q) || set_wild.contains(q) {
            return true;
        }
        let mut rest = q;
        while let Some((_, parent)) = rest.split_once('.') {
            if set_wild.contains(parent) {
                return true;
            }
            rest = parent;
        }
        false
    };
    for q in queries.iter().take(50_000) {
        assert_eq!(list.lookup_domain(q).is_some(), walk(q), "{q}");
    }
    let mut g = c.benchmark_group("domain_1m");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.sample_size(20);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("rblkit", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| list.lookup_domain(black_box(q.as_str())).is_some())
                .count()
        })
    });
    g.bench_function("hashset_suffix_walk", |b| {
        b.iter(|| {
            queries
                .iter()
                .filter(|q| walk(black_box(q.as_str())))
                .count()
        })
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    println!(
        "bytes per entry count what each structure holds after it is built (counting allocator)"
    );
    {
        let set = mixed_1m();
        v4_group(&mut c, "ipv4_mixed_1m", &set, false);
    }
    {
        let set = random_10m();
        v4_group(&mut c, "ipv4_10m_32", &set, true);
    }
    ipv6_group(&mut c);
    domain_group(&mut c);
    c.final_summary();
}
