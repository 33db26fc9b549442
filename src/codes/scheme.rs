use super::error::cut;
use super::{CodesError, Reason, ReasonSet, ReturnCode};
use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// How a [`CodeScheme`] puts reasons into A records.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{CodeLayout, ReturnCode};
/// let l = CodeLayout::Bitmask { base: ReturnCode::new_assert(127, 0, 0, 0) };
/// assert_eq!(l.to_string(), "bitmask:127.0.0.0");
/// assert_eq!(CodeLayout::OnePerReason.to_string(), "per-reason");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeLayout {
    /// One A record per code: each code stands for a set of reasons, and a listing answers
    /// every code its reasons need (Spamhaus ZEN: `127.0.0.2`, `127.0.0.4`, …). A list with a
    /// single code is this layout with one entry.
    OnePerReason,
    /// One A record whose last octet is `base`'s with one bit set per reason group (SURBL and
    /// URIBL multi: `127.0.0.2 | 127.0.0.4 = 127.0.0.6`).
    Bitmask {
        /// The code with no bit set; its first three octets are every code's.
        base: ReturnCode,
    },
}

impl fmt::Display for CodeLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeLayout::OnePerReason => f.write_str("per-reason"),
            CodeLayout::Bitmask { base } => write!(f, "bitmask:{base}"),
        }
    }
}

macro_rules! list_errors {
    ($( $(#[$doc:meta])* $variant:ident, $name:literal; )*) => {
        /// A code by which a list says it did not answer the question: never a listing.
        ///
        /// # Examples
        ///
        /// ```
        /// use rblkit::codes::ListError;
        /// let e: ListError = "public_resolver".parse()?;
        /// assert_eq!(e, ListError::PublicResolver);
        /// assert_eq!(e.to_string(), "public_resolver");
        /// # Ok::<(), rblkit::Error>(())
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum ListError {
            $( $(#[$doc])* $variant, )*
        }

        impl ListError {
            /// Every kind.
            ///
            /// # Examples
            ///
            /// ```
            /// assert!(rblkit::codes::ListError::ALL.len() >= 5);
            /// ```
            pub const ALL: &'static [ListError] = &[$(ListError::$variant),*];

            /// The snake_case name, its text form.
            ///
            /// # Examples
            ///
            /// ```
            /// use rblkit::codes::ListError;
            /// assert_eq!(ListError::RateLimited.name(), "rate_limited");
            /// ```
            pub const fn name(self) -> &'static str {
                match self {
                    $( ListError::$variant => $name, )*
                }
            }
        }
    };
}

list_errors! {
    /// The list refused the query (URIBL's and SURBL's `127.0.0.1`: blocked, over quota).
    Refused, "refused";
    /// The query came through a public or open resolver, which the list does not answer
    /// (Spamhaus `127.255.255.254`).
    PublicResolver, "public_resolver";
    /// Too many queries from this client (Spamhaus `127.255.255.255`).
    RateLimited, "rate_limited";
    /// The query was malformed or of a kind the list does not take: a mistyped zone
    /// (Spamhaus `127.255.255.252`), an IP address asked of a domain list (DBL `127.0.1.255`).
    BadQuery, "bad_query";
    /// An address outside `127.0.0.0/8`: no list answers listings there, so the zone is
    /// wildcarded, parked or gone.
    NotACode, "not_a_code";
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ListError {
    type Err = CodesError;
    fn from_str(s: &str) -> Result<ListError, CodesError> {
        ListError::ALL
            .iter()
            .copied()
            .find(|e| e.name() == s)
            .ok_or_else(|| CodesError::BadScheme {
                offset: 0,
                field: "list error",
                text: cut(s),
            })
    }
}

/// What one A record of a list's answer means under a [`CodeScheme`].
///
/// # Examples
///
/// ```
/// use rblkit::codes::{known, CodeMeaning, ListError, Reason, ReasonSet, ReturnCode};
/// let zen = &known::SPAMHAUS_ZEN;
/// assert_eq!(
///     zen.decode(ReturnCode::new_assert(127, 0, 0, 4)),
///     CodeMeaning::Listed { reasons: Reason::Exploited.into(), unknown: false }
/// );
/// assert_eq!(zen.decode(ReturnCode::new_assert(127, 255, 255, 254)), CodeMeaning::Error(ListError::PublicResolver));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeMeaning {
    /// A listing for these reasons. `unknown` is set when the code, or part of its bitmask,
    /// is not in the scheme: a listing all the same (any A record is one, RFC 5782).
    Listed {
        /// The reasons the scheme knows for the code.
        reasons: ReasonSet,
        /// Whether some of the code is not in the scheme.
        unknown: bool,
    },
    /// Not a listing: the list signals an error.
    Error(ListError),
}

/// What a whole answer (all A records for one query) means: the tri-state a client needs.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{known, Reason, ReasonSet, ReturnCode, Verdict};
/// let zen = &known::SPAMHAUS_ZEN;
/// let answer = [ReturnCode::new_assert(127, 0, 0, 2), ReturnCode::new_assert(127, 0, 0, 10)];
/// assert_eq!(
///     zen.decode_answer(&answer),
///     Verdict::Listed { reasons: ReasonSet::of(&[Reason::SpamOperation, Reason::Dynamic]), unknown: false }
/// );
/// assert_eq!(zen.decode_answer(&[]), Verdict::NotListed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// No A record (NXDOMAIN or no data): not listed.
    NotListed,
    /// Listed: the union of every record's reasons.
    Listed {
        /// The reasons known.
        reasons: ReasonSet,
        /// Whether some record is not in the scheme.
        unknown: bool,
    },
    /// The list answered with an error code (the first one, when several): the question is
    /// unanswered, neither listed nor clean.
    Error(ListError),
}

impl Verdict {
    /// Whether the answer is a listing.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, ReturnCode};
    /// assert!(known::SPAMCOP.decode_answer(&[ReturnCode::LISTED]).is_listed());
    /// assert!(!known::SPAMCOP.decode_answer(&[]).is_listed());
    /// ```
    pub fn is_listed(&self) -> bool {
        matches!(self, Verdict::Listed { .. })
    }
}

/// A list's return codes: which A records say which [`Reason`]s, and which codes are errors.
///
/// A scheme works both ways. A list being compiled [encodes](CodeScheme::encode) the reasons
/// of each listing into codes; a client [decodes](CodeScheme::decode_answer) another list's
/// answer back into reasons. A reason the scheme has no code for is encoded with the
/// `fallback` code, so a listing never vanishes for want of a code; the fallback stands for
/// [`Reason::Listed`] unless an entry gives it other reasons.
///
/// Encoding picks, among the entries whose reasons all are wanted, the largest ones first
/// and skips an entry whose reasons are already said: with Spamhaus DBL's codes,
/// `{compromised, phishing}` is `127.0.1.104` alone, not also `127.0.1.4`.
///
/// The text form lists the layout, the fallback, the entries and the error codes:
///
/// ```text
/// per-reason fallback=127.0.0.2 127.0.0.2=spam_source,spam_trap 127.0.0.4=exploited error:127.255.255.255=rate_limited
/// bitmask:127.0.0.0 fallback=127.0.0.2 127.0.0.2=spam_domain 127.0.0.4=bulk error:127.0.0.1=refused
/// ```
///
/// Every code is in `127.0.0.0/8`; `127.0.0.1` is never a listing (RFC 5782 keeps it
/// unlisted as the negative test point); each code is given once.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{CodeLayout, CodeScheme, Reason, ReasonSet, ReturnCode, Verdict};
///
/// let c = |d| ReturnCode::new_assert(127, 0, 0, d);
/// let scheme = CodeScheme::builder(CodeLayout::OnePerReason, c(2))
///     .code(c(2), ReasonSet::of(&[Reason::SpamSource, Reason::SpamTrap]))
///     .code(c(4), Reason::Exploited.into())
///     .code(c(10), Reason::Dynamic.into())
///     .build()?;
///
/// let codes = scheme.encode(ReasonSet::of(&[Reason::Exploited, Reason::Dynamic, Reason::Manual]));
/// assert_eq!(codes, [c(2), c(4), c(10)]); // manual has no code: the fallback says it
/// assert!(matches!(scheme.decode_answer(&codes), Verdict::Listed { unknown: false, .. }));
/// assert_eq!(scheme.to_string().parse::<CodeScheme>()?, scheme);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeScheme {
    layout: CodeLayout,
    fallback: ReturnCode,
    entries: Cow<'static, [(ReturnCode, ReasonSet)]>,
    errors: Cow<'static, [(ReturnCode, ListError)]>,
}

/// Builds a [`CodeScheme`]; [`build`](CodeSchemeBuilder::build) validates it.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{CodeLayout, CodeScheme, ListError, Reason, ReasonSet, ReturnCode};
/// let c = |d| ReturnCode::new_assert(127, 0, 0, d);
/// let uribl_like = CodeScheme::builder(CodeLayout::Bitmask { base: c(0) }, c(2))
///     .code(c(2), Reason::SpamDomain.into())
///     .code(c(4), Reason::Bulk.into())
///     .error(c(1), ListError::Refused)
///     .build()?;
/// assert_eq!(uribl_like.encode(ReasonSet::of(&[Reason::Bulk, Reason::SpamDomain])), [c(6)]);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CodeSchemeBuilder {
    layout: CodeLayout,
    fallback: ReturnCode,
    entries: Vec<(ReturnCode, ReasonSet)>,
    errors: Vec<(ReturnCode, ListError)>,
}

const fn octets(c: ReturnCode) -> [u8; 4] {
    c.addr().octets()
}

const fn same_prefix(a: ReturnCode, b: ReturnCode) -> bool {
    let (a, b) = (octets(a), octets(b));
    a[0] == b[0] && a[1] == b[1] && a[2] == b[2]
}

/// The bits of `code`'s last octet beyond `base`'s, when `code` lies in `base`'s bitmask space.
fn bits_over(base: ReturnCode, code: ReturnCode) -> Option<u8> {
    let (b, c) = (base.last_octet(), code.last_octet());
    (same_prefix(base, code) && c & b == b).then_some(c & !b)
}

const RESERVED: ReturnCode = ReturnCode::new_assert(127, 0, 0, 1);

impl CodeSchemeBuilder {
    /// Adds a listing code and the reasons it stands for. In a bitmask layout the code is the
    /// base with one more bit set.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeLayout, CodeScheme, Reason, ReturnCode};
    /// let s = CodeScheme::builder(CodeLayout::OnePerReason, ReturnCode::LISTED)
    ///     .code(ReturnCode::new_assert(127, 0, 0, 3), Reason::OpenRelay.into())
    ///     .build()?;
    /// assert_eq!(s.encode(Reason::OpenRelay.into()), [ReturnCode::new_assert(127, 0, 0, 3)]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn code(&mut self, code: ReturnCode, reasons: ReasonSet) -> &mut CodeSchemeBuilder {
        self.entries.push((code, reasons));
        self
    }

    /// Adds an error code.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeLayout, CodeScheme, ListError, ReturnCode, Verdict};
    /// let busy = ReturnCode::new_assert(127, 0, 0, 255);
    /// let s = CodeScheme::builder(CodeLayout::OnePerReason, ReturnCode::LISTED)
    ///     .error(busy, ListError::RateLimited)
    ///     .build()?;
    /// assert_eq!(s.decode_answer(&[busy]), Verdict::Error(ListError::RateLimited));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn error(&mut self, code: ReturnCode, kind: ListError) -> &mut CodeSchemeBuilder {
        self.errors.push((code, kind));
        self
    }

    /// Validates and builds the scheme.
    ///
    /// # Errors
    ///
    /// [`CodesError`]: a code outside `127.0.0.0/8`, `127.0.0.1` as a listing code, a code
    /// given twice (or as both a listing and an error), an entry without reasons, or in a
    /// bitmask layout an entry or fallback that is not the base plus one bit.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeLayout, CodeScheme, CodesError, ReturnCode};
    /// let base = ReturnCode::new_assert(127, 0, 0, 0);
    /// let three = ReturnCode::new_assert(127, 0, 0, 3);
    /// let err = CodeScheme::builder(CodeLayout::Bitmask { base }, three).build().unwrap_err();
    /// assert_eq!(err, CodesError::NotABit { code: three, base });
    /// ```
    pub fn build(&self) -> Result<CodeScheme, CodesError> {
        let mut entries = self.entries.clone();
        let mut errors = self.errors.clone();
        entries.sort_unstable_by_key(|e| e.0);
        errors.sort_unstable_by_key(|e| e.0);
        let codes = entries.iter().map(|e| e.0);
        for code in codes
            .clone()
            .chain(errors.iter().map(|e| e.0))
            .chain([self.fallback])
            .chain(match self.layout {
                CodeLayout::Bitmask { base } => Some(base),
                CodeLayout::OnePerReason => None,
            })
        {
            if !code.is_loopback_code() {
                return Err(CodesError::OutsideLoopback { code });
            }
        }
        for &(code, reasons) in &entries {
            if reasons.is_empty() {
                return Err(CodesError::NoReasons { code });
            }
        }
        for code in codes.clone().chain([self.fallback]) {
            if code == RESERVED {
                return Err(CodesError::ReservedCode { code });
            }
            if let CodeLayout::Bitmask { base } = self.layout {
                if !bits_over(base, code).is_some_and(|b| b.is_power_of_two()) {
                    return Err(CodesError::NotABit { code, base });
                }
            }
        }
        for w in entries.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(CodesError::DuplicateCode { code: w[0].0 });
            }
        }
        for w in errors.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(CodesError::DuplicateCode { code: w[0].0 });
            }
        }
        if entries
            .binary_search_by_key(&self.fallback, |e| e.0)
            .is_err()
        {
            let at = entries.partition_point(|e| e.0 < self.fallback);
            entries.insert(at, (self.fallback, Reason::Listed.into()));
        }
        let known_bits = match self.layout {
            CodeLayout::Bitmask { base } => entries
                .iter()
                .filter_map(|e| bits_over(base, e.0))
                .fold(0, |a, b| a | b),
            CodeLayout::OnePerReason => 0,
        };
        for &(code, _) in &errors {
            let collides = match self.layout {
                CodeLayout::OnePerReason => entries.binary_search_by_key(&code, |e| e.0).is_ok(),
                CodeLayout::Bitmask { base } => {
                    bits_over(base, code).is_some_and(|b| b != 0 && b & !known_bits == 0)
                }
            };
            if collides {
                return Err(CodesError::DuplicateCode { code });
            }
        }
        Ok(CodeScheme {
            layout: self.layout,
            fallback: self.fallback,
            entries: Cow::Owned(entries),
            errors: Cow::Owned(errors),
        })
    }
}

impl CodeScheme {
    /// Starts a scheme with its layout and its fallback code.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeLayout, CodeScheme, ReturnCode};
    /// let s = CodeScheme::builder(CodeLayout::OnePerReason, ReturnCode::LISTED).build()?;
    /// assert_eq!(s.entries().len(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn builder(layout: CodeLayout, fallback: ReturnCode) -> CodeSchemeBuilder {
        CodeSchemeBuilder {
            layout,
            fallback,
            entries: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// A scheme with one code for every listing, such as SpamCop's `127.0.0.2`.
    ///
    /// # Errors
    ///
    /// As [`CodeSchemeBuilder::build`]: the code must be in `127.0.0.0/8` and not `127.0.0.1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{CodeScheme, Reason, ReturnCode};
    /// let s = CodeScheme::single(ReturnCode::LISTED)?;
    /// assert_eq!(s.encode(Reason::SpamTrap.into()), [ReturnCode::LISTED]);
    /// assert!(CodeScheme::single(ReturnCode::new_assert(127, 0, 0, 1)).is_err());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn single(code: ReturnCode) -> Result<CodeScheme, CodesError> {
        CodeScheme::builder(CodeLayout::OnePerReason, code).build()
    }

    /// A scheme from static tables, already sorted and valid (checked by the tests of
    /// [`super::known`]).
    pub(super) const fn from_static(
        layout: CodeLayout,
        fallback: ReturnCode,
        entries: &'static [(ReturnCode, ReasonSet)],
        errors: &'static [(ReturnCode, ListError)],
    ) -> CodeScheme {
        CodeScheme {
            layout,
            fallback,
            entries: Cow::Borrowed(entries),
            errors: Cow::Borrowed(errors),
        }
    }

    /// The layout.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, CodeLayout};
    /// assert_eq!(known::SPAMHAUS_ZEN.layout(), CodeLayout::OnePerReason);
    /// ```
    pub fn layout(&self) -> CodeLayout {
        self.layout
    }

    /// The code (or in a bitmask layout, the bit) that says reasons with no code of their own.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, ReturnCode};
    /// assert_eq!(known::SPAMCOP.fallback(), ReturnCode::LISTED);
    /// ```
    pub fn fallback(&self) -> ReturnCode {
        self.fallback
    }

    /// The listing codes and their reasons, in code order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, Reason};
    /// let (code, reasons) = known::SPAMHAUS_DBL.entries()[0];
    /// assert_eq!(code.to_string(), "127.0.1.2");
    /// assert!(reasons.contains(Reason::SpamDomain));
    /// ```
    pub fn entries(&self) -> &[(ReturnCode, ReasonSet)] {
        &self.entries
    }

    /// The error codes, in code order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, ListError};
    /// assert!(known::SPAMHAUS_ZEN.errors().iter().any(|e| e.1 == ListError::RateLimited));
    /// ```
    pub fn errors(&self) -> &[(ReturnCode, ListError)] {
        &self.errors
    }

    /// Appends to `out` the codes that say `reasons` (none for the empty set), in code order.
    /// Allocates only when `out` must grow.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, Reason, ReasonSet, ReturnCode};
    /// let mut out = Vec::with_capacity(4);
    /// known::SPAMHAUS_DBL.encode_into(ReasonSet::of(&[Reason::Compromised, Reason::Malware]), &mut out);
    /// assert_eq!(out, [ReturnCode::new_assert(127, 0, 1, 105)]);
    /// ```
    pub fn encode_into(&self, reasons: ReasonSet, out: &mut Vec<ReturnCode>) {
        if reasons.is_empty() {
            return;
        }
        let start = out.len();
        match self.layout {
            CodeLayout::OnePerReason => {
                let rest = self.cover(reasons, |code| out.push(code));
                if !rest.is_empty() && !out[start..].contains(&self.fallback) {
                    out.push(self.fallback);
                }
                out[start..].sort_unstable();
            }
            CodeLayout::Bitmask { base } => {
                let mut bits = 0u8;
                let rest = self.cover(reasons, |code| {
                    bits |= bits_over(base, code).unwrap_or(0);
                });
                if !rest.is_empty() {
                    bits |= bits_over(base, self.fallback).unwrap_or(0);
                }
                let [a, b, c, d] = octets(base);
                out.push(ReturnCode::from(Ipv4Addr::new(a, b, c, d | bits)));
            }
        }
    }

    /// The codes that say `reasons`, in code order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, Reason, ReasonSet, ReturnCode};
    /// let codes = known::SURBL_MULTI.encode(ReasonSet::of(&[Reason::Phishing, Reason::Malware]));
    /// assert_eq!(codes, [ReturnCode::new_assert(127, 0, 0, 24)]);
    /// assert!(known::SURBL_MULTI.encode(ReasonSet::EMPTY).is_empty());
    /// ```
    pub fn encode(&self, reasons: ReasonSet) -> Vec<ReturnCode> {
        let mut out = Vec::new();
        self.encode_into(reasons, &mut out);
        out
    }

    /// Calls `emit` for each entry chosen to say `reasons`, largest reason sets first, and
    /// returns the reasons no entry said.
    fn cover(&self, reasons: ReasonSet, mut emit: impl FnMut(ReturnCode)) -> ReasonSet {
        let mut said = ReasonSet::EMPTY;
        let largest = self.entries.iter().map(|e| e.1.len()).max().unwrap_or(0);
        for size in (1..=largest).rev() {
            for &(code, set) in self.entries.iter() {
                if set.len() == size && set.is_subset(reasons) && !set.is_subset(said) {
                    emit(code);
                    said = said.union(set);
                }
            }
        }
        reasons.difference(said)
    }

    /// What one A record means.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, CodeMeaning, ListError, Reason, ReasonSet, ReturnCode};
    /// let uribl = &known::URIBL_MULTI;
    /// assert_eq!(
    ///     uribl.decode(ReturnCode::new_assert(127, 0, 0, 6)),
    ///     CodeMeaning::Listed { reasons: ReasonSet::of(&[Reason::SpamDomain, Reason::Bulk]), unknown: false }
    /// );
    /// assert_eq!(uribl.decode(ReturnCode::new_assert(127, 0, 0, 1)), CodeMeaning::Error(ListError::Refused));
    /// assert_eq!(uribl.decode(ReturnCode::new_assert(192, 0, 2, 1)), CodeMeaning::Error(ListError::NotACode));
    /// ```
    pub fn decode(&self, code: ReturnCode) -> CodeMeaning {
        if let Ok(i) = self.errors.binary_search_by_key(&code, |e| e.0) {
            return CodeMeaning::Error(self.errors[i].1);
        }
        if !code.is_loopback_code() {
            return CodeMeaning::Error(ListError::NotACode);
        }
        let unknown = CodeMeaning::Listed {
            reasons: ReasonSet::EMPTY,
            unknown: true,
        };
        match self.layout {
            CodeLayout::OnePerReason => match self.entries.binary_search_by_key(&code, |e| e.0) {
                Ok(i) => CodeMeaning::Listed {
                    reasons: self.entries[i].1,
                    unknown: false,
                },
                Err(_) => unknown,
            },
            CodeLayout::Bitmask { base } => match bits_over(base, code) {
                Some(bits) if bits != 0 => {
                    let mut reasons = ReasonSet::EMPTY;
                    let mut seen = 0u8;
                    for &(c, set) in self.entries.iter() {
                        let bit = bits_over(base, c).unwrap_or(0);
                        if bits & bit != 0 {
                            reasons = reasons.union(set);
                            seen |= bit;
                        }
                    }
                    CodeMeaning::Listed {
                        reasons,
                        unknown: bits & !seen != 0,
                    }
                }
                _ => unknown,
            },
        }
    }

    /// What a whole answer means: not listed when empty, an error when any record is one,
    /// else listed for the union of the records' reasons.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::codes::{known, ListError, ReturnCode, Verdict};
    /// let zen = &known::SPAMHAUS_ZEN;
    /// let answer = [ReturnCode::new_assert(127, 255, 255, 255)];
    /// assert_eq!(zen.decode_answer(&answer), Verdict::Error(ListError::RateLimited));
    /// ```
    pub fn decode_answer(&self, codes: &[ReturnCode]) -> Verdict {
        let mut verdict = Verdict::NotListed;
        for &code in codes {
            match (self.decode(code), verdict) {
                (CodeMeaning::Error(e), _) => return Verdict::Error(e),
                (CodeMeaning::Listed { reasons, unknown }, Verdict::NotListed) => {
                    verdict = Verdict::Listed { reasons, unknown };
                }
                (
                    CodeMeaning::Listed { reasons, unknown },
                    Verdict::Listed {
                        reasons: r,
                        unknown: u,
                    },
                ) => {
                    verdict = Verdict::Listed {
                        reasons: r.union(reasons),
                        unknown: u || unknown,
                    };
                }
                (CodeMeaning::Listed { .. }, Verdict::Error(_)) => {}
            }
        }
        verdict
    }
}

impl fmt::Display for CodeScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fallback={}", self.layout, self.fallback)?;
        for (code, reasons) in self.entries.iter() {
            write!(f, " {code}={reasons}")?;
        }
        for (code, kind) in self.errors.iter() {
            write!(f, " error:{code}={kind}")?;
        }
        Ok(())
    }
}

fn parse_code(text: &str, offset: usize, field: &'static str) -> Result<ReturnCode, CodesError> {
    // Only the dotted-quad form: `Ipv4Addr` refuses shorter forms and leading zeros.
    text.parse::<Ipv4Addr>()
        .map(ReturnCode::from)
        .map_err(|_| CodesError::BadScheme {
            offset,
            field,
            text: cut(text),
        })
}

impl FromStr for CodeScheme {
    type Err = CodesError;

    fn from_str(s: &str) -> Result<CodeScheme, CodesError> {
        let at = |t: &str| t.as_ptr() as usize - s.as_ptr() as usize;
        let bad = |t: &str, field: &'static str| CodesError::BadScheme {
            offset: at(t),
            field,
            text: cut(t),
        };
        let mut tokens = s.split_ascii_whitespace();
        let first = tokens.next().ok_or(CodesError::BadScheme {
            offset: 0,
            field: "layout",
            text: "".into(),
        })?;
        let layout = if first == "per-reason" {
            CodeLayout::OnePerReason
        } else if let Some(base) = first.strip_prefix("bitmask:") {
            CodeLayout::Bitmask {
                base: parse_code(base, at(base), "bitmask base")?,
            }
        } else {
            return Err(bad(first, "layout"));
        };
        let mut fallback = None;
        let mut entries = Vec::new();
        let mut errors = Vec::new();
        for t in tokens {
            let (key, value) = t.split_once('=').ok_or_else(|| bad(t, "entry"))?;
            if key == "fallback" {
                if fallback.is_some() {
                    return Err(bad(t, "second fallback"));
                }
                fallback = Some(parse_code(value, at(value), "fallback")?);
            } else if let Some(code) = key.strip_prefix("error:") {
                let code = parse_code(code, at(code), "error code")?;
                let kind = value.parse().map_err(|_| bad(value, "list error"))?;
                errors.push((code, kind));
            } else {
                let code = parse_code(key, at(key), "code")?;
                let reasons = value.parse::<ReasonSet>().map_err(|e| match e {
                    CodesError::UnknownReason { offset, text } => CodesError::UnknownReason {
                        offset: at(value) + offset,
                        text,
                    },
                    other => other,
                })?;
                entries.push((code, reasons));
            }
        }
        let fallback = fallback.ok_or(CodesError::BadScheme {
            offset: s.len(),
            field: "fallback",
            text: "".into(),
        })?;
        let mut b = CodeScheme::builder(layout, fallback);
        b.entries = entries;
        b.errors = errors;
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(d: u8) -> ReturnCode {
        ReturnCode::new_assert(127, 0, 0, d)
    }

    #[test]
    fn validation() {
        let per = CodeLayout::OnePerReason;
        let outside = ReturnCode::new_assert(10, 0, 0, 2);
        assert_eq!(
            CodeScheme::builder(per, outside).build(),
            Err(CodesError::OutsideLoopback { code: outside })
        );
        assert_eq!(
            CodeScheme::builder(per, c(2))
                .code(c(1), Reason::Bulk.into())
                .build(),
            Err(CodesError::ReservedCode { code: c(1) })
        );
        assert_eq!(
            CodeScheme::builder(per, c(2))
                .code(c(3), ReasonSet::EMPTY)
                .build(),
            Err(CodesError::NoReasons { code: c(3) })
        );
        assert_eq!(
            CodeScheme::builder(per, c(2))
                .code(c(3), Reason::Bulk.into())
                .code(c(3), Reason::Manual.into())
                .build(),
            Err(CodesError::DuplicateCode { code: c(3) })
        );
        assert_eq!(
            CodeScheme::builder(per, c(2))
                .error(c(2), ListError::Refused)
                .build(),
            Err(CodesError::DuplicateCode { code: c(2) })
        );
        let bm = CodeLayout::Bitmask { base: c(0) };
        assert_eq!(
            CodeScheme::builder(bm, c(6)).build(),
            Err(CodesError::NotABit {
                code: c(6),
                base: c(0)
            })
        );
        assert_eq!(
            CodeScheme::builder(bm, c(2))
                .code(ReturnCode::new_assert(127, 0, 1, 4), Reason::Bulk.into())
                .build(),
            Err(CodesError::NotABit {
                code: ReturnCode::new_assert(127, 0, 1, 4),
                base: c(0)
            })
        );
        assert_eq!(
            CodeScheme::builder(bm, c(1)).build(),
            Err(CodesError::ReservedCode { code: c(1) })
        );
        // an error code that a combination of known bits would spell
        assert_eq!(
            CodeScheme::builder(bm, c(2))
                .code(c(4), Reason::Bulk.into())
                .error(c(6), ListError::Refused)
                .build(),
            Err(CodesError::DuplicateCode { code: c(6) })
        );
        // but one with an unknown bit is fine
        assert!(CodeScheme::builder(bm, c(2))
            .error(c(1), ListError::Refused)
            .error(c(255), ListError::BadQuery)
            .build()
            .is_ok());
    }

    #[test]
    fn fallback_gets_an_entry() {
        let s = CodeScheme::builder(CodeLayout::OnePerReason, c(2))
            .code(c(4), Reason::Exploited.into())
            .build()
            .unwrap();
        assert_eq!(
            s.entries(),
            &[
                (c(2), Reason::Listed.into()),
                (c(4), Reason::Exploited.into())
            ]
        );
        assert_eq!(s.encode(Reason::Bulk.into()), [c(2)]);
        assert_eq!(
            s.encode(ReasonSet::of(&[
                Reason::Bulk,
                Reason::Listed,
                Reason::Exploited
            ])),
            [c(2), c(4)]
        );
    }

    #[test]
    fn bitmask_decode() {
        let s = CodeScheme::builder(CodeLayout::Bitmask { base: c(0) }, c(2))
            .code(c(2), Reason::SpamDomain.into())
            .code(c(8), Reason::Phishing.into())
            .error(c(1), ListError::Refused)
            .build()
            .unwrap();
        assert_eq!(
            s.decode(c(10)),
            CodeMeaning::Listed {
                reasons: ReasonSet::of(&[Reason::SpamDomain, Reason::Phishing]),
                unknown: false
            }
        );
        assert_eq!(
            s.decode(c(14)),
            CodeMeaning::Listed {
                reasons: ReasonSet::of(&[Reason::SpamDomain, Reason::Phishing]),
                unknown: true
            }
        );
        assert_eq!(
            s.decode(c(0)),
            CodeMeaning::Listed {
                reasons: ReasonSet::EMPTY,
                unknown: true
            }
        );
        assert_eq!(
            s.decode(ReturnCode::new_assert(127, 0, 1, 2)),
            CodeMeaning::Listed {
                reasons: ReasonSet::EMPTY,
                unknown: true
            }
        );
        assert_eq!(s.encode(Reason::Manual.into()), [c(2)]);
    }

    #[test]
    fn text_errors() {
        let e = |s: &str| s.parse::<CodeScheme>().unwrap_err();
        assert!(matches!(
            e(""),
            CodesError::BadScheme {
                field: "layout",
                ..
            }
        ));
        assert!(matches!(
            e("per-reason"),
            CodesError::BadScheme {
                field: "fallback",
                offset: 10,
                ..
            }
        ));
        assert!(matches!(
            e("bitmask:127.0.0 fallback=127.0.0.2"),
            CodesError::BadScheme {
                field: "bitmask base",
                offset: 8,
                ..
            }
        ));
        assert!(matches!(
            e("per-reason fallback=127.0.0.2 127.0.0.3=bulk,nope"),
            CodesError::UnknownReason { offset: 45, .. }
        ));
        assert!(matches!(
            e("per-reason fallback=127.0.0.2 error:127.0.0.3=oops"),
            CodesError::BadScheme {
                field: "list error",
                offset: 46,
                ..
            }
        ));
        assert!(matches!(
            e("per-reason fallback=127.0.0.2 fallback=127.0.0.2"),
            CodesError::BadScheme {
                field: "second fallback",
                ..
            }
        ));
        assert!(matches!(
            e("per-reason fallback=127.0.0.2 127.0.0.3"),
            CodesError::BadScheme { field: "entry", .. }
        ));
        assert!(matches!(
            e("per-reason fallback=127.0.0.02"),
            CodesError::BadScheme {
                field: "fallback",
                ..
            }
        ));
    }
}
