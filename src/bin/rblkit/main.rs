//! `rblkit`: the command line over the rblkit library. This file only dispatches; each
//! command group lives in its own module.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod extract;
mod ledger;
mod lookup;
mod zone;

/// Run and use DNS-based reputation lists.
#[derive(Parser)]
#[command(name = "rblkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// rbldnsd datasets: check them, export them.
    Zone(zone::ZoneArgs),
    /// What datasets answer for IP addresses, domains or full query names.
    Lookup(lookup::LookupArgs),
    /// Find URLs, hosts, emails and IP addresses in mail text, HTML or a whole message.
    Extract(extract::Args),
    /// The persisted reputation ledger: ingest evidence, ask about subjects, compile the list.
    Ledger(ledger::LedgerArgs),
}

/// Exit statuses (sysexits.h where one fits).
pub(crate) mod exit {
    /// Bad usage (a spec that does not parse).
    pub(crate) const USAGE: u8 = 64;
    /// Bad data (strict mode: a bad line).
    pub(crate) const DATAERR: u8 = 65;
    /// A file that cannot be read.
    pub(crate) const NOINPUT: u8 = 66;
    /// An output that cannot be written.
    pub(crate) const CANTCREAT: u8 = 73;
    /// An input/output error (the state directory, an output).
    pub(crate) const IOERR: u8 = 74;
}

fn main() -> ExitCode {
    // a command line that does not parse is a usage error (64), as the commands' own checks
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    match cli.command {
        Command::Zone(a) => zone::run(a),
        Command::Lookup(a) => lookup::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Ledger(a) => ledger::run(a),
    }
}
