//! Writing datasets back as rbldnsd files, and zones as RFC 1035 master files.

use super::addr::{ip6_text, mask6};
use super::error::ZoneError;
use super::{Dataset, DatasetKind, NsRecords, Soa, Zone};
use crate::list::{DomainScope, Entry, List};
use crate::Listing;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::net::Ipv4Addr;

/// rbldnsd's default TTL (`-t 35m`), used where a dataset gives none.
const DEFAULT_TTL: u32 = 2100;
/// The name excluded entries point to in a master file (it does not exist, so a resolver
/// ends with NXDOMAIN, as rbldnsd answers for an excluded entry).
const EXCLUDED: &str = "excluded";

fn io(e: std::io::Error) -> ZoneError {
    ZoneError::Io {
        file: "<output>".into(),
        kind: e.kind(),
    }
}

fn not_expressible(format: &'static str, why: impl Into<Box<str>>) -> ZoneError {
    ZoneError::NotExpressible {
        format,
        why: why.into(),
    }
}

/// The raw rbldnsd TXT text that reads back as `template` (templates hold `$` and `$$` only).
fn rbldnsd_txt(template: &str, format: &'static str) -> Result<String, ZoneError> {
    let bad = |why: &str| not_expressible(format, format!("TXT template {template:?}: {why}"));
    if template.contains(['\n', '\r', '\0']) {
        return Err(bad("holds a line break or NUL"));
    }
    if template.ends_with([' ', '\t']) {
        return Err(bad("ends with white space, which rbldnsd trims"));
    }
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'$') => i += 2,
                Some(c) if c.is_ascii_digit() || *c == b'=' => {
                    return Err(bad(
                        "the subject followed by a digit or `=` reads as a variable",
                    ))
                }
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    // a leading `=` or white space would be eaten: a leading `=` protects it
    let out = if template.starts_with(['=', ' ', '\t']) {
        format!("={template}")
    } else {
        template.to_owned()
    };
    if out.len() > 255 {
        return Err(bad("longer than the 255 bytes rbldnsd keeps"));
    }
    Ok(out)
}

/// The `:A:TXT` values that give `l` when read back (one line each).
fn value_lines(l: &Listing, format: &'static str) -> Result<Vec<String>, ZoneError> {
    let codes = l.codes();
    let txt = l.txt();
    if codes.is_empty() {
        return Err(not_expressible(format, "a listing without return code"));
    }
    let n = codes.len().max(txt.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let c = codes[i.min(codes.len() - 1)];
        let t = match txt.get(i.min(txt.len().saturating_sub(1))) {
            Some(t) => rbldnsd_txt(t, format)?,
            None => String::new(),
        };
        out.push(format!(":{c}:{t}"));
    }
    Ok(out)
}

fn single_value(l: &Listing, format: &'static str) -> Result<String, ZoneError> {
    if l.codes().len() != 1 || l.txt().len() > 1 {
        return Err(not_expressible(
            format,
            "a listing with several codes or TXTs (this type keeps one value an entry)",
        ));
    }
    Ok(value_lines(l, format)?.remove(0))
}

fn dn(name: &str) -> String {
    if name == "." {
        ".".to_owned()
    } else {
        format!("{name}.")
    }
}

/// Splits `[a, b]` into CIDR blocks, calling `f(start, prefix_len)`.
fn cidrs(mut a: u128, b: u128, bits: u32, mut f: impl FnMut(u128, u8)) {
    loop {
        let mut len = bits;
        // grow the block while aligned and inside the range
        while len > 0 {
            let size_bits = bits - len + 1;
            let size: u128 = if size_bits >= 128 {
                u128::MAX
            } else {
                (1u128 << size_bits) - 1
            };
            if a & size != 0 || a.checked_add(size).is_none_or(|e| e > b) {
                break;
            }
            len -= 1;
        }
        f(a, len as u8);
        let size_bits = bits - len;
        let last = if size_bits >= 128 {
            u128::MAX
        } else {
            a + ((1u128 << size_bits) - 1)
        };
        if last >= b {
            return;
        }
        a = last + 1;
    }
}

impl Dataset {
    /// Writes the dataset as an rbldnsd file of its own type (`$SOA`, `$NS`, `$TTL`, then
    /// the entries) that reads back to an equal [`List`].
    ///
    /// # Errors
    ///
    /// [`ZoneError::NotExpressible`] when the list holds what the type cannot say (several
    /// codes for one ip4trie entry, a network in an ip4tset, a TXT rbldnsd would cut), or a
    /// write error.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$1 http://bl.example/\n:3:see $1?$\n10.0.0.0/8\n!10.1.2.3\n")?;
    /// let ds = p.finish();
    /// let mut out = Vec::new();
    /// ds.write_rbldnsd(&mut out)?;
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.contains("10.0.0.0-10.255.255.255 :127.0.0.3:see http://bl.example/?$\n"));
    /// let mut again = DatasetParser::new(DatasetKind::Ip4Set);
    /// again.parse_file("b", text.as_bytes())?;
    /// assert_eq!(again.finish().list(), ds.list());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_rbldnsd(&self, out: &mut dyn Write) -> Result<(), ZoneError> {
        let mut text = String::new();
        self.rbldnsd_header(&mut text);
        out.write_all(text.as_bytes()).map_err(io)?;
        text.clear();
        let format = self.kind.name();
        if self.kind == DatasetKind::Combined {
            return Err(not_expressible(
                format,
                "writing combined datasets is not supported",
            ));
        }
        let list = &self.list;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
        let mut line = |s: &str| w.write_all(s.as_bytes()).map_err(io);
        let entry_lines = |key: &str,
                           e: Entry<'_>,
                           line: &mut dyn FnMut(&str) -> Result<(), ZoneError>|
         -> Result<(), ZoneError> {
            match e {
                Entry::Listed(l) => {
                    for v in value_lines(l, format)? {
                        line(&format!("{key} {v}\n"))?;
                    }
                }
                _ => line(&format!("!{key}\n"))?,
            }
            Ok(())
        };
        match self.kind {
            DatasetKind::Ip4Set => {
                let exact: Vec<u32> = list.ipv4_addresses().map(|(a, _)| u32::from(a)).collect();
                for (a, e) in list.ipv4_addresses() {
                    entry_lines(&a.to_string(), e, &mut line)?;
                }
                for (a, b, e) in list.ipv4_ranges() {
                    let (a, b) = (u64::from(u32::from(a)), u64::from(u32::from(b)));
                    // the part on whole /24s reads back at /24 (or wider) level, below the
                    // exact addresses; ragged edges read back as /32 entries, so the exact
                    // addresses are cut out of them
                    let lo = (a + 255) & !255;
                    let hi_excl = (b + 1) & !255;
                    let mut pieces: Vec<(u32, u32)> = Vec::new();
                    if lo < hi_excl {
                        pieces.push((lo as u32, (hi_excl - 1) as u32));
                        if a < lo {
                            ragged(a, lo - 1, &exact, &mut pieces);
                        }
                        if hi_excl <= b {
                            ragged(hi_excl, b, &exact, &mut pieces);
                        }
                    } else {
                        ragged(a, b, &exact, &mut pieces);
                    }
                    for (x, y) in pieces {
                        let key = if x == y {
                            Ipv4Addr::from(x).to_string()
                        } else {
                            format!("{}-{}", Ipv4Addr::from(x), Ipv4Addr::from(y))
                        };
                        entry_lines(&key, e, &mut line)?;
                    }
                }
            }
            DatasetKind::Ip4Trie => {
                let mut put = |key: &str, e: Entry<'_>| -> Result<(), ZoneError> {
                    match e {
                        Entry::Listed(l) => line(&format!("{key} {}\n", single_value(l, format)?)),
                        _ => line(&format!("!{key}\n")),
                    }
                };
                for (a, e) in list.ipv4_addresses() {
                    put(&a.to_string(), e)?;
                }
                for (a, b, e) in list.ipv4_ranges() {
                    let mut blocks = Vec::new();
                    cidrs(
                        u128::from(u32::from(a)),
                        u128::from(u32::from(b)),
                        32,
                        |s, l| blocks.push((s, l)),
                    );
                    for (s, l) in blocks {
                        put(&format!("{}/{l}", Ipv4Addr::from(s as u32)), e)?;
                    }
                }
            }
            DatasetKind::Ip4TSet => {
                if list.ipv4_ranges().next().is_some() || list.ipv6_ranges().next().is_some() {
                    return Err(not_expressible(
                        format,
                        "networks (ip4tset holds single addresses)",
                    ));
                }
                let mut common: Option<&Listing> = None;
                for (a, e) in list.ipv4_addresses() {
                    let Entry::Listed(l) = e else {
                        return Err(not_expressible(format, "exclusions"));
                    };
                    match common {
                        None => {
                            line(&format!("{}\n", single_value(l, format)?))?;
                            common = Some(l);
                        }
                        Some(c) if c == l => {}
                        Some(_) => {
                            return Err(not_expressible(format, "entries with different values"))
                        }
                    }
                    line(&format!("{a}\n"))?;
                }
            }
            DatasetKind::Ip6Trie => {
                for (a, b, e) in list.ipv6_ranges() {
                    let mut blocks = Vec::new();
                    cidrs(u128::from(a), u128::from(b), 128, |s, l| {
                        blocks.push((s, l))
                    });
                    for (s, l) in blocks {
                        let mut key = String::new();
                        ip6_text(s, &mut key);
                        let _ = write!(key, "/{l}");
                        match e {
                            Entry::Listed(lst) => {
                                line(&format!("{key} {}\n", single_value(lst, format)?))?
                            }
                            _ => line(&format!("!{key}\n"))?,
                        }
                    }
                }
            }
            DatasetKind::Ip6TSet => {
                // the list holds /64s with single excluded addresses punched out
                let mut common: Option<&Listing> = None;
                let mut excl: BTreeSet<u128> = BTreeSet::new();
                for (a, b, e) in list.ipv6_ranges() {
                    if !matches!(e, Entry::Listed(_)) {
                        let (a, b) = (u128::from(a), u128::from(b));
                        if b - a >= 65536 {
                            return Err(not_expressible(format, "an exclusion of a whole network"));
                        }
                        excl.extend(a..=b);
                    }
                }
                let mut nets: BTreeSet<u128> = BTreeSet::new();
                for (a, b, e) in list.ipv6_ranges() {
                    let Entry::Listed(l) = e else { continue };
                    let (a, b) = (u128::from(a), u128::from(b));
                    let starts_ok = a & !mask6(64) == 0 || excl.contains(&(a - 1));
                    let ends_ok = !b & !mask6(64) == 0 || excl.contains(&(b + 1));
                    if !starts_ok || !ends_ok {
                        return Err(not_expressible(format, "a network that is not whole /64s"));
                    }
                    match common {
                        None => {
                            line(&format!("{}\n", single_value(l, format)?))?;
                            common = Some(l);
                        }
                        Some(c) if c == l => {}
                        Some(_) => {
                            return Err(not_expressible(format, "entries with different values"))
                        }
                    }
                    let mut n = a >> 64;
                    while n <= b >> 64 {
                        nets.insert(n);
                        if n == u128::from(u64::MAX) {
                            break;
                        }
                        n += 1;
                    }
                }
                for n in nets {
                    let w: [u16; 4] = std::array::from_fn(|i| (n >> (48 - 16 * i)) as u16);
                    line(&format!("{:x}:{:x}:{:x}:{:x}\n", w[0], w[1], w[2], w[3]))?;
                }
                for a in excl {
                    let mut key = String::new();
                    ip6_text(a, &mut key);
                    line(&format!("!{key}\n"))?;
                }
            }
            DatasetKind::Combined => {}
            DatasetKind::Acl | DatasetKind::AclKey => {
                return Err(not_expressible(
                    format,
                    "access datasets are not written back",
                ))
            }
            DatasetKind::DnSet => {
                for (p, e) in list.domains() {
                    let key = match p.scope() {
                        DomainScope::Exact => p.domain().to_string(),
                        DomainScope::Subdomains => format!("*.{}", p.domain()),
                        _ => format!(".{}", p.domain()),
                    };
                    entry_lines(&key, e, &mut line)?;
                }
            }
        }
        w.flush().map_err(io)
    }

    fn rbldnsd_header(&self, text: &mut String) {
        if let Some(s) = &self.soa {
            let _ = writeln!(
                text,
                "$SOA {} {} {} {} {} {} {} {}",
                s.ttl.unwrap_or(0),
                dn(&s.mname),
                dn(&s.rname),
                s.serial,
                s.refresh,
                s.retry,
                s.expire,
                s.minimum
            );
        }
        if let Some(ns) = &self.ns {
            let _ = write!(text, "$NS {}", ns.ttl.unwrap_or(0));
            for n in &ns.names {
                let _ = write!(text, " {}", dn(n));
            }
            text.push('\n');
        }
        if let Some(t) = self.ttl {
            let _ = writeln!(text, "$TTL {t}");
        }
    }
}

/// `[a, b]` (read back as /32 entries) minus the exact addresses, as ranges.
fn ragged(a: u64, b: u64, exact: &[u32], out: &mut Vec<(u32, u32)>) {
    let mut start = a;
    let from = exact.partition_point(|&x| u64::from(x) < a);
    for &x in exact[from..].iter().take_while(|&&x| u64::from(x) <= b) {
        let x = u64::from(x);
        if x > start {
            out.push((start as u32, (x - 1) as u32));
        }
        start = x + 1;
    }
    if start <= b {
        out.push((start as u32, b as u32));
    }
}

/// What [`Zone::write_master`] wrote.
///
/// # Examples
///
/// See [`Zone::write_master`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MasterReport {
    /// Resource records written (SOA and NS included).
    pub records: u64,
    /// Wildcard owner names (`*.…`) written.
    pub wildcards: u64,
    /// Names written as a CNAME to the non-existent `excluded` name, so that a wildcard
    /// above them does not list them.
    pub excluded: u64,
    /// Names written one by one because a network was not aligned on octets (IPv4) or
    /// nibbles (IPv6): the size cost of a master file.
    pub expanded: u64,
    /// Wildcard TXT records whose `$` was written as the network's first address (a master
    /// file cannot put the queried address there).
    pub wildcard_subject_txt: u64,
    /// Whether the zone had no `$SOA`/`$NS` and placeholders were written.
    pub synthesized_soa: bool,
}

impl MasterReport {
    /// A one-line size and fidelity warning when the file is not a plain copy of the list,
    /// for the command line.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = rblkit::zone::MasterReport::default();
    /// assert!(r.warning().is_none());
    /// ```
    pub fn warning(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.expanded > 0 {
            parts.push(format!(
                "{} names written one by one for networks not aligned on octets/nibbles",
                self.expanded
            ));
        }
        if self.wildcard_subject_txt > 0 {
            parts.push(format!(
                "{} wildcard TXT records show the network address where rbldnsd shows the queried address",
                self.wildcard_subject_txt
            ));
        }
        if self.synthesized_soa {
            parts.push("no $SOA/$NS in the datasets: placeholder SOA and NS written".to_owned());
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A value in the master-file walk: a listing or nothing (unlisted or excluded).
type Val<'a> = Option<&'a Listing>;

fn same(a: Val<'_>, b: Val<'_>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => std::ptr::eq(x, y) || x == y,
        _ => false,
    }
}

/// The data of one record of a zone's master file ([`Zone::master_records`]).
///
/// # Examples
///
/// See [`Zone::master_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData<'a> {
    /// The zone's SOA record; names absolute, without the final dot.
    Soa {
        /// The primary name server.
        mname: &'a str,
        /// The responsible person's mailbox, as a domain name.
        rname: &'a str,
        /// The serial.
        serial: u32,
        /// Refresh, retry and expire intervals and the negative-caching TTL, in seconds.
        times: [u32; 4],
    },
    /// A name server of the zone, absolute, without the final dot.
    Ns(&'a str),
    /// A return code.
    A(Ipv4Addr),
    /// One TXT string (at most 254 octets), the subject filled in.
    Txt(&'a str),
    /// An alias, relative to the zone (the `excluded` name of excluded entries).
    Cname(&'a str),
}

/// One record of a zone's master file ([`Zone::master_records`]).
///
/// # Examples
///
/// See [`Zone::master_records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MasterRecord<'a> {
    /// The owner, relative to the zone (`@` is the apex, `*.` starts a wildcard).
    pub owner: &'a str,
    /// The TTL, in seconds.
    pub ttl: u32,
    /// The data.
    pub data: RecordData<'a>,
}

/// Where the master-file walk puts its records.
type Sink<'s> = dyn FnMut(&MasterRecord<'_>) -> Result<(), ZoneError> + 's;

/// Master-file writer state.
struct Master<'w, 's> {
    out: &'w mut Sink<'s>,
    zone: String,
    ttl: u32,
    report: MasterReport,
}

impl Master<'_, '_> {
    fn txt_escape(s: &str) -> String {
        let mut o = String::with_capacity(s.len() + 2);
        o.push('"');
        for &b in s.as_bytes() {
            match b {
                b'"' | b'\\' => {
                    o.push('\\');
                    o.push(b as char);
                }
                0x20..=0x7e => o.push(b as char),
                _ => {
                    let _ = write!(o, "\\{b:03}");
                }
            }
        }
        o.push('"');
        o
    }

    fn put(&mut self, owner: &str, ttl: u32, data: RecordData<'_>) -> Result<(), ZoneError> {
        (self.out)(&MasterRecord { owner, ttl, data })?;
        self.report.records += 1;
        Ok(())
    }

    fn records(&mut self, owner: &str, l: &Listing, subject: &str) -> Result<(), ZoneError> {
        let ttl = self.ttl;
        for c in l.codes() {
            self.put(owner, ttl, RecordData::A(c.addr()))?;
        }
        for i in 0..l.txt().len() {
            let mut t = l.render_txt(i, subject).unwrap_or_default();
            if t.len() > 254 {
                let mut end = 254;
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t.truncate(end);
            }
            if t.is_empty() {
                continue;
            }
            self.put(owner, ttl, RecordData::Txt(&t))?;
        }
        Ok(())
    }

    fn excluded(&mut self, owner: &str) -> Result<(), ZoneError> {
        self.put(owner, self.ttl, RecordData::Cname(EXCLUDED))?;
        self.report.excluded += 1;
        Ok(())
    }
}

/// One record as a master-file line.
fn master_line(out: &mut dyn Write, r: &MasterRecord<'_>) -> std::io::Result<()> {
    let (owner, ttl) = (r.owner, r.ttl);
    match r.data {
        RecordData::Soa {
            mname,
            rname,
            serial,
            times: [refresh, retry, expire, minimum],
        } => writeln!(
            out,
            "{owner} {ttl} IN SOA {} {} {serial} {refresh} {retry} {expire} {minimum}",
            dn(mname),
            dn(rname)
        ),
        RecordData::Ns(n) => writeln!(out, "{owner} {ttl} IN NS {}", dn(n)),
        RecordData::A(a) => writeln!(out, "{owner} {ttl} IN A {a}"),
        RecordData::Txt(t) => writeln!(out, "{owner} {ttl} IN TXT {}", Master::txt_escape(t)),
        RecordData::Cname(c) => writeln!(out, "{owner} {ttl} IN CNAME {c}"),
    }
}

/// An address space walked for the master file: IPv4 (4 levels of 256) or IPv6 (32 levels
/// of 16).
#[derive(Clone, Copy)]
struct Space {
    bits: u32,
    step: u32,
}

impl Space {
    fn levels(self) -> u32 {
        self.bits / self.step
    }
    /// The relative owner name of the node holding `a` with `level` labels.
    fn name(self, a: u128, level: u32) -> String {
        let mut labels = Vec::with_capacity(level as usize);
        for k in 0..level {
            let shift = self.bits - self.step * (k + 1);
            let v = (a >> shift) & ((1u128 << self.step) - 1);
            labels.push(if self.step == 8 {
                v.to_string()
            } else {
                format!("{v:x}")
            });
        }
        labels.reverse();
        labels.join(".")
    }
    fn subject(self, a: u128) -> String {
        if self.bits == 32 {
            Ipv4Addr::from(a as u32).to_string()
        } else {
            let mut s = String::new();
            ip6_text(a, &mut s);
            s
        }
    }
    fn last(self) -> u128 {
        if self.bits == 128 {
            u128::MAX
        } else {
            (1u128 << self.bits) - 1
        }
    }
}

/// One run of the answer function: `[start, end]` answers `val`; `single` when it came from
/// an exact address.
#[derive(Clone, Copy)]
struct Seg<'a> {
    start: u128,
    end: u128,
    val: Val<'a>,
}

fn walk(
    m: &mut Master<'_, '_>,
    sp: Space,
    node: u128,
    level: u32,
    segs: &[Seg<'_>],
    inherited: Val<'_>,
) -> Result<(), ZoneError> {
    let child_bits = sp.bits - sp.step * (level + 1);
    let child_size_m1: u128 = if child_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << child_bits) - 1
    };
    let fan = 1u128 << sp.step;
    let mut c = 0u128;
    let mut i = 0usize;
    while c < fan {
        let cs = node | (c << child_bits);
        let ce = cs | child_size_m1;
        while i < segs.len() && segs[i].end < cs {
            i += 1;
        }
        if i >= segs.len() {
            return Ok(());
        }
        let s = segs[i];
        if s.start <= cs && s.end >= ce {
            // a run of uniform children
            let node_bits = child_bits + sp.step;
            let node_end = if node_bits >= 128 {
                u128::MAX
            } else {
                node | ((1u128 << node_bits) - 1)
            };
            let run_end = if s.end >= node_end {
                fan - 1
            } else {
                let k = (s.end >> child_bits) & (fan - 1);
                if s.end & child_size_m1 == child_size_m1 {
                    k
                } else {
                    k - 1
                }
            };
            if !same(s.val, inherited) {
                for k in c..=run_end {
                    let ks = node | (k << child_bits);
                    let owner = sp.name(ks, level + 1);
                    let leaf = level + 1 == sp.levels();
                    match (s.val, leaf) {
                        (Some(l), true) => {
                            if s.start != s.end {
                                m.report.expanded += 1;
                            }
                            m.records(&owner, l, &sp.subject(ks))?;
                        }
                        (Some(l), false) => {
                            m.report.wildcards += 1;
                            if l.txt().iter().any(|t| t.replace("$$", "").contains('$')) {
                                m.report.wildcard_subject_txt += 1;
                            }
                            m.records(&format!("*.{owner}"), l, &sp.subject(ks))?;
                        }
                        (None, _) => m.excluded(&owner)?,
                    }
                }
            }
            c = run_end + 1;
            continue;
        }
        // mixed child: the value covering most of it becomes its wildcard
        let j_end = segs[i..]
            .iter()
            .position(|x| x.start > ce)
            .map_or(segs.len(), |p| i + p);
        let sub = &segs[i..j_end];
        let mut best: (u128, Val<'_>) = (0, None);
        let mut tally: Vec<(Val<'_>, u128)> = Vec::new();
        for x in sub {
            let n = x.end.min(ce) - x.start.max(cs);
            match tally.iter_mut().find(|(v, _)| same(*v, x.val)) {
                Some(t) => t.1 = t.1.saturating_add(n),
                None => tally.push((x.val, n)),
            }
        }
        for (v, n) in tally {
            if n >= best.0 {
                best = (n, v);
            }
        }
        let d = best.1;
        let owner = sp.name(cs, level + 1);
        if let Some(l) = d {
            m.report.wildcards += 1;
            if l.txt().iter().any(|t| t.replace("$$", "").contains('$')) {
                m.report.wildcard_subject_txt += 1;
            }
            m.records(&format!("*.{owner}"), l, &sp.subject(cs))?;
        }
        walk(m, sp, cs, level + 1, sub, d)?;
        c += 1;
    }
    Ok(())
}

/// The answer function of an address family as disjoint runs covering the whole space.
fn segments<'a>(
    sp: Space,
    exact: Vec<(u128, Val<'a>)>,
    ranges: Vec<(u128, u128, Val<'a>)>,
) -> Vec<Seg<'a>> {
    let mut raw: Vec<Seg<'a>> = Vec::with_capacity(exact.len() * 2 + ranges.len() * 2 + 1);
    let mut ri = 0usize;
    let mut pos = 0u128;
    let mut done = false;
    let push = |raw: &mut Vec<Seg<'a>>, s: u128, e: u128, v: Val<'a>| {
        if let Some(last) = raw.last_mut() {
            if same(last.val, v) && last.end.checked_add(1) == Some(s) {
                last.end = e;
                return;
            }
        }
        raw.push(Seg {
            start: s,
            end: e,
            val: v,
        });
    };
    // value of the ranges at `p` and where that value ends
    let range_at = |ri: &mut usize, p: u128| -> (Val<'a>, u128) {
        while *ri < ranges.len() && ranges[*ri].1 < p {
            *ri += 1;
        }
        match ranges.get(*ri) {
            Some(&(s, e, v)) if s <= p => (v, e),
            Some(&(s, _, _)) => (None, s - 1),
            None => (None, sp.last()),
        }
    };
    let mut ei = 0usize;
    while !done {
        let (v, mut end) = range_at(&mut ri, pos);
        if let Some(&(x, xv)) = exact.get(ei) {
            if x == pos {
                push(&mut raw, pos, pos, xv);
                ei += 1;
                if pos == sp.last() {
                    break;
                }
                pos += 1;
                continue;
            }
            if x <= end {
                end = x - 1;
            }
        }
        push(&mut raw, pos, end, v);
        if end == sp.last() {
            done = true;
        } else {
            pos = end + 1;
        }
    }
    raw
}

fn val(e: Entry<'_>) -> Val<'_> {
    match e {
        Entry::Listed(l) => Some(l),
        _ => None,
    }
}

impl Zone {
    /// Writes the zone as an RFC 1035 master file that NSD, Knot and BIND load: SOA and NS
    /// (placeholders when no dataset has them), then A and TXT records per listed name.
    ///
    /// Networks become wildcards on octet (IPv4) or nibble (IPv6) boundaries; a network not
    /// on such a boundary is written name by name ([`MasterReport::expanded`] says how many).
    /// Wildcards stay correct with exclusions and more specific entries: a wildcard is
    /// repeated below every name that would otherwise hide it, and an excluded name under a
    /// wildcard is a CNAME to the non-existent `excluded` name, as `rbldnsd -d` writes it.
    /// dnset entries are written the same way, their `$` being the listed name, so those
    /// TXTs are exact.
    ///
    /// # Errors
    ///
    /// [`ZoneError::NotExpressible`] when the zone has two datasets of one address family
    /// (their wildcards would mix), or a name too long for the zone; a write error.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$SOA 1h ns.bl.example. h.bl.example. 5 1h 1h 1d 1h\n$NS 1h ns.example.net.\n\
    ///     :2:listed $\n10.0.0.0/8\n!10.1.0.0/16\n")?;
    /// let zone = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
    /// let mut out = Vec::new();
    /// let report = zone.write_master(&mut out)?;
    /// let text = String::from_utf8(out).unwrap();
    /// assert!(text.contains("*.10 2100 IN A 127.0.0.2\n"));
    /// assert!(text.contains("1.10 2100 IN CNAME excluded\n"));
    /// assert_eq!(report.wildcards, 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_master(&self, out: &mut dyn Write) -> Result<MasterReport, ZoneError> {
        let ttl = self.master_ttl()?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
        writeln!(w, "$ORIGIN {}.", self.name.as_str()).map_err(io)?;
        writeln!(w, "$TTL {ttl}").map_err(io)?;
        let report = self.walk_master(ttl, &mut |r| master_line(&mut w, r).map_err(io))?;
        w.flush().map_err(io)?;
        Ok(report)
    }

    /// The records of the master file [`Zone::write_master`] writes, in its order (SOA
    /// first, then NS, then the data), one call of `each` per record: for zone transfers,
    /// which carry the same zone.
    ///
    /// # Errors
    ///
    /// As [`Zone::write_master`], but no write errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, RecordData, Zone};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.parse_file("a", b"$SOA 1h ns.bl.example. h.bl.example. 5 1h 1h 1d 1h\n$NS 1h ns.example.net.\n\
    ///     :2:listed $\n192.0.2.1\n")?;
    /// let zone = Zone::new("bl.example".parse()?, vec![p.finish().into()]);
    /// let mut seen = Vec::new();
    /// zone.master_records(&mut |r| seen.push((r.owner.to_owned(), format!("{:?}", r.data))))?;
    /// assert!(matches!(seen[0].1.as_str(), s if s.starts_with("Soa")));
    /// assert!(seen.contains(&("1.2.0.192".to_owned(), "A(127.0.0.2)".to_owned())));
    /// assert!(seen.contains(&("1.2.0.192".to_owned(), "Txt(\"listed 192.0.2.1\")".to_owned())));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn master_records(
        &self,
        each: &mut dyn FnMut(&MasterRecord<'_>),
    ) -> Result<MasterReport, ZoneError> {
        let ttl = self.master_ttl()?;
        self.walk_master(ttl, &mut |r| {
            each(r);
            Ok(())
        })
    }

    /// Checks that the zone can be written as a master file; its default TTL.
    fn master_ttl(&self) -> Result<u32, ZoneError> {
        let mut fams = [0u8; 3];
        for d in &self.datasets {
            if DatasetKind::ACCESS.contains(&d.kind) {
                continue;
            }
            if d.kind == DatasetKind::Combined {
                return Err(not_expressible(
                    "bind",
                    "combined datasets (subzones) are not written as master files",
                ));
            }
            let f = d.kind.family();
            fams[f as usize] += 1;
            if fams[f as usize] > 1 {
                return Err(not_expressible(
                    "bind",
                    "two datasets of one address family in a zone",
                ));
            }
            no_excluded_name(&d.list)?;
        }
        Ok(self
            .datasets
            .iter()
            .find_map(|d| d.ttl)
            .unwrap_or(DEFAULT_TTL))
    }

    fn walk_master(&self, ttl: u32, out: &mut Sink<'_>) -> Result<MasterReport, ZoneError> {
        let parts: Vec<(Family, &List)> = self
            .datasets
            .iter()
            .filter(|d| !DatasetKind::ACCESS.contains(&d.kind))
            .map(|d| (d.kind.family(), &d.list))
            .collect();
        let soa = self.soa().map(|s| (s, self.serial().unwrap_or(s.serial)));
        walk_master(self.name.as_str(), soa, self.ns(), ttl, &parts, out)
    }
}

/// The records of the master file of a zone answering from a compiled [`List`], as
/// [`Zone::master_records`] gives them for a zone of datasets: its IPv4 entries as an
/// `ip4trie` dataset would be written, its IPv6 entries as an `ip6trie`, its domains as a
/// `dnset`; email addresses are left out. `soa` (with the serial to write) and `ns` make the
/// apex (placeholders when missing), `ttl` is the TTL of the other records.
///
/// # Errors
///
/// [`ZoneError::NotExpressible`] for a name server inside the zone, a name too long for the
/// zone, or a listed name `excluded`.
///
/// # Examples
///
/// ```
/// use rblkit::codes::ReturnCode;
/// use rblkit::zone::{list_master_records, DatasetKind, DatasetParser, RecordData};
/// use rblkit::{List, Listing};
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::LISTED));
/// b.insert(&"spam.example".parse()?, Listing::new(ReturnCode::LISTED));
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("soa", b"$SOA 1h ns.bl.example. h.bl.example. 7 1h 1h 1d 1h\n")?;
/// let soa = p.finish().soa().cloned().unwrap();
/// let mut seen = Vec::new();
/// let zone = "bl.example".parse()?;
/// list_master_records(&zone, &b.build(), Some((&soa, 8)), None, 300, &mut |r| {
///     seen.push((r.owner.to_owned(), format!("{:?}", r.data)))
/// })?;
/// assert!(seen[0].1.contains("serial: 8"));
/// assert!(seen.contains(&("1.2.0.192".to_owned(), "A(127.0.0.2)".to_owned())));
/// assert!(seen.contains(&("spam.example".to_owned(), "A(127.0.0.2)".to_owned())));
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn list_master_records(
    zone: &crate::subject::Domain,
    list: &List,
    soa: Option<(&Soa, u32)>,
    ns: Option<&NsRecords>,
    ttl: u32,
    each: &mut dyn FnMut(&MasterRecord<'_>),
) -> Result<MasterReport, ZoneError> {
    let mut parts = Vec::new();
    if list.ipv4_addresses().next().is_some() || list.ipv4_ranges().next().is_some() {
        parts.push((Family::V4, list));
    }
    if list.ipv6_ranges().next().is_some() {
        parts.push((Family::V6, list));
    }
    if list.domains().next().is_some() {
        no_excluded_name(list)?;
        parts.push((Family::Names, list));
    }
    walk_master(zone.as_str(), soa, ns, ttl, &parts, &mut |r| {
        each(r);
        Ok(())
    })
}

/// The part of a list a dataset kind writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    V4 = 0,
    V6 = 1,
    Names = 2,
}

impl DatasetKind {
    pub(super) fn family(self) -> Family {
        if self.is_ip4() {
            Family::V4
        } else if self.is_ip6() {
            Family::V6
        } else {
            Family::Names
        }
    }
}

/// The master file uses the name `excluded` for exclusions: a list must not list it.
fn no_excluded_name(list: &List) -> Result<(), ZoneError> {
    if list.lookup_domain(EXCLUDED).is_some() {
        return Err(not_expressible(
            "bind",
            "a listed name `excluded`, which the file uses for exclusions",
        ));
    }
    Ok(())
}

/// SOA (with its serial), NS, then the records of each part.
fn walk_master(
    zone: &str,
    soa: Option<(&Soa, u32)>,
    ns: Option<&NsRecords>,
    ttl: u32,
    parts: &[(Family, &List)],
    out: &mut Sink<'_>,
) -> Result<MasterReport, ZoneError> {
    let mut m = Master {
        out,
        zone: zone.to_owned(),
        ttl,
        report: MasterReport::default(),
    };
    match soa {
        Some((s, serial)) => {
            let data = RecordData::Soa {
                mname: &s.mname,
                rname: &s.rname,
                serial,
                times: [s.refresh, s.retry, s.expire, s.minimum],
            };
            m.put("@", s.ttl.unwrap_or(ttl), data)?;
        }
        None => {
            m.report.synthesized_soa = true;
            let data = RecordData::Soa {
                mname: "localhost",
                rname: "hostmaster.localhost",
                serial: 1,
                times: [3600, 600, 604800, 300],
            };
            m.put("@", ttl, data)?;
        }
    }
    match ns {
        Some(ns) if !ns.names.is_empty() => {
            for n in &ns.names {
                if n.as_ref() == zone || n.ends_with(&format!(".{zone}")) {
                    // its address would be glue, which only a `generic` dataset gives
                    return Err(not_expressible(
                        "bind",
                        format!("name server {n} is inside the zone and has no address record"),
                    ));
                }
                m.put("@", ns.ttl.unwrap_or(ttl), RecordData::Ns(n))?;
            }
        }
        _ => {
            m.report.synthesized_soa = true;
            m.put("@", ttl, RecordData::Ns("localhost"))?;
        }
    }
    for &(family, list) in parts {
        match family {
            Family::V4 => {
                let exact = list
                    .ipv4_addresses()
                    .map(|(a, e)| (u128::from(u32::from(a)), val(e)))
                    .collect();
                let ranges = list
                    .ipv4_ranges()
                    .map(|(a, b, e)| (u128::from(u32::from(a)), u128::from(u32::from(b)), val(e)))
                    .collect();
                let sp = Space { bits: 32, step: 8 };
                let segs = segments(sp, exact, ranges);
                walk(&mut m, sp, 0, 0, &segs, None)?;
            }
            Family::V6 => {
                let ranges = list
                    .ipv6_ranges()
                    .map(|(a, b, e)| (u128::from(a), u128::from(b), val(e)))
                    .collect();
                let sp = Space { bits: 128, step: 4 };
                let segs = segments(sp, Vec::new(), ranges);
                walk(&mut m, sp, 0, 0, &segs, None)?;
            }
            Family::Names => write_names(&mut m, list)?,
        }
    }
    Ok(m.report)
}

fn write_names(m: &mut Master<'_, '_>, list: &List) -> Result<(), ZoneError> {
    let mut closure: BTreeSet<String> = BTreeSet::new();
    for (p, _) in list.domains() {
        let mut n = p.domain().as_str();
        loop {
            if !closure.insert(n.to_owned()) {
                break;
            }
            match n.find('.') {
                Some(i) => n = &n[i + 1..],
                None => break,
            }
        }
    }
    // children lookup: collect parents of every name once
    let mut parents: BTreeSet<&str> = BTreeSet::new();
    for n in &closure {
        if let Some(i) = n.find('.') {
            parents.insert(&n[i + 1..]);
        }
    }
    for n in &closure {
        if n.len() + m.zone.len() + 3 > 253 {
            return Err(not_expressible(
                "bind",
                format!("name {n:?} too long under the zone"),
            ));
        }
        let own = list.lookup_domain_match(n);
        let probe = format!("*.{n}");
        let below = list.lookup_domain_match(&probe);
        match own {
            Some(hit) => m.records(n, hit.listing, hit.name)?,
            None => {
                let parent_wild = match n.find('.') {
                    Some(i) => list
                        .lookup_domain_match(&format!("*.{}", &n[i + 1..]))
                        .is_some(),
                    None => false,
                };
                if parent_wild && !parents.contains(n.as_str()) && below.is_none() {
                    m.excluded(n)?;
                }
            }
        }
        if let Some(hit) = below {
            m.report.wildcards += 1;
            m.records(&probe, hit.listing, hit.name)?;
        }
    }
    Ok(())
}
