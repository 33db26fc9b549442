//! `rblkit ledger report`: messages, mboxes and ARF reports from files and standard input,
//! the events it prints, what it ingests, and its exit statuses.

use crate::zone_tools::TempDir;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rblkit");

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut c = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // a run that fails before it reads its input (a usage error, a bad network) closes
    // the pipe early: what it printed and its exit status are what the tests look at
    if let Err(e) = c.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    c.wait_with_output().unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const MSG: &str = "Received: from x (bulk.example [45.95.147.10]) by mx.ourlist.example (Postfix) with ESMTP id A1; Tue, 1 Dec 2026 10:00:00 +0000\r\n\
Subject: pills\r\n\r\nBuy at http://www.cheap-pills.biz/ now\r\n";

#[test]
fn dry_run_prints_the_events_and_ingests_nothing() {
    let d = TempDir::new("report-dry");
    let state = d.0.join("state").display().to_string();
    let o = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--trap",
            "trap-1",
            "--dry-run",
            "--at",
            "2026-12-01T10:00:00Z",
        ],
        MSG.as_bytes(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = lines(&o);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0]["subject"], "45.95.147.10");
    assert_eq!(ev[0]["event"], "trap_hit");
    assert_eq!(ev[0]["trap"], "trap-1");
    assert_eq!(ev[0]["at"], "2026-12-01T10:00:00Z");
    assert_eq!(ev[1]["subject"], "cheap-pills.biz");
    // The printed lines are what `ledger ingest` reads.
    let o2 = run(
        &[
            "ledger",
            "ingest",
            "--state",
            &state,
            "--profile",
            "spamcop",
        ],
        &o.stdout,
    );
    assert!(
        o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    let st = run(
        &[
            "ledger",
            "status",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--at",
            "2026-12-01T10:00:00Z",
            "--json",
            "45.95.147.10",
        ],
        b"",
    );
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn reports_are_ingested_and_list_under_spamcop() {
    let d = TempDir::new("report-ingest");
    let state = d.0.join("state").display().to_string();
    // An mbox of four spam reports by four reporters of the same message.
    let mut mbox = String::new();
    for i in 0..4 {
        mbox.push_str(&format!("From reporter{i}@x Tue Dec  1 10:00:00 2026\n"));
        mbox.push_str(&MSG.replace("\r\n", "\n"));
        mbox.push('\n');
    }
    let f = d.write("reports.mbox", mbox.as_bytes());
    let o = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--reporter",
            "user-a",
            "--at",
            "2026-12-01T10:00:00Z",
            &f,
        ],
        b"",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = lines(&o);
    assert_eq!(ev.len(), 8, "two subjects in each of four messages");
    assert!(ev
        .iter()
        .all(|e| e["event"] == "spam_report" && e["reporter"] == "user-a"));
    let fp = &ev[0]["fingerprint"];
    assert!(fp.is_string());
    assert!(
        ev.iter().all(|e| &e["fingerprint"] == fp),
        "one message, one fingerprint"
    );
    let trap = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--trap",
            "t1",
            "--at",
            "2026-12-01T10:01:00Z",
        ],
        MSG.as_bytes(),
    );
    assert!(trap.status.success());
    let st = run(
        &[
            "ledger",
            "status",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--at",
            "2026-12-01T10:02:00Z",
            "--json",
            "45.95.147.10",
            "cheap-pills.biz",
            "198.51.100.99",
        ],
        b"",
    );
    let st = lines(&st);
    assert_eq!(st.len(), 3);
    assert_eq!(st[0]["listed"], true, "{}", st[0]);
    assert_eq!(st[1]["listed"], true, "{}", st[1]);
    assert_eq!(st[2]["listed"], false, "{}", st[2]);
}

#[test]
fn trusted_networks_and_private_sources() {
    let d = TempDir::new("report-trusted");
    let state = d.0.join("state").display().to_string();
    let msg = "Received: from relay (relay [198.51.100.25]) by mx with ESMTP id 2; Tue, 1 Dec 2026 10:00:01 +0000\r\n\
Received: from lan (lan [10.1.2.3]) by relay with ESMTP id 1; Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nhello\r\n";
    let base = [
        "ledger",
        "report",
        "--state",
        &state,
        "--profile",
        "spamcop",
        "--trap",
        "t",
        "--dry-run",
    ];
    // No --trusted: the topmost connecting address (documentation space is special-purpose,
    // so it is passed over, and so is the private one): no source.
    let o = run(&base, msg.as_bytes());
    assert!(o.status.success());
    assert!(lines(&o).is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no source IP"));
    // Allowed, with the relay trusted: the private hop below it is the source.
    let mut args = base.to_vec();
    args.extend(["--trusted", "198.51.100.0/24", "--allow-private-sources"]);
    let o = run(&args, msg.as_bytes());
    assert_eq!(lines(&o)[0]["subject"], "10.1.2.3");
    // The same from a config file.
    let cfg = d.write(
        "intake.toml",
        b"trusted_networks = [\"198.51.100.25\"]\nallow_private_sources = true\n",
    );
    let mut args = base.to_vec();
    args.extend(["--config", &cfg]);
    let o = run(&args, msg.as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(lines(&o)[0]["subject"], "10.1.2.3");
    // A bad config is a usage error naming the file.
    let bad = d.write("bad.toml", b"trusted_networks = [\"nope\"]\n");
    let mut args = base.to_vec();
    args.extend(["--config", &bad]);
    let o = run(&args, msg.as_bytes());
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));
}

#[test]
fn arf_reports_and_errors() {
    let d = TempDir::new("report-arf");
    let state = d.0.join("state").display().to_string();
    let arf = format!(
        "From: fbl@mailbox.example\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nA report.\r\n\
--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1\r\nVersion: 1\r\nSource-IP: 185.220.101.4\r\nReporting-MTA: dns; fbl.mailbox.example\r\n\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\n{MSG}\r\n--b--\r\n"
    );
    let args = [
        "ledger",
        "report",
        "--state",
        &state,
        "--profile",
        "spamcop",
        "--arf",
        "--dry-run",
    ];
    let o = run(&args, arf.as_bytes());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ev = lines(&o);
    assert_eq!(ev[0]["subject"], "185.220.101.4");
    assert_eq!(ev[0]["reporter"], "fbl.mailbox.example");
    // Not an ARF report: exit 65 with the reason.
    let o = run(&args, MSG.as_bytes());
    assert_eq!(o.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&o.stderr).contains("multipart/report"));
    // Exactly one of --reporter, --trap, --arf.
    let o = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(64));
    // A missing file.
    let o = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--trap",
            "t",
            "/nonexistent/x.eml",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(66));
    // A directory of messages.
    let dir = d.0.join("msgs");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("1.eml"), MSG).unwrap();
    std::fs::write(
        dir.join("2.eml"),
        MSG.replace("45.95.147.10", "45.95.147.11"),
    )
    .unwrap();
    let o = run(
        &[
            "ledger",
            "report",
            "--state",
            &state,
            "--profile",
            "spamcop",
            "--trap",
            "t",
            "--dry-run",
            dir.to_str().unwrap(),
        ],
        b"",
    );
    let subjects: Vec<_> = lines(&o)
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects,
        [
            "45.95.147.10",
            "cheap-pills.biz",
            "45.95.147.11",
            "cheap-pills.biz"
        ]
    );
}
