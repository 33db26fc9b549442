//! [`Policy`]: criteria plus codes, TXT, self-delisting, recurrence, reviews and roll-up;
//! the three built-in profiles; decisions.

use super::compile::RollUp;
use super::criteria::{Criterion, Facts, Fired, ReputationScore, WeightedReports};
use super::relay::{
    DomainNotOwned, FixedCadence, InvalidSender, KeptSending, Mailbomb, NonexistentRecipients,
    RateLimit, SenderRotation, SpfNotAuthorised, UndeliverableRecipient,
};
use crate::codes::{CodeLayout, CodeScheme, Reason, ReasonSet, ReturnCode, OWN_DOMAIN, OWN_IP};
use crate::ledger::{
    Event, Evidence, Ledger, LedgerCounters, Lifecycle, Outcome, Refusal, SubjectId,
};
use crate::subject::Subject;
use crate::time::Timestamp;
use std::time::Duration;

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
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decision {
    /// Whether a DNS query answers "listed".
    pub listed: bool,
    /// Why.
    pub reasons: ReasonSet,
    /// The criteria that fired, by name.
    pub fired: Vec<&'static str>,
    /// What each of them said, in the order of `fired`.
    pub evidence: Vec<Fired>,
    /// Since when (for lifecycle listings: an operator's, or one recorded by a request).
    pub since: Option<Timestamp>,
    /// Until when, without new evidence (`None`: no automatic delisting).
    pub expires: Option<Timestamp>,
    /// The lifecycle state.
    pub lifecycle: Lifecycle,
}

/// Whether a profile lets a subject's owner exclude it for a while.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Policy, SelfDelisting};
/// assert_eq!(Policy::spam_center().self_delisting, SelfDelisting::Offered);
/// assert_eq!(Policy::spamcop().self_delisting, SelfDelisting::NotOffered);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelfDelisting {
    /// Requests are refused: listings expire on their own.
    NotOffered,
    /// Offered, within the ledger's [`SelfDelistRules`](crate::ledger::SelfDelistRules).
    Offered,
}

/// What new spam evidence does to a self-delisted subject.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Policy, Recurrence};
/// assert_eq!(Policy::spam_center().recurrence, Recurrence::Relist);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recurrence {
    /// Nothing until the exclusion ends.
    Ignore,
    /// A spam report, trap hit or other list's listing during the exclusion relists the
    /// subject at once, with escalation (each relisting lasts longer, capped).
    Relist,
}

/// Whether removal requests (disputes) are reviewed by the operator, and how soon.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Policy, Review};
/// assert_eq!(Policy::spamcop().review, Review::WorkingDays(2));
/// assert_eq!(Policy::spam_center().review, Review::None);
/// // filed on a Friday: reviewed by Tuesday
/// let friday: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// assert_eq!(Review::WorkingDays(2).deadline(friday), Some("2026-11-24T10:00:00Z".parse()?));
/// let on = |t: &str| Review::WorkingDays(2).deadline(t.parse().unwrap()).unwrap().to_string();
/// assert_eq!(on("2026-11-21T23:00:00Z"), "2026-11-24T23:00:00Z"); // Saturday: Tuesday
/// assert_eq!(on("2026-11-18T08:00:00Z"), "2026-11-20T08:00:00Z"); // Wednesday: Friday
/// assert_eq!(on("2026-11-19T08:00:00Z"), "2026-11-23T08:00:00Z"); // Thursday: Monday
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Review {
    /// No reviews: a request is stored, and nothing promised.
    None,
    /// Reviewed within this time of filing (`review_by`).
    Within(Duration),
    /// Reviewed within this many working days (Monday to Friday, UTC) of filing: the
    /// deadline is the filing time of day on the last of them.
    WorkingDays(u8),
}

impl Review {
    /// The review deadline of a request filed at `filed`; `None` without reviews.
    pub fn deadline(&self, filed: Timestamp) -> Option<Timestamp> {
        match *self {
            Review::None => None,
            Review::Within(d) => Some(filed + d),
            Review::WorkingDays(n) => {
                let mut t = filed;
                let mut left = n;
                while left > 0 {
                    t = t + DAY;
                    // 1970-01-01 was a Thursday: Monday is 0
                    let weekday = (t.unix_seconds().div_euclid(86_400) + 3).rem_euclid(7);
                    if weekday < 5 {
                        left -= 1;
                    }
                }
                Some(t)
            }
        }
    }
}

/// What the public TXT of a listing says: never evidence.
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Policy, TxtReasons};
/// assert_eq!(Policy::spam_center().txt_reasons, TxtReasons::Hidden);
/// assert_eq!(Policy::relay().txt_reasons, TxtReasons::Described);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxtReasons {
    /// Only the template: the TXT never says why.
    Hidden,
    /// The template, then the public descriptions of the reasons
    /// ([`Reason::description`]).
    Described,
}

/// Criteria plus how listings are published and which requests are offered.
///
/// # Examples
///
/// ```
/// use rblkit::policy::Policy;
/// for name in Policy::PROFILES {
///     let p = Policy::profile(name).unwrap();
///     assert_eq!(p.name(), *name);
///     assert!(!p.criteria().is_empty());
/// }
/// ```
#[non_exhaustive]
pub struct Policy {
    name: Box<str>,
    criteria: Vec<Box<dyn Criterion>>,
    /// The codes of IP addresses, networks and email addresses.
    pub codes: CodeScheme,
    /// The codes of domains.
    pub domain_codes: CodeScheme,
    /// The TXT template of a listing (`$` is the subject); `None`: no TXT.
    pub txt: Option<Box<str>>,
    /// Whether the TXT adds the reasons' public descriptions.
    pub txt_reasons: TxtReasons,
    /// Self-delisting.
    pub self_delisting: SelfDelisting,
    /// Recurrence during a self-delisting.
    pub recurrence: Recurrence,
    /// Reviews of removal requests.
    pub review: Review,
    /// Listing whole networks with many listed addresses.
    pub rollup: Option<RollUp>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("name", &self.name)
            .field(
                "criteria",
                &self.criteria.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .field("codes", &self.codes)
            .field("domain_codes", &self.domain_codes)
            .field("txt", &self.txt)
            .field("self_delisting", &self.self_delisting)
            .field("recurrence", &self.recurrence)
            .field("review", &self.review)
            .field("rollup", &self.rollup)
            .finish()
    }
}

const DAY: Duration = Duration::from_secs(86_400);

fn code(d: u8) -> ReturnCode {
    ReturnCode::new_assert(127, 0, 0, d)
}

pub(super) struct Core {
    pub(super) listed: bool,
    pub(super) reasons: ReasonSet,
    pub(super) since: Option<Timestamp>,
    pub(super) expires: Option<Timestamp>,
    pub(super) lifecycle: Lifecycle,
}

impl Policy {
    /// A policy named `custom` of these criteria with these codes (for every kind of
    /// subject), no TXT, no self-delisting, reviews within 2 working days, no roll-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::{Policy, WeightedReports};
    /// use rblkit::codes::{CodeScheme, ReturnCode};
    /// let p = Policy::new(vec![Box::new(WeightedReports::default())], CodeScheme::single(ReturnCode::LISTED)?);
    /// assert_eq!(p.name(), "custom");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(criteria: Vec<Box<dyn Criterion>>, codes: CodeScheme) -> Policy {
        Policy {
            name: "custom".into(),
            criteria,
            domain_codes: codes.clone(),
            codes,
            txt: None,
            txt_reasons: TxtReasons::Hidden,
            self_delisting: SelfDelisting::NotOffered,
            recurrence: Recurrence::Ignore,
            review: Review::WorkingDays(2),
            rollup: None,
        }
    }

    /// The same policy under another name.
    pub fn with_name(mut self, name: &str) -> Policy {
        self.name = name.into();
        self
    }

    /// The name (a profile's name for the built-in ones).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SpamCop-like profile: [`WeightedReports::default`] (a trap hit and two reports,
    /// or three reports, list; delisted 24 hours after the last report or trap hit), one
    /// code `127.0.0.2`, no self-delisting, disputes reviewed within 2 working days.
    pub fn spamcop() -> Policy {
        let single = CodeScheme::single(ReturnCode::LISTED).expect("127.0.0.2 is a code");
        Policy::new(vec![Box::new(WeightedReports::default())], single).with_name("spamcop")
    }

    /// The spam.center-like profile: [`ReputationScore::default`] (reports, trap hits and
    /// other lists raise it, release & train lowers it); codes `127.0.0.2` for every listing
    /// (the TXT and the codes never say why; `explain` does), `127.0.0.3` for a network
    /// rolled up ([`RollUp::default`]); self-delisting offered (the ledger's rules: 7 days,
    /// twice per 90 days) and spam during it relists with escalation; no reviews.
    pub fn spam_center() -> Policy {
        let codes = CodeScheme::builder(CodeLayout::OnePerReason, code(2))
            .code(code(3), Reason::NetworkReputation.into())
            .build()
            .expect("valid codes");
        let domain_codes =
            CodeScheme::single(ReturnCode::new_assert(127, 0, 1, 2)).expect("127.0.1.2 is a code");
        Policy {
            domain_codes,
            txt: Some("$ is listed; see the lookup page".into()),
            self_delisting: SelfDelisting::Offered,
            recurrence: Recurrence::Relist,
            review: Review::None,
            rollup: Some(RollUp::default()),
            ..Policy::new(vec![Box::new(ReputationScore::default())], codes)
        }
        .with_name("spam-center")
    }

    /// The relay provider's profile (per-server lists of blocked senders and recipients):
    /// [`RateLimit`] (300 an hour), [`KeptSending`] (temporary → permanent),
    /// [`NonexistentRecipients`], [`SenderRotation`], [`FixedCadence`], [`Mailbomb`],
    /// [`UndeliverableRecipient`], [`InvalidSender`], [`SpfNotAuthorised`],
    /// [`DomainNotOwned`]; one code per reason ([`OWN_IP`], [`OWN_DOMAIN`]); the TXT gives
    /// the reasons' public descriptions; disputes reviewed within 2 working days.
    pub fn relay() -> Policy {
        Policy::relay_with(RateLimit::default(), KeptSending::default())
    }

    /// The relay provider's profile ([`Policy::relay`]) with another rate limit and
    /// escalation.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::{KeptSending, Policy, RateLimit};
    /// let mut rate = RateLimit::default();
    /// rate.limit = 50;
    /// let p = Policy::relay_with(rate, KeptSending::default());
    /// assert_eq!(p.name(), "relay");
    /// ```
    pub fn relay_with(rate: RateLimit, kept: KeptSending) -> Policy {
        Policy::relay_tuned(rate, kept, SenderRotation::default())
    }

    /// [`Policy::relay_with`] with another campaign rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::{KeptSending, Policy, RateLimit, SenderRotation};
    /// let mut rotation = SenderRotation::default();
    /// rotation.min_senders = 11;
    /// let p = Policy::relay_tuned(RateLimit::default(), KeptSending::default(), rotation);
    /// assert_eq!(p.name(), "relay");
    /// ```
    pub fn relay_tuned(rate: RateLimit, kept: KeptSending, rotation: SenderRotation) -> Policy {
        let criteria: Vec<Box<dyn Criterion>> = vec![
            Box::new(rate),
            Box::new(kept),
            Box::new(NonexistentRecipients::default()),
            Box::new(rotation),
            Box::new(FixedCadence::default()),
            Box::new(Mailbomb::default()),
            Box::new(UndeliverableRecipient::default()),
            Box::new(InvalidSender),
            Box::new(SpfNotAuthorised::default()),
            Box::new(DomainNotOwned::default()),
        ];
        Policy {
            domain_codes: OWN_DOMAIN.clone(),
            txt: Some("$ blocked:".into()),
            txt_reasons: TxtReasons::Described,
            ..Policy::new(criteria, OWN_IP.clone())
        }
        .with_name("relay")
    }

    /// A built-in profile by the name the command line and the web adapter use
    /// (`spamcop`, `spam-center`, `relay`); `None` for a name with no profile.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::Policy;
    /// assert!(Policy::profile("spamcop").is_some());
    /// assert!(Policy::profile("spam-center").is_some());
    /// assert!(Policy::profile("relay").is_some());
    /// assert!(Policy::profile("no-such-profile").is_none());
    /// ```
    pub fn profile(name: &str) -> Option<Policy> {
        match name {
            "spamcop" => Some(Policy::spamcop()),
            "spam-center" => Some(Policy::spam_center()),
            "relay" => Some(Policy::relay()),
            _ => None,
        }
    }

    /// The names [`Policy::profile`] knows.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::Policy;
    /// assert_eq!(Policy::PROFILES, ["spamcop", "spam-center", "relay"]);
    /// ```
    pub const PROFILES: &'static [&'static str] = &["spamcop", "spam-center", "relay"];

    /// The criteria.
    pub fn criteria(&self) -> &[Box<dyn Criterion>] {
        &self.criteria
    }

    /// Adds a criterion.
    pub fn with_criterion(mut self, c: Box<dyn Criterion>) -> Policy {
        self.criteria.push(c);
        self
    }

    /// The decision for a subject at `now`.
    pub fn decide<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
        now: Timestamp,
    ) -> Decision {
        let mut d = Decision {
            listed: false,
            reasons: ReasonSet::EMPTY,
            fired: Vec::new(),
            evidence: Vec::new(),
            since: None,
            expires: None,
            lifecycle: Lifecycle::Clean,
        };
        let Some(id) = ledger.id(s) else {
            return d;
        };
        let core = self.evaluate(ledger, s, id, now, |c, f| {
            d.fired.push(c.name());
            d.evidence.push(f);
        });
        d.listed = core.listed;
        d.reasons = core.reasons;
        d.since = core.since;
        d.expires = core.expires;
        d.lifecycle = core.lifecycle;
        d
    }

    /// The criteria that fire for a subject at `now`, whatever its lifecycle.
    pub(super) fn fire<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
        id: SubjectId,
        now: Timestamp,
        mut each: impl FnMut(&dyn Criterion, Fired),
    ) {
        let rep = ledger.reputation_of(id, now);
        let relay = ledger.relay_facts_of(id);
        let counts = |c| (ledger.count_of(id, s, c, now), ledger.counter_window(c));
        let facts = Facts::new(now, s, &rep, relay.as_ref(), &counts);
        for c in &self.criteria {
            if let Some(f) = c.evaluate(&facts) {
                each(&**c, f);
            }
        }
    }

    pub(super) fn evaluate<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
        id: SubjectId,
        now: Timestamp,
        mut each: impl FnMut(&dyn Criterion, Fired),
    ) -> Core {
        let lifecycle = ledger.lifecycle_of(id, now);
        let mut core = Core {
            listed: false,
            reasons: ReasonSet::EMPTY,
            since: None,
            expires: None,
            lifecycle,
        };
        let listing = match lifecycle {
            Lifecycle::Allowlisted | Lifecycle::SelfDelisted { .. } => return core,
            Lifecycle::Listed(l) => Some(l),
            Lifecycle::UnderReview { listing, .. } => listing,
            _ => None,
        };
        let mut fired = false;
        let mut permanent = false;
        let mut until: Option<Timestamp> = None;
        self.fire(ledger, s, id, now, |c, f| {
            fired = true;
            core.reasons.insert(f.reason);
            match f.until {
                None => permanent = true,
                Some(u) => until = Some(until.map_or(u, |a| a.max(u))),
            }
            each(c, f);
        });
        let auto = if permanent { None } else { until };
        if let Some(l) = listing {
            core.reasons = core.reasons.union(l.reasons);
            core.since = Some(l.since);
            core.expires = match (l.expires, fired) {
                (None, _) => None,
                (Some(e), true) => auto.map(|a| a.max(e)),
                (Some(e), false) => Some(e),
            };
            core.listed = true;
        } else if fired {
            core.listed = true;
            core.expires = auto;
        }
        core
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
    pub fn time_to_delist<C: LedgerCounters>(
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

    /// When the subject's open dispute is to be reviewed by: the [`Review::deadline`] of
    /// its filing time; `None` with no open dispute or no reviews.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{DisputeReason, Event, Evidence, Ledger};
    /// use rblkit::policy::Policy;
    /// let mut l = Ledger::new(Default::default());
    /// let s: rblkit::Subject = "192.0.2.1".parse()?;
    /// l.apply(&Event::new("2026-11-20T10:00:00Z".parse()?, s.clone(), Evidence::Dispute {
    ///     reason: DisputeReason::UserError, reporter: None, contact: None, text: None }));
    /// // filed on a Friday, reviewed within two working days
    /// assert_eq!(Policy::spamcop().review_by(&l, &s), Some("2026-11-24T10:00:00Z".parse()?));
    /// assert_eq!(Policy::spam_center().review_by(&l, &s), None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn review_by<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        s: &Subject,
    ) -> Option<Timestamp> {
        ledger
            .open_dispute(ledger.id(s)?)
            .and_then(|(_, filed)| self.review.deadline(filed))
    }

    /// Applies an event as this policy has it, for the events whose outcome depends on the
    /// policy; every other event is [`Ledger::apply`]'d as it is:
    ///
    /// - `self_delist`: refused with [`Refusal::NotOffered`] unless the policy offers it;
    ///   a subject listed by the criteria has that listing recorded in the ledger first (so
    ///   that the ledger's rules — uses per period, 7 days — apply to it);
    /// - `dispute` with [`Review::None`]: [`Outcome::Recorded`] and nothing else (the
    ///   request stays in the journal for the operator; the subject is not under review);
    /// - with [`Recurrence::Relist`], a `spam_report`, `trap_hit` or `third_party_listing`
    ///   for a self-delisted subject relists it at once, with escalation.
    ///
    /// Replaying a journal through this method gives the same ledger as ingesting it did.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger, Outcome, Refusal};
    /// use rblkit::policy::Policy;
    /// let mut l = Ledger::new(Default::default());
    /// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.1".parse()?, Evidence::SelfDelist);
    /// assert_eq!(Policy::spamcop().apply(&mut l, &e), Outcome::Refused(Refusal::NotOffered));
    /// assert_eq!(Policy::spam_center().apply(&mut l, &e), Outcome::Refused(Refusal::NotListed));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn apply<C: LedgerCounters>(&self, ledger: &mut Ledger<C>, e: &Event) -> Outcome {
        match &e.evidence {
            Evidence::SelfDelist => {
                if self.self_delisting == SelfDelisting::NotOffered {
                    return Outcome::Refused(Refusal::NotOffered);
                }
                let d = self.decide(ledger, &e.subject, e.at);
                if d.listed && !d.lifecycle.is_listed() {
                    ledger.list(&e.subject, d.reasons, e.at);
                }
                ledger.apply(e)
            }
            // stored in the journal for the operator; no review is opened or promised
            Evidence::Dispute { .. } if self.review == Review::None => Outcome::Recorded,
            Evidence::SpamReport { .. }
            | Evidence::TrapHit { .. }
            | Evidence::ThirdPartyListing { .. }
                if self.recurrence == Recurrence::Relist =>
            {
                let out = ledger.apply(e);
                if let Lifecycle::SelfDelisted { listing, .. } = ledger.lifecycle(&e.subject, e.at)
                {
                    ledger.list(&e.subject, listing.reasons, e.at);
                }
                out
            }
            _ => ledger.apply(e),
        }
    }

    /// Applies events in order as [`Policy::apply`] does one by one, giving each outcome to
    /// `outcome` with the event's index; runs of events the policy does not look at go
    /// through [`Ledger::apply_batch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, Ledger, Outcome};
    /// use rblkit::policy::Policy;
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "192.0.2.1".parse()?;
    /// let events = [
    ///     Event::new(t, s.clone(), Evidence::TrapHit { trap: "t".into() }),
    ///     Event::new(t, s.clone(), Evidence::SelfDelist),
    /// ];
    /// let mut l = Ledger::new(Default::default());
    /// let mut out = Vec::new();
    /// Policy::spamcop().apply_batch(&mut l, &events, |i, o| out.push((i, o)));
    /// assert_eq!(out[1].0, 1);
    /// assert!(matches!(out[1].1, Outcome::Refused(_)));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn apply_batch<C: LedgerCounters>(
        &self,
        ledger: &mut Ledger<C>,
        events: &[Event],
        mut outcome: impl FnMut(usize, Outcome),
    ) {
        let hooked = |e: &Event| match e.evidence {
            Evidence::SelfDelist => true,
            Evidence::Dispute { .. } => self.review == Review::None,
            Evidence::SpamReport { .. }
            | Evidence::TrapHit { .. }
            | Evidence::ThirdPartyListing { .. } => self.recurrence == Recurrence::Relist,
            _ => false,
        };
        let mut start = 0;
        while start < events.len() {
            let end = events[start..]
                .iter()
                .position(hooked)
                .map_or(events.len(), |p| start + p);
            if end > start {
                ledger.apply_batch(&events[start..end], |i, o| outcome(start + i, o));
            }
            if end < events.len() {
                outcome(end, self.apply(ledger, &events[end]));
            }
            start = end + 1;
        }
    }
}
