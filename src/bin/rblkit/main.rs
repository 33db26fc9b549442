//! The `rblkit` command-line tool.

#![forbid(unsafe_code)]

mod extract;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Run and use DNS-based reputation lists.
#[derive(Parser)]
#[command(name = "rblkit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find URLs, hosts, emails and IP addresses in mail text, HTML or a whole message.
    Extract(extract::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Extract(a) => extract::run(a),
    }
}
