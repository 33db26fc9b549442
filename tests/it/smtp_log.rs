//! `rblkit ingest postfix-log` on real Postfix log lines (captured from the run of
//! `smtp_postfix`: a delivery to the discard transport, a bounce with `dsn=5.1.1` from the
//! error transport, the null-sender bounce notification, the 300 messages of one sender),
//! read whole and followed as the file grows.

use crate::smtp_tools::BIN;
use crate::zone_tools::TempDir;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LOG: &str = include_str!("../data/postfix-policy.maillog");

/// The oracle: per status line whose queue id has a non-null `from=<…>` before it, the
/// sender and the recipient.
fn expected() -> Vec<(String, String, String)> {
    let mut from = std::collections::HashMap::new();
    let mut out = Vec::new();
    for l in LOG.lines() {
        let Some(rest) = l.split("]: ").nth(1) else {
            continue;
        };
        let Some((qid, text)) = rest.split_once(": ") else {
            continue;
        };
        if let Some(f) = text.strip_prefix("from=<") {
            from.insert(qid.to_string(), f.split('>').next().unwrap().to_string());
        } else if let Some(t) = text.strip_prefix("to=<") {
            let status = text
                .split("status=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            if let Some(f) = from.get(qid).filter(|f| !f.is_empty()) {
                let to = t.split('>').next().unwrap().to_string();
                out.push((f.clone(), to, status.to_string()));
            }
        }
    }
    out
}

#[test]
fn real_postfix_lines_become_outcomes_of_the_sender() {
    let mut child = Command::new(BIN)
        .args(["ingest", "postfix-log", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(LOG.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want = expected();
    assert!(want.len() >= 10, "{want:?}");
    assert_eq!(events.len(), want.len(), "{events:?}");
    for (e, (from, to, status)) in events.iter().zip(&want) {
        assert_eq!(e["event"], "smtp_outcome");
        assert_eq!(e["subject"], from.as_str());
        assert_eq!(e["recipient"], to.as_str());
        let outcome = match status.as_str() {
            "sent" => "delivered",
            "bounced" => "no_such_user", // dsn=5.1.1 "mailbox does not exist"
            other => panic!("unexpected status {other}"),
        };
        assert_eq!(e["outcome"], outcome, "{e}");
    }
    // the bounce notification to alice comes from <>: no evidence about anyone
    assert!(LOG.contains("from=<>"));
    assert!(!events
        .iter()
        .any(|e| e["recipient"] == "alice@shop.example.com"));
    assert_eq!(
        events
            .iter()
            .filter(|e| e["outcome"] == "no_such_user")
            .count(),
        1
    );
}

#[test]
fn a_followed_log_is_ingested_as_it_grows() {
    let dir = TempDir::new("smtp-log-follow");
    let log = dir.0.join("maillog");
    let state = dir.0.join("state");
    std::fs::write(&log, "").unwrap();
    let mut child = Command::new(BIN)
        .args(["ingest", "postfix-log", "--follow", "--state"])
        .arg(&state)
        .arg(&log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // the lines arrive in two writes, the second starting mid-line
    let (a, b) = LOG.split_at(LOG.len() / 2 + 7);
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(a.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    f.write_all(b.as_bytes()).unwrap();
    let want = expected().len() as u64;
    let t = Instant::now();
    let total = loop {
        let out = Command::new(BIN)
            .args(["ledger", "export", "--state"])
            .arg(&state)
            .output()
            .unwrap();
        let n = String::from_utf8_lossy(&out.stdout).lines().count() as u64;
        if n >= want || t.elapsed() > Duration::from_secs(20) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(total, want);
}
