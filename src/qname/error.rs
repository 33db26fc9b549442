use super::ZoneKind;
use crate::subject::{SubjectError, SubjectKind};

/// Errors of the [`qname`](super) module.
///
/// Offsets are byte offsets into the query name given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QnameError {
    /// The zone's origin is not a domain name.
    #[error("bad zone origin: {0}")]
    BadOrigin(#[source] SubjectError),
    /// The zone's origin is too long for every query name to fit under it.
    #[error("zone origin of {len} octets, at most {max} allowed")]
    OriginTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The name is neither the zone's origin nor a name below it.
    #[error("name is not in the zone")]
    NotInZone,
    /// The name is longer than 253 octets (without the trailing dot).
    #[error("query name of {len} octets, at most 253 allowed")]
    NameTooLong {
        /// Its length.
        len: usize,
    },
    /// An empty label (two dots in a row, or a leading dot).
    #[error("byte {offset}: empty label")]
    EmptyLabel {
        /// Where it is.
        offset: usize,
    },
    /// A label longer than 63 octets.
    #[error("byte {offset}: label of {len} octets, at most 63 allowed")]
    LabelTooLong {
        /// Where it starts.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// A byte that no host name holds, in a name under a domain zone.
    #[error("byte {offset}: {byte:#04x} not allowed in a domain name")]
    BadChar {
        /// Where it is.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// Under a domain zone, a name whose last label is all digits: an IP address asked of a
    /// domain list.
    #[error("byte {offset}: numeric last label, an IP address and not a domain")]
    NumericLastLabel {
        /// Where the last label starts.
        offset: usize,
    },
    /// Under an IP zone, a name of at most four labels (read as IPv4 octets) with a label
    /// that is not decimal.
    #[error("byte {offset}: IPv4 octet label is not decimal")]
    NotDecimal {
        /// Where the label starts.
        offset: usize,
    },
    /// An IPv4 octet label with a leading zero (`01`): octal to some resolvers, so refused.
    #[error("byte {offset}: IPv4 octet label with a leading zero")]
    LeadingZero {
        /// Where the label starts.
        offset: usize,
    },
    /// An IPv4 octet label over 255.
    #[error("byte {offset}: IPv4 octet label over 255")]
    OctetTooLarge {
        /// Where the label starts.
        offset: usize,
    },
    /// Decimal labels, more than the 4 octets of an IPv4 address, and not all IPv6 nibbles.
    #[error("{labels} octet labels, an IPv4 address has 4")]
    TooManyOctets {
        /// How many labels the name has below the zone.
        labels: usize,
    },
    /// A name of more than four labels (read as IPv6 nibbles) with a label of more than one
    /// character.
    #[error("byte {offset}: IPv6 nibble label longer than one hex digit")]
    NibbleTooLong {
        /// Where the label starts.
        offset: usize,
    },
    /// An IPv6 nibble label that is not a hex digit.
    #[error("byte {offset}: IPv6 nibble label is not a hex digit")]
    NotHex {
        /// Where the label starts.
        offset: usize,
    },
    /// Under an IP zone, more labels than an IPv6 address has nibbles (32).
    #[error("{labels} labels, more than the 32 nibbles of an IPv6 address")]
    TooManyLabels {
        /// How many labels the name has below the zone.
        labels: usize,
    },
    /// A subject that this kind of zone does not list.
    #[error("no query name for a subject of kind {subject} in a zone of kind {zone}")]
    WrongKind {
        /// The subject's kind.
        subject: SubjectKind,
        /// The zone's kind.
        zone: ZoneKind,
    },
    /// A network whose prefix does not end on a label boundary (IPv4: a multiple of 8 bits,
    /// IPv6: of 4), so that no single name stands for it.
    #[error("prefix length /{prefix_len} is not on a label boundary")]
    UnalignedPrefix {
        /// The prefix length.
        prefix_len: u8,
    },
}
