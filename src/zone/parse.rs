//! The dataset line parser.

use super::acl::{keyword, Acl, AclAction, AclKeys};
use super::addr::{self, AddrErr};
use super::error::{LineError, Problem, ZoneError};
use super::{Dataset, DatasetKind, HostBits, NsRecords, Soa, Strictness};
use crate::codes::ReturnCode;
use crate::list::{DomainScope, ListBuilder, ListingId, NameTable, Precedence};
use crate::subject::Domain;
use crate::time::Timestamp;
use crate::{List, Listing};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The value id of an exclusion (the list's own).
const EXCL: u32 = u32::MAX - 1;
/// No value (the list's own).
const NONE: u32 = u32::MAX;
/// Index of `$=` among the substitution variables.
const BASE: usize = 10;
/// rbldnsd keeps at most 255 bytes of a TXT template.
const MAX_TXT: usize = 255;

/// Reads the files of one dataset, line by line, as rbldnsd does, into a [`Dataset`].
///
/// Files are given in order with [`DatasetParser::parse_file`] or
/// [`DatasetParser::read_file`]; they are read as one dataset (rbldnsd's `type:f1,f2`), the
/// default `:A:TXT` line applying up to the end of its file. By default a bad line is a
/// warning (with file and line) and skipped, as rbldnsd does; with
/// [`Strictness::Strict`] the first bad line is an error.
///
/// # Examples
///
/// ```
/// use rblkit::zone::{DatasetKind, DatasetParser};
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("a.txt", b":127.0.0.2:Listed: see https://bl.example/?$\n192.0.2.0/24\n!192.0.2.7\n")?;
/// let ds = p.finish();
/// let hit = ds.list().lookup_ipv4("192.0.2.9".parse().unwrap()).unwrap();
/// assert_eq!(hit.render_txt(0, "192.0.2.9").unwrap(), "Listed: see https://bl.example/?192.0.2.9");
/// assert!(ds.list().lookup_ipv4("192.0.2.7".parse().unwrap()).is_none());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug)]
pub struct DatasetParser {
    kind: DatasetKind,
    strictness: Strictness,
    host_bits: HostBits,
    file: Box<str>,
    line_no: u32,
    files: Vec<Box<str>>,
    /// Raw (A, TXT) values; id 0 is rbldnsd's built-in default (127.0.0.2, no TXT).
    rrs: Vec<(ReturnCode, Box<str>)>,
    rr_index: HashMap<Box<str>, Vec<(ReturnCode, u32)>>,
    default_rr: u32,
    /// ip4tset/ip6tset: the first default line of the whole dataset.
    tset_default: Option<u32>,
    subst: [Option<Box<str>>; 11],
    /// single IPv4 addresses
    v4x: Vec<(u32, u32)>,
    /// IPv4 networks (prefix shorter than 32)
    v4: Vec<((u32, u8), u32)>,
    v6: Vec<((u128, u8), u32)>,
    /// dnset names, normalised, with their values for the name and for names below
    names: NameTable,
    seen4: HashSet<(u32, u8)>,
    seen6: HashSet<(u128, u8)>,
    soa: Option<Soa>,
    ns: Option<NsRecords>,
    ttl: Option<u32>,
    maxrange4: Option<u64>,
    timestamp: Option<Timestamp>,
    expires: Option<Timestamp>,
    warnings: Vec<LineError>,
    lines: u64,
    entries: u64,
    /// combined: the nested dataset being read and its subzones, and those read before.
    current: Option<(Vec<Box<str>>, Box<DatasetParser>)>,
    skipping: bool,
    subsets: Vec<(Vec<Box<str>>, Dataset)>,
    /// acl/aclkey: the default action, then the entries (IPv6?, network, bits, value) and
    /// keys, values resolved when finished.
    acl_default: AclValue,
    acl_nets: Vec<(bool, u128, u8, AclValue)>,
    acl_keys: Vec<(Box<str>, AclValue)>,
}

/// An access dataset's value before the TXT templates are expanded: a keyword, or an A+TXT
/// value (an index of `rrs`).
#[derive(Debug, Clone)]
enum AclValue {
    Keyword(AclAction),
    Rr(u32),
}

fn is_space(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_comment(c: u8) -> bool {
    c == b'#' || c == b';'
}

fn skip_space(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// The first whitespace-separated word of `s`.
fn field(s: &str) -> &str {
    s.split([' ', '\t']).next().unwrap_or("")
}

/// Whether what follows an address may end it: end of line, space, comment or `:value`.
fn ends_entry(rest: &[u8]) -> bool {
    rest.first()
        .is_none_or(|&c| is_space(c) || is_comment(c) || c == b':')
}

fn addr_problem(e: AddrErr, t: &str) -> Problem {
    let text: Box<str> = t.into();
    match e {
        AddrErr::Bad => Problem::BadAddress { text },
        AddrErr::Octet => Problem::OctetTooLarge { text },
        AddrErr::Prefix => Problem::PrefixTooLong {
            text,
            max: if t.contains(':') { 128 } else { 32 },
        },
        AddrErr::Reversed => Problem::ReversedRange { text },
        AddrErr::Bare => Problem::BareNumber { text },
    }
}

impl DatasetParser {
    /// A parser for a dataset of this type, lenient, refusing CIDR networks with host bits
    /// set (rbldnsd without `-e`).
    ///
    /// # Examples
    ///
    /// See [`DatasetParser`].
    pub fn new(kind: DatasetKind) -> DatasetParser {
        let mut rr_index: HashMap<Box<str>, Vec<(ReturnCode, u32)>> = HashMap::new();
        rr_index.insert("".into(), vec![(ReturnCode::LISTED, 0)]);
        DatasetParser {
            kind,
            strictness: Strictness::Lenient,
            host_bits: HostBits::Reject,
            file: "".into(),
            line_no: 0,
            files: Vec::new(),
            rrs: vec![(ReturnCode::LISTED, "".into())],
            rr_index,
            default_rr: 0,
            tset_default: None,
            subst: Default::default(),
            v4x: Vec::new(),
            v4: Vec::new(),
            v6: Vec::new(),
            names: NameTable::default(),
            seen4: HashSet::new(),
            seen6: HashSet::new(),
            soa: None,
            ns: None,
            ttl: None,
            maxrange4: None,
            timestamp: None,
            expires: None,
            warnings: Vec::new(),
            lines: 0,
            entries: 0,
            current: None,
            skipping: false,
            subsets: Vec::new(),
            acl_default: AclValue::Keyword(AclAction::Ignore),
            acl_nets: Vec::new(),
            acl_keys: Vec::new(),
        }
    }

    /// Sets whether a bad line is a warning (the default) or an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, Strictness};
    /// let mut p = DatasetParser::new(DatasetKind::DnSet);
    /// p.strictness(Strictness::Strict);
    /// assert!(p.parse_file("d.txt", b"ok.example\nbad..example\n").is_err());
    /// ```
    pub fn strictness(&mut self, s: Strictness) -> &mut DatasetParser {
        self.strictness = s;
        self
    }

    /// Sets what a CIDR network with host bits set does (rbldnsd's `-e` is
    /// [`HostBits::Clear`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser, HostBits};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    /// p.host_bits(HostBits::Clear);
    /// p.parse_file("a", b"192.0.2.9/24\n")?;
    /// assert!(p.finish().list().lookup_ipv4("192.0.2.1".parse().unwrap()).is_some());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn host_bits(&mut self, h: HostBits) -> &mut DatasetParser {
        self.host_bits = h;
        self
    }

    /// Parses one whole file given as bytes. `name` is used in warnings.
    ///
    /// # Errors
    ///
    /// In strict mode, the first bad line.
    ///
    /// # Examples
    ///
    /// See [`DatasetParser`].
    pub fn parse_file(&mut self, name: &str, data: &[u8]) -> Result<(), ZoneError> {
        self.begin_file(name);
        let mut rest = data;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&c| c == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            self.physical_line(line)?;
            rest = next;
        }
        Ok(())
    }

    /// Parses one file from a reader, line by line (the file is never held whole in
    /// memory).
    ///
    /// # Errors
    ///
    /// A read error, or in strict mode the first bad line.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::{DatasetKind, DatasetParser};
    /// let mut p = DatasetParser::new(DatasetKind::Ip4TSet);
    /// p.read_file("t.txt", &b"192.0.2.1\r\n192.0.2.2\r\n"[..])?;
    /// assert_eq!(p.finish().list().ipv4_addresses().count(), 2);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn read_file(&mut self, name: &str, mut reader: impl BufRead) -> Result<(), ZoneError> {
        self.begin_file(name);
        let mut buf = Vec::with_capacity(256);
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| ZoneError::Io {
                    file: name.into(),
                    kind: e.kind(),
                })?;
            if n == 0 {
                return Ok(());
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
            }
            let line = std::mem::take(&mut buf);
            let r = self.physical_line(&line);
            buf = line;
            r?;
        }
    }

    fn begin_file(&mut self, name: &str) {
        // a combined dataset's nested dataset ends with its file
        self.finish_subset();
        self.skipping = false;
        self.file = name.into();
        self.files.push(name.into());
        self.line_no = 0;
        // the default line applies up to the end of its file (the "trivial" sets keep the
        // first one of the dataset)
        self.default_rr = 0;
    }

    /// One line ended by `\n`; a `\r` also ends a line for rbldnsd, so CRLF ends one line
    /// here and a lone `\r` splits it.
    fn physical_line(&mut self, line: &[u8]) -> Result<(), ZoneError> {
        self.line_no = self.line_no.saturating_add(1);
        self.lines += 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.contains(&b'\r') {
            for part in line.split(|&c| c == b'\r') {
                self.logical_line(part)?;
            }
            Ok(())
        } else {
            self.logical_line(line)
        }
    }

    fn warn(&mut self, column: usize, problem: Problem) -> Result<(), ZoneError> {
        let e = LineError {
            file: self.file.clone(),
            line: self.line_no,
            column: u32::try_from(column).unwrap_or(u32::MAX),
            problem,
        };
        match self.strictness {
            Strictness::Strict => Err(ZoneError::Line(e)),
            _ => {
                self.warnings.push(e);
                Ok(())
            }
        }
    }

    fn logical_line(&mut self, bytes: &[u8]) -> Result<(), ZoneError> {
        if let Some(i) = bytes.iter().position(|&c| c == 0) {
            return self.warn(i + 1, Problem::NulByte);
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return self.warn(
                    e.valid_up_to() + 1,
                    Problem::InvalidUtf8 {
                        offset: e.valid_up_to(),
                    },
                )
            }
        };
        let line = text.trim_matches([' ', '\t']);
        let col0 = text.len() - text.trim_start_matches([' ', '\t']).len();
        let b = line.as_bytes();
        if b.is_empty() {
            return Ok(());
        }
        let col = |sub: &str| sub.as_ptr() as usize - text.as_ptr() as usize + 1;
        let special =
            b[0] == b'$' || ((is_comment(b[0]) || b[0] == b':') && b.get(1) == Some(&b'$'));
        if self.kind == DatasetKind::Combined {
            return self.combined_line(bytes, line, special, col0 + 1);
        }
        if special {
            let body = if b[0] == b'$' { &line[1..] } else { &line[2..] };
            return self.special(line, body, col0 + 1);
        }
        if is_comment(b[0]) {
            return Ok(());
        }
        match self.kind {
            DatasetKind::Ip4Set => self.ip4set_line(line, &col),
            DatasetKind::Ip4TSet => self.ip4tset_line(line, &col),
            DatasetKind::Ip4Trie => self.ip4trie_line(line, &col),
            DatasetKind::Ip6Trie => self.ip6trie_line(line, &col),
            DatasetKind::Ip6TSet => self.ip6tset_line(line, &col),
            DatasetKind::DnSet => self.dnset_line(line, &col),
            DatasetKind::Acl => self.acl_line(line, &col),
            DatasetKind::AclKey => self.aclkey_line(line, &col),
            _ => Ok(()),
        }
    }

    /// A line of a `combined` dataset: `$SOA`, `$NS` and `$TIMESTAMP` are the zone's,
    /// `$DATASET` starts a nested dataset, everything else goes to the nested dataset being
    /// read (or, for `$TTL` and `$n` before the first `$DATASET`, to all that follow).
    fn combined_line(
        &mut self,
        bytes: &[u8],
        line: &str,
        special: bool,
        column: usize,
    ) -> Result<(), ZoneError> {
        let b = line.as_bytes();
        if special {
            let body = if b[0] == b'$' { &line[1..] } else { &line[2..] };
            let word = field(body).to_ascii_lowercase();
            let args = skip_space(&body[field(body).len()..]);
            match word.as_str() {
                "dataset" if body.len() > 7 => return self.new_subset(args, column),
                "soa" | "ns" | "nameserver" | "timestamp" => {
                    return self.special(line, body, column)
                }
                _ if self.current.is_none() => return self.special(line, body, column),
                _ => {}
            }
        } else if is_comment(b[0]) {
            return Ok(());
        }
        if self.skipping {
            return Ok(());
        }
        let Some((_, sub)) = self.current.as_mut() else {
            return self.warn(column, Problem::NoDataset);
        };
        sub.file = self.file.clone();
        sub.line_no = self.line_no;
        let r = sub.logical_line(bytes);
        self.warnings.append(&mut sub.warnings);
        r
    }

    fn finish_subset(&mut self) {
        if let Some((zones, sub)) = self.current.take() {
            let mut d = sub.finish();
            self.entries += d.entries;
            self.warnings.append(&mut d.warnings);
            self.subsets.push((zones, d));
        }
    }

    fn new_subset(&mut self, args: &str, column: usize) -> Result<(), ZoneError> {
        self.finish_subset();
        self.skipping = false;
        // a comment starts at `#` after a space
        let mut args = args;
        if let Some(i) = args
            .char_indices()
            .find(|&(i, c)| is_comment(c as u8) && (i == 0 || is_space(args.as_bytes()[i - 1])))
            .map(|x| x.0)
        {
            args = &args[..i];
        }
        let mut words = args.split([' ', '\t']).filter(|w| !w.is_empty());
        let ty = words.next().unwrap_or("");
        let ty_name = ty.split(':').next().unwrap_or("");
        let kind = match ty_name.parse::<DatasetKind>() {
            Ok(k) if DatasetKind::ALL.contains(&k) && k != DatasetKind::Combined => k,
            _ => {
                self.skipping = true;
                return self.warn(
                    column,
                    Problem::BadDatasetType {
                        name: ty_name.into(),
                    },
                );
            }
        };
        let mut zones: Vec<Box<str>> = Vec::new();
        let mut any = false;
        for w in words {
            any = true;
            if w == "@" {
                zones.push("".into());
                continue;
            }
            match Domain::normalize(w) {
                Ok(d) => zones.push(d.as_ref().into()),
                Err(reason) => self.warn(
                    column,
                    Problem::BadDomain {
                        text: w.into(),
                        reason,
                    },
                )?,
            }
        }
        if !any {
            self.warn(column, Problem::NoSubzones)?;
        }
        let mut sub = DatasetParser::new(kind);
        sub.strictness = self.strictness;
        sub.host_bits = self.host_bits;
        sub.file = self.file.clone();
        sub.ttl = self.ttl;
        sub.subst = self.subst.clone();
        sub.maxrange4 = self.maxrange4;
        self.current = Some((zones, Box::new(sub)));
        Ok(())
    }

    fn rr(&mut self, a: ReturnCode, txt: &str) -> u32 {
        if let Some(v) = self.rr_index.get(txt) {
            if let Some(&(_, id)) = v.iter().find(|(c, _)| *c == a) {
                return id;
            }
        }
        let id = self.rrs.len() as u32;
        self.rrs.push((a, txt.into()));
        self.rr_index.entry(txt.into()).or_default().push((a, id));
        id
    }

    /// rbldnsd's `parse_a_txt`: `:A:TXT`, `:A:`, `:A` (the default TXT) or `TXT` (the default
    /// A). `None` when the line is to be skipped (after the warning).
    fn a_txt(
        &mut self,
        s: &str,
        default: u32,
        col: &dyn Fn(&str) -> usize,
    ) -> Result<Option<u32>, ZoneError> {
        let (a, txt): (ReturnCode, &str) = if let Some(r) = s.strip_prefix(':') {
            let parsed = addr::ip4addr(r.as_bytes());
            let a_text = r.split([':', ' ', '\t']).next().unwrap_or("");
            let (mut a, bits, n) = match parsed {
                Ok(x) if x.0 != 0 => x,
                _ => {
                    self.warn(
                        col(r),
                        Problem::BadReturnCode {
                            text: a_text.into(),
                        },
                    )?;
                    return Ok(None);
                }
            };
            if bits == 8 {
                a |= 0x7f00_0000;
            }
            let rest = skip_space(&r[n..]);
            if let Some(t) = rest.strip_prefix(':') {
                (ReturnCode::from(Ipv4Addr::from(a)), skip_space(t))
            } else if !rest.is_empty() {
                self.warn(col(rest), Problem::BadValue { text: rest.into() })?;
                return Ok(None);
            } else {
                let t = self.rrs[default as usize].1.clone();
                return Ok(Some(self.rr(ReturnCode::from(Ipv4Addr::from(a)), &t)));
            }
        } else {
            (self.rrs[default as usize].0, s)
        };
        let txt = if txt.len() > MAX_TXT {
            self.warn(col(txt), Problem::TxtTooLong { len: txt.len() })?;
            let mut end = MAX_TXT;
            while !txt.is_char_boundary(end) {
                end -= 1;
            }
            &txt[..end]
        } else {
            txt
        };
        Ok(Some(self.rr(a, txt)))
    }

    /// The value after an entry: the default when there is none (or only a comment).
    fn value(&mut self, rest: &str, col: &dyn Fn(&str) -> usize) -> Result<Option<u32>, ZoneError> {
        let rest = skip_space(rest);
        if rest.is_empty() || is_comment(rest.as_bytes()[0]) {
            return Ok(Some(self.default_rr));
        }
        self.a_txt(rest, self.default_rr, col)
    }

    fn default_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if let Some(id) = self.a_txt(line, 0, col)? {
            self.default_rr = id;
        }
        Ok(())
    }

    fn bang(line: &str) -> (bool, &str) {
        match line.strip_prefix('!') {
            Some(r) => (true, skip_space(r)),
            None => (false, line),
        }
    }

    /// The start of a network with `mask`: `a` itself, or with host bits cleared when the
    /// options say so; `None` when the line is refused for its host bits (a warning, or the
    /// error in strict mode).
    fn network_start<T>(
        &mut self,
        a: T,
        mask: T,
        column: usize,
        s: &str,
    ) -> Result<Option<T>, ZoneError>
    where
        T: Copy + PartialEq + Default + std::ops::BitAnd<Output = T> + std::ops::Not<Output = T>,
    {
        if a & !mask == T::default() {
            return Ok(Some(a));
        }
        match self.host_bits {
            HostBits::Clear => Ok(Some(a & mask)),
            _ => self
                .warn(
                    column,
                    Problem::HostBitsSet {
                        text: field(s).into(),
                    },
                )
                .map(|()| None),
        }
    }

    fn ip4set_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') {
            return self.default_line(line, col);
        }
        let (not, s) = Self::bang(line);
        let (a, b, bits, n) = match addr::ip4range(s.as_bytes()) {
            Ok(r) if ends_entry(&s.as_bytes()[r.3..]) => r,
            Ok(_) => {
                return self.warn(
                    col(s),
                    Problem::BadAddress {
                        text: field(s).into(),
                    },
                )
            }
            Err(e) => return self.warn(col(s), addr_problem(e, field(s))),
        };
        let Some(a) = self.network_start(a, addr::mask4(bits), col(s), s)? else {
            return Ok(());
        };
        if let Some(max) = self.maxrange4 {
            if max <= u64::from(b - a) {
                return self.warn(
                    col(s),
                    Problem::RangeTooLarge {
                        size: u64::from(b - a) + 1,
                        max,
                    },
                );
            }
        }
        let v = if not {
            EXCL
        } else {
            match self.value(&s[n..], col)? {
                Some(v) => v,
                None => return Ok(()),
            }
        };
        self.entries += 1;
        let (v4x, v4) = (&mut self.v4x, &mut self.v4);
        expand_octets(a, b, |start, bits| {
            if bits == 32 {
                v4x.push((start, v));
            } else {
                v4.push(((start, bits), v));
            }
        });
        Ok(())
    }

    fn ip4tset_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') {
            if self.tset_default.is_none() {
                if let Some(id) = self.a_txt(line, 0, col)? {
                    self.tset_default = Some(id);
                }
            }
            return Ok(());
        }
        match addr::ip4prefix(line.as_bytes()) {
            Ok((a, 32, n)) if ends_entry(&line.as_bytes()[n..]) => {
                self.entries += 1;
                self.v4x.push((a, 0));
                Ok(())
            }
            Ok((_, 32, n)) if !matches!(line.as_bytes().get(n), Some(b'/' | b'-')) => self.warn(
                col(line),
                Problem::BadAddress {
                    text: field(line).into(),
                },
            ),
            Ok(_) => self.warn(
                col(line),
                Problem::WrongEntry {
                    text: field(line).into(),
                    dataset: "ip4tset",
                    why: "only single addresses a.b.c.d, without exclusions",
                },
            ),
            Err(e) => self.warn(col(line), addr_problem(e, field(line))),
        }
    }

    fn ip4trie_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') {
            return self.default_line(line, col);
        }
        let (not, s) = Self::bang(line);
        let (a, bits, n) = match addr::ip4cidr(s.as_bytes()) {
            Ok(r) if ends_entry(&s.as_bytes()[r.2..]) => r,
            Ok(_) => {
                return self.warn(
                    col(s),
                    Problem::BadAddress {
                        text: field(s).into(),
                    },
                )
            }
            Err(e) => return self.warn(col(s), addr_problem(e, field(s))),
        };
        let Some(a) = self.network_start(a, addr::mask4(bits), col(s), s)? else {
            return Ok(());
        };
        if let Some(max) = self.maxrange4 {
            let span = u64::from(!addr::mask4(bits));
            if max <= span {
                return self.warn(
                    col(s),
                    Problem::RangeTooLarge {
                        size: span + 1,
                        max,
                    },
                );
            }
        }
        let v = if not {
            EXCL
        } else {
            match self.value(&s[n..], col)? {
                Some(v) => v,
                None => return Ok(()),
            }
        };
        if !self.seen4.insert((a, bits)) {
            let net = format!("{}/{}", Ipv4Addr::from(a), bits);
            return self.warn(col(s), Problem::Duplicate { net: net.into() });
        }
        self.entries += 1;
        if bits == 32 {
            self.v4x.push((a, v));
        } else {
            self.v4.push(((a, bits), v));
        }
        Ok(())
    }

    fn ip6trie_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') && !line.starts_with("::") {
            return self.default_line(line, col);
        }
        let (not, s) = Self::bang(line);
        let (a, bits, n) = match addr::ip6cidr(s.as_bytes()) {
            Ok(r) if ends_entry(&s.as_bytes()[r.2..]) => r,
            Ok(_) => {
                return self.warn(
                    col(s),
                    Problem::BadAddress {
                        text: field(s).into(),
                    },
                )
            }
            Err(e) => return self.warn(col(s), addr_problem(e, field(s))),
        };
        let Some(a) = self.network_start(a, addr::mask6(bits), col(s), s)? else {
            return Ok(());
        };
        let v = if not {
            EXCL
        } else {
            match self.value(&s[n..], col)? {
                Some(v) => v,
                None => return Ok(()),
            }
        };
        if !self.seen6.insert((a, bits)) {
            let mut net = String::new();
            addr::ip6_text(a, &mut net);
            net.push_str(&format!("/{bits}"));
            return self.warn(col(s), Problem::Duplicate { net: net.into() });
        }
        self.entries += 1;
        self.v6.push(((a, bits), v));
        Ok(())
    }

    fn ip6tset_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') {
            if self.tset_default.is_none() {
                if let Some(id) = self.a_txt(line, 0, col)? {
                    self.tset_default = Some(id);
                }
            }
            return Ok(());
        }
        let (not, s) = Self::bang(line);
        let (a, bits) = match addr::ip6prefix(s.as_bytes()) {
            Ok((a, bits, n)) if ends_entry(&s.as_bytes()[n..]) => (a, bits),
            Ok((_, _, n)) if s.as_bytes().get(n) == Some(&b'/') => (0, 0),
            Ok(_) => {
                return self.warn(
                    col(s),
                    Problem::BadAddress {
                        text: field(s).into(),
                    },
                )
            }
            Err(e) => return self.warn(col(s), addr_problem(e, field(s))),
        };
        let want = if not { 128 } else { 64 };
        // (bits 0: a CIDR network, which ip6tset does not take)
        if bits != want {
            return self.warn(
                col(s),
                Problem::WrongEntry {
                    text: field(s).into(),
                    dataset: "ip6tset",
                    why: if not {
                        "an exclusion is one full address (128 bits)"
                    } else {
                        "an entry is a /64 written as four words"
                    },
                },
            );
        }
        self.entries += 1;
        self.v6.push(((a, bits), if not { EXCL } else { 0 }));
        Ok(())
    }

    fn dnset_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if line.starts_with(':') {
            return self.default_line(line, col);
        }
        let (not, s) = Self::bang(line);
        let (scope, name_part) = if let Some(r) = s.strip_prefix('.') {
            (DomainScope::NameAndSubdomains, r)
        } else if let Some(r) = s.strip_prefix("*.") {
            (DomainScope::Subdomains, r)
        } else {
            (DomainScope::Exact, s)
        };
        let name = field(name_part);
        let rest = &name_part[name.len()..];
        let domain = if name.is_empty() || name == "." {
            Err(crate::subject::SubjectError::Empty)
        } else {
            Domain::normalize(name)
        };
        let domain = match domain {
            Ok(d) => d,
            Err(reason) => {
                return self.warn(
                    col(s),
                    Problem::BadDomain {
                        text: field(s).into(),
                        reason,
                    },
                )
            }
        };
        let v = if not {
            EXCL
        } else {
            match self.value(rest, col)? {
                Some(v) => v,
                None => return Ok(()),
            }
        };
        self.entries += 1;
        // `.name` is `name` plus `*.name`; equal names merge when the list is built
        let exact = if scope.covers_name() { v } else { NONE };
        let sub = if scope.covers_subdomains() { v } else { NONE };
        self.names.push(domain.as_bytes(), exact, sub);
        Ok(())
    }

    /// An access dataset's value: `=keyword`, `:keyword`, or an A+TXT value with the
    /// default A and TXT (rbldnsd's `ds_acl_parse_val`). `None`: the line is skipped.
    fn acl_value(
        &mut self,
        s: &str,
        col: &dyn Fn(&str) -> usize,
    ) -> Result<Option<AclValue>, ZoneError> {
        let keys = self.kind == DatasetKind::AclKey;
        if let Some(k) = s.strip_prefix('=') {
            return match keyword(k, keys) {
                Some(a) => Ok(Some(AclValue::Keyword(a))),
                None => self
                    .warn(
                        col(s),
                        Problem::BadKeyword {
                            text: field(k).into(),
                        },
                    )
                    .map(|()| None),
            };
        }
        if let Some(a) = s.strip_prefix(':').and_then(|k| keyword(k, keys)) {
            return Ok(Some(AclValue::Keyword(a)));
        }
        Ok(self.a_txt(s, self.default_rr, col)?.map(AclValue::Rr))
    }

    /// A default line of an access dataset: a keyword sets the default action, an A+TXT
    /// value the default action and the default A+TXT.
    fn acl_default_line(
        &mut self,
        line: &str,
        col: &dyn Fn(&str) -> usize,
    ) -> Result<(), ZoneError> {
        match self.acl_value(line, col)? {
            Some(AclValue::Rr(id)) => {
                self.default_rr = id;
                self.acl_default = AclValue::Rr(id);
            }
            Some(v) => self.acl_default = v,
            None => {}
        }
        Ok(())
    }

    /// The value after an entry of an access dataset: the default action when there is
    /// none (or only a comment).
    fn acl_entry_value(
        &mut self,
        rest: &str,
        col: &dyn Fn(&str) -> usize,
    ) -> Result<Option<AclValue>, ZoneError> {
        let rest = skip_space(rest);
        if rest.is_empty() || is_comment(rest.as_bytes()[0]) {
            return Ok(Some(self.acl_default.clone()));
        }
        self.acl_value(rest, col)
    }

    /// An `acl` line: an IPv4 or IPv6 network as ip4trie and ip6trie take them, and an
    /// action; or a default line.
    fn acl_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if (line.starts_with(':') && !line.starts_with("::")) || line.starts_with('=') {
            return self.acl_default_line(line, col);
        }
        let b = line.as_bytes();
        let (v6, a, bits, n) = match addr::ip4cidr(b) {
            Ok((a, bits, n)) if ends_entry(&b[n..]) => {
                let Some(a) = self.network_start(a, addr::mask4(bits), col(line), line)? else {
                    return Ok(());
                };
                if let Some(max) = self.maxrange4 {
                    let span = u64::from(!addr::mask4(bits));
                    if max <= span {
                        return self.warn(
                            col(line),
                            Problem::RangeTooLarge {
                                size: span + 1,
                                max,
                            },
                        );
                    }
                }
                (false, u128::from(a), bits, n)
            }
            r4 => match addr::ip6cidr(b) {
                Ok((a, bits, n)) if ends_entry(&b[n..]) => {
                    let Some(a) = self.network_start(a, addr::mask6(bits), col(line), line)? else {
                        return Ok(());
                    };
                    (true, a, bits, n)
                }
                r6 => {
                    let e = if field(line).contains(':') {
                        r6.err()
                    } else {
                        r4.err()
                    };
                    let p = match e {
                        Some(e) => addr_problem(e, field(line)),
                        None => Problem::BadAddress {
                            text: field(line).into(),
                        },
                    };
                    return self.warn(col(line), p);
                }
            },
        };
        let Some(v) = self.acl_entry_value(&line[n..], col)? else {
            return Ok(());
        };
        if self
            .acl_nets
            .iter()
            .any(|e| (e.0, e.1, e.2) == (v6, a, bits))
        {
            let net = if v6 {
                format!("{}/{bits}", Ipv6Addr::from(a))
            } else {
                format!("{}/{bits}", Ipv4Addr::from(a as u32))
            };
            return self.warn(col(line), Problem::Duplicate { net: net.into() });
        }
        self.entries += 1;
        self.acl_nets.push((v6, a, bits, v));
        Ok(())
    }

    /// An `aclkey` line: a key (one DNS label) and an action; or a default line.
    fn aclkey_line(&mut self, line: &str, col: &dyn Fn(&str) -> usize) -> Result<(), ZoneError> {
        if (line.starts_with(':') && !line.starts_with("::")) || line.starts_with('=') {
            return self.acl_default_line(line, col);
        }
        let end = line.find([':', '=', ' ', '\t']).unwrap_or(line.len());
        let key = &line[..end];
        if key.len() > 63 || key.contains('.') || key.bytes().any(|c| !(0x21..=0x7e).contains(&c)) {
            return self.warn(col(line), Problem::BadKey { text: key.into() });
        }
        let Some(v) = self.acl_entry_value(&line[end..], col)? else {
            return Ok(());
        };
        self.entries += 1;
        let key: Box<str> = key.to_ascii_lowercase().into();
        match self.acl_keys.iter_mut().find(|(k, _)| *k == key) {
            Some(e) => e.1 = v,
            None => self.acl_keys.push((key, v)),
        }
        Ok(())
    }

    fn special(&mut self, line: &str, body: &str, column: usize) -> Result<(), ZoneError> {
        let bad =
            |p: &mut DatasetParser| p.warn(column, Problem::BadDirective { text: line.into() });
        let word = field(body);
        let args = skip_space(&body[word.len()..]);
        let has_args = body.len() > word.len();
        let kw = word.to_ascii_lowercase();
        let access = matches!(self.kind, DatasetKind::Acl | DatasetKind::AclKey);
        match kw.as_str() {
            "soa" | "ns" | "nameserver" if access => return bad(self),
            "soa" if has_args => {
                if self.soa.is_some() {
                    return Ok(());
                }
                match parse_soa(args) {
                    Some(s) => self.soa = Some(s),
                    None => return bad(self),
                }
            }
            "ns" | "nameserver" if has_args => {
                if self.ns.is_some() {
                    return Ok(());
                }
                match parse_ns(args) {
                    Some(n) => self.ns = Some(n),
                    None => return bad(self),
                }
            }
            "ttl" if has_args => match parse_time(args) {
                Some((t, "")) => self.ttl = (t != 0).then_some(t),
                _ => return bad(self),
            },
            "maxrange4" if has_args => {
                let (cidr, n) = match args.strip_prefix('/') {
                    Some(r) => (true, r),
                    None => (false, args),
                };
                let r: u64 = match n.parse::<u32>() {
                    Ok(r) if r != 0 && (!cidr || r <= 32) => {
                        if cidr {
                            1u64 << (32 - r)
                        } else {
                            u64::from(r)
                        }
                    }
                    _ => return bad(self),
                };
                match self.maxrange4 {
                    Some(cur) if cur < r => {
                        return self.warn(column, Problem::MaxRangeIncrease { from: cur, to: r })
                    }
                    _ => self.maxrange4 = Some(r),
                }
            }
            "timestamp" if has_args => match parse_timestamps(args) {
                Some((stamp, exp)) => {
                    if stamp.is_some() {
                        self.timestamp = stamp;
                    }
                    if let Some(e) = exp {
                        if self.expires.is_none_or(|cur| cur > e) {
                            self.expires = Some(e);
                        }
                    }
                }
                None => return bad(self),
            },
            "dataset" if has_args => return self.warn(column, Problem::NotCombined),
            _ => {
                let b = body.as_bytes();
                if b.len() >= 2 && (b[0].is_ascii_digit() || b[0] == b'=') && is_space(b[1]) {
                    let n = if b[0] == b'=' {
                        BASE
                    } else {
                        usize::from(b[0] - b'0')
                    };
                    let v = skip_space(&body[2..]);
                    if v.is_empty() {
                        return bad(self);
                    }
                    if self.subst[n].is_none() {
                        self.subst[n] = Some(v.into());
                    }
                } else {
                    return bad(self);
                }
            }
        }
        Ok(())
    }

    /// Compiles what was read into a [`Dataset`].
    ///
    /// # Examples
    ///
    /// See [`DatasetParser`].
    pub fn finish(mut self) -> Dataset {
        self.finish_subset();
        let DatasetParser {
            kind,
            files,
            rrs,
            tset_default,
            subst,
            v4x,
            v4,
            v6,
            names,
            soa,
            ns,
            ttl,
            timestamp,
            expires,
            warnings,
            lines,
            entries,
            subsets,
            acl_nets,
            acl_keys,
            acl_default,
            ..
        } = self;
        let listings: Vec<Listing> = rrs
            .iter()
            .map(|(a, txt)| {
                let t = expand_template(txt, &subst);
                let l = Listing::new(*a);
                if t.is_empty() {
                    l
                } else {
                    l.with_txt(t)
                }
            })
            .collect();
        let tset = matches!(kind, DatasetKind::Ip4TSet | DatasetKind::Ip6TSet);
        let id = |v: u32| -> u32 {
            if tset && v != EXCL {
                tset_default.unwrap_or(0)
            } else {
                v
            }
        };
        let mut b = List::builder();
        b.precedence(Precedence::MostSpecific);
        let ids: Vec<ListingId> = listings.iter().map(|l| b.listing(l.clone())).collect();
        let mut merger = Merger {
            listings: &listings,
            ids: &ids,
            cache: HashMap::new(),
        };
        // single addresses: sorted, merged and handed over in place
        let mut v4x = v4x;
        v4x.iter_mut().for_each(|e| e.1 = id(e.1));
        v4x.sort_unstable();
        let (mut i, mut w) = (0, 0);
        while i < v4x.len() {
            let mut j = i + 1;
            while j < v4x.len() && v4x[j].0 == v4x[i].0 {
                j += 1;
            }
            let l = if j - i == 1 {
                (v4x[i].1 != EXCL).then(|| ids[v4x[i].1 as usize])
            } else {
                merger.merged(&mut b, v4x[i..j].iter().map(|e| e.1))
            };
            v4x[w] = (v4x[i].0, ListingId::raw(l));
            w += 1;
            i = j;
        }
        v4x.truncate(w);
        b.append_v4_addresses(v4x);
        let mut v4 = v4;
        v4.iter_mut().for_each(|e| e.1 = id(e.1));
        // one integer key sorts faster than the tuple
        v4.sort_unstable_by_key(|e| (u64::from(e.0 .0) << 8) | u64::from(e.0 .1));
        merger.runs(&mut b, &v4, |b, (a, bits), l| {
            let net = IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::from(a), bits));
            match l {
                Some(l) => b.insert_net_id(net, l),
                None => b.exclude_net(net),
            };
        });
        drop(v4);
        let mut v6 = v6;
        v6.iter_mut().for_each(|e| e.1 = id(e.1));
        v6.sort_unstable_by_key(|e| e.0);
        merger.runs(&mut b, &v6, |b, (a, bits), l| {
            let net = IpNet::V6(Ipv6Net::new_assert(Ipv6Addr::from(a), bits));
            match l {
                Some(l) => b.insert_net_id(net, l),
                None => b.exclude_net(net),
            };
        });
        // names: merged (as the merger does, TXT sorted) when the list is built
        b.sorted_merges();
        b.append_names(names, |v| Some(ids[v as usize]));
        let action = |v: &AclValue| match v {
            AclValue::Keyword(k) => k.clone(),
            AclValue::Rr(id) => {
                let (code, txt) = &rrs[*id as usize];
                AclAction::Always {
                    code: *code,
                    txt: expand_template(txt, &subst).into(),
                }
            }
        };
        let acl = (kind == DatasetKind::Acl).then(|| {
            let mut a = Acl::default();
            for (v6, net, bits, v) in &acl_nets {
                a.insert(*v6, *net, *bits, action(v));
            }
            a
        });
        let keys = (kind == DatasetKind::AclKey).then(|| {
            let mut k = AclKeys::default();
            k.set_default(action(&acl_default));
            for (key, v) in &acl_keys {
                k.insert(key, action(v));
            }
            k
        });
        Dataset {
            kind,
            list: b.build(),
            soa,
            ns,
            ttl,
            timestamp,
            expires,
            warnings,
            files,
            lines,
            entries,
            mtime: None,
            subsets,
            acl,
            keys,
        }
    }
}

/// Merges the values of equal entries the way rbldnsd answers them (an exclusion of the
/// entry wins; else every A and TXT), into one listing with its TXTs in sorted order, so
/// that the compiled list does not depend on the order of the lines.
struct Merger<'a> {
    listings: &'a [Listing],
    /// the builder's id of each listing
    ids: &'a [ListingId],
    cache: HashMap<Vec<u32>, ListingId>,
}

impl Merger<'_> {
    /// The value of an entry given with these values (an exclusion wins).
    fn merged(&mut self, b: &mut ListBuilder, ids: impl Iterator<Item = u32>) -> Option<ListingId> {
        let mut ids: Vec<u32> = ids.collect();
        if ids.contains(&EXCL) {
            return None;
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.len() == 1 {
            return Some(self.ids[ids[0] as usize]);
        }
        let listings = self.listings;
        Some(*self.cache.entry(ids).or_insert_with_key(|ids| {
            let mut codes = Vec::new();
            let mut txt: Vec<&str> = Vec::new();
            for &id in ids {
                let l = &listings[id as usize];
                codes.extend_from_slice(l.codes());
                txt.extend(l.txt().iter().map(|t| &**t));
            }
            txt.sort_unstable();
            txt.dedup();
            b.listing(
                txt.into_iter()
                    .fold(Listing::with_codes(codes), |l, t| l.with_txt(t)),
            )
        }))
    }

    /// Feeds `put` one merged value per distinct key of `v`, which is sorted by key.
    fn runs<K: Ord + Clone>(
        &mut self,
        b: &mut ListBuilder,
        v: &[(K, u32)],
        mut put: impl FnMut(&mut ListBuilder, K, Option<ListingId>),
    ) {
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && v[j].0 == v[i].0 {
                j += 1;
            }
            let key = v[i].0.clone();
            let l = if j - i == 1 {
                (v[i].1 != EXCL).then(|| self.ids[v[i].1 as usize])
            } else {
                self.merged(b, v[i..j].iter().map(|e| e.1))
            };
            put(b, key, l);
            i = j;
        }
    }
}

/// Splits `[a, b]` into rbldnsd ip4set's octet-aligned blocks (/32, /24, /16, /8), calling
/// `f(start, prefix_len)` for each, in rbldnsd's order.
pub(crate) fn expand_octets(a: u32, b: u32, mut f: impl FnMut(u32, u8)) {
    // work in units of the current level, as rbldnsd's ip4range_expand_octet does
    let (mut a, mut b) = (u64::from(a), u64::from(b));
    for level in 0..3u32 {
        let shift = 8 * level;
        let bits = 32 - shift as u8;
        let put = |f: &mut dyn FnMut(u32, u8), start: u64, count: u64, sh: u32, bits: u8| {
            for k in 0..count {
                f(((start + k) << sh) as u32, bits);
            }
        };
        if a > b {
            // the edges took everything (10.0.0.5-10.0.1.3)
            return;
        }
        if (a | 255) >= b {
            if b - a == 255 {
                put(&mut f, a >> 8, 1, shift + 8, bits - 8);
            } else {
                put(&mut f, a, b - a + 1, shift, bits);
            }
            return;
        }
        if a & 255 != 0 {
            put(&mut f, a, 256 - (a & 255), shift, bits);
            a = (a >> 8) + 1;
        } else {
            a >>= 8;
        }
        if b & 255 != 255 {
            put(&mut f, b & !255, (b & 255) + 1, shift, bits);
            if b >> 8 == 0 {
                return;
            }
            b = (b >> 8) - 1;
        } else {
            b >>= 8;
        }
    }
    if a <= b {
        for k in a..=b {
            f((k << 24) as u32, 8);
        }
    }
}

/// Expands `$n` and `$=` of a raw TXT as Debian's rbldnsd (1.0~20210120) answers, leaving a
/// template with only `$` (the subject) and `$$`.
///
/// - text starting with `=`: the base template is not used, the `=` is dropped;
/// - else with a base template `$=`: the base is the template, its `$=` the entry's text (or
///   the subject when the entry has none), so an entry without TXT gets one;
/// - `$n` that is not defined stays as the two characters `$n`;
/// - inserted texts (`$n` values, the entry's text in `$=`) are taken as they are, their own
///   `$` not expanded. (The rspamd fork 1.0.2 also puts the entry's text in place of `$` in the
///   base template; Debian's binary puts the subject there, and that is followed here.)
pub(crate) fn expand_template(txt: &str, subst: &[Option<Box<str>>; 11]) -> String {
    enum Sx<'a> {
        Lit(&'a str),
        Subject,
    }
    let base = subst[BASE].as_deref().filter(|b| !b.is_empty());
    let (tpl, sx) = if let Some(r) = txt.strip_prefix('=') {
        (r, Sx::Lit(r))
    } else if let Some(b) = base {
        (
            b,
            if txt.is_empty() {
                Sx::Subject
            } else {
                Sx::Lit(txt)
            },
        )
    } else {
        (txt, Sx::Lit(txt))
    };
    let lit = |out: &mut String, s: &str| {
        for c in s.chars() {
            if c == '$' {
                out.push_str("$$");
            } else {
                out.push(c);
            }
        }
    };
    let mut out = String::with_capacity(tpl.len());
    let mut rest = tpl;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.as_bytes().first() {
            Some(b'$') => {
                out.push_str("$$");
                rest = &after[1..];
            }
            Some(&d) if d.is_ascii_digit() => {
                match subst[usize::from(d - b'0')].as_deref() {
                    Some(v) => lit(&mut out, v),
                    None => {
                        out.push_str("$$");
                        out.push(d as char);
                    }
                }
                rest = &after[1..];
            }
            Some(b'=') => {
                match sx {
                    Sx::Lit(t) => lit(&mut out, t),
                    Sx::Subject => out.push('$'),
                }
                rest = &after[1..];
            }
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// rbldnsd's time field: digits with an optional unit (s, m, h, d, w). Returns the seconds
/// and the rest after the spaces that follow.
fn parse_time(s: &str) -> Option<(u32, &str)> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let mut n: u32 = s[..digits].parse().ok()?;
    let mut rest = &s[digits..];
    let m = match rest.as_bytes().first().map(u8::to_ascii_lowercase) {
        Some(b'w') => Some(7 * 24 * 3600),
        Some(b'd') => Some(24 * 3600),
        Some(b'h') => Some(3600),
        Some(b'm') => Some(60),
        Some(b's') => Some(1),
        _ => None,
    };
    if let Some(m) = m {
        n = n.checked_mul(m)?;
        rest = &rest[1..];
    }
    if !rest.is_empty() {
        if !is_space(rest.as_bytes()[0]) {
            return None;
        }
        rest = skip_space(rest);
    }
    Some((n, rest))
}

fn parse_name(s: &str) -> Option<(Box<str>, &str)> {
    let w = field(s);
    if w.is_empty() {
        return None;
    }
    let name: Box<str> = if w == "." {
        ".".into()
    } else {
        Domain::new(w).ok()?.as_str().into()
    };
    Some((name, skip_space(&s[w.len()..])))
}

fn parse_soa(s: &str) -> Option<Soa> {
    let (ttl, s) = parse_time(s)?;
    let (mname, s) = parse_name(s)?;
    let (rname, s) = parse_name(s)?;
    let w = field(s);
    let serial: u32 = w
        .parse()
        .ok()
        .filter(|_| w.bytes().all(|c| c.is_ascii_digit()))?;
    let s = skip_space(&s[w.len()..]);
    let (refresh, s) = parse_time(s)?;
    let (retry, s) = parse_time(s)?;
    let (expire, s) = parse_time(s)?;
    let (minimum, s) = parse_time(s)?;
    if !s.is_empty() {
        return None;
    }
    Some(Soa {
        ttl: (ttl != 0).then_some(ttl),
        mname,
        rname,
        serial,
        refresh,
        retry,
        expire,
        minimum,
    })
}

fn parse_ns(s: &str) -> Option<NsRecords> {
    let (ttl, mut s) = parse_time(s)?;
    let mut names = Vec::new();
    while !s.is_empty() {
        let w = field(s);
        if w.starts_with('-') {
            s = skip_space(&s[w.len()..]);
            continue;
        }
        let (n, r) = parse_name(s)?;
        if names.len() < 32 {
            names.push(n);
        }
        s = r;
    }
    Some(NsRecords {
        ttl: (ttl != 0).then_some(ttl),
        names,
    })
}

/// `$TIMESTAMP dstamp [expires]`: `yyyy[:-]mm[:-]dd[[:-]hh[[:-]mi[[:-]ss]]]`, `0` or `-`
/// for none, expires also `+rel`.
fn parse_timestamps(s: &str) -> Option<(Option<Timestamp>, Option<Timestamp>)> {
    let w = field(s);
    let stamp = parse_stamp(w)?;
    let rest = skip_space(&s[w.len()..]);
    if rest.is_empty() {
        return Some((stamp, None));
    }
    if let Some(r) = rest.strip_prefix('+') {
        let (n, tail) = parse_time(r)?;
        if !tail.is_empty() || n == 0 {
            return None;
        }
        let st = stamp?;
        return Some((
            stamp,
            Some(st + std::time::Duration::from_secs(u64::from(n))),
        ));
    }
    if field(rest).len() != rest.len() {
        return None;
    }
    Some((stamp, parse_stamp(rest)?))
}

fn parse_stamp(w: &str) -> Option<Option<Timestamp>> {
    if w == "0" || w == "-" || w == ":" {
        return Some(None);
    }
    let b = w.as_bytes();
    let mut i = 0;
    let mut take = |max_digits: usize, min: i64, max: i64, required: bool| -> Option<i64> {
        if i >= b.len() {
            return if required { None } else { Some(min.max(0)) };
        }
        let start = i;
        while i < b.len() && i - start < max_digits && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let n: i64 = w[start..i].parse().ok()?;
        if n < min || n > max {
            return None;
        }
        if i < b.len() && (b[i] == b':' || b[i] == b'-') {
            i += 1;
        }
        Some(n)
    };
    let year = take(4, 1970, 2038, true)?;
    let month = take(2, 1, 12, true)?;
    let day = take(2, 1, 31, true)?;
    let hour = take(2, 0, 23, false)?;
    let min = take(2, 0, 59, false)?;
    let sec = take(2, 0, 59, false)?;
    if i != b.len() {
        return None;
    }
    let text = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}Z");
    text.parse::<Timestamp>().ok().map(Some)
}

/// Loads the files of a dataset from disk (each read line by line).
pub(crate) fn load_files(
    kind: DatasetKind,
    files: &[Box<str>],
    options: &super::LoadOptions,
) -> Result<Dataset, ZoneError> {
    let mut p = DatasetParser::new(kind);
    p.strictness(options.strictness)
        .host_bits(options.host_bits);
    let mut newest: Option<i64> = None;
    for f in files {
        let io = |e: std::io::Error| ZoneError::Io {
            file: f.clone(),
            kind: e.kind(),
        };
        let file = std::fs::File::open(&**f).map_err(io)?;
        if let Ok(m) = file.metadata().and_then(|m| m.modified()) {
            let t = Timestamp::from_system_time(m).unix_seconds();
            newest = Some(newest.map_or(t, |n| n.max(t)));
        }
        p.read_file(f, std::io::BufReader::with_capacity(1 << 16, file))?;
    }
    let mut ds = p.finish();
    ds.mtime = newest.and_then(|t| Timestamp::from_unix(t).ok());
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subst(pairs: &[(usize, &str)]) -> [Option<Box<str>>; 11] {
        let mut s: [Option<Box<str>>; 11] = Default::default();
        for &(i, v) in pairs {
            s[i] = Some(v.into());
        }
        s
    }

    #[test]
    fn templates_as_debian_rbldnsd() {
        let s = subst(&[
            (BASE, "See http://www.example.com/bl?$= ($) for details"),
            (1, "ONE"),
        ]);
        assert_eq!(
            expand_template("r123", &s),
            "See http://www.example.com/bl?r123 ($) for details"
        );
        assert_eq!(
            expand_template("", &s),
            "See http://www.example.com/bl?$ ($) for details"
        );
        assert_eq!(
            expand_template("=See other $1 $= about $", &s),
            "See other ONE See other $$1 $$= about $$ about $"
        );
        assert_eq!(
            expand_template("x$2y$$z$", &s),
            "See http://www.example.com/bl?x$$2y$$$$z$$ ($) for details"
        );
        let s = subst(&[(1, "See http://www.example.com/bl"), (2, "for details")]);
        assert_eq!(
            expand_template("$1/spammer/$ $2", &s),
            "See http://www.example.com/bl/spammer/$ for details"
        );
        assert_eq!(
            expand_template("some $$$$. $1/$", &s),
            "some $$$$. See http://www.example.com/bl/$"
        );
        assert_eq!(expand_template("cost $9", &s), "cost $$9");
        assert_eq!(expand_template("a$", &s), "a$");
    }

    #[test]
    fn octet_expansion() {
        let mut v = Vec::new();
        expand_octets(0x0a00_0000, 0x0a0f_ffff, |a, b| v.push((a, b)));
        assert_eq!(v.len(), 16);
        assert!(v.iter().all(|&(_, b)| b == 16));
        v.clear();
        expand_octets(0x0a00_0001, 0x0a00_0002, |a, b| v.push((a, b)));
        assert_eq!(v, [(0x0a00_0001, 32), (0x0a00_0002, 32)]);
        v.clear();
        expand_octets(0, u32::MAX, |a, b| v.push((a, b)));
        assert_eq!(v.len(), 256);
        v.clear();
        expand_octets(0x0a00_00fe, 0x0a00_0201, |a, b| v.push((a, b)));
        assert_eq!(
            v,
            [
                (0x0a00_00fe, 32),
                (0x0a00_00ff, 32),
                (0x0a00_0200, 32),
                (0x0a00_0201, 32),
                (0x0a00_0100, 24)
            ]
        );
    }

    #[test]
    fn time_fields() {
        assert_eq!(parse_time("35m"), Some((2100, "")));
        assert_eq!(parse_time("1w 2"), Some((604_800, "2")));
        assert_eq!(parse_time("x"), None);
        assert_eq!(parse_time("5q"), None);
    }
}
