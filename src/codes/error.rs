/// Errors of the [`codes`](super) module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodesError {
    /// The text is not an IPv4 address.
    #[error("{text:?} is not a return code (an IPv4 address such as 127.0.0.2)")]
    BadReturnCode {
        /// The text (cut to 64 characters).
        text: Box<str>,
    },
}
