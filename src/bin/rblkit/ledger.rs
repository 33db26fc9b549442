//! `rblkit ledger ingest|status|explain|compile|export`: the persisted ledger from the
//! command line (DESIGN.md "The ledger from the command line").

use crate::exit;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rblkit::ledger::store::{Store, StoreError, StoreOptions};
use rblkit::ledger::{Event, Ledger, LedgerConfig, Outcome};
use rblkit::policy::{compile, explain, status, Policy};
use rblkit::subject::Domain;
use rblkit::zone::{Dataset, DatasetKind};
use rblkit::{Subject, Timestamp};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod report;

#[derive(Debug, Args)]
pub(crate) struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Append evidence (JSON lines) durably to the ledger; print the outcome of each request
    /// (self_delist, dispute, dispute_decision) as one JSON line. Bad lines are reported on
    /// stderr and skipped (exit 65).
    Ingest(IngestArgs),
    /// One JSON line per subject: listed or not, state, since, expires, time to delisting,
    /// codes.
    Status(StatusArgs),
    /// For the operator: which criteria fired with their evidence counts, since and until
    /// when, what would delist the subject.
    Explain(ExplainArgs),
    /// Write the list as rbldnsd dataset files and print their ZONE:TYPE:FILE specs.
    Compile(CompileArgs),
    /// Print the journal as JSON lines, which `ingest` reads back to the same state.
    Export(ExportArgs),
    /// Turn a reported or trapped message, or an ARF feedback report (or a directory or
    /// mbox of them), into evidence: the source IP from the Received chain, the registrable
    /// domains of its URLs, a fingerprint. Prints the events as JSON lines and ingests them
    /// unless --dry-run.
    Report(report::ReportArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// The state directory (created when missing).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The policy: spamcop, spam-center or relay.
    #[arg(long, value_name = "NAME")]
    profile: String,
}

#[derive(Debug, Args)]
struct AtArg {
    /// The time to judge at (RFC 3339; default now); not earlier than the newest evidence.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    at: Option<Timestamp>,
}

#[derive(Debug, Args)]
struct IngestArgs {
    #[command(flatten)]
    common: Common,
    /// Evidence, one JSON object a line (`-` or none: standard input).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct StatusArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    at: AtArg,
    /// Print JSON lines (the only output format).
    #[arg(long, required = true)]
    json: bool,
    /// IP addresses, networks, domains or email addresses.
    #[arg(required = true, value_name = "SUBJECT", value_parser = parse_subject)]
    subjects: Vec<Subject>,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    at: AtArg,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The subject.
    #[arg(value_name = "SUBJECT", value_parser = parse_subject)]
    subject: Subject,
}

#[derive(Debug, Args)]
struct CompileArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    at: AtArg,
    /// The zone the list is served as (e.g. bl.example.org).
    #[arg(long, value_name = "ZONE", value_parser = parse_zone)]
    zone: Domain,
    /// The directory for the dataset files (created when missing).
    #[arg(long, value_name = "DIR2")]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// Only evidence at or after this time (RFC 3339).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    since: Option<Timestamp>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse().map_err(|e| format!("{e}"))
}

pub(crate) fn parse_subject(s: &str) -> Result<Subject, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_zone(s: &str) -> Result<Domain, String> {
    s.parse().map_err(|e| format!("{e}"))
}

pub(crate) fn run(args: LedgerArgs) -> ExitCode {
    let r = match args.command {
        LedgerCommand::Ingest(a) => ingest(a),
        LedgerCommand::Status(a) => status_cmd(a),
        LedgerCommand::Explain(a) => explain_cmd(a),
        LedgerCommand::Compile(a) => compile_cmd(a),
        LedgerCommand::Export(a) => export(a),
        LedgerCommand::Report(a) => report::report(a),
    };
    r.unwrap_or_else(|code| code)
}

pub(crate) type Run<T = ExitCode> = Result<T, ExitCode>;

pub(crate) fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("rblkit: {msg}");
    ExitCode::from(code)
}

/// A built-in profile: the policy and the ledger settings that go with it.
struct Profile {
    name: String,
}

impl Profile {
    fn get(name: &str) -> Run<Profile> {
        if Policy::profile(name).is_none() {
            return Err(fail(
                exit::USAGE,
                format_args!(
                    "unknown profile {name:?}; known profiles: {}",
                    Policy::PROFILES.join(", ")
                ),
            ));
        }
        Ok(Profile { name: name.into() })
    }

    fn policy(&self) -> Policy {
        Policy::profile(&self.name).expect("checked in Profile::get")
    }

    /// The ledger settings of the profile.
    fn ledger_config(&self) -> LedgerConfig {
        LedgerConfig::default()
    }

    /// How an event is applied under this profile: through the policy, which decides
    /// self-delisting requests and relisting on recurrence.
    fn apply(&self) -> rblkit::ledger::store::Apply {
        let policy = self.policy();
        Box::new(move |ledger: &mut Ledger, e: &Event| policy.apply(ledger, e))
    }
}

/// An input that cannot be opened or read: missing or forbidden is EX_NOINPUT, anything
/// else EX_IOERR.
pub(crate) fn input_error(p: &Path, e: std::io::Error) -> ExitCode {
    let code = if matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
    ) {
        exit::NOINPUT
    } else {
        exit::IOERR
    };
    fail(code, format_args!("{}: {e}", p.display()))
}

pub(crate) fn store_error(e: &StoreError) -> ExitCode {
    fail(exit::IOERR, e)
}

pub(crate) fn spinner(msg: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let p = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    p.set_message(msg);
    p.enable_steady_tick(std::time::Duration::from_millis(120));
    p
}

fn open(state: &Path, profile: &Profile) -> Run<Store> {
    let p = spinner("reading the ledger");
    let s = Store::open_with(
        state,
        profile.ledger_config(),
        StoreOptions::default(),
        profile.apply(),
    )
    .map_err(|e| store_error(&e));
    p.finish_and_clear();
    s
}

/// `--at`, or now; never earlier than the newest evidence.
fn judged_at(at: Option<Timestamp>, store: &Store) -> Run<Timestamp> {
    let t = at.unwrap_or_else(|| Timestamp::from_system_time(std::time::SystemTime::now()));
    match store.newest() {
        Some(newest) if t < newest => Err(fail(
            exit::USAGE,
            format_args!(
                "--at {t} is earlier than the newest evidence in the ledger ({newest}); to judge the past, ingest the evidence up to that time into another --state"
            ),
        )),
        _ => Ok(t),
    }
}

pub(crate) fn json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).expect("a string serialises"));
}

pub(crate) fn json_time(out: &mut String, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            let _ = write!(out, "\"{t}\"");
        }
        None => out.push_str("null"),
    }
}

// ---- ingest -------------------------------------------------------------------------

/// Events per transaction at most; a batch is also committed whenever the input has no more
/// data ready, so a slow pipe's events are acknowledged as they come.
const BATCH: usize = 10_000;

fn ingest(a: IngestArgs) -> Run {
    let profile = Profile::get(&a.common.profile)?;
    let (name, input, size): (String, Box<dyn Read>, Option<u64>) = match &a.file {
        None => ("-".into(), Box::new(std::io::stdin()), None),
        Some(p) if p.as_os_str() == "-" => ("-".into(), Box::new(std::io::stdin()), None),
        Some(p) => {
            let f = std::fs::File::open(p).map_err(|e| input_error(p, e))?;
            let size = f.metadata().ok().map(|m| m.len());
            (p.display().to_string(), Box::new(f), size)
        }
    };
    let mut store = open(&a.common.state, &profile)?;
    let bar = match size {
        Some(n) if n > (1 << 20) && std::io::stderr().is_terminal() => {
            let b = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {per_sec} eta {eta}",
            ) {
                b.set_style(style);
            }
            b
        }
        _ => ProgressBar::hidden(),
    };
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut batch: Vec<Event> = Vec::with_capacity(1024);
    let mut lines: Vec<u64> = Vec::with_capacity(1024);
    let mut bad = 0u64;
    let mut buf = Vec::with_capacity(512);
    let mut n = 0u64;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| fail(exit::IOERR, format_args!("{name}: {e}")))?;
        if read == 0 {
            break;
        }
        n += 1;
        bar.inc(read as u64);
        match std::str::from_utf8(&buf) {
            Err(e) => {
                bad += 1;
                eprintln!(
                    "rblkit: {name}: line {n}, column {}: not UTF-8",
                    e.valid_up_to() + 1
                );
            }
            Ok(text) => {
                let text = text.trim_end_matches(['\n', '\r']);
                if !text.trim().is_empty() {
                    match Event::parse_line(text, n) {
                        Ok(e) => {
                            batch.push(e);
                            lines.push(n);
                        }
                        Err(e) => {
                            bad += 1;
                            eprintln!("rblkit: {name}: {e}");
                        }
                    }
                }
            }
        }
        if batch.len() >= BATCH || (!batch.is_empty() && reader.buffer().is_empty()) {
            commit(&mut store, &mut batch, &mut lines, &mut out)?;
        }
    }
    commit(&mut store, &mut batch, &mut lines, &mut out)?;
    bar.finish_and_clear();
    Ok(if bad > 0 {
        ExitCode::from(exit::DATAERR)
    } else {
        ExitCode::SUCCESS
    })
}

/// Appends a batch, then prints the outcomes of its requests (only what is committed is
/// acknowledged).
fn commit(
    store: &mut Store,
    batch: &mut Vec<Event>,
    lines: &mut Vec<u64>,
    out: &mut dyn Write,
) -> Run<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = store.append(batch).map_err(|e| store_error(&e))?;
    let mut text = String::new();
    for ((e, line), o) in batch.iter().zip(lines.iter()).zip(outcomes) {
        if e.evidence.is_request() {
            outcome_line(&mut text, *line, e, o);
        }
    }
    let r = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(e) = r {
        return Err(fail(exit::IOERR, format_args!("standard output: {e}")));
    }
    batch.clear();
    lines.clear();
    Ok(())
}

/// `{"line": N, "subject": S, "event": E, "accepted": bool, "until": T?, "reason": "…"?}`.
fn outcome_line(out: &mut String, line: u64, e: &Event, o: Outcome) {
    let _ = write!(out, "{{\"line\":{line},\"subject\":");
    json_str(out, &e.subject.to_string());
    let _ = write!(out, ",\"event\":\"{}\",\"accepted\":", e.evidence.name());
    match o {
        Outcome::Accepted { until } => {
            out.push_str("true");
            if let Some(t) = until {
                let _ = write!(out, ",\"until\":\"{t}\"");
            }
        }
        Outcome::Refused(r) => {
            out.push_str("false,\"reason\":");
            json_str(out, &r.to_string());
        }
        // a request is accepted or refused; anything else is not a decision
        _ => out.push_str("false,\"reason\":\"not a request\""),
    }
    out.push_str("}\n");
}

// ---- status and explain -------------------------------------------------------------

fn status_cmd(a: StatusArgs) -> Run {
    let profile = Profile::get(&a.common.profile)?;
    let store = open(&a.common.state, &profile)?;
    let at = judged_at(a.at.at, &store)?;
    let policy = profile.policy();
    let mut text = String::new();
    for s in &a.subjects {
        status(store.ledger(), &policy, s, at).write_json(&mut text);
        text.push('\n');
    }
    print_out(&text)
}

pub(crate) fn print_out(text: &str) -> Run {
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(fail(exit::IOERR, format_args!("standard output: {e}"))),
    }
}

fn explain_cmd(a: ExplainArgs) -> Run {
    let profile = Profile::get(&a.common.profile)?;
    let store = open(&a.common.state, &profile)?;
    let at = judged_at(a.at.at, &store)?;
    let policy = profile.policy();
    let x = explain(store.ledger(), &policy, &a.subject, at);
    let text = if a.json {
        let mut t = x.to_json().to_string();
        t.push('\n');
        t
    } else {
        let mut t = x.to_string();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    print_out(&text)
}

// ---- compile ------------------------------------------------------------------------

/// Writes `data` to `path` through a temporary file in the same directory and a rename, so
/// a server reloading the file never reads half of it; world-readable.
fn write_atomically(path: &Path, ds: &Dataset) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let mut w = std::io::BufWriter::new(f);
        ds.write_rbldnsd(&mut w)
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        let f = w
            .into_inner()
            .map_err(|e| format!("{}: {}", tmp.display(), e.error()))?;
        f.sync_all()
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn compile_cmd(a: CompileArgs) -> Run {
    let profile = Profile::get(&a.common.profile)?;
    let store = open(&a.common.state, &profile)?;
    let at = judged_at(a.at.at, &store)?;
    let policy = profile.policy();
    let p = spinner("compiling");
    let list = compile(store.ledger(), &policy, at);
    p.finish_and_clear();
    std::fs::create_dir_all(&a.out)
        .map_err(|e| fail(exit::IOERR, format_args!("{}: {e}", a.out.display())))?;
    let out = std::fs::canonicalize(&a.out)
        .map_err(|e| fail(exit::IOERR, format_args!("{}: {e}", a.out.display())))?;
    {
        use std::os::unix::fs::PermissionsExt;
        // rbldnsd drops its privileges: the files and their directory must be readable
        if let Ok(m) = std::fs::metadata(&out) {
            let mode = m.permissions().mode();
            if mode & 0o005 != 0o005 {
                let _ =
                    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode | 0o055));
            }
        }
    }
    let emails = list.emails().count();
    if emails > 0 {
        eprintln!(
            "rblkit: warning: {emails} listed email address(es) left out: rbldnsd has no dataset type for them"
        );
    }
    let has_v4 = list.ipv4_addresses().next().is_some() || list.ipv4_ranges().next().is_some();
    let has_v6 = list.ipv6_ranges().next().is_some();
    let has_dn = list.domains().next().is_some();
    let kinds: Vec<DatasetKind> = [
        (DatasetKind::Ip4Trie, has_v4 || !(has_v6 || has_dn)),
        (DatasetKind::Ip6Trie, has_v6),
        (DatasetKind::DnSet, has_dn),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect();
    let p = spinner("writing datasets");
    let mut specs = String::new();
    for kind in kinds {
        let path = out.join(format!("{}.{kind}", a.zone));
        // each kind writes only its own entries of the list
        let ds = Dataset::from_list(kind, list.clone());
        write_atomically(&path, &ds).map_err(|e| fail(exit::IOERR, e))?;
        let _ = writeln!(specs, "{}:{kind}:{}", a.zone, path.display());
    }
    p.finish_and_clear();
    print_out(&specs)
}

// ---- export -------------------------------------------------------------------------

fn export(a: ExportArgs) -> Run {
    let store = Store::open_with(
        &a.state,
        LedgerConfig::default(),
        StoreOptions::default(),
        Box::new(|l: &mut Ledger, e: &Event| l.apply(e)),
    )
    .map_err(|e| store_error(&e))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    store
        .export(a.since, &mut out)
        .map_err(|e| store_error(&e))?;
    Ok(ExitCode::SUCCESS)
}
