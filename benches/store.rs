//! Persisted ingest (feature `store`), side by side in one run: the SQLite WAL journal of
//! `ledger::store` with `synchronous=FULL` and `NORMAL`, committed in batches of 1, 100 and
//! 10 000 events; the reference design, an append-only checksummed journal file flushed
//! (`fdatasync`) once per batch, doing the same per-event work (apply to the in-memory
//! ledger, write the JSON line, CRC-32); the in-memory `Ledger` alone; and a plain `HashMap`.
//!
//! Then the check-and-add of the policy server's class counts (`counter_charge`): one
//! message against two limits whose keys hold a full rolling hour (one row per second) in
//! the state directory's counter tables (`StoreCounters`, 100 charges per transaction),
//! beside the same in memory (`EmbeddedCounters`).
//!
//! `cargo bench --features store --bench store -- --warm-up-time 1 --measurement-time 3`.
//! The files go to cargo's target temporary directory (on the disk, not a tmpfs).

use criterion::{BenchmarkId, Criterion, Throughput};
use rblkit::ledger::store::{Durability, Store, StoreOptions};
use rblkit::ledger::{Charge, CounterStore, EmbeddedCounters, Event, Evidence, Ledger};
use rblkit::{Subject, Timestamp};
use std::collections::HashMap;
use std::hint::black_box;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SUBJECTS: u32 = 100_000;

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// 70 % spam reports from 1000 reporters, 20 % trap hits, 10 % ham reports over 100k IPv4
/// sources (as in the `ledger` bench).
fn events(n: usize) -> Vec<Event> {
    let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let reporters: Vec<Box<str>> = (0..1000).map(|i| format!("reporter{i}").into()).collect();
    let mut x = 0x2545_f491_4f6c_dd1d;
    (0..n)
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

fn tmp(tag: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-store-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The reference: one file, records `crc32 len line\n`, `fdatasync` after each batch.
struct JournalFile {
    file: std::fs::File,
    buf: Vec<u8>,
    line: String,
    ledger: Ledger,
}

impl JournalFile {
    fn open(path: &std::path::Path) -> JournalFile {
        JournalFile {
            file: std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap(),
            buf: Vec::with_capacity(1 << 20),
            line: String::with_capacity(256),
            ledger: Ledger::new(Default::default()),
        }
    }

    fn append(&mut self, batch: &[Event]) {
        self.buf.clear();
        for e in batch {
            black_box(self.ledger.apply(e));
            self.line.clear();
            e.write_line(&mut self.line);
            let crc = crc32fast::hash(self.line.as_bytes());
            let _ = write!(self.buf, "{crc:08x} {} ", self.line.len());
            self.buf.extend_from_slice(self.line.as_bytes());
            self.buf.push(b'\n');
        }
        self.file.write_all(&self.buf).unwrap();
        self.file.sync_data().unwrap();
    }
}

/// Events per measured iteration for a batch size: enough batches to average, few enough
/// that a flushed batch of one stays within the measurement time.
fn per_iteration(batch: usize) -> usize {
    match batch {
        1 => 50,
        100 => 5_000,
        _ => 50_000,
    }
}

fn bench(c: &mut Criterion) {
    let all = events(200_000);
    let mut g = c.benchmark_group("persisted_ingest");
    g.sample_size(10);

    // in memory: the HashMap baseline and the ledger
    let n = 100_000;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("hashmap", |b| {
        b.iter(|| {
            let mut map: HashMap<IpAddr, (f64, i64)> = HashMap::new();
            for e in &all[..n] {
                let Subject::Ip(ip) = e.subject else { continue };
                let t = e.at.unix_seconds();
                let p = map.entry(ip).or_default();
                let dt = (t - p.1).max(0) as f64;
                p.0 = p.0 * (-dt / 86_400.0).exp2() + 1.0;
                p.1 = p.1.max(t);
            }
            black_box(map.len())
        })
    });
    g.bench_function("ledger_in_memory", |b| {
        b.iter(|| {
            let mut l = Ledger::new(Default::default());
            l.apply_batch(&all[..n], |_, o| {
                black_box(o);
            });
            black_box(l.len())
        })
    });

    for batch in [1usize, 100, 10_000] {
        let n = per_iteration(batch);
        g.throughput(Throughput::Elements(n as u64));
        for (name, durability) in [
            ("sqlite_wal_full", Durability::Full),
            ("sqlite_wal_normal", Durability::Normal),
        ] {
            let dir = tmp(&format!("{name}-{batch}"));
            let opts = StoreOptions::default().with_durability(durability);
            let mut store =
                Store::open_with(&dir, Default::default(), opts, Box::new(|l, e| l.apply(e)))
                    .unwrap();
            let mut at = 0;
            g.bench_function(BenchmarkId::new(name, batch), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        for _ in 0..n / batch {
                            if at + batch > all.len() {
                                at = 0;
                            }
                            black_box(store.append(&all[at..at + batch]).unwrap());
                            at += batch;
                        }
                    }
                    start.elapsed()
                })
            });
        }
        let dir = tmp(&format!("journal-{batch}"));
        let mut j = JournalFile::open(&dir.join("journal"));
        let mut at = 0;
        g.bench_function(BenchmarkId::new("journal_file_fsync", batch), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    for _ in 0..n / batch {
                        if at + batch > all.len() {
                            at = 0;
                        }
                        j.append(&all[at..at + batch]);
                        at += batch;
                    }
                }
                start.elapsed()
            })
        });
    }
    g.finish();

    // replay on open: how long a process takes to read a journal of this size
    let dir = tmp("replay");
    let mut store = Store::open_with(
        &dir,
        Default::default(),
        StoreOptions::default().with_durability(Durability::Normal),
        Box::new(|l, e| l.apply(e)),
    )
    .unwrap();
    for chunk in all.chunks(10_000) {
        store.append(chunk).unwrap();
    }
    drop(store);
    let mut g = c.benchmark_group("store_open");
    g.sample_size(10);
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_function("replay_200k", |b| {
        b.iter(|| black_box(Store::open(&dir, Default::default()).unwrap().last_seq()))
    });
    g.finish();
}

/// 100 charges of one message against `limits` at `t`, one call (one transaction).
fn charge_100<C: CounterStore>(c: &mut C, t: Timestamp, limits: &[(&str, u64)]) -> usize
where
    C::Error: std::fmt::Debug,
{
    let one = Charge {
        once: None,
        limits,
        n: 1,
    };
    let mut out = Vec::with_capacity(100);
    c.charge(t, &[one; 100], &mut out).unwrap();
    out.len()
}

fn counters(c: &mut Criterion) {
    let limits = [
        ("global", u64::MAX),
        ("sender_domain:shop.example.com", u64::MAX),
    ];
    let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let dir = tmp("counters");
    let store = Store::open_with(
        &dir,
        Default::default(),
        StoreOptions::default().with_durability(Durability::Normal),
        Box::new(|l, e| l.apply(e)),
    )
    .unwrap();
    let mut embedded = EmbeddedCounters::new();
    // a full rolling hour: a row per second in each key
    for s in 0..3600 {
        let t = t0 + Duration::from_secs(s);
        charge_100(&mut store.counters(), t, &limits);
        charge_100(&mut embedded, t, &limits);
    }
    let now = t0 + Duration::from_secs(3599);
    let mut g = c.benchmark_group("counter_charge");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100));
    g.bench_function("state_directory_hour_of_rows", |b| {
        b.iter(|| black_box(charge_100(&mut store.counters(), now, &limits)))
    });
    g.bench_function("embedded_in_memory", |b| {
        b.iter(|| black_box(charge_100(&mut embedded, now, &limits)))
    });
    g.finish();
}

criterion::criterion_group!(benches, bench, counters);
criterion::criterion_main!(benches);
