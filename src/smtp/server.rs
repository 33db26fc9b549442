//! The policy server: many connections at once, many requests per connection, every
//! decision that counts recorded durably before it is answered, requests that arrive
//! together sharing one transaction.
//!
//! Connections run on a tokio runtime; one writer thread owns the [`Store`]. A connection
//! parses a request ([`RequestParser`], under the config's [`Limits`](super::Limits)),
//! checks the DNS lists when configured, and hands the request to the writer. The writer
//! takes every request waiting, decides each in turn on the ledger including the ones
//! before it ([`Store::append_each`]), commits their `message` events in one transaction,
//! and only then releases the answers. A client that breaks the protocol or a limit, or
//! stays silent past the idle limit, gets a log line ([`ServerEvent`]) and is disconnected;
//! the others are not affected.

use super::alert::Alerter;
use super::config::DnsList;
use super::decide::{Decider, DnsScore, Verdict};
use super::limits::{self, Limiter};
use super::lists::LocalLists;
use super::lograte::LogLimit;
use super::reply::{Action, RefusalReason};
use super::request::{Limits, Request, RequestParser};
use super::stats::{Dropped, Stats};
use super::SmtpError;
use crate::ledger::store::{Apply, Store, StoreError};
use crate::ledger::{Event, Ledger};
use crate::policy::Policy;
use crate::subject::Subject;
use crate::time::Timestamp;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// What the server reports as it runs, for its log.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::ServerEvent;
/// let e = ServerEvent::ClientDropped { peer: "127.0.0.1:4000".parse().unwrap(), why: "idle".into() };
/// assert!(matches!(e, ServerEvent::ClientDropped { .. }));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client was disconnected: it broke the protocol or a limit, or was idle too long.
    ClientDropped {
        /// The client.
        peer: SocketAddr,
        /// Why.
        why: Box<str>,
    },
    /// A request was refused (at most [`RefusalLog::per_second`](super::RefusalLog) of
    /// these a second; the others are summed up in [`ServerEvent::RefusalsSuppressed`]).
    Refused {
        /// The sender identity.
        identity: Option<Subject>,
        /// Why.
        reason: RefusalReason,
    },
    /// Refusals that were not logged one by one in the second before.
    RefusalsSuppressed {
        /// How many.
        count: u64,
    },
    /// The store failed: the requests of the batch were answered
    /// [`RefusalReason::Unavailable`].
    StoreFailed {
        /// What failed.
        error: StoreError,
    },
    /// The counters of the limits failed: Redis failed or timed out (the requests got the
    /// config's `on_failure` answer; reported at most once a second while it lasts), or
    /// the state directory's counter tables could not be used (the requests got the
    /// `unavailable` reply).
    SharedStoreFailed {
        /// What failed.
        message: Box<str>,
    },
    /// An alert could not be sent.
    AlertFailed {
        /// What failed.
        message: Box<str>,
    },
    /// Accepting a connection failed.
    AcceptFailed {
        /// What the operating system said.
        message: Box<str>,
    },
    /// The in-process lists were read again (their files changed, or SIGHUP).
    ListsReloaded {
        /// The dataset specs.
        specs: Box<str>,
    },
    /// The in-process lists could not be read again: the lists read before stay in use.
    ListsFailed {
        /// What failed.
        error: SmtpError,
    },
}

/// How events are applied to the ledger under a config's policy: the store a server uses
/// is opened with it (and so is every other process that judges the same state directory
/// by the relay profile).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{store_apply, PolicyConfig};
/// let _apply = store_apply(&PolicyConfig::default());
/// ```
pub fn store_apply(config: &super::PolicyConfig) -> Apply {
    let policy = Policy::relay_tuned(config.rate, config.kept_sending, config.campaign.rotation());
    Box::new(move |l: &mut Ledger, e: &Event| policy.apply(l, e))
}

/// A request waiting for the writer.
struct Job {
    req: Request,
    dns: Option<DnsScore>,
    reply: Option<tokio::sync::oneshot::Sender<Action>>,
}

/// The most requests decided in one transaction.
const MAX_BATCH: usize = 4096;

type Log = Arc<dyn Fn(ServerEvent) + Send + Sync>;

/// A running policy server. Dropping it (or [`PolicyServer::stop`]) stops it: no new
/// connections, the batch being written is committed, the writer closes the store.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::Store;
/// use rblkit::smtp::{store_apply, Decider, PolicyConfig, PolicyServer};
/// use std::io::{BufRead, BufReader, Write};
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-policy-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let config = PolicyConfig::default();
/// let store = Store::open_with(&dir, Default::default(), Default::default(), store_apply(&config))?;
/// let server = PolicyServer::start("127.0.0.1:0".parse().unwrap(), store, Decider::new(config), |_| {})?;
/// let mut c = std::net::TcpStream::connect(server.local_addr()).unwrap();
/// c.write_all(b"request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=7\nsender=root@localhost\nrecipient=a@example.net\nclient_address=127.0.0.1\n\n").unwrap();
/// let mut answer = String::new();
/// BufReader::new(&c).read_line(&mut answer).unwrap();
/// assert!(answer.starts_with("action=553 5.1.7 "), "{answer}");
/// server.stop();
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
pub struct PolicyServer {
    local_addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Arc<tokio::sync::Notify>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// The thread that reloads the in-process lists, and its stop signal.
    reloader: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    stats: Arc<Stats>,
}

impl std::fmt::Debug for PolicyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyServer")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

/// A listening socket with `SO_REUSEADDR`, so that a restarted server binds at once.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let s = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    s.set_reuseaddr(true)?;
    s.set_nodelay(true)?;
    s.bind(addr)?;
    s.listen(1024)
}

impl PolicyServer {
    /// Starts answering on `listen` (port 0: any free port), deciding with `decider` on the
    /// ledger in `store` (opened with [`store_apply`] of the same config), reporting to
    /// `log`. Uses two runtime threads and the writer thread.
    ///
    /// # Errors
    ///
    /// [`SmtpError::Io`] when the address cannot be bound, or the runtime or the DNS
    /// checker cannot be set up.
    pub fn start(
        listen: SocketAddr,
        store: Store,
        decider: Decider,
        log: impl Fn(ServerEvent) + Send + Sync + 'static,
    ) -> Result<PolicyServer, SmtpError> {
        PolicyServer::start_with_threads(listen, store, decider, 2, log)
    }

    /// [`PolicyServer::start`] with this many runtime threads (at least 1).
    ///
    /// # Errors
    ///
    /// As [`PolicyServer::start`].
    pub fn start_with_threads(
        listen: SocketAddr,
        store: Store,
        decider: Decider,
        threads: usize,
        log: impl Fn(ServerEvent) + Send + Sync + 'static,
    ) -> Result<PolicyServer, SmtpError> {
        let io_err = |e: std::io::Error| SmtpError::Io {
            addr: listen.to_string().into(),
            message: e.to_string().into(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("rblkit-policy")
            .enable_all()
            .build()
            .map_err(io_err)?;
        let listener = {
            let _g = runtime.enter();
            bind(listen).map_err(io_err)?
        };
        let local_addr = listener.local_addr().map_err(io_err)?;
        let log: Log = Arc::new(log);
        let stats = Arc::new(Stats::default());
        let limits = decider.config().limits;
        let checks = &decider.config().dns;
        let local = match decider.lists() {
            Some(l) => Some(l.clone()),
            None if !checks.datasets.is_empty() => Some(LocalLists::load(
                checks.datasets.clone(),
                crate::zone::LoadOptions::default(),
            )?),
            None => None,
        };
        let sites: Arc<[DnsList]> = checks.lists.clone().into();
        #[cfg(feature = "dns-client")]
        let dns = {
            let _g = runtime.enter();
            dns::Scorer::new(checks, local.as_ref())?.map(Arc::new)
        };
        let reloader = match &local {
            Some(l) if !l.specs().is_empty() => {
                Some(reload_thread(l.clone(), log.clone()).map_err(io_err)?)
            }
            _ => None,
        };
        let checkpointer = store.checkpointer().map_err(|e| SmtpError::Io {
            addr: listen.to_string().into(),
            message: e.to_string().into(),
        })?;
        let shared = Limiter::for_config(decider.config())?;
        let alerts = match decider.config().alerts.clone() {
            Some(a) => {
                let l = log.clone();
                let log = move |m: String| l(ServerEvent::AlertFailed { message: m.into() });
                Some(Alerter::start(a, log).map_err(io_err)?)
            }
            None => None,
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_log = log.clone();
        let writer_stats = stats.clone();
        let (ckpt_stop, ckpt_wait) = mpsc::channel::<()>();
        let ckpt_log = log.clone();
        let ckpt = std::thread::Builder::new()
            .name("rblkit-policy-checkpoint".into())
            .spawn(move || {
                // the log's pages into the database file, off the writer's path
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    ckpt_wait.recv_timeout(Duration::from_secs(1))
                {
                    if let Err(error) = checkpointer.checkpoint() {
                        ckpt_log(ServerEvent::StoreFailed { error });
                    }
                }
            })
            .map_err(io_err)?;
        let writer = std::thread::Builder::new()
            .name("rblkit-policy-writer".into())
            .spawn(move || {
                write_loop(
                    store,
                    decider,
                    shared,
                    alerts,
                    rx,
                    writer_log,
                    &writer_stats,
                );
                drop(ckpt_stop);
                let _ = ckpt.join();
            })
            .map_err(io_err)?;
        let stop = Arc::new(tokio::sync::Notify::new());
        let stop2 = stop.clone();
        let conn_stats = stats.clone();
        runtime.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = stop2.notified() => break,
                    a = listener.accept() => a,
                };
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let conn = Conn {
                            tx: tx.clone(),
                            limits,
                            log: log.clone(),
                            stats: conn_stats.clone(),
                            local: local.clone(),
                            sites: sites.clone(),
                            #[cfg(feature = "dns-client")]
                            dns: dns.clone(),
                        };
                        tokio::spawn(conn.serve(stream, peer));
                    }
                    Err(e) => {
                        log(ServerEvent::AcceptFailed {
                            message: e.to_string().into(),
                        });
                        // out of descriptors, say: do not spin
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        Ok(PolicyServer {
            local_addr,
            runtime: Some(runtime),
            stop,
            writer: Some(writer),
            reloader,
            stats,
        })
    }

    /// Serves Prometheus metrics on `GET http://ADDR/metrics` while the endpoint is kept:
    /// requests by action (`dunno`, `defer` for 4xx, `reject` for 5xx) and reason, clients
    /// dropped by why, connections, the decision latency histogram, store commits.
    ///
    /// # Errors
    ///
    /// [`SmtpError::Io`] when `addr` cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::smtp::{store_apply, Decider, PolicyConfig, PolicyServer};
    /// use std::io::{Read, Write};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-policy-metrics-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let config = PolicyConfig::default();
    /// let store = Store::open_with(&dir, Default::default(), Default::default(), store_apply(&config))?;
    /// let server = PolicyServer::start("127.0.0.1:0".parse().unwrap(), store, Decider::new(config), |_| {})?;
    /// let m = server.serve_metrics("127.0.0.1:0".parse().unwrap())?;
    /// let mut s = std::net::TcpStream::connect(m.local_addr()).unwrap();
    /// s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    /// let mut text = String::new();
    /// s.read_to_string(&mut text).unwrap();
    /// assert!(text.contains("rblkit_policy_connections_total 0\n"), "{text}");
    /// drop(m);
    /// server.stop();
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn serve_metrics(&self, addr: SocketAddr) -> Result<crate::metrics::Endpoint, SmtpError> {
        let stats = self.stats.clone();
        crate::metrics::Endpoint::start(addr, move || stats.render()).map_err(|e| SmtpError::Io {
            addr: addr.to_string().into(),
            message: format!("serve metrics on: {e}").into(),
        })
    }

    /// The address answered on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops the server and waits for the writer to close the store.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.notify_one();
        if let Some(rt) = self.runtime.take() {
            // connections end; their senders to the writer go with them
            rt.shutdown_timeout(Duration::from_secs(2));
        }
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some((stop, t)) = self.reloader.take() {
            drop(stop);
            let _ = t.join();
        }
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How often the in-process lists' files are looked at.
const LIST_CHECK: Duration = Duration::from_millis(250);

/// The thread that reloads the in-process lists when their files change or when asked
/// (SIGHUP); it ends when its sender is dropped.
fn reload_thread(
    lists: LocalLists,
    log: Log,
) -> std::io::Result<(mpsc::Sender<()>, std::thread::JoinHandle<()>)> {
    let (stop, wait) = mpsc::channel::<()>();
    let t = std::thread::Builder::new()
        .name("rblkit-policy-lists".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(LIST_CHECK) {
                match lists.reload_if_asked() {
                    Ok(true) => log(ServerEvent::ListsReloaded {
                        specs: lists
                            .specs()
                            .iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join(" ")
                            .into(),
                    }),
                    Ok(false) => {}
                    Err(error) => log(ServerEvent::ListsFailed { error }),
                }
            }
        })?;
    Ok((stop, t))
}

fn now() -> Timestamp {
    Timestamp::from_system_time(SystemTime::now())
}

/// The writer: takes the waiting requests, decides and records them in one transaction,
/// then answers them. Between requests it catches up with other processes' evidence every
/// second.
fn write_loop(
    mut store: Store,
    mut decider: Decider,
    mut shared: Option<Limiter>,
    mut alerts: Option<Alerter>,
    rx: mpsc::Receiver<Job>,
    log: Log,
    stats: &Stats,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(MAX_BATCH);
    let mut ready: Vec<(Job, Verdict)> = Vec::new();
    let mut counting: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut pre_asks: Vec<limits::Question> = Vec::new();
    let mut pre_index: Vec<Option<usize>> = Vec::new();
    let mut pre_out: Vec<limits::Answer> = Vec::new();
    let mut one: Vec<limits::Answer> = Vec::with_capacity(1);
    let mut last_sync = std::time::Instant::now();
    let mut gate = Gate {
        limit: LogLimit::new(decider.config().refusal_log.per_second),
        start: std::time::Instant::now(),
    };
    loop {
        gate.flush(&log);
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(j) => batch.push(j),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(error) = store.refresh() {
                    log(ServerEvent::StoreFailed { error });
                }
                last_sync = std::time::Instant::now();
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let t = now();
        // the requests that record nothing are answered at once, on the ledger as it is
        // (caught up at least every second); the others share one transaction
        if last_sync.elapsed() >= Duration::from_secs(1) {
            if let Err(error) = store.refresh() {
                log(ServerEvent::StoreFailed { error });
            }
            last_sync = std::time::Instant::now();
        }
        for j in batch.drain(..) {
            if decider.counts(&j.req) {
                counting.push(j);
            } else {
                let v = decider.decide(store.ledger(), &j.req, j.dns.as_ref(), t);
                ready.push((j, v));
            }
        }
        std::mem::swap(&mut batch, &mut counting);
        let items = ready.iter_mut().map(|(j, v)| (&j.req, v));
        settle(
            &mut shared,
            &store,
            &mut alerts,
            &decider,
            t,
            &log,
            stats,
            items,
        );
        release(&log, &mut gate, stats, &mut ready);
        if batch.is_empty() {
            continue;
        }
        verdicts.clear();
        let mut i = 0;
        // with Redis, the questions of the counting requests the ledger accepts as it
        // stands go in one pipeline before the transaction; a message the ledger refuses
        // in the transaction after all is taken back after it (it consumes no quota)
        let redis = matches!(shared, Some(Limiter::Redis(_)));
        pre_asks.clear();
        pre_index.clear();
        let mut closed = false;
        if let Some(l @ Limiter::Redis(_)) = shared.as_mut() {
            for j in &batch {
                let q = Decider::identity(&j.req)
                    .filter(|_| !decider.refuses(store.ledger(), &j.req, j.dns.as_ref(), t))
                    .and_then(|id| limits::question(true, decider.config(), &j.req, &id));
                pre_index.push(q.as_ref().map(|_| pre_asks.len()));
                pre_asks.extend(q);
            }
            let (msg, c) = limits::answers(l, &store, &pre_asks, t, &mut pre_out);
            closed = c;
            if let Some(message) = msg {
                log(ServerEvent::SharedStoreFailed {
                    message: message.into(),
                });
            }
        }
        // a message counting several (its recipients at END-OF-MESSAGE) is recorded that
        // many times, each seen by the next decision
        let mut again: Option<(Event, u32)> = None;
        let mut undo: Vec<(usize, u64)> = Vec::new();
        let result = store.append_each_counted(|ledger, counters| {
            if let Some((e, left)) = again.take() {
                if left > 1 {
                    again = Some((e.clone(), left - 1));
                }
                return Some(e);
            }
            while i < batch.len() {
                let j = &batch[i];
                let k = pre_index.get(i).copied().flatten();
                i += 1;
                let mut v = decider.decide(ledger, &j.req, j.dns.as_ref(), t);
                // the ledger first, then the limits: a message the ledger (or the DNS
                // lists, or a rule) refuses consumes no quota, and one a limit refuses
                // is not recorded
                let judged = v.reason.is_some();
                let config = decider.config();
                match shared.as_mut() {
                    Some(Limiter::Store) if !judged => {
                        if let Some(q) = v
                            .identity
                            .as_ref()
                            .and_then(|id| limits::question(false, config, &j.req, id))
                        {
                            let asks = std::slice::from_ref(&q);
                            if let Some(message) = limits::ask_store(counters, asks, t, &mut one) {
                                log(ServerEvent::SharedStoreFailed {
                                    message: message.into(),
                                });
                            }
                            let a = one.first().copied().unwrap_or(limits::Answer::Failed);
                            if limits::apply(&mut v, a, &q, alerts.as_mut(), config, t, true) {
                                stats.redis_failures.inc();
                            }
                        }
                    }
                    Some(Limiter::Redis(r)) if !judged => {
                        let (a, q) = match k {
                            Some(k) => (pre_out[k], None),
                            // the ledger refused it before the transaction, not now (evidence
                            // of another process): asked alone
                            None => match v
                                .identity
                                .as_ref()
                                .and_then(|id| limits::question(true, config, &j.req, id))
                            {
                                Some(q) => {
                                    if let Some(message) =
                                        r.run(std::slice::from_ref(&q), t, &mut one)
                                    {
                                        log(ServerEvent::SharedStoreFailed {
                                            message: message.into(),
                                        });
                                    }
                                    (
                                        one.first().copied().unwrap_or(limits::Answer::Failed),
                                        Some(q),
                                    )
                                }
                                None => (limits::Answer::Accepted { receipt: 0 }, None),
                            },
                        };
                        let q = q.as_ref().or_else(|| k.map(|k| &pre_asks[k]));
                        if let Some(q) = q {
                            if limits::apply(&mut v, a, q, alerts.as_mut(), config, t, closed) {
                                stats.redis_failures.inc();
                            }
                        }
                    }
                    Some(Limiter::Redis(_)) => {
                        if let Some(k) = k {
                            if let limits::Answer::Accepted { receipt } = pre_out[k] {
                                undo.push((k, receipt));
                            }
                        }
                        limits::ledger_alert(&v, alerts.as_mut(), config, t);
                    }
                    _ => limits::ledger_alert(&v, alerts.as_mut(), config, t),
                }
                let mut e = v.event.take();
                if !judged && v.reason.is_some() {
                    e = None;
                }
                let count = if v.reason.is_some() { 1 } else { v.count };
                verdicts.push(v);
                if let Some(e) = e {
                    if count > 1 {
                        again = Some((e.clone(), count - 1));
                    }
                    return Some(e);
                }
            }
            None
        });
        if redis {
            // what Redis counted for messages that are not accepted after all
            if result.is_err() {
                undo.clear();
                undo.extend(pre_out.iter().enumerate().filter_map(|(k, a)| match a {
                    limits::Answer::Accepted { receipt } => Some((k, *receipt)),
                    _ => None,
                }));
            }
            if let (Some(Limiter::Redis(r)), false) = (shared.as_mut(), undo.is_empty()) {
                let back: Vec<_> = undo.iter().map(|&(k, rc)| (&pre_asks[k], rc)).collect();
                match r.undo_all(t, &back) {
                    Some(message) => log(ServerEvent::SharedStoreFailed {
                        message: message.into(),
                    }),
                    None => stats.redis_undone.add(back.len() as u64),
                }
            }
        }
        last_sync = std::time::Instant::now();
        match result {
            Ok(_) => {
                stats.commits.inc();
                ready.extend(batch.drain(..).zip(verdicts.drain(..)));
                release(&log, &mut gate, stats, &mut ready);
            }
            Err(error) => {
                log(ServerEvent::StoreFailed { error });
                stats.commit_failures.inc();
                let unavailable = Action::Refuse(
                    decider
                        .config()
                        .replies
                        .get(RefusalReason::Unavailable)
                        .clone(),
                );
                for mut j in batch.drain(..) {
                    stats.request(&unavailable, Some(RefusalReason::Unavailable));
                    if let Some(r) = j.reply.take() {
                        let _ = r.send(unavailable.clone());
                    }
                }
            }
        }
    }
}

/// Checks decided requests against the class limits and Redis when configured, and
/// raises alerts.
#[allow(clippy::too_many_arguments)]
fn settle<'a>(
    shared: &mut Option<Limiter>,
    store: &Store,
    alerts: &mut Option<Alerter>,
    decider: &Decider,
    t: Timestamp,
    log: &Log,
    stats: &Stats,
    items: impl IntoIterator<Item = (&'a Request, &'a mut Verdict)>,
) {
    if shared.is_none() && alerts.is_none() {
        return;
    }
    let (failed, msg) = super::limits::settle(
        shared.as_mut(),
        store,
        alerts.as_mut(),
        decider.config(),
        t,
        items.into_iter(),
    );
    stats.redis_failures.add(failed);
    if let Some(message) = msg {
        log(ServerEvent::SharedStoreFailed {
            message: message.into(),
        });
    }
}

/// Answers decided requests.
fn release(log: &Log, gate: &mut Gate, stats: &Stats, ready: &mut Vec<(Job, Verdict)>) {
    for (mut j, v) in ready.drain(..) {
        answer(log, gate, stats, j.reply.take(), v);
    }
}

/// The refusal log's limit, on the writer's clock.
struct Gate {
    limit: LogLimit,
    start: std::time::Instant,
}

impl Gate {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn summary(log: &Log, count: u64) {
        if count > 0 {
            log(ServerEvent::RefusalsSuppressed { count });
        }
    }

    /// The summary of a second that is over.
    fn flush(&mut self, log: &Log) {
        let now = self.now_ms();
        Gate::summary(log, self.limit.flush(now));
    }
}

fn answer(
    log: &Log,
    gate: &mut Gate,
    stats: &Stats,
    to: Option<tokio::sync::oneshot::Sender<Action>>,
    v: Verdict,
) {
    stats.request(&v.action, v.reason);
    // the answer first: the log line is not on the client's path
    let identity = v.identity;
    if let Some(to) = to {
        let _ = to.send(v.action);
    }
    if let Some(reason) = v.reason {
        let now = gate.now_ms();
        let g = gate.limit.admit(now);
        Gate::summary(log, g.suppressed_before);
        if g.log {
            log(ServerEvent::Refused { identity, reason });
        }
    }
}

struct Conn {
    tx: mpsc::Sender<Job>,
    limits: Limits,
    log: Log,
    stats: Arc<Stats>,
    /// The in-process lists, and the config's DNS lists.
    local: Option<LocalLists>,
    sites: Arc<[DnsList]>,
    #[cfg(feature = "dns-client")]
    dns: Option<Arc<dns::Scorer>>,
}

/// Keeps the open-connections gauge right however a connection ends.
struct Open<'a>(&'a Stats);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.open.add(-1);
    }
}

/// A connection's input: the lines of what was read, taken one by one without waiting
/// while a whole line is there, so that a request that arrives in one segment costs one
/// read (and one idle timer), not one a line.
struct Lines {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The longest line, `\r` included.
    max: usize,
}

impl Lines {
    fn new(max_line: usize) -> Lines {
        let max = max_line.saturating_add(1);
        Lines {
            buf: vec![0; max.saturating_add(1).clamp(8192, 1 << 20)],
            start: 0,
            end: 0,
            max,
        }
    }

    /// The next whole line (without its newline): `Some(Err(()))` when it, or what is
    /// there of it, is over the limit; `None` when more is to be read.
    fn take(&mut self) -> Option<Result<std::ops::Range<usize>, ()>> {
        let have = &self.buf[self.start..self.end];
        match memchr::memchr(b'\n', have) {
            Some(p) if p > self.max => Some(Err(())),
            Some(p) => {
                let r = self.start..self.start + p;
                self.start += p + 1;
                Some(Ok(r))
            }
            None if have.len() > self.max => Some(Err(())),
            None => None,
        }
    }

    /// Reads more (0 at the end of the stream).
    async fn fill<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
    ) -> std::io::Result<usize> {
        use tokio::io::AsyncReadExt;
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // a line longer than the buffer but within the limit
            let more = self
                .buf
                .len()
                .saturating_mul(2)
                .min(self.max.saturating_add(2));
            self.buf.resize(more.max(self.end + 1), 0);
        }
        let n = rd.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n)
    }
}

impl Conn {
    fn checks_lists(&self) -> bool {
        #[cfg(feature = "dns-client")]
        let dns = self.dns.is_some();
        #[cfg(not(feature = "dns-client"))]
        let dns = false;
        dns || self.local.is_some()
    }

    async fn serve(self, stream: TcpStream, peer: SocketAddr) {
        self.stats.connections.inc();
        self.stats.open.add(1);
        let _open = Open(&self.stats);
        let drop_it = |kind: Dropped, why: String| {
            self.stats.dropped(kind);
            (self.log)(ServerEvent::ClientDropped {
                peer,
                why: why.into(),
            })
        };
        let (mut rd, mut wr) = stream.into_split();
        let mut lines = Lines::new(self.limits.max_line);
        let mut parser = RequestParser::new(self.limits);
        let mut out = Vec::with_capacity(256);
        loop {
            let line = match lines.take() {
                Some(Ok(r)) => r,
                Some(Err(())) => {
                    return drop_it(
                        Dropped::LineTooLong,
                        format!("a line longer than {} bytes", self.limits.max_line),
                    )
                }
                None => match tokio::time::timeout(self.limits.idle, lines.fill(&mut rd)).await {
                    Err(_) => {
                        return drop_it(
                            Dropped::Idle,
                            format!("idle for {} s (the limit)", self.limits.idle.as_secs()),
                        )
                    }
                    Ok(Err(e)) => return drop_it(Dropped::ReadFailed, format!("read failed: {e}")),
                    Ok(Ok(0)) => {
                        if parser.in_request() || lines.start < lines.end {
                            drop_it(
                                Dropped::ClosedInRequest,
                                "closed the connection in the middle of a request".into(),
                            );
                        }
                        return;
                    }
                    Ok(Ok(_)) => continue,
                },
            };
            let req = match parser.line(&lines.buf[line]) {
                Err(e) => return drop_it(Dropped::Protocol, e.to_string()),
                Ok(None) => continue,
                Ok(Some(req)) => req,
            };
            let t0 = std::time::Instant::now();
            let dns = match req.client_address() {
                Some(ip) if self.checks_lists() => {
                    let mut s = DnsScore::default();
                    if let Some(l) = &self.local {
                        l.add_score(&self.sites, ip, &mut s);
                    }
                    #[cfg(feature = "dns-client")]
                    if let Some(d) = &self.dns {
                        d.add_score(ip, &mut s).await;
                    }
                    Some(s)
                }
                _ => None,
            };
            let (otx, orx) = tokio::sync::oneshot::channel();
            if self
                .tx
                .send(Job {
                    req,
                    dns,
                    reply: Some(otx),
                })
                .is_err()
            {
                return; // shutting down
            }
            let Ok(action) = orx.await else {
                return;
            };
            self.stats.latency.observe(t0.elapsed().as_micros() as u64);
            out.clear();
            action.write_to(&mut out);
            if let Err(e) = wr.write_all(&out).await {
                return drop_it(Dropped::WriteFailed, format!("write failed: {e}"));
            }
        }
    }
}

#[cfg(feature = "dns-client")]
mod dns {
    use super::super::config::{DnsChecks, DnsList};
    use super::super::decide::DnsScore;
    use super::super::lists::LocalLists;
    use super::super::SmtpError;
    use crate::dns::client::{Checker, ListSpec, TxtLookup};
    use crate::subject::Subject;
    use std::net::IpAddr;

    /// The configured DNS lists, asked about a client address.
    pub(super) struct Scorer {
        checker: Checker,
        lists: Vec<DnsList>,
        specs: Vec<ListSpec>,
    }

    impl Scorer {
        /// The lists of `c` that are not looked up in process (`local`, or `c`'s datasets).
        pub(super) fn new(
            c: &DnsChecks,
            local: Option<&LocalLists>,
        ) -> Result<Option<Scorer>, SmtpError> {
            let lists: Vec<DnsList> = c
                .lists
                .iter()
                .filter(|l| !c.is_local(l.zone()) && !local.is_some_and(|x| x.has_zone(l.zone())))
                .cloned()
                .collect();
            if lists.is_empty() {
                return Ok(None);
            }
            let err = |m: String| SmtpError::Io {
                addr: "dns".into(),
                message: m.into(),
            };
            let server = match c.server {
                Some(s) => s,
                None => crate::dns::client::system_resolver().map_err(|e| err(e.to_string()))?,
            };
            let checker = Checker::builder(server)
                .timeout(c.timeout)
                .attempts(1)
                .txt(TxtLookup::Never)
                .build()
                .map_err(|e| err(e.to_string()))?;
            let specs = lists
                .iter()
                .map(|l| l.zone().parse::<ListSpec>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| err(e.to_string()))?;
            Ok(Some(Scorer {
                checker,
                lists,
                specs,
            }))
        }

        /// Adds the weights of the lists whose answer matches; a list that fails counts
        /// nothing.
        pub(super) async fn add_score(&self, ip: IpAddr, s: &mut DnsScore) {
            // owned pairs: the future stays Send whatever the lifetimes
            let pairs: Vec<(Subject, ListSpec)> = self
                .specs
                .iter()
                .map(|l| (Subject::Ip(ip), l.clone()))
                .collect();
            let results = self.checker.check_pairs(pairs).await;
            for (l, r) in self.lists.iter().zip(results) {
                if r.outcome.is_listed() && r.codes.iter().any(|c| l.matches(c.addr())) {
                    s.score += l.weight();
                    s.listed_on.push(l.zone().into());
                }
            }
        }
    }
}
