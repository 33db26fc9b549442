//! URL extraction throughput: rblkit's `Extractor::extract_text` (finding *and* normalising:
//! hosts, IDN, IPv4 forms, registrable domains, redirectors) beside the `linkify` crate
//! (finding only) on the same deterministic corpus of mail-like text, at 1 MB and 10 MB, with
//! links about one word in 25 (`extract_text`, a marketing mail) and one in 250
//! (`extract_text_sparse`, a conversation).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use linkify::{LinkFinder, LinkKind};
use rblkit::extract::Extractor;
use std::hint::black_box;

#[path = "common/corpus.rs"]
mod corpus;
use corpus::corpus;

fn bench(c: &mut Criterion) {
    let ex = Extractor::new();
    let finder = {
        let mut f = LinkFinder::new();
        f.url_must_have_scheme(false);
        f.kinds(&[LinkKind::Url, LinkKind::Email]);
        f
    };
    for (group, scale) in [("extract_text", 1), ("extract_text_sparse", 10)] {
        let mut g = c.benchmark_group(group);
        g.sample_size(10);
        for mb in [1usize, 10] {
            let text = corpus(mb << 20, scale);
            g.throughput(Throughput::Bytes(text.len() as u64));
            let mut hits = Vec::new();
            g.bench_with_input(
                BenchmarkId::new("rblkit", format!("{mb}MB")),
                &text,
                |b, t| {
                    b.iter(|| {
                        hits.clear();
                        ex.extract_text(black_box(t), &mut hits).unwrap();
                        black_box(hits.len())
                    })
                },
            );
            g.bench_with_input(
                BenchmarkId::new("linkify", format!("{mb}MB")),
                &text,
                |b, t| b.iter(|| black_box(finder.links(black_box(t)).count())),
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
