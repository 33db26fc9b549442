//! Shared counters in Redis (feature `redis`): several policy servers, one rate limit.
//!
//! The config's `[redis]` section names the server (`redis://[:PASSWORD@]HOST:PORT/DB`,
//! or `rediss://…` for TLS, through rustls: `tls_ca_file` names the CA certificates the
//! server's certificate must chain to, else the system's roots are used; `tls_cert_file`
//! and `tls_key_file` a client certificate for a server that asks for one,
//! `tls-auth-clients`). Redis is then the policy server's counter store (a
//! [`CounterStore`](crate::ledger::CounterStore)): every counting request the ledger
//! accepts as it stands is charged there by one Lua script that, atomically:
//!
//! 1. for a message already seen by its `instance` (any server), returns that message's
//!    answer and counts nothing (the key is `SET` with a one-hour expiry);
//! 2. drops the identity's events at or before `now - window` from its sorted set (a
//!    rolling window, not a clock hour);
//! 3. adds the message to every matching key when each stays within its limit, or
//!    refuses it (a refused message is added nowhere: it consumes no quota).
//!
//! The requests of one writer batch go in one pipeline. A message the ledger refuses in
//! the transaction after all (evidence another process wrote meanwhile), or whose record
//! fails, is taken back: its members are removed and its `instance` answer becomes a
//! refusal. Every read and write is bounded by
//! the configured timeout (50 ms by default); on a failure the connection is dropped and
//! the batch gets the configured failure answer: `open` (`DUNNO`, logged and counted in
//! the metrics) or `closed` (`451 4.3.0`, the `unavailable` reply). Reconnection is
//! automatic, tried at most every [`RETRY`].

use super::SmtpError;
use std::fmt;
#[cfg(feature = "redis")]
use std::path::Path;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// What a request gets when Redis cannot be asked in time.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::OnFailure;
/// assert_eq!("closed".parse::<OnFailure>()?, OnFailure::Closed);
/// assert_eq!(OnFailure::default().to_string(), "open");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnFailure {
    /// `DUNNO`: the message is accepted, not counted; logged and counted in the metrics.
    #[default]
    Open,
    /// The `unavailable` reply (`451 4.3.0` by default): Postfix tries again later.
    Closed,
}

impl FromStr for OnFailure {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<OnFailure, SmtpError> {
        match s {
            "open" => Ok(OnFailure::Open),
            "closed" => Ok(OnFailure::Closed),
            _ => Err(SmtpError::BadField {
                field: "redis.on_failure",
                problem: format!("{s:?}; use open or closed").into(),
            }),
        }
    }
}

impl fmt::Display for OnFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnFailure::Open => "open",
            OnFailure::Closed => "closed",
        })
    }
}

/// The `[redis]` section of the policy config.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{OnFailure, PolicyConfig};
/// let c = PolicyConfig::from_toml("[redis]\nurl = \"redis://127.0.0.1:6379/0\"\non_failure = \"closed\"\n", "p.toml")?;
/// let r = c.redis.unwrap();
/// assert_eq!(r.timeout.as_millis(), 50);
/// assert_eq!(r.on_failure, OnFailure::Closed);
/// assert_eq!(&*r.key_prefix, "rblkit:");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// `redis://…` or `rediss://…` (the password, if any, is in it).
    pub url: Box<str>,
    /// The bound of every connect, read and write.
    pub timeout: Duration,
    /// The answer when Redis fails.
    pub on_failure: OnFailure,
    /// Prepended to every key, so that several setups can share one Redis.
    pub key_prefix: Box<str>,
    /// The rolling window of the message limit.
    pub window: Duration,
    /// `rediss://` only: the PEM file of the CA certificates the server's certificate must
    /// chain to (a private CA); `None`: the system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// `rediss://` only: the PEM files of the client certificate (chain) and its private
    /// key, for a server that asks for one (`tls-auth-clients`).
    pub tls_client: Option<(PathBuf, PathBuf)>,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // the URL may carry a password
        f.debug_struct("RedisConfig")
            .field("timeout", &self.timeout)
            .field("on_failure", &self.on_failure)
            .field("key_prefix", &self.key_prefix)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_client", &self.tls_client)
            .finish_non_exhaustive()
    }
}

/// The section as the file has it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRedis {
    url: String,
    timeout_ms: Option<u64>,
    on_failure: Option<String>,
    key_prefix: Option<String>,
    tls_ca_file: Option<PathBuf>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
}

impl FileRedis {
    /// The config, or what is wrong (naming the field).
    pub(super) fn into_config(self) -> Result<RedisConfig, String> {
        if !(self.url.starts_with("redis://")
            || self.url.starts_with("rediss://")
            || self.url.starts_with("unix://"))
        {
            return Err("redis.url: use redis://HOST:PORT, rediss://… or unix://PATH".into());
        }
        let timeout = match self.timeout_ms {
            Some(0) => return Err("redis.timeout_ms: at least 1".into()),
            Some(ms) => Duration::from_millis(ms),
            None => Duration::from_millis(50),
        };
        let on_failure = match &self.on_failure {
            Some(s) => s.parse().map_err(|e| format!("{e}"))?,
            None => OnFailure::Open,
        };
        let tls_client = match (self.tls_cert_file, self.tls_key_file) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            (Some(_), None) => return Err("redis.tls_cert_file: needs redis.tls_key_file".into()),
            (None, Some(_)) => return Err("redis.tls_key_file: needs redis.tls_cert_file".into()),
        };
        let tls_ca_file = self.tls_ca_file;
        if !self.url.starts_with("rediss://") {
            if tls_ca_file.is_some() {
                return Err("redis.tls_ca_file: only with a rediss:// URL".into());
            }
            if tls_client.is_some() {
                return Err("redis.tls_cert_file: only with a rediss:// URL".into());
            }
        }
        let c = RedisConfig {
            url: self.url.into(),
            timeout,
            on_failure,
            key_prefix: self.key_prefix.unwrap_or_else(|| "rblkit:".into()).into(),
            window: Duration::from_secs(3600),
            tls_ca_file,
            tls_client,
        };
        c.check()?;
        Ok(c)
    }
}

impl RedisConfig {
    /// Whether this build can use it: the URL parses, the TLS files read and hold what
    /// they should.
    #[cfg(feature = "redis")]
    fn check(&self) -> Result<(), String> {
        // never echo the URL: it may carry a password
        ::redis::Client::open(&*self.url)
            .map_err(|e| format!("redis.url: does not parse ({:?})", e.kind()))?;
        // the files are read again when the server starts; here only checked
        tls_certificates(self).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Without the feature, never.
    #[cfg(not(feature = "redis"))]
    fn check(&self) -> Result<(), String> {
        Err("redis: this build has no Redis client (feature redis)".into())
    }
}

/// What is wrong with a TLS file of the `[redis]` section.
#[derive(Debug)]
#[cfg(feature = "redis")]
pub(super) struct TlsFileError {
    field: &'static str,
    file: PathBuf,
    problem: String,
}

#[cfg(feature = "redis")]
impl fmt::Display for TlsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.field,
            self.file.display(),
            self.problem
        )
    }
}

#[cfg(feature = "redis")]
impl From<TlsFileError> for SmtpError {
    fn from(e: TlsFileError) -> SmtpError {
        SmtpError::Config {
            file: e.file.display().to_string().into(),
            message: format!("{}: {}", e.field, e.problem).into(),
        }
    }
}

/// Reads `file` (PEM) for `field`.
#[cfg(feature = "redis")]
fn read_pem(field: &'static str, file: &Path) -> Result<Vec<u8>, TlsFileError> {
    std::fs::read(file).map_err(|e| TlsFileError {
        field,
        file: file.to_path_buf(),
        problem: format!("cannot be read ({e})"),
    })
}

/// The certificates of `config`'s TLS files, checked: `None` when none is set (a
/// `rediss://` URL then trusts the system's roots).
#[cfg(feature = "redis")]
pub(super) fn tls_certificates(
    config: &RedisConfig,
) -> Result<Option<::redis::TlsCertificates>, TlsFileError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    fn certs(field: &'static str, file: &Path) -> Result<Vec<u8>, TlsFileError> {
        let pem = read_pem(field, file)?;
        let bad = |problem: String| TlsFileError {
            field,
            file: file.to_path_buf(),
            problem,
        };
        let found = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not PEM certificates ({e})")))?;
        if found.is_empty() {
            return Err(bad("no certificate (BEGIN CERTIFICATE) in it".into()));
        }
        if field == "redis.tls_ca_file" {
            let mut roots = rustls::RootCertStore::empty();
            for (i, c) in found.into_iter().enumerate() {
                roots.add(c).map_err(|e| {
                    bad(format!(
                        "certificate {} is not a usable CA certificate ({e})",
                        i + 1
                    ))
                })?;
            }
        }
        Ok(pem)
    }
    let root_cert = match &config.tls_ca_file {
        Some(f) => Some(certs("redis.tls_ca_file", f)?),
        None => None,
    };
    let client_tls = match &config.tls_client {
        Some((cert, key)) => {
            let client_cert = certs("redis.tls_cert_file", cert)?;
            let client_key = read_pem("redis.tls_key_file", key)?;
            PrivateKeyDer::from_pem_slice(&client_key).map_err(|e| TlsFileError {
                field: "redis.tls_key_file",
                file: key.clone(),
                problem: format!("no private key (PKCS#8, PKCS#1 or SEC1 PEM) in it ({e})"),
            })?;
            Some(::redis::ClientTlsConfig {
                client_cert,
                client_key,
            })
        }
        None => None,
    };
    Ok(
        (root_cert.is_some() || client_tls.is_some()).then_some(::redis::TlsCertificates {
            client_tls,
            root_cert,
        }),
    )
}

/// How long after a failure the next connection is tried (meanwhile requests get the
/// failure answer at once).
pub const RETRY: Duration = Duration::from_millis(200);

/// The script. KEYS: the message's key ("" for none), then one sorted set per limit.
/// ARGV: now (ms), window (ms), n (0: only check), a unique member, the message key's
/// expiry (s), the overrides hash, then per limit its limit and its field in the hash.
/// Returns {1 accepted | 0 refused, the tightest limit's index, its count, its limit,
/// 1 when this refusal is the first of that limit's window (for alerts)}.
#[cfg(feature = "redis")]
const SCRIPT: &str = r"
local inst = KEYS[1]
if inst ~= '' then
  local prev = redis.call('GET', inst)
  if prev then return {tonumber(prev), 0, -1, -1, 0} end
end
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local ok = 1
local tight, room, tc, tl = 0, nil, 0, 0
for j = 2, #KEYS do
  redis.call('ZREMRANGEBYSCORE', KEYS[j], '-inf', now - win)
  local c = redis.call('ZCARD', KEYS[j])
  local lim = tonumber(ARGV[5 + 2 * (j - 1)])
  local o = redis.call('HGET', ARGV[6], ARGV[6 + 2 * (j - 1)])
  if o then lim = tonumber(o) or lim end
  local r = lim - c
  if room == nil or r < room then
    room = r
    tight = j - 2
    tc = c
    tl = lim
  end
  if r < math.max(n, 1) then ok = 0 end
end
if ok == 1 and n > 0 then
  for j = 2, #KEYS do
    for i = 1, n do redis.call('ZADD', KEYS[j], now, ARGV[4] .. ':' .. i) end
    redis.call('PEXPIRE', KEYS[j], win)
  end
end
local first = 0
if ok == 0 and n > 0 then
  local k = KEYS[tight + 2] .. ':alerted'
  if redis.call('SET', k, 1, 'NX', 'EX', math.floor(win / 1000)) then first = 1 end
end
if inst ~= '' then redis.call('SET', inst, ok, 'EX', tonumber(ARGV[5])) end
return {ok, tight, tc, tl, first}
";

/// The script's answer: accepted, the tightest limit's index, its count (-1: the message
/// was judged before, by its `instance`), its limit, the first refusal of that limit in
/// its window.
#[cfg(feature = "redis")]
type ScriptAnswer = (i64, i64, i64, i64, i64);

/// One request's question: its message key (by `instance`), the limits that match it,
/// and how many messages it counts (0: only check).
pub(super) struct Question {
    pub(super) instance: Option<Box<[u8]>>,
    pub(super) limits: Vec<super::limits::Limited>,
    pub(super) n: u32,
}

impl Question {
    /// The check-and-add it asks of a counter store.
    pub(super) fn charge(&self) -> crate::ledger::Charge<'_, super::limits::Limited> {
        crate::ledger::Charge {
            once: self.instance.as_deref(),
            limits: &self.limits,
            n: self.n,
        }
    }
}

/// The counter store's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// Within the limit (`receipt`: what [`CounterStore::undo`] takes back, 0 for none).
    Accepted {
        /// The receipt of what was counted.
        receipt: u64,
    },
    /// Over the limit of this index (or the message was refused before, by `instance`);
    /// `first`: whether it is the first refusal of that limit in its window, when known.
    Refused {
        /// The index of the tightest limit.
        tight: usize,
        /// The first refusal in the window (the store knows; `None`: the caller decides).
        first: Option<bool>,
    },
    /// The store failed: the configured failure answer applies.
    Failed,
}

impl From<crate::ledger::Charged> for Answer {
    fn from(c: crate::ledger::Charged) -> Answer {
        use crate::ledger::Charged;
        match c {
            Charged::Within { receipt } => Answer::Accepted { receipt },
            Charged::Over { tight, first } => Answer::Refused {
                tight,
                first: Some(first),
            },
            Charged::Seen { within: true } => Answer::Accepted { receipt: 0 },
            Charged::Seen { within: false } => Answer::Refused {
                tight: usize::MAX,
                first: Some(false),
            },
        }
    }
}

/// Counters in Redis, a [`CounterStore`]: the connection, owned by the policy server's
/// writer thread.
///
/// [`CounterStore::charge`] runs the script above for each charge, all of them in one
/// pipeline; [`CounterStore::undo`] removes the members a charge added and turns its
/// `instance` answer into a refusal; a subject's counter ([`CounterStore::add`],
/// [`CounterStore::count`]) is the sorted set `{key_prefix}count:COUNTER:SUBJECT`. Every
/// call is bounded by the configured timeout; after a failure the connection is dropped
/// and the next one is tried no sooner than [`RETRY`] later.
///
/// [`CounterStore`]: crate::ledger::CounterStore
/// [`CounterStore::charge`]: crate::ledger::CounterStore::charge
/// [`CounterStore::undo`]: crate::ledger::CounterStore::undo
/// [`CounterStore::add`]: crate::ledger::CounterStore::add
/// [`CounterStore::count`]: crate::ledger::CounterStore::count
///
/// The policy server makes one for its `[redis]` section; a program of its own may use one
/// for shared limits of its own (feature `redis`).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Charge, CounterStore};
/// use rblkit::smtp::{PolicyConfig, RedisCounters};
/// // nothing listens on port 1: connecting fails at once, and every call says so
/// let c = PolicyConfig::from_toml("[redis]\nurl = \"redis://127.0.0.1:1/0\"\n", "p.toml")?;
/// let mut redis = RedisCounters::new(c.redis.as_ref().unwrap())?;
/// assert_eq!(redis.config().timeout.as_millis(), 50);
/// let limits = [("sender_domain:shop.example.com", 1000)];
/// let charge = Charge { once: Some(&b"m1"[..]), limits: &limits, n: 1 };
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// let mut out = Vec::new();
/// assert!(redis.charge(t, &[charge], &mut out).is_err());
/// assert!(out.is_empty());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[cfg(feature = "redis")]
pub struct RedisCounters {
    client: ::redis::Client,
    conn: Option<(::redis::Connection, String)>,
    config: RedisConfig,
    retry_at: Option<std::time::Instant>,
    last_log: Option<std::time::Instant>,
    member: String,
    seq: u64,
    /// Reused for every key and member written into a pipeline.
    key: Vec<u8>,
    pipe: ::redis::Pipeline,
}

#[cfg(feature = "redis")]
impl fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCounters")
            .field("config", &self.config)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

/// Without the feature there is none.
#[cfg(not(feature = "redis"))]
pub(super) enum RedisCounters {}

#[cfg(not(feature = "redis"))]
impl RedisCounters {
    pub(super) fn config(&self) -> &RedisConfig {
        match *self {}
    }

    pub(super) fn run(
        &mut self,
        _asks: &[Question],
        _now: crate::time::Timestamp,
        _out: &mut Vec<Answer>,
    ) -> Option<String> {
        match *self {}
    }

    pub(super) fn undo_all(
        &mut self,
        _now: crate::time::Timestamp,
        _undo: &[(&Question, u64)],
    ) -> Option<String> {
        match *self {}
    }
}

#[cfg(feature = "redis")]
fn redis_err(e: impl fmt::Display) -> SmtpError {
    SmtpError::Io {
        addr: "redis".into(),
        message: e.to_string().into(),
    }
}

#[cfg(feature = "redis")]
impl RedisCounters {
    /// A client for `config` (it connects on first use).
    ///
    /// # Errors
    ///
    /// [`SmtpError::Io`] when the URL does not parse or a TLS file cannot be read.
    pub fn new(config: &RedisConfig) -> Result<RedisCounters, SmtpError> {
        use ::redis::IntoConnectionInfo as _;
        let bad = |e: ::redis::RedisError| SmtpError::Io {
            addr: "redis".into(),
            message: format!("the URL does not parse ({:?})", e.kind()).into(),
        };
        // small requests and answers: Nagle's delay would cost a round trip each
        let info = (&*config.url)
            .into_connection_info()
            .map_err(bad)?
            .set_tcp_settings(::redis::io::tcp::TcpSettings::default().set_nodelay(true));
        let client = match tls_certificates(config)? {
            Some(certs) => ::redis::Client::build_with_tls(info, certs).map_err(bad)?,
            None => ::redis::Client::open(info).map_err(bad)?,
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok(RedisCounters {
            client,
            conn: None,
            config: config.clone(),
            retry_at: None,
            last_log: None,
            member: format!("{:x}.{nanos:x}", std::process::id()),
            seq: 0,
            key: Vec::with_capacity(256),
            pipe: ::redis::pipe(),
        })
    }

    /// The config.
    pub fn config(&self) -> &RedisConfig {
        &self.config
    }

    fn connect(&self) -> ::redis::RedisResult<(::redis::Connection, String)> {
        let t = Some(self.config.timeout);
        let mut c = self
            .client
            .get_connection_with_timeout(self.config.timeout)?;
        c.set_read_timeout(t)?;
        c.set_write_timeout(t)?;
        let sha: String = ::redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(SCRIPT)
            .query(&mut c)?;
        Ok((c, sha))
    }

    /// The connection, made when there is none (no sooner than [`RETRY`] after a failure).
    fn ensure(&mut self) -> Result<(), SmtpError> {
        if self.conn.is_none() {
            if self.retry_at.is_some_and(|t| std::time::Instant::now() < t) {
                return Err(redis_err("not connected (retrying soon)"));
            }
            let c = self.connect().map_err(redis_err)?;
            self.conn = Some(c);
        }
        Ok(())
    }

    /// After a failure: the connection is dropped, the next try is at least [`RETRY`]
    /// away; a message to log, at most one a second while failing.
    fn failed(&mut self, requests: usize, e: &SmtpError) -> Option<String> {
        self.conn = None;
        let now = std::time::Instant::now();
        if self.retry_at.is_none_or(|t| t <= now) {
            self.retry_at = Some(now + RETRY);
        }
        let quiet = self
            .last_log
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1));
        (!quiet).then(|| {
            self.last_log = Some(now);
            let e = match e {
                SmtpError::Io { message, .. } => message.to_string(),
                e => e.to_string(),
            };
            format!(
                "redis failed, answering {requests} requests as on_failure = {}: {e}",
                self.config.on_failure
            )
        })
    }

    /// Asks Redis `asks` in one pipeline at `now`; pushes one answer per question to
    /// `out` ([`Answer::Failed`] for each when Redis failed). Returns a message to log when
    /// it failed (at most one a second while failing).
    pub(super) fn run(
        &mut self,
        asks: &[Question],
        now: crate::time::Timestamp,
        out: &mut Vec<Answer>,
    ) -> Option<String> {
        if asks.is_empty() {
            out.clear();
            return None;
        }
        match super::limits::charge_all(self, asks, now, out) {
            Ok(()) => {
                self.last_log = None;
                None
            }
            Err(e) => self.failed(asks.len(), &e),
        }
    }

    /// Takes back the counts of `undo` (questions whose messages were refused after they
    /// were counted) in one pipeline; a message to log when it failed.
    pub(super) fn undo_all(
        &mut self,
        now: crate::time::Timestamp,
        undo: &[(&Question, u64)],
    ) -> Option<String> {
        if undo.is_empty() {
            return None;
        }
        match self.undo_pipelined(now, undo) {
            Ok(()) => None,
            Err(e) => self.failed(undo.len(), &e),
        }
    }

    fn undo_pipelined(
        &mut self,
        _now: crate::time::Timestamp,
        undo: &[(&Question, u64)],
    ) -> Result<(), SmtpError> {
        if undo.iter().all(|(q, r)| *r == 0 || q.n == 0) {
            return Ok(());
        }
        self.ensure()?;
        self.pipe.clear();
        for (q, receipt) in undo {
            self.push_undo(&q.charge(), *receipt);
        }
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err(redis_err("not connected"));
        };
        self.pipe.query::<()>(conn).map_err(redis_err)
    }

    /// Adds to the pipeline what takes back one charge counted under `receipt`: its
    /// members of every limit's sorted set, and its message key set to "not charged".
    fn push_undo<L: crate::ledger::Limit>(
        &mut self,
        charge: &crate::ledger::Charge<'_, L>,
        receipt: u64,
    ) {
        if receipt == 0 || charge.n == 0 {
            return;
        }
        let p = self.config.key_prefix.as_bytes();
        for l in charge.limits {
            self.key.clear();
            self.key.extend_from_slice(p);
            self.key.extend_from_slice(b"rate:");
            self.key.extend_from_slice(l.key().as_bytes());
            let c = self.pipe.cmd("ZREM").arg(&self.key[..]);
            for i in 1..=charge.n {
                self.key.clear();
                let _ = write!(self.key, "{}.{receipt}:{i}", self.member);
                c.arg(&self.key[..]);
            }
            c.ignore();
        }
        if let Some(inst) = charge.once {
            self.key.clear();
            self.key.extend_from_slice(p);
            self.key.extend_from_slice(b"msg:");
            self.key.extend_from_slice(inst);
            self.pipe
                .cmd("SET")
                .arg(&self.key[..])
                .arg(0)
                .arg("XX")
                .arg("KEEPTTL")
                .ignore();
        }
    }

    /// A counter key of a subject: `{prefix}count:COUNTER:SUBJECT`.
    fn subject_key(&self, key: &crate::ledger::CounterKey<'_>) -> String {
        format!(
            "{}count:{:?}:{}",
            self.config.key_prefix, key.counter, key.subject
        )
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.config.window.as_millis()).unwrap_or(i64::MAX)
    }
}

#[cfg(feature = "redis")]
use std::io::Write as _;

#[cfg(feature = "redis")]
impl crate::ledger::CounterStore for RedisCounters {
    type Error = SmtpError;

    fn window(&self, _counter: crate::ledger::Counter) -> Duration {
        self.config.window
    }

    fn add(
        &mut self,
        key: crate::ledger::CounterKey<'_>,
        at: crate::time::Timestamp,
        n: u32,
    ) -> Result<u64, SmtpError> {
        self.ensure()?;
        let k = self.subject_key(&key);
        let now_ms = at.unix_seconds().saturating_mul(1000);
        let win = self.window_ms();
        self.seq += 1;
        let mut pipe = ::redis::pipe();
        pipe.atomic()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&k)
            .arg("-inf")
            .arg(now_ms.saturating_sub(win))
            .ignore();
        for i in 1..=n {
            pipe.cmd("ZADD")
                .arg(&k)
                .arg(now_ms)
                .arg(format!("{}.{}:{i}", self.member, self.seq))
                .ignore();
        }
        pipe.cmd("PEXPIRE").arg(&k).arg(win).ignore();
        pipe.cmd("ZCARD").arg(&k);
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err(redis_err("not connected"));
        };
        let (count,): (u64,) = pipe.query(conn).map_err(redis_err)?;
        Ok(count)
    }

    fn count(
        &self,
        key: crate::ledger::CounterKey<'_>,
        now: crate::time::Timestamp,
    ) -> Result<u64, SmtpError> {
        self.named_count_at(&self.subject_key(&key), now)
    }

    fn charge<L: crate::ledger::Limit>(
        &mut self,
        at: crate::time::Timestamp,
        charges: &[crate::ledger::Charge<'_, L>],
        out: &mut Vec<crate::ledger::Charged>,
    ) -> Result<(), SmtpError> {
        use crate::ledger::Charged;
        out.clear();
        if charges.is_empty() {
            return Ok(());
        }
        self.ensure()?;
        let now_ms = at.unix_seconds().saturating_mul(1000);
        let window_ms = self.window_ms();
        let Some((conn, sha)) = self.conn.as_mut() else {
            return Err(redis_err("not connected"));
        };
        let p = self.config.key_prefix.as_bytes();
        let key = &mut self.key;
        let pipe = &mut self.pipe;
        pipe.clear();
        let first = self.seq + 1;
        for ch in charges {
            self.seq += 1;
            key.clear();
            if let Some(i) = ch.once {
                key.extend_from_slice(p);
                key.extend_from_slice(b"msg:");
                key.extend_from_slice(i);
            }
            let c = pipe
                .cmd("EVALSHA")
                .arg(&**sha)
                .arg(ch.limits.len() + 1)
                .arg(&key[..]);
            for l in ch.limits {
                key.clear();
                key.extend_from_slice(p);
                key.extend_from_slice(b"rate:");
                key.extend_from_slice(l.key().as_bytes());
                c.arg(&key[..]);
            }
            key.clear();
            let _ = write!(key, "{}.{}", self.member, self.seq);
            c.arg(now_ms)
                .arg(window_ms)
                .arg(ch.n)
                .arg(&key[..])
                .arg(3600);
            key.clear();
            key.extend_from_slice(p);
            key.extend_from_slice(b"overrides");
            c.arg(&key[..]);
            for l in ch.limits {
                c.arg(l.limit()).arg(l.key());
            }
        }
        let r: Vec<ScriptAnswer> = pipe.query(conn).map_err(redis_err)?;
        if r.len() != charges.len() {
            return Err(redis_err(format!(
                "{} answers to {} scripts",
                r.len(),
                charges.len()
            )));
        }
        out.extend(
            r.into_iter()
                .zip(first..)
                .map(|((ok, tight, count, _, first), seq)| match (ok, count) {
                    (ok, -1) => Charged::Seen { within: ok == 1 },
                    (1, _) => Charged::Within { receipt: seq },
                    _ => Charged::Over {
                        tight: usize::try_from(tight).unwrap_or(0),
                        first: first == 1,
                    },
                }),
        );
        Ok(())
    }

    fn undo<L: crate::ledger::Limit>(
        &mut self,
        _at: crate::time::Timestamp,
        charge: &crate::ledger::Charge<'_, L>,
        receipt: u64,
    ) -> Result<(), SmtpError> {
        if receipt == 0 || charge.n == 0 {
            return Ok(());
        }
        self.ensure()?;
        self.pipe.clear();
        self.push_undo(charge, receipt);
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err(redis_err("not connected"));
        };
        self.pipe.query::<()>(conn).map_err(redis_err)
    }

    fn named_count(&self, key: &str, now: crate::time::Timestamp) -> Result<u64, SmtpError> {
        self.named_count_at(&format!("{}rate:{key}", self.config.key_prefix), now)
    }

    fn forget(
        &mut self,
        _id: crate::ledger::SubjectId,
        subject: &crate::subject::Subject,
    ) -> Result<(), SmtpError> {
        self.ensure()?;
        let mut pipe = ::redis::pipe();
        for counter in crate::ledger::Counter::ALL {
            pipe.cmd("DEL")
                .arg(format!(
                    "{}count:{counter:?}:{subject}",
                    self.config.key_prefix
                ))
                .ignore();
        }
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err(redis_err("not connected"));
        };
        pipe.query::<()>(conn).map_err(redis_err)
    }

    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(feature = "redis")]
impl RedisCounters {
    /// The count of a sorted set in the window ending at `now`, on a connection of its
    /// own (for `rblkit policy explain`: the writer's connection is not shared).
    fn named_count_at(&self, key: &str, now: crate::time::Timestamp) -> Result<u64, SmtpError> {
        let (mut conn, _) = self.connect().map_err(redis_err)?;
        let now_ms = now.unix_seconds().saturating_mul(1000);
        let from = now_ms.saturating_sub(self.window_ms());
        ::redis::cmd("ZCOUNT")
            .arg(key)
            .arg(format!("({from}"))
            .arg(now_ms)
            .query(&mut conn)
            .map_err(redis_err)
    }

    /// The overrides of `limits` from the Redis hash (for `rblkit policy explain`).
    pub(super) fn overrides(&self, limits: &mut [super::limits::Limited]) -> Result<(), SmtpError> {
        let (mut conn, _) = self.connect().map_err(redis_err)?;
        let p = &*self.config.key_prefix;
        let mut pipe = ::redis::pipe();
        for l in limits.iter() {
            pipe.cmd("HGET").arg(format!("{p}overrides")).arg(&*l.key);
        }
        let r: Vec<Option<u64>> = pipe.query(&mut conn).map_err(redis_err)?;
        for (l, o) in limits.iter_mut().zip(r) {
            if let Some(o) = o {
                l.limit = o;
                l.source = super::limits::LimitSource::RedisHash;
            }
        }
        Ok(())
    }
}
