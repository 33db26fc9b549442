//! Helpers for the DNS server tests: queries built by hand, answers read with the `domain`
//! crate into a comparable form, an in-process server on a free loopback port.

use domain::base::{Message, ParsedName};
use domain::rdata::AllRecordData;
use rblkit::dns::server::Server;
use rblkit::zone::DatasetSpec;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// One question.
#[derive(Debug, Clone)]
pub struct Q {
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// EDNS payload size, if an OPT record is sent.
    pub edns: Option<u16>,
    pub rd: bool,
}

impl Q {
    pub fn new(name: &str, qtype: u16) -> Q {
        Q {
            name: name.to_owned(),
            qtype,
            qclass: 1,
            edns: None,
            rd: false,
        }
    }
    pub fn edns(mut self, size: u16) -> Q {
        self.edns = Some(size);
        self
    }
    pub fn wire(&self, id: u16) -> Vec<u8> {
        let mut q = Vec::with_capacity(64);
        q.extend_from_slice(&id.to_be_bytes());
        q.extend_from_slice(&[u8::from(self.rd), 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        if self.edns.is_some() {
            q[11] = 1;
        }
        for label in self.name.trim_end_matches('.').split('.') {
            if label.is_empty() {
                continue;
            }
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&self.qtype.to_be_bytes());
        q.extend_from_slice(&self.qclass.to_be_bytes());
        if let Some(size) = self.edns {
            q.push(0);
            q.extend_from_slice(&41u16.to_be_bytes());
            q.extend_from_slice(&size.to_be_bytes());
            q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        }
        q
    }
}

/// An answer in comparable form: header bits, rcode, each section's records as text
/// (owner lowercased), sorted; the OPT record apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct A {
    pub rcode: u8,
    pub aa: bool,
    pub tc: bool,
    pub rd: bool,
    pub question: Vec<u8>,
    pub answer: Vec<String>,
    pub authority: Vec<String>,
    pub additional: Vec<String>,
    pub opt: Option<u16>,
    pub size: usize,
}

fn section(
    s: domain::base::message::RecordSection<'_, &[u8]>,
    out: &mut Vec<String>,
    opt: &mut Option<u16>,
) -> Option<()> {
    for rr in s {
        let rr = rr.ok()?;
        if rr.rtype() == domain::base::iana::Rtype::OPT {
            *opt = Some(rr.class().to_int());
            continue;
        }
        let rec = rr
            .into_any_record::<AllRecordData<_, ParsedName<_>>>()
            .ok()?;
        out.push(rec.to_string().to_ascii_lowercase());
    }
    out.sort();
    Some(())
}

/// Reads an answer; `None` when it does not parse.
pub fn read(m: &[u8]) -> Option<A> {
    let msg = Message::from_octets(m).ok()?;
    let h = msg.header();
    let mut a = A {
        rcode: m[3] & 15,
        aa: h.aa(),
        tc: h.tc(),
        rd: h.rd(),
        question: Vec::new(),
        answer: Vec::new(),
        authority: Vec::new(),
        additional: Vec::new(),
        opt: None,
        size: m.len(),
    };
    let q = msg.question();
    for x in q {
        let x = x.ok()?;
        a.question = format!("{} {} {}", x.qname(), x.qtype(), x.qclass()).into_bytes();
    }
    let mut opt = None;
    let an = msg.answer().ok()?;
    section(an, &mut a.answer, &mut opt)?;
    section(msg.authority().ok()?, &mut a.authority, &mut opt)?;
    section(msg.additional().ok()?, &mut a.additional, &mut opt)?;
    a.opt = opt;
    Some(a)
}

/// A UDP client to one server.
pub struct Udp {
    sock: UdpSocket,
    id: std::sync::atomic::AtomicU16,
}

impl Udp {
    pub fn new(addr: SocketAddr) -> Udp {
        let sock = UdpSocket::bind(if addr.is_ipv6() {
            "[::1]:0"
        } else {
            "127.0.0.1:0"
        })
        .unwrap();
        sock.connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        Udp {
            sock,
            id: std::sync::atomic::AtomicU16::new(100),
        }
    }

    /// A client whose socket is bound to `src` (port 0), to ask from several loopback
    /// addresses; `wait` is how long one answer is waited for.
    pub fn from_source(src: std::net::IpAddr, addr: SocketAddr, wait: Duration) -> Udp {
        let sock = UdpSocket::bind(SocketAddr::new(src, 0)).unwrap();
        sock.connect(addr).unwrap();
        sock.set_read_timeout(Some(wait)).unwrap();
        Udp {
            sock,
            id: std::sync::atomic::AtomicU16::new(100),
        }
    }

    /// Sends raw bytes, returns the raw answer (`None`: no answer within the timeout).
    pub fn raw(&self, packet: &[u8]) -> Option<Vec<u8>> {
        let mut buf = [0u8; 65535];
        let _ = self.sock.send(packet).ok()?;
        loop {
            match self.sock.recv(&mut buf) {
                Ok(n) if n >= 2 && packet.len() >= 2 && buf[..2] == packet[..2] => {
                    return Some(buf[..n].to_vec())
                }
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Makes receiving return at once when nothing is waiting.
    pub fn nonblocking(self) -> Udp {
        self.sock.set_nonblocking(true).unwrap();
        self
    }

    /// One datagram if one is waiting (within the read timeout): its length.
    pub fn try_recv(&self, buf: &mut [u8]) -> Option<usize> {
        self.sock.recv(buf).ok()
    }

    /// Sends bytes without waiting for an answer.
    pub fn sock_send(&self, packet: &[u8]) -> std::io::Result<usize> {
        self.sock.send(packet)
    }

    /// One try only: the answer, or `None` after the read timeout.
    pub fn ask_once(&self, q: &Q) -> Option<Vec<u8>> {
        let id = self
            .id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(1);
        self.raw(&q.wire(id))
    }

    pub fn ask(&self, q: &Q) -> Option<Vec<u8>> {
        let id = self
            .id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(1);
        let p = q.wire(id);
        for _ in 0..3 {
            if let Some(a) = self.raw(&p) {
                return Some(a);
            }
        }
        None
    }
}

/// One query over TCP (a fresh connection).
pub fn tcp_ask(addr: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    let mut m = (packet.len() as u16).to_be_bytes().to_vec();
    m.extend_from_slice(packet);
    s.write_all(&m).ok()?;
    let mut len = [0u8; 2];
    s.read_exact(&mut len).ok()?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// An in-process server for these specs on a free loopback port.
pub fn serve(specs: &[String], threads: usize, check: Option<Duration>) -> Server {
    let specs: Vec<DatasetSpec> = specs.iter().map(|s| s.parse().unwrap()).collect();
    Server::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .threads(threads)
        .specs(specs)
        .check_interval(check)
        .start()
        .unwrap()
}
