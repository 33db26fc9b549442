//! Response-rate limiting (the RRL of Knot DNS and NSD) and per-client query quotas.
//!
//! Both keep their state in a [`Table`] of fixed size allocated once: a set-associative
//! hash table whose least recently used entry in a set makes room for a new client, so
//! memory stays bounded whatever the number of clients, and clients that stopped asking
//! age out.
//!
//! Rate limiting counts responses per client network (IPv4 /24 and IPv6 /56 by default)
//! and per kind of response, as Knot and NSD do, so that a flood of different names is
//! counted as one: a positive answer by its name and type, a negative one (NXDOMAIN or no
//! data) by its zone, an error (REFUSED, FORMERR, …) by its rcode alone. Each bucket holds
//! up to `rate × window` responses and refills at `rate` per second; a response finding it
//! empty is limited: every `slip`th limited response goes out truncated (TC, no records) so
//! that a real resolver behind the address retries over TCP, which is never limited; the
//! others are dropped.
//!
//! # Examples
//!
//! ```
//! use rblkit::dns::server::{Decision, RateLimit, ResponseClass};
//! let rrl = RateLimit::builder().rate(5).window(1).slip(2).build()?;
//! let client = "192.0.2.1".parse().unwrap();
//! let mut got = Vec::new();
//! for _ in 0..9 {
//!     got.push(rrl.check(client, ResponseClass::Negative, b"\x02bl\x07example\x00", 1_000));
//! }
//! use Decision::*;
//! assert_eq!(got, [Send, Send, Send, Send, Send, Slip, Drop, Slip, Drop]);
//! // a second later the bucket has refilled
//! assert_eq!(rrl.check(client, ResponseClass::Negative, b"\x02bl\x07example\x00", 2_000), Send);
//! # Ok::<(), rblkit::Error>(())
//! ```

use super::error::ServerError;
use crate::zone::AclAction;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;

/// Entries per set of a [`Table`].
const WAYS: usize = 4;
/// Sets per lock.
const SETS_PER_SHARD: usize = 256;

/// A fixed-size table of per-client state, shared by the worker threads.
#[derive(Debug)]
pub(crate) struct Table<V> {
    shards: Box<[Shard<V>]>,
    hasher: std::collections::hash_map::RandomState,
}

/// One lock's worth of sets.
type Shard<V> = Mutex<Box<[Slot<V>]>>;

#[derive(Debug, Clone, Copy, Default)]
struct Slot<V> {
    /// The key's hash; 0 is an empty slot.
    key: u64,
    /// Last use, milliseconds.
    last: u64,
    value: V,
}

impl<V: Copy + Default> Table<V> {
    /// A table of about `entries` entries (at least one lock's worth).
    pub(crate) fn new(entries: usize) -> Table<V> {
        let per_shard = SETS_PER_SHARD * WAYS;
        let shards = entries.div_ceil(per_shard).max(1);
        Table {
            shards: (0..shards)
                .map(|_| Mutex::new(vec![Slot::default(); per_shard].into_boxed_slice()))
                .collect(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The entries the table holds at most.
    pub(crate) fn capacity(&self) -> usize {
        self.shards.len() * SETS_PER_SHARD * WAYS
    }

    /// A keyed hash of the parts (keyed per process: a client cannot aim at one set).
    pub(crate) fn hash(&self, parts: &[&[u8]]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for p in parts {
            h.write(p);
        }
        h.finish() | 1
    }

    /// Runs `f` on the entry of `key` (`fresh` when it was just made, replacing the least
    /// recently used entry of its set).
    pub(crate) fn with<R>(&self, key: u64, now: u64, f: impl FnOnce(&mut V, bool) -> R) -> R {
        let shard = (key >> 32) as usize % self.shards.len();
        let set = (key as usize >> 3) % SETS_PER_SHARD;
        let mut g = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        let slots = &mut g[set * WAYS..(set + 1) * WAYS];
        let i = match slots.iter().position(|s| s.key == key) {
            Some(i) => i,
            None => {
                let (i, _) = slots
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, s)| if s.key == 0 { 0 } else { s.last + 1 })
                    .unwrap_or((0, &slots[0]));
                slots[i] = Slot {
                    key,
                    last: now,
                    value: V::default(),
                };
                let s = &mut slots[i];
                return f(&mut s.value, true);
            }
        };
        let s = &mut slots[i];
        let r = f(&mut s.value, false);
        s.last = s.last.max(now);
        r
    }

    /// Entries in use (for the metrics; takes every lock in turn).
    pub(crate) fn used(&self) -> usize {
        self.shards
            .iter()
            .map(|m| {
                let g = m.lock().unwrap_or_else(|p| p.into_inner());
                g.iter().filter(|s| s.key != 0).count()
            })
            .sum()
    }
}

/// The first `bits` of a `width`-bit number.
fn mask(width: u32, bits: u8) -> u128 {
    let bits = u32::from(bits).min(width);
    if bits == 0 {
        return 0;
    }
    (u128::MAX >> (128 - width)) & !(u128::MAX.checked_shr(bits + 128 - width).unwrap_or(0))
}

/// The client network an address is counted in: its family and its first `v4`/`v6` bits.
fn prefix(addr: IpAddr, v4: u8, v6: u8) -> [u8; 17] {
    let mut out = [0u8; 17];
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a) & mask(32, v4) as u32;
            out[0] = 4;
            out[1..5].copy_from_slice(&bits.to_be_bytes());
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(a4) => return prefix(IpAddr::V4(a4), v4, v6),
            None => {
                let bits = u128::from(a) & mask(128, v6);
                out[0] = 6;
                out[1..17].copy_from_slice(&bits.to_be_bytes());
            }
        },
    }
    out
}

/// What a response is, for counting identical responses together.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseClass {
    /// Records in the answer: counted by name and type.
    Positive {
        /// The query type.
        qtype: u16,
    },
    /// NXDOMAIN or no data: counted by zone (the name given is the zone's).
    Negative,
    /// REFUSED, FORMERR, NOTIMP, …: counted by rcode, whatever the name.
    Error {
        /// The rcode.
        rcode: u8,
    },
}

/// What to do with one response.
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Send it.
    Send,
    /// Send it truncated (TC set, no records): a resolver retries over TCP.
    Slip,
    /// Send nothing.
    Drop,
}

/// A rate-limit bucket: milli-responses of credit, limited responses seen.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    credit: i64,
    last: u64,
    limited: u32,
}

/// Response-rate limiting, shared by the server's threads. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct RateLimit {
    rate: u32,
    window: u32,
    slip: u32,
    v4: u8,
    v6: u8,
    table: Table<Bucket>,
}

/// Builds a [`RateLimit`].
///
/// # Examples
///
/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct RateLimitBuilder {
    rate: u32,
    window: u32,
    slip: u32,
    v4: u8,
    v6: u8,
    entries: usize,
}

impl RateLimit {
    /// A builder: 20 responses per second, a window of 4 seconds, slip 2, IPv4 /24, IPv6
    /// /56, 65536 table entries.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn builder() -> RateLimitBuilder {
        RateLimitBuilder {
            rate: 20,
            window: 4,
            slip: 2,
            v4: 24,
            v6: 56,
            entries: 65536,
        }
    }

    /// Counts one response to `client` (`name`: the question name for a positive answer,
    /// the zone's name for a negative one, in wire form) at `now` (milliseconds of any
    /// monotonic clock) and says what to do with it.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn check(&self, client: IpAddr, class: ResponseClass, name: &[u8], now: u64) -> Decision {
        let net = prefix(client, self.v4, self.v6);
        let (tag, name): ([u8; 3], &[u8]) = match class {
            ResponseClass::Positive { qtype } => {
                let t = qtype.to_be_bytes();
                ([1, t[0], t[1]], name)
            }
            ResponseClass::Negative => ([2, 0, 0], name),
            ResponseClass::Error { rcode } => ([3, rcode, 0], &[]),
        };
        let key = self.table.hash(&[&net, &tag, name]);
        let cap = i64::from(self.rate) * i64::from(self.window) * 1000;
        let rate = i64::from(self.rate);
        let slip = self.slip;
        self.table.with(key, now, |b, fresh| {
            if fresh {
                *b = Bucket {
                    credit: cap,
                    last: now,
                    limited: 0,
                };
            } else if now > b.last {
                let gained = i64::try_from(now - b.last).unwrap_or(i64::MAX);
                b.credit = b
                    .credit
                    .saturating_add(gained.saturating_mul(rate))
                    .min(cap);
                b.last = now;
            }
            if b.credit >= 1000 {
                b.credit -= 1000;
                return Decision::Send;
            }
            b.limited = b.limited.wrapping_add(1);
            if slip > 0 && b.limited % slip == 1 % slip {
                Decision::Slip
            } else {
                Decision::Drop
            }
        })
    }

    /// Entries the client table holds at most: the memory it takes is fixed.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = rblkit::dns::server::RateLimit::builder().table_size(1000).build()?;
    /// assert!(r.capacity() >= 1000);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }

    /// Entries in use now.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = rblkit::dns::server::RateLimit::builder().build()?;
    /// assert_eq!(r.used(), 0);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn used(&self) -> usize {
        self.table.used()
    }
}

impl RateLimitBuilder {
    /// Responses per second per bucket (at least 1).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn rate(mut self, per_second: u32) -> RateLimitBuilder {
        self.rate = per_second;
        self
    }

    /// The burst window in seconds: a bucket holds up to `rate × window` responses.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn window(mut self, seconds: u32) -> RateLimitBuilder {
        self.window = seconds;
        self
    }

    /// Every `n`th limited response is sent truncated, the others dropped (0: all dropped;
    /// 1: all truncated).
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn slip(mut self, n: u32) -> RateLimitBuilder {
        self.slip = n;
        self
    }

    /// The client network lengths: IPv4 (default 24) and IPv6 (default 56).
    ///
    /// # Examples
    ///
    /// ```
    /// let r = rblkit::dns::server::RateLimit::builder().prefixes(32, 64).build()?;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn prefixes(mut self, v4: u8, v6: u8) -> RateLimitBuilder {
        self.v4 = v4;
        self.v6 = v6;
        self
    }

    /// How many buckets the table holds (rounded up to a multiple of 1024).
    ///
    /// # Examples
    ///
    /// See [`RateLimit::capacity`].
    pub fn table_size(mut self, entries: usize) -> RateLimitBuilder {
        self.entries = entries;
        self
    }

    /// The rate limiter.
    ///
    /// # Errors
    ///
    /// A rate or window of 0, a prefix longer than the address.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn build(self) -> Result<RateLimit, crate::Error> {
        check_limits(self.rate, self.window, self.v4, self.v6)?;
        Ok(RateLimit {
            rate: self.rate,
            window: self.window,
            slip: self.slip,
            v4: self.v4,
            v6: self.v6,
            table: Table::new(self.entries),
        })
    }
}

fn check_limits(rate: u32, window: u32, v4: u8, v6: u8) -> Result<(), ServerError> {
    let bad = |what: &'static str| Err(ServerError::BadLimit { what });
    if rate == 0 {
        return bad("a rate of 0");
    }
    if window == 0 {
        return bad("a window of 0 seconds");
    }
    if v4 > 32 || v6 > 128 {
        return bad("a prefix longer than the address");
    }
    Ok(())
}

/// A per-client query quota: at most `queries` queries per `period` from one client
/// network (fixed periods, counted from the server's start); the queries over it get the
/// over-quota answer (by default 127.255.255.255 with a TXT saying why, which the `codes`
/// schemes and `rblkit check` read as an error, never as a listing).
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::Quota;
/// let q = Quota::builder().queries(3).period_secs(60).build()?;
/// let c = "192.0.2.1".parse().unwrap();
/// let over: Vec<bool> = (0..5).map(|_| q.count(c, 0)).collect();
/// assert_eq!(over, [false, false, false, true, true]);
/// assert!(!q.count(c, 60_000)); // a new period
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug)]
pub struct Quota {
    queries: u64,
    period_ms: u64,
    v4: u8,
    v6: u8,
    answer: AclAction,
    table: Table<(u64, u64)>,
}

/// Builds a [`Quota`].
///
/// # Examples
///
/// See [`Quota`].
#[derive(Debug, Clone)]
pub struct QuotaBuilder {
    queries: u64,
    period: u64,
    v4: u8,
    v6: u8,
    answer: AclAction,
    entries: usize,
}

impl Quota {
    /// A builder: 100000 queries a day per /24 or /56, answered over it with
    /// 127.255.255.255 and a TXT saying so; 65536 table entries.
    ///
    /// # Examples
    ///
    /// See [`Quota`].
    pub fn builder() -> QuotaBuilder {
        QuotaBuilder {
            queries: 100_000,
            period: 86_400,
            v4: 24,
            v6: 56,
            answer: AclAction::Always {
                code: crate::codes::ReturnCode::new_assert(127, 255, 255, 255),
                txt: "Excessive number of queries from $".into(),
            },
            entries: 65536,
        }
    }

    /// Counts one query from `client` at `now` (milliseconds of a monotonic clock); whether
    /// it is over the quota.
    ///
    /// # Examples
    ///
    /// See [`Quota`].
    pub fn count(&self, client: IpAddr, now: u64) -> bool {
        let net = prefix(client, self.v4, self.v6);
        let key = self.table.hash(&[&net]);
        let period = now / self.period_ms;
        let max = self.queries;
        self.table.with(key, now, |(p, n), _| {
            if *p != period {
                *p = period;
                *n = 0;
            }
            *n = n.saturating_add(1);
            *n > max
        })
    }

    /// The answer for queries over the quota.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = rblkit::dns::server::Quota::builder().build()?;
    /// assert!(matches!(q.answer(), rblkit::zone::AclAction::Always { .. }));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn answer(&self) -> &AclAction {
        &self.answer
    }

    /// Entries the client table holds at most.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::dns::server::Quota::builder().build()?.capacity() >= 65536);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }
}

impl QuotaBuilder {
    /// Queries per period per client network (at least 1).
    ///
    /// # Examples
    ///
    /// See [`Quota`].
    pub fn queries(mut self, n: u64) -> QuotaBuilder {
        self.queries = n;
        self
    }

    /// The period, in seconds.
    ///
    /// # Examples
    ///
    /// See [`Quota`].
    pub fn period_secs(mut self, s: u64) -> QuotaBuilder {
        self.period = s;
        self
    }

    /// The client network lengths: IPv4 (default 24) and IPv6 (default 56).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = rblkit::dns::server::Quota::builder().prefixes(32, 64).build()?;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn prefixes(mut self, v4: u8, v6: u8) -> QuotaBuilder {
        self.v4 = v4;
        self.v6 = v6;
        self
    }

    /// The answer over the quota: [`AclAction::Always`] with a code and TXT, or
    /// [`AclAction::Refuse`], [`AclAction::Ignore`], [`AclAction::Empty`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::AclAction;
    /// let q = rblkit::dns::server::Quota::builder().answer(AclAction::Refuse).build()?;
    /// assert_eq!(q.answer(), &AclAction::Refuse);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn answer(mut self, a: AclAction) -> QuotaBuilder {
        self.answer = a;
        self
    }

    /// How many clients the table holds (rounded up to a multiple of 1024).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = rblkit::dns::server::Quota::builder().table_size(10).build()?;
    /// assert_eq!(q.capacity(), 1024);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn table_size(mut self, entries: usize) -> QuotaBuilder {
        self.entries = entries;
        self
    }

    /// The quota.
    ///
    /// # Errors
    ///
    /// 0 queries or a period of 0, a prefix longer than the address.
    ///
    /// # Examples
    ///
    /// See [`Quota`].
    pub fn build(self) -> Result<Quota, crate::Error> {
        let q = u32::try_from(self.queries.min(u64::from(u32::MAX))).unwrap_or(u32::MAX);
        let p = u32::try_from(self.period.min(u64::from(u32::MAX))).unwrap_or(u32::MAX);
        check_limits(q, p, self.v4, self.v6)?;
        Ok(Quota {
            queries: self.queries,
            period_ms: self.period.saturating_mul(1000),
            v4: self.v4,
            v6: self.v6,
            answer: self.answer,
            table: Table::new(self.entries),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_bounded_and_evicts_the_oldest() {
        let t: Table<u32> = Table::new(1);
        assert_eq!(t.capacity(), SETS_PER_SHARD * WAYS);
        for k in 1..100_000u64 {
            let key = t.hash(&[&k.to_be_bytes()]);
            t.with(key, k, |v, _| *v += 1);
        }
        assert_eq!(t.used(), t.capacity());
        // the most recent entry is still there, counted once
        let key = t.hash(&[&99_999u64.to_be_bytes()]);
        assert_eq!(t.with(key, 100_000, |v, fresh| (*v, fresh)), (1, false));
    }

    #[test]
    fn networks_share_buckets() {
        let r = RateLimit::builder()
            .rate(2)
            .window(1)
            .slip(0)
            .build()
            .unwrap();
        let n = b"\x04zone\x00";
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.200".parse().unwrap();
        let c: IpAddr = "192.0.3.1".parse().unwrap();
        assert_eq!(r.check(a, ResponseClass::Negative, n, 0), Decision::Send);
        assert_eq!(r.check(b, ResponseClass::Negative, n, 0), Decision::Send);
        assert_eq!(r.check(a, ResponseClass::Negative, n, 0), Decision::Drop);
        assert_eq!(r.check(c, ResponseClass::Negative, n, 0), Decision::Send);
        // other names of positive answers are other buckets; errors share one
        let p = ResponseClass::Positive { qtype: 1 };
        assert_eq!(r.check(a, p, b"\x01x\x00", 0), Decision::Send);
        let e = ResponseClass::Error { rcode: 5 };
        assert_eq!(r.check(a, e, b"\x01x\x00", 0), Decision::Send);
        assert_eq!(r.check(a, e, b"\x01y\x00", 0), Decision::Send);
        assert_eq!(r.check(a, e, b"\x01z\x00", 0), Decision::Drop);
        // 500 ms later one more
        assert_eq!(r.check(a, ResponseClass::Negative, n, 500), Decision::Send);
        assert_eq!(r.check(a, ResponseClass::Negative, n, 500), Decision::Drop);
        let v6a: IpAddr = "2001:db8:0:ff::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(prefix(v6a, 24, 56), prefix(v6b, 24, 56));
        assert_ne!(prefix(v6a, 24, 64), prefix(v6b, 24, 64));
        assert!(RateLimit::builder().rate(0).build().is_err());
    }
}
