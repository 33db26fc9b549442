//! `compile` of a ledger with 1M listed subjects (SpamCop-like: a trap hit and two reports
//! each), beside the reference: a `ListBuilder` fed the same 1M addresses with ready
//! listings (what compiling costs beyond building the list), and `ListDiff` of two
//! compiles an hour apart.
//!
//! `cargo bench --bench compile -- --warm-up-time 1 --measurement-time 3`
//! (`COMPILE_SUBJECTS` changes the 1M).

use criterion::{Criterion, Throughput};
use rblkit::codes::ReturnCode;
use rblkit::ledger::{Event, Evidence, Ledger};
use rblkit::list::ListDiff;
use rblkit::policy::{compile, Policy};
use rblkit::{List, Listing, Subject, Timestamp};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

fn ip(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000u32.wrapping_add(i.wrapping_mul(2_654_435_761) & 0x00ff_ffff))
}

fn ledger(n: u32, t0: Timestamp) -> Ledger {
    let mut l = Ledger::new(Default::default());
    let mut events = Vec::with_capacity(3 * n as usize);
    for i in 0..n {
        let s = Subject::Ip(ip(i).into());
        let t = t0 + Duration::from_secs(u64::from(i % 3600));
        events.push(Event::new(
            t,
            s.clone(),
            Evidence::TrapHit { trap: "t".into() },
        ));
        for r in ["a", "b"] {
            events.push(Event::new(
                t,
                s.clone(),
                Evidence::SpamReport {
                    reporter: r.into(),
                    fingerprint: None,
                    weight: None,
                },
            ));
        }
    }
    l.apply_batch(&events, |_, _| {});
    l
}

fn main() {
    let n: u32 = std::env::var("COMPILE_SUBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let now = t0 + Duration::from_secs(7200);
    let start = Instant::now();
    let l = ledger(n, t0);
    println!(
        "ledger of {} subjects built in {:.2?}",
        l.len(),
        start.elapsed()
    );
    let policy = Policy::spamcop();
    let one = compile(&l, &policy, now);
    let listed = one.stats().ipv4_addresses;
    println!("compiled: {listed} listed addresses");
    assert_eq!(listed, l.len());
    // the reference: the same addresses, listings made beforehand
    let entries: Vec<(Subject, Listing)> = (0..n)
        .map(|i| {
            let t = t0 + Duration::from_secs(u64::from(i % 3600));
            (
                Subject::Ip(ip(i).into()),
                Listing::new(ReturnCode::LISTED)
                    .with_since(t)
                    .with_expires(t + Duration::from_secs(86_400)),
            )
        })
        .collect();

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("compile_1m");
    g.throughput(Throughput::Elements(u64::from(n)));
    g.sample_size(10);
    g.bench_function("rblkit_compile_spamcop", |b| {
        b.iter(|| black_box(compile(&l, &policy, now)))
    });
    let spam_center = Policy::spam_center();
    g.bench_function("rblkit_compile_spam_center", |b| {
        b.iter(|| black_box(compile(&l, &spam_center, now)))
    });
    g.bench_function("list_builder_same_entries", |b| {
        b.iter(|| {
            let mut lb = List::builder();
            for (s, listing) in &entries {
                lb.insert(s, listing.clone());
            }
            black_box(lb.build())
        })
    });
    let later = compile(&l, &policy, now + Duration::from_secs(3600 * 23));
    g.bench_function("list_diff_two_compiles", |b| {
        b.iter(|| black_box(ListDiff::answers_between(&one, &later).len()))
    });
    g.finish();
    c.final_summary();
}
