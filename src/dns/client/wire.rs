//! Queries out, responses in: the wire side of a check, without I/O.

use super::error::{cut, ClientError};
use crate::codes::ReturnCode;
use domain::base::iana::{Class, Opcode, Rtype};
use domain::base::name::{Name, ToName};
use domain::base::{Message, MessageBuilder};
use domain::rdata::{Cname, Txt, A};
use std::fmt;
use std::str::FromStr;

/// The UDP payload size the checker offers in its EDNS0 OPT record (the DNS flag day 2020
/// value: no fragmentation on common paths).
pub const EDNS_UDP_SIZE: u16 = 1232;

/// At most this many CNAMEs are followed in one answer.
const MAX_CNAMES: usize = 8;

/// The record types a checker asks for.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::QueryType;
/// assert_eq!(QueryType::Txt.to_string(), "TXT");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryType {
    /// Address records: the return codes.
    A,
    /// Text records: the list's explanation.
    Txt,
}

impl QueryType {
    fn rtype(self) -> Rtype {
        match self {
            QueryType::A => Rtype::A,
            QueryType::Txt => Rtype::TXT,
        }
    }
}

impl fmt::Display for QueryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QueryType::A => "A",
            QueryType::Txt => "TXT",
        })
    }
}

/// A DNS response code (RFC 1035 and the extended codes of RFC 6891), as an open newtype.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::Rcode;
/// assert_eq!(Rcode::SERVFAIL.to_string(), "SERVFAIL");
/// assert_eq!(Rcode::new(23).to_string(), "RCODE23");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rcode(u16);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// Format error: the server could not read the query.
    pub const FORMERR: Rcode = Rcode(1);
    /// Server failure.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// The name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// Not implemented.
    pub const NOTIMP: Rcode = Rcode(4);
    /// Refused: the server does not answer this (for instance, a zone it does not serve).
    pub const REFUSED: Rcode = Rcode(5);

    /// The code with this number.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::Rcode;
    /// assert_eq!(Rcode::new(5), Rcode::REFUSED);
    /// assert_eq!(Rcode::REFUSED.get(), 5);
    /// ```
    pub const fn new(code: u16) -> Rcode {
        Rcode(code)
    }

    /// The number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::dns::client::Rcode::NXDOMAIN.get(), 3);
    /// ```
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            16 => "BADVERS",
            n => return write!(f, "RCODE{n}"),
        };
        f.write_str(name)
    }
}

/// One question: a query name and type, ready to be sent with any message ID and to check
/// that a response answers it.
///
/// # Examples
///
/// ```
/// use rblkit::dns::client::{Question, QueryType, Rcode};
/// let q = Question::new("2.0.0.127.bl.example", QueryType::A)?;
/// let mut query = Vec::new();
/// q.write_query(0x1234, &mut query);
/// assert_eq!(&query[..2], &[0x12, 0x34]);
///
/// // A response to it, as a server would send: same header and question, one A record.
/// let mut resp = query.clone();
/// resp.truncate(12 + q.name_len() + 4); // drop the OPT record
/// resp[2] = 0x85; // QR, AA, RD
/// resp[3] = 0x00;
/// resp[7] = 1; // ANCOUNT
/// resp[11] = 0; // ARCOUNT
/// resp.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]);
/// let a = q.decode(0x1234, &resp)?;
/// assert_eq!(a.rcode, Rcode::NOERROR);
/// assert_eq!(a.codes, ["127.0.0.2".parse()?]);
/// assert!(q.decode(0x4321, &resp).is_err()); // another ID: not ours
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    name: Name<Vec<u8>>,
    qtype: QueryType,
}

/// What a response said, as far as a list check needs it.
///
/// # Examples
///
/// See [`Question::decode`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Answer {
    /// The response code.
    pub rcode: Rcode,
    /// Whether the TC bit was set: the answer did not fit, ask again over TCP.
    pub truncated: bool,
    /// The A records for the name asked (following CNAMEs in the answer), in order.
    pub codes: Vec<ReturnCode>,
    /// The TXT records for the name asked: each record's strings joined, invalid UTF-8
    /// replaced.
    pub txt: Vec<String>,
}

impl Default for Rcode {
    fn default() -> Rcode {
        Rcode::NOERROR
    }
}

impl Question {
    /// A question for `qname` (absolute or not; a trailing dot is allowed).
    ///
    /// # Errors
    ///
    /// [`ClientError::BadQueryName`] when `qname` is not a domain name.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Question, QueryType};
    /// assert!(Question::new("spam.example.dbl.example.", QueryType::Txt).is_ok());
    /// assert!(Question::new("a..b", QueryType::A).is_err());
    /// ```
    pub fn new(qname: &str, qtype: QueryType) -> Result<Question, ClientError> {
        let bad = || ClientError::BadQueryName { name: cut(qname) };
        let text = qname.strip_suffix('.').unwrap_or(qname);
        if text.is_empty() {
            return Err(bad());
        }
        let name = Name::<Vec<u8>>::from_str(&format!("{text}.")).map_err(|_| bad())?;
        Ok(Question { name, qtype })
    }

    /// The query type.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Question, QueryType};
    /// assert_eq!(Question::new("bl.example", QueryType::A)?.qtype(), QueryType::A);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn qtype(&self) -> QueryType {
        self.qtype
    }

    /// The length of the name in wire format (with the root label).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Question, QueryType};
    /// assert_eq!(Question::new("bl.example", QueryType::A)?.name_len(), 12);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn name_len(&self) -> usize {
        self.name.as_slice().len()
    }

    /// Writes a recursive query with this question, message ID `id` and an EDNS0 OPT record
    /// offering [`EDNS_UDP_SIZE`] into `out` (cleared first).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::client::{Question, QueryType};
    /// let mut out = Vec::new();
    /// Question::new("bl.example", QueryType::Txt)?.write_query(7, &mut out);
    /// assert_eq!(out.len(), 12 + 12 + 4 + 11);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn write_query(&self, id: u16, out: &mut Vec<u8>) {
        out.clear();
        let mut b = MessageBuilder::from_target(std::mem::take(out))
            .expect("a Vec target has room for a header");
        b.header_mut().set_id(id);
        b.header_mut().set_rd(true);
        let mut q = b.question();
        // A name of at most 255 octets, one question: always fits an unbounded Vec.
        q.push((&self.name, self.qtype.rtype(), Class::IN))
            .expect("a question fits a Vec");
        let mut add = q.additional();
        add.opt(|o| {
            o.set_udp_payload_size(EDNS_UDP_SIZE);
            Ok(())
        })
        .expect("an OPT record fits a Vec");
        *out = add.finish();
    }

    /// Reads `msg` as the response to this question sent with message ID `id`.
    ///
    /// Records for other names, classes or types are skipped; a CNAME for the name asked
    /// is followed (up to 8) for the records of its target. Time and memory are linear in
    /// the length of `msg`.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotOurs`] when `msg` is not a response to this query (another ID, not
    /// a response, another question): a client keeps waiting. [`ClientError::Malformed`]
    /// when it is, but does not parse.
    ///
    /// # Examples
    ///
    /// See [`Question`].
    pub fn decode(&self, id: u16, msg: &[u8]) -> Result<Answer, ClientError> {
        let m =
            Message::from_octets(msg).map_err(|_| ClientError::Malformed { section: "header" })?;
        let h = m.header();
        if h.id() != id {
            return Err(ClientError::NotOurs { field: "id" });
        }
        if !h.qr() {
            return Err(ClientError::NotOurs { field: "qr" });
        }
        if h.opcode() != Opcode::QUERY {
            return Err(ClientError::NotOurs { field: "opcode" });
        }
        let question = ClientError::NotOurs { field: "question" };
        let mut qs = m.question();
        match qs.next() {
            Some(Ok(q)) => {
                if !q.qname().name_eq(&self.name)
                    || q.qtype() != self.qtype.rtype()
                    || q.qclass() != Class::IN
                {
                    return Err(question);
                }
            }
            Some(Err(_)) => {
                return Err(ClientError::Malformed {
                    section: "question",
                })
            }
            None => return Err(question),
        }
        if qs.next().is_some() {
            return Err(question);
        }
        let rcode = Rcode(m.opt_rcode().to_int());
        let mut answer = Answer {
            rcode,
            truncated: h.tc(),
            codes: Vec::new(),
            txt: Vec::new(),
        };
        if h.tc() && m.header_counts().ancount() == 0 {
            return Ok(answer);
        }
        let malformed = ClientError::Malformed { section: "answer" };
        // The names whose records answer the question: the name asked and CNAME targets.
        let mut names: Vec<Name<Vec<u8>>> = vec![self.name.clone()];
        let section = qs.answer().map_err(|_| malformed.clone())?;
        for rr in section {
            let rr = match rr {
                Ok(rr) => rr,
                // A truncated response may end inside a record: keep what came before.
                Err(_) if h.tc() => break,
                Err(_) => return Err(malformed),
            };
            if rr.class() != Class::IN {
                continue;
            }
            let owner = rr.owner();
            if !names.iter().any(|n| owner.name_eq(n)) {
                continue;
            }
            match rr.rtype() {
                Rtype::CNAME if names.len() <= MAX_CNAMES => {
                    if let Ok(Some(c)) = rr.to_record::<Cname<_>>() {
                        let target: Name<Vec<u8>> = c.data().cname().to_name();
                        if !names.iter().any(|n| n.name_eq(&target)) {
                            names.push(target);
                        }
                    }
                }
                Rtype::A if self.qtype == QueryType::A => match rr.to_record::<A>() {
                    Ok(Some(a)) => answer.codes.push(ReturnCode::from(a.data().addr())),
                    Ok(None) => {}
                    Err(_) => return Err(malformed),
                },
                Rtype::TXT if self.qtype == QueryType::Txt => match rr.to_record::<Txt<_>>() {
                    Ok(Some(t)) => {
                        let mut bytes = Vec::new();
                        for s in t.data().iter() {
                            bytes.extend_from_slice(s);
                        }
                        answer
                            .txt
                            .push(String::from_utf8_lossy(&bytes).into_owned());
                    }
                    Ok(None) => {}
                    Err(_) => return Err(malformed),
                },
                _ => {}
            }
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `q` with `id`, header flags `flags` (QR is added) and these answer
    /// records (already in wire form, counted by `an`).
    fn response(q: &Question, id: u16, flags: u16, an: u16, records: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&(flags | 0x8000).to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(&an.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(q.name.as_slice());
        m.extend_from_slice(&q.qtype.rtype().to_int().to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m.extend_from_slice(records);
        m
    }

    fn a_rr(ptr: u16, addr: [u8; 4]) -> Vec<u8> {
        let mut r = (0xc000 | ptr).to_be_bytes().to_vec();
        r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        r.extend_from_slice(&addr);
        r
    }

    #[test]
    fn query_round_trips_through_domain() {
        let q = Question::new("99.2.0.192.BL.example.", QueryType::A).unwrap();
        let mut out = Vec::new();
        q.write_query(0xbeef, &mut out);
        let m = Message::from_octets(out.as_slice()).unwrap();
        assert_eq!(m.header().id(), 0xbeef);
        assert!(m.header().rd());
        assert!(!m.header().qr());
        let qq = m.first_question().unwrap();
        assert_eq!(qq.qtype(), Rtype::A);
        assert_eq!(qq.qname().to_string(), "99.2.0.192.BL.example");
        assert_eq!(m.opt().unwrap().udp_payload_size(), EDNS_UDP_SIZE);
    }

    #[test]
    fn decodes_codes_and_ignores_other_names() {
        let q = Question::new("2.0.0.127.bl.example", QueryType::A).unwrap();
        let mut recs = a_rr(12, [127, 0, 0, 2]);
        recs.extend(a_rr(12, [127, 0, 0, 4]));
        // a record for the zone apex name (offset of "bl" label: 12 + 10)
        recs.extend(a_rr(22, [127, 0, 0, 9]));
        let m = response(&q, 1, 0x0400, 3, &recs);
        let a = q.decode(1, &m).unwrap();
        assert_eq!(
            a.codes,
            [
                ReturnCode::new_assert(127, 0, 0, 2),
                ReturnCode::new_assert(127, 0, 0, 4)
            ]
        );
        assert!(!a.truncated);
    }

    #[test]
    fn mismatches_are_not_ours() {
        let q = Question::new("2.0.0.127.bl.example", QueryType::A).unwrap();
        let m = response(&q, 1, 0, 0, &[]);
        assert_eq!(q.decode(2, &m), Err(ClientError::NotOurs { field: "id" }));
        let other = Question::new("3.0.0.127.bl.example", QueryType::A).unwrap();
        assert_eq!(
            other.decode(1, &m),
            Err(ClientError::NotOurs { field: "question" })
        );
        let txt = Question::new("2.0.0.127.bl.example", QueryType::Txt).unwrap();
        assert_eq!(
            txt.decode(1, &m),
            Err(ClientError::NotOurs { field: "question" })
        );
        let mut query = Vec::new();
        q.write_query(1, &mut query);
        assert_eq!(
            q.decode(1, &query),
            Err(ClientError::NotOurs { field: "qr" })
        );
        // case does not matter
        let upper = Question::new("2.0.0.127.BL.EXAMPLE", QueryType::A).unwrap();
        assert!(upper.decode(1, &m).is_ok());
    }

    #[test]
    fn rcodes_and_truncation() {
        let q = Question::new("x.bl.example", QueryType::A).unwrap();
        let a = q.decode(5, &response(&q, 5, 3, 0, &[])).unwrap();
        assert_eq!(a.rcode, Rcode::NXDOMAIN);
        let a = q.decode(5, &response(&q, 5, 5, 0, &[])).unwrap();
        assert_eq!(a.rcode, Rcode::REFUSED);
        let a = q.decode(5, &response(&q, 5, 0x0200, 0, &[])).unwrap();
        assert!(a.truncated);
        // truncated in the middle of a record: what came before is kept
        let mut recs = a_rr(12, [127, 0, 0, 2]);
        recs.extend(&a_rr(12, [127, 0, 0, 3])[..7]);
        let a = q.decode(5, &response(&q, 5, 0x0200, 2, &recs)).unwrap();
        assert!(a.truncated);
        assert_eq!(a.codes, [ReturnCode::LISTED]);
        // not truncated: the same is malformed
        assert_eq!(
            q.decode(5, &response(&q, 5, 0, 2, &recs)),
            Err(ClientError::Malformed { section: "answer" })
        );
        assert_eq!(
            q.decode(5, &[0; 5]),
            Err(ClientError::Malformed { section: "header" })
        );
    }

    #[test]
    fn follows_cnames_and_reads_txt() {
        let q = Question::new("a.bl.example", QueryType::Txt).unwrap();
        let mut recs = Vec::new();
        // a.bl.example CNAME b.bl.example (target "b" + pointer to "bl.example" at 14)
        recs.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, b'b', 0xc0, 14]);
        let b_at = 12 + q.name_len() + 4 + 12;
        // b.bl.example TXT "listed " "here"
        recs.extend_from_slice(&(0xc000u16 | b_at as u16).to_be_bytes());
        recs.extend_from_slice(&[0, 16, 0, 1, 0, 0, 0, 60, 0, 13, 7]);
        recs.extend_from_slice(b"listed ");
        recs.push(4);
        recs.extend_from_slice(b"here");
        let a = q.decode(9, &response(&q, 9, 0, 2, &recs)).unwrap();
        assert_eq!(a.txt, ["listed here"]);
    }

    #[test]
    fn compression_loop_is_an_error_not_a_hang() {
        let q = Question::new("x.bl.example", QueryType::A).unwrap();
        let at = 12 + q.name_len() + 4;
        let mut recs = (0xc000u16 | at as u16).to_be_bytes().to_vec();
        recs.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]);
        assert!(q.decode(1, &response(&q, 1, 0, 1, &recs)).is_err());
    }
}
