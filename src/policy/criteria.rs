//! The criterion trait, what it sees ([`Facts`]) and says ([`Fired`]), and the score
//! criteria of the SpamCop-like and spam.center-like profiles.

use crate::codes::Reason;
use crate::ledger::{Counter, RelayFacts, Reputation, ScoreKind};
use crate::subject::Subject;
use crate::time::Timestamp;
use std::fmt::Write as _;
use std::time::Duration;

/// What a criterion sees of one subject at one time: its reputation (decayed scores and
/// evidence counts), its relay evidence, and its counters in their sliding windows.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Counter, Event, Evidence, Ledger};
/// use rblkit::policy::Facts;
/// let mut l = Ledger::new(Default::default());
/// let s: rblkit::Subject = "192.0.2.1".parse()?;
/// let t = "2026-11-20T10:00:00Z".parse()?;
/// l.apply(&Event::new(t, s.clone(), Evidence::TrapHit { trap: "t".into() }));
/// let rep = l.reputation(&s, t).unwrap();
/// let counts = |c: Counter| (l.count(&s, c, t), l.counter_window(c));
/// let facts = Facts::new(t, &s, &rep, None, &counts);
/// assert_eq!(facts.reputation().traps, 1);
/// assert_eq!(facts.count(Counter::Messages), 0);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    now: Timestamp,
    subject: &'a Subject,
    reputation: &'a Reputation,
    relay: Option<&'a RelayFacts>,
    counts: &'a dyn Fn(Counter) -> (u64, Duration),
}

impl std::fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts")
            .field("now", &self.now)
            .field("subject", &self.subject)
            .field("reputation", self.reputation)
            .field("relay", &self.relay)
            .finish()
    }
}

impl<'a> Facts<'a> {
    /// The facts of `subject` at `now`; `counts` answers a counter's count in its window
    /// ending at `now`, and the window.
    pub fn new(
        now: Timestamp,
        subject: &'a Subject,
        reputation: &'a Reputation,
        relay: Option<&'a RelayFacts>,
        counts: &'a dyn Fn(Counter) -> (u64, Duration),
    ) -> Facts<'a> {
        Facts {
            now,
            subject,
            reputation,
            relay,
            counts,
        }
    }

    /// The time the facts are taken at.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The subject.
    pub fn subject(&self) -> &'a Subject {
        self.subject
    }

    /// Its reputation at `now`.
    pub fn reputation(&self) -> &'a Reputation {
        self.reputation
    }

    /// Its relay evidence, when it has some.
    pub fn relay(&self) -> Option<&'a RelayFacts> {
        self.relay
    }

    /// A counter's count in its window ending at `now`.
    pub fn count(&self, c: Counter) -> u64 {
        (self.counts)(c).0
    }

    /// A counter's window.
    pub fn window(&self, c: Counter) -> Duration {
        (self.counts)(c).1
    }
}

/// What a criterion says when it fires: the reason, until when it fires without new
/// evidence, and the evidence it counted (for `explain`; never published).
///
/// # Examples
///
/// ```
/// use rblkit::policy::Fired;
/// use rblkit::codes::Reason;
/// let f = Fired::new(Reason::SpamSource, None).with_evidence(3, "spam reports");
/// assert_eq!((f.reason, f.evidence, f.of), (Reason::SpamSource, 3, "spam reports"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Fired {
    /// Why the subject is listed.
    pub reason: Reason,
    /// When the criterion stops firing if no new evidence comes (`None`: not by itself).
    pub until: Option<Timestamp>,
    /// How much evidence it counted.
    pub evidence: u64,
    /// What it counted.
    pub of: &'static str,
    /// The value compared with the threshold (a score, a ratio), when it is not the count.
    pub value: Option<f64>,
}

impl Fired {
    /// A firing for `reason` until `until`.
    pub fn new(reason: Reason, until: Option<Timestamp>) -> Fired {
        Fired {
            reason,
            until,
            evidence: 0,
            of: "",
            value: None,
        }
    }

    /// With the evidence counted.
    pub fn with_evidence(mut self, count: u64, of: &'static str) -> Fired {
        self.evidence = count;
        self.of = of;
        self
    }

    /// With the value compared with the threshold.
    pub fn with_value(mut self, v: f64) -> Fired {
        self.value = Some(v);
        self
    }
}

/// A listing criterion: looks at a subject's [`Facts`] and fires or not.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Criterion, Facts, Fired};
/// use rblkit::codes::Reason;
/// struct AnyTrap;
/// impl Criterion for AnyTrap {
///     fn name(&self) -> &'static str { "any_trap" }
///     fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
///         let traps = f.reputation().traps;
///         (traps > 0).then(|| Fired::new(Reason::SpamTrap, None).with_evidence(traps.into(), "trap hits"))
///     }
/// }
/// assert_eq!(AnyTrap.name(), "any_trap");
/// assert!(AnyTrap.delisted_when().contains("operator"));
/// ```
pub trait Criterion: Send + Sync {
    /// A short snake_case name, for `explain`.
    fn name(&self) -> &'static str;
    /// Whether it fires for these facts.
    fn evaluate(&self, facts: &Facts<'_>) -> Option<Fired>;
    /// What makes it stop firing, in words, for `explain` (`{until}` is not expanded: the
    /// explanation gives the time beside it).
    fn delisted_when(&self) -> String {
        "an operator unlists it".to_string()
    }
}

pub(super) fn hours(d: Duration) -> String {
    let s = d.as_secs();
    let mut out = String::new();
    if s.is_multiple_of(86_400) && s >= 2 * 86_400 {
        let _ = write!(out, "{} d", s / 86_400);
    } else if s.is_multiple_of(3600) && s >= 3600 {
        let _ = write!(out, "{} h", s / 3600);
    } else if s.is_multiple_of(60) && s >= 60 {
        let _ = write!(out, "{} min", s / 60);
    } else {
        let _ = write!(out, "{s} s");
    }
    out
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

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let rep = f.reputation();
        let last = rep.last_report.max(rep.last_trap)?;
        let until = last + self.delist_after;
        if f.now() >= until {
            return None;
        }
        // as of the latest evidence: the 24-hour rule, not the decay since, ends the listing
        let score = rep.score_at_last_seen(ScoreKind::SpamReport)
            + self.trap_weight * rep.score_at_last_seen(ScoreKind::TrapHit);
        (score >= self.threshold).then(|| {
            Fired::new(
                if rep.traps > 0 {
                    Reason::SpamTrap
                } else {
                    Reason::SpamSource
                },
                Some(until),
            )
            .with_evidence(
                u64::from(rep.reports) + u64::from(rep.traps),
                "spam reports and trap hits",
            )
            .with_value(score)
        })
    }

    fn delisted_when(&self) -> String {
        format!(
            "no spam report or trap hit for {}",
            hours(self.delist_after)
        )
    }
}

/// A reputation score: spam reports, trap hits and other lists' listings raise it, release &
/// train (ham) reports lower it, each decayed with its half-life up to `now`; listed while
/// the score is at least `threshold` (the spam.center-like profile).
///
/// # Examples
///
/// ```
/// use rblkit::policy::ReputationScore;
/// let c = ReputationScore::default();
/// assert_eq!((c.threshold, c.trap_weight, c.ham_weight), (4.0, 3.0, 2.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ReputationScore {
    /// The score to reach.
    pub threshold: f64,
    /// What a spam report weighs (times its own weight).
    pub report_weight: f64,
    /// What a trap hit weighs.
    pub trap_weight: f64,
    /// What another list's listing weighs.
    pub third_party_weight: f64,
    /// What a release & train report takes away.
    pub ham_weight: f64,
}

impl Default for ReputationScore {
    /// Threshold 4; a report weighs 1, a trap hit 3, another list's listing 1.5, a release &
    /// train report takes away 2.
    fn default() -> Self {
        ReputationScore {
            threshold: 4.0,
            report_weight: 1.0,
            trap_weight: 3.0,
            third_party_weight: 1.5,
            ham_weight: 2.0,
        }
    }
}

impl ReputationScore {
    /// The score of a reputation at `t` (no earlier than it was taken).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger};
    /// use rblkit::policy::ReputationScore;
    /// let mut l = Ledger::new(Default::default());
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "192.0.2.1".parse()?;
    /// l.apply(&Event::new(t, s.clone(), Evidence::TrapHit { trap: "t".into() }));
    /// l.apply(&Event::new(t, s.clone(), Evidence::HamReport { reporter: "r".into() }));
    /// let score = ReputationScore::default().score(&l.reputation(&s, t).unwrap(), t);
    /// assert!((score - 1.0).abs() < 1e-6);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn score(&self, rep: &Reputation, t: Timestamp) -> f64 {
        self.report_weight * rep.projected(ScoreKind::SpamReport, t)
            + self.trap_weight * rep.projected(ScoreKind::TrapHit, t)
            + self.third_party_weight * rep.projected(ScoreKind::ThirdPartyListing, t)
            - self.ham_weight * rep.projected(ScoreKind::HamReport, t)
    }

    /// When the score falls under the threshold without new evidence: found by bisection
    /// (the score, a sum of decays minus a slower decay, crosses the threshold once), to
    /// the minute, at most a year ahead.
    fn end(&self, rep: &Reputation, now: Timestamp) -> Option<Timestamp> {
        const YEAR: u64 = 365 * 86_400;
        let terms = self.terms(rep, now);
        if let Some(secs) = self.newton_end(&terms) {
            let t = now + Duration::from_secs(secs);
            // the crossing found: under the threshold one second after it
            if self.score(rep, t) < self.threshold {
                return (secs < YEAR).then_some(t);
            }
        }
        let mut lo = 0u64;
        let mut hi = self.below_by(&terms).min(YEAR);
        if hi < YEAR && self.score(rep, now + Duration::from_secs(hi)) >= self.threshold {
            hi = YEAR; // rounding: search the whole year
        }
        if self.score(rep, now + Duration::from_secs(hi)) >= self.threshold {
            return None;
        }
        while hi - lo > 60 {
            let mid = lo + (hi - lo) / 2;
            if self.score(rep, now + Duration::from_secs(mid)) >= self.threshold {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(now + Duration::from_secs(hi))
    }

    /// The terms of the score at `now`: weight × projected score, and half-life (seconds).
    fn terms(&self, rep: &Reputation, now: Timestamp) -> [(f64, f64); 4] {
        [
            (self.report_weight, ScoreKind::SpamReport),
            (self.trap_weight, ScoreKind::TrapHit),
            (self.third_party_weight, ScoreKind::ThirdPartyListing),
            (-self.ham_weight, ScoreKind::HamReport),
        ]
        .map(|(w, kind)| (w * rep.projected(kind, now), rep.half_life_secs(kind)))
    }

    /// When every term of the score is positive — the usual case, with no release & train —
    /// the score is a sum of decaying exponentials, convex and falling, and Newton's method
    /// from the time of `terms` climbs to the crossing from below in a few steps. The seconds until the
    /// score is under the threshold (one second past the crossing); `None` when a term is
    /// negative or the steps do not settle (then bisection decides).
    fn newton_end(&self, terms: &[(f64, f64); 4]) -> Option<u64> {
        if self.threshold <= 0.0 || terms.iter().any(|&(c, h)| c < 0.0 || !h.is_finite()) {
            return None;
        }
        let rates = terms.map(|(c, h)| (c, std::f64::consts::LN_2 / h));
        let mut x = 0.0f64;
        for _ in 0..40 {
            let (mut f, mut df) = (-self.threshold, 0.0);
            for (c, r) in rates {
                if c > 0.0 {
                    let e = c * (-r * x).exp();
                    f += e;
                    df -= r * e;
                }
            }
            if f <= 0.0 || df >= 0.0 {
                return None;
            }
            let step = -f / df;
            x += step;
            if step < 0.01 {
                return (x.is_finite() && x < 1e12).then(|| x.floor() as u64 + 1);
            }
        }
        None
    }

    /// Seconds after the time of `terms` by which the score is surely below the threshold
    /// (`u64::MAX` when nothing bounds it): its positive terms, each decaying at least as
    /// fast as the slowest of them, are below it by then. It narrows the bisection of
    /// [`Self::end`].
    fn below_by(&self, terms: &[(f64, f64); 4]) -> u64 {
        let (mut sum, mut slowest) = (0.0f64, 0.0f64);
        for &(c, h) in terms {
            if c > 0.0 {
                sum += c;
                slowest = slowest.max(h);
            }
        }
        if self.threshold <= 0.0 || sum <= 0.0 {
            return if self.threshold > 0.0 { 0 } else { u64::MAX };
        }
        let secs = slowest * (sum / self.threshold).log2().max(0.0);
        if secs.is_finite() && secs < 1e15 {
            secs.ceil() as u64 + 1
        } else {
            u64::MAX
        }
    }
}

impl Criterion for ReputationScore {
    fn name(&self) -> &'static str {
        "reputation_score"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let rep = f.reputation();
        if rep.reports == 0 && rep.traps == 0 && rep.third_party == 0 {
            return None;
        }
        let score = self.score(rep, f.now());
        (score >= self.threshold).then(|| {
            Fired::new(Reason::PoorReputation, self.end(rep, f.now()))
                .with_evidence(
                    u64::from(rep.reports)
                        + u64::from(rep.traps)
                        + u64::from(rep.third_party)
                        + u64::from(rep.hams),
                    "spam reports, trap hits, other lists' listings and release & train reports",
                )
                .with_value(score)
        })
    }

    fn delisted_when(&self) -> String {
        format!(
            "the score decays below {} (release & train reports lower it)",
            self.threshold
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Event, Evidence, Ledger};
    use proptest::prelude::*;

    /// The definition of the end: the first minute-step of a bisection over a year.
    fn bisected(c: &ReputationScore, rep: &Reputation, now: Timestamp) -> Option<i64> {
        let (mut lo, mut hi) = (0u64, 365 * 86_400);
        if c.score(rep, now + Duration::from_secs(hi)) >= c.threshold {
            return None;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if c.score(rep, now + Duration::from_secs(mid)) >= c.threshold {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(now.unix_seconds() + hi as i64)
    }

    proptest! {
        #[test]
        fn the_end_is_where_the_score_crosses(
            evidence in proptest::collection::vec((0u8..4, 0u64..5 * 86_400), 1..40),
            later in 0u64..86_400,
            with_ham in any::<bool>(),
        ) {
            let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
            let s: Subject = "192.0.2.1".parse().unwrap();
            let mut l = Ledger::new(Default::default());
            let mut newest = t0;
            for (i, &(kind, at)) in evidence.iter().enumerate() {
                let t = t0 + Duration::from_secs(at);
                newest = newest.max(t);
                let ev = match if with_ham { kind } else { kind % 3 } {
                    0 => Evidence::SpamReport { reporter: format!("r{i}").into(), fingerprint: None, weight: None },
                    1 => Evidence::TrapHit { trap: "t".into() },
                    2 => Evidence::ThirdPartyListing { list: "l".into(), code: "127.0.0.2".parse().unwrap() },
                    _ => Evidence::HamReport { reporter: "h".into() },
                };
                l.apply(&Event::new(t, s.clone(), ev));
            }
            let now = newest + Duration::from_secs(later);
            let rep = l.reputation(&s, now).unwrap();
            let c = ReputationScore::default();
            prop_assume!(c.score(&rep, now) >= c.threshold);
            let got = c.end(&rep, now).map(Timestamp::unix_seconds);
            let want = bisected(&c, &rep, now);
            match (got, want) {
                (Some(g), Some(w)) => prop_assert!(g >= w && g - w <= 60, "{g} vs {w}"),
                (g, w) => prop_assert_eq!(g, w),
            }
        }
    }
}
