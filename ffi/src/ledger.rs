//! The ledger: evidence in, lists and explanations out.

use crate::boundary::rblkit_result::{self, *};
use crate::boundary::{
    arg, arg_text, call, call_value, clear_out, free_handle, out, out_handle, out_text, Failure,
};
use crate::list::rblkit_list;
use rblkit::ledger::store::{Apply, Store, StoreError};
use rblkit::ledger::{parse_lines, Event, Ledger, Outcome};
use rblkit::policy::{compile, explain, Policy};
use rblkit::{Subject, Timestamp};
use std::ffi::c_char;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// Explanation format: lines of text for a person.
pub const RBLKIT_EXPLAIN_TEXT: u32 = 0;
/// Explanation format: one JSON object.
pub const RBLKIT_EXPLAIN_JSON: u32 = 1;

/// A reputation ledger: evidence events in; lists and explanations out, under a policy
/// profile, at a time the caller gives (the library never reads the clock). In memory, or
/// kept in a state directory that `rblkit ledger …`, `rblkit policy`, `rblkit web` and other
/// processes share.
///
/// Thread safety: internally locked. Any thread may call any function on one ledger at any
/// time; the calls are serialised. Free it once no call runs. Several handles (in one process
/// or several) may open the same state directory.
pub struct rblkit_ledger {
    inner: Mutex<Backing>,
}

/// Where a ledger's evidence lives.
// One per handle, itself on the heap: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
enum Backing {
    /// In this process only; events applied by `apply`.
    Memory { ledger: Ledger, apply: Apply },
    /// The journal of a state directory: every ingest is durable before it returns, and
    /// what other processes appended is read before each compile or explain.
    Stored(Store),
}

impl Backing {
    /// The ledger, caught up with what other processes appended.
    fn current(&mut self) -> Result<&Ledger, Failure> {
        match self {
            Backing::Memory { ledger, .. } => Ok(ledger),
            Backing::Stored(store) => {
                store.refresh().map_err(store_failure)?;
                Ok(store.ledger())
            }
        }
    }

    /// Applies `events` (durably, for a state directory), one outcome each.
    fn ingest(&mut self, events: &[Event]) -> Result<Vec<Outcome>, Failure> {
        match self {
            Backing::Memory { ledger, apply } => {
                Ok(events.iter().map(|e| apply(ledger, e)).collect())
            }
            Backing::Stored(store) => store.append(events).map_err(store_failure),
        }
    }
}

fn store_failure(e: StoreError) -> Failure {
    let code = match e {
        StoreError::Io { .. } | StoreError::Sqlite { .. } => RBLKIT_ERR_IO,
        _ => RBLKIT_ERR_DATA,
    };
    Failure::new(code, e.to_string())
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
    /// Spam reports already counted (the same reporter, message fingerprint and subject):
    /// kept in the journal, changing nothing.
    pub duplicates: u64,
    /// Bad lines, skipped.
    pub bad: u64,
    /// The number (from 1) of the first bad line; 0 when none.
    pub first_bad_line: u64,
}

impl rblkit_ledger {
    fn lock(&self) -> Result<MutexGuard<'_, Backing>, Failure> {
        self.inner.lock().map_err(|_| {
            Failure::new(
                RBLKIT_ERR_PANIC,
                "the ledger is unusable after an internal error in an earlier call",
            )
        })
    }
}

/// Opens a ledger into `*out`.
///
/// `state_dir` (UTF-8, `state_dir_len` bytes) names a state directory, created when missing,
/// the same one `rblkit ledger ingest --state DIR` and the other `rblkit` commands use: its
/// journal is read now, each ingest is written to it durably before returning, and what other
/// processes append is seen before each compile and explain. NULL (with length 0) opens an
/// empty ledger in memory.
///
/// `profile` (UTF-8, `profile_len` bytes: `"spamcop"`, `"spam-center"`, `"relay"`) is the
/// policy under which request events are decided — whether a `self_delist` is offered,
/// relisting on recurrence — as `--profile` does for `rblkit ledger ingest`; NULL (with length
/// 0) applies the ledger's own rules only. `RBLKIT_ERR_UNKNOWN_PROFILE` for a name with no
/// profile, `RBLKIT_ERR_IO` when the directory cannot be opened, `RBLKIT_ERR_DATA` for a
/// damaged journal. Free it with `rblkit_ledger_free`.
#[no_mangle]
pub extern "C" fn rblkit_ledger_open(
    state_dir: *const c_char,
    state_dir_len: usize,
    profile_name: *const c_char,
    profile_len: usize,
    out: *mut *mut rblkit_ledger,
) -> rblkit_result {
    // SAFETY: `out` is NULL or writable, as the header states.
    unsafe { clear_out(out) };
    call("rblkit_ledger_open", || {
        let dir = arg_text!(state_dir, state_dir_len);
        let name = arg_text!(profile_name, profile_len);
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let apply: Apply = if name.is_empty() {
            Box::new(|l: &mut Ledger, e: &Event| l.apply(e))
        } else {
            let policy = profile(name)?;
            Box::new(move |l: &mut Ledger, e: &Event| policy.apply(l, e))
        };
        let backing = if dir.is_empty() {
            Backing::Memory {
                ledger: Ledger::new(Default::default()),
                apply,
            }
        } else {
            let store = Store::open_with(
                Path::new(dir),
                Default::default(),
                Default::default(),
                apply,
            )
            .map_err(store_failure)?;
            Backing::Stored(store)
        };
        out_handle!(
            out,
            rblkit_ledger {
                inner: Mutex::new(backing),
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
/// line is applied (for a state directory, written durably in one transaction before the call
/// returns); then the result is `RBLKIT_ERR_DATA` and the last error names the first bad line
/// and field. `counts` (may be NULL) receives what happened. When the state directory cannot
/// be written (`RBLKIT_ERR_IO`), none of the lines is taken.
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
        let mut events = Vec::new();
        for (n, event) in parse_lines(text) {
            c.lines += 1;
            match event {
                Ok(e) => events.push(e),
                Err(e) => {
                    c.bad += 1;
                    if first_error.is_none() {
                        c.first_bad_line = n;
                        first_error = Some(e);
                    }
                }
            }
        }
        for outcome in ledger.lock()?.ingest(&events)? {
            match outcome {
                Outcome::Recorded => c.recorded += 1,
                Outcome::Accepted { .. } => c.accepted += 1,
                Outcome::Duplicate => c.duplicates += 1,
                _ => c.refused += 1,
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
/// for a name with no profile. A ledger in a state directory first reads what other processes
/// appended.
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
        let list = compile(ledger.lock()?.current()?, &policy, now);
        out_handle!(out, rblkit_list::compiled(list));
        Ok(())
    })
}

/// Explains `subject` (UTF-8, `subject_len` bytes; an IP address, network, domain or email
/// address) under the profile `profile` at `now` (unix seconds), for the operator, exactly as
/// `rblkit ledger explain` does: listed or not, the lifecycle state, the criteria that fired
/// with their evidence counts, the reasons and codes, since and until when, what would delist
/// it, self-delisting uses, an open dispute, the evidence counts and scores. `format` is
/// `RBLKIT_EXPLAIN_TEXT` (lines ending in `\n`) or `RBLKIT_EXPLAIN_JSON` (one object, the
/// fields of `rblkit ledger explain --json`: `subject`, `at`, `profile`, `state`, `listed`,
/// `reasons`, `codes`, `since`, `until`, `criteria`, `delisted_by`, `listings`,
/// `self_delisted_until`, `self_delist_uses`, `dispute`, `network`, `counts`, `scores`).
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
        let policy = profile(arg_text!(profile_name, profile_len))?;
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
        let x = explain(ledger.lock()?.current()?, &policy, &s, now);
        let out = if format == RBLKIT_EXPLAIN_JSON {
            x.to_json().to_string()
        } else {
            x.to_string()
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

    fn open(dir: Option<&str>, profile: &str) -> (rblkit_result, *mut rblkit_ledger) {
        let mut l = std::ptr::null_mut();
        let (d, dl) = dir.map_or((std::ptr::null(), 0), |d| (d.as_ptr(), d.len()));
        let (p, pl) = if profile.is_empty() {
            (std::ptr::null(), 0)
        } else {
            (profile.as_ptr(), profile.len())
        };
        let r = rblkit_ledger_open(d.cast(), dl, p.cast(), pl, &mut l);
        (r, l)
    }

    fn ingest(l: *const rblkit_ledger, text: &str) -> (rblkit_result, rblkit_ingest_counts) {
        let mut c = rblkit_ingest_counts::default();
        let r = rblkit_ledger_ingest(l, text.as_ptr().cast(), text.len(), &mut c);
        (r, c)
    }

    fn listed(l: *const rblkit_ledger, ip: [u8; 4], at: i64) -> bool {
        let mut list = std::ptr::null_mut();
        let p = "spamcop";
        assert_eq!(
            rblkit_ledger_compile(l, p.as_ptr().cast(), p.len(), at, &mut list),
            RBLKIT_OK
        );
        let mut a = std::ptr::null_mut();
        assert_eq!(crate::list::rblkit_answer_new(&mut a), RBLKIT_OK);
        assert_eq!(
            crate::list::rblkit_list_lookup_ipv4(list, ip.as_ptr(), a),
            RBLKIT_OK
        );
        let listed = crate::list::rblkit_answer_listed(a);
        crate::list::rblkit_answer_free(a);
        crate::list::rblkit_list_free(list);
        listed
    }

    #[test]
    fn ingest_compile_explain() {
        let (r, l) = open(None, "");
        assert_eq!(r, RBLKIT_OK);
        let (r, c) = ingest(l, EVIDENCE);
        assert_eq!(r, RBLKIT_ERR_DATA);
        assert_eq!(
            c,
            rblkit_ingest_counts {
                lines: 5,
                recorded: 3,
                accepted: 0,
                refused: 1,
                duplicates: 0,
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
        assert_eq!(v["criteria"][0]["name"], "weighted_reports");
        assert_eq!(v["until"], "2026-11-21T10:02:00Z");
        assert_eq!(v["codes"][0], "127.0.0.2");
        assert_eq!(v["counts"]["trap_hits"], 1);
        assert_eq!(v["counts"]["reporters"], 2);
        let (_, text) = explain(l, "192.0.2.1", at.unix_seconds(), RBLKIT_EXPLAIN_TEXT);
        assert!(
            text.starts_with("192.0.2.1 at 2026-11-20T12:00:00Z under spamcop: listed\n"),
            "{text}"
        );
        assert!(text.contains("  fired: weighted_reports"), "{text}");
        assert!(text.contains("  until: 2026-11-21T10:02:00Z\n"), "{text}");
        let (_, clean) = explain(l, "198.51.100.1", at.unix_seconds(), RBLKIT_EXPLAIN_JSON);
        let v: serde_json::Value = serde_json::from_str(&clean).unwrap();
        assert_eq!(
            (v["listed"].as_bool(), v["counts"].is_null()),
            (Some(false), true)
        );

        assert!(listed(l, [192, 0, 2, 1], at.unix_seconds()));
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
        assert!(!listed(l, [192, 0, 2, 1], exp));
        let bad = "nope";
        let mut later = std::ptr::null_mut();
        assert_eq!(
            rblkit_ledger_compile(l, bad.as_ptr().cast(), bad.len(), exp, &mut later),
            RBLKIT_ERR_UNKNOWN_PROFILE
        );
        assert!(later.is_null());
        crate::list::rblkit_answer_free(a);
        crate::list::rblkit_list_free(list);
        rblkit_ledger_free(l);
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("rblkit-ffi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_state_dir_keeps_evidence_and_is_shared() {
        let dir = temp_dir("state");
        let d = dir.to_str().unwrap();
        let (r, first) = open(Some(d), "spamcop");
        assert_eq!(r, RBLKIT_OK);
        let (r, c) = ingest(first, EVIDENCE);
        assert_eq!(
            (r, c.recorded, c.bad, c.refused),
            (RBLKIT_ERR_DATA, 3, 1, 1)
        );
        let noon: Timestamp = "2026-11-20T12:00:00Z".parse().unwrap();
        assert!(listed(first, [192, 0, 2, 1], noon.unix_seconds()));

        // a second handle on the same directory reads the journal, and each sees what the
        // other appends
        let (r, second) = open(Some(d), "spamcop");
        assert_eq!(r, RBLKIT_OK);
        assert!(listed(second, [192, 0, 2, 1], noon.unix_seconds()));
        let more = r#"{"at":"2026-11-20T11:00:00Z","subject":"198.51.100.7","event":"trap_hit","trap":"t2"}
{"at":"2026-11-20T11:01:00Z","subject":"198.51.100.7","event":"spam_report","reporter":"carol"}
{"at":"2026-11-20T11:02:00Z","subject":"198.51.100.7","event":"spam_report","reporter":"dave","fingerprint":"f1"}
{"at":"2026-11-20T11:03:00Z","subject":"198.51.100.7","event":"spam_report","reporter":"dave","fingerprint":"f1"}
"#;
        let (r, c) = ingest(second, more);
        assert_eq!((r, c.recorded, c.duplicates), (RBLKIT_OK, 3, 1));
        assert!(listed(first, [198, 51, 100, 7], noon.unix_seconds()));
        rblkit_ledger_free(first);
        rblkit_ledger_free(second);

        // closed and opened again: nothing acknowledged is lost
        let (r, again) = open(Some(d), "");
        assert_eq!(r, RBLKIT_OK);
        let (_, json) = explain(
            again,
            "198.51.100.7",
            noon.unix_seconds(),
            RBLKIT_EXPLAIN_JSON,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (v["listed"].as_bool(), &v["counts"]["spam_reports"]),
            (Some(true), &2.into())
        );
        rblkit_ledger_free(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_errors() {
        let (r, l) = open(None, "nope");
        assert_eq!((r, l.is_null()), (RBLKIT_ERR_UNKNOWN_PROFILE, true));
        // a file where the directory should be
        let file = temp_dir("file");
        std::fs::write(&file, "not a directory").unwrap();
        let (r, l) = open(Some(file.to_str().unwrap()), "");
        assert_eq!((r, l.is_null()), (RBLKIT_ERR_IO, true));
        std::fs::remove_file(&file).unwrap();
        // a journal file that is not a database
        let dir = temp_dir("notastore");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(rblkit::ledger::store::FILE_NAME), [0x55u8; 8192]).unwrap();
        let (r, l) = open(Some(dir.to_str().unwrap()), "");
        assert_eq!((r, l.is_null()), (RBLKIT_ERR_DATA, true));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
