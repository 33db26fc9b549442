//! Listing criteria: when a subject of the [`ledger`](crate::ledger) is listed, why, and until
//! when; [`compile`] turns a ledger into a [`List`](crate::List) at a time; [`explain`] tells
//! the operator why.
//!
//! - A [`Criterion`] looks at a subject's [`Facts`] at `now` (its [`Reputation`] — decayed
//!   scores and evidence counts —, its [`RelayFacts`], its counters in their sliding
//!   windows) and fires ([`Fired`]: a reason, the time it stops firing by itself, the
//!   evidence it counted) or not.
//! - A [`Policy`] combines criteria with the ledger's [`Lifecycle`]: allowlisting wins; an
//!   operator's or a relisting's listing counts; a self-delisted subject is not listed while
//!   its exclusion lasts. It says how listings are published (a
//!   [`CodeScheme`](crate::codes::CodeScheme) for codes per reason, a TXT that never carries
//!   evidence), whether self-delisting is offered, what recurrence does, how soon disputes
//!   are reviewed, and whether networks with many listed addresses are rolled up
//!   ([`RollUp`]).
//! - Three profiles: [`Policy::spamcop`], [`Policy::spam_center`], [`Policy::relay`], by name
//!   through [`Policy::profile`].
//! - [`Policy::apply`] is the ingest path for events whose outcome depends on the policy
//!   (self-delisting, recurrence); [`Policy::decide`], [`Policy::time_to_delist`],
//!   [`explain`], [`status`] (the public standing, without evidence) and [`compile`] read.
//!
//! [`Reputation`]: crate::ledger::Reputation
//! [`RelayFacts`]: crate::ledger::RelayFacts
//! [`Lifecycle`]: crate::ledger::Lifecycle
//!
//! # Examples
//!
//! ```
//! use rblkit::ledger::{Event, Ledger};
//! use rblkit::policy::{compile, explain, Policy};
//! let mut ledger = Ledger::new(Default::default());
//! for line in [
//!     r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t"}"#,
//!     r#"{"at":"2026-11-20T10:01:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"a"}"#,
//!     r#"{"at":"2026-11-20T10:02:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"b"}"#,
//! ] {
//!     ledger.apply(&Event::parse_line(line, 1)?);
//! }
//! let now = "2026-11-20T12:00:00Z".parse()?;
//! let list = compile(&ledger, &Policy::spamcop(), now);
//! let hit = list.lookup_ipv4("192.0.2.1".parse().unwrap()).unwrap();
//! assert_eq!(hit.codes()[0].to_string(), "127.0.0.2");
//! let why = explain(&ledger, &Policy::spamcop(), &"192.0.2.1".parse()?, now);
//! assert_eq!(why.criteria[0].evidence, 3);
//! # Ok::<(), rblkit::Error>(())
//! ```

mod compile;
mod criteria;
mod explain;
mod profile;
mod relay;
mod status;

pub use compile::{compile, RollUp};
pub use criteria::{Criterion, Facts, Fired, ReputationScore, WeightedReports};
pub use explain::{explain, Explanation, FiredCriterion, OpenDispute, State};
pub use profile::{Decision, Policy, Recurrence, Review, SelfDelisting, TxtReasons};
pub use relay::{
    is_invalid_sender, DomainNotOwned, FixedCadence, InvalidSender, KeptSending, Mailbomb,
    NonexistentRecipients, RateLimit, SenderRotation, SpfNotAuthorised, UndeliverableRecipient,
    RESERVED_TLDS,
};
pub use status::{status, Status};
