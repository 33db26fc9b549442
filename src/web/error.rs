//! The web adapter's errors: its settings (the TOML config, credentials) and its set-up.

/// Why the web adapter could not be set up.
///
/// # Examples
///
/// ```
/// use rblkit::web::{WebConfig, WebError};
/// let e = WebConfig::from_toml("[operator]\ntoken = 5\n", "web.toml").unwrap_err();
/// assert!(matches!(e, WebError::Config { line: 2, .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The profile name is not one of [`Policy::PROFILES`](crate::policy::Policy::PROFILES).
    #[error("unknown profile {name:?}; known profiles: {known}")]
    UnknownProfile {
        /// The name given.
        name: Box<str>,
        /// The names known.
        known: Box<str>,
    },
    /// The config file did not parse.
    #[error("{file}: line {line}, column {column}: {message}")]
    Config {
        /// The file's name.
        file: Box<str>,
        /// The line (from 1).
        line: u32,
        /// The column (from 1).
        column: u32,
        /// What is wrong.
        message: Box<str>,
    },
    /// A setting has a value that cannot be used.
    #[error("{file}: {field}: {message}")]
    Setting {
        /// The config file's name (`<api>` when set from code).
        file: Box<str>,
        /// The field, as `table.key`.
        field: &'static str,
        /// What is wrong.
        message: Box<str>,
    },
    /// The operating system gave no randomness for the CSRF secret.
    #[error("no randomness for the CSRF secret: {0}")]
    Random(Box<str>),
}
