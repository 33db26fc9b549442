//! The decision: a policy request, the ledger and the config in; a reply and the evidence
//! to record out. The listing criteria are the relay profile's ([`Policy::relay_with`]);
//! this adds what only a request shows (its sender text, its recipient, its client's DNS
//! list score) and the per-message bookkeeping of Postfix's `instance`.

use super::config::{Counting, PolicyConfig};
use super::reply::{Action, RefusalReason};
use super::request::{Request, Stage};
use crate::codes::Reason;
use crate::ledger::hash::Map;
use crate::ledger::{Event, Evidence, Ledger, LedgerCounters};
use crate::policy::{is_invalid_sender, Policy};
use crate::subject::Subject;
use crate::time::Timestamp;

/// What the DNS lists said about a request's client: the sum of the weights of the lists
/// whose answer matched, and those lists.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::DnsScore;
/// let mut s = DnsScore::default();
/// s.score += 3;
/// s.listed_on.push("zen.example.org".into());
/// assert_eq!(s.score, 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsScore {
    /// The sum of the matching lists' weights.
    pub score: i32,
    /// The zones that matched.
    pub listed_on: Vec<Box<str>>,
}

/// A decision: the action to answer, why, whose, and whether the request was counted.
///
/// # Examples
///
/// See [`Decider`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// The answer.
    pub action: Action,
    /// Why it refuses (`None` for `DUNNO`).
    pub reason: Option<RefusalReason>,
    /// The sender identity judged (sasl_username, else the envelope sender, else for the
    /// null sender the client address).
    pub identity: Option<Subject>,
    /// The `message` event to record before the answer is given, when the request counts.
    pub event: Option<Event>,
    /// How many times [`Verdict::event`] is recorded: at END-OF-MESSAGE with
    /// [`Counting::EndOfMessage`], the message's `recipient_count` when it is accepted (a
    /// refused try counts once); otherwise 1.
    pub count: u32,
}

/// The identity part of a decision, kept per message (`instance`) so that every recipient
/// of one message gets the same answer.
#[derive(Debug, Clone)]
struct Seen {
    at: i64,
    identity: Option<Subject>,
    refusal: Option<(RefusalReason, Action)>,
}

/// The most messages remembered by `instance` before old ones are dropped.
const SEEN_KEEP: usize = 100_000;
/// How long a message is remembered by `instance` (Postfix's SMTP session limits are far
/// below this).
const SEEN_SECS: i64 = 3600;

/// Decides policy requests: the config, the relay policy built from it, and the messages
/// seen by `instance`. It reads the ledger it is given and never writes it: the caller
/// records [`Verdict::event`] (durably) before it answers.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::smtp::{Action, Decider, PolicyConfig, RefusalReason, Request};
/// let mut d = Decider::new(PolicyConfig::default());
/// let mut ledger = Ledger::new(Default::default());
/// let now = "2026-11-20T10:00:00Z".parse()?;
/// let rcpt = |sender: &str, instance: &str| Request::new(&[("request", "smtpd_access_policy"),
///     ("protocol_state", "RCPT"), ("instance", instance), ("client_address", "192.0.2.1"),
///     ("sender", sender), ("recipient", "r@example.net")]);
/// let v = d.decide(&ledger, &rcpt("a@shop.example.com", "1.1")?, None, now);
/// assert_eq!(v.action, Action::Dunno);
/// ledger.apply(v.event.as_ref().unwrap()); // counted once …
/// assert!(d.decide(&ledger, &rcpt("a@shop.example.com", "1.1")?, None, now).event.is_none()); // … per message
/// let v = d.decide(&ledger, &rcpt("root@localhost", "2.1")?, None, now);
/// assert_eq!(v.reason, Some(RefusalReason::InvalidSender));
/// assert_eq!(v.action.reply().unwrap().code(), 553);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug)]
pub struct Decider {
    config: PolicyConfig,
    policy: Policy,
    seen: Map<Box<[u8]>, Seen>,
    lists: Option<super::LocalLists>,
}

impl Decider {
    /// A decider for this config.
    pub fn new(config: PolicyConfig) -> Decider {
        let policy =
            Policy::relay_tuned(config.rate, config.kept_sending, config.campaign.rotation());
        Decider {
            config,
            policy,
            seen: Map::default(),
            lists: None,
        }
    }

    /// This decider with in-process lists: the config's DNS lists whose zones `lists`
    /// holds are looked up there, not over DNS (by the server; whoever calls
    /// [`Decider::decide`] passes [`LocalLists::score`](super::LocalLists::score)).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::{Decider, LocalLists, PolicyConfig};
    /// let d = Decider::new(PolicyConfig::default()).with_lists(LocalLists::new());
    /// assert!(d.lists().is_some());
    /// ```
    pub fn with_lists(mut self, lists: super::LocalLists) -> Decider {
        self.lists = Some(lists);
        self
    }

    /// The in-process lists, when given.
    pub fn lists(&self) -> Option<&super::LocalLists> {
        self.lists.as_ref()
    }

    /// The policy the ledger is judged with (the store applies events with it too).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The config.
    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// The sender identity of a request: `sasl_username` when authenticated, else the
    /// envelope sender, else (the null sender) the client address; `None` when none of
    /// them is a subject.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::{Decider, Request};
    /// let r = Request::new(&[("request", "smtpd_access_policy"), ("sender", ""), ("client_address", "192.0.2.9")])?;
    /// assert_eq!(Decider::identity(&r).unwrap().to_string(), "192.0.2.9");
    /// let r = Request::new(&[("request", "smtpd_access_policy"), ("sender", "a@x.example.com"), ("sasl_username", "alice@x.example.com")])?;
    /// assert_eq!(Decider::identity(&r).unwrap().to_string(), "alice@x.example.com");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn identity(req: &Request) -> Option<Subject> {
        let user = req.sasl_username();
        if !user.is_empty() {
            if let Ok(s) = user.parse() {
                return Some(s);
            }
        }
        let sender = req.sender();
        if sender.is_empty() {
            return req.client_address().map(Subject::Ip);
        }
        sender.parse().ok()
    }

    /// Decides a request at `now` on `ledger`, with the client's DNS list score when the
    /// config has lists.
    pub fn decide<C: LedgerCounters>(
        &mut self,
        ledger: &Ledger<C>,
        req: &Request,
        dns: Option<&DnsScore>,
        now: Timestamp,
    ) -> Verdict {
        let dunno = |identity| Verdict {
            action: Action::Dunno,
            reason: None,
            identity,
            event: None,
            count: 1,
        };
        if self.passes(req) {
            return dunno(None);
        }
        let c = &self.config;
        let rcpt_stage = req.stage().is_none_or(|s| s == Stage::Rcpt);
        let counts_here = match c.counting {
            Counting::PerMessage | Counting::PerRecipient => rcpt_stage,
            Counting::EndOfMessage => req.is_stage(&Stage::EndOfMessage),
        };
        // per message: the first RCPT request of an instance decides for the identity
        let key = (c.counting == Counting::PerMessage && rcpt_stage && !req.instance().is_empty())
            .then(|| instance_key(req));
        let t = now.unix_seconds();
        let cached = key.as_ref().and_then(|k| self.seen.get(k)).cloned();
        let first = cached.is_none();
        let seen = match cached {
            Some(s) => s,
            None => {
                let identity = Decider::identity(req);
                let refusal = self.judge_identity(ledger, req, identity.as_ref(), dns, now);
                Seen {
                    at: t,
                    identity,
                    refusal,
                }
            }
        };
        let counted = counts_here && first && seen.identity.is_some();
        let mut event = counted.then(|| {
            let identity = seen.identity.clone().expect("checked");
            let recipient: Box<str> = match req.recipient() {
                "" => format!("({} recipients)", req.recipient_count().unwrap_or(0)).into(),
                r => r.into(),
            };
            let user = req.sasl_username();
            let sender = req.sender();
            Event::new(
                now,
                identity,
                Evidence::Message {
                    recipient,
                    sasl_username: (!user.is_empty()).then(|| user.into()),
                    fingerprint: self.config.campaign.key(user, req.client_address(), t),
                    // the account is the subject: the campaign counts the envelope sender
                    sender: (!user.is_empty() && !sender.is_empty()).then(|| sender.into()),
                    refused: false,
                },
            )
        });
        if let Some(k) = key {
            if first {
                if self.seen.len() >= SEEN_KEEP {
                    self.seen.retain(|_, s| t.saturating_sub(s.at) < SEEN_SECS);
                    if self.seen.len() >= SEEN_KEEP {
                        self.seen.clear();
                    }
                }
                self.seen.insert(k, seen.clone());
            }
        }
        // at END-OF-MESSAGE a message counts its recipients: refused when they do not all
        // fit in what is left of the limit, and then not recorded (the sender is not over
        // the limit; a smaller message may still fit)
        let n = eom_recipients(c.counting, req);
        let does_not_fit = match (&seen.refusal, &seen.identity) {
            (None, Some(id)) if n > 1 => {
                let count = ledger.count(id, crate::ledger::Counter::Messages, now);
                (count + u64::from(n) > c.rate.limit)
                    .then(|| self.refuse(RefusalReason::RateLimit, None))
            }
            _ => None,
        };
        if does_not_fit.is_some() {
            event = None;
        }
        let (reason, action) = match seen.refusal.clone().or(does_not_fit) {
            Some((r, a)) => (Some(r), a),
            None => match self.judge_recipient(ledger, req, now) {
                Some((r, a)) => (Some(r), a),
                None => (None, Action::Dunno),
            },
        };
        // a refused message is an attempt: it consumes no quota, and it counts towards
        // the escalation of whoever keeps sending
        if let (
            Some(_),
            Some(Event {
                evidence: Evidence::Message { refused, .. },
                ..
            }),
        ) = (reason, event.as_mut())
        {
            *refused = true;
        }
        Verdict {
            action,
            reason,
            identity: seen.identity,
            event,
            count: if reason.is_none() { n } else { 1 },
        }
    }

    /// Whether [`Decider::decide`] would refuse this request on `ledger` as it stands,
    /// without remembering anything (the server asks before it counts a message in Redis).
    pub(super) fn refuses<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        req: &Request,
        dns: Option<&DnsScore>,
        now: Timestamp,
    ) -> bool {
        if self.passes(req) {
            return false;
        }
        let c = &self.config;
        let rcpt_stage = req.stage().is_none_or(|s| s == Stage::Rcpt);
        let seen = (c.counting == Counting::PerMessage && rcpt_stage && !req.instance().is_empty())
            .then(|| instance_key(req))
            .and_then(|k| self.seen.get(&k));
        let identity_refused = match seen {
            Some(s) => s.refusal.is_some(),
            None => self
                .judge_identity(ledger, req, Decider::identity(req).as_ref(), dns, now)
                .is_some(),
        };
        identity_refused || self.judge_recipient(ledger, req, now).is_some()
    }

    /// Whether a request is exempt or allowed by the config (answered `DUNNO`, not counted).
    fn passes(&self, req: &Request) -> bool {
        let c = &self.config;
        req.client_address()
            .is_some_and(|ip| c.exempt_networks.contains(ip) || c.allow_clients.contains(ip))
            || c.is_exempt_user(req.sasl_username())
            || (!req.sender().is_empty() && c.allow_senders.matches(req.sender()))
    }

    /// Whether [`Decider::decide`] would count this request (give a [`Verdict::event`]),
    /// known before the ledger is read: the server answers the requests that do not count
    /// without a transaction.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::{Decider, PolicyConfig, Request};
    /// let d = Decider::new(PolicyConfig::default());
    /// let r = Request::new(&[("request", "smtpd_access_policy"), ("protocol_state", "RCPT"),
    ///     ("instance", "9"), ("sender", "a@shop.example.com"), ("recipient", "r@example.net")])?;
    /// assert!(d.counts(&r));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn counts(&self, req: &Request) -> bool {
        if self.passes(req) {
            return false;
        }
        let c = &self.config;
        let rcpt_stage = req.stage().is_none_or(|s| s == Stage::Rcpt);
        let here = match c.counting {
            Counting::PerMessage => {
                rcpt_stage
                    && (req.instance().is_empty() || !self.seen.contains_key(&instance_key(req)))
            }
            Counting::PerRecipient => rcpt_stage,
            Counting::EndOfMessage => req.is_stage(&Stage::EndOfMessage),
        };
        here && Decider::identity(req).is_some()
    }

    fn refuse(&self, r: RefusalReason, detail: Option<String>) -> (RefusalReason, Action) {
        let reply = self.config.replies.get(r);
        let reply = match detail {
            Some(d) if self.config.show_evidence => reply.with_detail(&d),
            _ => reply.clone(),
        };
        (r, Action::Refuse(reply))
    }

    fn judge_identity<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        req: &Request,
        identity: Option<&Subject>,
        dns: Option<&DnsScore>,
        now: Timestamp,
    ) -> Option<(RefusalReason, Action)> {
        let sender = req.sender();
        if !sender.is_empty() && (is_invalid_sender(sender) || !sender.contains('@')) {
            return Some(self.refuse(RefusalReason::InvalidSender, None));
        }
        if self.config.blocked_senders.matches(sender) {
            return Some(self.refuse(RefusalReason::BlockedSender, None));
        }
        if let Some(d) = dns {
            if !self.config.dns.lists.is_empty() && d.score >= self.config.dns.threshold {
                let detail = format!("score {} on {}", d.score, d.listed_on.join(", "));
                return Some(self.refuse(RefusalReason::DnsList, Some(detail)));
            }
        }
        let identity = identity?;
        let d = self.policy.decide(ledger, identity, now);
        if !d.listed {
            return None;
        }
        let reason = if d.reasons.contains(Reason::KeptSending) {
            RefusalReason::KeptSending
        } else if d.reasons.contains(Reason::RateLimit) {
            RefusalReason::RateLimit
        } else if d.reasons.contains(Reason::InvalidSender) {
            RefusalReason::InvalidSender
        } else if d.expires.is_none() {
            RefusalReason::ListedPermanently
        } else {
            RefusalReason::Listed
        };
        let detail = d
            .evidence
            .iter()
            .find(|f| f.evidence > 0)
            .map(|f| format!("{} {}", f.evidence, f.of));
        Some(self.refuse(reason, detail))
    }

    fn judge_recipient<C: LedgerCounters>(
        &self,
        ledger: &Ledger<C>,
        req: &Request,
        now: Timestamp,
    ) -> Option<(RefusalReason, Action)> {
        let rcpt = req.recipient();
        if rcpt.is_empty() {
            return None;
        }
        if self.config.blocked_recipients.matches(rcpt) {
            return Some(self.refuse(RefusalReason::BlockedRecipient, None));
        }
        let s: Subject = rcpt.parse().ok()?;
        ledger.id(&s)?;
        let d = self.policy.decide(ledger, &s, now);
        (d.listed && d.reasons.contains(Reason::UndeliverableRecipient)).then(|| {
            let detail = d
                .evidence
                .iter()
                .find(|f| f.reason == Reason::UndeliverableRecipient)
                .map(|f| format!("{} {}", f.evidence, f.of));
            self.refuse(RefusalReason::UndeliverableRecipient, detail)
        })
    }
}

/// How many messages a request counts for: at END-OF-MESSAGE with end-of-message counting,
/// its `recipient_count` (at least 1); otherwise 1.
pub(super) fn eom_recipients(counting: Counting, req: &Request) -> u32 {
    if counting == Counting::EndOfMessage && req.is_stage(&Stage::EndOfMessage) {
        req.recipient_count().unwrap_or(1).max(1)
    } else {
        1
    }
}

/// A message's key: its `instance`, client address (16 octets; none: zeros) and sender.
/// The server's own de-duplication and the shared counters (Redis) use the same key.
pub(super) fn instance_key(req: &Request) -> Box<[u8]> {
    let (inst, sender) = (req.instance().as_bytes(), req.sender().as_bytes());
    let ip = match req.client_address() {
        Some(std::net::IpAddr::V4(a)) => a.to_ipv6_mapped().octets(),
        Some(std::net::IpAddr::V6(a)) => a.octets(),
        None => [0; 16],
    };
    let mut k = Vec::with_capacity(inst.len() + 17 + sender.len());
    k.extend_from_slice(inst);
    k.push(0);
    k.extend_from_slice(&ip);
    k.extend_from_slice(sender);
    k.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Counter, Ledger};

    fn rcpt(i: u32) -> Request {
        let (inst, to) = (format!("m{i}"), format!("r{i}@example.net"));
        Request::new(&[
            ("request", "smtpd_access_policy"),
            ("protocol_state", "RCPT"),
            ("instance", &inst),
            ("sender", "a@shop.example.com"),
            ("recipient", &to),
        ])
        .unwrap()
    }

    /// Decides and records as the server does; the answer's first word.
    fn send(d: &mut Decider, l: &mut Ledger, i: u32, secs: i64) -> String {
        let v = d.decide(l, &rcpt(i), None, Timestamp::from_unix_assert(secs));
        if let Some(e) = &v.event {
            l.apply(e);
        }
        match v.action {
            Action::Dunno => "DUNNO".into(),
            Action::Refuse(r) => r.to_string().split(' ').next().unwrap().into(),
        }
    }

    #[test]
    fn refused_attempts_consume_no_quota_and_count_towards_the_escalation() {
        let config = PolicyConfig::from_toml(
            "[limits]\nmessages_per_hour = 5\nkept_sending_grace = 3\n",
            "p.toml",
        )
        .unwrap();
        let s: Subject = "a@shop.example.com".parse().unwrap();
        let at = |secs| Timestamp::from_unix_assert(secs);
        let patient = PolicyConfig::from_toml(
            "[limits]\nmessages_per_hour = 5\nkept_sending_grace = 10\n",
            "p.toml",
        )
        .unwrap();
        let mut d = Decider::new(patient);
        let mut l = Ledger::new(Default::default());
        let t0 = 1_800_000_000;
        for i in 0..5 {
            assert_eq!(send(&mut d, &mut l, i, t0 + i64::from(i)), "DUNNO");
        }
        // six refused tries half an hour later (more than the limit): not in the quota
        for i in 5..11 {
            assert_eq!(send(&mut d, &mut l, i, t0 + 1800), "450");
        }
        assert_eq!(l.count(&s, Counter::Messages, at(t0 + 1800)), 5);
        assert_eq!(l.count(&s, Counter::Refused, at(t0 + 1800)), 6);
        // once the accepted messages leave the window, the sender may send again although
        // it tried within the last hour
        assert_eq!(send(&mut d, &mut l, 11, t0 + 3605), "DUNNO");
        assert_eq!(l.relay_facts(&s).unwrap().peak, 11);

        // kept sending: 5 accepted and 3 refused tries within the window make the next
        // answer permanent
        let mut d = Decider::new(config);
        let mut l = Ledger::new(Default::default());
        for i in 0..5 {
            assert_eq!(send(&mut d, &mut l, i, t0), "DUNNO");
        }
        let answers: Vec<_> = (5..9).map(|i| send(&mut d, &mut l, i, t0 + 60)).collect();
        assert_eq!(answers, ["450", "450", "450", "550"]);
        assert_eq!(l.relay_facts(&s).unwrap().peak, 9);
        assert_eq!(l.relay_facts(&s).unwrap().messages, 5);
        // and stays so after the window
        assert_eq!(send(&mut d, &mut l, 9, t0 + 7200), "550");
    }
}
