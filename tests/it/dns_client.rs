//! The checker against real servers on loopback: our own `rblkit serve`, and real rbldnsd
//! (Debian package `rbldnsd`) the same way, for listings, error codes, exclusions, TXT, IPv6
//! and domains, and REFUSED for a zone it does not serve; NSD (Debian package `nsd`) for an answer too big for UDP (TCP retry) and
//! SERVFAIL; a UDP socket that never answers for timeouts. Then the `rblkit check` binary.

use super::dns_client_tools::{silent_udp, start_list_server, start_nsd, start_rbldnsd, Server};
use super::zone_tools::TempDir;
use rblkit::codes::{ListError, Reason, ReturnCode};
use rblkit::dns::client::{
    CheckResult, Checker, Failure, ListSpec, Outcome, QueryType, Question, Rcode, TxtLookup,
};
use rblkit::Subject;
use std::process::{Command, Output};
use std::time::Duration;

const BL: &str = "$SOA 1h ns.bl.test. hostmaster.bl.test. 0 2h 30m 1w 5m\n\
:127.0.0.2:Listed: see https://bl.test/?$\n\
192.0.2.1\n\
192.0.2.2 :127.0.0.4:Exploited host $\n\
192.0.2.3 :127.255.255.254:Query through a public resolver\n\
198.51.100.0/24\n\
!198.51.100.7\n";

const DBL: &str = ":127.0.1.2:Spam domain $\nspam.example\n*.wild.example\n";

const BL6: &str = ":127.0.0.2:IPv6 listed\n2001:db8:1::/48\n";

const ZEN: &str = ":127.0.0.2:Spamhaus test data\n\
192.0.2.4 :127.0.0.4:XBL\n\
192.0.2.5 :127.255.255.254:open resolver\n\
192.0.2.6 :127.0.0.10:PBL\n\
192.0.2.6 :127.0.0.2:SBL\n";

/// The four test zones' specs.
fn specs(dir: &TempDir) -> Vec<String> {
    let bl = dir.write("bl.ip4set", BL.as_bytes());
    let dbl = dir.write("dbl.dnset", DBL.as_bytes());
    let bl6 = dir.write("bl6.ip6trie", BL6.as_bytes());
    let zen = dir.write("zen.ip4set", ZEN.as_bytes());
    vec![
        format!("bl.test:ip4set:{bl}"),
        format!("dbl.test:dnset:{dbl}"),
        format!("bl6.test:ip6trie:{bl6}"),
        format!("zen.spamhaus.org:ip4set:{zen}"),
    ]
}

/// The list server under test with the four test zones; `None` when it is missing.
fn list_server(dir: &TempDir) -> Option<Server> {
    start_list_server(dir, &specs(dir))
}

fn s(x: &str) -> Subject {
    x.parse().unwrap()
}

fn l(x: &str) -> ListSpec {
    x.parse().unwrap()
}

fn c(a: u8, b: u8, c: u8, d: u8) -> ReturnCode {
    ReturnCode::new_assert(a, b, c, d)
}

fn checker(server: std::net::SocketAddr) -> Checker {
    Checker::builder(server)
        .timeout(Duration::from_secs(2))
        .attempts(3)
        .concurrency(4)
        .rate_limit(Some(500))
        .build()
        .unwrap()
}

#[test]
fn checker_against_the_list_server() {
    let dir = TempDir::new("dns-client");
    if let Some(server) = list_server(&dir) {
        check_all(&server);
    }
}

#[test]
fn checker_against_rbldnsd() {
    let dir = TempDir::new("dns-client-rbldnsd");
    if let Some(server) = start_rbldnsd(&dir, &specs(&dir)) {
        check_all(&server);
    }
}

/// Every kind of answer of the four test zones, through the checker.
fn check_all(server: &Server) {
    let pairs: Vec<(Subject, ListSpec)> = [
        ("192.0.2.1", "bl.test"),
        ("192.0.2.2", "bl.test"),
        ("192.0.2.3", "bl.test"),
        ("198.51.100.9", "bl.test"),
        ("198.51.100.7", "bl.test"),
        ("203.0.113.1", "bl.test"),
        ("spam.example", "dbl.test"),
        ("www.wild.example", "dbl.test"),
        ("ham.example", "dbl.test"),
        ("2001:db8:1::25", "bl6.test"),
        ("2001:db8:2::25", "bl6.test"),
        ("192.0.2.1", "other.test"),
        ("192.0.2.4", "spamhaus-zen"),
        ("192.0.2.5", "spamhaus-zen"),
        ("192.0.2.6", "spamhaus-zen"),
        ("spam.example", "spamhaus-zen"),
    ]
    .iter()
    .map(|(a, b)| (s(a), l(b)))
    .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r: Vec<CheckResult> = rt.block_on(checker(server.addr).check_pairs(pairs.clone()));
    assert_eq!(r.len(), pairs.len());
    for (res, (subject, list)) in r.iter().zip(&pairs) {
        assert_eq!(&res.subject, subject);
        assert_eq!(&res.list, list);
    }
    let listed = |i: usize| match &r[i].outcome {
        Outcome::Listed { reasons, .. } => *reasons,
        o => panic!("{}: {o:?} ({})", r[i].query, server.log_text()),
    };
    // listed, with codes and the TXT text expanded by the server
    listed(0);
    assert_eq!(r[0].query, "1.2.0.192.bl.test");
    assert_eq!(r[0].codes, [c(127, 0, 0, 2)]);
    assert_eq!(r[0].txt, ["Listed: see https://bl.test/?192.0.2.1"]);
    listed(1);
    assert_eq!(r[1].codes, [c(127, 0, 0, 4)]);
    assert_eq!(r[1].txt, ["Exploited host 192.0.2.2"]);
    // an error code is an error, never a listing, and its TXT is not fetched
    assert_eq!(
        r[2].outcome,
        Outcome::Error(Failure::Code {
            code: c(127, 255, 255, 254),
            kind: ListError::PublicResolver
        })
    );
    assert_eq!(r[2].codes, [c(127, 255, 255, 254)]);
    assert!(r[2].txt.is_empty());
    // a range, and an exclusion inside it
    listed(3);
    assert_eq!(r[4].outcome, Outcome::NotListed);
    assert_eq!(r[5].outcome, Outcome::NotListed);
    // domains, wildcards
    listed(6);
    assert_eq!(r[6].query, "spam.example.dbl.test");
    assert_eq!(r[6].txt, ["Spam domain spam.example"]);
    listed(7);
    assert_eq!(r[8].outcome, Outcome::NotListed);
    // IPv6 nibbles
    listed(9);
    assert_eq!(r[10].outcome, Outcome::NotListed);
    // a zone the server does not serve
    assert_eq!(
        r[11].outcome,
        Outcome::Error(Failure::Rcode(Rcode::REFUSED))
    );
    // a known list's codes decoded with its meanings
    assert_eq!(listed(12), Reason::Exploited.into());
    assert_eq!(r[12].meanings(), ["a compromised host sending mail"]);
    assert_eq!(
        r[13].outcome,
        Outcome::Error(Failure::Code {
            code: c(127, 255, 255, 254),
            kind: ListError::PublicResolver
        })
    );
    let both = listed(14);
    assert!(both.contains(Reason::Dynamic) && both.contains(Reason::SpamOperation));
    let mut codes = r[14].codes.clone();
    codes.sort();
    assert_eq!(codes, [c(127, 0, 0, 2), c(127, 0, 0, 10)]);
    // a domain is not asked of an IP list
    assert!(matches!(
        r[15].outcome,
        Outcome::Error(Failure::NotApplicable { .. })
    ));
    assert!(r[15].query.is_empty());

    // the same through check_blocking, TXT off
    let quiet = Checker::builder(server.addr)
        .txt(TxtLookup::Never)
        .build()
        .unwrap();
    let r = quiet
        .check_blocking(&s("192.0.2.1"), &[l("bl.test"), l("BL.Test.")])
        .unwrap();
    assert!(r.iter().all(|x| x.outcome.is_listed() && x.txt.is_empty()));
}

#[test]
fn a_batch_reuses_its_udp_sockets() {
    // a resolver that answers NXDOMAIN to everything and notes each query's source port
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = std::thread::spawn(move || {
        let mut ports = std::collections::BTreeSet::new();
        let mut n = 0;
        let mut buf = [0u8; 512];
        while let Ok((len, from)) = sock.recv_from(&mut buf) {
            buf[2] |= 0x80;
            buf[3] = 3;
            let _ = sock.send_to(&buf[..len], from);
            ports.insert(from.port());
            n += 1;
        }
        (n, ports)
    });
    let checker = Checker::builder(addr)
        .timeout(Duration::from_secs(2))
        .concurrency(4)
        .build()
        .unwrap();
    let pairs: Vec<(Subject, ListSpec)> = (1..=60)
        .map(|i| (s(&format!("192.0.2.{i}")), l("bl.test")))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(checker.check_pairs(pairs));
    assert!(r.iter().all(|x| x.outcome == Outcome::NotListed));
    let (n, ports) = seen.join().unwrap();
    assert_eq!(n, 60);
    // one socket per query in flight, not one per query
    assert!(ports.len() <= 4, "{ports:?}");
}

#[test]
fn silent_resolver_is_a_timeout_after_every_attempt() {
    let sock = silent_udp();
    let checker = Checker::builder(sock.local_addr().unwrap())
        .timeout(Duration::from_millis(100))
        .attempts(3)
        .build()
        .unwrap();
    let r = checker
        .check_blocking(&s("192.0.2.1"), &[l("bl.test"), l("spamhaus-zen")])
        .unwrap();
    for x in &r {
        assert_eq!(x.outcome, Outcome::Error(Failure::Timeout));
        assert!(!x.outcome.is_listed());
    }
    // every attempt was sent: 2 lists × 3 attempts, each a query for the right name
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 512];
    let mut names = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        names.push(buf[12..n].to_vec());
    }
    assert_eq!(names.len(), 6);
    let zen = names
        .iter()
        .filter(|n| n.windows(7).any(|w| w == b"spamhau"))
        .count();
    assert_eq!(zen, 3);
}

#[test]
fn closed_port_is_a_network_error() {
    // Nothing listens: the kernel answers ICMP port unreachable.
    let port = silent_udp().local_addr().unwrap().port();
    let checker = Checker::builder(([127, 0, 0, 1], port).into())
        .timeout(Duration::from_millis(300))
        .attempts(2)
        .build()
        .unwrap();
    let r = checker
        .check_blocking(&s("192.0.2.1"), &[l("bl.test")])
        .unwrap();
    assert_eq!(
        r[0].outcome,
        Outcome::Error(Failure::Network(std::io::ErrorKind::ConnectionRefused))
    );
}

#[test]
fn truncated_answer_is_asked_again_over_tcp_and_servfail_is_an_error() {
    let dir = TempDir::new("dns-client-nsd");
    // 120 A records: about 2 kB, more than the 1232 octets offered over UDP
    let mut zone = String::from(
        "$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n",
    );
    for i in 0..120 {
        zone.push_str(&format!(
            "2.0.0.127 A 127.0.{}.{}\n",
            1 + i / 100,
            2 + i % 100
        ));
    }
    zone.push_str("2.0.0.127 TXT \"big\"\n3.0.0.127 A 127.0.0.2\n");
    let Some(nsd) = start_nsd(&dir, &[("big.test", Some(&zone)), ("broken.test", None)]) else {
        return;
    };
    // over UDP the answer does not fit: NSD sets TC
    let q = Question::new("2.0.0.127.big.test", QueryType::A).unwrap();
    let mut query = Vec::new();
    q.write_query(77, &mut query);
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    udp.send_to(&query, nsd.addr).unwrap();
    let mut buf = [0u8; 4096];
    let n = udp.recv(&mut buf).unwrap();
    let a = q.decode(77, &buf[..n]).unwrap();
    assert!(a.truncated && a.codes.len() < 120, "{a:?}");

    let checker = checker(nsd.addr);
    let r = checker
        .check_blocking(&s("127.0.0.2"), &[l("big.test"), l("broken.test")])
        .unwrap();
    assert!(r[0].outcome.is_listed(), "{:?}", r[0].outcome);
    assert_eq!(r[0].codes.len(), 120);
    assert_eq!(r[0].txt, ["big"]);
    assert_eq!(
        r[1].outcome,
        Outcome::Error(Failure::Rcode(Rcode::SERVFAIL))
    );
    let r = checker
        .check_blocking(&s("127.0.0.3"), &[l("big.test")])
        .unwrap();
    assert_eq!(r[0].codes, [c(127, 0, 0, 2)]);
}

fn rblkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[cfg(feature = "cli")]
#[test]
fn check_binary() {
    let dir = TempDir::new("dns-client-cli");
    let Some(server) = list_server(&dir) else {
        return;
    };
    let addr = server.addr.to_string();
    let check = |subject: &str, lists: &[&str], extra: &[&str]| {
        let mut args = vec!["check", subject, "--server", &addr];
        for x in lists {
            args.push("--list");
            args.push(x);
        }
        args.extend_from_slice(extra);
        rblkit(&args)
    };

    // listed on one list: exit 1, one JSON object per list
    let o = check("192.0.2.4", &["bl.test", "spamhaus-zen"], &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|x| serde_json::from_str(x).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["list"], "bl.test");
    assert_eq!(lines[0]["zone"], "bl.test");
    assert_eq!(lines[0]["query"], "4.2.0.192.bl.test");
    assert_eq!(lines[0]["result"], "not_listed");
    assert_eq!(lines[0]["error"], serde_json::Value::Null);
    assert_eq!(lines[1]["list"], "spamhaus-zen");
    assert_eq!(lines[1]["zone"], "zen.spamhaus.org");
    assert_eq!(lines[1]["result"], "listed");
    assert_eq!(lines[1]["codes"], serde_json::json!(["127.0.0.4"]));
    assert_eq!(
        lines[1]["meanings"],
        serde_json::json!(["a compromised host sending mail"])
    );
    assert_eq!(lines[1]["txt"], serde_json::json!(["XBL"]));

    // human text
    let o = check("192.0.2.1", &["bl.test"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        out(&o),
        "bl.test: listed 127.0.0.2 (listed (no reason given)) \"Listed: see https://bl.test/?192.0.2.1\"\n"
    );

    // not listed anywhere: 0
    let o = check("203.0.113.1", &["bl.test", "spamhaus-zen"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        out(&o),
        "bl.test: not listed\nspamhaus-zen (zen.spamhaus.org): not listed\n"
    );

    // an error code and a refused zone: not listed, but not checked everywhere: 2
    let o = check("192.0.2.3", &["bl.test", "other.test"], &["--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    let lines: Vec<serde_json::Value> = out(&o)
        .lines()
        .map(|x| serde_json::from_str(x).unwrap())
        .collect();
    assert_eq!(lines[0]["result"], "error");
    assert_eq!(lines[0]["codes"], serde_json::json!(["127.255.255.254"]));
    assert_eq!(
        lines[0]["error"],
        "error code 127.255.255.254 (public_resolver)"
    );
    assert_eq!(lines[1]["result"], "error");
    assert_eq!(lines[1]["error"], "REFUSED");

    // listed on one, error on another: listed wins, 1
    let o = check("192.0.2.1", &["bl.test", "other.test"], &[]);
    assert_eq!(o.status.code(), Some(1));

    // a resolver that never answers: 2
    let silent = silent_udp();
    let o = rblkit(&[
        "check",
        "192.0.2.1",
        "--list",
        "bl.test",
        "--server",
        &silent.local_addr().unwrap().to_string(),
        "--timeout",
        "100",
        "--attempts",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(out(&o), "bl.test: error: timeout\n");

    // usage: 64
    for bad in [
        vec![
            "check",
            "192.0.2.1",
            "--list",
            "no-such-list",
            "--server",
            &addr,
        ],
        vec![
            "check",
            "192.0.2.0/24",
            "--list",
            "bl.test",
            "--server",
            &addr,
        ],
        vec![
            "check",
            "192.0.2.1",
            "--list",
            "bl.test",
            "--server",
            "nowhere",
        ],
        vec!["check", "192.0.2.1", "--server", &addr],
        vec!["check", "192.0.2.1", "--list", "bl.test", "--timeout", "0"],
    ] {
        let o = rblkit(&bad);
        assert_eq!(o.status.code(), Some(64), "{bad:?}");
        assert!(!o.stderr.is_empty());
    }
    let o = rblkit(&["check", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("Exit status: 0 not listed"));
}

/// How long, in the runtime's paused virtual time (no wall clock involved), checking `n`
/// subjects against a silent resolver takes with these settings.
fn virtual_duration(n: u8, concurrency: usize, rate: Option<u32>) -> (Duration, usize) {
    let sock = silent_udp();
    let checker = Checker::builder(sock.local_addr().unwrap())
        .timeout(Duration::from_secs(1))
        .attempts(1)
        .concurrency(concurrency)
        .rate_limit(rate)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let pairs: Vec<(Subject, ListSpec)> = (0..n)
        .map(|i| (s(&format!("192.0.2.{i}")), l("bl.test")))
        .collect();
    let (elapsed, results) = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let r = checker.check_pairs(pairs).await;
        (t0.elapsed(), r)
    });
    assert!(results
        .iter()
        .all(|r| r.outcome == Outcome::Error(Failure::Timeout)));
    (elapsed, results.len())
}

#[test]
fn concurrency_and_rate_are_bounded() {
    // 12 queries, all at once: one timeout
    let (d, n) = virtual_duration(12, 32, None);
    assert_eq!(n, 12);
    assert!(
        d >= Duration::from_secs(1) && d < Duration::from_secs(2),
        "{d:?}"
    );
    // at most 3 outstanding: four rounds of one timeout each
    let (d, _) = virtual_duration(12, 3, None);
    assert!(
        d >= Duration::from_secs(4) && d < Duration::from_secs(5),
        "{d:?}"
    );
    // 4 queries a second: the 12th is sent after 11/4 s, then times out
    let (d, _) = virtual_duration(12, 32, Some(4));
    assert!(
        d >= Duration::from_millis(2750 + 1000) && d < Duration::from_secs(5),
        "{d:?}"
    );
}
