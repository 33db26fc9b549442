//! `rblkit policy` as a child process on a loopback port for tests, and a small SMTP and
//! policy-protocol client. The server is killed on drop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_rblkit");

pub use crate::postfix_tools::free_port;

/// A running `rblkit policy`.
pub struct PolicyProc {
    child: Option<Child>,
    pub port: u16,
    log: PathBuf,
}

impl PolicyProc {
    /// Starts `rblkit policy --listen 127.0.0.1:PORT --state STATE [--config FILE]` and
    /// waits until it answers.
    pub fn start(state: &Path, port: u16, config: Option<&Path>, log: &Path) -> PolicyProc {
        PolicyProc::start_with(state, port, config, log, &[])
    }

    /// [`PolicyProc::start`] with more arguments.
    pub fn start_with(
        state: &Path,
        port: u16,
        config: Option<&Path>,
        log: &Path,
        extra: &[&str],
    ) -> PolicyProc {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "policy",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--state",
        ])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err);
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        cmd.args(extra);
        let child = cmd.spawn().unwrap();
        let p = PolicyProc {
            child: Some(child),
            port,
            log: log.to_path_buf(),
        };
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "rblkit policy did not listen on {port}: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    /// Starts one with this config text on a free port, its config, state and log in
    /// `dir/NAME`.
    pub fn in_dir(dir: &Path, name: &str, config: &str, extra: &[&str]) -> PolicyProc {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let cfg = d.join("policy.toml");
        std::fs::write(&cfg, config).unwrap();
        PolicyProc::start_with(
            &d.join("state"),
            free_port(),
            Some(&cfg),
            &d.join("policy.log"),
            extra,
        )
    }

    /// Sends a signal (`TERM`, `KILL`) and waits for the process to end; returns its exit
    /// status code (`None` when killed by the signal).
    pub fn signal(mut self, sig: &str) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let t = Instant::now();
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s.code();
            }
            assert!(t.elapsed() < Duration::from_secs(10), "no exit after {sig}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGHUP (the process goes on).
    pub fn hup(&self) {
        let child = self.child.as_ref().unwrap();
        let ok = Command::new("kill")
            .arg("-HUP")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Its standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for PolicyProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A policy-protocol client connection.
pub struct PolicyClient {
    r: BufReader<TcpStream>,
}

impl PolicyClient {
    pub fn connect(port: u16) -> PolicyClient {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        PolicyClient {
            r: BufReader::new(s),
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.r.get_mut().write_all(bytes)
    }

    /// Sends a request of these attributes (plus `request=smtpd_access_policy`) and
    /// returns the action's value.
    pub fn ask(&mut self, attrs: &[(&str, &str)]) -> String {
        let mut m = String::from("request=smtpd_access_policy\n");
        for (k, v) in attrs {
            m.push_str(&format!("{k}={v}\n"));
        }
        m.push('\n');
        self.send(m.as_bytes()).unwrap();
        self.answer().expect("an answer")
    }

    /// Reads one answer (`action=…` and an empty line); `None` at the end of the stream.
    pub fn answer(&mut self) -> Option<String> {
        let mut line = String::new();
        if self.r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut empty = String::new();
        self.r.read_line(&mut empty).ok()?;
        assert_eq!(empty, "\n", "an answer ends with an empty line");
        Some(line.trim_end().strip_prefix("action=")?.to_string())
    }

    /// Whether the server closed the connection (reads to the end, bounded).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.r.read_to_end(&mut rest).is_ok()
    }
}

/// A RCPT-stage request for one message of `sender` to `rcpt`.
pub fn rcpt<'a>(instance: &'a str, sender: &'a str, rcpt: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("protocol_state", "RCPT"),
        ("protocol_name", "ESMTP"),
        ("client_address", "127.0.0.1"),
        ("client_name", "localhost"),
        ("instance", instance),
        ("sender", sender),
        ("recipient", rcpt),
    ]
}

/// A plain SMTP client session.
pub struct Smtp {
    r: BufReader<TcpStream>,
}

impl Smtp {
    pub fn connect(port: u16) -> Smtp {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut c = Smtp {
            r: BufReader::new(s),
        };
        let (code, text) = c.reply();
        assert_eq!(code, 220, "{text}");
        let (code, text) = c.cmd("EHLO client.rblkit-test.example");
        assert_eq!(code, 250, "{text}");
        c
    }

    /// The reply's code and its whole text (every line).
    pub fn reply(&mut self) -> (u16, String) {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = self.r.read_line(&mut line).unwrap();
            assert!(n > 0, "SMTP connection closed; so far: {all}");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
                return (code, all);
            }
        }
    }

    pub fn cmd(&mut self, line: &str) -> (u16, String) {
        self.r
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }

    /// One message transaction: MAIL, RCPT, and DATA when the recipient was accepted;
    /// returns the RCPT reply (and RSETs after a refusal).
    pub fn message(&mut self, from: &str, to: &str) -> (u16, String) {
        let (code, text) = self.cmd(&format!("MAIL FROM:<{from}>"));
        assert_eq!(code, 250, "{text}");
        let (code, text) = self.cmd(&format!("RCPT TO:<{to}>"));
        if code != 250 {
            let (c, t) = self.cmd("RSET");
            assert_eq!(c, 250, "{t}");
            return (code, text);
        }
        let (c, t) = self.cmd("DATA");
        assert_eq!(c, 354, "{t}");
        let (c, t) = self.cmd(&format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: test\r\n\r\nhello\r\n."
        ));
        assert_eq!(c, 250, "{t}");
        (code, text)
    }
}
