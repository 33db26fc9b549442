/// Why extraction stopped, or why a suffix list or an extractor setting was refused.
///
/// # Examples
///
/// ```
/// use rblkit::extract::{ExtractError, Extractor};
///
/// let ex = Extractor::builder().max_input_bytes(8).build()?;
/// let mut hits = Vec::new();
/// let err = ex.extract_text("see http://example.com/", &mut hits).unwrap_err();
/// assert!(matches!(err, ExtractError::TooLarge { len: 23, max: 8 }));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    /// The input is larger than the configured limit.
    #[error("input of {len} bytes, at most {max} allowed")]
    TooLarge {
        /// Its size in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// MIME parts are nested deeper than the configured limit.
    #[error("MIME parts nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The message has more MIME parts than the configured limit.
    #[error("more than {max} MIME parts")]
    TooManyParts {
        /// The limit.
        max: usize,
    },
    /// More hits than the configured limit; the first `max` were kept.
    #[error("more than {max} hits")]
    TooManyHits {
        /// The limit.
        max: usize,
    },
    /// The MIME structure could not be parsed.
    #[error("part {part}: bad MIME structure: {what}")]
    Mime {
        /// Index of the part (depth-first, the message itself is 0).
        part: usize,
        /// What the MIME parser reported.
        what: Box<str>,
    },
    /// A line of a public suffix list is not a valid rule.
    #[error("suffix list line {line}, column {column}: bad rule {rule:?}: {what}")]
    BadSuffixRule {
        /// Line number, from 1.
        line: usize,
        /// Column of the problem, from 1.
        column: usize,
        /// The rule (cut to 64 characters).
        rule: Box<str>,
        /// What is wrong.
        what: &'static str,
    },
    /// A public suffix list holds no rule at all.
    #[error("suffix list holds no rule")]
    EmptySuffixList,
    /// An extractor setting is out of range.
    #[error("setting {setting}: {what}")]
    BadSetting {
        /// The builder method.
        setting: &'static str,
        /// What is wrong.
        what: &'static str,
    },
}
