//! Postfix's SMTP access policy delegation protocol, the request side: `name=value` lines,
//! an empty line ending a request, validated into a [`Request`] under [`Limits`].

use super::SmtpError;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

/// Limits on what one client may send: the longest line, the most attributes in a request,
/// and how long a connection may stay silent.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Limits;
/// let l = Limits::default();
/// assert_eq!((l.max_line, l.max_attributes, l.idle.as_secs()), (4096, 128, 600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The longest line, in bytes, without its newline.
    pub max_line: usize,
    /// The most attributes in one request.
    pub max_attributes: usize,
    /// How long a connection may wait between two requests (Postfix itself closes an idle
    /// policy connection after `smtpd_policy_service_max_idle`, 300 s by default).
    pub idle: Duration,
}

impl Default for Limits {
    /// 4096-byte lines, 128 attributes (Postfix sends about 30), 10 minutes idle.
    fn default() -> Self {
        Limits {
            max_line: 4096,
            max_attributes: 128,
            idle: Duration::from_secs(600),
        }
    }
}

/// The SMTP stage a request is asked at (`protocol_state`).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Stage;
/// let s: Stage = "END-OF-MESSAGE".parse().unwrap();
/// assert_eq!(s, Stage::EndOfMessage);
/// assert_eq!(s.to_string(), "END-OF-MESSAGE");
/// assert_eq!("XFORWARD".parse::<Stage>().unwrap().to_string(), "XFORWARD");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// `CONNECT`.
    Connect,
    /// `EHLO` or `HELO`.
    Helo(Box<str>),
    /// `MAIL`.
    Mail,
    /// `RCPT`: the stage the one-line `check_policy_service` set-up asks at.
    Rcpt,
    /// `DATA`.
    Data,
    /// `END-OF-MESSAGE`.
    EndOfMessage,
    /// `VRFY`.
    Vrfy,
    /// `ETRN`.
    Etrn,
    /// Any other stage name.
    Other(Box<str>),
}

impl FromStr for Stage {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<Stage, SmtpError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
            return Err(SmtpError::BadField {
                field: "protocol_state",
                problem: format!("{s:?} is not a stage name").into(),
            });
        }
        Ok(match s {
            "CONNECT" => Stage::Connect,
            "EHLO" | "HELO" => Stage::Helo(s.into()),
            "MAIL" => Stage::Mail,
            "RCPT" => Stage::Rcpt,
            "DATA" => Stage::Data,
            "END-OF-MESSAGE" => Stage::EndOfMessage,
            "VRFY" => Stage::Vrfy,
            "ETRN" => Stage::Etrn,
            other => Stage::Other(other.into()),
        })
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "CONNECT",
            Stage::Helo(s) | Stage::Other(s) => s,
            Stage::Mail => "MAIL",
            Stage::Rcpt => "RCPT",
            Stage::Data => "DATA",
            Stage::EndOfMessage => "END-OF-MESSAGE",
            Stage::Vrfy => "VRFY",
            Stage::Etrn => "ETRN",
        })
    }
}

/// One policy request: its attributes in the order sent, validated (`request` is
/// `smtpd_access_policy`; `protocol_state`, `client_address` and `recipient_count`, when
/// present and not empty, are a stage, an IP address and a number).
///
/// The text form is the wire form: `name=value` lines and an empty line.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{Request, Stage};
/// let r: Request = "request=smtpd_access_policy\nprotocol_state=RCPT\ninstance=1a2b.3c\n\
///     sender=a@example.com\nrecipient=b@example.net\nclient_address=192.0.2.1\n\n".parse()?;
/// assert_eq!(r.stage(), Some(Stage::Rcpt));
/// assert_eq!((r.sender(), r.recipient(), r.instance()), ("a@example.com", "b@example.net", "1a2b.3c"));
/// assert_eq!(r.client_address(), Some("192.0.2.1".parse().unwrap()));
/// assert_eq!(r.to_string().parse::<Request>()?, r);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    attrs: Attrs,
    stage: Option<Stage>,
    client: Option<IpAddr>,
    recipient_count: Option<u32>,
}

impl Request {
    /// A request of these attributes, validated as a parsed one is.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadField`], [`SmtpError::BadLine`] or
    /// [`SmtpError::DuplicateAttribute`] as parsing gives them.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::Request;
    /// let r = Request::new(&[("request", "smtpd_access_policy"), ("sender", "")])?;
    /// assert_eq!(r.sender(), "");
    /// assert!(Request::new(&[("sender", "a@b.example")]).is_err());
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(attrs: &[(&str, &str)]) -> Result<Request, SmtpError> {
        let mut p = RequestParser::new(Limits {
            max_attributes: usize::MAX,
            max_line: usize::MAX,
            ..Limits::default()
        });
        for (name, value) in attrs {
            if value.contains('\n') {
                return Err(SmtpError::BadField {
                    field: "value",
                    problem: format!("the value of {name:?} has a newline").into(),
                });
            }
            let line = format!("{name}={value}");
            if let Some(r) = p.line(line.as_bytes())? {
                return Ok(r); // cannot happen: a line with '=' never ends a request
            }
        }
        p.line(b"")?.ok_or(SmtpError::BadField {
            field: "request",
            problem: "missing".into(),
        })
    }

    /// An attribute's value (`None` when not sent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.get(name)
    }

    fn text(&self, k: usize) -> &str {
        self.attrs.known(k).unwrap_or("")
    }

    /// The attributes in the order sent.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attrs.iter()
    }

    /// `protocol_state`, when sent.
    pub fn stage(&self) -> Option<Stage> {
        self.stage.clone()
    }

    /// Whether `protocol_state` is this stage.
    pub fn is_stage(&self, s: &Stage) -> bool {
        self.stage.as_ref() == Some(s)
    }

    /// `instance`: the same for every request about one message (empty when not sent).
    pub fn instance(&self) -> &str {
        self.text(4)
    }

    /// `sender`, the envelope sender without angle brackets; empty for the null sender
    /// `<>` of bounces.
    pub fn sender(&self) -> &str {
        self.text(5)
    }

    /// `recipient` (empty when not sent, as at END-OF-MESSAGE with several recipients).
    pub fn recipient(&self) -> &str {
        self.text(6)
    }

    /// `sasl_username`: the authenticated user (empty when not authenticated).
    pub fn sasl_username(&self) -> &str {
        self.text(7)
    }

    /// `client_address`, when sent and an IP address.
    pub fn client_address(&self) -> Option<IpAddr> {
        self.client
    }

    /// `recipient_count` (sent at DATA and END-OF-MESSAGE), when sent.
    pub fn recipient_count(&self) -> Option<u32> {
        self.recipient_count
    }
}

impl fmt::Display for Request {
    /// The wire form: `name=value` lines, then an empty line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in self.attrs.iter() {
            writeln!(f, "{n}={v}")?;
        }
        writeln!(f)
    }
}

impl FromStr for Request {
    type Err = SmtpError;

    /// One request in the wire form; the final empty line may be left out.
    fn from_str(s: &str) -> Result<Request, SmtpError> {
        let mut p = RequestParser::new(Limits::default());
        for line in s.split('\n') {
            if let Some(r) = p.line(line.as_bytes())? {
                return Ok(r);
            }
        }
        p.line(b"")?.ok_or(SmtpError::BadField {
            field: "request",
            problem: "missing".into(),
        })
    }
}

/// The incremental request parser of one connection: give it each line (without the
/// newline); an empty line completes a request. After an error the connection is out of
/// step and is to be closed.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{Limits, RequestParser, SmtpError};
/// let mut p = RequestParser::new(Limits::default());
/// assert!(p.line(b"request=smtpd_access_policy")?.is_none());
/// assert!(p.line(b"sender=a@example.com\r")?.is_none());
/// let r = p.line(b"")?.unwrap();
/// assert_eq!(r.sender(), "a@example.com");
/// assert!(matches!(p.line(b"no equals sign"), Err(SmtpError::BadLine { line: 1, .. })));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct RequestParser {
    limits: Limits,
    attrs: Attrs,
    line: u32,
}

/// The attributes the server reads, found without a search: their index in `spans`.
const KNOWN: [&str; 8] = [
    "request",
    "protocol_state",
    "client_address",
    "recipient_count",
    "instance",
    "sender",
    "recipient",
    "sasl_username",
];
const NONE: u16 = u16::MAX;

/// The attributes of a request in one string (names and values one after another) and
/// their places in it: two allocations a request, not two an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Attrs {
    text: String,
    /// Per attribute: where its name starts, where its name ends (its value starts), where
    /// its value ends.
    spans: Vec<(u32, u32, u32)>,
    /// Where each of [`KNOWN`] is in `spans` ([`NONE`]: not sent).
    known: [u16; KNOWN.len()],
    /// A bit per name hash of the names so far: a name whose bit is clear is no duplicate.
    names: u64,
}

/// The index of a name in [`KNOWN`].
fn known_index(name: &str) -> Option<usize> {
    Some(match name {
        "request" => 0,
        "protocol_state" => 1,
        "client_address" => 2,
        "recipient_count" => 3,
        "instance" => 4,
        "sender" => 5,
        "recipient" => 6,
        "sasl_username" => 7,
        _ => return None,
    })
}

fn name_bit(name: &str) -> u64 {
    let b = name.as_bytes();
    let h = b
        .len()
        .wrapping_mul(31)
        .wrapping_add(usize::from(b.first().copied().unwrap_or(0)))
        .wrapping_add(usize::from(b.last().copied().unwrap_or(0)) << 2);
    1 << (h % 64)
}

impl Attrs {
    fn with_capacity() -> Attrs {
        Attrs {
            text: String::with_capacity(512),
            spans: Vec::with_capacity(24),
            known: [NONE; KNOWN.len()],
            names: 0,
        }
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
        self.known = [NONE; KNOWN.len()];
        self.names = 0;
    }

    /// The value of the `k`th of [`KNOWN`].
    fn known(&self, k: usize) -> Option<&str> {
        let &(_, v, e) = self.spans.get(usize::from(self.known[k]))?;
        self.text.get(v as usize..e as usize)
    }

    fn has(&self, name: &str) -> bool {
        if self.names & name_bit(name) == 0 {
            return false;
        }
        let t = self.text.as_bytes();
        self.spans
            .iter()
            .any(|&(n, v, _)| t.get(n as usize..v as usize) == Some(name.as_bytes()))
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(|&(n, v, e)| {
            (
                &self.text[n as usize..v as usize],
                &self.text[v as usize..e as usize],
            )
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        if let Some(k) = known_index(name) {
            return self.known(k);
        }
        let t = self.text.as_bytes();
        let &(_, v, e) = self
            .spans
            .iter()
            .find(|&&(n, v, _)| t.get(n as usize..v as usize) == Some(name.as_bytes()))?;
        self.text.get(v as usize..e as usize)
    }

    /// Adds an attribute; `false` when the text would pass 4 GiB.
    fn push(&mut self, name: &str, value: &str) -> bool {
        let n = self.text.len();
        let Ok(end) = u32::try_from(n + name.len() + value.len()) else {
            return false;
        };
        if let Some(k) = known_index(name) {
            self.known[k] = u16::try_from(self.spans.len()).unwrap_or(NONE);
        }
        self.names |= name_bit(name);
        self.text.push_str(name);
        self.text.push_str(value);
        self.spans.push((n as u32, (n + name.len()) as u32, end));
        true
    }
}

impl RequestParser {
    /// A parser under these limits.
    pub fn new(limits: Limits) -> RequestParser {
        RequestParser {
            limits,
            attrs: Attrs::with_capacity(),
            line: 0,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether a request is under way (some of its lines were given).
    pub fn in_request(&self) -> bool {
        self.line > 0
    }

    /// Takes one line (a trailing `\r` is dropped); returns the request an empty line
    /// completes. An empty line between requests is ignored.
    ///
    /// # Errors
    ///
    /// [`SmtpError::LineTooLong`], [`SmtpError::TooManyAttributes`],
    /// [`SmtpError::BadLine`] (no `=`, an empty or bad name, a NUL byte),
    /// [`SmtpError::DuplicateAttribute`], or [`SmtpError::BadField`] for a completed request
    /// that is not valid.
    pub fn line(&mut self, line: &[u8]) -> Result<Option<Request>, SmtpError> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if self.line == 0 {
                return Ok(None);
            }
            self.line = 0;
            let attrs = std::mem::replace(&mut self.attrs, Attrs::with_capacity());
            return finish(attrs).map(Some);
        }
        self.line = self.line.saturating_add(1);
        let n = self.line;
        let r = self.attribute(line, n);
        if r.is_err() {
            self.attrs.clear();
            self.line = 0;
        }
        r.map(|()| None)
    }

    fn attribute(&mut self, line: &[u8], n: u32) -> Result<(), SmtpError> {
        if line.len() > self.limits.max_line {
            return Err(SmtpError::LineTooLong {
                line: n,
                limit: self.limits.max_line,
            });
        }
        if self.attrs.len() >= self.limits.max_attributes {
            return Err(SmtpError::TooManyAttributes {
                limit: self.limits.max_attributes,
            });
        }
        let bad = |offset: usize, problem: &'static str| SmtpError::BadLine {
            line: n,
            offset,
            problem,
        };
        if let Some(p) = memchr::memchr(0, line) {
            return Err(bad(p, "a NUL byte"));
        }
        let Some(eq) = memchr::memchr(b'=', line) else {
            return Err(bad(0, "not name=value"));
        };
        let name = &line[..eq];
        if name.is_empty() {
            return Err(bad(0, "an empty attribute name"));
        }
        if let Some(p) = name
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-'))
        {
            return Err(bad(
                p,
                "an attribute name of other than letters, digits, '_' and '-'",
            ));
        }
        let name = std::str::from_utf8(name).expect("ASCII");
        if self.attrs.has(name) {
            return Err(SmtpError::DuplicateAttribute {
                line: n,
                name: name.into(),
            });
        }
        // values are taken as they come; bytes that are not UTF-8 become U+FFFD
        let raw = &line[eq + 1..];
        let lossy;
        let value = match std::str::from_utf8(raw) {
            Ok(v) => v,
            Err(_) => {
                lossy = String::from_utf8_lossy(raw);
                &lossy
            }
        };
        if !self.attrs.push(name, value) {
            return Err(SmtpError::TooManyAttributes {
                limit: self.limits.max_attributes,
            });
        }
        Ok(())
    }
}

fn finish(attrs: Attrs) -> Result<Request, SmtpError> {
    let get = |name: &str| attrs.get(name).filter(|v| !v.is_empty());
    match get("request") {
        Some("smtpd_access_policy") => {}
        Some(other) => {
            return Err(SmtpError::BadField {
                field: "request",
                problem: format!("{other:?}, not smtpd_access_policy").into(),
            })
        }
        None => {
            return Err(SmtpError::BadField {
                field: "request",
                problem: "missing".into(),
            })
        }
    }
    let stage = get("protocol_state").map(str::parse).transpose()?;
    let client = match get("client_address") {
        None => None,
        // Postfix sends IPv6 addresses bare; a scope (fe80::1%eth0) is dropped
        Some(a) => Some(
            a.split('%')
                .next()
                .unwrap_or(a)
                .parse::<IpAddr>()
                .map_err(|_| SmtpError::BadField {
                    field: "client_address",
                    problem: format!("{a:?} is not an IP address").into(),
                })?,
        ),
    };
    let recipient_count = match get("recipient_count") {
        None => None,
        Some(c) => Some(c.parse::<u32>().map_err(|_| SmtpError::BadField {
            field: "recipient_count",
            problem: format!("{c:?} is not a number").into(),
        })?),
    };
    Ok(Request {
        attrs,
        stage,
        client,
        recipient_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_enforced_and_the_parser_starts_afresh() {
        let mut p = RequestParser::new(Limits {
            max_line: 20,
            max_attributes: 2,
            ..Limits::default()
        });
        assert!(matches!(
            p.line(&[b'a'; 21]),
            Err(SmtpError::LineTooLong { line: 1, limit: 20 })
        ));
        p.line(b"request=smtpd_access_policy").unwrap_err(); // over 20 bytes
        p.line(b"a=1").unwrap();
        p.line(b"b=2").unwrap();
        assert!(matches!(
            p.line(b"c=3"),
            Err(SmtpError::TooManyAttributes { limit: 2 })
        ));
        assert!(matches!(
            p.line(b"a=1").and_then(|_| p.line(b"a=2")),
            Err(SmtpError::DuplicateAttribute { line: 2, .. })
        ));
        assert!(matches!(
            p.line(b"x y=1"),
            Err(SmtpError::BadLine { offset: 1, .. })
        ));
    }

    #[test]
    fn known_names_and_duplicates_are_found() {
        for (i, n) in KNOWN.iter().enumerate() {
            assert_eq!(known_index(n), Some(i));
        }
        // 100 names, many sharing a hash bit: none is taken for a duplicate, and each
        // given again is one
        let names: Vec<String> = (0..100).map(|i| format!("n{}x{i}", i % 7)).collect();
        for again in [0, 37, 99] {
            let mut p = RequestParser::new(Limits::default());
            p.line(b"request=smtpd_access_policy").unwrap();
            for n in &names {
                p.line(format!("{n}=v").as_bytes()).unwrap();
            }
            assert!(matches!(
                p.line(format!("{}=w", names[again]).as_bytes()),
                Err(SmtpError::DuplicateAttribute { line: 102, .. })
            ));
        }
        let mut p = RequestParser::new(Limits::default());
        for n in &names {
            p.line(format!("{n}=v").as_bytes()).unwrap();
        }
        p.line(b"request=smtpd_access_policy").unwrap();
        let r = p.line(b"").unwrap().unwrap();
        assert_eq!(r.attributes().count(), 101);
        assert_eq!(r.get("n2x44"), Some("v"));
    }

    #[test]
    fn fields_are_validated() {
        for bad in [
            "request=other\n\n",
            "sender=a@b.example\n\n",
            "request=smtpd_access_policy\nclient_address=not-an-ip\n\n",
            "request=smtpd_access_policy\nrecipient_count=x\n\n",
            "request=smtpd_access_policy\nprotocol_state=rcpt\n\n",
        ] {
            assert!(bad.parse::<Request>().is_err(), "{bad:?}");
        }
        let r: Request = "request=smtpd_access_policy\nclient_address=fe80::1%eth0\nrecipient_count=3\nsender=\n\n"
            .parse()
            .unwrap();
        assert_eq!(r.client_address(), Some("fe80::1".parse().unwrap()));
        assert_eq!(r.recipient_count(), Some(3));
        assert_eq!(r.sender(), "");
    }

    proptest::proptest! {
        #[test]
        fn requests_round_trip(values in proptest::collection::vec("[^\n\r\u{0}]{0,40}", 0..8)) {
            let mut attrs = vec![("request".to_string(), "smtpd_access_policy".to_string())];
            for (i, v) in values.iter().enumerate() {
                attrs.push((format!("attr_{i}"), v.clone()));
            }
            let pairs: Vec<(&str, &str)> = attrs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let r = Request::new(&pairs).unwrap();
            proptest::prop_assert_eq!(r.to_string().parse::<Request>().unwrap(), r);
        }
    }
}
