//! The cost of URL extraction on the bench corpus (`benches/common/corpus.rs`), for
//! instruction counts under callgrind beside linkify on the same bytes, and a dump of every
//! hit for comparing two versions of the extractor (`scripts/extract-diff.sh`).
//!
//!     cargo run --release --example extract_cost -- rblkit|linkify|none dense|sparse MB
//!     cargo run --release --example extract_cost -- dump dense|sparse MB
//!     cargo run --release --example extract_cost -- dump FILE…
//!     cargo run --release --example extract_cost -- kind url|track|www|email|…
//!     cargo run --release --example extract_cost -- time dense|sparse MB ROUNDS
//!     cargo run --release --example extract_cost -- timekind url|track|www|email|… ROUNDS
//!
//! A `.tsv` FILE is read as the case table (`tests/data/extract/cases.tsv`): each row's
//! input (escapes `\t`, `\n`, `\\`, `\u{XXXX}`) is scanned as plain text.
//!
//! `time` times both on the corpus in turns and prints the median throughput of each and
//! their ratio, then those of the fastest rounds: steadier on a shared machine than two
//! benchmarks run one after the other.
//! With `APART=1` all of rblkit's rounds run first, then all of linkify's (as criterion runs
//! them); with `ONLY_RBLKIT=1` too, linkify does not run (for a profiler such as `perf
//! record`; the ratio printed is then meaningless). Two builds compared this way differ by
//! up to about 4 % from code placement alone, linkify's side included: read differences
//! below that as noise and count instructions (`rblkit`) instead.
//!
//! `kind` scans 2,000 lines of prose that each hold one token of a kind (a URL, a URL
//! carrying another, an email, `e.g.`, …) inside `run_rblkit`: `scripts/extract-cost.sh
//! kinds` counts what a token of each kind costs beyond the prose around it. `timekind`
//! times ten times those lines and prints the median and fastest time a line: less that of
//! `prose`, the time a token of the kind takes when every token is of that kind (the
//! processor then guesses the scanner's branches better than in mixed text).
//!
//! `rblkit` and `linkify` scan the corpus once inside `run_rblkit` / `run_linkify` (so
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=*run_rblkit*` counts only
//! the scan) and print the number of hits; `none` only builds the corpus. The hit vector is
//! grown by an uncounted scan first, as a filter reusing it from message to message has it. `dump` prints one
//! line per hit with every field the API gives.

#[path = "../benches/common/corpus.rs"]
mod corpus;

use linkify::{LinkFinder, LinkKind};
use rblkit::extract::{Extractor, Format, Hit};
use std::hint::black_box;
use std::process::ExitCode;

#[inline(never)]
fn run_rblkit(ex: &Extractor, text: &str, hits: &mut Vec<Hit>) -> usize {
    ex.extract_text(black_box(text), hits)
        .expect("the corpus is within the limits");
    hits.len()
}

/// The same scan as [`run_rblkit`], not counted: it grows `hits` to the size the counted
/// scan needs.
#[inline(never)]
fn run_warm(ex: &Extractor, text: &str, hits: &mut Vec<Hit>) {
    ex.extract_text(black_box(text), hits)
        .expect("the corpus is within the limits");
}

#[inline(never)]
fn run_linkify(finder: &LinkFinder, text: &str) -> usize {
    finder.links(black_box(text)).count()
}

/// Times rblkit and linkify on `text` in turns, `rounds` times each (so both see the same
/// load on a shared machine), and prints the median throughput of each and their ratio.
fn time_both(ex: &Extractor, text: &str, rounds: usize, hits: &mut Vec<Hit>) {
    use std::time::Instant;
    let finder = linkify_finder();
    let apart = std::env::var_os("APART").is_some();
    let only = apart && std::env::var_os("ONLY_RBLKIT").is_some();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let linkify = |theirs: &mut Vec<f64>| {
        let t = Instant::now();
        black_box(run_linkify(&finder, text));
        theirs.push(t.elapsed().as_secs_f64());
    };
    run_warm(ex, text, hits);
    for _ in 0..rounds {
        // the hits of the round before dropped inside the time, as the criterion bench
        // does and a filter reusing its hit vector pays
        let t = Instant::now();
        hits.clear();
        black_box(run_rblkit(ex, text, hits));
        ours.push(t.elapsed().as_secs_f64());
        if !apart {
            linkify(&mut theirs);
        }
    }
    if apart && !only {
        for _ in 0..rounds {
            linkify(&mut theirs);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let mib = text.len() as f64 / f64::from(1 << 20);
    let (o, l) = (median(&mut ours), median(&mut theirs));
    // the fastest round of each: the one least slowed by other work on the machine
    let (fo, fl) = (ours[0], theirs.first().copied().unwrap_or(f64::NAN));
    println!(
        "rblkit {:.0} MiB/s, linkify {:.0} MiB/s, ratio {:.2}x ({rounds} rounds, medians); \
         fastest rblkit {:.0} MiB/s, linkify {:.0} MiB/s, ratio {:.2}x",
        mib / o,
        mib / l,
        l / o,
        mib / fo,
        mib / fl,
        fl / fo
    );
}

fn linkify_finder() -> LinkFinder {
    let mut f = LinkFinder::new();
    f.url_must_have_scheme(false);
    f.kinds(&[LinkKind::Url, LinkKind::Email]);
    f
}

fn corpus_of(kind: &str, mb: &str) -> Option<String> {
    let scale = match kind {
        "dense" => 1,
        "sparse" => 10,
        _ => return None,
    };
    let mb: usize = mb.parse().ok()?;
    Some(corpus::corpus(mb << 20, scale))
}

fn dump(name: &str, hits: &[Hit], err: Option<String>) {
    for h in hits {
        println!(
            "{name}\t{}\t{}\t{}\t{}\t{:?}\t{:?}\t{}\t{}\t{}",
            h.kind(),
            h.url().or(h.email()).unwrap_or("-"),
            h.host(),
            h.registrable_domain().unwrap_or("-"),
            h.ip(),
            h.span(),
            h.part(),
            h.flags(),
            h.flags().bits(),
        );
    }
    if let Some(e) = err {
        println!("{name}\terror\t{e}");
    }
}

/// The escapes of the case table.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(k) = rest.find('\\') {
        out.push_str(&rest[..k]);
        let esc = &rest[k + 1..];
        let (ch, used) = match esc.as_bytes().first() {
            Some(b't') => ('\t', 1),
            Some(b'n') => ('\n', 1),
            Some(b'u') => match esc.find('}') {
                Some(e) => (
                    esc.get(2..e)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .unwrap_or('\u{FFFD}'),
                    e + 1,
                ),
                None => ('\\', 0),
            },
            _ => ('\\', 0),
        };
        out.push(ch);
        rest = &esc[used..];
    }
    out.push_str(rest);
    out
}

fn dump_cases(ex: &Extractor, file: &str, table: &str) {
    let mut hits = Vec::new();
    // Every input once more in one long text (short and long texts take other searches).
    let mut joined = String::new();
    for (n, line) in table.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let input = unescape(line.split('\t').next().unwrap_or(""));
        hits.clear();
        let err = ex
            .extract_text(&input, &mut hits)
            .err()
            .map(|e| e.to_string());
        dump(&format!("{file}:{}", n + 1), &hits, err);
        joined.push_str(&input);
        joined.push('\n');
    }
    hits.clear();
    let err = ex
        .extract_text(&joined, &mut hits)
        .err()
        .map(|e| e.to_string());
    dump(&format!("{file}:joined"), &hits, err);
}

/// Writes a token of one kind with a number drawn for it.
type Make = fn(u64) -> String;

/// The kinds of token `kind` measures.
const KINDS: &[(&str, Make)] = &[
    ("prose", |_| "offer".to_owned()),
    ("url", |n| {
        format!("https://www.shop{n}.co.uk/p/offer?id={n}")
    }),
    ("track", |n| {
        format!("http://mail{n}.example.com/track?u=https%3A%2F%2Fland{n}.de%2F")
    }),
    ("www", |n| format!("www.site{n}.com")),
    ("email", |n| format!("user{n}@mail{n}.net")),
    ("host", |n| format!("brand{n}.info")),
    ("version", |n| format!("{}.{}.{}", n % 10, n % 7, n % 13)),
    ("file", |n| format!("report{n}.pdf")),
    ("ip", |n| format!("192.0.{}.{}", n % 256, (n / 7) % 256)),
    ("price", |n| format!("${}.{:02}", n % 500, n % 100)),
    ("eg", |_| "e.g.".to_owned()),
];

/// 2,000 lines of prose, each with one token of `kind` in it.
fn kind_text(kind: &str) -> Option<String> {
    let (_, make) = KINDS.iter().find(|(k, _)| *k == kind)?;
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut text = String::new();
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str("the customer will verify ");
        text.push_str(&make(x % 10_000));
        text.push_str(" and then please click here today.\n");
    }
    Some(text)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ex = Extractor::new();
    let mut hits = Vec::new();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [what @ ("rblkit" | "linkify" | "none"), kind, mb] => {
            let Some(text) = corpus_of(kind, mb) else {
                eprintln!("usage: extract_cost rblkit|linkify|none dense|sparse MB");
                return ExitCode::from(64);
            };
            let n = match what {
                "rblkit" => {
                    // A filter reuses its hit vector from message to message (as the
                    // criterion bench does): grow it outside the counted scan.
                    run_warm(&ex, &text, &mut hits);
                    hits.clear();
                    run_rblkit(&ex, &text, &mut hits)
                }
                "linkify" => run_linkify(&linkify_finder(), &text),
                _ => 0,
            };
            println!("{what} {kind} {mb} MB ({} bytes): {n} hits", text.len());
        }
        ["time", kind, mb, rounds] => {
            let (Some(text), Ok(rounds)) = (corpus_of(kind, mb), rounds.parse::<usize>()) else {
                eprintln!("usage: extract_cost time dense|sparse MB ROUNDS");
                return ExitCode::from(64);
            };
            time_both(&ex, &text, rounds.max(1), &mut hits);
        }
        ["kind", kind] => {
            let Some(text) = kind_text(kind) else {
                let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
                eprintln!("usage: extract_cost kind {}", names.join("|"));
                return ExitCode::from(64);
            };
            run_warm(&ex, &text, &mut hits);
            hits.clear();
            let n = run_rblkit(&ex, &text, &mut hits);
            println!("kind {kind} ({} bytes): {n} hits", text.len());
        }
        ["timekind", kind, rounds] => {
            let (Some(line), Ok(rounds)) = (kind_text(kind), rounds.parse::<usize>()) else {
                eprintln!("usage: extract_cost timekind KIND ROUNDS");
                return ExitCode::from(64);
            };
            let text = line.repeat(10);
            run_warm(&ex, &text, &mut hits);
            let mut times = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                hits.clear();
                let t = std::time::Instant::now();
                black_box(run_rblkit(&ex, &text, &mut hits));
                times.push(t.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            let lines = text.lines().count();
            println!(
                "{kind}: {:.1} ns a line, fastest {:.1} ({lines} lines, {rounds} rounds)",
                times[rounds / 2] * 1e9 / lines as f64,
                times[0] * 1e9 / lines as f64
            );
        }
        ["dump", kind @ ("dense" | "sparse"), mb] => {
            let Some(text) = corpus_of(kind, mb) else {
                eprintln!("usage: extract_cost dump dense|sparse MB");
                return ExitCode::from(64);
            };
            let err = ex
                .extract_text(&text, &mut hits)
                .err()
                .map(|e| e.to_string());
            dump(&format!("{kind}-{mb}MB"), &hits, err);
        }
        ["dump", ref files @ ..] if !files.is_empty() => {
            for f in files {
                let bytes = match std::fs::read(f) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("{f}: {e}");
                        return ExitCode::from(66);
                    }
                };
                if f.ends_with(".tsv") {
                    dump_cases(&ex, f, &String::from_utf8_lossy(&bytes));
                    continue;
                }
                hits.clear();
                let err = ex
                    .extract(&bytes, Format::detect(&bytes), &mut hits)
                    .err()
                    .map(|e| e.to_string());
                dump(f, &hits, err);
            }
        }
        _ => {
            eprintln!("usage: extract_cost rblkit|linkify|none|dump dense|sparse MB | dump FILE…");
            return ExitCode::from(64);
        }
    }
    ExitCode::SUCCESS
}
