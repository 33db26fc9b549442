//! Large tables of single IPv4 addresses, one cache line per lookup.
//!
//! The address space is cut into buckets by a multiply and a shift (`key * buckets >> 32`,
//! which keeps address order), about 16 addresses to a bucket, and each bucket is one
//! 64-byte line of 32 two-byte lanes. A lane holds the low 15 bits of an address: a bucket
//! spans fewer than 2^15 addresses, so those bits tell its addresses apart. A lookup
//! compares the address with all lanes of its line at once, and reads nothing else unless
//! it finds the address (then its value, at a position known from the line and the lane,
//! or nothing when every entry has the same value). The few addresses beyond a line's 31
//! lanes go to a sorted spill table, which the line's last lane points to.
//!
//! Beside the sorted table of [`Exact32`](super::tables::Exact32), which reads an index
//! and then searches a run of entries (several dependent reads from memory once the table
//! is much larger than the caches), this costs one read from memory and the same bytes per
//! address (64 bytes for about 16 addresses).

#[cfg(test)]
use super::tables::EXCL;
use super::tables::{Vals, NONE};

/// Lanes of a line.
const LANES: usize = 32;
/// Lanes that hold addresses; the last one says whether the bucket spilled.
const CAP: usize = LANES - 1;
/// An unused lane.
const EMPTY: u16 = u16::MAX;
/// The last lane of a bucket with more addresses than [`CAP`].
const SPILLED: u16 = u16::MAX - 1;
/// The address bits a lane keeps.
const LOW: u32 = 0x7fff;
/// Buckets at least: each then spans at most 2^15 addresses.
pub(crate) const MIN_BUCKETS: usize = 1 << 17;
/// Addresses per bucket, on average.
const LOAD: usize = 16;

/// One bucket: 32 lanes in one cache line.
#[repr(C, align(64))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line([u16; LANES]);

/// Single IPv4 addresses in buckets of one cache line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lines {
    buckets: u64,
    lines: Box<[Line]>,
    vals: Vals,
    /// `(address, value)` of the addresses no line had room for, sorted
    spill: Box<[(u32, u32)]>,
    len: usize,
}

impl Lines {
    /// Whether `n` addresses are enough for this form: at least [`MIN_BUCKETS`] buckets.
    pub(crate) fn suits(n: usize) -> bool {
        n / LOAD >= MIN_BUCKETS
    }

    /// From `(address, value)` pairs sorted by address, no duplicates, with
    /// [`Lines::suits`]; `distinct` is one more than the largest value id used (sentinels
    /// aside).
    pub(crate) fn new(entries: Vec<(u32, u32)>, distinct: u32) -> Lines {
        let n = entries.len();
        let nb = (n / LOAD).max(MIN_BUCKETS);
        // lane `l` of bucket `h` has value `h * LANES + l`
        let mut vals = Vals::blank(&entries, distinct, nb * LANES);
        let mut lines = vec![Line([EMPTY; LANES]); nb].into_boxed_slice();
        let mut spill = Vec::new();
        let buckets = nb as u64;
        let mut i = 0;
        while i < n {
            let h = bucket(buckets, entries[i].0);
            let mut lane = 0;
            while i < n && bucket(buckets, entries[i].0) == h {
                let (k, v) = entries[i];
                if lane < CAP {
                    lines[h].0[lane] = (k & LOW) as u16;
                    vals.set(h * LANES + lane, v);
                    lane += 1;
                } else {
                    lines[h].0[CAP] = SPILLED;
                    spill.push((k, v));
                }
                i += 1;
            }
        }
        Lines {
            buckets,
            lines,
            vals,
            spill: spill.into_boxed_slice(),
            len: n,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Asks for `key`'s line, without waiting for it: what a batch does some keys ahead.
    #[inline(always)]
    pub(crate) fn prefetch(&self, key: u32) {
        super::tables::prefetch(&self.lines[bucket(self.buckets, key)]);
    }

    /// The value for `key`, [`NONE`] when absent.
    #[inline(always)]
    pub(crate) fn get(&self, key: u32) -> u32 {
        let h = bucket(self.buckets, key);
        let line = &self.lines[h].0;
        let low = (key & LOW) as u16;
        // one comparison of all lanes at once (no lane that is not an address can equal
        // `low`); few instructions, so that the processor has the next lookups' reads under
        // way while this one waits for memory
        let mut acc = [0u16; 8];
        for c in line.chunks_exact(8) {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a |= u16::from(x == low);
            }
        }
        let found = acc.iter().fold(0, |a, &b| a | b) != 0;
        if !found {
            if line[CAP] == SPILLED {
                return self.spilled(key);
            }
            return NONE;
        }
        match &self.vals {
            Vals::Same(v) => *v,
            vals => {
                let lane = line.iter().position(|&x| x == low).unwrap_or(0);
                vals.get(h * LANES + lane)
            }
        }
    }

    #[cold]
    fn spilled(&self, key: u32) -> u32 {
        self.spill
            .binary_search_by_key(&key, |e| e.0)
            .map_or(NONE, |p| self.spill[p].1)
    }

    /// The addresses of bucket `h`'s lanes, in order.
    fn lane_keys(&self, h: usize) -> impl Iterator<Item = (usize, u32)> + '_ {
        let start = bucket_start(self.buckets, h);
        let base = start & LOW;
        self.lines[h].0[..CAP]
            .iter()
            .take_while(|&&x| x != EMPTY)
            .enumerate()
            .map(move |(l, &x)| (l, start + (u32::from(x).wrapping_sub(base) & LOW)))
    }

    /// Whether some entry lies in `first..=last`.
    pub(crate) fn any_in(&self, first: u32, last: u32) -> bool {
        let p = self.spill.partition_point(|e| e.0 < first);
        if p < self.spill.len() && self.spill[p].0 <= last {
            return true;
        }
        let (hf, hl) = (bucket(self.buckets, first), bucket(self.buckets, last));
        (hf..=hl).any(|h| {
            if self.lines[h].0[0] == EMPTY {
                false
            } else if h > hf && h < hl {
                // a bucket inside the range, not empty
                true
            } else {
                self.lane_keys(h).any(|(_, k)| (first..=last).contains(&k))
            }
        })
    }

    /// Every `(address, value)`, in address order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.lines.len()).flat_map(move |h| {
            let lanes = self
                .lane_keys(h)
                .map(move |(l, k)| (k, self.vals.get(h * LANES + l)));
            // a bucket's spilled addresses come after its lanes'
            let spilled = if self.lines[h].0[CAP] == SPILLED {
                let from = self
                    .spill
                    .partition_point(|e| bucket(self.buckets, e.0) < h);
                let to = self
                    .spill
                    .partition_point(|e| bucket(self.buckets, e.0) <= h);
                &self.spill[from..to]
            } else {
                &[]
            };
            lanes.chain(spilled.iter().copied())
        })
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.lines.len() * std::mem::size_of::<Line>()
            + self.vals.memory_bytes()
            + self.spill.len() * std::mem::size_of::<(u32, u32)>()
    }
}

/// The bucket of `key` among `buckets`.
#[inline(always)]
fn bucket(buckets: u64, key: u32) -> usize {
    ((u64::from(key) * buckets) >> 32) as usize
}

/// The first address of bucket `h`.
fn bucket_start(buckets: u64, h: usize) -> u32 {
    ((h as u64) << 32).div_ceil(buckets) as u32
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

    #[test]
    fn buckets_keep_order_and_span_less_than_a_lane_can_tell() {
        for nb in [MIN_BUCKETS, MIN_BUCKETS + 1, 625_000, 1 << 20, 3_000_001] {
            let nb = nb as u64;
            for h in [0, 1, 2, 77_777, nb as usize - 2, nb as usize - 1] {
                let s = bucket_start(nb, h);
                assert_eq!(bucket(nb, s), h);
                if h > 0 {
                    assert_eq!(bucket(nb, s - 1), h - 1);
                }
                let next = if h + 1 < nb as usize {
                    u64::from(bucket_start(nb, h + 1))
                } else {
                    1 << 32
                };
                assert!(next - u64::from(s) <= u64::from(LOW) + 1, "{nb} {h}");
            }
        }
    }

    /// Every entry is found with its value and nothing else is: random addresses,
    /// crowded buckets that spill, exclusions, each form of values; iteration gives the
    /// entries back in order; ranges see the entries inside them.
    #[test]
    fn lookups_agree_with_a_sorted_vector() {
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        for distinct in [1u32, 5, 300, 70_000] {
            let mut keys: Vec<u32> = (0..2_200_000).map(|_| xorshift(&mut seed) as u32).collect();
            // crowded: dense runs that overflow their lines
            for c in 0..40u32 {
                let base = (xorshift(&mut seed) as u32) & 0xffff_0000;
                keys.extend((0..600).map(|i| base | (i * (c + 1))));
            }
            keys.sort_unstable();
            keys.dedup();
            let val = |k: u32| {
                if distinct > 1 && k % 13 == 6 {
                    EXCL
                } else {
                    k % distinct
                }
            };
            let entries: Vec<(u32, u32)> = keys.iter().map(|&k| (k, val(k))).collect();
            assert!(Lines::suits(entries.len()));
            let t = Lines::new(entries.clone(), distinct);
            assert!(!t.spill.is_empty());
            assert_eq!(t.len(), entries.len());
            for &(k, v) in &entries {
                assert_eq!(t.get(k), v, "{distinct}: {k:#x}");
            }
            for _ in 0..300_000 {
                let q = xorshift(&mut seed) as u32;
                let want = keys.binary_search(&q).map_or(NONE, |_| val(q));
                assert_eq!(t.get(q), want, "{distinct}: {q:#x}");
            }
            assert!(t.iter().eq(entries.iter().copied()));
            for _ in 0..2_000 {
                let a = xorshift(&mut seed) as u32;
                let len = [0u32, 1, 255, 65_535, 1 << 24][(xorshift(&mut seed) % 5) as usize];
                let (first, last) = (a, a.saturating_add(len));
                let p = keys.partition_point(|&k| k < first);
                let want = p < keys.len() && keys[p] <= last;
                assert_eq!(t.any_in(first, last), want, "{first:#x}..={last:#x}");
            }
        }
    }
}
