//! `rblkit policy` servers sharing their counters in a real `redis-server` (Debian package
//! `redis-server`) on a loopback port: one limit across two servers under 1,000 concurrent
//! requests, `instance` counted once across servers, and Redis killed and restarted under
//! fail-open and fail-closed servers.

use crate::metrics_tools::{metric, scrape};
use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc};
use crate::zone_tools::{tool, TempDir};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a loopback port with its files in a temporary directory; killed on
/// drop, whatever the test's outcome.
struct RedisProc {
    bin: PathBuf,
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persist: bool,
}

impl RedisProc {
    /// Starts it; `persist`: an append-only file synced on every write, so that the counts
    /// survive a SIGKILL; otherwise `--save '' --appendonly no`.
    fn start(bin: &Path, dir: &Path, persist: bool) -> RedisProc {
        let mut r = RedisProc {
            bin: bin.to_path_buf(),
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
            persist,
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("redis.log")).unwrap();
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no"])
            .arg("--dir")
            .arg(&self.dir);
        if self.persist {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let t = Instant::now();
        while self.command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "redis-server did not answer on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, and wait for the end.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// One command in RESP; the first line of the answer.
    fn command(&self, args: &[&str]) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut m = format!("*{}\r\n", args.len());
        for a in args {
            m.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(m.as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).ok()?;
        Some(line.trim_end().to_string())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn redis_server() -> Option<PathBuf> {
    tool("redis-server", &["/usr/bin/redis-server"], "redis-server")
}

/// A policy server with this config text, its state and log in `dir/NAME`.
fn policy(dir: &TempDir, name: &str, config: &str, extra: &[&str]) -> PolicyProc {
    PolicyProc::in_dir(&dir.0, name, config, extra)
}

fn config(limit: u32, redis: &RedisProc, on_failure: &str) -> String {
    format!(
        "[limits]\nmessages_per_hour = {limit}\n[redis]\nurl = \"{}\"\ntimeout_ms = 50\non_failure = \"{on_failure}\"\n",
        redis.url()
    )
}

#[test]
fn two_servers_one_limit_under_a_thousand_concurrent_requests() {
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-two");
    let redis = RedisProc::start(&bin, &dir.0, false);
    let a = policy(&dir, "a", &config(300, &redis, "closed"), &[]);
    let b = policy(&dir, "b", &config(300, &redis, "closed"), &[]);
    let ports = [a.port, b.port];
    // 100 connections at once, 10 messages each, every other one through the other server
    let threads: Vec<_> = (0..100)
        .map(|c| {
            let port = ports[c % 2];
            std::thread::spawn(move || {
                let mut p = PolicyClient::connect(port);
                let mut accepted = 0;
                for m in 0..10 {
                    let inst = format!("{c}.{m}");
                    let to = format!("r{c}.{m}@example.net");
                    let answer = p.ask(&rcpt(&inst, "hammer@shop.example.com", &to));
                    if answer == "DUNNO" {
                        accepted += 1;
                    } else {
                        assert!(answer.starts_with("450 4.7.1 "), "{answer}");
                    }
                }
                accepted
            })
        })
        .collect();
    let accepted: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(accepted, 300, "a: {}\nb: {}", a.log(), b.log());
    let key = "rblkit:rate:identity:hammer@shop.example.com";
    assert_eq!(redis.command(&["ZCARD", key]).as_deref(), Some(":300"));
}

#[test]
fn one_instance_through_both_servers_counts_once() {
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-instance");
    let redis = RedisProc::start(&bin, &dir.0, false);
    let a = policy(&dir, "a", &config(2, &redis, "closed"), &[]);
    let b = policy(&dir, "b", &config(2, &redis, "closed"), &[]);
    let mut pa = PolicyClient::connect(a.port);
    let mut pb = PolicyClient::connect(b.port);
    let who = "twice@shop.example.com";
    assert_eq!(pa.ask(&rcpt("m1", who, "r1@example.net")), "DUNNO");
    // the same message's next recipient, asked of the other server: not counted again
    assert_eq!(pb.ask(&rcpt("m1", who, "r2@example.net")), "DUNNO");
    let key = format!("rblkit:rate:identity:{who}");
    assert_eq!(redis.command(&["ZCARD", &key]).as_deref(), Some(":1"));
    assert_eq!(pb.ask(&rcpt("m2", who, "r3@example.net")), "DUNNO");
    // the limit is 2: the third message is refused by either, though each saw at most 2
    let third = pa.ask(&rcpt("m3", who, "r4@example.net"));
    assert!(third.starts_with("450 4.7.1 "), "{third}");
    // and every recipient of that refused message gets the same answer from the other one
    let again = pb.ask(&rcpt("m3", who, "r5@example.net"));
    assert!(again.starts_with("450 4.7.1 "), "{again}");
    assert_eq!(redis.command(&["ZCARD", &key]).as_deref(), Some(":2"));
}

#[test]
fn redis_killed_gets_the_failure_answers_then_counting_resumes_with_the_kept_counts() {
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-kill");
    let mut redis = RedisProc::start(&bin, &dir.0, true);
    let mport = free_port();
    let closed = policy(&dir, "closed", &config(3, &redis, "closed"), &[]);
    let open = policy(
        &dir,
        "open",
        &config(3, &redis, "open"),
        &["--metrics", &format!("127.0.0.1:{mport}")],
    );
    let mut pc = PolicyClient::connect(closed.port);
    let mut po = PolicyClient::connect(open.port);
    let who = "outage@shop.example.com";
    assert_eq!(pc.ask(&rcpt("m1", who, "r1@example.net")), "DUNNO");
    assert_eq!(po.ask(&rcpt("m2", who, "r2@example.net")), "DUNNO");

    redis.kill();
    let down = pc.ask(&rcpt("m3", who, "r3@example.net"));
    assert!(down.starts_with("451 4.3.0 "), "fail-closed: {down}");
    assert_eq!(po.ask(&rcpt("m4", who, "r4@example.net")), "DUNNO");
    let m = scrape(([127, 0, 0, 1], mport).into());
    assert!(
        metric(&m, "rblkit_policy_redis_failures_total") >= 1.0,
        "{m}"
    );
    assert!(open.log().contains("redis failed"), "{}", open.log());

    // restarted on the same port with its append-only file: the servers reconnect
    redis.spawn();
    // (a new sender each time: its own ledger counts every message it was asked about)
    let t = Instant::now();
    for n in 0.. {
        let probe = format!("probe{n}@shop.example.com");
        let answer = pc.ask(&rcpt(&format!("p{n}"), &probe, "r@example.net"));
        if answer == "DUNNO" {
            break;
        }
        assert!(answer.starts_with("451 4.3.0 "), "{answer}");
        assert!(t.elapsed() < Duration::from_secs(20), "no reconnection");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(pc.ask(&rcpt("m5", who, "r5@example.net")), "DUNNO");
    // m1, m2 (kept by Redis) and m5: the limit of 3 is reached, through either server;
    // the open server's own ledger has only m2 and m4, so the refusal is Redis's
    let key = format!("rblkit:rate:identity:{who}");
    assert_eq!(redis.command(&["ZCARD", &key]).as_deref(), Some(":3"));
    let over = po.ask(&rcpt("m6", who, "r6@example.net"));
    assert!(over.starts_with("450 4.7.1 "), "{over}");
}

/// A message another check refuses (the ledger's rules, a blocked sender or recipient, a
/// DNS list) consumes no quota in Redis, in every counting mode; a message accepted in
/// the end is counted once, at the point its mode counts.
#[test]
fn refused_messages_are_not_charged_in_redis_in_any_counting_mode() {
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-refused");
    let redis = RedisProc::start(&bin, &dir.0, false);
    let bl = dir.0.join("bl.txt");
    std::fs::write(&bl, "192.0.2.66\n").unwrap();
    for (mode, prefix) in [
        ("message", "m:"),
        ("recipient", "r:"),
        ("end-of-message", "e:"),
    ] {
        let cfg = format!(
            "counting = \"{mode}\"\n[limits]\nmessages_per_hour = 100\n\
             [[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 100\n\
             [blocked]\nsenders = [\"@spam.example.net\"]\nrecipients = [\"@blocked.example.net\"]\n\
             [dns]\ndatasets = [\"bl.test:ip4set:{}\"]\nlists = [\"bl.test*1\"]\nthreshold = 1\n\
             [redis]\nurl = \"{}\"\nkey_prefix = \"{prefix}\"\n",
            bl.display(),
            redis.url()
        );
        let server = policy(&dir, mode, &cfg, &[]);
        let mut p = PolicyClient::connect(server.port);
        let ask =
            |p: &mut PolicyClient, state: &str, inst: &str, client: &str, from: &str, to: &str| {
                let mut r = rcpt(inst, from, to);
                r[0].1 = state;
                r[2].1 = client;
                if state == "END-OF-MESSAGE" {
                    r.retain(|a| a.0 != "recipient");
                    r.push(("recipient_count", "1"));
                }
                p.ask(&r)
            };
        let zcard = |key: &str| redis.command(&["ZCARD", &format!("{prefix}rate:{key}")]);
        let states: &[&str] = if mode == "end-of-message" {
            &["RCPT", "END-OF-MESSAGE"]
        } else {
            &["RCPT"]
        };
        for st in states {
            // the ledger's rule (an invalid sender), a blocked sender, a DNS-listed client
            let a = ask(
                &mut p,
                st,
                "i1",
                "127.0.0.1",
                "root@localhost",
                "r@example.net",
            );
            assert!(a.starts_with("553 "), "{mode} {st}: {a}");
            let a = ask(
                &mut p,
                st,
                "i2",
                "127.0.0.1",
                "x@spam.example.net",
                "r@example.net",
            );
            assert!(a.starts_with('5'), "{mode} {st}: {a}");
            let a = ask(
                &mut p,
                st,
                "i3",
                "192.0.2.66",
                "d@shop.example.com",
                "r@example.net",
            );
            assert!(a.starts_with('5') || a.starts_with('4'), "{mode} {st}: {a}");
        }
        if mode != "end-of-message" {
            // a blocked recipient: that RCPT is refused and not charged; the same
            // message's next recipient is accepted and charged once
            let a = ask(
                &mut p,
                "RCPT",
                "i4",
                "127.0.0.1",
                "b@shop.example.com",
                "r@blocked.example.net",
            );
            assert!(a.starts_with('5'), "{mode}: {a}");
            assert_eq!(
                zcard("identity:b@shop.example.com").as_deref(),
                Some(":0"),
                "{mode}"
            );
            let a = ask(
                &mut p,
                "RCPT",
                "i4",
                "127.0.0.1",
                "b@shop.example.com",
                "r2@example.net",
            );
            assert_eq!(a, "DUNNO", "{mode}");
            assert_eq!(
                zcard("identity:b@shop.example.com").as_deref(),
                Some(":1"),
                "{mode}"
            );
        }
        for key in [
            "identity:root@localhost",
            "sender_domain:localhost",
            "identity:x@spam.example.net",
            "sender_domain:spam.example.net",
            "identity:d@shop.example.com",
        ] {
            assert_eq!(
                zcard(key).as_deref(),
                Some(":0"),
                "{mode} {key}: {}",
                server.log()
            );
        }
        // a message accepted in the end: two recipients, counted once by `instance`,
        // twice per recipient, once at END-OF-MESSAGE (not at RCPT)
        for to in ["r1@example.net", "r2@example.net"] {
            assert_eq!(
                ask(&mut p, "RCPT", "i5", "127.0.0.1", "ok@shop.example.com", to),
                "DUNNO"
            );
        }
        let at_rcpt = zcard("identity:ok@shop.example.com");
        if mode == "end-of-message" {
            assert_eq!(at_rcpt.as_deref(), Some(":0"), "{mode}");
            let a = ask(
                &mut p,
                "END-OF-MESSAGE",
                "i5",
                "127.0.0.1",
                "ok@shop.example.com",
                "",
            );
            assert_eq!(a, "DUNNO", "{mode}");
        }
        let want = if mode == "recipient" { ":2" } else { ":1" };
        assert_eq!(
            zcard("identity:ok@shop.example.com").as_deref(),
            Some(want),
            "{mode}"
        );
        let domain = if mode == "recipient" {
            ":3"
        } else if mode == "message" {
            ":2"
        } else {
            ":1"
        };
        assert_eq!(
            zcard("sender_domain:shop.example.com").as_deref(),
            Some(domain),
            "{mode}"
        );
    }
}

/// Requests arriving together are charged in Redis before the ledger's transaction; one
/// the ledger refuses inside it after all (here: the 31st message to one recipient, which
/// makes mailbombing) is taken back, so Redis keeps exactly what was accepted.
#[test]
fn messages_the_ledger_refuses_in_the_transaction_are_taken_back_from_redis() {
    use std::sync::{Arc, Barrier};
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-undo");
    let redis = RedisProc::start(&bin, &dir.0, false);
    let mport = free_port();
    let server = policy(
        &dir,
        "a",
        &config(1000, &redis, "closed"),
        &["--metrics", &format!("127.0.0.1:{mport}")],
    );
    let port = server.port;
    const CLIENTS: usize = 40;
    // rounds until one batch of requests crosses the mailbomb threshold of 30 (which
    // batches form is up to the scheduler); every round must hold the counts
    for round in 0..8 {
        let sender = format!("bomb{round}@shop.example.com");
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let threads: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (barrier, sender) = (barrier.clone(), sender.clone());
                std::thread::spawn(move || {
                    let mut p = PolicyClient::connect(port);
                    let inst = format!("{round}.{c}");
                    let ask = rcpt(&inst, &sender, "victim@example.net");
                    barrier.wait();
                    p.ask(&ask)
                })
            })
            .collect();
        let answers: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let accepted = answers.iter().filter(|a| *a == "DUNNO").count();
        assert_eq!(accepted, 30, "{answers:?}\n{}", server.log());
        for a in answers.iter().filter(|a| *a != "DUNNO") {
            assert!(a.starts_with("450 4.7.1 "), "{a}");
        }
        let key = format!("rblkit:rate:identity:{sender}");
        assert_eq!(
            redis.command(&["ZCARD", &key]).as_deref(),
            Some(":30"),
            "round {round}"
        );
        let m = scrape(([127, 0, 0, 1], mport).into());
        if metric(&m, "rblkit_policy_redis_undone_total") > 0.0 {
            return;
        }
    }
    panic!("no round had a message charged in Redis and refused in the transaction");
}

/// The counter store itself, as a library user holds it, on a real `redis-server`:
/// atomic check-and-add at the limit, a message charged once by its key, `undo` that
/// gives the room back, counts by name and by subject, `forget`.
#[test]
fn redis_counters_charge_undo_and_count_on_a_real_server() {
    use rblkit::ledger::{Charge, Charged, Counter, CounterKey, CounterStore, Ledger};
    let Some(bin) = redis_server() else { return };
    let dir = TempDir::new("smtp-redis-counters");
    let redis = RedisProc::start(&bin, &dir.0, false);
    let c = rblkit::smtp::PolicyConfig::from_toml(
        &format!(
            "[redis]\nurl = \"{}\"\nkey_prefix = \"lib:\"\n",
            redis.url()
        ),
        "p.toml",
    )
    .unwrap();
    let mut store = rblkit::smtp::RedisCounters::new(c.redis.as_ref().unwrap()).unwrap();
    let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
    let limits = [("domain:shop.example.com", 3), ("net:192.0.2.0/24", 5)];
    let mut out = Vec::new();
    let charge = |once: &'static [u8], n| Charge {
        once: Some(once),
        limits: &limits,
        n,
    };
    // two messages, the second of two recipients: 3 of 3
    store
        .charge(t, &[charge(b"m1", 1), charge(b"m2", 2)], &mut out)
        .unwrap();
    let receipt = match out[..] {
        [Charged::Within { .. }, Charged::Within { receipt }] => receipt,
        _ => panic!("{out:?}"),
    };
    assert_eq!(store.named_count("domain:shop.example.com", t).unwrap(), 3);
    assert_eq!(
        redis
            .command(&["ZCARD", "lib:rate:net:192.0.2.0/24"])
            .as_deref(),
        Some(":3")
    );
    // the same message again: its first answer, nothing added; a new one is over the
    // tighter limit (index 0), the first refusal of its window
    store
        .charge(t, &[charge(b"m1", 1), charge(b"m3", 1)], &mut out)
        .unwrap();
    assert_eq!(
        out,
        [
            Charged::Seen { within: true },
            Charged::Over {
                tight: 0,
                first: true
            }
        ]
    );
    // m2 refused after all: its two are taken back, and its key answers "refused"
    store.undo(t, &charge(b"m2", 2), receipt).unwrap();
    assert_eq!(store.named_count("domain:shop.example.com", t).unwrap(), 1);
    assert_eq!(store.named_count("net:192.0.2.0/24", t).unwrap(), 1);
    let half = rblkit::Timestamp::from_unix_assert(t.unix_seconds() + 1800);
    store
        .charge(half, &[charge(b"m2", 2), charge(b"m4", 2)], &mut out)
        .unwrap();
    assert!(matches!(
        out[..],
        [Charged::Seen { within: false }, Charged::Within { .. }]
    ));
    assert_eq!(
        store.named_count("domain:shop.example.com", half).unwrap(),
        3
    );
    // a rolling window: an hour after the first message it has left it, m4 has not
    let later = rblkit::Timestamp::from_unix_assert(t.unix_seconds() + 3600);
    assert_eq!(
        store.named_count("domain:shop.example.com", later).unwrap(),
        2
    );
    // a subject's counters
    // (Redis keys them by the subject's text; the id is a local ledger's)
    let s: rblkit::Subject = "bulk@shop.example.com".parse().unwrap();
    let id = Ledger::new(Default::default()).track(&s, t);
    let key = CounterKey {
        subject: &s,
        id,
        counter: Counter::Messages,
    };
    assert_eq!(store.add(key, t, 2).unwrap(), 2);
    assert_eq!(store.add(key, t, 1).unwrap(), 3);
    assert_eq!(store.count(key, t).unwrap(), 3);
    store.forget(id, &s).unwrap();
    assert_eq!(store.count(key, t).unwrap(), 0);
    // Redis gone: an error, not an answer
    drop(redis);
    assert!(store.charge(t, &[charge(b"m9", 1)], &mut out).is_err());
    assert!(out.is_empty());
}
