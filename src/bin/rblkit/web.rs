//! `rblkit web --listen ADDR:PORT --state DIR --profile NAME [--config FILE] [--metrics ADDR:PORT]`.

use crate::exit;
use clap::Args;
use rblkit::web::{Site, WebConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// EX_CONFIG: a config file that does not parse or has a value that cannot be used.
const CONFIG: u8 = 78;

/// Serves the public site a rejected sender lands on — lookup, time to delisting,
/// self-delisting, removal requests — with its JSON API under /api/v1/, and the operator's
/// review under /operator/ (closed unless the config gives credentials). Requests become
/// evidence in the ledger of --state, which other rblkit processes share.
#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// Address and port to answer HTTP on (IPv6 as [::1]:8080).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The state directory (created when missing).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The policy: spamcop, spam-center or relay.
    #[arg(long, value_name = "NAME")]
    profile: String,
    /// TOML settings: [operator] token, user and password_hash (argon2); [limits]
    /// lookups_per_minute, posts_per_minute, clients, body_bytes; [cookies] secure.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve Prometheus metrics on http://ADDR:PORT/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
}

pub(crate) fn run(a: WebArgs) -> ExitCode {
    let config = match &a.config {
        None => WebConfig::default(),
        Some(p) => {
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("rblkit: {}: {e}", p.display());
                    return ExitCode::from(exit::NOINPUT);
                }
            };
            match WebConfig::from_toml(&text, &p.display().to_string()) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("rblkit: {e}");
                    return ExitCode::from(CONFIG);
                }
            }
        }
    };
    if !config.operator_open() {
        eprintln!("rblkit: web: no operator credentials configured: the operator side is closed");
    }
    let site = match Site::open(&a.state, &a.profile, config) {
        Ok(s) => s,
        Err(e @ rblkit::Error::Web(_)) => {
            eprintln!("rblkit: {e}");
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            eprintln!("rblkit: {e}");
            return ExitCode::from(exit::IOERR);
        }
    };
    let _metrics = match a.metrics.map(|m| (m, site.serve_metrics(m))) {
        None => None,
        Some((_, Ok(e))) => {
            eprintln!("rblkit: web: metrics on http://{}/metrics", e.local_addr());
            Some(e)
        }
        Some((m, Err(e))) => {
            eprintln!("rblkit: {m}: serve metrics on: {e}");
            return ExitCode::from(exit::OSERR);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rblkit: cannot start the async runtime: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(a.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("rblkit: {}: {e}", a.listen);
                return ExitCode::from(exit::OSERR);
            }
        };
        match listener.local_addr() {
            Ok(addr) => eprintln!(
                "rblkit: web: answering on http://{addr}/ (profile {})",
                site.profile()
            ),
            Err(_) => eprintln!("rblkit: web: answering on {}", a.listen),
        }
        let app = site
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        match axum::serve(listener, app).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("rblkit: web: {e}");
                ExitCode::from(exit::OSERR)
            }
        }
    })
}
