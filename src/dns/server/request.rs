//! Reading a query from the received bytes, in place, without allocating.

/// The most octets of a domain name in wire form (RFC 1035, 3.1).
const MAX_NAME: usize = 255;

/// An EDNS(0) OPT record of a query (RFC 6891).
///
/// # Examples
///
/// See [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Edns {
    /// The requestor's UDP payload size.
    pub udp_size: u16,
    /// The EDNS version.
    pub version: u8,
    /// The DNSSEC OK bit.
    pub dnssec_ok: bool,
}

/// Why a packet is not a query that can be answered.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{Malformed, Request};
/// assert_eq!(Request::parse(&[0; 5]).unwrap_err(), Malformed::Drop);
/// // a header asking 2 questions
/// let mut p = vec![0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
/// p.extend_from_slice(&[0, 0, 1, 0, 1]);
/// assert_eq!(Request::parse(&p).unwrap_err(), Malformed::FormErr);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// No answer at all: shorter than a header, or a response.
    Drop,
    /// Answered with FORMERR: not exactly one well-formed question.
    FormErr,
}

/// A parsed query: the header fields, the question name lowercased with its label offsets,
/// the question type and class, and the EDNS OPT record if there is one.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::Request;
/// let mut p = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
/// p.extend_from_slice(b"\x012\x010\x010\x03127\x02BL\x07Example\x00\x00\x01\x00\x01");
/// let r = Request::parse(&p)?;
/// assert_eq!(r.id(), 0x1234);
/// assert_eq!((r.qtype(), r.qclass()), (1, 1));
/// assert_eq!(r.qname(), b"\x012\x010\x010\x03127\x02bl\x07example\x00");
/// assert_eq!(r.label_count(), 6);
/// assert_eq!(r.edns(), None);
/// # Ok::<(), rblkit::dns::server::Malformed>(())
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    id: u16,
    flags: u16,
    qtype: u16,
    qclass: u16,
    question_end: usize,
    name: [u8; MAX_NAME],
    name_len: u8,
    labels: [u8; 128],
    label_count: u8,
    edns: Option<Edns>,
}

impl Request {
    /// Reads a query. Only the header, the question and an OPT record in the additional
    /// section are read; the name must not be compressed (a query's question never needs to
    /// be). Trailing garbage after the question, or a broken record after it, leaves the
    /// query without EDNS rather than unanswered.
    ///
    /// # Errors
    ///
    /// [`Malformed::Drop`] for fewer than 12 octets or a response;
    /// [`Malformed::FormErr`] for a question count other than 1, or a question that is cut
    /// short, compressed or longer than 255 octets.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn parse(p: &[u8]) -> Result<Request, Malformed> {
        if p.len() < 12 || p[2] & 0x80 != 0 {
            return Err(Malformed::Drop);
        }
        let be = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
        if be(4) != 1 {
            return Err(Malformed::FormErr);
        }
        let mut r = Request {
            id: be(0),
            flags: be(2),
            qtype: 0,
            qclass: 0,
            question_end: 0,
            name: [0; MAX_NAME],
            name_len: 0,
            labels: [0; 128],
            label_count: 0,
            edns: None,
        };
        let mut i = 12usize;
        let mut n = 0usize;
        loop {
            let Some(&len) = p.get(i) else {
                return Err(Malformed::FormErr);
            };
            let len = usize::from(len);
            if len > 63 || n + 1 + len > MAX_NAME {
                return Err(Malformed::FormErr);
            }
            let Some(label) = p.get(i + 1..i + 1 + len) else {
                return Err(Malformed::FormErr);
            };
            r.name[n] = len as u8;
            if len == 0 {
                n += 1;
                i += 1;
                break;
            }
            r.labels[usize::from(r.label_count)] = n as u8;
            r.label_count += 1;
            for (d, s) in r.name[n + 1..n + 1 + len].iter_mut().zip(label) {
                *d = s.to_ascii_lowercase();
            }
            n += 1 + len;
            i += 1 + len;
        }
        r.name_len = n as u8;
        let Some(tc) = p.get(i..i + 4) else {
            return Err(Malformed::FormErr);
        };
        r.qtype = u16::from_be_bytes([tc[0], tc[1]]);
        r.qclass = u16::from_be_bytes([tc[2], tc[3]]);
        i += 4;
        r.question_end = i;
        let (an, ns, ar) = (be(6), be(8), be(10));
        if ar > 0 {
            r.edns = find_opt(p, i, u32::from(an) + u32::from(ns), ar);
        }
        Ok(r)
    }

    /// The query ID.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn id(&self) -> u16 {
        self.id
    }
    /// The header's flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, RCODE).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Request;
    /// let mut p = vec![0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
    /// assert_eq!(Request::parse(&p).unwrap().flags(), 0x0100);
    /// ```
    pub fn flags(&self) -> u16 {
        self.flags
    }
    /// The opcode (0 = QUERY).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Request;
    /// let p = vec![0, 1, 0x20, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1];
    /// assert_eq!(Request::parse(&p).unwrap().opcode(), 4); // NOTIFY
    /// ```
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 15) as u8
    }
    /// The question type.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn qtype(&self) -> u16 {
        self.qtype
    }
    /// The question class.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn qclass(&self) -> u16 {
        self.qclass
    }
    /// The question name in wire form, lowercased (ASCII), ending with the root label.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn qname(&self) -> &[u8] {
        &self.name[..usize::from(self.name_len)]
    }
    /// How many labels the question name has (the root not counted).
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn label_count(&self) -> usize {
        usize::from(self.label_count)
    }
    /// The offset in [`Request::qname`] where label `i` (0 = leftmost) starts; the
    /// label count gives the root label's offset.
    pub(crate) fn label_offset(&self, i: usize) -> usize {
        if i < self.label_count() {
            usize::from(self.labels[i])
        } else {
            usize::from(self.name_len) - 1
        }
    }
    /// Where the question ends in the packet (the answer section starts here).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Request;
    /// let p = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1];
    /// assert_eq!(Request::parse(&p).unwrap().question_end(), 17);
    /// ```
    pub fn question_end(&self) -> usize {
        self.question_end
    }
    /// The OPT record, when the query has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::Request;
    /// let mut p = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1];
    /// p.extend_from_slice(&[0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0]);
    /// let e = Request::parse(&p).unwrap().edns().unwrap();
    /// assert_eq!((e.udp_size, e.version, e.dnssec_ok), (4096, 0, true));
    /// ```
    pub fn edns(&self) -> Option<Edns> {
        self.edns
    }
}

/// Skips `skip` records from `i`, then looks for an OPT record among the next `ar`.
fn find_opt(p: &[u8], mut i: usize, skip: u32, ar: u16) -> Option<Edns> {
    for _ in 0..skip {
        i = skip_record(p, i)?;
    }
    for _ in 0..ar {
        let start = i;
        let name_end = skip_name(p, i)?;
        let f = p.get(name_end..name_end + 10)?;
        if u16::from_be_bytes([f[0], f[1]]) == 41 {
            if name_end != start + 1 || p[start] != 0 {
                return None;
            }
            return Some(Edns {
                udp_size: u16::from_be_bytes([f[2], f[3]]),
                version: f[5],
                dnssec_ok: f[6] & 0x80 != 0,
            });
        }
        i = skip_record(p, start)?;
    }
    None
}

/// The offset after the name at `i` (a compression pointer ends it).
pub(crate) fn skip_name(p: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let l = *p.get(i)?;
        match l & 0xc0 {
            0 if l == 0 => return Some(i + 1),
            0 => i += 1 + usize::from(l),
            0xc0 => {
                p.get(i + 1)?;
                return Some(i + 2);
            }
            _ => return None,
        }
    }
}

/// The offset after the resource record at `i`.
pub(crate) fn skip_record(p: &[u8], i: usize) -> Option<usize> {
    let i = skip_name(p, i)?;
    let f = p.get(i..i + 10)?;
    let end = i + 10 + usize::from(u16::from_be_bytes([f[8], f[9]]));
    (end <= p.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &[u8]) -> Vec<u8> {
        let mut p = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        p.extend_from_slice(name);
        p.extend_from_slice(&[0, 16, 0, 1]);
        p
    }

    #[test]
    fn rejects_broken_questions() {
        assert_eq!(Request::parse(&[0; 11]).unwrap_err(), Malformed::Drop);
        let mut resp = query(b"\0");
        resp[2] |= 0x80;
        assert_eq!(Request::parse(&resp).unwrap_err(), Malformed::Drop);
        for name in [
            &b"\xc0\x0c"[..],
            b"\x05ab",
            b"\x40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\0",
        ] {
            let mut p = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
            p.extend_from_slice(name);
            assert_eq!(
                Request::parse(&p).unwrap_err(),
                Malformed::FormErr,
                "{name:?}"
            );
        }
        // 256 octets of name
        let mut long = Vec::new();
        for _ in 0..4 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert_eq!(
            Request::parse(&query(&long)).unwrap_err(),
            Malformed::FormErr
        );
        long.truncate(4 * 64 - 2);
        long[3 * 64] = 61;
        long.push(0);
        assert_eq!(
            Request::parse(&query(&long)).unwrap().qname().len(),
            MAX_NAME
        );
        // question cut before the class
        let mut p = query(b"\x01a\0");
        p.truncate(p.len() - 1);
        assert_eq!(Request::parse(&p).unwrap_err(), Malformed::FormErr);
    }

    #[test]
    fn reads_opt_after_other_records() {
        let mut p = query(b"\x01a\0");
        p[7] = 1; // one answer record
        p[11] = 2; // two additional records
        p.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        p.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[0, 0, 41, 2, 0, 0, 1, 0, 0, 0, 0]);
        let e = Request::parse(&p).unwrap().edns().unwrap();
        assert_eq!((e.udp_size, e.version, e.dnssec_ok), (512, 1, false));
        // the same cut short: no EDNS, still a query
        p.truncate(p.len() - 3);
        assert_eq!(Request::parse(&p).unwrap().edns(), None);
    }
}
