//! The three counting modes of `rblkit policy` behind a real Postfix, one `smtpd` listener
//! per mode (its restrictions set with `-o` in `master.cf`), each with a policy server of
//! its own, and swaks sending messages to several recipients:
//!
//! - `counting = "message"` (`check_policy_service` in `smtpd_sender_restrictions`): a
//!   message counts once, whatever its recipients;
//! - `counting = "recipient"` (same line): every recipient counts, and the recipient that
//!   would go over the limit is refused at RCPT;
//! - `counting = "end-of-message"` (the same line, and `check_policy_service` in
//!   `smtpd_end_of_data_restrictions`): a message counts its `recipient_count` at the end
//!   of its data, recipients Postfix refused at RCPT and messages refused at DATA count
//!   nothing, a message whose recipients do not fit in what is left is refused at the end
//!   of the data (as the client sees) and counts nothing, and once the limit is reached
//!   the RCPT requests are refused.

use crate::postfix_tools::{available, Postfix};
use crate::smtp_tools::{free_port, PolicyProc, BIN};
use crate::zone_tools::TempDir;
use std::path::Path;
use std::process::Command;

/// swaks with one message from `from` to `to` (comma-separated recipients); whether it
/// succeeded and the transcript.
fn swaks(bin: &Path, port: u16, helo: &str, from: &str, to: &str) -> (bool, String) {
    let out = Command::new(bin)
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--ehlo", helo, "--from", from, "--to", to])
        .args(["--timeout", "20"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The ledger's count of `who`'s messages in the rolling hour.
fn count(state: &Path, who: &str) -> u64 {
    let out = Command::new(BIN)
        .args(["policy", "status", "--state"])
        .arg(state)
        .arg(who)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["messages_in_window"].as_u64().unwrap()
}

/// `n` recipients under the relayed domain, named after `tag`.
fn rcpts(tag: &str, n: usize) -> String {
    (1..=n)
        .map(|i| format!("{tag}.{i}@rcpt.rblkit-test.example"))
        .collect::<Vec<_>>()
        .join(",")
}

struct Mode {
    state: std::path::PathBuf,
    policy: PolicyProc,
    smtp_port: u16,
}

fn mode(dir: &TempDir, name: &str, counting: &str, limit: u32) -> Mode {
    let d = dir.0.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let cfg = d.join("policy.toml");
    std::fs::write(
        &cfg,
        format!("counting = \"{counting}\"\n[limits]\nmessages_per_hour = {limit}\n"),
    )
    .unwrap();
    let state = d.join("state");
    let policy = PolicyProc::start(&state, free_port(), Some(&cfg), &d.join("policy.log"));
    Mode {
        state,
        policy,
        smtp_port: free_port(),
    }
}

#[test]
fn postfix_counts_by_message_by_recipient_and_at_end_of_message() {
    let Some((postfix, swaks_bin)) = available() else {
        return;
    };
    let dir = TempDir::new("smtp-postfix-counting");
    let per_message = mode(&dir, "message", "message", 6);
    let per_rcpt = mode(&dir, "recipient", "recipient", 6);
    let eom = mode(&dir, "eom", "end-of-message", 6);
    let policy = |m: &Mode| format!("check_policy_service,inet:127.0.0.1:{}", m.policy.port);
    let listener = |m: &Mode, extra: &str| {
        format!(
            "127.0.0.1:{} inet n - n - - smtpd -o smtpd_sender_restrictions={}{extra}\n",
            m.smtp_port,
            policy(m)
        )
    };
    let master = format!(
        "{}{}{}",
        listener(&per_message, ""),
        listener(&per_rcpt, ""),
        listener(
            &eom,
            &format!(" -o smtpd_end_of_data_restrictions={}", policy(&eom))
        ),
    );
    // DATA is refused for one HELO name: a message stopped at DATA
    let main = "relay_domains = rcpt.rblkit-test.example\n\
         smtpd_reject_unlisted_recipient = no\n\
         default_transport = discard\n\
         relay_transport = discard\n\
         smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n\
         smtpd_relay_restrictions =\n\
         mynetworks = 127.0.0.2/32\n\
         smtpd_data_restrictions = check_helo_access inline:{ {refuse-data.rblkit-test.example=REJECT no data from here} }\n\
         smtpd_policy_service_timeout = 20s\n\
         smtpd_error_sleep_time = 0\n\
         smtpd_soft_error_limit = 1000\n\
         smtpd_hard_error_limit = 1000\n";
    let pf = Postfix::start(postfix, "postfix-counting", main, &master);
    let ctx = |what: &str, out: &str, m: &Mode| {
        format!(
            "{what}\n--- client:\n{out}\n--- policy:\n{}\n--- postfix:\n{}",
            m.policy.log(),
            pf.log()
        )
    };
    let helo = "client.rblkit-test.example";

    // per message: three messages to three recipients each count three
    let who = "m@shop.example.com";
    for k in 1..=3 {
        let m = &per_message;
        let (ok, out) = swaks(
            &swaks_bin,
            m.smtp_port,
            helo,
            who,
            &rcpts(&format!("m{k}"), 3),
        );
        assert!(ok, "{}", ctx("per message", &out, m));
    }
    assert_eq!(count(&per_message.state, who), 3);

    // per recipient: 3 + 3 recipients fill the limit of 6; the next message's first
    // recipient is refused at RCPT
    let who = "r@shop.example.com";
    let m = &per_rcpt;
    for k in 1..=2 {
        let (ok, out) = swaks(
            &swaks_bin,
            m.smtp_port,
            helo,
            who,
            &rcpts(&format!("r{k}"), 3),
        );
        assert!(ok, "{}", ctx("per recipient", &out, m));
    }
    assert_eq!(count(&m.state, who), 6);
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &rcpts("r3", 1));
    assert!(!ok, "{}", ctx("per recipient, over", &out, m));
    assert!(
        out.contains("<** 450 4.7.1 "),
        "{}",
        ctx("per recipient, over", &out, m)
    );

    // end of message: the count is the sum of the recipients Postfix accepted
    let who = "e@shop.example.com";
    let m = &eom;
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &rcpts("e1", 3));
    assert!(ok, "{}", ctx("end of message, 3 recipients", &out, m));
    assert_eq!(count(&m.state, who), 3, "{}", ctx("after 3", &out, m));
    // one recipient of three refused at RCPT (not relayed here): two count
    let to = format!("{},x@elsewhere.example.net", rcpts("e2", 2));
    let (_, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &to);
    assert!(
        out.contains("<** 554 5.7.1 <x@elsewhere.example.net>"),
        "{}",
        ctx("a recipient refused at RCPT", &out, m)
    );
    assert!(
        out.contains("<-  250 2.0.0 Ok: queued"),
        "{}",
        ctx("the others accepted", &out, m)
    );
    assert_eq!(count(&m.state, who), 5, "{}", ctx("after 3 + 2", &out, m));
    // refused at DATA: no end of message, nothing counted
    let refuse = "refuse-data.rblkit-test.example";
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, refuse, who, &rcpts("e3", 2));
    assert!(!ok, "{}", ctx("refused at DATA", &out, m));
    assert!(
        out.contains("no data from here"),
        "{}",
        ctx("DATA", &out, m)
    );
    // every recipient refused at RCPT: no DATA, nothing counted
    let (ok, out) = swaks(
        &swaks_bin,
        m.smtp_port,
        helo,
        who,
        "y@elsewhere.example.net",
    );
    assert!(!ok, "{}", ctx("refused at RCPT", &out, m));
    assert_eq!(count(&m.state, who), 5, "{}", ctx("refused mail", &out, m));
    // two recipients do not fit in the one left: refused at the end of the data
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &rcpts("e4", 2));
    assert!(!ok, "{}", ctx("over at end of data", &out, m));
    let data_end = out.find(" -> .").expect("swaks sent the data");
    let refusal = out.find("<** 450 4.7.1 ").expect("450 4.7.1 from Postfix");
    assert!(
        refusal > data_end,
        "{}",
        ctx("refused after the data", &out, m)
    );
    // a message that did not fit is not recorded: the sender is not over the limit
    assert_eq!(count(&m.state, who), 5, "{}", ctx("did not fit", &out, m));
    // one fits and fills the limit; then the next is refused at RCPT
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &rcpts("e5", 1));
    assert!(ok, "{}", ctx("the last one", &out, m));
    let (ok, out) = swaks(&swaks_bin, m.smtp_port, helo, who, &rcpts("e6", 1));
    assert!(!ok, "{}", ctx("over", &out, m));
    assert!(out.contains("<** 450 4.7.1 "), "{}", ctx("over", &out, m));
}
