//! The reply side: SMTP reply codes with RFC 3463 enhanced status codes and text, the
//! `action=` line, and the replies per refusal reason.

use super::SmtpError;
use std::fmt;
use std::str::FromStr;

/// An RFC 3463 enhanced status code, `class.subject.detail` (`4.7.1`).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::EnhancedCode;
/// let c: EnhancedCode = "5.1.7".parse()?;
/// assert_eq!((c.class(), c.subject(), c.detail()), (5, 1, 7));
/// assert_eq!(c.to_string(), "5.1.7");
/// assert!("3.0.0".parse::<EnhancedCode>().is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EnhancedCode {
    class: u8,
    subject: u16,
    detail: u16,
}

impl EnhancedCode {
    /// `class.subject.detail`: class 2, 4 or 5; subject and detail at most 999.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadReply`] for another class or a larger number.
    pub fn new(class: u8, subject: u16, detail: u16) -> Result<EnhancedCode, SmtpError> {
        if !matches!(class, 2 | 4 | 5) || subject > 999 || detail > 999 {
            return Err(SmtpError::BadReply {
                text: format!("{class}.{subject}.{detail}").into(),
                problem: "an enhanced status code is 2, 4 or 5, then two numbers up to 999",
            });
        }
        Ok(EnhancedCode {
            class,
            subject,
            detail,
        })
    }

    /// [`EnhancedCode::new`] in a constant, panicking on a bad code.
    pub const fn new_assert(class: u8, subject: u16, detail: u16) -> EnhancedCode {
        assert!(matches!(class, 2 | 4 | 5) && subject <= 999 && detail <= 999);
        EnhancedCode {
            class,
            subject,
            detail,
        }
    }

    /// The class: 2 success, 4 temporary, 5 permanent.
    pub fn class(&self) -> u8 {
        self.class
    }

    /// The subject (1 addressing, 7 security or policy, …).
    pub fn subject(&self) -> u16 {
        self.subject
    }

    /// The detail.
    pub fn detail(&self) -> u16 {
        self.detail
    }
}

impl fmt::Display for EnhancedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

impl FromStr for EnhancedCode {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<EnhancedCode, SmtpError> {
        let bad = || SmtpError::BadReply {
            text: s.into(),
            problem: "an enhanced status code is class.subject.detail, such as 4.7.1",
        };
        let mut it = s.split('.');
        let mut num = |max: usize| {
            it.next()
                .filter(|p| {
                    !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
                })
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or_else(bad)
        };
        let (c, su, d) = (num(1)?, num(3)?, num(3)?);
        if it.next().is_some() {
            return Err(bad());
        }
        EnhancedCode::new(c as u8, su, d)
    }
}

/// An SMTP reply for a refusal: a 4xx or 5xx code, an enhanced code of the same class, and
/// one line of printable ASCII text. Its text form is Postfix's: `450 4.7.1 text`.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Reply;
/// let r: Reply = "450 4.7.1 Too many messages; try again later".parse()?;
/// assert_eq!(r.code(), 450);
/// assert!(r.is_temporary());
/// assert_eq!(r.to_string(), "450 4.7.1 Too many messages; try again later");
/// assert!("450 5.7.1 mismatched classes".parse::<Reply>().is_err());
/// assert!("250 2.0.0 not a refusal".parse::<Reply>().is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: u16,
    enhanced: EnhancedCode,
    text: Box<str>,
}

/// The longest reply text.
pub const MAX_REPLY_TEXT: usize = 400;

impl Reply {
    /// A reply.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadReply`] for a code outside 400–599, an enhanced code of another
    /// class, or text that is empty, too long ([`MAX_REPLY_TEXT`]) or not printable ASCII.
    pub fn new(code: u16, enhanced: EnhancedCode, text: &str) -> Result<Reply, SmtpError> {
        let bad = |problem| SmtpError::BadReply {
            text: format!("{code} {enhanced} {text}").into(),
            problem,
        };
        if !(400..600).contains(&code) {
            return Err(bad(
                "a refusal's code is 4xx (temporary) or 5xx (permanent)",
            ));
        }
        if u16::from(enhanced.class) != code / 100 {
            return Err(bad(
                "the enhanced code's class differs from the reply code's",
            ));
        }
        if text.is_empty() || text.len() > MAX_REPLY_TEXT {
            return Err(bad("the text is empty or longer than 400 bytes"));
        }
        if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(bad("the text is not printable ASCII on one line"));
        }
        Ok(Reply {
            code,
            enhanced,
            text: text.into(),
        })
    }

    /// The reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The enhanced status code.
    pub fn enhanced(&self) -> EnhancedCode {
        self.enhanced
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the sender may try again later (4xx).
    pub fn is_temporary(&self) -> bool {
        self.code < 500
    }

    /// The same reply with more text appended (cut to [`MAX_REPLY_TEXT`]; other than
    /// printable ASCII becomes `?`).
    pub fn with_detail(&self, detail: &str) -> Reply {
        let mut t = String::with_capacity(self.text.len() + detail.len() + 3);
        t.push_str(&self.text);
        t.push_str(" (");
        t.extend(
            detail
                .chars()
                .map(|c| if (' '..='~').contains(&c) { c } else { '?' }),
        );
        t.push(')');
        t.truncate(MAX_REPLY_TEXT);
        Reply {
            text: t.into(),
            ..self.clone()
        }
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.code, self.enhanced, self.text)
    }
}

impl FromStr for Reply {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<Reply, SmtpError> {
        let bad = |problem| SmtpError::BadReply {
            text: s.into(),
            problem,
        };
        let mut parts = s.splitn(3, ' ');
        let code = parts
            .next()
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| bad("a reply starts with a three-digit code"))?;
        let enhanced: EnhancedCode = parts
            .next()
            .ok_or_else(|| bad("the enhanced status code is missing"))?
            .parse()?;
        let text = parts.next().unwrap_or("");
        Reply::new(code, enhanced, text)
    }
}

/// What the policy server answers: `action=DUNNO` (no opinion, Postfix goes on with its
/// restrictions) or a refusal.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Action;
/// assert_eq!(Action::Dunno.to_string(), "action=DUNNO\n\n");
/// let refuse = Action::Refuse("553 5.1.7 bad sender".parse()?);
/// assert_eq!(refuse.to_string(), "action=553 5.1.7 bad sender\n\n");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// No opinion.
    Dunno,
    /// Refuse with this reply.
    Refuse(Reply),
}

impl Action {
    /// Appends the wire form (`action=…` and an empty line) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Action::Dunno => out.extend_from_slice(b"action=DUNNO\n\n"),
            Action::Refuse(r) => {
                use std::io::Write as _;
                let _ = write!(out, "action={r}\n\n");
            }
        }
    }

    /// The refusal, when this is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Action::Dunno => None,
            Action::Refuse(r) => Some(r),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(64);
        self.write_to(&mut v);
        f.write_str(&String::from_utf8_lossy(&v))
    }
}

macro_rules! reasons {
    ($($(#[$doc:meta])* $v:ident = $key:literal, $default:literal;)*) => {
        /// Why the policy server refused: each has its own reply, configurable in the
        /// `[replies]` table of the config by its key.
        ///
        /// # Examples
        ///
        /// ```
        /// use rblkit::smtp::RefusalReason;
        /// let r: RefusalReason = "rate_limit".parse()?;
        /// assert_eq!(r, RefusalReason::RateLimit);
        /// assert_eq!(r.to_string(), "rate_limit");
        /// assert_eq!(r.default_reply().to_string(),
        ///     "450 4.7.1 Too many messages from this sender in the last hour; try again later");
        /// # Ok::<(), rblkit::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum RefusalReason {
            $($(#[$doc])* $v,)*
        }

        impl RefusalReason {
            /// Every reason.
            pub const ALL: &'static [RefusalReason] = &[$(RefusalReason::$v,)*];

            /// The config key.
            pub fn key(self) -> &'static str {
                match self { $(RefusalReason::$v => $key,)* }
            }

            /// The built-in reply: it tells the sender what to do and discloses no
            /// evidence.
            pub fn default_reply(self) -> Reply {
                match self { $(RefusalReason::$v => $default,)* }
                    .parse()
                    .expect("built-in replies parse")
            }
        }
    };
}

reasons! {
    /// Over the rate limit (a temporary block).
    RateLimit = "rate_limit", "450 4.7.1 Too many messages from this sender in the last hour; try again later";
    /// Kept sending after a temporary block: blocked for good.
    KeptSending = "kept_sending", "550 5.7.1 This sender kept sending while blocked and is now blocked permanently; contact the postmaster of this relay";
    /// An invalid sender address (`root@localhost`, a reserved top-level domain).
    InvalidSender = "invalid_sender", "553 5.1.7 The sender address is not valid for mail; send from a real address in a public domain";
    /// A sender on the configured blocked list.
    BlockedSender = "blocked_sender", "550 5.7.1 Mail from this sender is not accepted here; contact the postmaster of this relay";
    /// A recipient on the configured blocked list.
    BlockedRecipient = "blocked_recipient", "550 5.7.1 Mail to this recipient is not accepted here";
    /// A recipient that cannot receive mail.
    UndeliverableRecipient = "undeliverable_recipient", "550 5.1.1 This recipient cannot receive mail; remove it from your list";
    /// The client address scored over the threshold on the DNS lists.
    DnsList = "dns_list", "554 5.7.1 The client address is listed on DNS block lists this relay uses";
    /// Listed by the ledger for another reason, for a while.
    Listed = "listed", "450 4.7.1 This sender is blocked for a while; try again later";
    /// Listed by the ledger for another reason, with no end.
    ListedPermanently = "listed_permanently", "550 5.7.1 This sender is blocked; contact the postmaster of this relay";
    /// The decision could not be recorded (the state directory failed).
    Unavailable = "unavailable", "451 4.3.0 The policy service cannot record this message now; try again later";
}

impl fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for RefusalReason {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<RefusalReason, SmtpError> {
        RefusalReason::ALL
            .iter()
            .copied()
            .find(|r| r.key() == s)
            .ok_or_else(|| SmtpError::BadField {
                field: "replies",
                problem: format!(
                    "{s:?} is no refusal reason; the reasons are {}",
                    RefusalReason::ALL
                        .iter()
                        .map(|r| r.key())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
                .into(),
            })
    }
}

/// The reply of each [`RefusalReason`]: the built-in ones, or the configured.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{RefusalReason, Replies};
/// let mut r = Replies::default();
/// r.set(RefusalReason::RateLimit, "421 4.7.0 Slow down".parse()?);
/// assert_eq!(r.get(RefusalReason::RateLimit).code(), 421);
/// assert_eq!(r.get(RefusalReason::InvalidSender).code(), 553);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replies {
    replies: Vec<Reply>,
}

impl Default for Replies {
    fn default() -> Self {
        Replies {
            replies: RefusalReason::ALL
                .iter()
                .map(|r| r.default_reply())
                .collect(),
        }
    }
}

impl Replies {
    /// The reply for a reason.
    pub fn get(&self, r: RefusalReason) -> &Reply {
        &self.replies[r as usize]
    }

    /// Sets the reply for a reason.
    pub fn set(&mut self, r: RefusalReason, reply: Reply) {
        self.replies[r as usize] = reply;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_replies_have_the_codes_the_operators_expect() {
        let code = |r: RefusalReason| {
            let x = r.default_reply();
            format!("{} {}", x.code(), x.enhanced())
        };
        assert_eq!(code(RefusalReason::RateLimit), "450 4.7.1");
        assert_eq!(code(RefusalReason::KeptSending), "550 5.7.1");
        assert_eq!(code(RefusalReason::InvalidSender), "553 5.1.7");
        assert!(RefusalReason::RateLimit
            .default_reply()
            .text()
            .contains("try again later"));
        for r in RefusalReason::ALL {
            assert_eq!(r.key().parse::<RefusalReason>().unwrap(), *r);
            let reply = r.default_reply();
            assert_eq!(reply.to_string().parse::<Reply>().unwrap(), reply);
        }
    }

    #[test]
    fn details_stay_printable_and_short() {
        let r = RefusalReason::RateLimit.default_reply();
        let d = r.with_detail("301 messages\nin é window");
        assert!(d.text().ends_with("(301 messages?in ? window)"), "{d}");
        assert_eq!(d.to_string().parse::<Reply>().unwrap(), d);
        let long = r.with_detail(&"x".repeat(1000));
        assert_eq!(long.text().len(), MAX_REPLY_TEXT);
    }
}
