//! Listing criteria: when a subject of the [`ledger`](crate::ledger) is listed, why, and until
//! when; [`compile`] turns a ledger into a [`List`] at a time.
//!
//! A [`Criterion`] looks at a subject's [`Reputation`] at `now` and fires (with a reason and
//! the time it stops firing by itself) or not. A [`Policy`] combines criteria with the
//! ledger's [`Lifecycle`]: allowlisting wins; an operator's or a relisting's listing counts;
//! a self-delisted subject is not listed while its exclusion lasts.
//!
//! This first slice has the SpamCop-like profile ([`Policy::spamcop`]).
//!
//! # Examples
//!
//! ```
//! use rblkit::ledger::{Event, Ledger};
//! use rblkit::policy::{compile, Policy};
//! let mut ledger = Ledger::new(Default::default());
//! for line in [
//!     r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t"}"#,
//!     r#"{"at":"2026-11-20T10:01:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"a"}"#,
//!     r#"{"at":"2026-11-20T10:02:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"b"}"#,
//! ] {
//!     ledger.apply(&Event::parse_line(line, 1)?);
//! }
//! let list = compile(&ledger, &Policy::spamcop(), "2026-11-20T12:00:00Z".parse()?);
//! assert!(list.lookup_ipv4("192.0.2.1".parse().unwrap()).is_some());
//! # Ok::<(), rblkit::Error>(())
//! ```

use crate::codes::{Reason, ReasonSet, ReturnCode};
use crate::ledger::{CounterStore, Ledger, Lifecycle, Reputation, ScoreKind, SubjectId};
use crate::list::{List, Listing};
use crate::subject::Subject;
use crate::time::Timestamp;
use std::time::Duration;

/// What a criterion says when it fires.
///
/// # Examples
///
/// ```
/// use rblkit::policy::Fired;
/// use rblkit::codes::Reason;
/// let f = Fired { reason: Reason::SpamSource, until: None };
/// assert_eq!(f.reason, Reason::SpamSource);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    /// Why the subject is listed.
    pub reason: Reason,
    /// When the criterion stops firing if no new evidence comes (`None`: not by itself).
    pub until: Option<Timestamp>,
}

/// A listing criterion.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Criterion, Fired};
/// use rblkit::ledger::{Reputation, ScoreKind};
/// use rblkit::codes::Reason;
/// struct AnyTrap;
/// impl Criterion for AnyTrap {
///     fn name(&self) -> &'static str { "any_trap" }
///     fn evaluate(&self, rep: &Reputation, _now: rblkit::Timestamp) -> Option<Fired> {
///         (rep.traps > 0).then_some(Fired { reason: Reason::SpamTrap, until: None })
///     }
/// }
/// assert_eq!(AnyTrap.name(), "any_trap");
/// ```
pub trait Criterion: Send + Sync {
    /// A short snake_case name, for `explain`.
    fn name(&self) -> &'static str;
    /// Whether it fires for this reputation at `now`.
    fn evaluate(&self, rep: &Reputation, now: Timestamp) -> Option<Fired>;
}

/// SpamCop's rule: listed when weighted reports plus weighted trap hits, decayed to the
/// latest evidence (fresh ones weigh more), reach `threshold`, until `delist_after`
/// (24 hours) after the last report or trap hit.
///
/// # Examples
///
/// ```
/// use rblkit::policy::WeightedReports;
/// let c = WeightedReports::default();
/// assert_eq!(c.threshold, 2.5);
/// assert_eq!(c.trap_weight, 2.0);
/// assert_eq!(c.delist_after.as_secs(), 86_400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct WeightedReports {
    /// The score to reach.
    pub threshold: f64,
    /// What a trap hit weighs against a report (of weight 1).
    pub trap_weight: f64,
    /// How long after the last report or trap hit the listing ends.
    pub delist_after: Duration,
}

impl Default for WeightedReports {
    /// Threshold 2.5, a trap hit weighs 2 reports, delisted 24 hours after the last one.
    fn default() -> Self {
        WeightedReports {
            threshold: 2.5,
            trap_weight: 2.0,
            delist_after: Duration::from_secs(86_400),
        }
    }
}

impl Criterion for WeightedReports {
    fn name(&self) -> &'static str {
        "weighted_reports"
    }

    fn evaluate(&self, rep: &Reputation, now: Timestamp) -> Option<Fired> {
        let last = rep.last_report.max(rep.last_trap)?;
        let until = last + self.delist_after;
        if now >= until {
            return None;
        }
        // as of the latest evidence: the 24-hour rule, not the decay since, ends the listing
        let score = rep.score_at_last_seen(ScoreKind::SpamReport)
            + self.trap_weight * rep.score_at_last_seen(ScoreKind::TrapHit);
        (score >= self.threshold).then_some(Fired {
            reason: if rep.traps > 0 {
                Reason::SpamTrap
            } else {
                Reason::SpamSource
            },
            until: Some(until),
        })
    }
}

/// A subject's standing under a policy at a time.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::policy::Policy;
/// let l = Ledger::new(Default::default());
/// let d = Policy::spamcop().decide(&l, &"192.0.2.1".parse()?, "2026-11-20T10:00:00Z".parse()?);
/// assert!(!d.listed);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether a DNS query answers "listed".
    pub listed: bool,
    /// Why.
    pub reasons: ReasonSet,
    /// The criteria that fired, by name.
    pub fired: Vec<&'static str>,
    /// Since when (for lifecycle listings).
    pub since: Option<Timestamp>,
    /// Until when, without new evidence (`None`: no automatic delisting).
    pub expires: Option<Timestamp>,
    /// The lifecycle state.
    pub lifecycle: Lifecycle,
}

/// Criteria plus the code and TXT a listing gets.
///
/// # Examples
///
/// ```
/// use rblkit::policy::Policy;
/// assert_eq!(Policy::spamcop().criteria().len(), 1);
/// ```
#[non_exhaustive]
pub struct Policy {
    criteria: Vec<Box<dyn Criterion>>,
    /// The return code of a listing.
    pub code: ReturnCode,
    /// The TXT template of a listing (`$` is the subject).
    pub txt: Option<Box<str>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field(
                "criteria",
                &self.criteria.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .field("code", &self.code)
            .finish()
    }
}

impl Policy {
    /// A policy of these criteria, listing with `code`.
    pub fn new(criteria: Vec<Box<dyn Criterion>>, code: ReturnCode) -> Policy {
        Policy {
            criteria,
            code,
            txt: None,
        }
    }

    /// The SpamCop-like profile: [`WeightedReports::default`], code 127.0.0.2.
    pub fn spamcop() -> Policy {
        Policy::new(
            vec![Box::new(WeightedReports::default())],
            ReturnCode::LISTED,
        )
    }

    /// A built-in profile by the name the command line and the web adapter use
    /// (`spamcop`, `spam-center`, `relay`); `None` for a name with no profile.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::Policy;
    /// assert!(Policy::profile("spamcop").is_some());
    /// assert!(Policy::profile("no-such-profile").is_none());
    /// ```
    pub fn profile(name: &str) -> Option<Policy> {
        match name {
            "spamcop" => Some(Policy::spamcop()),
            _ => None,
        }
    }

    /// The names [`Policy::profile`] knows.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::Policy;
    /// assert!(Policy::PROFILES.contains(&"spamcop"));
    /// ```
    pub const PROFILES: &'static [&'static str] = &["spamcop"];

    /// The criteria.
    pub fn criteria(&self) -> &[Box<dyn Criterion>] {
        &self.criteria
    }

    /// The decision for a subject at `now`.
    pub fn decide<C: CounterStore>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
        now: Timestamp,
    ) -> Decision {
        match ledger.id(s) {
            Some(id) => self.decide_id(ledger, id, now),
            None => Decision {
                listed: false,
                reasons: ReasonSet::EMPTY,
                fired: Vec::new(),
                since: None,
                expires: None,
                lifecycle: Lifecycle::Clean,
            },
        }
    }

    fn decide_id<C: CounterStore>(
        &self,
        ledger: &Ledger<C>,
        id: SubjectId,
        now: Timestamp,
    ) -> Decision {
        let lifecycle = ledger.lifecycle_of(id, now);
        let rep = ledger.reputation_of(id, now);
        let mut d = Decision {
            listed: false,
            reasons: ReasonSet::EMPTY,
            fired: Vec::new(),
            since: None,
            expires: None,
            lifecycle,
        };
        let listing = match lifecycle {
            Lifecycle::Allowlisted | Lifecycle::SelfDelisted { .. } => return d,
            Lifecycle::Listed(l) => Some(l),
            Lifecycle::UnderReview { listing, .. } => listing,
            _ => None,
        };
        let mut auto_until: Option<Timestamp> = None;
        for c in &self.criteria {
            if let Some(f) = c.evaluate(&rep, now) {
                d.fired.push(c.name());
                d.reasons.insert(f.reason);
                auto_until = match (auto_until, f.until) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        let fired = !d.fired.is_empty();
        if let Some(l) = listing {
            d.reasons = d.reasons.union(l.reasons);
            d.since = Some(l.since);
            d.expires = match (l.expires, fired) {
                (None, _) => None,
                (Some(e), true) => auto_until.map(|a| a.max(e)),
                (Some(e), false) => Some(e),
            };
            d.listed = true;
        } else if fired {
            d.listed = true;
            d.expires = auto_until;
        }
        d
    }

    /// SpamCop's "time to delisting": `None` when not listed or with no automatic
    /// delisting; zero when the listing ends now.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ledger;
    /// use rblkit::policy::Policy;
    /// let l = Ledger::new(Default::default());
    /// assert_eq!(Policy::spamcop().time_to_delist(&l, &"192.0.2.1".parse()?, "2026-11-20T10:00:00Z".parse()?), None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn time_to_delist<C: CounterStore>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
        now: Timestamp,
    ) -> Option<Duration> {
        let d = self.decide(ledger, s, now);
        d.listed
            .then_some(d.expires?)
            .map(|e| e.saturating_duration_since(now))
    }
}

/// The list a policy makes of a ledger at `now`: every listed subject with the policy's code
/// and TXT, `since`/`expires` where known. Allowlisted subjects are left out.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::policy::{compile, Policy};
/// let l = Ledger::new(Default::default());
/// let list = compile(&l, &Policy::spamcop(), "2026-11-20T10:00:00Z".parse()?);
/// assert!(list.lookup_ipv4("192.0.2.1".parse().unwrap()).is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn compile<C: CounterStore>(ledger: &Ledger<C>, policy: &Policy, now: Timestamp) -> List {
    let mut b = List::builder();
    for (s, id) in ledger.subjects() {
        let d = policy.decide_id(ledger, id, now);
        if !d.listed {
            continue;
        }
        let mut l = Listing::new(policy.code);
        if let Some(t) = &policy.txt {
            l = l.with_txt(t.clone());
        }
        if let Some(since) = d.since {
            l = l.with_since(since);
        }
        if let Some(e) = d.expires {
            l = l.with_expires(e);
        }
        b.insert(&s, l);
    }
    b.build()
}
