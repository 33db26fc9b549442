//! `rblkit check SUBJECT --list ZONE [--list …] [--server ADDR:PORT] [--timeout MS] [--json]`.

use crate::exit;
use clap::Args;
use rblkit::codes::known::Polarity;
use rblkit::dns::client::{self, CheckResult, Checker, ListSpec, Outcome, TxtLookup};
use rblkit::Subject;
use std::process::ExitCode;
use std::time::Duration;

/// Asks DNS lists about an IP address or a domain: one line per list, listed (with the
/// codes, what they mean, and the TXT text), not listed, or an error (a timeout, SERVFAIL,
/// REFUSED, an answer outside 127.0.0.0/8, or an error code of the list such as
/// Spamhaus' 127.255.255.254 — never counted as listed).
///
/// Exit status: 0 not listed on any list; 1 listed on at least one blocklist; 2 not
/// listed, but at least one list could not be checked; 64 bad usage.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 not listed on any list; 1 listed on at least one \
blocklist (a listing on an allowlist such as dnswl does not count); 2 not listed, but at \
least one list could not be checked (timeout, SERVFAIL, REFUSED, an error code); 64 bad usage.\n\
An error is never taken for a listing."
)]
pub(crate) struct CheckArgs {
    /// An IPv4 or IPv6 address, or a domain.
    #[arg(value_name = "SUBJECT")]
    subject: String,
    /// A list to ask: a zone (`bl.example`) or a known list's name (spamhaus-zen,
    /// spamhaus-dbl, barracuda, spamcop, surbl-multi, uribl-multi, … — see
    /// `--list help`). Repeatable.
    #[arg(long = "list", value_name = "ZONE", required = true)]
    lists: Vec<String>,
    /// The resolver to ask, ADDR:PORT or ADDR (default: the first nameserver of
    /// /etc/resolv.conf).
    #[arg(long, value_name = "ADDR:PORT")]
    server: Option<String>,
    /// How long to wait for each attempt, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    timeout: u64,
    /// UDP attempts per query.
    #[arg(long, value_name = "N", default_value_t = 2)]
    attempts: u8,
    /// One JSON object per list: list, zone, query, result ("listed", "not_listed",
    /// "error"), codes, meanings, txt, error.
    #[arg(long)]
    json: bool,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rblkit check: {msg}");
    ExitCode::from(exit::USAGE)
}

pub(crate) fn run(a: CheckArgs) -> ExitCode {
    if a.lists.iter().any(|l| l == "help") {
        for (name, l) in client::known_list_names() {
            println!("{name:<20} {:<26} {}", l.zone, l.name);
        }
        return ExitCode::SUCCESS;
    }
    let subject: Subject = match a.subject.parse() {
        Ok(s @ (Subject::Ip(_) | Subject::Domain(_))) => s,
        Ok(s) => {
            return usage(format!(
                "{s}: a {} is not checked; give an address or a domain",
                s.kind()
            ))
        }
        Err(e) => return usage(e),
    };
    let mut lists = Vec::with_capacity(a.lists.len());
    for l in &a.lists {
        match l.parse::<ListSpec>() {
            Ok(s) => lists.push(s),
            Err(e) => return usage(e),
        }
    }
    let server = match &a.server {
        Some(s) => client::parse_server(s),
        None => client::system_resolver(),
    };
    let server = match server {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let checker = Checker::builder(server)
        .timeout(Duration::from_millis(a.timeout))
        .attempts(a.attempts)
        .txt(TxtLookup::WhenListed)
        .build();
    let checker = match checker {
        Ok(c) => c,
        Err(e) => return usage(e),
    };
    let results = match checker.check_blocking(&subject, &lists) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rblkit check: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    for r in &results {
        if a.json {
            println!("{}", json(r));
        } else {
            println!("{}", text(r));
        }
    }
    let listed = results
        .iter()
        .any(|r| r.outcome.is_listed() && r.list.polarity() == Polarity::Blocklist);
    let failed = results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Error(_)));
    if listed {
        ExitCode::from(1)
    } else if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn codes(r: &CheckResult) -> Vec<String> {
    r.codes.iter().map(|c| c.to_string()).collect()
}

fn json(r: &CheckResult) -> serde_json::Value {
    serde_json::json!({
        "subject": r.subject.to_string(),
        "list": r.list.name(),
        "zone": r.zone(),
        "query": r.query,
        "result": r.outcome.name(),
        "codes": codes(r),
        "meanings": r.meanings(),
        "txt": r.txt,
        "error": match &r.outcome {
            Outcome::Error(f) => Some(f.to_string()),
            _ => None,
        },
    })
}

fn text(r: &CheckResult) -> String {
    let list = if r.list.name() == r.zone() {
        r.zone().to_string()
    } else {
        format!("{} ({})", r.list.name(), r.zone())
    };
    match &r.outcome {
        Outcome::Listed { .. } => {
            let mut line = format!("{list}: listed");
            let parts: Vec<String> = r
                .codes
                .iter()
                .map(|&c| format!("{c} ({})", CheckResult::meaning_of(&r.list, c).join("; ")))
                .collect();
            line.push(' ');
            line.push_str(&parts.join(", "));
            if r.list.polarity() == Polarity::Allowlist {
                line.push_str(" [allowlist]");
            }
            for t in &r.txt {
                line.push_str(&format!(" {t:?}"));
            }
            line
        }
        Outcome::NotListed => format!("{list}: not listed"),
        Outcome::Error(f) => format!("{list}: error: {f}"),
        _ => format!("{list}: {}", r.outcome.name()),
    }
}
