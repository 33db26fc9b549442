//! `rblkit policy` spoken to directly over loopback: many connections and requests at
//! once, a stalled or broken client that does not hold up the others, the idle limit, the
//! counting modes, the config's lists and replies, escalation to a permanent block, and
//! DNS list checks against `rblkit`'s own DNS server with weights and a threshold.

use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc};
use crate::zone_tools::TempDir;
use std::time::{Duration, Instant};

struct Setup {
    _dir: TempDir,
    server: PolicyProc,
}

fn setup(tag: &str, config: &str) -> Setup {
    let dir = TempDir::new(tag);
    let cfg = dir.0.join("policy.toml");
    std::fs::write(&cfg, config).unwrap();
    let server = PolicyProc::start(
        &dir.0.join("state"),
        free_port(),
        Some(&cfg),
        &dir.0.join("policy.log"),
    );
    Setup { _dir: dir, server }
}

#[test]
fn many_clients_at_once_and_a_broken_one_holds_up_nobody() {
    let s = setup("smtp-many", "[limits]\nidle_secs = 1\n");
    let port = s.server.port;
    // a client that starts a request and stalls
    let mut stalled = PolicyClient::connect(port);
    stalled
        .send(b"request=smtpd_access_policy\nsender=a@")
        .unwrap();
    let t = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|c| {
            std::thread::spawn(move || {
                let mut p = PolicyClient::connect(port);
                for m in 0..50 {
                    let inst = format!("{c}.{m}");
                    let sender = format!("user{c}@shop.example.com");
                    for r in 0..2 {
                        // distinct recipients: 50 to one would be mailbombing
                        let rc = format!("r{m}.{r}@example.net");
                        assert_eq!(p.ask(&rcpt(&inst, &sender, &rc)), "DUNNO");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 1,600 answers while the stalled client waited; then the idle limit drops it
    assert!(stalled.closed());
    assert!(t.elapsed() < Duration::from_secs(60));
    let log = s.server.log();
    assert!(log.contains("idle for 1 s"), "{log}");
    // every message counted once: 50 per sender, not 100
    let out = std::process::Command::new(crate::smtp_tools::BIN)
        .args(["policy", "status", "--state"])
        .arg(s._dir.0.join("state"))
        .arg("user3@shop.example.com")
        .output()
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["messages_in_window"], 50, "{st}");
}

#[test]
fn metrics_count_requests_by_action_and_reason_and_dropped_clients() {
    use crate::metrics_tools::{metric, scrape};
    let dir = TempDir::new("smtp-metrics");
    let cfg = dir.0.join("policy.toml");
    std::fs::write(&cfg, "[limits]\nmessages_per_hour = 1\n").unwrap();
    let mport = free_port();
    let server = PolicyProc::start_with(
        &dir.0.join("state"),
        free_port(),
        Some(&cfg),
        &dir.0.join("policy.log"),
        &["--metrics", &format!("127.0.0.1:{mport}")],
    );
    let addr = ([127, 0, 0, 1], mport).into();
    let before = scrape(addr);
    let dunno = "rblkit_policy_requests_total{action=\"dunno\",reason=\"none\"}";
    let rate = "rblkit_policy_requests_total{action=\"defer\",reason=\"rate_limit\"}";
    let invalid = "rblkit_policy_requests_total{action=\"reject\",reason=\"invalid_sender\"}";
    let protocol = "rblkit_policy_clients_dropped_total{why=\"protocol\"}";
    let connections = "rblkit_policy_connections_total";
    let commits = "rblkit_policy_commits_total";
    let decided = "rblkit_policy_decision_seconds_count";
    assert_eq!(metric(&before, dunno), 0.0, "{before}");
    let mut p = PolicyClient::connect(server.port);
    let who = "a@shop.example.com";
    assert_eq!(p.ask(&rcpt("m1", who, "r@example.net")), "DUNNO");
    assert!(p
        .ask(&rcpt("m2", who, "r@example.net"))
        .starts_with("450 4.7.1 "));
    assert!(p
        .ask(&rcpt("m3", "root@localhost", "r@example.net"))
        .starts_with("553 5.1.7 "));
    let mut bad = PolicyClient::connect(server.port);
    bad.send(b"a line with no equals sign\n").unwrap();
    assert!(bad.closed());
    let after = scrape(addr);
    let moved = |series: &str| metric(&after, series) - metric(&before, series);
    assert_eq!(moved(dunno), 1.0, "{after}");
    assert_eq!(moved(rate), 1.0, "{after}");
    assert_eq!(moved(invalid), 1.0, "{after}");
    assert_eq!(moved(protocol), 1.0, "{after}");
    assert_eq!(moved(decided), 3.0, "{after}");
    assert!(moved(connections) >= 2.0, "{after}");
    // the first message was recorded before its answer
    assert!(moved(commits) >= 1.0, "{after}");
    assert_eq!(metric(&after, "rblkit_policy_commit_failures_total"), 0.0);
}

#[test]
fn counting_modes_per_recipient_and_at_end_of_message() {
    let s = setup(
        "smtp-rcpt",
        "counting = \"recipient\"\n[limits]\nmessages_per_hour = 3\n",
    );
    let mut p = PolicyClient::connect(s.server.port);
    let who = "a@shop.example.com";
    assert_eq!(p.ask(&rcpt("m1", who, "r1@example.net")), "DUNNO");
    assert_eq!(p.ask(&rcpt("m1", who, "r2@example.net")), "DUNNO");
    assert_eq!(p.ask(&rcpt("m1", who, "r3@example.net")), "DUNNO");
    assert!(p
        .ask(&rcpt("m2", who, "r4@example.net"))
        .starts_with("450 4.7.1 "));

    let s = setup(
        "smtp-eom",
        "counting = \"end-of-message\"\n[limits]\nmessages_per_hour = 10\n",
    );
    let mut p = PolicyClient::connect(s.server.port);
    let eom = |inst: &'static str, recipients: &'static str| {
        vec![
            ("protocol_state", "END-OF-MESSAGE"),
            ("client_address", "127.0.0.1"),
            ("instance", inst),
            ("sender", "b@shop.example.com"),
            ("recipient", ""),
            ("recipient_count", recipients),
        ]
    };
    for inst in ["e1", "e2"] {
        // RCPT stages are judged, not counted
        for r in 0..4 {
            let rc = format!("r{r}@example.net");
            assert_eq!(p.ask(&rcpt(inst, "b@shop.example.com", &rc)), "DUNNO");
        }
        // a message counts its recipients
        assert_eq!(p.ask(&eom(inst, "4")), "DUNNO");
    }
    // 8 of 10: four more do not fit, and are not counted; two do
    assert!(p.ask(&eom("e3", "4")).starts_with("450 4.7.1 "));
    assert_eq!(p.ask(&eom("e4", "2")), "DUNNO");
    assert!(p.ask(&eom("e5", "1")).starts_with("450 4.7.1 "));
    assert!(p
        .ask(&rcpt("e6", "b@shop.example.com", "r@example.net"))
        .starts_with("450 4.7.1 "));
}

#[test]
fn config_lists_exemptions_replies_and_escalation() {
    let s = setup(
        "smtp-config",
        r#"
show_evidence = true
[limits]
messages_per_hour = 5
kept_sending_grace = 3
[blocked]
senders = ["@spam.example.net"]
recipients = ["victim@example.org"]
[exempt]
sasl_users = ["newsletter@relay.example.com"]
[replies]
rate_limit = "451 4.7.1 Slow down; see https://relay.example.com/limits"
"#,
    );
    let mut p = PolicyClient::connect(s.server.port);
    assert!(p
        .ask(&rcpt("1", "x@spam.example.net", "r@example.net"))
        .starts_with("550 5.7.1 Mail from this sender"));
    assert!(p
        .ask(&rcpt("2", "ok@shop.example.com", "victim@example.org"))
        .starts_with("550 5.7.1 Mail to this recipient"));
    // the null sender of a bounce is never an invalid sender
    assert_eq!(p.ask(&rcpt("3", "", "r@example.net")), "DUNNO");
    // reserved top-level domains and names without a dot are
    for bad in ["a@host.invalid", "a@mailhost", "a@x.test", "a@x.example"] {
        assert!(
            p.ask(&rcpt("4", bad, "r@example.net"))
                .starts_with("553 5.1.7 "),
            "{bad}"
        );
    }
    // an exempt authenticated user is neither judged nor counted
    let mut ex = rcpt("5", "root@localhost", "r@example.net");
    ex.push(("sasl_username", "newsletter@relay.example.com"));
    assert_eq!(p.ask(&ex), "DUNNO");
    // the rate limit with the configured text and, as configured, the evidence
    let who = "eager@shop.example.com";
    for i in 0..5 {
        let (inst, rc) = (format!("k{i}"), format!("r{i}@example.net"));
        assert_eq!(p.ask(&rcpt(&inst, who, &rc)), "DUNNO", "message {i}");
    }
    let a = p.ask(&rcpt("k5", who, "r5@example.net"));
    assert!(
        a.starts_with("451 4.7.1 Slow down; see https://relay.example.com/limits ("),
        "{a}"
    );
    assert!(a.contains("5 messages in the rolling window"), "{a}");
    // kept sending while blocked: 5 + 3 tries → permanent
    let mut last = String::new();
    for i in 6..9 {
        let (inst, rc) = (format!("k{i}"), format!("r{i}@example.net"));
        last = p.ask(&rcpt(&inst, who, &rc));
    }
    assert!(
        last.starts_with("550 5.7.1 This sender kept sending"),
        "{last}"
    );
}

#[test]
fn dns_lists_with_weights_and_a_threshold_and_allowlists_that_override() {
    use rblkit::dns::server::Server;
    use rblkit::zone::DatasetSpec;
    let dir = TempDir::new("smtp-dns");
    let a = dir.write(
        "a.txt",
        b"127.0.0.9 :127.0.0.4:listed\n127.0.0.10 :127.0.0.2:listed\n",
    );
    let b = dir.write(
        "b.txt",
        b"127.0.0.9 :127.0.0.2:listed\n127.0.0.11 :127.0.0.2:listed\n",
    );
    let specs: Vec<DatasetSpec> = [
        format!("bl-a.test:ip4set:{a}"),
        format!("bl-b.test:ip4set:{b}"),
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let dns = Server::builder()
        .specs(specs)
        .threads(1)
        .listen("127.0.0.1:0".parse().unwrap())
        .start()
        .unwrap();
    let dns_addr = dns.local_addrs()[0];
    let config = format!(
        r#"
[dns]
server = "{dns_addr}"
lists = ["bl-a.test=127.0.0.[2..4]*2", "bl-b.test*1"]
threshold = 3
timeout_ms = 2000
[allow]
clients = ["127.0.0.11"]
"#
    );
    let s = setup("smtp-dns-policy", &config);
    let mut p = PolicyClient::connect(s.server.port);
    let from = |ip: &'static str, inst: &'static str| {
        let mut r = rcpt(inst, "a@shop.example.com", "r@example.net");
        r.retain(|(k, _)| *k != "client_address");
        r.push(("client_address", ip));
        r
    };
    // on both lists: 2 + 1 = 3, refused
    assert!(p.ask(&from("127.0.0.9", "d1")).starts_with("554 5.7.1 "));
    // on one: 2, under the threshold
    assert_eq!(p.ask(&from("127.0.0.10", "d2")), "DUNNO");
    // allowlisted: never refused
    assert_eq!(p.ask(&from("127.0.0.11", "d3")), "DUNNO");
    assert_eq!(p.ask(&from("127.0.0.12", "d4")), "DUNNO");
    drop(dns);
}
