//! The compiled lookup structures behind [`List`](super::List).
//!
//! Values are `u32` ids into the list's table of listings, with two sentinels.

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

/// The entry of sorted `b` whose key is `want`, searched from `guess` outwards: a few steps
/// each way, then a binary search of the rest, so a bad guess costs a logarithm.
#[inline(always)]
/// `first` is `b[guess]`, read beforehand (a batch reads those of many keys together).
fn search<T: Copy>(
    b: &[T],
    want: u32,
    guess: usize,
    first: T,
    key: impl Fn(T) -> u32,
) -> Option<T> {
    const STEPS: usize = 16;
    let n = b.len();
    if n <= 8 {
        return b
            .iter()
            .copied()
            .find(|&e| key(e) >= want)
            .filter(|&e| key(e) == want);
    }
    let mut i = guess.min(n - 1);
    if key(first) < want {
        let end = (i + STEPS).min(n);
        while i < end && key(b[i]) < want {
            i += 1;
        }
        if i == end && end < n {
            i = end + b[end..].partition_point(|&e| key(e) < want);
        }
    } else {
        let start = i.saturating_sub(STEPS);
        while i > start && key(b[i - 1]) >= want {
            i -= 1;
        }
        if i == start && start > 0 && key(b[start - 1]) >= want {
            i = b[..start].partition_point(|&e| key(e) < want);
        }
    }
    b.get(i).copied().filter(|&e| key(e) == want)
}

/// Exact IPv4 addresses: an index on the top `b` bits of the address into packed entries
/// `(low bits << vbits) | value`, sorted, one array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Exact32 {
    bits: u32,
    vbits: u32,
    index: Box<[u32]>,
    packed: Packed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Packed {
    /// low key bits and value in one `u32`
    Narrow(Box<[u32]>),
    /// full key in the high half, value in the low half
    Wide(Box<[u64]>),
}

impl Exact32 {
    /// From `(address, value)` pairs sorted by address, no duplicates; `distinct` is one more
    /// than the largest value id used (sentinels aside).
    pub(crate) fn new(entries: &[(u32, u32)], distinct: u32) -> Exact32 {
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
        // value ids plus the two sentinels must fit in vbits
        let need = 32 - (distinct.saturating_add(2)).leading_zeros();
        let (vbits, packed) = if key_bits + need <= 32 {
            // bits is 4..=16, so are vbits and the key bits kept (16..=28)
            let vbits = 32 - key_bits;
            let vmask = (1u32 << vbits) - 1;
            let low_mask = u32::MAX >> bits;
            let v: Vec<u32> = entries
                .iter()
                .map(|&(k, val)| {
                    let val = if val == EXCL { vmask } else { val };
                    ((k & low_mask) << vbits) | val
                })
                .collect();
            (vbits, Packed::Narrow(v.into_boxed_slice()))
        } else {
            let v: Vec<u64> = entries
                .iter()
                .map(|&(k, v)| (u64::from(k) << 32) | u64::from(v))
                .collect();
            (32, Packed::Wide(v.into_boxed_slice()))
        };
        Exact32 {
            bits,
            vbits,
            index: index.into_boxed_slice(),
            packed,
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.packed {
            Packed::Narrow(v) => v.len(),
            Packed::Wide(v) => v.len(),
        }
    }

    /// The bucket of `key`: `(lo, hi)` bounds in the packed array.
    #[inline(always)]
    pub(crate) fn bucket(&self, key: u32) -> (usize, usize) {
        let h = (key >> (32 - self.bits)) as usize;
        (self.index[h] as usize, self.index[h + 1] as usize)
    }

    /// The value for `key` within its bucket, [`NONE`] when absent.
    #[inline(always)]
    pub(crate) fn find_in(&self, key: u32, lo: usize, hi: usize) -> u32 {
        let (guess, first) = self.probe(key, lo, hi);
        self.finish(key, lo, hi, guess, first)
    }

    /// The interpolated position of `key` in its bucket `lo..hi` (relative to `lo`) and the
    /// entry there (0 for an empty bucket): the one read of the packed array most lookups
    /// need, with no branch on what it reads.
    #[inline(always)]
    pub(crate) fn probe(&self, key: u32, lo: usize, hi: usize) -> (usize, u64) {
        let key_bits = 32 - self.bits;
        let low = key & (u32::MAX >> self.bits);
        // keys inside a bucket spread over its range: guess the position from the low bits
        let guess = ((u64::from(low) * (hi - lo) as u64) >> key_bits) as usize;
        let first = match &self.packed {
            Packed::Narrow(v) => v.get(lo + guess).map_or(0, |&e| u64::from(e)),
            Packed::Wide(v) => v.get(lo + guess).copied().unwrap_or(0),
        };
        (guess, first)
    }

    /// The value for `key` from what [`Exact32::probe`] read.
    #[inline(always)]
    pub(crate) fn finish(&self, key: u32, lo: usize, hi: usize, guess: usize, first: u64) -> u32 {
        if lo == hi {
            return NONE;
        }
        match &self.packed {
            Packed::Narrow(v) => {
                let vbits = self.vbits;
                let vmask = (1u32 << vbits) - 1;
                let low = key & (u32::MAX >> self.bits);
                match search(&v[lo..hi], low, guess, first as u32, |e| e >> vbits) {
                    Some(e) if e & vmask == vmask => EXCL,
                    Some(e) => e & vmask,
                    None => NONE,
                }
            }
            Packed::Wide(v) => match search(&v[lo..hi], key, guess, first, |e| (e >> 32) as u32) {
                Some(e) => e as u32,
                None => NONE,
            },
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: u32) -> u32 {
        let (lo, hi) = self.bucket(key);
        self.find_in(key, lo, hi)
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
            + match &self.packed {
                Packed::Narrow(v) => v.len() * 4,
                Packed::Wide(v) => v.len() * 8,
            }
    }
}
