//! A hash table of names (domains, email addresses) with two values each: one for the name
//! itself and one for names below it.

use super::tables::NONE;

/// The most labels a 253-octet name can have.
pub(crate) const MAX_LABELS: usize = 127;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    off: u32,
    len: u8,
    /// value for the name itself
    pub(crate) exact: u32,
    /// value for names below it
    pub(crate) sub: u32,
}

/// Names stored once in an arena, nodes sorted by name, an open-addressing table of
/// `(hash tag, node)` pairs. Lookups hash the query's bytes ASCII-lowercased, so they take
/// borrowed input in any case and allocate nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Names {
    arena: Box<str>,
    nodes: Box<[Node]>,
    slots: Box<[(u32, u32)]>,
    mask: usize,
    min_labels: u8,
    max_labels: u8,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Hashes one byte more, walking names right to left.
#[inline(always)]
fn step(h: u64, b: u8) -> u64 {
    (h.rotate_left(5) ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(K)
}

#[inline(always)]
fn finish(h: u64) -> u64 {
    h ^ (h >> 29)
}

/// The hash of a whole name (as [`Names::suffix_hashes`] computes it for each suffix).
fn hash_name(name: &[u8]) -> u64 {
    let mut h = 0u64;
    for &b in name.iter().rev() {
        h = step(h, b);
    }
    finish(h)
}

impl Names {
    /// From `(name, exact, sub)` with names lowercase, sorted and unique.
    pub(crate) fn new(entries: Vec<(Box<str>, u32, u32)>) -> Names {
        let mut arena = String::with_capacity(entries.iter().map(|e| e.0.len()).sum());
        let mut nodes = Vec::with_capacity(entries.len());
        let (mut min_labels, mut max_labels) = (u8::MAX, 0u8);
        for (name, exact, sub) in entries {
            let labels = (name.bytes().filter(|&b| b == b'.').count() + 1).min(255) as u8;
            min_labels = min_labels.min(labels);
            max_labels = max_labels.max(labels);
            nodes.push(Node {
                off: arena.len() as u32,
                len: name.len() as u8,
                exact,
                sub,
            });
            arena.push_str(&name);
        }
        let cap = (nodes.len() * 2).next_power_of_two().max(8);
        let mask = cap - 1;
        let mut slots = vec![(0u32, NONE); cap];
        for (i, n) in nodes.iter().enumerate() {
            let name = &arena.as_bytes()[n.off as usize..n.off as usize + n.len as usize];
            let h = hash_name(name);
            let mut s = (h as usize) & mask;
            while slots[s].1 != NONE {
                s = (s + 1) & mask;
            }
            slots[s] = ((h >> 32) as u32, i as u32);
        }
        Names {
            arena: arena.into_boxed_str(),
            nodes: nodes.into_boxed_slice(),
            slots: slots.into_boxed_slice(),
            mask,
            min_labels,
            max_labels,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn name(&self, n: &Node) -> &str {
        &self.arena[n.off as usize..n.off as usize + n.len as usize]
    }

    /// The node whose name is `name` (ASCII case-insensitive), by its precomputed hash.
    #[inline]
    pub(crate) fn find(&self, name: &[u8], h: u64) -> Option<&Node> {
        if self.nodes.is_empty() {
            return None;
        }
        let tag = (h >> 32) as u32;
        let mut s = (h as usize) & self.mask;
        loop {
            let (t, i) = self.slots[s];
            if i == NONE {
                return None;
            }
            if t == tag {
                let n = &self.nodes[i as usize];
                if n.len as usize == name.len()
                    && self.arena.as_bytes()[n.off as usize..n.off as usize + n.len as usize]
                        .eq_ignore_ascii_case(name)
                {
                    return Some(n);
                }
            }
            s = (s + 1) & self.mask;
        }
    }

    /// Looks up a whole name.
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Node> {
        self.find(name, hash_name(name))
    }

    /// Hashes every suffix of `name` that starts a label, in one right-to-left pass:
    /// `out[k] = (start offset, hash)` for the suffix of `k + 1` labels. Returns the number of
    /// labels, or `None` when the name has more than [`MAX_LABELS`] or an empty label.
    #[inline]
    pub(crate) fn suffix_hashes(name: &[u8], out: &mut [(u16, u64); MAX_LABELS]) -> Option<usize> {
        if name.is_empty() || name.len() > 253 {
            return None;
        }
        let mut h = 0u64;
        let mut k = 0usize;
        let mut label_end = name.len();
        for i in (0..name.len()).rev() {
            let b = name[i];
            if b == b'.' {
                if i + 1 == label_end {
                    return None;
                }
                if k == MAX_LABELS {
                    return None;
                }
                out[k] = ((i + 1) as u16, finish(h));
                k += 1;
                label_end = i;
            }
            h = step(h, b);
        }
        if label_end == 0 || k == MAX_LABELS {
            return None;
        }
        out[k] = (0, finish(h));
        Some(k + 1)
    }

    pub(crate) fn label_range(&self) -> (usize, usize) {
        (self.min_labels as usize, self.max_labels as usize)
    }

    pub(crate) fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.arena.len() + self.nodes.len() * std::mem::size_of::<Node>() + self.slots.len() * 8
    }
}
