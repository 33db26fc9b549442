//! `rblkit policy` behind a real Postfix: `check_policy_service` in
//! `smtpd_sender_restrictions` (asked at RCPT; there Postfix keeps a sender status such as
//! 5.1.7, which in `smtpd_recipient_restrictions` it maps to 5.1.3), a discard transport (no mail leaves the machine), swaks
//! and a plain SMTP session as the senders. A normal message is accepted, `root@localhost`
//! is refused with 553 5.1.7, the 301st message of one sender in an hour is refused with
//! the rate-limit text while another sender is accepted, the block survives restarts of
//! the policy server (SIGTERM and SIGKILL), garbage on the policy socket leaves it
//! answering, and `rblkit ingest postfix-log` turns the instance's own log into outcome
//! evidence.

use crate::postfix_tools::{available, Postfix};
use crate::smtp_tools::{free_port, PolicyClient, PolicyProc, Smtp, BIN};
use crate::zone_tools::TempDir;
use std::process::Command;
use std::time::{Duration, Instant};

fn swaks(swaks: &std::path::Path, port: u16, from: &str, to: &str) -> (bool, String) {
    let out = Command::new(swaks)
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--ehlo", "client.rblkit-test.example"])
        .args(["--from", from, "--to", to])
        .args(["--timeout", "20"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs `rblkit ARGS…`, which must succeed; its standard output.
fn rblkit<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Vec<u8> {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn policy_status(state: &std::path::Path, who: &str) -> serde_json::Value {
    let state = state.to_str().unwrap();
    serde_json::from_slice(&rblkit(&["policy", "status", "--state", state, who])).unwrap()
}

#[test]
fn postfix_with_rblkit_policy_enforces_the_relay_rules_across_restarts() {
    let Some((postfix, swaks_bin)) = available() else {
        return;
    };
    let dir = TempDir::new("smtp-postfix");
    let state = dir.0.join("state");
    let plog = dir.0.join("policy.log");
    let pport = free_port();
    let mut policy = PolicyProc::start(&state, pport, None, &plog);
    let main = format!(
        "relay_domains = rcpt.rblkit-test.example, gone.rblkit-test.example\n\
         transport_maps = inline:{{ {{gone.rblkit-test.example=error:5.1.1 mailbox does not exist}} }}\n\
         smtpd_reject_unlisted_recipient = no\n\
         default_transport = discard\n\
         relay_transport = discard\n\
         smtpd_sender_restrictions = check_policy_service inet:127.0.0.1:{pport}\n\
         smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n\
         smtpd_policy_service_timeout = 20s\n\
         smtpd_error_sleep_time = 0\n\
         smtpd_soft_error_limit = 1000\n\
         smtpd_hard_error_limit = 1000\n\
         smtpd_recipient_limit = 1000\n"
    );
    let pf = Postfix::start(postfix, "postfix-policy", &main, "");
    let ctx = |what: &str, out: &str, p: &PolicyProc| {
        format!(
            "{what}\n--- client:\n{out}\n--- policy:\n{}\n--- postfix:\n{}",
            p.log(),
            pf.log()
        )
    };

    let send = |from: &str, to: &str| swaks(&swaks_bin, pf.port, from, to);
    // a normal message is accepted
    let (ok, out) = send("alice@shop.example.com", "bob@rcpt.rblkit-test.example");
    assert!(ok, "{}", ctx("normal message", &out, &policy));
    // an invalid sender: 5xx with the enhanced code, seen by the client
    let (ok, out) = send("root@localhost", "bob@rcpt.rblkit-test.example");
    assert!(!ok, "{}", ctx("root@localhost", &out, &policy));
    assert!(
        out.contains("<** 553 5.1.7 "),
        "{}",
        ctx("root@localhost", &out, &policy)
    );
    // a recipient that does not exist downstream: accepted here, bounced by Postfix
    let (ok, out) = send("alice@shop.example.com", "nobody@gone.rblkit-test.example");
    assert!(ok, "{}", ctx("bouncing recipient", &out, &policy));

    // 301 messages in one session, each its own transaction (a new instance)
    let mut s = Smtp::connect(pf.port);
    for i in 1..=300 {
        let (code, text) = s.message(
            "bulk@news.example.org",
            &format!("r{i}@rcpt.rblkit-test.example"),
        );
        assert_eq!(
            code,
            250,
            "{}",
            ctx(&format!("message {i}"), &text, &policy)
        );
    }
    let (code, text) = s.message("bulk@news.example.org", "r301@rcpt.rblkit-test.example");
    assert_eq!(code, 450, "{}", ctx("message 301", &text, &policy));
    assert!(
        text.contains("4.7.1") && text.contains("try again later"),
        "{text}"
    );
    // another sender is still accepted
    let (code, text) = s.message("carol@other.example.net", "r1@rcpt.rblkit-test.example");
    assert_eq!(code, 250, "{}", ctx("another sender", &text, &policy));
    drop(s);

    // restarts keep the count: a clean stop, then a kill
    for sig in ["TERM", "KILL"] {
        let code = policy.signal(sig);
        if sig == "TERM" {
            assert_eq!(code, Some(0), "a clean stop on SIGTERM");
        }
        // SO_REUSEADDR: the same port at once
        policy = PolicyProc::start(&state, pport, None, &plog);
        let mut s = Smtp::connect(pf.port);
        let (code, text) = s.message("bulk@news.example.org", "again@rcpt.rblkit-test.example");
        assert_eq!(
            code,
            450,
            "{}",
            ctx(&format!("after SIG{sig}"), &text, &policy)
        );
        assert!(text.contains("try again later"), "{text}");
        let (code, text) = s.message("carol@other.example.net", "r2@rcpt.rblkit-test.example");
        assert_eq!(code, 250, "{}", ctx("another sender", &text, &policy));
    }

    // garbage on the policy socket: that client is dropped with a log line, the server
    // goes on answering (Postfix and a direct client)
    let mut g = PolicyClient::connect(pport);
    g.send(b"\x00\xffthis is not a policy request\n\n").unwrap();
    assert!(g.closed(), "the garbage client is disconnected");
    let mut long = PolicyClient::connect(pport);
    let _ = long.send(format!("request={}\n", "x".repeat(10_000)).as_bytes());
    assert!(long.closed(), "an over-long line is disconnected");
    let mut direct = PolicyClient::connect(pport);
    assert_eq!(
        direct.ask(&crate::smtp_tools::rcpt(
            "x.1",
            "dave@shop.example.com",
            "e@example.net"
        )),
        "DUNNO"
    );
    let (ok, out) = send("alice@shop.example.com", "bob@rcpt.rblkit-test.example");
    assert!(ok, "{}", ctx("after garbage", &out, &policy));
    let log = policy.log();
    assert!(log.contains("disconnected: policy request line 1"), "{log}");
    assert!(log.contains("longer than 4096 bytes"), "{log}");

    // the operator's view, then Postfix's log as outcome evidence
    let st = policy_status(&state, "bulk@news.example.org");
    assert_eq!(st["blocked"], true, "{st}");
    assert_eq!(st["reasons"][0], "rate_limit", "{st}");
    // the refused attempts (message 301, and one after each restart) consume no quota
    assert_eq!(st["messages_in_window"], 300, "{st}");
    assert_eq!(st["refused_in_window"], 3, "{st}");
    assert_eq!(st["peak"], 303, "{st}");
    let t = Instant::now();
    while !(pf.queue_empty() && pf.log().contains("status=bounced")) {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", pf.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let maillog = pf.dir.0.join("maillog");
    let (state_s, maillog_s) = (state.to_str().unwrap(), maillog.to_str().unwrap());
    rblkit(&["ingest", "postfix-log", "--state", state_s, maillog_s]);
    let st = policy_status(&state, "alice@shop.example.com");
    assert_eq!(st["no_such_user_in_window"], 1, "{st}\n{}", pf.log());
    // reset: the operator clears the sender, the running server sees it
    rblkit(&[
        "policy",
        "reset",
        "--state",
        state_s,
        "bulk@news.example.org",
    ]);
    let mut s = Smtp::connect(pf.port);
    let (code, text) = s.message(
        "bulk@news.example.org",
        "after-reset@rcpt.rblkit-test.example",
    );
    assert_eq!(code, 250, "{}", ctx("after reset", &text, &policy));
}
