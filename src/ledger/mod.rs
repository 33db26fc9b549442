//! The reputation ledger: evidence events in, per-subject reputation and listing lifecycle
//! out.
//!
//! - [`Event`] / [`Evidence`]: one piece of evidence about a [`Subject`](crate::Subject) at a
//!   [`Timestamp`](crate::Timestamp); its text form is one JSON object a line
//!   ([`Event::parse_line`], [`Event::write_line`], [`parse_lines`]).
//! - [`Ledger`]: per subject, exponentially decayed scores (a half-life per [`ScoreKind`]),
//!   counters in exact sliding windows ([`CounterStore`], embedded: [`EmbeddedCounters`]),
//!   first/last seen, the reporters (so an upheld user-error dispute drops one reporter's
//!   reports), and the [`Lifecycle`]: clean, listed (with escalation on relisting),
//!   self-delisted, under review, allowlisted.
//!
//! - `store` (feature `store`): the ledger persisted in a state directory that several
//!   processes share (an SQLite journal in WAL mode, replayed into a [`Ledger`]).
//!
//! Nothing here reads the clock: every operation takes its time.
//!
//! # Examples
//!
//! ```
//! use rblkit::ledger::{parse_lines, Ledger, Lifecycle, Outcome, ScoreKind};
//! use rblkit::codes::{Reason, ReasonSet};
//!
//! let evidence = r#"
//! {"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t1"}
//! {"at":"2026-11-20T10:05:00Z","subject":"192.0.2.1","event":"spam_report","reporter":"alice"}
//! "#;
//! let mut ledger = Ledger::new(Default::default());
//! for (_line, event) in parse_lines(evidence) {
//!     assert_eq!(ledger.apply(&event?), Outcome::Recorded);
//! }
//! let ip = "192.0.2.1".parse()?;
//! let now = "2026-11-20T11:00:00Z".parse()?;
//! let rep = ledger.reputation(&ip, now).unwrap();
//! assert_eq!((rep.traps, rep.reports), (1, 1));
//! assert!(rep.score(ScoreKind::TrapHit) < 1.0);
//!
//! // the policy decides to list it
//! ledger.list(&ip, ReasonSet::of(&[Reason::SpamTrap]), now);
//! assert!(matches!(ledger.lifecycle(&ip, now), Lifecycle::Listed(_)));
//! # Ok::<(), rblkit::Error>(())
//! ```

mod counter;
mod error;
mod event;
pub(crate) mod hash;
mod json;
mod relay;
mod state;
#[cfg(feature = "store")]
pub mod store;

pub use counter::{
    Charge, Charged, Counter, CounterKey, CounterStore, EmbeddedCounters, LedgerCounters, Limit,
};
pub use error::LedgerError;
pub use event::{
    DisputeDecision, DisputeReason, Event, Evidence, Ownership, SmtpOutcome, SpfResult,
};
pub use json::{parse_lines, MAX_WEIGHT};
pub use relay::{Cadence, CampaignFacts, RelayFacts, RelayWindows};
pub use state::{
    Escalation, Ledger, LedgerConfig, Lifecycle, Listed, Memory, Outcome, Refusal, Reputation,
    ScoreKind, SelfDelistRules, SubjectId,
};
