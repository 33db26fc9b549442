//! Quickstart: the whole loop on the bundled sample data in `data/sample/`.
//!
//! 1. build a ledger from a sample of evidence (`evidence.jsonl`: spam reports, spamtrap
//!    hits, a release & train with an upheld user-error dispute);
//! 2. compile it into a list under the SpamCop-like profile at a fixed time, and answer
//!    lookups the way a DNS list would (codes and TXT);
//! 3. explain two subjects as the operator sees them (why listed, since, until when);
//! 4. extract the URLs and domains of a spam message (`spam.eml`) and check them against the
//!    rbldnsd domain and IP lists `dbl.dnset` and `bl.ip4set`;
//! 5. print the compiled list as the rbldnsd datasets a server loads;
//! 6. a hand-written list (`list.txt`, `queries.txt`) and the RFC 5782 test points;
//! 7. time lookups on a list of one million addresses.
//!
//! ```text
//! cargo run --release --example quickstart [LIST_FILE [QUERY_FILE]]
//! ```

use rblkit::codes::ReturnCode;
use rblkit::ledger::{parse_lines, Ledger, Lifecycle, Outcome};
use rblkit::list::{DomainPattern, Entry};
use rblkit::policy::{compile, Policy};
use rblkit::zone::{Dataset, DatasetKind, DatasetParser, Zone};
use rblkit::{List, Listing, Subject, Timestamp};
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
    let s = list.stats();
    println!(
        "  loaded {entries} entries from {path}: {} IPv4 addresses, {} IPv4 ranges, {} IPv6 ranges, {} domains",
        s.ipv4_addresses, s.ipv4_ranges, s.ipv6_ranges, s.domains
    );
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
    use rblkit::zone::LoadOptions;

    let specs = [
        "bl.example:ip4set:data/sample/bl.ip4set".parse()?,
        "dbl.example:dnset:data/sample/dbl.dnset".parse()?,
    ];
    let zones = Zone::load_all(&specs, LoadOptions::default())?;
    let raw = std::fs::read("data/sample/spam.eml")?;
    let mut hits = Vec::new();
    Extractor::new().extract_message(&raw, &mut hits)?;
    println!(
        "\n4. the URLs and domains of data/sample/spam.eml ({} hits), against the lists {} and {}:",
        hits.len(),
        zones[1].name(),
        zones[0].name()
    );
    for h in &hits {
        println!(
            "  {:<6} {:<42} domain {:<20} {}",
            h.kind().as_str(),
            h.url().or(h.email()).unwrap_or(h.host()),
            h.registrable_domain().unwrap_or("-"),
            h.flags()
        );
    }
    println!("  checked, each name or address once:");
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
        println!("    {qname:<40} {verdict}");
    }
    Ok(())
}

/// The time the sample is judged at (the library never reads the clock).
const NOW: &str = "2026-11-20T12:00:00Z";

/// Steps 1-3: evidence into a ledger, a compiled list and its lookups, explanations.
fn ledger_loop() -> Result<List, Box<dyn std::error::Error>> {
    let path = "data/sample/evidence.jsonl";
    let text = std::fs::read_to_string(path)?;
    let mut ledger = Ledger::new(Default::default());
    println!("1. a ledger from the evidence in {path}:");
    let (mut recorded, mut accepted, mut refused) = (0, 0, 0);
    for (line, event) in parse_lines(&text) {
        let event = event.map_err(|e| format!("{path}: {e}"))?;
        match ledger.apply(&event) {
            Outcome::Recorded => recorded += 1,
            Outcome::Accepted { .. } => {
                accepted += 1;
                println!(
                    "  {path}:{line}: {} {}: accepted",
                    event.evidence.name(),
                    event.subject
                );
            }
            other => {
                refused += 1;
                println!("  {path}:{line}: {other:?}");
            }
        }
    }
    println!(
        "  {recorded} events recorded, {accepted} requests accepted, {refused} refused; {} subjects",
        ledger.len()
    );

    let now: Timestamp = NOW.parse()?;
    let mut policy = Policy::spamcop();
    policy.txt = Some("Listed: see https://bl.example/lookup?q=$".into());
    let list = compile(&ledger, &policy, now);
    let stats = list.stats();
    println!(
        "\n2. compiled under the spamcop profile at {now}: {} IPv4 addresses, {} domains, {} emails listed",
        stats.ipv4_addresses,
        stats.domains,
        list.emails().count()
    );
    for q in [
        "198.51.100.23",
        "198.51.100.24",
        "203.0.113.77",
        "192.0.2.25",
        // a domain list is asked about registrable domains, as a URIBL is
        "cheap-pills.example",
        "phish-bank.example",
        "sender1@relay.example",
    ] {
        println!("  {}", answer(&list, q)?);
    }

    println!("\n3. the operator asks why:");
    explain(&ledger, &policy, &"198.51.100.23".parse()?, now);
    println!("  (192.0.2.25 was reported three times, by erin twice; erin released & trained");
    println!("  the message, and her user-error dispute was upheld, which drops her reports)");
    explain(&ledger, &policy, &"192.0.2.25".parse()?, now);
    Ok(list)
}

/// Step 5: the compiled list as rbldnsd datasets.
fn print_export(list: &List) -> Result<(), Box<dyn std::error::Error>> {
    println!("\n5. the compiled list as rbldnsd datasets (rbldnsd or `rblkit serve` load them):");
    for (zone, ds) in export(list)? {
        let mut out = Vec::new();
        ds.write_rbldnsd(&mut out)?;
        println!("  --- {zone}:{}:FILE", ds.kind());
        for l in String::from_utf8(out)?.lines() {
            println!("  {l}");
        }
    }
    Ok(())
}

/// What `rblkit ledger explain` shows: the decision, the evidence, since and until when.
fn explain(ledger: &Ledger, policy: &Policy, s: &Subject, now: Timestamp) {
    let d = policy.decide(ledger, s, now);
    let state = match d.lifecycle {
        // listed by the criteria alone, with no lifecycle listing (no operator, no relisting)
        Lifecycle::Clean if d.listed => "listed".to_owned(),
        Lifecycle::Clean => "clean".to_owned(),
        Lifecycle::Listed(_) => "listed".to_owned(),
        Lifecycle::SelfDelisted { until, .. } => format!("self-delisted until {until}"),
        Lifecycle::UnderReview { dispute, .. } => format!("under review ({dispute})"),
        Lifecycle::Allowlisted => "allowlisted".to_owned(),
        other => format!("{other:?}"),
    };
    println!(
        "  {s}: {} (state: {state})",
        if d.listed { "listed" } else { "not listed" }
    );
    let fired = if d.fired.is_empty() {
        "none".to_owned()
    } else {
        d.fired.join(", ")
    };
    if d.reasons.is_empty() {
        println!("    criteria fired: {fired}");
    } else {
        println!("    criteria fired: {fired}; reasons: {}", d.reasons);
    }
    if let Some(r) = ledger.reputation(s, now) {
        println!(
            "    evidence: {} spam report(s) still counted (from {} reporter(s)), {} trap hit(s), {} ham report(s); first {}, last {}",
            r.reports, r.reporters, r.traps, r.hams, r.first_seen, r.last_seen
        );
    }
    if let Some(since) = d.since {
        println!("    since: {since}");
    }
    match (d.listed, d.expires, policy.time_to_delist(ledger, s, now)) {
        (true, Some(e), Some(t)) => println!(
            "    until: {e}, {}h{:02}m from now, unless new reports or trap hits come",
            t.as_secs() / 3600,
            t.as_secs() % 3600 / 60
        ),
        (true, _, _) => println!("    until: an operator delists it"),
        _ => {}
    }
}

/// The zones a compiled list is served as: its IPv4 entries in an ip4set, its domains in a
/// dnset (email addresses are not served by rbldnsd).
fn export(list: &List) -> Result<Vec<(&'static str, Dataset)>, Box<dyn std::error::Error>> {
    let mut ip = List::builder();
    for (a, e) in list.ipv4_addresses() {
        match e {
            Entry::Listed(l) => ip.insert_net(ipnet::Ipv4Net::from(a).into(), l.clone()),
            _ => ip.exclude_net(ipnet::Ipv4Net::from(a).into()),
        };
    }
    for (first, last, e) in list.ipv4_ranges() {
        for net in ipnet::Ipv4Subnets::new(first, last, 0) {
            match e {
                Entry::Listed(l) => ip.insert_net(net.into(), l.clone()),
                _ => ip.exclude_net(net.into()),
            };
        }
    }
    let mut dn = List::builder();
    for (p, e) in list.domains() {
        match e {
            Entry::Listed(l) => dn.insert_domain(&p, l.clone()),
            _ => dn.exclude_domain(&p),
        };
    }
    // the zone's SOA, as an operator writes it in the dataset
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file(
        "soa",
        b"$SOA 3600 ns.bl.example. hostmaster.bl.example. 2026112012 3600 900 604800 300\n",
    )?;
    let soa = p.finish().soa().cloned();
    let mut out = Vec::new();
    for (zone, kind, b) in [
        ("bl.example", DatasetKind::Ip4Set, ip),
        ("dbl.example", DatasetKind::DnSet, dn),
    ] {
        let mut ds = Dataset::from_list(kind, b.build());
        ds.set_soa(soa.clone());
        out.push((zone, ds));
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut args = std::env::args().skip(1);
    let list_file = args.next().unwrap_or_else(|| "data/sample/list.txt".into());
    let query_file = args
        .next()
        .unwrap_or_else(|| "data/sample/queries.txt".into());

    let compiled = ledger_loop()?;
    zones_and_mail()?;
    print_export(&compiled)?;

    println!("\n6. a hand-written list:");
    let list = load(&list_file)?;
    println!("  queries from {query_file}:");
    for q in std::fs::read_to_string(&query_file)?.lines() {
        let q = q.trim();
        if q.is_empty() || q.starts_with('#') {
            continue;
        }
        match answer(&list, q) {
            Ok(line) => println!("    {line}"),
            Err(e) => println!("    {q:<28} bad query: {e}"),
        }
    }

    println!("  RFC 5782 test points:");
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
            "    {q:<16} {} ({})",
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
        "\n7. 1M addresses: built in {:.0} ms, {:.1} bytes/address; {} lookups ({} hits): {:.1} ns each, {:.1} ns batched",
        build.as_secs_f64() * 1e3,
        stats.memory_bytes as f64 / 1e6,
        queries.len(),
        hits,
        single.as_nanos() as f64 / queries.len() as f64,
        batched.as_nanos() as f64 / queries.len() as f64
    );
    println!(
        "\nquickstart done in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
