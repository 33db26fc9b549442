//! The zones a server answers for: an immutable snapshot, built once per (re)load, with
//! the SOA, NS and glue records in wire form and the index of names that exist only
//! because names below them are listed (empty non-terminals).

use super::error::ServerError;
use crate::list::{Entry, List};
use crate::subject::Domain;
use crate::zone::{list_hits, Dataset, DatasetKind, NsRecords, Soa, Zone};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// rbldnsd's default TTL of the records it serves (35 minutes).
pub const DEFAULT_TTL: u32 = 35 * 60;

/// What a served zone answers from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// rbldnsd datasets.
    Zone(Zone),
    /// A compiled list handed in by the library user, with the apex records it was given
    /// (for transfers).
    List {
        list: Arc<List>,
        ttl: Option<u32>,
        soa: Option<Box<Soa>>,
        ns: Option<NsRecords>,
    },
}

/// A domain name in wire form to write after the zone's apex: the labels before the apex,
/// then a pointer to the apex (`in_zone`), or all labels and the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireName {
    pub(crate) labels: Box<[u8]>,
    pub(crate) in_zone: bool,
}

impl WireName {
    fn new(name: &str, zone: &str) -> Result<WireName, ServerError> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let (head, in_zone) = if name == zone {
            ("", true)
        } else if let Some(h) = name
            .strip_suffix(zone)
            .and_then(|h| h.strip_suffix('.'))
            .filter(|h| !h.is_empty())
        {
            (h, true)
        } else {
            (name.as_str(), false)
        };
        let mut labels = Vec::with_capacity(head.len() + 2);
        if !head.is_empty() {
            for l in head.split('.') {
                if l.is_empty() || l.len() > 63 {
                    return Err(ServerError::BadName {
                        name: name.clone().into(),
                    });
                }
                labels.push(l.len() as u8);
                labels.extend_from_slice(l.as_bytes());
            }
        }
        if !in_zone {
            labels.push(0);
        }
        if labels.len() > 255 {
            return Err(ServerError::BadName { name: name.into() });
        }
        Ok(WireName {
            labels: labels.into(),
            in_zone,
        })
    }

    /// Octets this name takes in a message.
    pub(crate) fn len(&self) -> usize {
        self.labels.len() + if self.in_zone { 2 } else { 0 }
    }
}

/// The zone's SOA record, ready to write.
#[derive(Debug, Clone)]
pub(crate) struct SoaWire {
    pub(crate) ttl: u32,
    pub(crate) mname: WireName,
    pub(crate) rname: WireName,
    /// refresh, retry, expire, minimum
    pub(crate) times: [u32; 4],
}

/// The zone's NS records, and their A glue records found in the served zones.
#[derive(Debug, Clone, Default)]
pub(crate) struct NsWire {
    pub(crate) ttl: u32,
    pub(crate) names: Vec<WireName>,
    /// (index of the NS name, address, TTL)
    pub(crate) glue: Vec<(usize, Ipv4Addr, u32)>,
}

/// One served zone.
#[derive(Debug, Clone)]
pub(crate) struct ServedZone {
    pub(crate) name: Domain,
    /// Lowercase wire form, with the root label.
    pub(crate) wire: Box<[u8]>,
    pub(crate) labels: usize,
    pub(crate) source: Source,
    pub(crate) soa: Option<SoaWire>,
    pub(crate) ns: NsWire,
    pub(crate) serial: u32,
    pub(crate) ent: Ent,
    /// Identity of the data, to tell a reload that changed it from one that did not.
    pub(crate) generation: Arc<()>,
    /// The zone's `acl` dataset.
    pub(crate) acl: Option<Arc<Dataset>>,
    /// The zone's `aclkey` dataset, and the queries counted per key.
    pub(crate) keys: Option<Arc<Dataset>>,
    pub(crate) key_counts: Arc<[AtomicU64]>,
    /// The zone's query counters, kept across reloads.
    pub(crate) counters: Arc<super::ops::ZoneCounters>,
}

impl ServedZone {
    /// How the zone's data takes a name, for the access datasets' A+TXT answers (a
    /// compiled list takes every name).
    pub(crate) fn query_form(&self, rel: &str) -> crate::zone::QueryForm {
        match &self.source {
            Source::Zone(z) => z.query_form(rel),
            Source::List { .. } => crate::zone::QueryForm::Lookup,
        }
    }

    /// The zone's acl, with the TTL of its answers.
    pub(crate) fn acl(&self) -> Option<(&crate::zone::Acl, Option<u32>)> {
        let d = self.acl.as_ref()?;
        Some((d.acl()?, d.ttl()))
    }

    /// The zone's keys, with the TTL of their answers.
    pub(crate) fn keys(&self) -> Option<(&crate::zone::AclKeys, Option<u32>)> {
        let d = self.keys.as_ref()?;
        Some((d.keys()?, d.ttl()))
    }

    /// Whether both zones answer from compiled lists giving the same answers, with the same
    /// apex records and TTL.
    fn same_list(&self, old: &ServedZone) -> bool {
        match (&self.source, &old.source) {
            (
                Source::List {
                    list: a,
                    ttl: ta,
                    soa: sa,
                    ns: na,
                },
                Source::List {
                    list: b,
                    ttl: tb,
                    soa: sb,
                    ns: nb,
                },
            ) => {
                let apex = |s: &Option<Box<Soa>>| {
                    s.as_ref().map(|s| {
                        let mut s = (**s).clone();
                        s.serial = 0;
                        s
                    })
                };
                ta == tb
                    && na == nb
                    && apex(sa) == apex(sb)
                    && (Arc::ptr_eq(a, b)
                        || crate::list::ListDiff::answers_between(b, a).is_empty())
            }
            _ => false,
        }
    }

    /// Keeps counting where the zone served before left off, key by key.
    fn carry_key_counts(&self, old: &ServedZone) {
        let (Some((new, _)), Some((was, _))) = (self.keys(), old.keys()) else {
            return;
        };
        for i in 0..new.len() {
            if let Some((j, _)) = was.lookup(new.name(i).as_bytes()) {
                let n = old.key_counts[j].load(Ordering::Relaxed);
                self.key_counts[i].store(n, Ordering::Relaxed);
            }
        }
    }

    /// Calls `each` for every listing matching `rel`; whether the name was found.
    pub(crate) fn hits(
        &self,
        rel: &str,
        subject: &mut String,
        each: &mut dyn FnMut(crate::zone::Hit<'_>),
    ) -> bool {
        match &self.source {
            Source::Zone(z) => z.hits(rel, subject, each),
            Source::List { list, ttl, .. } => list_hits(list, rel, *ttl, subject, each),
        }
    }
}

/// The zones one server answers for. Build one with [`Catalog::builder`], hand it to the
/// server ([`super::ServerBuilder::catalog`] or [`super::Server::publish`]); it never
/// changes afterwards, so queries read it without locks while a new one is loaded.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::Catalog;
/// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("bl.txt", b"$SOA 1h ns.bl.example. hostmaster.bl.example. 5 1h 15m 1w 5m\n192.0.2.1\n")?;
/// let zone = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
/// let catalog = Catalog::builder().zone(zone).build()?;
/// assert_eq!(catalog.serial(&"bl.example".parse()?), Some(5));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Most labels first, so the first zone holding a name is the nearest.
    pub(crate) zones: Vec<ServedZone>,
    pub(crate) default_ttl: u32,
}

/// A zone given to the builder: name, data, SOA, NS, TTL.
type Pending = (Domain, Source, Option<Soa>, Option<NsRecords>, Option<u32>);

/// Builds a [`Catalog`].
///
/// # Examples
///
/// See [`Catalog`] and [`CatalogBuilder::list`].
#[derive(Debug, Clone)]
pub struct CatalogBuilder {
    zones: Vec<Pending>,
    default_ttl: u32,
}

impl Catalog {
    /// A builder for a catalog.
    ///
    /// # Examples
    ///
    /// See [`Catalog`].
    pub fn builder() -> CatalogBuilder {
        CatalogBuilder {
            zones: Vec::new(),
            default_ttl: DEFAULT_TTL,
        }
    }

    /// The zones, nearest (most labels) first.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rblkit::dns::server::Catalog::builder().build()?;
    /// assert_eq!(c.zones().count(), 0);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn zones(&self) -> impl Iterator<Item = &Domain> + '_ {
        self.zones.iter().map(|z| &z.name)
    }

    /// The SOA serial the zone is served with (`None`: no such zone, or no SOA).
    ///
    /// # Examples
    ///
    /// See [`Catalog`].
    pub fn serial(&self, zone: &Domain) -> Option<u32> {
        let z = self.zones.iter().find(|z| &z.name == zone)?;
        z.soa.as_ref().map(|_| z.serial)
    }

    /// The zone holding a lowercase wire-form name of `labels` labels whose label `i`
    /// starts at `offset(i)`, and its index.
    pub(crate) fn find_index(
        &self,
        name: &[u8],
        labels: usize,
        offset: impl Fn(usize) -> usize,
    ) -> Option<(usize, &ServedZone)> {
        self.zones
            .iter()
            .enumerate()
            .find(|(_, z)| z.labels <= labels && name[offset(labels - z.labels)..] == *z.wire)
    }

    /// Carries serials over from the catalog served before: a zone whose data changed gets
    /// a serial greater than before (its own, when that is greater in serial-number
    /// arithmetic, RFC 1982, else the old one plus one); an unchanged zone keeps its serial.
    pub(crate) fn follow(&mut self, old: &Catalog) {
        for z in &mut self.zones {
            let Some(o) = old.zones.iter().find(|o| o.name == z.name) else {
                continue;
            };
            z.carry_key_counts(o);
            z.counters = o.counters.clone();
            if z.same_list(o) {
                // a list published again unchanged: same data, same serial
                z.generation = o.generation.clone();
            }
            if Arc::ptr_eq(&o.generation, &z.generation) {
                z.serial = o.serial;
            } else if !serial_gt(z.serial, o.serial) {
                z.serial = o.serial.wrapping_add(1);
            }
        }
    }

    /// Zones not named in `changed` are the same data as in `old`: they keep its identity
    /// (and so its serial).
    pub(crate) fn keep_unchanged(&mut self, old: &Catalog, changed: &[Domain]) {
        for z in &mut self.zones {
            if changed.contains(&z.name) {
                continue;
            }
            if let Some(o) = old.zones.iter().find(|o| o.name == z.name) {
                z.generation = o.generation.clone();
            }
        }
    }

    /// Adds the zones of `other` that this catalog does not have.
    pub(crate) fn merge(&mut self, other: &Catalog) {
        for z in &other.zones {
            if !self.zones.iter().any(|x| x.name == z.name) {
                self.zones.push(z.clone());
            }
        }
        self.zones.sort_by_key(|z| std::cmp::Reverse(z.labels));
    }

    /// Whether the two catalogs answer from the same data.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rblkit::dns::server::Catalog::builder().build()?;
    /// assert!(c.same_data(&c.clone()));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn same_data(&self, other: &Catalog) -> bool {
        self.zones.len() == other.zones.len()
            && self
                .zones
                .iter()
                .zip(&other.zones)
                .all(|(a, b)| Arc::ptr_eq(&a.generation, &b.generation))
    }
}

/// `a > b` in serial-number arithmetic (RFC 1982).
pub(crate) fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

impl CatalogBuilder {
    /// Adds a zone made of rbldnsd datasets ([`Zone::load_all`] loads them from specs).
    ///
    /// # Examples
    ///
    /// See [`Catalog`].
    pub fn zone(mut self, zone: Zone) -> CatalogBuilder {
        let name = zone.name().clone();
        self.zones
            .push((name, Source::Zone(zone), None, None, None));
        self
    }

    /// Adds a zone answering from a compiled [`List`] (for instance one compiled from the
    /// ledger): four decimal labels are looked up as an IPv4 address, 32 nibbles as IPv6,
    /// other names as domains; each code is an A record, each TXT template (with `$`) a TXT
    /// record, with `ttl` (else the default TTL). `soa` (its serial as given; 0 is served
    /// as 0) and `ns` make the apex records.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Catalog;
    /// use rblkit::{List, Listing};
    /// use rblkit::codes::ReturnCode;
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut b = List::builder();
    /// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("soa", b"$SOA 1h ns.bl.example. hostmaster.bl.example. 42 1h 15m 1w 5m\n")?;
    /// let soa = p.finish().soa().cloned();
    /// let c = Catalog::builder().list("bl.example".parse()?, b.build(), soa, None, Some(300)).build()?;
    /// assert_eq!(c.serial(&"bl.example".parse()?), Some(42));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn list(
        mut self,
        zone: Domain,
        list: List,
        soa: Option<Soa>,
        ns: Option<NsRecords>,
        ttl: Option<u32>,
    ) -> CatalogBuilder {
        self.zones.push((
            zone,
            Source::List {
                list: Arc::new(list),
                ttl,
                soa: soa.clone().map(Box::new),
                ns: ns.clone(),
            },
            soa,
            ns,
            ttl,
        ));
        self
    }

    /// The TTL of records whose dataset has no `$TTL` (rbldnsd's `-t`; default 35 minutes).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rblkit::dns::server::Catalog::builder().default_ttl(60).build()?;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn default_ttl(mut self, ttl: u32) -> CatalogBuilder {
        self.default_ttl = ttl;
        self
    }

    /// The catalog.
    ///
    /// # Errors
    ///
    /// The same zone twice, or a name server or SOA name that is not a domain name.
    ///
    /// # Examples
    ///
    /// See [`Catalog`].
    pub fn build(self) -> Result<Catalog, crate::Error> {
        let dttl = self.default_ttl;
        let mut zones: Vec<ServedZone> = Vec::with_capacity(self.zones.len());
        for (name, source, soa, ns, ttl) in self.zones {
            if zones.iter().any(|z| z.name == name) {
                return Err(ServerError::DuplicateZone {
                    zone: name.as_str().into(),
                }
                .into());
            }
            let zname = name.as_str();
            let (soa, soa_ttl, ns, ns_ttl, serial, ent) = match &source {
                Source::Zone(z) => {
                    let soa_ds = z.datasets().iter().find(|d| d.soa().is_some());
                    let ns_ds = z.datasets().iter().find(|d| d.ns().is_some());
                    (
                        z.soa().cloned(),
                        soa_ds.and_then(|d| d.ttl()),
                        z.ns().cloned(),
                        ns_ds.and_then(|d| d.ttl()),
                        z.serial().unwrap_or(0),
                        Ent::of_zone(z),
                    )
                }
                Source::List { list, .. } => {
                    let serial = soa.as_ref().map_or(0, |s| s.serial);
                    (soa, ttl, ns, ttl, serial, Ent::of_list(list, true))
                }
            };
            let soa = match soa {
                Some(s) => Some(SoaWire {
                    ttl: s.ttl.or(soa_ttl).unwrap_or(dttl),
                    mname: WireName::new(&s.mname, zname)?,
                    rname: WireName::new(&s.rname, zname)?,
                    times: [s.refresh, s.retry, s.expire, s.minimum],
                }),
                None => None,
            };
            let ns = match ns {
                Some(n) => NsWire {
                    ttl: n.ttl.or(ns_ttl).unwrap_or(dttl),
                    names: n
                        .names
                        .iter()
                        .map(|x| WireName::new(x, zname))
                        .collect::<Result<_, _>>()?,
                    glue: Vec::new(),
                },
                None => NsWire::default(),
            };
            let mut wire = Vec::with_capacity(zname.len() + 2);
            for l in zname.split('.') {
                wire.push(l.len() as u8);
                wire.extend_from_slice(l.as_bytes());
            }
            wire.push(0);
            let access = |k: DatasetKind| match &source {
                Source::Zone(z) => z.datasets().iter().find(|d| d.kind() == k).cloned(),
                Source::List { .. } => None,
            };
            let (acl, keys) = (access(DatasetKind::Acl), access(DatasetKind::AclKey));
            let nkeys = keys.as_ref().and_then(|d| d.keys()).map_or(0, |k| k.len());
            zones.push(ServedZone {
                labels: zname.split('.').count(),
                name,
                wire: wire.into(),
                source,
                soa,
                ns,
                serial,
                ent,
                generation: Arc::new(()),
                acl,
                keys,
                key_counts: (0..nkeys).map(|_| AtomicU64::new(0)).collect(),
                counters: Arc::default(),
            });
        }
        zones.sort_by_key(|z| std::cmp::Reverse(z.labels));
        let mut catalog = Catalog {
            zones,
            default_ttl: dttl,
        };
        catalog.find_glue();
        Ok(catalog)
    }
}

impl Catalog {
    /// As rbldnsd: the A records the served zones hold for each name server become glue.
    fn find_glue(&mut self) {
        let mut all = Vec::new();
        for (zi, z) in self.zones.iter().enumerate() {
            for (ni, n) in z.ns.names.iter().enumerate() {
                let full = n.to_text(&z.name);
                let mut found = Vec::new();
                if let Some((other, rel)) = self.zone_of_text(&full) {
                    let mut s = String::with_capacity(64);
                    other.hits(&rel, &mut s, &mut |h| {
                        for c in h.listing.codes() {
                            let t = h.ttl.unwrap_or(self.default_ttl);
                            if !found.iter().any(|&(_, a, _)| a == c.addr()) {
                                found.push((ni, c.addr(), t));
                            }
                        }
                    });
                }
                all.push((zi, found));
            }
        }
        for (zi, found) in all {
            self.zones[zi].ns.glue.extend(found);
        }
    }

    fn zone_of_text(&self, name: &str) -> Option<(&ServedZone, String)> {
        self.zones.iter().find_map(|z| {
            let zn = z.name.as_str();
            if name == zn {
                Some((z, String::new()))
            } else {
                let rel = name.strip_suffix(zn)?.strip_suffix('.')?;
                Some((z, rel.to_owned()))
            }
        })
    }
}

impl WireName {
    fn to_text(&self, zone: &Domain) -> String {
        let mut s = String::new();
        let mut i = 0;
        while i < self.labels.len() {
            let l = usize::from(self.labels[i]);
            if l == 0 {
                break;
            }
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&String::from_utf8_lossy(&self.labels[i + 1..i + 1 + l]));
            i += 1 + l;
        }
        if self.in_zone {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(zone.as_str());
        }
        s
    }
}

/// The names of a zone that exist only because names below them do (empty non-terminals,
/// RFC 8020): the parents of listed domain names, the IPv4 networks (/8, /16, /24) and IPv6
/// nibble prefixes holding listed addresses, the parents of the subzones of a combined
/// dataset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ent {
    names: HashSet<Box<str>>,
    /// One bit per /24 holding a listed address (2^24 bits), when there are IPv4 entries.
    v4: Option<Box<[u64]>>,
    /// Listed IPv6 ranges, sorted and merged.
    v6: Vec<(u128, u128)>,
    /// Per subzone of a combined dataset, the empty non-terminals below it.
    subzones: Vec<(Box<str>, Ent)>,
}

impl Ent {
    fn of_zone(z: &Zone) -> Ent {
        let mut e = Ent::default();
        for d in z.datasets() {
            e.add_dataset(d);
        }
        e.finish();
        e
    }

    fn of_list(list: &List, ip: bool) -> Ent {
        let mut e = Ent::default();
        e.add_list(list, ip, ip, true);
        e.finish();
        e
    }

    fn add_dataset(&mut self, d: &Dataset) {
        match d.kind() {
            DatasetKind::Ip4Set | DatasetKind::Ip4TSet | DatasetKind::Ip4Trie => {
                self.add_list(d.list(), true, false, false)
            }
            DatasetKind::Ip6Trie | DatasetKind::Ip6TSet => {
                self.add_list(d.list(), false, true, false)
            }
            DatasetKind::DnSet => self.add_list(d.list(), false, false, true),
            _ => {
                for (zones, sub) in d.subsets() {
                    for z in zones {
                        if z.is_empty() {
                            self.add_dataset(sub);
                            continue;
                        }
                        add_parents(&mut self.names, z, true);
                        let i = match self.subzones.iter().position(|(n, _)| n == z) {
                            Some(i) => i,
                            None => {
                                self.subzones.push((z.clone(), Ent::default()));
                                self.subzones.len() - 1
                            }
                        };
                        self.subzones[i].1.add_dataset(sub);
                    }
                }
            }
        }
    }

    fn add_list(&mut self, list: &List, v4: bool, v6: bool, names: bool) {
        if v4 {
            let bits = self.v4.get_or_insert_with(|| vec![0u64; 1 << 18].into());
            let mut mark = |a: u32, b: u32| {
                for n in (a >> 8)..=(b >> 8) {
                    bits[(n >> 6) as usize] |= 1 << (n & 63);
                }
            };
            for (a, e) in list.ipv4_addresses() {
                if matches!(e, Entry::Listed(_)) {
                    mark(u32::from(a), u32::from(a));
                }
            }
            for (a, b, e) in list.ipv4_ranges() {
                if matches!(e, Entry::Listed(_)) {
                    mark(u32::from(a), u32::from(b));
                }
            }
        }
        if v6 {
            for (a, b, e) in list.ipv6_ranges() {
                if matches!(e, Entry::Listed(_)) {
                    self.v6.push((u128::from(a), u128::from(b)));
                }
            }
        }
        if names {
            for (p, e) in list.domains() {
                if matches!(e, Entry::Listed(_)) {
                    add_parents(
                        &mut self.names,
                        p.domain().as_str(),
                        !p.scope().covers_name(),
                    );
                }
            }
        }
    }

    fn finish(&mut self) {
        self.v6.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(self.v6.len());
        for &(a, b) in &self.v6 {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.v6 = merged;
        for (_, e) in &mut self.subzones {
            e.finish();
        }
    }

    /// Whether `rel` (relative to the zone, lowercase, not found in the data) is an empty
    /// non-terminal.
    pub(crate) fn holds(&self, rel: &str) -> bool {
        if self.names.contains(rel) {
            return true;
        }
        if self.ip_prefix_listed(rel) {
            return true;
        }
        for (z, e) in &self.subzones {
            if let Some(sub) = rel
                .strip_suffix(&**z)
                .and_then(|s| s.strip_suffix('.'))
                .filter(|s| !s.is_empty())
            {
                if e.holds(sub) {
                    return true;
                }
            }
        }
        false
    }

    fn ip_prefix_listed(&self, rel: &str) -> bool {
        if self.v4.is_none() && self.v6.is_empty() {
            return false;
        }
        // labels: a byte count the compiler vectorises, not a `split` (this runs for every
        // name that is not listed)
        let n = rel.bytes().filter(|&c| c == b'.').count() + 1;
        if let Some(bits) = &self.v4 {
            if n <= 3 {
                let mut p = 0u32;
                let mut ok = true;
                for l in rel.rsplit('.') {
                    match l.parse::<u8>() {
                        Ok(v) if l.len() <= 3 && l.bytes().all(|c| c.is_ascii_digit()) => {
                            p = p << 8 | u32::from(v)
                        }
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    let shift = 8 * (3 - n as u32);
                    let first = p << shift;
                    let last = first | ((1u32 << shift) - 1);
                    if shift >= 6 {
                        return bits[(first >> 6) as usize..=(last >> 6) as usize]
                            .iter()
                            .any(|&w| w != 0);
                    }
                    return bits[(first >> 6) as usize] & (1 << (first & 63)) != 0;
                }
            }
        }
        if !self.v6.is_empty() && n < 32 {
            let mut p = 0u128;
            for l in rel.rsplit('.') {
                let b = l.as_bytes();
                if b.len() != 1 {
                    return false;
                }
                let Some(v) = (b[0] as char).to_digit(16) else {
                    return false;
                };
                p = p << 4 | u128::from(v);
            }
            let shift = 4 * (32 - n as u32);
            let first = p << shift;
            let last = first | ((1u128 << shift) - 1);
            let i = self.v6.partition_point(|&(_, b)| b < first);
            return self.v6.get(i).is_some_and(|&(a, _)| a <= last);
        }
        false
    }
}

/// Adds the proper parents of `name` (and `name` itself when `with_self`), relative names.
fn add_parents(set: &mut HashSet<Box<str>>, name: &str, with_self: bool) {
    if with_self {
        set.insert(name.into());
    }
    let mut rest = name;
    while let Some(i) = rest.find('.') {
        rest = &rest[i + 1..];
        set.insert(rest.into());
    }
}
