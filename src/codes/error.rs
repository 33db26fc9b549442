use super::ReturnCode;

/// The text of a field for an error message, cut to 64 characters.
pub(super) fn cut(s: &str) -> Box<str> {
    s.chars().take(64).collect::<String>().into()
}

/// Errors of the [`codes`](super) module.
///
/// Offsets are byte offsets into the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodesError {
    /// The text is not an IPv4 address.
    #[error("{text:?} is not a return code (an IPv4 address such as 127.0.0.2)")]
    BadReturnCode {
        /// The text (cut to 64 characters).
        text: Box<str>,
    },
    /// A name that is no [`Reason`](super::Reason).
    #[error("byte {offset}: unknown reason {text:?}")]
    UnknownReason {
        /// Where the name starts.
        offset: usize,
        /// The name (cut to 64 characters).
        text: Box<str>,
    },
    /// The text form of a [`CodeScheme`](super::CodeScheme) is wrong in one field.
    #[error("byte {offset}: bad {field} {text:?} in code scheme")]
    BadScheme {
        /// Where the field starts.
        offset: usize,
        /// Which field: `layout`, `bitmask base`, `fallback`, `code`, `error code`,
        /// `list error`, `entry` or `second fallback`.
        field: &'static str,
        /// The field's text (cut to 64 characters).
        text: Box<str>,
    },
    /// A code of a scheme is outside `127.0.0.0/8`, where no list answers.
    #[error("return code {code} is outside 127.0.0.0/8")]
    OutsideLoopback {
        /// The code.
        code: ReturnCode,
    },
    /// `127.0.0.1` as a listing code: RFC 5782 keeps it unlisted, as the negative test point.
    #[error("return code {code} cannot be a listing (RFC 5782 test point)")]
    ReservedCode {
        /// The code.
        code: ReturnCode,
    },
    /// A code given twice, or both as a listing and as an error.
    #[error("return code {code} is given twice, or both as a listing and as an error")]
    DuplicateCode {
        /// The code.
        code: ReturnCode,
    },
    /// A listing code with no reason.
    #[error("return code {code} stands for no reason")]
    NoReasons {
        /// The code.
        code: ReturnCode,
    },
    /// In a bitmask layout, a code that is not the base with exactly one more bit set.
    #[error("return code {code} is not the bitmask base {base} plus one bit")]
    NotABit {
        /// The code.
        code: ReturnCode,
        /// The base.
        base: ReturnCode,
    },
}
