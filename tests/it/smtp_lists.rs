//! `rblkit policy` with DNS lists looked up in process (`[dns] datasets`): the same
//! weights, threshold and allowlist decisions as through real rbldnsd serving the same
//! files over DNS; reloads when a file changes and on SIGHUP; and the refusal log's limit
//! under a flood.

use crate::dns_client_tools::start_rbldnsd;
use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc};
use crate::zone_tools::TempDir;
use std::time::{Duration, Instant};

const A: &[u8] = b"127.0.0.9 :127.0.0.4:listed\n127.0.0.10 :127.0.0.2:listed\n127.0.0.16 :127.0.0.12:out of pattern\n127.0.0.0/28 :127.0.0.3:range\n!127.0.0.14\n";
const B: &[u8] = b"127.0.0.9 :127.0.0.2:listed\n127.0.0.11 :127.0.0.2:listed\n127.0.0.12 :127.0.0.2:listed\n127.0.0.13 :127.0.0.2:listed\n127.0.0.14 :127.0.0.2:listed\n127.0.0.15 :127.0.0.2:listed\n127.0.0.16 :127.0.0.2:listed\n";
const W: &[u8] = b"127.0.0.12 :127.0.10.2:good\n";

/// The lists of every server below, refused at `threshold`; `extra` adds its `[dns]`
/// lines.
fn config(threshold: i32, extra: &str) -> String {
    format!(
        r#"
[dns]
lists = ["bl-a.test=127.0.0.[2..4]*2", "bl-b.test*1", "wl.test=127.0.[0..255].[1;2]*-5"]
threshold = {threshold}
timeout_ms = 2000
{extra}
[allow]
clients = ["127.0.0.11"]
"#
    )
}

fn start(dir: &TempDir, name: &str, config: &str) -> PolicyProc {
    let cfg = dir.0.join(format!("{name}.toml"));
    std::fs::write(&cfg, config).unwrap();
    PolicyProc::start(
        &dir.0.join(format!("{name}-state")),
        free_port(),
        Some(&cfg),
        &dir.0.join(format!("{name}.log")),
    )
}

fn ask_from(p: &mut PolicyClient, ip: &str, inst: &str) -> String {
    let mut r = rcpt(inst, "a@shop.example.com", "r@example.net");
    r.retain(|(k, _)| *k != "client_address");
    r.push(("client_address", ip));
    p.ask(&r)
}

#[test]
fn in_process_lists_decide_as_the_same_lists_over_dns() {
    let dir = TempDir::new("smtp-lists");
    let a = dir.write("a.txt", A);
    let b = dir.write("b.txt", B);
    let w = dir.write("w.txt", W);
    let specs = [
        format!("bl-a.test:ip4set:{a}"),
        format!("bl-b.test:ip4set:{b}"),
        format!("wl.test:ip4set:{w}"),
    ];
    let Some(dns) = start_rbldnsd(&dir, &specs) else {
        return;
    };
    let quoted: Vec<String> = specs.iter().map(|s| format!("{s:?}")).collect();
    let over_dns = start(
        &dir,
        "dns",
        &config(3, &format!("server = \"{}\"", dns.addr)),
    );
    let in_process = start(
        &dir,
        "local",
        &config(3, &format!("datasets = [{}]", quoted.join(", "))),
    );
    // bl-a in process, the others over DNS
    let mixed = start(
        &dir,
        "mixed",
        &config(
            3,
            &format!("server = \"{}\"\ndatasets = [{}]", dns.addr, quoted[0]),
        ),
    );
    let mut clients: Vec<PolicyClient> = [&over_dns, &in_process, &mixed]
        .iter()
        .map(|s| PolicyClient::connect(s.port))
        .collect();
    let mut refused = Vec::new();
    for last in 1..=16 {
        let ip = format!("127.0.0.{last}");
        let inst = format!("m{last}");
        let answers: Vec<String> = clients
            .iter_mut()
            .map(|c| ask_from(c, &ip, &inst))
            .collect();
        assert_eq!(answers[0], answers[1], "{ip}: over DNS, in process");
        assert_eq!(answers[0], answers[2], "{ip}: over DNS, mixed");
        if answers[0] != "DUNNO" {
            assert!(answers[0].starts_with("554 5.7.1 "), "{ip}: {}", answers[0]);
            refused.push(last);
        }
    }
    // bl-a answers every entry that holds the address: 127.0.0.3 (the /28) for .1 to .15
    // but .14 (excluded), with 127.0.0.4 for .9 and 127.0.0.2 for .10; 127.0.0.12 (out of
    // the pattern) alone for .16. Scores: .9, .13 and .15 are 2 + 1; .11 is allowlisted;
    // .12 is 2 + 1 − 5; .14 and .16 are 1; the others 2.
    assert_eq!(refused, [9, 13, 15]);
    drop(dns);
}

#[test]
fn in_process_lists_reload_when_the_file_changes_and_on_sighup() {
    let dir = TempDir::new("smtp-lists-reload");
    let a = dir.write("a.txt", b"127.0.0.20 :127.0.0.2:listed\n");
    let s = start(
        &dir,
        "local",
        &config(2, &format!("datasets = [\"bl-a.test:ip4set:{a}\"]")),
    );
    let mut p = PolicyClient::connect(s.port);
    let refused = "554 5.7.1 ";
    assert!(ask_from(&mut p, "127.0.0.20", "r1").starts_with(refused));
    assert_eq!(ask_from(&mut p, "127.0.0.21", "r2"), "DUNNO");
    // the file changes: .21 listed instead of .20
    std::fs::write(&a, b"127.0.0.21 :127.0.0.2:listed\n").unwrap();
    let until = |want: &str, ip: &str, log: &PolicyProc, p: &mut PolicyClient| {
        let t = Instant::now();
        let mut n = 0;
        loop {
            n += 1;
            let got = ask_from(p, ip, &format!("{ip}.{n}"));
            if got.starts_with(want) {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{ip}: still {got}: {}",
                log.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    until(refused, "127.0.0.21", &s, &mut p);
    assert_eq!(ask_from(&mut p, "127.0.0.20", "r3"), "DUNNO");
    assert!(
        s.log().contains("lists reloaded: bl-a.test:ip4set:"),
        "{}",
        s.log()
    );
    // the same size and modification time: only SIGHUP makes it read the file again
    let before = std::fs::metadata(&a).unwrap().modified().unwrap();
    std::fs::write(&a, b"127.0.0.22 :127.0.0.2:listed\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&a)
        .unwrap()
        .set_modified(before)
        .unwrap();
    std::thread::sleep(Duration::from_millis(600)); // two looks at the files
    assert!(ask_from(&mut p, "127.0.0.21", "r4").starts_with(refused));
    s.hup();
    until(refused, "127.0.0.22", &s, &mut p);
    assert_eq!(ask_from(&mut p, "127.0.0.21", "r5"), "DUNNO");
    // a file that cannot be read keeps the lists of before
    std::fs::remove_file(&a).unwrap();
    s.hup();
    let t = Instant::now();
    while !s.log().contains("lists not reloaded") {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ask_from(&mut p, "127.0.0.22", "r6").starts_with(refused));
}

#[test]
fn a_flood_of_refusals_logs_a_bounded_number_of_lines() {
    let dir = TempDir::new("smtp-log-flood");
    let s = start(&dir, "flood", "[log]\nrefusals_per_second = 5\n");
    let port = s.port;
    let t = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|c| {
            std::thread::spawn(move || {
                let mut p = PolicyClient::connect(port);
                for m in 0..250 {
                    let inst = format!("{c}.{m}");
                    let got = p.ask(&rcpt(&inst, "root@localhost", "r@example.net"));
                    assert!(got.starts_with("553 5.1.7 "), "{got}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let secs = t.elapsed().as_secs();
    // every refusal is either a line or counted in a summary line, once the last second
    // is summed up
    let (lines, summed) = loop {
        let log = s.log();
        let lines = log
            .lines()
            .filter(|l| l.starts_with("rblkit: refused") && !l.contains(" more, "))
            .count() as u64;
        let summed: u64 = log
            .lines()
            .filter_map(|l| l.strip_prefix("rblkit: refused "))
            .filter_map(|l| l.split_once(" more, "))
            .map(|(n, _)| n.parse::<u64>().unwrap())
            .sum();
        if lines + summed >= 2000 || t.elapsed() > Duration::from_secs(secs + 20) {
            break (lines, summed);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(lines + summed, 2000, "{}", s.log());
    // at most 5 lines in each second the flood lasted (and the one it started in)
    let elapsed = t.elapsed().as_secs() + 1;
    assert!(lines <= 5 * elapsed, "{lines} lines in {elapsed} s");
    assert!(summed > 0);
}

#[test]
fn a_list_handed_in_by_the_program_is_looked_up_and_swapped() {
    use rblkit::codes::ReturnCode;
    use rblkit::ledger::store::Store;
    use rblkit::smtp::{store_apply, Decider, LocalLists, PolicyConfig, PolicyServer};
    use rblkit::{List, Listing};
    let dir = TempDir::new("smtp-lists-lib");
    let mut config = PolicyConfig::default();
    config
        .dns
        .lists
        .push("bl.example=127.0.0.[2..3]*3".parse().unwrap());
    config.dns.threshold = 3;
    let list = |ip: &str, code: ReturnCode| {
        let mut b = List::builder();
        b.insert(&ip.parse().unwrap(), Listing::new(code));
        b.build()
    };
    let lists = LocalLists::new();
    lists.set_list(
        "bl.example".parse().unwrap(),
        list("192.0.2.1", ReturnCode::LISTED),
    );
    let store = Store::open_with(
        &dir.0.join("state"),
        Default::default(),
        Default::default(),
        store_apply(&config),
    )
    .unwrap();
    let decider = Decider::new(config).with_lists(lists.clone());
    let server =
        PolicyServer::start("127.0.0.1:0".parse().unwrap(), store, decider, |_| {}).unwrap();
    let mut p = PolicyClient::connect(server.local_addr().port());
    assert!(ask_from(&mut p, "192.0.2.1", "l1").starts_with("554 5.7.1 "));
    assert_eq!(ask_from(&mut p, "192.0.2.2", "l2"), "DUNNO");
    // a new list swapped in: the next request sees it; a code out of the pattern counts
    // nothing
    lists.set_list(
        "bl.example".parse().unwrap(),
        list("192.0.2.2", ReturnCode::new_assert(127, 0, 0, 3)),
    );
    assert!(ask_from(&mut p, "192.0.2.2", "l3").starts_with("554 5.7.1 "));
    assert_eq!(ask_from(&mut p, "192.0.2.1", "l4"), "DUNNO");
    lists.set_list(
        "bl.example".parse().unwrap(),
        list("192.0.2.2", ReturnCode::new_assert(127, 0, 0, 9)),
    );
    assert_eq!(ask_from(&mut p, "192.0.2.2", "l5"), "DUNNO");
    server.stop();
}
