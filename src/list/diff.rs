//! [`ListDiff`]: what changed from one compiled [`List`] to the next — added, removed and
//! changed entries, in a fixed order — for incremental zone transfers (IXFR) and for
//! monitoring.

use super::{DomainPattern, DomainScope, Entry, List, ListBuilder};
use crate::subject::{EmailAddr, Subject};
use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which entry of a list a change is about, as the list's iteration gives it: an exact IPv4
/// address, a flattened IPv4 or IPv6 range, a domain pattern, an email address.
///
/// Keys order as a diff lists them: IPv4 addresses, IPv4 ranges, IPv6 ranges, domains, email
/// addresses, each in the list's own order.
///
/// # Examples
///
/// ```
/// use rblkit::list::DiffKey;
/// let k = DiffKey::Ipv4("192.0.2.1".parse().unwrap());
/// assert_eq!(k.to_string(), "192.0.2.1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiffKey {
    /// An exact IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv4 range, first and last address.
    Ipv4Range(Ipv4Addr, Ipv4Addr),
    /// An IPv6 range, first and last address.
    Ipv6Range(Ipv6Addr, Ipv6Addr),
    /// A domain pattern.
    Domain(DomainPattern),
    /// An email address.
    Email(EmailAddr),
}

impl std::fmt::Display for DiffKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiffKey::Ipv4(a) => write!(f, "{a}"),
            DiffKey::Ipv4Range(a, b) => write!(f, "{a}-{b}"),
            DiffKey::Ipv6Range(a, b) => write!(f, "{a}-{b}"),
            DiffKey::Domain(p) => write!(f, "{p}"),
            DiffKey::Email(e) => write!(f, "{e}"),
        }
    }
}

/// One change of a [`ListDiff`], borrowing the listings of the two lists.
///
/// # Examples
///
/// ```
/// use rblkit::list::{Change, Entry};
/// let c: Change<'_> = Change::Removed(Entry::Excluded);
/// assert_eq!(c.old_entry(), Some(Entry::Excluded));
/// assert_eq!(c.new_entry(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change<'a> {
    /// In the new list only.
    Added(Entry<'a>),
    /// In the old list only.
    Removed(Entry<'a>),
    /// In both, different.
    Changed {
        /// The old entry.
        old: Entry<'a>,
        /// The new entry.
        new: Entry<'a>,
    },
}

impl<'a> Change<'a> {
    /// The old entry (none when added).
    pub fn old_entry(&self) -> Option<Entry<'a>> {
        match *self {
            Change::Added(_) => None,
            Change::Removed(e) | Change::Changed { old: e, .. } => Some(e),
        }
    }

    /// The new entry (none when removed).
    pub fn new_entry(&self) -> Option<Entry<'a>> {
        match *self {
            Change::Removed(_) => None,
            Change::Added(e) | Change::Changed { new: e, .. } => Some(e),
        }
    }
}

/// What makes two entries of one key different.
///
/// # Examples
///
/// ```
/// use rblkit::list::DiffScope;
/// assert_ne!(DiffScope::Everything, DiffScope::Answers);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiffScope {
    /// Any difference of the listing, `since` and `expires` included.
    Everything,
    /// Only what a DNS answer carries: the codes and the TXT templates (what IXFR needs).
    Answers,
}

/// The changes from one [`List`] to another, in [`DiffKey`] order.
///
/// Built by merging the two lists' sorted iterations: time linear in their sizes, one
/// allocation for the changes (plus the lists' own name iteration for domains and email
/// addresses). [`ListDiff::apply`] rebuilds the new list from the old one and the diff.
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// use rblkit::list::{Change, DiffKey, ListDiff};
/// let l = |c| Listing::new(ReturnCode::new_assert(127, 0, 0, c));
/// let mut a = List::builder();
/// a.insert(&"192.0.2.1".parse()?, l(2));
/// a.insert(&"192.0.2.2".parse()?, l(2));
/// let a = a.build();
/// let mut b = List::builder();
/// b.insert(&"192.0.2.2".parse()?, l(4));
/// b.insert(&"spam.example".parse()?, l(2));
/// let b = b.build();
///
/// let d = ListDiff::between(&a, &b);
/// let keys: Vec<String> = d.changes().iter().map(|(k, _)| k.to_string()).collect();
/// assert_eq!(keys, ["192.0.2.1", "192.0.2.2", "spam.example"]);
/// assert!(matches!(d.changes()[0].1, Change::Removed(_)));
/// assert!(matches!(d.changes()[1].1, Change::Changed { .. }));
/// assert_eq!((d.added().count(), d.removed().count(), d.changed().count()), (1, 1, 1));
/// let rebuilt = d.apply(&a);
/// assert!(ListDiff::between(&rebuilt, &b).is_empty());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListDiff<'a> {
    changes: Vec<(DiffKey, Change<'a>)>,
    new_precedence: super::Precedence,
}

fn domain_order(a: &DomainPattern, b: &DomainPattern) -> Ordering {
    fn rank(s: DomainScope) -> u8 {
        match s {
            DomainScope::Exact => 0,
            DomainScope::NameAndSubdomains => 1,
            _ => 2,
        }
    }
    a.domain()
        .as_str()
        .cmp(b.domain().as_str())
        .then(rank(a.scope()).cmp(&rank(b.scope())))
}

/// The order of the address texts `local@domain` (the lists' order), without building them.
fn email_order(a: &EmailAddr, b: &EmailAddr) -> Ordering {
    fn text(e: &EmailAddr) -> impl Iterator<Item = u8> + '_ {
        let (l, d) = (e.local_part().as_bytes(), e.domain().as_str().as_bytes());
        l.iter().chain(b"@").chain(d).copied()
    }
    text(a).cmp(text(b))
}

/// Merges two sorted sequences of `(key, entry)` into changes.
fn merge<'a, K>(
    old: impl Iterator<Item = (K, Entry<'a>)>,
    new: impl Iterator<Item = (K, Entry<'a>)>,
    cmp: impl Fn(&K, &K) -> Ordering,
    same: impl Fn(&Entry<'a>, &Entry<'a>) -> bool,
    key: impl Fn(K) -> DiffKey,
    out: &mut Vec<(DiffKey, Change<'a>)>,
) {
    let mut old = old.peekable();
    let mut new = new.peekable();
    loop {
        let ord = match (old.peek(), new.peek()) {
            (None, None) => return,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => cmp(&a.0, &b.0),
        };
        match ord {
            Ordering::Less => {
                let (k, e) = old.next().expect("peeked");
                out.push((key(k), Change::Removed(e)));
            }
            Ordering::Greater => {
                let (k, e) = new.next().expect("peeked");
                out.push((key(k), Change::Added(e)));
            }
            Ordering::Equal => {
                let (k, o) = old.next().expect("peeked");
                let (_, n) = new.next().expect("peeked");
                if !same(&o, &n) {
                    out.push((key(k), Change::Changed { old: o, new: n }));
                }
            }
        }
    }
}

impl<'a> ListDiff<'a> {
    /// Every difference from `old` to `new` ([`DiffScope::Everything`]).
    pub fn between(old: &'a List, new: &'a List) -> ListDiff<'a> {
        ListDiff::with_scope(old, new, DiffScope::Everything)
    }

    /// The differences a DNS client can see ([`DiffScope::Answers`]): an entry whose
    /// `since` or `expires` alone changed is not in it.
    pub fn answers_between(old: &'a List, new: &'a List) -> ListDiff<'a> {
        ListDiff::with_scope(old, new, DiffScope::Answers)
    }

    /// The differences from `old` to `new` within `scope`.
    pub fn with_scope(old: &'a List, new: &'a List, scope: DiffScope) -> ListDiff<'a> {
        let same = move |a: &Entry<'a>, b: &Entry<'a>| match (scope, a, b) {
            (DiffScope::Everything, a, b) => a == b,
            (_, Entry::Listed(x), Entry::Listed(y)) => x.codes() == y.codes() && x.txt() == y.txt(),
            (_, a, b) => a == b,
        };
        let mut out = Vec::new();
        merge(
            old.ipv4_addresses(),
            new.ipv4_addresses(),
            Ord::cmp,
            same,
            DiffKey::Ipv4,
            &mut out,
        );
        merge(
            old.ipv4_ranges().map(|(a, b, e)| ((a, b), e)),
            new.ipv4_ranges().map(|(a, b, e)| ((a, b), e)),
            Ord::cmp,
            same,
            |(a, b)| DiffKey::Ipv4Range(a, b),
            &mut out,
        );
        merge(
            old.ipv6_ranges().map(|(a, b, e)| ((a, b), e)),
            new.ipv6_ranges().map(|(a, b, e)| ((a, b), e)),
            Ord::cmp,
            same,
            |(a, b)| DiffKey::Ipv6Range(a, b),
            &mut out,
        );
        merge(
            old.domains(),
            new.domains(),
            domain_order,
            same,
            DiffKey::Domain,
            &mut out,
        );
        merge(
            old.emails(),
            new.emails(),
            email_order,
            same,
            DiffKey::Email,
            &mut out,
        );
        ListDiff {
            changes: out,
            new_precedence: new.precedence(),
        }
    }

    /// The changes, in key order.
    pub fn changes(&self) -> &[(DiffKey, Change<'a>)] {
        &self.changes
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many entries changed.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// The added entries.
    pub fn added(&self) -> impl Iterator<Item = (&DiffKey, Entry<'a>)> + '_ {
        self.changes.iter().filter_map(|(k, c)| match c {
            Change::Added(e) => Some((k, *e)),
            _ => None,
        })
    }

    /// The removed entries.
    pub fn removed(&self) -> impl Iterator<Item = (&DiffKey, Entry<'a>)> + '_ {
        self.changes.iter().filter_map(|(k, c)| match c {
            Change::Removed(e) => Some((k, *e)),
            _ => None,
        })
    }

    /// The changed entries: `(key, old, new)`.
    pub fn changed(&self) -> impl Iterator<Item = (&DiffKey, Entry<'a>, Entry<'a>)> + '_ {
        self.changes.iter().filter_map(|(k, c)| match c {
            Change::Changed { old, new } => Some((k, *old, *new)),
            _ => None,
        })
    }

    /// The list `old` becomes with these changes (with the new list's precedence): for a
    /// diff [`between`](ListDiff::between) `old` and `new`, a list with the same entries
    /// as `new`. (A single-address IPv4 range comes back as an exact address, which answers
    /// the same.)
    pub fn apply(&self, old: &List) -> List {
        let mut b = List::builder();
        b.precedence(self.new_precedence);
        let mut changes = self.changes.iter().peekable();
        // every key of `old` in diff order, merged with the changes (both sorted)
        let old_keys = old
            .ipv4_addresses()
            .map(|(a, e)| (DiffKey::Ipv4(a), e))
            .chain(
                old.ipv4_ranges()
                    .map(|(a, z, e)| (DiffKey::Ipv4Range(a, z), e)),
            )
            .chain(
                old.ipv6_ranges()
                    .map(|(a, z, e)| (DiffKey::Ipv6Range(a, z), e)),
            )
            .chain(old.domains().map(|(p, e)| (DiffKey::Domain(p), e)))
            .chain(old.emails().map(|(a, e)| (DiffKey::Email(a), e)));
        for (k, e) in old_keys {
            while let Some((ck, c)) = changes.peek() {
                match key_order(ck, &k) {
                    Ordering::Less => {
                        if let Some(n) = c.new_entry() {
                            put(&mut b, ck, n);
                        }
                        changes.next();
                    }
                    Ordering::Equal => break,
                    Ordering::Greater => break,
                }
            }
            match changes.peek() {
                Some((ck, c)) if key_order(ck, &k) == Ordering::Equal => {
                    if let Some(n) = c.new_entry() {
                        put(&mut b, ck, n);
                    }
                    changes.next();
                }
                _ => put(&mut b, &k, e),
            }
        }
        for (ck, c) in changes {
            if let Some(n) = c.new_entry() {
                put(&mut b, ck, n);
            }
        }
        b.build()
    }
}

fn kind(k: &DiffKey) -> u8 {
    match k {
        DiffKey::Ipv4(_) => 0,
        DiffKey::Ipv4Range(..) => 1,
        DiffKey::Ipv6Range(..) => 2,
        DiffKey::Domain(_) => 3,
        DiffKey::Email(_) => 4,
    }
}

/// The order of a diff's keys.
fn key_order(a: &DiffKey, b: &DiffKey) -> Ordering {
    match (a, b) {
        (DiffKey::Ipv4(x), DiffKey::Ipv4(y)) => x.cmp(y),
        (DiffKey::Ipv4Range(a1, a2), DiffKey::Ipv4Range(b1, b2)) => (a1, a2).cmp(&(b1, b2)),
        (DiffKey::Ipv6Range(a1, a2), DiffKey::Ipv6Range(b1, b2)) => (a1, a2).cmp(&(b1, b2)),
        (DiffKey::Domain(x), DiffKey::Domain(y)) => domain_order(x, y),
        (DiffKey::Email(x), DiffKey::Email(y)) => email_order(x, y),
        _ => kind(a).cmp(&kind(b)),
    }
}

fn put(b: &mut ListBuilder, key: &DiffKey, e: Entry<'_>) {
    let nets: Vec<IpNet> = match key {
        DiffKey::Ipv4(a) => vec![IpNet::from(IpAddr::V4(*a))],
        DiffKey::Ipv4Range(x, y) => Ipv4Subnets::new(*x, *y, 0).map(IpNet::V4).collect(),
        DiffKey::Ipv6Range(x, y) => Ipv6Subnets::new(*x, *y, 0).map(IpNet::V6).collect(),
        DiffKey::Domain(p) => {
            match e {
                Entry::Listed(l) => b.insert_domain(p, l.clone()),
                _ => b.exclude_domain(p),
            };
            return;
        }
        DiffKey::Email(a) => {
            let s = Subject::Email(a.clone());
            match e {
                Entry::Listed(l) => b.insert(&s, l.clone()),
                _ => b.exclude(&s),
            };
            return;
        }
    };
    for n in nets {
        match e {
            Entry::Listed(l) => b.insert_net(n, l.clone()),
            _ => b.exclude_net(n),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ReturnCode;
    use crate::list::{Listing, Precedence};
    use crate::time::Timestamp;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Item {
        V4(u32, u8),
        V6(u128, u8),
        Domain(u8, u8),
        Email(u8),
    }

    fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            (0u32..0x1_0000, 16u8..=32).prop_map(|(a, p)| Item::V4(0x0a00_0000 | a, p)),
            (any::<u16>(), 112u8..=128).prop_map(|(a, p)| Item::V6(
                0x2001_0db8_0000_0000_0000_0000_0000_0000 | u128::from(a),
                p
            )),
            (0u8..6, 0u8..3).prop_map(|(n, s)| Item::Domain(n, s)),
            (0u8..6).prop_map(Item::Email),
        ]
    }

    /// A code and a `since`; `None` excludes.
    type Spec = Option<(u8, Option<i64>)>;

    fn entry() -> impl Strategy<Value = Spec> {
        proptest::option::weighted(0.8, (2u8..5, proptest::option::of(0i64..3)))
    }

    fn build(items: &[(Item, Spec)], most_specific: bool) -> List {
        let mut b = List::builder();
        if most_specific {
            b.precedence(Precedence::MostSpecific);
        }
        for (it, e) in items {
            let listing = e.map(|(c, since)| {
                let l = Listing::new(ReturnCode::new_assert(127, 0, 0, c));
                match since {
                    Some(s) => l.with_since(Timestamp::from_unix(1_800_000_000 + s).unwrap()),
                    None => l,
                }
            });
            match it {
                Item::V4(a, p) => {
                    let net = IpNet::new(IpAddr::V4(Ipv4Addr::from(*a)), *p)
                        .unwrap()
                        .trunc();
                    match listing {
                        Some(l) => b.insert_net(net, l),
                        None => b.exclude_net(net),
                    };
                }
                Item::V6(a, p) => {
                    let net = IpNet::new(IpAddr::V6(Ipv6Addr::from(*a)), *p)
                        .unwrap()
                        .trunc();
                    match listing {
                        Some(l) => b.insert_net(net, l),
                        None => b.exclude_net(net),
                    };
                }
                Item::Domain(n, s) => {
                    let names = [
                        "a.example",
                        "b.a.example",
                        "c.example",
                        "x.b.a.example",
                        "d.org",
                        "a.examplf",
                    ];
                    let text = match s {
                        0 => names[usize::from(*n)].to_string(),
                        1 => format!("*.{}", names[usize::from(*n)]),
                        _ => format!(".{}", names[usize::from(*n)]),
                    };
                    let p: DomainPattern = text.parse().unwrap();
                    match listing {
                        Some(l) => b.insert_domain(&p, l),
                        None => b.exclude_domain(&p),
                    };
                }
                Item::Email(n) => {
                    let addrs = [
                        "a@b.example",
                        "a.b@b.example",
                        "a@c.example",
                        "ab@b.example",
                        "z@a.example",
                        "a-@b.example",
                    ];
                    let s: Subject = addrs[usize::from(*n)].parse().unwrap();
                    match listing {
                        Some(l) => b.insert(&s, l),
                        None => b.exclude(&s),
                    };
                }
            }
        }
        b.build()
    }

    fn dump(l: &List) -> Vec<(DiffKey, Option<Listing>)> {
        let e = |e: Entry<'_>| match e {
            Entry::Listed(l) => Some(l.clone()),
            Entry::Excluded => None,
        };
        let mut v: Vec<(DiffKey, Option<Listing>)> = Vec::new();
        v.extend(l.ipv4_addresses().map(|(a, x)| (DiffKey::Ipv4(a), e(x))));
        v.extend(
            l.ipv4_ranges()
                .map(|(a, z, x)| (DiffKey::Ipv4Range(a, z), e(x))),
        );
        v.extend(
            l.ipv6_ranges()
                .map(|(a, z, x)| (DiffKey::Ipv6Range(a, z), e(x))),
        );
        v.extend(l.domains().map(|(p, x)| (DiffKey::Domain(p), e(x))));
        v.extend(l.emails().map(|(a, x)| (DiffKey::Email(a), e(x))));
        v
    }

    proptest! {
        #[test]
        fn applying_the_diff_to_a_gives_b(
            a in proptest::collection::vec((item(), entry()), 0..24),
            b in proptest::collection::vec((item(), entry()), 0..24),
            ms in any::<bool>(),
        ) {
            let (a, b) = (build(&a, ms), build(&b, ms));
            let d = ListDiff::between(&a, &b);
            // in key order, each key once
            for w in d.changes().windows(2) {
                prop_assert_eq!(key_order(&w[0].0, &w[1].0), Ordering::Less, "{} {}", w[0].0, w[1].0);
            }
            let rebuilt = d.apply(&a);
            prop_assert_eq!(dump(&rebuilt), dump(&b));
            prop_assert!(ListDiff::between(&rebuilt, &b).is_empty());
            prop_assert!(ListDiff::between(&a, &a).is_empty());
            // answers-only diffs are a subset
            let answers = ListDiff::answers_between(&a, &b);
            prop_assert!(answers.len() <= d.len());
        }
    }

    #[test]
    fn a_changed_expiry_is_a_change_of_everything_not_of_the_answers() {
        let s: Subject = "192.0.2.1".parse().unwrap();
        let l = Listing::new(ReturnCode::LISTED);
        let mut a = List::builder();
        a.insert(
            &s,
            l.clone().with_expires(Timestamp::from_unix(100).unwrap()),
        );
        let mut b = List::builder();
        b.insert(&s, l.with_expires(Timestamp::from_unix(200).unwrap()));
        let (a, b) = (a.build(), b.build());
        assert_eq!(ListDiff::between(&a, &b).changed().count(), 1);
        assert!(ListDiff::answers_between(&a, &b).is_empty());
    }
}
