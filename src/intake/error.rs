/// Why a message could not be taken in, or a setting was refused.
///
/// # Examples
///
/// ```
/// use rblkit::intake::{Intake, IntakeConfig, ReportKind};
/// let intake = Intake::new(IntakeConfig::default().max_message_bytes(10));
/// let err = intake
///     .report(b"Subject: too long for the limit\r\n\r\nbody", &ReportKind::trap("t"), "2026-12-01T00:00:00Z".parse()?)
///     .unwrap_err();
/// assert!(err.to_string().contains("limit"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntakeError {
    /// The message is larger than the configured limit.
    #[error("message of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The message's header block did not parse.
    #[error("message header: {what}")]
    Header {
        /// What was wrong.
        what: Box<str>,
    },
    /// An ARF report was expected and this is not one, or its parts are broken.
    #[error("feedback report: {what}")]
    Arf {
        /// What was wrong.
        what: Box<str>,
    },
    /// A trusted network did not parse.
    #[error("trusted network {text:?} at offset {offset}: not an address or CIDR network")]
    BadNetwork {
        /// The text.
        text: Box<str>,
        /// Its byte offset in the setting.
        offset: usize,
    },
    /// A reporter or trap identifier is empty.
    #[error("the {field} is empty")]
    EmptyId {
        /// `reporter` or `trap`.
        field: &'static str,
    },
}
