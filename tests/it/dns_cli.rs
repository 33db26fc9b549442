//! `rblkit serve` as a program: answers over UDP and TCP on the address given, reloads on
//! SIGHUP, refuses a bad spec with status 64, logs as JSON lines and samples the queries
//! it logs.

use super::dns_tools::{read, tcp_ask, Udp, Q};
use super::zone_tools::TempDir;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed on drop.
pub struct Running(pub Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_answers_and_reloads_on_sighup() {
    let dir = TempDir::new("dns-cli");
    let f = dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:old\n",
    );
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args([
            "serve",
            "--threads",
            "1",
            "--check-interval",
            "0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg(format!("bl.test:ip4set:{f}"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let c = Udp::new(addr);
    let q = Q::new("1.2.0.192.bl.test", 16);
    let t0 = Instant::now();
    let first = loop {
        if let Some(a) = c.ask(&q).and_then(|m| read(&m)) {
            break a;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "no answer");
    };
    assert!(first.answer[0].contains("\"old\""), "{first:?}");
    let t = read(&tcp_ask(addr, &q.wire(1)).unwrap()).unwrap();
    assert_eq!(t.answer, first.answer);
    dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:new!\n",
    );
    let st = Command::new("kill")
        .args(["-HUP", &running.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t0 = Instant::now();
    loop {
        let a = read(&c.ask(&q).unwrap()).unwrap();
        if a.answer[0].contains("\"new!\"") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "not reloaded: {a:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let soa = read(&c.ask(&Q::new("bl.test", 6)).unwrap()).unwrap();
    assert!(soa.answer[0].contains(" 4 3600 "), "{soa:?}");
}

#[test]
fn serve_refuses_a_bad_spec() {
    let st = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(["serve", "--listen", "127.0.0.1:0", "bl.test:nosuchtype:x"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(64));
    let st = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "bl.test:ip4set:/nonexistent/file",
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(66));
}

/// `rblkit serve` with an acl dataset, rate limiting, a quota and `--metrics`: the acl
/// refuses its client, the metrics endpoint counts, SIGUSR1 logs per-zone statistics; a
/// bad `--quota-answer` is refused with status 64.
#[test]
fn serve_operations_flags() {
    let dir = TempDir::new("dns-cli-ops");
    let f = dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:listed\n",
    );
    let acl = dir.write("acl.txt", b"127.0.0.66 :refuse\n");
    let (port, mport) = (free_port(), free_port());
    let log = dir.0.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args([
            "serve",
            "--threads",
            "1",
            "--rrl-rate",
            "1000",
            "--rrl-slip",
            "2",
        ])
        .args(["--quota", "100000", "--quota-answer", "refuse", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--metrics")
        .arg(format!("127.0.0.1:{mport}"))
        .arg(format!("bl.test:ip4set:{f}"))
        .arg(format!("bl.test:acl:{acl}"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let running = Running(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let c = Udp::new(addr);
    let q = Q::new("1.2.0.192.bl.test", 1);
    let t0 = Instant::now();
    while c.ask(&q).is_none() {
        assert!(t0.elapsed() < Duration::from_secs(20), "no answer");
    }
    let refused = Udp::from_source([127, 0, 0, 66].into(), addr, Duration::from_millis(700));
    assert_eq!(read(&refused.ask(&q).unwrap()).unwrap().rcode, 5);
    let scrape = || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", mport)).unwrap();
        s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        r
    };
    let m = scrape();
    assert!(
        m.contains("rblkit_dns_acl_total{zone=\"bl.test\",action=\"refuse\"} 1\n"),
        "{m}"
    );
    assert!(
        m.contains("rblkit_dns_rrl_responses_total{decision=\"sent\"}"),
        "{m}"
    );
    let st = Command::new("kill")
        .args(["-USR1", &running.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("rblkit: stats: bl.test: queries ") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no statistics: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(running);
    let st = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(["serve", "--listen", "127.0.0.1:0", "--quota", "5"])
        .args([
            "--quota-answer",
            "sometimes",
            &format!("bl.test:ip4set:{f}"),
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(64));
}

/// Starts `rblkit serve --log-format json` with these extra flags on one UDP thread,
/// logging to a file; returns the child, the address and the log's path once the server
/// says it is answering.
fn serve_logging(dir: &TempDir, flags: &[&str]) -> (Running, SocketAddr, std::path::PathBuf) {
    let f = dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:listed\n",
    );
    let port = free_port();
    let log = dir.0.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(["serve", "--threads", "1", "--check-interval", "0"])
        .args(["--no-watch", "--log-format", "json"])
        .args(flags)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg(format!("bl.test:ip4set:{f}"))
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let running = Running(child);
    json_lines_until(&log, |l| {
        l.iter().any(|j| {
            j["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("answering on ")
        })
    });
    (running, ([127, 0, 0, 1], port).into(), log)
}

/// The log's JSON lines, once `done` says they are complete (within 10 s); every line
/// must be a JSON object with a timestamp, a level and a message.
fn json_lines_until(
    log: &std::path::Path,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let t0 = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect();
        for j in &lines {
            for k in ["timestamp", "level", "message"] {
                assert!(j[k].is_string(), "no {k}: {j}");
            }
        }
        if done(&lines) {
            return lines;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "log: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The query log lines.
fn queries(lines: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    lines.iter().filter(|j| j.get("qname").is_some()).collect()
}

/// `--log-format json --query-log-sample 1`: every query, UDP and TCP, is a JSON line with
/// its client, zone, qname, qtype, rcode, listed and bytes; the load is one too.
#[test]
fn serve_logs_every_query_as_json() {
    let dir = TempDir::new("dns-cli-qlog");
    let (_running, addr, log) = serve_logging(&dir, &["--query-log-sample", "1"]);
    let c = Udp::from_source([127, 0, 0, 1].into(), addr, Duration::from_secs(3));
    let a = read(&c.ask_once(&Q::new("1.2.0.192.bl.test", 16)).unwrap()).unwrap();
    assert_eq!(a.rcode, 0);
    let a = read(&c.ask_once(&Q::new("2.2.0.192.bl.test", 1)).unwrap()).unwrap();
    assert_eq!(a.rcode, 3);
    let t = read(&tcp_ask(addr, &Q::new("1.2.0.192.bl.test", 1).wire(7)).unwrap()).unwrap();
    assert_eq!(t.rcode, 0);
    let a = read(&c.ask_once(&Q::new("example.org", 1)).unwrap()).unwrap();
    assert_eq!(a.rcode, 5);
    let lines = json_lines_until(&log, |l| queries(l).len() >= 4);
    let loaded = lines
        .iter()
        .find(|j| j["message"].as_str().unwrap().contains("loaded"))
        .expect("a load line");
    assert_eq!(loaded["zone"], "bl.test");
    assert_eq!(loaded["serial"], 3);
    assert_eq!(loaded["entries"], 1);
    assert_eq!(loaded["level"], "INFO");
    let q = queries(&lines);
    assert_eq!(q.len(), 4, "{lines:?}");
    let want = [
        (
            "1.2.0.192.bl.test",
            "TXT",
            "NOERROR",
            true,
            "udp",
            "bl.test",
        ),
        (
            "2.2.0.192.bl.test",
            "A",
            "NXDOMAIN",
            false,
            "udp",
            "bl.test",
        ),
        ("1.2.0.192.bl.test", "A", "NOERROR", true, "tcp", "bl.test"),
        ("example.org", "A", "REFUSED", false, "udp", ""),
    ];
    for (j, (qname, qtype, rcode, listed, transport, zone)) in q.iter().zip(want) {
        assert_eq!(j["qname"], qname, "{j}");
        assert_eq!(j["qtype"], qtype, "{j}");
        assert_eq!(j["rcode"], rcode, "{j}");
        assert_eq!(j["listed"], listed, "{j}");
        assert_eq!(j["transport"], transport, "{j}");
        assert_eq!(j["zone"], zone, "{j}");
        assert_eq!(j["peer"], "127.0.0.1", "{j}");
        assert!(j["bytes"].as_u64().unwrap() > 12, "{j}");
    }
}

/// `--query-log-sample 3`: of nine queries, the 3rd, 6th and 9th are logged.
#[test]
fn serve_query_log_samples_every_nth() {
    let dir = TempDir::new("dns-cli-qlog3");
    let (_running, addr, log) = serve_logging(&dir, &["--query-log-sample", "3"]);
    let c = Udp::from_source([127, 0, 0, 1].into(), addr, Duration::from_secs(3));
    for i in 1..=9 {
        let q = Q::new(&format!("{i}.2.0.192.bl.test"), 1);
        assert!(read(&c.ask_once(&q).unwrap()).is_some(), "query {i}");
    }
    let lines = json_lines_until(&log, |l| queries(l).len() >= 3);
    let names: Vec<&str> = queries(&lines)
        .iter()
        .map(|j| j["qname"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "3.2.0.192.bl.test",
            "6.2.0.192.bl.test",
            "9.2.0.192.bl.test"
        ]
    );
}

/// Without `--query-log-sample` no query is logged.
#[test]
fn serve_logs_no_query_by_default() {
    let dir = TempDir::new("dns-cli-qlog0");
    let (running, addr, log) = serve_logging(&dir, &[]);
    let c = Udp::from_source([127, 0, 0, 1].into(), addr, Duration::from_secs(3));
    for i in 1..=3 {
        let q = Q::new(&format!("{i}.2.0.192.bl.test"), 1);
        assert!(read(&c.ask_once(&q).unwrap()).is_some(), "query {i}");
    }
    drop(running);
    let lines = json_lines_until(&log, |_| true);
    assert!(queries(&lines).is_empty(), "{lines:?}");
}
