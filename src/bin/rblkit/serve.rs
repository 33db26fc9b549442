//! `rblkit serve --listen ADDR:PORT [--listen …] ZONE:TYPE:FILE[,FILE…] …`.

use crate::exit;
use crate::zone::LoadArgs;
use clap::Args;
use rblkit::dns::server::{Event, Server};
use rblkit::zone::{DatasetSpec, ZoneError};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Serves rbldnsd datasets over DNS (UDP and TCP), answering as rbldnsd does; reloads the
/// files when they change (checked every --check-interval seconds) and on SIGHUP.
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
    /// Allow AXFR/IXFR over TCP from this address or network (repeatable; none by default).
    #[arg(long, value_name = "NET", value_parser = parse_net)]
    allow_transfer: Vec<ipnet::IpNet>,
    /// Send NOTIFY to this secondary when a zone changes (repeatable).
    #[arg(long, value_name = "ADDR:PORT")]
    notify: Vec<SocketAddr>,
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

fn log(e: &Event) {
    match e {
        Event::Loaded {
            zone,
            serial,
            entries,
            took,
        } => eprintln!(
            "rblkit: {zone}: loaded {entries} entries, serial {serial}, in {:.3}s",
            took.as_secs_f64()
        ),
        Event::Warning { zone, warning } => eprintln!("rblkit: {zone}: warning: {warning}"),
        Event::LoadFailed { zone, error } => {
            eprintln!("rblkit: {zone}: not reloaded, keeping the old data: {error}")
        }
        Event::Transfer {
            zone,
            peer,
            style,
            serial,
            from,
            records,
        } => match from {
            Some(f) => eprintln!(
                "rblkit: {zone}: {style} to {peer}, serial {f} -> {serial}, {records} records"
            ),
            None => eprintln!("rblkit: {zone}: {style} to {peer}, serial {serial}, {records} records"),
        },
        Event::TransferRefused { name, peer } => {
            eprintln!("rblkit: {name}: transfer to {peer} refused")
        }
        Event::NoTransfer { zone, why } => {
            eprintln!("rblkit: {zone}: not available for transfers: {why}")
        }
        Event::Notified {
            zone,
            secondary,
            serial,
            tries,
        } => eprintln!("rblkit: {zone}: NOTIFY of serial {serial} answered by {secondary} (try {tries})"),
        Event::NotifyUnanswered {
            zone,
            secondary,
            serial,
            tries,
        } => eprintln!("rblkit: {zone}: NOTIFY of serial {serial} to {secondary}: no answer after {tries} tries"),
        other => eprintln!("rblkit: {other:?}"),
    }
}

pub(crate) fn run(a: ServeArgs) -> ExitCode {
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
        .on_event(log);
    if let Some(n) = a.threads {
        b = b.threads(n);
    }
    for l in &a.listen {
        b = b.listen(*l);
    }
    for n in &a.allow_transfer {
        b = b.allow_transfer(*n);
    }
    for n in &a.notify {
        b = b.notify(*n);
    }
    match b.start() {
        Ok(server) => {
            for addr in server.local_addrs() {
                eprintln!("rblkit: answering on {addr} (UDP and TCP)");
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
        Err(e) => {
            eprintln!("rblkit: {e}");
            ExitCode::from(exit::OSERR)
        }
    }
}
