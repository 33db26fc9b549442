//! A table of names (domains, email addresses) with two values each: one for the name
//! itself and one for names below it.
//!
//! Names sit one after the other in one arena, each entry `[len][name][exact][sub]` with the
//! values as little-endian integers of the narrowest width that holds every value id (one
//! byte for up to 253 distinct listings). A [`NameTable`] only appends (duplicates
//! allowed, so that loading millions of names costs one copy of each and no per-name
//! allocation); [`NameTable::finish`] merges duplicates and builds the index of the
//! compiled [`Names`]: one `u64` slot per 0.8 entry, `(tag << 32) | offset`, sorted by
//! tag, each entry at or after its home slot (linear probing in Robin Hood order), so that
//! a lookup reads one run of slots and, on a tag match, the one entry in the arena.

use super::tables::{EXCL, NONE};

/// An empty slot.
const EMPTY: u64 = u64::MAX;

/// Entries of a table being filled, duplicates allowed.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameTable {
    arena: Vec<u8>,
    /// bytes per value: 1, 2 or 4 (0 while empty)
    width: u8,
    entries: usize,
    exclusions: bool,
}

/// The narrowest width holding `v` (value ids and the two sentinels).
fn width_for(v: u32) -> u8 {
    if !(0xfe..EXCL).contains(&v) {
        1
    } else if v < 0xfffe {
        2
    } else {
        4
    }
}

#[inline(always)]
fn encode(v: u32, width: u8, out: &mut [u8]) {
    let w = usize::from(width);
    let x = match v {
        NONE => u32::MAX >> (32 - 8 * w),
        EXCL => (u32::MAX >> (32 - 8 * w)) - 1,
        v => v,
    };
    out[..w].copy_from_slice(&x.to_le_bytes()[..w]);
}

#[inline(always)]
fn decode(b: &[u8], width: u8) -> u32 {
    let w = usize::from(width);
    let mut x = [0u8; 4];
    x[..w].copy_from_slice(&b[..w]);
    let x = u32::from_le_bytes(x);
    let none = u32::MAX >> (32 - 8 * w);
    if x == none {
        NONE
    } else if x == none - 1 {
        EXCL
    } else {
        x
    }
}

/// Walks the entries of an arena: `(offset, name, exact, sub)`; dead entries (length 0)
/// are skipped.
fn walk(arena: &[u8], width: u8) -> impl Iterator<Item = (usize, &[u8], u32, u32)> + '_ {
    let w = usize::from(width);
    let mut p = 0usize;
    std::iter::from_fn(move || loop {
        if p >= arena.len() {
            return None;
        }
        let off = p;
        let len = usize::from(arena[p]);
        if len == 0 {
            // dead: its original length follows
            let was = usize::from(arena[p + 1]);
            p += 1 + was + 2 * w;
            continue;
        }
        let name = &arena[p + 1..p + 1 + len];
        let exact = decode(&arena[p + 1 + len..], width);
        let sub = decode(&arena[p + 1 + len + w..], width);
        p += 1 + len + 2 * w;
        return Some((off, name, exact, sub));
    })
}

impl NameTable {
    /// Whether some value is an exclusion.
    pub(crate) fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// Appends a name (at most 255 bytes, lowercase) with its two values.
    pub(crate) fn push(&mut self, name: &[u8], exact: u32, sub: u32) {
        debug_assert!(!name.is_empty() && name.len() <= 255);
        let need = width_for(exact).max(width_for(sub));
        if need > self.width {
            self.widen(need);
        }
        self.exclusions |= exact == EXCL || sub == EXCL;
        let w = usize::from(self.width);
        let start = self.arena.len();
        self.arena.reserve(1 + name.len() + 2 * w);
        self.arena.push(name.len() as u8);
        self.arena.extend_from_slice(name);
        self.arena.resize(start + 1 + name.len() + 2 * w, 0);
        let at = start + 1 + name.len();
        encode(exact, self.width, &mut self.arena[at..]);
        encode(sub, self.width, &mut self.arena[at + w..]);
        self.entries += 1;
    }

    /// Re-encodes the arena with wider values (rare: at 254 and 65534 distinct values).
    fn widen(&mut self, width: u8) {
        let old = std::mem::take(&mut self.arena);
        let old_width = self.width;
        self.width = width;
        self.entries = 0;
        let w = usize::from(width);
        self.arena.reserve(old.len() + old.len() / 4);
        for (_, name, exact, sub) in walk(&old, old_width) {
            let start = self.arena.len();
            self.arena.push(name.len() as u8);
            self.arena.extend_from_slice(name);
            self.arena.resize(start + 1 + name.len() + 2 * w, 0);
            let at = start + 1 + name.len();
            encode(exact, width, &mut self.arena[at..]);
            encode(sub, width, &mut self.arena[at + w..]);
            self.entries += 1;
        }
    }

    /// Rewrites every value with `f` (which must not need a wider value than the widest
    /// now held; sentinels are passed through).
    pub(crate) fn map_values(&mut self, mut f: impl FnMut(u32) -> u32) {
        let width = self.width;
        let w = usize::from(width);
        let mut p = 0usize;
        while p < self.arena.len() {
            let len = usize::from(self.arena[p]);
            let (len, live) = if len == 0 {
                (usize::from(self.arena[p + 1]), false)
            } else {
                (len, true)
            };
            if live {
                let at = p + 1 + len;
                for slot in [at, at + w] {
                    let v = decode(&self.arena[slot..], width);
                    let nv = if v >= EXCL { v } else { f(v) };
                    assert!(width_for(nv) <= width, "value id too wide for the table");
                    encode(nv, width, &mut self.arena[slot..]);
                }
            }
            p += 1 + len + 2 * w;
        }
    }

    /// Appends every entry of `other`.
    pub(crate) fn append(&mut self, other: NameTable) {
        if self.entries == 0 {
            *self = other;
            return;
        }
        for (_, name, exact, sub) in walk(&other.arena, other.width) {
            self.push(name, exact, sub);
        }
    }

    /// Merges the entries of equal names (`merge(earlier, later)` for each of the two
    /// values; [`NONE`] is no value) and builds the index.
    pub(crate) fn finish(mut self, mut merge: impl FnMut(u32, u32) -> u32) -> Names {
        let mut slots: Vec<u64> = Vec::new();
        loop {
            let n = self.entries;
            slots.clear();
            slots.reserve_exact(n + n / 4 + 2);
            for (off, name, _, _) in walk(&self.arena, self.width) {
                slots.push(slot(tag(name), off));
            }
            // equal names have equal tags and then lie in insertion (offset) order
            slots.sort_unstable();
            match self.merge_duplicates(&mut slots, &mut merge) {
                Ok(()) => break,
                Err(width) => self.widen(width),
            }
        }
        let (mut min_labels, mut max_labels) = (u8::MAX, 0u8);
        for (_, name, _, _) in walk(&self.arena, self.width) {
            let labels = (name.iter().filter(|&&b| b == b'.').count() + 1).min(255) as u8;
            min_labels = min_labels.min(labels);
            max_labels = max_labels.max(labels);
        }
        let n = slots.len();
        let homes = n + n / 4;
        place(&mut slots, homes);
        self.arena.shrink_to_fit();
        Names {
            arena: self.arena.into_boxed_slice(),
            width: self.width,
            len: n,
            homes,
            slots: slots.into_boxed_slice(),
            min_labels,
            max_labels,
        }
    }

    /// Folds each run of equal names in the sorted `slots` into its first entry, marking
    /// the others dead and dropping their slots; `Err(width)` when a merged value needs a
    /// wider table (nothing of the run was changed then).
    fn merge_duplicates(
        &mut self,
        slots: &mut Vec<u64>,
        merge: &mut impl FnMut(u32, u32) -> u32,
    ) -> Result<(), u8> {
        let width = self.width;
        let w = usize::from(width);
        let mut keep = 0usize;
        let mut i = 0usize;
        let mut result = Ok(());
        while i < slots.len() {
            let t = slots[i] >> 32;
            let mut j = i + 1;
            while j < slots.len() && slots[j] >> 32 == t {
                j += 1;
            }
            if j - i > 1 && result.is_ok() {
                // a run of one tag: fold equal names into the first of each
                for a in i..j {
                    let oa = slots[a] as u32 as usize;
                    if oa == u32::MAX as usize {
                        continue;
                    }
                    let la = usize::from(self.arena[oa]);
                    for slot_b in &mut slots[a + 1..j] {
                        let ob = *slot_b as u32 as usize;
                        if ob == u32::MAX as usize || self.arena[ob] as usize != la {
                            continue;
                        }
                        if self.arena[oa + 1..oa + 1 + la] != self.arena[ob + 1..ob + 1 + la] {
                            continue;
                        }
                        let va = oa + 1 + la;
                        let vb = ob + 1 + la;
                        let (ea, sa) = (
                            decode(&self.arena[va..], width),
                            decode(&self.arena[va + w..], width),
                        );
                        let (eb, sb) = (
                            decode(&self.arena[vb..], width),
                            decode(&self.arena[vb + w..], width),
                        );
                        let e = merge(ea, eb);
                        let s = merge(sa, sb);
                        let need = width_for(e).max(width_for(s));
                        if need > width {
                            result = Err(need);
                            break;
                        }
                        encode(e, width, &mut self.arena[va..]);
                        encode(s, width, &mut self.arena[va + w..]);
                        // dead: length 0, then the old length
                        self.arena[ob] = 0;
                        self.arena[ob + 1] = la as u8;
                        self.entries -= 1;
                        *slot_b |= u64::from(u32::MAX);
                    }
                    if result.is_err() {
                        break;
                    }
                }
            }
            for k in i..j {
                if slots[k] as u32 != u32::MAX {
                    slots[keep] = slots[k];
                    keep += 1;
                }
            }
            i = j;
        }
        slots.truncate(keep);
        result
    }
}

/// The tag of a name: the high half of its hash.
#[inline(always)]
fn tag(name: &[u8]) -> u32 {
    (hash_name(name).wrapping_mul(K) >> 32) as u32
}

#[inline(always)]
fn slot(tag: u32, off: usize) -> u64 {
    let off = u32::try_from(off).expect("name arena over 4 GiB");
    assert!(off != u32::MAX, "name arena over 4 GiB");
    (u64::from(tag) << 32) | u64::from(off)
}

/// The home slot of a tag among `homes` slots.
#[inline(always)]
fn home(tag: u32, homes: usize) -> usize {
    ((u64::from(tag) * homes as u64) >> 32) as usize
}

/// Spreads the sorted `slots` (all of them entries) into a table of `homes` home slots
/// plus the tail the last ones need and one empty slot: each entry at its home or, when
/// that is taken, just after the one before it.
fn place(slots: &mut Vec<u64>, homes: usize) {
    let n = slots.len();
    // where the last entry lands
    let mut next = 0usize;
    for &s in slots.iter() {
        next = home((s >> 32) as u32, homes).max(next) + 1;
    }
    let total = next.max(homes) + 1;
    // the entries moved to the end, then placed from the front: an entry never lands past
    // where it waits, so none is overwritten before it is read
    slots.resize(total, EMPTY);
    slots.copy_within(0..n, total - n);
    let mut w = 0usize;
    for i in 0..n {
        let s = slots[total - n + i];
        let p = home((s >> 32) as u32, homes).max(w);
        for e in &mut slots[w..p] {
            *e = EMPTY;
        }
        slots[p] = s;
        w = p + 1;
    }
    for e in &mut slots[w..] {
        *e = EMPTY;
    }
}

/// Compiled names: the arena and the index. Lookups take borrowed input in any case and
/// allocate nothing.
#[derive(Clone)]
pub(crate) struct Names {
    arena: Box<[u8]>,
    width: u8,
    len: usize,
    homes: usize,
    slots: Box<[u64]>,
    min_labels: u8,
    max_labels: u8,
}

impl Default for Names {
    fn default() -> Names {
        NameTable::default().finish(|a, _| a)
    }
}

impl PartialEq for Names {
    fn eq(&self, other: &Names) -> bool {
        self.len == other.len && self.nodes().eq(other.nodes())
    }
}

impl Eq for Names {}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names")
            .field("names", &self.len)
            .field("arena_bytes", &self.arena.len())
            .finish()
    }
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
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Looks up a whole name (ASCII case-insensitive): its `(exact, sub)` values.
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<(u32, u32)> {
        if self.len == 0 || name.len() > 255 {
            return None;
        }
        let t = tag(name);
        let mut p = home(t, self.homes);
        loop {
            let s = *self.slots.get(p)?;
            if s == EMPTY || (s >> 32) as u32 > t {
                return None;
            }
            if (s >> 32) as u32 == t {
                let off = s as u32 as usize;
                let len = usize::from(self.arena[off]);
                if len == name.len() && eq_lower(&self.arena[off + 1..off + 1 + len], name) {
                    let at = off + 1 + len;
                    let w = usize::from(self.width);
                    return Some((
                        decode(&self.arena[at..], self.width),
                        decode(&self.arena[at + w..], self.width),
                    ));
                }
            }
            p += 1;
        }
    }

    pub(crate) fn label_range(&self) -> (usize, usize) {
        (self.min_labels as usize, self.max_labels as usize)
    }

    /// Every value (with repeats).
    pub(crate) fn values(&self) -> impl Iterator<Item = u32> + '_ {
        walk(&self.arena, self.width).flat_map(|(_, _, a, b)| [a, b])
    }

    /// Rewrites every value id with `f` (which must not widen them; sentinels are kept).
    pub(crate) fn map_values(&mut self, mut f: impl FnMut(u32) -> u32) {
        let mut t = NameTable {
            arena: std::mem::take(&mut self.arena).into_vec(),
            width: self.width,
            entries: self.len,
            exclusions: false,
        };
        t.map_values(&mut f);
        self.arena = t.arena.into_boxed_slice();
    }

    /// `(name, exact, sub)` in name order (collected and sorted: for export and
    /// comparison, not for lookups).
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (String, u32, u32)> + '_ {
        let mut v: Vec<(String, u32, u32)> = walk(&self.arena, self.width)
            // stored names are validated ASCII
            .map(|(_, name, a, b)| (String::from_utf8_lossy(name).into_owned(), a, b))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v.into_iter()
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.arena.len() + self.slots.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name is found with its merged values, in any case, and other names are not,
    /// across value widths and with duplicates.
    #[test]
    fn names_agree_with_a_map() {
        for distinct in [3u32, 300, 70_000] {
            let mut t = NameTable::default();
            let mut want: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
            let merge = |a: u32, b: u32| if a == NONE { b } else { a.min(b) };
            for i in 0..100_000u32 {
                let name = format!("n{}.x{}.example", i % 60_000, i % 7);
                let (e, s) = match i % 3 {
                    0 => (i % distinct, NONE),
                    1 => (NONE, i % distinct),
                    _ => (EXCL, i % distinct),
                };
                t.push(name.as_bytes(), e, s);
                let w = want.entry(name).or_insert((NONE, NONE));
                *w = (merge(w.0, e), merge(w.1, s));
            }
            let names = t.finish(merge);
            assert_eq!(names.len(), want.len());
            for (n, v) in &want {
                assert_eq!(names.get(n.as_bytes()), Some(*v), "{n}");
                assert_eq!(
                    names.get(n.to_ascii_uppercase().as_bytes()),
                    Some(*v),
                    "{n}"
                );
                assert_eq!(names.get(format!("a{n}").as_bytes()), None);
            }
            let nodes: Vec<_> = names.nodes().map(|(n, a, b)| (n, (a, b))).collect();
            assert_eq!(nodes, want.into_iter().collect::<Vec<_>>());
        }
    }
}
