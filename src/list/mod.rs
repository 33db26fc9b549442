//! The compiled list: an immutable snapshot answering "is this listed, and how".
//!
//! A [`List`] is built once by a [`ListBuilder`] and then only read: it is `Send + Sync`,
//! shared behind an `Arc`, and swapped whole (for instance with `arc-swap`) while readers run.
//! Lookups take borrowed input, allocate nothing and return `Option<&Listing>`.
//!
//! - IPv4: exact addresses sit in a packed array behind an index on their top bits, found
//!   by interpolating from the low bits; from about two million addresses they sit in
//!   buckets of one cache line each (about 4 bytes an address at ten million addresses),
//!   so that a lookup reads one line. Networks and ranges are flattened into disjoint
//!   ranges searched through an index. [`List::lookup_ipv4_batch`] looks up many addresses
//!   with the memory of later ones prefetched, so that their cache misses overlap.
//! - IPv6: networks flattened into disjoint ranges, as for IPv4.
//! - Domains: exact names, wildcard entries (`*.example.com`: names below only) and entries
//!   covering a name and its subdomains (`.example.com`), as in rbldnsd's `dnset`; the name
//!   is probed, then its parents (only those with as many labels as some entry), in a
//!   hash table of nodes that hold short names inline.
//! - Email addresses: exact, case-insensitive.
//!
//! Exclusions win over listings ([`Precedence::ExclusionsWin`], the default), or only over
//! less specific ones ([`Precedence::MostSpecific`], as rbldnsd answers). Several listings of
//! the same entry merge: their codes and TXT templates add up.
//!
//! # Examples
//!
//! ```
//! use rblkit::{List, Listing};
//! use rblkit::codes::ReturnCode;
//! use rblkit::list::DomainPattern;
//!
//! let spam = Listing::new(ReturnCode::LISTED).with_txt("spam source $");
//! let mut b = List::builder();
//! b.insert(&"198.51.100.0/24".parse()?, spam.clone());
//! b.insert(&"2001:db8:1::/48".parse()?, spam.clone());
//! b.exclude(&"198.51.100.1".parse()?);
//! b.insert_domain(&".bad.example".parse::<DomainPattern>()?, Listing::new(ReturnCode::new_assert(127, 0, 1, 2)));
//! b.insert(&"sender1@relay.example".parse()?, Listing::new(ReturnCode::new_assert(127, 0, 0, 9)));
//! let list = b.build();
//!
//! assert!(list.lookup_ipv4("198.51.100.200".parse().unwrap()).is_some());
//! assert!(list.lookup_ipv4("198.51.100.1".parse().unwrap()).is_none());
//! assert!(list.lookup_ipv6("2001:db8:1::25".parse().unwrap()).is_some());
//! assert!(list.lookup_domain("WWW.Bad.Example").is_some());
//! assert!(list.lookup_email("Sender1@relay.example").is_some());
//! assert!(list.lookup(&"198.51.100.7".parse()?).is_some());
//! # Ok::<(), rblkit::Error>(())
//! ```

mod diff;
mod lines;
mod listing;
mod names;
mod pattern;
mod tables;

pub use diff::{Change, DiffKey, DiffScope, ListDiff};
pub use listing::Listing;
pub use pattern::{DomainPattern, DomainScope};
pub use tables::Precedence;

use crate::subject::{EmailAddr, Subject};
use ipnet::IpNet;
pub(crate) use names::NameTable;
use names::Names;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tables::{Exact32, Ranges, EXCL, NONE};

/// What a list says of one of its entries.
///
/// # Examples
///
/// ```
/// use rblkit::list::Entry;
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// b.exclude(&"192.0.2.1".parse()?);
/// let list = b.build();
/// let (addr, entry) = list.ipv4_addresses().next().unwrap();
/// assert_eq!(addr.to_string(), "192.0.2.1");
/// assert_eq!(entry, Entry::Excluded);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry<'a> {
    /// Listed, with this listing.
    Listed(&'a Listing),
    /// Excluded: not listed, whatever less specific entries say.
    Excluded,
}

/// A domain lookup's answer: the listing and the entry that matched. The entry's name is
/// what rbldnsd puts in place of `$` in a domain list's TXT (rbldnsd writes it in
/// lowercase; here it is borrowed from the query, so it keeps the query's case).
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// use rblkit::list::{DomainPattern, DomainScope};
/// let mut b = List::builder();
/// b.insert_domain(&"*.bad.example".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
/// let list = b.build();
/// let hit = list.lookup_domain_match("a.b.bad.example").unwrap();
/// assert_eq!(hit.name, "bad.example");
/// assert_eq!(hit.scope, DomainScope::Subdomains);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DomainMatch<'a> {
    /// The listing.
    pub listing: &'a Listing,
    /// The listed name that matched: the query itself, or the suffix of the query that is
    /// the listed parent, without the trailing dot, spelt as in the query.
    pub name: &'a str,
    /// [`DomainScope::Exact`] when the query is the listed name, else
    /// [`DomainScope::Subdomains`].
    pub scope: DomainScope,
}

/// Counts and memory of a compiled [`List`].
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
/// let s = b.build().stats();
/// assert_eq!(s.ipv4_addresses, 1);
/// assert!(s.memory_bytes > 0);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ListStats {
    /// Exact IPv4 entries (listed or excluded).
    pub ipv4_addresses: usize,
    /// IPv4 ranges with an entry, after flattening networks.
    pub ipv4_ranges: usize,
    /// IPv6 ranges with an entry, after flattening networks.
    pub ipv6_ranges: usize,
    /// Domain names with an entry.
    pub domains: usize,
    /// Email addresses with an entry.
    pub emails: usize,
    /// Distinct listings.
    pub listings: usize,
    /// Bytes held by the lookup structures and listings (not counting the `List` itself).
    pub memory_bytes: usize,
}

/// An immutable compiled list. See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    listings: Box<[Listing]>,
    v4_exact: Exact32,
    v4_ranges: Ranges<u32>,
    v6_ranges: Ranges<u128>,
    domains: Names,
    emails: Names,
    precedence: Precedence,
    domain_exclusions: bool,
}

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<List>();
};

impl List {
    /// A builder for a new list.
    ///
    /// # Examples
    ///
    /// ```
    /// let list = rblkit::List::builder().build();
    /// assert!(list.is_empty());
    /// ```
    pub fn builder() -> ListBuilder {
        ListBuilder::default()
    }

    /// Whether the list has no entry at all.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::List::builder().build().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.v4_exact.len() == 0
            && self.v4_ranges.is_empty()
            && self.v6_ranges.is_empty()
            && self.domains.len() == 0
            && self.emails.len() == 0
    }

    /// How exclusions combine with listings in this list.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::Precedence;
    /// assert_eq!(rblkit::List::builder().build().precedence(), Precedence::ExclusionsWin);
    /// ```
    pub fn precedence(&self) -> Precedence {
        self.precedence
    }

    #[inline(always)]
    fn value(&self, v: u32) -> Option<&Listing> {
        // the sentinels lie past every listing
        self.listings.get(v as usize)
    }

    /// Looks up an IPv4 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"10.0.0.0/8".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert!(list.lookup_ipv4("10.1.2.3".parse().unwrap()).is_some());
    /// assert!(list.lookup_ipv4("11.0.0.0".parse().unwrap()).is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    #[inline]
    pub fn lookup_ipv4(&self, ip: Ipv4Addr) -> Option<&Listing> {
        let key = u32::from(ip);
        let v = self.v4_exact.get(key);
        if self.v4_ranges.is_empty() {
            return self.value(v);
        }
        // both read, then one chosen: no branch waits for the first read
        let r = self.v4_ranges.get(key);
        self.value(if v == NONE { r } else { v })
    }

    /// Looks up many IPv4 addresses at once, writing one answer per address into `out`
    /// (which must be at least as long as `ips`).
    ///
    /// While it answers one address it asks the processor for the memory of an address
    /// some places further on (a prefetch, which does not wait), so that the cache misses
    /// of many lookups overlap and a lookup costs less than one read from memory; the
    /// answers are those of [`List::lookup_ipv4`]. On processors without a prefetch
    /// instruction here it is a loop of [`List::lookup_ipv4`].
    ///
    /// # Panics
    ///
    /// When `out` is shorter than `ips`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// let ips = ["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
    /// let mut out = [None; 2];
    /// list.lookup_ipv4_batch(&ips, &mut out);
    /// assert!(out[0].is_some() && out[1].is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lookup_ipv4_batch<'a>(&'a self, ips: &[Ipv4Addr], out: &mut [Option<&'a Listing>]) {
        assert!(out.len() >= ips.len(), "output shorter than input");
        // how many lookups ahead the table's memory is asked for: enough for a read from
        // memory to arrive while the lookups in between are answered, few enough that the
        // lines are still in the cache when their turn comes (8, 16, 24, 32, 48 gave
        // 1.14, 0.85, 0.84, 0.84, 0.93 times one plain read per lookup on 10M addresses)
        const AHEAD: usize = 16;
        let ranges_empty = self.v4_ranges.is_empty();
        for ip in &ips[..ips.len().min(AHEAD)] {
            self.v4_exact.prefetch(u32::from(*ip));
        }
        for (i, (ip, o)) in ips.iter().zip(out.iter_mut()).enumerate() {
            if let Some(next) = ips.get(i + AHEAD) {
                self.v4_exact.prefetch(u32::from(*next));
            }
            let key = u32::from(*ip);
            let v = self.v4_exact.get(key);
            *o = self.value(if v == NONE && !ranges_empty {
                self.v4_ranges.get(key)
            } else {
                v
            });
        }
    }

    /// Looks up an IPv6 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"2001:db8::/32".parse()?, Listing::new(ReturnCode::LISTED));
    /// assert!(b.build().lookup_ipv6("2001:db8::1".parse().unwrap()).is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    #[inline]
    pub fn lookup_ipv6(&self, ip: Ipv6Addr) -> Option<&Listing> {
        self.value(self.v6_ranges.get(u128::from(ip)))
    }

    /// Looks up an IPv4 or IPv6 address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
    /// assert!(b.build().lookup_ip("192.0.2.1".parse().unwrap()).is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    #[inline]
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<&Listing> {
        match ip {
            IpAddr::V4(a) => self.lookup_ipv4(a),
            IpAddr::V6(a) => self.lookup_ipv6(a),
        }
    }

    /// Looks up a domain name (ASCII, any case, with or without the trailing dot; give
    /// internationalised names as A-labels, for instance through
    /// [`Domain::normalize`](crate::subject::Domain::normalize)).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"spam.example".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert!(list.lookup_domain("SPAM.example.").is_some());
    /// assert!(list.lookup_domain("www.spam.example").is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    #[inline]
    pub fn lookup_domain(&self, name: &str) -> Option<&Listing> {
        let text = name.strip_suffix('.').unwrap_or(name);
        self.domain_value(text.as_bytes())
            .and_then(|(v, _, _)| self.value(v))
    }

    /// Looks up a domain name as [`List::lookup_domain`] does, and says which entry matched.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::list::{DomainPattern, DomainScope};
    /// let mut b = List::builder();
    /// b.insert_domain(&".example.net".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert_eq!(list.lookup_domain_match("example.net").unwrap().scope, DomainScope::Exact);
    /// assert_eq!(list.lookup_domain_match("a.example.net").unwrap().name, "example.net");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lookup_domain_match<'a>(&'a self, name: &'a str) -> Option<DomainMatch<'a>> {
        let text = name.strip_suffix('.').unwrap_or(name);
        let (v, start, scope) = self.domain_value(text.as_bytes())?;
        Some(DomainMatch {
            listing: self.value(v)?,
            name: &text[start..],
            scope,
        })
    }

    /// The value deciding a name (without trailing dot), the offset in it where the matching
    /// entry's name starts, and how it matched.
    #[inline]
    fn domain_value(&self, name: &[u8]) -> Option<(u32, usize, DomainScope)> {
        if self.domains.len() == 0 || name.is_empty() || name.len() > 253 {
            return None;
        }
        let labels = 1 + name.iter().map(|&b| usize::from(b == b'.')).sum::<usize>();
        let (min, max) = self.domains.label_range();
        let all_exclusions = self.precedence == Precedence::ExclusionsWin && self.domain_exclusions;
        let mut best: Option<(u32, usize, DomainScope)> = None;
        // the name itself
        if labels >= min && labels <= max {
            if let Some((exact, _)) = self.domains.get(name) {
                if exact == EXCL {
                    return None;
                }
                if exact != NONE {
                    best = Some((exact, 0, DomainScope::Exact));
                    if !all_exclusions {
                        return best;
                    }
                }
            }
        }
        // parents, nearest first, skipping those with more labels than any entry
        let mut k = labels;
        let mut start = 0usize;
        while k > min {
            let dot = name[start..].iter().position(|&b| b == b'.')?;
            if dot == 0 {
                return None;
            }
            start += dot + 1;
            k -= 1;
            if k > max {
                continue;
            }
            if let Some((_, sub)) = self.domains.get(&name[start..]) {
                if sub == EXCL {
                    return None;
                }
                if sub != NONE && best.is_none() {
                    best = Some((sub, start, DomainScope::Subdomains));
                    if !all_exclusions {
                        break;
                    }
                }
            }
        }
        best
    }

    /// Looks up an email address (`local@domain`, ASCII case-insensitive; the domain as
    /// A-labels).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"root@localhost.example".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert!(list.lookup_email("ROOT@LocalHost.example").is_some());
    /// assert!(list.lookup_email("admin@localhost.example").is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lookup_email(&self, addr: &str) -> Option<&Listing> {
        let addr = addr.strip_suffix('.').unwrap_or(addr);
        self.emails
            .get(addr.as_bytes())
            .and_then(|n| self.value(n.0))
    }

    /// Looks up any subject: an address, a network (listed when one listing covers all of it,
    /// that is when its first and last addresses get the same answer and no entry lies inside
    /// it with another answer), a domain or an email address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"10.0.0.0/8".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert!(list.lookup(&"10.1.0.0/16".parse()?).is_some());
    /// assert!(list.lookup(&"10.0.0.0/7".parse()?).is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn lookup(&self, subject: &Subject) -> Option<&Listing> {
        match subject {
            Subject::Ip(ip) => self.lookup_ip(*ip),
            Subject::Net(net) => self.lookup_net(*net),
            Subject::Domain(d) => self.lookup_domain(d.as_str()),
            Subject::Email(e) => self.lookup_email_addr(e),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    fn lookup_email_addr(&self, e: &EmailAddr) -> Option<&Listing> {
        let mut buf = [0u8; 64 + 1 + 253];
        let (l, d) = (e.local_part().as_bytes(), e.domain().as_str().as_bytes());
        let n = l.len() + 1 + d.len();
        if n > buf.len() {
            return None;
        }
        buf[..l.len()].copy_from_slice(l);
        buf[l.len()] = b'@';
        buf[l.len() + 1..n].copy_from_slice(d);
        self.emails.get(&buf[..n]).and_then(|n| self.value(n.0))
    }

    fn lookup_net(&self, net: IpNet) -> Option<&Listing> {
        match net {
            IpNet::V4(n) => {
                let (first, last) = (u32::from(n.network()), u32::from(n.broadcast()));
                if self.v4_exact.any_in(first, last) {
                    return None;
                }
                self.value(self.v4_ranges.uniform(first, last)?)
            }
            IpNet::V6(n) => {
                let (first, last) = (u128::from(n.network()), u128::from(n.broadcast()));
                self.value(self.v6_ranges.uniform(first, last)?)
            }
        }
    }

    /// Exact IPv4 entries (single addresses), in address order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.9".parse()?, Listing::new(ReturnCode::LISTED));
    /// assert_eq!(b.build().ipv4_addresses().count(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv4_addresses(&self) -> impl Iterator<Item = (Ipv4Addr, Entry<'_>)> + '_ {
        self.v4_exact
            .iter()
            .map(move |(k, v)| (Ipv4Addr::from(k), self.entry(v)))
    }

    /// IPv4 ranges from networks, flattened: disjoint, in address order, `(first, last,
    /// entry)`, adjacent ranges with different entries. Exact addresses are not included;
    /// they take precedence over these ranges.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.0/25".parse()?, Listing::new(ReturnCode::LISTED));
    /// b.insert(&"192.0.2.128/25".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// let r: Vec<_> = list.ipv4_ranges().collect();
    /// assert_eq!(r.len(), 1);
    /// assert_eq!(r[0].1.to_string(), "192.0.2.255");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv4_ranges(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr, Entry<'_>)> + '_ {
        self.v4_ranges
            .iter()
            .map(move |(a, b, v)| (Ipv4Addr::from(a), Ipv4Addr::from(b), self.entry(v)))
    }

    /// IPv6 ranges, flattened as for [`List::ipv4_ranges`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"2001:db8::/64".parse()?, Listing::new(ReturnCode::LISTED));
    /// assert_eq!(b.build().ipv6_ranges().count(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ipv6_ranges(&self) -> impl Iterator<Item = (Ipv6Addr, Ipv6Addr, Entry<'_>)> + '_ {
        self.v6_ranges
            .iter()
            .map(move |(a, b, v)| (Ipv6Addr::from(a), Ipv6Addr::from(b), self.entry(v)))
    }

    /// Domain entries in name order: `(pattern, entry)`, a name listed both itself and with
    /// its subdomains the same way appearing once as `.name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::list::DomainPattern;
    /// let mut b = List::builder();
    /// b.insert_domain(&"*.b.example".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
    /// b.insert_domain(&"b.example".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// let v: Vec<_> = list.domains().map(|(p, _)| p.to_string()).collect();
    /// assert_eq!(v, [".b.example"]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn domains(&self) -> impl Iterator<Item = (DomainPattern, Entry<'_>)> + '_ {
        self.domains.nodes().flat_map(move |(name, exact, sub)| {
            let d = crate::subject::Domain::new(&name).expect("stored names are valid");
            let mut out: [Option<(DomainPattern, Entry<'_>)>; 2] = [None, None];
            if exact != NONE && exact == sub {
                out[0] = Some((
                    DomainPattern::new(d, DomainScope::NameAndSubdomains),
                    self.entry(exact),
                ));
            } else {
                if exact != NONE {
                    out[0] = Some((
                        DomainPattern::new(d.clone(), DomainScope::Exact),
                        self.entry(exact),
                    ));
                }
                if sub != NONE {
                    out[1] = Some((
                        DomainPattern::new(d, DomainScope::Subdomains),
                        self.entry(sub),
                    ));
                }
            }
            out.into_iter().flatten()
        })
    }

    /// Email entries in address order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"a@b.example".parse()?, Listing::new(ReturnCode::LISTED));
    /// let list = b.build();
    /// assert_eq!(list.emails().next().unwrap().0.to_string(), "a@b.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn emails(&self) -> impl Iterator<Item = (EmailAddr, Entry<'_>)> + '_ {
        self.emails.nodes().map(move |(name, exact, _)| {
            let a = EmailAddr::new(&name).expect("stored addresses are valid");
            (a, self.entry(exact))
        })
    }

    fn entry(&self, v: u32) -> Entry<'_> {
        match self.value(v) {
            Some(l) => Entry::Listed(l),
            None => Entry::Excluded,
        }
    }

    /// Counts and memory.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = rblkit::List::builder().build().stats();
    /// assert_eq!(s.domains, 0);
    /// ```
    pub fn stats(&self) -> ListStats {
        let listing_bytes: usize = self
            .listings
            .iter()
            .map(|l| {
                std::mem::size_of::<Listing>()
                    + l.codes().len() * 4
                    + l.txt().iter().map(|t| t.len() + 16).sum::<usize>()
            })
            .sum();
        ListStats {
            ipv4_addresses: self.v4_exact.len(),
            ipv4_ranges: self.v4_ranges.len(),
            ipv6_ranges: self.v6_ranges.len(),
            domains: self.domains.len(),
            emails: self.emails.len(),
            listings: self.listings.len(),
            memory_bytes: listing_bytes
                + self.v4_exact.memory_bytes()
                + self.v4_ranges.memory_bytes()
                + self.v6_ranges.memory_bytes()
                + self.domains.memory_bytes()
                + self.emails.memory_bytes(),
        }
    }
}

/// A listing interned in a [`ListBuilder`] by [`ListBuilder::listing`]: inserting by id
/// skips cloning and hashing the listing again, which is what a loader of millions of entries
/// sharing a few listings wants.
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// let spam = b.listing(Listing::new(ReturnCode::LISTED));
/// for i in 0..100u32 {
///     let addr = std::net::IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
///     b.insert_net_id(addr.into(), spam);
/// }
/// assert_eq!(b.build().stats().ipv4_addresses, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListingId(u32);

impl ListingId {
    /// The value an entry holds: the id, or the exclusion sentinel for `None`.
    pub(crate) fn raw(id: Option<ListingId>) -> u32 {
        id.map_or(EXCL, |i| i.0)
    }
}

/// Collects entries and compiles them into a [`List`].
///
/// Inserting the same entry twice merges the listings (codes and TXT templates add up);
/// excluding an entry makes it excluded whatever was inserted for it.
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::new_assert(127, 0, 0, 4)));
/// let list = b.build();
/// assert_eq!(list.lookup_ipv4("192.0.2.1".parse().unwrap()).unwrap().codes().len(), 2);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListBuilder {
    precedence: Precedence,
    interner: Interner,
    /// single addresses
    v4_exact: Vec<(u32, u32)>,
    /// networks (prefix shorter than 32)
    v4: Vec<(u32, u8, u32)>,
    v6: Vec<(u128, u8, u32)>,
    domains: NameTable,
    emails: NameTable,
    /// merge listings of a domain with their TXT templates sorted
    sorted_merges: bool,
}

impl ListBuilder {
    /// Sets how exclusions and listings combine (default [`Precedence::ExclusionsWin`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::Precedence;
    /// let mut b = rblkit::List::builder();
    /// b.precedence(Precedence::MostSpecific);
    /// assert_eq!(b.build().precedence(), Precedence::MostSpecific);
    /// ```
    pub fn precedence(&mut self, p: Precedence) -> &mut ListBuilder {
        self.precedence = p;
        self
    }

    fn intern(&mut self, listing: Listing) -> u32 {
        self.interner.intern(listing)
    }

    /// Lists a subject: an address, network, domain name (the name only; see
    /// [`ListBuilder::insert_domain`] for wildcards) or email address.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"2001:db8::1".parse()?, Listing::new(ReturnCode::LISTED));
    /// assert!(b.build().lookup_ipv6("2001:db8::1".parse().unwrap()).is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn insert(&mut self, subject: &Subject, listing: Listing) -> &mut ListBuilder {
        let id = self.intern(listing);
        self.put(subject, id)
    }

    /// Excludes a subject: not listed, whatever covers it (see [`Precedence`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert(&"10.0.0.0/8".parse()?, Listing::new(ReturnCode::LISTED));
    /// b.exclude(&"10.0.0.0/24".parse()?);
    /// assert!(b.build().lookup_ipv4("10.0.0.5".parse().unwrap()).is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn exclude(&mut self, subject: &Subject) -> &mut ListBuilder {
        self.put(subject, EXCL)
    }

    /// Lists a network (any prefix length; `/32` and `/128` are single addresses).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// b.insert_net("192.0.2.0/30".parse().unwrap(), Listing::new(ReturnCode::LISTED));
    /// assert!(b.build().lookup_ipv4("192.0.2.3".parse().unwrap()).is_some());
    /// ```
    pub fn insert_net(&mut self, net: IpNet, listing: Listing) -> &mut ListBuilder {
        let id = self.intern(listing);
        self.put_net(net, id)
    }

    /// Excludes a network.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rblkit::List::builder();
    /// b.exclude_net("192.0.2.0/30".parse().unwrap());
    /// assert_eq!(b.build().ipv4_ranges().count(), 1);
    /// ```
    pub fn exclude_net(&mut self, net: IpNet) -> &mut ListBuilder {
        self.put_net(net, EXCL)
    }

    /// Lists a domain pattern (`name`, `*.name` or `.name`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::list::DomainPattern;
    /// let mut b = List::builder();
    /// b.insert_domain(&"*.example.org".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
    /// assert!(b.build().lookup_domain("x.example.org").is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn insert_domain(&mut self, pattern: &DomainPattern, listing: Listing) -> &mut ListBuilder {
        let id = self.intern(listing);
        self.put_domain(pattern.domain().as_str(), pattern.scope(), id)
    }

    /// Excludes a domain pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::list::DomainPattern;
    /// let mut b = List::builder();
    /// b.insert_domain(&".example.org".parse::<DomainPattern>()?, Listing::new(ReturnCode::LISTED));
    /// b.exclude_domain(&"www.example.org".parse::<DomainPattern>()?);
    /// let list = b.build();
    /// assert!(list.lookup_domain("www.example.org").is_none());
    /// assert!(list.lookup_domain("mail.example.org").is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn exclude_domain(&mut self, pattern: &DomainPattern) -> &mut ListBuilder {
        self.put_domain(pattern.domain().as_str(), pattern.scope(), EXCL)
    }

    /// Adds a normalised name with a scope and a value.
    fn put_domain(&mut self, name: &str, scope: DomainScope, v: u32) -> &mut ListBuilder {
        let exact = if scope.covers_name() { v } else { NONE };
        let sub = if scope.covers_subdomains() { v } else { NONE };
        self.domains.push(name.as_bytes(), exact, sub);
        self
    }

    /// Takes the names of a table whose values are `map`ped to this builder's listings
    /// (`None`: excluded); equal names merge with [`ListBuilder::sorted_merges`]' rule
    /// when that is set.
    pub(crate) fn append_names(
        &mut self,
        mut names: NameTable,
        map: impl Fn(u32) -> Option<ListingId>,
    ) -> &mut ListBuilder {
        names.map_values(|v| map(v).map_or(EXCL, |id| self.check_id(id)));
        self.domains.append(names);
        self
    }

    /// Takes single IPv4 addresses with values of this builder (`(address, raw id)`, see
    /// [`ListingId::raw`]), for loaders that merged and sorted them already.
    pub(crate) fn append_v4_addresses(&mut self, v: Vec<(u32, u32)>) -> &mut ListBuilder {
        if self.v4_exact.is_empty() {
            self.v4_exact = v;
        } else {
            self.v4_exact.extend_from_slice(&v);
        }
        self
    }

    /// Merges listings of the same domain name by putting their TXT templates in sorted
    /// order (so that the result does not depend on the order of the inserts), instead of
    /// in insertion order.
    pub(crate) fn sorted_merges(&mut self) -> &mut ListBuilder {
        self.sorted_merges = true;
        self
    }

    /// Interns a listing and returns its id for the `*_id` inserts.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// let a = b.listing(Listing::new(ReturnCode::LISTED));
    /// let again = b.listing(Listing::new(ReturnCode::LISTED));
    /// assert_eq!(a, again);
    /// ```
    pub fn listing(&mut self, listing: Listing) -> ListingId {
        ListingId(self.intern(listing))
    }

    fn check_id(&self, id: ListingId) -> u32 {
        assert!(
            (id.0 as usize) < self.interner.listings.len(),
            "ListingId from another builder"
        );
        id.0
    }

    /// Lists a subject with an interned listing.
    ///
    /// # Panics
    ///
    /// When `id` does not come from this builder.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// let id = b.listing(Listing::new(ReturnCode::LISTED));
    /// b.insert_id(&"a@b.example".parse()?, id);
    /// assert!(b.build().lookup_email("a@b.example").is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn insert_id(&mut self, subject: &Subject, id: ListingId) -> &mut ListBuilder {
        let v = self.check_id(id);
        self.put(subject, v)
    }

    /// Lists a network with an interned listing.
    ///
    /// # Panics
    ///
    /// When `id` does not come from this builder.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// let mut b = List::builder();
    /// let id = b.listing(Listing::new(ReturnCode::LISTED));
    /// b.insert_net_id("192.0.2.0/24".parse().unwrap(), id);
    /// assert!(b.build().lookup_ipv4("192.0.2.9".parse().unwrap()).is_some());
    /// ```
    pub fn insert_net_id(&mut self, net: IpNet, id: ListingId) -> &mut ListBuilder {
        let v = self.check_id(id);
        self.put_net(net, v)
    }

    /// Lists a domain name with a scope and an interned listing, normalising the name as
    /// [`Domain::normalize`](crate::subject::Domain::normalize) does (without allocating a
    /// `Domain` when it is canonical).
    ///
    /// # Errors
    ///
    /// The name is not a valid domain name.
    ///
    /// # Panics
    ///
    /// When `id` does not come from this builder.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::list::DomainScope;
    /// let mut b = List::builder();
    /// let id = b.listing(Listing::new(ReturnCode::LISTED));
    /// b.insert_domain_id("Spam.Example", DomainScope::Subdomains, Some(id))?;
    /// b.insert_domain_id("ok.spam.example", DomainScope::Exact, None)?;
    /// let list = b.build();
    /// assert!(list.lookup_domain("x.spam.example").is_some());
    /// assert!(list.lookup_domain("ok.spam.example").is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn insert_domain_id(
        &mut self,
        name: &str,
        scope: DomainScope,
        id: Option<ListingId>,
    ) -> Result<&mut ListBuilder, crate::subject::SubjectError> {
        let v = match id {
            Some(id) => self.check_id(id),
            None => EXCL,
        };
        let name = crate::subject::Domain::normalize(name)?;
        Ok(self.put_domain(&name, scope, v))
    }

    /// Adds the RFC 5782 test points: `127.0.0.2`, `::ffff:127.0.0.2` and the name `test`
    /// listed with `listing`; `127.0.0.1`, `::ffff:127.0.0.1` and `invalid` excluded, so that
    /// no network or wildcard entry can list them (RFC 5782, 5).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::{test_points, ReturnCode};
    /// let mut b = List::builder();
    /// b.insert(&"127.0.0.0/8".parse()?, Listing::new(ReturnCode::LISTED));
    /// b.insert_test_points(Listing::new(ReturnCode::LISTED).with_txt("test point"));
    /// let list = b.build();
    /// assert!(list.lookup_ipv4(test_points::IPV4_LISTED).is_some());
    /// assert!(list.lookup_ipv4(test_points::IPV4_UNLISTED).is_none());
    /// assert!(list.lookup_ipv6(test_points::IPV6_LISTED).is_some());
    /// assert!(list.lookup_domain(test_points::DOMAIN_LISTED).is_some());
    /// assert!(list.lookup_domain(test_points::DOMAIN_UNLISTED).is_none());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn insert_test_points(&mut self, listing: Listing) -> &mut ListBuilder {
        use crate::codes::test_points as tp;
        let id = self.intern(listing);
        self.put_net(IpNet::from(IpAddr::V4(tp::IPV4_LISTED)), id);
        self.put_net(IpNet::from(IpAddr::V6(tp::IPV6_LISTED)), id);
        self.put_domain(tp::DOMAIN_LISTED, DomainScope::Exact, id);
        self.put_net(IpNet::from(IpAddr::V4(tp::IPV4_UNLISTED)), EXCL);
        self.put_net(IpNet::from(IpAddr::V6(tp::IPV6_UNLISTED)), EXCL);
        self.put_domain(tp::DOMAIN_UNLISTED, DomainScope::NameAndSubdomains, EXCL)
    }

    fn put(&mut self, subject: &Subject, id: u32) -> &mut ListBuilder {
        match subject {
            Subject::Ip(ip) => self.put_net(IpNet::from(*ip), id),
            Subject::Net(n) => self.put_net(*n, id),
            Subject::Domain(d) => self.put_domain(d.as_str(), DomainScope::Exact, id),
            Subject::Email(e) => {
                self.emails.push(e.to_string().as_bytes(), id, NONE);
                self
            }
            #[allow(unreachable_patterns)]
            _ => self,
        }
    }

    fn put_net(&mut self, net: IpNet, id: u32) -> &mut ListBuilder {
        match net.trunc() {
            IpNet::V4(n) if n.prefix_len() == 32 => {
                self.v4_exact.push((u32::from(n.network()), id))
            }
            IpNet::V4(n) => self.v4.push((u32::from(n.network()), n.prefix_len(), id)),
            IpNet::V6(n) => self.v6.push((u128::from(n.network()), n.prefix_len(), id)),
        }
        self
    }

    /// Compiles the list.
    ///
    /// # Examples
    ///
    /// ```
    /// let list = rblkit::List::builder().build();
    /// assert_eq!(list.stats().listings, 0);
    /// ```
    pub fn build(self) -> List {
        let ListBuilder {
            precedence,
            interner: mut c,
            mut v4_exact,
            mut v4,
            mut v6,
            domains,
            emails,
            sorted_merges,
        } = self;
        let resolve = move |outer: u32, inner: u32| match precedence {
            Precedence::ExclusionsWin if outer == EXCL => EXCL,
            _ => inner,
        };

        // IPv4: single addresses apart, networks flattened into ranges; sorted stably, so
        // that listings of the same entry merge in insertion order (loaders give them
        // sorted and merged already, and then neither sorting nor merging copies them)
        if !v4_exact.is_sorted_by_key(|e| e.0) {
            v4_exact.sort_by_key(|e| e.0);
        }
        v4_exact.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = c.merge(kept.1, later.1);
            }
            same
        });
        let mut exact = v4_exact;
        if !v4.is_sorted_by_key(|&(s, l, _)| (s, l)) {
            v4.sort_by_key(|&(s, l, _)| (s, l));
        }
        v4.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                kept.2 = c.merge(kept.2, later.2);
            }
            same
        });
        let v4_ranges = Ranges::from_prefixes(&v4, resolve);
        drop(v4);
        if precedence == Precedence::ExclusionsWin && !v4_ranges.is_empty() {
            exact.retain(|&(k, v)| v == EXCL || v4_ranges.get(k) != EXCL);
        }

        // IPv6: everything flattened
        v6.sort_by_key(|&(s, l, _)| (s, l));
        let v6 = c.merge_runs(v6, |a, b| (a.0, a.1) == (b.0, b.1), |e| &mut e.2);
        let v6_ranges = Ranges::from_prefixes(&v6, resolve);
        drop(v6);

        // names: one entry per name with a value for itself and one for names below
        let domain_exclusions = domains.has_exclusions();
        let mut dnames = if sorted_merges {
            domains.finish(|a, b| c.merge_sorted(a, b))
        } else {
            domains.finish(|a, b| c.merge(a, b))
        };
        let mut enames = emails.finish(|a, b| c.merge(a, b));

        // renumber the listings in use, in sorted order, so equal contents give equal lists
        let mut in_use = vec![false; c.listings.len()];
        for v in exact
            .iter()
            .map(|e| e.1)
            .chain(v4_ranges.values())
            .chain(v6_ranges.values())
            .chain(dnames.values())
            .chain(enames.values())
        {
            if v < EXCL {
                in_use[v as usize] = true;
            }
        }
        let mut used: Vec<u32> = (0..c.listings.len() as u32)
            .filter(|&v| in_use[v as usize])
            .collect();
        drop(in_use);
        used.sort_by(|&a, &b| c.listings[a as usize].cmp(&c.listings[b as usize]));
        let mut map = vec![NONE; c.listings.len()];
        for (new, &old) in used.iter().enumerate() {
            map[old as usize] = new as u32;
        }
        let remap = |v: u32| if v >= EXCL { v } else { map[v as usize] };
        let mut listings_slots: Vec<Option<Listing>> = c.listings.into_iter().map(Some).collect();
        let listings: Vec<Listing> = used
            .iter()
            .map(|&old| listings_slots[old as usize].take().expect("each used once"))
            .collect();

        for e in &mut exact {
            e.1 = remap(e.1);
        }
        let mut v4_ranges = v4_ranges;
        v4_ranges.remap(remap);
        let mut v6_ranges = v6_ranges;
        v6_ranges.remap(remap);
        dnames.map_values(remap);
        enames.map_values(remap);
        let v4_exact = Exact32::new(exact, listings.len() as u32);
        List {
            v4_exact,
            v4_ranges,
            v6_ranges,
            domains: dnames,
            emails: enames,
            listings: listings.into_boxed_slice(),
            precedence,
            domain_exclusions,
        }
    }
}

/// The distinct listings of a builder, each with its id.
#[derive(Debug, Clone, Default)]
struct Interner {
    map: crate::ledger::hash::Map<Listing, u32>,
    listings: Vec<Listing>,
}

impl Interner {
    fn intern(&mut self, listing: Listing) -> u32 {
        if let Some(&id) = self.map.get(&listing) {
            return id;
        }
        let id = self.listings.len() as u32;
        assert!(id < EXCL, "too many distinct listings");
        self.listings.push(listing.clone());
        self.map.insert(listing, id);
        id
    }

    /// The value of an entry given twice: an exclusion wins, listings merge.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        self.merge_by(a, b, |m| m)
    }

    /// As [`Interner::merge`], the TXT templates of the merged listing in sorted order.
    fn merge_sorted(&mut self, a: u32, b: u32) -> u32 {
        self.merge_by(a, b, Listing::with_sorted_txt)
    }

    fn merge_by(&mut self, a: u32, b: u32, f: impl FnOnce(Listing) -> Listing) -> u32 {
        match (a, b) {
            (NONE, x) | (x, NONE) => x,
            (EXCL, _) | (_, EXCL) => EXCL,
            (a, b) if a == b => a,
            (a, b) => {
                let m = self.listings[a as usize].merged(&self.listings[b as usize]);
                self.intern(f(m))
            }
        }
    }

    /// Merges runs of equal keys in a sorted vector.
    fn merge_runs<T>(
        &mut self,
        v: Vec<T>,
        same: impl Fn(&T, &T) -> bool,
        val: impl Fn(&mut T) -> &mut u32,
    ) -> Vec<T> {
        let mut out: Vec<T> = Vec::with_capacity(v.len());
        for mut e in v {
            match out.last_mut() {
                Some(last) if same(last, &e) => {
                    let (a, b) = (*val(last), *val(&mut e));
                    *val(last) = self.merge(a, b);
                }
                _ => out.push(e),
            }
        }
        out
    }
}
