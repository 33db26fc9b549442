use super::error::cut;
use super::CodesError;
use std::fmt;
use std::str::FromStr;

macro_rules! reasons {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $name:literal, $text:literal; )*) => {
        /// Why a subject is listed: the taxonomy shared by the policy that lists, the return
        /// codes that say it, and the decoders of other lists' codes. For allowlists, the
        /// `trust_*` reasons say how far the listing is trusted.
        ///
        /// Each reason has a stable numeric id (never reused), a snake_case name that is its
        /// text form, and a short public description that discloses no evidence.
        ///
        /// # Examples
        ///
        /// ```
        /// use rblkit::codes::Reason;
        ///
        /// let r: Reason = "spam_trap".parse()?;
        /// assert_eq!(r, Reason::SpamTrap);
        /// assert_eq!(r.to_string(), "spam_trap");
        /// assert_eq!(Reason::from_id(r.id()), Some(r));
        /// assert_eq!(r.description(), "sent mail to spam traps");
        /// # Ok::<(), rblkit::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum Reason {
            $( $(#[$doc])* $variant = $id, )*
        }

        impl Reason {
            /// Every reason, in id order.
            ///
            /// # Examples
            ///
            /// ```
            /// use rblkit::codes::Reason;
            /// assert_eq!(Reason::ALL[0], Reason::Listed);
            /// assert!(Reason::ALL.windows(2).all(|w| w[0].id() < w[1].id()));
            /// ```
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),*];

            /// The reason with this id.
            ///
            /// # Examples
            ///
            /// ```
            /// use rblkit::codes::Reason;
            /// assert_eq!(Reason::from_id(0), Some(Reason::Listed));
            /// assert_eq!(Reason::from_id(63), None);
            /// ```
            pub const fn from_id(id: u8) -> Option<Reason> {
                match id {
                    $( $id => Some(Reason::$variant), )*
                    _ => None,
                }
            }

            /// The snake_case name, the reason's text form.
            ///
            /// # Examples
            ///
            /// ```
            /// use rblkit::codes::Reason;
            /// assert_eq!(Reason::OpenRelay.name(), "open_relay");
            /// ```
            pub const fn name(self) -> &'static str {
                match self {
                    $( Reason::$variant => $name, )*
                }
            }

            /// A short public description, fit for a TXT record or a web page.
            ///
            /// # Examples
            ///
            /// ```
            /// use rblkit::codes::Reason;
            /// assert_eq!(Reason::Listed.description(), "listed (no reason given)");
            /// ```
            pub const fn description(self) -> &'static str {
                match self {
                    $( Reason::$variant => $text, )*
                }
            }
        }

        const _: () = {
            $( assert!($id < 64, "reason ids index a 64-bit ReasonSet"); )*
        };
    };
}

reasons! {
    /// Listed, and the list says no more (a single-code list, or an unknown code).
    Listed = 0, "listed", "listed (no reason given)";
    /// Sent mail that recipients reported as spam.
    SpamSource = 1, "spam_source", "sent mail reported as spam";
    /// Sent mail to spam traps, addresses that never asked for mail.
    SpamTrap = 2, "spam_trap", "sent mail to spam traps";
    /// Run by or for spammers (a spam operation's servers or networks).
    SpamOperation = 3, "spam_operation", "operated by or for spammers";
    /// Part of spam spread thinly over many addresses to stay under the radar ("snowshoe").
    Snowshoe = 4, "snowshoe", "sends spam spread over many addresses";
    /// A compromised host: malware, a bot, or an exploited service sending mail.
    Exploited = 5, "exploited", "a compromised host sending mail";
    /// A mail server that relays mail for anyone.
    OpenRelay = 6, "open_relay", "an open mail relay";
    /// A proxy that forwards connections for anyone.
    OpenProxy = 7, "open_proxy", "an open proxy";
    /// End-user or dynamically assigned address space that should not send mail directly.
    Dynamic = 8, "dynamic", "end-user or dynamic address space";
    /// Hijacked or stolen address space.
    Hijacked = 9, "hijacked", "hijacked address space";
    /// A poor sending reputation, without a more specific reason.
    PoorReputation = 10, "poor_reputation", "poor sending reputation";
    /// A domain seen in spam (in links or as a sender).
    SpamDomain = 11, "spam_domain", "a domain used in spam";
    /// Phishing.
    Phishing = 12, "phishing", "used for phishing";
    /// Malware distribution.
    Malware = 13, "malware", "distributes malware";
    /// A botnet's command and control.
    BotnetCc = 14, "botnet_cc", "a botnet command and control";
    /// A legitimate site or domain that was compromised; combined with what it is abused for.
    Compromised = 15, "compromised", "a compromised legitimate site";
    /// An abused redirector or URL shortener.
    Redirector = 16, "redirector", "an abused redirector";
    /// Bulk or marketing mail.
    Bulk = 17, "bulk", "sends bulk or marketing mail";
    /// Newly seen in mail and not yet trusted.
    NewlyObserved = 18, "newly_observed", "newly observed in mail";
    /// Sent more messages than the allowed rate (such as 300 an hour).
    RateLimit = 19, "rate_limit", "exceeded the sending rate limit";
    /// The same campaign sent from many sender addresses (sender1, sender2, …).
    SenderRotation = 20, "sender_rotation", "one campaign from many sender addresses";
    /// Mail to many addresses that do not exist.
    NonexistentRecipients = 21, "nonexistent_recipients", "mail to many non-existent addresses";
    /// A web form abused to send mail.
    WebFormAbuse = 22, "web_form_abuse", "an abused web form";
    /// The same unwanted message sent again and again.
    RepetitiveMail = 23, "repetitive_mail", "the same unwanted message again and again";
    /// The sender domain's SPF record does not authorise the sending server.
    SpfNotAuthorized = 24, "spf_not_authorized", "not authorised by the domain's SPF record";
    /// Mail from a domain the sender does not own.
    ForgedSender = 25, "forged_sender", "mail from a domain the sender does not own";
    /// A sender address that cannot take replies or bounces, such as `root@localhost`.
    InvalidSender = 26, "invalid_sender", "an invalid sender address";
    /// A recipient that cannot receive mail.
    UndeliverableRecipient = 27, "undeliverable_recipient", "a recipient that cannot receive mail";
    /// Flooding one mailbox on purpose.
    Mailbombing = 28, "mailbombing", "flooding a mailbox";
    /// Kept sending after being blocked.
    KeptSending = 29, "kept_sending", "kept sending after being blocked";
    /// Listed by the operator's decision.
    Manual = 30, "manual", "listed by the operator";
    /// Listed because another list lists it.
    ThirdParty = 31, "third_party", "listed by another list";
    /// A domain of a disposable (throw-away) mail service.
    DisposableDomain = 32, "disposable_domain", "a disposable mail domain";
    /// A domain that tracks clicks in unsolicited mail.
    ClickTracker = 33, "click_tracker", "a click-tracking domain";
    /// In a network or at a provider with many spam sources (listed for its neighbours).
    NetworkReputation = 34, "network_reputation", "in a network with many spam sources";
    /// Allowlisted, trusted only not to be blocked outright (an allowlist's lowest level).
    TrustNone = 35, "trust_none", "allowlisted: not to be blocked outright";
    /// Allowlisted with low trust: fewer false positives.
    TrustLow = 36, "trust_low", "allowlisted with low trust";
    /// Allowlisted with medium trust: avoid false positives, but clear cases may override.
    TrustMedium = 37, "trust_medium", "allowlisted with medium trust";
    /// Allowlisted with high trust: never override.
    TrustHigh = 38, "trust_high", "allowlisted with high trust";
}

impl Reason {
    /// The stable numeric id.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::Reason;
    /// assert_eq!(Reason::SpamSource.id(), 1);
    /// ```
    pub const fn id(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Reason {
    type Err = CodesError;
    fn from_str(s: &str) -> Result<Reason, CodesError> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.name() == s)
            .ok_or_else(|| CodesError::UnknownReason {
                offset: 0,
                text: cut(s),
            })
    }
}

/// A set of [`Reason`]s, as a 64-bit mask indexed by reason id; `Copy` and allocation-free.
///
/// Its text form is the reason names in id order, separated by commas (`spam_source,spam_trap`);
/// the empty set is the empty text.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{Reason, ReasonSet};
///
/// let s = ReasonSet::EMPTY.with(Reason::SpamTrap).with(Reason::SpamSource);
/// assert_eq!(s.to_string(), "spam_source,spam_trap");
/// assert_eq!("spam_trap,spam_source".parse::<ReasonSet>()?, s);
/// assert!(s.contains(Reason::SpamTrap));
/// assert_eq!(s.len(), 2);
/// assert_eq!(s.iter().collect::<Vec<_>>(), [Reason::SpamSource, Reason::SpamTrap]);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ReasonSet(u64);

impl ReasonSet {
    /// No reason.
    pub const EMPTY: ReasonSet = ReasonSet(0);

    /// The set of the reasons given.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// const ABUSED: ReasonSet = ReasonSet::of(&[Reason::Compromised, Reason::Phishing]);
    /// assert_eq!(ABUSED.len(), 2);
    /// ```
    pub const fn of(reasons: &[Reason]) -> ReasonSet {
        let mut bits = 0u64;
        let mut i = 0;
        while i < reasons.len() {
            bits |= 1 << reasons[i].id();
            i += 1;
        }
        ReasonSet(bits)
    }

    /// The set with one reason more.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// assert!(ReasonSet::EMPTY.with(Reason::Bulk).contains(Reason::Bulk));
    /// ```
    #[must_use]
    pub const fn with(self, r: Reason) -> ReasonSet {
        ReasonSet(self.0 | 1 << r.id())
    }

    /// Adds a reason; returns whether it was new.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let mut s = ReasonSet::EMPTY;
    /// assert!(s.insert(Reason::Manual));
    /// assert!(!s.insert(Reason::Manual));
    /// ```
    pub fn insert(&mut self, r: Reason) -> bool {
        let new = !self.contains(r);
        self.0 |= 1 << r.id();
        new
    }

    /// Removes a reason; returns whether it was there.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let mut s = ReasonSet::of(&[Reason::Manual]);
    /// assert!(s.remove(Reason::Manual));
    /// assert!(s.is_empty());
    /// ```
    pub fn remove(&mut self, r: Reason) -> bool {
        let had = self.contains(r);
        self.0 &= !(1 << r.id());
        had
    }

    /// Whether the set holds `r`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// assert!(!ReasonSet::EMPTY.contains(Reason::Listed));
    /// ```
    pub const fn contains(self, r: Reason) -> bool {
        self.0 & (1 << r.id()) != 0
    }

    /// Whether the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::ReasonSet;
    /// assert!(ReasonSet::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many reasons the set holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// assert_eq!(ReasonSet::of(&[Reason::Bulk, Reason::Bulk]).len(), 1);
    /// ```
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The reasons in either set.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let a = ReasonSet::of(&[Reason::Bulk]);
    /// let b = ReasonSet::of(&[Reason::Manual]);
    /// assert_eq!(a.union(b).len(), 2);
    /// ```
    #[must_use]
    pub const fn union(self, other: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 | other.0)
    }

    /// The reasons in both sets.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let a = ReasonSet::of(&[Reason::Bulk, Reason::Manual]);
    /// assert_eq!(a.intersection(ReasonSet::of(&[Reason::Manual])), ReasonSet::of(&[Reason::Manual]));
    /// ```
    #[must_use]
    pub const fn intersection(self, other: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 & other.0)
    }

    /// The reasons in `self` and not in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let a = ReasonSet::of(&[Reason::Bulk, Reason::Manual]);
    /// assert_eq!(a.difference(ReasonSet::of(&[Reason::Manual])), ReasonSet::of(&[Reason::Bulk]));
    /// ```
    #[must_use]
    pub const fn difference(self, other: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 & !other.0)
    }

    /// Whether every reason of `self` is in `other`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let a = ReasonSet::of(&[Reason::Bulk]);
    /// assert!(a.is_subset(a.with(Reason::Manual)));
    /// assert!(ReasonSet::EMPTY.is_subset(a));
    /// ```
    pub const fn is_subset(self, other: ReasonSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The reasons, in id order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// let s = ReasonSet::of(&[Reason::Malware, Reason::Phishing]);
    /// assert_eq!(s.iter().next(), Some(Reason::Phishing));
    /// ```
    pub fn iter(self) -> ReasonIter {
        ReasonIter(self.0)
    }

    /// The raw mask: bit `i` is the reason with id `i`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// assert_eq!(ReasonSet::of(&[Reason::SpamSource]).bits(), 0b10);
    /// ```
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// The set from a raw mask, or `None` when a bit names no reason.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{Reason, ReasonSet};
    /// assert_eq!(ReasonSet::from_bits(0b110), Some(ReasonSet::of(&[Reason::SpamSource, Reason::SpamTrap])));
    /// assert_eq!(ReasonSet::from_bits(1 << 63), None);
    /// ```
    pub fn from_bits(bits: u64) -> Option<ReasonSet> {
        const KNOWN: u64 = ReasonSet::of(Reason::ALL).0;
        (bits & !KNOWN == 0).then_some(ReasonSet(bits))
    }
}

/// The reasons of a [`ReasonSet`], in id order.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{Reason, ReasonSet};
/// let n = ReasonSet::of(&[Reason::Bulk, Reason::Manual]).iter().count();
/// assert_eq!(n, 2);
/// ```
#[derive(Debug, Clone)]
pub struct ReasonIter(u64);

impl Iterator for ReasonIter {
    type Item = Reason;
    fn next(&mut self) -> Option<Reason> {
        while self.0 != 0 {
            let id = self.0.trailing_zeros() as u8;
            self.0 &= self.0 - 1;
            if let Some(r) = Reason::from_id(id) {
                return Some(r);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.0.count_ones() as usize))
    }
}

impl IntoIterator for ReasonSet {
    type Item = Reason;
    type IntoIter = ReasonIter;
    fn into_iter(self) -> ReasonIter {
        self.iter()
    }
}

impl FromIterator<Reason> for ReasonSet {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> ReasonSet {
        iter.into_iter().fold(ReasonSet::EMPTY, ReasonSet::with)
    }
}

impl Extend<Reason> for ReasonSet {
    fn extend<I: IntoIterator<Item = Reason>>(&mut self, iter: I) {
        for r in iter {
            self.insert(r);
        }
    }
}

impl From<Reason> for ReasonSet {
    fn from(r: Reason) -> ReasonSet {
        ReasonSet::EMPTY.with(r)
    }
}

impl fmt::Display for ReasonSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(r.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for ReasonSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReasonSet({self})")
    }
}

impl FromStr for ReasonSet {
    type Err = CodesError;
    fn from_str(s: &str) -> Result<ReasonSet, CodesError> {
        let mut set = ReasonSet::EMPTY;
        if s.is_empty() {
            return Ok(set);
        }
        let mut offset = 0;
        for name in s.split(',') {
            let r = name
                .parse::<Reason>()
                .map_err(|_| CodesError::UnknownReason {
                    offset,
                    text: cut(name),
                })?;
            set.insert(r);
            offset += name.len() + 1;
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_unique_and_parse() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.name().parse::<Reason>().unwrap(), *r);
            assert!(Reason::ALL[..i].iter().all(|o| o.name() != r.name()));
            assert!(r
                .name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(!r.description().is_empty());
            assert_eq!(Reason::from_id(r.id()), Some(*r));
        }
    }

    #[test]
    fn bad_names() {
        assert!(matches!(
            "Spam_Trap".parse::<Reason>(),
            Err(CodesError::UnknownReason { offset: 0, .. })
        ));
        assert!(matches!(
            "bulk,nope".parse::<ReasonSet>(),
            Err(CodesError::UnknownReason { offset: 5, .. })
        ));
        assert!("bulk,".parse::<ReasonSet>().is_err());
        assert!(",bulk".parse::<ReasonSet>().is_err());
        assert_eq!("".parse::<ReasonSet>().unwrap(), ReasonSet::EMPTY);
        assert_eq!(ReasonSet::EMPTY.to_string(), "");
    }

    fn set() -> impl Strategy<Value = ReasonSet> {
        proptest::collection::vec(proptest::sample::select(Reason::ALL), 0..8)
            .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn text_round_trip(s in set()) {
            prop_assert_eq!(s.to_string().parse::<ReasonSet>().unwrap(), s);
            prop_assert_eq!(ReasonSet::from_bits(s.bits()), Some(s));
            prop_assert_eq!(s.iter().count(), s.len());
        }

        #[test]
        fn set_algebra(a in set(), b in set()) {
            prop_assert!(a.intersection(b).is_subset(a));
            prop_assert!(a.is_subset(a.union(b)));
            prop_assert_eq!(a.difference(b).intersection(b), ReasonSet::EMPTY);
            prop_assert_eq!(a.difference(b).union(a.intersection(b)), a);
        }
    }
}
