//! Servers for the checker's and the monitor's tests: the list server under test
//! (`rblkit serve`, or real rbldnsd for the one test that checks against it), NSD for TCP
//! and SERVFAIL, and a UDP socket that never answers.

use super::zone_tools::{tool, DnsClient, TempDir};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running DNS server, killed on drop.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// What the server wrote to its log.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server's process ID (for signals).
    #[cfg(feature = "cli")]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A loopback port free for both UDP and TCP.
pub fn free_port() -> u16 {
    // A port free for both UDP and TCP (NSD binds both).
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = u.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Waits until `probe` (a name asked for A) gets any answer from the server on `port`.
fn wait_answers(child: &mut Child, port: u16, probe: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if DnsClient::new(port).query(probe, 1).is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Starts the list server under test on a free loopback port with these rbldnsd dataset
/// specs (`ZONE:TYPE:FILE[,FILE…]`), re-reading changed files every second: our own
/// `rblkit serve` (rbldnsd when the command is not built, without the `cli` feature).
pub fn start_list_server(dir: &TempDir, specs: &[String]) -> Option<Server> {
    #[cfg(feature = "cli")]
    {
        Some(start_rblkit_serve(dir, specs))
    }
    #[cfg(not(feature = "cli"))]
    {
        start_rbldnsd(dir, specs)
    }
}

/// `rblkit serve` on a free loopback port (one UDP thread, files checked every second), its
/// standard error in `rblkit.log`.
#[cfg(feature = "cli")]
pub fn start_rblkit_serve(dir: &TempDir, specs: &[String]) -> Server {
    start_rblkit_serve_with(dir, &[], specs)
}

/// [`start_rblkit_serve`] with more flags before the specs.
#[cfg(feature = "cli")]
pub fn start_rblkit_serve_with(dir: &TempDir, flags: &[String], specs: &[String]) -> Server {
    let log = dir.0.join("rblkit.log");
    spawn_answering("rblkit serve", &log, |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rblkit"));
        cmd.args([
            "serve",
            "--threads",
            "1",
            "--check-interval",
            "1",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .args(flags)
        .args(specs);
        cmd
    })
}

/// Starts real rbldnsd (Debian package `rbldnsd`) as [`start_list_server`] does; `None`
/// (the test skips) when it is missing outside CI.
pub fn start_rbldnsd(dir: &TempDir, specs: &[String]) -> Option<Server> {
    let bin = tool("rbldnsd", &["/usr/sbin/rbldnsd"], "rbldnsd")?;
    let log = dir.0.join("rbldnsd.log");
    Some(spawn_answering("rbldnsd", &log, |port| {
        let mut cmd = Command::new(&bin);
        cmd.arg("-n")
            .arg("-c")
            .arg("1")
            .arg("-b")
            .arg(format!("127.0.0.1/{port}"));
        if is_root() {
            // rbldnsd refuses to run as root
            cmd.arg("-u").arg("nobody");
        }
        cmd.args(specs);
        cmd
    }))
}

/// Runs the server `command(port)` makes on a free port, its output in `log`, until it
/// answers a query (five tries with other ports).
fn spawn_answering(name: &str, log: &PathBuf, command: impl Fn(u16) -> Command) -> Server {
    for _attempt in 0..5 {
        let port = free_port();
        let out = std::fs::File::create(log).unwrap();
        let mut child = command(port)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        if wait_answers(&mut child, port, "x.invalid.") {
            return Server {
                child,
                addr: ([127, 0, 0, 1], port).into(),
                log: log.clone(),
            };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!(
        "could not start {name}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Starts NSD (Debian package `nsd`) on a free loopback port, UDP and TCP, serving each
/// (zone, zone file text) pair; a zone with `None` is configured with a missing file, so
/// NSD answers SERVFAIL for it.
pub fn start_nsd(dir: &TempDir, zones: &[(&str, Option<&str>)]) -> Option<Server> {
    let bin = tool("nsd", &["/usr/sbin/nsd"], "nsd")?;
    let log = dir.0.join("nsd.log");
    Some(spawn_answering("nsd", &log, |port| {
        let d = dir.0.display();
        let mut conf = format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  username: \"\"\n  \
             chroot: \"\"\n  zonesdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  \
             xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
             database: \"\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 1\n  \
             server-count: 1\n  tcp-count: 10\n\
             remote-control:\n  control-enable: no\n"
        );
        for (name, text) in zones {
            let file = format!("{name}.zone");
            match text {
                Some(t) => {
                    dir.write(&file, t.as_bytes());
                }
                None => {
                    let _ = std::fs::remove_file(dir.0.join(&file));
                }
            }
            conf.push_str(&format!("zone:\n  name: {name}\n  zonefile: \"{file}\"\n"));
        }
        let conf_path = dir.write("nsd.conf", conf.as_bytes());
        let mut cmd = Command::new(&bin);
        cmd.arg("-d").arg("-c").arg(&conf_path);
        cmd
    }))
}

/// Waits (up to 20 s) until the server at `port` answers `name` with A code `code`
/// (`None`: with no A record), as after the server re-read a changed dataset.
pub fn wait_for_answer(port: u16, name: &str, code: Option<std::net::Ipv4Addr>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let c = DnsClient::new(port);
    loop {
        if let Some(r) = c.query(name, 1) {
            let ok = match code {
                Some(x) => r.a.contains(&x),
                None => r.a.is_empty(),
            };
            if ok {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{name}: server did not pick up the change"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Rewrites a dataset file with a modification time in the future, so that a server
/// checking modification times sees the change even within the same second.
pub fn rewrite(path: &str, text: &str) {
    let tmp = format!("{path}.new");
    std::fs::write(&tmp, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
    let now = std::time::SystemTime::now() + Duration::from_secs(2);
    let old = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| t + Duration::from_secs(2))
        .unwrap_or(now);
    let f = std::fs::File::options().write(true).open(&tmp).unwrap();
    f.set_modified(now.max(old)).unwrap();
    drop(f);
    std::fs::rename(&tmp, path).unwrap();
}

/// A bound UDP socket that never answers: a resolver that is down without telling.
pub fn silent_udp() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}
