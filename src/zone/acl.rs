//! rbldnsd's access datasets: `acl` (what to do with queries from a client address or
//! network) and `aclkey` (what to do with queries carrying a key label, `SUBJECT.KEY.ZONE`).
//!
//! Both are read by the [`DatasetParser`](super::DatasetParser) with rbldnsd's syntax:
//!
//! ```text
//! # acl: CIDR networks as ip4trie/ip6trie take them, each with an action
//! :refuse                 # the default action of the lines after it (at first: ignore)
//! 192.0.2.0/24            # the default action
//! 192.0.2.7 :pass         # an exclusion: the longest prefix decides
//! 198.51.100.0/24 :ignore # also :blackhole; no answer at all
//! 203.0.113.0/24 :empty   # every name is not listed; SOA and NS answered as usual
//! 2001:db8::/32 :127.0.0.255:Queries from $ are not allowed
//!
//! # aclkey: one key (a DNS label) a line, with the same actions
//! :127.255.255.254:Unknown or missing key, see https://bl.example/keys
//! 5e1c2a7f :pass
//! 0d0d0d0d :refuse
//! ```
//!
//! A value that is neither `:keyword` nor `=keyword` is an A+TXT value (`:A:TXT`, `:A`, or a
//! TXT alone with the default A): every query of the zone from that client (or with that
//! key) that names an address or domain the zone's datasets look up is answered as listed
//! with it; `$` in its TXT stands for the client's address.
//!
//! # Examples
//!
//! ```
//! use rblkit::zone::{AclAction, DatasetKind, DatasetParser};
//! let mut p = DatasetParser::new(DatasetKind::Acl);
//! p.parse_file("acl", b":refuse\n127.0.0.0/8\n127.0.0.2 :pass\n::1 :empty\n")?;
//! let ds = p.finish();
//! let acl = ds.acl().unwrap();
//! assert_eq!(acl.lookup("127.0.0.9".parse().unwrap()), Some(&AclAction::Refuse));
//! assert_eq!(acl.lookup("127.0.0.2".parse().unwrap()), Some(&AclAction::Pass));
//! assert_eq!(acl.lookup("::1".parse().unwrap()), Some(&AclAction::Empty));
//! assert_eq!(acl.lookup("192.0.2.1".parse().unwrap()), None);
//! # Ok::<(), rblkit::Error>(())
//! ```

use super::{Dataset, DatasetKind, Query, Zone};
use crate::codes::ReturnCode;
use std::collections::HashMap;
use std::net::IpAddr;

/// What an `acl` entry or an `aclkey` key does with a query.
///
/// # Examples
///
/// See [`Acl`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AclAction {
    /// No answer at all (`:ignore`, `:blackhole`).
    Ignore,
    /// REFUSED for every query of the zone (`:refuse`).
    Refuse,
    /// Every name not listed; the apex SOA and NS as usual (`:empty`).
    Empty,
    /// As if there were no entry (`:pass`; `:accept` in an aclkey dataset).
    Pass,
    /// Every address or domain asked for is listed with this A record and TXT template
    /// (`$` is the client's address).
    Always {
        /// The A record.
        code: ReturnCode,
        /// The TXT template (empty: no TXT record).
        txt: Box<str>,
    },
}

/// rbldnsd's action keywords, lowercase.
pub(crate) const KEYWORDS: [(&str, AclAction); 6] = [
    ("ignore", AclAction::Ignore),
    ("blackhole", AclAction::Ignore),
    ("refuse", AclAction::Refuse),
    ("empty", AclAction::Empty),
    ("pass", AclAction::Pass),
    ("accept", AclAction::Pass),
];

/// rbldnsd's `keyword()`: a keyword at the start of `s` (any case), ended by the end, `:`,
/// a space or a comment. `accept` only counts in an aclkey dataset.
pub(crate) fn keyword(s: &str, keys: bool) -> Option<AclAction> {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    KEYWORDS
        .iter()
        .filter(|(k, _)| keys || *k != "accept")
        .find(|(k, _)| {
            b.len() >= k.len()
                && b[..k.len()].eq_ignore_ascii_case(k.as_bytes())
                && b.get(k.len())
                    .is_none_or(|&c| matches!(c, b':' | b' ' | b'\t' | b'#' | b';'))
        })
        .map(|(_, a)| a.clone())
}

/// The networks of an `acl` dataset and their actions; the longest prefix holding an
/// address decides.
///
/// ```text
/// # acl: CIDR networks as ip4trie/ip6trie take them, each with an action
/// :refuse                 # the default action of the lines after it (at first: ignore)
/// 192.0.2.0/24            # the default action
/// 192.0.2.7 :pass         # an exclusion: the longest prefix decides
/// 198.51.100.0/24 :ignore # also :blackhole; no answer at all
/// 203.0.113.0/24 :empty   # every name is not listed; SOA and NS answered as usual
/// 2001:db8::/32 :127.0.0.255:Queries from $ are not allowed
///
/// # aclkey: one key (a DNS label) a line, with the same actions
/// :127.255.255.254:Unknown or missing key, see https://bl.example/keys
/// 5e1c2a7f :pass
/// 0d0d0d0d :refuse
/// ```
///
/// A value that is neither `:keyword` nor `=keyword` is an A+TXT value (`:A:TXT`, `:A`, or a
/// TXT alone with the default A): every query of the zone from that client (or with that
/// key) that names an address or domain the zone's datasets look up is answered as listed
/// with it; `$` in its TXT stands for the client's address.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{AclAction, DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::Acl);
/// p.parse_file("acl", b":refuse\n127.0.0.0/8\n127.0.0.2 :pass\n::1 :empty\n")?;
/// let ds = p.finish();
/// let acl = ds.acl().unwrap();
/// assert_eq!(acl.lookup("127.0.0.9".parse().unwrap()), Some(&AclAction::Refuse));
/// assert_eq!(acl.lookup("127.0.0.2".parse().unwrap()), Some(&AclAction::Pass));
/// assert_eq!(acl.lookup("::1".parse().unwrap()), Some(&AclAction::Empty));
/// assert_eq!(acl.lookup("192.0.2.1".parse().unwrap()), None);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acl {
    /// Prefix lengths present, longest first, per family (0: IPv4, 1: IPv6).
    lens: [Vec<u8>; 2],
    /// (family, prefix length, network bits) → index in `actions`.
    nets: HashMap<(u8, u8, u128), u32>,
    actions: Vec<AclAction>,
}

impl Acl {
    pub(crate) fn insert(&mut self, v6: bool, net: u128, bits: u8, action: AclAction) -> bool {
        let fam = u8::from(v6);
        let key = (fam, bits, net);
        if self.nets.contains_key(&key) {
            return false;
        }
        let i = match self.actions.iter().position(|a| *a == action) {
            Some(i) => i,
            None => {
                self.actions.push(action);
                self.actions.len() - 1
            }
        };
        self.nets.insert(key, i as u32);
        let lens = &mut self.lens[usize::from(fam)];
        if !lens.contains(&bits) {
            lens.push(bits);
            lens.sort_unstable_by(|a, b| b.cmp(a));
        }
        true
    }

    /// The action of the longest prefix holding `addr` (an IPv4-mapped IPv6 address is
    /// looked up as IPv4); `None` when no entry holds it.
    ///
    /// # Examples
    ///
    /// See [`Acl`].
    pub fn lookup(&self, addr: IpAddr) -> Option<&AclAction> {
        let (fam, a, width) = match addr {
            IpAddr::V4(v) => (0u8, u128::from(u32::from(v)), 32u32),
            IpAddr::V6(v) => match v.to_ipv4_mapped() {
                Some(v4) => (0, u128::from(u32::from(v4)), 32),
                None => (1, u128::from(v), 128),
            },
        };
        for &bits in &self.lens[usize::from(fam)] {
            let mask = if bits == 0 {
                0
            } else {
                (u128::MAX >> (128 - width)) & !((1u128 << (width - u32::from(bits))) - 1)
            };
            if let Some(&i) = self.nets.get(&(fam, bits, a & mask)) {
                return self.actions.get(i as usize);
            }
        }
        None
    }

    /// Networks in the dataset.
    ///
    /// # Examples
    ///
    /// See [`Dataset::acl`](super::Dataset::acl).
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// Whether the dataset has no networks.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::zone::Acl::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }
}

/// The keys of an `aclkey` dataset: for a query `SUBJECT.KEY.ZONE`, the label just below the
/// zone is the key; a known key is taken off the name and its action applies, an unknown or
/// missing one gets the default action (rbldnsd's default: ignore).
///
/// # Examples
///
/// ```
/// use rblkit::zone::{AclAction, DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::AclKey);
/// p.parse_file("keys", b":127.255.255.254:Unknown key\ns3cr3t :pass\nold :refuse\n")?;
/// let keys = p.finish().keys().cloned().unwrap();
/// assert_eq!(keys.len(), 2);
/// let (i, a) = keys.lookup(b"S3CR3T").unwrap();
/// assert_eq!((keys.name(i), a), ("s3cr3t", &AclAction::Pass));
/// assert!(keys.lookup(b"other").is_none());
/// assert!(matches!(keys.default_action(), AclAction::Always { .. }));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclKeys {
    /// Lowercase key → index.
    index: HashMap<Box<[u8]>, u32>,
    /// Per key: name and action, in file order.
    keys: Vec<(Box<str>, AclAction)>,
    default: AclAction,
}

impl Default for AclKeys {
    fn default() -> AclKeys {
        AclKeys {
            index: HashMap::new(),
            keys: Vec::new(),
            default: AclAction::Ignore,
        }
    }
}

impl AclKeys {
    /// Adds a key; a key given again takes its new action (rbldnsd's "duplicate entry").
    pub(crate) fn insert(&mut self, key: &str, action: AclAction) -> bool {
        let k: Box<[u8]> = key.to_ascii_lowercase().into_bytes().into();
        if let Some(&i) = self.index.get(&k) {
            self.keys[i as usize].1 = action;
            return false;
        }
        self.index.insert(k, self.keys.len() as u32);
        self.keys.push((key.to_ascii_lowercase().into(), action));
        true
    }

    pub(crate) fn set_default(&mut self, action: AclAction) {
        self.default = action;
    }

    /// The key matching a label (any case): its index and action.
    ///
    /// # Examples
    ///
    /// See [`AclKeys`].
    pub fn lookup(&self, label: &[u8]) -> Option<(usize, &AclAction)> {
        let mut buf = [0u8; 63];
        let k = buf.get_mut(..label.len())?;
        k.copy_from_slice(label);
        k.make_ascii_lowercase();
        let i = *self.index.get(&*k)? as usize;
        Some((i, &self.keys[i].1))
    }

    /// The action for a missing or unknown key.
    ///
    /// # Examples
    ///
    /// See [`AclKeys`].
    pub fn default_action(&self) -> &AclAction {
        &self.default
    }

    /// The name of key `i` (lowercase).
    ///
    /// # Examples
    ///
    /// See [`AclKeys`].
    pub fn name(&self, i: usize) -> &str {
        self.keys.get(i).map_or("", |k| &k.0)
    }

    /// The number of keys.
    ///
    /// # Examples
    ///
    /// See [`AclKeys`].
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::zone::AclKeys::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// How the zone's datasets take a query name, for the A+TXT answers of the access datasets
/// (rbldnsd's "always listed").
///
/// # Examples
///
/// See [`Zone::query_form`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryForm {
    /// No dataset looks this name up: NXDOMAIN.
    None,
    /// The name of a combined dataset's subzone: found, without records.
    Subzone,
    /// An address or a domain some dataset looks up: answered as listed.
    Lookup,
}

impl Zone {
    /// How the datasets take `rel` (relative to the zone, lowercase, not empty): an IPv4
    /// query name for the IPv4 datasets, IPv6 for the IPv6 ones, any name for a dnset, and in
    /// a combined dataset the same below its subzones.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, QueryForm, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"192.0.2.1\n")?;
    /// let z = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
    /// assert_eq!(z.query_form("7.7.7.7"), QueryForm::Lookup);
    /// assert_eq!(z.query_form("www.example"), QueryForm::None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn query_form(&self, rel: &str) -> QueryForm {
        let ip4 = self.datasets.iter().any(|d| d.kind.is_ip4());
        let q = Query::new(rel, ip4);
        let mut form = QueryForm::None;
        for d in &self.datasets {
            match d.form(&q) {
                QueryForm::Lookup => return QueryForm::Lookup,
                QueryForm::Subzone => form = QueryForm::Subzone,
                _ => {}
            }
        }
        form
    }
}

impl Dataset {
    fn form(&self, q: &Query<'_>) -> QueryForm {
        let takes = match self.kind {
            DatasetKind::Combined => return self.combined_form(q.rel),
            k if k.is_ip4() => q.ip4.is_some(),
            k if k.is_ip6() => q.ip6.is_some(),
            DatasetKind::DnSet => !q.rel.is_empty(),
            _ => false,
        };
        if takes {
            QueryForm::Lookup
        } else {
            QueryForm::None
        }
    }

    fn combined_form(&self, rel: &str) -> QueryForm {
        let Some((z, sub)) = super::subzone_split(self, rel) else {
            return QueryForm::None;
        };
        if sub.is_empty() {
            return QueryForm::Subzone;
        }
        let ip4 = self
            .subsets
            .iter()
            .any(|(zones, d)| d.kind.is_ip4() && zones.iter().any(|x| &**x == z));
        let q = Query::new(sub, ip4);
        let found = self
            .subsets
            .iter()
            .filter(|(zones, _)| zones.iter().any(|x| &**x == z))
            .any(|(_, d)| d.form(&q) == QueryForm::Lookup);
        if found {
            QueryForm::Lookup
        } else {
            QueryForm::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_as_rbldnsd() {
        assert_eq!(keyword("Refuse", false), Some(AclAction::Refuse));
        assert_eq!(keyword("refuse:x", false), Some(AclAction::Refuse));
        assert_eq!(keyword("refused", false), None);
        assert_eq!(keyword("blackhole # c", false), Some(AclAction::Ignore));
        assert_eq!(keyword("accept", false), None);
        assert_eq!(keyword("accept", true), Some(AclAction::Pass));
        assert_eq!(keyword("127.0.0.2", false), None);
    }

    #[test]
    fn longest_prefix_wins() {
        let mut a = Acl::default();
        assert!(a.insert(false, 0x7f00_0000, 8, AclAction::Refuse));
        assert!(a.insert(false, 0x7f00_0002, 32, AclAction::Pass));
        assert!(!a.insert(false, 0x7f00_0002, 32, AclAction::Empty));
        assert!(a.insert(false, 0, 0, AclAction::Empty));
        assert!(a.insert(true, 1, 128, AclAction::Ignore));
        let l = |s: &str| a.lookup(s.parse().unwrap()).cloned();
        assert_eq!(l("127.1.2.3"), Some(AclAction::Refuse));
        assert_eq!(l("127.0.0.2"), Some(AclAction::Pass));
        assert_eq!(l("::ffff:127.0.0.2"), Some(AclAction::Pass));
        assert_eq!(l("10.0.0.1"), Some(AclAction::Empty));
        assert_eq!(l("::1"), Some(AclAction::Ignore));
        assert_eq!(l("::2"), None);
        assert_eq!(a.len(), 4);
    }
}
