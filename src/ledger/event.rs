//! Evidence events: what the ledger learns, one event at a time.

use crate::codes::{Reason, ReturnCode};
use crate::subject::Subject;
use crate::time::Timestamp;

/// One piece of evidence about a subject, at a time.
///
/// The text form is one JSON object a line (see [`Event::parse_line`] and
/// [`Event::write_line`]).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Event, Evidence};
///
/// let e = Event::new(
///     "2026-11-20T10:00:00Z".parse()?,
///     "192.0.2.1".parse()?,
///     Evidence::TrapHit { trap: "trap-7".into() },
/// );
/// assert_eq!(e.evidence.name(), "trap_hit");
/// assert_eq!(e.subject.to_string(), "192.0.2.1");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// When it happened (or was reported).
    pub at: Timestamp,
    /// What it is about.
    pub subject: Subject,
    /// What happened.
    pub evidence: Evidence,
}

impl Event {
    /// An event.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::{Event, Evidence};
    /// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "spam.example".parse()?, Evidence::SelfDelist);
    /// assert_eq!(e.evidence, Evidence::SelfDelist);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(at: Timestamp, subject: Subject, evidence: Evidence) -> Event {
        Event {
            at,
            subject,
            evidence,
        }
    }
}

/// What happened, with the fields of the evidence table in DESIGN.md.
///
/// Identifiers (reporters, traps, lists, fingerprints) are opaque non-empty texts.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::{Evidence, SmtpOutcome};
/// let ev = Evidence::SmtpOutcome { outcome: SmtpOutcome::NoSuchUser, recipient: None };
/// assert_eq!(ev.name(), "smtp_outcome");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Evidence {
    /// A recipient, or their filter, reported spam from or naming the subject.
    SpamReport {
        /// Who reported it.
        reporter: Box<str>,
        /// A fingerprint of the message.
        fingerprint: Option<Box<str>>,
        /// The report's weight (finite, 0 to 1000; 1 when not given).
        weight: Option<f64>,
    },
    /// A spamtrap received mail from or naming the subject.
    TrapHit {
        /// Which trap.
        trap: Box<str>,
    },
    /// Release & train: a recipient released a wrongly caught message.
    HamReport {
        /// Who released it.
        reporter: Box<str>,
    },
    /// Another list lists the subject.
    ThirdPartyListing {
        /// The list (its zone or a name).
        list: Box<str>,
        /// The code it answered.
        code: ReturnCode,
    },
    /// The relay accepted a message from the sender identity in the subject, or (with
    /// `refused`) refused one it tried to send.
    Message {
        /// The envelope recipient.
        recipient: Box<str>,
        /// The authenticated user, when there is one.
        sasl_username: Option<Box<str>>,
        /// A fingerprint of the content (or what stands for it: a policy server that sees
        /// no content records its client and time window), which makes the campaign that
        /// several sender addresses share.
        fingerprint: Option<Box<str>>,
        /// The envelope sender, when the subject is another identity (the authenticated
        /// account): the campaign then counts it as the sender address.
        sender: Option<Box<str>>,
        /// The policy server refused the message (a rate limit, an invalid sender, a list):
        /// an attempt, counted in [`Counter::Refused`](super::Counter::Refused) and not in
        /// [`Counter::Messages`](super::Counter::Messages), so it consumes no quota; the
        /// escalation of whoever keeps sending counts both.
        refused: bool,
    },
    /// What became of such a message.
    SmtpOutcome {
        /// The outcome.
        outcome: SmtpOutcome,
        /// The recipient it concerns.
        recipient: Option<Box<str>>,
    },
    /// An operator listed the subject.
    ManualList {
        /// The operator's note.
        note: Box<str>,
        /// The reason to list for ([`Reason::Manual`] when not given).
        reason: Option<Reason>,
    },
    /// An operator delisted the subject: its listing ends, and what its own relayed
    /// messages built up (rolling counts, escalation peak, bursts, cadences, campaign)
    /// starts afresh.
    ManualUnlist {
        /// The operator's note.
        note: Box<str>,
        /// A reason for the record.
        reason: Option<Reason>,
    },
    /// The subject is allowlisted; allowlisting always wins while it lasts.
    AllowlistAdd {
        /// The operator's note.
        note: Option<Box<str>>,
    },
    /// The subject's allowlisting ends.
    AllowlistRemove {
        /// The operator's note.
        note: Option<Box<str>>,
    },
    /// The subject's owner asks to be excluded for a while.
    SelfDelist,
    /// A removal request: the subject is under review until decided.
    Dispute {
        /// Why the listing is said to be wrong.
        reason: DisputeReason,
        /// For a user error: the reporter who reported wanted mail.
        reporter: Option<Box<str>>,
        /// How to reach whoever filed it.
        contact: Option<Box<str>>,
        /// Free text.
        text: Option<Box<str>>,
    },
    /// The decision on the subject's open dispute.
    DisputeDecision {
        /// Upheld or rejected.
        decision: DisputeDecision,
        /// The reviewer's note.
        note: Option<Box<str>>,
    },
    /// The result of an SPF check of mail from the subject (the check itself runs outside
    /// the core; this says what it found).
    SpfResult {
        /// The SPF result.
        result: SpfResult,
        /// The domain whose SPF record was checked.
        domain: Option<Box<str>>,
    },
    /// Whether the sender owns the domain it sends as (checked outside the core).
    DomainOwnership {
        /// Owned or not.
        result: Ownership,
        /// The domain.
        domain: Option<Box<str>>,
    },
}

impl Evidence {
    /// The `event` name of the JSON form.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Evidence;
    /// assert_eq!(Evidence::AllowlistAdd { note: None }.name(), "allowlist_add");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Evidence::SpamReport { .. } => "spam_report",
            Evidence::TrapHit { .. } => "trap_hit",
            Evidence::HamReport { .. } => "ham_report",
            Evidence::ThirdPartyListing { .. } => "third_party_listing",
            Evidence::Message { .. } => "message",
            Evidence::SmtpOutcome { .. } => "smtp_outcome",
            Evidence::ManualList { .. } => "manual_list",
            Evidence::ManualUnlist { .. } => "manual_unlist",
            Evidence::AllowlistAdd { .. } => "allowlist_add",
            Evidence::AllowlistRemove { .. } => "allowlist_remove",
            Evidence::SelfDelist => "self_delist",
            Evidence::Dispute { .. } => "dispute",
            Evidence::DisputeDecision { .. } => "dispute_decision",
            Evidence::SpfResult { .. } => "spf_result",
            Evidence::DomainOwnership { .. } => "domain_ownership",
        }
    }

    /// Whether this is a request whose outcome is reported back (`self_delist`, `dispute`,
    /// `dispute_decision`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Evidence;
    /// assert!(Evidence::SelfDelist.is_request());
    /// assert!(!Evidence::TrapHit { trap: "t".into() }.is_request());
    /// ```
    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Evidence::SelfDelist | Evidence::Dispute { .. } | Evidence::DisputeDecision { .. }
        )
    }
}

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The text form used in the JSON lines.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value with this text form.
            pub fn from_name(s: &str) -> Option<$name> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What became of a message the relay accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::SmtpOutcome;
    /// assert_eq!(SmtpOutcome::from_name("no_such_user"), Some(SmtpOutcome::NoSuchUser));
    /// assert_eq!(SmtpOutcome::CannotReceive.to_string(), "cannot_receive");
    /// ```
    SmtpOutcome {
        /// Delivered.
        Delivered = "delivered",
        /// Rejected by the receiving server.
        Rejected = "rejected",
        /// Deferred (a temporary failure).
        Deferred = "deferred",
        /// Bounced: the recipient does not exist.
        NoSuchUser = "no_such_user",
        /// The recipient exists but cannot receive mail.
        CannotReceive = "cannot_receive",
    }
}

text_enum! {
    /// Why a removal request says a listing is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::DisputeReason;
    /// assert_eq!(DisputeReason::from_name("user_error"), Some(DisputeReason::UserError));
    /// ```
    DisputeReason {
        /// The list made a technical error (a wrong source IP, a broken trap).
        TechnicalError = "technical_error",
        /// A reporter reported mail they wanted.
        UserError = "user_error",
    }
}

text_enum! {
    /// The decision on a dispute.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::DisputeDecision;
    /// assert_eq!(DisputeDecision::Upheld.as_str(), "upheld");
    /// ```
    DisputeDecision {
        /// The dispute is right: an upheld user error drops that reporter's reports; an upheld
        /// technical error lifts the listing.
        Upheld = "upheld",
        /// The dispute is wrong; nothing changes.
        Rejected = "rejected",
    }
}

text_enum! {
    /// The result of an SPF check (RFC 7208, section 2.6).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::SpfResult;
    /// assert_eq!(SpfResult::from_name("softfail"), Some(SpfResult::Softfail));
    /// assert!(SpfResult::Fail.not_authorised());
    /// assert!(!SpfResult::Neutral.not_authorised());
    /// ```
    SpfResult {
        /// The domain authorises the sending host.
        Pass = "pass",
        /// The domain says the host is not authorised.
        Fail = "fail",
        /// The domain says the host is probably not authorised.
        Softfail = "softfail",
        /// The domain says nothing about the host.
        Neutral = "neutral",
        /// No SPF record.
        NoRecord = "none",
        /// A temporary error during the check.
        Temperror = "temperror",
        /// The domain's record could not be interpreted.
        Permerror = "permerror",
    }
}

impl SpfResult {
    /// Whether the result says the host is not authorised (`fail` or `softfail`).
    pub const fn not_authorised(self) -> bool {
        matches!(self, SpfResult::Fail | SpfResult::Softfail)
    }
}

text_enum! {
    /// Whether a sender owns the domain it sends as.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::Ownership;
    /// assert_eq!(Ownership::from_name("not_owned"), Some(Ownership::NotOwned));
    /// ```
    Ownership {
        /// The sender owns (or is authorised for) the domain.
        Owned = "owned",
        /// The sender does not own the domain.
        NotOwned = "not_owned",
    }
}
