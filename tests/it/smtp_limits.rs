//! `rblkit policy` with classes of limits, overrides from a map file and alerts: the
//! tightest matching limit applies, `explain` names it, a refused message consumes no
//! quota, and the first crossing of a limit in a window is POSTed to a webhook (a loopback
//! listener in the test) and piped to a `sendmail` command (a script writing its input to
//! a file), once.

use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc, BIN};
use crate::zone_tools::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A webhook receiver: every request's body, answered `204`.
fn webhook() -> (u16, mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0;
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            let _ = tx.send(format!("{}{}", first, String::from_utf8(body).unwrap()));
        }
    });
    (port, rx)
}

#[test]
fn the_tightest_class_applies_overrides_replace_it_and_the_first_crossing_alerts_once() {
    let dir = TempDir::new("smtp-limits");
    let (hook, bodies) = webhook();
    let mail = dir.0.join("mail.txt");
    let sendmail = dir.0.join("sendmail.sh");
    std::fs::write(
        &sendmail,
        format!("#!/bin/sh\ncat >> '{}'\n", mail.display()),
    )
    .unwrap();
    let _ = Command::new("chmod").arg("+x").arg(&sendmail).status();
    let map = dir.0.join("overrides.map");
    std::fs::write(&map, "# a bigger sender\nsender_domain:big.example.com 5\n").unwrap();
    let cfg = dir.0.join("policy.toml");
    std::fs::write(
        &cfg,
        format!(
            "[limits]\nmessages_per_hour = 100\n\
             [[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 2\n\
             [[limit]]\nby = \"client_network\"\nmessages_per_hour = 50\n\
             [overrides]\nfile = \"{}\"\n\
             [alerts]\nwebhook = \"http://127.0.0.1:{hook}/hook\"\nsendmail = [\"{}\"]\nmail_to = \"postmaster@relay.example.com\"\n",
            map.display(),
            sendmail.display()
        ),
    )
    .unwrap();
    let state = dir.0.join("state");
    let server = PolicyProc::start(&state, free_port(), Some(&cfg), &dir.0.join("policy.log"));
    let mut p = PolicyClient::connect(server.port);
    // two senders of one domain share its limit of 2
    assert_eq!(
        p.ask(&rcpt("m1", "a@shop.example.com", "r1@example.net")),
        "DUNNO"
    );
    assert_eq!(
        p.ask(&rcpt("m1", "a@shop.example.com", "r2@example.net")),
        "DUNNO"
    );
    assert_eq!(
        p.ask(&rcpt("m2", "b@shop.example.com", "r1@example.net")),
        "DUNNO"
    );
    let over = p.ask(&rcpt("m3", "c@shop.example.com", "r1@example.net"));
    assert!(over.starts_with("450 4.7.1 "), "{over}");
    // every recipient of the refused message gets the same answer
    let again = p.ask(&rcpt("m3", "c@shop.example.com", "r2@example.net"));
    assert!(again.starts_with("450 4.7.1 "), "{again}");
    let more = p.ask(&rcpt("m4", "a@shop.example.com", "r1@example.net"));
    assert!(more.starts_with("450 4.7.1 "), "{more}");
    // another domain is not held up; the overridden one may send 5
    for m in 0..5 {
        let inst = format!("big{m}");
        assert_eq!(
            p.ask(&rcpt(&inst, "x@big.example.com", "r@example.net")),
            "DUNNO"
        );
    }
    assert!(p
        .ask(&rcpt("big5", "x@big.example.com", "r@example.net"))
        .starts_with("450 4.7.1 "));

    // one alert per crossed key: shop.example.com, then big.example.com
    let t = Instant::now();
    let mut got = Vec::new();
    while got.len() < 2 && t.elapsed() < Duration::from_secs(10) {
        if let Ok(b) = bodies.recv_timeout(Duration::from_millis(100)) {
            got.push(b);
        }
    }
    assert_eq!(got.len(), 2, "{got:?}\n{}", server.log());
    assert!(got[0].starts_with("POST /hook HTTP/1.1"), "{}", got[0]);
    let j: serde_json::Value = serde_json::from_str(got[0].lines().last().unwrap()).unwrap();
    assert_eq!(j["key"], "sender_domain:shop.example.com", "{j}");
    assert_eq!(j["limit"], 2);
    assert_eq!(j["identity"], "c@shop.example.com");
    let j: serde_json::Value = serde_json::from_str(got[1].lines().last().unwrap()).unwrap();
    assert_eq!(j["key"], "sender_domain:big.example.com", "{j}");
    assert_eq!(j["limit"], 5);
    // more refusals of a crossed key alert no more
    assert!(p
        .ask(&rcpt("m5", "d@shop.example.com", "r1@example.net"))
        .starts_with("450 4.7.1 "));
    assert!(bodies.recv_timeout(Duration::from_millis(500)).is_err());
    let t = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&mail).unwrap_or_default();
        if text.matches("Subject: ").count() >= 2 || t.elapsed() > Duration::from_secs(10) {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(text.matches("Subject: ").count(), 2, "{text}");
    assert!(
        text.contains("To: postmaster@relay.example.com\n"),
        "{text}"
    );
    assert!(
        text.contains("Subject: rblkit policy: sender_domain:shop.example.com crossed its limit\n"),
        "{text}"
    );

    // explain names the limit that applies (the class's, whose count is the server's)
    let out = Command::new(BIN)
        .args(["policy", "explain", "--state"])
        .arg(&state)
        .arg("--config")
        .arg(&cfg)
        .args(["--client", "127.0.0.1", "--json", "a@shop.example.com"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let limits = j["limits"].as_array().unwrap();
    let keys: Vec<&str> = limits.iter().map(|l| l["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "identity:a@shop.example.com",
            "sender_domain:shop.example.com",
            "client_network:127.0.0.0/24"
        ]
    );
    assert_eq!(limits[1]["applies"], true, "{j}");
    // a@: m1 counted; m4, refused by the domain's limit, consumed no quota
    assert_eq!(limits[0]["count"], 1, "{j}");
    let out = Command::new(BIN)
        .args(["policy", "explain", "--state"])
        .arg(&state)
        .arg("--config")
        .arg(&cfg)
        .arg("x@big.example.com")
        .output()
        .unwrap();
    // the class counts are in the state directory, so explain (another process) reads them
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("* sender_domain:big.example.com 5 of 5 (map file) <- applies"),
        "{text}"
    );
}

/// Two `rblkit policy` processes on one state directory: the class counts are in its
/// database, checked and counted under its write lock, so a limit holds exactly across
/// both under concurrent load, and a restart keeps the counts.
#[test]
fn two_processes_on_one_state_share_class_counts_exactly_and_a_restart_keeps_them() {
    let dir = TempDir::new("smtp-limits-shared");
    let cfg = dir.0.join("policy.toml");
    std::fs::write(
        &cfg,
        "[limits]\nmessages_per_hour = 30\n\
         [[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 40\n",
    )
    .unwrap();
    let state = dir.0.join("state");
    let a = PolicyProc::start(&state, free_port(), Some(&cfg), &dir.0.join("a.log"));
    let b = PolicyProc::start(&state, free_port(), Some(&cfg), &dir.0.join("b.log"));
    let ports = [a.port, b.port];
    // 20 connections at once, every other one through the other process: 20 senders of
    // one domain, 5 messages each (under the per-identity limit of 30), and one sender
    // alone with 60 messages (the per-identity limit, counted in the shared journal)
    let hammer = |who: fn(usize) -> String, tag: &'static str| {
        let threads: Vec<_> = (0..20)
            .map(|c| {
                let port = ports[c % 2];
                std::thread::spawn(move || {
                    let mut p = PolicyClient::connect(port);
                    let mut accepted = 0;
                    for m in 0..if tag == "solo" { 3 } else { 5 } {
                        let inst = format!("{tag}{c}.{m}");
                        let answer = p.ask(&rcpt(&inst, &who(c), "r@example.net"));
                        if answer == "DUNNO" {
                            accepted += 1;
                        } else {
                            // the rate limit's 450, or the kept-sending escalation's 5xx
                            assert!(
                                answer.starts_with("450 4.7.1 ") || answer.starts_with('5'),
                                "{answer}"
                            );
                        }
                    }
                    accepted
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).sum::<u32>()
    };
    let domain = hammer(|c| format!("s{c}@hammer.example.com"), "dom");
    assert_eq!(domain, 40, "a: {}\nb: {}", a.log(), b.log());
    let solo = hammer(|_| "solo@alone.example.org".to_string(), "solo");
    assert_eq!(solo, 30, "a: {}\nb: {}", a.log(), b.log());

    // both stopped, one started again: the counts are where they were
    drop((a, b));
    let a = PolicyProc::start(&state, free_port(), Some(&cfg), &dir.0.join("a2.log"));
    let mut p = PolicyClient::connect(a.port);
    let over = p.ask(&rcpt("after1", "new@hammer.example.com", "r@example.net"));
    assert!(over.starts_with("450 4.7.1 "), "{over}");
    let over = p.ask(&rcpt("after2", "solo@alone.example.org", "r@example.net"));
    assert!(over.starts_with("4") || over.starts_with("5"), "{over}");
    // another domain is not affected
    assert_eq!(
        p.ask(&rcpt("after3", "x@other.example.com", "r@example.net")),
        "DUNNO"
    );
    let out = Command::new(BIN)
        .args(["policy", "explain", "--state"])
        .arg(&state)
        .arg("--config")
        .arg(&cfg)
        .args(["--json", "new@hammer.example.com"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let limits = j["limits"].as_array().unwrap();
    assert_eq!(limits[1]["key"], "sender_domain:hammer.example.com", "{j}");
    assert_eq!(limits[1]["count"], 40, "{j}");
}
