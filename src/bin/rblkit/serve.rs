//! `rblkit serve --listen ADDR:PORT [--listen …] ZONE:TYPE:FILE[,FILE…] …`.

use crate::exit;
use crate::zone::LoadArgs;
use clap::Args;
use domain::base::iana::{Rcode, Rtype};
use rblkit::dns::server::{Event, Quota, RateLimit, Server, Transport};
use rblkit::zone::{AclAction, DatasetKind, DatasetParser, DatasetSpec, Strictness, ZoneError};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// Serves rbldnsd datasets over DNS (UDP and TCP), answering as rbldnsd does; reloads the
/// files when they change (watched with inotify, and checked every --check-interval
/// seconds) and on SIGHUP; SIGUSR1 logs per-zone statistics. Access datasets (ZONE:acl:FILE,
/// ZONE:aclkey:FILE), response-rate limiting (--rrl-rate) and a query quota (--quota) say
/// who gets which answers; all are off unless given.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Address and port to answer on, UDP and TCP (repeatable; IPv6 as [::1]:53).
    #[arg(long, required = true, value_name = "ADDR:PORT")]
    listen: Vec<SocketAddr>,
    /// UDP worker threads per address (default: the number of cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Seconds between checks of the dataset files for changes (0: only on SIGHUP).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    check_interval: u64,
    /// TTL of records from datasets without $TTL, in seconds (rbldnsd's -t).
    #[arg(long, value_name = "SECS", default_value_t = rblkit::dns::server::DEFAULT_TTL)]
    ttl: u32,
    /// Allow AXFR/IXFR over TCP from this address or network (repeatable; none by default);
    /// with :KEY, only requests signed with that TSIG key (an IPv6 network then with its
    /// prefix length: 2001:db8::/32:KEY).
    #[arg(long, value_name = "NET[:KEY]", value_parser = parse_net_key)]
    allow_transfer: Vec<(ipnet::IpNet, Option<String>)>,
    /// Send NOTIFY to this secondary when a zone changes (repeatable); with :KEY, signed
    /// with that TSIG key.
    #[arg(long, value_name = "ADDR:PORT[:KEY]", value_parser = parse_addr_key)]
    notify: Vec<(SocketAddr, Option<String>)>,
    /// A TSIG key (RFC 8945) as dig -y and kdig -y take it: [ALGORITHM:]NAME:SECRET, the
    /// secret in base64, the algorithm hmac-sha256 (default), hmac-sha384 or hmac-sha512
    /// (repeatable). Signed requests are verified and answered signed.
    #[arg(long, value_name = "[ALG:]NAME:SECRET")]
    tsig_key: Vec<rblkit::dns::server::TsigKey>,
    /// A file of TSIG keys as BIND's tsig-keygen writes them: key "NAME" { algorithm
    /// hmac-sha256; secret "BASE64"; }; (repeatable).
    #[arg(long, value_name = "FILE")]
    tsig_key_file: Vec<std::path::PathBuf>,
    /// Do not watch the dataset files (inotify); they are still checked every
    /// --check-interval seconds and on SIGHUP.
    #[arg(long)]
    no_watch: bool,
    /// Take and send UDP datagrams one system call each, not in batches
    /// (recvmmsg/sendmmsg); the answers are the same.
    #[arg(long)]
    no_udp_batch: bool,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
    /// Response-rate limiting: UDP responses per second per client network and kind of
    /// response (off when not given; TCP is never limited).
    #[arg(long, value_name = "N")]
    rrl_rate: Option<u32>,
    /// Rate limiting: the burst window, in seconds (a bucket holds rate x window).
    #[arg(long, value_name = "SECS", default_value_t = 4, requires = "rrl_rate")]
    rrl_window: u32,
    /// Rate limiting: every Nth limited response is sent truncated (TC), the others
    /// dropped (0: drop all).
    #[arg(long, value_name = "N", default_value_t = 2, requires = "rrl_rate")]
    rrl_slip: u32,
    /// Rate limiting and quota: the client network lengths, IPv4/IPv6.
    #[arg(long, value_name = "V4/V6", default_value = "24/56")]
    client_prefix: String,
    /// Rate limiting and quota: clients kept in each table (its memory is fixed).
    #[arg(long, value_name = "N", default_value_t = 65536)]
    client_table: usize,
    /// A query quota per client network per --quota-period (off when not given).
    #[arg(long, value_name = "N")]
    quota: Option<u64>,
    /// The quota period, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86400, requires = "quota")]
    quota_period: u64,
    /// The answer over the quota: refuse, ignore, empty, or an rbldnsd A:TXT value
    /// (default ":127.255.255.255:Excessive number of queries from $").
    #[arg(long, value_name = "ACTION", requires = "quota")]
    quota_answer: Option<String>,
    /// The log on standard error: text lines, or one JSON object a line (`timestamp`,
    /// `level`, `message` and the event's fields).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log every Nth query (client, zone, qname, qtype, rcode, listed, bytes); 0: none.
    #[arg(long, value_name = "N", default_value_t = 0)]
    query_log_sample: u64,
    /// Datasets as ZONE:TYPE:FILE[,FILE...] (rbldnsd's form).
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<String>,
}

/// An address or a network (`127.0.0.1`, `192.0.2.0/24`, `::1`).
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or network"))
}

/// `NET` or `NET:KEY`: the whole as a network first, then split at the last colon.
fn parse_net_key(s: &str) -> Result<(ipnet::IpNet, Option<String>), String> {
    if let Ok(n) = parse_net(s) {
        return Ok((n, None));
    }
    match s.rsplit_once(':') {
        Some((net, key)) if !key.is_empty() => Ok((parse_net(net)?, Some(key.to_owned()))),
        _ => Err(format!("{s:?} is not NET or NET:KEY")),
    }
}

/// `ADDR:PORT` or `ADDR:PORT:KEY`.
fn parse_addr_key(s: &str) -> Result<(SocketAddr, Option<String>), String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok((a, None));
    }
    match s.rsplit_once(':') {
        Some((addr, key)) if !key.is_empty() => match addr.parse::<SocketAddr>() {
            Ok(a) => Ok((a, Some(key.to_owned()))),
            Err(_) => Err(format!("{s:?} is not ADDR:PORT or ADDR:PORT:KEY")),
        },
        _ => Err(format!("{s:?} is not ADDR:PORT or ADDR:PORT:KEY")),
    }
}

/// How `rblkit serve` writes its log on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One line an event, `rblkit: ` and the message.
    Text,
    /// One JSON object a line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

/// Text lines as `rblkit serve` has always written them: `rblkit: MESSAGE`.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut w: format::Writer<'_>,
        e: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut m = Message(String::new());
        e.record(&mut m);
        writeln!(w, "rblkit: {}", m.0)
    }
}

/// The `message` field of an event.
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" {
            use std::fmt::Write;
            let _ = write!(self.0, "{v:?}");
        }
    }
}

/// Sends the log to standard error in the format asked for.
fn init_log(format: LogFormat) {
    let b = tracing_subscriber::fmt().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => b.event_format(Plain).try_init(),
        LogFormat::Json => b
            .json()
            .flatten_event(true)
            .with_target(false)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// One server event as a tracing event: the text of the message as `rblkit serve` has
/// always written it, and the facts as fields.
fn log(e: &Event) {
    use tracing::{info, warn};
    match e {
        Event::Loaded {
            zone,
            serial,
            entries,
            took,
        } => info!(
            zone = zone.as_str(),
            serial,
            entries,
            seconds = took.as_secs_f64(),
            "{zone}: loaded {entries} entries, serial {serial}, in {:.3}s",
            took.as_secs_f64()
        ),
        Event::Warning { zone, warning } => {
            warn!(zone = zone.as_str(), warning = %warning, "{zone}: warning: {warning}")
        }
        Event::LoadFailed { zone, error } => tracing::error!(
            zone = zone.as_str(),
            error = %error,
            "{zone}: not reloaded, keeping the old data: {error}"
        ),
        Event::Transfer {
            zone,
            peer,
            style,
            serial,
            from,
            records,
        } => match from {
            Some(f) => info!(
                zone = zone.as_str(),
                peer = %peer,
                style = %style,
                serial,
                from = f,
                records,
                "{zone}: {style} to {peer}, serial {f} -> {serial}, {records} records"
            ),
            None => info!(
                zone = zone.as_str(),
                peer = %peer,
                style = %style,
                serial,
                records,
                "{zone}: {style} to {peer}, serial {serial}, {records} records"
            ),
        },
        Event::TransferRefused { name, peer, why } => {
            warn!(name = &**name, peer = %peer, why = *why, "{name}: transfer to {peer} refused: {why}")
        }
        Event::NoTransfer { zone, why } => warn!(
            zone = zone.as_str(),
            why = &**why,
            "{zone}: not available for transfers: {why}"
        ),
        Event::Notified {
            zone,
            secondary,
            serial,
            tries,
        } => info!(
            zone = zone.as_str(),
            secondary = %secondary,
            serial,
            tries,
            "{zone}: NOTIFY of serial {serial} answered by {secondary} (try {tries})"
        ),
        Event::NotifyUnanswered {
            zone,
            secondary,
            serial,
            tries,
        } => warn!(
            zone = zone.as_str(),
            secondary = %secondary,
            serial,
            tries,
            "{zone}: NOTIFY of serial {serial} to {secondary}: no answer after {tries} tries"
        ),
        Event::Stats { lines } => {
            for l in lines {
                info!(stats = l.as_str(), "stats: {l}");
            }
        }
        Event::Query {
            peer,
            transport,
            zone,
            qname,
            qtype,
            rcode,
            listed,
            bytes,
        } => {
            let zone = zone.as_ref().map_or("", |z| z.as_str());
            let qtype = Rtype::from_int(*qtype);
            let rcode = Rcode::masked_from_int(*rcode);
            let transport = match transport {
                Transport::Tcp => "tcp",
                _ => "udp",
            };
            info!(
                peer = %peer,
                transport,
                zone,
                qname = &**qname,
                qtype = %qtype,
                rcode = %rcode,
                listed,
                bytes,
                "query: {peer} {transport} {qname} {qtype} {rcode}{}, {bytes} bytes",
                if *listed { " listed" } else { "" }
            )
        }
        other => info!("{other:?}"),
    }
}

pub(crate) fn run(a: ServeArgs) -> ExitCode {
    init_log(a.log_format);
    let mut specs = Vec::with_capacity(a.specs.len());
    for s in &a.specs {
        match s.parse::<DatasetSpec>() {
            Ok(p) => specs.push(p),
            Err(e) => {
                eprintln!("rblkit: {e}");
                return ExitCode::from(exit::USAGE);
            }
        }
    }
    let limits = match limits(&a) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rblkit: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let usr1 = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGUSR1, usr1.clone()) {
        eprintln!("rblkit: cannot handle SIGUSR1: {e}");
        return ExitCode::from(exit::OSERR);
    }
    let hup = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone()) {
        eprintln!("rblkit: cannot handle SIGHUP: {e}");
        return ExitCode::from(exit::OSERR);
    }
    let mut b = Server::builder()
        .specs(specs)
        .load_options(a.load.options())
        .check_interval((a.check_interval > 0).then(|| Duration::from_secs(a.check_interval)))
        .reload_flag(hup)
        .default_ttl(a.ttl)
        .stats_flag(usr1)
        .watch_files(!a.no_watch)
        .udp_batch(!a.no_udp_batch)
        .on_event(log)
        .query_log_sample(a.query_log_sample);
    let (rrl, quota) = limits;
    if let Some(r) = rrl {
        b = b.rate_limit(r);
    }
    if let Some(q) = quota {
        b = b.quota(q);
    }
    if let Some(m) = a.metrics {
        b = b.metrics(m);
    }
    if let Some(n) = a.threads {
        b = b.threads(n);
    }
    for l in &a.listen {
        b = b.listen(*l);
    }
    for k in &a.tsig_key {
        b = b.tsig_key(k.clone());
    }
    for f in &a.tsig_key_file {
        let name = f.display().to_string();
        let keys = std::fs::read_to_string(f)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|t| {
                rblkit::dns::server::TsigKey::from_key_file(&name, &t).map_err(|e| e.to_string())
            });
        match keys {
            Ok(keys) => {
                for k in keys {
                    b = b.tsig_key(k);
                }
            }
            Err(e) => {
                eprintln!("rblkit: {e}");
                return ExitCode::from(exit::USAGE);
            }
        }
    }
    for (n, key) in &a.allow_transfer {
        b = match key {
            Some(k) => b.allow_transfer_with_key(*n, k),
            None => b.allow_transfer(*n),
        };
    }
    for (n, key) in &a.notify {
        b = match key {
            Some(k) => b.notify_with_key(*n, k),
            None => b.notify(*n),
        };
    }
    match b.start() {
        Ok(server) => {
            for addr in server.local_addrs() {
                tracing::info!(listen = %addr, "answering on {addr} (UDP and TCP)");
            }
            if let Some(m) = server.metrics_addr() {
                tracing::info!(metrics = %m, "metrics on http://{m}/metrics");
            }
            server.wait();
            ExitCode::SUCCESS
        }
        Err(rblkit::Error::Zone(e @ ZoneError::Io { .. })) => {
            eprintln!("rblkit: {e}");
            ExitCode::from(exit::NOINPUT)
        }
        Err(rblkit::Error::Zone(e)) => {
            eprintln!("rblkit: {e}");
            ExitCode::from(exit::DATAERR)
        }
        Err(e @ rblkit::Error::Server(rblkit::dns::server::ServerError::UnknownKey { .. })) => {
            eprintln!("rblkit: {e}");
            ExitCode::from(exit::USAGE)
        }
        Err(e) => {
            eprintln!("rblkit: {e}");
            ExitCode::from(exit::OSERR)
        }
    }
}

/// The rate limiter and quota the flags ask for.
fn limits(a: &ServeArgs) -> Result<(Option<RateLimit>, Option<Quota>), String> {
    let (v4, v6) = a
        .client_prefix
        .split_once('/')
        .and_then(|(x, y)| Some((x.parse::<u8>().ok()?, y.parse::<u8>().ok()?)))
        .ok_or_else(|| {
            format!(
                "--client-prefix {:?}: expected V4/V6, as 24/56",
                a.client_prefix
            )
        })?;
    let rrl = match a.rrl_rate {
        Some(rate) => Some(
            RateLimit::builder()
                .rate(rate)
                .window(a.rrl_window)
                .slip(a.rrl_slip)
                .prefixes(v4, v6)
                .table_size(a.client_table)
                .build()
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let quota = match a.quota {
        Some(n) => {
            let mut q = Quota::builder()
                .queries(n)
                .period_secs(a.quota_period)
                .prefixes(v4, v6)
                .table_size(a.client_table);
            if let Some(text) = &a.quota_answer {
                q = q.answer(quota_answer(text)?);
            }
            Some(q.build().map_err(|e| e.to_string())?)
        }
        None => None,
    };
    Ok((rrl, quota))
}

/// `refuse`, `ignore`, `empty`, or an rbldnsd `:A:TXT` value, read as an aclkey default
/// line is.
fn quota_answer(text: &str) -> Result<AclAction, String> {
    let line = if text.starts_with(':') || text.starts_with('=') {
        text.to_owned()
    } else {
        format!(":{text}")
    };
    let mut p = DatasetParser::new(DatasetKind::AclKey);
    p.strictness(Strictness::Strict);
    p.parse_file("--quota-answer", line.as_bytes())
        .map_err(|e| e.to_string())?;
    let ds = p.finish();
    match ds.keys().map(|k| k.default_action().clone()) {
        Some(
            a @ (AclAction::Refuse
            | AclAction::Ignore
            | AclAction::Empty
            | AclAction::Always { .. }),
        ) => Ok(a),
        _ => Err(format!(
            "--quota-answer {text:?}: expected refuse, ignore, empty or :A:TXT"
        )),
    }
}
