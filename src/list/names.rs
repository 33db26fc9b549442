//! A hash table of names (domains, email addresses) with two values each: one for the name
//! itself and one for names below it.

/// Bytes of a name held in the node itself; longer names keep their first
/// `INLINE - 4` bytes there and the rest in the arena.
const INLINE: usize = 23;

/// One name with its two values, 32 bytes: a lookup that hits reads the table's control
/// bytes and then this one node (and, for names over 23 bytes, the arena).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    /// value for the name itself
    pub(crate) exact: u32,
    /// value for names below it
    pub(crate) sub: u32,
    len: u8,
    /// the name when it fits; else the arena offset (4 bytes LE) and the name's first bytes
    inline: [u8; INLINE],
}

impl Node {
    #[inline(always)]
    fn matches(&self, arena: &[u8], query: &[u8]) -> bool {
        let len = self.len as usize;
        if len != query.len() {
            return false;
        }
        if len <= INLINE {
            return eq_lower(&self.inline[..len], query);
        }
        let head = INLINE - 4;
        if !eq_lower(&self.inline[4..], &query[..head]) {
            return false;
        }
        let off = u32::from_le_bytes(self.inline[..4].try_into().expect("four bytes")) as usize;
        eq_lower(&arena[off..off + len - head], &query[head..])
    }

    fn name_bytes<'a>(&'a self, arena: &'a [u8], buf: &'a mut [u8; 253]) -> &'a [u8] {
        let len = self.len as usize;
        if len <= INLINE {
            return &self.inline[..len];
        }
        let head = INLINE - 4;
        let off = u32::from_le_bytes(self.inline[..4].try_into().expect("four bytes")) as usize;
        buf[..head].copy_from_slice(&self.inline[4..]);
        buf[head..len].copy_from_slice(&arena[off..off + len - head]);
        &buf[..len]
    }
}

/// Names in a SwissTable (hashbrown's `HashTable`) of 32-byte nodes keyed by a
/// word-at-a-time, ASCII case-insensitive hash; names longer than fits a node keep their
/// tail in an arena. Lookups take borrowed input in any case and allocate nothing.
#[derive(Clone)]
pub(crate) struct Names {
    /// tails of long names
    arena: Box<[u8]>,
    len: usize,
    table: hashbrown::HashTable<Node>,
    min_labels: u8,
    max_labels: u8,
}

impl PartialEq for Names {
    fn eq(&self, other: &Names) -> bool {
        self.len == other.len
            && self
                .nodes()
                .zip(other.nodes())
                .all(|((na, a), (nb, b))| na == nb && (a.exact, a.sub) == (b.exact, b.sub))
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
    /// From `(name, exact, sub)` with names lowercase and unique.
    pub(crate) fn new(entries: Vec<(Box<str>, u32, u32)>) -> Names {
        let n = entries.len();
        let mut arena = Vec::new();
        let mut nodes: Vec<(u64, Node)> = Vec::with_capacity(n);
        let (mut min_labels, mut max_labels) = (u8::MAX, 0u8);
        for (name, exact, sub) in entries {
            let bytes = name.as_bytes();
            let labels = (bytes.iter().filter(|&&b| b == b'.').count() + 1).min(255) as u8;
            min_labels = min_labels.min(labels);
            max_labels = max_labels.max(labels);
            let mut inline = [0u8; INLINE];
            if bytes.len() <= INLINE {
                inline[..bytes.len()].copy_from_slice(bytes);
            } else {
                let head = INLINE - 4;
                inline[..4].copy_from_slice(&(arena.len() as u32).to_le_bytes());
                inline[4..].copy_from_slice(&bytes[..head]);
                arena.extend_from_slice(&bytes[head..]);
            }
            let node = Node {
                exact,
                sub,
                len: bytes.len() as u8,
                inline,
            };
            nodes.push((hash_name(bytes), node));
        }
        let mut table: hashbrown::HashTable<Node> = hashbrown::HashTable::with_capacity(n);
        // insert in the order of the slots the nodes land in, so that filling the table
        // walks its memory once instead of jumping around it
        let buckets = (table.capacity() + 1).next_power_of_two();
        nodes.sort_unstable_by_key(|&(h, _)| (h as usize) & (buckets - 1));
        for (h, node) in nodes {
            table.insert_unique(h, node, |nd| {
                let mut buf = [0u8; 253];
                hash_name(nd.name_bytes(&arena, &mut buf))
            });
        }
        Names {
            arena: arena.into_boxed_slice(),
            len: n,
            table,
            min_labels,
            max_labels,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Looks up a whole name (ASCII case-insensitive).
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Node> {
        if self.len == 0 {
            return None;
        }
        let arena = &self.arena;
        self.table.find(hash_name(name), |n| n.matches(arena, name))
    }

    pub(crate) fn label_range(&self) -> (usize, usize) {
        (self.min_labels as usize, self.max_labels as usize)
    }

    /// `(name, node)` in name order (collected and sorted: for export and comparison, not
    /// for lookups).
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (String, &Node)> + '_ {
        let mut v: Vec<(String, &Node)> = self
            .table
            .iter()
            .map(|n| {
                let mut buf = [0u8; 253];
                let name = n.name_bytes(&self.arena, &mut buf);
                // stored names are validated ASCII
                (String::from_utf8_lossy(name).into_owned(), n)
            })
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v.into_iter()
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        let buckets = if self.table.capacity() == 0 {
            0
        } else {
            (self.table.capacity() + 1).next_power_of_two()
        };
        self.arena.len() + buckets * (std::mem::size_of::<Node>() + 1)
    }
}
