//! `rblkit web` for tests: the built binary on a loopback port the kernel picks (read back
//! from its log line), stopped on drop; a small HTTP/1.1 client with timeouts; evidence
//! seeded with `rblkit ledger ingest`.

use crate::zone_tools::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_rblkit");

pub struct Web {
    pub port: u16,
    child: Child,
}

impl Web {
    /// Starts `rblkit web` on `state` with `profile` and, when given, a config file.
    pub fn start(state: &str, profile: &str, config: Option<&str>) -> Web {
        Web::start_with(state, profile, config, &[])
    }

    /// [`Web::start`] with more arguments.
    pub fn start_with(state: &str, profile: &str, config: Option<&str>, extra: &[&str]) -> Web {
        let mut c = Command::new(BIN);
        c.args([
            "web",
            "--listen",
            "127.0.0.1:0",
            "--state",
            state,
            "--profile",
            profile,
        ]);
        if let Some(f) = config {
            c.args(["--config", f]);
        }
        c.args(extra);
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let answering = line.contains("answering on");
                if let Some(rest) = line.split("http://127.0.0.1:").nth(1).filter(|_| answering) {
                    let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
                    let _ = tx.send(port);
                }
                eprintln!("[web] {line}");
            }
        });
        let port = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("rblkit web did not say where it answers");
        Web { port, child }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        request(self.port, "GET", path, headers, b"")
    }

    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut h = headers.to_vec();
        h.push(("Content-Type", content_type));
        request(self.port, "POST", path, &h, body.as_bytes())
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Resp {
        self.post(path, "application/json", &body.to_string(), &[])
    }

    /// SIGKILL: nothing is flushed or closed.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }

    /// The `name=value` of a Set-Cookie header, for sending back.
    pub fn cookie(&self) -> Option<String> {
        self.header("set-cookie")
            .map(|c| c.split(';').next().unwrap().to_owned())
    }

    /// The value of the hidden CSRF field of the page.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a CSRF field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), 30 s at most.
pub fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // a server may answer (413) before it read the whole body
    let _ = s.write_all(body);
    // read the head, then Content-Length bytes (a peer may keep the connection open), or
    // to the end without one
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break raw.len(),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {head:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw.get(head_end + 4..).unwrap_or_default().to_vec();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    match length {
        Some(n) => {
            while body.len() < n {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => body.extend_from_slice(&buf[..k]),
                }
            }
        }
        None => {
            let _ = s.read_to_end(&mut body);
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Resp {
        status,
        headers,
        body,
    }
}

/// Appends evidence lines with `rblkit ledger ingest`; asserts it succeeded.
pub fn ingest(state: &str, profile: &str, lines: &str) {
    let mut c = Command::new(BIN)
        .args([
            "ledger",
            "ingest",
            "--state",
            state,
            "--profile",
            profile,
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Now, and `secs` ago, as RFC 3339.
pub fn ago(secs: u64) -> String {
    let t = rblkit::Timestamp::from_system_time(std::time::SystemTime::now());
    (t - Duration::from_secs(secs)).to_string()
}

pub fn now() -> rblkit::Timestamp {
    rblkit::Timestamp::from_system_time(std::time::SystemTime::now())
}

/// A state directory with a temporary config file next to it.
pub fn state(tag: &str) -> (TempDir, String) {
    let d = TempDir::new(tag);
    let s = d.0.join("state").display().to_string();
    (d, s)
}

/// Polls `f` every 50 ms for up to `limit`.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    f()
}
