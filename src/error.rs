use crate::codes::CodesError;
#[cfg(feature = "dns-client")]
use crate::dns::client::ClientError;
#[cfg(feature = "dns-client")]
use crate::dns::monitor::MonitorError;
#[cfg(feature = "dns")]
use crate::dns::server::ServerError;
use crate::extract::ExtractError;
use crate::intake::IntakeError;
#[cfg(feature = "store")]
use crate::ledger::store::StoreError;
use crate::ledger::LedgerError;
use crate::qname::QnameError;
#[cfg(feature = "smtp")]
use crate::smtp::SmtpError;
use crate::subject::SubjectError;
use crate::time::TimeError;
#[cfg(feature = "http")]
use crate::web::WebError;
use crate::zone::ZoneError;

/// Any error of rblkit: one variant per module, each wrapping that module's error enum.
///
/// # Examples
///
/// ```
/// fn parse(s: &str) -> rblkit::Result<rblkit::Subject> {
///     Ok(s.parse()?)
/// }
/// assert!(matches!(parse("a..b"), Err(rblkit::Error::Subject(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A subject did not parse.
    #[error(transparent)]
    Subject(#[from] SubjectError),
    /// A timestamp did not parse.
    #[error(transparent)]
    Time(#[from] TimeError),
    /// A return code, reason or code scheme was wrong.
    #[error(transparent)]
    Codes(#[from] CodesError),
    /// A query name or zone origin was wrong.
    #[error(transparent)]
    Qname(#[from] QnameError),
    /// A dataset did not load, or could not be written.
    #[error(transparent)]
    Zone(#[from] ZoneError),
    /// Extraction from mail failed, or its suffix list or settings were refused.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// A message could not be taken in as evidence.
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// An evidence line did not parse, or a ledger setting was wrong.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The ledger's state directory could not be used, or its journal is damaged.
    #[cfg(feature = "store")]
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The web adapter could not be set up.
    #[cfg(feature = "http")]
    #[error(transparent)]
    Web(#[from] WebError),
    /// A policy request, reply, configuration or Postfix log line was wrong, or the policy
    /// server could not start.
    #[cfg(feature = "smtp")]
    #[error(transparent)]
    Smtp(#[from] SmtpError),
    /// The DNS server could not be set up.
    #[cfg(feature = "dns")]
    #[error(transparent)]
    Server(#[from] ServerError),
    /// A list check could not be set up, or a DNS response did not parse.
    #[cfg(feature = "dns-client")]
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A monitor's config or state was wrong.
    #[cfg(feature = "dns-client")]
    #[error(transparent)]
    Monitor(#[from] MonitorError),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
