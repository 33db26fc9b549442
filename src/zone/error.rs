use std::fmt;

/// What is wrong with one line of a dataset file.
///
/// The texts follow rbldnsd's warnings where rbldnsd has one, with the detail rbldnsd leaves
/// out (which octet, which prefix length).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// An address (or range) that does not parse.
    #[error("invalid address {text:?}")]
    BadAddress {
        /// The address field.
        text: Box<str>,
    },
    /// An IPv4 octet above 255.
    #[error("invalid address {text:?}: octet above 255")]
    OctetTooLarge {
        /// The address field.
        text: Box<str>,
    },
    /// A prefix length above the address size.
    #[error("invalid address {text:?}: prefix length above {max}")]
    PrefixTooLong {
        /// The address field.
        text: Box<str>,
        /// 32 or 128.
        max: u8,
    },
    /// A range whose end lies before its start.
    #[error("invalid address {text:?}: range ends before it starts")]
    ReversedRange {
        /// The address field.
        text: Box<str>,
    },
    /// A bare number where rbldnsd wants `a/8` (or a bare IPv6 word).
    #[error("invalid address {text:?}: a bare number is not an address, write it as a/8")]
    BareNumber {
        /// The address field.
        text: Box<str>,
    },
    /// A CIDR network with bits set past its prefix (`127.2.3.4/24`).
    #[error("invalid range (non-zero host part) {text:?}")]
    HostBitsSet {
        /// The address field.
        text: Box<str>,
    },
    /// A range larger than `$MAXRANGE4` allows.
    #[error("too large range ({size}) ignored ({max} max)")]
    RangeTooLarge {
        /// Addresses in the range.
        size: u64,
        /// The `$MAXRANGE4` limit.
        max: u64,
    },
    /// An entry form the dataset type does not take (a network in ip4tset, a /48 in
    /// ip6tset, an exclusion in ip4tset).
    #[error("{text:?} is not an entry of a {dataset} dataset: {why}")]
    WrongEntry {
        /// The entry.
        text: Box<str>,
        /// The dataset type.
        dataset: &'static str,
        /// What this type takes.
        why: &'static str,
    },
    /// A domain name that is not valid.
    #[error("invalid domain name {text:?}: {reason}")]
    BadDomain {
        /// The name field.
        text: Box<str>,
        /// Why.
        reason: crate::subject::SubjectError,
    },
    /// The A value of `:A:TXT` does not parse (or is 0).
    #[error("invalid A RR {text:?}")]
    BadReturnCode {
        /// The A field.
        text: Box<str>,
    },
    /// Something after `:A` that is neither `:TXT` nor the end of the line.
    #[error("unrecognized value for an entry {text:?}")]
    BadValue {
        /// The value.
        text: Box<str>,
    },
    /// A TXT longer than 255 bytes (rbldnsd truncates it and keeps the entry; so does rblkit
    /// unless strict).
    #[error("TXT RR truncated to 255 bytes (was {len})")]
    TxtTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// A `$` line rbldnsd does not know, or whose arguments do not parse.
    #[error("invalid or unrecognized special entry {text:?}")]
    BadDirective {
        /// The line.
        text: Box<str>,
    },
    /// A data line in a `combined` dataset before any `$DATASET` line (rbldnsd refuses to
    /// load the dataset then; rblkit skips the line).
    #[error("invalid/unrecognized entry - specify $DATASET line")]
    NoDataset,
    /// A `$DATASET` line without subzones: its data is read and not served.
    #[error("no subzone(s) specified for dataset, data will be ignored")]
    NoSubzones,
    /// A `$DATASET` of an unknown type, or of type `combined` (its lines are skipped up to
    /// the next `$DATASET`).
    #[error("unknown dataset type {name:?} in $DATASET")]
    BadDatasetType {
        /// The type given.
        name: Box<str>,
    },
    /// `$DATASET`, which only a `combined` dataset takes.
    #[error("$DATASET is only allowed in a combined dataset")]
    NotCombined,
    /// `$MAXRANGE4` larger than one given before (rbldnsd only lets it shrink).
    #[error("ignoring attempt to increase $MAXRANGE4 from {from} to {to}")]
    MaxRangeIncrease {
        /// The current limit.
        from: u64,
        /// The one asked for.
        to: u64,
    },
    /// The same prefix twice in an ip4trie/ip6trie dataset: the first one stays.
    #[error("duplicated entry for {net}")]
    Duplicate {
        /// The prefix.
        net: Box<str>,
    },
    /// An `=keyword` value of an access dataset that is no keyword (`ignore`, `blackhole`,
    /// `refuse`, `empty`, `pass`; `accept` for keys).
    #[error("invalid keyword {text:?}")]
    BadKeyword {
        /// The word.
        text: Box<str>,
    },
    /// An aclkey key that cannot be a DNS label (a dot, a control character or space, more
    /// than 63 bytes).
    #[error("invalid key {text:?}: a key is one DNS label of at most 63 printable bytes")]
    BadKey {
        /// The key.
        text: Box<str>,
    },
    /// A NUL byte in the line.
    #[error("NUL byte in line")]
    NulByte,
    /// Bytes that are not UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Where, within the line.
        offset: usize,
    },
}

/// One bad line: where it is and what is wrong with it. In the default mode these are
/// warnings collected while the good lines load; in strict mode the first one is the error.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetParser, Problem};
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("bl.txt", b"192.0.2.1\n192.0.2.300\n")?;
/// let ds = p.finish();
/// let w = &ds.warnings()[0];
/// assert_eq!((w.file(), w.line()), ("bl.txt", 2));
/// assert!(matches!(w.problem(), Problem::OctetTooLarge { .. }));
/// assert_eq!(w.to_string(), "bl.txt:2:1: invalid address \"192.0.2.300\": octet above 255");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub(crate) file: Box<str>,
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) problem: Problem,
}

impl LineError {
    /// The file name as given to the parser.
    ///
    /// # Examples
    ///
    /// See [`LineError`].
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The line number, from 1 (a CRLF pair ends one line).
    ///
    /// # Examples
    ///
    /// See [`LineError`].
    pub fn line(&self) -> u32 {
        self.line
    }
    /// The column (from 1, in bytes) where the bad field starts.
    ///
    /// # Examples
    ///
    /// See [`LineError`].
    pub fn column(&self) -> u32 {
        self.column
    }
    /// What is wrong.
    ///
    /// # Examples
    ///
    /// See [`LineError`].
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.problem
        )
    }
}

impl std::error::Error for LineError {}

/// Why a dataset could not be loaded or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneError {
    /// A bad line, in strict mode.
    #[error(transparent)]
    Line(#[from] LineError),
    /// A `ZONE:TYPE:FILE[,FILE…]` specification that does not parse.
    #[error("bad dataset specification {text:?}: {why}")]
    BadSpec {
        /// The specification.
        text: Box<str>,
        /// What is wrong.
        why: &'static str,
    },
    /// A dataset type rblkit does not read.
    #[error("unknown or unsupported dataset type {name:?}")]
    UnknownType {
        /// The type name.
        name: Box<str>,
    },
    /// A file could not be read or written.
    #[error("{file}: {kind}")]
    Io {
        /// The file.
        file: Box<str>,
        /// What went wrong.
        kind: std::io::ErrorKind,
    },
    /// A list holds something the chosen output format cannot say.
    #[error("cannot write as {format}: {why}")]
    NotExpressible {
        /// The output format (`ip4set`, `bind`, …).
        format: &'static str,
        /// What could not be written.
        why: Box<str>,
    },
}
