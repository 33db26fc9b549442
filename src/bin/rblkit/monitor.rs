//! `rblkit monitor --config FILE --state DIR [--json]`.

use crate::exit;
use clap::Args;
use rblkit::dns::client;
use rblkit::dns::monitor::{self, MonitorConfig, MonitorError, StateDir};
use rblkit::Timestamp;
use std::path::PathBuf;
use std::process::ExitCode;

/// Checks every subject of the config against its lists, records the answers in the state
/// directory, and reports what changed since the last run: newly listed, delisted (with
/// codes and TXT), and the lists that could not be checked (an error is not a change).
///
/// Exit status: 1 when something is newly listed (so that cron mails the report), 0
/// otherwise; 64 bad usage or config, 66 config not readable, 73 state not writable.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 1 when something is newly listed (so that cron mails \
the report), 0 otherwise; 64 bad usage or config, 65 a state file that does not parse, \
66 config not readable, 73 state not writable."
)]
pub(crate) struct MonitorArgs {
    /// The TOML config: subjects, lists, resolver, rate_limit, concurrency, timeout_ms,
    /// attempts, max_addresses.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The state directory (created when missing): state.json and history.jsonl.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The report as one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: MonitorArgs) -> ExitCode {
    let config = match MonitorConfig::load(&a.config) {
        Ok(c) => c,
        Err(e @ MonitorError::Io { .. }) => {
            eprintln!("rblkit monitor: {e}");
            return ExitCode::from(exit::NOINPUT);
        }
        Err(e) => {
            eprintln!("rblkit monitor: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let server = match config.resolver() {
        Some(s) => s,
        None => match client::system_resolver() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("rblkit monitor: {e}");
                return ExitCode::from(exit::USAGE);
            }
        },
    };
    let dir = match StateDir::open(&a.state) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("rblkit monitor: {e}");
            return ExitCode::from(exit::CANTCREAT);
        }
    };
    let now = Timestamp::from_system_time(std::time::SystemTime::now());
    let report = match monitor::run(&config, &dir, server, now) {
        Ok(r) => r,
        Err(e @ MonitorError::BadState { .. }) => {
            eprintln!("rblkit monitor: {e}");
            return ExitCode::from(exit::DATAERR);
        }
        Err(e) => {
            eprintln!("rblkit monitor: {e}");
            return ExitCode::from(exit::CANTCREAT);
        }
    };
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.has_new_listings() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
