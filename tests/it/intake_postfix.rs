//! A spamtrap fed by real Postfix: the trap domain is delivered through a `pipe` transport to
//! `rblkit ledger report --trap`, swaks sends spam from a loopback source address, and
//! `rblkit ledger status` then shows the source IP and the URL domains listed under the
//! `spamcop` profile, while mail to a normal address is not counted.

use crate::postfix_tools::{available, Postfix};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rblkit");

fn status(state: &str, subject: &str) -> serde_json::Value {
    let out = Command::new(BIN)
        .args([
            "ledger",
            "status",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--json",
            subject,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn postfix_pipe_to_ledger_report_lists_the_trap_sender() {
    let Some((postfix, swaks)) = available() else {
        return;
    };
    // The pipe runs as `nobody`: the state directory must be theirs to write.
    let pf_dir = crate::zone_tools::TempDir::new("trap-state");
    let state = pf_dir.0.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let state_s = state.display().to_string();
    let main = "\
relay_domains = traps.rblkit-test.example, mail.rblkit-test.example
transport_maps = inline:{ traps.rblkit-test.example=rblkit-trap: , mail.rblkit-test.example=discard: }
rblkit-trap_destination_recipient_limit = 1
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
";
    let master = format!(
        "rblkit-trap unix - n n - - pipe flags=Rq user=nobody argv={BIN} ledger report --state {state_s} --profile spamcop --trap ${{recipient}} --allow-private-sources\n"
    );
    let pf = Postfix::start(postfix, "postfix-trap", main, &master);
    let send = |from_ip: &str, to: &str, body: &str| {
        let out = Command::new(&swaks)
            .args(["--server", &format!("127.0.0.1:{}", pf.port)])
            .args(["--local-interface", from_ip])
            .args(["--ehlo", "bulk-mailer.example"])
            .args(["--from", "offers@spam-sender.biz", "--to", to])
            .args(["--header", "Subject: Cheap meds"])
            .args(["--body", body])
            .args(["--timeout", "20"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "swaks: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            pf.log()
        );
    };
    let body = "Buy now at http://www.cheap-pills.biz/order?id=7 or hxxp://pharma-shop[.]net today";
    for n in 1..=4 {
        send(
            "127.0.0.9",
            &format!("trap{n}@traps.rblkit-test.example"),
            body,
        );
    }
    // Mail to a normal address, from another loopback address: not evidence.
    send("127.0.0.10", "user@mail.rblkit-test.example", body);

    // Wait until Postfix has delivered everything (the pipe runs rblkit per recipient).
    let t = Instant::now();
    loop {
        let s = status(&state_s, "127.0.0.9");
        if s["listed"] == true && pf.queue_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "127.0.0.9 not listed in time: {s}\n{}",
            pf.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    for d in ["cheap-pills.biz", "pharma-shop.net"] {
        let s = status(&state_s, d);
        assert_eq!(s["listed"], true, "{d}: {s}");
    }
    let normal = status(&state_s, "127.0.0.10");
    assert_eq!(normal["listed"], false, "{normal}");
    assert_eq!(normal["state"], "clean", "{normal}");
    // The pipe's deliveries are in the log, each one successful.
    let log = pf.log();
    assert_eq!(log.matches("relay=rblkit-trap").count(), 4, "{log}");
    assert!(!log.contains("status=bounced"), "{log}");
}
