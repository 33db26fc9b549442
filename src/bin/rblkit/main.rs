//! `rblkit`: the command line over the rblkit library. This file only dispatches; each
//! command group lives in its own module.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod extract;
mod lookup;
mod serve;
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
    /// Answer DNS queries for rbldnsd datasets, over UDP and TCP.
    Serve(serve::ServeArgs),
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
    /// An operating system failure (a socket that cannot be bound).
    pub(crate) const OSERR: u8 = 71;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Zone(a) => zone::run(a),
        Command::Lookup(a) => lookup::run(a),
        Command::Extract(a) => extract::run(a),
        Command::Serve(a) => serve::run(a),
    }
}
