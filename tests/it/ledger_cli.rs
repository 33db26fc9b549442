//! `rblkit ledger …` (feature `cli`), run as the built binary: simulated weeks of evidence,
//! status at several times, request outcomes, compile served by real rbldnsd and asked with
//! dig, export read back, exit codes; and the durability of `ingest` killed at random
//! points, with several processes on one state directory.

use super::zone_tools::{tool, Rbldnsd, TempDir};
use rblkit::ledger::store::Store;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rblkit");

fn rblkit(args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        let mut i = c.stdin.take().unwrap();
        i.write_all(text.as_bytes()).unwrap();
    }
    c.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ingest(state: &str, profile: &str, input: &str) -> Output {
    rblkit(
        &[
            "ledger",
            "ingest",
            "--state",
            state,
            "--profile",
            profile,
            "-",
        ],
        Some(input),
    )
}

fn status(state: &str, at: &str, subjects: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec![
        "ledger",
        "status",
        "--state",
        state,
        "--profile",
        "spamcop",
        "--at",
        at,
        "--json",
    ];
    args.extend(subjects);
    let o = rblkit(&args, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Evidence of two simulated weeks (days counted from 2026-11-02).
fn ev(day: u32, hms: &str, subject: &str, rest: &str) -> String {
    format!(
        "{{\"at\":\"2026-11-{:02}T{hms}Z\",\"subject\":\"{subject}\",{rest}}}\n",
        day + 2
    )
}

fn at(day: u32, hms: &str) -> String {
    format!("2026-11-{:02}T{hms}Z", day + 2)
}

fn day_zero() -> String {
    let mut s = String::new();
    // a trap hit and three reports list 192.0.2.1
    s += &ev(
        0,
        "10:00:00",
        "192.0.2.1",
        r#""event":"trap_hit","trap":"t1""#,
    );
    for (i, r) in ["alice", "bob", "carol"].iter().enumerate() {
        s += &ev(
            0,
            &format!("10:0{}:00", i + 1),
            "192.0.2.1",
            &format!(r#""event":"spam_report","reporter":"{r}""#),
        );
    }
    s
}

fn days_one_two() -> String {
    let mut s = String::new();
    // one reporter's three reports list 192.0.2.2: a dispute for user error, upheld, lifts it
    for m in 0..3 {
        s += &ev(
            2,
            &format!("07:0{m}:00"),
            "192.0.2.2",
            r#""event":"spam_report","reporter":"mallory""#,
        );
    }
    s += &ev(
        2,
        "07:30:00",
        "192.0.2.2",
        r#""event":"dispute","reason":"user_error","reporter":"mallory","contact":"noc@example.net""#,
    );
    // an operator lists an IPv6 address and a domain; the owner asks to self-delist
    s += &ev(
        2,
        "08:00:00",
        "2001:db8::25",
        r#""event":"manual_list","note":"open relay""#,
    );
    s += &ev(
        2,
        "08:05:00",
        "spam.example",
        r#""event":"manual_list","note":"spamvertised""#,
    );
    s += &ev(2, "09:00:00", "spam.example", r#""event":"self_delist""#);
    s
}

fn decisions() -> String {
    ev(
        2,
        "11:00:00",
        "192.0.2.2",
        r#""event":"dispute_decision","decision":"upheld","note":"wanted mail""#,
    ) + &ev(
        2,
        "11:00:00",
        "192.0.2.9",
        r#""event":"dispute_decision","decision":"upheld""#,
    )
}

fn week_two() -> String {
    let mut s = String::new();
    // 192.0.2.1 again, by five reports in an hour
    for m in 0..5 {
        s += &ev(
            9,
            &format!("10:{m:02}:00"),
            "192.0.2.1",
            &format!(r#""event":"spam_report","reporter":"r{m}""#),
        );
    }
    s
}

fn allowlisting() -> String {
    ev(
        10,
        "12:00:00",
        "192.0.2.1",
        r#""event":"allowlist_add","note":"customer""#,
    )
}

#[test]
fn simulated_weeks_status_requests_compile_and_serve() {
    let dir = TempDir::new("ledger-cli-weeks");
    let state_dir = dir.0.join("state");
    let state = state_dir.to_str().unwrap();

    // day 0, with a bad line in the middle: reported with its line and field, skipped
    let mut input = day_zero();
    let good_lines = input.lines().count() + days_one_two().lines().count();
    input.insert_str(
        input.find('\n').unwrap() + 1,
        "{\"at\":\"2026-11-02T10:00:30Z\",\"event\":\"trap_hit\",\"trap\":\"t9\"}\n",
    );
    let o = ingest(state, "spamcop", &input);
    assert_eq!(o.status.code(), Some(65), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("line 2: missing field \"subject\""), "{err}");
    assert_eq!(text(&o.stdout), "");

    // an hour after the third report: listed until 24 h after the last report
    let s = status(state, &at(0, "11:03:00"), &["192.0.2.1", "192.0.2.77"]);
    assert_eq!(s[0]["listed"], true);
    assert_eq!(s[0]["state"], "listed");
    assert_eq!(s[0]["expires"], at(1, "10:03:00"));
    assert_eq!(s[0]["time_to_delist_secs"], 23 * 3600);
    assert_eq!(s[0]["codes"], serde_json::json!(["127.0.0.2"]));
    assert_eq!(
        s[1],
        serde_json::json!({"subject": "192.0.2.77", "listed": false, "state": "clean",
            "since": null, "expires": null, "time_to_delist_secs": null, "codes": []})
    );

    // days 1 and 2: each request's outcome, by its line
    let o = ingest(state, "spamcop", &days_one_two());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(
        out[0],
        serde_json::json!({"line": 4, "subject": "192.0.2.2", "event": "dispute", "accepted": true})
    );
    assert_eq!(
        out[1],
        serde_json::json!({"line": 7, "subject": "spam.example", "event": "self_delist",
            "accepted": false, "reason": "self-delisting is not offered"})
    );
    let store = Store::open(&state_dir, Default::default()).unwrap();
    assert_eq!(store.last_seq(), good_lines as u64);
    drop(store);

    // day 2: 192.0.2.1 delisted 24 h after its last report; 192.0.2.2 under review, still
    // listed; the manual listings have no automatic delisting
    let s = status(
        state,
        &at(2, "10:00:00"),
        &["192.0.2.1", "192.0.2.2", "2001:db8::25", "spam.example"],
    );
    assert_eq!(
        (s[0]["listed"].clone(), s[0]["state"].clone()),
        (false.into(), "clean".into())
    );
    assert_eq!(s[1]["state"], "under_review");
    assert_eq!(s[1]["listed"], true);
    assert_eq!(s[2]["state"], "listed");
    assert_eq!(s[2]["since"], at(2, "08:00:00"));
    assert_eq!(s[2]["expires"], serde_json::Value::Null);
    assert_eq!(s[2]["time_to_delist_secs"], serde_json::Value::Null);
    assert_eq!(s[3]["listed"], true);

    // --at before the newest evidence is refused, clearly
    let o = rblkit(
        &[
            "ledger",
            "status",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--at",
            &at(0, "11:00:00"),
            "--json",
            "192.0.2.1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(64));
    assert!(
        text(&o.stderr).contains("earlier than the newest evidence"),
        "{}",
        text(&o.stderr)
    );

    // the decisions: the upheld user-error dispute drops mallory's reports at once
    let o = ingest(state, "spamcop", &decisions());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["accepted"], true);
    assert_eq!(
        out[1],
        serde_json::json!({"line": 2, "subject": "192.0.2.9", "event": "dispute_decision",
            "accepted": false, "reason": "no open dispute"})
    );
    let s = status(state, &at(2, "11:00:00"), &["192.0.2.2"]);
    assert_eq!(
        (s[0]["listed"].clone(), s[0]["state"].clone()),
        (false.into(), "clean".into())
    );

    // week two
    let o = ingest(state, "spamcop", &week_two());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "");
    // five new reports relist .1
    let s = status(state, &at(9, "10:30:00"), &["192.0.2.1", "192.0.2.2"]);
    assert_eq!(s[0]["listed"], true);
    assert_eq!(s[0]["expires"], at(10, "10:04:00"));
    assert_eq!(
        (s[1]["listed"].clone(), s[1]["state"].clone()),
        (false.into(), "clean".into())
    );
    // compile on day 9 (192.0.2.1 relisted, 2001:db8::25 and spam.example listed by hand)
    let zone_out = dir.0.join("zone");
    let o = rblkit(
        &[
            "ledger",
            "compile",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--at",
            &at(9, "11:00:00"),
            "--zone",
            "bl.example",
            "--out",
            zone_out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let specs: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    let abs = std::fs::canonicalize(&zone_out).unwrap();
    assert_eq!(
        specs,
        [
            format!("bl.example:ip4trie:{}/bl.example.ip4trie", abs.display()),
            format!("bl.example:ip6trie:{}/bl.example.ip6trie", abs.display()),
            format!("bl.example:dnset:{}/bl.example.dnset", abs.display()),
        ]
    );
    for s in &specs {
        use std::os::unix::fs::PermissionsExt;
        let file = s.splitn(3, ':').nth(2).unwrap();
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o444, 0o444, "{file} is not world-readable");
    }
    // rblkit itself loads the specs
    let mut args = vec!["lookup"];
    args.extend(specs.iter().map(String::as_str));
    args.extend(["--", "192.0.2.1", "192.0.2.2", "spam.example"]);
    let o = rblkit(&args, None);
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "1.2.0.192.bl.example: listed 127.0.0.2",
            "2.2.0.192.bl.example: NXDOMAIN",
            "spam.example.bl.example: listed 127.0.0.2",
        ],
        "{}",
        text(&o.stderr)
    );

    // and real rbldnsd serves them, asked with dig
    // a day later, allowlisted
    let o = ingest(state, "spamcop", &allowlisting());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = status(state, &at(10, "12:00:00"), &["192.0.2.1"]);
    assert_eq!(s[0]["state"], "allowlisted");
    assert_eq!(s[0]["listed"], false);

    // explain, for the operator
    let o = rblkit(
        &[
            "ledger",
            "explain",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--at",
            &at(10, "12:00:00"),
            "--json",
            "2001:db8::25",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let x: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(x["listed"], true);
    assert_eq!(x["reasons"], serde_json::json!(["manual"]));
    let by = x["delisted_by"].as_array().unwrap();
    assert!(
        by.iter()
            .any(|w| w.as_str().unwrap().contains("manual_unlist")),
        "{x}"
    );
    let o = rblkit(
        &[
            "ledger",
            "explain",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--at",
            &at(10, "12:00:00"),
            "192.0.2.1",
        ],
        None,
    );
    let t = text(&o.stdout);
    assert!(t.contains("state: allowlisted"), "{t}");
    assert!(t.contains("8 spam reports (8 reporters)"), "{t}");

    // the journal exported and ingested into a fresh directory judges the same
    let o = rblkit(&["ledger", "export", "--state", state], None);
    assert_eq!(o.status.code(), Some(0));
    let journal = text(&o.stdout);
    assert_eq!(
        journal.lines().count(),
        good_lines
            + decisions().lines().count()
            + week_two().lines().count()
            + allowlisting().lines().count()
    );
    let copy_dir = dir.0.join("copy");
    let copy = copy_dir.to_str().unwrap();
    let o = ingest(copy, "spamcop", &journal);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let subjects = [
        "192.0.2.1",
        "192.0.2.2",
        "2001:db8::25",
        "spam.example",
        "192.0.2.9",
    ];
    for t in [at(10, "12:00:00"), at(11, "00:00:00"), at(20, "00:00:00")] {
        assert_eq!(
            status(state, &t, &subjects),
            status(copy, &t, &subjects),
            "at {t}"
        );
    }
    let o = rblkit(
        &[
            "ledger",
            "export",
            "--state",
            state,
            "--since",
            &at(8, "00:00:00"),
        ],
        None,
    );
    assert_eq!(text(&o.stdout), week_two() + &allowlisting());

    serve_and_dig(&specs);
}

fn serve_and_dig(specs: &[String]) {
    let Some(rbldnsd) = tool("rbldnsd", &["/usr/sbin/rbldnsd"], "rbldnsd") else {
        return;
    };
    let Some(dig) = tool("dig", &["/usr/bin/dig"], "bind9-dnsutils") else {
        return;
    };
    let served = TempDir::new("ledger-cli-served");
    let server = Rbldnsd::start(&rbldnsd, &served, specs);
    let ask = |name: &str| -> String {
        let o = Command::new(&dig)
            .args([
                "@127.0.0.1",
                "-p",
                &server.port.to_string(),
                "+short",
                "+time=2",
                "+tries=2",
                name,
                "A",
            ])
            .output()
            .unwrap();
        text(&o.stdout).trim().to_owned()
    };
    assert_eq!(ask("1.2.0.192.bl.example"), "127.0.0.2");
    assert_eq!(ask("2.2.0.192.bl.example"), "");
    assert_eq!(
        ask("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example"),
        "127.0.0.2"
    );
    assert_eq!(ask("spam.example.bl.example"), "127.0.0.2");
    assert_eq!(ask("other.example.bl.example"), "");
}

#[test]
fn exit_codes() {
    let dir = TempDir::new("ledger-cli-exit");
    let state = dir.0.join("s");
    let state = state.to_str().unwrap();
    let o = rblkit(
        &[
            "ledger",
            "status",
            "--state",
            state,
            "--profile",
            "nope",
            "--json",
            "192.0.2.1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(64));
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown profile \"nope\"") && err.contains("spamcop"),
        "{err}"
    );
    let o = rblkit(
        &[
            "ledger",
            "ingest",
            "--state",
            state,
            "--profile",
            "spamcop",
            dir.0.join("missing.jsonl").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(66), "{}", text(&o.stderr));
    let o = rblkit(
        &[
            "ledger",
            "status",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--json",
            "300.1.2.3",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(64));
    // a state "directory" that is a file
    let file = dir.write("plain", b"x");
    let o = ingest(&file, "spamcop", "");
    assert_eq!(o.status.code(), Some(74), "{}", text(&o.stderr));
    // a damaged journal: named, and I/O error
    let o = ingest(
        state,
        "spamcop",
        &ev(
            0,
            "10:00:00",
            "192.0.2.1",
            r#""event":"trap_hit","trap":"needle-trap""#,
        ),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let db = Path::new(state).join("ledger.sqlite3");
    let mut bytes = std::fs::read(&db).unwrap();
    let pos = bytes.windows(11).position(|w| w == b"needle-trap").unwrap();
    bytes[pos] = b'N';
    std::fs::write(&db, bytes).unwrap();
    let o = rblkit(
        &[
            "ledger",
            "status",
            "--state",
            state,
            "--profile",
            "spamcop",
            "--json",
            "192.0.2.1",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(74));
    assert!(
        text(&o.stderr).contains("journal row seq 1: checksum mismatch"),
        "{}",
        text(&o.stderr)
    );
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One request a line (so that `ingest` acknowledges each), marked by its id.
fn request(id: u32) -> String {
    format!(
        "{{\"at\":\"2026-11-02T10:00:00Z\",\"subject\":\"10.{}.{}.{}\",\"event\":\"dispute\",\"reason\":\"technical_error\",\"text\":\"id-{id}\"}}\n",
        id >> 16 & 255,
        id >> 8 & 255,
        id & 255
    )
}

/// An `ingest` child fed by a thread in chunks, its acknowledgements read by another.
struct Feeder {
    child: Child,
    writer: std::thread::JoinHandle<()>,
    acks: std::sync::mpsc::Receiver<u64>,
    reader: std::thread::JoinHandle<()>,
}

impl Feeder {
    fn start(state: &str, ids: Vec<u32>, seed: u64) -> Feeder {
        let mut child = Command::new(BIN)
            .args([
                "ledger",
                "ingest",
                "--state",
                state,
                "--profile",
                "spamcop",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ready = started.clone();
        let writer = std::thread::spawn(move || {
            let mut rng = Rng(seed | 1);
            let mut i = 0;
            while i < ids.len() {
                // after the first chunk, wait until the child acknowledges it (it has read
                // the journal), so that the chunks come as the child commits them
                while i > 0 && !ready.load(std::sync::atomic::Ordering::Acquire) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let n = 1 + rng.below(20) as usize;
                let chunk: String = ids[i..(i + n).min(ids.len())]
                    .iter()
                    .map(|&id| request(id))
                    .collect();
                if stdin.write_all(chunk.as_bytes()).is_err() || stdin.flush().is_err() {
                    return;
                }
                i += n;
                std::thread::sleep(Duration::from_micros(rng.below(1000)));
            }
        });
        let (tx, acks) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            // the writer stops waiting when the child is gone, too
            struct Done(std::sync::Arc<std::sync::atomic::AtomicBool>);
            impl Drop for Done {
                fn drop(&mut self) {
                    self.0.store(true, std::sync::atomic::Ordering::Release);
                }
            }
            let done = Done(started.clone());
            for l in BufReader::new(stdout).lines() {
                let Ok(l) = l else { return };
                let v: serde_json::Value = serde_json::from_str(&l).unwrap();
                done.0.store(true, std::sync::atomic::Ordering::Release);
                if tx.send(v["line"].as_u64().unwrap()).is_err() {
                    return;
                }
            }
        });
        Feeder {
            child,
            writer,
            acks,
            reader,
        }
    }

    /// Waits for the child to end (or kills it) and returns the acknowledged line numbers.
    fn finish(mut self, kill: bool) -> (Option<i32>, Vec<u64>) {
        if kill {
            self.child.kill().unwrap();
        }
        let status = self.child.wait().unwrap();
        self.writer.join().unwrap();
        self.reader.join().unwrap();
        (status.code(), self.acks.try_iter().collect())
    }
}

/// The ids in the journal, each once (panics on a duplicate), after a clean check.
fn journal_ids(state: &Path) -> BTreeSet<u32> {
    let s = Store::open(state, Default::default()).unwrap();
    let rows = s.check().unwrap().rows;
    let mut out = Vec::new();
    s.export(None, &mut out).unwrap();
    let mut ids = BTreeSet::new();
    for l in text(&out).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let id: u32 = v["text"].as_str().unwrap()[3..].parse().unwrap();
        assert!(ids.insert(id), "id {id} is in the journal twice");
    }
    assert_eq!(ids.len() as u64, rows);
    ids
}

#[test]
fn ingest_killed_at_random_points_loses_nothing_acknowledged() {
    let dir = TempDir::new("ledger-cli-kill");
    let state_dir = dir.0.join("state");
    let state = state_dir.to_str().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut acked: BTreeSet<u32> = BTreeSet::new();
    let (mut killed_mid_run, mut acks_total) = (0, 0);
    const RUNS: u32 = 36;
    const PER_RUN: u32 = 2000;
    for run in 0..RUNS {
        let ids: Vec<u32> = (run * PER_RUN..(run + 1) * PER_RUN).collect();
        let f = Feeder::start(state, ids.clone(), rng.below(u64::MAX));
        // kill at a random point: mostly once acknowledgements flow, sometimes at once
        let wait_first = rng.below(5) != 0;
        let start = Instant::now();
        let mut lines: Vec<u64> = Vec::new();
        while wait_first && lines.is_empty() && start.elapsed() < Duration::from_secs(10) {
            lines.extend(f.acks.try_iter());
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros(rng.below(6_000)));
        let (_code, rest) = f.finish(true);
        lines.extend(rest);
        for l in &lines {
            acked.insert(ids[*l as usize - 1]);
        }
        acks_total += lines.len();
        let present = journal_ids(&state_dir);
        let missing: Vec<_> = acked.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "run {run}: acknowledged but lost: {missing:?}"
        );
        if present.iter().any(|id| ids.contains(id)) && !present.contains(ids.last().unwrap()) {
            killed_mid_run += 1;
        }
    }
    eprintln!("{RUNS} kills, {killed_mid_run} in the middle of ingesting, {acks_total} acknowledgements checked");
    assert!(
        killed_mid_run >= RUNS / 2,
        "{killed_mid_run} kills hit an ingest"
    );
}

#[test]
fn two_writers_at_once_and_a_reader_that_sees_each_commit() {
    let dir = TempDir::new("ledger-cli-two");
    let state_dir = dir.0.join("state");
    let state = state_dir.to_str().unwrap();
    let a = Feeder::start(state, (0..1500).collect(), 7);
    let b = Feeder::start(state, (100_000..101_500).collect(), 11);
    let (ca, la) = a.finish(false);
    let (cb, lb) = b.finish(false);
    assert_eq!((ca, cb), (Some(0), Some(0)));
    assert_eq!((la.len(), lb.len()), (1500, 1500));
    let ids = journal_ids(&state_dir);
    let want: BTreeSet<u32> = (0..1500).chain(100_000..101_500).collect();
    assert_eq!(ids, want);

    // a long-running reader sees what another process committed on its next refresh
    let mut reader = Store::open(&state_dir, Default::default()).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "ledger",
            "ingest",
            "--state",
            state,
            "--profile",
            "spamcop",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut acks = BufReader::new(child.stdout.take().unwrap()).lines();
    for id in 200_000..200_020 {
        stdin.write_all(request(id).as_bytes()).unwrap();
        stdin.flush().unwrap();
        acks.next().unwrap().unwrap();
        let before = reader.last_seq();
        assert_eq!(reader.refresh().unwrap(), 1);
        assert_eq!(reader.last_seq(), before + 1);
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
