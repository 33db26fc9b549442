//! What a query name matches, without allocating: the listings a DNS server turns into
//! records.
//!
//! [`Zone::query`] collects an [`Answer`](super::Answer) in owned strings; a server answering
//! hundreds of thousands of queries a second instead asks [`Zone::hits`], which calls back
//! once per matching listing with the text `$` stands for and the dataset's TTL, using a
//! caller-owned scratch string for the text of an IP address.

use super::{Dataset, DatasetKind, Query, Zone};
use crate::list::{List, Listing};
use std::fmt::Write as _;

/// The most octets of an expanded TXT text rbldnsd answers with (longer ones are cut at a
/// character boundary).
///
/// # Examples
///
/// ```
/// assert_eq!(rblkit::zone::MAX_TXT, 254);
/// ```
pub const MAX_TXT: usize = super::MAX_ANSWER_TXT;

/// One listing that matched a query name.
///
/// # Examples
///
/// See [`Zone::hits`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Hit<'a> {
    /// The listing: its codes become A records, its TXT templates TXT records.
    pub listing: &'a Listing,
    /// What `$` stands for in the TXT templates: the queried address, or the listed name.
    pub subject: &'a str,
    /// The `$TTL` of the dataset that matched (`None`: the server's default).
    pub ttl: Option<u32>,
}

impl Zone {
    /// Calls `each` for every listing that matches `rel`, a query name relative to the zone
    /// (lowercase, no trailing dot, `""` for the apex), in dataset order, and says whether
    /// any dataset found the name (a subzone of a `combined` dataset is found with no
    /// listing). `subject` is scratch space for the text of an address; with a capacity of
    /// 64 nothing is allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$TTL 60\n192.0.2.0/24 :127.0.0.3:listed $\n")?;
    /// let z = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
    /// let mut scratch = String::with_capacity(64);
    /// let mut seen = Vec::new();
    /// let found = z.hits("7.2.0.192", &mut scratch, &mut |h| {
    ///     seen.push((h.listing.codes()[0].to_string(), h.subject.to_owned(), h.ttl));
    /// });
    /// assert!(found);
    /// assert_eq!(seen, [("127.0.0.3".to_owned(), "192.0.2.7".to_owned(), Some(60))]);
    /// assert!(!z.hits("7.2.0.193", &mut scratch, &mut |_| {}));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn hits(&self, rel: &str, subject: &mut String, each: &mut dyn FnMut(Hit<'_>)) -> bool {
        let q = Query::new(rel, self.has_ipv4_datasets());
        let mut found = false;
        for d in &self.datasets {
            found |= d.hits_into(&q, subject, each);
        }
        found
    }

    /// Whether a dataset of the zone reads IPv4 query names (then IPv4-mapped and 6to4
    /// IPv6 names ask the IPv4 datasets too, as in rbldnsd).
    ///
    /// # Examples
    ///
    /// ```
    /// let z = rblkit::zone::Zone::new("bl.example".parse()?, vec![]);
    /// assert!(!z.has_ipv4_datasets());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn has_ipv4_datasets(&self) -> bool {
        self.datasets.iter().any(|d| d.kind.is_ip4())
    }
}

impl Dataset {
    /// [`Dataset::query_into`] without allocating.
    fn hits_into(
        &self,
        q: &Query<'_>,
        subject: &mut String,
        each: &mut dyn FnMut(Hit<'_>),
    ) -> bool {
        if self.kind == DatasetKind::Combined {
            return self.hits_combined(q.rel, subject, each);
        }
        let ttl = self.ttl;
        if self.kind.is_ip4() {
            let Some(ip) = q.ip4 else {
                return false;
            };
            let Some(l) = self.list.lookup_ipv4(ip) else {
                return false;
            };
            subject.clear();
            let _ = write!(subject, "{ip}");
            each(Hit {
                listing: l,
                subject,
                ttl,
            });
            true
        } else if self.kind.is_ip6() {
            let Some(ip) = q.ip6 else {
                return false;
            };
            let Some(l) = self.list.lookup_ipv6(ip) else {
                return false;
            };
            subject.clear();
            super::addr::ip6_text(u128::from(ip), subject);
            each(Hit {
                listing: l,
                subject,
                ttl,
            });
            true
        } else {
            if q.rel.is_empty() {
                return false;
            }
            let Some(m) = self.list.lookup_domain_match(q.rel) else {
                return false;
            };
            each(Hit {
                listing: m.listing,
                subject: m.name,
                ttl,
            });
            true
        }
    }

    /// [`Dataset::query_combined`] without allocating.
    fn hits_combined(
        &self,
        rel: &str,
        subject: &mut String,
        each: &mut dyn FnMut(Hit<'_>),
    ) -> bool {
        let Some(z) = self.subzone_of(rel) else {
            return false;
        };
        let sub = relative_to(rel, z);
        if sub.is_empty() {
            return true;
        }
        let ip4_sets = self
            .subsets
            .iter()
            .any(|(zones, d)| d.kind.is_ip4() && zones.iter().any(|x| &**x == z));
        let q = Query::new(sub, ip4_sets);
        let mut found = false;
        for (zones, d) in &self.subsets {
            if zones.iter().any(|x| &**x == z) {
                found |= d.hits_into(&q, subject, each);
            }
        }
        found
    }

    /// The longest subzone of a `combined` dataset holding `rel`.
    fn subzone_of(&self, rel: &str) -> Option<&str> {
        let mut best: Option<&str> = None;
        for (zones, _) in &self.subsets {
            for z in zones {
                if is_under(rel, z) && best.is_none_or(|b| z.len() > b.len()) {
                    best = Some(z);
                }
            }
        }
        best
    }
}

/// Whether the relative name `rel` is `z` or below it (`""` holds everything).
fn is_under(rel: &str, z: &str) -> bool {
    z.is_empty()
        || rel == z
        || (rel.len() > z.len()
            && rel.ends_with(z)
            && rel.as_bytes()[rel.len() - z.len() - 1] == b'.')
}

/// `rel` with the suffix `z` (which holds it) cut off.
fn relative_to<'a>(rel: &'a str, z: &str) -> &'a str {
    if z.is_empty() {
        rel
    } else if rel == z {
        ""
    } else {
        &rel[..rel.len() - z.len() - 1]
    }
}

/// The longest subzone of a `combined` dataset that holds `rel` (relative to the zone), and
/// `rel` relative to that subzone; `None` when no subzone holds it or `dataset` is not
/// combined.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{subzone_split, DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::Combined);
/// p.parse_file("c", b"$DATASET ip4set proxies\n192.0.2.1\n")?;
/// let ds = p.finish();
/// assert_eq!(subzone_split(&ds, "1.2.0.192.proxies"), Some(("proxies", "1.2.0.192")));
/// assert_eq!(subzone_split(&ds, "relays"), None);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn subzone_split<'a>(dataset: &'a Dataset, rel: &'a str) -> Option<(&'a str, &'a str)> {
    let z = dataset.subzone_of(rel)?;
    Some((z, relative_to(rel, z)))
}

/// Calls `each` for the listing a compiled [`List`] holds for `rel` (a query name relative
/// to the zone, lowercase, no trailing dot): four decimal labels are an IPv4 address, 32
/// nibbles an IPv6 address (IPv4-mapped and 6to4 ones also ask the IPv4 entries), anything
/// else a domain name. Whether it matched.
///
/// # Examples
///
/// ```
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED).with_txt("see $"));
/// b.insert(&"spam.example".parse()?, Listing::new(ReturnCode::LISTED));
/// let list = b.build();
/// let mut s = String::with_capacity(64);
/// let mut subjects = Vec::new();
/// assert!(rblkit::zone::list_hits(&list, "1.2.0.192", None, &mut s, &mut |h| subjects.push(h.subject.to_owned())));
/// assert!(rblkit::zone::list_hits(&list, "spam.example", None, &mut s, &mut |h| subjects.push(h.subject.to_owned())));
/// assert!(!rblkit::zone::list_hits(&list, "www.spam.example", None, &mut s, &mut |_| {}));
/// assert_eq!(subjects, ["192.0.2.1", "spam.example"]);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn list_hits(
    list: &List,
    rel: &str,
    ttl: Option<u32>,
    subject: &mut String,
    each: &mut dyn FnMut(Hit<'_>),
) -> bool {
    if rel.is_empty() {
        return false;
    }
    let q = Query::new(rel, true);
    let mut found = false;
    if let Some(ip) = q.ip4 {
        if let Some(l) = list.lookup_ipv4(ip) {
            subject.clear();
            let _ = write!(subject, "{ip}");
            each(Hit {
                listing: l,
                subject,
                ttl,
            });
            found = true;
        }
    }
    if let Some(ip) = q.ip6 {
        if let Some(l) = list.lookup_ipv6(ip) {
            subject.clear();
            super::addr::ip6_text(u128::from(ip), subject);
            each(Hit {
                listing: l,
                subject,
                ttl,
            });
            found = true;
        }
    }
    if q.ip4.is_none() && q.ip6.is_none() {
        if let Some(m) = list.lookup_domain_match(rel) {
            each(Hit {
                listing: m.listing,
                subject: m.name,
                ttl,
            });
            found = true;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::DatasetParser;
    use super::*;

    /// `hits` finds what `query` answers, for every kind of dataset.
    #[test]
    fn hits_agree_with_query() {
        let mut p = DatasetParser::new(DatasetKind::Ip4Set);
        p.parse_file(
            "a",
            b":127.0.0.2:ip $\n192.0.2.0/24\n!192.0.2.9\n192.0.2.10 :3:ten\n",
        )
        .unwrap();
        let a = p.finish();
        let mut p = DatasetParser::new(DatasetKind::DnSet);
        p.parse_file("d", b"*.spam.example :4:name $\n").unwrap();
        let d = p.finish();
        let mut p = DatasetParser::new(DatasetKind::Ip6Trie);
        p.parse_file("s", b"2001:db8::/32 :5:six $\n").unwrap();
        let s = p.finish();
        let mut p = DatasetParser::new(DatasetKind::Combined);
        p.parse_file(
            "c",
            b"$DATASET ip4set px\n192.0.2.1 :6:px $\n$DATASET dnset dn\nfoo.example\n",
        )
        .unwrap();
        let c = p.finish();
        let z = Zone::new(
            "bl.example".parse().unwrap(),
            vec![a.into(), d.into(), s.into(), c.into()],
        );
        let mut scratch = String::new();
        for rel in [
            "1.2.0.192",
            "9.2.0.192",
            "10.2.0.192",
            "x.spam.example",
            "spam.example",
            "px",
            "1.2.0.192.px",
            "foo.example.dn",
            "bar.example.dn",
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2",
        ] {
            let mut codes = Vec::new();
            let mut txt = Vec::new();
            let found = z.hits(rel, &mut scratch, &mut |h| {
                codes.extend_from_slice(h.listing.codes());
                for i in 0..h.listing.txt().len() {
                    txt.push(h.listing.render_txt(i, h.subject).unwrap());
                }
            });
            let full = format!("{rel}.bl.example");
            let q = z.query(&full);
            assert_eq!(found, q.is_some(), "{rel}");
            if let Some(q) = q {
                codes.dedup();
                assert_eq!(codes, q.codes, "{rel}");
                txt.retain(|t| !t.is_empty());
                assert_eq!(txt, q.txt, "{rel}");
            }
        }
    }
}
