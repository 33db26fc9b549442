//! Answer latency while a 1M-line dataset reloads, beside the latency without a reload, in
//! the same run: a server on loopback (two UDP threads) serves a 1M-entry ip4set; a client
//! asks one query at a time at about 4000 queries a second; first with no reload, then
//! while the file is rewritten and reloaded three times (only the answers given during a
//! reload count). Prints p50, p99, p99.9 and the largest latency of each.
//!
//!     cargo run --release --example reload_latency --features dns [-- LINES]

use rblkit::dns::server::{Event, Server};
use std::io::Write;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn write_dataset(path: &std::path::Path, lines: u32, salt: u32) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "$SOA 1h ns.bl.test. hostmaster.bl.test. {} 1h 15m 1w 5m",
        salt + 1
    )
    .unwrap();
    writeln!(f, ":127.0.0.2:Listed, see https://bl.test/?ip=$").unwrap();
    for i in 0..lines {
        let a = 0x0a00_0000u32
            .wrapping_add(i.wrapping_mul(13))
            .wrapping_add(salt);
        writeln!(f, "{}", std::net::Ipv4Addr::from(a)).unwrap();
    }
}

fn query(i: u32) -> Vec<u8> {
    let a = 0x0a00_0000u32
        .wrapping_add(i.wrapping_mul(13))
        .to_be_bytes();
    let mut q = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for o in [a[3], a[2], a[1], a[0]] {
        let t = o.to_string();
        q.push(t.len() as u8);
        q.extend_from_slice(t.as_bytes());
    }
    q.extend_from_slice(b"\x02bl\x04test\x00\x00\x01\x00\x01");
    q
}

fn percentiles(name: &str, v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    println!(
        "{name:<16} {:>7} answers  p50 {:>8.1?}  p99 {:>8.1?}  p99.9 {:>8.1?}  max {:>8.1?}",
        v.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        v[v.len() - 1]
    );
    at(0.99)
}

fn main() {
    let lines: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("rblkit-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bl.txt");
    write_dataset(&file, lines, 0);
    let loads = Arc::new(AtomicU32::new(0));
    let l = loads.clone();
    let t0 = Instant::now();
    let server = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(2)
        .specs(vec![format!("bl.test:ip4set:{}", file.display())
            .parse()
            .unwrap()])
        .check_interval(None)
        .watch_files(false)
        .on_event(move |e| {
            if let Event::Loaded { took, entries, .. } = e {
                eprintln!("loaded {entries} entries in {took:.2?}");
                l.fetch_add(1, Ordering::Release);
            }
        })
        .start()
        .unwrap();
    eprintln!("first load and start: {:.2?}", t0.elapsed());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(server.local_addrs()[0]).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let reloading = AtomicBool::new(false);
    let mut quiet = Vec::new();
    let mut during = Vec::new();
    let mut lost = 0u32;
    let mut i = 0u32;
    let mut ask = |reloading: bool, quiet: &mut Vec<Duration>, during: &mut Vec<Duration>| {
        let q = query(i);
        i = i.wrapping_add(1);
        let mut buf = [0u8; 512];
        let t = Instant::now();
        sock.send(&q).unwrap();
        loop {
            match sock.recv(&mut buf) {
                Ok(n) if n >= 2 && buf[..2] == q[..2] => break,
                Ok(_) => continue,
                Err(_) => {
                    lost += 1;
                    return;
                }
            }
        }
        let d = t.elapsed();
        if reloading {
            during.push(d);
        } else {
            quiet.push(d);
        }
        std::thread::sleep(Duration::from_micros(250).saturating_sub(d));
    };
    // no reload: five seconds
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        ask(false, &mut quiet, &mut during);
    }
    // three reloads of a rewritten file; the answers until each is loaded count
    for round in 1..=3u32 {
        write_dataset(&file, lines, round);
        let before = loads.load(Ordering::Acquire);
        reloading.store(true, Ordering::Release);
        server.reload();
        let limit = Instant::now() + Duration::from_secs(60);
        while loads.load(Ordering::Acquire) == before && Instant::now() < limit {
            ask(true, &mut quiet, &mut during);
        }
        reloading.store(false, Ordering::Release);
    }
    println!("{lines}-line ip4set, one query at a time, about 4000 a second, 2 server threads");
    let a = percentiles("without reload", &mut quiet);
    let b = percentiles("during reloads", &mut during);
    println!(
        "p99 during reloads / without: {:.2}x; unanswered within 2 s: {lost}",
        b.as_secs_f64() / a.as_secs_f64()
    );
    server.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
