//! The DNS server on its own: TCP, truncation, malformed packets, reloads while a client
//! asks, lists swapped in, and the query path allocating nothing.

use super::alloc::allocations;
use super::dns_tools::{read, serve, tcp_ask, Udp, Q};
use super::zone_tools::TempDir;
use rblkit::codes::ReturnCode;
use rblkit::dns::server::{respond, Catalog, Scratch, Server, Transport};
use rblkit::zone::{DatasetKind, DatasetParser, LoadOptions, Strictness, Zone};
use rblkit::{List, Listing};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BL: &str = "$SOA 1h ns1.example.net. hostmaster.bl.test. 5 2h 30m 1w 5m\n\
$NS 1d ns1.example.net. ns2.example.net.\n\
$TTL 10m\n\
:127.0.0.2:listed $\n\
192.0.2.0/24\n\
!192.0.2.7\n";

fn big_entries() -> String {
    let mut s = String::new();
    for n in 2..30 {
        s.push_str(&format!(
            "198.51.100.1 :127.0.0.{n}:{n} {}\n",
            "x".repeat(200)
        ));
    }
    s
}

#[test]
fn tcp_answers_what_udp_does_and_more() {
    let dir = TempDir::new("dns-tcp");
    let f = dir.write("bl.txt", format!("{BL}{}", big_entries()).as_bytes());
    let server = serve(&[format!("bl.test:ip4set:{f}")], 1, None);
    let addr = server.local_addrs()[0];
    let udp = Udp::new(addr);
    for q in [
        Q::new("1.2.0.192.bl.test", 1),
        Q::new("1.2.0.192.bl.test", 16),
        Q::new("7.2.0.192.bl.test", 1),
        Q::new("bl.test", 6),
        Q::new("bl.test", 255),
        Q::new("other.example", 1),
    ] {
        let u = read(&udp.ask(&q).unwrap()).unwrap();
        let t = read(&tcp_ask(addr, &q.wire(9)).unwrap()).unwrap();
        assert_eq!(u, t, "{q:?}");
    }
    // 28 TXT records of 200 octets: truncated over UDP, even with EDNS, complete over TCP
    let q = Q::new("1.100.51.198.bl.test", 16);
    let u = read(&udp.ask(&q).unwrap()).unwrap();
    assert!(u.tc && u.answer.is_empty() && u.size <= 512, "{u:?}");
    let e = read(&udp.ask(&q.clone().edns(4096)).unwrap()).unwrap();
    assert!(e.tc && e.answer.is_empty() && e.opt.is_some(), "{e:?}");
    let t = read(&tcp_ask(addr, &q.wire(3)).unwrap()).unwrap();
    assert!(!t.tc, "{t:?}");
    assert_eq!(t.answer.len(), 28);
    assert_eq!(t.authority.len(), 2);
    // 28 A records fit in 512 octets, the NS records of the authority section do not:
    // they are left out, without TC
    let a = read(&udp.ask(&Q::new("1.100.51.198.bl.test", 1)).unwrap()).unwrap();
    assert!(!a.tc, "{a:?}");
    assert_eq!(a.answer.len(), 28);
    assert!(a.authority.is_empty());
    // with a larger EDNS size they come back
    let a = read(
        &udp.ask(&Q::new("1.100.51.198.bl.test", 1).edns(1232))
            .unwrap(),
    )
    .unwrap();
    assert_eq!((a.answer.len(), a.authority.len()), (28, 2));
}

#[test]
fn malformed_packets_are_dropped_or_refused_never_crash() {
    let dir = TempDir::new("dns-malformed");
    let f = dir.write("bl.txt", BL.as_bytes());
    let server = serve(&[format!("bl.test:ip4set:{f}")], 1, None);
    let addr = server.local_addrs()[0];
    let udp = Udp::new(addr);
    let good = Q::new("1.2.0.192.bl.test", 1).wire(0x4242);
    let rcode = |p: &[u8]| udp.raw(p).map(|a| (a[2] & 0x80 != 0, a[3] & 15));
    // a query: answered
    assert_eq!(rcode(&good), Some((true, 0)));
    // too short, a response: no answer
    assert_eq!(rcode(&good[..11]), None);
    let mut resp = good.clone();
    resp[2] |= 0x80;
    assert_eq!(rcode(&resp), None);
    // no question, two questions, a compressed or cut question: FORMERR
    for (i, v) in [(5usize, 0u8), (5, 2)] {
        let mut p = good.clone();
        p[i] = v;
        assert_eq!(rcode(&p), Some((true, 1)), "count {v}");
    }
    let mut loop_ = good[..12].to_vec();
    loop_.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(rcode(&loop_), Some((true, 1)));
    assert_eq!(rcode(&good[..good.len() - 2]), Some((true, 1)));
    // huge counts behind a good question: answered, the rest ignored
    let mut huge = good.clone();
    huge[6..12].copy_from_slice(&[0xff; 6]);
    huge.extend_from_slice(&[0xc0, 0xc0, 0xff]);
    assert_eq!(rcode(&huge), Some((true, 0)));
    // NOTIFY, UPDATE: NOTIMP; AXFR and IXFR over UDP: REFUSED; class CH: REFUSED
    for op in [4u8, 5] {
        let mut p = good.clone();
        p[2] = op << 3;
        assert_eq!(rcode(&p), Some((true, 4)), "opcode {op}");
    }
    assert_eq!(rcode(&Q::new("bl.test", 252).wire(5)), Some((true, 5)));
    assert_eq!(rcode(&Q::new("bl.test", 251).wire(5)), Some((true, 5)));
    let mut ch = Q::new("version.bind", 16);
    ch.qclass = 3;
    assert_eq!(rcode(&ch.wire(6)), Some((true, 5)));
    // EDNS version 1: BADVERS (extended rcode 1 in the OPT record)
    let mut v1 = Q::new("1.2.0.192.bl.test", 1).edns(1232).wire(7);
    let n = v1.len();
    v1[n - 5] = 1;
    let a = udp.raw(&v1).unwrap();
    assert_eq!(a[3] & 15, 0);
    assert_eq!(a[a.len() - 6], 1);
    // garbage of every length: the server keeps answering
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for len in 0..600usize {
        let mut p = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p.push(x as u8);
        }
        if len >= 2 {
            p[0] = 0x77;
        }
        let _ = udp.sock_send(&p);
    }
    // the flood may overrun the socket's receive queue on a busy machine, and a datagram
    // dropped there is no crash: ask as a resolver would, up to three times
    let after = (0..3).find_map(|_| rcode(&good));
    assert_eq!(after, Some((true, 0)));
    let t = tcp_ask(addr, &good).map(|m| m[3] & 15);
    assert_eq!(t, Some(0));
}

fn set(dir: &TempDir, name: &str, text: &str) -> String {
    // a different size each time, so a change within the same second is seen
    dir.write(name, text.as_bytes())
}

#[test]
fn reload_swaps_while_a_client_asks() {
    let dir = TempDir::new("dns-reload");
    let f = set(
        &dir,
        "bl.txt",
        &format!("{BL}198.51.100.1 :127.0.0.3:old\n"),
    );
    let server = serve(
        &[format!("bl.test:ip4set:{f}")],
        2,
        Some(Duration::from_secs(1)),
    );
    let addr = server.local_addrs()[0];
    let soa = |c: &Udp| {
        let a = read(&c.ask(&Q::new("bl.test", 6)).unwrap()).unwrap();
        a.answer[0]
            .split_whitespace()
            .nth(6)
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    let probe = Udp::new(addr);
    assert_eq!(soa(&probe), 5);
    let stop = Arc::new(AtomicBool::new(false));
    let seen_new = Arc::new(AtomicUsize::new(0));
    let client = {
        let (stop, seen_new) = (stop.clone(), seen_new.clone());
        std::thread::spawn(move || {
            let c = Udp::new(addr);
            let mut bad = Vec::new();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                match c
                    .ask(&Q::new("1.100.51.198.bl.test", 16))
                    .and_then(|m| read(&m))
                {
                    Some(a) if a.rcode == 0 && a.answer.len() == 1 => {
                        if a.answer[0].contains("\"new\"") {
                            seen_new.fetch_add(1, Ordering::Relaxed);
                        } else if !a.answer[0].contains("\"old\"") {
                            bad.push(format!("{a:?}"));
                        }
                    }
                    other => bad.push(format!("{other:?}")),
                }
            }
            (n, bad)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    // the same explicit serial with new data: served as 6
    set(
        &dir,
        "bl.txt",
        &format!("{BL}198.51.100.1 :127.0.0.3:new\n#\n"),
    );
    let t0 = Instant::now();
    while seen_new.load(Ordering::Relaxed) == 0 && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (n, bad) = client.join().unwrap();
    assert!(
        seen_new.load(Ordering::Relaxed) > 0,
        "the change was not served"
    );
    assert!(
        bad.is_empty(),
        "{} of {n} answers neither old nor new: {:?}",
        bad.len(),
        &bad[..bad.len().min(3)]
    );
    assert_eq!(soa(&probe), 6);
    // a file that no longer loads (here: gone) keeps the old data
    std::fs::remove_file(&f).unwrap();
    server.reload();
    std::thread::sleep(Duration::from_millis(1500));
    let a = read(&probe.ask(&Q::new("1.100.51.198.bl.test", 16)).unwrap()).unwrap();
    assert!(a.answer[0].contains("\"new\""), "{a:?}");
    assert_eq!(soa(&probe), 6);
}

#[test]
fn strict_reload_keeps_old_data_on_a_bad_line() {
    let dir = TempDir::new("dns-strict");
    let f = set(
        &dir,
        "bl.txt",
        &format!("{BL}198.51.100.1 :127.0.0.3:old\n"),
    );
    let events = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let ev = events.clone();
    let server = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(1)
        .specs(vec![format!("bl.test:ip4set:{f}").parse().unwrap()])
        .load_options(LoadOptions::default().with_strictness(Strictness::Strict))
        .check_interval(None)
        .on_event(move |e| ev.lock().unwrap().push(format!("{e:?}")))
        .start()
        .unwrap();
    let c = Udp::new(server.local_addrs()[0]);
    set(
        &dir,
        "bl.txt",
        &format!("{BL}198.51.100.1 :127.0.0.3:new\n10.9.9.256\n"),
    );
    server.reload();
    let t0 = Instant::now();
    while !events
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.contains("LoadFailed"))
    {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no failure reported"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let failure = events
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.contains("LoadFailed"))
        .cloned()
        .unwrap();
    assert!(
        failure.contains("bl.txt") && failure.contains("line: 8"),
        "{failure}"
    );
    let a = read(&c.ask(&Q::new("1.100.51.198.bl.test", 16)).unwrap()).unwrap();
    assert!(a.answer[0].contains("\"old\""), "{a:?}");
}

fn list(code: u8, txt: &str) -> List {
    let mut b = List::builder();
    let l = Listing::new(ReturnCode::new_assert(127, 0, 0, code)).with_txt(txt);
    b.insert(&"192.0.2.0/24".parse().unwrap(), l.clone());
    b.insert(&"2001:db8::/32".parse().unwrap(), l.clone());
    b.insert(&"spam.example".parse().unwrap(), l);
    b.build()
}

fn soa() -> Option<rblkit::zone::Soa> {
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file(
        "soa",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 9 1h 15m 1w 5m\n",
    )
    .unwrap();
    p.finish().soa().cloned()
}

#[test]
fn lists_handed_in_are_swapped_atomically() {
    let cat = |code, txt| {
        Catalog::builder()
            .list(
                "bl.test".parse().unwrap(),
                list(code, txt),
                soa(),
                None,
                Some(60),
            )
            .build()
            .unwrap()
    };
    let server = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(2)
        .catalog(cat(2, "one $"))
        .start()
        .unwrap();
    let addr = server.local_addrs()[0];
    let c = Udp::new(addr);
    let a = read(&c.ask(&Q::new("5.2.0.192.bl.test", 16)).unwrap()).unwrap();
    assert_eq!(a.answer, ["5.2.0.192.bl.test. 60 in txt \"one 192.0.2.5\""]);
    let six = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test";
    let a = read(&c.ask(&Q::new(six, 16)).unwrap()).unwrap();
    assert_eq!(a.answer.len(), 1, "{a:?}");
    assert!(a.answer[0].contains("one 2001:db8::1"), "{a:?}");
    let a = read(&c.ask(&Q::new("spam.example.bl.test", 1)).unwrap()).unwrap();
    assert_eq!(a.answer, ["spam.example.bl.test. 60 in a 127.0.0.2"]);
    let stop = Arc::new(AtomicBool::new(false));
    let asker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let c = Udp::new(addr);
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(Ordering::Relaxed) {
                let a = c
                    .ask(&Q::new("5.2.0.192.bl.test", 1))
                    .and_then(|m| read(&m));
                seen.insert(a.map(|a| a.answer.join(",")).unwrap_or_default());
            }
            seen
        })
    };
    for i in 0..40u8 {
        server.publish(cat(2 + i % 2, "x"));
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let seen = asker.join().unwrap();
    let ok: std::collections::BTreeSet<String> = [2, 3]
        .iter()
        .map(|c| format!("5.2.0.192.bl.test. 60 in a 127.0.0.{c}"))
        .collect();
    assert!(seen.is_subset(&ok), "{seen:?}");
    // every publish of new data raised the serial
    assert_eq!(
        server.catalog().serial(&"bl.test".parse().unwrap()),
        Some(9 + 40)
    );
}

#[test]
fn answering_allocates_nothing() {
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("a", BL.as_bytes()).unwrap();
    let a = p.finish();
    let mut p = DatasetParser::new(DatasetKind::DnSet);
    p.parse_file(
        "d",
        b"*.spam.example :127.0.1.2:$ listed, see https://x.example/?q=$\n",
    )
    .unwrap();
    let d = p.finish();
    let mut p = DatasetParser::new(DatasetKind::Ip6Trie);
    p.parse_file("s", b"2001:db8::/32 :127.0.0.6:six $\n")
        .unwrap();
    let s = p.finish();
    let zone = Zone::new(
        "bl.test".parse().unwrap(),
        vec![a.into(), d.into(), s.into()],
    );
    let catalog = Catalog::builder()
        .zone(zone)
        .list(
            "list.test".parse().unwrap(),
            list(4, "l $"),
            soa(),
            None,
            None,
        )
        .build()
        .unwrap();
    let six = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test";
    let queries: Vec<Vec<u8>> = [
        Q::new("1.2.0.192.bl.test", 1),
        Q::new("1.2.0.192.BL.test", 16),
        Q::new("7.2.0.192.bl.test", 16),
        Q::new("www.spam.example.bl.test", 255),
        Q::new("spam.example.bl.test", 1),
        Q::new(six, 16),
        Q::new("bl.test", 255),
        Q::new("nowhere.example", 1),
        Q::new("1.2.0.192.bl.test", 16).edns(1232),
        Q::new("9.2.0.192.list.test", 16),
        Q::new("spam.example.list.test", 16),
    ]
    .iter()
    .map(|q| q.wire(1))
    .collect();
    let mut scratch = Scratch::new();
    let mut out = vec![0u8; 65535];
    // once to warm up, then counted
    for q in &queries {
        assert!(respond(&catalog, q, Transport::Udp, &mut scratch, &mut out) > 0);
    }
    let (n, total) = allocations(|| {
        let mut total = 0;
        for _ in 0..10 {
            for q in &queries {
                total += respond(&catalog, q, Transport::Udp, &mut scratch, &mut out);
                total += respond(&catalog, q, Transport::Tcp, &mut scratch, &mut out);
            }
        }
        total
    });
    assert_eq!(n, 0, "answering allocated {n} times");
    assert!(total > 0);
}

#[test]
fn answers_on_ipv4_and_ipv6_addresses() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: no IPv6 loopback");
        return;
    }
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("a", BL.as_bytes()).unwrap();
    let zone = Zone::new("bl.test".parse().unwrap(), vec![p.finish().into()]);
    let server = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .listen("[::1]:0".parse().unwrap())
        .threads(2)
        .catalog(Catalog::builder().zone(zone).build().unwrap())
        .start()
        .unwrap();
    assert_eq!(server.local_addrs().len(), 2);
    for &addr in server.local_addrs() {
        let q = Q::new("1.2.0.192.bl.test", 1);
        let u = read(&Udp::new(addr).ask(&q).unwrap()).unwrap();
        assert_eq!(
            u.answer,
            ["1.2.0.192.bl.test. 600 in a 127.0.0.2"],
            "{addr}"
        );
        let t = read(&tcp_ask(addr, &q.wire(2)).unwrap()).unwrap();
        assert_eq!(t.answer, u.answer, "{addr}");
    }
}

/// Many queries in flight at once, so that the batched path takes several datagrams per
/// call, answered exactly as by the path that takes one at a time; malformed datagrams in
/// between change nothing for the others.
#[test]
fn batched_and_single_datagram_paths_answer_alike() {
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("a", format!("{BL}{}", big_entries()).as_bytes())
        .unwrap();
    let zone = Zone::new("bl.test".parse().unwrap(), vec![p.finish().into()]);
    let catalog = Catalog::builder().zone(zone).build().unwrap();
    let start = |batch: bool| {
        Server::builder()
            .listen("127.0.0.1:0".parse().unwrap())
            .threads(1)
            .udp_batch(batch)
            .catalog(catalog.clone())
            .start()
            .unwrap()
    };
    let (batched, single) = (start(true), start(false));
    let questions: Vec<Q> = (0..240u32)
        .map(|i| {
            let name = match i % 6 {
                0 => format!("{}.2.0.192.bl.test", i % 256),
                1 => "7.2.0.192.bl.test".to_owned(),
                2 => "1.100.51.198.bl.test".to_owned(),
                3 => "bl.test".to_owned(),
                4 => format!("{i}.Example.ORG"),
                _ => format!("{}.9.0.192.BL.test", i % 256),
            };
            let q = Q::new(&name, [1, 16, 255, 6, 2][i as usize % 5]);
            if i % 4 == 0 {
                q.edns(1232)
            } else {
                q
            }
        })
        .collect();
    // every answer by question index, from one client socket that sends all before reading
    let run = |server: &Server| -> Vec<Option<Vec<u8>>> {
        let udp = Udp::new(server.local_addrs()[0]);
        for (i, q) in questions.iter().enumerate() {
            udp.sock_send(&q.wire(i as u16)).unwrap();
            if i % 40 == 0 {
                udp.sock_send(b"\x00\x01garbage").unwrap();
            }
        }
        let mut got = vec![None; questions.len()];
        let mut buf = [0u8; 65535];
        let until = Instant::now() + Duration::from_secs(10);
        while got.iter().any(Option::is_none) && Instant::now() < until {
            if let Some(n) = udp.try_recv(&mut buf) {
                let id = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
                if id < got.len() {
                    got[id] = Some(buf[..n].to_vec());
                }
            }
        }
        got
    };
    let (b, s) = (run(&batched), run(&single));
    for (i, q) in questions.iter().enumerate() {
        let b = b[i]
            .as_deref()
            .unwrap_or_else(|| panic!("batched: no answer to {q:?}"));
        let s = s[i]
            .as_deref()
            .unwrap_or_else(|| panic!("single: no answer to {q:?}"));
        assert_eq!(read(b).unwrap(), read(s).unwrap(), "{q:?}");
    }
}
