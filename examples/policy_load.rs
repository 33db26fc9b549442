//! Load for the policy server: the Postfix policy protocol over loopback with many
//! concurrent connections, against the server `rblkit policy` runs (`PolicyServer`, a
//! fresh state directory, durable commits) and, in the same run, against a trivial server
//! that answers every request `action=DUNNO` without looking at it. Prints requests per
//! second of both and their ratio, then the latency (p50, p99, max) of each at a fixed
//! rate of 1,000 requests per second. With `--redis URL` (feature `redis`) a third server
//! in the same run shares its counters in that Redis (`[redis]` in the config).
//!
//! ```text
//! cargo run --release --features smtp,redis --example policy_load -- \
//!     [--conns 64] [--secs 5] [--recipients 4] [--durability full|normal] [--threads 2] \
//!     [--redis redis://127.0.0.1:6379/0]
//! ```
//!
//! Each connection sends requests one after another, as Postfix's smtpd processes do;
//! every `--recipients` requests share one `instance` (one message to that many
//! recipients: the first counts and is written, the others are answered from memory).
//! Senders are spread over 100,000 identities so that no rate limit is reached.

use rblkit::ledger::store::{Checkpoints, Durability, Store, StoreOptions};
use rblkit::smtp::{store_apply, Decider, PolicyConfig, PolicyServer, ServerEvent};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

struct Args {
    conns: usize,
    secs: u64,
    recipients: u64,
    durability: Durability,
    threads: usize,
    redis: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        conns: 64,
        secs: 5,
        recipients: 4,
        durability: Durability::Full,
        threads: 2,
        redis: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--conns" => a.conns = v.parse().expect("--conns N"),
            "--threads" => a.threads = v.parse().expect("--threads N"),
            "--redis" => a.redis = Some(v),
            "--secs" => a.secs = v.parse().expect("--secs N"),
            "--recipients" => a.recipients = v.parse::<u64>().expect("--recipients N").max(1),
            "--durability" => {
                a.durability = match v.as_str() {
                    "full" => Durability::Full,
                    "normal" => Durability::Normal,
                    _ => panic!("--durability full|normal"),
                }
            }
            _ => panic!("unknown option {k}"),
        }
    }
    a
}

/// The reference: reads requests and answers DUNNO, nothing else.
fn dunno_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    let l = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = l.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == b"\n" && w.write_all(b"action=DUNNO\n\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn request(out: &mut Vec<u8>, conn: usize, n: u64, recipients: u64) {
    use std::io::Write;
    let msg = n / recipients;
    let _ = write!(
        out,
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n\
         client_address=192.0.2.{}\nclient_name=client.example.net\nhelo_name=client.example.net\n\
         queue_id=\ninstance={conn:x}.{msg:x}\nsender=s{}@shop{}.example.com\n\
         recipient=r{}@example.net\nrecipient_count=0\nsize=0\nsasl_method=\nsasl_username=\n\n",
        conn % 250 + 1,
        (conn as u64 * 7919 + msg) % 100_000,
        conn % 10,
        n % 1000,
    );
}

async fn client(
    addr: SocketAddr,
    conn: usize,
    recipients: u64,
    until: Instant,
    pace: Option<Duration>,
    count: Arc<AtomicU64>,
    lat: Option<Arc<std::sync::Mutex<Vec<u32>>>>,
) {
    let s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let (r, mut w) = s.into_split();
    let mut r = BufReader::new(r);
    let mut out = Vec::with_capacity(512);
    let mut line = Vec::with_capacity(128);
    let mut n = 0u64;
    let mut next = Instant::now();
    let mut mine = Vec::new();
    while Instant::now() < until {
        if let Some(p) = pace {
            tokio::time::sleep_until(next.into()).await;
            next += p;
        }
        out.clear();
        request(&mut out, conn, n, recipients);
        let t = Instant::now();
        w.write_all(&out).await.unwrap();
        loop {
            line.clear();
            if r.read_until(b'\n', &mut line).await.unwrap() == 0 {
                panic!("server closed the connection");
            }
            if line == b"\n" {
                break;
            }
            assert!(
                line.starts_with(b"action="),
                "{}",
                String::from_utf8_lossy(&line)
            );
        }
        if lat.is_some() {
            mine.push(t.elapsed().as_micros() as u32);
        }
        n += 1;
    }
    count.fetch_add(n, Ordering::Relaxed);
    if let Some(l) = lat {
        l.lock().unwrap().extend(mine);
    }
}

/// Requests per second with `conns` connections as fast as they go.
fn throughput(rt: &tokio::runtime::Runtime, addr: SocketAddr, a: &Args) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs(a.secs);
    rt.block_on(async {
        let tasks: Vec<_> = (0..a.conns)
            .map(|c| {
                tokio::spawn(client(
                    addr,
                    c,
                    a.recipients,
                    until,
                    None,
                    count.clone(),
                    None,
                ))
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

/// Latencies in microseconds at 1,000 requests per second (10 connections × 100/s).
fn latency(rt: &tokio::runtime::Runtime, addr: SocketAddr, a: &Args) -> (u32, u32, u32, usize) {
    let lat = Arc::new(std::sync::Mutex::new(Vec::new()));
    let count = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(a.secs);
    rt.block_on(async {
        let tasks: Vec<_> = (0..10)
            .map(|c| {
                tokio::spawn(client(
                    addr,
                    1000 + c,
                    a.recipients,
                    until,
                    Some(Duration::from_millis(10)),
                    count.clone(),
                    Some(lat.clone()),
                ))
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let mut v = lat.lock().unwrap().clone();
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    (at(0.5), at(0.99), *v.last().unwrap(), v.len())
}

/// A policy server on a fresh state directory, as `rblkit policy` opens it.
fn start(a: &Args, state: &std::path::Path, config: PolicyConfig) -> PolicyServer {
    let _ = std::fs::remove_dir_all(state);
    let store = Store::open_with(
        state,
        Default::default(),
        StoreOptions::default()
            .with_durability(a.durability)
            .with_checkpoints(Checkpoints::Background),
        store_apply(&config),
    )
    .unwrap();
    PolicyServer::start_with_threads(
        "127.0.0.1:0".parse().unwrap(),
        store,
        Decider::new(config),
        a.threads,
        |e| {
            if let ServerEvent::SharedStoreFailed { message } = e {
                eprintln!("{message}");
            }
        },
    )
    .unwrap()
}

fn main() {
    let a = args();
    let state = std::env::temp_dir().join(format!("rblkit-policy-load-{}", std::process::id()));
    let server = start(&a, &state.join("embedded"), PolicyConfig::default());
    let shared = a.redis.as_ref().map(|url| {
        let text = format!(
            "[redis]\nurl = \"{url}\"\nkey_prefix = \"rblkit-load-{}:\"\n",
            std::process::id()
        );
        let config = PolicyConfig::from_toml(&text, "--redis").unwrap();
        start(&a, &state.join("redis"), config)
    });
    // the reference server and the load clients: one runtime thread each side, so the
    // reference gets no more threads than needed to saturate
    let ref_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dunno = dunno_server(&ref_rt);
    let load_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{} connections, {} s per run, {} recipients per message, durability {:?}, {} server threads",
        a.conns, a.secs, a.recipients, a.durability, a.threads
    );
    let mut servers = vec![("rblkit policy (embedded)", server.local_addr())];
    if let Some(s) = &shared {
        servers.push(("rblkit policy (redis)", s.local_addr()));
    }
    servers.push(("always-DUNNO", dunno));
    let rates: Vec<f64> = servers
        .iter()
        .map(|(_, addr)| throughput(&load_rt, *addr, &a))
        .collect();
    let reference = rates[rates.len() - 1];
    for ((name, _), r) in servers.iter().zip(&rates) {
        println!(
            "throughput: {name} {r:.0} req/s, ratio to always-DUNNO {:.2}",
            r / reference
        );
    }
    for (name, addr) in &servers {
        let (p50, p99, max, n) = latency(&load_rt, *addr, &a);
        println!(
            "latency at 1,000 req/s: {name} p50 {p50} us, p99 {p99} us, max {max} us ({n} requests)"
        );
    }
    server.stop();
    if let Some(s) = shared {
        s.stop();
    }
    let _ = std::fs::remove_dir_all(&state);
}
