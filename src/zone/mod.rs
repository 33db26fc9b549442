//! rbldnsd datasets in and out, and RFC 1035 master files out.
//!
//! Operators keep their lists as rbldnsd dataset files (`ip4set`, `ip4tset`, `ip4trie`,
//! `ip6trie`, `ip6tset`, `dnset`) and mirror them with rsync. This module reads those files
//! exactly as rbldnsd does — `$SOA`, `$NS`, `$TTL`, `$MAXRANGE4`, `$TIMESTAMP`, the `$0`–`$9`
//! substitution variables and the `$=` base template, the `:A:TXT` default line and per-entry
//! values, `!` exclusions, rbldnsd's short IPv4 forms, CIDR and ranges, dnset's `*.` and `.`
//! wildcards, comments, CRLF, several files per dataset — into a [`List`] (with rbldnsd's
//! precedence, [`Precedence::MostSpecific`](crate::list::Precedence)) plus the zone's
//! metadata, and writes datasets back ([`Dataset::write_rbldnsd`]) and master files that NSD,
//! Knot and BIND load ([`Zone::write_master`]).
//!
//! Where rbldnsd warns about a line and skips it, so does the parser: the warnings, with file
//! and line, are collected in the [`Dataset`] (never printed by the library), and every good
//! line is kept. [`Strictness::Strict`] makes the first bad line an error.
//!
//! TXT templates in the compiled [`List`] keep only `$` (the subject) and `$$`: the
//! dataset-scoped `$n` variables and the `$=` base template are expanded at load time. `$`
//! stands for the queried address in IP datasets and for the listed entry's name in a dnset
//! (the [`DomainMatch::name`](crate::list::DomainMatch) of a lookup).
//!
//! # Examples
//!
//! ```
//! use rblkit::zone::{DatasetKind, DatasetParser, Zone};
//!
//! let mut p = DatasetParser::new(DatasetKind::Ip4Set);
//! p.parse_file("bl.txt", b"$SOA 1h ns.bl.example. hostmaster.bl.example. 7 1h 15m 1w 5m\n\
//!     $1 https://bl.example/lookup?ip=\n\
//!     :127.0.0.2:Listed, see $1$\n\
//!     192.0.2.0/24\n\
//!     !192.0.2.1\n\
//!     198.51.100.7 :127.0.0.4:Spam trap hit\n")?;
//! let ds = p.finish();
//! assert!(ds.warnings().is_empty());
//! let zone = Zone::new("bl.example".parse()?, vec![ds.into()]);
//!
//! let a = zone.query("9.2.0.192.bl.example").unwrap();
//! assert_eq!(a.codes[0].to_string(), "127.0.0.2");
//! assert_eq!(a.txt, ["Listed, see https://bl.example/lookup?ip=192.0.2.9"]);
//! assert!(zone.query("1.2.0.192.bl.example").is_none());
//! assert_eq!(zone.soa().unwrap().serial, 7);
//! # Ok::<(), rblkit::Error>(())
//! ```

mod acl;
mod addr;
mod error;
mod export;
mod parse;
mod records;

pub use acl::{Acl, AclAction, AclKeys, QueryForm};
pub use error::{LineError, Problem, ZoneError};
pub use export::{list_master_records, MasterRecord, MasterReport, RecordData};
pub use parse::DatasetParser;
pub use records::{list_hits, subzone_split, Hit, MAX_TXT};

use crate::codes::ReturnCode;
use crate::list::List;
use crate::subject::Domain;
use crate::time::Timestamp;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// The rbldnsd dataset types rblkit reads and writes.
///
/// # Examples
///
/// ```
/// use rblkit::zone::DatasetKind;
/// let k: DatasetKind = "ip4set".parse()?;
/// assert_eq!(k, DatasetKind::Ip4Set);
/// assert_eq!(k.to_string(), "ip4set");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DatasetKind {
    /// IPv4 addresses, networks and ranges with per-entry values; the most specific octet
    /// level (/32, /24, /16, /8) decides.
    Ip4Set,
    /// Single IPv4 addresses sharing one value.
    Ip4TSet,
    /// IPv4 CIDR networks with per-entry values; longest prefix decides.
    Ip4Trie,
    /// IPv6 CIDR networks with per-entry values; longest prefix decides.
    Ip6Trie,
    /// IPv6 /64 networks sharing one value, with /128 exclusions.
    Ip6TSet,
    /// Domain names, `*.name` (subdomains) and `.name` (name and subdomains).
    DnSet,
    /// Several datasets of the types above in one file, each for some subzones
    /// (`$DATASET type[:name] subzone…`, `@` for the zone itself).
    Combined,
    /// Not data: what to do with queries from client networks (see [`Acl`]).
    Acl,
    /// Not data: keys in query names, `SUBJECT.KEY.ZONE` (see [`AclKeys`]; the `aclkey` type
    /// of the rspamd fork of rbldnsd).
    AclKey,
}

impl DatasetKind {
    /// Every data kind, in rbldnsd's documentation order (the access kinds apart, in
    /// [`DatasetKind::ACCESS`]).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::zone::DatasetKind::ALL.len(), 7);
    /// ```
    pub const ALL: [DatasetKind; 7] = [
        DatasetKind::Ip4Set,
        DatasetKind::Ip4Trie,
        DatasetKind::Ip4TSet,
        DatasetKind::Ip6Trie,
        DatasetKind::Ip6TSet,
        DatasetKind::DnSet,
        DatasetKind::Combined,
    ];

    /// The access kinds: `acl` and `aclkey`, which say who gets which answers rather than
    /// what is listed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::DatasetKind;
    /// assert_eq!("acl".parse::<DatasetKind>()?, DatasetKind::ACCESS[0]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub const ACCESS: [DatasetKind; 2] = [DatasetKind::Acl, DatasetKind::AclKey];

    /// rbldnsd's name of the type.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::zone::DatasetKind::DnSet.name(), "dnset");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            DatasetKind::Ip4Set => "ip4set",
            DatasetKind::Ip4TSet => "ip4tset",
            DatasetKind::Ip4Trie => "ip4trie",
            DatasetKind::Ip6Trie => "ip6trie",
            DatasetKind::Ip6TSet => "ip6tset",
            DatasetKind::DnSet => "dnset",
            DatasetKind::Combined => "combined",
            DatasetKind::Acl => "acl",
            DatasetKind::AclKey => "aclkey",
        }
    }

    fn is_ip4(self) -> bool {
        matches!(
            self,
            DatasetKind::Ip4Set | DatasetKind::Ip4TSet | DatasetKind::Ip4Trie
        )
    }

    fn is_ip6(self) -> bool {
        matches!(self, DatasetKind::Ip6Trie | DatasetKind::Ip6TSet)
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetKind {
    type Err = ZoneError;
    fn from_str(s: &str) -> Result<DatasetKind, ZoneError> {
        DatasetKind::ALL
            .into_iter()
            .chain(DatasetKind::ACCESS)
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| ZoneError::UnknownType { name: s.into() })
    }
}

/// Whether a bad line is a warning or an error.
///
/// # Examples
///
/// ```
/// assert_eq!(rblkit::zone::Strictness::default(), rblkit::zone::Strictness::Lenient);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strictness {
    /// Warn, skip the line and go on, as rbldnsd does.
    #[default]
    Lenient,
    /// Fail on the first bad line.
    Strict,
}

/// What a CIDR network with bits set after its prefix (`192.0.2.9/24`) does.
///
/// # Examples
///
/// ```
/// assert_eq!(rblkit::zone::HostBits::default(), rblkit::zone::HostBits::Reject);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum HostBits {
    /// A warning and the line skipped (rbldnsd's default).
    #[default]
    Reject,
    /// The host bits cleared (rbldnsd's `-e`).
    Clear,
}

/// How datasets are loaded from files.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{LoadOptions, Strictness};
/// let o = LoadOptions::default().with_strictness(Strictness::Strict);
/// assert_eq!(o.strictness, Strictness::Strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Bad lines: warnings or an error.
    pub strictness: Strictness,
    /// CIDR networks with host bits set.
    pub host_bits: HostBits,
}

impl LoadOptions {
    /// With this strictness.
    ///
    /// # Examples
    ///
    /// See [`LoadOptions`].
    pub fn with_strictness(mut self, s: Strictness) -> LoadOptions {
        self.strictness = s;
        self
    }

    /// With this host-bits rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{HostBits, LoadOptions};
    /// assert_eq!(LoadOptions::default().with_host_bits(HostBits::Clear).host_bits, HostBits::Clear);
    /// ```
    pub fn with_host_bits(mut self, h: HostBits) -> LoadOptions {
        self.host_bits = h;
        self
    }
}

/// A `$SOA` line. Times are seconds; a `ttl` of `None` (0 in the file) means the default TTL.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::DnSet);
/// p.parse_file("d", b"$SOA 0 ns.example. admin.example. 0 2h 2h 1w 1h\n")?;
/// let soa = p.finish().soa().cloned().unwrap();
/// assert_eq!((soa.ttl, soa.refresh, soa.minimum), (None, 7200, 3600));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Soa {
    /// The SOA record's TTL.
    pub ttl: Option<u32>,
    /// The primary name server (lowercase, no trailing dot).
    pub mname: Box<str>,
    /// The responsible person's mailbox as a name.
    pub rname: Box<str>,
    /// The serial; 0 means the newest modification time of the dataset's files.
    pub serial: u32,
    /// Refresh.
    pub refresh: u32,
    /// Retry.
    pub retry: u32,
    /// Expire.
    pub expire: u32,
    /// Minimum (negative-answer TTL).
    pub minimum: u32,
}

/// A `$NS` line: the zone's name servers (those written `-name` left out, at most 32).
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::DnSet);
/// p.parse_file("d", b"$NS 1d ns1.example. -ns2.example. ns3.example.\n")?;
/// let ns = p.finish().ns().cloned().unwrap();
/// assert_eq!(ns.names.len(), 2);
/// assert_eq!(ns.ttl, Some(86400));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NsRecords {
    /// The NS records' TTL.
    pub ttl: Option<u32>,
    /// The name servers (lowercase, no trailing dot).
    pub names: Vec<Box<str>>,
}

/// One loaded dataset: the compiled [`List`] and the metadata its files gave.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::DnSet);
/// p.parse_file("d.txt", b"$TTL 5m\n.spam.example :127.0.1.2:domain $ listed\nbad..name\n")?;
/// let ds = p.finish();
/// assert_eq!(ds.kind(), DatasetKind::DnSet);
/// assert_eq!(ds.ttl(), Some(300));
/// assert_eq!((ds.lines(), ds.entries(), ds.warnings().len()), (3, 1, 1));
/// let m = ds.list().lookup_domain_match("www.spam.example").unwrap();
/// assert_eq!(m.listing.render_txt(0, m.name).unwrap(), "domain spam.example listed");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    kind: DatasetKind,
    list: List,
    soa: Option<Soa>,
    ns: Option<NsRecords>,
    ttl: Option<u32>,
    timestamp: Option<Timestamp>,
    expires: Option<Timestamp>,
    warnings: Vec<LineError>,
    files: Vec<Box<str>>,
    lines: u64,
    entries: u64,
    mtime: Option<Timestamp>,
    /// combined: the nested datasets and the subzones (relative, "" for `@`) of each.
    subsets: Vec<(Vec<Box<str>>, Dataset)>,
    /// acl: the networks and their actions.
    acl: Option<Acl>,
    /// aclkey: the keys and their actions.
    keys: Option<AclKeys>,
}

impl Dataset {
    /// A dataset of this kind holding `list` and no metadata (for instance to export a
    /// compiled list).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::zone::{Dataset, DatasetKind};
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
    /// let ds = Dataset::from_list(DatasetKind::Ip4Set, b.build());
    /// assert_eq!(ds.list().ipv4_addresses().count(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn from_list(kind: DatasetKind, list: List) -> Dataset {
        Dataset {
            kind,
            list,
            soa: None,
            ns: None,
            ttl: None,
            timestamp: None,
            expires: None,
            warnings: Vec::new(),
            files: Vec::new(),
            lines: 0,
            entries: 0,
            mtime: None,
            subsets: Vec::new(),
            acl: None,
            keys: None,
        }
    }

    /// The networks and actions of an `acl` dataset (`None` for other types).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Acl);
    /// p.parse_file("acl", b"192.0.2.0/24 :refuse\n2001:db8::/32\n")?;
    /// assert_eq!(p.finish().acl().unwrap().len(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn acl(&self) -> Option<&Acl> {
        self.acl.as_ref()
    }

    /// The keys of an `aclkey` dataset (`None` for other types).
    ///
    /// # Examples
    ///
    /// See [`AclKeys`].
    pub fn keys(&self) -> Option<&AclKeys> {
        self.keys.as_ref()
    }

    /// Loads the files of a spec (its zone is not used here).
    ///
    /// # Errors
    ///
    /// A file that cannot be read; in strict mode, the first bad line.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use rblkit::zone::{Dataset, DatasetSpec, LoadOptions};
    /// let spec: DatasetSpec = "bl.example:ip4set:/var/lib/rbldnsd/bl.txt".parse()?;
    /// let ds = Dataset::load(&spec, LoadOptions::default())?;
    /// for w in ds.warnings() {
    ///     eprintln!("{w}");
    /// }
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn load(spec: &DatasetSpec, options: LoadOptions) -> Result<Dataset, ZoneError> {
        parse::load_files(spec.kind, &spec.files, &options)
    }

    /// The dataset type.
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }
    /// The compiled list.
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn list(&self) -> &List {
        &self.list
    }
    /// The first `$SOA` line.
    ///
    /// # Examples
    ///
    /// See [`Soa`].
    pub fn soa(&self) -> Option<&Soa> {
        self.soa.as_ref()
    }
    /// The first `$NS` line.
    ///
    /// # Examples
    ///
    /// See [`NsRecords`].
    pub fn ns(&self) -> Option<&NsRecords> {
        self.ns.as_ref()
    }
    /// The last `$TTL` (seconds); `None` means the server's default.
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn ttl(&self) -> Option<u32> {
        self.ttl
    }
    /// `$TIMESTAMP`'s data time and expiry (the server refuses data from the future and stops
    /// answering after the expiry; the library only reports them).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$TIMESTAMP 2026:11:20 +1d\n")?;
    /// let ds = p.finish();
    /// assert_eq!(ds.timestamp().0.unwrap().to_string(), "2026-11-20T00:00:00Z");
    /// assert_eq!(ds.timestamp().1.unwrap().to_string(), "2026-11-21T00:00:00Z");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn timestamp(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (self.timestamp, self.expires)
    }
    /// The bad lines, in order (empty in strict mode: there the first one is the error).
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn warnings(&self) -> &[LineError] {
        &self.warnings
    }
    /// The files read, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"")?;
    /// p.parse_file("b", b"")?;
    /// assert_eq!(p.finish().files().len(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn files(&self) -> &[Box<str>] {
        &self.files
    }
    /// Lines read (physical lines, all files).
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn lines(&self) -> u64 {
        self.lines
    }
    /// Entry lines accepted.
    ///
    /// # Examples
    ///
    /// See [`Dataset`].
    pub fn entries(&self) -> u64 {
        self.entries
    }
    /// The newest modification time of the files (when loaded from disk).
    ///
    /// # Examples
    ///
    /// ```
    /// let ds = rblkit::zone::DatasetParser::new(rblkit::zone::DatasetKind::Ip4Set).finish();
    /// assert!(ds.mtime().is_none());
    /// ```
    pub fn mtime(&self) -> Option<Timestamp> {
        self.mtime
    }

    /// Sets the SOA (for instance before exporting a compiled list).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{Dataset, DatasetKind, Soa};
    /// let mut ds = Dataset::from_list(DatasetKind::Ip4Set, rblkit::List::builder().build());
    /// let mut p = rblkit::zone::DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("x", b"$SOA 1h ns.example. a.example. 1 1h 1h 1d 1h\n")?;
    /// ds.set_soa(p.finish().soa().cloned());
    /// assert_eq!(ds.soa().unwrap().serial, 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn set_soa(&mut self, soa: Option<Soa>) {
        self.soa = soa;
    }

    /// Sets the NS records.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{Dataset, DatasetKind};
    /// let mut ds = Dataset::from_list(DatasetKind::Ip4Set, rblkit::List::builder().build());
    /// ds.set_ns(None);
    /// assert!(ds.ns().is_none());
    /// ```
    pub fn set_ns(&mut self, ns: Option<NsRecords>) {
        self.ns = ns;
    }

    /// Sets the `$TTL`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{Dataset, DatasetKind};
    /// let mut ds = Dataset::from_list(DatasetKind::Ip4Set, rblkit::List::builder().build());
    /// ds.set_ttl(Some(60));
    /// assert_eq!(ds.ttl(), Some(60));
    /// ```
    pub fn set_ttl(&mut self, ttl: Option<u32>) {
        self.ttl = ttl;
    }

    /// The nested datasets of a `combined` dataset, each with its subzones (relative to the
    /// zone, `""` for `@`); empty for the other types.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Combined);
    /// p.parse_file("c", b"$DATASET ip4set proxies @\n192.0.2.1\n$DATASET dnset:names\n")?;
    /// let ds = p.finish();
    /// let v: Vec<_> = ds.subsets().map(|(zones, d)| (zones.len(), d.kind())).collect();
    /// assert_eq!(v, [(2, DatasetKind::Ip4Set), (0, DatasetKind::DnSet)]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn subsets(&self) -> impl Iterator<Item = (&[Box<str>], &Dataset)> + '_ {
        self.subsets.iter().map(|(z, d)| (z.as_slice(), d))
    }

    /// What this dataset answers for a query name relative to the zone (`"2.0.0.127"`,
    /// `"www.spam.example"`, 32 IPv6 nibbles), appending to `answer`; whether it matched.
    fn query_into(&self, q: &Query<'_>, answer: &mut Answer) -> bool {
        let rel = q.rel;
        if self.kind == DatasetKind::Combined {
            return self.query_combined(rel, answer);
        }
        let mut subject = String::new();
        let listing = if self.kind.is_ip4() {
            let Some(ip) = q.ip4 else {
                return false;
            };
            subject = ip.to_string();
            self.list.lookup_ipv4(ip)
        } else if self.kind.is_ip6() {
            let Some(ip) = q.ip6 else {
                return false;
            };
            addr::ip6_text(u128::from(ip), &mut subject);
            self.list.lookup_ipv6(ip)
        } else {
            if rel.is_empty() {
                return false;
            }
            match self.list.lookup_domain_match(rel) {
                Some(m) => {
                    subject = m.name.to_owned();
                    Some(m.listing)
                }
                None => None,
            }
        };
        let Some(l) = listing else {
            return false;
        };
        for &c in l.codes() {
            if !answer.codes.contains(&c) {
                answer.codes.push(c);
            }
        }
        for i in 0..l.txt().len() {
            let mut t = l.render_txt(i, &subject).unwrap_or_default();
            if t.len() > MAX_ANSWER_TXT {
                let mut end = MAX_ANSWER_TXT;
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t.truncate(end);
            }
            if !t.is_empty() && !answer.txt.contains(&t) {
                answer.txt.push(t);
            }
        }
        if answer.ttl.is_none() {
            answer.ttl = self.ttl;
        }
        true
    }
}

impl Dataset {
    /// rbldnsd's combined query: the longest subzone holding the name, then every nested
    /// dataset of that subzone with the name relative to it; the subzone's own name is
    /// found with no records.
    fn query_combined(&self, rel: &str, answer: &mut Answer) -> bool {
        let mut best: Option<&str> = None;
        for (zones, _) in &self.subsets {
            for z in zones {
                let under = z.is_empty()
                    || rel == &**z
                    || (rel.len() > z.len()
                        && rel.ends_with(&**z)
                        && rel.as_bytes()[rel.len() - z.len() - 1] == b'.');
                if under && best.is_none_or(|b| z.len() > b.len()) {
                    best = Some(z);
                }
            }
        }
        let Some(z) = best else {
            return false;
        };
        let sub = if z.is_empty() {
            rel
        } else if rel == z {
            ""
        } else {
            &rel[..rel.len() - z.len() - 1]
        };
        if sub.is_empty() {
            return true;
        }
        let mut found = false;
        let ip4_sets = self
            .subsets
            .iter()
            .any(|(zones, d)| d.kind.is_ip4() && zones.iter().any(|x| &**x == z));
        let q = Query::new(sub, ip4_sets);
        for (zones, d) in &self.subsets {
            if zones.iter().any(|x| &**x == z) {
                found |= d.query_into(&q, answer);
            }
        }
        found
    }
}

/// A query name relative to its zone, with the addresses rbldnsd reads from it.
struct Query<'a> {
    rel: &'a str,
    ip4: Option<std::net::Ipv4Addr>,
    ip6: Option<std::net::Ipv6Addr>,
}

impl Query<'_> {
    /// As rbldnsd's `dntoip`: four labels are IPv4, 32 nibbles IPv6; when the zone has an
    /// IPv4 dataset, a 6to4 address (2002:V4ADDR::/48) also asks the IPv4 datasets and an
    /// IPv4-mapped one (::ffff:V4ADDR) asks them instead of the IPv6 datasets.
    fn new(rel: &str, ip4_datasets: bool) -> Query<'_> {
        if let Some(ip4) = decode_ip4(rel) {
            return Query {
                rel,
                ip4: Some(ip4),
                ip6: None,
            };
        }
        let ip6 = decode_ip6(rel);
        let mut q = Query {
            rel,
            ip4: None,
            ip6,
        };
        if let (Some(a), true) = (ip6, ip4_datasets) {
            let o = a.octets();
            if o[0] == 0x20 && o[1] == 0x02 {
                q.ip4 = Some(std::net::Ipv4Addr::new(o[2], o[3], o[4], o[5]));
            } else if let Some(v4) = a.to_ipv4_mapped() {
                q.ip4 = Some(v4);
                q.ip6 = None;
            }
        }
        q
    }
}

/// rbldnsd cuts an expanded TXT to 254 bytes.
const MAX_ANSWER_TXT: usize = 254;

/// rbldnsd's reading of an IPv4 query name: exactly four labels of 1–3 digits, each at most
/// 255 (leading zeros allowed), in reverse order. One pass over the bytes: this runs for
/// every query.
fn decode_ip4(rel: &str) -> Option<std::net::Ipv4Addr> {
    let b = rel.as_bytes();
    if b.len() > 15 {
        return None;
    }
    let mut o = [0u8; 4];
    let (mut n, mut v, mut digits) = (0usize, 0u32, 0u32);
    for &c in b {
        if c == b'.' {
            if digits == 0 || n == 3 {
                return None;
            }
            o[3 - n] = u8::try_from(v).ok()?;
            (n, v, digits) = (n + 1, 0, 0);
        } else if c.is_ascii_digit() && digits < 3 {
            v = v * 10 + u32::from(c - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if n != 3 || digits == 0 {
        return None;
    }
    o[0] = u8::try_from(v).ok()?;
    Some(std::net::Ipv4Addr::from(o))
}

/// rbldnsd's reading of an IPv6 query name: exactly 32 one-nibble labels, in reverse order.
fn decode_ip6(rel: &str) -> Option<std::net::Ipv6Addr> {
    let b = rel.as_bytes();
    if b.len() != 63 {
        return None;
    }
    let mut a = 0u128;
    for (n, pair) in b.chunks(2).enumerate() {
        if pair.len() == 2 && pair[1] != b'.' {
            return None;
        }
        let v = (pair[0] as char).to_digit(16)?;
        a |= u128::from(v) << (4 * n);
    }
    Some(std::net::Ipv6Addr::from(a))
}

#[cfg(test)]
mod query_name_tests {
    use super::{decode_ip4, decode_ip6};
    use proptest::prelude::*;

    /// The definitions, label by label.
    fn ip4_reference(rel: &str) -> Option<std::net::Ipv4Addr> {
        let mut o = [0u8; 4];
        let mut n = 0;
        for label in rel.split('.') {
            if n == 4
                || label.is_empty()
                || label.len() > 3
                || !label.bytes().all(|c| c.is_ascii_digit())
            {
                return None;
            }
            o[3 - n] = label
                .parse::<u16>()
                .ok()
                .and_then(|v| u8::try_from(v).ok())?;
            n += 1;
        }
        (n == 4).then(|| std::net::Ipv4Addr::from(o))
    }

    fn ip6_reference(rel: &str) -> Option<std::net::Ipv6Addr> {
        let mut a = 0u128;
        let mut n = 0;
        for label in rel.split('.') {
            let b = label.as_bytes();
            if n == 32 || b.len() != 1 {
                return None;
            }
            let v = (b[0] as char).to_digit(16)?;
            a |= u128::from(v) << (4 * n);
            n += 1;
        }
        (n == 32).then_some(std::net::Ipv6Addr::from(a))
    }

    #[test]
    fn corner_cases() {
        for s in [
            "1.2.0.192",
            "001.002.000.192",
            "255.255.255.255",
            "0.0.0.0",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.0004",
            "1.2.3.a",
            "",
            "1.2.3.-4",
            "1.2.3.4 ",
        ] {
            assert_eq!(decode_ip4(s), ip4_reference(s), "{s:?}");
        }
        let v6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2";
        assert_eq!(decode_ip6(v6), Some("2001:db8::1".parse().unwrap()));
        for s in [
            v6,
            &v6[2..],
            &format!("{v6}.0"),
            &v6.replace("8.b", "8.B"),
            &v6.replace("8.b", "8bb"),
        ] {
            assert_eq!(decode_ip6(s), ip6_reference(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn byte_loops_are_the_definitions(
            s in proptest::collection::vec(prop_oneof![
                Just('.'), Just('0'), Just('1'), Just('2'), Just('5'), Just('9'), Just('a'), Just('F'), Just('x'),
            ], 0..70).prop_map(|v| v.into_iter().collect::<String>())
        ) {
            prop_assert_eq!(decode_ip4(&s), ip4_reference(&s));
            prop_assert_eq!(decode_ip6(&s), ip6_reference(&s));
        }
    }
}

/// A `ZONE:TYPE:FILE[,FILE…]` specification, as rbldnsd takes on its command line.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetSpec};
/// let s: DatasetSpec = "bl.example:ip4set:a.txt,b.txt".parse()?;
/// assert_eq!(s.zone().as_str(), "bl.example");
/// assert_eq!(s.kind(), DatasetKind::Ip4Set);
/// assert_eq!(s.files().len(), 2);
/// assert_eq!(s.to_string(), "bl.example:ip4set:a.txt,b.txt");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DatasetSpec {
    zone: Domain,
    kind: DatasetKind,
    files: Vec<Box<str>>,
}

impl DatasetSpec {
    /// A spec from its parts.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetSpec};
    /// let s = DatasetSpec::new("bl.example".parse()?, DatasetKind::DnSet, vec!["d.txt".into()]);
    /// assert_eq!(s.to_string(), "bl.example:dnset:d.txt");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(zone: Domain, kind: DatasetKind, files: Vec<Box<str>>) -> DatasetSpec {
        DatasetSpec { zone, kind, files }
    }
    /// The zone.
    ///
    /// # Examples
    ///
    /// See [`DatasetSpec`].
    pub fn zone(&self) -> &Domain {
        &self.zone
    }
    /// The dataset type.
    ///
    /// # Examples
    ///
    /// See [`DatasetSpec`].
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }
    /// The files, in order.
    ///
    /// # Examples
    ///
    /// See [`DatasetSpec`].
    pub fn files(&self) -> &[Box<str>] {
        &self.files
    }
}

impl fmt::Display for DatasetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.zone, self.kind)?;
        for (i, file) in self.files.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(file)?;
        }
        Ok(())
    }
}

impl FromStr for DatasetSpec {
    type Err = ZoneError;
    fn from_str(s: &str) -> Result<DatasetSpec, ZoneError> {
        let bad = |why| ZoneError::BadSpec {
            text: s.into(),
            why,
        };
        let mut parts = s.splitn(3, ':');
        let zone = parts.next().unwrap_or("");
        let (Some(kind), Some(files)) = (parts.next(), parts.next()) else {
            return Err(bad("expected ZONE:TYPE:FILE[,FILE...]"));
        };
        if zone.is_empty() {
            return Err(bad("empty zone name"));
        }
        let zone = Domain::new(zone).map_err(|_| bad("invalid zone name"))?;
        let kind: DatasetKind = kind.parse()?;
        let files: Vec<Box<str>> = files.split(',').map(Box::from).collect();
        if files.iter().any(|f| f.is_empty()) {
            return Err(bad("empty file name"));
        }
        Ok(DatasetSpec { zone, kind, files })
    }
}

/// What a zone answers for a listed query name: the A records (codes) and TXT records of
/// every dataset that lists it, in order, without duplicates.
///
/// # Examples
///
/// See [`Zone::query`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Answer {
    /// The return codes.
    pub codes: Vec<ReturnCode>,
    /// The TXT strings, expanded (and cut to 254 bytes, as rbldnsd does).
    pub txt: Vec<String>,
    /// The `$TTL` of the first dataset that answered (`None`: the server default).
    pub ttl: Option<u32>,
}

/// A DNS zone made of datasets, as rbldnsd builds one from the specs that name it.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    name: Domain,
    datasets: Vec<Arc<Dataset>>,
}

impl Zone {
    /// A zone from its datasets (in command-line order: the first `$SOA` and `$NS` win).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn new(name: Domain, datasets: Vec<Arc<Dataset>>) -> Zone {
        Zone { name, datasets }
    }

    /// Loads the zones of several specs: one zone per distinct zone name, in order of first
    /// appearance, a dataset named twice (same type and files) loaded once.
    ///
    /// # Errors
    ///
    /// A file that cannot be read; in strict mode, the first bad line.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use rblkit::zone::{LoadOptions, Zone};
    /// let specs = ["bl.example:ip4set:bl.txt".parse()?, "bl.example:dnset:d.txt".parse()?];
    /// let zones = Zone::load_all(&specs, LoadOptions::default())?;
    /// assert_eq!(zones.len(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn load_all(specs: &[DatasetSpec], options: LoadOptions) -> Result<Vec<Zone>, ZoneError> {
        type Key = (DatasetKind, Vec<Box<str>>);
        let mut loaded: Vec<(Key, Arc<Dataset>)> = Vec::new();
        let mut zones: Vec<Zone> = Vec::new();
        for spec in specs {
            let key = (spec.kind, spec.files.clone());
            let ds = match loaded.iter().find(|(k, _)| *k == key) {
                Some((_, d)) => d.clone(),
                None => {
                    let d = Arc::new(Dataset::load(spec, options)?);
                    loaded.push((key, d.clone()));
                    d
                }
            };
            match zones.iter_mut().find(|z| z.name == spec.zone) {
                Some(z) => z.datasets.push(ds),
                None => zones.push(Zone::new(spec.zone.clone(), vec![ds])),
            }
        }
        Ok(zones)
    }

    /// The zone name.
    ///
    /// # Examples
    ///
    /// ```
    /// let z = rblkit::zone::Zone::new("bl.example".parse()?, vec![]);
    /// assert_eq!(z.name().as_str(), "bl.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn name(&self) -> &Domain {
        &self.name
    }

    /// The datasets, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let z = rblkit::zone::Zone::new("bl.example".parse()?, vec![]);
    /// assert!(z.datasets().is_empty());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn datasets(&self) -> &[Arc<Dataset>] {
        &self.datasets
    }

    /// The SOA of the first dataset that has one.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn soa(&self) -> Option<&Soa> {
        self.datasets.iter().find_map(|d| d.soa())
    }

    /// The NS records of the first dataset that has them.
    ///
    /// # Examples
    ///
    /// ```
    /// let z = rblkit::zone::Zone::new("bl.example".parse()?, vec![]);
    /// assert!(z.ns().is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ns(&self) -> Option<&NsRecords> {
        self.datasets.iter().find_map(|d| d.ns())
    }

    /// The SOA serial to serve: the `$SOA` serial, or when it is 0 the newest modification
    /// time of the zone's files (as rbldnsd does). `None` without a `$SOA`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$SOA 1h ns.example. a.example. 0 1h 1h 1d 1h\n")?;
    /// let z = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
    /// assert_eq!(z.serial(), Some(0)); // parsed from memory: no file time
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn serial(&self) -> Option<u32> {
        let soa = self.soa()?;
        if soa.serial != 0 {
            return Some(soa.serial);
        }
        let newest = self
            .datasets
            .iter()
            .filter_map(|d| d.mtime())
            .map(|t| t.unix_seconds())
            .max()
            .unwrap_or(0);
        Some(u32::try_from(newest.max(0)).unwrap_or(u32::MAX))
    }

    /// What the zone answers for a full query name (case-insensitive, trailing dot
    /// optional): `None` for NXDOMAIN (nothing lists it, or it is not under the zone),
    /// else the answer of every dataset that lists it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::DnSet);
    /// p.parse_file("d", b"*.spam.example :2:$ is listed\n")?;
    /// let z = Zone::new("dbl.example".parse()?, vec![p.finish().into()]);
    /// let a = z.query("WWW.Spam.Example.DBL.example.").unwrap();
    /// assert_eq!(a.txt, ["spam.example is listed"]);
    /// assert!(z.query("spam.example.dbl.example").is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn query(&self, qname: &str) -> Option<Answer> {
        let q = qname
            .strip_suffix('.')
            .unwrap_or(qname)
            .to_ascii_lowercase();
        let zone = self.name.as_str();
        let rel = if q == zone {
            ""
        } else {
            let r = q.strip_suffix(zone)?.strip_suffix('.')?;
            if r.is_empty() {
                return None;
            }
            r
        };
        let mut answer = Answer::default();
        let mut found = false;
        let q = Query::new(rel, self.datasets.iter().any(|d| d.kind.is_ip4()));
        for d in &self.datasets {
            found |= d.query_into(&q, &mut answer);
        }
        found.then_some(answer)
    }

    /// The query name for an IP address or a domain under this zone (the RFC 5782 form that
    /// rbldnsd reads).
    ///
    /// # Examples
    ///
    /// ```
    /// let z = rblkit::zone::Zone::new("bl.example".parse()?, vec![]);
    /// assert_eq!(z.query_name(&"192.0.2.1".parse()?), Some("1.2.0.192.bl.example".to_owned()));
    /// assert_eq!(z.query_name(&"spam.example".parse()?), Some("spam.example.bl.example".to_owned()));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn query_name(&self, subject: &crate::Subject) -> Option<String> {
        use crate::Subject;
        let zone = self.name.as_str();
        match subject {
            Subject::Ip(std::net::IpAddr::V4(ip)) => {
                let o = ip.octets();
                Some(format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0]))
            }
            Subject::Ip(std::net::IpAddr::V6(ip)) => {
                let v = u128::from(*ip);
                let mut s = String::with_capacity(64 + zone.len());
                for i in 0..32 {
                    let n = (v >> (4 * i)) & 15;
                    s.push(char::from_digit(n as u32, 16).unwrap_or('0'));
                    s.push('.');
                }
                s.push_str(zone);
                Some(s)
            }
            Subject::Domain(d) => Some(format!("{}.{zone}", d.as_str())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn spec_round_trips(
            zone in "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,8}){1,3}",
            k in 0usize..7,
            files in proptest::collection::vec("[A-Za-z0-9_./-]{1,20}", 1..4),
        ) {
            prop_assume!(!zone.split('.').any(|l| l.starts_with("xn--")));
            let kind = DatasetKind::ALL[k];
            let spec = DatasetSpec::new(zone.parse().unwrap(), kind, files.iter().map(|f| f.as_str().into()).collect());
            let text = spec.to_string();
            prop_assert_eq!(text.parse::<DatasetSpec>().unwrap(), spec);
            prop_assert_eq!(kind.to_string().parse::<DatasetKind>().unwrap(), kind);
        }

        #[test]
        fn ip4_query_names_round_trip(a in any::<u32>()) {
            let ip = std::net::Ipv4Addr::from(a);
            let z = Zone::new("bl.example".parse().unwrap(), vec![]);
            let n = z.query_name(&crate::Subject::Ip(ip.into())).unwrap();
            prop_assert_eq!(decode_ip4(n.strip_suffix(".bl.example").unwrap()), Some(ip));
        }

        #[test]
        fn ip6_query_names_round_trip(a in any::<u128>()) {
            let ip = std::net::Ipv6Addr::from(a);
            let z = Zone::new("bl.example".parse().unwrap(), vec![]);
            let n = z.query_name(&crate::Subject::Ip(ip.into())).unwrap();
            prop_assert_eq!(decode_ip6(n.strip_suffix(".bl.example").unwrap()), Some(ip));
        }
    }

    #[test]
    fn bad_specs() {
        for s in [
            "bl.example:ip4set",
            ":ip4set:f",
            "bl.example:nope:f",
            "bl.example:ip4set:a,,b",
            "bl..x:ip4set:f",
        ] {
            assert!(s.parse::<DatasetSpec>().is_err(), "{s}");
        }
    }
}
