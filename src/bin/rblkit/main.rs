//! `rblkit`: the command line over the rblkit library. This file only dispatches; each
//! command group lives in its own module.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod check;
mod extract;
mod ingest;
mod ledger;
mod lookup;
mod monitor;
mod policy;
mod serve;
mod web;
mod zone;

/// Run and use DNS-based reputation lists.
///
/// rblkit loads rbldnsd datasets and answers for them, checks and converts them, and finds
/// the URLs, hosts and addresses in mail that content lists are asked about. Datasets are
/// given as ZONE:TYPE:FILE[,FILE...], as rbldnsd takes them (types ip4set, ip4tset,
/// ip4trie, ip6trie, ip6tset, dnset, combined).
///
/// Data goes to standard output (--json: one JSON object per line), messages to standard
/// error; progress is shown on long loads only when standard error is a terminal.
#[derive(Parser)]
#[command(name = "rblkit", version, about, verbatim_doc_comment, after_long_help = EXIT_STATUS)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// rbldnsd datasets: check them, export them.
    Zone(zone::ZoneArgs),
    // the long help of these two is the doc comment of their Args
    Lookup(lookup::LookupArgs),
    Extract(extract::Args),
    /// The persisted reputation ledger: ingest evidence, ask about subjects, compile the list.
    Ledger(ledger::LedgerArgs),
    /// Answer DNS queries for rbldnsd datasets, over UDP and TCP.
    Serve(serve::ServeArgs),
    /// Ask DNS lists whether an IP address or domain is listed (tri-state per list).
    Check(check::CheckArgs),
    /// Check a set of subjects against lists and report what changed since the last run.
    Monitor(monitor::MonitorArgs),
    /// Serve the public lookup, self-delisting and removal request site, its JSON API and
    /// the operator's review.
    Web(web::WebArgs),
    /// A Postfix SMTP access policy server enforcing the relay provider's rules (rate
    /// limit, invalid senders, blocked lists, escalation) on the ledger in --state; or,
    /// with a subcommand, a sender's status, why it is blocked, and clearing it.
    Policy(policy::PolicyArgs),
    /// Evidence from other programs' output: Postfix's log (delivery results).
    Ingest(ingest::IngestArgs),
}

/// The exit statuses of `rblkit`, as `rblkit --help` lists them (for the README too).
///
/// ```text
/// Exit status:
///   0   success; for lookup: something is listed
///   1   lookup: nothing is listed; zone check: lines were skipped (see the warnings);
///       check: listed on a list; monitor: something is newly listed
///   2   check: not listed, but a list could not be checked
///   64  usage: a bad option, argument or ZONE:TYPE:FILE spec (EX_USAGE)
///   65  bad data: a bad line with --strict, a bad evidence line or message, an input over
///       a limit (EX_DATAERR)
///   66  an input file cannot be read (EX_NOINPUT)
///   71  an operating system failure, such as a socket that cannot be bound (EX_OSERR)
///   73  an output file cannot be created (EX_CANTCREAT)
///   74  reading or writing failed (EX_IOERR)
///   78  bad configuration, such as a suffix list that does not parse (EX_CONFIG)
/// ```
const EXIT_STATUS: &str = "\
Exit status:
  0   success; for lookup: something is listed
  1   lookup: nothing is listed; zone check: lines were skipped (see the warnings);
      check: listed on a list; monitor: something is newly listed
  2   check: not listed, but a list could not be checked
  64  usage: a bad option, argument or ZONE:TYPE:FILE spec (EX_USAGE)
  65  bad data: a bad line with --strict, a bad evidence line or message, an input over
      a limit (EX_DATAERR)
  66  an input file cannot be read (EX_NOINPUT)
  71  an operating system failure, such as a socket that cannot be bound (EX_OSERR)
  73  an output file cannot be created (EX_CANTCREAT)
  74  reading or writing failed (EX_IOERR)
  78  bad configuration, such as a suffix list that does not parse (EX_CONFIG)";

/// Exit statuses (sysexits.h where one fits).
pub(crate) mod exit {
    /// Bad usage (a spec that does not parse).
    pub(crate) const USAGE: u8 = 64;
    /// Bad data (strict mode: a bad line).
    pub(crate) const DATAERR: u8 = 65;
    /// A file that cannot be read.
    pub(crate) const NOINPUT: u8 = 66;
    /// An internal error (the async runtime would not start).
    pub(crate) const SOFTWARE: u8 = 70;
    /// An output that cannot be written.
    pub(crate) const CANTCREAT: u8 = 73;
    /// Reading or writing failed (an input, an output, the state directory).
    pub(crate) const IOERR: u8 = 74;
    /// An operating system failure (a socket that cannot be bound).
    pub(crate) const OSERR: u8 = 71;
    /// A configuration file with a bad value.
    pub(crate) const CONFIG: u8 = 78;
}

fn main() -> ExitCode {
    // usage errors exit with EX_USAGE (64), not clap's 2; --help and --version with 0
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(exit::USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Zone(a) => zone::run(a),
        Command::Lookup(a) => lookup::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Ledger(a) => ledger::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Check(a) => check::run(a),
        Command::Monitor(a) => monitor::run(a),
        Command::Web(a) => web::run(a),
        Command::Policy(a) => policy::run(a),
        Command::Ingest(a) => ingest::run(a),
    }
}
