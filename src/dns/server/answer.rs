//! Building an answer into a fixed buffer, as rbldnsd does, without allocating.

use super::catalog::{Catalog, ServedZone, WireName};
use super::request::{Malformed, Request};
use domain::base::iana::{Class, Rcode, Rtype};

const QR: u8 = 0x80;
const AA: u8 = 0x04;
const TC: u8 = 0x02;
const RD: u8 = 0x01;

/// The UDP payload size the server announces in its OPT records (the DNS flag day 2020
/// value, safe from fragmentation).
pub const EDNS_UDP_SIZE: u16 = 1232;

/// The most answer records one response carries (as rbldnsd, whose counts are one octet).
const MAX_ANSWERS: usize = 255;

/// Which transport a query came over: it decides the largest answer.
///
/// # Examples
///
/// See [`respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// UDP: 512 octets, or the OPT record's payload size.
    Udp,
    /// TCP: up to 65535 octets.
    Tcp,
}

/// One answer record written, for rbldnsd's duplicate and TTL rules.
#[derive(Debug, Clone, Copy, Default)]
struct Rec {
    rtype: u16,
    data: u16,
    len: u16,
}

/// Reusable state of one worker: nothing is allocated per query once it exists.
///
/// # Examples
///
/// See [`respond`].
#[derive(Debug, Clone)]
pub struct Scratch {
    subject: String,
    rel: [u8; 256],
    txt: [u8; 260],
    recs: [Rec; MAX_ANSWERS],
}

impl Default for Scratch {
    fn default() -> Scratch {
        Scratch::new()
    }
}

impl Scratch {
    /// Scratch space for [`respond`].
    ///
    /// # Examples
    ///
    /// See [`respond`].
    pub fn new() -> Scratch {
        Scratch {
            subject: String::with_capacity(64),
            rel: [0; 256],
            txt: [0; 260],
            recs: [Rec::default(); MAX_ANSWERS],
        }
    }
}

/// What kinds of record a query type asks for (rbldnsd's flags).
const WANT_SOA: u8 = 1;
const WANT_NS: u8 = 2;
const WANT_A: u8 = 4;
const WANT_TXT: u8 = 16;
const WANT_ANY: u8 = 0xff;

/// The answer to one query, written into `out` (at least 512 octets; 65535 for every TCP
/// answer to fit): its length, or 0 when the packet gets no answer (not a query).
///
/// Answers as rbldnsd does for the same datasets — A and TXT records of every dataset that
/// lists the name, SOA and NS at the apex, NXDOMAIN with the SOA in the authority section,
/// the NS records in the authority section of positive answers with their glue, REFUSED
/// outside the zones, NOTIMP for opcodes other than QUERY — and, where rbldnsd departs from
/// the RFCs, as they say: an empty non-terminal is NOERROR without records (RFC 8020), an
/// OPT record in the query gets one in the answer (RFC 6891), an answer too large for the
/// client drops the authority NS and glue records first and then comes back empty with TC
/// set, and a query with a broken question gets FORMERR.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{respond, Catalog, Scratch, Transport};
/// use rblkit::zone::{DatasetKind, DatasetParser, Zone};
/// let mut p = DatasetParser::new(DatasetKind::Ip4Set);
/// p.parse_file("bl.txt", b"$SOA 1h ns.bl.example. hostmaster.bl.example. 5 1h 15m 1w 5m\n:127.0.0.2:listed $\n192.0.2.1\n")?;
/// let catalog = Catalog::builder().zone(Zone::new("bl.example".parse()?, vec![p.finish().into()])).build()?;
///
/// let mut q = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
/// q.extend_from_slice(b"\x011\x012\x010\x03192\x02bl\x07example\x00\x00\x01\x00\x01");
/// let mut out = [0u8; 512];
/// let mut scratch = Scratch::new();
/// let n = respond(&catalog, &q, Transport::Udp, &mut scratch, &mut out);
/// assert_eq!(&out[..4], &[0xab, 0xcd, 0x85, 0x00]); // QR AA RD, NOERROR
/// assert_eq!(&out[6..8], &[0, 1]); // one answer
/// assert_eq!(&out[n - 4..n], &[127, 0, 0, 2]);
/// # Ok::<(), rblkit::Error>(())
/// ```
pub fn respond(
    catalog: &Catalog,
    query: &[u8],
    transport: Transport,
    scratch: &mut Scratch,
    out: &mut [u8],
) -> usize {
    let req = match Request::parse(query) {
        Ok(r) => r,
        Err(Malformed::Drop) => return 0,
        Err(Malformed::FormErr) => {
            if out.len() < 12 {
                return 0;
            }
            out[..12].copy_from_slice(&query[..12]);
            out[2] = QR | (query[2] & 0x79);
            out[3] = Rcode::FORMERR.to_int();
            out[4..12].fill(0);
            return 12;
        }
    };
    let edns = req.edns();
    let limit = match transport {
        Transport::Udp => edns.map_or(512, |e| usize::from(e.udp_size).max(512)),
        Transport::Tcp => 65535,
    }
    .min(out.len());
    let opt_len = if edns.is_some() { 11 } else { 0 };
    let qend = req.question_end();
    if limit < qend + opt_len {
        return 0;
    }
    out[..qend].copy_from_slice(&query[..qend]);
    let mut w = Writer {
        buf: out,
        pos: qend,
        limit: limit - opt_len,
        an: 0,
        ns: 0,
        ar: 0,
        truncated: false,
    };
    let mut ext_rcode = 0u8;
    let f1 = query[2];
    let rcode = if f1 & (0x78 | AA | TC) != 0 {
        w.buf[2] = QR;
        Rcode::NOTIMP
    } else if edns.is_some_and(|e| e.version > 0) {
        w.buf[2] = QR | (f1 & RD);
        ext_rcode = 1; // BADVERS
        Rcode::NOERROR
    } else {
        w.buf[2] = QR | (f1 & RD);
        answer(catalog, &req, scratch, &mut w)
    };
    if w.truncated {
        w.pos = qend;
        w.an = 0;
        w.ns = 0;
        w.ar = 0;
        w.buf[2] |= TC;
    }
    w.buf[3] = rcode.to_int();
    if let Some(e) = edns {
        let p = w.pos;
        let b = &mut w.buf[p..p + 11];
        b[0] = 0;
        b[1..3].copy_from_slice(&Rtype::OPT.to_int().to_be_bytes());
        b[3..5].copy_from_slice(&EDNS_UDP_SIZE.to_be_bytes());
        b[5] = ext_rcode;
        b[6] = 0;
        b[7] = if e.dnssec_ok { 0x80 } else { 0 };
        b[8..11].fill(0);
        w.pos += 11;
        w.ar += 1;
    }
    w.buf[4..6].copy_from_slice(&1u16.to_be_bytes());
    w.buf[6..8].copy_from_slice(&w.an.to_be_bytes());
    w.buf[8..10].copy_from_slice(&w.ns.to_be_bytes());
    w.buf[10..12].copy_from_slice(&w.ar.to_be_bytes());
    w.pos
}

/// The body of a QUERY: sets AA, writes the records, returns the RCODE.
fn answer(catalog: &Catalog, req: &Request, scratch: &mut Scratch, w: &mut Writer<'_>) -> Rcode {
    let class = Class::from_int(req.qclass());
    if class == Class::IN {
        w.buf[2] |= AA;
    } else if class != Class::ANY {
        return Rcode::REFUSED;
    }
    let qtype = Rtype::from_int(req.qtype());
    let want = match qtype {
        Rtype::ANY => WANT_ANY,
        Rtype::A => WANT_A,
        Rtype::TXT => WANT_TXT,
        Rtype::NS => WANT_NS,
        Rtype::SOA => WANT_SOA,
        Rtype::MX => 8,
        // transfers: over TCP from allowed addresses only (`xfr`)
        Rtype::AXFR | Rtype::IXFR => {
            w.buf[2] &= !AA;
            return Rcode::REFUSED;
        }
        _ if req.qtype() >= Rtype::TSIG.to_int() => {
            w.buf[2] &= !AA;
            return Rcode::NOTIMP;
        }
        _ => 0,
    };
    let n = req.label_count();
    let qname = req.qname();
    let Some(zone) = catalog.find(qname, n, |i| req.label_offset(i)) else {
        w.buf[2] &= !AA;
        return Rcode::REFUSED;
    };
    let rel_labels = n - zone.labels;
    let apex = 12 + req.label_offset(rel_labels);
    let Scratch {
        subject,
        rel: relbuf,
        txt,
        recs,
    } = scratch;
    // the name relative to the zone, as dotted text; a label holding a dot or a byte
    // outside ASCII matches no entry
    let mut rel_ok = true;
    let mut rl = 0usize;
    for i in 0..rel_labels {
        let o = req.label_offset(i);
        let len = usize::from(qname[o]);
        let label = &qname[o + 1..o + 1 + len];
        if label.iter().any(|&c| c == b'.' || !c.is_ascii()) {
            rel_ok = false;
        }
        if i > 0 {
            relbuf[rl] = b'.';
            rl += 1;
        }
        relbuf[rl..rl + len].copy_from_slice(label);
        rl += len;
    }
    let rel = if rel_ok {
        std::str::from_utf8(&relbuf[..rl]).unwrap_or("")
    } else {
        ""
    };
    let mut found;
    if rel_labels == 0 {
        found = true;
        if want & WANT_SOA != 0 {
            if zone.soa.is_none() {
                found = false;
            } else {
                w.soa(zone, apex, false);
            }
        }
        if found && want & WANT_NS != 0 && want != WANT_SOA {
            if zone.ns.names.is_empty() {
                found = false;
            } else {
                w.ns_records(zone, apex, false);
            }
        }
        if !found {
            w.pos = req.question_end();
            w.an = 0;
            w.buf[2] &= !AA;
            return Rcode::REFUSED;
        }
    } else {
        found = false;
    }
    let dttl = catalog.default_ttl;
    let mut nrec = 0usize;
    if rel_ok && rel_labels > 0 {
        found |= zone.hits(rel, subject, &mut |h| {
            let ttl = h.ttl.unwrap_or(dttl);
            if want & WANT_A != 0 {
                for c in h.listing.codes() {
                    w.answer(recs, &mut nrec, Rtype::A, &c.addr().octets(), ttl);
                }
            }
            if want & WANT_TXT != 0 {
                for t in h.listing.txt() {
                    let len = expand(t.as_bytes(), h.subject.as_bytes(), &mut txt[1..]);
                    if len > 0 {
                        txt[0] = len as u8;
                        w.answer(recs, &mut nrec, Rtype::TXT, &txt[..len + 1], ttl);
                    }
                }
            }
        });
    }
    if !found {
        w.soa(zone, apex, true);
        if rel_ok && zone.ent.holds(rel) {
            return Rcode::NOERROR;
        }
        return Rcode::NXDOMAIN;
    }
    if w.an == 0 {
        w.soa(zone, apex, true);
    } else if !zone.ns.names.is_empty() {
        w.ns_records(zone, apex, true);
    }
    Rcode::NOERROR
}

/// Expands a TXT template (`$` the subject, `$$` a dollar sign) into `out`, cut to
/// [`crate::zone::MAX_TXT`] octets at a character boundary; its length.
fn expand(template: &[u8], subject: &[u8], out: &mut [u8]) -> usize {
    let max = crate::zone::MAX_TXT;
    let mut n = 0usize;
    let mut push = |bytes: &[u8], n: &mut usize| -> bool {
        let room = (max + 1).saturating_sub(*n);
        let k = bytes.len().min(room);
        out[*n..*n + k].copy_from_slice(&bytes[..k]);
        *n += k;
        k == bytes.len()
    };
    let mut i = 0;
    let mut full = true;
    while i < template.len() && full {
        let rest = &template[i..];
        match memchr::memchr(b'$', rest) {
            None => {
                full = push(rest, &mut n);
                i = template.len();
            }
            Some(j) => {
                full = push(&rest[..j], &mut n);
                if !full {
                    break;
                }
                if rest.get(j + 1) == Some(&b'$') {
                    full = push(b"$", &mut n);
                    i += j + 2;
                } else {
                    full = push(subject, &mut n);
                    i += j + 1;
                }
            }
        }
    }
    if n > max {
        n = max;
        while n > 0 && out[n] & 0xc0 == 0x80 {
            n -= 1;
        }
    }
    n
}

/// The answer being written.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    limit: usize,
    an: u16,
    ns: u16,
    ar: u16,
    truncated: bool,
}

impl Writer<'_> {
    fn room(&self, n: usize) -> bool {
        self.pos + n <= self.limit
    }

    fn put(&mut self, b: &[u8]) {
        self.buf[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }

    fn ptr(&mut self, off: usize) {
        self.put(&(0xc000 | off as u16).to_be_bytes());
    }

    fn name(&mut self, n: &WireName, apex: usize) {
        self.put(&n.labels);
        if n.in_zone {
            self.ptr(apex);
        }
    }

    /// The fixed part of a record: owner pointer, type, class IN, TTL, RDLENGTH.
    fn head(&mut self, owner: usize, t: Rtype, ttl: u32, rdlen: usize) {
        self.ptr(owner);
        self.put(&t.to_int().to_be_bytes());
        self.put(&Class::IN.to_int().to_be_bytes());
        self.put(&ttl.to_be_bytes());
        self.put(&(rdlen as u16).to_be_bytes());
    }

    /// An answer record for the question name, with rbldnsd's rules: an identical record is
    /// not repeated, and all records of one type share the smallest TTL.
    fn answer(&mut self, recs: &mut [Rec], n: &mut usize, t: Rtype, data: &[u8], ttl: u32) {
        let tt = t.to_int();
        let ttl_of = |buf: &[u8], r: &Rec| {
            let o = usize::from(r.data) - 6;
            u32::from_be_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]])
        };
        let same = |buf: &[u8], r: &Rec| {
            r.rtype == tt
                && &buf[usize::from(r.data)..usize::from(r.data) + usize::from(r.len)] == data
        };
        let mut ttl = ttl;
        if let Some(first) = recs[..*n].iter().find(|r| r.rtype == tt) {
            let t0 = ttl_of(self.buf, first);
            let dup = recs[..*n].iter().any(|r| same(self.buf, r));
            if ttl >= t0 {
                ttl = t0;
            } else {
                for r in recs[..*n].iter().filter(|r| r.rtype == tt) {
                    let o = usize::from(r.data) - 6;
                    self.buf[o..o + 4].copy_from_slice(&ttl.to_be_bytes());
                }
            }
            if dup {
                return;
            }
        }
        if *n >= recs.len() || !self.room(12 + data.len()) {
            self.truncated = true;
            return;
        }
        self.head(12, t, ttl, data.len());
        recs[*n] = Rec {
            rtype: tt,
            data: self.pos as u16,
            len: data.len() as u16,
        };
        *n += 1;
        self.put(data);
        self.an += 1;
    }

    /// The SOA record, in the answer section, or in the authority section with the
    /// minimum as its TTL (as rbldnsd).
    fn soa(&mut self, zone: &ServedZone, apex: usize, authority: bool) {
        let Some(s) = &zone.soa else {
            return;
        };
        let rdlen = s.mname.len() + s.rname.len() + 20;
        if !self.room(12 + rdlen) {
            self.truncated = true;
            return;
        }
        let ttl = if authority { s.times[3] } else { s.ttl };
        self.head(apex, Rtype::SOA, ttl, rdlen);
        self.name(&s.mname, apex);
        self.name(&s.rname, apex);
        self.put(&zone.serial.to_be_bytes());
        for t in s.times {
            self.put(&t.to_be_bytes());
        }
        if authority {
            self.ns += 1;
        } else {
            self.an += 1;
        }
    }

    /// The NS records: in the answer section (required), or in the authority section with
    /// their glue (optional: left out when they do not fit, glue first).
    fn ns_records(&mut self, zone: &ServedZone, apex: usize, authority: bool) {
        let ns = &zone.ns;
        let size: usize = ns.names.iter().map(|n| 12 + n.len()).sum();
        if !self.room(size) {
            if !authority {
                self.truncated = true;
            }
            return;
        }
        let mut offs = [0usize; 64];
        for (i, n) in ns.names.iter().enumerate() {
            self.head(apex, Rtype::NS, ns.ttl, n.len());
            if let Some(o) = offs.get_mut(i) {
                *o = self.pos;
            }
            self.name(n, apex);
        }
        let count = ns.names.len() as u16;
        if authority {
            self.ns += count;
            let glue = ns.glue.len() * 16;
            if !ns.glue.is_empty() && self.room(glue) {
                for &(i, a, ttl) in &ns.glue {
                    self.head(offs[i.min(63)], Rtype::A, ttl, 4);
                    self.put(&a.octets());
                    self.ar += 1;
                }
            }
        } else {
            self.an += count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_and_cuts_like_rbldnsd() {
        let mut out = [0u8; 260];
        let n = expand(b"a $ b $$ c", b"1.2.3.4", &mut out);
        assert_eq!(&out[..n], b"a 1.2.3.4 b $ c");
        let long = "é".repeat(200);
        let n = expand(long.as_bytes(), b"", &mut out);
        assert_eq!(n, 254);
        let n = expand(format!("x{long}").as_bytes(), b"", &mut out);
        assert_eq!(n, 253);
        let n = expand(b"$$$", b"s", &mut out);
        assert_eq!(&out[..n], b"$s");
        let n = expand(b"", b"s", &mut out);
        assert_eq!(n, 0);
    }
}
