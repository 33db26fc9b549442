//! Delivery results from Postfix's log: Postfix never tells a policy server whether a
//! message bounced, but it logs it. [`LogLine::parse`] reads one log line;
//! [`PostfixLog`] follows the lines of one queue id from `smtpd` (`sasl_username=`) and
//! `qmgr` (`from=<…>`) to the delivery agents (`to=<…>, dsn=…, status=…`) and turns each
//! delivery result into an `smtp_outcome` event about the sender identity.

use super::reply::EnhancedCode;
use crate::ledger::hash::Map;
use crate::ledger::{Event, Evidence, SmtpOutcome};
use crate::subject::Subject;
use crate::time::Timestamp;

/// A delivery's `status=`.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::DeliveryStatus;
/// assert_eq!(DeliveryStatus::from_name("bounced"), Some(DeliveryStatus::Bounced));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// Delivered.
    Sent,
    /// Deferred: to be tried again.
    Deferred,
    /// Returned to the sender.
    Bounced,
    /// Given up after the queue lifetime.
    Expired,
}

impl DeliveryStatus {
    /// The status by its log name.
    pub fn from_name(s: &str) -> Option<DeliveryStatus> {
        match s {
            "sent" | "delivered" => Some(DeliveryStatus::Sent),
            "deferred" => Some(DeliveryStatus::Deferred),
            "bounced" => Some(DeliveryStatus::Bounced),
            "expired" => Some(DeliveryStatus::Expired),
            _ => None,
        }
    }
}

/// What one Postfix log line says that matters here.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{LogLine, LogRecord};
/// let l = LogLine::parse("Dec  2 05:16:31 mx postfix/smtpd[790]: 4dLq2x0fZ3z9t: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice").unwrap();
/// assert_eq!(&*l.queue_id, "4dLq2x0fZ3z9t");
/// assert_eq!(l.at, None, "a syslog time has no year");
/// assert_eq!(l.record, LogRecord::Client { sasl_username: Some("alice".into()) });
/// assert!(LogLine::parse("Dec  2 05:16:31 mx postfix/smtpd[790]: connect from localhost[127.0.0.1]").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// The time, when the line starts with an RFC 3339 one (Postfix's `maillog_file`, or
    /// syslog with high-precision times); `None` for the classic syslog time, which has no
    /// year.
    pub at: Option<Timestamp>,
    /// The Postfix program (`smtpd`, `qmgr`, `smtp`, `local`, …).
    pub program: Box<str>,
    /// The queue id.
    pub queue_id: Box<str>,
    /// What it says.
    pub record: LogRecord,
}

/// The kinds of Postfix log lines that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogRecord {
    /// `smtpd`: the client of a queued message, and who authenticated.
    Client {
        /// `sasl_username=`, when authenticated.
        sasl_username: Option<Box<str>>,
    },
    /// `qmgr`: the envelope sender (empty for the null sender).
    From {
        /// The sender, without angle brackets.
        from: Box<str>,
    },
    /// A delivery agent's result for one recipient.
    Delivery {
        /// The recipient, without angle brackets.
        to: Box<str>,
        /// `status=`.
        status: DeliveryStatus,
        /// `dsn=`, when given.
        dsn: Option<EnhancedCode>,
        /// The text in parentheses after the status (what the remote server said).
        said: Box<str>,
    },
    /// `qmgr`: the message left the queue.
    Removed,
}

/// The longest line looked at; anything longer is not a Postfix line of ours.
const MAX_LINE: usize = 8192;

impl LogLine {
    /// Parses one line; `None` when it is no Postfix line about a queued message's sender,
    /// recipient or delivery. Never panics, linear time.
    pub fn parse(line: &str) -> Option<LogLine> {
        if line.len() > MAX_LINE {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        // the time: RFC 3339 at the start, or the syslog form
        let at = line
            .split_once(' ')
            .and_then(|(first, _)| first.parse::<Timestamp>().ok());
        // "postfix/smtpd[123]: " or "postfix-out/smtp[9]: "
        let tag = line.find(" postfix")? + 1;
        let rest = &line[tag..];
        let colon = rest.find("]: ")?;
        let prog_pid = &rest[..colon];
        let (prog, pid) = prog_pid.split_once('[')?;
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid.is_empty() {
            return None;
        }
        let program = prog.rsplit_once('/')?.1;
        if program.is_empty() {
            return None;
        }
        let body = &rest[colon + 3..];
        let (qid, text) = body.split_once(": ")?;
        if qid.len() < 5
            || qid.len() > 32
            || !qid.bytes().all(|b| b.is_ascii_alphanumeric())
            || qid == "warning"
        {
            return None;
        }
        let record = if text == "removed" {
            LogRecord::Removed
        } else if let Some(v) = field(text, "to=<") {
            let to = v.split_once('>')?.0;
            let status = DeliveryStatus::from_name(word_after(text, "status=")?)?;
            let dsn = word_after(text, "dsn=").and_then(|d| d.parse().ok());
            let said = text
                .find(" (")
                .map(|p| &text[p + 2..])
                .map(|s| s.strip_suffix(')').unwrap_or(s))
                .unwrap_or("");
            LogRecord::Delivery {
                to: to.into(),
                status,
                dsn,
                said: said.into(),
            }
        } else if let Some(v) = field(text, "from=<") {
            LogRecord::From {
                from: v.split_once('>')?.0.into(),
            }
        } else if text.starts_with("client=") {
            LogRecord::Client {
                sasl_username: word_after(text, "sasl_username=").map(Into::into),
            }
        } else {
            return None;
        };
        Some(LogLine {
            at,
            program: program.into(),
            queue_id: qid.into(),
            record,
        })
    }
}

/// The value after `key` at the start of the text or after ", ".
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    if let Some(v) = text.strip_prefix(key) {
        return Some(v);
    }
    let mut from = 0;
    while let Some(p) = text[from..].find(key) {
        let at = from + p;
        if text[..at].ends_with(", ") {
            return Some(&text[at + key.len()..]);
        }
        from = at + key.len();
    }
    None
}

/// The word (up to `,`, space or the end) after `key`.
fn word_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let v = field(text, key)?;
    let end = v.find([',', ' ']).unwrap_or(v.len());
    Some(&v[..end])
}

/// What a delivery result says about the recipient.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{outcome_of, DeliveryStatus};
/// use rblkit::ledger::SmtpOutcome;
/// assert_eq!(outcome_of(DeliveryStatus::Bounced, Some("5.1.1".parse()?), ""), SmtpOutcome::NoSuchUser);
/// assert_eq!(outcome_of(DeliveryStatus::Bounced, None, "said: 550 mailbox does not exist"), SmtpOutcome::NoSuchUser);
/// assert_eq!(outcome_of(DeliveryStatus::Bounced, Some("5.2.2".parse()?), "mailbox full"), SmtpOutcome::CannotReceive);
/// assert_eq!(outcome_of(DeliveryStatus::Bounced, Some("5.7.1".parse()?), "spam"), SmtpOutcome::Rejected);
/// assert_eq!(outcome_of(DeliveryStatus::Deferred, Some("4.4.1".parse()?), ""), SmtpOutcome::Deferred);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn outcome_of(status: DeliveryStatus, dsn: Option<EnhancedCode>, said: &str) -> SmtpOutcome {
    match status {
        DeliveryStatus::Sent => return SmtpOutcome::Delivered,
        DeliveryStatus::Deferred => return SmtpOutcome::Deferred,
        DeliveryStatus::Bounced | DeliveryStatus::Expired => {}
    }
    let code = dsn.map(|d| (d.class(), d.subject(), d.detail()));
    let low = said.to_ascii_lowercase();
    let says = |words: &[&str]| words.iter().any(|w| low.contains(w));
    match code {
        Some((5, 1, 1 | 0 | 6 | 10)) => SmtpOutcome::NoSuchUser,
        Some((5, 1, 2) | (5, 2, 1 | 2) | (5, 4, 4)) => SmtpOutcome::CannotReceive,
        _ if says(&[
            "does not exist",
            "user unknown",
            "no such user",
            "unknown user",
            "recipient not found",
            "mailbox unavailable",
        ]) =>
        {
            SmtpOutcome::NoSuchUser
        }
        _ if says(&[
            "mailbox full",
            "over quota",
            "mailbox disabled",
            "cannot receive",
        ]) =>
        {
            SmtpOutcome::CannotReceive
        }
        _ => SmtpOutcome::Rejected,
    }
}

#[derive(Debug, Clone, Default)]
struct Queued {
    from: Option<Box<str>>,
    sasl: Option<Box<str>>,
}

/// The most queue ids followed at once; past it the oldest half is dropped.
const KEEP: usize = 200_000;

/// Follows Postfix log lines and turns delivery results into `smtp_outcome` events: the
/// lines of one queue id from `smtpd` (`sasl_username=`) and `qmgr` (`from=<…>`) to the
/// delivery agents (`to=<…>, dsn=…, status=…`).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::PostfixLog;
/// use rblkit::ledger::{Evidence, SmtpOutcome};
/// let mut log = PostfixLog::new();
/// let now = "2026-12-02T05:00:00Z".parse()?;
/// for line in [
///     "2026-12-02T05:16:32.101+00:00 mx postfix/qmgr[812]: 4dLq2x0fZ3z9t: from=<shop@sender.example.com>, size=312, nrcpt=1 (queue active)",
///     "2026-12-02T05:16:32.420+00:00 mx postfix/smtp[815]: 4dLq2x0fZ3z9t: to=<gone@example.net>, relay=mx.example.net[192.0.2.25]:25, delay=0.3, delays=0/0/0.1/0.2, dsn=5.1.1, status=bounced (host mx.example.net[192.0.2.25] said: 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
/// ] {
///     if let Some(e) = log.line(line, now) {
///         assert_eq!(e.subject.to_string(), "shop@sender.example.com");
///         assert_eq!(e.at.to_string(), "2026-12-02T05:16:32Z");
///         assert!(matches!(e.evidence, Evidence::SmtpOutcome { outcome: SmtpOutcome::NoSuchUser, .. }));
///     }
/// }
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct PostfixLog {
    queued: Map<Box<str>, (u64, Queued)>,
    n: u64,
}

impl PostfixLog {
    /// A follower with nothing seen.
    pub fn new() -> PostfixLog {
        PostfixLog::default()
    }

    /// Takes one line; returns the event a delivery result makes, about the sender identity
    /// (`sasl_username` when the client authenticated, else the envelope sender; the null
    /// sender's bounces make none), at the line's time or, for a syslog time without a
    /// year, at `now`.
    pub fn line(&mut self, line: &str, now: Timestamp) -> Option<Event> {
        let l = LogLine::parse(line)?;
        self.n += 1;
        if self.queued.len() >= KEEP && !self.queued.contains_key(&l.queue_id) {
            let cut = self.n.saturating_sub(KEEP as u64 / 2);
            self.queued.retain(|_, (n, _)| *n >= cut);
        }
        let n = self.n;
        match l.record {
            LogRecord::Client { sasl_username } => {
                let q = &mut self.queued.entry(l.queue_id).or_default();
                q.0 = n;
                q.1.sasl = sasl_username;
                None
            }
            LogRecord::From { from } => {
                let q = &mut self.queued.entry(l.queue_id).or_default();
                q.0 = n;
                q.1.from = Some(from);
                None
            }
            LogRecord::Removed => {
                self.queued.remove(&l.queue_id);
                None
            }
            LogRecord::Delivery {
                to,
                status,
                dsn,
                said,
            } => {
                let q = &self.queued.get(&l.queue_id)?.1;
                let who = q
                    .sasl
                    .as_deref()
                    .and_then(|u| u.parse::<Subject>().ok())
                    .or_else(|| q.from.as_deref().filter(|f| !f.is_empty())?.parse().ok())?;
                let outcome = outcome_of(status, dsn, &said);
                Some(Event::new(
                    l.at.unwrap_or(now),
                    who,
                    Evidence::SmtpOutcome {
                        outcome,
                        recipient: (!to.is_empty()).then_some(to),
                    },
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_ids_lines_make_outcomes_about_the_authenticated_user() {
        let now: Timestamp = "2026-12-02T06:00:00Z".parse().unwrap();
        let mut log = PostfixLog::new();
        let lines = [
            "Dec  2 05:16:31 mx postfix/smtpd[790]: 4dLq2x0fZ3z9t: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice@relay.example.com",
            "Dec  2 05:16:31 mx postfix/qmgr[812]: 4dLq2x0fZ3z9t: from=<news@shop.example.com>, size=312, nrcpt=2 (queue active)",
            "Dec  2 05:16:32 mx postfix/smtp[815]: 4dLq2x0fZ3z9t: to=<a@example.net>, relay=mx.example.net[192.0.2.25]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)",
            "Dec  2 05:16:32 mx postfix/smtp[815]: 4dLq2x0fZ3z9t: to=<b@example.net>, relay=mx.example.net[192.0.2.25]:25, delay=1, delays=0/0/0/1, dsn=4.4.2, status=deferred (lost connection)",
            "Dec  2 05:16:33 mx postfix/qmgr[812]: 4dLq2x0fZ3z9t: removed",
            "Dec  2 05:16:34 mx postfix/smtp[815]: 4dLq2x0fZ3z9t: to=<c@example.net>, dsn=5.1.1, status=bounced (gone)",
        ];
        let events: Vec<Event> = lines.iter().filter_map(|l| log.line(l, now)).collect();
        assert_eq!(events.len(), 2, "after `removed` the queue id is forgotten");
        assert_eq!(events[0].subject.to_string(), "alice@relay.example.com");
        assert_eq!(events[0].at, now);
        assert!(matches!(
            events[1].evidence,
            Evidence::SmtpOutcome {
                outcome: SmtpOutcome::Deferred,
                ..
            }
        ));
    }

    #[test]
    fn garbage_is_not_a_line() {
        for l in [
            "",
            "postfix",
            " postfix/[1]: ABCDEF: to=<a>, status=sent",
            "x postfix/smtp[]: ABCDEF: to=<a>, status=sent",
            "x postfix/smtp[1]: warning: ABCDEF: to=<a>, status=sent",
            "x postfix/smtp[1]: ABCDEF: to=<a, status=sent",
            "x postfix/smtp[1]: ABCDEF: to=<a>, status=weird",
        ] {
            assert!(LogLine::parse(l).is_none(), "{l:?}");
        }
    }
}
