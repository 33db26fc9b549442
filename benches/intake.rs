//! Intake throughput: messages per second from bytes to events (`Intake::report`: the
//! `Received` walk, extraction, fingerprint, events) beside extraction alone
//! (`Extractor::extract_message`) on the same generated corpus of 10,000 messages — plain,
//! HTML and multipart/alternative, 2–50 KB each.
//!
//! Two more pairs follow what the commands do with each message: `extract_json` is
//! `rblkit extract --json` (format detection, extraction, one JSON line per hit; needs the
//! `serde` feature) and `report_ingest` is `rblkit ledger report` short of the disk (the
//! report, its events as JSON lines, the events applied to an in-memory ledger).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rblkit::extract::Extractor;
use rblkit::intake::{Intake, IntakeConfig, ReportKind};

use rblkit::Timestamp;
use std::hint::black_box;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "the",
    "offer",
    "account",
    "please",
    "click",
    "verify",
    "your",
    "payment",
    "today",
    "limited",
    "discount",
    "customer",
    "service",
    "shipping",
    "meeting",
    "regards",
    "and",
    "to",
    "of",
    "in",
    "for",
    "with",
    "on",
    "update",
    "security",
    "newsletter",
    "free",
];

/// Text of about `bytes` bytes, with links to the message's few domains (`pool`) about one
/// word in 150, as in newsletters and spam: many links, few distinct sites.
fn prose(r: &mut Rng, bytes: usize, html: bool, pool: &[String]) -> String {
    let mut s = String::with_capacity(bytes + 200);
    while s.len() < bytes {
        let n = r.below(100_000);
        let d = &pool[r.below(pool.len() as u64) as usize];
        match r.below(150) {
            0 => s.push_str(&format!("https://www.{d}/p?id={n} ")),
            1 if html => s.push_str(&format!(
                "<a href=\"http://track.{d}/c?u=https%3A%2F%2Fland.{d}%2F{n}\">here</a> "
            )),
            2 => s.push_str(&format!("www.{d} ")),
            3 => s.push_str(&format!("info{n}@{d} ")),
            _ => {
                s.push_str(WORDS[r.below(WORDS.len() as u64) as usize]);
                s.push(' ');
            }
        }
        if r.below(12) == 0 {
            s.push_str(if html { "<br>\r\n" } else { "\r\n" });
        }
    }
    s
}

fn message(r: &mut Rng, i: usize) -> Vec<u8> {
    let size = 2_000 + r.below(48_000) as usize;
    const TLDS: &[&str] = &["com", "net", "org", "biz", "de", "co.uk", "ru", "info"];
    let pool: Vec<String> = (0..1 + r.below(8))
        .map(|_| {
            format!(
                "brand{}.{}",
                r.below(50_000),
                TLDS[r.below(TLDS.len() as u64) as usize]
            )
        })
        .collect();
    let ip = format!(
        "{}.{}.{}.{}",
        45 + r.below(150),
        r.below(256),
        r.below(256),
        1 + r.below(250)
    );
    let mut m = format!(
        "Received: from localhost (localhost [127.0.0.1]) by mx.ourlist.example (Postfix) with ESMTP id A{i}; Tue, 1 Dec 2026 10:00:01 +0000\r\n\
Received: from host{i}.sender.example (host{i}.sender.example [{ip}]) by mx.ourlist.example (Postfix) with ESMTPS id B{i}; Tue, 1 Dec 2026 10:00:00 +0000\r\n\
Received: from internal.sender.example (internal.sender.example [10.0.0.{}]) by host{i}.sender.example (Postfix) with ESMTP id C{i}; Tue, 1 Dec 2026 09:59:59 +0000\r\n\
From: \"Offers\" <news{i}@sender.example>\r\nTo: trap{i}@ourlist.example\r\nSubject: Offer {i}\r\nMessage-ID: <{i}@sender.example>\r\nMIME-Version: 1.0\r\n",
        1 + r.below(250)
    );
    match i % 3 {
        0 => {
            m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
            m.push_str(&prose(r, size, false, &pool));
        }
        1 => {
            m.push_str("Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
            m.push_str(&prose(r, size, true, &pool));
            m.push_str("</body></html>\r\n");
        }
        _ => {
            m.push_str("Content-Type: multipart/alternative; boundary=\"b-");
            m.push_str(&i.to_string());
            m.push_str("\"\r\n\r\n");
            m.push_str(&format!("--b-{i}\r\nContent-Type: text/plain\r\n\r\n"));
            m.push_str(&prose(r, size / 2, false, &pool));
            m.push_str(&format!("\r\n--b-{i}\r\nContent-Type: text/html\r\n\r\n"));
            m.push_str(&prose(r, size / 2, true, &pool));
            m.push_str(&format!("\r\n--b-{i}--\r\n"));
        }
    }
    m.into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut r = Rng(0x2545_F491_4F6C_DD1D);
    let corpus: Vec<Vec<u8>> = (0..10_000).map(|i| message(&mut r, i)).collect();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    eprintln!(
        "corpus: {} messages, {:.1} MB",
        corpus.len(),
        bytes as f64 / 1e6
    );
    let ex = Extractor::new();
    let intake = Intake::new(IntakeConfig::default());
    let now = Timestamp::from_unix_assert(1_795_168_800);
    let trap = ReportKind::trap("trap@ourlist.example");
    let mut g = c.benchmark_group("intake_10k_messages");
    g.sample_size(10);
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.bench_function("extract_message", |b| {
        let mut hits = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for m in &corpus {
                hits.clear();
                let _ = ex.extract_message(black_box(m), &mut hits);
                n += hits.len();
            }
            n
        })
    });
    #[cfg(feature = "serde")]
    g.bench_function("extract_json", |b| {
        let mut hits = Vec::new();
        let mut out: Vec<u8> = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for m in &corpus {
                hits.clear();
                out.clear();
                let format = rblkit::extract::Format::detect(black_box(m));
                let _ = ex.extract(m, format, &mut hits);
                for h in &hits {
                    serde_json::to_writer(&mut out, h).expect("a hit serialises");
                    out.push(b'\n');
                }
                n += out.len();
            }
            n
        })
    });
    g.bench_function("report_ingest", |b| {
        let mut text = String::new();
        b.iter(|| {
            let mut ledger = rblkit::ledger::Ledger::new(Default::default());
            let mut n = 0;
            for m in &corpus {
                if let Ok(rep) = intake.report(black_box(m), &trap, now) {
                    text.clear();
                    for e in &rep.events {
                        e.write_line(&mut text);
                        ledger.apply(e);
                    }
                    n += text.len();
                }
            }
            n
        })
    });
    g.bench_function("fingerprint_only", |b| {
        b.iter(|| {
            let mut n = 0;
            for m in &corpus {
                n += rblkit::intake::fingerprint(black_box(m)).len();
            }
            n
        })
    });
    g.bench_function("intake_report_trap", |b| {
        b.iter(|| {
            let mut n = 0;
            for m in &corpus {
                if let Ok(rep) = intake.report(black_box(m), &trap, now) {
                    n += rep.events.len();
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
