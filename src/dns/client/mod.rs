//! Checking subjects against DNS lists: many lists at once, with timeouts, retries and a
//! tri-state result per list.
//!
//! - [`ListSpec`]: a list to ask, by the name of a public list in [`crate::codes::known`]
//!   (`spamhaus-zen`, `barracuda`, …, see [`known_list_names`]) or by its zone
//!   (`bl.example`), with the [`CodeScheme`] its answers are decoded with.
//! - [`Checker`]: asks a resolver ([`system_resolver`] or any `ADDR:PORT`) for the query
//!   names of a subject under each list (RFC 5782, see [`crate::qname`]), A and, when
//!   listed, TXT; concurrently up to a bound, optionally rate-limited, each query with a
//!   timeout and retries, and over TCP when the UDP answer is truncated.
//! - [`CheckResult`] with its [`Outcome`]: listed (the codes and what they mean), not
//!   listed, or an error ([`Failure`]). An error is never a listing: not a timeout, not a
//!   SERVFAIL or REFUSED, not an answer outside `127.0.0.0/8`, not an operator's error code
//!   such as Spamhaus' `127.255.255.254`.
//! - [`Question`] and [`Answer`]: the wire side, without I/O.
//!
//! # Examples
//!
//! A resolver that never answers gives an error, not "not listed":
//!
//! ```
//! use rblkit::dns::client::{Checker, ListSpec, Outcome, Failure};
//! use std::time::Duration;
//!
//! let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
//! let checker = Checker::builder(silent.local_addr().unwrap())
//!     .timeout(Duration::from_millis(50))
//!     .attempts(2)
//!     .build()?;
//! let lists = ["spamhaus-zen".parse::<ListSpec>()?, "bl.example".parse()?];
//! let results = checker.check_blocking(&"192.0.2.1".parse()?, &lists)?;
//! assert_eq!(results.len(), 2);
//! assert_eq!(results[0].zone(), "zen.spamhaus.org");
//! assert_eq!(results[0].query, "1.2.0.192.zen.spamhaus.org");
//! assert!(results.iter().all(|r| r.outcome == Outcome::Error(Failure::Timeout)));
//! # Ok::<(), rblkit::Error>(())
//! ```

mod error;
mod transport;
mod wire;

pub use error::ClientError;
pub use wire::{Answer, QueryType, Question, Rcode, EDNS_UDP_SIZE};

use crate::codes::known::{self, KnownList, ListedSubjects, Polarity};
use crate::codes::{CodeMeaning, CodeScheme, ListError, ReasonSet, ReturnCode, Verdict};
use crate::qname::{QueryZone, ZoneKind};
use crate::subject::{Domain, Subject, SubjectKind};
use error::cut;
use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use transport::{Ids, Pool, Transport};

/// The DNS port.
pub const DNS_PORT: u16 = 53;

/// Where the system's resolver is configured.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The short name of a known list, as `--list` takes it: its name in lowercase with runs
/// of other characters turned into `-` (`Spamhaus ZEN` → `spamhaus-zen`).
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The known lists that can be named, with their short names (`spamhaus-zen`,
/// `barracuda`, `surbl-multi`, …). Lists queried under a per-user key (Spamhaus DQS) are
/// named by zone instead (`KEY.zen.dq.spamhaus.net`).
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::known_list_names;
/// let names: Vec<String> = known_list_names().map(|(n, _)| n).collect();
/// assert!(names.iter().any(|n| n == "spamhaus-zen"));
/// assert!(names.iter().any(|n| n == "barracuda"));
/// ```
pub fn known_list_names() -> impl Iterator<Item = (String, &'static KnownList)> {
    known::LISTS
        .iter()
        .filter(|l| !l.zone.starts_with('.'))
        .map(|l| (slug(l.name), l))
}

/// A list to check: a name, a zone, a code scheme, and what it lists when known.
///
/// The text form is a known list's short name (see [`known_list_names`]) or a zone; a zone
/// of a known list gets that list's scheme, any other zone [`known::GENERIC`].
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::ListSpec;
/// let zen: ListSpec = "spamhaus-zen".parse()?;
/// assert_eq!(zen.zone(), "zen.spamhaus.org");
/// assert_eq!(zen.name(), "spamhaus-zen");
/// assert_eq!(zen.to_string(), "spamhaus-zen");
/// let by_zone: ListSpec = "ZEN.spamhaus.org.".parse()?;
/// assert_eq!(by_zone.scheme(), zen.scheme());
/// let own: ListSpec = "bl.example".parse()?;
/// assert_eq!(own.scheme(), &rblkit::codes::known::GENERIC);
/// assert!(own.known().is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ListSpec {
    name: Box<str>,
    ip: QueryZone,
    domain: QueryZone,
    known: Option<&'static KnownList>,
    scheme: Cow<'static, CodeScheme>,
}

impl ListSpec {
    /// The list at `zone`, decoded with `scheme`.
    ///
    /// # Errors
    ///
    /// [`ClientError::BadZone`] when `zone` is not a zone origin.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeScheme, ReturnCode};
    /// use rblkit::dns::client::ListSpec;
    /// let l = ListSpec::with_scheme("bl.example", CodeScheme::single(ReturnCode::LISTED)?)?;
    /// assert_eq!(l.zone(), "bl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn with_scheme(zone: &str, scheme: CodeScheme) -> Result<ListSpec, ClientError> {
        let mut l = ListSpec::at_zone(zone)?;
        l.scheme = Cow::Owned(scheme);
        Ok(l)
    }

    fn at_zone(zone: &str) -> Result<ListSpec, ClientError> {
        let bad = |source| ClientError::BadZone {
            text: cut(zone),
            source,
        };
        let ip = QueryZone::new(zone, ZoneKind::Ip).map_err(bad)?;
        let domain = QueryZone::new(zone, ZoneKind::Domain).map_err(bad)?;
        let known = known::for_zone(ip.origin().as_str());
        Ok(ListSpec {
            name: ip.origin().as_str().into(),
            ip,
            domain,
            known,
            scheme: Cow::Borrowed(known.map_or(&known::GENERIC, |k| k.scheme)),
        })
    }

    /// The name the list was given by: a known list's short name, or the zone.
    ///
    /// # Examples
    ///
    /// ```
    /// let l: rblkit::dns::client::ListSpec = "barracuda".parse()?;
    /// assert_eq!(l.name(), "barracuda");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone queried, lowercase without the trailing dot.
    ///
    /// # Examples
    ///
    /// ```
    /// let l: rblkit::dns::client::ListSpec = "barracuda".parse()?;
    /// assert_eq!(l.zone(), "b.barracudacentral.org");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn zone(&self) -> &str {
        self.ip.origin().as_str()
    }

    /// The zone origin as a domain.
    ///
    /// # Examples
    ///
    /// ```
    /// let l: rblkit::dns::client::ListSpec = "bl.example".parse()?;
    /// assert_eq!(l.origin().label_count(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn origin(&self) -> &Domain {
        self.ip.origin()
    }

    /// The known public list at this zone, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let l: rblkit::dns::client::ListSpec = "psbl".parse()?;
    /// assert_eq!(l.known().unwrap().name, "PSBL");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn known(&self) -> Option<&'static KnownList> {
        self.known
    }

    /// The scheme answers are decoded with.
    ///
    /// # Examples
    ///
    /// ```
    /// let l: rblkit::dns::client::ListSpec = "spamhaus-zen".parse()?;
    /// assert_eq!(l.scheme(), &rblkit::codes::known::SPAMHAUS_ZEN);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn scheme(&self) -> &CodeScheme {
        &self.scheme
    }

    /// Whether a listing counts against the subject (a blocklist) or for it: known
    /// allowlists such as DNSWL vouch; any other list is taken as a blocklist.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::known::Polarity;
    /// let l: rblkit::dns::client::ListSpec = "dnswl".parse()?;
    /// assert_eq!(l.polarity(), Polarity::Allowlist);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn polarity(&self) -> Polarity {
        self.known.map_or(Polarity::Blocklist, |k| k.polarity)
    }

    /// Whether this list lists subjects of this kind: a known list what it documents, any
    /// other list IP addresses and domains. Networks and email addresses are never asked.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::ListSpec;
    /// use rblkit::subject::SubjectKind;
    /// let zen: ListSpec = "spamhaus-zen".parse()?;
    /// assert!(zen.lists(SubjectKind::Ipv4));
    /// assert!(!zen.lists(SubjectKind::Domain));
    /// assert!(!zen.lists(SubjectKind::Ipv6));
    /// let own: ListSpec = "bl.example".parse()?;
    /// assert!(own.lists(SubjectKind::Ipv6) && own.lists(SubjectKind::Domain));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lists(&self, kind: SubjectKind) -> bool {
        let ip4 = kind == SubjectKind::Ipv4;
        let ip6 = kind == SubjectKind::Ipv6;
        let dom = kind == SubjectKind::Domain;
        match self.known.map(|k| k.subjects) {
            None => ip4 || ip6 || dom,
            Some(ListedSubjects::Ipv4) => ip4,
            Some(ListedSubjects::Ipv4AndIpv6) => ip4 || ip6,
            Some(ListedSubjects::Domains) => dom,
        }
    }

    /// The query name of `subject` under this list, or why it is not asked.
    ///
    /// # Errors
    ///
    /// [`Failure::NotApplicable`] when the list does not list subjects of this kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Failure, ListSpec};
    /// let zen: ListSpec = "spamhaus-zen".parse()?;
    /// assert_eq!(zen.query_name(&"192.0.2.1".parse()?).unwrap(), "1.2.0.192.zen.spamhaus.org");
    /// assert!(matches!(zen.query_name(&"spam.example".parse()?), Err(Failure::NotApplicable { .. })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn query_name(&self, subject: &Subject) -> Result<String, Failure> {
        let kind = subject.kind();
        if !self.lists(kind) {
            return Err(Failure::NotApplicable { subject: kind });
        }
        let zone = if kind == SubjectKind::Domain {
            &self.domain
        } else {
            &self.ip
        };
        zone.name(subject)
            .map_err(|_| Failure::NotApplicable { subject: kind })
    }
}

impl PartialEq for ListSpec {
    fn eq(&self, other: &ListSpec) -> bool {
        self.name == other.name
            && self.ip == other.ip
            && self.scheme == other.scheme
            && self.known.map(|k| k.zone) == other.known.map(|k| k.zone)
    }
}

impl Eq for ListSpec {}

impl FromStr for ListSpec {
    type Err = ClientError;
    fn from_str(s: &str) -> Result<ListSpec, ClientError> {
        if !s.contains('.') {
            let lower = s.to_ascii_lowercase();
            return match known_list_names().find(|(n, _)| *n == lower) {
                Some((n, l)) => {
                    let mut spec = ListSpec::at_zone(l.zone)?;
                    spec.name = n.into();
                    Ok(spec)
                }
                None => Err(ClientError::UnknownList { name: cut(s) }),
            };
        }
        ListSpec::at_zone(s)
    }
}

impl fmt::Display for ListSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why a list could not say whether a subject is listed.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{ListError, ReturnCode};
/// use rblkit::dns::client::{Failure, Rcode};
/// assert_eq!(Failure::Timeout.to_string(), "timeout");
/// assert_eq!(Failure::Rcode(Rcode::SERVFAIL).to_string(), "SERVFAIL");
/// let f = Failure::Code { code: ReturnCode::new_assert(127, 255, 255, 254), kind: ListError::PublicResolver };
/// assert_eq!(f.to_string(), "error code 127.255.255.254 (public_resolver)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// No response within the timeout, after every attempt.
    Timeout,
    /// The resolver answered with an error (SERVFAIL, REFUSED, …).
    Rcode(Rcode),
    /// The list answered with an error code: its own (a refused query, a query through a
    /// public resolver, a rate limit) or an address outside `127.0.0.0/8`.
    Code {
        /// The first error code of the answer.
        code: ReturnCode,
        /// What it means.
        kind: ListError,
    },
    /// The response did not parse.
    Malformed,
    /// The network failed (for instance, ICMP port unreachable: `ConnectionRefused`).
    Network(io::ErrorKind),
    /// The UDP answer was truncated and the TCP retry failed.
    Truncated {
        /// What TCP failed with.
        tcp: io::ErrorKind,
    },
    /// The list does not list subjects of this kind; nothing was asked.
    NotApplicable {
        /// The subject's kind.
        subject: SubjectKind,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout => f.write_str("timeout"),
            Failure::Rcode(r) => write!(f, "{r}"),
            Failure::Code { code, kind } => write!(f, "error code {code} ({kind})"),
            Failure::Malformed => f.write_str("malformed response"),
            Failure::Network(k) => write!(f, "network: {k}"),
            Failure::Truncated { tcp } => write!(f, "truncated answer, TCP failed: {tcp}"),
            Failure::NotApplicable { subject } => {
                write!(f, "list does not list {subject} subjects")
            }
        }
    }
}

/// The tri-state result of one list for one subject.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::{Failure, Outcome};
/// assert_eq!(Outcome::NotListed.name(), "not_listed");
/// assert_eq!(Outcome::Error(Failure::Timeout).name(), "error");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Listed: the reasons the scheme knows for the codes, and whether some code is not
    /// in the scheme.
    Listed {
        /// The union of the codes' reasons.
        reasons: ReasonSet,
        /// Whether some code is not in the scheme.
        unknown: bool,
    },
    /// Not listed (NXDOMAIN, or no A record).
    NotListed,
    /// Neither: the list could not be checked.
    Error(Failure),
}

impl Outcome {
    /// `listed`, `not_listed` or `error`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReasonSet;
    /// use rblkit::dns::client::Outcome;
    /// assert_eq!(Outcome::Listed { reasons: ReasonSet::EMPTY, unknown: true }.name(), "listed");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Listed { .. } => "listed",
            Outcome::NotListed => "not_listed",
            Outcome::Error(_) => "error",
        }
    }

    /// Whether this is a listing.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rblkit::dns::client::Outcome::NotListed.is_listed());
    /// ```
    pub fn is_listed(&self) -> bool {
        matches!(self, Outcome::Listed { .. })
    }

    /// What an answer means under `scheme`.
    fn of_answer(scheme: &CodeScheme, answer: &Answer) -> Outcome {
        match answer.rcode {
            Rcode::NOERROR | Rcode::NXDOMAIN => {}
            r => return Outcome::Error(Failure::Rcode(r)),
        }
        if answer.rcode == Rcode::NXDOMAIN {
            return Outcome::NotListed;
        }
        match scheme.decode_answer(&answer.codes) {
            Verdict::NotListed => Outcome::NotListed,
            Verdict::Listed { reasons, unknown } => Outcome::Listed { reasons, unknown },
            Verdict::Error(kind) => {
                let code = answer
                    .codes
                    .iter()
                    .copied()
                    .find(|&c| matches!(scheme.decode(c), CodeMeaning::Error(_)))
                    .unwrap_or(ReturnCode::LISTED);
                Outcome::Error(Failure::Code { code, kind })
            }
        }
    }
}

/// One list's answer for one subject.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckResult {
    /// The subject checked.
    pub subject: Subject,
    /// The list asked.
    pub list: ListSpec,
    /// The query name asked (empty when nothing was asked).
    pub query: String,
    /// Listed, not listed, or why neither.
    pub outcome: Outcome,
    /// The A records answered, in order (also when they are error codes).
    pub codes: Vec<ReturnCode>,
    /// The TXT records answered, when asked for.
    pub txt: Vec<String>,
}

impl CheckResult {
    /// The result of an A answer with `codes` (empty: not listed) and TXT records `txt`,
    /// decoded under the list's scheme: for answers obtained some other way, and for tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::dns::client::{CheckResult, Failure, Outcome};
    /// let r = CheckResult::from_codes("192.0.2.1".parse()?, "spamhaus-zen".parse()?, vec![ReturnCode::new_assert(127, 255, 255, 254)], vec![]);
    /// assert!(matches!(r.outcome, Outcome::Error(Failure::Code { .. })));
    /// assert_eq!(r.query, "1.2.0.192.zen.spamhaus.org");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn from_codes(
        subject: Subject,
        list: ListSpec,
        codes: Vec<ReturnCode>,
        txt: Vec<String>,
    ) -> CheckResult {
        let answer = Answer {
            rcode: Rcode::NOERROR,
            truncated: false,
            codes,
            txt,
        };
        CheckResult {
            query: list.query_name(&subject).unwrap_or_default(),
            outcome: Outcome::of_answer(list.scheme(), &answer),
            subject,
            list,
            codes: answer.codes,
            txt: answer.txt,
        }
    }

    /// The zone asked.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn zone(&self) -> &str {
        self.list.zone()
    }

    /// Each code with what it means under the list's scheme: the descriptions of its
    /// reasons, `unknown code` for a listing the scheme does not explain, or the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::dns::client::{CheckResult, ListSpec};
    /// let zen: ListSpec = "spamhaus-zen".parse()?;
    /// let m = CheckResult::meaning_of(&zen, ReturnCode::new_assert(127, 0, 0, 4));
    /// assert_eq!(m, ["a compromised host sending mail"]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn meaning_of(list: &ListSpec, code: ReturnCode) -> Vec<&'static str> {
        match list.scheme().decode(code) {
            CodeMeaning::Listed { reasons, unknown } => {
                let mut out: Vec<&'static str> = reasons.iter().map(|r| r.description()).collect();
                if unknown || out.is_empty() {
                    out.push("unknown code");
                }
                out
            }
            CodeMeaning::Error(e) => vec![e.name()],
        }
    }

    /// The meanings of all codes, each once, in order.
    ///
    /// # Examples
    ///
    /// See [`meaning_of`](CheckResult::meaning_of).
    pub fn meanings(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for &c in &self.codes {
            for m in CheckResult::meaning_of(&self.list, c) {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        out
    }
}

/// When to ask for TXT records.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::TxtLookup;
/// assert_eq!(TxtLookup::default(), TxtLookup::WhenListed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TxtLookup {
    /// Never: A records only.
    Never,
    /// After an A answer that is a listing (one more query per listing).
    #[default]
    WhenListed,
}

/// Settings for a [`Checker`]; [`build`](CheckerBuilder::build) validates them.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::{Checker, TxtLookup};
/// use std::time::Duration;
/// let c = Checker::builder("127.0.0.1:53".parse().unwrap())
///     .timeout(Duration::from_millis(500))
///     .attempts(3)
///     .concurrency(8)
///     .rate_limit(Some(100))
///     .txt(TxtLookup::Never)
///     .build()?;
/// assert_eq!(c.server(), "127.0.0.1:53".parse().unwrap());
/// assert!(Checker::builder("127.0.0.1:53".parse().unwrap()).attempts(0).build().is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CheckerBuilder {
    server: SocketAddr,
    timeout: Duration,
    attempts: u8,
    concurrency: usize,
    rate: Option<u32>,
    txt: TxtLookup,
}

impl CheckerBuilder {
    /// How long to wait for each UDP attempt (and for a TCP retry). Default 2 s.
    pub fn timeout(&mut self, t: Duration) -> &mut CheckerBuilder {
        self.timeout = t;
        self
    }

    /// How many UDP attempts a query gets when no answer comes (at least 1). Default 2.
    pub fn attempts(&mut self, n: u8) -> &mut CheckerBuilder {
        self.attempts = n;
        self
    }

    /// How many queries may be outstanding at once (at least 1). Default 32.
    pub fn concurrency(&mut self, n: usize) -> &mut CheckerBuilder {
        self.concurrency = n;
        self
    }

    /// At most this many queries a second (every attempt counts), or no limit. Default
    /// none.
    pub fn rate_limit(&mut self, per_second: Option<u32>) -> &mut CheckerBuilder {
        self.rate = per_second;
        self
    }

    /// When to ask for TXT records. Default [`TxtLookup::WhenListed`].
    pub fn txt(&mut self, t: TxtLookup) -> &mut CheckerBuilder {
        self.txt = t;
        self
    }

    /// The checker.
    ///
    /// # Errors
    ///
    /// [`ClientError::BadSetting`] for a zero timeout, attempts, concurrency or rate.
    pub fn build(&self) -> Result<Checker, ClientError> {
        let bad = |field, text: String| {
            Err(ClientError::BadSetting {
                field,
                text: text.into(),
            })
        };
        if self.timeout.is_zero() {
            return bad("timeout", format!("{:?}", self.timeout));
        }
        if self.attempts == 0 {
            return bad("attempts", "0".into());
        }
        if self.concurrency == 0 {
            return bad("concurrency", "0".into());
        }
        if self.rate == Some(0) {
            return bad("rate_limit", "0".into());
        }
        Ok(Checker {
            inner: Arc::new(Inner {
                transport: Transport {
                    server: self.server,
                    timeout: self.timeout,
                    attempts: self.attempts,
                    ids: Ids::new(),
                },
                concurrency: self.concurrency,
                rate: self.rate,
                txt: self.txt,
            }),
        })
    }
}

#[derive(Debug)]
struct Inner {
    transport: Transport,
    concurrency: usize,
    rate: Option<u32>,
    txt: TxtLookup,
}

/// Checks subjects against lists through one resolver. Cheap to clone.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Checker {
    inner: Arc<Inner>,
}

type Limiter = tokio::sync::Mutex<tokio::time::Interval>;

impl Checker {
    /// Settings for a checker asking the resolver at `server`, with the defaults.
    ///
    /// # Examples
    ///
    /// See [`CheckerBuilder`].
    pub fn builder(server: SocketAddr) -> CheckerBuilder {
        CheckerBuilder {
            server,
            timeout: Duration::from_secs(2),
            attempts: 2,
            concurrency: 32,
            rate: None,
            txt: TxtLookup::WhenListed,
        }
    }

    /// The resolver asked.
    ///
    /// # Examples
    ///
    /// See [`CheckerBuilder`].
    pub fn server(&self) -> SocketAddr {
        self.inner.transport.server
    }

    /// Checks `subject` against every list, concurrently; the results in the order of
    /// `lists`.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self) ([`check_blocking`](Checker::check_blocking)
    /// runs this on its own runtime).
    pub async fn check(&self, subject: &Subject, lists: &[ListSpec]) -> Vec<CheckResult> {
        self.check_pairs(lists.iter().map(|l| (subject.clone(), l.clone())))
            .await
    }

    /// Checks each (subject, list) pair, concurrently up to the bound and at most at the
    /// rate limit; the results in the order of `pairs`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Checker, ListSpec};
    /// let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let checker = Checker::builder(silent.local_addr().unwrap())
    ///     .timeout(std::time::Duration::from_millis(20))
    ///     .attempts(1)
    ///     .build()?;
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// let pairs = vec![
    ///     ("192.0.2.1".parse()?, "bl.example".parse::<ListSpec>()?),
    ///     ("spam.example".parse()?, "dbl.example".parse()?),
    /// ];
    /// let results = rt.block_on(checker.check_pairs(pairs));
    /// assert_eq!(results[1].query, "spam.example.dbl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub async fn check_pairs(
        &self,
        pairs: impl IntoIterator<Item = (Subject, ListSpec)>,
    ) -> Vec<CheckResult> {
        let limiter: Option<Arc<Limiter>> = self.inner.rate.map(|r| {
            let mut iv = tokio::time::interval(Duration::from_secs(1) / r);
            iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            Arc::new(tokio::sync::Mutex::new(iv))
        });
        let pool: Arc<Pool> = Arc::default();
        let mut tasks = tokio::task::JoinSet::new();
        let mut out: Vec<Option<CheckResult>> = Vec::new();
        let put = |done: Result<(usize, CheckResult), tokio::task::JoinError>,
                   out: &mut Vec<Option<CheckResult>>| match done {
            Ok((i, r)) => out[i] = Some(r),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        // At most `concurrency` checks run (and exist) at once: a new one starts when one
        // ends.
        for (i, (subject, list)) in pairs.into_iter().enumerate() {
            out.push(None);
            while tasks.len() >= self.inner.concurrency {
                if let Some(done) = tasks.join_next().await {
                    put(done, &mut out);
                }
            }
            let inner = Arc::clone(&self.inner);
            let limiter = limiter.clone();
            let pool = Arc::clone(&pool);
            tasks.spawn(async move {
                let r = inner
                    .check_one(subject, list, limiter.as_deref(), &pool)
                    .await;
                (i, r)
            });
        }
        while let Some(done) = tasks.join_next().await {
            put(done, &mut out);
        }
        out.into_iter().flatten().collect()
    }

    /// [`check`](Checker::check) on a runtime of its own, for callers without one.
    ///
    /// # Errors
    ///
    /// [`ClientError::Io`] when the runtime cannot be started.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn check_blocking(
        &self,
        subject: &Subject,
        lists: &[ListSpec],
    ) -> Result<Vec<CheckResult>, ClientError> {
        Ok(runtime()?.block_on(self.check(subject, lists)))
    }
}

/// A single-threaded runtime with timers and sockets.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ClientError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ClientError::Io {
            path: "tokio runtime".into(),
            kind: e.kind(),
        })
}

impl Inner {
    async fn check_one(
        &self,
        subject: Subject,
        list: ListSpec,
        limiter: Option<&Limiter>,
        pool: &Pool,
    ) -> CheckResult {
        let mut r = CheckResult {
            subject,
            list,
            query: String::new(),
            outcome: Outcome::NotListed,
            codes: Vec::new(),
            txt: Vec::new(),
        };
        match r.list.query_name(&r.subject) {
            Ok(q) => r.query = q,
            Err(f) => {
                r.outcome = Outcome::Error(f);
                return r;
            }
        }
        let a = match Question::new(&r.query, QueryType::A) {
            Ok(q) => q,
            Err(_) => {
                r.outcome = Outcome::Error(Failure::NotApplicable {
                    subject: r.subject.kind(),
                });
                return r;
            }
        };
        match self.transport.ask(&a, limiter, pool).await {
            Err(f) => r.outcome = Outcome::Error(f),
            Ok(answer) => {
                r.outcome = Outcome::of_answer(r.list.scheme(), &answer);
                r.codes = answer.codes;
            }
        }
        if r.outcome.is_listed() && self.txt == TxtLookup::WhenListed {
            if let Ok(q) = Question::new(&r.query, QueryType::Txt) {
                // The TXT text explains a listing; failing to get it changes nothing.
                if let Ok(t) = self.transport.ask(&q, limiter, pool).await {
                    if t.rcode == Rcode::NOERROR {
                        r.txt = t.txt;
                    }
                }
            }
        }
        r
    }
}

/// Reads a resolver address: `ADDR:PORT`, `[IPv6]:PORT`, or a bare address for port 53.
///
/// # Errors
///
/// [`ClientError::BadServer`] for anything else.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::parse_server;
/// assert_eq!(parse_server("127.0.0.1:5353")?, "127.0.0.1:5353".parse().unwrap());
/// assert_eq!(parse_server("::1")?, "[::1]:53".parse().unwrap());
/// assert_eq!(parse_server("192.0.2.53")?.port(), 53);
/// assert!(parse_server("resolver.example").is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn parse_server(text: &str) -> Result<SocketAddr, ClientError> {
    if let Ok(a) = text.parse::<SocketAddr>() {
        return Ok(a);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| ClientError::BadServer { text: cut(text) })
}

/// The first `nameserver` with an IP address in the text of a resolv.conf file, on port 53.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::nameserver_in;
/// let conf = "# generated\nsearch example\nnameserver fe80::1%eth0\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n";
/// assert_eq!(nameserver_in(conf), Some("192.0.2.53:53".parse().unwrap()));
/// assert_eq!(nameserver_in("options rotate\n"), None);
/// ```
pub fn nameserver_in(text: &str) -> Option<SocketAddr> {
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        match (w.next(), w.next()) {
            (Some("nameserver"), Some(a)) => a.parse::<IpAddr>().ok(),
            _ => None,
        }
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
    })
}

/// The system's resolver: the first `nameserver` of [`RESOLV_CONF`].
///
/// # Errors
///
/// [`ClientError::Io`] when the file cannot be read, [`ClientError::NoNameserver`] when it
/// names none.
///
/// # Examples
///
/// ```no_run
/// let server = rblkit::dns::client::system_resolver()?;
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn system_resolver() -> Result<SocketAddr, ClientError> {
    resolver_from(Path::new(RESOLV_CONF))
}

/// The first `nameserver` of the resolv.conf file at `path`.
///
/// # Errors
///
/// As [`system_resolver`].
///
/// # Examples
///
/// ```
/// let e = rblkit::dns::client::resolver_from("/nonexistent/resolv.conf".as_ref()).unwrap_err();
/// assert!(e.to_string().contains("/nonexistent/resolv.conf"));
/// ```
pub fn resolver_from(path: &Path) -> Result<SocketAddr, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| ClientError::Io {
        path: path.to_path_buf(),
        kind: e.kind(),
    })?;
    nameserver_in(&text).ok_or_else(|| ClientError::NoNameserver {
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Reason;

    #[test]
    fn known_names() {
        let names: Vec<String> = known_list_names().map(|(n, _)| n).collect();
        for n in [
            "spamhaus-zen",
            "spamhaus-dbl",
            "spamhaus-sbl-xbl",
            "spamcop",
            "barracuda",
            "psbl",
            "uceprotect-level-1",
            "mailspike",
            "s5h",
            "surbl-multi",
            "uribl-multi",
            "dnswl",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
            let l: ListSpec = n.parse().unwrap();
            assert_eq!(l.name(), n);
            assert!(l.known().is_some());
        }
        assert!(!names.iter().any(|n| n.contains("dqs")));
        assert_eq!(
            "SPAMHAUS-ZEN".parse::<ListSpec>().unwrap().name(),
            "spamhaus-zen"
        );
        let dqs: ListSpec = "key.zen.dq.spamhaus.net".parse().unwrap();
        assert_eq!(dqs.scheme(), &known::SPAMHAUS_ZEN);
    }

    fn answer(rcode: Rcode, codes: &[ReturnCode]) -> Answer {
        Answer {
            rcode,
            truncated: false,
            codes: codes.to_vec(),
            txt: Vec::new(),
        }
    }

    #[test]
    fn outcomes_are_tri_state() {
        let zen = &known::SPAMHAUS_ZEN;
        let c = ReturnCode::new_assert;
        assert_eq!(
            Outcome::of_answer(zen, &answer(Rcode::NXDOMAIN, &[])),
            Outcome::NotListed
        );
        assert_eq!(
            Outcome::of_answer(zen, &answer(Rcode::NOERROR, &[])),
            Outcome::NotListed
        );
        assert_eq!(
            Outcome::of_answer(zen, &answer(Rcode::SERVFAIL, &[])),
            Outcome::Error(Failure::Rcode(Rcode::SERVFAIL))
        );
        assert_eq!(
            Outcome::of_answer(zen, &answer(Rcode::NOERROR, &[c(127, 0, 0, 4)])),
            Outcome::Listed {
                reasons: Reason::Exploited.into(),
                unknown: false
            }
        );
        // an error code wins over listings beside it
        assert_eq!(
            Outcome::of_answer(
                zen,
                &answer(Rcode::NOERROR, &[c(127, 0, 0, 2), c(127, 255, 255, 254)])
            ),
            Outcome::Error(Failure::Code {
                code: c(127, 255, 255, 254),
                kind: ListError::PublicResolver
            })
        );
        assert_eq!(
            Outcome::of_answer(zen, &answer(Rcode::NOERROR, &[c(192, 0, 2, 1)])),
            Outcome::Error(Failure::Code {
                code: c(192, 0, 2, 1),
                kind: ListError::NotACode
            })
        );
    }

    #[test]
    fn applicability() {
        let dbl: ListSpec = "spamhaus-dbl".parse().unwrap();
        assert_eq!(
            dbl.query_name(&"Spam.Example".parse().unwrap()).unwrap(),
            "spam.example.dbl.spamhaus.org"
        );
        let own: ListSpec = "bl.example".parse().unwrap();
        assert!(own.query_name(&"10.0.0.0/8".parse().unwrap()).is_err());
        assert!(own.query_name(&"a@b.example".parse().unwrap()).is_err());
        assert!(own
            .query_name(&"2001:db8::1".parse().unwrap())
            .unwrap()
            .ends_with(".8.b.d.0.1.0.0.2.bl.example"));
        assert!(matches!(
            "bad..zone".parse::<ListSpec>(),
            Err(ClientError::BadZone { .. })
        ));
    }
}
