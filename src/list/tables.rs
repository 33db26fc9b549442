//! The compiled lookup structures behind [`List`](super::List).
//!
//! Values are `u32` ids into the list's table of listings, with two sentinels.

use super::lines::Lines;

/// No entry covers the key.
pub(crate) const NONE: u32 = u32::MAX;
/// An exclusion decides the key: not listed.
pub(crate) const EXCL: u32 = u32::MAX - 1;

/// How exclusions and listings of different specificity combine.
///
/// # Examples
///
/// ```
/// use rblkit::list::Precedence;
/// use rblkit::{List, Listing};
/// use rblkit::codes::ReturnCode;
///
/// let mut b = List::builder();
/// b.precedence(Precedence::MostSpecific);
/// b.exclude(&"192.0.2.0/24".parse()?);
/// b.insert(&"192.0.2.9".parse()?, Listing::new(ReturnCode::LISTED));
/// assert!(b.build().lookup_ipv4("192.0.2.9".parse().unwrap()).is_some());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Precedence {
    /// An exclusion that covers a subject wins over every listing, however specific
    /// (the default: allowlists override).
    #[default]
    ExclusionsWin,
    /// The most specific entry decides (longest prefix; for names the exact name, then the
    /// nearest parent wildcard), an exclusion winning only over listings of the same entry.
    /// This is how rbldnsd's datasets answer.
    MostSpecific,
}

/// An unsigned key type (IPv4 as `u32`, IPv6 as `u128`).
pub(crate) trait Key: Copy + Ord + Eq + std::fmt::Debug {
    const BITS: u32;
    const MAX: Self;
    const ZERO: Self;
    fn succ(self) -> Self;
    fn pred(self) -> Self;
    fn top_bits(self, b: u32) -> usize;
    fn last_of(start: Self, len: u8) -> Self;
}

impl Key for u32 {
    const BITS: u32 = 32;
    const MAX: u32 = u32::MAX;
    const ZERO: u32 = 0;
    fn succ(self) -> u32 {
        self + 1
    }
    fn pred(self) -> u32 {
        self - 1
    }
    #[inline]
    fn top_bits(self, b: u32) -> usize {
        if b == 0 {
            0
        } else {
            (self >> (32 - b)) as usize
        }
    }
    fn last_of(start: u32, len: u8) -> u32 {
        if len == 0 {
            u32::MAX
        } else if len >= 32 {
            start
        } else {
            start | (u32::MAX >> len)
        }
    }
}

impl Key for u128 {
    const BITS: u32 = 128;
    const MAX: u128 = u128::MAX;
    const ZERO: u128 = 0;
    fn succ(self) -> u128 {
        self + 1
    }
    fn pred(self) -> u128 {
        self - 1
    }
    #[inline]
    fn top_bits(self, b: u32) -> usize {
        if b == 0 {
            0
        } else {
            (self >> (128 - b)) as usize
        }
    }
    fn last_of(start: u128, len: u8) -> u128 {
        if len == 0 {
            u128::MAX
        } else if len >= 128 {
            start
        } else {
            start | (u128::MAX >> len)
        }
    }
}

/// Disjoint ranges covering the whole key space: `starts[i]..starts[i+1]` has `vals[i]`.
/// `starts[0]` is always zero; adjacent ranges have different values. An index on the top
/// bits of the key narrows the search to a few ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ranges<K: Key> {
    starts: Box<[K]>,
    vals: Box<[u32]>,
    index_bits: u32,
    /// `index[h]` is the first range whose start has top bits `>= h`.
    index: Box<[u32]>,
}

fn index_bits_for(n: usize, max: u32) -> u32 {
    // about two ranges per index slot
    let bits = usize::BITS - (n / 2).leading_zeros();
    bits.clamp(1, max)
}

impl<K: Key> Ranges<K> {
    /// Builds ranges from prefix entries sorted by `(start, len)`, no two equal.
    /// `resolve(outer, inner)` gives the value of the inner entry's addresses where it is
    /// nested in the outer entry's effective value.
    pub(crate) fn from_prefixes(
        entries: &[(K, u8, u32)],
        resolve: impl Fn(u32, u32) -> u32,
    ) -> Ranges<K> {
        let mut starts: Vec<K> = vec![K::ZERO];
        let mut vals: Vec<u32> = vec![NONE];
        let mut emit = |pos: K, val: u32| {
            let n = starts.len();
            if starts[n - 1] == pos {
                vals[n - 1] = val;
                if n >= 2 && vals[n - 2] == val {
                    starts.pop();
                    vals.pop();
                }
            } else if vals[n - 1] != val {
                starts.push(pos);
                vals.push(val);
            }
        };
        // stack of (last key, effective value)
        let mut stack: Vec<(K, u32)> = Vec::with_capacity(K::BITS as usize + 1);
        for &(start, len, val) in entries {
            while let Some(&(last, _)) = stack.last() {
                if last >= start {
                    break;
                }
                stack.pop();
                let outer = stack.last().map_or(NONE, |&(_, v)| v);
                emit(last.succ(), outer);
            }
            let outer = stack.last().map_or(NONE, |&(_, v)| v);
            let eff = if outer == NONE {
                val
            } else {
                resolve(outer, val)
            };
            emit(start, eff);
            stack.push((K::last_of(start, len), eff));
        }
        while let Some((last, _)) = stack.pop() {
            if last == K::MAX {
                break;
            }
            let outer = stack.last().map_or(NONE, |&(_, v)| v);
            emit(last.succ(), outer);
        }
        Ranges::from_boundaries(starts, vals)
    }

    fn from_boundaries(starts: Vec<K>, vals: Vec<u32>) -> Ranges<K> {
        let index_bits = index_bits_for(starts.len(), 16);
        let slots = 1usize << index_bits;
        let mut index = Vec::with_capacity(slots + 1);
        let mut p = 0usize;
        for h in 0..slots {
            while p < starts.len() && starts[p].top_bits(index_bits) < h {
                p += 1;
            }
            index.push(p as u32);
        }
        index.push(starts.len() as u32);
        Ranges {
            starts: starts.into_boxed_slice(),
            vals: vals.into_boxed_slice(),
            index_bits,
            index: index.into_boxed_slice(),
        }
    }

    /// Whether every key has no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.vals.len() == 1 && self.vals[0] == NONE
    }

    #[inline]
    pub(crate) fn get(&self, key: K) -> u32 {
        let h = key.top_bits(self.index_bits);
        let lo = self.index[h] as usize;
        let hi = self.index[h + 1] as usize;
        // the last range starting at or before key: in [lo, hi) or just before lo
        let slice = &self.starts[lo..hi];
        let n = if slice.len() <= 8 {
            slice.iter().take_while(|&&s| s <= key).count()
        } else {
            slice.partition_point(|&s| s <= key)
        };
        let pos = (lo + n).saturating_sub(1);
        self.vals[pos]
    }

    /// The ranges that have an entry: `(first, last, value)`.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, K, u32)> + '_ {
        (0..self.starts.len()).filter_map(move |i| {
            let v = self.vals[i];
            if v == NONE {
                return None;
            }
            let last = match self.starts.get(i + 1) {
                Some(&next) => next.pred(),
                None => K::MAX,
            };
            Some((self.starts[i], last, v))
        })
    }

    /// The value of the range holding `first`, when that range also holds `last`.
    pub(crate) fn uniform(&self, first: K, last: K) -> Option<u32> {
        let pos = self
            .starts
            .partition_point(|&s| s <= first)
            .saturating_sub(1);
        match self.starts.get(pos + 1) {
            Some(&next) if next <= last => None,
            _ => Some(self.vals[pos]),
        }
    }

    /// Every value in the ranges (with repeats).
    pub(crate) fn values(&self) -> impl Iterator<Item = u32> + '_ {
        self.vals.iter().copied()
    }

    /// Renumbers the values (an injective map, so adjacent ranges stay different).
    pub(crate) fn remap(&mut self, f: impl Fn(u32) -> u32) {
        for v in self.vals.iter_mut() {
            *v = f(*v);
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.starts.len() * std::mem::size_of::<K>() + self.vals.len() * 4 + self.index.len() * 4
    }

    pub(crate) fn len(&self) -> usize {
        self.vals.iter().filter(|&&v| v != NONE).count()
    }
}

/// The entry of sorted, non-empty `b` whose key is `want` if there is one, else some other
/// entry: a binary search whose steps select rather than branch (the standard library's
/// `partition_point`), then one more read.
#[inline(always)]
fn search<T: Copy>(b: &[T], want: u32, key: impl Fn(T) -> u32) -> T {
    let p = b.partition_point(|&e| key(e) < want);
    b[p.min(b.len() - 1)]
}

/// The position in a bucket of `n` entries that an address's low bits (below the top `bits`)
/// predict, in `0..n` (0 when `n` is 0): keys spread evenly over the bucket's range.
#[inline(always)]
fn interpolate(key: u32, bits: u32, n: usize) -> usize {
    let low = key & (u32::MAX >> bits);
    ((u64::from(low) * n as u64) >> (32 - bits)) as usize
}

/// `entries` mapped through `f`, in order, taken from the back of the vector, which gives
/// its memory back in eighths as it empties.
fn pack_from_back<T>(entries: &mut Vec<(u32, u32)>, f: impl Fn((u32, u32)) -> T) -> Vec<T> {
    let n = entries.len();
    let step = (n / 8).max(1 << 14);
    let mut out: Vec<T> = Vec::new();
    while let Some(e) = entries.pop() {
        out.push(f(e));
        if entries.len().is_multiple_of(step) {
            entries.shrink_to_fit();
        }
    }
    out.reverse();
    out
}

/// Exact IPv4 addresses: [`Sorted`] for most tables, [`Lines`] for large ones, where a
/// lookup in a sorted table would wait for memory more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exact32 {
    Sorted(Sorted),
    Lines(Lines),
}

impl Exact32 {
    /// From `(address, value)` pairs sorted by address, no duplicates; `distinct` is one
    /// more than the largest value id used (sentinels aside).
    pub(crate) fn new(entries: Vec<(u32, u32)>, distinct: u32) -> Exact32 {
        if Lines::suits(entries.len()) {
            Exact32::Lines(Lines::new(entries, distinct))
        } else {
            Exact32::Sorted(Sorted::new(entries, distinct))
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Exact32::Sorted(t) => t.len(),
            Exact32::Lines(t) => t.len(),
        }
    }

    /// The value for `key`, [`NONE`] when absent.
    #[inline(always)]
    pub(crate) fn get(&self, key: u32) -> u32 {
        match self {
            Exact32::Sorted(t) => t.get(key),
            Exact32::Lines(t) => t.get(key),
        }
    }

    /// Asks the processor to bring the memory a lookup of `key` reads into the cache,
    /// without waiting for it: what a batch does some keys ahead of the lookups.
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: u32) {
        match self {
            Exact32::Sorted(t) => t.prefetch(t.window(key)),
            Exact32::Lines(t) => t.prefetch(key),
        }
    }

    /// Whether some entry lies in `first..=last`.
    pub(crate) fn any_in(&self, first: u32, last: u32) -> bool {
        match self {
            Exact32::Sorted(t) => t.any_in(first, last),
            Exact32::Lines(t) => t.any_in(first, last),
        }
    }

    /// Every `(address, value)`, in address order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (u32, u32)> + '_> {
        match self {
            Exact32::Sorted(t) => t.iter(),
            Exact32::Lines(t) => Box::new(t.iter()),
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Exact32::Sorted(t) => t.memory_bytes(),
            Exact32::Lines(t) => t.memory_bytes(),
        }
    }
}

/// Exact IPv4 addresses: an index on the top `b` bits of the address into packed entries,
/// sorted, one array: the low 16 bits alone when the index takes 16 bits (values apart),
/// else `(low bits << vbits) | value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sorted {
    bits: u32,
    vbits: u32,
    index: Box<[u32]>,
    /// Per index slot, how far (in entries) any entry of the bucket lies from its
    /// interpolated position; [`WHOLE_BUCKET`] when that is too far to be worth a window.
    reach: Box<[u8]>,
    packed: Packed,
}

/// A bucket whose entries stray too far from their interpolated positions: a lookup
/// searches all of it.
const WHOLE_BUCKET: u8 = u8::MAX;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Packed {
    /// the low 16 key bits alone, the values apart (read only for an entry that matches):
    /// half the memory of [`Packed::Narrow`], so that more of a large table stays in cache
    Short { keys: Box<[u16]>, vals: Vals },
    /// low key bits and value in one `u32`
    Narrow(Box<[u32]>),
    /// full key in the high half, value in the low half
    Wide(Box<[u64]>),
}

/// Values apart from their keys, in as few bytes as they need: of [`Packed::Short`]
/// entries in entry order, and of the lanes of [`Lines`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Vals {
    /// every entry has this value (a sentinel included)
    Same(u32),
    /// ids below `u8::MAX`; `u8::MAX` is [`EXCL`]
    Bytes(Box<[u8]>),
    /// ids below `u16::MAX`; `u16::MAX` is [`EXCL`]
    Halves(Box<[u16]>),
    Full(Box<[u32]>),
}

impl Vals {
    /// Values of `entries` in order, in the narrowest form that holds ids below `distinct`.
    fn new(entries: &[(u32, u32)], distinct: u32) -> Vals {
        let mut vals = Vals::blank(entries, distinct, entries.len());
        for (p, e) in entries.iter().enumerate() {
            vals.set(p, e.1);
        }
        vals
    }

    /// For `len` slots to be [`Vals::set`], in the narrowest form for the values of
    /// `entries` (ids below `distinct`): none kept when they all have one value.
    pub(crate) fn blank(entries: &[(u32, u32)], distinct: u32, len: usize) -> Vals {
        let first = entries.first().map_or(NONE, |e| e.1);
        if entries.iter().all(|e| e.1 == first) {
            Vals::Same(first)
        } else if distinct < u32::from(u8::MAX) {
            Vals::Bytes(vec![u8::MAX; len].into_boxed_slice())
        } else if distinct < u32::from(u16::MAX) {
            Vals::Halves(vec![u16::MAX; len].into_boxed_slice())
        } else {
            Vals::Full(vec![NONE; len].into_boxed_slice())
        }
    }

    /// Sets slot `p` (nothing to do when all values are the same).
    pub(crate) fn set(&mut self, p: usize, v: u32) {
        match self {
            Vals::Same(_) => {}
            Vals::Bytes(b) => b[p] = if v == EXCL { u8::MAX } else { v as u8 },
            Vals::Halves(h) => h[p] = if v == EXCL { u16::MAX } else { v as u16 },
            Vals::Full(f) => f[p] = v,
        }
    }

    #[inline(always)]
    pub(crate) fn get(&self, p: usize) -> u32 {
        match self {
            Vals::Same(v) => *v,
            Vals::Bytes(b) => match b[p] {
                u8::MAX => EXCL,
                v => u32::from(v),
            },
            Vals::Halves(h) => match h[p] {
                u16::MAX => EXCL,
                v => u32::from(v),
            },
            Vals::Full(f) => f[p],
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            Vals::Same(_) => 0,
            Vals::Bytes(b) => b.len(),
            Vals::Halves(h) => h.len() * 2,
            Vals::Full(f) => f.len() * 4,
        }
    }
}

impl Sorted {
    /// From `(address, value)` pairs sorted by address, no duplicates; `distinct` is one more
    /// than the largest value id used (sentinels aside). The pairs are packed from the
    /// back while their vector shrinks, so that the packed array and the whole vector are
    /// not both held at the peak.
    pub(crate) fn new(mut entries: Vec<(u32, u32)>, distinct: u32) -> Sorted {
        let n = entries.len();
        // about two entries per index slot, at least 2^4 and at most 2^16 slots: the index
        // (256 KiB at most) stays in cache, and a lookup reads the packed array about once,
        // at the position interpolated from the address's low bits
        let bits = (usize::BITS - (n / 2).leading_zeros()).clamp(4, 16);
        let slots = 1usize << bits;
        let mut index = Vec::with_capacity(slots + 1);
        let mut p = 0usize;
        for h in 0..slots {
            while p < n && ((entries[p].0 >> (32 - bits)) as usize) < h {
                p += 1;
            }
            index.push(p as u32);
        }
        index.push(n as u32);
        let key_bits = 32 - bits;
        let reach: Vec<u8> = (0..slots)
            .map(|h| {
                let (lo, hi) = (index[h] as usize, index[h + 1] as usize);
                let far = entries[lo..hi]
                    .iter()
                    .enumerate()
                    .map(|(rank, &(k, _))| rank.abs_diff(interpolate(k, bits, hi - lo)))
                    .max()
                    .unwrap_or(0);
                u8::try_from(far)
                    .ok()
                    .filter(|&r| r < WHOLE_BUCKET)
                    .unwrap_or(WHOLE_BUCKET)
            })
            .collect();
        // value ids plus the two sentinels must fit in vbits
        let need = 32 - (distinct.saturating_add(2)).leading_zeros();
        let (vbits, packed) = if key_bits <= 16 {
            let vals = Vals::new(&entries, distinct);
            let low_mask = u32::MAX >> bits;
            let keys = pack_from_back(&mut entries, |(k, _)| (k & low_mask) as u16);
            (
                0,
                Packed::Short {
                    keys: keys.into_boxed_slice(),
                    vals,
                },
            )
        } else if key_bits + need <= 32 {
            // bits is 4..=16, so are vbits and the key bits kept (16..=28)
            let vbits = 32 - key_bits;
            let vmask = (1u32 << vbits) - 1;
            let low_mask = u32::MAX >> bits;
            let v = pack_from_back(&mut entries, |(k, val)| {
                let val = if val == EXCL { vmask } else { val };
                ((k & low_mask) << vbits) | val
            });
            (vbits, Packed::Narrow(v.into_boxed_slice()))
        } else {
            let v = pack_from_back(&mut entries, |(k, v)| (u64::from(k) << 32) | u64::from(v));
            (32, Packed::Wide(v.into_boxed_slice()))
        };
        Sorted {
            bits,
            vbits,
            index: index.into_boxed_slice(),
            reach: reach.into_boxed_slice(),
            packed,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.packed {
            Packed::Short { keys, .. } => keys.len(),
            Packed::Narrow(v) => v.len(),
            Packed::Wide(v) => v.len(),
        }
    }

    /// Where `key` can be: `(lo, hi)` bounds in the packed array, the entries of its bucket
    /// no farther from its interpolated position than the bucket's reach. Reads only the
    /// index and the reach table, which stay in cache.
    #[inline(always)]
    fn window(&self, key: u32) -> (usize, usize) {
        let h = (key >> (32 - self.bits)) as usize;
        let (lo, hi) = (self.index[h] as usize, self.index[h + 1] as usize);
        let reach = self.reach[h];
        if reach == WHOLE_BUCKET {
            return (lo, hi);
        }
        let guess = lo + interpolate(key, self.bits, hi - lo);
        let reach = usize::from(reach);
        (
            guess.saturating_sub(reach).max(lo),
            (guess + reach + 1).min(hi),
        )
    }

    /// Asks for the cache lines of `window` (its first, middle and last entries, where a
    /// binary search over it starts and ends), without waiting for them: what a batch does
    /// some keys ahead.
    #[inline(always)]
    fn prefetch(&self, (lo, hi): (usize, usize)) {
        if lo >= hi {
            return;
        }
        match &self.packed {
            Packed::Short { keys, .. } => prefetch_window(keys, lo, hi),
            Packed::Narrow(v) => prefetch_window(v, lo, hi),
            Packed::Wide(v) => prefetch_window(v, lo, hi),
        }
    }

    /// The value for `key` within `window` (from [`Sorted::window`]), [`NONE`] when absent.
    /// No branch depends on what is read from the packed array, so that the processor can
    /// go on to the next lookup while this one waits for memory.
    #[inline(always)]
    fn find_in(&self, key: u32, (lo, hi): (usize, usize)) -> u32 {
        if lo >= hi {
            return NONE;
        }
        match &self.packed {
            Packed::Short { keys, vals } => {
                let low = (key & (u32::MAX >> self.bits)) as u16;
                let w = &keys[lo..hi];
                let p = w.partition_point(|&e| e < low).min(w.len() - 1);
                if w[p] == low {
                    vals.get(lo + p)
                } else {
                    NONE
                }
            }
            Packed::Narrow(v) => {
                let vbits = self.vbits;
                let vmask = (1u32 << vbits) - 1;
                let low = key & (u32::MAX >> self.bits);
                let e = search(&v[lo..hi], low, |e| e >> vbits);
                let val = e & vmask;
                let val = if val == vmask { EXCL } else { val };
                if e >> vbits == low {
                    val
                } else {
                    NONE
                }
            }
            Packed::Wide(v) => {
                let e = search(&v[lo..hi], key, |e| (e >> 32) as u32);
                if (e >> 32) as u32 == key {
                    e as u32
                } else {
                    NONE
                }
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: u32) -> u32 {
        self.find_in(key, self.window(key))
    }

    /// The bucket of `key`: `(lo, hi)` bounds in the packed array.
    fn bucket(&self, key: u32) -> (usize, usize) {
        let h = (key >> (32 - self.bits)) as usize;
        (self.index[h] as usize, self.index[h + 1] as usize)
    }

    /// Whether some entry lies in `first..=last`.
    pub(crate) fn any_in(&self, first: u32, last: u32) -> bool {
        let (lo, hi) = self.bucket(first);
        // first entry at or after `first`: inside its bucket, or the next non-empty bucket
        let in_bucket = (lo..hi).find(|&p| self.key_at(p) >= first);
        let p = in_bucket.unwrap_or(hi);
        p < self.len() && self.key_at(p) <= last
    }

    /// The address of the entry at position `p`.
    fn key_at(&self, p: usize) -> u32 {
        match &self.packed {
            Packed::Short { keys, .. } => {
                let h = self.index.partition_point(|&x| x as usize <= p) - 1;
                ((h as u32) << (32 - self.bits)) | u32::from(keys[p])
            }
            Packed::Narrow(v) => {
                let h = self.index.partition_point(|&x| x as usize <= p) - 1;
                let low = v[p] >> self.vbits;
                ((h as u32) << (32 - self.bits)) | low
            }
            Packed::Wide(v) => (v[p] >> 32) as u32,
        }
    }

    /// Every `(address, value)`, in address order.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = (u32, u32)> + '_> {
        let bits = self.bits;
        let slots = 1usize << bits;
        match &self.packed {
            Packed::Short { keys, vals } => Box::new((0..slots).flat_map(move |h| {
                let (lo, hi) = (self.index[h] as usize, self.index[h + 1] as usize);
                (lo..hi).map(move |p| {
                    let key = ((h as u32) << (32 - bits)) | u32::from(keys[p]);
                    (key, vals.get(p))
                })
            })),
            Packed::Narrow(v) => {
                let vbits = self.vbits;
                let vmask = (1u32 << vbits) - 1;
                Box::new((0..slots).flat_map(move |h| {
                    let (lo, hi) = (self.index[h] as usize, self.index[h + 1] as usize);
                    v[lo..hi].iter().map(move |&e| {
                        let low = e >> vbits;
                        let key = ((h as u32) << (32 - bits)) | low;
                        let val = e & vmask;
                        (key, if val == vmask { EXCL } else { val })
                    })
                }))
            }
            Packed::Wide(v) => Box::new(v.iter().map(|&e| ((e >> 32) as u32, e as u32))),
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.index.len() * 4
            + self.reach.len()
            + match &self.packed {
                Packed::Short { keys, vals } => keys.len() * 2 + vals.memory_bytes(),
                Packed::Narrow(v) => v.len() * 4,
                Packed::Wide(v) => v.len() * 8,
            }
    }
}

/// Prefetches the first, middle and last entries of `v[lo..hi]` (not empty).
#[inline(always)]
fn prefetch_window<T>(v: &[T], lo: usize, hi: usize) {
    prefetch(&v[lo]);
    prefetch(&v[(lo + hi) / 2]);
    prefetch(&v[hi - 1]);
}

/// Asks the processor to bring the cache line of `r` into all levels of the cache, without
/// waiting for it (a hint: no effect on what the program computes). Nothing on processors
/// without such an instruction here.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse"
    ))]
    safe_arch::prefetch_t0(r);
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse"
    )))]
    let _ = r;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// Every entry is found with its value and nothing else is, whatever the spread of the
    /// addresses: even, clustered in a few /24s (buckets whose entries stray far from their
    /// interpolated positions), and both; narrow and wide packing.
    #[test]
    fn exact_lookups_agree_with_a_sorted_vector() {
        let mut seed = 0x2545_f491_4f6c_dd1d;
        let cases = [
            (0, 3, 200_000),
            (1, 3, 200_000),
            (2, 3, 200_000),
            (2, 1, 200_000),
            (2, 300, 200_000),
            (2, 100_000, 200_000),
            (0, 3, 20_000),
            (2, 100_000, 20_000),
        ];
        for (case, distinct, n) in cases {
            let mut keys: Vec<u32> = Vec::new();
            if case != 1 {
                keys.extend((0..n).map(|_| xorshift(&mut seed) as u32));
            }
            if case != 0 {
                for c in 0..8u32 {
                    let base = (xorshift(&mut seed) as u32) & 0xffff_ff00;
                    keys.extend((0..=255).filter(|i| i % 3 != c % 3).map(|i| base | i));
                    // a dense run inside an otherwise empty /16
                    let b16 = (c << 28) | 0x0abc_0000;
                    keys.extend((0..4000).map(|i| b16 | (i * 2)));
                }
            }
            keys.sort_unstable();
            keys.dedup();
            // some entries are exclusions, except where every value is to be the same
            let val = |k: u32| {
                if distinct > 1 && k % 11 == 5 {
                    EXCL
                } else {
                    k % distinct
                }
            };
            let entries: Vec<(u32, u32)> = keys.iter().map(|&k| (k, val(k))).collect();
            let t = Sorted::new(entries.clone(), distinct);
            // 2^16 entries and more take the 16-bit index: short keys
            let short = keys.len() >= 1 << 16;
            let want_form = match (&t.packed, short, distinct) {
                (Packed::Short { vals, .. }, true, _) => matches!(
                    (vals, distinct),
                    (Vals::Same(_), 1)
                        | (Vals::Bytes(_), 3)
                        | (Vals::Halves(_), 300)
                        | (Vals::Full(_), 100_000)
                ),
                (Packed::Narrow(_), false, 3) | (Packed::Wide(_), false, 100_000) => true,
                _ => false,
            };
            assert!(want_form, "case {case}, {n} keys: {:?}", t.memory_bytes());
            assert!(t.reach.contains(&WHOLE_BUCKET) || case == 0);
            for &(k, v) in &entries {
                assert_eq!(t.get(k), v, "case {case}: {k:#x}");
            }
            for _ in 0..200_000 {
                let q = xorshift(&mut seed) as u32;
                let want = keys.binary_search(&q).map_or(NONE, |_| val(q));
                assert_eq!(t.get(q), want, "case {case}: {q:#x}");
                for q in [q & 0xfff0_0000 | 0x000b_c000, q | 0xff, q & !0xff] {
                    let want = keys.binary_search(&q).map_or(NONE, |_| val(q));
                    assert_eq!(t.get(q), want, "case {case}: {q:#x}");
                }
            }
        }
    }
}
