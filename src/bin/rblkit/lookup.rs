//! `rblkit lookup SPEC... -- QUERY...`.

use crate::zone::{load, print_warnings, LoadArgs};
use clap::Args;
use rblkit::zone::Zone;
use rblkit::Subject;
use std::process::ExitCode;

/// What datasets answer for IP addresses, domains or full query names
///
/// Prints what the datasets answer, as rbldnsd would, one line per query and zone: the
/// query name, then the return codes and TXT strings, or NXDOMAIN. A query is an IP
/// address (asked of IP datasets as reversed octets or nibbles), a domain (asked under
/// each zone), or a full query name under one of the zones.
///
/// Exit status: 0 when something is listed, 1 when nothing is, 64 for a spec that does not
/// parse, 65 for a bad line with --strict, 66 when a file cannot be read.
///
/// Example:
///   rblkit lookup bl.example:ip4set:data/sample/bl.ip4set -- 198.51.100.23 192.0.2.1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct LookupArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// One JSON object per query and zone: query, zone, qname, listed, codes, txt, ttl.
    #[arg(long)]
    json: bool,
    /// Datasets as ZONE:TYPE:FILE[,FILE...], then `--`, then the queries: IP addresses,
    /// domains, or full query names under one of the zones.
    #[arg(required = true, value_name = "SPEC", num_args = 1..)]
    specs: Vec<String>,
    /// What to look up.
    #[arg(last = true, required = true, value_name = "QUERY")]
    queries: Vec<String>,
}

fn quoted(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push_str(&format!("\\{:03}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// The (zone, query name) pairs to ask for one query.
fn names<'a>(zones: &'a [Zone], q: &str) -> Vec<(&'a Zone, String)> {
    let lower = q.trim_end_matches('.').to_ascii_lowercase();
    // a full query name under one of the zones
    let under: Vec<(&Zone, String)> = zones
        .iter()
        .filter(|z| {
            let n = z.name().as_str();
            lower.len() > n.len()
                && lower.ends_with(n)
                && lower.as_bytes()[lower.len() - n.len() - 1] == b'.'
        })
        .map(|z| (z, lower.clone()))
        .collect();
    if !under.is_empty() {
        return under;
    }
    match q.parse::<Subject>() {
        Ok(s) => zones
            .iter()
            .filter_map(|z| z.query_name(&s).map(|n| (z, n)))
            .collect(),
        Err(_) => zones
            .iter()
            .map(|z| (z, format!("{lower}.{}", z.name())))
            .collect(),
    }
}

pub(crate) fn run(a: LookupArgs) -> ExitCode {
    let zones = match load(&a.specs, &a.load) {
        Ok(z) => z,
        Err(code) => return code,
    };
    print_warnings(&zones);
    let mut any = false;
    for q in &a.queries {
        for (z, name) in names(&zones, q) {
            let answer = z.query(&name);
            any |= answer.is_some();
            if a.json {
                let (codes, txt, ttl) = match &answer {
                    Some(ans) => (
                        ans.codes.iter().map(|c| c.to_string()).collect(),
                        ans.txt.clone(),
                        ans.ttl,
                    ),
                    None => (Vec::new(), Vec::new(), None),
                };
                let v = serde_json::json!({
                    "query": q,
                    "zone": z.name().as_str(),
                    "qname": name,
                    "listed": answer.is_some(),
                    "codes": codes,
                    "txt": txt,
                    "ttl": ttl,
                });
                println!("{v}");
                continue;
            }
            match answer {
                Some(ans) => {
                    let codes: Vec<String> = ans.codes.iter().map(|c| c.to_string()).collect();
                    let mut line = format!("{name}: listed {}", codes.join(","));
                    for t in &ans.txt {
                        line.push(' ');
                        line.push_str(&quoted(t));
                    }
                    println!("{line}");
                }
                None => println!("{name}: NXDOMAIN"),
            }
        }
    }
    if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
