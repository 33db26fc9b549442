//! Mirroring: real NSD and Knot run as secondaries of `rblkit serve` on loopback, take the
//! zone by AXFR, get a NOTIFY when the dataset changes and follow it by IXFR; transfers from
//! an address not allowed are REFUSED.

use super::dns_cli::Running;
use super::dns_client_tools::{free_port, rewrite, start_rblkit_serve_with, Server};
use super::zone_tools::{tool, DnsClient, TempDir};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DATA_V1: &str =
    "$NS 1h ns.example.net.\n:2:listed $\n192.0.2.1\n192.0.2.2\n10.0.0.0/8\n!10.1.2.3\n";
const DATA_V2: &str =
    "$NS 1h ns.example.net.\n:2:listed $\n192.0.2.1\n192.0.2.3\n10.0.0.0/8\n!10.1.2.3\n";

/// 4,000 single addresses: a zone of some 400 KB, sent in several messages.
fn bulk() -> String {
    (0..4000u32)
        .map(|i| format!("172.16.{}.{}\n", i / 250, i % 250 + 1))
        .collect()
}

/// `rblkit serve` for `bl.test` from `file`, transfers allowed from 127.0.0.1, NOTIFY to
/// `secondary`; its standard error in `rblkit.log`.
fn start_rblkit(dir: &TempDir, file: &str, secondary: u16) -> Server {
    let flags = [
        "--allow-transfer".to_owned(),
        "127.0.0.1".to_owned(),
        "--notify".to_owned(),
        format!("127.0.0.1:{secondary}"),
    ];
    start_rblkit_serve_with(dir, &flags, &[format!("bl.test:ip4set:{file}")])
}

/// The server's log and the secondary's `files` in `dir`, for failure messages.
fn logs_of(log: &Path, dir: &TempDir, files: &[&str]) -> String {
    let mut text = format!(
        "rblkit:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    for f in files {
        let t = std::fs::read_to_string(dir.0.join(f)).unwrap_or_default();
        text.push_str(&format!("\n{f}:\n{t}"));
    }
    text
}

/// Waits (up to `secs`) until the server on `port` answers `name` with A `code` (`None`:
/// NXDOMAIN).
fn wait_for(port: u16, name: &str, code: Option<Ipv4Addr>, secs: u64, what: &dyn Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let c = DnsClient::new(port);
    loop {
        if let Some(r) = c.query(name, 1) {
            let ok = match code {
                Some(x) => r.rcode == 0 && r.a.contains(&x),
                None => r.rcode == 3,
            };
            if ok {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name}: the secondary did not answer {code:?} within {secs} s\n{}",
            what()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One AXFR over TCP to `addr` from the local address `from`: the RCODE of the first
/// message.
fn axfr_rcode(addr: SocketAddr, from: Ipv4Addr) -> Option<u8> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).ok()?;
    s.bind(&SockAddr::from(SocketAddr::from((from, 0)))).ok()?;
    s.connect_timeout(&SockAddr::from(addr), Duration::from_secs(2))
        .ok()?;
    let mut s = std::net::TcpStream::from(s);
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut q = vec![0, 0, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    q.extend_from_slice(b"\x02bl\x04test\0\0\xfc\0\x01");
    let n = (q.len() - 2) as u16;
    q[..2].copy_from_slice(&n.to_be_bytes());
    s.write_all(&q).ok()?;
    let mut head = [0u8; 6];
    s.read_exact(&mut head).ok()?;
    Some(head[5] & 15)
}

/// The part of the server log after the first AXFR: one IXFR line going from one serial to
/// a newer one.
fn assert_ixfr_used(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        text.lines().any(
            |l| l.contains("AXFR to 127.0.0.1") || l.contains("IXFR (whole zone) to 127.0.0.1")
        ),
        "no first full transfer:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(": IXFR to 127.0.0.1, serial ") && l.contains(" -> ")),
        "the change did not go by IXFR:\n{text}"
    );
    assert!(
        text.contains("NOTIFY of serial"),
        "no NOTIFY answered:\n{text}"
    );
}

/// A TSIG key for the secondaries: name, algorithm, secret in base64.
struct Key<'a> {
    name: &'a str,
    algorithm: &'a str,
    secret: &'a str,
}

/// NSD as secondary of `bl.test` on port `sec`, from the primary on `primary`, with its log
/// in `nsd.log`; with `key`, NOTIFY and transfers are signed with it.
fn start_nsd_secondary(
    nsd: &Path,
    dir: &TempDir,
    sec: u16,
    primary: u16,
    key: Option<&Key<'_>>,
) -> Running {
    let d = dir.0.display();
    let (key_conf, key_name) = match key {
        Some(k) => (
            format!(
                "key:\n  name: {}\n  algorithm: {}\n  secret: \"{}\"\n",
                k.name, k.algorithm, k.secret
            ),
            k.name,
        ),
        None => (String::new(), "NOKEY"),
    };
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1@{sec}\n  port: {sec}\n  username: \"\"\n  \
         chroot: \"\"\n  zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  \
         xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
         database: \"\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 2\n  \
         server-count: 1\n  xfrd-reload-timeout: 0\n\
         remote-control:\n  control-enable: no\n{key_conf}\
         zone:\n  name: bl.test\n  zonefile: \"{d}/bl.test.zone\"\n  \
         allow-notify: 127.0.0.1 {key_name}\n  request-xfr: 127.0.0.1@{primary} {key_name}\n"
    );
    let conf = dir.write("nsd.conf", conf.as_bytes());
    Running(
        Command::new(nsd)
            .args(["-d", "-c", &conf])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nsd"),
    )
}

/// A compiled list of `addrs` (code 127.0.0.2, TXT `listed $`).
fn list_of(addrs: &[&str]) -> rblkit::List {
    use rblkit::codes::ReturnCode;
    let mut b = rblkit::List::builder();
    for a in addrs {
        let l = rblkit::Listing::new(ReturnCode::LISTED).with_txt("listed $");
        b.insert(&a.parse().unwrap(), l);
    }
    b.build()
}

/// `bl.test` answering from `list`, SOA serial 7, one name server.
fn list_catalog(list: rblkit::List) -> rblkit::dns::server::Catalog {
    use rblkit::zone::{DatasetKind, DatasetParser};
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file(
        "apex",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 7 1h 15m 1w 5m\n$NS 1h ns.example.net.\n",
    )
    .unwrap();
    let ds = p.finish();
    rblkit::dns::server::Catalog::builder()
        .list(
            "bl.test".parse().unwrap(),
            list,
            ds.soa().cloned(),
            ds.ns().cloned(),
            Some(300),
        )
        .build()
        .unwrap()
}

#[test]
fn nsd_mirrors_a_published_list_and_follows_it_by_ixfr() {
    use rblkit::dns::server::{Event, Server, TransferStyle};
    use std::sync::{Arc, Mutex};
    let Some(nsd) = tool("nsd", &["/usr/sbin/nsd"], "nsd") else {
        return;
    };
    let dir = TempDir::new("xfr-list");
    let sec = free_port();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    // (style, serial sent, the secondary's serial)
    type Sent = (TransferStyle, u32, Option<u32>);
    let transfers: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let (ev, tr) = (events.clone(), transfers.clone());
    let mut bulk: Vec<String> = (0..3000u32)
        .map(|i| format!("172.16.{}.{}", i / 250, i % 250 + 1))
        .collect();
    bulk.extend(["192.0.2.1", "192.0.2.2", "10.0.0.0/8"].map(String::from));
    let v1: Vec<&str> = bulk.iter().map(String::as_str).collect();
    let server = Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(1)
        .allow_transfer("127.0.0.1/32".parse().unwrap())
        .notify(SocketAddr::from(([127, 0, 0, 1], sec)))
        .on_event(move |e| {
            if let Event::Transfer {
                style,
                serial,
                from,
                ..
            } = e
            {
                tr.lock().unwrap().push((*style, *serial, *from));
            }
            ev.lock().unwrap().push(format!("{e:?}"));
        })
        .catalog(list_catalog(list_of(&v1)))
        .start()
        .unwrap();
    let port = server.local_addrs()[0].port();
    let _nsd = start_nsd_secondary(&nsd, &dir, sec, port, None);
    let logs = || {
        format!(
            "rblkit:\n{}\nnsd:\n{}",
            events.lock().unwrap().join("\n"),
            std::fs::read_to_string(dir.0.join("nsd.log")).unwrap_or_default()
        )
    };
    let listed = Some(Ipv4Addr::new(127, 0, 0, 2));
    wait_for(sec, "2.2.0.192.bl.test", listed, 30, &logs);
    wait_for(sec, "200.11.16.172.bl.test", listed, 5, &logs);
    wait_for(sec, "9.9.9.10.bl.test", listed, 5, &logs);
    wait_for(sec, "3.2.0.192.bl.test", None, 5, &logs);
    // the same list again: nothing to send, the serial stays
    server.publish(list_catalog(list_of(&v1)));
    assert_eq!(
        server.catalog().serial(&"bl.test".parse().unwrap()),
        Some(7)
    );
    // one address added, one removed
    let mut v2 = v1.clone();
    v2.retain(|a| *a != "192.0.2.2");
    v2.push("192.0.2.3");
    server.publish(list_catalog(list_of(&v2)));
    assert_eq!(
        server.catalog().serial(&"bl.test".parse().unwrap()),
        Some(8)
    );
    wait_for(sec, "3.2.0.192.bl.test", listed, 20, &logs);
    wait_for(sec, "2.2.0.192.bl.test", None, 5, &logs);
    let t = transfers.lock().unwrap().clone();
    assert!(
        matches!(
            t.first(),
            Some((TransferStyle::Axfr | TransferStyle::IxfrFull, 7, _))
        ),
        "{}",
        logs()
    );
    // the change went by IXFR from the first serial
    assert!(
        t.contains(&(TransferStyle::Ixfr, 8, Some(7))),
        "{t:?}\n{}",
        logs()
    );
    let text = logs();
    assert!(text.contains("Notified"), "{text}");
    server.shutdown();
}

#[test]
fn nsd_mirrors_rblkit_by_axfr_then_notify_and_ixfr() {
    let Some(nsd) = tool("nsd", &["/usr/sbin/nsd"], "nsd") else {
        return;
    };
    let dir = TempDir::new("xfr-nsd");
    let file = dir.write(
        "bl.txt",
        format!(
            "$SOA 1h ns.bl.test. hostmaster.bl.test. 0 1h 15m 1w 5m\n{DATA_V1}{}",
            bulk()
        )
        .as_bytes(),
    );
    let sec = free_port();
    let rblkit = start_rblkit(&dir, &file, sec);
    let (log, port) = (rblkit.log.clone(), rblkit.addr.port());
    let _nsd = start_nsd_secondary(&nsd, &dir, sec, port, None);
    let logs = || logs_of(&log, &dir, &["nsd.log"]);
    let listed = Some(Ipv4Addr::new(127, 0, 0, 2));
    // the first transfer
    wait_for(sec, "2.2.0.192.bl.test", listed, 30, &logs);
    wait_for(sec, "3.2.1.10.bl.test", None, 5, &logs);
    wait_for(sec, "4.2.1.10.bl.test", listed, 5, &logs);
    // the end of a transfer of several messages
    wait_for(sec, "250.15.16.172.bl.test", listed, 5, &logs);
    // one entry added, one removed; the serial is the file's modification time
    rewrite(
        &file,
        &format!(
            "$SOA 1h ns.bl.test. hostmaster.bl.test. 0 1h 15m 1w 5m\n{DATA_V2}{}",
            bulk()
        ),
    );
    wait_for(sec, "3.2.0.192.bl.test", listed, 20, &logs);
    wait_for(sec, "2.2.0.192.bl.test", None, 5, &logs);
    assert_ixfr_used(&log);
    // transfers from elsewhere are refused
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert_eq!(
        axfr_rcode(addr, Ipv4Addr::new(127, 0, 0, 2)),
        Some(5),
        "{}",
        logs()
    );
    assert_eq!(axfr_rcode(addr, Ipv4Addr::LOCALHOST), Some(0));
}

/// Knot as secondary of `bl.test` on port `sec`, from the primary on `primary`, its log in
/// `knot.log`; with `key`, everything it exchanges with the primary is signed with it.
fn start_knot_secondary(
    knotd: &Path,
    dir: &TempDir,
    sec: u16,
    primary: u16,
    key: Option<&Key<'_>>,
) -> Running {
    // Knot keeps its journal here; without it no change can be applied
    std::fs::create_dir_all(dir.0.join("db")).unwrap();
    let d = dir.0.display();
    let (key_conf, key_ref) = match key {
        Some(k) => (
            format!(
                "key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
                k.name, k.algorithm, k.secret
            ),
            format!("    key: {}\n", k.name),
        ),
        None => (String::new(), String::new()),
    };
    let conf = format!(
        "server:\n  listen: 127.0.0.1@{sec}\n  rundir: \"{d}\"\n\
         log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
         database:\n  storage: \"{d}/db\"\n\
         control:\n  listen: \"{d}/knot.sock\"\n{key_conf}\
         remote:\n  - id: primary\n    address: 127.0.0.1@{primary}\n{key_ref}\
         acl:\n  - id: from_primary\n    address: 127.0.0.1\n{key_ref}    action: notify\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    zonefile-sync: -1\n    \
         zonefile-load: none\n    journal-content: changes\n\
         zone:\n  - domain: bl.test\n    master: primary\n    acl: from_primary\n"
    );
    let conf = dir.write("knot.conf", conf.as_bytes());
    Running(
        Command::new(knotd)
            .args(["-c", &conf])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.0.join("knotd.err")).unwrap())
            .spawn()
            .expect("start knotd"),
    )
}

#[test]
fn knot_mirrors_rblkit_and_follows_a_sighup_reload() {
    let Some(knotd) = tool("knotd", &["/usr/sbin/knotd"], "knot") else {
        return;
    };
    let dir = TempDir::new("xfr-knot");
    // an explicit serial that stays the same: the server bumps it on change
    let soa = "$SOA 1h ns.bl.test. hostmaster.bl.test. 7 1h 15m 1w 5m\n";
    let file = dir.write("bl.txt", format!("{soa}{DATA_V1}").as_bytes());
    let sec = free_port();
    let rblkit = start_rblkit(&dir, &file, sec);
    let (log, port) = (rblkit.log.clone(), rblkit.addr.port());
    let _knot = start_knot_secondary(&knotd, &dir, sec, port, None);
    let logs = || logs_of(&log, &dir, &["knot.log", "knotd.err"]);
    let listed = Some(Ipv4Addr::new(127, 0, 0, 2));
    wait_for(sec, "2.2.0.192.bl.test", listed, 30, &logs);
    wait_for(sec, "3.2.1.10.bl.test", None, 5, &logs);
    // the change, picked up on SIGHUP (the check every second would find it too)
    rewrite(&file, &format!("{soa}{DATA_V2}"));
    let _ = Command::new("kill")
        .args(["-HUP", &rblkit.pid().to_string()])
        .status();
    wait_for(sec, "3.2.0.192.bl.test", listed, 20, &logs);
    wait_for(sec, "2.2.0.192.bl.test", None, 5, &logs);
    assert_ixfr_used(&log);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("serial 7 -> 8"), "{text}");
    let knot = std::fs::read_to_string(dir.0.join("knot.log")).unwrap_or_default();
    assert!(
        knot.contains("IXFR, incoming") && !knot.contains("fallback to AXFR"),
        "{}",
        logs()
    );
}

const KEY: Key<'static> = Key {
    name: "xfr.key",
    algorithm: "hmac-sha256",
    secret: "cmJsa2l0LXRlc3QtdHNpZy1zZWNyZXQtMzItYnl0ZXM=",
};

/// 6,000 addresses, every other one (none folded into a network): a transfer of some
/// 500 KB, in several messages.
fn sparse() -> String {
    (0..6000u32)
        .map(|i| format!("172.20.{}.{}\n", i / 120, 2 * (i % 120) + 1))
        .collect()
}

/// `dig` (or `kdig`) with these arguments against the server on `port`: its output.
fn run_dig(bin: &Path, port: u16, args: &[String]) -> String {
    let out = Command::new(bin)
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+retry=0",
            "+timeout=5",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dig");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn tsig_signs_transfers_for_dig_kdig_and_nsd_and_refuses_bad_keys() {
    let (Some(nsd), Some(dig), Some(kdig)) = (
        tool("nsd", &["/usr/sbin/nsd"], "nsd"),
        tool("dig", &["/usr/bin/dig"], "bind9-dnsutils"),
        tool("kdig", &["/usr/bin/kdig"], "knot-dnsutils"),
    ) else {
        return;
    };
    let dir = TempDir::new("xfr-tsig");
    let soa = "$SOA 1h ns.bl.test. hostmaster.bl.test. 7 1h 15m 1w 5m\n";
    let file = dir.write("bl.txt", format!("{soa}{DATA_V1}{}", sparse()).as_bytes());
    let sec = free_port();
    let y = format!("{}:{}:{}", KEY.algorithm, KEY.name, KEY.secret);
    let flags = [
        "--tsig-key".to_owned(),
        y.clone(),
        "--allow-transfer".to_owned(),
        format!("127.0.0.1:{}", KEY.name),
        "--notify".to_owned(),
        format!("127.0.0.1:{sec}:{}", KEY.name),
    ];
    let rblkit = start_rblkit_serve_with(&dir, &flags, &[format!("bl.test:ip4set:{file}")]);
    let (log, port) = (rblkit.log.clone(), rblkit.addr.port());
    let axfr = |bin: &Path, key: Option<&str>| {
        let mut args = vec!["AXFR".to_owned(), "bl.test".to_owned()];
        if let Some(k) = key {
            args.extend(["-y".to_owned(), k.to_owned()]);
        }
        run_dig(bin, port, &args)
    };
    // dig verifies every message of the transfer (several of them here)
    let out = axfr(&dig, Some(&y));
    assert!(!out.contains("Couldn't verify"), "{out}");
    assert!(out.contains("TSIG") && out.contains("NOERROR"), "{out}");
    assert!(out.contains("239.49.20.172.bl.test."), "{out}");
    let messages = out
        .lines()
        .find_map(|l| l.strip_prefix(";; XFR size: "))
        .and_then(|l| l.split("messages ").nth(1))
        .and_then(|l| l.split(',').next())
        .and_then(|n| n.trim().parse::<u32>().ok());
    assert!(messages.is_some_and(|n| n > 1), "{out}");
    let out = axfr(&kdig, Some(&y));
    assert!(
        out.contains("239.49.20.172.bl.test.")
            && !out.contains(";; WARNING")
            && !out.contains(";; ERROR"),
        "{out}"
    );
    // a wrong secret, an unknown key, no key
    let wrong = format!(
        "hmac-sha256:{}:YW5vdGhlci1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXQ=",
        KEY.name
    );
    let out = axfr(&dig, Some(&wrong));
    assert!(!out.contains("239.49.20.172.bl.test."), "{out}");
    assert!(out.contains("BADSIG") || out.contains("NOTAUTH"), "{out}");
    let unknown = "hmac-sha256:other.key:YW5vdGhlci1zZWNyZXQtb2YtdGhpcnR5LXR3by1ieXQ=";
    let out = axfr(&kdig, Some(unknown));
    assert!(!out.contains("239.49.20.172.bl.test."), "{out}");
    assert!(out.contains("BADKEY") || out.contains("NOTAUTH"), "{out}");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    assert_eq!(axfr_rcode(addr, Ipv4Addr::LOCALHOST), Some(5));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("BADSIG"), "{text}");
    assert!(text.contains("BADKEY"), "{text}");
    assert!(text.contains("the request is not signed"), "{text}");
    // NSD with the same key: SOA query, transfers and NOTIFY all signed
    let _nsd = start_nsd_secondary(&nsd, &dir, sec, port, Some(&KEY));
    let logs = || logs_of(&log, &dir, &["nsd.log"]);
    let listed = Some(Ipv4Addr::new(127, 0, 0, 2));
    wait_for(sec, "2.2.0.192.bl.test", listed, 30, &logs);
    wait_for(sec, "239.49.20.172.bl.test", listed, 5, &logs);
    rewrite(&file, &format!("{soa}{DATA_V2}{}", sparse()));
    wait_for(sec, "3.2.0.192.bl.test", listed, 20, &logs);
    wait_for(sec, "2.2.0.192.bl.test", None, 5, &logs);
    assert_ixfr_used(&log);
    let nsd_log = std::fs::read_to_string(dir.0.join("nsd.log")).unwrap_or_default();
    assert!(!nsd_log.to_lowercase().contains("bad tsig"), "{}", logs());
}

#[test]
fn knot_mirrors_rblkit_with_tsig() {
    let Some(knotd) = tool("knotd", &["/usr/sbin/knotd"], "knot") else {
        return;
    };
    let dir = TempDir::new("xfr-knot-tsig");
    let soa = "$SOA 1h ns.bl.test. hostmaster.bl.test. 7 1h 15m 1w 5m\n";
    let file = dir.write("bl.txt", format!("{soa}{DATA_V1}").as_bytes());
    let sec = free_port();
    let key_file = dir.write(
        "xfr.key",
        format!(
            "key \"{}\" {{\n\talgorithm {};\n\tsecret \"{}\";\n}};\n",
            KEY.name, KEY.algorithm, KEY.secret
        )
        .as_bytes(),
    );
    let flags = [
        "--tsig-key-file".to_owned(),
        key_file,
        "--allow-transfer".to_owned(),
        format!("127.0.0.1:{}", KEY.name),
        "--notify".to_owned(),
        format!("127.0.0.1:{sec}:{}", KEY.name),
    ];
    let rblkit = start_rblkit_serve_with(&dir, &flags, &[format!("bl.test:ip4set:{file}")]);
    let (log, port) = (rblkit.log.clone(), rblkit.addr.port());
    let _knot = start_knot_secondary(&knotd, &dir, sec, port, Some(&KEY));
    let logs = || logs_of(&log, &dir, &["knot.log", "knotd.err"]);
    let listed = Some(Ipv4Addr::new(127, 0, 0, 2));
    wait_for(sec, "2.2.0.192.bl.test", listed, 30, &logs);
    rewrite(&file, &format!("{soa}{DATA_V2}"));
    wait_for(sec, "3.2.0.192.bl.test", listed, 20, &logs);
    wait_for(sec, "2.2.0.192.bl.test", None, 5, &logs);
    assert_ixfr_used(&log);
    let knot = std::fs::read_to_string(dir.0.join("knot.log")).unwrap_or_default();
    assert!(
        knot.contains("IXFR, incoming")
            && !knot.contains("fallback to AXFR")
            && !knot.contains("BADSIG")
            && !knot.contains("BADKEY"),
        "{}",
        logs()
    );
}

#[test]
fn serve_refuses_unknown_and_malformed_tsig_keys() {
    let dir = TempDir::new("xfr-tsig-flags");
    let file = dir.write("bl.txt", b"192.0.2.1\n");
    let serve = |flags: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rblkit"))
            .args(["serve", "--listen", "127.0.0.1:0", "--threads", "1"])
            .args(flags)
            .arg(format!("bl.test:ip4set:{file}"))
            .stdin(Stdio::null())
            .output()
            .expect("run rblkit serve");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = serve(&["--allow-transfer", "::1/128:nokey"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("TSIG key \"nokey\" is not defined"), "{err}");
    let (code, err) = serve(&["--notify", "127.0.0.1:53:nokey"]);
    assert_eq!(code, Some(64), "{err}");
    let (code, err) = serve(&["--tsig-key", "hmac-md5:k:c2VjcmV0"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("hmac-md5 is not supported"), "{err}");
    let (code, err) = serve(&["--tsig-key", "k:not base64!"]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("not base64"), "{err}");
    let bad = dir.write("bad.key", b"key \"k\" {\n  algorithm hmac-sha256;\n};\n");
    let (code, err) = serve(&["--tsig-key-file", &bad]);
    assert_eq!(code, Some(64), "{err}");
    assert!(err.contains("bad.key:1: key \"k\" lacks"), "{err}");
}
