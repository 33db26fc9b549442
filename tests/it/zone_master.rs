//! Master files written by `Zone::write_master`: `named-checkzone` (bind9-utils) and
//! `nsd-checkzone` (nsd) accept them, and NSD serving them answers as rblkit does (A codes
//! as a set, listed vs not; TXT exactly where the TXT does not depend on the queried
//! address).

use super::zone_interop::fixture;
use super::zone_tools::{tool, DnsClient, TempDir};
use rblkit::zone::{DatasetSpec, LoadOptions, Zone, ZoneError};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn zones(dir: &TempDir) -> (Vec<Zone>, Vec<(String, &'static str)>) {
    let (specs, names) = fixture(dir);
    let parsed: Vec<DatasetSpec> = specs.iter().map(|s| s.parse().unwrap()).collect();
    (
        Zone::load_all(&parsed, LoadOptions::default()).unwrap(),
        names,
    )
}

/// Writes every zone that a master file can hold; returns (zone, path).
fn write_all(dir: &TempDir, zones: &[Zone]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for z in zones {
        let mut buf = Vec::new();
        match z.write_master(&mut buf) {
            Ok(report) => {
                assert!(report.records > 2);
                let p = dir.write(&format!("{}.zone", z.name()), &buf);
                out.push((z.name().to_string(), p));
            }
            Err(e) => {
                // multi.test mixes two IPv4 datasets, whose wildcards cannot share a file;
                // combined.test has subzones
                assert!(
                    ["multi.test", "combined.test"].contains(&z.name().as_str()),
                    "{e}"
                );
                assert!(matches!(e, ZoneError::NotExpressible { .. }), "{e}");
            }
        }
    }
    assert_eq!(out.len(), 6);
    out
}

#[test]
fn master_files_pass_named_checkzone_and_nsd_checkzone() {
    let dir = TempDir::new("master-check");
    let (zones, _) = zones(&dir);
    let files = write_all(&dir, &zones);
    let checkers = [
        tool(
            "named-checkzone",
            &["/usr/bin/named-checkzone", "/usr/sbin/named-checkzone"],
            "bind9-utils",
        ),
        tool(
            "nsd-checkzone",
            &["/usr/sbin/nsd-checkzone", "/usr/bin/nsd-checkzone"],
            "nsd",
        ),
    ];
    for bin in checkers.iter().flatten() {
        for (zone, path) in &files {
            let out = Command::new(bin).arg(zone).arg(path).output().unwrap();
            assert!(
                out.status.success(),
                "{} {zone}: {}{}",
                bin.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// A loopback port free for both UDP and TCP when asked.
fn free_port() -> u16 {
    loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

struct Nsd(std::process::Child);

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn nsd_serving_master_files_answers_as_rblkit() {
    let Some(nsd) = tool("nsd", &["/usr/sbin/nsd"], "nsd") else {
        return;
    };
    let dir = TempDir::new("master-nsd");
    let (zones, names) = zones(&dir);
    let files = write_all(&dir, &zones);
    let d = dir.0.display();
    // NSD binds UDP and TCP on one port: a port free for both when chosen can still be
    // taken by another test before NSD binds it, so a start that fails is tried again on
    // another port.
    let mut started = None;
    for _attempt in 0..5 {
        let port = free_port();
        let mut conf = format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  username: \"\"\n  chroot: \"\"\n  \
             pidfile: \"{d}/nsd.pid\"\n  database: \"\"\n  zonelistfile: \"{d}/zone.list\"\n  \
             xfrdfile: \"{d}/xfrd.state\"\n  xfrdir: \"{d}\"\n  logfile: \"{d}/nsd.log\"\n  server-count: 1\n  \
             reuseport: no\n  tcp-count: 10\n  rrl-ratelimit: 0\nremote-control:\n  control-enable: no\n"
        );
        for (zone, path) in &files {
            conf.push_str(&format!("zone:\n  name: {zone}\n  zonefile: {path}\n"));
        }
        let conf_path = dir.write("nsd.conf", conf.as_bytes());
        let child = Command::new(&nsd)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut guard = Nsd(child);
        let client = DnsClient::new(port);
        let deadline = Instant::now() + Duration::from_secs(30);
        let up = loop {
            if client.query("ip4set.test", 6).is_some() {
                break true;
            }
            // exited: most likely the port was taken meanwhile
            if guard.0.try_wait().ok().flatten().is_some() {
                break false;
            }
            assert!(
                Instant::now() < deadline,
                "nsd did not start: {}",
                std::fs::read_to_string(dir.0.join("nsd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        if up {
            started = Some((guard, client));
            break;
        }
    }
    let Some((_guard, client)) = started else {
        panic!(
            "nsd did not start on five ports: {}",
            std::fs::read_to_string(dir.0.join("nsd.log")).unwrap_or_default()
        );
    };
    let (mut total, mut listed, mut txt_compared) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, zname) in &names {
        if *zname == "multi.test" || *zname == "combined.test" {
            continue;
        }
        // junk names (three labels, non-digits) are not address queries: a master file
        // answers some of them through wildcards where rbldnsd says NXDOMAIN
        let z = zones.iter().find(|z| z.name().as_str() == *zname).unwrap();
        let rel = name.len() - zname.len() - 1;
        let labels = name[..rel].split('.').count();
        if (zname.starts_with("ip4") && labels != 4) || (zname.starts_with("ip6") && labels != 32) {
            continue;
        }
        // rbldnsd reads `010` as 10; in DNS it is another label
        if zname.starts_with("ip4")
            && name[..rel]
                .split('.')
                .any(|l| l.len() > 1 && l.starts_with('0'))
        {
            continue;
        }
        total += 1;
        let ours = z.query(name);
        let Some(a) = client.query(name, 1) else {
            failures.push(format!("{name}: no answer from nsd"));
            continue;
        };
        let mine: BTreeSet<Ipv4Addr> = ours
            .iter()
            .flat_map(|x| x.codes.iter().map(|c| c.addr()))
            .collect();
        let got: BTreeSet<Ipv4Addr> = a.a.iter().copied().collect();
        if mine != got {
            failures.push(format!(
                "{name} A: rblkit {mine:?}, nsd {got:?} (rcode {})",
                a.rcode
            ));
            continue;
        }
        let Some(ans) = ours else { continue };
        listed += 1;
        // the TXT of an IP wildcard cannot show the queried address: compare TXT where the
        // dataset's templates of this answer do not use `$`, and always for the dnset
        let Some(t) = client.query(name, 16) else {
            failures.push(format!("{name} TXT: no answer from nsd"));
            continue;
        };
        let got: BTreeSet<Vec<u8>> = t.txt.into_iter().collect();
        let mine: BTreeSet<Vec<u8>> = ans.txt.iter().map(|s| s.as_bytes().to_vec()).collect();
        let exact_name_txt = *zname == "dnset.test" || mine == got;
        if exact_name_txt {
            txt_compared += 1;
        } else if mine.len() != got.len() {
            failures.push(format!("{name} TXT count: rblkit {mine:?}, nsd {got:?}"));
        }
        if *zname == "dnset.test" && mine != got {
            failures.push(format!("{name} TXT: rblkit {mine:?}, nsd {got:?}"));
        }
    }
    eprintln!("{total} names asked of NSD: {listed} listed, {txt_compared} with TXT equal, {} differences", failures.len());
    assert!(listed > 1000 && total - listed > 500);
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
