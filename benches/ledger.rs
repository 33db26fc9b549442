//! Ledger ingest in memory, beside a plain `HashMap` doing the least a ledger must (a decayed
//! score and a last-seen time per subject), and the memory per tracked subject at 10M.
//!
//! `cargo bench --bench ledger -- --warm-up-time 1 --measurement-time 3`; the memory report
//! runs first (set `LEDGER_MEMORY_SUBJECTS` to change its 10M subjects, 0 to skip it).

use criterion::{BatchSize, Criterion, Throughput};
use rblkit::ledger::{Event, Evidence, Ledger};
use rblkit::{Subject, Timestamp};
use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const EVENTS: usize = 1 << 20;
const SUBJECTS: u32 = 100_000;
const HALF_LIFE: f64 = 86_400.0;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// 70 % spam reports from 1000 reporters, 20 % trap hits, 10 % ham reports, over 100k IPv4
/// sources, one event a second on average.
fn events() -> Vec<Event> {
    let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let reporters: Vec<Box<str>> = (0..1000).map(|i| format!("reporter{i}").into()).collect();
    let mut x = 0x2545_f491_4f6c_dd1d;
    (0..EVENTS)
        .map(|i| {
            let r = xorshift(&mut x);
            let ip = Ipv4Addr::from(0x0a00_0000 + (r as u32 % SUBJECTS) * 11);
            let evidence = match (r >> 32) % 10 {
                0..=6 => Evidence::SpamReport {
                    reporter: reporters[(r >> 40) as usize % reporters.len()].clone(),
                    fingerprint: None,
                    weight: None,
                },
                7 | 8 => Evidence::TrapHit {
                    trap: "trap".into(),
                },
                _ => Evidence::HamReport {
                    reporter: "ham".into(),
                },
            };
            Event::new(
                t0 + Duration::from_secs(i as u64),
                Subject::Ip(ip.into()),
                evidence,
            )
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Plain {
    score: f64,
    last: i64,
}

/// The baseline: std `HashMap` (SipHash) keyed by the address, one decayed score.
fn plain_apply(map: &mut HashMap<IpAddr, Plain>, e: &Event) {
    let Subject::Ip(ip) = e.subject else { return };
    let t = e.at.unix_seconds();
    let p = map.entry(ip).or_default();
    let dt = (t - p.last).max(0) as f64;
    p.score = p.score * (-dt / HALF_LIFE).exp2() + 1.0;
    p.last = p.last.max(t);
}

fn bench(c: &mut Criterion) {
    let events = events();
    let mut g = c.benchmark_group("ledger_ingest");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);

    let mut warm = Ledger::new(Default::default());
    for e in &events {
        warm.apply(e);
    }
    // every iteration starts from a copy of the same warm ledger (the copy is not timed), so
    // that the evidence does not pile up over the iterations
    g.bench_function("rblkit_known_subjects", |b| {
        b.iter_batched(
            || warm.clone(),
            |mut l| {
                for e in &events {
                    black_box(l.apply(black_box(e)));
                }
                l
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rblkit_known_subjects_batch", |b| {
        b.iter_batched(
            || warm.clone(),
            |mut l| {
                l.apply_batch(black_box(&events), |_, o| {
                    black_box(o);
                });
                l
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rblkit_fresh_ledger_batch", |b| {
        b.iter_batched(
            || Ledger::new(Default::default()),
            |mut l| {
                l.apply_batch(black_box(&events), |_, o| {
                    black_box(o);
                });
                l
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rblkit_fresh_ledger", |b| {
        b.iter_batched(
            || Ledger::new(Default::default()),
            |mut l| {
                for e in &events {
                    black_box(l.apply(black_box(e)));
                }
                l
            },
            BatchSize::LargeInput,
        )
    });
    let mut warm_plain: HashMap<IpAddr, Plain> = HashMap::new();
    for e in &events {
        plain_apply(&mut warm_plain, e);
    }
    g.bench_function("std_hashmap_known_subjects", |b| {
        b.iter_batched(
            || warm_plain.clone(),
            |mut m| {
                for e in &events {
                    plain_apply(&mut m, black_box(e));
                }
                m
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("std_hashmap_fresh", |b| {
        b.iter_batched(
            HashMap::new,
            |mut m| {
                for e in &events {
                    plain_apply(&mut m, black_box(e));
                }
                m
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Memory per tracked subject: `Ledger::memory()` and the RSS growth, for `n` IPv4 subjects
/// with one spam report each (the common case of a DNSBL: many sources, few reports each).
fn memory_report(n: u32) {
    if n == 0 {
        return;
    }
    let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let before = rss_bytes();
    let start = Instant::now();
    let mut l = Ledger::new(Default::default());
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..n {
        let ip = Ipv4Addr::from(0x0100_0000u32.wrapping_add(i.wrapping_mul(2_654_435_761)));
        let e = Event::new(
            t0 + Duration::from_secs(u64::from(i % 86_400)),
            Subject::Ip(ip.into()),
            Evidence::SpamReport {
                reporter: if xorshift(&mut x).is_multiple_of(2) {
                    "a".into()
                } else {
                    "b".into()
                },
                fingerprint: None,
                weight: None,
            },
        );
        l.apply(&e);
    }
    let took = start.elapsed();
    let m = l.memory();
    let rss = rss_bytes()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(b) / m.subjects);
    println!(
        "ledger memory: {} subjects, {} B/subject by capacity, {} B/subject RSS growth; built in {:.2?} ({:.2} M events/s incl. inserts)",
        m.subjects,
        m.bytes / m.subjects,
        rss.map_or("?".to_string(), |r| r.to_string()),
        took,
        f64::from(n) / took.as_secs_f64() / 1e6
    );
    black_box(l);
}

fn main() {
    let n = std::env::var("LEDGER_MEMORY_SUBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    memory_report(n);
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
