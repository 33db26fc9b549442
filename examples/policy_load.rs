//! Load for the policy server: the Postfix policy protocol over loopback with many
//! concurrent connections, against the server `rblkit policy` runs (`PolicyServer`, a
//! fresh state directory, durable commits) and, in the same run, against a trivial server
//! that answers every request `action=DUNNO` without looking at it. Prints requests per
//! second of both and their ratio, then the latency (p50, p99, max) of each at a fixed
//! rate of 1,000 requests per second. With `--redis URL` (feature `redis`) a third server
//! in the same run shares its counters in that Redis (`[redis]` in the config); `--redis`
//! may be given again (say `redis://` and `rediss://` to one Redis, for TLS beside plain),
//! each URL with a server of its own, and `--redis-ca FILE`, `--redis-cert FILE` and
//! `--redis-key FILE` are the TLS files of the `rediss://` ones.
//!
//! ```text
//! cargo run --release --features smtp,redis --example policy_load -- \
//!     [--conns 64] [--secs 5] [--recipients 4] [--durability full|normal] [--threads 2] \
//!     [--redis redis://127.0.0.1:6379/0] [--redis rediss://127.0.0.1:6380/0 --redis-ca ca.pem \
//!     --redis-cert client.pem --redis-key client.key] [--classes]
//! ```
//!
//! `--classes` gives both servers two classes of limits beside the per-identity one (per
//! sender domain and per client network, limits no request reaches), so that every counted
//! message is also checked and counted in the class counts (the embedded store's, or
//! Redis's).
//!
//! For a profiler, one side at a time: `--serve ours|dunno --listen ADDR:PORT` serves
//! until standard input ends (run it under `valgrind --tool=callgrind`), and
//! `--connect ADDR:PORT --requests N` sends N requests over `--conns` connections.
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
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

struct Args {
    conns: usize,
    secs: u64,
    recipients: u64,
    durability: Durability,
    threads: usize,
    /// Only serve (`ours` or `dunno`) until standard input ends: for a profiler.
    serve: Option<String>,
    listen: SocketAddr,
    /// Only load this server with `requests` requests, then print the rate.
    connect: Option<SocketAddr>,
    requests: u64,
    redis: Vec<String>,
    /// `tls_ca_file`, `tls_cert_file`, `tls_key_file` of the `rediss://` URLs.
    redis_tls: Vec<(&'static str, String)>,
    classes: bool,
}

fn args() -> Args {
    let mut a = Args {
        conns: 64,
        secs: 5,
        recipients: 4,
        durability: Durability::Full,
        threads: 2,
        serve: None,
        listen: "127.0.0.1:0".parse().unwrap(),
        connect: None,
        requests: 100_000,
        redis: Vec::new(),
        redis_tls: Vec::new(),
        classes: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        if k == "--classes" {
            a.classes = true;
            continue;
        }
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--conns" => a.conns = v.parse().expect("--conns N"),
            "--threads" => a.threads = v.parse().expect("--threads N"),
            "--secs" => a.secs = v.parse().expect("--secs N"),
            "--serve" => a.serve = Some(v),
            "--listen" => a.listen = v.parse().expect("--listen ADDR:PORT"),
            "--connect" => a.connect = Some(v.parse().expect("--connect ADDR:PORT")),
            "--requests" => a.requests = v.parse().expect("--requests N"),
            "--redis" => a.redis.push(v),
            "--redis-ca" => a.redis_tls.push(("tls_ca_file", v)),
            "--redis-cert" => a.redis_tls.push(("tls_cert_file", v)),
            "--redis-key" => a.redis_tls.push(("tls_key_file", v)),
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
fn dunno_server(rt: &tokio::runtime::Runtime, listen: SocketAddr) -> SocketAddr {
    let l = rt.block_on(TcpListener::bind(listen)).unwrap();
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

/// One connection's requests: a template whose message number, sender and recipient are
/// written in place (fixed-width fields), so that making a request costs the load next to
/// nothing.
struct Requests {
    text: Vec<u8>,
    /// Offsets of the message number (8 hex digits), the sender (5 digits) and the
    /// recipient (3 digits).
    at: [usize; 3],
    conn: u64,
    recipients: u64,
}

impl Requests {
    fn new(conn: usize, recipients: u64) -> Requests {
        let text = format!(
            "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n\
             client_address=192.0.2.{}\nclient_name=client.example.net\nhelo_name=client.example.net\n\
             queue_id=\ninstance={conn:04x}.MMMMMMMM\nsender=sSSSSS@shop{}.example.com\n\
             recipient=rRRR@example.net\nrecipient_count=0\nsize=0\nsasl_method=\nsasl_username=\n\n",
            conn % 250 + 1,
            conn % 10,
        )
        .into_bytes();
        let find = |pat: &[u8]| text.windows(pat.len()).position(|w| w == pat).unwrap();
        let at = [find(b"MMMMMMMM"), find(b"SSSSS"), find(b"RRR")];
        Requests {
            text,
            at,
            conn: conn as u64,
            recipients,
        }
    }

    /// The `n`th request: every `recipients` requests share one message (`instance`).
    fn get(&mut self, n: u64) -> &[u8] {
        let msg = n / self.recipients;
        let hex = |v: u64, out: &mut [u8]| {
            for (i, b) in out.iter_mut().rev().enumerate() {
                *b = b"0123456789abcdef"[((v >> (4 * i)) & 15) as usize];
            }
        };
        let dec = |mut v: u64, out: &mut [u8]| {
            for b in out.iter_mut().rev() {
                *b = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        let [m, s, r] = self.at;
        hex(msg & 0xffff_ffff, &mut self.text[m..m + 8]);
        dec((self.conn * 7919 + msg) % 100_000, &mut self.text[s..s + 5]);
        dec(n % 1000, &mut self.text[r..r + 3]);
        &self.text
    }
}

#[allow(clippy::too_many_arguments)]
async fn client(
    addr: SocketAddr,
    conn: usize,
    recipients: u64,
    limit: u64,
    until: Instant,
    pace: Option<Duration>,
    count: Arc<AtomicU64>,
    lat: Option<Arc<std::sync::Mutex<Vec<u32>>>>,
) {
    let s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let (mut r, mut w) = s.into_split();
    let mut reqs = Requests::new(conn, recipients);
    let mut buf = vec![0u8; 4096];
    let mut n = 0u64;
    let mut next = Instant::now();
    let mut mine = Vec::new();
    while n < limit && Instant::now() < until {
        if let Some(p) = pace {
            tokio::time::sleep_until(next.into()).await;
            next += p;
        }
        let t = Instant::now();
        w.write_all(reqs.get(n)).await.unwrap();
        // one request outstanding: the answer is everything up to its empty line
        let mut len = 0;
        while len < 2 || &buf[len - 2..len] != b"\n\n" {
            let k = r.read(&mut buf[len..]).await.unwrap();
            assert!(k > 0, "server closed the connection");
            len += k;
            assert!(len < buf.len(), "an answer too long");
        }
        assert!(
            buf.starts_with(b"action="),
            "{}",
            String::from_utf8_lossy(&buf[..len])
        );
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

/// Requests per second with `conns` connections as fast as they go, for `--secs`
/// seconds, or until `total` requests when given.
fn throughput(rt: &tokio::runtime::Runtime, addr: SocketAddr, a: &Args, total: Option<u64>) -> f64 {
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let (limit, until) = match total {
        Some(t) => (
            t.div_ceil(a.conns as u64),
            start + Duration::from_secs(86_400),
        ),
        None => (u64::MAX, start + Duration::from_secs(a.secs)),
    };
    rt.block_on(async {
        let tasks: Vec<_> = (0..a.conns)
            .map(|c| {
                tokio::spawn(client(
                    addr,
                    c,
                    a.recipients,
                    limit,
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
                    u64::MAX,
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
fn start(
    a: &Args,
    listen: SocketAddr,
    state: &std::path::Path,
    config: PolicyConfig,
) -> PolicyServer {
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
    PolicyServer::start_with_threads(listen, store, Decider::new(config), a.threads, |e| {
        if let ServerEvent::SharedStoreFailed { message } = e {
            eprintln!("{message}");
        }
    })
    .unwrap()
}

/// The classes of `--classes`: limits no request of the load reaches.
const CLASSES: &str = "[[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 100000000\n\
    [[limit]]\nby = \"client_network\"\nmessages_per_hour = 100000000\n";

fn main() {
    let a = args();
    if let Some(addr) = a.connect {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rate = throughput(&rt, addr, &a, Some(a.requests));
        println!("{rate:.0} req/s");
        return;
    }
    // the reference server: two runtime threads, as many as ours has by default
    let ref_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if a.serve.as_deref() == Some("dunno") {
        let addr = dunno_server(&ref_rt, a.listen);
        println!("serving dunno on {addr} until standard input ends");
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        return;
    }
    let state = std::env::temp_dir().join(format!("rblkit-policy-load-{}", std::process::id()));
    let ours_listen = if a.serve.is_some() {
        a.listen
    } else {
        "127.0.0.1:0".parse().unwrap()
    };
    let classes = if a.classes { CLASSES } else { "" };
    let server = start(
        &a,
        ours_listen,
        &state.join("embedded"),
        PolicyConfig::from_toml(classes, "--classes").unwrap(),
    );
    if a.serve.is_some() {
        println!(
            "serving ours on {} until standard input ends",
            server.local_addr()
        );
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        server.stop();
        let _ = std::fs::remove_dir_all(&state);
        return;
    }
    let shared: Vec<(String, PolicyServer)> = a
        .redis
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let mut text = format!(
                "{classes}[redis]\nurl = \"{url}\"\nkey_prefix = \"rblkit-load-{}-{i}:\"\n",
                std::process::id()
            );
            let tls = url.starts_with("rediss://");
            if tls {
                for (k, v) in &a.redis_tls {
                    text.push_str(&format!("{k} = {v:?}\n"));
                }
            }
            let config = PolicyConfig::from_toml(&text, "--redis").unwrap();
            let name = if tls {
                "rblkit policy (redis TLS)"
            } else {
                "rblkit policy (redis)"
            };
            let server = start(
                &a,
                "127.0.0.1:0".parse().unwrap(),
                &state.join(format!("redis{i}")),
                config,
            );
            (name.to_string(), server)
        })
        .collect();
    let dunno = dunno_server(&ref_rt, "127.0.0.1:0".parse().unwrap());
    // the load: one thread
    let load_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{} connections, {} s per run, {} recipients per message, durability {:?}, {} server threads, classes of limits: {}",
        a.conns, a.secs, a.recipients, a.durability, a.threads, a.classes
    );
    let mut servers = vec![("rblkit policy (embedded)", server.local_addr())];
    for (name, s) in &shared {
        servers.push((name.as_str(), s.local_addr()));
    }
    servers.push(("always-DUNNO", dunno));
    let rates: Vec<f64> = servers
        .iter()
        .map(|(_, addr)| throughput(&load_rt, *addr, &a, None))
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
    for (_, s) in shared {
        s.stop();
    }
    server.stop();
    let _ = std::fs::remove_dir_all(&state);
}
