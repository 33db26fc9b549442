//! `rblkit ingest postfix-log [--state DIR] [--follow] FILE|-`: Postfix's delivery results
//! as `smtp_outcome` evidence.

use crate::exit;
use crate::ledger::{fail, input_error, store_error, Run};
use clap::{Args, Subcommand};
use rblkit::ledger::store::{Store, StoreOptions};
use rblkit::ledger::{Event, LedgerConfig};
use rblkit::smtp::PostfixLog;
use rblkit::Timestamp;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    #[command(subcommand)]
    command: IngestCommand,
}

#[derive(Debug, Subcommand)]
enum IngestCommand {
    /// Read Postfix log lines (status=sent/deferred/bounced, dsn=, what the remote server
    /// said) and turn each delivery result into smtp_outcome evidence about the sender
    /// identity (sasl_username, else the qmgr from=<...>), so that the non-existent and
    /// undeliverable recipient rules work. With --state the events are appended to the
    /// ledger there; without, printed as JSON lines.
    PostfixLog(PostfixLogArgs),
}

#[derive(Debug, Args)]
struct PostfixLogArgs {
    /// The state directory to append the evidence to (created when missing).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// The policy config the policy server runs with (its limits apply to the events).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Keep reading as the file grows (and reopen it when it is rotated).
    #[arg(long)]
    follow: bool,
    /// The log (`-` or none: standard input).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

pub(crate) fn run(a: IngestArgs) -> ExitCode {
    match a.command {
        IngestCommand::PostfixLog(p) => postfix_log(p).unwrap_or_else(|c| c),
    }
}

/// Events per transaction at most; a batch is also committed whenever the input has no
/// more data ready.
const BATCH: usize = 10_000;

enum Sink {
    Store(Box<Store>),
    Print(std::io::BufWriter<std::io::Stdout>),
}

impl Sink {
    fn flush(&mut self, batch: &mut Vec<Event>) -> Run<()> {
        match self {
            Sink::Store(s) => {
                if !batch.is_empty() {
                    s.append(batch).map_err(|e| store_error(&e))?;
                }
            }
            Sink::Print(out) => {
                let mut text = String::new();
                for e in batch.iter() {
                    e.write_line(&mut text);
                    text.push('\n');
                }
                out.write_all(text.as_bytes())
                    .and_then(|()| out.flush())
                    .map_err(|e| fail(exit::IOERR, format_args!("standard output: {e}")))?;
            }
        }
        batch.clear();
        Ok(())
    }
}

fn open_input(file: &Option<PathBuf>) -> Run<(String, Box<dyn Read>, Option<u64>)> {
    match file {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p).map_err(|e| input_error(p, e))?;
            let ino = {
                use std::os::unix::fs::MetadataExt;
                f.metadata().ok().map(|m| m.ino())
            };
            Ok((p.display().to_string(), Box::new(f), ino))
        }
        _ => Ok(("-".into(), Box::new(std::io::stdin()), None)),
    }
}

fn postfix_log(a: PostfixLogArgs) -> Run {
    let mut sink = match &a.state {
        Some(dir) => {
            let config = crate::policy::load_config(a.config.as_deref())?;
            Sink::Store(Box::new(
                Store::open_with(
                    dir,
                    LedgerConfig::default(),
                    StoreOptions::default(),
                    rblkit::smtp::store_apply(&config),
                )
                .map_err(|e| store_error(&e))?,
            ))
        }
        None => Sink::Print(std::io::BufWriter::new(std::io::stdout())),
    };
    let (name, input, mut ino) = open_input(&a.file)?;
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let mut log = PostfixLog::new();
    let mut batch = Vec::with_capacity(1024);
    let mut buf = Vec::with_capacity(512);
    let mut partial = Vec::new();
    let mut recorded = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| fail(exit::IOERR, format_args!("{name}: {e}")))?;
        if n == 0 {
            sink.flush(&mut batch)?;
            if !a.follow {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
            // rotated: a new file at the path; read the rest of the old one first (done)
            if let (Some(p), Some(old)) = (&a.file, ino) {
                use std::os::unix::fs::MetadataExt;
                if let Ok(m) = std::fs::metadata(p) {
                    if m.ino() != old {
                        let (_, input, new) = open_input(&a.file)?;
                        reader = BufReader::with_capacity(1 << 16, input);
                        ino = new;
                    }
                }
            }
            continue;
        }
        if !buf.ends_with(b"\n") && a.follow {
            // the writer is mid-line: keep the start and wait for the rest
            partial.extend_from_slice(&buf);
            continue;
        }
        let line_bytes: &[u8] = if partial.is_empty() {
            &buf
        } else {
            partial.extend_from_slice(&buf);
            &partial
        };
        let line = String::from_utf8_lossy(line_bytes);
        let now = Timestamp::from_system_time(SystemTime::now());
        if let Some(e) = log.line(&line, now) {
            batch.push(e);
            recorded += 1;
        }
        partial.clear();
        if batch.len() >= BATCH || (!batch.is_empty() && reader.buffer().is_empty()) {
            sink.flush(&mut batch)?;
        }
    }
    if matches!(sink, Sink::Store(_)) {
        eprintln!("rblkit: {name}: {recorded} delivery results recorded");
    }
    Ok(ExitCode::SUCCESS)
}
