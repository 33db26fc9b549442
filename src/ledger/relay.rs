//! What a relay provider's ledger keeps beyond scores and counters: per sender, the peak of
//! its rolling message count, its most regular sender→recipient cadence, its largest burst to
//! one recipient, the campaign it shares with other senders; per recipient, how often it
//! could not receive; the latest SPF and domain-ownership results.
//!
//! Only subjects with relay evidence have such a record, so a DNSBL's millions of report
//! sources pay nothing for it.

use super::hash::Map;
use crate::time::Timestamp;
use std::time::Duration;

pub(super) const NEVER: i64 = i64::MIN;
pub(super) const NO_CAMPAIGN: u32 = u32::MAX;
/// The most senders a campaign remembers (more are counted, not kept).
const CAMPAIGN_KEEP: usize = 256;

/// How relay evidence is summarised as it comes in.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::RelayWindows;
/// let w = RelayWindows::default();
/// assert_eq!(w.burst.as_secs(), 600);
/// assert_eq!(w.cadence_tolerance.as_secs(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayWindows {
    /// The window of a burst of messages from one sender to one recipient (mailbombing).
    pub burst: Duration,
    /// How far apart two intervals between messages of one sender→recipient pair may be and
    /// still count as one fixed cadence.
    pub cadence_tolerance: Duration,
}

impl Default for RelayWindows {
    /// Bursts over 10 minutes; a cadence within 5 seconds.
    fn default() -> Self {
        RelayWindows {
            burst: Duration::from_secs(600),
            cadence_tolerance: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) struct RelayRec {
    pub(super) messages: u32,
    pub(super) last_message: i64,
    pub(super) peak: u32,
    pub(super) peak_at: i64,
    pub(super) cadence_recipient: u32,
    pub(super) cadence_repeats: u16,
    pub(super) cadence_failures: u16,
    pub(super) cadence_interval: u32,
    pub(super) cadence_at: i64,
    pub(super) burst: u32,
    pub(super) burst_at: i64,
    pub(super) campaign: u32,
    pub(super) undeliverable: u32,
    pub(super) undeliverable_at: i64,
    pub(super) spf_fail_at: i64,
    pub(super) spf_pass_at: i64,
    pub(super) not_owned_at: i64,
    pub(super) owned_at: i64,
}

impl RelayRec {
    pub(super) const fn new() -> RelayRec {
        RelayRec {
            messages: 0,
            last_message: NEVER,
            peak: 0,
            peak_at: NEVER,
            cadence_recipient: u32::MAX,
            cadence_repeats: 0,
            cadence_failures: 0,
            cadence_interval: 0,
            cadence_at: NEVER,
            burst: 0,
            burst_at: NEVER,
            campaign: NO_CAMPAIGN,
            undeliverable: 0,
            undeliverable_at: NEVER,
            spf_fail_at: NEVER,
            spf_pass_at: NEVER,
            not_owned_at: NEVER,
            owned_at: NEVER,
        }
    }
}

/// One sender→recipient pair.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pair {
    last: i64,
    interval: u32,
    repeats: u16,
    failures: u16,
    burst_start: i64,
    burst: u32,
}

/// A sender address of a campaign: the subject of the message, or the envelope sender
/// it named (an interned name) when the subject is the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Member {
    Subject(u32),
    Name(u32),
}

/// Messages of one content fingerprint from one account or sender domain.
#[derive(Debug, Clone)]
pub(super) struct Campaign {
    senders: Vec<Member>,
    distinct: u32,
    first: i64,
    last: i64,
}

/// The relay side tables of a ledger.
#[derive(Debug, Clone, Default)]
pub(super) struct Relay {
    pub(super) recs: Map<u32, RelayRec>,
    pairs: Map<(u32, u32), Pair>,
    campaigns: Vec<Campaign>,
    campaign_ids: Map<(u32, u32, u8), u32>,
}

/// Which group a campaign is counted in: the authenticated account, else the sender domain.
#[derive(Debug, Clone, Copy)]
pub(super) enum Group {
    Account(u32),
    Domain(u32),
}

impl Relay {
    pub(super) fn rec(&mut self, id: u32) -> &mut RelayRec {
        self.recs.entry(id).or_insert_with(RelayRec::new)
    }

    /// A message from `sender` to `recipient` at `t` (`refused` when the policy server
    /// refused it); `count` is the sender's rolling count of attempts, accepted and
    /// refused, after it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn message(
        &mut self,
        w: &RelayWindows,
        sender: u32,
        recipient: u32,
        campaign: Option<(u32, Group, Member)>,
        t: i64,
        count: u64,
        refused: bool,
    ) {
        let burst_window = i64::try_from(w.burst.as_secs()).unwrap_or(i64::MAX);
        let tol = i64::try_from(w.cadence_tolerance.as_secs()).unwrap_or(i64::MAX);
        let pair = self.pairs.entry((sender, recipient)).or_insert(Pair {
            last: NEVER,
            interval: 0,
            repeats: 0,
            failures: 0,
            burst_start: NEVER,
            burst: 0,
        });
        // cadence: consecutive equal intervals (in arrival order; an older or same-second
        // message does not make or break one)
        if pair.last == NEVER {
            pair.last = t;
            pair.repeats = 1;
        } else if t > pair.last {
            let dt = t - pair.last;
            if pair.interval != 0 && (dt - i64::from(pair.interval)).abs() <= tol {
                pair.repeats = pair.repeats.saturating_add(1);
            } else {
                pair.repeats = 2;
                pair.failures = 0;
            }
            pair.interval = u32::try_from(dt).unwrap_or(u32::MAX);
            pair.last = t;
        }
        // burst: messages within `burst` of the first of the run
        if pair.burst_start == NEVER
            || t < pair.burst_start
            || t.saturating_sub(pair.burst_start) >= burst_window
        {
            pair.burst_start = t;
            pair.burst = 1;
        } else {
            pair.burst = pair.burst.saturating_add(1);
        }
        let p = *pair;
        let cid = campaign.map(|(fp, g, member)| self.join(fp, g, member, t));
        let bigger = |rs: &Relay, old: u32, new: u32| {
            old == NO_CAMPAIGN
                || rs.campaigns[new as usize].distinct >= rs.campaigns[old as usize].distinct
        };
        let old_campaign = self.recs.get(&sender).map_or(NO_CAMPAIGN, |r| r.campaign);
        let take_campaign = cid.filter(|&c| bigger(self, old_campaign, c));
        let r = self.rec(sender);
        if !refused {
            r.messages = r.messages.saturating_add(1);
            r.last_message = r.last_message.max(t);
        }
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        if count >= r.peak {
            r.peak = count;
            r.peak_at = r.peak_at.max(t);
        }
        if p.repeats >= 2 && (p.repeats >= r.cadence_repeats || r.cadence_recipient == recipient) {
            r.cadence_recipient = recipient;
            r.cadence_repeats = p.repeats;
            r.cadence_failures = p.failures;
            r.cadence_interval = p.interval;
            r.cadence_at = p.last;
        }
        if p.burst >= r.burst || t.saturating_sub(r.burst_at) > 86_400 {
            r.burst = p.burst;
            r.burst_at = t;
        }
        if let Some(c) = take_campaign {
            r.campaign = c;
        }
    }

    fn join(&mut self, fp: u32, g: Group, sender: Member, t: i64) -> u32 {
        let key = match g {
            Group::Account(a) => (fp, a, 0),
            Group::Domain(d) => (fp, d, 1),
        };
        let next = self.campaigns.len() as u32;
        let id = *self.campaign_ids.entry(key).or_insert(next);
        if id == next {
            self.campaigns.push(Campaign {
                senders: Vec::new(),
                distinct: 0,
                first: t,
                last: t,
            });
        }
        let c = &mut self.campaigns[id as usize];
        if !c.senders.contains(&sender) {
            c.distinct = c.distinct.saturating_add(1);
            if c.senders.len() < CAMPAIGN_KEEP {
                c.senders.push(sender);
            }
        }
        c.first = c.first.min(t);
        c.last = c.last.max(t);
        id
    }

    /// A failed delivery of a message from `sender` to `recipient`.
    pub(super) fn failure(&mut self, sender: u32, recipient: u32) {
        let Some(p) = self.pairs.get_mut(&(sender, recipient)) else {
            return;
        };
        p.failures = p.failures.saturating_add(1);
        let f = p.failures;
        if let Some(r) = self.recs.get_mut(&sender) {
            if r.cadence_recipient == recipient {
                r.cadence_failures = f;
            }
        }
    }

    /// Forgets what a subject's own messages built up — the escalation peak, its bursts,
    /// cadences and campaign — when an operator unlists it (SPF and domain ownership
    /// results stay: they are about its domain).
    pub(super) fn reset_escalation(&mut self, id: u32) {
        if let Some(r) = self.recs.get_mut(&id) {
            r.peak = 0;
            r.peak_at = NEVER;
            r.burst = 0;
            r.burst_at = NEVER;
            r.cadence_recipient = u32::MAX;
            r.cadence_repeats = 0;
            r.cadence_failures = 0;
            r.cadence_interval = 0;
            r.cadence_at = NEVER;
            r.campaign = NO_CAMPAIGN;
            self.pairs.retain(|&(sender, _), _| sender != id);
        }
    }

    pub(super) fn facts(&self, id: u32) -> Option<RelayFacts> {
        let r = self.recs.get(&id)?;
        let opt = |t: i64| (t != NEVER).then(|| super::state::ts(t));
        let campaign = (r.campaign != NO_CAMPAIGN).then(|| {
            let c = &self.campaigns[r.campaign as usize];
            CampaignFacts {
                senders: c.distinct,
                first: super::state::ts(c.first),
                last: super::state::ts(c.last),
            }
        });
        Some(RelayFacts {
            messages: r.messages,
            last_message: opt(r.last_message),
            peak: r.peak,
            peak_at: opt(r.peak_at),
            cadence: (r.cadence_at != NEVER).then(|| Cadence {
                repeats: u32::from(r.cadence_repeats),
                interval: Duration::from_secs(u64::from(r.cadence_interval)),
                failures: u32::from(r.cadence_failures),
                last: super::state::ts(r.cadence_at),
            }),
            burst: r.burst,
            burst_at: opt(r.burst_at),
            campaign,
            undeliverable: r.undeliverable,
            undeliverable_at: opt(r.undeliverable_at),
            spf_fail: (r.spf_fail_at > r.spf_pass_at).then(|| super::state::ts(r.spf_fail_at)),
            not_owned: (r.not_owned_at > r.owned_at).then(|| super::state::ts(r.not_owned_at)),
        })
    }

    pub(super) fn heap_bytes(&self) -> usize {
        use super::hash::map_bytes;
        map_bytes(&self.recs)
            + map_bytes(&self.pairs)
            + map_bytes(&self.campaign_ids)
            + self.campaigns.capacity() * std::mem::size_of::<Campaign>()
            + self
                .campaigns
                .iter()
                .map(|c| c.senders.capacity() * std::mem::size_of::<Member>())
                .sum::<usize>()
    }
}

/// A sender→recipient pair repeated on a fixed cadence.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Evidence, Ledger};
/// use std::time::Duration;
/// let mut l = Ledger::new(Default::default());
/// let s: rblkit::Subject = "bot@sender.example.com".parse()?;
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// for i in 0..4 {
///     l.apply(&Event::new(t + Duration::from_secs(60 * i), s.clone(),
///         Evidence::Message { recipient: "victim@example.net".into(), sasl_username: None, fingerprint: None, sender: None, refused: false }));
/// }
/// let c = l.relay_facts(&s).unwrap().cadence.unwrap();
/// assert_eq!((c.repeats, c.interval.as_secs()), (4, 60));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cadence {
    /// Messages in the run (2 or more: the first interval takes two).
    pub repeats: u32,
    /// The interval between them.
    pub interval: Duration,
    /// Failed deliveries of the pair during the run.
    pub failures: u32,
    /// The latest message of the run.
    pub last: Timestamp,
}

/// A campaign: one content fingerprint from several sender addresses of one account or
/// domain.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// let l = Ledger::new(Default::default());
/// assert!(l.relay_facts(&"a@b.example.com".parse()?).is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CampaignFacts {
    /// Distinct sender addresses.
    pub senders: u32,
    /// The first message.
    pub first: Timestamp,
    /// The latest message.
    pub last: Timestamp,
}

/// A subject's relay evidence, summarised ([`Ledger::relay_facts`](super::Ledger::relay_facts)).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Evidence, Ledger};
/// let mut l = Ledger::new(Default::default());
/// let s: rblkit::Subject = "a@shop.example.com".parse()?;
/// l.apply(&Event::new("2026-11-20T10:00:00Z".parse()?, s.clone(),
///     Evidence::Message { recipient: "r@example.net".into(), sasl_username: None, fingerprint: None, sender: None, refused: false }));
/// let f = l.relay_facts(&s).unwrap();
/// assert_eq!((f.messages, f.peak), (1, 1));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RelayFacts {
    /// Messages accepted from the subject, ever.
    pub messages: u32,
    /// The latest of them.
    pub last_message: Option<Timestamp>,
    /// The highest count of the subject's rolling window of attempts (messages accepted
    /// and refused) seen at a message (kept until an operator unlists the subject).
    pub peak: u32,
    /// When that peak was reached.
    pub peak_at: Option<Timestamp>,
    /// The subject's most regular sender→recipient cadence.
    pub cadence: Option<Cadence>,
    /// The most messages from the subject to one recipient within one burst window.
    pub burst: u32,
    /// When that burst was seen.
    pub burst_at: Option<Timestamp>,
    /// The largest campaign the subject sent in.
    pub campaign: Option<CampaignFacts>,
    /// Deliveries to the subject (as a recipient) that failed because it cannot receive mail.
    pub undeliverable: u32,
    /// The latest of them.
    pub undeliverable_at: Option<Timestamp>,
    /// The latest SPF result that did not authorise the subject's mail, when no later one
    /// passed.
    pub spf_fail: Option<Timestamp>,
    /// The latest result saying the subject does not own its domain, when no later one says
    /// it does.
    pub not_owned: Option<Timestamp>,
}
