/// Why a text is not a valid [`Subject`](super::Subject).
///
/// Offsets are byte offsets into the text given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The text is empty.
    #[error("empty subject")]
    Empty,
    /// A domain name has an empty label (two dots in a row, or a leading dot).
    #[error("byte {offset}: empty label in domain name")]
    EmptyLabel {
        /// Where the empty label starts.
        offset: usize,
    },
    /// A label is longer than 63 octets.
    #[error("byte {offset}: label of {len} octets, at most 63 allowed")]
    LabelTooLong {
        /// Where the label starts.
        offset: usize,
        /// Its length in octets (as an A-label).
        len: usize,
    },
    /// The name is longer than 253 octets (as A-labels, without the trailing dot).
    #[error("domain name of {len} octets, at most 253 allowed")]
    NameTooLong {
        /// Its length in octets.
        len: usize,
    },
    /// A character that no host name holds.
    #[error("byte {offset}: character {ch:?} not allowed in a domain name")]
    BadChar {
        /// Where it is.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// An internationalised name that UTS #46 refuses (bad A-label, disallowed code point).
    #[error("invalid internationalised domain name {text:?}")]
    BadIdn {
        /// The name (cut to 64 characters).
        text: Box<str>,
    },
    /// The last label is all digits: an IP address (maybe a malformed one), never a domain.
    #[error("{text:?} is neither an IP address nor a domain name (last label is numeric)")]
    NumericLastLabel {
        /// The text.
        text: Box<str>,
    },
    /// Text with `:` that is not an IPv6 address.
    #[error("{text:?} is not an IP address")]
    BadAddress {
        /// The text.
        text: Box<str>,
    },
    /// Text with `/` that is not `address/prefix` with a prefix in range.
    #[error("{text:?} is not a network (address/prefix)")]
    BadNetwork {
        /// The text.
        text: Box<str>,
    },
    /// An email address without a local part, or with a character a local part cannot hold.
    #[error("byte {offset}: bad local part in email address ({what})")]
    BadLocalPart {
        /// Where the problem is.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The domain of an email address is not valid.
    #[error("byte {offset}: bad domain in email address: {source}")]
    BadEmailDomain {
        /// Where the domain starts.
        offset: usize,
        /// What is wrong with it.
        source: Box<SubjectError>,
    },
}
