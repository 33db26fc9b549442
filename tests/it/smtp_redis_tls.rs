//! `rblkit policy` servers sharing their counters in a real `redis-server` (Debian package
//! `redis-server`) over TLS on a loopback port (`rediss://`), with a private CA, a server
//! certificate and a client certificate made by the `openssl` command line (Debian package
//! `openssl`): counting across two servers with mutual TLS and a password, a server whose
//! certificate the configured CA did not sign, and a missing client certificate.

use crate::smtp_tools::{free_port, rcpt, PolicyClient, PolicyProc, BIN};
use crate::zone_tools::{tool, TempDir};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `openssl ARGS` in `dir`; panics with its output when it fails.
fn openssl(bin: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`NAME-ca.pem`, `NAME-ca.key`) in `dir`.
fn make_ca(bin: &Path, dir: &Path, name: &str) {
    openssl(
        bin,
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name} test CA"),
            "-keyout",
            &format!("{name}-ca.key"),
            "-out",
            &format!("{name}-ca.pem"),
        ],
    );
}

/// A certificate `NAME.pem` with key `NAME.key`, signed by the CA `CA`, for `usage`
/// (`serverAuth` with the loopback address as its name, or `clientAuth`).
fn make_cert(bin: &Path, dir: &Path, ca: &str, name: &str, usage: &str) {
    let ext = format!("{name}.ext");
    let mut text = format!("basicConstraints=CA:FALSE\nextendedKeyUsage={usage}\n");
    if usage == "serverAuth" {
        text.push_str("subjectAltName=IP:127.0.0.1\n");
    }
    std::fs::write(dir.join(&ext), text).unwrap();
    openssl(
        bin,
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        bin,
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}-ca.pem"),
            "-CAkey",
            &format!("{ca}-ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// The tools, or `None` (skipped locally, a failure in CI).
fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let server = tool("redis-server", &["/usr/bin/redis-server"], "redis-server")?;
    let cli = tool("redis-cli", &["/usr/bin/redis-cli"], "redis-tools")?;
    let openssl = tool("openssl", &["/usr/bin/openssl"], "openssl")?;
    Some((server, cli, openssl))
}

/// A `redis-server` that only speaks TLS, on a loopback port, its certificates from the
/// CA `main` in `dir`; killed on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
    cli: PathBuf,
    password: &'static str,
}

impl TlsRedis {
    fn start(bin: &Path, cli: &Path, dir: &Path, password: &'static str) -> TlsRedis {
        let port = free_port();
        let log = std::fs::File::create(dir.join("redis.log")).unwrap();
        let child = Command::new(bin)
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--tls-auth-clients", "yes"])
            .args([
                "--tls-cert-file",
                "server.pem",
                "--tls-key-file",
                "server.key",
            ])
            .args([
                "--tls-ca-cert-file",
                "main-ca.pem",
                "--requirepass",
                password,
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let r = TlsRedis {
            child,
            port,
            dir: dir.to_path_buf(),
            cli: cli.to_path_buf(),
            password,
        };
        let t = Instant::now();
        while r.command(&["PING"]) != "PONG" {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "redis-server did not answer over TLS on {port}: {}",
                std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    /// One command through `redis-cli --tls` with the client certificate; its output.
    fn command(&self, args: &[&str]) -> String {
        let out = Command::new(&self.cli)
            .args(["--tls", "--cacert", "main-ca.pem", "--cert", "client.pem"])
            .args(["--key", "client.key", "-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args(["--no-auth-warning", "-a", self.password])
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The certificates every test uses: CA `main` (server and client certificates) and CA
/// `other` (signs nothing the server has).
fn certificates(openssl: &Path, dir: &Path) {
    make_ca(openssl, dir, "main");
    make_ca(openssl, dir, "other");
    make_cert(openssl, dir, "main", "server", "serverAuth");
    make_cert(openssl, dir, "main", "client", "clientAuth");
}

/// A policy config for `redis` with the limit, the CA file and, when `client`, the
/// client certificate.
fn config(redis: &TlsRedis, limit: u32, password: &str, ca: &str, client: bool) -> String {
    let d = redis.dir.display();
    let mut c = format!(
        "[limits]\nmessages_per_hour = {limit}\n[redis]\n\
         url = \"rediss://:{password}@127.0.0.1:{}/0\"\ntimeout_ms = 2000\n\
         on_failure = \"closed\"\ntls_ca_file = \"{d}/{ca}-ca.pem\"\n",
        redis.port
    );
    if client {
        c.push_str(&format!(
            "tls_cert_file = \"{d}/client.pem\"\ntls_key_file = \"{d}/client.key\"\n"
        ));
    }
    c
}

fn policy(dir: &TempDir, name: &str, config: &str) -> PolicyProc {
    PolicyProc::in_dir(&dir.0, name, config, &[])
}

#[test]
fn two_servers_count_over_mutual_tls_with_a_password() {
    let Some((server, cli, openssl)) = tools() else {
        return;
    };
    let dir = TempDir::new("smtp-redis-tls");
    certificates(&openssl, &dir.0);
    let redis = TlsRedis::start(&server, &cli, &dir.0, "tls-secret");
    let text = config(&redis, 3, "tls-secret", "main", true);
    let a = policy(&dir, "a", &text);
    let b = policy(&dir, "b", &text);
    let mut pa = PolicyClient::connect(a.port);
    let mut pb = PolicyClient::connect(b.port);
    let who = "tls@shop.example.com";
    assert_eq!(
        pa.ask(&rcpt("m1", who, "r1@example.net")),
        "DUNNO",
        "{}",
        a.log()
    );
    // the same message through the other server counts once
    assert_eq!(pb.ask(&rcpt("m1", who, "r2@example.net")), "DUNNO");
    assert_eq!(pb.ask(&rcpt("m2", who, "r3@example.net")), "DUNNO");
    assert_eq!(pa.ask(&rcpt("m3", who, "r4@example.net")), "DUNNO");
    let key = format!("rblkit:rate:identity:{who}");
    assert_eq!(redis.command(&["ZCARD", &key]), "3");
    // each server saw two messages of its own; the shared count refuses the fourth
    let over = pb.ask(&rcpt("m4", who, "r5@example.net"));
    assert!(over.starts_with("450 4.7.1 "), "{over}\n{}", b.log());
    assert_eq!(redis.command(&["ZCARD", &key]), "3");
    assert!(!a.log().contains("redis failed"), "{}", a.log());
}

#[test]
fn a_wrong_ca_a_missing_client_certificate_and_a_wrong_password_get_the_failure_answer() {
    let Some((server, cli, openssl)) = tools() else {
        return;
    };
    let dir = TempDir::new("smtp-redis-tls-bad");
    certificates(&openssl, &dir.0);
    let redis = TlsRedis::start(&server, &cli, &dir.0, "tls-secret");
    let who = "bad@shop.example.com";
    let cases = [
        // the server's certificate is not signed by the configured CA
        (
            "wrong-ca",
            config(&redis, 3, "tls-secret", "other", true),
            "invalid peer certificate",
        ),
        // the server asks for a client certificate, none is configured
        (
            "no-client-cert",
            config(&redis, 3, "tls-secret", "main", false),
            "redis failed",
        ),
        // TLS is fine, the password is not
        (
            "wrong-password",
            config(&redis, 3, "not-the-secret", "main", true),
            "redis failed",
        ),
    ];
    for (name, text, logged) in cases {
        let p = policy(&dir, name, &text);
        let mut c = PolicyClient::connect(p.port);
        let answer = c.ask(&rcpt(&format!("{name}.1"), who, "r@example.net"));
        assert!(answer.starts_with("451 4.3.0 "), "{name}: {answer}");
        // the log line says why, once a second at most
        let t = Instant::now();
        while !p.log().contains(logged) {
            assert!(t.elapsed() < Duration::from_secs(10), "{name}: {}", p.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!p.log().contains("tls-secret"), "{name}: password logged");
    }
    let key = format!("rblkit:rate:identity:{who}");
    assert_eq!(redis.command(&["ZCARD", &key]), "0");
}

#[test]
fn bad_tls_files_are_refused_naming_the_file() {
    let dir = TempDir::new("smtp-redis-tls-config");
    let not_pem = dir.0.join("not.pem");
    std::fs::write(&not_pem, "just some text\n").unwrap();
    let missing = dir.0.join("missing.pem");
    let base = "[redis]\nurl = \"rediss://127.0.0.1:6380/0\"\n";
    let cases = [
        (
            format!("{base}tls_ca_file = \"{}\"\n", missing.display()),
            vec![missing.display().to_string(), "cannot be read".into()],
        ),
        (
            format!("{base}tls_ca_file = \"{}\"\n", not_pem.display()),
            vec![not_pem.display().to_string(), "no certificate".into()],
        ),
        (
            format!(
                "{base}tls_cert_file = \"{0}\"\ntls_key_file = \"{0}\"\n",
                not_pem.display()
            ),
            vec![not_pem.display().to_string(), "tls_cert_file".into()],
        ),
        (
            format!("{base}tls_cert_file = \"{}\"\n", not_pem.display()),
            vec!["needs redis.tls_key_file".into()],
        ),
        (
            format!(
                "[redis]\nurl = \"redis://127.0.0.1:6379/0\"\ntls_ca_file = \"{}\"\n",
                not_pem.display()
            ),
            vec!["only with a rediss:// URL".into()],
        ),
    ];
    for (i, (text, wanted)) in cases.iter().enumerate() {
        let cfg = dir.0.join(format!("p{i}.toml"));
        std::fs::write(&cfg, text).unwrap();
        let out = Command::new(BIN)
            .args(["policy", "--check-config"])
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "case {i}: {err}");
        for w in wanted {
            assert!(err.contains(w.as_str()), "case {i}: {w:?} not in {err}");
        }
    }
}
