//! The SMTP adapter (feature `smtp`): a Postfix SMTP access policy delegation server that
//! enforces the relay provider's rules on the ledger of a state directory, and Postfix's
//! log as SMTP outcome evidence. In the direction of the flow:
//!
//! - [`request`](Request): Postfix's `name=value` lines, an empty line ending a request,
//!   parsed incrementally under [`Limits`] (line length, attribute count, idle time) into a
//!   validated [`Request`].
//! - [`Reply`] and [`Action`]: SMTP codes with RFC 3463 [`EnhancedCode`]s and text, one
//!   per [`RefusalReason`], configurable ([`Replies`]); the built-in texts tell the sender
//!   what to do and disclose no evidence.
//! - [`PolicyConfig`]: the TOML config — limits, [`Counting`] mode, exemptions,
//!   allowlists, blocked senders and recipients, [`DnsList`]s with weights and a threshold
//!   as postscreen writes them, replies.
//! - [`Decider`]: a request plus the ledger at `now` → a [`Verdict`] (the action, why, and
//!   the `message` event to record), with the relay profile's criteria
//!   ([`Policy::relay_with`](crate::policy::Policy::relay_with)).
//! - [`PolicyServer`]: tokio connections, one writer thread that group-commits the
//!   decisions of the requests arriving together in one transaction before answering.
//! - [`PostfixLog`]: Postfix log lines (`status=bounced`, `dsn=5.1.1`, `said: 550 …`) →
//!   `smtp_outcome` events about the sender identity.
//!
//! # Examples
//!
//! ```
//! use rblkit::ledger::Ledger;
//! use rblkit::smtp::{Decider, PolicyConfig, RefusalReason, Request};
//! let mut ledger = Ledger::new(Default::default());
//! let mut config = PolicyConfig::default();
//! config.rate.limit = 2;
//! let mut d = Decider::new(config);
//! let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
//! let mut answers = Vec::new();
//! for n in 0..3 {
//!     let req: Request = format!("request=smtpd_access_policy\nprotocol_state=RCPT\n\
//!         instance=m{n}\nsender=news@shop.example.com\nrecipient=r@example.net\n\
//!         client_address=192.0.2.1\n\n").parse()?;
//!     let v = d.decide(&ledger, &req, None, t);
//!     if let Some(e) = &v.event {
//!         ledger.apply(e); // the server records it durably before answering
//!     }
//!     answers.push(v.reason);
//! }
//! assert_eq!(answers, [None, None, Some(RefusalReason::RateLimit)]);
//! # Ok::<(), rblkit::Error>(())
//! ```

mod alert;
mod config;
mod decide;
mod error;
mod limits;
mod lists;
mod lograte;
mod postfix_log;
mod redis;
mod reply;
mod request;
mod server;
mod stats;

pub use alert::{AlertConfig, Webhook};
pub use config::{
    AddressList, ClientCampaign, Counting, DnsChecks, DnsList, NetworkList, PolicyConfig,
};
pub use decide::{Decider, DnsScore, Verdict};
pub use error::SmtpError;
pub use limits::{
    limit_states, matching_limits, By, LimitClass, LimitSource, LimitState, Limited, Overrides,
};
pub use lists::LocalLists;
pub use lograte::{LogGate, LogLimit, RefusalLog};
pub use postfix_log::{outcome_of, DeliveryStatus, LogLine, LogRecord, PostfixLog};
#[cfg(feature = "redis")]
pub use redis::RedisCounters;
pub use redis::{OnFailure, RedisConfig, RETRY};
pub use reply::{Action, EnhancedCode, RefusalReason, Replies, Reply, MAX_REPLY_TEXT};
pub use request::{Limits, Request, RequestParser, Stage};
pub use server::{store_apply, PolicyServer, ServerEvent};
