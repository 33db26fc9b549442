//! The public suffix list: registrable domains and known top-level domains.

use super::ExtractError;
use std::sync::{Arc, OnceLock};

/// The public suffix list shipped with the crate (publicsuffix.org, MPL-2.0).
const EMBEDDED: &str = include_str!("../../data/public_suffix_list.dat");

const ICANN_MARK: &str = "// ===BEGIN ICANN DOMAINS===";
const PRIVATE_MARK: &str = "// ===BEGIN PRIVATE DOMAINS===";

/// A public suffix list: decides the registrable domain of a host (the domain a URI list is
/// queried with) and whether a name ends in a known top-level domain.
///
/// Both sections of the list count: ICANN suffixes such as `co.uk` and private ones such as
/// `blogspot.com`, so `a.foo.co.uk` is queried as `foo.co.uk` and `a.bar.blogspot.com` as
/// `bar.blogspot.com`, which is the 2-level/3-level handling SURBL-style lists expect. A copy
/// of the list is embedded ([`SuffixList::embedded`]); a newer list file can be loaded at run
/// time ([`SuffixList::parse`]) and extra rules, such as SURBL's `two-level-tlds` and
/// `three-level-tlds` files, added ([`SuffixList::with_rules`]).
///
/// # Examples
///
/// ```
/// use rblkit::extract::SuffixList;
///
/// let psl = SuffixList::embedded();
/// assert_eq!(psl.registrable_domain("www.foo.co.uk"), Some("foo.co.uk"));
/// assert_eq!(psl.registrable_domain("x.bar.blogspot.com"), Some("bar.blogspot.com"));
/// assert_eq!(psl.registrable_domain("co.uk"), None);
/// assert!(psl.has_known_suffix("example.com"));
/// assert!(!psl.has_known_suffix("report.pdf"));
///
/// let mine = SuffixList::embedded().with_rules("example.com\n")?;
/// assert_eq!(mine.registrable_domain("a.b.example.com"), Some("b.example.com"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SuffixList {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The rules, read as the `publicsuffix` crate reads them, in our flat table.
    table: Table,
    text: String,
}

impl SuffixList {
    /// The list embedded in the crate (a copy of publicsuffix.org's `public_suffix_list.dat`),
    /// parsed once per process.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// assert_eq!(SuffixList::embedded().registrable_domain("a.b.example.org"), Some("example.org"));
    /// ```
    pub fn embedded() -> SuffixList {
        static LIST: OnceLock<SuffixList> = OnceLock::new();
        LIST.get_or_init(|| {
            SuffixList::parse(EMBEDDED).unwrap_or_else(|e| unreachable!("embedded list: {e}"))
        })
        .clone()
    }

    /// Parses a list in the format of `public_suffix_list.dat` (rules one a line, `//`
    /// comments, `*.` wildcards, `!` exceptions). A file without the `BEGIN ICANN DOMAINS`
    /// marker, such as SURBL's `two-level-tlds`, is read as a list of ICANN rules.
    ///
    /// # Errors
    ///
    /// [`ExtractError::BadSuffixRule`] with the line and column of a bad rule;
    /// [`ExtractError::EmptySuffixList`] when there is no rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{ExtractError, SuffixList};
    /// let l = SuffixList::parse("com\nco.uk\n")?;
    /// assert_eq!(l.registrable_domain("www.a.co.uk"), Some("a.co.uk"));
    /// assert!(matches!(SuffixList::parse("com\na..b\n"), Err(ExtractError::BadSuffixRule { line: 2, .. })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<SuffixList, ExtractError> {
        validate(text)?;
        let owned = if text.contains("BEGIN ICANN DOMAINS") {
            text.to_owned()
        } else {
            format!("{ICANN_MARK}\n{text}")
        };
        let table = Table::build(&owned).map_err(|rule| ExtractError::BadSuffixRule {
            line: 0,
            column: 0,
            rule: rule.chars().take(64).collect::<String>().into(),
            what: "refused by the public suffix parser",
        })?;
        if !table.nodes[0].parent {
            // Rules only before a `BEGIN ICANN DOMAINS` marker, which the list reads from.
            return Err(ExtractError::EmptySuffixList);
        }
        Ok(SuffixList {
            inner: Arc::new(Inner { table, text: owned }),
        })
    }

    /// This list with more rules added (same format as [`SuffixList::parse`]; they count as
    /// private rules). Use it for an operator's own suffixes or SURBL's level files.
    ///
    /// # Errors
    ///
    /// As [`SuffixList::parse`], with lines counted in `rules`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let l = SuffixList::embedded().with_rules("// mine\nshop.example\n")?;
    /// assert_eq!(l.registrable_domain("x.y.shop.example"), Some("y.shop.example"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn with_rules(&self, rules: &str) -> Result<SuffixList, ExtractError> {
        validate_lines(rules, false)?;
        let text = format!("{}\n{PRIVATE_MARK}\n{rules}", self.inner.text);
        SuffixList::parse(&text)
    }

    /// The registrable domain of a normalised host (lowercase A-labels): the public suffix
    /// plus one label. `None` when the host is itself a public suffix, or is empty.
    ///
    /// A name under an unknown top-level domain counts as under a one-label suffix, as the
    /// list's implicit `*` rule says.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let psl = SuffixList::embedded();
    /// assert_eq!(psl.registrable_domain("a.b.example.net"), Some("example.net"));
    /// assert_eq!(psl.registrable_domain("a.corp.internal-tld"), Some("corp.internal-tld"));
    /// assert_eq!(psl.registrable_domain("com"), None);
    /// ```
    pub fn registrable_domain<'a>(&self, host: &'a str) -> Option<&'a str> {
        let (start, _) = self.lookup(host);
        host.get(start?..)
    }

    /// Both answers with one walk of the list: where the registrable domain starts in `host`,
    /// and whether the host ends in a suffix the list names.
    ///
    /// This is `Psl::domain` in one backward walk of the name: each label is hashed as it
    /// is read and looked up in our flat [`Table`], and the label before the suffix is
    /// usually the last one read.
    pub(crate) fn lookup(&self, host: &str) -> (Option<usize>, bool) {
        let (len, typ, last) = self.walk(host);
        match self.domain_start(host.as_bytes(), len, last) {
            Some(start) => (Some(start), typ),
            None => (None, false),
        }
    }

    /// [`SuffixList::lookup`]'s start of the registrable domain when the host ends in a suffix
    /// the list names; `None` without the walk to the start of the label before an unknown
    /// suffix.
    #[inline]
    pub(crate) fn known_domain(&self, host: &str) -> Option<usize> {
        let (len, typ, last) = self.walk(host);
        if !typ {
            return None;
        }
        self.domain_start(host.as_bytes(), len, last)
    }

    /// [`Table::find`] over the host's labels: the length of its public suffix with a final
    /// dot, whether a rule matched, and the last label read.
    #[inline(always)]
    fn walk(&self, host: &str) -> (usize, bool, (usize, usize)) {
        let name = host.as_bytes();
        let fqdn = name.last() == Some(&b'.');
        let (len, typ, last) = self.inner.table.find(name, name.len() - usize::from(fqdn));
        (len + usize::from(fqdn), typ, last)
    }

    /// Where the registrable domain of `name` starts, given the length of its public suffix
    /// (with a final dot) and the last label [`Table::find`] read.
    #[inline(always)]
    fn domain_start(&self, name: &[u8], len: usize, last: (usize, usize)) -> Option<usize> {
        if len == 0 || name.len() < len + 2 {
            return None;
        }
        // The label before the suffix: often the last label the walk read.
        let dot = name.len() - len - 1;
        if last.1 == dot {
            return Some(last.0);
        }
        let mut start = dot;
        while start > 0 && name[start - 1] != b'.' {
            start -= 1;
        }
        Some(start)
    }

    /// Whether the host ends in a suffix the list names (not only the implicit `*` rule): the
    /// test for a bare `name.tld` in prose.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let psl = SuffixList::embedded();
    /// assert!(psl.has_known_suffix("example.co.uk"));
    /// assert!(!psl.has_known_suffix("config.yaml"));
    /// ```
    pub fn has_known_suffix(&self, host: &str) -> bool {
        let name = host.as_bytes();
        let end = name.len() - usize::from(name.last() == Some(&b'.'));
        self.inner.table.find(name, end).1
    }
}

/// No node or child.
const NONE: u32 = u32::MAX;

/// The rules as a trie whose children all sit in one open-addressing hash table keyed by
/// (parent node, label): the walk of `publicsuffix::List::find` (exact child first, then the
/// `*` child; the first label is the implicit `*` rule when unknown; an exception ends the
/// suffix before its label), with one hash per label ([`label_hash`]) instead of a hash map
/// per node. Built from the same text by the same reading of it as the crate (every rule also
/// added in its ASCII form), so both give the same answers; a test checks it on every rule.
#[derive(Debug)]
struct Table {
    /// Index `i` is node `i`; node 0 is the root.
    nodes: Vec<Node>,
    /// Power-of-two sized; an empty slot has `child == NONE`.
    slots: Vec<Slot>,
    /// The labels of the slots, one after the other.
    labels: Vec<u8>,
    /// The top-level nodes named by two or three lowercase letters (most of them), at
    /// [`tld_index`]: found without a hash.
    tlds: Vec<u32>,
    /// [`FILTER_BITS`] bits a slot, three of a word set for each child ([`filter_probe`]).
    /// A clear one answers "no such child" from 16 KB (for the embedded list) that stay in
    /// the first-level cache, instead of a probe of [`Table::slots`] (640 KB, most probes a
    /// cache miss): the label before the public suffix is such a miss in nearly every
    /// lookup.
    filter: Vec<u64>,
    /// The filter's size in words, less one (kept: the lookup would otherwise work it out
    /// from the length every time).
    filter_mask: usize,
}

/// Bits in [`Table::filter`] per slot of [`Table::slots`], which is at most half full: at
/// least eight bits a child. Four keeps the filter (16 KB for the embedded list) in the
/// first-level cache beside the text; eight did not.
const FILTER_BITS: usize = 4;

/// Where a label hash is in [`Table::filter`]: a word (from bits the slot index does not
/// use) and three bits of it (a blocked Bloom filter). With about five children a word, 1.3 %
/// of absent labels pass; one bit a child let 7.5 % through. Each label that passes is a
/// probe of [`Table::slots`], which misses the cache once a long text has pushed the slots
/// out: over ten megabytes of text, where names are seldom seen twice, those misses were
/// half of what a megabyte cost more than in a text of one.
#[inline(always)]
fn filter_probe(h: u64, words: usize) -> (usize, u64) {
    let bit = |k: u32| 1u64 << ((h >> k) & 63);
    ((h >> 16) as usize & words, bit(40) | bit(46) | bit(52))
}

/// Entries of [`Table::tlds`]: every two-letter name, then every three-letter one.
const TLD_SLOTS: usize = 26 * 26 + 26 * 26 * 26;

/// Where a top-level label of two or three lowercase letters is in [`Table::tlds`].
#[inline]
fn tld_index(label: &[u8]) -> Option<usize> {
    let v = |c: u8| usize::from(c - b'a');
    match *label {
        [a, b] if a.is_ascii_lowercase() && b.is_ascii_lowercase() => Some(v(a) * 26 + v(b)),
        [a, b, c] if a.is_ascii_lowercase() && b.is_ascii_lowercase() && c.is_ascii_lowercase() => {
            Some(26 * 26 + (v(a) * 26 + v(b)) * 26 + v(c))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    /// 0: not a rule; `LEAF`: a rule; `LEAF | EXCEPTION`: an exception rule.
    leaf: u8,
    /// The `*` child.
    wild: u32,
    /// Whether the node has any child (when not, a walk ends there).
    parent: bool,
}

const LEAF: u8 = 1;
const EXCEPTION: u8 = 2;

#[derive(Debug, Clone, Copy)]
struct Slot {
    hash: u32,
    parent: u32,
    child: u32,
    label: u32,
    len: u32,
}

const EMPTY_SLOT: Slot = Slot {
    hash: 0,
    parent: NONE,
    child: NONE,
    label: 0,
    len: 0,
};

/// A hash of (parent, label): a multiply step ([`word_step`]) for each eight bytes from the
/// label's end (the order a backward walk of a name reads them) and one for its first bytes,
/// and a final mix, so the low bits (the slot) and the high bits (the tag kept in the slot)
/// both depend on every byte. It is the hash [`Table::label_before`] makes while it walks a
/// name (a label has no dot, so the walk reads all of it).
#[inline]
fn label_hash(parent: u32, label: &[u8]) -> u64 {
    Table::label_before(label, label.len(), parent).1
}

/// One step of [`label_hash`]: eight of the label's bytes (or its first ones) as a word.
#[inline(always)]
fn word_step(h: u64, w: u64) -> u64 {
    (h.rotate_left(29) ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The end of [`label_hash`], once the label's words (last to first) are in `h`.
#[inline]
fn mix(h: u64, len: usize) -> u64 {
    // one folded multiply: every bit of the product's halves depends on every bit of `h`
    let m = u128::from(h ^ len as u64) * u128::from(0x9E37_79B9_7F4A_7C15u64);
    m as u64 ^ (m >> 64) as u64
}

impl Table {
    /// Reads `text` as `publicsuffix::List::from_str` does; the error is the rule refused.
    fn build(text: &str) -> Result<Table, String> {
        let mut t = Table {
            nodes: vec![Node {
                leaf: 0,
                wild: NONE,
                parent: false,
            }],
            slots: vec![EMPTY_SLOT; 1024],
            labels: Vec::new(),
            tlds: Vec::new(),
            // while the table is built, a filter that lets every label through
            filter: vec![u64::MAX],
            filter_mask: 0,
        };
        let mut in_list = false;
        for line in text.lines() {
            if line.contains("BEGIN ICANN DOMAINS") || line.contains("BEGIN PRIVATE DOMAINS") {
                in_list = true;
                continue;
            }
            if line.starts_with("//") || !in_list {
                continue;
            }
            let Some(rule) = line.split_whitespace().next() else {
                continue;
            };
            t.append(rule)?;
            let ascii = idna::domain_to_ascii(rule).map_err(|_| rule.to_owned())?;
            t.append(&ascii)?;
        }
        let words = t.slots.len() * FILTER_BITS / 64;
        t.filter = vec![0; words];
        for slot in t.slots.iter().filter(|s| s.child != NONE) {
            let label = &t.labels[slot.label as usize..(slot.label + slot.len) as usize];
            let (w, bits) = filter_probe(label_hash(slot.parent, label), words - 1);
            t.filter[w] |= bits;
        }
        t.filter_mask = words - 1;
        t.tlds = vec![NONE; TLD_SLOTS];
        for slot in t.slots.iter().filter(|s| s.child != NONE && s.parent == 0) {
            let label = &t.labels[slot.label as usize..(slot.label + slot.len) as usize];
            if let Some(i) = tld_index(label) {
                t.tlds[i] = slot.child;
            }
        }
        Ok(t)
    }

    fn append(&mut self, rule: &str) -> Result<(), String> {
        let (body, leaf) = match rule.strip_prefix('!') {
            Some(b) if rule.contains('.') => (b, LEAF | EXCEPTION),
            Some(_) => return Err(rule.to_owned()),
            None => (rule, LEAF),
        };
        let mut node = 0u32;
        for label in body.rsplit('.') {
            if label.is_empty() {
                return Err(rule.to_owned());
            }
            node = match self.child(node, label.as_bytes()) {
                Some(c) => c,
                None => self.insert(node, label.as_bytes()),
            };
        }
        self.nodes[node as usize].leaf = leaf;
        Ok(())
    }

    fn insert(&mut self, parent: u32, label: &[u8]) -> u32 {
        if (self.nodes.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let child = u32::try_from(self.nodes.len()).unwrap_or(NONE);
        self.nodes.push(Node {
            leaf: 0,
            wild: NONE,
            parent: false,
        });
        let p = &mut self.nodes[parent as usize];
        p.parent = true;
        if label == b"*" {
            p.wild = child;
        }
        let slot = Slot {
            hash: 0,
            parent,
            child,
            label: u32::try_from(self.labels.len()).unwrap_or(NONE),
            len: u32::try_from(label.len()).unwrap_or(NONE),
        };
        self.labels.extend_from_slice(label);
        self.place(slot, label_hash(parent, label));
        child
    }

    fn place(&mut self, mut slot: Slot, h: u64) {
        slot.hash = (h >> 32) as u32;
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i].child != NONE {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let bigger = vec![EMPTY_SLOT; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        for s in old.into_iter().filter(|s| s.child != NONE) {
            let (a, b) = (s.label as usize, (s.label + s.len) as usize);
            let h = label_hash(s.parent, &self.labels[a..b]);
            self.place(s, h);
        }
    }

    /// The child of `parent` named exactly `label`.
    #[inline]
    fn child(&self, parent: u32, label: &[u8]) -> Option<u32> {
        self.child_hashed(parent, label, label_hash(parent, label))
    }

    /// Whether [`Table::filter`] lets a label with hash `h` through to the slots (else no
    /// child has it).
    #[inline(always)]
    fn may_have(&self, h: u64) -> bool {
        let (w, bits) = filter_probe(h, self.filter_mask);
        self.filter.get(w).is_some_and(|&x| x & bits == bits)
    }

    /// [`Table::child`] with the label's hash already made.
    #[inline(always)]
    fn child_hashed(&self, parent: u32, label: &[u8], h: u64) -> Option<u32> {
        if !self.may_have(h) {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s.child == NONE {
                return None;
            }
            // Labels are short: a byte loop beats the call of a general comparison.
            if s.hash == (h >> 32) as u32
                && s.parent == parent
                && s.len as usize == label.len()
                && self
                    .labels
                    .get(s.label as usize..(s.label + s.len) as usize)
                    .is_some_and(|l| l.iter().zip(label).all(|(a, b)| a == b))
            {
                return Some(s.child);
            }
            i = (i + 1) & mask;
        }
    }

    /// The label ending at `end` (exclusive), read backwards and hashed as the child of
    /// `parent` ([`label_hash`]): its start and the hash. Eight bytes a step while they hold
    /// no full stop (one word operation finds one), then the label's first bytes (fewer than
    /// eight) as one word: the steps are the same for a label alone (the table's) as inside
    /// a name, so both give the same hash.
    #[inline]
    fn label_before(name: &[u8], end: usize, parent: u32) -> (usize, u64) {
        const DOTS: u64 = u64::from_ne_bytes([b'.'; 8]);
        const LOW7: u64 = u64::from_ne_bytes([0x7F; 8]);
        let mut h = u64::from(parent).wrapping_mul(0x517C_C1B7_2722_0A95);
        let mut s = end;
        while let Some(w) = s.checked_sub(8).and_then(|a| name.get(a..s)) {
            let w = <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
            let x = w ^ DOTS;
            // the high bit of each byte that is a full stop (no carry crosses a byte)
            let dots = !(((x & LOW7) + LOW7) | x | LOW7);
            if dots == 0 {
                h = word_step(h, w);
                s -= 8;
                continue;
            }
            // the bytes after the last full stop: the word's high ones
            let k = (dots.leading_zeros() / 8) as usize;
            if k > 0 {
                h = word_step(h, w >> (64 - 8 * k));
            }
            s -= k;
            return (s, mix(h, end - s));
        }
        // fewer than eight bytes left in the name
        let mut w = 0u64;
        let e = s;
        while s > 0 && name[s - 1] != b'.' {
            w = w << 8 | u64::from(name[s - 1]);
            s -= 1;
        }
        if s < e {
            h = word_step(h, w);
        }
        (s, mix(h, end - s))
    }

    /// The last label of `name[..end]` when it is two or three lowercase letters: its start
    /// and its place in [`Table::tlds`].
    #[inline]
    fn short_top(name: &[u8], end: usize) -> Option<(usize, usize)> {
        let b = &name[..end];
        let n = b.len();
        for len in [2, 3] {
            let s = n.checked_sub(len)?;
            if s == 0 || b[s - 1] == b'.' {
                return tld_index(&b[s..]).map(|i| (s, i));
            }
        }
        None
    }

    /// `publicsuffix::List::find` over the labels of `name[..end]`, right to left: the length
    /// of the public suffix, whether a rule of the list matched, and the start and end of the
    /// last label read.
    #[inline(always)]
    fn find(&self, name: &[u8], end: usize) -> (usize, bool, (usize, usize)) {
        let (mut s, top) = match Table::short_top(name, end) {
            Some((s, i)) => (s, self.tlds.get(i).copied().filter(|&c| c != NONE)),
            None => {
                let (s, h) = Table::label_before(name, end, 0);
                (s, self.child_hashed(0, &name[s..end], h))
            }
        };
        let mut e = end;
        let mut len = e - s;
        let Some(mut node) = top else {
            return (len, false, (s, e));
        };
        let mut typ = self.nodes[node as usize].leaf != 0;
        let mut so_far = len;
        while s > 0 {
            let n = self.nodes[node as usize];
            if !n.parent {
                break;
            }
            e = s - 1;
            let (ls, h) = Table::label_before(name, e, node);
            s = ls;
            let label = &name[s..e];
            node = match self.child_hashed(node, label, h) {
                Some(c) => c,
                None if n.wild != NONE => n.wild,
                None => break,
            };
            let with_dot = label.len() + 1;
            let leaf = self.nodes[node as usize].leaf;
            if leaf != 0 {
                typ = true;
                if leaf & EXCEPTION != 0 {
                    len = so_far;
                    break;
                }
                len = so_far + with_dot;
            }
            so_far += with_dot;
        }
        (len, typ, (s, e))
    }
}

fn validate(text: &str) -> Result<(), ExtractError> {
    validate_lines(text, true)
}

fn validate_lines(text: &str, need_rule: bool) -> Result<(), ExtractError> {
    let mut rules = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let lead = line.len() - trimmed.len();
        let rule = trimmed.split_whitespace().next().unwrap_or("");
        let bad = |column: usize, what: &'static str| ExtractError::BadSuffixRule {
            line: line_no,
            column: lead + column + 1,
            rule: rule.chars().take(64).collect::<String>().into(),
            what,
        };
        let body = rule.strip_prefix('!').unwrap_or(rule);
        let base = rule.len() - body.len();
        if rule.starts_with('!') && !body.contains('.') {
            return Err(bad(0, "an exception needs at least two labels"));
        }
        let mut col = base;
        for label in body.split('.') {
            if label.is_empty() {
                return Err(bad(col, "empty label"));
            }
            if label.len() > 63 {
                return Err(bad(col, "label longer than 63 octets"));
            }
            if label != "*" {
                if let Some((i, _)) = label.char_indices().find(|&(_, c)| {
                    c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }) {
                    return Err(bad(col + i, "character not allowed in a rule"));
                }
                if idna::domain_to_ascii(label).is_err() {
                    return Err(bad(col, "invalid internationalised label"));
                }
            }
            col += label.len() + 1;
        }
        rules += 1;
    }
    if need_rule && rules == 0 {
        return Err(ExtractError::EmptySuffixList);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::xorshift;
    use publicsuffix::{List as PsList, Psl, Type};

    /// The `publicsuffix` crate's reading of the same rules: the reference.
    fn reference(p: &SuffixList) -> PsList {
        p.inner.text.parse().unwrap()
    }

    /// The crate's registrable domain (as a start in `host`) and whether a rule matched.
    fn want(list: &PsList, host: &str) -> (Option<usize>, bool) {
        match list.domain(host.as_bytes()) {
            Some(d) => (
                Some(host.len() - d.as_bytes().len()),
                d.suffix().typ().is_some(),
            ),
            None => (None, false),
        }
    }

    /// Our three answers against the crate's for `host`.
    fn check(p: &SuffixList, list: &PsList, host: &str) {
        let w = want(list, host);
        assert_eq!(p.lookup(host), w, "{host:?}");
        assert_eq!(
            p.registrable_domain(host),
            w.0.map(|s| &host[s..]),
            "{host:?}"
        );
        assert_eq!(
            p.has_known_suffix(host),
            matches!(
                list.suffix(host.as_bytes()).and_then(|s| s.typ()),
                Some(Type::Icann | Type::Private)
            ),
            "{host:?}"
        );
    }

    #[test]
    fn absent_labels_seldom_pass_the_filter() {
        // labels as the names of mail are made of, under the nodes most lookups reach
        let p = SuffixList::embedded();
        let t = &p.inner.table;
        let parents: Vec<u32> = ["com", "uk", "br", "de"]
            .iter()
            .map(|l| t.child(0, l.as_bytes()).unwrap())
            .collect();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let (mut tried, mut passed) = (0u32, 0u32);
        for n in 0..50_000u64 {
            xorshift(&mut x);
            let label = match n % 3 {
                0 => format!("shop{}", x % 100_000),
                1 => format!("m{:x}", x >> 20),
                _ => format!("{}", x % 1_000_000),
            };
            for (k, &parent) in [0].iter().chain(&parents).enumerate() {
                if (n + k as u64).is_multiple_of(2) || t.child(parent, label.as_bytes()).is_some() {
                    continue;
                }
                tried += 1;
                passed += u32::from(t.may_have(label_hash(parent, label.as_bytes())));
            }
        }
        // one bit a child let about 7.5 % through
        let rate = f64::from(passed) / f64::from(tried);
        assert!(rate < 0.025, "{passed} of {tried} absent labels passed");
    }

    #[test]
    fn embedded_levels() {
        let p = SuffixList::embedded();
        for (host, want) in [
            ("foo.co.uk", Some("foo.co.uk")),
            ("a.b.foo.co.uk", Some("foo.co.uk")),
            ("bar.blogspot.com", Some("bar.blogspot.com")),
            ("www.bar.blogspot.com", Some("bar.blogspot.com")),
            ("blogspot.com", None),
            ("www.example.com", Some("example.com")),
            ("example.com", Some("example.com")),
            ("xn--mnchen-3ya.de", Some("xn--mnchen-3ya.de")),
            ("a.city.kawasaki.jp", Some("city.kawasaki.jp")),
            ("a.b.kawasaki.jp", Some("a.b.kawasaki.jp")),
        ] {
            assert_eq!(p.registrable_domain(host), want, "{host}");
        }
    }

    #[test]
    fn bad_rules_have_positions() {
        assert!(matches!(
            SuffixList::parse("com\n  a..b\n"),
            Err(ExtractError::BadSuffixRule {
                line: 2,
                column: 5,
                ..
            })
        ));
        assert!(matches!(
            SuffixList::parse("com\nx/y\n"),
            Err(ExtractError::BadSuffixRule {
                line: 2,
                column: 2,
                ..
            })
        ));
        assert!(matches!(
            SuffixList::parse("!com\n"),
            Err(ExtractError::BadSuffixRule { line: 1, .. })
        ));
        assert_eq!(
            SuffixList::parse("// nothing\n\n").unwrap_err(),
            ExtractError::EmptySuffixList
        );
    }

    /// The one-walk lookup agrees with the crate's `domain` and `suffix` on every kind of
    /// name: wildcards, exceptions, private rules, unknown suffixes, trailing dots, empty
    /// labels.
    #[test]
    fn lookup_agrees_with_psl_domain() {
        let p = SuffixList::embedded();
        let list = reference(&p);
        for host in [
            "",
            ".",
            "..",
            "com",
            "com.",
            "example.com",
            "example.com.",
            "a.b.example.co.uk",
            "co.uk",
            "x.bar.blogspot.com",
            "blogspot.com",
            "a.city.kawasaki.jp",
            "city.kawasaki.jp",
            "b.kawasaki.jp",
            "a.b.kawasaki.jp",
            "www.ck",
            "a.www.ck",
            "x.y.ck",
            "unknown-tld",
            "a.unknown-tld",
            "a..com",
            ".example.com",
            "example..",
            "a.b.c.d.e.f.g.h",
            "xn--p1ai",
            "a.xn--p1ai",
            "a.b.xn--mnchen-3ya.de",
        ] {
            check(&p, &list, host);
        }
    }

    /// Our table agrees with the crate's list on every rule of the embedded list, as written
    /// and under one and two more labels, and on names a rule's labels make up (`*` and `!`
    /// rules included).
    #[test]
    fn table_agrees_with_publicsuffix_on_every_rule() {
        let p = SuffixList::embedded();
        let list = reference(&p);
        let mut checked = 0usize;
        for line in EMBEDDED.lines() {
            let rule = line.trim();
            if rule.is_empty() || rule.starts_with("//") {
                continue;
            }
            let body = rule.trim_start_matches('!');
            let plain = body.replace('*', "w");
            let ascii = idna::domain_to_ascii(&plain).unwrap_or_else(|_| plain.clone());
            for base in [body.to_owned(), plain, ascii] {
                for host in [
                    base.clone(),
                    format!("a.{base}"),
                    format!("b.a.{base}"),
                    format!("{base}."),
                    format!("a.{base}."),
                    base.split_once('.')
                        .map_or(base.clone(), |(_, r)| r.to_owned()),
                ] {
                    check(&p, &list, &host);
                    checked += 1;
                }
            }
        }
        assert!(checked > 50_000, "{checked}");
    }

    #[test]
    fn table_agrees_with_publicsuffix_on_added_rules() {
        let p = SuffixList::parse("com\n*.x.com\n!a.x.com\nb.*.y.com\n").unwrap();
        let list = reference(&p);
        for host in [
            "com",
            "x.com",
            "a.x.com",
            "z.a.x.com",
            "q.x.com",
            "z.q.x.com",
            "y.com",
            "b.c.y.com",
            "d.b.c.y.com",
            "c.y.com",
            "*.x.com",
            "a..x.com",
            "..",
            "x..com",
        ] {
            check(&p, &list, host);
        }
    }

    /// A label read out of a name, eight bytes a step from its end, hashes as the label alone
    /// does, for every length and place in the name.
    #[test]
    fn labels_in_names_hash_as_alone() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            xorshift(&mut x);
            let before = "ab.cdefghijk.".get(..(x % 14) as usize).unwrap_or("");
            let label: String = (0..(x >> 8) % 21)
                .map(|k| char::from(b'a' + ((x >> (16 + k % 40)) % 26) as u8))
                .collect();
            let name = format!("{before}{label}");
            let (s, h) = Table::label_before(name.as_bytes(), name.len(), (x >> 50) as u32);
            let alone = &name[s..];
            assert!(alone.ends_with(&label) && !alone.contains('.'), "{name:?}");
            assert_eq!(
                h,
                label_hash((x >> 50) as u32, alone.as_bytes()),
                "{name:?}"
            );
        }
    }

    #[test]
    fn rules_only_before_the_marker_are_no_list() {
        let text = "com\n// ===BEGIN ICANN DOMAINS===\n// none\n";
        assert!(text.parse::<PsList>().is_err());
        assert_eq!(
            SuffixList::parse(text).unwrap_err(),
            ExtractError::EmptySuffixList
        );
    }

    #[test]
    fn plain_list_is_icann() {
        let l = SuffixList::parse("uk\nco.uk\n").unwrap();
        assert!(l.has_known_suffix("a.co.uk"));
        assert!(!l.has_known_suffix("a.com"));
        assert_eq!(l.registrable_domain("x.a.com"), Some("a.com"));
    }
}
