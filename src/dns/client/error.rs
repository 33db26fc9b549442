use crate::qname::QnameError;
use std::io;
use std::path::PathBuf;

/// What went wrong setting up a check or reading a DNS response.
///
/// A list that does not answer, or answers with an error, is not a `ClientError`: it is a
/// [`Failure`](super::Failure) in that list's [`CheckResult`](super::CheckResult), beside
/// the other lists' results.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::{ClientError, ListSpec};
/// let e = "no-such-list".parse::<ListSpec>().unwrap_err();
/// assert!(matches!(e, ClientError::UnknownList { .. }));
/// assert!(e.to_string().contains("no-such-list"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A list name without a dot that is not one of the known lists' names.
    #[error("unknown list {name:?}: not a known list's name (see `known_list_names`), and a zone name has a dot")]
    UnknownList {
        /// The name given.
        name: Box<str>,
    },
    /// A zone that is not a valid zone origin.
    #[error("bad list zone {text:?}: {source}")]
    BadZone {
        /// The zone given.
        text: Box<str>,
        /// Why it is not one.
        #[source]
        source: QnameError,
    },
    /// A resolver address that is not `ADDR:PORT` or `ADDR`.
    #[error("bad resolver address {text:?}: want ADDR:PORT, [IPv6]:PORT or a bare address")]
    BadServer {
        /// The text given.
        text: Box<str>,
    },
    /// The system resolver configuration names no `nameserver`.
    #[error("{}: no nameserver line with an IP address", path.display())]
    NoNameserver {
        /// The file read.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{}: {kind}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        kind: io::ErrorKind,
    },
    /// A query name that is not a valid domain name.
    #[error("bad query name {name:?}")]
    BadQueryName {
        /// The name.
        name: Box<str>,
    },
    /// A datagram that is not the response to the query sent: another ID, not a
    /// response, another question. A client ignores it and keeps waiting.
    #[error("not the response to the query sent: {field} differs")]
    NotOurs {
        /// The header field or section that differs (`id`, `qr`, `opcode`, `question`).
        field: &'static str,
    },
    /// The response to our query, but not a valid DNS message.
    #[error("malformed DNS response: bad {section} section")]
    Malformed {
        /// Where parsing failed (`header`, `question`, `answer`).
        section: &'static str,
    },
    /// A setting out of range.
    #[error("bad setting {field}: {text:?}")]
    BadSetting {
        /// The setting.
        field: &'static str,
        /// The value given.
        text: Box<str>,
    },
}

pub(crate) fn cut(s: &str) -> Box<str> {
    let mut end = s.len().min(80);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].into()
}
