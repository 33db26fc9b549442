//! [`explain`]: why a subject is listed, since and until when, and what would delist it —
//! for the operator only (the public answer never carries evidence).

use super::compile::RollUp;
use super::profile::{Policy, Review, SelfDelisting};
use crate::codes::{Reason, ReasonSet, ReturnCode};
use crate::ledger::{DisputeReason, Ledger, LedgerCounters, Lifecycle, ScoreKind};
use crate::subject::Subject;
use crate::time::Timestamp;
use serde_json::{json, Value};
use std::fmt;

/// Where a subject stands, as `rblkit ledger status` names it.
///
/// # Examples
///
/// ```
/// use rblkit::policy::State;
/// assert_eq!(State::SelfDelisted.as_str(), "self_delisted");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Not listed, nothing pending.
    Clean,
    /// Listed.
    Listed,
    /// Excluded by its owner for a while.
    SelfDelisted,
    /// A removal request is open (the subject may still be listed).
    UnderReview,
    /// Allowlisted: never listed.
    Allowlisted,
}

impl State {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Clean => "clean",
            State::Listed => "listed",
            State::SelfDelisted => "self_delisted",
            State::UnderReview => "under_review",
            State::Allowlisted => "allowlisted",
        }
    }

    /// The state of a lifecycle, given whether the policy lists the subject.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Lifecycle;
    /// use rblkit::policy::State;
    /// assert_eq!(State::of(&Lifecycle::Clean, true), State::Listed);
    /// assert_eq!(State::of(&Lifecycle::Allowlisted, false), State::Allowlisted);
    /// ```
    pub fn of(lifecycle: &Lifecycle, listed: bool) -> State {
        match lifecycle {
            Lifecycle::Allowlisted => State::Allowlisted,
            Lifecycle::UnderReview { .. } => State::UnderReview,
            Lifecycle::SelfDelisted { .. } => State::SelfDelisted,
            _ if listed => State::Listed,
            _ => State::Clean,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One criterion that fired, with its evidence.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Ledger};
/// use rblkit::policy::{explain, Policy};
/// let mut l = Ledger::new(Default::default());
/// for r in ["a", "b", "c"] {
///     l.apply(&Event::parse_line(&format!(
///         r#"{{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"{r}"}}"#), 1)?);
/// }
/// let x = explain(&l, &Policy::spamcop(), &"192.0.2.1".parse()?, "2026-11-20T11:00:00Z".parse()?);
/// assert_eq!(x.criteria[0].name, "weighted_reports");
/// assert_eq!(x.criteria[0].evidence, 3);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FiredCriterion {
    /// The criterion's name.
    pub name: &'static str,
    /// The reason it lists for.
    pub reason: Reason,
    /// How much evidence it counted.
    pub evidence: u64,
    /// What it counted.
    pub of: &'static str,
    /// The value compared with its threshold, when not the count.
    pub value: Option<f64>,
    /// When it stops firing without new evidence.
    pub until: Option<Timestamp>,
    /// What makes it stop firing.
    pub delisted_when: String,
}

/// An open removal request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenDispute {
    /// What it says.
    pub reason: DisputeReason,
    /// When it was filed.
    pub filed: Timestamp,
    /// When the operator is to have decided it (`None`: the profile has no reviews).
    pub review_by: Option<Timestamp>,
}

/// The operator's answer to "why is this listed, since when, until when, and what would
/// delist it". [`Display`](fmt::Display) is for people; [`Explanation::to_json`] for tools.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::policy::{explain, Policy, State};
/// let l = Ledger::new(Default::default());
/// let x = explain(&l, &Policy::relay(), &"a@b.example.com".parse()?, "2026-11-20T10:00:00Z".parse()?);
/// assert_eq!(x.state, State::Clean);
/// assert!(!x.listed);
/// assert_eq!(x.to_json()["state"], "clean");
/// assert!(x.to_string().contains("not listed"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Explanation {
    /// The subject.
    pub subject: Subject,
    /// The time of the answer.
    pub at: Timestamp,
    /// The policy's name.
    pub profile: Box<str>,
    /// Where it stands.
    pub state: State,
    /// Whether a DNS query answers "listed".
    pub listed: bool,
    /// Why (all reasons, the criteria's and the lifecycle's).
    pub reasons: ReasonSet,
    /// The codes a DNS query answers.
    pub codes: Vec<ReturnCode>,
    /// Since when (a lifecycle listing), else the first evidence of a listed subject.
    pub since: Option<Timestamp>,
    /// Until when without new evidence (`None`: no automatic delisting, or not listed).
    pub until: Option<Timestamp>,
    /// The criteria that fired, with their evidence.
    pub criteria: Vec<FiredCriterion>,
    /// What would delist it, each with its time where there is one.
    pub delisted_by: Vec<String>,
    /// How many recent listings the current lifecycle listing is (1 = first; more =
    /// escalated), when there is one.
    pub listings: Option<u32>,
    /// The end of an accepted self-delisting.
    pub self_delisted_until: Option<Timestamp>,
    /// Self-delisting uses in the current period: `(used, allowed, period end)`.
    pub self_delist_uses: Option<(u32, u32, Timestamp)>,
    /// The open removal request.
    pub dispute: Option<OpenDispute>,
    /// The network a roll-up would list for this address, and how many of its addresses are
    /// listed (IPv4 only: IPv6 networks are too large to count here).
    pub network: Option<(ipnet::IpNet, u32)>,
    /// Evidence counts: spam reports, trap hits, release & train reports, other lists'
    /// listings, distinct reporters.
    pub counts: Option<[u32; 5]>,
    /// Decayed scores at `at`: spam reports, trap hits, release & train, other lists.
    pub scores: Option<[f64; 4]>,
}

/// Explains a subject's standing under `policy` at `now` (see [`Explanation`]).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Ledger};
/// use rblkit::policy::{explain, Policy, State};
/// let mut l = Ledger::new(Default::default());
/// l.apply(&Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t"}"#, 1)?);
/// l.apply(&Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"a"}"#, 2)?);
/// let x = explain(&l, &Policy::spamcop(), &"192.0.2.1".parse()?, "2026-11-20T12:00:00Z".parse()?);
/// assert_eq!(x.state, State::Listed);
/// assert_eq!(x.until, Some("2026-11-21T10:00:00Z".parse()?));
/// assert!(x.delisted_by[0].contains("no spam report or trap hit for 24 h"));
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn explain<C: LedgerCounters>(
    ledger: &Ledger<C>,
    policy: &Policy,
    subject: &Subject,
    now: Timestamp,
) -> Explanation {
    let mut x = Explanation {
        subject: subject.clone(),
        at: now,
        profile: policy.name().into(),
        state: State::Clean,
        listed: false,
        reasons: ReasonSet::EMPTY,
        codes: Vec::new(),
        since: None,
        until: None,
        criteria: Vec::new(),
        delisted_by: Vec::new(),
        listings: None,
        self_delisted_until: None,
        self_delist_uses: None,
        dispute: None,
        network: None,
        counts: None,
        scores: None,
    };
    let Some(id) = ledger.id(subject) else {
        return x;
    };
    let core = policy.evaluate(ledger, subject, id, now, |c, f| {
        x.criteria.push(FiredCriterion {
            name: c.name(),
            reason: f.reason,
            evidence: f.evidence,
            of: f.of,
            value: f.value,
            until: f.until,
            delisted_when: c.delisted_when(),
        });
    });
    if matches!(core.lifecycle, Lifecycle::SelfDelisted { .. }) {
        // what would list it again when the exclusion ends
        policy.fire(ledger, subject, id, now, |c, f| {
            x.criteria.push(FiredCriterion {
                name: c.name(),
                reason: f.reason,
                evidence: f.evidence,
                of: f.of,
                value: f.value,
                until: f.until,
                delisted_when: c.delisted_when(),
            });
        });
    }
    let rep = ledger.reputation_of(id, now);
    x.counts = Some([
        rep.reports,
        rep.traps,
        rep.hams,
        rep.third_party,
        rep.reporters,
    ]);
    x.scores = Some(ScoreKind::ALL.map(|k| rep.score(k)));
    x.state = State::of(&core.lifecycle, core.listed);
    x.listed = core.listed;
    x.reasons = core.reasons;
    x.until = core.expires;
    x.since = core.since.or(core.listed.then_some(rep.first_seen));
    if core.listed {
        let scheme = match subject {
            Subject::Domain(_) => &policy.domain_codes,
            _ => &policy.codes,
        };
        x.codes = scheme.encode(core.reasons);
    }
    let listing = match core.lifecycle {
        Lifecycle::Listed(l) => Some(l),
        Lifecycle::UnderReview { listing, .. } => listing,
        Lifecycle::SelfDelisted { until, listing } => {
            x.self_delisted_until = Some(until);
            Some(listing)
        }
        _ => None,
    };
    x.listings = listing.map(|l| l.listings);
    if let (Some(rules), SelfDelisting::Offered) =
        (ledger.config().self_delist, policy.self_delisting)
    {
        x.self_delist_uses = ledger
            .self_delist_uses(id, now)
            .map(|(used, end)| (used, u32::from(rules.uses), end));
    }
    x.dispute = ledger.open_dispute(id).map(|(reason, filed)| OpenDispute {
        reason,
        filed,
        review_by: policy.review.deadline(filed),
    });
    if let (Some(r), Subject::Ip(ip @ std::net::IpAddr::V4(_))) = (&policy.rollup, subject) {
        x.network = Some(count_network(ledger, policy, r, *ip, now));
    }
    x.delisted_by = delisted_by(&x, policy, listing.map(|l| l.expires));
    x
}

fn count_network<C: LedgerCounters>(
    ledger: &Ledger<C>,
    policy: &Policy,
    r: &RollUp,
    ip: std::net::IpAddr,
    now: Timestamp,
) -> (ipnet::IpNet, u32) {
    let net = r.network(ip);
    let mut n = 0;
    let ipnet::IpNet::V4(v4) = net else {
        return (net, 0);
    };
    let (first, last) = (u32::from(v4.network()), u32::from(v4.broadcast()));
    // at most 65 536 probes (a /16); the roll-up prefix is what the operator chose
    for a in first..=last.min(first.saturating_add(0xffff)) {
        let s = Subject::Ip(std::net::Ipv4Addr::from(a).into());
        if let Some(id) = ledger.id(&s) {
            n += u32::from(policy.evaluate(ledger, &s, id, now, |_, _| {}).listed);
        }
    }
    (net, n)
}

fn delisted_by(
    x: &Explanation,
    policy: &Policy,
    lifecycle: Option<Option<Timestamp>>,
) -> Vec<String> {
    let mut out = Vec::new();
    if x.state == State::Allowlisted {
        out.push("allowlisted: never listed while the allowlisting lasts".into());
        return out;
    }
    if !x.listed && x.state != State::SelfDelisted {
        return out;
    }
    for c in &x.criteria {
        out.push(match c.until {
            Some(t) => format!("{}: at {t}", c.delisted_when),
            None => c.delisted_when.clone(),
        });
    }
    match lifecycle {
        Some(Some(t)) if x.state != State::SelfDelisted => {
            out.push(format!("the recorded listing ends: at {t}"))
        }
        Some(None) => out.push("an operator unlists it (manual_unlist)".into()),
        _ => {}
    }
    if let Some(d) = x.self_delisted_until {
        out.push(format!(
            "self-delisted: not listed until {d}; spam in the meantime relists it"
        ));
    } else if policy.self_delisting == SelfDelisting::Offered {
        out.push(match x.self_delist_uses {
            Some((used, allowed, end)) if used >= allowed => {
                format!("self-delisting: used up until {end}")
            }
            Some((used, allowed, _)) => {
                format!("self-delisting ({} of {allowed} uses left)", allowed - used)
            }
            None => "self-delisting".into(),
        });
    }
    match (&x.dispute, policy.review) {
        (Some(d), _) => out.push(match d.review_by {
            Some(t) => format!("the open dispute ({}) upheld: review by {t}", d.reason),
            None => format!("the open dispute ({}) upheld", d.reason),
        }),
        (None, Review::None) => {}
        (None, _) => out.push("a removal request (dispute) upheld by the operator".into()),
    }
    out.push("allowlisting".into());
    out
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

impl Explanation {
    /// The JSON form: `subject`, `at`, `profile`, `state`, `listed`, `reasons`, `codes`,
    /// `since`, `until`, `criteria` (each `name`, `reason`, `evidence`, `of`, `value`,
    /// `until`, `delisted_when`), `delisted_by`, `listings`, `self_delisted_until`,
    /// `self_delist_uses` (`used`, `allowed`, `period_ends`), `dispute` (`reason`, `filed`,
    /// `review_by`), `network` (`net`, `listed`), `counts`, `scores`. Times are RFC 3339;
    /// absent values are `null`.
    pub fn to_json(&self) -> Value {
        let criteria: Vec<Value> = self
            .criteria
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "reason": c.reason.name(),
                    "evidence": c.evidence,
                    "of": c.of,
                    "value": c.value.filter(|v| v.is_finite()),
                    "until": ts(c.until),
                    "delisted_when": c.delisted_when,
                })
            })
            .collect();
        json!({
            "subject": self.subject.to_string(),
            "at": self.at.to_string(),
            "profile": &*self.profile,
            "state": self.state.as_str(),
            "listed": self.listed,
            "reasons": self.reasons.iter().map(Reason::name).collect::<Vec<_>>(),
            "codes": self.codes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "since": ts(self.since),
            "until": ts(self.until),
            "criteria": criteria,
            "delisted_by": self.delisted_by,
            "listings": self.listings,
            "self_delisted_until": ts(self.self_delisted_until),
            "self_delist_uses": self.self_delist_uses.map(|(used, allowed, end)| json!({
                "used": used, "allowed": allowed, "period_ends": end.to_string(),
            })),
            "dispute": self.dispute.map(|d| json!({
                "reason": d.reason.as_str(), "filed": d.filed.to_string(), "review_by": ts(d.review_by),
            })),
            "network": self.network.map(|(n, c)| json!({"net": n.to_string(), "listed": c})),
            "counts": self.counts.map(|c| json!({
                "spam_reports": c[0], "trap_hits": c[1], "ham_reports": c[2],
                "third_party_listings": c[3], "reporters": c[4],
            })),
            "scores": self.scores.map(|s| json!({
                "spam_report": s[0], "trap_hit": s[1], "ham_report": s[2], "third_party_listing": s[3],
            })),
        })
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} at {} under {}: {}",
            self.subject,
            self.at,
            self.profile,
            if self.listed { "listed" } else { "not listed" }
        )?;
        writeln!(f, "  state: {}", self.state)?;
        if !self.reasons.is_empty() {
            writeln!(f, "  reasons: {}", self.reasons)?;
        }
        if !self.codes.is_empty() {
            let codes: Vec<String> = self.codes.iter().map(ToString::to_string).collect();
            writeln!(f, "  codes: {}", codes.join(" "))?;
        }
        if let Some(s) = self.since {
            writeln!(f, "  since: {s}")?;
        }
        if self.listed {
            match self.until {
                Some(u) => writeln!(f, "  until: {u}")?,
                None => writeln!(f, "  until: no automatic delisting")?,
            }
        }
        if let Some(n) = self.listings.filter(|&n| n > 1) {
            writeln!(f, "  listing {n} (escalated)")?;
        }
        for c in &self.criteria {
            write!(
                f,
                "  fired: {} ({}): {} {}",
                c.name, c.reason, c.evidence, c.of
            )?;
            if let Some(v) = c.value {
                write!(f, ", value {v:.3}")?;
            }
            match c.until {
                Some(u) => writeln!(f, ", until {u}")?,
                None => writeln!(f)?,
            }
        }
        if let Some(u) = self.self_delisted_until {
            writeln!(f, "  self-delisted until {u}")?;
        }
        if let Some(d) = &self.dispute {
            write!(f, "  dispute: {}, filed {}", d.reason, d.filed)?;
            match d.review_by {
                Some(t) => writeln!(f, ", review by {t}")?,
                None => writeln!(f)?,
            }
        }
        if let Some((net, n)) = &self.network {
            writeln!(f, "  network {net}: {n} listed addresses")?;
        }
        if let Some(c) = self.counts {
            writeln!(
                f,
                "  evidence: {} spam reports ({} reporters), {} trap hits, {} release & train, {} other lists",
                c[0], c[4], c[1], c[2], c[3]
            )?;
        }
        if !self.delisted_by.is_empty() {
            writeln!(f, "  would be delisted by:")?;
            for d in &self.delisted_by {
                writeln!(f, "    - {d}")?;
            }
        }
        Ok(())
    }
}
