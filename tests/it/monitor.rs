//! The monitor end to end: `rblkit monitor` against the list server (`rblkit serve`) while
//! its datasets change: newly listed and delisted reported with codes and TXT, errors not
//! taken for changes, exit statuses, the history kept in the state directory.

use super::dns_client_tools::{rewrite, start_list_server, wait_for_answer};
use super::zone_tools::TempDir;
use rblkit::dns::monitor::{MonitorConfig, StateDir};
use serde_json::Value;
use std::net::Ipv4Addr;
use std::process::{Command, Output};

const BL_1: &str = ":127.0.0.2:Listed: see https://bl.test/?$\n\
192.0.2.1\n\
192.0.2.2 :127.0.0.4:Exploited host $\n";

const BL_2: &str = ":127.0.0.2:Listed: see https://bl.test/?$\n\
192.0.2.2 :127.0.0.4:Exploited host $\n\
198.51.100.1 :127.255.255.254:not a listing\n";

const DBL_1: &str = ":127.0.1.2:Spam domain $\nspam.example\n";
const DBL_2: &str = ":127.0.1.2:Spam domain $\nspam.example\nham.example :127.0.1.4:Phish $\n";

fn rblkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(args)
        .output()
        .unwrap()
}

fn json_run(config: &str, state: &str) -> (i32, Value) {
    let o = rblkit(&["monitor", "--config", config, "--state", state, "--json"]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text:?} {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap(), v)
}

/// (subject, zone) of each item of a report array.
fn pairs(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["subject"].as_str().unwrap().to_owned(),
                x["zone"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn p(s: &str, z: &str) -> (String, String) {
    (s.to_owned(), z.to_owned())
}

#[cfg(feature = "cli")]
#[test]
fn monitor_reports_changes_while_the_list_changes() {
    let dir = TempDir::new("monitor");
    let bl = dir.write("bl.ip4set", BL_1.as_bytes());
    let dbl = dir.write("dbl.dnset", DBL_1.as_bytes());
    let Some(server) = start_list_server(
        &dir,
        &[
            format!("bl.test:ip4set:{bl}"),
            format!("dbl.test:dnset:{dbl}"),
        ],
    ) else {
        return;
    };
    let write_config = |addr: &str, timeout_ms: u32| {
        dir.write(
            "monitor.toml",
            format!(
                "subjects = [\"192.0.2.0/30\", \"198.51.100.1\", \"spam.example\", \"ham.example\"]\n\
                 lists = [\"bl.test\", \"dbl.test\", \"other.test\"]\n\
                 resolver = \"{addr}\"\nrate_limit = 200\nconcurrency = 4\n\
                 timeout_ms = {timeout_ms}\nattempts = 2\n"
            )
            .as_bytes(),
        )
    };
    let config = write_config(&server.addr.to_string(), 2000);
    let state_dir = dir.0.join("state");
    let state = state_dir.to_str().unwrap();

    // the config: a /30 is its two usable addresses; each subject with the lists of its kind
    let c = MonitorConfig::load(config.as_ref()).unwrap();
    assert_eq!(c.subjects().len(), 5);
    assert_eq!(c.pairs().count(), 3 * 3 + 2 * 3);

    // first run: everything listed is new; REFUSED from other.test is an error, not a change
    let (code, r) = json_run(&config, state);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["checked"], 15);
    assert_eq!(
        pairs(&r["newly_listed"]),
        [
            p("192.0.2.1", "bl.test"),
            p("192.0.2.2", "bl.test"),
            p("spam.example", "dbl.test")
        ]
    );
    let first = r["newly_listed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject"] == "192.0.2.2")
        .unwrap()
        .clone();
    assert_eq!(first["codes"], serde_json::json!(["127.0.0.4"]));
    assert_eq!(
        first["txt"],
        serde_json::json!(["Exploited host 192.0.2.2"])
    );
    assert_eq!(first["query"], "2.2.0.192.bl.test");
    assert_eq!(r["errors"].as_array().unwrap().len(), 5);
    assert!(r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["zone"] == "other.test" && e["error"] == "REFUSED"));
    assert_eq!(r["delisted"], serde_json::json!([]));

    // second run, nothing changed: exit 0
    let (code, r) = json_run(&config, state);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["newly_listed"], serde_json::json!([]));
    assert_eq!(r["delisted"], serde_json::json!([]));
    assert_eq!(r["still_listed"], 3);

    // the list changes: 192.0.2.1 delisted, ham.example listed, 198.51.100.1 answers with
    // an error code (not a listing)
    rewrite(&bl, BL_2);
    rewrite(&dbl, DBL_2);
    wait_for_answer(server.addr.port(), "1.2.0.192.bl.test", None);
    wait_for_answer(
        server.addr.port(),
        "ham.example.dbl.test",
        Some(Ipv4Addr::new(127, 0, 1, 4)),
    );
    let (code, r) = json_run(&config, state);
    assert_eq!(code, 1, "{r}");
    assert_eq!(pairs(&r["newly_listed"]), [p("ham.example", "dbl.test")]);
    assert_eq!(
        r["newly_listed"][0]["codes"],
        serde_json::json!(["127.0.1.4"])
    );
    assert_eq!(
        r["newly_listed"][0]["txt"],
        serde_json::json!(["Phish ham.example"])
    );
    assert_eq!(pairs(&r["delisted"]), [p("192.0.2.1", "bl.test")]);
    let gone = &r["delisted"][0];
    assert_eq!(gone["codes"], serde_json::json!(["127.0.0.2"]));
    assert_eq!(
        gone["txt"],
        serde_json::json!(["Listed: see https://bl.test/?192.0.2.1"])
    );
    assert!(gone["since"].is_string());
    assert!(r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["subject"] == "198.51.100.1"
            && e["zone"] == "bl.test"
            && e["error"] == "error code 127.255.255.254 (public_resolver)"));

    // the text report
    let o = rblkit(&["monitor", "--config", &config, "--state", state]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(": 15 checked, 0 newly listed, 0 delisted, 3 still listed, 6 not checked"),
        "{text}"
    );
    assert!(text.contains("NOT CHECKED 192.0.2.1 on other.test (1.2.0.192.other.test): REFUSED"));

    // the server goes away: every pair is an error, nothing is delisted, exit 0
    let addr = server.addr.to_string();
    drop(server);
    let dead_config = write_config(&addr, 100);
    let (code, r) = json_run(&dead_config, state);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["delisted"], serde_json::json!([]));
    assert_eq!(r["errors"].as_array().unwrap().len(), 15);

    // the history and the state
    let hist = std::fs::read_to_string(state_dir.join("history.jsonl")).unwrap();
    let lines: Vec<Value> = hist
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| lines.iter().filter(|l| l["change"] == kind).count();
    assert_eq!(count("newly_listed"), 4);
    assert_eq!(count("delisted"), 1);
    assert_eq!(lines.iter().filter(|l| l["run"].is_object()).count(), 5);
    let sd = StateDir::open(&state_dir).unwrap();
    let st = sd.load().unwrap();
    let listed: Vec<String> = st
        .entries()
        .filter(|e| e.listed_since.is_some())
        .map(|e| format!("{} {}", e.subject, e.zone))
        .collect();
    assert_eq!(
        listed,
        [
            "192.0.2.2 bl.test",
            "ham.example dbl.test",
            "spam.example dbl.test"
        ]
    );
    assert!(!state_dir.join("state.json.tmp").exists());
}

#[cfg(feature = "cli")]
#[test]
fn monitor_usage_errors() {
    let dir = TempDir::new("monitor-usage");
    let state = dir.0.join("state");
    let state = state.to_str().unwrap();
    let bad = dir.write(
        "bad.toml",
        b"subjects = [\"10.0.0.0/8\"]\nlists = [\"bl.test\"]\n",
    );
    let o = rblkit(&["monitor", "--config", &bad, "--state", state]);
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("max_addresses"));
    let o = rblkit(&["monitor", "--config", "/nonexistent.toml", "--state", state]);
    assert_eq!(o.status.code(), Some(66));
    let o = rblkit(&["monitor", "--state", state]);
    assert_eq!(o.status.code(), Some(64));
    let good = dir.write(
        "good.toml",
        b"subjects = []\nlists = [\"bl.test\"]\nresolver = \"127.0.0.1:9\"\n",
    );
    std::fs::create_dir_all(dir.0.join("state")).unwrap();
    std::fs::write(dir.0.join("state/state.json"), "not json").unwrap();
    let o = rblkit(&["monitor", "--config", &good, "--state", state]);
    assert_eq!(o.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&o.stderr).contains("state.json"));
}
