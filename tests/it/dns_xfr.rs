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
    let d = dir.0.display();
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1@{sec}\n  port: {sec}\n  username: \"\"\n  \
         chroot: \"\"\n  zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  \
         xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
         database: \"\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 2\n  \
         server-count: 1\n  xfrd-reload-timeout: 0\n\
         remote-control:\n  control-enable: no\n\
         zone:\n  name: bl.test\n  zonefile: \"{d}/bl.test.zone\"\n  \
         allow-notify: 127.0.0.1 NOKEY\n  request-xfr: 127.0.0.1@{port} NOKEY\n"
    );
    let conf = dir.write("nsd.conf", conf.as_bytes());
    let _nsd = Running(
        Command::new(nsd)
            .args(["-d", "-c", &conf])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nsd"),
    );
    let logs = || {
        format!(
            "rblkit:\n{}\nnsd:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(dir.0.join("nsd.log")).unwrap_or_default()
        )
    };
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
    // Knot keeps its journal here; without it no change can be applied
    std::fs::create_dir_all(dir.0.join("db")).unwrap();
    let d = dir.0.display();
    let conf = format!(
        "server:\n  listen: 127.0.0.1@{sec}\n  rundir: \"{d}\"\n\
         log:\n  - target: \"{d}/knot.log\"\n    any: info\n\
         database:\n  storage: \"{d}/db\"\n\
         control:\n  listen: \"{d}/knot.sock\"\n\
         remote:\n  - id: primary\n    address: 127.0.0.1@{port}\n\
         acl:\n  - id: from_primary\n    address: 127.0.0.1\n    action: notify\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    zonefile-sync: -1\n    \
         zonefile-load: none\n    journal-content: changes\n\
         zone:\n  - domain: bl.test\n    master: primary\n    acl: from_primary\n"
    );
    let conf = dir.write("knot.conf", conf.as_bytes());
    let _knot = Running(
        Command::new(knotd)
            .args(["-c", &conf])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.0.join("knotd.err")).unwrap())
            .spawn()
            .expect("start knotd"),
    );
    let logs = || {
        format!(
            "rblkit:\n{}\nknot:\n{}{}",
            std::fs::read_to_string(&log).unwrap_or_default(),
            std::fs::read_to_string(dir.0.join("knot.log")).unwrap_or_default(),
            std::fs::read_to_string(dir.0.join("knotd.err")).unwrap_or_default()
        )
    };
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
