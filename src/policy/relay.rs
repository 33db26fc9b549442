//! The relay provider's criteria: per-server lists of blocked senders and recipients.
//!
//! The sender identity of a `message` event is its subject (the producer puts there the
//! SASL user name when there is one, else the envelope sender). A `message` event counts in
//! [`Counter::Messages`] whatever became of the message after the relay accepted it; one the
//! policy server refused (`refused`) counts in [`Counter::Refused`] instead, which the rate
//! limit leaves out and the escalation ([`KeptSending`]) counts.

use super::criteria::{hours, Criterion, Facts, Fired};
use crate::codes::Reason;
use crate::ledger::{Counter, SmtpOutcome};
use crate::subject::Subject;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

/// More than `limit` messages in the rolling window of [`Counter::Messages`] (one hour by
/// default) from one sender identity: listed (temporarily) while the window holds `limit` or
/// more, so the message after the `limit`-th is refused.
///
/// # Examples
///
/// ```
/// use rblkit::policy::RateLimit;
/// assert_eq!(RateLimit::default().limit, 300);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Messages allowed per window.
    pub limit: u64,
}

impl Default for RateLimit {
    /// 300 messages (per rolling hour with the default counter window).
    fn default() -> Self {
        RateLimit { limit: 300 }
    }
}

impl Criterion for RateLimit {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let n = f.count(Counter::Messages);
        (n >= self.limit).then(|| {
            // at the latest when the newest message leaves the window
            let until = f
                .relay()
                .and_then(|r| r.last_message)
                .map(|t| t + f.window(Counter::Messages));
            Fired::new(Reason::RateLimit, until).with_evidence(n, "messages in the rolling window")
        })
    }

    fn delisted_when(&self) -> String {
        format!("fewer than {} messages in the rolling window", self.limit)
    }
}

/// Whoever kept sending after being blocked by the rate limit: a rolling count that reached
/// `limit + grace` lists the sender with a distinct reason and no end (until an operator
/// unlists it, which forgets the peak) — the temporary block becomes permanent.
///
/// # Examples
///
/// ```
/// use rblkit::policy::KeptSending;
/// let k = KeptSending::default();
/// assert_eq!((k.limit, k.grace), (300, 30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeptSending {
    /// The rate limit it escalates.
    pub limit: u32,
    /// Messages tried while blocked before the block becomes permanent.
    pub grace: u32,
}

impl Default for KeptSending {
    /// After 30 more messages than the 300 allowed.
    fn default() -> Self {
        KeptSending {
            limit: 300,
            grace: 30,
        }
    }
}

impl Criterion for KeptSending {
    fn name(&self) -> &'static str {
        "kept_sending"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let r = f.relay()?;
        (r.peak >= self.limit.saturating_add(self.grace)).then(|| {
            Fired::new(Reason::KeptSending, None).with_evidence(
                u64::from(r.peak - self.limit),
                "messages tried while blocked",
            )
        })
    }

    fn delisted_when(&self) -> String {
        "an operator unlists it (the block is permanent)".to_string()
    }
}

/// Many messages to recipients that do not exist: in the window of
/// [`Counter::NoSuchUser`], at least `min` such outcomes and at least `ratio` of all outcomes.
///
/// # Examples
///
/// ```
/// use rblkit::policy::NonexistentRecipients;
/// let c = NonexistentRecipients::default();
/// assert_eq!((c.min, c.ratio), (20, 0.3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct NonexistentRecipients {
    /// The fewest such outcomes.
    pub min: u64,
    /// The least share of all outcomes (0 to 1).
    pub ratio: f64,
}

impl Default for NonexistentRecipients {
    /// 20 or more, and 30 % or more of the outcomes.
    fn default() -> Self {
        NonexistentRecipients {
            min: 20,
            ratio: 0.3,
        }
    }
}

impl Criterion for NonexistentRecipients {
    fn name(&self) -> &'static str {
        "nonexistent_recipients"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let bad = f.count(Counter::NoSuchUser);
        if bad < self.min {
            return None;
        }
        let all: u64 = SmtpOutcome::ALL
            .iter()
            .map(|&o| f.count(Counter::from(o)))
            .sum();
        let ratio = bad as f64 / all.max(1) as f64;
        (ratio >= self.ratio).then(|| {
            let until = Some(f.reputation().last_seen + f.window(Counter::NoSuchUser));
            Fired::new(Reason::NonexistentRecipients, until)
                .with_evidence(bad, "messages to non-existent recipients in the window")
                .with_value(ratio)
        })
    }

    fn delisted_when(&self) -> String {
        format!(
            "fewer than {} bounces for non-existent recipients, or under {:.0} % of the outcomes, in the window",
            self.min,
            self.ratio * 100.0
        )
    }
}

/// One campaign (one content fingerprint) from several sender addresses of one account or
/// sender domain (sender1, sender2, …): every one of them is listed, together, once `min`
/// distinct senders sent it, until `linger` after its latest message.
///
/// # Examples
///
/// ```
/// use rblkit::policy::SenderRotation;
/// assert_eq!(SenderRotation::default().min_senders, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SenderRotation {
    /// The fewest distinct senders.
    pub min_senders: u32,
    /// How long after the campaign's latest message the listing lasts.
    pub linger: Duration,
}

impl Default for SenderRotation {
    /// 3 senders; a day after the latest message.
    fn default() -> Self {
        SenderRotation {
            min_senders: 3,
            linger: DAY,
        }
    }
}

impl Criterion for SenderRotation {
    fn name(&self) -> &'static str {
        "sender_rotation"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let c = f.relay()?.campaign?;
        let until = c.last + self.linger;
        (c.senders >= self.min_senders && f.now() < until).then(|| {
            Fired::new(Reason::SenderRotation, Some(until))
                .with_evidence(c.senders.into(), "sender addresses sending one campaign")
        })
    }

    fn delisted_when(&self) -> String {
        format!("no message of the campaign for {}", hours(self.linger))
    }
}

/// The same sender→recipient pair repeated on a fixed cadence (every minute, say) while
/// deliveries fail: at least `min_repeats` messages at one interval of at most
/// `max_interval`, with at least `min_failures` failed deliveries during the run.
///
/// # Examples
///
/// ```
/// use rblkit::policy::FixedCadence;
/// assert_eq!(FixedCadence::default().min_repeats, 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FixedCadence {
    /// The fewest messages in the run.
    pub min_repeats: u32,
    /// The longest interval that counts.
    pub max_interval: Duration,
    /// The fewest failed deliveries.
    pub min_failures: u32,
    /// How long after the run's latest message the listing lasts.
    pub linger: Duration,
}

impl Default for FixedCadence {
    /// 5 messages, at most an hour apart, 1 failure; a day after the latest.
    fn default() -> Self {
        FixedCadence {
            min_repeats: 5,
            max_interval: Duration::from_secs(3600),
            min_failures: 1,
            linger: DAY,
        }
    }
}

impl Criterion for FixedCadence {
    fn name(&self) -> &'static str {
        "fixed_cadence"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let c = f.relay()?.cadence?;
        let until = c.last + self.linger;
        (c.repeats >= self.min_repeats
            && c.interval <= self.max_interval
            && c.failures >= self.min_failures
            && f.now() < until)
            .then(|| {
                Fired::new(Reason::RepetitiveMail, Some(until)).with_evidence(
                    c.repeats.into(),
                    "messages to one recipient at a fixed interval",
                )
            })
    }

    fn delisted_when(&self) -> String {
        format!("no repeat for {}", hours(self.linger))
    }
}

/// Mailbombing: at least `min` messages from one sender to one recipient within one burst
/// window ([`RelayWindows::burst`](crate::ledger::RelayWindows), 10 minutes by default).
///
/// # Examples
///
/// ```
/// use rblkit::policy::Mailbomb;
/// assert_eq!(Mailbomb::default().min, 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mailbomb {
    /// The fewest messages in the burst.
    pub min: u32,
    /// How long after the burst the listing lasts.
    pub linger: Duration,
}

impl Default for Mailbomb {
    /// 30 messages; a day after.
    fn default() -> Self {
        Mailbomb {
            min: 30,
            linger: DAY,
        }
    }
}

impl Criterion for Mailbomb {
    fn name(&self) -> &'static str {
        "mailbomb"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let r = f.relay()?;
        let until = r.burst_at? + self.linger;
        (r.burst >= self.min && f.now() < until).then(|| {
            Fired::new(Reason::Mailbombing, Some(until))
                .with_evidence(r.burst.into(), "messages to one recipient in one burst")
        })
    }

    fn delisted_when(&self) -> String {
        format!("no burst for {}", hours(self.linger))
    }
}

/// A recipient that cannot receive mail (`cannot_receive` outcomes naming it): listed on the
/// relay's recipient list after `min` such outcomes, until `linger` after the latest.
///
/// # Examples
///
/// ```
/// use rblkit::policy::UndeliverableRecipient;
/// assert_eq!(UndeliverableRecipient::default().min, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UndeliverableRecipient {
    /// The fewest failed deliveries.
    pub min: u32,
    /// How long after the latest the listing lasts.
    pub linger: Duration,
}

impl Default for UndeliverableRecipient {
    /// 2 failures; 7 days after the latest.
    fn default() -> Self {
        UndeliverableRecipient {
            min: 2,
            linger: 7 * DAY,
        }
    }
}

impl Criterion for UndeliverableRecipient {
    fn name(&self) -> &'static str {
        "undeliverable_recipient"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let r = f.relay()?;
        let until = r.undeliverable_at? + self.linger;
        (r.undeliverable >= self.min && f.now() < until).then(|| {
            Fired::new(Reason::UndeliverableRecipient, Some(until)).with_evidence(
                r.undeliverable.into(),
                "deliveries that failed because the recipient cannot receive mail",
            )
        })
    }

    fn delisted_when(&self) -> String {
        format!("no failed delivery to it for {}", hours(self.linger))
    }
}

/// The reserved top-level names that never take mail (RFC 2606, RFC 6761).
pub const RESERVED_TLDS: &[&str] = &["localhost", "invalid", "test", "example"];

/// Whether a sender address is invalid for mail: its domain has no dot (`root@localhost`,
/// `user@mailhost`) or ends in a reserved top-level name ([`RESERVED_TLDS`]). The null sender
/// `<>` is no address, so never invalid.
///
/// # Examples
///
/// ```
/// use rblkit::policy::is_invalid_sender;
/// assert!(is_invalid_sender("root@localhost"));
/// assert!(is_invalid_sender("a@host.invalid"));
/// assert!(is_invalid_sender("a@mailhost"));
/// assert!(!is_invalid_sender("a@example.com"));
/// assert!(!is_invalid_sender(""));
/// assert!(!is_invalid_sender("<>"));
/// ```
pub fn is_invalid_sender(addr: &str) -> bool {
    let addr = addr.trim_start_matches('<').trim_end_matches('>');
    let Some((_, domain)) = addr.rsplit_once('@') else {
        return false; // the null sender, or no address at all
    };
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    match domain.rsplit_once('.') {
        None => true,
        Some((_, tld)) => RESERVED_TLDS.contains(&tld),
    }
}

/// A sender identity that is no valid sender address ([`is_invalid_sender`]) and sent
/// through the relay: listed for as long as it sends (it never becomes valid).
///
/// # Examples
///
/// ```
/// use rblkit::policy::{Criterion, InvalidSender};
/// assert_eq!(InvalidSender.name(), "invalid_sender");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InvalidSender;

impl Criterion for InvalidSender {
    fn name(&self) -> &'static str {
        "invalid_sender"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let Subject::Email(a) = f.subject() else {
            return None;
        };
        let r = f.relay()?;
        let d = a.domain().as_str();
        let invalid = match d.rsplit_once('.') {
            None => true,
            Some((_, tld)) => RESERVED_TLDS.contains(&tld),
        };
        (invalid && r.messages > 0).then(|| {
            Fired::new(Reason::InvalidSender, None)
                .with_evidence(r.messages.into(), "messages from an invalid sender address")
        })
    }

    fn delisted_when(&self) -> String {
        "an operator unlists it, or allowlists it".to_string()
    }
}

/// The sender domain's SPF record did not authorise the sending (`spf_result` events with
/// `fail` or `softfail`, and no later `pass`): listed until `linger` after the latest.
///
/// # Examples
///
/// ```
/// use rblkit::policy::SpfNotAuthorised;
/// assert_eq!(SpfNotAuthorised::default().linger.as_secs(), 86_400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpfNotAuthorised {
    /// How long after the latest failing result the listing lasts.
    pub linger: Duration,
}

impl Default for SpfNotAuthorised {
    /// A day.
    fn default() -> Self {
        SpfNotAuthorised { linger: DAY }
    }
}

impl Criterion for SpfNotAuthorised {
    fn name(&self) -> &'static str {
        "spf_not_authorised"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let until = f.relay()?.spf_fail? + self.linger;
        (f.now() < until).then(|| {
            Fired::new(Reason::SpfNotAuthorized, Some(until))
                .with_evidence(1, "SPF results not authorising the relay")
        })
    }

    fn delisted_when(&self) -> String {
        format!(
            "an SPF pass, or no failing SPF result for {}",
            hours(self.linger)
        )
    }
}

/// Mail from a domain the sender does not own (`domain_ownership` events with `not_owned`,
/// and no later `owned`): listed until `linger` after the latest.
///
/// # Examples
///
/// ```
/// use rblkit::policy::DomainNotOwned;
/// assert_eq!(DomainNotOwned::default().linger.as_secs(), 7 * 86_400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DomainNotOwned {
    /// How long after the latest result the listing lasts.
    pub linger: Duration,
}

impl Default for DomainNotOwned {
    /// 7 days.
    fn default() -> Self {
        DomainNotOwned { linger: 7 * DAY }
    }
}

impl Criterion for DomainNotOwned {
    fn name(&self) -> &'static str {
        "domain_not_owned"
    }

    fn evaluate(&self, f: &Facts<'_>) -> Option<Fired> {
        let until = f.relay()?.not_owned? + self.linger;
        (f.now() < until).then(|| {
            Fired::new(Reason::ForgedSender, Some(until))
                .with_evidence(1, "results saying the sender does not own the domain")
        })
    }

    fn delisted_when(&self) -> String {
        format!(
            "a result saying it owns the domain, or none saying otherwise for {}",
            hours(self.linger)
        )
    }
}
