//! `rblkit`: the command line over the rblkit library. This file only dispatches; each
//! command group lives in its own module.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod check;
mod extract;
mod lookup;
mod monitor;
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
    /// Ask DNS lists whether an IP address or domain is listed (tri-state per list).
    Check(check::CheckArgs),
    /// Check a set of subjects against lists and report what changed since the last run.
    Monitor(monitor::MonitorArgs),
}

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
}

fn main() -> ExitCode {
    // Bad usage exits 64 (EX_USAGE), not clap's 2: `check` gives 2 its own meaning.
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
        Command::Check(a) => check::run(a),
        Command::Monitor(a) => monitor::run(a),
    }
}
