//! The in-memory ledger: per-subject records, scores, reporters, lifecycle.

use super::counter::{sure, Counter, CounterKey, EmbeddedCounters, LedgerCounters};
use super::event::{
    DisputeDecision, DisputeReason, Event, Evidence, Ownership, SmtpOutcome, SpfResult,
};
use super::hash::{map_bytes, Map};
use super::relay::{Group, Member, Relay, RelayFacts, RelayWindows};
use super::LedgerError;
use crate::codes::{Reason, ReasonSet};
use crate::subject::Subject;
use crate::time::Timestamp;
use ipnet::IpNet;
use std::net::IpAddr;
use std::time::Duration;

/// A subject's dense id in one [`Ledger`] (not stable across ledgers).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// let mut l = Ledger::new(Default::default());
/// let t = "2026-11-20T10:00:00Z".parse()?;
/// let a = l.track(&"192.0.2.1".parse()?, t);
/// assert_eq!(l.id(&"192.0.2.1".parse()?), Some(a));
/// assert_eq!(l.id(&"192.0.2.2".parse()?), None);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectId(pub(crate) u32);

/// A kind of evidence that moves a decayed score.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::ScoreKind;
/// assert_eq!(ScoreKind::ALL.len(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScoreKind {
    /// Spam reports (weighted).
    SpamReport,
    /// Spamtrap hits.
    TrapHit,
    /// Release & train (ham) reports.
    HamReport,
    /// Listings by other lists.
    ThirdPartyListing,
}

impl ScoreKind {
    /// Every kind, in index order.
    pub const ALL: [ScoreKind; 4] = [
        ScoreKind::SpamReport,
        ScoreKind::TrapHit,
        ScoreKind::HamReport,
        ScoreKind::ThirdPartyListing,
    ];
    const fn index(self) -> usize {
        self as usize
    }
}

/// How relisting escalates: the n-th listing within `forget_after` of the previous one's end
/// lasts `base × factor^(n-1)`, at most `max` (fail2ban's `bantime.increment`).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Escalation;
/// use std::time::Duration;
/// let e = Escalation::default();
/// assert_eq!(e.duration(0), Duration::from_secs(86_400));
/// assert_eq!(e.duration(1), Duration::from_secs(2 * 86_400));
/// assert_eq!(e.duration(40), Duration::from_secs(30 * 86_400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Escalation {
    /// The first listing's length.
    pub base: Duration,
    /// The factor per relisting.
    pub factor: u32,
    /// The longest listing.
    pub max: Duration,
    /// A listing that ended longer ago than this is forgotten: the next one starts at `base`.
    pub forget_after: Duration,
}

impl Default for Escalation {
    /// One day, doubling, at most 30 days, forgotten after 90 days.
    fn default() -> Self {
        Escalation {
            base: Duration::from_secs(86_400),
            factor: 2,
            max: Duration::from_secs(30 * 86_400),
            forget_after: Duration::from_secs(90 * 86_400),
        }
    }
}

impl Escalation {
    /// The length of a listing after `previous` recent listings.
    pub fn duration(&self, previous: u32) -> Duration {
        let mult = u64::from(self.factor.max(1)).saturating_pow(previous);
        let secs = self.base.as_secs().saturating_mul(mult);
        Duration::from_secs(secs.min(self.max.as_secs()))
    }
}

/// What self-delisting allows: up to `max` at a time, `uses` times per `period` (the period
/// starts at its first use).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::SelfDelistRules;
/// let r = SelfDelistRules::default();
/// assert_eq!(r.max.as_secs(), 7 * 86_400);
/// assert_eq!(r.uses, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelfDelistRules {
    /// How long one self-delisting lasts.
    pub max: Duration,
    /// How many uses a period allows.
    pub uses: u8,
    /// The period.
    pub period: Duration,
}

impl Default for SelfDelistRules {
    /// 7 days, twice per 90 days.
    fn default() -> Self {
        SelfDelistRules {
            max: Duration::from_secs(7 * 86_400),
            uses: 2,
            period: Duration::from_secs(90 * 86_400),
        }
    }
}

/// The ledger's settings: half-lives per score, escalation, self-delisting.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{LedgerConfig, ScoreKind};
/// use std::time::Duration;
/// let c = LedgerConfig::default().with_half_life(ScoreKind::TrapHit, Duration::from_secs(3600))?;
/// assert_eq!(c.half_life(ScoreKind::TrapHit), Duration::from_secs(3600));
/// assert!(LedgerConfig::default().with_half_life(ScoreKind::TrapHit, Duration::ZERO).is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LedgerConfig {
    half_lives: [Duration; 4],
    /// Relisting escalation.
    pub escalation: Escalation,
    /// Self-delisting; `None` refuses every request.
    pub self_delist: Option<SelfDelistRules>,
    /// How relay evidence (cadences, bursts) is summarised.
    pub relay: RelayWindows,
}

impl Default for LedgerConfig {
    /// Half-lives: spam reports 1 day, trap hits 2 days, ham reports 7 days, third-party
    /// listings 1 day; [`Escalation::default`]; [`SelfDelistRules::default`].
    fn default() -> Self {
        const DAY: u64 = 86_400;
        LedgerConfig {
            half_lives: [
                Duration::from_secs(DAY),
                Duration::from_secs(2 * DAY),
                Duration::from_secs(7 * DAY),
                Duration::from_secs(DAY),
            ],
            escalation: Escalation::default(),
            self_delist: Some(SelfDelistRules::default()),
            relay: RelayWindows::default(),
        }
    }
}

impl LedgerConfig {
    /// Sets the half-life of a score.
    ///
    /// # Errors
    ///
    /// [`LedgerError::ZeroDuration`] for a half-life under a second.
    pub fn with_half_life(mut self, kind: ScoreKind, d: Duration) -> Result<Self, LedgerError> {
        if d.as_secs() == 0 {
            return Err(LedgerError::ZeroDuration {
                what: "a half-life",
            });
        }
        self.half_lives[kind.index()] = d;
        Ok(self)
    }

    /// The half-life of a score.
    pub fn half_life(&self, kind: ScoreKind) -> Duration {
        self.half_lives[kind.index()]
    }
}

const NONE: u32 = u32::MAX;
/// Set in `Record::reporter` when the reporters are in the shares table (the rest of the
/// value is the head of the subject's list of reporters there).
const MULTI: u32 = 1 << 31;
/// The id all reporters past 2^31 - 2 share (so that ids never reach the `MULTI` bit).
const LAST_REPORTER: u32 = MULTI - 2;
/// The most subjects a ledger tracks.
const MAX_SUBJECTS: u32 = u32::MAX - 1;
const NEVER: i64 = i64::MIN;

/// One tracked subject: 64 bytes, one cache line (aligned, so that an event touches one
/// line of its record, not two). Scores are decayed to `last_seen`.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
struct Record {
    first_seen: i64,
    last_seen: i64,
    last_report: i64,
    last_trap: i64,
    scores: [f32; 4],
    reports: u32,
    traps: u32,
    /// The only reporter, [`NONE`], or [`MULTI`] | the head of the list of its reporters in
    /// the shares table.
    reporter: u32,
    hams: u16,
    third_party: u16,
}

/// One reporter's share of a subject's spam score (for subjects with several reporters),
/// keyed by (subject, reporter); the shares of one subject form a list through `next`, so
/// that a report costs one probe and an upheld dispute walks only that subject's reporters.
#[derive(Debug, Clone, Copy)]
struct Share {
    count: u32,
    score: f32,
    /// The time `score` is decayed to.
    at: i64,
    /// The reporter's latest report.
    last: i64,
    next: u32,
}

/// The lifecycle side record of a subject that was ever listed, allowlisted, disputed or
/// self-delisted.
#[derive(Debug, Clone, Copy)]
struct Life {
    state: ListState,
    since: i64,
    /// Listed: expiry (`i64::MAX` = none); self-delisted: until.
    until: i64,
    reasons: ReasonSet,
    /// Recent listings (for escalation).
    listings: u32,
    /// When the last listing ended (`NEVER` when none did).
    ended: i64,
    uses: u8,
    period_start: i64,
    allowlisted: bool,
    dispute: Option<(DisputeReason, u32)>,
    /// When the open dispute was filed.
    dispute_at: i64,
    /// The latest lifecycle time; later lifecycle events are clamped up to it.
    changed: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListState {
    Clean,
    Listed,
    SelfDelisted,
}

impl Life {
    fn new() -> Life {
        Life {
            state: ListState::Clean,
            since: NEVER,
            until: NEVER,
            reasons: ReasonSet::EMPTY,
            listings: 0,
            ended: NEVER,
            uses: 0,
            period_start: NEVER,
            allowlisted: false,
            dispute: None,
            dispute_at: NEVER,
            changed: NEVER,
        }
    }

    /// Settles lazy transitions at `now`: an expired listing or self-delisting ends.
    fn settle(&mut self, now: i64) {
        match self.state {
            ListState::Listed if self.until <= now => {
                self.state = ListState::Clean;
                self.ended = self.until;
            }
            ListState::SelfDelisted if self.until <= now => {
                self.state = ListState::Clean;
                self.ended = self.until;
            }
            _ => {}
        }
    }

    fn listed(&self) -> Listed {
        Listed {
            since: ts(self.since),
            reasons: self.reasons,
            expires: (self.until != i64::MAX).then(|| ts(self.until)),
            listings: self.listings,
        }
    }
}

/// `t + d`, at most the last representable second (so that a listing that would outlast
/// year 9999 ends at [`Timestamp::MAX`] instead of reporting an expiry it never reaches).
fn end_of(t: i64, d: i64) -> i64 {
    t.saturating_add(d).min(Timestamp::MAX.unix_seconds())
}

pub(super) fn ts(secs: i64) -> Timestamp {
    Timestamp::from_unix(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// A listing's particulars.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Ledger, Lifecycle};
/// use rblkit::codes::{Reason, ReasonSet};
/// let mut l = Ledger::new(Default::default());
/// let t = "2026-11-20T10:00:00Z".parse()?;
/// let s = "192.0.2.1".parse()?;
/// let listed = l.list(&s, ReasonSet::of(&[Reason::SpamTrap]), t);
/// assert_eq!(listed.since, t);
/// assert_eq!(listed.expires, Some("2026-11-21T10:00:00Z".parse()?));
/// assert!(matches!(l.lifecycle(&s, t), Lifecycle::Listed(_)));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listed {
    /// Since when.
    pub since: Timestamp,
    /// For which reasons.
    pub reasons: ReasonSet,
    /// Until when (`None`: until an operator delists it).
    pub expires: Option<Timestamp>,
    /// How many recent listings this one is (1 for the first; more means escalated).
    pub listings: u32,
}

/// Where a subject stands in the listing lifecycle at a time.
///
/// `Allowlisted` wins over everything; `UnderReview` while a dispute is open (the subject may
/// still be listed); `SelfDelisted` during an accepted exclusion.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Ledger, Lifecycle};
/// let l = Ledger::new(Default::default());
/// assert_eq!(l.lifecycle(&"192.0.2.1".parse()?, "2026-11-20T10:00:00Z".parse()?), Lifecycle::Clean);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lifecycle {
    /// Not listed.
    Clean,
    /// Listed.
    Listed(Listed),
    /// Listed, but excluded by its owner until a time.
    SelfDelisted {
        /// The end of the exclusion.
        until: Timestamp,
        /// The listing it suspends.
        listing: Listed,
    },
    /// A dispute is open.
    UnderReview {
        /// What it says.
        dispute: DisputeReason,
        /// The listing, when the subject is still listed.
        listing: Option<Listed>,
    },
    /// Allowlisted: never listed while it lasts.
    Allowlisted,
}

impl Lifecycle {
    /// Whether a DNS query would answer "listed" (listed, possibly under review).
    pub fn is_listed(&self) -> bool {
        matches!(
            self,
            Lifecycle::Listed(_)
                | Lifecycle::UnderReview {
                    listing: Some(_),
                    ..
                }
        )
    }
}

/// Why a request was refused.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Refusal;
/// assert_eq!(Refusal::NotListed.to_string(), "not listed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Self-delisting asked for a subject that is not listed.
    #[error("not listed")]
    NotListed,
    /// Self-delisting is not offered.
    #[error("self-delisting is not offered")]
    NotOffered,
    /// Self-delisting used up for this period.
    #[error("self-delisting used up until {next}")]
    UsesExhausted {
        /// When the next period starts.
        next: Timestamp,
    },
    /// The subject is allowlisted, so not listed.
    #[error("allowlisted")]
    Allowlisted,
    /// A dispute is already open.
    #[error("a dispute is already open")]
    DisputeOpen,
    /// A decision came for a subject with no open dispute.
    #[error("no open dispute")]
    NoOpenDispute,
}

/// What applying an event did.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Evidence, Ledger, Outcome, Refusal};
/// let mut l = Ledger::new(Default::default());
/// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.1".parse()?, Evidence::SelfDelist);
/// assert_eq!(l.apply(&e), Outcome::Refused(Refusal::NotListed));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Evidence recorded.
    Recorded,
    /// A request accepted; `until` for a self-delisting.
    Accepted {
        /// The end of an accepted self-delisting.
        until: Option<Timestamp>,
    },
    /// A request refused.
    Refused(Refusal),
    /// A spam report that was already counted: the same reporter reported the same message
    /// (the same fingerprint) about the same subject before. It changes nothing.
    Duplicate,
}

/// A subject's reputation at a time: decayed scores and evidence counts.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Evidence, Ledger, ScoreKind};
/// let mut l = Ledger::new(Default::default());
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// let s: rblkit::Subject = "192.0.2.1".parse()?;
/// l.apply(&Event::new(t, s.clone(), Evidence::TrapHit { trap: "t1".into() }));
/// let r = l.reputation(&s, t + std::time::Duration::from_secs(2 * 86_400)).unwrap();
/// assert!((r.score(ScoreKind::TrapHit) - 0.5).abs() < 1e-6);
/// assert_eq!(r.traps, 1);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Reputation {
    /// First evidence.
    pub first_seen: Timestamp,
    /// Latest evidence.
    pub last_seen: Timestamp,
    /// Latest spam report still counted.
    pub last_report: Option<Timestamp>,
    /// Latest trap hit.
    pub last_trap: Option<Timestamp>,
    scores: [f64; 4],
    at_last: [f64; 4],
    inv_half: [f64; 4],
    at: i64,
    /// Spam reports still counted.
    pub reports: u32,
    /// Trap hits.
    pub traps: u32,
    /// Ham (release & train) reports.
    pub hams: u32,
    /// Third-party listings seen.
    pub third_party: u32,
    /// Distinct reporters still counted.
    pub reporters: u32,
}

impl Reputation {
    /// A decayed score.
    pub fn score(&self, kind: ScoreKind) -> f64 {
        self.scores[kind.index()]
    }

    /// A decayed score as of the latest evidence (`last_seen`), before the decay since then.
    pub fn score_at_last_seen(&self, kind: ScoreKind) -> f64 {
        self.at_last[kind.index()]
    }

    /// The half-life of a kind's score, in seconds (infinite when it does not decay).
    pub(crate) fn half_life_secs(&self, kind: ScoreKind) -> f64 {
        1.0 / self.inv_half[kind.index()]
    }

    /// A score as it will be at `later` without new evidence (no earlier than the time the
    /// reputation was taken at, or its latest evidence).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger, ScoreKind};
    /// use std::time::Duration;
    /// let mut l = Ledger::new(Default::default());
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "192.0.2.1".parse()?;
    /// l.apply(&Event::new(t, s.clone(), Evidence::TrapHit { trap: "t1".into() }));
    /// let r = l.reputation(&s, t).unwrap();
    /// let later = r.projected(ScoreKind::TrapHit, t + Duration::from_secs(4 * 86_400));
    /// assert!((later - 0.25).abs() < 1e-6);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn projected(&self, kind: ScoreKind, later: Timestamp) -> f64 {
        let k = kind.index();
        let s = self.scores[k];
        if s == 0.0 {
            // nothing of this kind: no decay to compute (the criteria ask often)
            return 0.0;
        }
        let dt = later.unix_seconds().saturating_sub(self.at).max(0) as f64;
        s * (-dt * self.inv_half[k]).exp2()
    }
}

/// Memory in use, from the tables' capacities.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// let m = Ledger::new(Default::default()).memory();
/// assert_eq!(m.subjects, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Memory {
    /// Tracked subjects.
    pub subjects: usize,
    /// Heap bytes of the ledger (indexes, records, side tables, counters, reporter names).
    pub bytes: usize,
}

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

#[derive(Debug, Clone, Default)]
struct Index {
    v4: Map<u32, u32>,
    v6: Map<u128, u32>,
    nets: Map<IpNet, u32>,
    domains: Map<Box<str>, u32>,
    emails: Map<EmailKey, u32>,
}

/// An email address's text `local@domain`, hashed as its two parts so that a lookup by an
/// [`EmailAddr`](crate::subject::EmailAddr) builds no string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EmailKey(Box<str>);

impl EmailKey {
    fn parts(&self) -> (&str, &str) {
        self.0.rsplit_once('@').unwrap_or((&self.0, ""))
    }
}

fn hash_email<H: std::hash::Hasher>(local: &str, domain: &str, h: &mut H) {
    h.write(local.as_bytes());
    h.write_u8(b'@');
    h.write(domain.as_bytes());
}

impl std::hash::Hash for EmailKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let (l, d) = self.parts();
        hash_email(l, d, h);
    }
}

struct EmailQuery<'a>(&'a crate::subject::EmailAddr);

impl std::hash::Hash for EmailQuery<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        hash_email(self.0.local_part(), self.0.domain().as_str(), h);
    }
}

impl hashbrown::Equivalent<EmailKey> for EmailQuery<'_> {
    fn equivalent(&self, key: &EmailKey) -> bool {
        key.parts() == (self.0.local_part(), self.0.domain().as_str())
    }
}

impl Index {
    fn get(&self, s: &Subject) -> Option<u32> {
        match s {
            Subject::Ip(IpAddr::V4(a)) => self.v4.get(&u32::from(*a)),
            Subject::Ip(IpAddr::V6(a)) => self.v6.get(&u128::from(*a)),
            Subject::Net(n) => self.nets.get(n),
            Subject::Domain(d) => self.domains.get(d.as_str()),
            Subject::Email(e) => self.emails.get(&EmailQuery(e)),
        }
        .copied()
    }

    /// The id of `s`, inserting `next` when it is new (then `true`).
    fn get_or_insert(&mut self, s: &Subject, next: u32) -> (u32, bool) {
        fn named(m: &mut Map<Box<str>, u32>, key: &str, next: u32) -> (u32, bool) {
            match m.get(key) {
                Some(id) => (*id, false),
                None => {
                    m.insert(key.into(), next);
                    (next, true)
                }
            }
        }
        fn plain<K: std::hash::Hash + Eq>(m: &mut Map<K, u32>, key: K, next: u32) -> (u32, bool) {
            let mut new = false;
            let id = *m.entry(key).or_insert_with(|| {
                new = true;
                next
            });
            (id, new)
        }
        match s {
            Subject::Ip(IpAddr::V4(a)) => plain(&mut self.v4, u32::from(*a), next),
            Subject::Ip(IpAddr::V6(a)) => plain(&mut self.v6, u128::from(*a), next),
            Subject::Net(n) => plain(&mut self.nets, *n, next),
            Subject::Domain(d) => named(&mut self.domains, d.as_str(), next),
            Subject::Email(e) => match self.emails.get(&EmailQuery(e)) {
                Some(id) => (*id, false),
                None => {
                    self.emails.insert(EmailKey(e.to_string().into()), next);
                    (next, true)
                }
            },
        }
    }

    fn bytes(&self) -> usize {
        map_bytes(&self.v4)
            + map_bytes(&self.v6)
            + map_bytes(&self.nets)
            + map_bytes(&self.domains)
            + map_bytes(&self.emails)
            + self
                .domains
                .keys()
                .map(|k| k.len())
                .chain(self.emails.keys().map(|k| k.0.len()))
                .sum::<usize>()
    }
}

/// The reputation ledger: evidence in, per-subject state out.
///
/// Every operation takes its time explicitly. **Time going backwards** is handled so that
/// the result does not depend on arrival order where it need not:
///
/// - scores are sums of exponentially decayed contributions, so an event older than the
///   subject's latest evidence adds its contribution decayed to that time: the same events
///   in any order give the same scores (up to rounding);
/// - first/last seen and the last report and trap times are the minimum and maximum seen;
/// - counters count each event at its own time (a [`CounterStore`](super::CounterStore) that cannot fail,
///   [`LedgerCounters`]);
/// - lifecycle events (listing, allowlisting, self-delisting, disputes) are decisions applied
///   in arrival order; a lifecycle event older than the subject's latest lifecycle change is
///   taken to happen at that change, so no `since` or `until` ever goes back;
/// - a query at a `now` before the subject's latest evidence sees the scores of that
///   evidence undecayed (they are never grown by negative decay).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Ledger, Lifecycle};
/// let mut l = Ledger::new(Default::default());
/// for line in [
///     r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"r1"}"#,
///     r#"{"at":"2026-11-20T11:00:00Z","subject":"192.0.2.1","event":"manual_list","note":"seen"}"#,
/// ] {
///     l.apply(&Event::parse_line(line, 1)?);
/// }
/// let now = "2026-11-20T12:00:00Z".parse()?;
/// assert!(l.lifecycle(&"192.0.2.1".parse()?, now).is_listed());
/// assert_eq!(l.len(), 1);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ledger<C: LedgerCounters = EmbeddedCounters> {
    config: LedgerConfig,
    /// Seconds per half-life, reciprocal, per score kind.
    inv_half: [f64; 4],
    index: Index,
    chunks: Vec<Vec<Record>>,
    len: u32,
    shares: Map<(u32, u32), Share>,
    /// How many reporters each subject has, by id, when it has several (so that a
    /// reputation reads them in order, without walking its shares).
    reporter_counts: Vec<u32>,
    life: Map<u32, Life>,
    names: Map<Box<str>, u32>,
    relay: Relay,
    /// Spam reports with a fingerprint already counted: (subject, reporter, fingerprint
    /// hash), so that one reporter reporting one message twice counts once.
    reported: Map<(u32, u32, u64), ()>,
    counters: C,
}

impl Ledger<EmbeddedCounters> {
    /// An empty ledger with embedded counters (one-hour windows).
    pub fn new(config: LedgerConfig) -> Ledger<EmbeddedCounters> {
        Ledger::with_counters(config, EmbeddedCounters::new())
    }
}

impl<C: LedgerCounters> Ledger<C> {
    /// An empty ledger with this counter store.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Counter, EmbeddedCounters, Ledger};
    /// use std::time::Duration;
    /// let c = EmbeddedCounters::new().with_window(Counter::NoSuchUser, Duration::from_secs(600))?;
    /// let l = Ledger::with_counters(Default::default(), c);
    /// assert!(l.is_empty());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn with_counters(config: LedgerConfig, counters: C) -> Ledger<C> {
        let inv_half = config.half_lives.map(|d| 1.0 / d.as_secs_f64());
        Ledger {
            config,
            inv_half,
            index: Index::default(),
            chunks: Vec::new(),
            len: 0,
            shares: Map::default(),
            reporter_counts: Vec::new(),
            life: Map::default(),
            names: Map::default(),
            relay: Relay::default(),
            reported: Map::default(),
            counters,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// The counter store.
    pub fn counters(&self) -> &C {
        &self.counters
    }

    /// Tracked subjects.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no subject is tracked.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id of a tracked subject.
    pub fn id(&self, s: &Subject) -> Option<SubjectId> {
        self.index.get(s).map(SubjectId)
    }

    fn rec(&self, id: u32) -> &Record {
        &self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    fn rec_mut(&mut self, id: u32) -> &mut Record {
        &mut self.chunks[(id >> CHUNK_BITS) as usize][id as usize & (CHUNK - 1)]
    }

    /// Tracks a subject (seen at `at`) and returns its id.
    ///
    /// # Panics
    ///
    /// After 4 294 967 293 subjects.
    pub fn track(&mut self, s: &Subject, at: Timestamp) -> SubjectId {
        let t = at.unix_seconds();
        let (id, new) = self.resolve(s, t);
        if !new {
            let r = self.rec_mut(id);
            r.first_seen = r.first_seen.min(t);
        }
        SubjectId(id)
    }

    /// The id of `s`, and whether it is new: a new subject gets its record (seen at `t`); an
    /// old one's record is not read, so that a batch can resolve many subjects before their
    /// records arrive from memory.
    fn resolve(&mut self, s: &Subject, t: i64) -> (u32, bool) {
        let (id, new) = self.index.get_or_insert(s, self.len);
        if new {
            assert!(self.len < MAX_SUBJECTS, "ledger full");
            if (self.len as usize).is_multiple_of(CHUNK) {
                self.chunks.push(Vec::with_capacity(CHUNK));
            }
            if let Some(last) = self.chunks.last_mut() {
                last.push(Record {
                    first_seen: t,
                    last_seen: t,
                    last_report: NEVER,
                    last_trap: NEVER,
                    scores: [0.0; 4],
                    reports: 0,
                    traps: 0,
                    reporter: NONE,
                    hams: 0,
                    third_party: 0,
                });
            }
            self.reporter_counts.push(0);
            self.len += 1;
        }
        (id, new)
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(id) = self.names.get(name) {
            return *id;
        }
        let next = self.names.len() as u32;
        if next >= LAST_REPORTER {
            return LAST_REPORTER;
        }
        self.names.insert(name.into(), next);
        next
    }

    /// Decays the record to `t` when `t` is later; returns the decay factor for a
    /// contribution of `kind` at `t` (1 when `t` is the newest time).
    fn advance(&mut self, id: u32, t: i64, kind: usize) -> f64 {
        let inv = self.inv_half;
        let r = self.rec_mut(id);
        if t >= r.last_seen {
            let dt = (t - r.last_seen) as f64;
            if dt > 0.0 {
                for (k, s) in r.scores.iter_mut().enumerate() {
                    if *s != 0.0 {
                        *s = (f64::from(*s) * (-dt * inv[k]).exp2()) as f32;
                    }
                }
                r.last_seen = t;
            }
            1.0
        } else {
            let dt = (r.last_seen - t) as f64;
            (-dt * inv[kind]).exp2()
        }
    }

    /// Applies one event and says what it did. Never panics, whatever the times.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger, Outcome};
    /// let mut l = Ledger::new(Default::default());
    /// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.1".parse()?,
    ///     Evidence::TrapHit { trap: "t".into() });
    /// assert_eq!(l.apply(&e), Outcome::Recorded);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn apply(&mut self, e: &Event) -> Outcome {
        let id = self.track(&e.subject, e.at).0;
        let rid = match &e.evidence {
            Evidence::SpamReport { reporter, .. } => self.intern(reporter),
            _ => NONE,
        };
        self.apply_tracked(id, rid, e)
    }

    /// Applies events in order, as [`Ledger::apply`] does one by one, and gives each outcome
    /// to `outcome` with the event's index. Faster on large ledgers: the table lookups of a
    /// group of events are issued together, so that their cache misses overlap.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger, Outcome};
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let events: Vec<Event> = (0..100u32)
    ///     .map(|i| Event::new(t, rblkit::Subject::Ip(std::net::Ipv4Addr::from(i).into()),
    ///         Evidence::TrapHit { trap: "t".into() }))
    ///     .collect();
    /// let mut l = Ledger::new(Default::default());
    /// let mut recorded = 0;
    /// l.apply_batch(&events, |_, o| recorded += usize::from(o == Outcome::Recorded));
    /// assert_eq!((l.len(), recorded), (100, 100));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn apply_batch(&mut self, events: &[Event], mut outcome: impl FnMut(usize, Outcome)) {
        const GROUP: usize = 16;
        let mut ids = [(0u32, NONE); GROUP];
        for (g, group) in events.chunks(GROUP).enumerate() {
            // 1: resolve subjects and reporters (independent probes; records not read yet)
            for (slot, e) in ids.iter_mut().zip(group) {
                let id = self.resolve(&e.subject, e.at.unix_seconds()).0;
                let rid = match &e.evidence {
                    Evidence::SpamReport { reporter, .. } => self.intern(reporter),
                    _ => NONE,
                };
                *slot = (id, rid);
            }
            // 2: touch the records and reporter shares (independent loads)
            let mut touch = 0i64;
            for &(id, rid) in &ids[..group.len()] {
                let r = self.rec(id);
                touch ^= r.last_seen;
                if r.reporter & MULTI != 0 && r.reporter != NONE {
                    touch ^= self.shares.get(&(id, rid)).map_or(0, |s| s.at);
                }
            }
            std::hint::black_box(touch);
            // 3: apply (the first sighting of a subject seen before may be earlier)
            for (i, (&(id, rid), e)) in ids.iter().zip(group).enumerate() {
                let r = self.rec_mut(id);
                r.first_seen = r.first_seen.min(e.at.unix_seconds());
                outcome(g * GROUP + i, self.apply_tracked(id, rid, e));
            }
        }
    }

    fn apply_tracked(&mut self, id: u32, rid: u32, e: &Event) -> Outcome {
        let t = e.at.unix_seconds();
        match &e.evidence {
            Evidence::SpamReport {
                weight,
                fingerprint,
                ..
            } => {
                if let Some(fp) = fingerprint {
                    if self
                        .reported
                        .insert((id, rid, fingerprint_hash(fp)), ())
                        .is_some()
                    {
                        return Outcome::Duplicate;
                    }
                }
                let w = weight.unwrap_or(1.0);
                self.report(id, rid, w, t);
            }
            Evidence::TrapHit { .. } => {
                let k = ScoreKind::TrapHit.index();
                let f = self.advance(id, t, k);
                let r = self.rec_mut(id);
                r.scores[k] += f as f32;
                r.traps = r.traps.saturating_add(1);
                r.last_trap = r.last_trap.max(t);
            }
            Evidence::HamReport { .. } => {
                let k = ScoreKind::HamReport.index();
                let f = self.advance(id, t, k);
                let r = self.rec_mut(id);
                r.scores[k] += f as f32;
                r.hams = r.hams.saturating_add(1);
            }
            Evidence::ThirdPartyListing { .. } => {
                let k = ScoreKind::ThirdPartyListing.index();
                let f = self.advance(id, t, k);
                let r = self.rec_mut(id);
                r.scores[k] += f as f32;
                r.third_party = r.third_party.saturating_add(1);
            }
            Evidence::Message {
                recipient,
                sasl_username,
                fingerprint,
                sender,
                refused,
            } => {
                self.touch(id, t);
                // a refused attempt consumes no quota; the escalation peak counts both
                let (mine, other) = match refused {
                    false => (Counter::Messages, Counter::Refused),
                    true => (Counter::Refused, Counter::Messages),
                };
                let count = self.count_event(&e.subject, id, mine, e.at);
                let count = count.saturating_add(self.count_other(&e.subject, id, other, e.at));
                let rcpt = self.intern(recipient);
                let campaign = match fingerprint {
                    Some(fp) => {
                        let fp = self.intern(fp);
                        let group = match (sasl_username, &e.subject) {
                            (Some(user), _) => Some(Group::Account(self.intern(user))),
                            (None, Subject::Email(a)) => {
                                Some(Group::Domain(self.intern(a.domain().as_str())))
                            }
                            (None, Subject::Domain(d)) => {
                                Some(Group::Domain(self.intern(d.as_str())))
                            }
                            _ => None,
                        };
                        // the sender address counted: the envelope sender when the
                        // subject is the account, else the subject
                        let member = match sender {
                            Some(s) => Member::Name(self.intern(&s.to_ascii_lowercase())),
                            None => Member::Subject(id),
                        };
                        group.map(|g| (fp, g, member))
                    }
                    None => None,
                };
                let w = self.config.relay;
                self.relay
                    .message(&w, id, rcpt, campaign, t, count, *refused);
            }
            Evidence::SmtpOutcome { outcome, recipient } => {
                self.touch(id, t);
                self.count_event(&e.subject, id, Counter::from(*outcome), e.at);
                if let Some(rcpt) = recipient {
                    if *outcome != SmtpOutcome::Delivered {
                        if let Some(&r) = self.names.get(&**rcpt) {
                            self.relay.failure(id, r);
                        }
                    }
                    if *outcome == SmtpOutcome::CannotReceive {
                        if let Ok(rs) = rcpt.parse::<Subject>() {
                            let rid = self.track(&rs, e.at).0;
                            self.touch(rid, t);
                            let r = self.relay.rec(rid);
                            r.undeliverable = r.undeliverable.saturating_add(1);
                            r.undeliverable_at = r.undeliverable_at.max(t);
                        }
                    }
                }
            }
            Evidence::SpfResult { result, .. } => {
                self.touch(id, t);
                let r = self.relay.rec(id);
                if result.not_authorised() {
                    r.spf_fail_at = r.spf_fail_at.max(t);
                } else if *result == SpfResult::Pass {
                    r.spf_pass_at = r.spf_pass_at.max(t);
                }
            }
            Evidence::DomainOwnership { result, .. } => {
                self.touch(id, t);
                let r = self.relay.rec(id);
                match result {
                    Ownership::NotOwned => r.not_owned_at = r.not_owned_at.max(t),
                    Ownership::Owned => r.owned_at = r.owned_at.max(t),
                }
            }
            Evidence::ManualList { reason, .. } => {
                let reasons = ReasonSet::EMPTY.with(reason.unwrap_or(Reason::Manual));
                self.lifecycle_event(id, t, |life, t, _| {
                    life.settle(t);
                    if life.state == ListState::Listed {
                        life.reasons = life.reasons.union(reasons);
                    } else {
                        life.state = ListState::Listed;
                        life.since = t;
                        life.reasons = reasons;
                        life.listings = life.listings.saturating_add(1);
                    }
                    life.until = i64::MAX;
                    Outcome::Recorded
                });
            }
            Evidence::ManualUnlist { .. } => {
                // a fresh start: the escalation evidence and the rolling counts go
                self.relay.reset_escalation(id);
                sure(self.counters.forget(SubjectId(id), &e.subject));
                self.lifecycle_event(id, t, |life, t, _| {
                    life.settle(t);
                    if life.state != ListState::Clean {
                        life.state = ListState::Clean;
                        life.ended = t;
                    }
                    Outcome::Recorded
                });
            }
            Evidence::AllowlistAdd { .. } | Evidence::AllowlistRemove { .. } => {
                let on = matches!(e.evidence, Evidence::AllowlistAdd { .. });
                self.lifecycle_event(id, t, |life, _, _| {
                    life.allowlisted = on;
                    Outcome::Recorded
                });
            }
            Evidence::SelfDelist => {
                let rules = self.config.self_delist;
                return self.lifecycle_event(id, t, |life, t, _| self_delist(life, rules, t));
            }
            Evidence::Dispute {
                reason, reporter, ..
            } => {
                let rid = reporter.as_deref().map_or(NONE, |r| self.intern(r));
                return self.lifecycle_event(id, t, |life, _, _| {
                    if life.dispute.is_some() {
                        Outcome::Refused(Refusal::DisputeOpen)
                    } else {
                        life.dispute = Some((*reason, rid));
                        life.dispute_at = t;
                        Outcome::Accepted { until: None }
                    }
                });
            }
            Evidence::DisputeDecision { decision, .. } => {
                let mut drop = None;
                let out = self.lifecycle_event(id, t, |life, t, _| {
                    let Some((reason, rid)) = life.dispute.take() else {
                        return Outcome::Refused(Refusal::NoOpenDispute);
                    };
                    if *decision == DisputeDecision::Upheld {
                        match reason {
                            DisputeReason::UserError => drop = Some(rid),
                            DisputeReason::TechnicalError => {
                                life.settle(t);
                                if life.state != ListState::Clean {
                                    // a wrong listing does not count towards escalation
                                    life.state = ListState::Clean;
                                    life.listings = life.listings.saturating_sub(1);
                                }
                            }
                        }
                    }
                    Outcome::Accepted { until: None }
                });
                if let Some(rid) = drop.filter(|&r| r != NONE) {
                    self.drop_reporter(id, rid);
                }
                return out;
            }
        }
        Outcome::Recorded
    }

    fn touch(&mut self, id: u32, t: i64) {
        let r = self.rec(id);
        if t > r.last_seen {
            self.advance(id, t, 0);
        }
    }

    fn count_event(&mut self, s: &Subject, id: u32, counter: Counter, at: Timestamp) -> u64 {
        let key = CounterKey {
            subject: s,
            id: SubjectId(id),
            counter,
        };
        sure(self.counters.add(key, at, 1))
    }

    fn count_other(&self, s: &Subject, id: u32, counter: Counter, at: Timestamp) -> u64 {
        let key = CounterKey {
            subject: s,
            id: SubjectId(id),
            counter,
        };
        sure(self.counters.count(key, at))
    }

    fn report(&mut self, id: u32, rid: u32, w: f64, t: i64) {
        let k = ScoreKind::SpamReport.index();
        let f = self.advance(id, t, k);
        let inv = self.inv_half[k];
        let r = self.rec_mut(id);
        let (old_score, old_last, ref_t) = (r.scores[k], r.last_report, r.last_seen);
        r.scores[k] += (w * f) as f32;
        r.reports = r.reports.saturating_add(1);
        r.last_report = r.last_report.max(t);
        let reporter = r.reporter;
        let old_count = r.reports - 1;
        if reporter == NONE || reporter == rid {
            r.reporter = rid;
            return;
        }
        let head = if reporter & MULTI == 0 {
            // spill: the only reporter so far had everything before this report
            self.shares.insert(
                (id, reporter),
                Share {
                    count: old_count,
                    score: old_score,
                    at: ref_t,
                    last: old_last,
                    next: NONE,
                },
            );
            reporter
        } else {
            reporter & !MULTI
        };
        match self.shares.get_mut(&(id, rid)) {
            Some(s) => add_share(s, w, t, inv),
            None => {
                let n = &mut self.reporter_counts[id as usize];
                *n = (*n).max(1).saturating_add(1);
                self.shares.insert(
                    (id, rid),
                    Share {
                        count: 1,
                        score: w as f32,
                        at: t,
                        last: t,
                        next: head,
                    },
                );
                self.rec_mut(id).reporter = rid | MULTI;
            }
        }
    }

    /// The reporters of a subject with several, in list order.
    fn shares_of(&self, id: u32) -> impl Iterator<Item = (u32, &Share)> + '_ {
        let head = self.rec(id).reporter;
        let mut cur = if head != NONE && head & MULTI != 0 {
            head & !MULTI
        } else {
            NONE
        };
        std::iter::from_fn(move || {
            let s = self.shares.get(&(id, cur))?;
            let r = cur;
            cur = s.next;
            Some((r, s))
        })
    }

    fn drop_reporter(&mut self, id: u32, rid: u32) {
        let k = ScoreKind::SpamReport.index();
        let inv = self.inv_half[k];
        let reporter = self.rec(id).reporter;
        if reporter == rid {
            let r = self.rec_mut(id);
            r.scores[k] = 0.0;
            r.reports = 0;
            r.last_report = NEVER;
            r.reporter = NONE;
            return;
        }
        if reporter == NONE || reporter & MULTI == 0 {
            return;
        }
        let mut prev = NONE;
        let mut found = false;
        for (r, _) in self.shares_of(id) {
            if r == rid {
                found = true;
                break;
            }
            prev = r;
        }
        if !found {
            return;
        }
        let Some(gone) = self.shares.remove(&(id, rid)) else {
            return;
        };
        let n = &mut self.reporter_counts[id as usize];
        *n = n.saturating_sub(1);
        match self.shares.get_mut(&(id, prev)) {
            Some(p) if prev != NONE => p.next = gone.next,
            _ => {
                self.rec_mut(id).reporter = if gone.next == NONE {
                    NONE
                } else {
                    gone.next | MULTI
                };
            }
        }
        let last = self
            .shares_of(id)
            .map(|(_, s)| s.last)
            .max()
            .unwrap_or(NEVER);
        let r = self.rec_mut(id);
        let dt = (r.last_seen - gone.at).max(0) as f64;
        let sub = f64::from(gone.score) * (-dt * inv).exp2();
        r.scores[k] = (f64::from(r.scores[k]) - sub).max(0.0) as f32;
        r.reports = r.reports.saturating_sub(gone.count);
        r.last_report = last;
    }

    fn lifecycle_event(
        &mut self,
        id: u32,
        t: i64,
        f: impl FnOnce(&mut Life, i64, &LedgerConfig) -> Outcome,
    ) -> Outcome {
        self.touch(id, t);
        let life = self.life.entry(id).or_insert_with(Life::new);
        let t = t.max(life.changed);
        life.changed = t;
        f(life, t, &self.config)
    }

    /// Lists a subject for `reasons` at `now` (the policy's decision), escalating a
    /// relisting: see [`Escalation`]. A subject already listed keeps its listing and gains
    /// the reasons; a self-delisted one is relisted (the problem recurred). An allowlisted
    /// subject is recorded as listed but [`Ledger::lifecycle`] answers `Allowlisted`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ledger;
    /// use rblkit::codes::{Reason, ReasonSet};
    /// use std::time::Duration;
    /// let mut l = Ledger::new(Default::default());
    /// let s = "192.0.2.1".parse()?;
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let r = ReasonSet::of(&[Reason::SpamSource]);
    /// let first = l.list(&s, r, t);
    /// let again = l.list(&s, r, t + Duration::from_secs(2 * 86_400));
    /// assert_eq!(first.expires, Some(t + Duration::from_secs(86_400)));
    /// assert_eq!(again.listings, 2);
    /// assert_eq!(again.expires, Some(t + Duration::from_secs(4 * 86_400)));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn list(&mut self, s: &Subject, reasons: ReasonSet, now: Timestamp) -> Listed {
        let id = self.track(s, now).0;
        let esc = self.config.escalation;
        let forget = i64::try_from(esc.forget_after.as_secs()).unwrap_or(i64::MAX);
        self.lifecycle_event(id, now.unix_seconds(), |life, t, _| {
            life.settle(t);
            if life.state == ListState::Listed {
                life.reasons = life.reasons.union(reasons);
                return Outcome::Recorded;
            }
            if life.state == ListState::SelfDelisted {
                life.ended = t;
            }
            let previous = if life.ended != NEVER && t.saturating_sub(life.ended) <= forget {
                life.listings
            } else {
                0
            };
            let d = i64::try_from(esc.duration(previous).as_secs()).unwrap_or(i64::MAX);
            life.state = ListState::Listed;
            life.since = t;
            life.until = end_of(t, d.max(1));
            life.reasons = reasons;
            life.listings = previous.saturating_add(1);
            Outcome::Recorded
        });
        let mut life = self.life[&id];
        life.settle(now.unix_seconds().max(life.changed));
        life.listed()
    }

    /// Ends a subject's listing (or self-delisting) at `now`, as the policy decides.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Ledger, Lifecycle};
    /// use rblkit::codes::ReasonSet;
    /// let mut l = Ledger::new(Default::default());
    /// let s = "192.0.2.1".parse()?;
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// l.list(&s, ReasonSet::EMPTY, t);
    /// l.delist(&s, t);
    /// assert_eq!(l.lifecycle(&s, t), Lifecycle::Clean);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn delist(&mut self, s: &Subject, now: Timestamp) {
        let Some(id) = self.index.get(s) else {
            return;
        };
        self.lifecycle_event(id, now.unix_seconds(), |life, t, _| {
            life.settle(t);
            if life.state != ListState::Clean {
                life.state = ListState::Clean;
                life.ended = t;
            }
            Outcome::Recorded
        });
    }

    /// Where the subject stands at `now`.
    pub fn lifecycle(&self, s: &Subject, now: Timestamp) -> Lifecycle {
        let Some(id) = self.index.get(s) else {
            return Lifecycle::Clean;
        };
        self.lifecycle_of(SubjectId(id), now)
    }

    /// Where the subject with this id stands at `now`.
    pub fn lifecycle_of(&self, id: SubjectId, now: Timestamp) -> Lifecycle {
        let Some(life) = self.life.get(&id.0) else {
            return Lifecycle::Clean;
        };
        let mut life = *life;
        life.settle(now.unix_seconds());
        if life.allowlisted {
            return Lifecycle::Allowlisted;
        }
        let listing = (life.state == ListState::Listed).then(|| life.listed());
        if let Some((dispute, _)) = life.dispute {
            return Lifecycle::UnderReview { dispute, listing };
        }
        match life.state {
            ListState::Clean => Lifecycle::Clean,
            ListState::Listed => Lifecycle::Listed(life.listed()),
            ListState::SelfDelisted => Lifecycle::SelfDelisted {
                until: ts(life.until),
                listing: Listed {
                    expires: None,
                    ..life.listed()
                },
            },
        }
    }

    /// The subject's reputation at `now`, `None` when it is not tracked.
    pub fn reputation(&self, s: &Subject, now: Timestamp) -> Option<Reputation> {
        self.index
            .get(s)
            .map(|id| self.reputation_of(SubjectId(id), now))
    }

    /// The reputation of the subject with this id at `now`.
    pub fn reputation_of(&self, id: SubjectId, now: Timestamp) -> Reputation {
        let r = self.rec(id.0);
        let dt = (now.unix_seconds().saturating_sub(r.last_seen)).max(0) as f64;
        let mut scores = [0.0; 4];
        for (k, s) in scores.iter_mut().enumerate() {
            *s = f64::from(r.scores[k]) * (-dt * self.inv_half[k]).exp2();
        }
        let reporters = match r.reporter {
            NONE => 0,
            x if x & MULTI != 0 => self.reporter_counts[id.0 as usize],
            _ => 1,
        };
        let opt = |t: i64| (t != NEVER).then(|| ts(t));
        Reputation {
            first_seen: ts(r.first_seen),
            last_seen: ts(r.last_seen),
            last_report: opt(r.last_report),
            last_trap: opt(r.last_trap),
            scores,
            at_last: r.scores.map(f64::from),
            inv_half: self.inv_half,
            at: now.unix_seconds().max(r.last_seen),
            reports: r.reports,
            traps: r.traps,
            hams: u32::from(r.hams),
            third_party: u32::from(r.third_party),
            reporters,
        }
    }

    /// The relay evidence of a subject, `None` when it has none.
    pub fn relay_facts(&self, s: &Subject) -> Option<RelayFacts> {
        self.relay.facts(self.index.get(s)?)
    }

    /// The relay evidence of the subject with this id, `None` when it has none.
    pub fn relay_facts_of(&self, id: SubjectId) -> Option<RelayFacts> {
        self.relay.facts(id.0)
    }

    /// The open dispute of the subject with this id: its reason and when it was filed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{DisputeReason, Event, Evidence, Ledger};
    /// let mut l = Ledger::new(Default::default());
    /// let s: rblkit::Subject = "192.0.2.1".parse()?;
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// l.apply(&Event::new(t, s.clone(), Evidence::Dispute {
    ///     reason: DisputeReason::TechnicalError, reporter: None, contact: None, text: None }));
    /// assert_eq!(l.open_dispute(l.id(&s).unwrap()), Some((DisputeReason::TechnicalError, t)));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn open_dispute(&self, id: SubjectId) -> Option<(DisputeReason, Timestamp)> {
        let life = self.life.get(&id.0)?;
        life.dispute.map(|(r, _)| (r, ts(life.dispute_at)))
    }

    /// Self-delisting uses of the subject with this id in the period that is current at
    /// `now`: `(used, end of the period)`, `None` when it never self-delisted or the period
    /// is over.
    pub fn self_delist_uses(&self, id: SubjectId, now: Timestamp) -> Option<(u32, Timestamp)> {
        let life = self.life.get(&id.0)?;
        let rules = self.config.self_delist?;
        if life.period_start == NEVER {
            return None;
        }
        let end = end_of(
            life.period_start,
            i64::try_from(rules.period.as_secs()).unwrap_or(i64::MAX),
        );
        (now.unix_seconds() < end).then(|| (u32::from(life.uses), ts(end)))
    }

    /// The window of a counter (of the counter store).
    pub fn counter_window(&self, counter: Counter) -> Duration {
        self.counters.window(counter)
    }

    /// The count of the counter of the subject with this id in its window ending at `now`.
    pub fn count_of(&self, id: SubjectId, s: &Subject, counter: Counter, now: Timestamp) -> u64 {
        sure(self.counters.count(
            CounterKey {
                subject: s,
                id,
                counter,
            },
            now,
        ))
    }

    /// The count of a subject's counter in its window ending at `now`.
    pub fn count(&self, s: &Subject, counter: Counter, now: Timestamp) -> u64 {
        self.index.get(s).map_or(0, |id| {
            sure(self.counters.count(
                CounterKey {
                    subject: s,
                    id: SubjectId(id),
                    counter,
                },
                now,
            ))
        })
    }

    /// Every tracked subject with its id, in id order (the order they were first seen in):
    /// what reads every subject's state, such as a compile, reads it sequentially.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ledger;
    /// let mut l = Ledger::new(Default::default());
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// l.track(&"192.0.2.9".parse()?, t);
    /// l.track(&"192.0.2.1".parse()?, t);
    /// let v: Vec<String> = l.subjects_in_order().into_iter().map(|(s, _)| s.to_string()).collect();
    /// assert_eq!(v, ["192.0.2.9", "192.0.2.1"]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn subjects_in_order(&self) -> Vec<(Subject, SubjectId)> {
        let mut v: Vec<(Subject, SubjectId)> = self.subjects().collect();
        v.sort_unstable_by_key(|e| e.1);
        v
    }

    /// Every tracked subject with its id (in no particular order).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ledger;
    /// let mut l = Ledger::new(Default::default());
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// l.track(&"192.0.2.1".parse()?, t);
    /// l.track(&"spam.example".parse()?, t);
    /// assert_eq!(l.subjects().count(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn subjects(&self) -> impl Iterator<Item = (Subject, SubjectId)> + '_ {
        let i = &self.index;
        let v4 =
            i.v4.iter()
                .map(|(k, v)| (Subject::Ip(IpAddr::from(std::net::Ipv4Addr::from(*k))), *v));
        let v6 =
            i.v6.iter()
                .map(|(k, v)| (Subject::Ip(IpAddr::from(std::net::Ipv6Addr::from(*k))), *v));
        let nets = i.nets.iter().map(|(k, v)| (Subject::Net(*k), *v));
        let names = i
            .domains
            .iter()
            .chain(i.emails.iter().map(|(k, v)| (&k.0, v)))
            .filter_map(|(k, v)| k.parse::<Subject>().ok().map(|s| (s, *v)));
        v4.chain(v6)
            .chain(nets)
            .chain(names)
            .map(|(s, v)| (s, SubjectId(v)))
    }

    /// Memory in use (computed from table capacities; the bench checks it against RSS).
    pub fn memory(&self) -> Memory {
        let records = self.chunks.len() * CHUNK * std::mem::size_of::<Record>();
        let names: usize = self.names.keys().map(|k| k.len()).sum();
        Memory {
            subjects: self.len(),
            bytes: self.index.bytes()
                + records
                + map_bytes(&self.shares)
                + self.reporter_counts.capacity() * 4
                + map_bytes(&self.life)
                + map_bytes(&self.names)
                + names
                + self.relay.heap_bytes()
                + map_bytes(&self.reported)
                + self.counters.heap_bytes(),
        }
    }
}

/// A stable 64-bit hash (FNV-1a) of a fingerprint's text.
fn fingerprint_hash(fp: &str) -> u64 {
    fp.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn add_share(s: &mut Share, w: f64, t: i64, inv: f64) {
    if t >= s.at {
        let dt = (t - s.at) as f64;
        s.score = (f64::from(s.score) * (-dt * inv).exp2() + w) as f32;
        s.at = t;
    } else {
        let dt = (s.at - t) as f64;
        s.score += (w * (-dt * inv).exp2()) as f32;
    }
    s.last = s.last.max(t);
    s.count = s.count.saturating_add(1);
}

fn self_delist(life: &mut Life, rules: Option<SelfDelistRules>, t: i64) -> Outcome {
    let Some(rules) = rules else {
        return Outcome::Refused(Refusal::NotOffered);
    };
    life.settle(t);
    if life.allowlisted {
        return Outcome::Refused(Refusal::Allowlisted);
    }
    if life.state != ListState::Listed {
        return Outcome::Refused(Refusal::NotListed);
    }
    let period = i64::try_from(rules.period.as_secs()).unwrap_or(i64::MAX);
    if life.period_start == NEVER || t.saturating_sub(life.period_start) >= period {
        life.period_start = t;
        life.uses = 0;
    }
    if life.uses >= rules.uses {
        return Outcome::Refused(Refusal::UsesExhausted {
            next: ts(life.period_start.saturating_add(period)),
        });
    }
    life.uses += 1;
    let d = i64::try_from(rules.max.as_secs())
        .unwrap_or(i64::MAX)
        .max(1);
    life.state = ListState::SelfDelisted;
    life.until = end_of(t, d);
    Outcome::Accepted {
        until: Some(ts(life.until)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_near_the_end_of_time_ends_at_the_last_second() {
        // found by fuzz target ledger_replay: the expiry was past Timestamp::MAX, so at MAX
        // the subject was listed with an expiry (clamped to MAX) not after `now`
        let mut l = Ledger::new(LedgerConfig::default());
        let s: Subject = "192.0.2.1".parse().unwrap();
        let t = Timestamp::MAX - Duration::from_secs(10);
        let listed = l.list(&s, ReasonSet::EMPTY, t);
        assert_eq!(listed.expires, Some(Timestamp::MAX));
        assert!(l.lifecycle(&s, t).is_listed());
        assert_eq!(l.lifecycle(&s, Timestamp::MAX), Lifecycle::Clean);
        l.list(&s, ReasonSet::EMPTY, Timestamp::MAX);
        assert_eq!(l.lifecycle(&s, Timestamp::MAX), Lifecycle::Clean);
    }

    #[test]
    fn record_is_64_bytes() {
        assert_eq!(std::mem::size_of::<Record>(), 64);
    }
}
