//! The JSON-lines form of evidence events.

use super::error::cut;
use super::event::{
    DisputeDecision, DisputeReason, Event, Evidence, Ownership, SmtpOutcome, SpfResult,
};
use super::LedgerError;
use crate::codes::{Reason, ReturnCode};
use crate::subject::Subject;
use crate::time::Timestamp;
use serde_json::{Map, Value};
use std::fmt::{self, Write as _};

/// The largest weight a spam report may carry.
pub const MAX_WEIGHT: f64 = 1000.0;

struct Fields<'a> {
    line: u64,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    /// A field that is present and not `null`.
    fn get(&self, field: &'static str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn opt_str(&self, field: &'static str) -> Result<Option<&'a str>, LedgerError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(LedgerError::BadValue {
                line: self.line,
                field,
                expected: "a non-empty text",
                text: "".into(),
            }),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(LedgerError::WrongType {
                line: self.line,
                field,
                expected: "a string",
            }),
        }
    }

    fn str(&self, field: &'static str) -> Result<&'a str, LedgerError> {
        self.opt_str(field)?.ok_or(LedgerError::MissingField {
            line: self.line,
            field,
        })
    }

    fn opt_text(&self, field: &'static str) -> Result<Option<Box<str>>, LedgerError> {
        Ok(self.opt_str(field)?.map(Box::from))
    }

    fn text(&self, field: &'static str) -> Result<Box<str>, LedgerError> {
        Ok(self.str(field)?.into())
    }

    fn choice<T>(
        &self,
        field: &'static str,
        expected: &'static str,
        from: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, LedgerError> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(s) => from(s).map(Some).ok_or_else(|| LedgerError::BadValue {
                line: self.line,
                field,
                expected,
                text: cut(s),
            }),
        }
    }

    fn required<T>(&self, field: &'static str, v: Option<T>) -> Result<T, LedgerError> {
        v.ok_or(LedgerError::MissingField {
            line: self.line,
            field,
        })
    }

    fn flag(&self, field: &'static str) -> Result<bool, LedgerError> {
        match self.get(field) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(LedgerError::WrongType {
                line: self.line,
                field,
                expected: "true or false",
            }),
        }
    }

    fn weight(&self) -> Result<Option<f64>, LedgerError> {
        const FIELD: &str = "weight";
        match self.get(FIELD) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(w) if (0.0..=MAX_WEIGHT).contains(&w) => Ok(Some(w)),
                _ => Err(LedgerError::BadValue {
                    line: self.line,
                    field: FIELD,
                    expected: "a number from 0 to 1000",
                    text: cut(&n.to_string()),
                }),
            },
            Some(_) => Err(LedgerError::WrongType {
                line: self.line,
                field: FIELD,
                expected: "a number",
            }),
        }
    }
}

fn json_problem(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "unexpected end",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "bad data",
        serde_json::error::Category::Io => "read error",
    }
}

impl Event {
    /// Reads one evidence line (`line` is its number, for errors).
    ///
    /// `at`, `subject` and `event` are required; the other fields are those of the event
    /// (DESIGN.md's evidence table); `null` counts as absent; unknown extra fields are
    /// ignored. Never panics; time is linear in the line's length (nesting is limited by the
    /// JSON parser).
    ///
    /// # Errors
    ///
    /// A [`LedgerError`] naming the line and, where there is one, the field.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence, LedgerError};
    /// let e = Event::parse_line(
    ///     r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"r1","weight":2,"extra":[1]}"#,
    ///     1,
    /// )?;
    /// assert!(matches!(e.evidence, Evidence::SpamReport { weight: Some(w), .. } if w == 2.0));
    ///
    /// let bad = Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"spam"}"#, 3);
    /// assert!(matches!(bad, Err(LedgerError::UnknownEvent { line: 3, .. })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn parse_line(text: &str, line: u64) -> Result<Event, LedgerError> {
        let value: Value = serde_json::from_str(text).map_err(|e| LedgerError::NotJson {
            line,
            column: e.column(),
            problem: json_problem(&e),
        })?;
        let Value::Object(map) = &value else {
            return Err(LedgerError::NotObject { line });
        };
        let f = Fields { line, map };
        let at: Timestamp = f
            .str("at")?
            .parse()
            .map_err(|source| LedgerError::BadTime { line, source })?;
        let subject: Subject = f
            .str("subject")?
            .parse()
            .map_err(|source| LedgerError::BadSubject { line, source })?;
        let event = f.str("event")?;
        let reason = |field| {
            f.choice(field, "a reason name such as \"spam_source\"", |s| {
                s.parse::<Reason>().ok()
            })
        };
        let evidence = match event {
            "spam_report" => Evidence::SpamReport {
                reporter: f.text("reporter")?,
                fingerprint: f.opt_text("fingerprint")?,
                weight: f.weight()?,
            },
            "trap_hit" => Evidence::TrapHit {
                trap: f.text("trap")?,
            },
            "ham_report" => Evidence::HamReport {
                reporter: f.text("reporter")?,
            },
            "third_party_listing" => Evidence::ThirdPartyListing {
                list: f.text("list")?,
                code: {
                    let c = f.choice("code", "a return code such as \"127.0.0.2\"", |s| {
                        s.parse::<ReturnCode>().ok()
                    })?;
                    f.required("code", c)?
                },
            },
            "message" => Evidence::Message {
                recipient: f.text("recipient")?,
                sasl_username: f.opt_text("sasl_username")?,
                fingerprint: f.opt_text("fingerprint")?,
                sender: f.opt_text("sender")?,
                refused: f.flag("refused")?,
            },
            "smtp_outcome" => Evidence::SmtpOutcome {
                outcome: {
                    let o = f.choice(
                        "outcome",
                        "delivered, rejected, deferred, no_such_user or cannot_receive",
                        SmtpOutcome::from_name,
                    )?;
                    f.required("outcome", o)?
                },
                recipient: f.opt_text("recipient")?,
            },
            "manual_list" => Evidence::ManualList {
                note: f.text("note")?,
                reason: reason("reason")?,
            },
            "manual_unlist" => Evidence::ManualUnlist {
                note: f.text("note")?,
                reason: reason("reason")?,
            },
            "allowlist_add" => Evidence::AllowlistAdd {
                note: f.opt_text("note")?,
            },
            "allowlist_remove" => Evidence::AllowlistRemove {
                note: f.opt_text("note")?,
            },
            "self_delist" => Evidence::SelfDelist,
            "dispute" => Evidence::Dispute {
                reason: {
                    let r = f.choice(
                        "reason",
                        "technical_error or user_error",
                        DisputeReason::from_name,
                    )?;
                    f.required("reason", r)?
                },
                reporter: f.opt_text("reporter")?,
                contact: f.opt_text("contact")?,
                text: f.opt_text("text")?,
            },
            "dispute_decision" => Evidence::DisputeDecision {
                decision: {
                    let d =
                        f.choice("decision", "upheld or rejected", DisputeDecision::from_name)?;
                    f.required("decision", d)?
                },
                note: f.opt_text("note")?,
            },
            "spf_result" => Evidence::SpfResult {
                result: {
                    let r = f.choice(
                        "result",
                        "pass, fail, softfail, neutral, none, temperror or permerror",
                        SpfResult::from_name,
                    )?;
                    f.required("result", r)?
                },
                domain: f.opt_text("domain")?,
            },
            "domain_ownership" => Evidence::DomainOwnership {
                result: {
                    let r = f.choice("result", "owned or not_owned", Ownership::from_name)?;
                    f.required("result", r)?
                },
                domain: f.opt_text("domain")?,
            },
            other => {
                return Err(LedgerError::UnknownEvent {
                    line,
                    event: cut(other),
                })
            }
        };
        Ok(Event {
            at,
            subject,
            evidence,
        })
    }

    /// Appends the event's JSON line (without the newline) to `out`:
    /// `at`, `subject`, `event` first, then the event's fields, absent ones left out.
    /// [`Event::parse_line`] reads it back equal.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence};
    /// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.1".parse()?,
    ///     Evidence::HamReport { reporter: "alice \"a\"".into() });
    /// let mut line = String::new();
    /// e.write_line(&mut line);
    /// assert_eq!(line, r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"ham_report","reporter":"alice \"a\""}"#);
    /// assert_eq!(Event::parse_line(&line, 1)?, e);
    /// assert_eq!(e.to_string(), line);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_line(&self, out: &mut String) {
        let mut w = Writer { out };
        w.out.push_str("{\"at\":\"");
        let _ = write!(w.out, "{}", self.at);
        w.out.push_str("\",\"subject\":");
        w.display("", &self.subject);
        w.out.push_str(",\"event\":\"");
        w.out.push_str(self.evidence.name());
        w.out.push('"');
        match &self.evidence {
            Evidence::SpamReport {
                reporter,
                fingerprint,
                weight,
            } => {
                w.str("reporter", reporter);
                w.opt_str("fingerprint", fingerprint.as_deref());
                if let Some(weight) = weight {
                    let _ = write!(w.out, ",\"weight\":{weight}");
                }
            }
            Evidence::TrapHit { trap } => w.str("trap", trap),
            Evidence::HamReport { reporter } => w.str("reporter", reporter),
            Evidence::ThirdPartyListing { list, code } => {
                w.str("list", list);
                w.display("code", code);
            }
            Evidence::Message {
                recipient,
                sasl_username,
                fingerprint,
                sender,
                refused,
            } => {
                w.str("recipient", recipient);
                w.opt_str("sasl_username", sasl_username.as_deref());
                w.opt_str("fingerprint", fingerprint.as_deref());
                w.opt_str("sender", sender.as_deref());
                if *refused {
                    w.out.push_str(",\"refused\":true");
                }
            }
            Evidence::SmtpOutcome { outcome, recipient } => {
                w.str("outcome", outcome.as_str());
                w.opt_str("recipient", recipient.as_deref());
            }
            Evidence::ManualList { note, reason } | Evidence::ManualUnlist { note, reason } => {
                w.str("note", note);
                w.opt_str("reason", reason.map(Reason::name));
            }
            Evidence::AllowlistAdd { note } | Evidence::AllowlistRemove { note } => {
                w.opt_str("note", note.as_deref());
            }
            Evidence::SelfDelist => {}
            Evidence::Dispute {
                reason,
                reporter,
                contact,
                text,
            } => {
                w.str("reason", reason.as_str());
                w.opt_str("reporter", reporter.as_deref());
                w.opt_str("contact", contact.as_deref());
                w.opt_str("text", text.as_deref());
            }
            Evidence::DisputeDecision { decision, note } => {
                w.str("decision", decision.as_str());
                w.opt_str("note", note.as_deref());
            }
            Evidence::SpfResult { result, domain } => {
                w.str("result", result.as_str());
                w.opt_str("domain", domain.as_deref());
            }
            Evidence::DomainOwnership { result, domain } => {
                w.str("result", result.as_str());
                w.opt_str("domain", domain.as_deref());
            }
        }
        w.out.push('}');
    }
}

impl fmt::Display for Event {
    /// The JSON line, as [`Event::write_line`] writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(128);
        self.write_line(&mut s);
        f.write_str(&s)
    }
}

struct Writer<'a> {
    out: &'a mut String,
}

impl Writer<'_> {
    fn key(&mut self, key: &str) {
        if !key.is_empty() {
            self.out.push_str(",\"");
            self.out.push_str(key);
            self.out.push_str("\":");
        }
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        escape_into(value, self.out);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.str(key, v);
        }
    }

    fn display(&mut self, key: &str, value: &dyn fmt::Display) {
        self.key(key);
        let start = self.out.len();
        let _ = write!(self.out, "{value}");
        let text: String = self.out.split_off(start);
        escape_into(&text, self.out);
    }
}

/// Appends `s` as a JSON string.
fn escape_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The events of a text of JSON lines, each with its line number (from 1); blank lines are
/// skipped.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::parse_lines;
/// let text = "{\"at\":\"2026-11-20T10:00:00Z\",\"subject\":\"192.0.2.1\",\"event\":\"self_delist\"}\n\nnot json\n";
/// let got: Vec<_> = parse_lines(text).collect();
/// assert_eq!(got.len(), 2);
/// assert!(got[0].1.is_ok());
/// assert_eq!(got[1].0, 3);
/// assert!(got[1].1.is_err());
/// ```
pub fn parse_lines(text: &str) -> impl Iterator<Item = (u64, Result<Event, LedgerError>)> + '_ {
    text.lines()
        .zip(1u64..)
        .filter(|(l, _)| !l.trim().is_empty())
        .map(|(l, n)| (n, Event::parse_line(l, n)))
}
