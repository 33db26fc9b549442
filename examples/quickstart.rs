//! Quickstart on the bundled sample data in `data/sample/`:
//!
//! 1. compile a list from `list.txt`, answer the queries of `queries.txt` the way a DNS list
//!    would (codes and TXT), and check the RFC 5782 test points;
//! 2. load rbldnsd datasets (`bl.ip4set`, `dbl.dnset`) as the zones `bl.example` and
//!    `dbl.example`;
//! 3. extract the URLs, hosts and addresses of a spam message (`spam.eml`) and ask the zones
//!    about each of them, as a content filter does;
//! 4. time lookups on a list of one million addresses.
//!
//! ```text
//! cargo run --release --example quickstart [LIST_FILE [QUERY_FILE]]
//! ```

use rblkit::codes::ReturnCode;
use rblkit::list::DomainPattern;
use rblkit::{List, Listing, Subject};
use std::net::Ipv4Addr;
use std::time::Instant;

/// A line's key: a subject, or a domain pattern with a wildcard.
enum Key {
    Subject(Subject),
    Pattern(DomainPattern),
}

fn parse_key(text: &str) -> Result<Key, rblkit::Error> {
    if text.starts_with('.') || text.starts_with("*.") {
        Ok(Key::Pattern(text.parse()?))
    } else {
        Ok(Key::Subject(text.parse()?))
    }
}

/// The first whitespace-separated token of `s`, and what follows it.
fn token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

fn load(path: &str) -> Result<List, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut b = List::builder();
    let mut entries = 0;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (first, rest) = token(line);
        let result = if let Some(excluded) = first.strip_prefix('!') {
            parse_key(excluded).map(|k| match k {
                Key::Subject(s) => {
                    b.exclude(&s);
                }
                Key::Pattern(p) => {
                    b.exclude_domain(&p);
                }
            })
        } else {
            let (code, txt) = token(rest);
            let code: Result<ReturnCode, _> = if code.is_empty() {
                Ok(ReturnCode::LISTED)
            } else {
                code.parse()
            };
            match code {
                Err(e) => Err(e.into()),
                Ok(code) => {
                    let mut listing = Listing::new(code);
                    if !txt.is_empty() {
                        listing = listing.with_txt(txt);
                    }
                    parse_key(first).map(|k| match k {
                        Key::Subject(s) => {
                            b.insert(&s, listing);
                        }
                        Key::Pattern(p) => {
                            b.insert_domain(&p, listing);
                        }
                    })
                }
            }
        };
        match result {
            Ok(()) => entries += 1,
            Err(e) => eprintln!("{path}:{}: skipped: {e}", i + 1),
        }
    }
    // RFC 5782 test points: 127.0.0.2, ::ffff:127.0.0.2 and TEST listed; .1 and INVALID not
    b.insert_test_points(Listing::new(ReturnCode::LISTED).with_txt("RFC 5782 test point"));
    let list = b.build();
    println!("loaded {entries} entries from {path}: {:?}", list.stats());
    Ok(list)
}

fn answer(list: &List, query: &str) -> Result<String, rblkit::Error> {
    let subject: Subject = query.parse()?;
    let found = match &subject {
        Subject::Domain(d) => list
            .lookup_domain_match(d.as_str())
            .map(|m| (m.listing, m.name.to_string())),
        other => list.lookup(other).map(|l| (l, other.to_string())),
    };
    Ok(match found {
        None => format!("{query:<28} not listed"),
        Some((l, dollar)) => {
            let codes: Vec<String> = l.codes().iter().map(ToString::to_string).collect();
            let txt: Vec<String> = (0..l.txt().len())
                .filter_map(|i| l.render_txt(i, &dollar))
                .collect();
            format!(
                "{query:<28} listed {} \"{}\"",
                codes.join(","),
                txt.join("\" \"")
            )
        }
    })
}

/// Loads the sample rbldnsd datasets and checks what a spam message names against them.
fn zones_and_mail() -> Result<(), Box<dyn std::error::Error>> {
    use rblkit::extract::{Extractor, HitKind};
    use rblkit::zone::{LoadOptions, Zone};

    let specs = [
        "bl.example:ip4set:data/sample/bl.ip4set".parse()?,
        "dbl.example:dnset:data/sample/dbl.dnset".parse()?,
    ];
    let zones = Zone::load_all(&specs, LoadOptions::default())?;
    println!("\nzones from rbldnsd datasets:");
    for z in &zones {
        println!("  {} (serial {:?})", z.name(), z.serial());
    }
    let raw = std::fs::read("data/sample/spam.eml")?;
    let mut hits = Vec::new();
    Extractor::new().extract_message(&raw, &mut hits)?;
    println!("\nwhat data/sample/spam.eml names, and what the zones say of it:");
    let mut seen = std::collections::BTreeSet::new();
    for h in &hits {
        let subject: Subject = match (h.kind(), h.registrable_domain()) {
            (HitKind::Ip, _) | (_, None) => h.host().parse()?,
            (_, Some(d)) => d.parse()?,
        };
        if !seen.insert(subject.to_string()) {
            continue;
        }
        // addresses go to the IP list, names to the domain list
        let z = match subject {
            Subject::Ip(_) => &zones[0],
            _ => &zones[1],
        };
        let Some(qname) = z.query_name(&subject) else {
            continue;
        };
        let verdict = match z.query(&qname) {
            Some(a) => format!(
                "listed {} \"{}\"",
                a.codes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                a.txt.join("\" \"")
            ),
            None => "not listed".to_string(),
        };
        println!(
            "  {:<6} {:<40} {verdict}",
            format!("{:?}", h.kind()).to_lowercase(),
            qname
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let list_file = args.next().unwrap_or_else(|| "data/sample/list.txt".into());
    let query_file = args
        .next()
        .unwrap_or_else(|| "data/sample/queries.txt".into());
    let list = load(&list_file)?;

    println!("\nqueries from {query_file}:");
    for q in std::fs::read_to_string(&query_file)?.lines() {
        let q = q.trim();
        if q.is_empty() || q.starts_with('#') {
            continue;
        }
        match answer(&list, q) {
            Ok(line) => println!("  {line}"),
            Err(e) => println!("  {q:<28} bad query: {e}"),
        }
    }

    println!("\nRFC 5782 test points:");
    for (q, want) in [
        ("127.0.0.2", true),
        ("127.0.0.1", false),
        ("::ffff:7f00:2", true),
        ("::ffff:7f00:1", false),
        ("test", true),
        ("invalid", false),
    ] {
        let got = list.lookup(&q.parse()?).is_some();
        println!(
            "  {q:<16} {} ({})",
            if got { "listed" } else { "not listed" },
            if got == want {
                "as RFC 5782 asks"
            } else {
                "WRONG"
            }
        );
        if got != want {
            return Err(format!("test point {q} answered wrongly").into());
        }
    }

    zones_and_mail()?;

    // timing on a list of one million addresses
    let mut b = List::builder();
    let l = Listing::new(ReturnCode::LISTED);
    let mut x: u32 = 0x9e37_79b9;
    let mut addrs = Vec::with_capacity(1 << 20);
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        addrs.push(Ipv4Addr::from(x));
        b.insert_net(ipnet::Ipv4Net::from(Ipv4Addr::from(x)).into(), l.clone());
    }
    let t = Instant::now();
    let big = b.build();
    let build = t.elapsed();
    let stats = big.stats();
    let queries: Vec<Ipv4Addr> = addrs
        .iter()
        .step_by(2)
        .copied()
        .chain((0..500_000u32).map(|i| Ipv4Addr::from(i.wrapping_mul(2_654_435_761))))
        .collect();
    let t = Instant::now();
    let hits = queries
        .iter()
        .filter(|q| big.lookup_ipv4(**q).is_some())
        .count();
    let single = t.elapsed();
    let mut out = vec![None; 256];
    let t = Instant::now();
    let mut batch_hits = 0;
    for chunk in queries.chunks(256) {
        big.lookup_ipv4_batch(chunk, &mut out[..chunk.len()]);
        batch_hits += out[..chunk.len()].iter().filter(|o| o.is_some()).count();
    }
    let batched = t.elapsed();
    assert_eq!(hits, batch_hits);
    println!(
        "\n1M addresses: built in {:.0} ms, {:.1} bytes/address; {} lookups ({} hits): {:.1} ns each, {:.1} ns batched",
        build.as_secs_f64() * 1e3,
        stats.memory_bytes as f64 / 1e6,
        queries.len(),
        hits,
        single.as_nanos() as f64 / queries.len() as f64,
        batched.as_nanos() as f64 / queries.len() as f64
    );
    Ok(())
}
