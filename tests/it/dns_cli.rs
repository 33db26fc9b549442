//! `rblkit serve` as a program: answers over UDP and TCP on the address given, reloads on
//! SIGHUP, refuses a bad spec with status 64.

use super::dns_tools::{read, tcp_ask, Udp, Q};
use super::zone_tools::TempDir;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process, killed on drop.
pub struct Running(pub Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_answers_and_reloads_on_sighup() {
    let dir = TempDir::new("dns-cli");
    let f = dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:old\n",
    );
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args([
            "serve",
            "--threads",
            "1",
            "--check-interval",
            "0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg(format!("bl.test:ip4set:{f}"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let c = Udp::new(addr);
    let q = Q::new("1.2.0.192.bl.test", 16);
    let t0 = Instant::now();
    let first = loop {
        if let Some(a) = c.ask(&q).and_then(|m| read(&m)) {
            break a;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "no answer");
    };
    assert!(first.answer[0].contains("\"old\""), "{first:?}");
    let t = read(&tcp_ask(addr, &q.wire(1)).unwrap()).unwrap();
    assert_eq!(t.answer, first.answer);
    dir.write(
        "bl.txt",
        b"$SOA 1h ns.bl.test. hostmaster.bl.test. 3 1h 15m 1w 5m\n192.0.2.1 :127.0.0.2:new!\n",
    );
    let st = Command::new("kill")
        .args(["-HUP", &running.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let t0 = Instant::now();
    loop {
        let a = read(&c.ask(&q).unwrap()).unwrap();
        if a.answer[0].contains("\"new!\"") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "not reloaded: {a:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let soa = read(&c.ask(&Q::new("bl.test", 6)).unwrap()).unwrap();
    assert!(soa.answer[0].contains(" 4 3600 "), "{soa:?}");
}

#[test]
fn serve_refuses_a_bad_spec() {
    let st = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(["serve", "--listen", "127.0.0.1:0", "bl.test:nosuchtype:x"])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(64));
    let st = Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "bl.test:ip4set:/nonexistent/file",
        ])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(66));
}
