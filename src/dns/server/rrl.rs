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
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Mutex;

/// Entries per set of a [`Table`].
const WAYS: usize = 4;
/// Sets per lock.
const SETS_PER_SHARD: usize = 256;

/// A fixed-size table of per-client state, shared by the worker threads: sets of four
/// 16-octet entries, one cache line a set.
#[derive(Debug)]
pub(crate) struct Table<V> {
    shards: Box<[Shard<V>]>,
    /// Per-process keys of the hash.
    seed: [u64; 2],
}

/// One lock's worth of sets.
type Shard<V> = Mutex<Box<[Set<V>]>>;

/// The entries one key may take, in one cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Set<V>([Slot<V>; WAYS]);

#[derive(Debug, Clone, Copy, Default)]
struct Slot<V> {
    /// Bits of the key's hash (never 0); 0 is an empty slot.
    tag: u32,
    /// Last use, milliseconds (wrapping).
    last: u32,
    value: V,
}

impl<V: Copy + Default> Table<V> {
    /// A table of about `entries` entries (at least one lock's worth).
    pub(crate) fn new(entries: usize) -> Table<V> {
        let per_shard = SETS_PER_SHARD * WAYS;
        let shards = entries.div_ceil(per_shard).max(1);
        Table {
            shards: (0..shards)
                .map(|_| Mutex::new(vec![Set::default(); SETS_PER_SHARD].into_boxed_slice()))
                .collect(),
            seed: {
                let r = std::collections::hash_map::RandomState::new();
                [r.hash_one(1u8), r.hash_one(2u8) | 1]
            },
        }
    }

    /// The entries the table holds at most.
    pub(crate) fn capacity(&self) -> usize {
        self.shards.len() * SETS_PER_SHARD * WAYS
    }

    /// A keyed hash of three words and some octets (keyed per process, so that a client
    /// cannot aim at one set): a folded 64×64→128-bit multiply per eight octets, as
    /// foldhash does.
    pub(crate) fn hash(&self, words: [u64; 3], bytes: &[u8]) -> u64 {
        let [k0, k1] = self.seed;
        let mix = |x: u64| {
            let m = u128::from(x) * u128::from(k1);
            (m as u64) ^ ((m >> 64) as u64)
        };
        let mut h = k0;
        for w in words {
            h = mix(h ^ w);
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = mix(h ^ u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        mix(h ^ u64::from_le_bytes(w) ^ ((bytes.len() as u64) << 56) ^ k0)
    }

    /// Runs `f` on the entry of `key` with the milliseconds since its last use (`None`
    /// when it was just made, replacing the least recently used entry of its set).
    pub(crate) fn with<R>(
        &self,
        key: u64,
        now: u64,
        f: impl FnOnce(&mut V, Option<u32>) -> R,
    ) -> R {
        let shard = (key >> 48) as usize % self.shards.len();
        let set = (key >> 32) as usize % SETS_PER_SHARD;
        let tag = (key as u32) | 1;
        let now = now as u32;
        let mut g = self.shards[shard].lock().unwrap_or_else(|p| p.into_inner());
        let slots = &mut g[set].0;
        let (i, age) = match slots.iter().position(|s| s.tag == tag) {
            // another thread may have been a little later with its clock: never backwards
            Some(i) => match now.wrapping_sub(slots[i].last) {
                d if d < 1 << 31 => (i, Some(d)),
                _ => (i, Some(0)),
            },
            None => {
                let i = (0..WAYS)
                    .max_by_key(|&i| {
                        let s = &slots[i];
                        if s.tag == 0 {
                            u64::MAX
                        } else {
                            u64::from(now.wrapping_sub(s.last))
                        }
                    })
                    .unwrap_or(0);
                slots[i] = Slot {
                    tag,
                    last: now,
                    value: V::default(),
                };
                (i, None)
            }
        };
        let s = &mut slots[i];
        if age != Some(0) {
            s.last = now;
        }
        f(&mut s.value, age)
    }

    /// Entries in use (for the metrics; takes every lock in turn).
    pub(crate) fn used(&self) -> usize {
        self.shards
            .iter()
            .map(|m| {
                let g = m.lock().unwrap_or_else(|p| p.into_inner());
                g.iter()
                    .flat_map(|s| s.0.iter())
                    .filter(|s| s.tag != 0)
                    .count()
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
/// Its network's bits, and the family (4 or 6) in the third word.
fn prefix(addr: IpAddr, v4: u8, v6: u8) -> [u64; 3] {
    match addr {
        IpAddr::V4(a) => [u64::from(u32::from(a) & mask(32, v4) as u32), 0, 4],
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(a4) => prefix(IpAddr::V4(a4), v4, v6),
            None => {
                let bits = u128::from(a) & mask(128, v6);
                [(bits >> 64) as u64, bits as u64, 6]
            }
        },
    }
}

/// What a response is, for counting identical responses together.
///
/// # Examples
///
/// See [`RateLimit`].
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
/// See [`RateLimit`].
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
    credit: i32,
    limited: u32,
}

/// Response-rate limiting, shared by the server's threads.
///
/// The rate limiter and the quota keep their state in a table of fixed size allocated once, a set-associative
/// hash table whose least recently used entry in a set makes room for a new client, so
/// memory stays bounded whatever the number of clients, and clients that stopped asking
/// age out.
///
/// Rate limiting counts responses per client network (IPv4 /24 and IPv6 /56 by default)
/// and per kind of response, as Knot and NSD do, so that a flood of different names is
/// counted as one: a positive answer by its name and type, a negative one (NXDOMAIN or no
/// data) by its zone, an error (REFUSED, FORMERR, …) by its rcode alone. Each bucket holds
/// up to `rate × window` responses and refills at `rate` per second; a response finding it
/// empty is limited: every `slip`th limited response goes out truncated (TC, no records) so
/// that a real resolver behind the address retries over TCP, which is never limited; the
/// others are dropped.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{Decision, RateLimit, ResponseClass};
/// let rrl = RateLimit::builder().rate(5).window(1).slip(2).build()?;
/// let client = "192.0.2.1".parse().unwrap();
/// let mut got = Vec::new();
/// for _ in 0..9 {
///     got.push(rrl.check(client, ResponseClass::Negative, b"\x02bl\x07example\x00", 1_000));
/// }
/// use Decision::*;
/// assert_eq!(got, [Send, Send, Send, Send, Send, Slip, Drop, Slip, Drop]);
/// // a second later the bucket has refilled
/// assert_eq!(rrl.check(client, ResponseClass::Negative, b"\x02bl\x07example\x00", 2_000), Send);
/// # Ok::<(), rblkit::Error>(())
/// ```
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
/// See [`RateLimit`].
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
    /// See [`RateLimit`].
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
    /// See [`RateLimit`].
    pub fn check(&self, client: IpAddr, class: ResponseClass, name: &[u8], now: u64) -> Decision {
        let net = prefix(client, self.v4, self.v6);
        let (tag, name): (u64, &[u8]) = match class {
            ResponseClass::Positive { qtype } => (1 << 8 | u64::from(qtype) << 16, name),
            ResponseClass::Negative => (2 << 8, name),
            ResponseClass::Error { rcode } => (3 << 8 | u64::from(rcode) << 16, &[]),
        };
        let key = self.table.hash([net[0], net[1], net[2] | tag], name);
        let cap = self.rate as i64 * i64::from(self.window) * 1000;
        let rate = i64::from(self.rate);
        let slip = self.slip;
        self.table.with(key, now, |b, age| {
            let credit = match age {
                None => {
                    b.limited = 0;
                    cap
                }
                Some(ms) => (i64::from(b.credit) + i64::from(ms) * rate).min(cap),
            };
            if credit >= 1000 {
                b.credit = (credit - 1000) as i32;
                return Decision::Send;
            }
            b.credit = credit as i32;
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
    /// See [`RateLimit`].
    pub fn rate(mut self, per_second: u32) -> RateLimitBuilder {
        self.rate = per_second;
        self
    }

    /// The burst window in seconds: a bucket holds up to `rate × window` responses (at
    /// most 2,000,000).
    ///
    /// # Examples
    ///
    /// See [`RateLimit`].
    pub fn window(mut self, seconds: u32) -> RateLimitBuilder {
        self.window = seconds;
        self
    }

    /// Every `n`th limited response is sent truncated, the others dropped (0: all dropped;
    /// 1: all truncated).
    ///
    /// # Examples
    ///
    /// See [`RateLimit`].
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
    /// See [`RateLimit`].
    pub fn build(self) -> Result<RateLimit, crate::Error> {
        check_limits(self.rate, self.window, self.v4, self.v6, true)?;
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

fn check_limits(rate: u32, window: u32, v4: u8, v6: u8, burst: bool) -> Result<(), ServerError> {
    let bad = |what: &'static str| Err(ServerError::BadLimit { what });
    if burst && u64::from(rate) * u64::from(window) > 2_000_000 {
        return bad("a burst (rate x window) above 2000000");
    }
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
    table: Table<(u32, u32)>,
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
        let key = self.table.hash(net, &[]);
        let period = (now / self.period_ms) as u32;
        let max = self.queries;
        self.table.with(key, now, |(p, n), age| {
            if age.is_none() || *p != period {
                *p = period;
                *n = 0;
            }
            *n = n.saturating_add(1);
            u64::from(*n) > max
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
        check_limits(q, p, self.v4, self.v6, false)?;
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
            let key = t.hash([k, 0, 0], &[]);
            t.with(key, k, |v, _| *v += 1);
        }
        assert_eq!(t.used(), t.capacity());
        // the most recent entry is still there, counted once
        let key = t.hash([99_999, 0, 0], &[]);
        assert_eq!(t.with(key, 100_000, |v, age| (*v, age)), (1, Some(1)));
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
