use crate::subject::SubjectError;
use crate::time::TimeError;

/// Errors of the [`ledger`](super) module: a bad evidence line, or a bad configuration.
///
/// Line numbers count physical lines from 1; columns count bytes from 1.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, LedgerError};
/// let e = Event::parse_line(r#"{"at":"2026-11-20T10:00:00Z","event":"trap_hit","trap":"t"}"#, 7)
///     .unwrap_err();
/// assert_eq!(e, LedgerError::MissingField { line: 7, field: "subject" });
/// assert_eq!(e.to_string(), "line 7: missing field \"subject\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The line is not JSON.
    #[error("line {line}, column {column}: not JSON ({problem})")]
    NotJson {
        /// The line.
        line: u64,
        /// Where the JSON parser stopped.
        column: usize,
        /// What it found: `syntax error`, `unexpected end`, `bad data`.
        problem: &'static str,
    },
    /// The line is JSON, but not an object.
    #[error("line {line}: an evidence line is a JSON object")]
    NotObject {
        /// The line.
        line: u64,
    },
    /// A required field is missing (or `null`).
    #[error("line {line}: missing field {field:?}")]
    MissingField {
        /// The line.
        line: u64,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("line {line}: field {field:?} must be {expected}")]
    WrongType {
        /// The line.
        line: u64,
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// The `event` names no known event.
    #[error("line {line}: unknown event {event:?}")]
    UnknownEvent {
        /// The line.
        line: u64,
        /// The name given (cut to 64 characters).
        event: Box<str>,
    },
    /// The `subject` is no IP address, network, domain or email address.
    #[error("line {line}: bad subject: {source}")]
    BadSubject {
        /// The line.
        line: u64,
        /// Why.
        source: SubjectError,
    },
    /// The `at` field is no RFC 3339 time.
    #[error("line {line}: bad time in field \"at\": {source}")]
    BadTime {
        /// The line.
        line: u64,
        /// Why.
        source: TimeError,
    },
    /// A field has the right type but a value outside what it may be.
    #[error("line {line}: field {field:?} must be {expected}, not {text:?}")]
    BadValue {
        /// The line.
        line: u64,
        /// The field.
        field: &'static str,
        /// What it may be.
        expected: &'static str,
        /// The value given (cut to 64 characters).
        text: Box<str>,
    },
    /// A half-life, window or duration of the ledger's configuration is zero.
    #[error("{what} must be longer than zero")]
    ZeroDuration {
        /// Which setting.
        what: &'static str,
    },
}

pub(super) fn cut(s: &str) -> Box<str> {
    s.chars().take(64).collect::<String>().into()
}
