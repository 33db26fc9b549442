//! The ledger: evidence in, lists and explanations out.

use crate::boundary::rblkit_result::{self, *};
use crate::boundary::{
    arg, arg_text, call, call_value, clear_out, free_handle, out, out_handle, out_text, Failure,
};
use crate::list::rblkit_list;
use rblkit::ledger::{parse_lines, Ledger, Lifecycle, Outcome};
use rblkit::policy::{compile, Decision, Policy};
use rblkit::{Subject, Timestamp};
use std::ffi::c_char;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

/// Explanation format: lines of text for a person.
pub const RBLKIT_EXPLAIN_TEXT: u32 = 0;
/// Explanation format: one JSON object.
pub const RBLKIT_EXPLAIN_JSON: u32 = 1;

/// A reputation ledger: evidence events in; lists and explanations out, under a policy
/// profile, at a time the caller gives (the library never reads the clock).
///
/// Thread safety: internally locked. Any thread may call any function on one ledger at any
/// time; the calls are serialised. Free it once no call runs.
pub struct rblkit_ledger {
    inner: Mutex<Ledger>,
}

/// What one `rblkit_ledger_ingest` call did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct rblkit_ingest_counts {
    /// Evidence lines read (blank lines are not counted).
    pub lines: u64,
    /// Events recorded as evidence.
    pub recorded: u64,
    /// Requests (self_delist, dispute, dispute_decision) accepted.
    pub accepted: u64,
    /// Requests refused (such as a self-delisting of a subject that is not listed).
    pub refused: u64,
    /// Bad lines, skipped.
    pub bad: u64,
    /// The number (from 1) of the first bad line; 0 when none.
    pub first_bad_line: u64,
}

impl rblkit_ledger {
    fn lock(&self) -> Result<MutexGuard<'_, Ledger>, Failure> {
        self.inner.lock().map_err(|_| {
            Failure::new(
                RBLKIT_ERR_PANIC,
                "the ledger is unusable after an internal error in an earlier call",
            )
        })
    }
}

/// Opens a ledger into `*out`. `state_dir` (UTF-8, `state_dir_len` bytes) names the state
/// directory of a persistent ledger; NULL (with length 0) opens an empty in-memory ledger,
/// the only kind this build has: a directory gives `RBLKIT_ERR_UNSUPPORTED`. Free it with
/// `rblkit_ledger_free`.
#[no_mangle]
pub extern "C" fn rblkit_ledger_open(
    state_dir: *const c_char,
    state_dir_len: usize,
    out: *mut *mut rblkit_ledger,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_ledger_open", || {
        let dir = arg_text!(state_dir, state_dir_len);
        if !dir.is_empty() {
            return Err(Failure::new(
                RBLKIT_ERR_UNSUPPORTED,
                format!("{dir}: this build keeps ledgers in memory only (pass NULL)"),
            ));
        }
        out_handle!(
            out,
            rblkit_ledger {
                inner: Mutex::new(Ledger::new(Default::default())),
            }
        );
        Ok(())
    })
}

/// Frees a ledger. NULL is accepted and ignored.
#[no_mangle]
pub extern "C" fn rblkit_ledger_free(ledger: *mut rblkit_ledger) {
    call_value("rblkit_ledger_free", (), || {
        // SAFETY: the header's contract: NULL or a ledger not freed before, no call running.
        unsafe { free_handle(ledger) }
    });
}

/// Ingests evidence: JSON lines (UTF-8, `len` bytes), one event a line with its explicit
/// `at` time, in the format of `rblkit ledger ingest`. Bad lines are skipped and every good
/// line is applied; then the result is `RBLKIT_ERR_DATA` and the last error names the first
/// bad line and field. `counts` (may be NULL) receives what happened.
#[no_mangle]
pub extern "C" fn rblkit_ledger_ingest(
    ledger: *const rblkit_ledger,
    lines: *const c_char,
    len: usize,
    counts: *mut rblkit_ingest_counts,
) -> rblkit_result {
    call("rblkit_ledger_ingest", || {
        let ledger = arg!(ledger);
        let text = arg_text!(lines, len);
        let mut c = rblkit_ingest_counts::default();
        let mut first_error = None;
        {
            let mut l = ledger.lock()?;
            for (n, event) in parse_lines(text) {
                c.lines += 1;
                match event {
                    Ok(e) => match l.apply(&e) {
                        Outcome::Recorded => c.recorded += 1,
                        Outcome::Accepted { .. } => c.accepted += 1,
                        _ => c.refused += 1,
                    },
                    Err(e) => {
                        c.bad += 1;
                        if first_error.is_none() {
                            c.first_bad_line = n;
                            first_error = Some(e);
                        }
                    }
                }
            }
        }
        if !counts.is_null() {
            out!(counts, c);
        }
        match first_error {
            None => Ok(()),
            Some(e) => Err(Failure::new(
                RBLKIT_ERR_DATA,
                format!("{} bad line(s) skipped, the first: {e}", c.bad),
            )),
        }
    })
}

fn profile(name: &str) -> Result<Policy, Failure> {
    Policy::profile(name).ok_or_else(|| {
        Failure::new(
            RBLKIT_ERR_UNKNOWN_PROFILE,
            format!(
                "no profile {name:?} (known: {})",
                Policy::PROFILES.join(", ")
            ),
        )
    })
}

fn time(unix: i64) -> Result<Timestamp, Failure> {
    Timestamp::from_unix(unix)
        .map_err(|e| Failure::new(RBLKIT_ERR_INVALID_ARGUMENT, format!("time {unix}: {e}")))
}

/// Compiles the ledger under the built-in policy profile `profile` (UTF-8, `profile_len`
/// bytes: `"spamcop"`, …) at `now` (unix seconds) into a new list `*out`: every subject
/// listed then, with the profile's code and TXT and since/expires. `RBLKIT_ERR_UNKNOWN_PROFILE`
/// for a name with no profile.
#[no_mangle]
pub extern "C" fn rblkit_ledger_compile(
    ledger: *const rblkit_ledger,
    profile_name: *const c_char,
    profile_len: usize,
    now: i64,
    out: *mut *mut rblkit_list,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_ledger_compile", || {
        let ledger = arg!(ledger);
        let policy = profile(arg_text!(profile_name, profile_len))?;
        let now = time(now)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let list = compile(&*ledger.lock()?, &policy, now);
        out_handle!(out, rblkit_list::compiled(list));
        Ok(())
    })
}

/// The state as `rblkit ledger status` names it: `listed` also for a subject the criteria
/// list without a lifecycle listing.
fn state_name(d: &Decision) -> &'static str {
    match d.lifecycle {
        Lifecycle::Clean if d.listed => "listed",
        Lifecycle::Clean => "clean",
        Lifecycle::Listed(_) => "listed",
        Lifecycle::SelfDelisted { .. } => "self_delisted",
        Lifecycle::UnderReview { .. } => "under_review",
        Lifecycle::Allowlisted => "allowlisted",
        _ => "other",
    }
}

/// Everything `explain` says about a subject.
struct Explanation {
    subject: String,
    profile: String,
    at: Timestamp,
    decision: Decision,
    codes: Vec<String>,
    time_to_delist: Option<u64>,
    rep: Option<rblkit::ledger::Reputation>,
}

impl Explanation {
    fn json(&self) -> String {
        let d = &self.decision;
        let ts = |t: Option<Timestamp>| t.map(|t| t.to_string());
        let mut v = serde_json::json!({
            "subject": self.subject,
            "profile": self.profile,
            "at": self.at.to_string(),
            "listed": d.listed,
            "state": state_name(d),
            "since": ts(d.since),
            "expires": ts(d.expires),
            "time_to_delist_secs": self.time_to_delist,
            "codes": if d.listed { self.codes.clone() } else { vec![] },
            "fired": d.fired,
            "reasons": d.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "evidence": self.rep.map(|r| serde_json::json!({
                "spam_reports": r.reports,
                "reporters": r.reporters,
                "trap_hits": r.traps,
                "ham_reports": r.hams,
                "third_party_listings": r.third_party,
                "first_seen": r.first_seen.to_string(),
                "last_seen": r.last_seen.to_string(),
            })),
        });
        if let Lifecycle::SelfDelisted { until, .. } = d.lifecycle {
            v["self_delisted_until"] = until.to_string().into();
        }
        if let Lifecycle::UnderReview { dispute, .. } = d.lifecycle {
            v["dispute"] = dispute.to_string().into();
        }
        v.to_string()
    }

    fn text(&self) -> String {
        let d = &self.decision;
        let mut s = String::new();
        let _ = write!(
            s,
            "{} under profile {} at {}: {}",
            self.subject,
            self.profile,
            self.at,
            if d.listed { "listed" } else { "not listed" }
        );
        if d.listed {
            let _ = write!(s, " ({})", self.codes.join(", "));
        }
        let _ = write!(s, "\n  state: {}", state_name(d));
        match d.lifecycle {
            Lifecycle::SelfDelisted { until, .. } => {
                let _ = write!(s, " until {until}");
            }
            Lifecycle::UnderReview { dispute, .. } => {
                let _ = write!(s, " (dispute: {dispute})");
            }
            _ => {}
        }
        let fired = if d.fired.is_empty() {
            "none".to_owned()
        } else {
            d.fired.join(", ")
        };
        let _ = write!(s, "\n  criteria fired: {fired}");
        if !d.reasons.is_empty() {
            let _ = write!(s, "\n  reasons: {}", d.reasons);
        }
        match &self.rep {
            Some(r) => {
                let _ = write!(
                    s,
                    "\n  evidence: {} spam report(s) from {} reporter(s), {} trap hit(s), {} ham report(s), {} third-party listing(s); first {}, last {}",
                    r.reports, r.reporters, r.traps, r.hams, r.third_party, r.first_seen, r.last_seen
                );
            }
            None => s.push_str("\n  evidence: none"),
        }
        if let Some(since) = d.since {
            let _ = write!(s, "\n  since: {since}");
        }
        if d.listed {
            match (d.expires, self.time_to_delist) {
                (Some(e), Some(t)) => {
                    let _ = write!(
                        s,
                        "\n  until: {e} (time to delisting {t} s); new reports or trap hits extend it"
                    );
                }
                _ => s.push_str(
                    "\n  until: no automatic delisting (an operator's manual_unlist or an upheld dispute ends it)",
                ),
            }
        }
        s.push('\n');
        s
    }
}

/// Explains `subject` (UTF-8, `subject_len` bytes; an IP address, network, domain or email
/// address) under the profile `profile` at `now` (unix seconds), for the operator: listed or
/// not, the lifecycle state, the criteria that fired, the reasons, the evidence counts,
/// since and until when. `format` is `RBLKIT_EXPLAIN_TEXT` (lines ending in `\n`) or
/// `RBLKIT_EXPLAIN_JSON` (one object: `subject`, `profile`, `at`, `listed`, `state`,
/// `since`, `expires`, `time_to_delist_secs`, `codes`, `fired`, `reasons`, `evidence`).
/// Written into `buf` (see `rblkit_last_error` for buffers; ask with NULL/0 for the length).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn rblkit_ledger_explain(
    ledger: *const rblkit_ledger,
    profile_name: *const c_char,
    profile_len: usize,
    subject: *const c_char,
    subject_len: usize,
    now: i64,
    format: u32,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> rblkit_result {
    call("rblkit_ledger_explain", || {
        let ledger = arg!(ledger);
        let name = arg_text!(profile_name, profile_len);
        let policy = profile(name)?;
        let text = arg_text!(subject, subject_len);
        let s: Subject = text
            .parse()
            .map_err(|e| Failure::new(RBLKIT_ERR_PARSE, format!("{text:?}: {e}")))?;
        let now = time(now)?;
        if format != RBLKIT_EXPLAIN_TEXT && format != RBLKIT_EXPLAIN_JSON {
            return Err(Failure::new(
                RBLKIT_ERR_INVALID_ARGUMENT,
                format!("unknown format {format}"),
            ));
        }
        let e = {
            let l = ledger.lock()?;
            Explanation {
                subject: s.to_string(),
                profile: name.to_owned(),
                at: now,
                decision: policy.decide(&l, &s, now),
                codes: rblkit::policy::explain(&l, &policy, &s, now)
                    .codes
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                time_to_delist: policy.time_to_delist(&l, &s, now).map(|d| d.as_secs()),
                rep: l.reputation(&s, now),
            }
        };
        let out = if format == RBLKIT_EXPLAIN_JSON {
            e.json()
        } else {
            e.text()
        };
        out_text!(&out, buf, cap, len);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIDENCE: &str = r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t1"}
{"at":"2026-11-20T10:01:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"alice"}

{"at":"2026-11-20T10:02:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"bob"}
{"at":"2026-11-20T10:03:00Z","subject":"192.0.2.9","event":"no_such_event"}
{"at":"2026-11-20T10:04:00Z","subject":"192.0.2.1","event":"self_delist"}
"#;

    fn explain(l: *const rblkit_ledger, s: &str, at: i64, format: u32) -> (rblkit_result, String) {
        let mut len = 0;
        let p = "spamcop";
        let r = rblkit_ledger_explain(
            l,
            p.as_ptr().cast(),
            p.len(),
            s.as_ptr().cast(),
            s.len(),
            at,
            format,
            std::ptr::null_mut(),
            0,
            &mut len,
        );
        if r != RBLKIT_ERR_BUFFER_TOO_SMALL {
            return (r, String::new());
        }
        let mut buf = vec![0u8; len + 1];
        let r = rblkit_ledger_explain(
            l,
            p.as_ptr().cast(),
            p.len(),
            s.as_ptr().cast(),
            s.len(),
            at,
            format,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut len,
        );
        buf.truncate(len);
        (r, String::from_utf8(buf).unwrap())
    }

    #[test]
    fn ingest_compile_explain() {
        let mut l = std::ptr::null_mut();
        assert_eq!(rblkit_ledger_open(std::ptr::null(), 0, &mut l), RBLKIT_OK);
        let mut c = rblkit_ingest_counts::default();
        assert_eq!(
            rblkit_ledger_ingest(l, EVIDENCE.as_ptr().cast(), EVIDENCE.len(), &mut c),
            RBLKIT_ERR_DATA
        );
        assert_eq!(
            c,
            rblkit_ingest_counts {
                lines: 5,
                recorded: 3,
                accepted: 0,
                refused: 1,
                bad: 1,
                first_bad_line: 5
            }
        );
        let at: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        let (r, json) = explain(l, "192.0.2.1", at.unix_seconds(), RBLKIT_EXPLAIN_JSON);
        assert_eq!(r, RBLKIT_OK);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["listed"], true);
        assert_eq!(
            v["state"], "listed",
            "listed by the criteria, with no lifecycle listing"
        );
        assert_eq!(v["fired"][0], "weighted_reports");
        assert_eq!(v["expires"], "2026-11-21T10:02:00Z");
        assert_eq!(v["time_to_delist_secs"], 22 * 3600 + 120);
        assert_eq!(v["codes"][0], "127.0.0.2");
        assert_eq!(v["evidence"]["trap_hits"], 1);
        let (_, text) = explain(l, "192.0.2.1", at.unix_seconds(), RBLKIT_EXPLAIN_TEXT);
        assert!(
            text.starts_with(
                "192.0.2.1 under profile spamcop at 2026-11-20T12:00:00Z: listed (127.0.0.2)\n"
            ),
            "{text}"
        );
        assert!(text.contains("criteria fired: weighted_reports"), "{text}");
        let (_, clean) = explain(l, "198.51.100.1", at.unix_seconds(), RBLKIT_EXPLAIN_JSON);
        let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(
            (v["listed"].as_bool(), v["evidence"].is_null()),
            (Some(false), true)
        );

        let mut list = std::ptr::null_mut();
        let p = "spamcop";
        assert_eq!(
            rblkit_ledger_compile(l, p.as_ptr().cast(), p.len(), at.unix_seconds(), &mut list),
            RBLKIT_OK
        );
        let mut a = std::ptr::null_mut();
        assert_eq!(crate::list::rblkit_answer_new(&mut a), RBLKIT_OK);
        assert_eq!(
            crate::list::rblkit_list_lookup_ipv4(list, [192, 0, 2, 1].as_ptr(), a),
            RBLKIT_OK
        );
        assert!(crate::list::rblkit_answer_listed(a));
        let mut exp = 0;
        assert_eq!(crate::list::rblkit_answer_expires(a, &mut exp), RBLKIT_OK);
        assert_eq!(
            exp,
            "2026-11-21T10:02:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .unix_seconds()
        );
        // a day later it has expired
        let mut later = std::ptr::null_mut();
        assert_eq!(
            rblkit_ledger_compile(l, p.as_ptr().cast(), p.len(), exp, &mut later),
            RBLKIT_OK
        );
        assert_eq!(
            crate::list::rblkit_list_lookup_ipv4(later, [192, 0, 2, 1].as_ptr(), a),
            RBLKIT_OK
        );
        assert!(!crate::list::rblkit_answer_listed(a));
        crate::list::rblkit_list_free(later);
        let bad = "nope";
        assert_eq!(
            rblkit_ledger_compile(l, bad.as_ptr().cast(), bad.len(), exp, &mut later),
            RBLKIT_ERR_UNKNOWN_PROFILE
        );
        assert!(later.is_null());
        crate::list::rblkit_answer_free(a);
        crate::list::rblkit_list_free(list);
        rblkit_ledger_free(l);
    }

    #[test]
    fn a_state_dir_is_not_available_yet() {
        let mut l = std::ptr::null_mut();
        let d = "/var/lib/rblkit";
        assert_eq!(
            rblkit_ledger_open(d.as_ptr().cast(), d.len(), &mut l),
            RBLKIT_ERR_UNSUPPORTED
        );
        assert!(l.is_null());
    }
}
