//! One question to one server: UDP with retries, TCP when the answer is truncated.

use super::wire::{Answer, Question};
use super::{ClientError, Failure};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::Mutex;
use tokio::time::{Instant, Interval};

/// The receive buffer for UDP: room for more than the payload size offered in EDNS0
/// (a longer datagram is cut, fails to parse, and is a malformed answer).
const UDP_BUFFER: usize = 4096;

/// Hands out unpredictable message IDs: a per-process random key hashed with a counter.
#[derive(Debug)]
pub(crate) struct Ids {
    key: std::collections::hash_map::RandomState,
    counter: AtomicU64,
}

impl Ids {
    pub(crate) fn new() -> Ids {
        Ids {
            key: std::collections::hash_map::RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u16 {
        let mut h = self.key.build_hasher();
        h.write_u64(self.counter.fetch_add(1, Ordering::Relaxed));
        h.finish() as u16
    }
}

/// The most idle UDP sockets kept for reuse.
const POOL_MAX: usize = 256;

/// Connected UDP sockets, idle, of one batch of checks (they belong to the runtime running
/// it), each with its receive buffer: a query takes one (or connects a new one) and puts it
/// back when it got its answer;
/// a socket that timed out or failed is dropped, so no late answer waits in it. Each has
/// its own random port, and answers are matched by ID and question as with fresh sockets.
pub(crate) type Pool = std::sync::Mutex<Vec<(UdpSocket, Box<[u8]>)>>;

/// How a check talks to its resolver.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) server: SocketAddr,
    pub(crate) timeout: Duration,
    pub(crate) attempts: u8,
    pub(crate) ids: Ids,
}

impl Transport {
    /// Asks `q`: up to `attempts` UDP tries of `timeout` each (each one waits for a slot of
    /// `limiter` first) on sockets of `pool`, then TCP when the answer came truncated.
    pub(crate) async fn ask(
        &self,
        q: &Question,
        limiter: Option<&Mutex<Interval>>,
        pool: &Pool,
    ) -> Result<Answer, Failure> {
        let mut query = Vec::with_capacity(64 + q.name_len());
        let mut last = Failure::Timeout;
        for _ in 0..self.attempts {
            if let Some(l) = limiter {
                l.lock().await.tick().await;
            }
            let id = self.ids.next();
            q.write_query(id, &mut query);
            match self.udp(q, id, &query, pool).await {
                Ok(a) if a.truncated => {
                    return match self.tcp(q, id, &query).await {
                        Ok(a) => Ok(a),
                        Err(Failure::Network(kind)) => Err(Failure::Truncated { tcp: kind }),
                        Err(f) => Err(f),
                    };
                }
                Ok(a) => return Ok(a),
                Err(f @ (Failure::Timeout | Failure::Network(_))) => last = f,
                Err(f) => return Err(f),
            }
        }
        Err(last)
    }

    async fn udp(
        &self,
        q: &Question,
        id: u16,
        query: &[u8],
        pool: &Pool,
    ) -> Result<Answer, Failure> {
        let net = |e: io::Error| Failure::Network(e.kind());
        let idle = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (sock, mut buf) = match idle {
            Some(s) => s,
            None => (
                self.connect().await.map_err(net)?,
                vec![0u8; UDP_BUFFER].into_boxed_slice(),
            ),
        };
        sock.send(query).await.map_err(net)?;
        let deadline = Instant::now() + self.timeout;
        let mut bad = None;
        loop {
            let n = match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Err(_) => return Err(bad.unwrap_or(Failure::Timeout)),
                Ok(Err(e)) => return Err(net(e)),
                Ok(Ok(n)) => n,
            };
            match q.decode(id, &buf[..n]) {
                Ok(a) => {
                    let mut pool = pool.lock().unwrap_or_else(|p| p.into_inner());
                    if pool.len() < POOL_MAX {
                        pool.push((sock, buf));
                    }
                    return Ok(a);
                }
                // Someone else's datagram, a late answer to an earlier query, or a forgery
                // that guessed wrong: keep waiting.
                Err(ClientError::NotOurs { .. }) => {}
                Err(_) => bad = Some(Failure::Malformed),
            }
        }
    }

    /// A new UDP socket connected to the server: the kernel drops datagrams from other
    /// addresses, and reports ICMP port-unreachable as a refused connection.
    async fn connect(&self) -> io::Result<UdpSocket> {
        let local: SocketAddr = match self.server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let sock = UdpSocket::bind(local).await?;
        sock.connect(self.server).await?;
        Ok(sock)
    }

    async fn tcp(&self, q: &Question, id: u16, query: &[u8]) -> Result<Answer, Failure> {
        let exchange = async {
            let mut s = TcpStream::connect(self.server).await?;
            let mut out = Vec::with_capacity(2 + query.len());
            out.extend_from_slice(&(query.len() as u16).to_be_bytes());
            out.extend_from_slice(query);
            s.write_all(&out).await?;
            let len = s.read_u16().await? as usize;
            let mut msg = vec![0u8; len];
            s.read_exact(&mut msg).await?;
            Ok::<_, io::Error>(msg)
        };
        let msg = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => return Err(Failure::Timeout),
            Ok(Err(e)) => return Err(Failure::Network(e.kind())),
            Ok(Ok(m)) => m,
        };
        match q.decode(id, &msg) {
            Ok(mut a) => {
                // Over TCP nothing is cut; a TC bit here means nothing more can be had.
                a.truncated = false;
                Ok(a)
            }
            Err(_) => Err(Failure::Malformed),
        }
    }
}
