//! DNS operations on loopback: keys in query names (`aclkey`), their reload and a bad key
//! file, the blocked answer read as an error by `rblkit check`; response-rate limiting
//! (a flooding /24 held to its rate with the slip ratio, a well-behaved /24 answered, the
//! client table capped); the query quota; the metrics endpoint's counters moving.

use super::dns_tools::{read, Udp, Q};
use super::metrics_tools::{metric, scrape};
use super::zone_tools::TempDir;
use rblkit::dns::server::{Event, Quota, RateLimit, Server};
use rblkit::zone::DatasetSpec;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BL: &str =
    "$SOA 1h ns.bl.test. hostmaster.bl.test. 5 1h 15m 1w 5m\n:127.0.0.2:Listed $\n192.0.2.0/24\n";

fn spec(s: &str) -> DatasetSpec {
    s.parse().unwrap()
}

/// A server builder on a free loopback port for these specs, `threads` UDP threads, no
/// periodic check.
fn builder(specs: &[String], threads: usize) -> rblkit::dns::server::ServerBuilder {
    Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(threads)
        .specs(specs.iter().map(|s| spec(s)).collect())
        .check_interval(None)
}

#[test]
fn keys_in_query_names_reload_and_count() {
    let dir = TempDir::new("dns-keys");
    let bl = dir.write("bl.txt", BL.as_bytes());
    let keys = dir.write(
        "keys.txt",
        b"# customers\n:127.255.255.254:Unknown or missing key, see https://bl.test/keys\nk1 :pass\nk2 :refuse\nk3 :empty\n",
    );
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let ev = events.clone();
    let server = builder(
        &[
            format!("bl.test:ip4set:{bl}"),
            format!("bl.test:aclkey:{keys}"),
        ],
        1,
    )
    .metrics("127.0.0.1:0".parse().unwrap())
    .on_event(move |e| {
        if let Event::LoadFailed { error, .. } = e {
            ev.lock().unwrap().push(error.to_string());
        }
    })
    .start()
    .unwrap();
    let c = Udp::new(server.local_addrs()[0]);
    let ask = |name: &str, t: u16| read(&c.ask(&Q::new(name, t)).unwrap()).unwrap();

    let a = ask("1.2.0.192.k1.bl.test", 16);
    assert_eq!((a.rcode, a.answer.len()), (0, 1), "{a:?}");
    assert!(a.answer[0].contains("listed 192.0.2.1"), "{a:?}");
    assert_eq!(ask("1.2.0.192.K1.bl.test", 1).answer.len(), 1);
    assert_eq!(ask("1.1.1.1.k1.bl.test", 1).rcode, 3);
    for blocked in ["1.2.0.192.nokey.bl.test", "1.2.0.192.bl.test"] {
        let a = ask(blocked, 255);
        assert_eq!(a.rcode, 0, "{blocked}: {a:?}");
        assert!(
            a.answer.iter().any(|r| r.ends_with("a 127.255.255.254")),
            "{blocked}: {a:?}"
        );
        assert!(
            a.answer
                .iter()
                .any(|r| r.contains("unknown or missing key")),
            "{blocked}: {a:?}"
        );
    }
    assert_eq!(ask("1.2.0.192.k2.bl.test", 1).rcode, 5);
    assert_eq!(ask("1.2.0.192.k3.bl.test", 1).rcode, 3);
    // the apex SOA and NS are answered whatever the key
    assert_eq!(ask("bl.test", 6).answer.len(), 1);

    let m = server.metrics_addr().unwrap();
    let text = scrape(m);
    assert_eq!(
        metric(
            &text,
            "rblkit_dns_key_queries_total{zone=\"bl.test\",key=\"k1\"}"
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "rblkit_dns_key_queries_total{zone=\"bl.test\",key=\"\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &text,
            "rblkit_dns_acl_total{zone=\"bl.test\",action=\"listed\"}"
        ),
        2.0
    );

    // a new key file: k4 added (another size, so the change is seen within the second)
    std::fs::write(
        &keys,
        b":refuse\nk1 :pass\nk4 :pass\n# longer than before, padding padding padding\n",
    )
    .unwrap();
    server.reload();
    let t0 = Instant::now();
    while !ask("1.2.0.192.k4.bl.test", 1)
        .answer
        .iter()
        .any(|r| r.ends_with("a 127.0.0.2"))
    {
        assert!(t0.elapsed() < Duration::from_secs(10), "k4 never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ask("1.2.0.192.nokey.bl.test", 1).rcode, 5);
    // the count of k1 went on across the reload
    let text = scrape(m);
    assert_eq!(
        metric(
            &text,
            "rblkit_dns_key_queries_total{zone=\"bl.test\",key=\"k1\"}"
        ),
        3.0,
        "{text}"
    );
    assert!(
        metric(&text, "rblkit_dns_loads_total{result=\"ok\"}") >= 2.0,
        "{text}"
    );

    // a key file that cannot be read: the old keys stay, and the event says why
    std::fs::remove_file(&keys).unwrap();
    server.reload();
    let t0 = Instant::now();
    while events.lock().unwrap().is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no LoadFailed event"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        events.lock().unwrap()[0].contains("keys.txt"),
        "{:?}",
        events.lock().unwrap()
    );
    assert!(ask("1.2.0.192.k4.bl.test", 1).answer[0].ends_with("a 127.0.0.2"));
    let text = scrape(m);
    assert_eq!(
        metric(&text, "rblkit_dns_loads_total{result=\"failed\"}"),
        1.0,
        "{text}"
    );
}

/// `rblkit check` reads the blocked answer of an unknown key, and the over-quota answer,
/// as errors of the list (exit status 2), never as listings; a good key is a listing.
#[cfg(feature = "cli")]
#[test]
fn check_reads_blocked_answers_as_errors() {
    let dir = TempDir::new("dns-keys-check");
    let bl = dir.write("bl.txt", BL.as_bytes());
    let keys = dir.write("keys.txt", b":127.255.255.254:No key\ngood :pass\n");
    let server = builder(
        &[
            format!("bl.test:ip4set:{bl}"),
            format!("bl.test:aclkey:{keys}"),
            format!("free.test:ip4set:{bl}"),
        ],
        1,
    )
    .quota(
        Quota::builder()
            .queries(1)
            .period_secs(3600)
            .prefixes(32, 128)
            .build()
            .unwrap(),
    )
    .start()
    .unwrap();
    let addr = server.local_addrs()[0];
    let check = |list: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_rblkit"))
            .args(["check", "192.0.2.1", "--json", "--server"])
            .arg(addr.to_string())
            .args(["--list", list])
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    // the first query from the checker is within the quota of one
    let (code, out) = check("good.bl.test");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("\"listed\""), "{out}");
    // now over the quota: 127.255.255.255
    let (code, out) = check("free.test");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("127.255.255.255"), "{out}");
    let (code, out) = check("wrong.bl.test");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("\"error\""), "{out}");
}

/// One flooding client (many source ports, many addresses of 127.0.10.0/24) and one
/// well-behaved client (127.0.20.1, under its rate): the flooder's full answers stay within
/// rate × (elapsed + window), about every second limited answer comes back truncated (slip
/// 2), the well-behaved client gets at least 99 % of its answers, and a sweep over 3000
/// client networks leaves the client table at its fixed capacity.
#[test]
fn rate_limit_holds_a_flooder_and_answers_the_others() {
    let dir = TempDir::new("dns-rrl");
    let bl = dir.write("bl.txt", BL.as_bytes());
    let (rate, window) = (50u32, 1u32);
    let server = builder(&[format!("bl.test:ip4set:{bl}")], 2)
        .rate_limit(
            RateLimit::builder()
                .rate(rate)
                .window(window)
                .slip(2)
                .table_size(2048)
                .build()
                .unwrap(),
        )
        .metrics("127.0.0.1:0".parse().unwrap())
        .start()
        .unwrap();
    let addr = server.local_addrs()[0];

    let t0 = Instant::now();
    let flood = std::thread::spawn(move || {
        let socks: Vec<Udp> = (1..=16u8)
            .map(|h| {
                Udp::from_source(
                    IpAddr::from([127, 0, 10, h]),
                    addr,
                    Duration::from_millis(1),
                )
                .nonblocking()
            })
            .collect();
        let (mut sent, mut full, mut tc) = (0u32, 0u32, 0u32);
        let mut buf = [0u8; 1500];
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut i = 0u32;
        while Instant::now() < deadline {
            // different names that are not listed: one bucket, the zone's
            let q = Q::new(&format!("{}.{}.51.198.bl.test", i % 250, i / 250 % 250), 1);
            let s = &socks[i as usize % socks.len()];
            let _ = s.sock_send(&q.wire(i as u16));
            sent += 1;
            i += 1;
            for s in &socks {
                while let Some(n) = s.try_recv(&mut buf) {
                    if n >= 4 && buf[2] & 0x02 != 0 {
                        tc += 1;
                    } else {
                        full += 1;
                    }
                }
            }
            if i.is_multiple_of(16) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        for s in &socks {
            while let Some(n) = s.try_recv(&mut buf) {
                if n >= 4 && buf[2] & 0x02 != 0 {
                    tc += 1;
                } else {
                    full += 1;
                }
            }
        }
        (sent, full, tc)
    });
    let good = Udp::from_source(
        IpAddr::from([127, 0, 20, 1]),
        addr,
        Duration::from_millis(500),
    );
    let (mut asked, mut answered) = (0u32, 0u32);
    while t0.elapsed() < Duration::from_secs(2) {
        let q = Q::new(&format!("{}.2.0.192.bl.test", asked % 250), 1);
        asked += 1;
        if good
            .ask(&q)
            .and_then(|m| read(&m))
            .is_some_and(|a| !a.tc && a.answer.len() == 1)
        {
            answered += 1;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (sent, full, tc) = flood.join().unwrap();
    let elapsed = t0.elapsed().as_secs_f64() + 0.3;
    let limited = sent - full;
    eprintln!(
        "flooder sent {sent}, got {full} full answers and {tc} truncated; well-behaved {answered}/{asked} in {elapsed:.2}s"
    );
    assert!(
        sent > 10 * rate,
        "the flood was too slow to test anything: {sent}"
    );
    assert!(
        f64::from(full) <= f64::from(rate) * (elapsed + f64::from(window)) + 1.0,
        "{full} full answers"
    );
    assert!(full >= rate * window, "{full} full answers");
    assert!(
        answered * 100 >= asked * 99,
        "well-behaved: {answered} of {asked}"
    );
    // slip 2: every second limited answer goes out truncated, the others are dropped
    let text = scrape(server.metrics_addr().unwrap());
    let slipped = metric(
        &text,
        "rblkit_dns_rrl_responses_total{decision=\"slipped\"}",
    );
    let dropped = metric(
        &text,
        "rblkit_dns_rrl_responses_total{decision=\"dropped\"}",
    );
    let ratio = slipped / (slipped + dropped);
    assert!(
        (0.49..=0.51).contains(&ratio),
        "slip ratio {ratio}: {slipped} slipped, {dropped} dropped"
    );
    assert!(
        tc > 0 && f64::from(tc) <= slipped,
        "{tc} truncated answers received"
    );
    assert!(f64::from(limited) >= slipped + dropped - 1.0);

    // many client networks: the table stays at its capacity
    let one = Q::new("9.9.9.9.bl.test", 1);
    for k in 0..3000u32 {
        let src = IpAddr::from([127, 1 + (k / 256) as u8, (k % 256) as u8, 1]);
        let s = Udp::from_source(src, addr, Duration::from_millis(1));
        let _ = s.sock_send(&one.wire(1));
    }
    std::thread::sleep(Duration::from_millis(300));
    let text = scrape(server.metrics_addr().unwrap());
    let used = metric(&text, "rblkit_dns_rrl_table_entries{kind=\"used\"}");
    let cap = metric(&text, "rblkit_dns_rrl_table_entries{kind=\"capacity\"}");
    assert!((2048.0..4096.0).contains(&cap), "{text}");
    assert!(used <= cap && used > 1000.0, "used {used} of {cap}");
}

/// The quota: a client's queries over it get the configured answer; other clients are
/// answered; the metrics count queries, listed and not, latency and TCP connections.
#[test]
fn quota_and_metrics_move() {
    let dir = TempDir::new("dns-quota");
    let bl = dir.write("bl.txt", BL.as_bytes());
    let server = builder(&[format!("bl.test:ip4set:{bl}")], 1)
        .quota(
            Quota::builder()
                .queries(5)
                .period_secs(3600)
                .build()
                .unwrap(),
        )
        .metrics("127.0.0.1:0".parse().unwrap())
        .start()
        .unwrap();
    let addr = server.local_addrs()[0];
    let m = server.metrics_addr().unwrap();
    let before = scrape(m);
    let heavy = Udp::from_source(
        IpAddr::from([127, 0, 30, 1]),
        addr,
        Duration::from_millis(700),
    );
    let mut codes = Vec::new();
    for i in 0..8 {
        let a = read(
            &heavy
                .ask(&Q::new(&format!("{i}.1.1.10.bl.test"), 1))
                .unwrap(),
        )
        .unwrap();
        codes.push((
            a.rcode,
            a.answer
                .first()
                .map(|r| r.rsplit(' ').next().unwrap().to_owned()),
        ));
    }
    let over = (0, Some("127.255.255.255".to_owned()));
    assert_eq!(codes[..5], vec![(3, None); 5][..]);
    assert_eq!(codes[5..], vec![over; 3][..]);
    let txt = read(&heavy.ask(&Q::new("1.2.0.192.bl.test", 16)).unwrap()).unwrap();
    assert!(
        txt.answer[0].contains("excessive number of queries from 127.0.30.1"),
        "{txt:?}"
    );
    let other = Udp::from_source(
        IpAddr::from([127, 0, 31, 1]),
        addr,
        Duration::from_millis(700),
    );
    assert_eq!(
        read(&other.ask(&Q::new("1.2.0.192.bl.test", 1)).unwrap())
            .unwrap()
            .rcode,
        0
    );
    let _ = super::dns_tools::tcp_ask(addr, &Q::new("bl.test", 6).wire(3)).unwrap();

    let after = scrape(m);
    let nx = "rblkit_dns_queries_total{zone=\"bl.test\",qtype=\"A\",rcode=\"NXDOMAIN\"}";
    assert_eq!(metric(&before, nx), 0.0);
    assert_eq!(metric(&after, nx), 5.0, "{after}");
    assert_eq!(
        metric(
            &after,
            "rblkit_dns_queries_total{zone=\"bl.test\",qtype=\"A\",rcode=\"NOERROR\"}"
        ),
        4.0
    );
    assert_eq!(metric(&after, "rblkit_dns_over_quota_total"), 4.0);
    assert_eq!(
        metric(
            &after,
            "rblkit_dns_lookups_total{zone=\"bl.test\",result=\"not_listed\"}"
        ),
        5.0
    );
    assert_eq!(
        metric(
            &after,
            "rblkit_dns_lookups_total{zone=\"bl.test\",result=\"listed\"}"
        ),
        5.0
    );
    assert_eq!(
        metric(
            &after,
            "rblkit_dns_tcp_connections_total{result=\"accepted\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&after, "rblkit_dns_answer_seconds_count"),
        11.0,
        "{after}"
    );
    assert_eq!(
        metric(&after, "rblkit_dns_zone_serial{zone=\"bl.test\"}"),
        5.0
    );
    assert_eq!(
        metric(&after, "rblkit_dns_zone_entries{zone=\"bl.test\"}"),
        1.0
    );
}

/// A dataset file replaced (written beside it and renamed into place, as rsync does) is
/// picked up by the file watcher, without SIGHUP and without the periodic check.
#[test]
fn watched_files_reload_without_a_signal() {
    let dir = TempDir::new("dns-watch");
    let bl = dir.write("bl.txt", BL.as_bytes());
    let server = builder(&[format!("bl.test:ip4set:{bl}")], 1)
        .start()
        .unwrap();
    let c = Udp::new(server.local_addrs()[0]);
    let q = Q::new("7.7.0.198.bl.test", 1);
    assert_eq!(read(&c.ask(&q).unwrap()).unwrap().rcode, 3);
    let tmp = dir.write("bl.txt.tmp", format!("{BL}198.0.7.7\n").as_bytes());
    std::fs::rename(&tmp, &bl).unwrap();
    let t0 = Instant::now();
    while read(&c.ask(&q).unwrap()).unwrap().rcode != 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the change was not seen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
