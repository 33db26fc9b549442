//! Watching subjects on DNS lists over time, like a blacklist-monitoring service: check
//! them all, keep the history, report what changed since the last run.
//!
//! - [`MonitorConfig`]: the TOML config — subjects (addresses, networks expanded to their
//!   addresses up to a cap, domains), lists (known names or zones), the resolver, a rate
//!   limit, the concurrency, the timeout.
//! - [`StateDir`]: the state directory, locked while a run uses it. `state.json` holds what
//!   each list last said about each subject, replaced atomically (written to a temporary
//!   file, synced, renamed); `history.jsonl` gets one JSON line per change and per run,
//!   appended and synced before the state is replaced, so a crash at any point loses
//!   nothing (at worst a change is reported again by the next run).
//! - [`compare`]: the pure step — the previous state and this run's results give a
//!   [`Report`] (newly listed, delisted, still listed, errors) and the next state. An error
//!   is not a change: the list's last answer stands.
//! - [`run`]: all of it, once.
//!
//! # Examples
//!
//! ```
//! use rblkit::dns::client::{CheckResult, ListSpec};
//! use rblkit::dns::monitor::{compare, MonitorConfig, State};
//! use rblkit::codes::ReturnCode;
//! use rblkit::Timestamp;
//!
//! let config = MonitorConfig::parse(
//!     r#"
//!     subjects = ["192.0.2.1", "198.51.100.0/30", "spam.example"]
//!     lists = ["bl.example", "spamhaus-dbl"]
//!     rate_limit = 20
//!     "#,
//!     "monitor.toml".as_ref(),
//! )?;
//! // the /30 stands for its two usable addresses; the domain list takes only the domain
//! assert_eq!(config.subjects().len(), 4);
//! assert_eq!(config.pairs().count(), 4 + 1);
//!
//! let bl: ListSpec = "bl.example".parse()?;
//! let listed = |s: &str| CheckResult::from_codes(s.parse().unwrap(), bl.clone(), vec![ReturnCode::LISTED], vec![]);
//! let t0 = Timestamp::from_unix_assert(1_800_000_000);
//! let (report, state) = compare(&State::default(), &[listed("192.0.2.1")], t0);
//! assert_eq!(report.newly_listed.len(), 1);
//! let (again, _) = compare(&state, &[listed("192.0.2.1")], t0 + std::time::Duration::from_secs(3600));
//! assert!(again.newly_listed.is_empty());
//! assert_eq!(again.still_listed, 1);
//! # Ok::<(), rblkit::Error>(())
//! ```

use crate::codes::ReturnCode;
use crate::dns::client::{self, CheckResult, Checker, ClientError, ListSpec, Outcome, TxtLookup};
use crate::subject::{Subject, SubjectError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The most addresses networks may expand to in one config, unless `max_addresses` says
/// otherwise.
pub const DEFAULT_MAX_ADDRESSES: u64 = 4096;

/// What went wrong with a monitor's config or state.
///
/// # Examples
///
/// ```
/// use rblkit::dns::monitor::{MonitorConfig, MonitorError};
/// let e = MonitorConfig::parse("subjects = [\"192.0.2.1\"]\nlists = [\"bl.example\"]\nspeed = 3\n", "m.toml".as_ref()).unwrap_err();
/// assert!(matches!(e, MonitorError::Toml { line: 3, .. }), "{e}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// The config is not valid TOML or has unknown, missing or mistyped fields.
    #[error("{}:{line}:{column}: {detail}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The line (from 1).
        line: u32,
        /// The column (from 1).
        column: u32,
        /// What the TOML reader said.
        detail: Box<str>,
    },
    /// A subject that does not parse.
    #[error("{}: subjects[{index}] {text:?}: {source}", path.display())]
    Subject {
        /// The file.
        path: PathBuf,
        /// Its position in `subjects` (from 0).
        index: usize,
        /// The text.
        text: Box<str>,
        /// Why.
        #[source]
        source: SubjectError,
    },
    /// A subject the monitor cannot check (an email address).
    #[error("{}: subjects[{index}] {text:?}: only addresses, networks and domains are monitored", path.display())]
    Unmonitorable {
        /// The file.
        path: PathBuf,
        /// Its position in `subjects` (from 0).
        index: usize,
        /// The text.
        text: Box<str>,
    },
    /// Networks that expand to more addresses than allowed.
    #[error("{}: subjects[{index}] {text:?}: networks expand to more than max_addresses = {max} addresses", path.display())]
    TooManyAddresses {
        /// The file.
        path: PathBuf,
        /// The subject that went over.
        index: usize,
        /// Its text.
        text: Box<str>,
        /// The cap.
        max: u64,
    },
    /// A list, or the resolver, or a setting that is wrong.
    #[error("{}: {field}: {source}", path.display())]
    Setting {
        /// The file.
        path: PathBuf,
        /// The field (`lists[2]`, `resolver`, `rate_limit`, …).
        field: Box<str>,
        /// Why.
        #[source]
        source: ClientError,
    },
    /// The state file does not parse.
    #[error("{}: byte {offset}: {detail}", path.display())]
    BadState {
        /// The file.
        path: PathBuf,
        /// Where.
        offset: usize,
        /// What is wrong.
        detail: Box<str>,
    },
    /// A file could not be read or written.
    #[error("{}: {kind}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        kind: io::ErrorKind,
    },
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> MonitorError + '_ {
    move |e| MonitorError::Io {
        path: path.to_path_buf(),
        kind: e.kind(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    subjects: Vec<String>,
    lists: Vec<String>,
    resolver: Option<String>,
    rate_limit: Option<u32>,
    concurrency: Option<usize>,
    timeout_ms: Option<u64>,
    attempts: Option<u8>,
    max_addresses: Option<u64>,
}

/// A monitor's config: what to check where, and how fast.
///
/// ```toml
/// subjects = ["192.0.2.1", "198.51.100.0/29", "2001:db8::25", "mail.example"]
/// lists = ["spamhaus-zen", "barracuda", "bl.example"]
/// resolver = "127.0.0.1:53"   # default: the first nameserver of /etc/resolv.conf
/// rate_limit = 50             # queries per second, every attempt counts; default none
/// concurrency = 16            # queries outstanding at once; default 32
/// timeout_ms = 2000           # per attempt; default 2000
/// attempts = 2                # UDP attempts per query; default 2
/// max_addresses = 4096        # networks expand to at most this many addresses in all
/// ```
///
/// A network stands for its addresses (for IPv4 without the network and broadcast
/// addresses of prefixes up to /30). Subjects are checked only against lists that list
/// their kind (see [`ListSpec::lists`]).
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    subjects: Vec<Subject>,
    lists: Vec<ListSpec>,
    resolver: Option<SocketAddr>,
    rate_limit: Option<u32>,
    concurrency: usize,
    timeout: Duration,
    attempts: u8,
}

fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = offset
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line as u32, col as u32)
}

impl MonitorConfig {
    /// Reads the config file at `path`.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Io`] when it cannot be read, else as [`parse`](MonitorConfig::parse).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::{MonitorConfig, MonitorError};
    /// assert!(matches!(MonitorConfig::load("/nonexistent.toml".as_ref()), Err(MonitorError::Io { .. })));
    /// ```
    pub fn load(path: &Path) -> Result<MonitorConfig, MonitorError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        MonitorConfig::parse(&text, path)
    }

    /// Reads a config from its text; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Toml`] for bad TOML and unknown or mistyped fields,
    /// [`MonitorError::Subject`], [`MonitorError::Unmonitorable`] and
    /// [`MonitorError::TooManyAddresses`] for subjects, [`MonitorError::Setting`] for lists,
    /// the resolver and out-of-range settings.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn parse(text: &str, path: &Path) -> Result<MonitorConfig, MonitorError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = line_col(text, e.span().map_or(0, |s| s.start));
            MonitorError::Toml {
                path: path.to_path_buf(),
                line,
                column,
                detail: e.message().trim().into(),
            }
        })?;
        let setting = |field: String, source| MonitorError::Setting {
            path: path.to_path_buf(),
            field: field.into(),
            source,
        };
        let max = raw.max_addresses.unwrap_or(DEFAULT_MAX_ADDRESSES);
        let mut expanded = 0u64;
        let mut seen = HashSet::new();
        let mut subjects = Vec::new();
        for (index, text) in raw.subjects.iter().enumerate() {
            let s: Subject = text.parse().map_err(|source| MonitorError::Subject {
                path: path.to_path_buf(),
                index,
                text: text.as_str().into(),
                source,
            })?;
            match &s {
                Subject::Net(net) => {
                    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
                    let size = 1u64.checked_shl(bits).filter(|&n| n <= max);
                    expanded = expanded.saturating_add(size.unwrap_or(u64::MAX));
                    if expanded > max {
                        return Err(MonitorError::TooManyAddresses {
                            path: path.to_path_buf(),
                            index,
                            text: text.as_str().into(),
                            max,
                        });
                    }
                    for ip in net.hosts() {
                        let a = Subject::Ip(ip);
                        if seen.insert(a.clone()) {
                            subjects.push(a);
                        }
                    }
                }
                Subject::Ip(_) | Subject::Domain(_) => {
                    if seen.insert(s.clone()) {
                        subjects.push(s);
                    }
                }
                _ => {
                    return Err(MonitorError::Unmonitorable {
                        path: path.to_path_buf(),
                        index,
                        text: text.as_str().into(),
                    })
                }
            }
        }
        let mut lists: Vec<ListSpec> = Vec::new();
        for (i, l) in raw.lists.iter().enumerate() {
            let spec: ListSpec = l.parse().map_err(|e| setting(format!("lists[{i}]"), e))?;
            if !lists.iter().any(|o| o.zone() == spec.zone()) {
                lists.push(spec);
            }
        }
        let resolver = match &raw.resolver {
            Some(r) => Some(client::parse_server(r).map_err(|e| setting("resolver".into(), e))?),
            None => None,
        };
        let config = MonitorConfig {
            subjects,
            lists,
            resolver,
            rate_limit: raw.rate_limit,
            concurrency: raw.concurrency.unwrap_or(32),
            timeout: Duration::from_millis(raw.timeout_ms.unwrap_or(2000)),
            attempts: raw.attempts.unwrap_or(2),
        };
        // Validate the settings now, so that a bad one names its field.
        config
            .checker_for("127.0.0.1:53".parse().expect("a socket address"))
            .map_err(|e| {
                let field = match &e {
                    ClientError::BadSetting { field, .. } => match *field {
                        "timeout" => "timeout_ms",
                        f => f,
                    },
                    _ => "settings",
                };
                setting(field.into(), e)
            })?;
        Ok(config)
    }

    /// The subjects, networks expanded, each once, in config order.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// The lists, each zone once.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::MonitorConfig;
    /// let c = MonitorConfig::parse("subjects = []\nlists = [\"spamcop\", \"bl.spamcop.net\"]", "m".as_ref())?;
    /// assert_eq!(c.lists().len(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lists(&self) -> &[ListSpec] {
        &self.lists
    }

    /// The resolver the config names, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::MonitorConfig;
    /// let c = MonitorConfig::parse("subjects = []\nlists = []\nresolver = \"::1\"", "m".as_ref())?;
    /// assert_eq!(c.resolver(), Some("[::1]:53".parse().unwrap()));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn resolver(&self) -> Option<SocketAddr> {
        self.resolver
    }

    /// Every (subject, list) pair to check: each subject with each list that lists its
    /// kind.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn pairs(&self) -> impl Iterator<Item = (Subject, ListSpec)> + '_ {
        self.subjects.iter().flat_map(move |s| {
            self.lists
                .iter()
                .filter(move |l| l.lists(s.kind()))
                .map(move |l| (s.clone(), l.clone()))
        })
    }

    /// A checker with the config's settings, asking `server`.
    ///
    /// # Errors
    ///
    /// [`ClientError::BadSetting`] for a zero timeout, attempts, concurrency or rate.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::MonitorConfig;
    /// let c = MonitorConfig::parse("subjects = []\nlists = []", "m".as_ref())?;
    /// assert_eq!(c.checker_for("127.0.0.1:5300".parse().unwrap())?.server().port(), 5300);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn checker_for(&self, server: SocketAddr) -> Result<Checker, ClientError> {
        Checker::builder(server)
            .timeout(self.timeout)
            .attempts(self.attempts)
            .concurrency(self.concurrency)
            .rate_limit(self.rate_limit)
            .txt(TxtLookup::WhenListed)
            .build()
    }
}

/// What a list last said about a subject.
///
/// # Examples
///
/// See [`State`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The subject.
    pub subject: Subject,
    /// The list's zone.
    pub zone: Box<str>,
    /// The list's name as configured.
    pub list: Box<str>,
    /// Since when it is listed, or `None` when not listed.
    pub listed_since: Option<Timestamp>,
    /// The codes of the listing (empty when not listed).
    pub codes: Vec<ReturnCode>,
    /// The TXT records of the listing.
    pub txt: Vec<String>,
    /// When the list last answered (not an error).
    pub checked: Timestamp,
}

/// What each list last said about each subject, keyed by subject and zone.
///
/// # Examples
///
/// ```
/// use rblkit::dns::monitor::State;
/// let s = State::default();
/// assert!(s.is_empty());
/// assert!(s.get(&"192.0.2.1".parse()?, "bl.example").is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    entries: BTreeMap<(String, Box<str>), Entry>,
}

impl State {
    /// The entry of `subject` on the list at `zone`.
    ///
    /// # Examples
    ///
    /// See [`State`].
    pub fn get(&self, subject: &Subject, zone: &str) -> Option<&Entry> {
        self.entries.get(&(subject.to_string(), zone.into()))
    }

    /// How many entries.
    ///
    /// # Examples
    ///
    /// See [`State`].
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    ///
    /// # Examples
    ///
    /// See [`State`].
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, by subject and zone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::dns::monitor::State::default().entries().count(), 0);
    /// ```
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    fn insert(&mut self, e: Entry) {
        self.entries
            .insert((e.subject.to_string(), e.zone.clone()), e);
    }
}

/// A change of listing, or a listing that stands.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The subject.
    pub subject: Subject,
    /// The list's name.
    pub list: Box<str>,
    /// The list's zone.
    pub zone: Box<str>,
    /// The query name asked.
    pub query: String,
    /// The codes: of the new listing, or for a delisting those it had.
    pub codes: Vec<ReturnCode>,
    /// What the codes mean.
    pub meanings: Vec<&'static str>,
    /// The TXT records: of the new listing, or those it had.
    pub txt: Vec<String>,
    /// Since when listed.
    pub since: Option<Timestamp>,
}

/// A list that could not be checked this run.
///
/// # Examples
///
/// See [`Report`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckError {
    /// The subject.
    pub subject: Subject,
    /// The list's name.
    pub list: Box<str>,
    /// The list's zone.
    pub zone: Box<str>,
    /// The query name asked.
    pub query: String,
    /// Why (see [`client::Failure`]).
    pub error: client::Failure,
    /// Whether the list's last answer, which stands, was a listing.
    pub last_listed: Option<Timestamp>,
}

/// What changed since the last run.
///
/// # Examples
///
/// ```
/// use rblkit::dns::monitor::{compare, State};
/// use rblkit::Timestamp;
/// let (r, _) = compare(&State::default(), &[], Timestamp::from_unix_assert(0));
/// assert!(!r.has_new_listings());
/// assert_eq!(r.checked, 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// When the run was.
    pub at: Timestamp,
    /// How many (subject, list) pairs were checked.
    pub checked: usize,
    /// Listed now, not listed (or not known) before.
    pub newly_listed: Vec<Change>,
    /// Listed before, not listed now.
    pub delisted: Vec<Change>,
    /// How many listings stand.
    pub still_listed: usize,
    /// The lists that could not be checked.
    pub errors: Vec<CheckError>,
}

impl Report {
    /// Whether something is newly listed (the monitor then exits with status 1).
    ///
    /// # Examples
    ///
    /// See [`Report`].
    pub fn has_new_listings(&self) -> bool {
        !self.newly_listed.is_empty()
    }

    /// The report as one JSON object: `at`, `checked`, `still_listed`, `newly_listed` and
    /// `delisted` (arrays of objects with `subject`, `list`, `zone`, `query`, `codes`,
    /// `meanings`, `txt`, `since`), and `errors` (objects with `subject`, `list`, `zone`,
    /// `query`, `error`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::{compare, State};
    /// use rblkit::Timestamp;
    /// let (r, _) = compare(&State::default(), &[], Timestamp::from_unix_assert(0));
    /// assert_eq!(r.to_json()["newly_listed"], serde_json::json!([]));
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let change = |c: &Change| {
            serde_json::json!({
                "subject": c.subject.to_string(),
                "list": &*c.list,
                "zone": &*c.zone,
                "query": c.query,
                "codes": c.codes.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                "meanings": c.meanings,
                "txt": c.txt,
                "since": c.since.map(|t| t.to_string()),
            })
        };
        serde_json::json!({
            "at": self.at.to_string(),
            "checked": self.checked,
            "still_listed": self.still_listed,
            "newly_listed": self.newly_listed.iter().map(change).collect::<Vec<_>>(),
            "delisted": self.delisted.iter().map(change).collect::<Vec<_>>(),
            "errors": self.errors.iter().map(|e| serde_json::json!({
                "subject": e.subject.to_string(),
                "list": &*e.list,
                "zone": &*e.zone,
                "query": e.query,
                "error": e.error.to_string(),
            })).collect::<Vec<_>>(),
        })
    }

    /// The report as text for a person (or cron's mail): a summary line, then one line
    /// per newly listed, delisted and unchecked pair.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::monitor::{compare, State};
    /// use rblkit::Timestamp;
    /// let (r, _) = compare(&State::default(), &[], Timestamp::from_unix_assert(0));
    /// assert!(r.to_text().starts_with("1970-01-01T00:00:00Z: 0 checked, 0 newly listed"));
    /// ```
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} checked, {} newly listed, {} delisted, {} still listed, {} not checked",
            self.at,
            self.checked,
            self.newly_listed.len(),
            self.delisted.len(),
            self.still_listed,
            self.errors.len()
        );
        let codes = |c: &Change| {
            c.codes
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for c in &self.newly_listed {
            let _ = write!(
                out,
                "NEWLY LISTED {} on {} ({}): {} ({})",
                c.subject,
                c.list,
                c.query,
                codes(c),
                c.meanings.join("; ")
            );
            for t in &c.txt {
                let _ = write!(out, " {t:?}");
            }
            out.push('\n');
        }
        for c in &self.delisted {
            let _ = write!(
                out,
                "DELISTED {} on {} ({}): was {}",
                c.subject,
                c.list,
                c.query,
                codes(c)
            );
            if let Some(s) = c.since {
                let _ = write!(out, " since {s}");
            }
            out.push('\n');
        }
        for e in &self.errors {
            let _ = writeln!(
                out,
                "NOT CHECKED {} on {} ({}): {}",
                e.subject, e.list, e.query, e.error
            );
        }
        out
    }
}

/// This run's results against the previous state: the report, and the next state.
///
/// A listing is new when the pair was not listed (or not known) before; a delisting when
/// it was listed and the list now answers "not listed". An error changes nothing: the
/// previous entry is kept as it was. Pairs not in `results` are dropped from the state.
///
/// # Examples
///
/// See the [module documentation](self).
pub fn compare(prev: &State, results: &[CheckResult], now: Timestamp) -> (Report, State) {
    let mut report = Report {
        at: now,
        checked: results.len(),
        newly_listed: Vec::new(),
        delisted: Vec::new(),
        still_listed: 0,
        errors: Vec::new(),
    };
    let mut next = State::default();
    for r in results {
        let old = prev.get(&r.subject, r.zone());
        let change = |codes: &[ReturnCode], txt: &[String], since| Change {
            subject: r.subject.clone(),
            list: r.list.name().into(),
            zone: r.zone().into(),
            query: r.query.clone(),
            codes: codes.to_vec(),
            meanings: {
                let mut m: Vec<&'static str> = Vec::new();
                for &c in codes {
                    for x in CheckResult::meaning_of(&r.list, c) {
                        if !m.contains(&x) {
                            m.push(x);
                        }
                    }
                }
                m
            },
            txt: txt.to_vec(),
            since,
        };
        let was = old.and_then(|e| e.listed_since);
        match &r.outcome {
            Outcome::Error(f) => {
                report.errors.push(CheckError {
                    subject: r.subject.clone(),
                    list: r.list.name().into(),
                    zone: r.zone().into(),
                    query: r.query.clone(),
                    error: f.clone(),
                    last_listed: was,
                });
                if let Some(e) = old {
                    next.insert(e.clone());
                }
            }
            Outcome::Listed { .. } => {
                let since = match was {
                    Some(s) => {
                        report.still_listed += 1;
                        s
                    }
                    None => {
                        report
                            .newly_listed
                            .push(change(&r.codes, &r.txt, Some(now)));
                        now
                    }
                };
                next.insert(Entry {
                    subject: r.subject.clone(),
                    zone: r.zone().into(),
                    list: r.list.name().into(),
                    listed_since: Some(since),
                    codes: r.codes.clone(),
                    txt: r.txt.clone(),
                    checked: now,
                });
            }
            _ => {
                if let (Some(e), Some(s)) = (old, was) {
                    report.delisted.push(change(&e.codes, &e.txt, Some(s)));
                }
                next.insert(Entry {
                    subject: r.subject.clone(),
                    zone: r.zone().into(),
                    list: r.list.name().into(),
                    listed_since: None,
                    codes: Vec::new(),
                    txt: Vec::new(),
                    checked: now,
                });
            }
        }
    }
    (report, next)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    subject: String,
    zone: String,
    list: String,
    listed_since: Option<String>,
    codes: Vec<String>,
    txt: Vec<String>,
    checked: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawState {
    version: u32,
    updated: String,
    entries: Vec<RawEntry>,
}

const STATE_VERSION: u32 = 1;

/// A monitor's state directory, locked (an exclusive lock on `DIR/lock`) while this value
/// lives, so that two runs never interleave.
///
/// # Examples
///
/// ```
/// use rblkit::dns::monitor::{compare, StateDir};
/// use rblkit::Timestamp;
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-monitor-{}", std::process::id()));
/// let state = StateDir::open(&dir)?;
/// assert!(state.load()?.is_empty());
/// let (report, next) = compare(&state.load()?, &[], Timestamp::from_unix_assert(0));
/// state.commit(&report, &next)?;
/// assert!(dir.join("state.json").is_file() && dir.join("history.jsonl").is_file());
/// # drop(state); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    _lock: File,
}

impl StateDir {
    /// Opens (creating it when missing) and locks the state directory at `path`, waiting
    /// for another run to finish.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Io`] when it cannot be created or locked.
    pub fn open(path: &Path) -> Result<StateDir, MonitorError> {
        std::fs::create_dir_all(path).map_err(io_err(path))?;
        let lock_path = path.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        Ok(StateDir {
            path: path.to_path_buf(),
            _lock: lock,
        })
    }

    /// The state file's path.
    pub fn state_path(&self) -> PathBuf {
        self.path.join("state.json")
    }

    /// The history file's path.
    pub fn history_path(&self) -> PathBuf {
        self.path.join("history.jsonl")
    }

    /// The state of the last run (empty before the first).
    ///
    /// # Errors
    ///
    /// [`MonitorError::Io`] when it cannot be read, [`MonitorError::BadState`] when it does
    /// not parse.
    pub fn load(&self) -> Result<State, MonitorError> {
        let path = self.state_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let bad = |offset: usize, detail: String| MonitorError::BadState {
            path: path.clone(),
            offset,
            detail: detail.into(),
        };
        let offset_of = |line: usize, column: usize| {
            text.split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum::<usize>()
                + column.saturating_sub(1)
        };
        let raw: RawState = serde_json::from_str(&text)
            .map_err(|e| bad(offset_of(e.line(), e.column()), e.to_string()))?;
        if raw.version != STATE_VERSION {
            return Err(bad(
                0,
                format!("version {} (want {STATE_VERSION})", raw.version),
            ));
        }
        let mut state = State::default();
        for (i, e) in raw.entries.into_iter().enumerate() {
            let field = |f: &str| format!("entries[{i}].{f}");
            let time = |t: &str, f: &str| {
                t.parse::<Timestamp>()
                    .map_err(|err| bad(0, format!("{}: {err}", field(f))))
            };
            let subject = e
                .subject
                .parse::<Subject>()
                .map_err(|err| bad(0, format!("{}: {err}", field("subject"))))?;
            let mut codes = Vec::with_capacity(e.codes.len());
            for c in &e.codes {
                codes.push(
                    c.parse::<ReturnCode>()
                        .map_err(|err| bad(0, format!("{}: {err}", field("codes"))))?,
                );
            }
            state.insert(Entry {
                subject,
                zone: e.zone.into(),
                list: e.list.into(),
                listed_since: match &e.listed_since {
                    Some(t) => Some(time(t, "listed_since")?),
                    None => None,
                },
                codes,
                txt: e.txt,
                checked: time(&e.checked, "checked")?,
            });
        }
        Ok(state)
    }

    /// Records a run: appends the report's changes and a run line to the history (synced),
    /// then replaces the state file atomically with `next`.
    ///
    /// # Errors
    ///
    /// [`MonitorError::Io`] when a file cannot be written.
    pub fn commit(&self, report: &Report, next: &State) -> Result<(), MonitorError> {
        let hist = self.history_path();
        let mut lines = String::new();
        let json = report.to_json();
        for (kind, key) in [("newly_listed", "newly_listed"), ("delisted", "delisted")] {
            if let Some(items) = json[key].as_array() {
                for item in items {
                    let mut item = item.clone();
                    item["at"] = serde_json::Value::String(report.at.to_string());
                    item["change"] = serde_json::Value::String(kind.into());
                    lines.push_str(&item.to_string());
                    lines.push('\n');
                }
            }
        }
        let run = serde_json::json!({
            "at": report.at.to_string(),
            "run": {
                "checked": report.checked,
                "newly_listed": report.newly_listed.len(),
                "delisted": report.delisted.len(),
                "still_listed": report.still_listed,
                "errors": report.errors.len(),
            }
        });
        lines.push_str(&run.to_string());
        lines.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&hist)
            .map_err(io_err(&hist))?;
        f.write_all(lines.as_bytes()).map_err(io_err(&hist))?;
        f.sync_data().map_err(io_err(&hist))?;

        let raw = RawState {
            version: STATE_VERSION,
            updated: report.at.to_string(),
            entries: next
                .entries()
                .map(|e| RawEntry {
                    subject: e.subject.to_string(),
                    zone: e.zone.to_string(),
                    list: e.list.to_string(),
                    listed_since: e.listed_since.map(|t| t.to_string()),
                    codes: e.codes.iter().map(|c| c.to_string()).collect(),
                    txt: e.txt.clone(),
                    checked: e.checked.to_string(),
                })
                .collect(),
        };
        let path = self.state_path();
        let tmp = self.path.join("state.json.tmp");
        let mut text = serde_json::to_string_pretty(&raw).expect("strings serialize");
        text.push('\n');
        let mut t = File::create(&tmp).map_err(io_err(&tmp))?;
        t.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
        t.sync_all().map_err(io_err(&tmp))?;
        drop(t);
        std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
        // The rename itself is durable once the directory is synced.
        File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.path))?;
        Ok(())
    }
}

/// One monitor run: checks every pair of `config` through `server` (the config's resolver
/// when it names one), compares with the state in `dir`, records the run there, and
/// returns the report. `now` is the run's time.
///
/// # Errors
///
/// [`MonitorError::Io`] and [`MonitorError::BadState`] from the state directory;
/// [`MonitorError::Setting`] when the checker cannot be built.
///
/// # Examples
///
/// ```
/// use rblkit::dns::monitor::{run, MonitorConfig, StateDir};
/// use rblkit::Timestamp;
/// let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// let text = format!("subjects = [\"192.0.2.1\"]\nlists = [\"bl.example\"]\ntimeout_ms = 30\nattempts = 1\nresolver = \"{}\"", silent.local_addr().unwrap());
/// let config = MonitorConfig::parse(&text, "m.toml".as_ref())?;
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-run-{}", std::process::id()));
/// let report = run(&config, &StateDir::open(&dir)?, config.resolver().unwrap(), Timestamp::from_unix_assert(0))?;
/// assert_eq!(report.errors.len(), 1); // a timeout: not a change
/// assert!(!report.has_new_listings());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn run(
    config: &MonitorConfig,
    dir: &StateDir,
    server: SocketAddr,
    now: Timestamp,
) -> Result<Report, MonitorError> {
    let setting = |e| MonitorError::Setting {
        path: dir.path.clone(),
        field: "settings".into(),
        source: e,
    };
    let checker = config.checker_for(server).map_err(setting)?;
    let prev = dir.load()?;
    let rt = client::runtime().map_err(setting)?;
    let results = rt.block_on(checker.check_pairs(config.pairs()));
    let (report, next) = compare(&prev, &results, now);
    dir.commit(&report, &next)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_assert(1_800_000_000 + s)
    }

    fn result(subject: &str, outcome: Outcome, codes: &[ReturnCode]) -> CheckResult {
        let list: ListSpec = "bl.example".parse().unwrap();
        let subject: Subject = subject.parse().unwrap();
        CheckResult {
            query: list.query_name(&subject).unwrap(),
            subject,
            list,
            outcome,
            codes: codes.to_vec(),
            txt: vec!["why".into()],
        }
    }

    fn listed(s: &str) -> CheckResult {
        result(
            s,
            Outcome::Listed {
                reasons: crate::codes::Reason::Listed.into(),
                unknown: false,
            },
            &[ReturnCode::LISTED],
        )
    }

    #[test]
    fn listing_delisting_and_errors() {
        let (r, s) = compare(
            &State::default(),
            &[
                listed("192.0.2.1"),
                result("192.0.2.2", Outcome::NotListed, &[]),
            ],
            t(0),
        );
        assert_eq!(r.newly_listed.len(), 1);
        assert_eq!(r.newly_listed[0].meanings, ["listed (no reason given)"]);
        assert_eq!(s.len(), 2);
        // an error keeps the listing and reports nothing as changed
        let err = result("192.0.2.1", Outcome::Error(client::Failure::Timeout), &[]);
        let (r2, s2) = compare(
            &s,
            &[err, result("192.0.2.2", Outcome::NotListed, &[])],
            t(60),
        );
        assert!(r2.newly_listed.is_empty() && r2.delisted.is_empty());
        assert_eq!(r2.errors.len(), 1);
        assert_eq!(r2.errors[0].last_listed, Some(t(0)));
        assert_eq!(
            s2.get(&"192.0.2.1".parse().unwrap(), "bl.example"),
            s.get(&"192.0.2.1".parse().unwrap(), "bl.example")
        );
        // delisted, with the codes and TXT it had and since when
        let (r3, s3) = compare(
            &s2,
            &[
                result("192.0.2.1", Outcome::NotListed, &[]),
                listed("192.0.2.2"),
            ],
            t(120),
        );
        assert_eq!(r3.delisted.len(), 1);
        assert_eq!(r3.delisted[0].since, Some(t(0)));
        assert_eq!(r3.delisted[0].txt, ["why"]);
        assert_eq!(r3.newly_listed[0].subject.to_string(), "192.0.2.2");
        assert_eq!(
            s3.get(&"192.0.2.2".parse().unwrap(), "bl.example")
                .unwrap()
                .listed_since,
            Some(t(120))
        );
    }

    #[test]
    fn config_errors_name_the_field() {
        let p = Path::new("m.toml");
        let e = MonitorConfig::parse("subjects = [\"a@b.example\"]\nlists = []", p).unwrap_err();
        assert!(matches!(e, MonitorError::Unmonitorable { index: 0, .. }));
        let e = MonitorConfig::parse("subjects = [\"10.0.0.0/16\"]\nlists = []", p).unwrap_err();
        assert!(matches!(
            e,
            MonitorError::TooManyAddresses { max: 4096, .. }
        ));
        let ok = MonitorConfig::parse(
            "subjects = [\"10.0.0.0/16\"]\nlists = []\nmax_addresses = 65536",
            p,
        )
        .unwrap();
        assert_eq!(ok.subjects().len(), 65534);
        let e = MonitorConfig::parse("subjects = []\nlists = [\"nope\"]", p).unwrap_err();
        assert!(e.to_string().contains("lists[0]"), "{e}");
        let e = MonitorConfig::parse("subjects = []\nlists = []\nrate_limit = 0", p).unwrap_err();
        assert!(e.to_string().contains("rate_limit"), "{e}");
        let e = MonitorConfig::parse("subjects = []\nlists = []\ntimeout_ms = 0", p).unwrap_err();
        assert!(e.to_string().contains("timeout_ms"), "{e}");
        let e = MonitorConfig::parse("subjects = [\"x..y\"]\nlists = []", p).unwrap_err();
        assert!(matches!(e, MonitorError::Subject { index: 0, .. }));
        let e = MonitorConfig::parse("lists = []", p).unwrap_err();
        assert!(e.to_string().contains("subjects"), "{e}");
    }

    #[test]
    fn state_round_trips() {
        let dir = std::env::temp_dir().join(format!("rblkit-unit-monitor-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sd = StateDir::open(&dir).unwrap();
        let (r, s) = compare(
            &State::default(),
            &[listed("192.0.2.1"), listed("spam.example")],
            t(0),
        );
        sd.commit(&r, &s).unwrap();
        assert_eq!(sd.load().unwrap(), s);
        let hist = std::fs::read_to_string(sd.history_path()).unwrap();
        assert_eq!(hist.lines().count(), 3);
        std::fs::write(sd.state_path(), "{\"version\": 1, \"updated\": 3}").unwrap();
        assert!(matches!(sd.load(), Err(MonitorError::BadState { .. })));
        drop(sd);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
