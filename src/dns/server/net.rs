//! Sockets and threads: UDP workers on SO_REUSEPORT sockets, TCP connections, reloads.

use super::answer::{respond, Scratch, Transport};
use super::catalog::Catalog;
use super::error::ServerError;
use super::xfr::Mirror;
use crate::subject::Domain;
use crate::zone::{DatasetSpec, LoadOptions, Zone, ZoneError};
use arc_swap::ArcSwap;
use socket2::{Domain as SockDomain, Protocol, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

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
    /// served from datasets.
    TransferRefused {
        /// The name asked for.
        name: Box<str>,
        /// Who asked.
        peer: std::net::IpAddr,
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
    allow_transfer: Vec<ipnet::IpNet>,
    notify: Vec<SocketAddr>,
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
    /// [`Zone::write_master`] writes, with the served serial; IXFR answers from the
    /// differences of the last versions, with the whole zone when the secondary's serial is
    /// older.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rblkit::dns::server::Server::builder().allow_transfer("127.0.0.0/8".parse().unwrap());
    /// ```
    pub fn allow_transfer(mut self, net: ipnet::IpNet) -> ServerBuilder {
        self.allow_transfer.push(net);
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
        self.notify.push(secondary);
        self
    }

    /// Called for every [`Event`] (from the loading thread; keep it short).
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
    pub fn start(self) -> Result<Server, crate::Error> {
        if self.listen.is_empty() {
            return Err(ServerError::NoListen.into());
        }
        let events = self.on_event.clone();
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
            mirror,
            catalog: ArcSwap::from_pointee(catalog),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
            reload: self.reload_flag.unwrap_or_default(),
            publish: Mutex::new(()),
            tcp_open: AtomicUsize::new(0),
        });
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
                threads.push(spawn(
                    format!("rblkit-udp-{i}"),
                    Box::new(move || udp_worker(&sh, &sock)),
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
            let (targets, ev) = (self.notify.clone(), events.clone());
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
        let m = Mirror::new(self.allow_transfer.clone(), tx, events);
        (Some(Arc::new(m)), rx)
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

/// One UDP worker: receive, answer, send, on fixed buffers.
fn udp_worker(sh: &Shared, sock: &UdpSocket) {
    let mut view = View::new(sh);
    let mut scratch = Scratch::new();
    let mut inb = [0u8; 4096];
    let mut out = [0u8; 4096];
    while !sh.stop.load(Ordering::Relaxed) {
        let (n, peer) = match sock.recv_from(&mut inb) {
            Ok(x) => x,
            Err(_) => continue,
        };
        let len = respond(
            view.get(sh),
            &inb[..n],
            Transport::Udp,
            &mut scratch,
            &mut out,
        );
        if len > 0 {
            let _ = sock.send_to(&out[..len], peer);
        }
    }
}

fn tcp_acceptor(sh: &Arc<Shared>, l: &TcpListener, max: usize, idle: Duration) {
    let _ = l.set_nonblocking(true);
    while !sh.stop.load(Ordering::Relaxed) {
        match l.accept() {
            Ok((s, _)) => {
                if sh.tcp_open.fetch_add(1, Ordering::AcqRel) >= max {
                    sh.tcp_open.fetch_sub(1, Ordering::AcqRel);
                    continue;
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
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
            }
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
        if let (Some(m), Ok(peer)) = (&sh.mirror, s.peer_addr()) {
            let mut w = &s;
            match m.transfer(&inb[..n], peer.ip(), &mut |b| w.write_all(b)) {
                Some(Ok(())) => continue,
                Some(Err(_)) => return,
                None => {}
            }
        }
        let m = respond(
            view.get(sh),
            &inb[..n],
            Transport::Tcp,
            &mut scratch,
            &mut out[2..],
        );
        if m == 0 {
            return;
        }
        out[..2].copy_from_slice(&(m as u16).to_be_bytes());
        if s.write_all(&out[..m + 2]).is_err() {
            return;
        }
    }
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

/// A file's size and modification time, as last seen.
type Stamp = Vec<(Box<str>, Option<(u64, SystemTime)>)>;

fn stamp(specs: &[&DatasetSpec]) -> Stamp {
    specs
        .iter()
        .flat_map(|s| s.files().iter())
        .map(|f| {
            let m = std::fs::metadata(&**f)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)));
            (f.clone(), m)
        })
        .collect()
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
        let due = every.is_some_and(|e| last.elapsed() >= e);
        let asked = sh.reload.swap(false, Ordering::AcqRel);
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
            allow_transfer: Vec::new(),
            notify: Vec::new(),
        }
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
    /// serial (see [`Catalog`]).
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
