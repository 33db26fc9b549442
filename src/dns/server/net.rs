//! Sockets and threads: UDP workers on SO_REUSEPORT sockets, TCP connections, reloads.

use super::answer::{Scratch, Transport};
use super::catalog::Catalog;
use super::error::ServerError;
use super::ops::Limits;
use super::ops::QueryLog;
use super::rrl::{Quota, RateLimit};
use super::tsig::{self, TsigKey, Verdict};
use super::xfr::Mirror;
use crate::subject::Domain;
use crate::watch::Stamp;
use crate::zone::{DatasetSpec, LoadOptions, Zone, ZoneError};
use arc_swap::ArcSwap;
use socket2::{Domain as SockDomain, Protocol, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Something the server reports: loads, warnings, failures.
///
/// # Examples
///
/// See [`ServerBuilder::on_event`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A zone was loaded from its files.
    Loaded {
        /// The zone.
        zone: Domain,
        /// The SOA serial it is served with (0 without SOA).
        serial: u32,
        /// Entry lines accepted, all datasets.
        entries: u64,
        /// How long loading took.
        took: Duration,
    },
    /// A bad line that was skipped (file and line in the text).
    Warning {
        /// The zone.
        zone: Domain,
        /// The warning.
        warning: crate::zone::LineError,
    },
    /// A zone's files did not load: the zone keeps answering from its old data.
    LoadFailed {
        /// The zone.
        zone: Domain,
        /// Why.
        error: ZoneError,
    },
    /// A zone transfer was sent.
    Transfer {
        /// The zone.
        zone: Domain,
        /// The secondary.
        peer: std::net::IpAddr,
        /// AXFR, IXFR, or IXFR answered with the whole zone or the SOA alone.
        style: super::xfr::TransferStyle,
        /// The serial sent.
        serial: u32,
        /// The secondary's serial (IXFR).
        from: Option<u32>,
        /// Records sent, SOA records included.
        records: u64,
    },
    /// A transfer was refused: the address is not allowed, or the name is not a zone
    /// that can be transferred (one with an SOA and a master-file form).
    TransferRefused {
        /// The name asked for.
        name: Box<str>,
        /// Who asked.
        peer: std::net::IpAddr,
        /// Why: not allowed, not signed, a TSIG error, not a zone transferred.
        why: &'static str,
    },
    /// A zone is served but cannot be transferred (it has no master-file form).
    NoTransfer {
        /// The zone.
        zone: Domain,
        /// Why.
        why: Box<str>,
    },
    /// A secondary answered the NOTIFY for a new serial.
    Notified {
        /// The zone.
        zone: Domain,
        /// The secondary.
        secondary: SocketAddr,
        /// The serial announced.
        serial: u32,
        /// NOTIFY messages sent.
        tries: u32,
    },
    /// A secondary did not answer the NOTIFY, however often it was sent.
    NotifyUnanswered {
        /// The zone.
        zone: Domain,
        /// The secondary.
        secondary: SocketAddr,
        /// The serial announced.
        serial: u32,
        /// NOTIFY messages sent.
        tries: u32,
    },
    /// Per-zone statistics asked for with the stats flag (SIGUSR1), one line a zone, as
    /// rbldnsd logs them.
    Stats {
        /// One line per zone: queries, listed, not listed, refused, ignored.
        lines: Vec<String>,
    },
    /// One query of every N, with [`ServerBuilder::query_log_sample`] (from the thread that
    /// answered it).
    Query {
        /// Who asked.
        peer: std::net::IpAddr,
        /// UDP or TCP.
        transport: Transport,
        /// The zone it was answered from (`None`: outside every zone, or not a query).
        zone: Option<Domain>,
        /// The name asked for, dotted, without the final dot (empty when the query did
        /// not parse).
        qname: Box<str>,
        /// The query type.
        qtype: u16,
        /// The answer's rcode.
        rcode: u8,
        /// Whether the answer has records from the data (the name is listed).
        listed: bool,
        /// Bytes sent (0: no answer, dropped by an acl or the rate limiter).
        bytes: usize,
    },
}

pub(crate) type EventFn = Arc<dyn Fn(&Event) + Send + Sync>;

/// How the server is set up. See [`Server::builder`].
///
/// # Examples
///
/// See [`Server`].
pub struct ServerBuilder {
    listen: Vec<SocketAddr>,
    threads: usize,
    specs: Vec<DatasetSpec>,
    load: LoadOptions,
    catalog: Option<Catalog>,
    check_interval: Option<Duration>,
    reload_flag: Option<Arc<AtomicBool>>,
    max_tcp: usize,
    tcp_idle: Duration,
    default_ttl: u32,
    on_event: Option<EventFn>,
    query_log_sample: u64,
    allow_transfer: Vec<(ipnet::IpNet, Option<Box<str>>)>,
    notify: Vec<(SocketAddr, Option<Box<str>>)>,
    tsig_keys: Vec<TsigKey>,
    rate_limit: Option<RateLimit>,
    quota: Option<Quota>,
    metrics: Option<SocketAddr>,
    stats_flag: Option<Arc<AtomicBool>>,
    watch: bool,
    udp_batch: bool,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("listen", &self.listen)
            .field("threads", &self.threads)
            .field("specs", &self.specs)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// Listens on this address, UDP and TCP (repeatable; port 0 picks a free port, the same
    /// for both).
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn listen(mut self, addr: SocketAddr) -> ServerBuilder {
        self.listen.push(addr);
        self
    }

    /// UDP worker threads per address (default: the number of cores), each with its own
    /// SO_REUSEPORT socket.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn threads(mut self, n: usize) -> ServerBuilder {
        self.threads = n.max(1);
        self
    }

    /// Serves the zones of these rbldnsd specs, loaded from their files (and reloaded when
    /// they change, see [`ServerBuilder::check_interval`]).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use rblkit::dns::server::Server;
    /// let server = Server::builder()
    ///     .listen("127.0.0.1:5353".parse().unwrap())
    ///     .specs(vec!["bl.example:ip4set:/var/lib/rbldnsd/bl.txt".parse()?])
    ///     .start()?;
    /// server.wait();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn specs(mut self, specs: Vec<DatasetSpec>) -> ServerBuilder {
        self.specs = specs;
        self
    }

    /// How the spec files are read.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{LoadOptions, Strictness};
    /// let b = rblkit::dns::server::Server::builder().load_options(LoadOptions::default().with_strictness(Strictness::Strict));
    /// ```
    pub fn load_options(mut self, o: LoadOptions) -> ServerBuilder {
        self.load = o;
        self
    }

    /// Serves this catalog (instead of, or before, the specs): for instance zones answering
    /// from lists compiled from the ledger. Replace it later with [`Server::publish`].
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn catalog(mut self, c: Catalog) -> ServerBuilder {
        self.catalog = Some(c);
        self
    }

    /// How often the spec files are checked for changes (size, modification time); default
    /// 60 s, as rbldnsd; `None` checks only when asked ([`Server::reload`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().check_interval(Some(std::time::Duration::from_secs(1)));
    /// ```
    pub fn check_interval(mut self, every: Option<Duration>) -> ServerBuilder {
        self.check_interval = every;
        self
    }

    /// A flag that, when set (by a SIGHUP handler, say), makes the server check its files
    /// now; the server clears it.
    ///
    /// # Examples
    ///
    /// ```
    /// let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    /// let b = rblkit::dns::server::Server::builder().reload_flag(flag.clone());
    /// ```
    pub fn reload_flag(mut self, flag: Arc<AtomicBool>) -> ServerBuilder {
        self.reload_flag = Some(flag);
        self
    }

    /// TCP: the most connections open at once (default 128; more are closed at once) and
    /// how long one may stay idle (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().tcp_limits(16, std::time::Duration::from_secs(2));
    /// ```
    pub fn tcp_limits(mut self, max_connections: usize, idle: Duration) -> ServerBuilder {
        self.max_tcp = max_connections.max(1);
        self.tcp_idle = idle;
        self
    }

    /// The TTL of records from datasets without `$TTL` (default 35 minutes, as rbldnsd).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().default_ttl(300);
    /// ```
    pub fn default_ttl(mut self, ttl: u32) -> ServerBuilder {
        self.default_ttl = ttl;
        self
    }

    /// Allows AXFR and IXFR over TCP from these addresses (repeatable; none by default:
    /// transfers are REFUSED). Zones loaded from datasets are transferred as the master file
    /// [`Zone::write_master`] writes, zones of compiled lists (with an SOA) as
    /// [`list_master_records`](crate::zone::list_master_records) gives them, both with the
    /// served serial; IXFR answers from the differences of the last versions (each
    /// [`Server::publish`] that changes a list makes one), with the whole zone when the
    /// secondary's serial is older.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().allow_transfer("127.0.0.0/8".parse().unwrap());
    /// ```
    pub fn allow_transfer(mut self, net: ipnet::IpNet) -> ServerBuilder {
        self.allow_transfer.push((net, None));
        self
    }

    /// Allows AXFR and IXFR from these addresses when the request is signed with the TSIG
    /// key of this name (given with [`ServerBuilder::tsig_key`]); an unsigned request, or
    /// one signed with another key, is REFUSED unless another rule allows it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Server;
    /// let b = Server::builder()
    ///     .tsig_key("xfr:c2VjcmV0c2VjcmV0".parse()?)
    ///     .allow_transfer_with_key("127.0.0.0/8".parse().unwrap(), "xfr");
    /// # Ok::<(), rblkit::dns::server::TsigError>(())
    /// ```
    pub fn allow_transfer_with_key(mut self, net: ipnet::IpNet, key: &str) -> ServerBuilder {
        self.allow_transfer.push((
            net,
            Some(key.trim_end_matches('.').to_ascii_lowercase().into()),
        ));
        self
    }

    /// A TSIG key (RFC 8945) the server knows (repeatable): a request signed with it is
    /// verified and answered signed — transfers, and the SOA queries secondaries send
    /// before them; a request signed with an unknown key, a bad MAC or a time more than
    /// its fudge away is answered NOTAUTH with BADKEY, BADSIG or BADTIME.
    ///
    /// # Examples
    ///
    /// See [`ServerBuilder::allow_transfer_with_key`].
    pub fn tsig_key(mut self, key: TsigKey) -> ServerBuilder {
        self.tsig_keys.retain(|k| k.name() != key.name());
        self.tsig_keys.push(key);
        self
    }

    /// Sends NOTIFY to this secondary signed with the TSIG key of this name.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Server;
    /// let b = Server::builder()
    ///     .tsig_key("xfr:c2VjcmV0c2VjcmV0".parse()?)
    ///     .notify_with_key("192.0.2.53:53".parse().unwrap(), "xfr");
    /// # Ok::<(), rblkit::dns::server::TsigError>(())
    /// ```
    pub fn notify_with_key(mut self, secondary: SocketAddr, key: &str) -> ServerBuilder {
        self.notify.push((
            secondary,
            Some(key.trim_end_matches('.').to_ascii_lowercase().into()),
        ));
        self
    }

    /// Sends a NOTIFY to this secondary whenever a zone's serial changes (repeatable), again
    /// until it answers (six tries, 1 s apart and then doubling).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().notify("192.0.2.53:53".parse().unwrap());
    /// ```
    pub fn notify(mut self, secondary: SocketAddr) -> ServerBuilder {
        self.notify.push((secondary, None));
        self
    }

    /// Called for every [`Event`] (from the loading thread, and for [`Event::Query`] from
    /// the thread that answered; keep it short).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().on_event(|e| eprintln!("{e:?}"));
    /// ```
    pub fn on_event(mut self, f: impl Fn(&Event) + Send + Sync + 'static) -> ServerBuilder {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// Reports every `n`th query (the `n`th, `2n`th, …, counted over all threads) as an
    /// [`Event::Query`] to the [`ServerBuilder::on_event`] callback (without one, nothing is
    /// counted); 0 (the default) reports none. A query not reported costs one relaxed atomic increment and a compare.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder()
    ///     .on_event(|e| eprintln!("{e:?}"))
    ///     .query_log_sample(100);
    /// ```
    pub fn query_log_sample(mut self, n: u64) -> ServerBuilder {
        self.query_log_sample = n;
        self
    }

    /// Limits the UDP responses per client network (see [`RateLimit`]); off by default, so
    /// that the server answers as rbldnsd does.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::{RateLimit, Server};
    /// let b = Server::builder().rate_limit(RateLimit::builder().rate(50).build()?);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn rate_limit(mut self, r: RateLimit) -> ServerBuilder {
        self.rate_limit = Some(r);
        self
    }

    /// Counts the queries per client network against a quota (see [`Quota`]); off by
    /// default.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::{Quota, Server};
    /// let b = Server::builder().quota(Quota::builder().queries(10_000).period_secs(3600).build()?);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn quota(mut self, q: Quota) -> ServerBuilder {
        self.quota = Some(q);
        self
    }

    /// Serves Prometheus metrics on `GET http://ADDR/metrics` (queries by zone, type and
    /// rcode, listed or not, access verdicts, per-key counts, rate-limit decisions, TCP
    /// connections, answer latency, zone serials, entries and loads).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = rblkit::dns::server::Server::builder()
    ///     .listen("127.0.0.1:0".parse().unwrap())
    ///     .threads(1)
    ///     .metrics("127.0.0.1:0".parse().unwrap())
    ///     .start()?;
    /// assert!(s.metrics_addr().is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn metrics(mut self, addr: SocketAddr) -> ServerBuilder {
        self.metrics = Some(addr);
        self
    }

    /// A flag that, when set (by a SIGUSR1 handler, say), makes the server report its
    /// per-zone statistics as an [`Event::Stats`]; the server clears it.
    ///
    /// # Examples
    ///
    /// ```
    /// let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    /// let b = rblkit::dns::server::Server::builder().stats_flag(flag.clone());
    /// ```
    pub fn stats_flag(mut self, flag: Arc<AtomicBool>) -> ServerBuilder {
        self.stats_flag = Some(flag);
        self
    }

    /// Whether the dataset files are watched (inotify) and reloaded when they change, besides
    /// the periodic check and [`Server::reload`]; default on. A change is read once the
    /// file has been quiet for 250 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().watch_files(false);
    /// ```
    pub fn watch_files(mut self, on: bool) -> ServerBuilder {
        self.watch = on;
        self
    }

    /// Whether UDP workers take and send datagrams in batches (`recvmmsg`/`sendmmsg`, on
    /// Linux; default on), or one system call per datagram each way. Answers are the same
    /// either way; batches cost fewer system calls per query under load.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().udp_batch(false);
    /// ```
    pub fn udp_batch(mut self, on: bool) -> ServerBuilder {
        self.udp_batch = on;
        self
    }

    /// Loads the specs, binds the sockets and starts the threads.
    ///
    /// # Errors
    ///
    /// No address, a socket that cannot be bound, a spec whose files do not load, two
    /// zones of the same name.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn start(mut self) -> Result<Server, crate::Error> {
        if self.listen.is_empty() {
            return Err(ServerError::NoListen.into());
        }
        let notify_targets = self.check_keys()?;
        let mut limits = Limits::new(self.rate_limit.take(), self.quota.take());
        if self.metrics.is_some() {
            limits = limits.with_stats();
        }
        if let (n @ 1.., Some(f)) = (self.query_log_sample, &self.on_event) {
            limits = limits.with_query_log(QueryLog::new(n, f.clone()));
        }
        let limits = Arc::new(limits);
        let events: Option<EventFn> = if self.metrics.is_some() {
            let (l, user) = (limits.clone(), self.on_event.clone());
            Some(Arc::new(move |e: &Event| {
                l.note(e);
                if let Some(f) = &user {
                    f(e);
                }
            }))
        } else {
            self.on_event.clone()
        };
        let mut loader = Loader {
            specs: self.specs.clone(),
            load: self.load,
            zones: Vec::new(),
            base: self.catalog.clone(),
            default_ttl: self.default_ttl,
            events: events.clone(),
        };
        let catalog = if self.specs.is_empty() {
            self.catalog
                .clone()
                .unwrap_or_else(|| Catalog::builder().build().expect("empty catalog"))
        } else {
            loader.load_initial()?;
            loader.catalog()?
        };
        let (mirror, notices) = self.mirror(events.clone());
        if let Some(m) = &mirror {
            m.update(&catalog, true);
        }
        let shared = Arc::new(Shared {
            keys: self.tsig_keys.clone().into(),
            mirror,
            catalog: ArcSwap::from_pointee(catalog),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            reload: self.reload_flag.unwrap_or_default(),
            publish: Mutex::new(()),
            tcp_open: AtomicUsize::new(0),
            limits,
            start: Instant::now(),
            stats: self.stats_flag.unwrap_or_default(),
            changes: Arc::default(),
        });
        let watcher = if self.watch && !self.specs.is_empty() {
            let files: Vec<Box<str>> = self
                .specs
                .iter()
                .flat_map(|s| s.files().iter().cloned())
                .collect();
            crate::watch::watch(&files, shared.changes.clone(), shared.start)
        } else {
            None
        };
        let endpoint = match self.metrics {
            Some(addr) => {
                let sh = shared.clone();
                let render = move || {
                    super::ops::render(
                        &sh.catalog.load(),
                        &sh.limits,
                        sh.tcp_open.load(Ordering::Relaxed),
                    )
                };
                Some(crate::metrics::Endpoint::start(addr, render).map_err(|e| {
                    ServerError::Socket {
                        addr,
                        what: "serve metrics on",
                        kind: e.kind(),
                    }
                })?)
            }
            None => None,
        };
        let mut threads = Vec::new();
        let mut local = Vec::new();
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(|e| ServerError::Thread { kind: e.kind() })
        };
        for &addr in &self.listen {
            let (udp, tcp) = bind_pair(addr, self.threads)?;
            let bound = tcp.local_addr().map_err(|e| ServerError::Socket {
                addr,
                what: "read the address of",
                kind: e.kind(),
            })?;
            local.push(bound);
            for (i, sock) in udp.into_iter().enumerate() {
                let sh = shared.clone();
                let batch = self.udp_batch;
                threads.push(spawn(
                    format!("rblkit-udp-{i}"),
                    Box::new(move || udp_worker(&sh, &sock, batch)),
                )?);
            }
            let sh = shared.clone();
            let (max, idle) = (self.max_tcp, self.tcp_idle);
            threads.push(spawn(
                "rblkit-tcp".into(),
                Box::new(move || tcp_acceptor(&sh, &tcp, max, idle)),
            )?);
        }
        if let Some(rx) = notices {
            let sh = shared.clone();
            let (targets, ev) = (notify_targets, events.clone());
            threads.push(spawn(
                "rblkit-notify".into(),
                Box::new(move || {
                    super::xfr::notifier(&rx, &targets, ev, &|| sh.stop.load(Ordering::Relaxed))
                }),
            )?);
        }
        if !self.specs.is_empty() {
            let sh = shared.clone();
            let every = self.check_interval;
            threads.push(spawn(
                "rblkit-reload".into(),
                Box::new(move || reloader(&sh, loader, every)),
            )?);
        }
        Ok(Server {
            shared,
            threads,
            local,
            endpoint,
            _watcher: watcher,
        })
    }
}

impl ServerBuilder {
    /// The transfer and NOTIFY state, when transfers are allowed or secondaries named.
    fn mirror(
        &self,
        events: Option<EventFn>,
    ) -> (Option<Arc<Mirror>>, Option<Receiver<super::xfr::Notice>>) {
        if self.allow_transfer.is_empty() && self.notify.is_empty() {
            return (None, None);
        }
        let (tx, rx) = match self.notify.is_empty() {
            true => (None, None),
            false => {
                let (tx, rx) = std::sync::mpsc::channel();
                (Some(tx), Some(rx))
            }
        };
        let keys: Arc<[TsigKey]> = self.tsig_keys.clone().into();
        let m = Mirror::new(self.allow_transfer.clone(), keys, tx, events);
        (Some(Arc::new(m)), rx)
    }

    /// The key of each name a rule or secondary gives.
    fn check_keys(&self) -> Result<Vec<(SocketAddr, Option<TsigKey>)>, ServerError> {
        let find = |name: &str| {
            self.tsig_keys
                .iter()
                .find(|k| k.name() == name)
                .cloned()
                .ok_or_else(|| ServerError::UnknownKey { name: name.into() })
        };
        for (_, k) in &self.allow_transfer {
            if let Some(k) = k {
                find(k)?;
            }
        }
        self.notify
            .iter()
            .map(|(a, k)| Ok((*a, k.as_deref().map(find).transpose()?)))
            .collect()
    }
}

/// Binds `threads` SO_REUSEPORT UDP sockets and one TCP listener to `addr` (the same port
/// for all when it is 0).
fn bind_pair(
    addr: SocketAddr,
    threads: usize,
) -> Result<(Vec<UdpSocket>, TcpListener), ServerError> {
    let err = |what: &'static str| {
        move |e: std::io::Error| ServerError::Socket {
            addr,
            what,
            kind: e.kind(),
        }
    };
    let dom = SockDomain::for_address(addr);
    let mut last = None;
    for _attempt in 0..20 {
        let first = Socket::new(dom, Type::DGRAM, Some(Protocol::UDP)).map_err(err("open"))?;
        prepare(&first, addr).map_err(err("set up"))?;
        first.bind(&SockAddr::from(addr)).map_err(err("bind UDP"))?;
        let actual = first
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .unwrap_or(addr);
        let tcp = Socket::new(dom, Type::STREAM, Some(Protocol::TCP)).map_err(err("open"))?;
        prepare(&tcp, actual).map_err(err("set up"))?;
        if let Err(e) = tcp.bind(&SockAddr::from(actual)) {
            if addr.port() == 0 {
                last = Some(e);
                continue;
            }
            return Err(err("bind TCP")(e));
        }
        tcp.listen(128).map_err(err("listen"))?;
        let mut udp = vec![UdpSocket::from(first)];
        for _ in 1..threads {
            let s = Socket::new(dom, Type::DGRAM, Some(Protocol::UDP)).map_err(err("open"))?;
            prepare(&s, actual).map_err(err("set up"))?;
            s.bind(&SockAddr::from(actual)).map_err(err("bind UDP"))?;
            udp.push(UdpSocket::from(s));
        }
        for s in &udp {
            s.set_read_timeout(Some(POLL)).map_err(err("set up"))?;
        }
        return Ok((udp, TcpListener::from(tcp)));
    }
    Err(err("bind TCP")(last.unwrap_or_else(|| {
        std::io::Error::from(std::io::ErrorKind::AddrInUse)
    })))
}

fn prepare(s: &Socket, addr: SocketAddr) -> std::io::Result<()> {
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    Ok(())
}

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(200);

/// What the threads share.
struct Shared {
    /// The TSIG keys signed queries are checked against.
    keys: Arc<[TsigKey]>,
    /// Transfers and NOTIFY, when set up.
    mirror: Option<Arc<Mirror>>,
    catalog: ArcSwap<Catalog>,
    /// Bumped after every swap, so workers reload their copy with one atomic read.
    generation: AtomicU64,
    stop: AtomicBool,
    reload: Arc<AtomicBool>,
    /// Serialises publishers, so serials follow one another.
    publish: Mutex<()>,
    tcp_open: AtomicUsize,
    /// Quota, rate limiting, counters.
    limits: Arc<Limits>,
    /// The clock the limits count in.
    start: Instant,
    /// Set to ask for the per-zone statistics.
    stats: Arc<AtomicBool>,
    /// File changes seen by the watcher.
    changes: Arc<crate::watch::Changes>,
}

impl Shared {
    /// Milliseconds since the server started, when the limits need them.
    fn now_ms(&self) -> u64 {
        if self.limits.timed() {
            self.start.elapsed().as_millis() as u64
        } else {
            0
        }
    }
}

impl Shared {
    fn publish(&self, mut c: Catalog) -> Arc<Catalog> {
        let _g = self.publish.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.catalog.load_full();
        c.follow(&old);
        if let Some(m) = &self.mirror {
            m.update(&c, false);
        }
        let c = Arc::new(c);
        self.catalog.store(c.clone());
        self.generation.fetch_add(1, Ordering::Release);
        c
    }
}

/// A worker's view of the catalog: its own `Arc`, refreshed when the generation moves.
struct View {
    gen: u64,
    catalog: Arc<Catalog>,
}

impl View {
    fn new(sh: &Shared) -> View {
        let gen = sh.generation.load(Ordering::Acquire);
        View {
            gen,
            catalog: sh.catalog.load_full(),
        }
    }
    fn get(&mut self, sh: &Shared) -> &Catalog {
        let g = sh.generation.load(Ordering::Acquire);
        if g != self.gen {
            self.gen = g;
            self.catalog = sh.catalog.load_full();
        }
        &self.catalog
    }
}

/// One UDP worker: receive, answer, send, on fixed buffers; in batches when `batch` is set
/// and the platform has `recvmmsg`.
fn udp_worker(sh: &Shared, sock: &UdpSocket, batch: bool) {
    let mut view = View::new(sh);
    let mut scratch = Scratch::new();
    #[cfg(target_os = "linux")]
    if batch {
        let mut b = super::batch::Batch::new();
        while !sh.stop.load(Ordering::Relaxed) {
            b.run(sock, &mut scratch, |query, ip, scratch, out| {
                let now = sh.now_ms();
                sh.limits
                    .answer(view.get(sh), query, Transport::Udp, ip, now, scratch, out)
            });
        }
        return;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = batch;
    let mut inb = [0u8; 4096];
    let mut out = [0u8; 4096];
    while !sh.stop.load(Ordering::Relaxed) {
        let (n, peer) = match sock.recv_from(&mut inb) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let now = sh.now_ms();
        let catalog = view.get(sh);
        let q = &inb[..n];
        let len = match answer_signed(
            sh,
            catalog,
            q,
            Transport::Udp,
            peer.ip(),
            &mut scratch,
            &mut out,
        ) {
            Some(len) => len,
            None => sh.limits.answer(
                catalog,
                q,
                Transport::Udp,
                peer.ip(),
                now,
                &mut scratch,
                &mut out,
            ),
        };
        if len > 0 {
            let _ = sock.send_to(&out[..len], peer);
        }
    }
}

fn tcp_acceptor(sh: &Arc<Shared>, l: &TcpListener, max: usize, idle: Duration) {
    // a blocking accept that gives up after POLL (Linux honours the receive timeout on a
    // listening socket), so a connection is taken the moment it arrives and the stop flag
    // is still seen; where the timeout is not honoured, non-blocking polling
    let sr = socket2::SockRef::from(l);
    let timed = cfg!(target_os = "linux") && sr.set_read_timeout(Some(POLL)).is_ok();
    if !timed {
        let _ = l.set_nonblocking(true);
    }
    while !sh.stop.load(Ordering::Relaxed) {
        match l.accept() {
            Ok((s, _)) => {
                let stats = sh.limits.stats.as_ref();
                if sh.tcp_open.fetch_add(1, Ordering::AcqRel) >= max {
                    sh.tcp_open.fetch_sub(1, Ordering::AcqRel);
                    if let Some(s) = stats {
                        s.tcp_refused.inc();
                    }
                    continue;
                }
                if let Some(s) = stats {
                    s.tcp_accepted.inc();
                }
                let sh2 = sh.clone();
                let spawned = std::thread::Builder::new()
                    .name("rblkit-tcp-conn".into())
                    .spawn(move || {
                        tcp_connection(&sh2, s, idle);
                        sh2.tcp_open.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    sh.tcp_open.fetch_sub(1, Ordering::AcqRel);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && timed => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // nothing waiting (polling), or out of descriptors: try again shortly
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// One TCP connection: length-prefixed queries until the client closes, stays idle too
/// long, or the server stops.
fn tcp_connection(sh: &Shared, mut s: TcpStream, idle: Duration) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(POLL.min(idle)));
    let _ = s.set_write_timeout(Some(idle));
    let _ = s.set_nodelay(true);
    let mut view = View::new(sh);
    let mut scratch = Scratch::new();
    let peer = s
        .peer_addr()
        .map_or(std::net::IpAddr::from([0u8; 4]), |a| a.ip());
    let mut inb = vec![0u8; 65535];
    let mut out = vec![0u8; 65537];
    loop {
        let mut len = [0u8; 2];
        if !read_full(sh, &mut s, &mut len, idle) {
            return;
        }
        let n = usize::from(u16::from_be_bytes(len));
        if !read_full(sh, &mut s, &mut inb[..n], idle) {
            return;
        }
        if let Some(m) = &sh.mirror {
            let mut w = &s;
            match m.transfer(&inb[..n], peer, &mut |b| w.write_all(b)) {
                Some(Ok(())) => continue,
                Some(Err(_)) => return,
                None => {}
            }
        }
        let now = sh.now_ms();
        let catalog = view.get(sh);
        let q = &inb[..n];
        let m = match answer_signed(
            sh,
            catalog,
            q,
            Transport::Tcp,
            peer,
            &mut scratch,
            &mut out[2..],
        ) {
            Some(len) => len,
            None => sh.limits.answer(
                catalog,
                q,
                Transport::Tcp,
                peer,
                now,
                &mut scratch,
                &mut out[2..],
            ),
        };
        if m == 0 {
            return;
        }
        out[..2].copy_from_slice(&(m as u16).to_be_bytes());
        if s.write_all(&out[..m + 2]).is_err() {
            return;
        }
    }
}

/// Answers a query that carries a TSIG record, when the server has keys: verified, then
/// answered as any query and signed with the same key, or answered FORMERR or NOTAUTH
/// (with the TSIG error). `None` when the server has no keys or the query no TSIG record;
/// `Some(0)` when nothing is to be sent.
fn answer_signed(
    sh: &Shared,
    catalog: &Catalog,
    q: &[u8],
    transport: Transport,
    peer: std::net::IpAddr,
    scratch: &mut Scratch,
    out: &mut [u8],
) -> Option<usize> {
    if sh.keys.is_empty() || q.len() < 12 || q[10..12] == [0, 0] {
        return None;
    }
    let verdict = tsig::verify(&sh.keys, q, tsig::unix_now());
    if matches!(verdict, Verdict::Unsigned) {
        return None;
    }
    let Ok(req) = super::request::Request::parse(q) else {
        return Some(0);
    };
    let qend = req.question_end();
    // with the TCP length in front
    let m = match verdict {
        Verdict::Unsigned => return None,
        Verdict::Malformed => super::xfr::short_reply(q, qend, 1),
        Verdict::Failed(mut f) => {
            let mut m = super::xfr::short_reply(q, qend, 9);
            f.append(&mut m, 2);
            m
        }
        Verdict::Signed { mut signer, len } => {
            let mut unsigned = q[..len].to_vec();
            let ar = u16::from_be_bytes([unsigned[10], unsigned[11]]).saturating_sub(1);
            unsigned[10..12].copy_from_slice(&ar.to_be_bytes());
            let limit = match transport {
                Transport::Udp => req.edns().map_or(512, |e| usize::from(e.udp_size).max(512)),
                _ => 65535,
            };
            let cap = limit.min(out.len()).saturating_sub(signer.overhead());
            let now = sh.now_ms();
            let n = sh.limits.answer(
                catalog,
                &unsigned,
                transport,
                peer,
                now,
                scratch,
                &mut out[..cap],
            );
            if n == 0 {
                return Some(0);
            }
            let mut m = vec![0, 0];
            m.extend_from_slice(&out[..n]);
            signer.sign(&mut m, 2, tsig::unix_now());
            m
        }
    };
    let m = &m[2..];
    if m.len() > out.len() {
        return Some(0);
    }
    out[..m.len()].copy_from_slice(m);
    Some(m.len())
}

/// Reads exactly `buf`, giving up at end of stream, after `idle` without data, or on stop.
fn read_full(sh: &Shared, s: &mut TcpStream, buf: &mut [u8], idle: Duration) -> bool {
    let mut got = 0;
    let mut quiet = Instant::now();
    while got < buf.len() {
        if sh.stop.load(Ordering::Relaxed) {
            return false;
        }
        match s.read(&mut buf[got..]) {
            Ok(0) => return false,
            Ok(k) => {
                got += k;
                quiet = Instant::now();
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if quiet.elapsed() >= idle {
                    return false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

/// The stamp of the files of `specs`.
fn stamp(specs: &[&DatasetSpec]) -> Stamp {
    crate::watch::stamp(specs.iter().flat_map(|s| s.files().iter()))
}

/// Loads the spec files, zone by zone, and keeps what loaded last.
struct Loader {
    specs: Vec<DatasetSpec>,
    load: LoadOptions,
    /// (zone, its data, the stamp of its files when loaded)
    zones: Vec<(Domain, Zone, Stamp)>,
    base: Option<Catalog>,
    default_ttl: u32,
    events: Option<EventFn>,
}

impl Loader {
    fn zone_names(&self) -> Vec<Domain> {
        let mut v: Vec<Domain> = Vec::new();
        for s in &self.specs {
            if !v.contains(s.zone()) {
                v.push(s.zone().clone());
            }
        }
        v
    }

    fn specs_of(&self, z: &Domain) -> Vec<&DatasetSpec> {
        self.specs.iter().filter(|s| s.zone() == z).collect()
    }

    fn emit(&self, e: Event) {
        if let Some(f) = &self.events {
            f(&e);
        }
    }

    fn load_zone(&self, z: &Domain) -> Result<(Zone, Stamp, Duration), ZoneError> {
        let specs = self.specs_of(z);
        let st = stamp(&specs);
        let t0 = Instant::now();
        let owned: Vec<DatasetSpec> = specs.into_iter().cloned().collect();
        let mut zones = Zone::load_all(&owned, self.load)?;
        let zone = zones.pop().unwrap_or_else(|| Zone::new(z.clone(), vec![]));
        Ok((zone, st, t0.elapsed()))
    }

    fn report(&self, zone: &Zone, took: Duration, serial: u32) {
        let mut entries = 0;
        for d in zone.datasets() {
            entries += d.entries();
            for w in d.warnings() {
                self.emit(Event::Warning {
                    zone: zone.name().clone(),
                    warning: w.clone(),
                });
            }
        }
        self.emit(Event::Loaded {
            zone: zone.name().clone(),
            serial,
            entries,
            took,
        });
    }

    fn load_initial(&mut self) -> Result<(), crate::Error> {
        for z in self.zone_names() {
            let (zone, st, took) = self.load_zone(&z)?;
            self.report(&zone, took, zone.serial().unwrap_or(0));
            self.zones.push((z, zone, st));
        }
        Ok(())
    }

    /// Reloads the zones whose files changed: the new catalog and, per changed zone, how
    /// long it took to load; `None` when nothing changed.
    fn refresh(&mut self, old: &Catalog) -> Option<(Catalog, Vec<(usize, Duration)>)> {
        let mut changed = Vec::new();
        for i in 0..self.zones.len() {
            let name = self.zones[i].0.clone();
            let now = stamp(&self.specs_of(&name));
            if now == self.zones[i].2 {
                continue;
            }
            match self.load_zone(&name) {
                Ok((zone, st, took)) => {
                    self.zones[i].1 = zone;
                    self.zones[i].2 = st;
                    changed.push((i, took));
                }
                Err(error) => {
                    // keep the old data; look again when the files change again
                    self.zones[i].2 = now;
                    self.emit(Event::LoadFailed { zone: name, error });
                }
            }
        }
        if changed.is_empty() {
            return None;
        }
        let mut c = match self.catalog() {
            Ok(c) => c,
            Err(_) => return None,
        };
        let names: Vec<Domain> = changed
            .iter()
            .map(|&(i, _)| self.zones[i].0.clone())
            .collect();
        c.keep_unchanged(old, &names);
        Some((c, changed))
    }

    fn catalog(&self) -> Result<Catalog, crate::Error> {
        let mut b = Catalog::builder().default_ttl(self.default_ttl);
        for (_, z, _) in &self.zones {
            b = b.zone(z.clone());
        }
        let mut c = b.build()?;
        if let Some(base) = &self.base {
            c.merge(base);
        }
        Ok(c)
    }
}

fn reloader(sh: &Shared, mut loader: Loader, every: Option<Duration>) {
    let mut last = Instant::now();
    while !sh.stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if sh.stats.swap(false, Ordering::AcqRel) {
            loader.emit(Event::Stats {
                lines: super::ops::zone_stats(&sh.catalog.load()),
            });
        }
        let due = every.is_some_and(|e| last.elapsed() >= e);
        let asked = sh.reload.swap(false, Ordering::AcqRel)
            | sh.changes.due(sh.start.elapsed().as_millis() as u64);
        if !due && !asked {
            continue;
        }
        last = Instant::now();
        let old = sh.catalog.load_full();
        if let Some((c, changed)) = loader.refresh(&old) {
            let now = sh.publish(c);
            for (i, took) in changed {
                let zone = &loader.zones[i].1;
                loader.report(zone, took, now.serial(zone.name()).unwrap_or(0));
            }
        }
    }
}

/// A running server. Dropping it stops it.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{Catalog, Server};
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
/// let catalog = Catalog::builder().list("bl.example".parse()?, b.build(), None, None, None).build()?;
/// let server = Server::builder()
///     .listen("127.0.0.1:0".parse().unwrap())
///     .threads(1)
///     .catalog(catalog)
///     .start()?;
/// let addr = server.local_addrs()[0];
/// assert_ne!(addr.port(), 0);
/// // later: a new list, swapped in while queries run
/// let mut b = List::builder();
/// b.insert(&"192.0.2.2".parse()?, Listing::new(ReturnCode::LISTED));
/// server.publish(Catalog::builder().list("bl.example".parse()?, b.build(), None, None, None).build()?);
/// server.shutdown();
/// # Ok::<(), rblkit::Error>(())
/// ```
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    local: Vec<SocketAddr>,
    endpoint: Option<crate::metrics::Endpoint>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A builder: addresses, threads, specs or a catalog.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            listen: Vec::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            specs: Vec::new(),
            load: LoadOptions::default(),
            catalog: None,
            check_interval: Some(Duration::from_secs(60)),
            reload_flag: None,
            max_tcp: 128,
            tcp_idle: Duration::from_secs(10),
            default_ttl: super::catalog::DEFAULT_TTL,
            on_event: None,
            query_log_sample: 0,
            allow_transfer: Vec::new(),
            notify: Vec::new(),
            tsig_keys: Vec::new(),
            rate_limit: None,
            quota: None,
            metrics: None,
            stats_flag: None,
            watch: true,
            udp_batch: true,
        }
    }

    /// The address of the metrics endpoint, with the port actually bound.
    ///
    /// # Examples
    ///
    /// See [`ServerBuilder::metrics`].
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.endpoint.as_ref().map(|e| e.local_addr())
    }

    /// The addresses listened on, with the ports actually bound.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local
    }

    /// The catalog answering now.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = rblkit::dns::server::Server::builder().listen("127.0.0.1:0".parse().unwrap()).threads(1).start()?;
    /// assert_eq!(s.catalog().zones().count(), 0);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared.catalog.load_full()
    }

    /// Swaps in a new catalog: queries already being answered finish with the old one,
    /// every later query sees the new one; a zone whose data changed gets a greater SOA
    /// serial (see [`Catalog`]), a compiled list published again with the same answers
    /// (and apex records) keeps its serial. With transfers set up, a zone whose serial
    /// moved gets a new version for IXFR and its secondaries a NOTIFY.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn publish(&self, catalog: Catalog) {
        let _ = self.shared.publish(catalog);
    }

    /// Checks the spec files now (as on SIGHUP) and reloads the zones whose files changed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = rblkit::dns::server::Server::builder().listen("127.0.0.1:0".parse().unwrap()).threads(1).start()?;
    /// s.reload();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn reload(&self) {
        self.shared.reload.store(true, Ordering::Release);
    }

    /// Stops the threads and waits for them.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// Runs until the process ends.
    ///
    /// # Examples
    ///
    /// See [`ServerBuilder::specs`].
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn stop(&mut self) {
        self.endpoint = None;
        self.shared.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
