//! Zone transfers for secondaries: AXFR (RFC 5936) and IXFR (RFC 1995) over TCP, from a
//! bounded history of the versions a zone was served with, and NOTIFY (RFC 1996) when a
//! zone changes.
//!
//! What a transfer carries is the zone [`Zone::master_records`](crate::zone::Zone::master_records)
//! gives, the one `rblkit zone --format bind` writes, with the serial the server answers
//! with; for a zone answering from a compiled list, what
//! [`list_master_records`](crate::zone::list_master_records) gives. IXFR sends
//! the differences between record sets of successive versions: exact, whatever the
//! wildcards of the master file became.

use super::catalog::{serial_gt, Catalog, ServedZone, Source};
use super::net::{Event, EventFn};
use super::request::{skip_name, Request};
use super::tsig::{self, Signer, TsigKey, Verdict};
use crate::subject::Domain;
use crate::zone::{list_master_records, MasterRecord, RecordData};
use ipnet::IpNet;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SOA: u16 = 6;
const IXFR: u16 = 251;
const AXFR: u16 = 252;
const NS: u16 = 2;
const A: u16 = 1;
const CNAME: u16 = 5;
const TXT: u16 = 16;
const IN: u16 = 1;
const NOTIFY_OPCODE: u8 = 4;

/// The most versions of a zone whose differences are kept for IXFR.
const MAX_DIFFS: usize = 16;
/// The largest message of a transfer (the TCP limit).
const MAX_MESSAGE: usize = 65535;
/// NOTIFY: how long to wait for the first answer (doubled each try) and how often to try.
const NOTIFY_FIRST_WAIT: Duration = Duration::from_secs(1);
const NOTIFY_TRIES: u32 = 6;

/// How a transfer was answered.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::TransferStyle;
/// assert_eq!(TransferStyle::Ixfr.to_string(), "IXFR");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferStyle {
    /// AXFR: the whole zone.
    Axfr,
    /// IXFR answered with the differences since the secondary's serial.
    Ixfr,
    /// IXFR answered with the whole zone (the secondary's serial is unknown or too old).
    IxfrFull,
    /// IXFR from a secondary that is up to date: the SOA alone.
    IxfrUpToDate,
}

impl std::fmt::Display for TransferStyle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransferStyle::Axfr => "AXFR",
            TransferStyle::Ixfr => "IXFR",
            TransferStyle::IxfrFull => "IXFR (whole zone)",
            TransferStyle::IxfrUpToDate => "IXFR (up to date)",
        })
    }
}

/// One record in wire form: `[owner length][owner labels relative to the zone][type][TTL]
/// [data]`, names in the data absolute and uncompressed. Equal records are equal bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rr(Box<[u8]>);

impl Rr {
    fn new(owner: &str, rtype: u16, ttl: u32, rdata: &[u8]) -> Option<Rr> {
        let mut b = Vec::with_capacity(owner.len() + 8 + rdata.len());
        b.push(0);
        if owner != "@" {
            labels(owner, &mut b)?;
        }
        b[0] = u8::try_from(b.len() - 1).ok()?;
        b.extend_from_slice(&rtype.to_be_bytes());
        b.extend_from_slice(&ttl.to_be_bytes());
        if rdata.len() > usize::from(u16::MAX) {
            return None;
        }
        b.extend_from_slice(rdata);
        Some(Rr(b.into()))
    }
    fn owner(&self) -> &[u8] {
        &self.0[1..1 + usize::from(self.0[0])]
    }
    /// Type, TTL and data.
    fn rest(&self) -> &[u8] {
        &self.0[1 + usize::from(self.0[0])..]
    }
}

/// Appends the labels of a dotted name (no root label).
fn labels(name: &str, out: &mut Vec<u8>) -> Option<()> {
    for l in name.split('.') {
        if l.is_empty() || l.len() > 63 {
            return None;
        }
        out.push(l.len() as u8);
        out.extend(l.bytes().map(|c| c.to_ascii_lowercase()));
    }
    (out.len() <= 255).then_some(())
}

/// An absolute dotted name in wire form, root label included.
fn absolute(name: &str, out: &mut Vec<u8>) -> Option<()> {
    let name = name.trim_end_matches('.');
    if !name.is_empty() {
        labels(name, out)?;
    }
    out.push(0);
    Some(())
}

/// Gives the master records of a zone version to its argument.
type Walk<'a> = dyn FnMut(
        &mut dyn FnMut(&MasterRecord<'_>),
    ) -> Result<crate::zone::MasterReport, crate::zone::ZoneError>
    + 'a;

/// One version of a zone: its SOA and its other records, sorted.
#[derive(Debug)]
struct Version {
    serial: u32,
    soa: Rr,
    records: Vec<Rr>,
}

impl Version {
    #[cfg(test)]
    fn of(zone: &crate::zone::Zone, serial: u32) -> Result<Version, Box<str>> {
        Version::from_records(zone.name(), serial, &mut |each| zone.master_records(each))
    }

    /// The version of a served zone: its master records with the served serial.
    fn of_served(z: &ServedZone, default_ttl: u32) -> Result<Version, Box<str>> {
        match &z.source {
            Source::Zone(zone) => {
                Version::from_records(&z.name, z.serial, &mut |each| zone.master_records(each))
            }
            Source::List { list, ttl, soa, ns } => {
                let soa = soa.as_deref().map(|s| (s, z.serial));
                let ttl = ttl.unwrap_or(default_ttl);
                Version::from_records(&z.name, z.serial, &mut |each| {
                    list_master_records(&z.name, list, soa, ns.as_ref(), ttl, each)
                })
            }
        }
    }

    /// The version made of the records `walk` gives, the SOA's serial replaced by `serial`.
    fn from_records(zone: &Domain, serial: u32, walk: &mut Walk<'_>) -> Result<Version, Box<str>> {
        let mut soa = None;
        let mut records = Vec::new();
        let mut bad: Option<Box<str>> = None;
        let name = zone.as_str();
        walk(&mut |r| {
            let mut d = Vec::new();
            let rtype = match r.data {
                RecordData::Soa {
                    mname,
                    rname,
                    times,
                    ..
                } => {
                    let ok = absolute(mname, &mut d).and_then(|_| absolute(rname, &mut d));
                    if ok.is_none() {
                        bad.get_or_insert_with(|| format!("SOA names {mname} {rname}").into());
                    }
                    d.extend_from_slice(&serial.to_be_bytes());
                    for t in times {
                        d.extend_from_slice(&t.to_be_bytes());
                    }
                    SOA
                }
                RecordData::Ns(n) => {
                    if absolute(n, &mut d).is_none() {
                        bad.get_or_insert_with(|| format!("name server {n}").into());
                    }
                    NS
                }
                RecordData::A(a) => {
                    d.extend_from_slice(&a.octets());
                    A
                }
                RecordData::Txt(t) => {
                    d.push(t.len().min(255) as u8);
                    d.extend_from_slice(&t.as_bytes()[..t.len().min(255)]);
                    TXT
                }
                RecordData::Cname(c) => {
                    if absolute(&format!("{c}.{name}"), &mut d).is_none() {
                        bad.get_or_insert_with(|| format!("alias {c}").into());
                    }
                    CNAME
                }
            };
            match Rr::new(r.owner, rtype, r.ttl, &d) {
                Some(rr) if rtype == SOA => soa = Some(rr),
                Some(rr) => records.push(rr),
                None => {
                    bad.get_or_insert_with(|| format!("owner name {}", r.owner).into());
                }
            }
        })
        .map_err(|e| e.to_string().into_boxed_str())?;
        if let Some(b) = bad {
            return Err(format!("not a domain name in wire form: {b}").into());
        }
        records.sort_unstable();
        records.dedup();
        Ok(Version {
            serial,
            soa: soa.ok_or("no SOA record")?,
            records,
        })
    }
}

/// What changed from one version to the next.
#[derive(Debug)]
struct Diff {
    from: u32,
    from_soa: Rr,
    to_soa: Rr,
    removed: Vec<Rr>,
    added: Vec<Rr>,
}

impl Diff {
    fn between(old: &Version, new: &Version) -> Diff {
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        let (a, b) = (&old.records, &new.records);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x == y => {
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x < y => {
                    removed.push(x.clone());
                    i += 1;
                }
                (Some(x), None) => {
                    removed.push(x.clone());
                    i += 1;
                }
                (_, Some(y)) => {
                    added.push(y.clone());
                    j += 1;
                }
                (None, None) => break,
            }
        }
        Diff {
            from: old.serial,
            from_soa: old.soa.clone(),
            to_soa: new.soa.clone(),
            removed,
            added,
        }
    }
    fn size(&self) -> usize {
        self.removed.len() + self.added.len() + 2
    }
}

/// A zone's current version and the differences that lead to it, oldest first.
#[derive(Debug)]
struct History {
    zone: Domain,
    /// The apex in wire form, lowercase.
    wire: Box<[u8]>,
    generation: Arc<()>,
    current: Arc<Version>,
    diffs: VecDeque<Arc<Diff>>,
}

/// A zone that changed, for the NOTIFY thread.
#[derive(Debug)]
pub(crate) struct Notice {
    zone: Domain,
    serial: u32,
    /// The NOTIFY message, its ID still 0.
    message: Vec<u8>,
}

/// Transfers and NOTIFY of one server.
pub(crate) struct Mirror {
    /// Who may transfer: a network, and the key its requests must be signed with.
    allow: Vec<(IpNet, Option<Box<str>>)>,
    /// The TSIG keys requests may be signed with.
    keys: Arc<[TsigKey]>,
    zones: Mutex<HashMap<Domain, Arc<History>>>,
    notices: Option<Mutex<Sender<Notice>>>,
    events: Option<EventFn>,
}

impl Mirror {
    /// A mirror allowing transfers to `allow`, sending notices to `notices` (when there are
    /// secondaries to notify).
    pub(crate) fn new(
        allow: Vec<(IpNet, Option<Box<str>>)>,
        keys: Arc<[TsigKey]>,
        notices: Option<Sender<Notice>>,
        events: Option<EventFn>,
    ) -> Mirror {
        Mirror {
            allow,
            keys,
            zones: Mutex::new(HashMap::new()),
            notices: notices.map(Mutex::new),
            events,
        }
    }

    fn emit(&self, e: Event) {
        if let Some(f) = &self.events {
            f(&e);
        }
    }

    /// Takes in the catalog about to be served: zones whose data or serial changed get a new
    /// version (and their secondaries a NOTIFY, unless `initial`).
    pub(crate) fn update(&self, catalog: &Catalog, initial: bool) {
        let mut zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
        zones.retain(|name, _| catalog.zones.iter().any(|z| &z.name == name));
        for z in &catalog.zones {
            if z.soa.is_none() {
                continue;
            }
            let old = zones.get(&z.name).cloned();
            if let Some(o) = &old {
                if Arc::ptr_eq(&o.generation, &z.generation) && o.current.serial == z.serial {
                    continue;
                }
            }
            let version = match Version::of_served(z, catalog.default_ttl) {
                Ok(v) => Arc::new(v),
                Err(why) => {
                    zones.remove(&z.name);
                    self.emit(Event::NoTransfer {
                        zone: z.name.clone(),
                        why,
                    });
                    continue;
                }
            };
            let mut diffs = VecDeque::new();
            if let Some(o) = &old {
                diffs = o.diffs.clone();
                if o.current.serial != version.serial {
                    diffs.push_back(Arc::new(Diff::between(&o.current, &version)));
                }
                // keep what is smaller than sending the whole zone
                let budget = version.records.len().max(64);
                while diffs.len() > MAX_DIFFS
                    || diffs.iter().map(|d| d.size()).sum::<usize>() > budget
                {
                    diffs.pop_front();
                }
            }
            let message = notify_message(&z.wire, &version.soa);
            zones.insert(
                z.name.clone(),
                Arc::new(History {
                    zone: z.name.clone(),
                    wire: z.wire.clone(),
                    generation: z.generation.clone(),
                    current: version,
                    diffs,
                }),
            );
            if !initial {
                if let Some(tx) = &self.notices {
                    let tx = tx.lock().unwrap_or_else(|p| p.into_inner());
                    let _ = tx.send(Notice {
                        zone: z.name.clone(),
                        serial: z.serial,
                        message,
                    });
                }
            }
        }
    }

    /// Whether `peer`, its request signed with `key` (verified), may transfer.
    fn allowed(&self, peer: IpAddr, key: Option<&str>) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
            v4 => v4,
        };
        self.allow
            .iter()
            .any(|(n, k)| n.contains(&peer) && k.as_deref().is_none_or(|k| Some(k) == key))
    }

    /// Whether a rule for `peer` asks for a key.
    fn allowed_with_some_key(&self, peer: IpAddr) -> bool {
        self.allow
            .iter()
            .any(|(n, k)| k.is_some() && n.contains(&peer))
    }

    /// Answers an AXFR or IXFR query that came over TCP from `peer`, writing each message
    /// (with its two-octet length) to `send`; `None` when the query is not a transfer.
    /// A signed query is verified first (a failure is answered NOTAUTH with the TSIG
    /// error), and every message of the answer is signed with its key.
    pub(crate) fn transfer(
        &self,
        query: &[u8],
        peer: IpAddr,
        send: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Option<std::io::Result<()>> {
        let req = Request::parse(query).ok()?;
        if req.opcode() != 0 || !matches!(req.qtype(), AXFR | IXFR) {
            return None;
        }
        let qend = req.question_end();
        let name = qname_text(req.qname());
        let refused = |why: &'static str| Event::TransferRefused {
            name: name.clone(),
            peer,
            why,
        };
        let mut signer = match tsig::verify(&self.keys, query, tsig::unix_now()) {
            Verdict::Unsigned => None,
            Verdict::Signed { signer, .. } => Some(signer),
            Verdict::Malformed => {
                self.emit(refused("a broken TSIG record"));
                return Some(send(&short_reply(query, qend, 1)));
            }
            Verdict::Failed(mut f) => {
                self.emit(refused(tsig::error_name(f.error)));
                let mut m = short_reply(query, qend, 9);
                f.append(&mut m, 2);
                set_tcp_length(&mut m);
                return Some(send(&m));
            }
        };
        let key = signer.as_ref().map(|s| s.key().name());
        if !self.allowed(peer, key) {
            self.emit(refused(match key {
                None if self.allowed_with_some_key(peer) => "the request is not signed",
                _ => "not allowed",
            }));
            let mut m = short_reply(query, qend, 5);
            if let Some(s) = &mut signer {
                s.sign(&mut m, 2, tsig::unix_now());
                set_tcp_length(&mut m);
            }
            return Some(send(&m));
        }
        let history = {
            let zones = self.zones.lock().unwrap_or_else(|p| p.into_inner());
            zones.values().find(|h| *h.wire == *req.qname()).cloned()
        };
        let Some(h) = history.filter(|_| req.qclass() == IN) else {
            // not a zone this server transfers
            self.emit(refused("not a zone transferred"));
            let mut m = short_reply(query, qend, 9);
            if let Some(s) = &mut signer {
                s.sign(&mut m, 2, tsig::unix_now());
                set_tcp_length(&mut m);
            }
            return Some(send(&m));
        };
        let cur = &h.current;
        let mut w = Messages {
            buf: Vec::with_capacity(MAX_MESSAGE + 2),
            query: &query[..qend],
            zone: &h.wire,
            apex: None,
            an: 0,
            first: true,
            send,
            records: 0,
            signer,
        };
        w.start();
        let mut from = None;
        let style = if req.qtype() == AXFR {
            TransferStyle::Axfr
        } else {
            from = ixfr_serial(query, qend);
            match from {
                Some(s) if !serial_gt(cur.serial, s) => TransferStyle::IxfrUpToDate,
                Some(s) if h.diffs.iter().any(|d| d.from == s) => TransferStyle::Ixfr,
                _ => TransferStyle::IxfrFull,
            }
        };
        let r = (|| {
            w.push(&cur.soa)?;
            match style {
                TransferStyle::IxfrUpToDate => {}
                TransferStyle::Ixfr => {
                    let start = h.diffs.iter().position(|d| Some(d.from) == from);
                    for d in h.diffs.iter().skip(start.unwrap_or(0)) {
                        w.push(&d.from_soa)?;
                        for rr in &d.removed {
                            w.push(rr)?;
                        }
                        w.push(&d.to_soa)?;
                        for rr in &d.added {
                            w.push(rr)?;
                        }
                    }
                    w.push(&cur.soa)?;
                }
                _ => {
                    for rr in &cur.records {
                        w.push(rr)?;
                    }
                    w.push(&cur.soa)?;
                }
            }
            w.flush()
        })();
        if r.is_ok() {
            self.emit(Event::Transfer {
                zone: h.zone.clone(),
                peer,
                style,
                serial: cur.serial,
                from,
                records: w.records,
            });
        }
        Some(r)
    }
}

/// Answers one AXFR or IXFR query (the message as it came over TCP, without its length)
/// for the zones of `catalog` that have an SOA, as the server answers an allowed
/// address, but without a history of versions: an IXFR from an older serial gets the whole
/// zone. Each message goes to `send` with its two-octet TCP length. `None` when the query is
/// not a transfer; the records are generated on every call (the server keeps them instead).
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{transfer, Catalog};
/// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("bl", b"$SOA 1h ns.bl.example. h.bl.example. 5 1h 1h 1d 1h\n$NS 1h ns.example.net.\n192.0.2.1\n")?;
/// let catalog = Catalog::builder().zone(Zone::new("bl.example".parse()?, vec![p.finish().into()])).build()?;
/// let mut q = vec![0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
/// q.extend_from_slice(b"\x02bl\x07example\0\0\xfc\0\x01"); // AXFR
/// let mut messages = Vec::new();
/// transfer(&catalog, &q, &mut |m| Ok(messages.push(m.to_vec()))).unwrap()?;
/// let m = &messages[0][2..];
/// // SOA, NS, A, SOA
/// assert_eq!((m[3] & 15, u16::from_be_bytes([m[6], m[7]])), (0, 4));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn transfer(
    catalog: &Catalog,
    query: &[u8],
    send: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> Option<std::io::Result<()>> {
    let any: IpNet = "0.0.0.0/0".parse().ok()?;
    let m = Mirror::new(vec![(any, None)], Arc::from([]), None, None);
    m.update(catalog, true);
    m.transfer(query, IpAddr::from([127, 0, 0, 1]), send)
}

/// The serial of the SOA record in the authority section of an IXFR query.
fn ixfr_serial(q: &[u8], qend: usize) -> Option<u32> {
    if u16::from_be_bytes([q[6], q[7]]) != 0 || u16::from_be_bytes([q[8], q[9]]) == 0 {
        return None;
    }
    let i = skip_name(q, qend)?;
    let f = q.get(i..i + 10)?;
    if u16::from_be_bytes([f[0], f[1]]) != SOA {
        return None;
    }
    let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let end = i + 10 + rdlen;
    if rdlen < 22 || end > q.len() {
        return None;
    }
    let s = &q[end - 20..end - 16];
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// A dotted name for the log.
pub(crate) fn qname_text(wire: &[u8]) -> Box<str> {
    let mut s = String::new();
    let mut i = 0;
    while let Some(&l) = wire.get(i) {
        let l = usize::from(l);
        if l == 0 {
            break;
        }
        if !s.is_empty() {
            s.push('.');
        }
        s.push_str(&String::from_utf8_lossy(
            &wire[i + 1..(i + 1 + l).min(wire.len())],
        ));
        i += 1 + l;
    }
    s.into()
}

/// An answer without records (REFUSED, NOTAUTH), with its TCP length.
pub(crate) fn short_reply(query: &[u8], qend: usize, rcode: u8) -> Vec<u8> {
    let mut m = Vec::with_capacity(qend + 2);
    m.extend_from_slice(&(qend as u16).to_be_bytes());
    m.extend_from_slice(&query[..qend]);
    m[4] = 0x80 | (query[2] & 0x79);
    m[5] = rcode;
    m[8..14].fill(0);
    m[6..8].copy_from_slice(&1u16.to_be_bytes());
    m
}

/// Writes the messages of one transfer: a new one when the next record does not fit.
struct Messages<'a> {
    buf: Vec<u8>,
    query: &'a [u8],
    zone: &'a [u8],
    /// Where the apex name is in the current message.
    apex: Option<u16>,
    an: u16,
    first: bool,
    send: &'a mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    records: u64,
    /// Signs every message, when the request was signed.
    signer: Option<Signer<'a>>,
}

impl Messages<'_> {
    fn start(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&self.query[..2]);
        self.buf
            .extend_from_slice(&[0x84 | (self.query[2] & 0x01), 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        self.an = 0;
        self.apex = None;
        if self.first {
            self.buf[7] = 1;
            self.buf.extend_from_slice(&self.query[12..]);
            self.apex = Some(12);
        }
    }

    fn push(&mut self, rr: &Rr) -> std::io::Result<()> {
        let owner = rr.owner();
        let rest = rr.rest();
        let apex_len = if self.apex.is_some() {
            2
        } else {
            self.zone.len()
        };
        let size = owner.len() + apex_len + 4 + rest.len();
        let room = MAX_MESSAGE - self.signer.as_ref().map_or(0, |s| s.overhead());
        if self.buf.len() - 2 + size > room && self.an > 0 {
            self.flush()?;
            self.first = false;
            self.start();
            return self.push(rr);
        }
        self.buf.extend_from_slice(owner);
        match self.apex {
            Some(p) => self.buf.extend_from_slice(&(0xc000 | p).to_be_bytes()),
            None => {
                let at = self.buf.len() - 2;
                if at < 0x4000 {
                    self.apex = Some(at as u16);
                }
                self.buf.extend_from_slice(self.zone);
            }
        }
        // type, class, TTL, data length, data
        self.buf.extend_from_slice(&rest[..2]);
        self.buf.extend_from_slice(&IN.to_be_bytes());
        self.buf.extend_from_slice(&rest[2..6]);
        self.buf
            .extend_from_slice(&((rest.len() - 6) as u16).to_be_bytes());
        self.buf.extend_from_slice(&rest[6..]);
        self.an += 1;
        self.records += 1;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.buf[8..10].copy_from_slice(&self.an.to_be_bytes());
        if let Some(s) = &mut self.signer {
            s.sign(&mut self.buf, 2, tsig::unix_now());
        }
        set_tcp_length(&mut self.buf);
        (self.send)(&self.buf)
    }
}

/// Sets the two-octet TCP length in front of a message.
fn set_tcp_length(m: &mut [u8]) {
    let len = (m.len() - 2) as u16;
    m[..2].copy_from_slice(&len.to_be_bytes());
}

/// A NOTIFY for the zone, with its SOA in the answer section; ID 0.
fn notify_message(zone: &[u8], soa: &Rr) -> Vec<u8> {
    let rest = soa.rest();
    let mut m = vec![0, 0, NOTIFY_OPCODE << 3 | 0x04, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    m.extend_from_slice(zone);
    m.extend_from_slice(&SOA.to_be_bytes());
    m.extend_from_slice(&IN.to_be_bytes());
    m.extend_from_slice(&[0xc0, 12]);
    m.extend_from_slice(&rest[..2]);
    m.extend_from_slice(&IN.to_be_bytes());
    m.extend_from_slice(&rest[2..6]);
    m.extend_from_slice(&((rest.len() - 6) as u16).to_be_bytes());
    m.extend_from_slice(&rest[6..]);
    m
}

/// One NOTIFY waiting for its answer.
struct Pending {
    zone: Domain,
    serial: u32,
    target: SocketAddr,
    /// The secondary's index in the targets (for its key).
    key: usize,
    id: u16,
    tries: u32,
    next: Instant,
    message: Arc<Vec<u8>>,
}

/// The NOTIFY thread: sends each notice to every secondary, again (after 1, 2, 4… s) until
/// it answers or [`NOTIFY_TRIES`] tries went unanswered; a newer notice for a zone replaces
/// the one still waiting.
pub(crate) fn notifier(
    rx: &Receiver<Notice>,
    targets: &[(SocketAddr, Option<TsigKey>)],
    events: Option<EventFn>,
    stop: &dyn Fn() -> bool,
) {
    let emit = |e: Event| {
        if let Some(f) = &events {
            f(&e);
        }
    };
    let bind = |any: &str| {
        let s = UdpSocket::bind(any).ok()?;
        s.set_read_timeout(Some(Duration::from_millis(50))).ok()?;
        Some(s)
    };
    let v4 = bind("0.0.0.0:0");
    let v6 = bind("[::]:0");
    let mut pending: Vec<Pending> = Vec::new();
    let mut next_id = (std::process::id() as u16).wrapping_mul(0x9e37);
    let mut buf = [0u8; 1500];
    while !stop() {
        loop {
            match rx.try_recv() {
                Ok(n) => {
                    let message = Arc::new(n.message);
                    pending.retain(|p| p.zone != n.zone);
                    for (i, &(target, _)) in targets.iter().enumerate() {
                        next_id = next_id.wrapping_add(0x3b1d);
                        pending.push(Pending {
                            zone: n.zone.clone(),
                            serial: n.serial,
                            target,
                            key: i,
                            id: next_id,
                            tries: 0,
                            next: Instant::now(),
                            message: message.clone(),
                        });
                    }
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    if pending.is_empty() {
                        return;
                    }
                    break;
                }
            }
        }
        let now = Instant::now();
        pending.retain_mut(|p| {
            if p.next > now {
                return true;
            }
            if p.tries >= NOTIFY_TRIES {
                emit(Event::NotifyUnanswered {
                    zone: p.zone.clone(),
                    secondary: p.target,
                    serial: p.serial,
                    tries: p.tries,
                });
                return false;
            }
            let sock = if p.target.is_ipv4() { &v4 } else { &v6 };
            if let Some(s) = sock {
                let mut m = (*p.message).clone();
                m[..2].copy_from_slice(&p.id.to_be_bytes());
                if let Some((_, Some(key))) = targets.get(p.key) {
                    Signer::request(key).sign(&mut m, 0, tsig::unix_now());
                }
                let _ = s.send_to(&m, p.target);
            }
            p.next = now + NOTIFY_FIRST_WAIT * (1 << p.tries.min(5));
            p.tries += 1;
            true
        });
        if pending.is_empty() {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        for s in [&v4, &v6].into_iter().flatten() {
            while let Ok((n, from)) = s.recv_from(&mut buf) {
                if n < 12 || buf[2] & 0x80 == 0 || (buf[2] >> 3) & 15 != NOTIFY_OPCODE {
                    continue;
                }
                let id = u16::from_be_bytes([buf[0], buf[1]]);
                pending.retain(|p| {
                    let same = p.id == id && p.target == from;
                    if same {
                        emit(Event::Notified {
                            zone: p.zone.clone(),
                            secondary: p.target,
                            serial: p.serial,
                            tries: p.tries,
                        });
                    }
                    !same
                });
                if pending.is_empty() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::{DatasetKind, DatasetParser, Zone};

    fn zone(text: &str) -> Zone {
        let mut p = DatasetParser::new(DatasetKind::Ip4Set);
        p.parse_file("bl", text.as_bytes()).unwrap();
        Zone::new("bl.example".parse().unwrap(), vec![p.finish().into()])
    }

    const HEAD: &str =
        "$SOA 1h ns.bl.example. h.bl.example. 5 1h 1h 1d 1h\n$NS 1h ns.example.net.\n:2:x\n";

    #[test]
    fn diffs_are_exact_record_sets() {
        let a = Version::of(&zone(&format!("{HEAD}192.0.2.1\n192.0.2.2\n")), 5).unwrap();
        let b = Version::of(&zone(&format!("{HEAD}192.0.2.2\n192.0.2.3\n")), 6).unwrap();
        let d = Diff::between(&a, &b);
        // one A and one TXT each
        assert_eq!((d.removed.len(), d.added.len()), (2, 2));
        assert_eq!(d.removed[0].owner(), b"\x011\x012\x010\x03192");
        assert_eq!(d.added[0].owner(), b"\x013\x012\x010\x03192");
        assert_eq!(d.from, 5);
        // the NS record and the SOA are apart
        assert_eq!(a.records.len(), 5);
    }

    #[test]
    fn messages_split_below_the_limit() {
        let mut text = HEAD.to_owned();
        // every other address: no networks to fold them into
        for i in (0..40000u32).step_by(2) {
            text.push_str(&format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255));
        }
        let v = Version::of(&zone(&text), 5).unwrap();
        let q = b"\x12\x34\0\0\0\x01\0\0\0\0\0\0\x02bl\x07example\0\0\xfc\0\x01".to_vec();
        let mut sizes = Vec::new();
        let mut send = |m: &[u8]| {
            assert_eq!(usize::from(u16::from_be_bytes([m[0], m[1]])), m.len() - 2);
            sizes.push(m.len() - 2);
            Ok(())
        };
        let mut w = Messages {
            buf: Vec::new(),
            query: &q,
            zone: b"\x02bl\x07example\0",
            apex: None,
            an: 0,
            first: true,
            send: &mut send,
            records: 0,
            signer: None,
        };
        w.start();
        w.push(&v.soa).unwrap();
        for r in &v.records {
            w.push(r).unwrap();
        }
        w.push(&v.soa).unwrap();
        w.flush().unwrap();
        assert!(sizes.len() > 1, "{sizes:?}");
        assert!(sizes.iter().all(|&s| s <= MAX_MESSAGE));
    }

    #[test]
    fn reads_the_serial_of_an_ixfr_query() {
        let mut q = b"\0\x01\0\0\0\x01\0\0\0\x01\0\0\x02bl\x07example\0\0\xfb\0\x01".to_vec();
        let qend = q.len();
        q.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 24]);
        q.extend_from_slice(&[0, 0]); // root mname, rname
        q.extend_from_slice(&77u32.to_be_bytes());
        q.extend_from_slice(&[0; 16]);
        // rdata is 22 octets, but the length says 24: cut short
        assert_eq!(ixfr_serial(&q, qend), None);
        let n = q.len();
        q[n - 22 - 1] = 22;
        assert_eq!(ixfr_serial(&q, qend), Some(77));
    }
}
