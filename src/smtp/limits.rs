//! Classes of limits beside the per-identity rate limit: per SASL user, per envelope
//! sender, per sender domain, per client network, and a global cap; per-key overrides
//! from a map file (and from the Redis hash `{key_prefix}overrides` when Redis is
//! configured). Every matching limit is checked; the tightest (the least room left) is
//! the one that applies and is named by `rblkit policy explain`.
//!
//! A key is `CLASS:VALUE`: `sasl_user:alice`, `sender:news@shop.example.com`,
//! `sender_domain:shop.example.com`, `client_network:192.0.2.0/24`, `global`, and
//! `identity:…` for the per-identity limit of `[limits] messages_per_hour`.

use super::alert::{Alert, Alerter};
use super::config::Counting;
pub(super) use super::redis::{Answer, Question};
use super::redis::{OnFailure, RedisCounters};
use super::request::{Request, Stage};
use super::SmtpError;
use crate::ledger::store::{Store, StoreCounters};
use crate::ledger::{CounterStore, Limit};
use crate::subject::Subject;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// What a class of limits counts by.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::By;
/// assert_eq!("sender_domain".parse::<By>()?, By::SenderDomain);
/// assert_eq!(By::Global.to_string(), "global");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum By {
    /// The authenticated user (`sasl_username`); requests without one are not counted.
    SaslUser,
    /// The envelope sender (not the null sender).
    Sender,
    /// The envelope sender's domain.
    SenderDomain,
    /// The client's network: its address cut to the class's prefix lengths.
    ClientNetwork,
    /// Every counted message of this server (or of every server on one Redis key prefix).
    Global,
}

impl By {
    const NAMES: [(&'static str, By); 5] = [
        ("sasl_user", By::SaslUser),
        ("sender", By::Sender),
        ("sender_domain", By::SenderDomain),
        ("client_network", By::ClientNetwork),
        ("global", By::Global),
    ];
}

impl FromStr for By {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<By, SmtpError> {
        By::NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, b)| *b)
            .ok_or_else(|| SmtpError::BadField {
                field: "limit.by",
                problem: format!(
                    "{s:?}; use sasl_user, sender, sender_domain, client_network or global"
                )
                .into(),
            })
    }
}

impl fmt::Display for By {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = By::NAMES
            .iter()
            .find(|(_, b)| b == self)
            .map_or("", |x| x.0);
        f.write_str(n)
    }
}

/// One class: what it counts by and how many messages an hour each key may send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitClass {
    /// What it counts by.
    pub by: By,
    /// Messages per rolling hour per key.
    pub limit: u64,
    /// For [`By::ClientNetwork`]: the prefix length of IPv4 clients.
    pub ipv4_prefix: u8,
    /// For [`By::ClientNetwork`]: the prefix length of IPv6 clients.
    pub ipv6_prefix: u8,
}

/// Per-key limits from a map file: one `KEY LIMIT` a line, `#` comments.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Overrides;
/// let o = Overrides::parse("# VIPs\nsender:ceo@shop.example.com 5000\nsender_domain:bulk.example.net  10\n", "o.map")?;
/// assert_eq!(o.get("sender:ceo@shop.example.com"), Some(5000));
/// assert_eq!(o.get("sender_domain:bulk.example.net"), Some(10));
/// let e = Overrides::parse("sender:a@b.example many\n", "o.map").unwrap_err();
/// assert!(e.to_string().starts_with("o.map:1: "), "{e}");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    map: std::collections::BTreeMap<Box<str>, u64>,
}

impl Overrides {
    /// Parses a map file's text; `file` names it in errors. Keys are kept as written,
    /// lowercased.
    ///
    /// # Errors
    ///
    /// [`SmtpError::Config`] naming `file:line` for a line that is not `KEY LIMIT` with a
    /// known class and a whole number.
    pub fn parse(text: &str, file: &str) -> Result<Overrides, SmtpError> {
        let mut map = std::collections::BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |m: &str| SmtpError::Config {
                file: format!("{file}:{}", i + 1).into(),
                message: m.into(),
            };
            let mut it = line.split_ascii_whitespace();
            let (Some(key), Some(limit), None) = (it.next(), it.next(), it.next()) else {
                return Err(err("expected KEY LIMIT"));
            };
            let class = key.split(':').next().unwrap_or("");
            if class != "identity" && class.parse::<By>().is_err() {
                return Err(err("the key's class is not identity, sasl_user, sender, sender_domain, client_network or global"));
            }
            let limit: u64 = limit
                .parse()
                .map_err(|_| err("the limit is no whole number"))?;
            map.insert(key.to_ascii_lowercase().into(), limit);
        }
        Ok(Overrides { map })
    }

    /// The override of a key.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.map.get(key).copied()
    }

    /// How many keys it has.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Where a key's limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitSource {
    /// The config (`[limits]` or a `[[limit]]` class).
    Config,
    /// The overrides map file.
    MapFile,
    /// The Redis hash `{key_prefix}overrides`.
    RedisHash,
}

/// One limit that matches a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limited {
    /// `CLASS:VALUE`.
    pub key: Box<str>,
    /// Messages per rolling hour.
    pub limit: u64,
    /// Where the limit comes from.
    pub source: LimitSource,
}

impl Limit for Limited {
    fn key(&self) -> &str {
        &self.key
    }

    fn limit(&self) -> u64 {
        self.limit
    }
}

fn network_key(ip: IpAddr, c: &LimitClass) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let len = if ip.is_ipv4() {
        c.ipv4_prefix
    } else {
        c.ipv6_prefix
    };
    match ipnet::IpNet::new(ip, len) {
        Ok(n) => n.trunc().to_string(),
        Err(_) => ip.to_string(),
    }
}

/// The limits that match a request of this identity: the per-identity one when
/// `identity_limit` is given, then each class that has a key for it; overrides replace a
/// key's limit.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{matching_limits, PolicyConfig, Request};
/// let c = PolicyConfig::from_toml("[[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 1000\n\
///     [[limit]]\nby = \"client_network\"\nmessages_per_hour = 50\n", "p.toml")?;
/// let r = Request::new(&[("request", "smtpd_access_policy"), ("sender", "a@Shop.Example.com"), ("client_address", "192.0.2.77")])?;
/// let keys: Vec<String> = matching_limits(&c, &r, None, None).iter().map(|l| format!("{} {}", l.key, l.limit)).collect();
/// assert_eq!(keys, ["sender_domain:shop.example.com 1000", "client_network:192.0.2.0/24 50"]);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn matching_limits(
    config: &super::PolicyConfig,
    req: &Request,
    identity: Option<&Subject>,
    identity_limit: Option<u64>,
) -> Vec<Limited> {
    let mut out = Vec::new();
    let mut push = |key: String, limit: u64| {
        let key = key.to_ascii_lowercase();
        let (limit, source) = match config.overrides.get(&key) {
            Some(o) => (o, LimitSource::MapFile),
            None => (limit, LimitSource::Config),
        };
        out.push(Limited {
            key: key.into(),
            limit,
            source,
        });
    };
    if let (Some(id), Some(l)) = (identity, identity_limit) {
        push(format!("identity:{id}"), l);
    }
    let sender = req.sender();
    for c in &config.classes {
        let value = match c.by {
            By::SaslUser if !req.sasl_username().is_empty() => req.sasl_username().to_string(),
            By::Sender if sender.contains('@') => sender.to_string(),
            By::SenderDomain => match sender.rsplit_once('@') {
                Some((_, d)) if !d.is_empty() => d.trim_end_matches('.').to_string(),
                _ => continue,
            },
            By::ClientNetwork => match req.client_address() {
                Some(ip) => network_key(ip, c),
                None => continue,
            },
            By::Global => {
                push("global".into(), c.limit);
                continue;
            }
            _ => continue,
        };
        push(format!("{}:{value}", c.by), c.limit);
    }
    out
}

/// One limit matching a request, with its count in the window when known.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitState {
    /// The limit (its key, value and source).
    pub limit: Limited,
    /// Messages in the rolling hour; `None` when not known (no state directory given).
    pub count: Option<u64>,
}

/// The limits that match a request, with their counts where known (from Redis when
/// configured, else from the state directory's counters in `store`; the per-identity
/// count from `identity_count`, the ledger's, when not in Redis), and the index of the one
/// that applies: the least room left, or the lowest limit when counts are unknown.
///
/// # Errors
///
/// [`SmtpError::Io`] when Redis is configured and cannot be asked; the store's error,
/// as [`SmtpError::Io`] too, when its counters cannot be read.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::Store;
/// use rblkit::smtp::{limit_states, PolicyConfig, Request};
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-limit-states-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let store = Store::open(&dir, Default::default())?;
/// let c = PolicyConfig::from_toml("[[limit]]\nby = \"sender_domain\"\nmessages_per_hour = 10\n", "p.toml")?;
/// let r = Request::new(&[("request", "smtpd_access_policy"), ("sender", "a@shop.example.com")])?;
/// let id = "a@shop.example.com".parse()?;
/// let (states, applies) = limit_states(&c, &r, Some(&id), 0, Some(&store), "2026-11-20T10:00:00Z".parse()?)?;
/// assert_eq!(states[1].count, Some(0));
/// assert_eq!(applies, Some(1));
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
#[cfg_attr(not(feature = "redis"), allow(unused_mut, unused_variables))]
pub fn limit_states(
    config: &super::PolicyConfig,
    req: &Request,
    identity: Option<&Subject>,
    identity_count: u64,
    store: Option<&Store>,
    now: crate::time::Timestamp,
) -> Result<(Vec<LimitState>, Option<usize>), SmtpError> {
    let mut limits = matching_limits(config, req, identity, Some(config.rate.limit));
    let counts: Vec<Option<u64>> = match &config.redis {
        #[cfg(feature = "redis")]
        Some(r) => {
            let c = RedisCounters::new(r)?;
            c.overrides(&mut limits)?;
            limits
                .iter()
                .map(|l| c.named_count(&l.key, now).map(Some))
                .collect::<Result<_, _>>()?
        }
        _ => {
            let counters = store.map(Store::counters);
            limits
                .iter()
                .map(|l| match &counters {
                    _ if l.key.starts_with("identity:") => Ok(Some(identity_count)),
                    Some(c) => c.named_count(&l.key, now).map(Some),
                    None => Ok(None),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| SmtpError::Io {
                    addr: "state".into(),
                    message: e.to_string().into(),
                })?
        }
    };
    let states: Vec<LimitState> = limits
        .into_iter()
        .zip(counts)
        .map(|(limit, count)| LimitState { limit, count })
        .collect();
    let applies = (0..states.len()).min_by_key(|&i| {
        let s = &states[i];
        i128::from(s.limit.limit) - s.count.map_or(0, i128::from)
    });
    Ok((states, applies))
}

/// What one request asks of the class counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ask {
    /// Count one message, once per `instance` when it has one.
    Charge { instance: Option<Box<[u8]>> },
    /// Only check that one more message would be within the limits (RCPT stage of
    /// end-of-message counting).
    Peek,
}

/// What a request asks under the config's counting mode, if anything: the same points
/// at which the ledger counts (per message at its first RCPT, per recipient, or at
/// END-OF-MESSAGE, where the RCPT requests only check).
pub(super) fn ask(counting: Counting, req: &Request) -> Option<Ask> {
    let rcpt = req.stage().is_none_or(|s| s == Stage::Rcpt);
    match counting {
        Counting::PerMessage if rcpt => Some(Ask::Charge {
            instance: (!req.instance().is_empty()).then(|| super::decide::instance_key(req)),
        }),
        Counting::PerRecipient if rcpt => Some(Ask::Charge { instance: None }),
        Counting::EndOfMessage if rcpt => Some(Ask::Peek),
        Counting::EndOfMessage if req.is_stage(&Stage::EndOfMessage) => {
            Some(Ask::Charge { instance: None })
        }
        _ => None,
    }
}

/// Where the class counts are kept.
pub(super) enum Limiter {
    /// In the state directory's counters (shared by the processes on it).
    Store,
    /// In Redis, with the per-identity limit too.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Redis(Box<RedisCounters>),
}

impl Limiter {
    /// The limiter a config needs: Redis when configured, else the state directory's
    /// counters when it has classes, else none (the per-identity limit is the ledger's).
    pub(super) fn for_config(config: &super::PolicyConfig) -> Result<Option<Limiter>, SmtpError> {
        match &config.redis {
            #[cfg(feature = "redis")]
            Some(r) => Ok(Some(Limiter::Redis(Box::new(RedisCounters::new(r)?)))),
            #[cfg(not(feature = "redis"))]
            Some(_) => Err(SmtpError::Io {
                addr: "redis".into(),
                message: "this build has no Redis client (feature redis)".into(),
            }),
            None if config.classes.is_empty() => Ok(None),
            None => Ok(Some(Limiter::Store)),
        }
    }
}

/// The question a request asks of the limits (`redis`: with the per-identity limit),
/// if any.
pub(super) fn question(
    redis: bool,
    config: &super::PolicyConfig,
    req: &Request,
    id: &Subject,
) -> Option<Question> {
    let a = ask(config.counting, req)?;
    let limits = matching_limits(config, req, Some(id), redis.then_some(config.rate.limit));
    if limits.is_empty() {
        return None;
    }
    let (instance, n) = match a {
        Ask::Charge { instance } => (
            instance,
            super::decide::eom_recipients(config.counting, req),
        ),
        Ask::Peek => (None, 0),
    };
    Some(Question {
        instance,
        limits,
        n,
    })
}

/// Charges `asks` in `counters` at `now`, one answer per question in `out` (each
/// [`Answer::Failed`] when they failed).
pub(super) fn charge_all<C: CounterStore>(
    counters: &mut C,
    asks: &[Question],
    now: crate::time::Timestamp,
    out: &mut Vec<Answer>,
) -> Result<(), C::Error> {
    out.clear();
    if asks.is_empty() {
        return Ok(());
    }
    let charges: Vec<_> = asks.iter().map(Question::charge).collect();
    let mut charged = Vec::with_capacity(asks.len());
    let r = counters.charge(now, &charges, &mut charged);
    if r.is_ok() {
        out.extend(charged.into_iter().map(Answer::from));
    }
    out.resize(asks.len(), Answer::Failed);
    r
}

/// Asks the state directory's counters `asks` (one transaction, or the journal's when
/// `counters` is inside it); one answer per question in `out`. Returns a message to log
/// when they failed (each answer is then [`Answer::Failed`]).
pub(super) fn ask_store(
    counters: &mut StoreCounters<'_>,
    asks: &[Question],
    now: crate::time::Timestamp,
    out: &mut Vec<Answer>,
) -> Option<String> {
    charge_all(counters, asks, now, out).err().map(|e| {
        format!(
            "the state directory's counters failed, answering {} requests as unavailable: {e}",
            asks.len()
        )
    })
}

/// Asks the limiter `asks` (Redis: in one pipeline; the store: in one transaction); one
/// answer per question in `out`. Returns a message to log, and whether failures are
/// answered closed.
pub(super) fn answers(
    limiter: &mut Limiter,
    store: &Store,
    asks: &[Question],
    now: crate::time::Timestamp,
    out: &mut Vec<Answer>,
) -> (Option<String>, bool) {
    out.clear();
    match limiter {
        Limiter::Store => (ask_store(&mut store.counters(), asks, now, out), true),
        Limiter::Redis(r) => {
            let msg = r.run(asks, now, out);
            (msg, r.config().on_failure == OnFailure::Closed)
        }
    }
}

/// Turns an answer into the verdict's (a refusal, the failure answer) and raises the
/// alert of a limit crossed. Returns whether it was a failure.
pub(super) fn apply(
    v: &mut super::Verdict,
    a: Answer,
    q: &Question,
    alerts: Option<&mut Alerter>,
    config: &super::PolicyConfig,
    now: crate::time::Timestamp,
    closed: bool,
) -> bool {
    use super::reply::{Action, RefusalReason};
    let reason = match a {
        Answer::Accepted { .. } => return false,
        Answer::Refused { tight, first } => {
            if let (Some(al), Some(l)) = (alerts, q.limits.get(tight)) {
                // an only-check (n = 0) or a refused message's later recipient is no crossing
                if q.n > 0 && first != Some(false) {
                    let identity = v
                        .identity
                        .as_ref()
                        .map_or_else(String::new, |s| s.to_string());
                    al.crossed(
                        Alert {
                            key: l.key.clone(),
                            identity: identity.into(),
                            limit: l.limit,
                            at: now,
                        },
                        first,
                    );
                }
            }
            RefusalReason::RateLimit
        }
        Answer::Failed => {
            if !closed {
                return true;
            }
            RefusalReason::Unavailable
        }
    };
    v.reason = Some(reason);
    v.action = Action::Refuse(config.replies.get(reason).clone());
    matches!(a, Answer::Failed)
}

/// Raises the alert of the ledger's own rate limit when a verdict is that refusal.
pub(super) fn ledger_alert(
    v: &super::Verdict,
    alerts: Option<&mut Alerter>,
    config: &super::PolicyConfig,
    now: crate::time::Timestamp,
) {
    if let (Some(a), Some(id), Some(super::reply::RefusalReason::RateLimit)) =
        (alerts, &v.identity, v.reason)
    {
        a.crossed(
            Alert {
                key: format!("identity:{id}").to_ascii_lowercase().into(),
                identity: id.to_string().into(),
                limit: config.rate.limit,
                at: now,
            },
            None,
        );
    }
}

/// Checks (and, for the requests given, counts) against the matching limits the requests
/// whose verdicts the ledger accepted, turns refusals and failures into their answers, and
/// raises the alerts of limits crossed. Returns how many requests got the failure answer,
/// and a message to log.
pub(super) fn settle<'a>(
    limiter: Option<&mut Limiter>,
    store: &Store,
    mut alerts: Option<&mut Alerter>,
    config: &super::PolicyConfig,
    now: crate::time::Timestamp,
    items: impl Iterator<Item = (&'a Request, &'a mut super::Verdict)>,
) -> (u64, Option<String>) {
    let redis = matches!(limiter, Some(Limiter::Redis(_)));
    let mut asks: Vec<Question> = Vec::new();
    let mut targets = Vec::new();
    for (req, v) in items {
        if v.reason.is_some() {
            ledger_alert(v, alerts.as_deref_mut(), config, now);
            continue;
        }
        let (Some(_), Some(id)) = (&limiter, &v.identity) else {
            continue;
        };
        if let Some(q) = question(redis, config, req, id) {
            asks.push(q);
            targets.push(v);
        }
    }
    let Some(limiter) = limiter else {
        return (0, None);
    };
    if asks.is_empty() {
        return (0, None);
    }
    let mut out = Vec::with_capacity(asks.len());
    let (msg, closed) = answers(limiter, store, &asks, now, &mut out);
    let mut failed = 0;
    for ((v, a), q) in targets.into_iter().zip(out).zip(&asks) {
        if apply(v, a, q, alerts.as_deref_mut(), config, now, closed) {
            failed += 1;
        }
    }
    (failed, msg)
}

/// A `[[limit]]` table as the file has it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileClass {
    by: String,
    messages_per_hour: u64,
    ipv4_prefix: Option<u8>,
    ipv6_prefix: Option<u8>,
}

impl FileClass {
    /// The class, or what is wrong.
    pub(super) fn into_class(self, i: usize) -> Result<LimitClass, String> {
        let at = |m: String| format!("limit[{i}].{m}");
        let by: By = self.by.parse().map_err(|e| at(format!("by: {e}")))?;
        if self.messages_per_hour == 0 {
            return Err(at("messages_per_hour: at least 1".into()));
        }
        let ipv4_prefix = self.ipv4_prefix.unwrap_or(24);
        let ipv6_prefix = self.ipv6_prefix.unwrap_or(64);
        if ipv4_prefix > 32 || ipv6_prefix > 128 {
            return Err(at("ipv4_prefix/ipv6_prefix: at most 32 / 128".into()));
        }
        Ok(LimitClass {
            by,
            limit: self.messages_per_hour,
            ipv4_prefix,
            ipv6_prefix,
        })
    }
}

/// The `[overrides]` table.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileOverrides {
    file: String,
}

impl FileOverrides {
    /// Reads the map file.
    pub(super) fn load(self) -> Result<Overrides, SmtpError> {
        let text = std::fs::read_to_string(&self.file).map_err(|e| SmtpError::Config {
            file: self.file.clone().into(),
            message: format!("overrides.file: {e}").into(),
        })?;
        Overrides::parse(&text, &self.file)
    }
}
