//! The errors of the SMTP adapter.

/// Errors of [`smtp`](super): a policy request that breaks the protocol or a limit, a reply
/// or configuration that does not parse, a Postfix log line that is not understood, a server
/// that cannot start.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::SmtpError;
/// let e = SmtpError::LineTooLong { line: 3, limit: 4096 };
/// assert_eq!(e.to_string(), "policy request line 3: longer than 4096 bytes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    /// A request line over the line length limit.
    #[error("policy request line {line}: longer than {limit} bytes")]
    LineTooLong {
        /// The line within the request (from 1).
        line: u32,
        /// The limit.
        limit: usize,
    },
    /// A request with more attributes than the limit.
    #[error("policy request: more than {limit} attributes")]
    TooManyAttributes {
        /// The limit.
        limit: usize,
    },
    /// A request line that is not `name=value`.
    #[error("policy request line {line}, byte {offset}: {problem}")]
    BadLine {
        /// The line within the request (from 1).
        line: u32,
        /// The byte offset in the line (from 0).
        offset: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// An attribute given twice in one request.
    #[error("policy request line {line}: attribute {name:?} given twice")]
    DuplicateAttribute {
        /// The line within the request (from 1).
        line: u32,
        /// The attribute.
        name: Box<str>,
    },
    /// A request without `request=smtpd_access_policy`, or with a wrong value in a field.
    #[error("policy request: field {field}: {problem}")]
    BadField {
        /// The attribute.
        field: &'static str,
        /// What is wrong.
        problem: Box<str>,
    },
    /// A reply (`CODE X.Y.Z text`) that does not parse.
    #[error("reply {text:?}: {problem}")]
    BadReply {
        /// The reply text given.
        text: Box<str>,
        /// What is wrong.
        problem: &'static str,
    },
    /// A configuration file that does not parse or has a wrong value.
    #[error("{file}: {message}")]
    Config {
        /// The file (or `<config>`).
        file: Box<str>,
        /// Where and what (TOML's line and column, or the field).
        message: Box<str>,
    },
    /// A DNS list site (`zone=127.0.0.[2..11]*3`) that does not parse.
    #[error("DNS list {text:?}, byte {offset}: {problem}")]
    BadDnsList {
        /// The text given.
        text: Box<str>,
        /// Where (from 0).
        offset: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// A Postfix log line that is not one.
    #[error("Postfix log line {line}: {problem}")]
    BadLogLine {
        /// The line number (from 1).
        line: u64,
        /// What is wrong.
        problem: &'static str,
    },
    /// A socket could not be set up.
    #[error("{addr}: {message}")]
    Io {
        /// The address.
        addr: Box<str>,
        /// What the operating system said.
        message: Box<str>,
    },
}
