//! The campaign rule fed from policy requests (`[campaign] senders = N`): one client — its
//! sasl_username, else its address — using more than N distinct envelope senders in a
//! window is listed by the ledger's sender-rotation criterion, and refused from then on.

use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc, BIN};
use crate::zone_tools::TempDir;

fn start(dir: &TempDir, config: &str) -> PolicyProc {
    let cfg = dir.0.join("policy.toml");
    std::fs::write(&cfg, config).unwrap();
    PolicyProc::start(
        &dir.0.join("state"),
        free_port(),
        Some(&cfg),
        &dir.0.join("policy.log"),
    )
}

/// One message (one RCPT request) of `sender`, from `client`, authenticated as `user`
/// when not empty.
fn send(p: &mut PolicyClient, inst: &str, user: &str, client: &str, sender: &str) -> String {
    let mut r = rcpt(inst, sender, "r@example.net");
    r.retain(|(k, _)| *k != "client_address");
    r.push(("client_address", client));
    if !user.is_empty() {
        r.push(("sasl_username", user));
    }
    p.ask(&r)
}

fn reasons(dir: &TempDir, subject: &str) -> String {
    let out = std::process::Command::new(BIN)
        .args(["policy", "status", "--config"])
        .arg(dir.0.join("policy.toml"))
        .arg("--state")
        .arg(dir.0.join("state"))
        .arg(subject)
        .output()
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    st["reasons"].to_string()
}

#[test]
fn a_client_using_more_than_n_sender_addresses_is_refused() {
    let dir = TempDir::new("smtp-campaign");
    let s = start(&dir, "[campaign]\nsenders = 3\nwindow_secs = 3600\n");
    let mut p = PolicyClient::connect(s.port);
    let alice = "alice@corp.example.com";
    // an account: three sender addresses are allowed, the fourth makes it a campaign
    for n in 1..=4 {
        let from = format!("s{n}@corp.example.com");
        let got = send(&mut p, &format!("a{n}"), alice, "192.0.2.10", &from);
        assert_eq!(got, "DUNNO", "sender {n}");
    }
    let got = send(&mut p, "a5", alice, "192.0.2.10", "s1@corp.example.com");
    assert!(got.starts_with("450 4.7.1 "), "{got}");
    assert!(
        reasons(&dir, alice).contains("sender_rotation"),
        "{}",
        reasons(&dir, alice)
    );
    // another account with three addresses, many messages each: not a campaign
    let bob = "bob@corp.example.com";
    for n in 1..=9 {
        let from = format!("b{}@corp.example.com", n % 3);
        let got = send(&mut p, &format!("b{n}"), bob, "192.0.2.10", &from);
        assert_eq!(got, "DUNNO", "bob's message {n}");
    }
    // an unauthenticated client: its sender addresses are listed together
    for n in 1..=4 {
        let from = format!("u{n}@shop.example.com");
        let got = send(&mut p, &format!("u{n}"), "", "192.0.2.50", &from);
        assert_eq!(got, "DUNNO", "sender {n}");
    }
    for n in 1..=4 {
        let from = format!("u{n}@shop.example.com");
        let got = send(&mut p, &format!("v{n}"), "", "192.0.2.50", &from);
        assert!(got.starts_with("450 4.7.1 "), "sender {n}: {got}");
    }
    // three addresses from another client: not a campaign
    for n in 1..=3 {
        let from = format!("w{n}@shop.example.com");
        let got = send(&mut p, &format!("w{n}"), "", "192.0.2.51", &from);
        assert_eq!(got, "DUNNO", "sender {n}");
        let got = send(&mut p, &format!("x{n}"), "", "192.0.2.51", &from);
        assert_eq!(got, "DUNNO", "sender {n}");
    }
}

#[test]
fn without_the_campaign_setting_many_sender_addresses_are_not_refused() {
    let dir = TempDir::new("smtp-campaign-off");
    let s = start(&dir, "");
    let mut p = PolicyClient::connect(s.port);
    for n in 1..=8 {
        let from = format!("s{n}@corp.example.com");
        let got = send(
            &mut p,
            &format!("a{n}"),
            "alice@corp.example.com",
            "192.0.2.10",
            &from,
        );
        assert_eq!(got, "DUNNO", "sender {n}");
    }
}
