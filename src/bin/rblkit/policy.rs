//! `rblkit policy`: the Postfix policy server, and its operator commands
//! (`status|explain|reset SUBJECT --state DIR`).

use crate::exit;
use crate::ledger::{
    fail, json_str, json_time, parse_subject, print_out, spinner, store_error, Run,
};
use clap::{Args, Subcommand};
use rblkit::ledger::store::{Checkpoints, Durability, Store, StoreOptions};
use rblkit::ledger::{Counter, Event, Evidence, LedgerConfig};
use rblkit::policy::explain;
use rblkit::smtp::{
    limit_states, Decider, LimitSource, LocalLists, PolicyConfig, PolicyServer, Request,
    ServerEvent,
};
use rblkit::{Subject, Timestamp};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A Postfix SMTP access policy delegation server (SMTPD_POLICY_README protocol).
///
/// With no config it applies the relay provider's rules: 300 messages per rolling hour
/// per sender identity (sasl_username, else the envelope sender), counted once per
/// message (by Postfix's instance) at the RCPT stage; invalid senders (root@localhost,
/// domains without a dot, .localhost .invalid .test .example) refused, never the null
/// sender <>; whoever keeps sending while blocked is blocked for good. Counts and blocks
/// live in --state and survive restarts (SIGKILL included): an answered decision is on
/// disk before the answer is sent.
///
/// Postfix main.cf (one line; asked at RCPT with smtpd_delay_reject = yes, the default):
///   smtpd_sender_restrictions = check_policy_service inet:127.0.0.1:10040
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, verbatim_doc_comment)]
pub(crate) struct PolicyArgs {
    #[command(subcommand)]
    command: Option<PolicyCommand>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address and port to answer on (IPv6 as [::1]:10040).
    #[arg(
        long,
        value_name = "ADDR:PORT",
        required_unless_present = "check_config"
    )]
    listen: Option<SocketAddr>,
    /// The state directory (created when missing).
    #[arg(long, value_name = "DIR", required_unless_present = "check_config")]
    state: Option<PathBuf>,
    /// The policy config (TOML): limits, counting, lists, replies, exemptions.
    #[arg(long, value_name = "FILE", conflicts_with = "check_config")]
    config: Option<PathBuf>,
    /// Check a config file, print what it sets, and exit (0: good, 78: bad).
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
    /// When a commit is on the disk: full (fsync per commit; survives a power failure) or
    /// normal (survives the process being killed; a power failure may lose the last
    /// commits).
    #[arg(long, value_name = "MODE", default_value = "full", value_parser = ["full", "normal"])]
    durability: String,
    /// Runtime threads for the connections (the writer has its own).
    #[arg(long, value_name = "N", default_value_t = 2)]
    threads: usize,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// A sender's counters and standing, as one JSON line.
    Status(SubjectArgs),
    /// Why a sender is blocked: the criteria that fired, their evidence, since and until
    /// when, what would end it.
    Explain(ExplainArgs),
    /// Clear a sender: recorded in the ledger as an operator's unlisting (its block, its
    /// escalation and its rolling counts end), seen by a running server within a second.
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
struct SubjectArgs {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The policy config the server runs with (its limits).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The sender identity (an address, an authenticated user that is one, or an IP for
    /// the null sender).
    #[arg(value_name = "SUBJECT", value_parser = parse_subject)]
    subject: Subject,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    #[command(flatten)]
    s: SubjectArgs,
    /// The authenticated user of the request to explain the limits of.
    #[arg(long, value_name = "USER")]
    sasl_user: Option<String>,
    /// The client address of that request.
    #[arg(long, value_name = "IP")]
    client: Option<std::net::IpAddr>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ResetArgs {
    #[command(flatten)]
    s: SubjectArgs,
    /// The note recorded with it.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "reset with rblkit policy reset"
    )]
    note: String,
}

pub(crate) fn run(a: PolicyArgs) -> ExitCode {
    let r = match a.command {
        Some(PolicyCommand::Status(s)) => status(s),
        Some(PolicyCommand::Explain(x)) => explain_cmd(x),
        Some(PolicyCommand::Reset(r)) => reset(r),
        None => match &a.serve.check_config {
            Some(p) => check_config(p),
            None => serve(a.serve),
        },
    };
    r.unwrap_or_else(|code| code)
}

/// Reads a config file (EX_NOINPUT when it cannot be read, EX_CONFIG when it is wrong).
pub(crate) fn load_config(p: Option<&Path>) -> Run<PolicyConfig> {
    let Some(p) = p else {
        return Ok(PolicyConfig::default());
    };
    let text = std::fs::read_to_string(p).map_err(|e| crate::ledger::input_error(p, e))?;
    PolicyConfig::from_toml(&text, &p.display().to_string()).map_err(|e| fail(exit::CONFIG, e))
}

fn check_config(p: &Path) -> Run {
    let c = load_config(Some(p))?;
    let mut t = String::new();
    let _ = writeln!(t, "{}: good", p.display());
    let _ = writeln!(
        t,
        "rate limit: {} messages per rolling hour, counted per {}; permanent block after {} more",
        c.rate.limit, c.counting, c.kept_sending.grace
    );
    let _ = writeln!(
        t,
        "limits: lines of {} bytes, {} attributes, {} s idle",
        c.limits.max_line,
        c.limits.max_attributes,
        c.limits.idle.as_secs()
    );
    if !c.dns.lists.is_empty() {
        let lists: Vec<String> = c.dns.lists.iter().map(|l| l.to_string()).collect();
        let _ = writeln!(
            t,
            "DNS lists: {} (refused at a score of {})",
            lists.join(" "),
            c.dns.threshold
        );
    }
    let _ = writeln!(
        t,
        "log: at most {} refusals a second, the rest summed up",
        c.refusal_log.per_second
    );
    if !c.dns.datasets.is_empty() {
        let specs: Vec<String> = c.dns.datasets.iter().map(|s| s.to_string()).collect();
        let _ = writeln!(t, "looked up in process: {}", specs.join(" "));
    }
    for r in rblkit::smtp::RefusalReason::ALL {
        let _ = writeln!(t, "reply {r}: {}", c.replies.get(*r));
    }
    print_out(&t)
}

fn open(state: &Path, config: &PolicyConfig, durability: Durability) -> Run<Store> {
    let p = spinner("reading the ledger");
    let s = Store::open_with(
        state,
        LedgerConfig::default(),
        // the server checkpoints from a thread of its own (a commit never does)
        StoreOptions::default()
            .with_durability(durability)
            .with_checkpoints(Checkpoints::Background),
        rblkit::smtp::store_apply(config),
    )
    .map_err(|e| store_error(&e));
    p.finish_and_clear();
    s
}

fn log(e: ServerEvent) {
    match e {
        ServerEvent::ClientDropped { peer, why } => {
            eprintln!("rblkit: policy client {peer} disconnected: {why}")
        }
        ServerEvent::Refused { identity, reason } => match identity {
            Some(s) => eprintln!("rblkit: refused {s}: {reason}"),
            None => eprintln!("rblkit: refused: {reason}"),
        },
        ServerEvent::StoreFailed { error } => {
            eprintln!("rblkit: the state directory failed, answering 451: {error}")
        }
        ServerEvent::AcceptFailed { message } => eprintln!("rblkit: accept failed: {message}"),
        ServerEvent::SharedStoreFailed { message } => eprintln!("rblkit: {message}"),
        ServerEvent::AlertFailed { message } => eprintln!("rblkit: {message}"),
        ServerEvent::RefusalsSuppressed { count } => {
            eprintln!(
                "rblkit: refused {count} more, not logged one by one ([log] refusals_per_second)"
            )
        }
        ServerEvent::ListsReloaded { specs } => eprintln!("rblkit: lists reloaded: {specs}"),
        ServerEvent::ListsFailed { error } => {
            eprintln!("rblkit: lists not reloaded (the old ones stay in use): {error}")
        }
        other => eprintln!("rblkit: {other:?}"),
    }
}

fn serve(a: ServeArgs) -> Run {
    let config = load_config(a.config.as_deref())?;
    let (Some(listen), Some(state)) = (a.listen, a.state.as_deref()) else {
        return Err(fail(exit::USAGE, "--listen and --state are required"));
    };
    let durability = if a.durability == "normal" {
        Durability::Normal
    } else {
        Durability::Full
    };
    let store = open(state, &config, durability)?;
    let term = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, term.clone()) {
            return Err(fail(
                exit::OSERR,
                format_args!("cannot handle signals: {e}"),
            ));
        }
    }
    let mut decider = Decider::new(config);
    let datasets = &decider.config().dns.datasets;
    if !datasets.is_empty() {
        // looked up in process; read again when the files change, and on SIGHUP
        let lists = LocalLists::load(datasets.clone(), Default::default())
            .map_err(|e| fail(exit::NOINPUT, e))?;
        if let Err(e) =
            signal_hook::flag::register(signal_hook::consts::SIGHUP, lists.reload_flag())
        {
            return Err(fail(exit::OSERR, format_args!("cannot handle SIGHUP: {e}")));
        }
        decider = decider.with_lists(lists);
    }
    let server = PolicyServer::start_with_threads(listen, store, decider, a.threads, log)
        .map_err(|e| fail(exit::OSERR, e))?;
    eprintln!("rblkit: policy server answering on {}", server.local_addr());
    let _metrics = match a.metrics {
        Some(m) => {
            let e = server.serve_metrics(m).map_err(|e| fail(exit::OSERR, e))?;
            eprintln!("rblkit: metrics on http://{}/metrics", e.local_addr());
            Some(e)
        }
        None => None,
    };
    while !term.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
    server.stop();
    eprintln!("rblkit: policy server stopped");
    Ok(ExitCode::SUCCESS)
}

fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

fn status(a: SubjectArgs) -> Run {
    let config = load_config(a.config.as_deref())?;
    let store = open(&a.state, &config, Durability::Full)?;
    let decider = Decider::new(config);
    let at = now().max(store.newest().unwrap_or(Timestamp::from_unix_assert(0)));
    let l = store.ledger();
    let s = &a.subject;
    let x = explain(l, decider.policy(), s, at);
    let facts = l.relay_facts(s);
    let mut t = String::from("{\"subject\":");
    json_str(&mut t, &s.to_string());
    let _ = write!(
        t,
        ",\"blocked\":{},\"state\":\"{}\",\"reasons\":[",
        x.listed,
        x.state.as_str()
    );
    for (i, r) in x.reasons.iter().enumerate() {
        if i > 0 {
            t.push(',');
        }
        let _ = write!(t, "\"{r}\"");
    }
    let _ = write!(
        t,
        "],\"messages_in_window\":{},\"limit\":{},\"window_secs\":{},\"messages_total\":{},\"peak\":{},\"last_message\":",
        l.count(s, Counter::Messages, at),
        decider.config().rate.limit,
        l.counter_window(Counter::Messages).as_secs(),
        facts.map_or(0, |f| f.messages),
        facts.map_or(0, |f| f.peak),
    );
    json_time(&mut t, facts.and_then(|f| f.last_message));
    let _ = write!(
        t,
        ",\"refused_in_window\":{},\"no_such_user_in_window\":{},\"since\":",
        l.count(s, Counter::Refused, at),
        l.count(s, Counter::NoSuchUser, at)
    );
    json_time(&mut t, x.since.filter(|_| x.listed));
    t.push_str(",\"expires\":");
    json_time(&mut t, x.until.filter(|_| x.listed));
    t.push_str("}\n");
    print_out(&t)
}

fn explain_cmd(a: ExplainArgs) -> Run {
    let config = load_config(a.s.config.as_deref())?;
    let store = open(&a.s.state, &config, Durability::Full)?;
    let decider = Decider::new(config);
    let at = now().max(store.newest().unwrap_or(Timestamp::from_unix_assert(0)));
    let x = explain(store.ledger(), decider.policy(), &a.s.subject, at);
    // the limits of a request from this subject (as its sender, or its client for an IP)
    let subject = a.s.subject.to_string();
    let client = a.client.map(|ip| ip.to_string());
    let mut attrs = vec![("request", "smtpd_access_policy")];
    match &a.s.subject {
        Subject::Ip(_) => attrs.push(("client_address", subject.as_str())),
        _ => attrs.push(("sender", subject.as_str())),
    }
    if let Some(c) = &client {
        attrs.push(("client_address", c));
    }
    if let Some(u) = &a.sasl_user {
        attrs.push(("sasl_username", u));
    }
    let req = Request::new(&attrs).map_err(|e| fail(exit::USAGE, e))?;
    let identity = Decider::identity(&req);
    let count = identity
        .as_ref()
        .map_or(0, |s| store.ledger().count(s, Counter::Messages, at));
    let (limits, applies) = limit_states(
        decider.config(),
        &req,
        identity.as_ref(),
        count,
        Some(&store),
        at,
    )
    .map_err(|e| fail(exit::IOERR, e))?;
    let mut t = if a.json {
        let mut j = x.to_json();
        let l: Vec<serde_json::Value> = limits
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({
                    "key": &*s.limit.key,
                    "limit": s.limit.limit,
                    "source": source(s.limit.source),
                    "count": s.count,
                    "applies": applies == Some(i),
                })
            })
            .collect();
        if let Some(o) = j.as_object_mut() {
            o.insert("limits".into(), l.into());
        }
        j.to_string()
    } else {
        x.to_string()
    };
    if !t.ends_with('\n') {
        t.push('\n');
    }
    if !a.json {
        t.push_str("limits per rolling hour (the tightest applies):\n");
        for (i, s) in limits.iter().enumerate() {
            let count = s.count.map_or_else(
                || "? (in the running server)".to_string(),
                |c| c.to_string(),
            );
            let _ = writeln!(
                t,
                "{} {} {count} of {} ({}){}",
                if applies == Some(i) { "*" } else { " " },
                s.limit.key,
                s.limit.limit,
                source(s.limit.source),
                if applies == Some(i) {
                    " <- applies"
                } else {
                    ""
                }
            );
        }
    }
    print_out(&t)
}

fn source(s: LimitSource) -> &'static str {
    match s {
        LimitSource::Config => "config",
        LimitSource::MapFile => "map file",
        LimitSource::RedisHash => "redis hash",
        _ => "other",
    }
}

fn reset(a: ResetArgs) -> Run {
    let config = load_config(a.s.config.as_deref())?;
    let mut store = open(&a.s.state, &config, Durability::Full)?;
    let decider = Decider::new(config);
    let at = now().max(store.newest().unwrap_or(Timestamp::from_unix_assert(0)));
    let before = explain(store.ledger(), decider.policy(), &a.s.subject, at);
    let e = Event::new(
        at,
        a.s.subject.clone(),
        Evidence::ManualUnlist {
            note: a.note.as_str().into(),
            reason: None,
        },
    );
    store.append(&[e]).map_err(|e| store_error(&e))?;
    let after = explain(store.ledger(), decider.policy(), &a.s.subject, at);
    print_out(&format!(
        "{}: reset (was {}, now {})\n",
        a.s.subject,
        if before.listed {
            "blocked"
        } else {
            "not blocked"
        },
        if after.listed {
            "blocked"
        } else {
            "not blocked"
        },
    ))
}
