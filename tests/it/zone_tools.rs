//! Helpers for tests that drive external programs (rbldnsd, nsd-checkzone,
//! named-checkzone): finding them, temporary world-readable directories, a minimal DNS client.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of an external program, or `None` (with a message) when it is missing; in CI
/// (`CI=true`) a missing program fails the test.
pub fn tool(name: &str, candidates: &[&str], package: &str) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_file() {
            return Some(p.to_path_buf());
        }
    }
    if let Ok(path) = std::env::var("PATH") {
        for dir in path.split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let msg = format!("`{name}` not found (Debian package `{package}`)");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}: required in CI");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

/// A temporary directory readable by every user (rbldnsd drops root), removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::os::unix::fs::PermissionsExt;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("rblkit-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }

    pub fn write(&self, name: &str, data: &[u8]) -> String {
        use std::os::unix::fs::PermissionsExt;
        let p = self.0.join(name);
        std::fs::write(&p, data).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("RBLKIT_KEEP_TMP").is_some() {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running rbldnsd, killed on drop.
pub struct Rbldnsd {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Rbldnsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn user_exists(u: &str) -> bool {
    Command::new("id")
        .arg(u)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

impl Rbldnsd {
    /// Starts rbldnsd in the foreground on a free loopback port with these zone specs and
    /// waits until it answers.
    pub fn start(bin: &Path, dir: &TempDir, specs: &[String]) -> Rbldnsd {
        let log = dir.0.join("rbldnsd.log");
        for _attempt in 0..5 {
            let port = free_udp_port();
            let mut cmd = Command::new(bin);
            cmd.arg("-n").arg("-b").arg(format!("127.0.0.1/{port}"));
            if is_root() {
                // rbldnsd refuses to run as root
                let user = if user_exists("rbldns") {
                    "rbldns"
                } else {
                    "nobody"
                };
                cmd.arg("-u").arg(user);
            }
            cmd.args(specs);
            let out = std::fs::File::create(&log).unwrap();
            cmd.stdout(out.try_clone().unwrap()).stderr(out);
            let child = cmd.spawn().expect("start rbldnsd");
            let mut d = Rbldnsd {
                child,
                port,
                log: log.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = d.child.try_wait() {
                    break;
                }
                let c = DnsClient::new(port);
                if c.query("version.bind.", 16).is_some() || c.query("x.invalid.", 1).is_some() {
                    return d;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            eprintln!("rbldnsd did not start on port {port}: {text}");
            let _ = d.child.kill();
        }
        panic!("could not start rbldnsd");
    }

    /// rbldnsd's load warnings, per dataset in load order: the (file, line) pairs it
    /// printed (at most 5 a dataset) and how many in all.
    pub fn warnings(&self) -> Vec<(Vec<(String, u32)>, usize)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut groups = Vec::new();
        let mut cur: Vec<(String, u32)> = Vec::new();
        let mut suppressed = 0usize;
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("rbldnsd: file ") {
                if let Some((file, tail)) = rest.split_once('(') {
                    if let Some((n, _msg)) = tail.split_once("): ") {
                        if let Ok(n) = n.parse() {
                            cur.push((file.to_owned(), n));
                        }
                    }
                }
            } else if let Some(x) = l.strip_suffix(" more warnings suppressed") {
                suppressed = x
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            } else if is_loaded_line(l) {
                let n = cur.len() + suppressed;
                groups.push((std::mem::take(&mut cur), n));
                suppressed = 0;
            }
        }
        groups
    }
}

/// rbldnsd's "TYPE:FILES: YYYYMMDD HHMMSS: counts" line that ends a dataset's load.
fn is_loaded_line(l: &str) -> bool {
    l.split(": ").any(|part| {
        let b = part.as_bytes();
        b.len() == 15
            && b[8] == b' '
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 8 || c.is_ascii_digit())
    })
}

/// What a DNS server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub rcode: u8,
    pub a: Vec<Ipv4Addr>,
    pub txt: Vec<Vec<u8>>,
}

/// A minimal UDP DNS client: one question, A and TXT answers.
pub struct DnsClient {
    sock: UdpSocket,
    id: std::cell::Cell<u16>,
}

impl DnsClient {
    pub fn new(port: u16) -> DnsClient {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        DnsClient {
            sock,
            id: std::cell::Cell::new(1),
        }
    }

    pub fn query(&self, name: &str, qtype: u16) -> Option<Reply> {
        let id = self.id.get().wrapping_add(1);
        self.id.set(id);
        let mut q = Vec::with_capacity(64);
        q.extend_from_slice(&id.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        let qclass: u16 = if name.starts_with("version.bind") {
            3
        } else {
            1
        };
        for label in name.trim_end_matches('.').split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&qclass.to_be_bytes());
        let mut buf = [0u8; 4096];
        for _ in 0..3 {
            if self.sock.send(&q).is_err() {
                return None;
            }
            loop {
                match self.sock.recv(&mut buf) {
                    Ok(n) if n >= 12 && buf[..2] == id.to_be_bytes() => return parse(&buf[..n]),
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
        None
    }
}

fn skip_name(m: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let l = *m.get(i)? as usize;
        if l == 0 {
            return Some(i + 1);
        }
        if l & 0xc0 == 0xc0 {
            return Some(i + 2);
        }
        i += 1 + l;
    }
}

fn parse(m: &[u8]) -> Option<Reply> {
    let rcode = m[3] & 15;
    let qd = u16::from_be_bytes([m[4], m[5]]) as usize;
    let an = u16::from_be_bytes([m[6], m[7]]) as usize;
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(m, i)? + 4;
    }
    let mut r = Reply {
        rcode,
        a: Vec::new(),
        txt: Vec::new(),
    };
    for _ in 0..an {
        i = skip_name(m, i)?;
        let t = u16::from_be_bytes([*m.get(i)?, *m.get(i + 1)?]);
        let len = u16::from_be_bytes([*m.get(i + 8)?, *m.get(i + 9)?]) as usize;
        let data = m.get(i + 10..i + 10 + len)?;
        match t {
            1 if len == 4 => r.a.push(Ipv4Addr::new(data[0], data[1], data[2], data[3])),
            16 => {
                let mut s = Vec::new();
                let mut k = 0;
                while k < data.len() {
                    let l = data[k] as usize;
                    s.extend_from_slice(data.get(k + 1..k + 1 + l)?);
                    k += 1 + l;
                }
                r.txt.push(s);
            }
            _ => {}
        }
        i += 10 + len;
    }
    Some(r)
}
