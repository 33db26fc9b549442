//! A hash table of names (domains, email addresses) with two values each: one for the name
//! itself and one for names below it.

use super::tables::NONE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    off: u32,
    /// 16-bit hash tag, 0 for an empty slot
    tag: u16,
    len: u8,
    /// value for the name itself
    pub(crate) exact: u32,
    /// value for names below it
    pub(crate) sub: u32,
}

/// Names stored once in an arena; an open-addressing table of 16-byte nodes, each with a
/// 16-bit hash tag, so that a probe reads one node and touches the name only on a tag
/// match: a hit costs two memory accesses, a miss one. Lookups hash the query's bytes ASCII-lowercased, so they take
/// borrowed input in any case and allocate nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    arena: Box<str>,
    slots: Box<[Node]>,
    /// slot indices in name order
    order: Box<[u32]>,
    mask: usize,
    min_labels: u8,
    max_labels: u8,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// ASCII-lowercases eight bytes at once (bytes outside `A`–`Z` are left alone).
#[inline(always)]
fn lower8(x: u64) -> u64 {
    let heptets = x & !HI;
    let gt_z = heptets.wrapping_add((0x7f - u64::from(b'Z')) * LO);
    let ge_a = heptets.wrapping_add((0x80 - u64::from(b'A')) * LO);
    let upper = !x & (ge_a ^ gt_z) & HI;
    x | (upper >> 2)
}

#[inline(always)]
fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(K).rotate_left(26)
}

/// Loads up to eight bytes as a little-endian word, zero-padded.
#[inline(always)]
fn load(b: &[u8]) -> u64 {
    if b.len() >= 8 {
        u64::from_le_bytes(b[..8].try_into().expect("eight bytes"))
    } else {
        let mut x = 0u64;
        for (i, &c) in b.iter().enumerate() {
            x |= u64::from(c) << (8 * i);
        }
        x
    }
}

/// Whether `query` (any case) equals `stored` (lowercase), eight bytes at a time.
#[inline(always)]
fn eq_lower(stored: &[u8], query: &[u8]) -> bool {
    if stored.len() != query.len() {
        return false;
    }
    let mut i = 0;
    while i < stored.len() {
        let end = (i + 8).min(stored.len());
        if load(&stored[i..end]) != lower8(load(&query[i..end])) {
            return false;
        }
        i = end;
    }
    true
}

/// Hashes a name, ASCII case-insensitively, eight bytes at a time.
#[inline]
pub(crate) fn hash_name(name: &[u8]) -> u64 {
    let mut h = name.len() as u64;
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let x = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = mix(h, lower8(x));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        h = mix(h, lower8(load(rest)));
    }
    h ^ (h >> 32)
}

impl Names {
    /// From `(name, exact, sub)` with names lowercase, sorted and unique.
    pub(crate) fn new(entries: Vec<(Box<str>, u32, u32)>) -> Names {
        let n = entries.len();
        let mut arena = String::with_capacity(entries.iter().map(|e| e.0.len()).sum());
        // load factor at most 0.7: misses end after a few (cached) tags
        let cap = (n * 10 / 7 + 1).next_power_of_two().max(8);
        let mask = cap - 1;
        let empty = Node {
            off: 0,
            tag: 0,
            len: 0,
            exact: NONE,
            sub: NONE,
        };
        let mut slots = vec![empty; cap];
        let mut order = Vec::with_capacity(n);
        let (mut min_labels, mut max_labels) = (u8::MAX, 0u8);
        for (name, exact, sub) in entries {
            let labels = (name.bytes().filter(|&b| b == b'.').count() + 1).min(255) as u8;
            min_labels = min_labels.min(labels);
            max_labels = max_labels.max(labels);
            let h = hash_name(name.as_bytes());
            let mut s = (h as usize) & mask;
            while slots[s].tag != 0 {
                s = (s + 1) & mask;
            }
            slots[s] = Node {
                off: arena.len() as u32,
                tag: tag_of(h),
                len: name.len() as u8,
                exact,
                sub,
            };
            order.push(s as u32);
            arena.push_str(&name);
        }
        Names {
            arena: arena.into_boxed_str(),
            slots: slots.into_boxed_slice(),
            order: order.into_boxed_slice(),
            mask,
            min_labels,
            max_labels,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn name(&self, n: &Node) -> &str {
        &self.arena[n.off as usize..n.off as usize + n.len as usize]
    }

    /// The node whose name is `name` (ASCII case-insensitive), by its hash.
    #[inline]
    fn find(&self, name: &[u8], h: u64) -> Option<&Node> {
        let tag = tag_of(h);
        let mut s = (h as usize) & self.mask;
        loop {
            let n = &self.slots[s];
            if n.tag == 0 {
                return None;
            }
            if n.tag == tag {
                let stored =
                    &self.arena.as_bytes()[n.off as usize..n.off as usize + n.len as usize];
                if eq_lower(stored, name) {
                    return Some(n);
                }
            }
            s = (s + 1) & self.mask;
        }
    }

    /// Looks up a whole name.
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Node> {
        if self.order.is_empty() {
            return None;
        }
        self.find(name, hash_name(name))
    }

    pub(crate) fn label_range(&self) -> (usize, usize) {
        (self.min_labels as usize, self.max_labels as usize)
    }

    /// The nodes in name order.
    pub(crate) fn nodes(&self) -> impl Iterator<Item = &Node> + '_ {
        self.order.iter().map(move |&s| &self.slots[s as usize])
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.arena.len() + self.slots.len() * std::mem::size_of::<Node>() + self.order.len() * 4
    }
}

/// A 16-bit tag from the hash's high bits, never 0 (0 marks an empty slot).
#[inline(always)]
fn tag_of(h: u64) -> u16 {
    ((h >> 48) as u16) | 1
}
