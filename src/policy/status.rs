//! [`status`]: a subject's public standing — what a lookup page, `rblkit ledger status` and
//! the web API answer, and never any evidence.

use super::explain::State;
use super::profile::Policy;
use crate::codes::ReturnCode;
use crate::ledger::{Ledger, LedgerCounters, Lifecycle};
use crate::subject::Subject;
use crate::time::Timestamp;
use std::fmt::Write as _;
use std::time::Duration;

/// A subject's public standing under a policy at a time: listed or not, since and until
/// when, the time to delisting, the codes a DNS query answers, and the end of a
/// self-delisting. It carries no evidence (no criteria, no counts, no reporters).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Ledger};
/// use rblkit::policy::{status, Policy, State};
/// let mut l = Ledger::new(Default::default());
/// l.apply(&Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t"}"#, 1)?);
/// l.apply(&Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"a"}"#, 2)?);
/// let s = status(&l, &Policy::spamcop(), &"192.0.2.1".parse()?, "2026-11-20T12:00:00Z".parse()?);
/// assert_eq!(s.state, State::Listed);
/// assert_eq!(s.time_to_delist, Some(std::time::Duration::from_secs(22 * 3600)));
/// assert_eq!(s.codes[0].to_string(), "127.0.0.2");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The subject.
    pub subject: Subject,
    /// Whether a DNS query answers "listed".
    pub listed: bool,
    /// Where it stands.
    pub state: State,
    /// Since when it is listed (`None` when not listed).
    pub since: Option<Timestamp>,
    /// Until when without new evidence (`None`: not listed, or no automatic delisting).
    pub expires: Option<Timestamp>,
    /// SpamCop's "time to delisting": zero when the listing ends now (in the delisting
    /// process); `None` when not listed or with no automatic delisting.
    pub time_to_delist: Option<Duration>,
    /// The codes a DNS query answers (empty when not listed).
    pub codes: Vec<ReturnCode>,
    /// The end of an accepted self-delisting that is running.
    pub self_delisted_until: Option<Timestamp>,
}

/// The public standing of `subject` under `policy` at `now` (see [`Status`]). Cheaper than
/// [`explain`](super::explain): it evaluates the subject's criteria once and counts nothing
/// else.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::policy::{status, Policy};
/// let l = Ledger::new(Default::default());
/// let s = status(&l, &Policy::spam_center(), &"example.com".parse()?, "2026-11-20T10:00:00Z".parse()?);
/// assert!(!s.listed);
/// assert_eq!(s.since, None);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn status<C: LedgerCounters>(
    ledger: &Ledger<C>,
    policy: &Policy,
    subject: &Subject,
    now: Timestamp,
) -> Status {
    let mut s = Status {
        subject: subject.clone(),
        listed: false,
        state: State::Clean,
        since: None,
        expires: None,
        time_to_delist: None,
        codes: Vec::new(),
        self_delisted_until: None,
    };
    let Some(id) = ledger.id(subject) else {
        return s;
    };
    let core = policy.evaluate(ledger, subject, id, now, |_, _| {});
    s.state = State::of(&core.lifecycle, core.listed);
    s.listed = core.listed;
    if let Lifecycle::SelfDelisted { until, .. } = core.lifecycle {
        s.self_delisted_until = Some(until);
    }
    if core.listed {
        s.since = core
            .since
            .or_else(|| Some(ledger.reputation_of(id, now).first_seen));
        s.expires = core.expires;
        s.time_to_delist = core.expires.map(|e| e.saturating_duration_since(now));
        let scheme = match subject {
            Subject::Domain(_) => &policy.domain_codes,
            _ => &policy.codes,
        };
        s.codes = scheme.encode(core.reasons);
    }
    s
}

impl Status {
    /// Appends the one-line JSON form `rblkit ledger status --json` prints, without the
    /// newline: `{"subject", "listed", "state", "since", "expires", "time_to_delist_secs",
    /// "codes"}` (times RFC 3339 or `null`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ledger;
    /// use rblkit::policy::{status, Policy};
    /// let l = Ledger::new(Default::default());
    /// let s = status(&l, &Policy::spamcop(), &"192.0.2.1".parse()?, "2026-11-20T10:00:00Z".parse()?);
    /// let mut out = String::new();
    /// s.write_json(&mut out);
    /// assert_eq!(out, r#"{"subject":"192.0.2.1","listed":false,"state":"clean","since":null,"expires":null,"time_to_delist_secs":null,"codes":[]}"#);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_json(&self, out: &mut String) {
        let time = |out: &mut String, t: Option<Timestamp>| match t {
            Some(t) => {
                let _ = write!(out, "\"{t}\"");
            }
            None => out.push_str("null"),
        };
        out.push_str("{\"subject\":");
        out.push_str(
            &serde_json::to_string(&self.subject.to_string()).expect("a string serialises"),
        );
        let _ = write!(
            out,
            ",\"listed\":{},\"state\":\"{}\",\"since\":",
            self.listed,
            self.state.as_str()
        );
        time(out, self.since);
        out.push_str(",\"expires\":");
        time(out, self.expires);
        out.push_str(",\"time_to_delist_secs\":");
        match self.time_to_delist {
            Some(t) => {
                let _ = write!(out, "{}", t.as_secs());
            }
            None => out.push_str("null"),
        }
        out.push_str(",\"codes\":[");
        for (i, c) in self.codes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{c}\"");
        }
        out.push_str("]}");
    }
}
