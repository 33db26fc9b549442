//! [`compile`]: a ledger judged by a policy at a time, as a [`List`]; [`RollUp`] of
//! networks with many listed addresses.

use super::profile::{Policy, TxtReasons};
use crate::codes::{Reason, ReasonSet};
use crate::ledger::hash::Map;
use crate::ledger::{Ledger, LedgerCounters, Lifecycle};
use crate::list::{List, ListBuilder, Listing};
use crate::subject::Subject;
use crate::time::Timestamp;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::IpAddr;

/// CIDR roll-up: when at least `v4_min` addresses inside one IPv4 `/v4_prefix` (or
/// `v6_min` inside one IPv6 `/v6_prefix`) are listed, the whole network is listed too, for
/// `reason` (with that reason's own code). The listed addresses keep their own listings;
/// allowlisted addresses inside stay unlisted (exclusions win).
///
/// # Examples
///
/// ```
/// use rblkit::policy::RollUp;
/// let r = RollUp::default();
/// assert_eq!((r.v4_prefix, r.v4_min, r.v6_prefix, r.v6_min), (24, 8, 64, 8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RollUp {
    /// The IPv4 network's prefix length (8 to 32).
    pub v4_prefix: u8,
    /// Listed IPv4 addresses that list the network.
    pub v4_min: u32,
    /// The IPv6 network's prefix length (16 to 128).
    pub v6_prefix: u8,
    /// Listed IPv6 addresses that list the network.
    pub v6_min: u32,
    /// The reason the network is listed for.
    pub reason: Reason,
}

impl Default for RollUp {
    /// 8 addresses in a /24, 8 in an IPv6 /64, for [`Reason::NetworkReputation`].
    fn default() -> Self {
        RollUp {
            v4_prefix: 24,
            v4_min: 8,
            v6_prefix: 64,
            v6_min: 8,
            reason: Reason::NetworkReputation,
        }
    }
}

impl RollUp {
    /// The network of `ip` this roll-up counts it in.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::policy::RollUp;
    /// let n = RollUp::default().network("192.0.2.77".parse().unwrap());
    /// assert_eq!(n.to_string(), "192.0.2.0/24");
    /// ```
    pub fn network(&self, ip: IpAddr) -> IpNet {
        match ip {
            IpAddr::V4(a) => {
                let p = self.v4_prefix.clamp(8, 32);
                IpNet::V4(Ipv4Net::new(a, p).expect("prefix clamped").trunc())
            }
            IpAddr::V6(a) => {
                let p = self.v6_prefix.clamp(16, 128);
                IpNet::V6(Ipv6Net::new(a, p).expect("prefix clamped").trunc())
            }
        }
    }

    fn min(&self, net: &IpNet) -> u32 {
        match net {
            IpNet::V4(_) => self.v4_min.max(1),
            IpNet::V6(_) => self.v6_min.max(1),
        }
    }
}

/// The public TXT of a listing: the template, then (when the policy says so) the reasons'
/// public descriptions. Never evidence.
pub(super) fn public_txt(policy: &Policy, reasons: ReasonSet) -> Option<Box<str>> {
    let t = policy.txt.as_deref();
    match policy.txt_reasons {
        TxtReasons::Hidden => t.map(Box::from),
        TxtReasons::Described => {
            let mut s = String::from(t.unwrap_or(""));
            for (i, r) in reasons.iter().enumerate() {
                s.push_str(if i == 0 && s.is_empty() {
                    ""
                } else if i == 0 {
                    " "
                } else {
                    "; "
                });
                // `$` would be taken for the subject
                s.push_str(&r.description().replace('$', "$$"));
            }
            (!s.is_empty()).then(|| s.into())
        }
    }
}

/// Listings made once per reason set (the codes and TXT), with `since`/`expires` added
/// per subject.
struct Listings<'p> {
    policy: &'p Policy,
    cache: Map<(ReasonSet, bool), Listing>,
}

impl Listings<'_> {
    fn get(&mut self, reasons: ReasonSet, domain: bool) -> &Listing {
        let policy = self.policy;
        self.cache.entry((reasons, domain)).or_insert_with(|| {
            let scheme = if domain {
                &policy.domain_codes
            } else {
                &policy.codes
            };
            let mut l = Listing::with_codes(scheme.encode(reasons));
            if let Some(t) = public_txt(policy, reasons) {
                l = l.with_txt(t);
            }
            l
        })
    }
}

/// The list a policy makes of a ledger at `now`: every listed subject with the codes of its
/// reasons (the policy's [`CodeScheme`](crate::codes::CodeScheme)s) and its public TXT,
/// `since`/`expires` where known; allowlisted subjects as exclusions (so that no listed
/// network, rolled up or not, covers them); with a [`RollUp`], the networks with many
/// listed addresses.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::Ledger;
/// use rblkit::policy::{compile, Policy};
/// let l = Ledger::new(Default::default());
/// let list = compile(&l, &Policy::spamcop(), "2026-11-20T10:00:00Z".parse()?);
/// assert!(list.lookup_ipv4("192.0.2.1".parse().unwrap()).is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn compile<C: LedgerCounters>(ledger: &Ledger<C>, policy: &Policy, now: Timestamp) -> List {
    let mut b = List::builder();
    let mut listings = Listings {
        policy,
        cache: Map::default(),
    };
    // the network of every listed address with its since, grouped by a sort at the end
    let mut nets: Vec<(IpNet, Option<Timestamp>)> = Vec::new();
    for (s, id) in ledger.subjects_in_order() {
        let core = policy.evaluate(ledger, &s, id, now, |_, _| {});
        if matches!(core.lifecycle, Lifecycle::Allowlisted) {
            b.exclude(&s);
            continue;
        }
        if !core.listed {
            continue;
        }
        let mut l = listings
            .get(core.reasons, matches!(s, Subject::Domain(_)))
            .clone();
        if let Some(since) = core.since {
            l = l.with_since(since);
        }
        if let Some(e) = core.expires {
            l = l.with_expires(e);
        }
        b.insert(&s, l);
        if let (Some(r), Subject::Ip(ip)) = (&policy.rollup, &s) {
            nets.push((r.network(*ip), core.since));
        }
    }
    if let Some(r) = &policy.rollup {
        roll_up(&mut b, &mut listings, r, nets);
    }
    b.build()
}

fn roll_up(
    b: &mut ListBuilder,
    listings: &mut Listings<'_>,
    r: &RollUp,
    mut nets: Vec<(IpNet, Option<Timestamp>)>,
) {
    nets.sort_unstable_by_key(|(n, _)| *n);
    let base = listings.get(ReasonSet::EMPTY.with(r.reason), false).clone();
    for run in nets.chunk_by(|a, b| a.0 == b.0) {
        let net = run[0].0;
        if run.len() < r.min(&net) as usize {
            continue;
        }
        // the earliest since of its addresses
        let since = run.iter().filter_map(|(_, t)| *t).min();
        let mut l = base.clone();
        if let Some(s) = since {
            l = l.with_since(s);
        }
        b.insert_net(net, l);
    }
}
