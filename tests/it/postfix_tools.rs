//! A throwaway Postfix instance on loopback for tests: its own configuration, queue and data
//! directories under a temporary directory, an SMTP listener on a free 127.0.0.1 port, the
//! log in a file, and the caller's extra `main.cf` and `master.cf` lines. Stopped on drop.

use crate::zone_tools::{tool, TempDir};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Postfix {
    pub dir: TempDir,
    pub port: u16,
    postfix: PathBuf,
}

/// Whether the tests can run Postfix here: the program, and root (Postfix's master starts
/// as root and drops to `mail_owner`). In CI a missing piece fails the test.
pub fn available() -> Option<(PathBuf, PathBuf)> {
    let postfix = tool("postfix", &["/usr/sbin/postfix"], "postfix")?;
    let swaks = tool("swaks", &["/usr/bin/swaks"], "swaks")?;
    // The effective user, from `id -u`.
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        let msg = "Postfix tests need root (its master process starts as root)";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}: required in CI");
        }
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    Some((postfix, swaks))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const MASTER: &str = "\
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
";

impl Postfix {
    /// Starts an instance with `main_extra` appended to its `main.cf` and `master_extra` to
    /// its `master.cf`. `@DIR@` in either is replaced by the instance's directory.
    pub fn start(postfix: PathBuf, tag: &str, main_extra: &str, master_extra: &str) -> Postfix {
        let dir = TempDir::new(tag);
        let port = free_port();
        let d = dir.0.display().to_string();
        for sub in ["etc", "spool", "data"] {
            std::fs::create_dir_all(dir.0.join(sub)).unwrap();
        }
        // Postfix's own processes write the data directory.
        let chown = Command::new("chown")
            .arg("postfix")
            .arg(dir.0.join("data"))
            .status()
            .unwrap();
        assert!(chown.success(), "chown postfix {}/data", d);
        let main = format!(
            "compatibility_level = 3.6\n\
             queue_directory = {d}/spool\n\
             data_directory = {d}/data\n\
             maillog_file = {d}/maillog\n\
             maillog_file_prefixes = {d}\n\
             mail_owner = postfix\n\
             setgid_group = postdrop\n\
             myhostname = mx.rblkit-test.example\n\
             mydomain = rblkit-test.example\n\
             myorigin = $myhostname\n\
             inet_interfaces = loopback-only\n\
             inet_protocols = ipv4\n\
             mydestination =\n\
             local_recipient_maps =\n\
             alias_maps =\n\
             alias_database =\n\
             mynetworks = 127.0.0.0/8\n\
             smtpd_banner = $myhostname ESMTP\n\
             biff = no\n\
             append_dot_mydomain = no\n\
             smtputf8_enable = no\n\
             {}\n",
            main_extra.replace("@DIR@", &d)
        );
        std::fs::write(dir.0.join("etc/main.cf"), main).unwrap();
        let master = format!(
            "127.0.0.1:{port} inet n - n - - smtpd\n{MASTER}{}\n",
            master_extra.replace("@DIR@", &d)
        );
        std::fs::write(dir.0.join("etc/master.cf"), master).unwrap();
        let pf = Postfix { dir, port, postfix };
        let out = pf.cmd(&["start"]);
        assert!(
            out.status.success(),
            "postfix start: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            pf.log()
        );
        // Wait for the listener.
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "postfix did not listen on {port}\n{}",
                pf.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pf
    }

    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new(&self.postfix)
            .arg("-c")
            .arg(self.dir.0.join("etc"))
            .args(args)
            .output()
            .unwrap()
    }

    /// The instance's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("maillog")).unwrap_or_default()
    }

    /// Whether the queue is empty (every message delivered or bounced).
    pub fn queue_empty(&self) -> bool {
        let spool = self.dir.0.join("spool");
        ["incoming", "active", "deferred", "maildrop"]
            .iter()
            .all(|q| walk_files(&spool.join(q)) == 0)
    }
}

fn walk_files(p: &std::path::Path) -> usize {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk_files(&p)
            } else {
                1
            }
        })
        .sum()
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = self.cmd(&["stop"]);
        // `postfix stop` returns before the master exits; give it a moment so the
        // directory can go.
        let pid_file = self.dir.0.join("spool/pid/master.pid");
        let t = Instant::now();
        while pid_file.exists() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
