//! URLs, hosts, registrable domains, email addresses and IP literals from mail: plain text,
//! HTML and whole RFC 5322 messages with MIME.
//!
//! Content lists (SURBL/URIBL-style) list the domains of the links inside messages. An
//! [`Extractor`] finds them the way a spammer hides them — schemeless `www.` names and bare
//! `name.tld`, `hxxp://`, `example[.]com`, `example(dot)com`, percent-encoded or
//! zero-width-split hosts, Unicode full stops and fullwidth letters, IPv4 in decimal, hex,
//! octal or dword form, IPv6 literals, `user@` tricks, URLs carried in other URLs' query
//! strings — and normalises each host the way lists are queried: lowercase, IDN as A-label,
//! IPv4 dotted decimal, IPv6 without brackets, plus its registrable domain from the public
//! suffix list ([`SuffixList`]).
//!
//! Work is linear in the input and bounded by limits ([`ExtractorBuilder`]); hostile input
//! gives an [`ExtractError`], never a panic.
//!
//! # Examples
//!
//! ```
//! use rblkit::extract::{Extractor, Flags, HitKind};
//!
//! let ex = Extractor::new();
//! let mut hits = Vec::new();
//! ex.extract_text("Login at hxxp://paypal.com.secure-login[.]example/ or mail BOSS@Example.ORG.", &mut hits)?;
//! assert_eq!(hits.len(), 2);
//! assert_eq!(hits[0].kind(), HitKind::Url);
//! assert_eq!(hits[0].host(), "paypal.com.secure-login.example");
//! assert!(hits[0].flags().contains(Flags::OBFUSCATED));
//! assert_eq!(hits[1].kind(), HitKind::Email);
//! assert_eq!(hits[1].email(), Some("BOSS@example.org"));
//! assert_eq!(hits[1].registrable_domain(), Some("example.org"));
//! # Ok::<(), rblkit::Error>(())
//! ```

mod error;
mod host;
mod html;
mod mime;
mod psl;
mod scan;

pub(crate) use mime::body_bytes;

pub use error::ExtractError;
pub use psl::SuffixList;

use std::fmt;
use std::net::IpAddr;
use std::ops::{BitOr, BitOrAssign, Range};

/// What a [`Hit`] is.
///
/// The names ([`HitKind::as_str`]) are those of `rblkit extract --json`.
///
/// # Examples
///
/// ```
/// use rblkit::extract::HitKind;
/// assert_eq!(HitKind::Url.as_str(), "url");
/// assert_eq!(HitKind::Email.to_string(), "email");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HitKind {
    /// A URL: with a scheme (`http`, `https`, `ftp`, or a disguised one such as `hxxp`), or a
    /// host followed by a path or port (`www.example.com/x`, flagged [`Flags::NO_SCHEME`]).
    Url,
    /// A bare host name in prose (`www.example.com`, `example.co.uk`).
    Host,
    /// An email address (also from `mailto:`); its host is the domain.
    Email,
    /// A bare IPv4 address in prose (dotted quad only).
    Ip,
}

impl HitKind {
    /// The name: `url`, `host`, `email` or `ip`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::extract::HitKind::Ip.as_str(), "ip");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Url => "url",
            HitKind::Host => "host",
            HitKind::Email => "email",
            HitKind::Ip => "ip",
        }
    }
}

impl fmt::Display for HitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was unusual about a hit: a set of flags.
///
/// # Examples
///
/// ```
/// use rblkit::extract::Flags;
/// let f = Flags::OBFUSCATED | Flags::IDN;
/// assert!(f.contains(Flags::IDN));
/// assert!(!f.contains(Flags::PHISHING));
/// assert_eq!(f.names().collect::<Vec<_>>(), ["obfuscated", "idn"]);
/// assert_eq!(f.to_string(), "obfuscated,idn");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u16);

impl Flags {
    /// Written to hide it: a disguised scheme (`hxxp`), odd slashes, an obfuscated dot
    /// (`[.]`, `(dot)`), an obfuscated at sign (`(at)`), a percent-encoded host, an IPv4
    /// address in a form other than dotted decimal.
    pub const OBFUSCATED: Flags = Flags(1);
    /// The host has an internationalised label (an A-label after normalisation).
    pub const IDN: Flags = Flags(1 << 1);
    /// The host is an IP address.
    pub const NUMERIC_IP: Flags = Flags(1 << 2);
    /// The URL has userinfo (`http://bank.example@evil.example/`).
    pub const USERINFO: Flags = Flags(1 << 3);
    /// Zero-width or other unusual characters (Unicode full stops, fullwidth letters) were
    /// removed or mapped.
    pub const UNUSUAL_CHARS: Flags = Flags(1 << 4);
    /// Found inside another URL's path or query (a redirector).
    pub const REDIRECTED: Flags = Flags(1 << 5);
    /// An HTML link whose text names another registrable domain than its `href`; set on both
    /// the link and the host found in its text.
    pub const PHISHING: Flags = Flags(1 << 6);
    /// A URL written without a scheme (`www.example.com/path`); `http://` was assumed.
    pub const NO_SCHEME: Flags = Flags(1 << 7);

    const NAMES: [(Flags, &'static str); 8] = [
        (Flags::OBFUSCATED, "obfuscated"),
        (Flags::IDN, "idn"),
        (Flags::NUMERIC_IP, "numeric_ip"),
        (Flags::USERINFO, "userinfo"),
        (Flags::UNUSUAL_CHARS, "unusual_chars"),
        (Flags::REDIRECTED, "redirected"),
        (Flags::PHISHING, "phishing"),
        (Flags::NO_SCHEME, "no_scheme"),
    ];

    /// No flag.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::extract::Flags::empty().is_empty());
    /// ```
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// Whether no flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rblkit::extract::Flags::IDN.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::Flags;
    /// assert!((Flags::IDN | Flags::USERINFO).contains(Flags::USERINFO));
    /// ```
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rblkit::extract::Flags::OBFUSCATED.bits(), 1);
    /// ```
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// The names of the flags set, in a fixed order (`obfuscated`, `idn`, `numeric_ip`,
    /// `userinfo`, `unusual_chars`, `redirected`, `phishing`, `no_scheme`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::Flags;
    /// assert_eq!(Flags::PHISHING.names().next(), Some("phishing"));
    /// ```
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Flags::NAMES
            .into_iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| n)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(n)?;
        }
        Ok(())
    }
}

/// One URL, host, email address or IP address found.
///
/// # Examples
///
/// ```
/// use rblkit::extract::{Extractor, HitKind};
/// let mut hits = Vec::new();
/// Extractor::new().extract_text("see http://0x7f.1:8080/x", &mut hits)?;
/// let h = &hits[0];
/// assert_eq!(h.kind(), HitKind::Url);
/// assert_eq!(h.url(), Some("http://127.0.0.1:8080/x"));
/// assert_eq!(h.host(), "127.0.0.1");
/// assert_eq!(h.ip(), Some("127.0.0.1".parse().unwrap()));
/// assert_eq!(h.registrable_domain(), None);
/// assert_eq!(h.span(), 4..24);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    kind: HitKind,
    /// The URL, the email address, or the host: inside the hit when short, else on the heap.
    text: Text,
    /// Where the host is in `text`.
    host: (u32, u32),
    /// Where the registrable domain starts in `text`; [`NO_REG`] when there is none. (The IP
    /// address is not kept: it is read from the host, which is its canonical text, when
    /// [`Flags::NUMERIC_IP`] is set.)
    reg: u32,
    /// [`Hit::span`] and [`Hit::part`] in 32 bits (inputs are at most [`MAX_INPUT_BYTES`],
    /// their decoded texts less than 4 GiB): room for more text inside the hit.
    span: (u32, u32),
    part: u32,
    flags: Flags,
}

impl Hit {
    /// `reg` is where the registrable domain starts in the host. The host of a hit flagged
    /// [`Flags::NUMERIC_IP`] is the text of its address ([`Hit::ip`] reads it back).
    #[inline(always)]
    pub(crate) fn new(
        kind: HitKind,
        text: Text,
        host: Range<usize>,
        reg: Option<usize>,
        span: Range<usize>,
        part: usize,
        flags: Flags,
    ) -> Hit {
        let hs = u32::try_from(host.start).unwrap_or(0);
        let he = u32::try_from(host.end).unwrap_or(0);
        let narrow = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Hit {
            kind,
            text,
            host: (hs, he),
            reg: reg
                .and_then(|r| u32::try_from(host.start + r).ok())
                .unwrap_or(NO_REG),
            span: (narrow(span.start), narrow(span.end)),
            part: narrow(part),
            flags,
        }
    }

    /// What it is.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::{Extractor, HitKind};
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("www.example.com", &mut hits)?;
    /// assert_eq!(hits[0].kind(), HitKind::Host);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn kind(&self) -> HitKind {
        self.kind
    }

    /// The normalised URL (scheme, normalised host, non-default port, path as written) for
    /// [`HitKind::Url`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("HTTP://WWW.Example.COM:80/A", &mut hits)?;
    /// assert_eq!(hits[0].url(), Some("http://www.example.com/A"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn url(&self) -> Option<&str> {
        (self.kind == HitKind::Url).then(|| self.text.as_str())
    }

    /// The address, local part as written and domain normalised, for [`HitKind::Email`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("<Joe@EXAMPLE.com>", &mut hits)?;
    /// assert_eq!(hits[0].email(), Some("Joe@example.com"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn email(&self) -> Option<&str> {
        (self.kind == HitKind::Email).then(|| self.text.as_str())
    }

    /// The normalised host: lowercase A-labels, IPv4 dotted decimal, IPv6 without brackets;
    /// for an email address, its domain.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("http://[2001:DB8::1]/", &mut hits)?;
    /// assert_eq!(hits[0].host(), "2001:db8::1");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn host(&self) -> &str {
        self.text
            .as_str()
            .get(self.host.0 as usize..self.host.1 as usize)
            .unwrap_or("")
    }

    /// The host as an IP address, when it is one.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("from 192.0.2.7 today", &mut hits)?;
    /// assert_eq!(hits[0].ip(), Some("192.0.2.7".parse().unwrap()));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn ip(&self) -> Option<IpAddr> {
        if !self.flags.contains(Flags::NUMERIC_IP) {
            return None;
        }
        self.host().parse().ok()
    }

    /// The registrable domain of the host (public suffix plus one label): what a URI list is
    /// queried with. `None` for IP addresses and for hosts that are public suffixes.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("http://a.b.example.co.uk/", &mut hits)?;
    /// assert_eq!(hits[0].registrable_domain(), Some("example.co.uk"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn registrable_domain(&self) -> Option<&str> {
        if self.reg == NO_REG {
            return None;
        }
        self.text
            .as_str()
            .get(self.reg as usize..self.host.1 as usize)
    }

    /// Where it was found: a byte range of the text scanned (for HTML, of the HTML source;
    /// for a MIME message, of the decoded text of part [`Hit::part`], or of the decoded
    /// `Subject` for hits from that header). A hit found inside another URL has that URL's
    /// span.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// let text = "go to (www.example.com).";
    /// Extractor::new().extract_text(text, &mut hits)?;
    /// assert_eq!(&text[hits[0].span()], "www.example.com");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn span(&self) -> Range<usize> {
        self.span.0 as usize..self.span.1 as usize
    }

    /// The MIME part it was found in (depth-first order, the message itself is 0); 0 for
    /// plain text and HTML input.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("www.example.com", &mut hits)?;
    /// assert_eq!(hits[0].part(), 0);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn part(&self) -> usize {
        self.part as usize
    }

    /// What was unusual about it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::{Extractor, Flags};
    /// # let mut hits = Vec::new();
    /// Extractor::new().extract_text("http://bank.example@evil.example/", &mut hits)?;
    /// assert!(hits[0].flags().contains(Flags::USERINFO));
    /// assert_eq!(hits[0].host(), "evil.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn flags(&self) -> Flags {
        self.flags
    }
}

/// [`Hit::reg`] when there is no registrable domain.
const NO_REG: u32 = u32::MAX;

/// How many bytes of a hit's text are kept inside the hit: most URLs, every usual host and
/// address, so most hits cost no allocation of their own (nor its release when the hits are
/// dropped). The text, its length and the enum's tag fill 72 bytes; the hit is 104.
const INLINE: usize = 70;

/// The largest input [`ExtractorBuilder::max_input_bytes`] allows: spans are kept in 32 bits,
/// and a decoded text (a charset of one byte a character as UTF-8, HTML references) is at
/// most a few times its input.
pub const MAX_INPUT_BYTES: usize = 1 << 30;

/// The text of a [`Hit`].
#[derive(Clone)]
pub(crate) enum Text {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

/// Writes a [`Text`] of a length known beforehand: inside the hit when it fits.
pub(crate) enum TextWriter {
    Inline { len: usize, buf: [u8; INLINE] },
    Heap(String),
}

impl TextWriter {
    #[inline(always)]
    pub(crate) fn with_len(total: usize) -> TextWriter {
        if total <= INLINE {
            TextWriter::Inline {
                len: 0,
                buf: [0; INLINE],
            }
        } else {
            TextWriter::Heap(String::with_capacity(total))
        }
    }

    /// Appends `s`; past the length given, the text goes to the heap.
    #[inline(always)]
    pub(crate) fn push(&mut self, s: &str) {
        match self {
            TextWriter::Inline { len, buf } => {
                let end = *len + s.len();
                if let Some(d) = buf.get_mut(*len..end) {
                    d.copy_from_slice(s.as_bytes());
                    *len = end;
                } else {
                    let mut h = String::with_capacity(end);
                    h.push_str(std::str::from_utf8(&buf[..*len]).unwrap_or(""));
                    h.push_str(s);
                    *self = TextWriter::Heap(h);
                }
            }
            TextWriter::Heap(h) => h.push_str(s),
        }
    }

    #[inline(always)]
    pub(crate) fn finish(self) -> Text {
        match self {
            TextWriter::Inline { len, buf } => Text::Inline {
                len: len as u8,
                buf,
            },
            TextWriter::Heap(h) => Text::Heap(h.into_boxed_str()),
        }
    }
}

impl Text {
    /// The parts one after the other.
    #[inline]
    pub(crate) fn concat(parts: &[&str]) -> Text {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut w = TextWriter::with_len(total);
        for p in parts {
            w.push(p);
        }
        w.finish()
    }

    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Always whole characters: `concat` copies whole strings.
            Text::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or("")
            }
            Text::Heap(s) => s,
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

#[cfg(feature = "serde")]
impl serde::Serialize for Hit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", self.kind.as_str())?;
        if let Some(u) = self.url() {
            m.serialize_entry("url", u)?;
        }
        if let Some(e) = self.email() {
            m.serialize_entry("email", e)?;
        }
        m.serialize_entry("host", self.host())?;
        m.serialize_entry("registrable_domain", &self.registrable_domain())?;
        m.serialize_entry("span", &[self.span.0, self.span.1])?;
        m.serialize_entry("part", &self.part)?;
        m.serialize_entry("flags", &self.flags.names().collect::<Vec<_>>())?;
        m.end()
    }
}

/// What the input is.
///
/// # Examples
///
/// ```
/// use rblkit::extract::Format;
/// assert_eq!(Format::detect(b"From: a@example.org\r\nSubject: hi\r\n\r\nbody"), Format::Message);
/// assert_eq!(Format::detect(b"<html><body><a href=x>"), Format::Html);
/// assert_eq!(Format::detect(b"just text"), Format::Text);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Plain text.
    Text,
    /// An HTML document or fragment.
    Html,
    /// An RFC 5322 message, with or without MIME.
    Message,
}

impl Format {
    /// Guesses the format: a message starts with header fields, HTML has a tag such as
    /// `<html`, `<body`, `<a ` or `<div` near its start; anything else is text.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::Format;
    /// assert_eq!(Format::detect(b"Received: from x\n\tby y\nTo: z\n\nhi"), Format::Message);
    /// ```
    pub fn detect(input: &[u8]) -> Format {
        if looks_like_message(input) {
            return Format::Message;
        }
        let head = &input[..input.len().min(4096)];
        let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
        for tag in [
            &b"<html"[..],
            b"<!doctype html",
            b"<body",
            b"<a ",
            b"<div",
            b"<p>",
            b"<table",
            b"<br",
            b"<head",
            b"<span",
            b"<img",
        ] {
            if memchr::memmem::find(&lower, tag).is_some() {
                return Format::Html;
            }
        }
        Format::Text
    }
}

fn looks_like_message(input: &[u8]) -> bool {
    // The first line is a header field: a name of printable ASCII without spaces, then ':'.
    let line_end = memchr::memchr(b'\n', input).unwrap_or(input.len());
    let line = &input[..line_end];
    if line.starts_with(b"From ") {
        return true;
    }
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&c| c.is_ascii_graphic() && c != b':') {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let known: &[&[u8]] = &[
        b"received",
        b"return-path",
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"mime-version",
        b"content-type",
        b"delivered-to",
        b"x-",
        b"reply-to",
        b"dkim-signature",
        b"arc-seal",
        b"authentication-results",
        b"sender",
    ];
    known.iter().any(|k| {
        if k.ends_with(b"-") {
            lower.starts_with(k)
        } else {
            lower == *k
        }
    })
}

/// Whether bare host names in prose (`example.com` without a scheme or `www.`) are reported.
///
/// # Examples
///
/// ```
/// use rblkit::extract::{BareHosts, Extractor};
/// let ex = Extractor::builder().bare_hosts(BareHosts::Ignore).build()?;
/// let mut hits = Vec::new();
/// ex.extract_text("example.com and https://example.org/", &mut hits)?;
/// assert_eq!(hits.len(), 1);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum BareHosts {
    /// Report them when the name ends in a known public suffix (the default).
    #[default]
    Find,
    /// Report only URLs with a scheme, emails and IP addresses.
    Ignore,
}

/// Finds and normalises URLs, hosts, emails and IP addresses. Cheap to clone; share one.
///
/// # Examples
///
/// ```
/// use rblkit::extract::Extractor;
/// let ex = Extractor::new();
/// let mut hits = Vec::new();
/// ex.extract_html(r#"<a href="https://evil.example.net/">www.bank.example.com</a>"#, &mut hits)?;
/// assert!(hits[0].flags().contains(rblkit::extract::Flags::PHISHING));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Extractor {
    psl: SuffixList,
    max_input_bytes: usize,
    max_mime_depth: usize,
    max_mime_parts: usize,
    max_redirect_depth: usize,
    max_hits: usize,
    bare_hosts: BareHosts,
}

impl Default for Extractor {
    fn default() -> Extractor {
        Extractor::new()
    }
}

impl Extractor {
    /// An extractor with the embedded suffix list and the default limits.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = rblkit::extract::Extractor::new();
    /// # let _ = ex;
    /// ```
    pub fn new() -> Extractor {
        ExtractorBuilder::new()
            .build()
            .unwrap_or_else(|e| unreachable!("defaults are valid: {e}"))
    }

    /// A builder to set the suffix list and limits.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = rblkit::extract::Extractor::builder().max_redirect_depth(2).build()?;
    /// # let _ = ex;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn builder() -> ExtractorBuilder {
        ExtractorBuilder::new()
    }

    /// The suffix list in use.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = rblkit::extract::Extractor::new();
    /// assert_eq!(ex.suffix_list().registrable_domain("a.example.com"), Some("example.com"));
    /// ```
    pub fn suffix_list(&self) -> &SuffixList {
        &self.psl
    }

    fn check_size(&self, len: usize) -> Result<(), ExtractError> {
        if len > self.max_input_bytes {
            return Err(ExtractError::TooLarge {
                len,
                max: self.max_input_bytes,
            });
        }
        Ok(())
    }

    /// Appends the hits in plain text to `out`.
    ///
    /// # Errors
    ///
    /// [`ExtractError::TooLarge`] before scanning; [`ExtractError::TooManyHits`] after
    /// keeping the first hits up to the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// let mut hits = Vec::new();
    /// Extractor::new().extract_text("version 1.2.3, see e.g. report.pdf or example(dot)com", &mut hits)?;
    /// assert_eq!(hits.iter().map(|h| h.host()).collect::<Vec<_>>(), ["example.com"]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn extract_text(&self, text: &str, out: &mut Vec<Hit>) -> Result<(), ExtractError> {
        self.check_size(text.len())?;
        let mut cx = scan::Ctx::new(self, out);
        scan::scan(&mut cx, text, scan::Spans::Offset(0), scan::Mode::Prose, 0);
        cx.err.map_or(Ok(()), Err)
    }

    /// Appends the hits in an HTML document to `out`: link targets (`href`, `src`, `action`,
    /// …, `<meta http-equiv=refresh>`), and the text outside tags with entities decoded.
    /// Script, style and comments give URLs with a scheme only. A link whose text names
    /// another registrable domain than its target is flagged [`Flags::PHISHING`].
    ///
    /// # Errors
    ///
    /// As [`Extractor::extract_text`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// let mut hits = Vec::new();
    /// Extractor::new().extract_html("<p>Visit <a href='http://x.example/?a=1&amp;b=2'>here</a>&#46;</p>", &mut hits)?;
    /// assert_eq!(hits[0].url(), Some("http://x.example/?a=1&b=2"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn extract_html(&self, html: &str, out: &mut Vec<Hit>) -> Result<(), ExtractError> {
        self.check_size(html.len())?;
        let mut cx = scan::Ctx::new(self, out);
        html::scan_html(&mut cx, html);
        cx.err.map_or(Ok(()), Err)
    }

    /// Appends the hits in an RFC 5322 message to `out`: every `text/*` part (decoded from
    /// quoted-printable or base64 and from its charset; `text/html` as HTML), the `Subject`,
    /// and attached `message/rfc822` messages, nested up to the depth limit.
    ///
    /// # Errors
    ///
    /// [`ExtractError::TooLarge`], [`ExtractError::TooDeep`], [`ExtractError::TooManyParts`],
    /// [`ExtractError::Mime`] for a structure the MIME parser refuses, and
    /// [`ExtractError::TooManyHits`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use rblkit::extract::Extractor;
    /// let msg = b"Subject: hi\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGo to http://www.exa=\r\nmple.com/ now\r\n";
    /// let mut hits = Vec::new();
    /// Extractor::new().extract_message(msg, &mut hits)?;
    /// assert_eq!(hits[0].host(), "www.example.com");
    /// assert_eq!(hits[0].part(), 0);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn extract_message(&self, raw: &[u8], out: &mut Vec<Hit>) -> Result<(), ExtractError> {
        self.check_size(raw.len())?;
        let mut cx = scan::Ctx::new(self, out);
        mime::scan_message(&mut cx, raw)?;
        cx.err.map_or(Ok(()), Err)
    }

    /// Appends the hits of an input in the given format (text and HTML that are not UTF-8
    /// are read with replacement characters).
    ///
    /// # Errors
    ///
    /// As the method for that format.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{Extractor, Format};
    /// let input = b"<b>see www.example.net</b>";
    /// let mut hits = Vec::new();
    /// Extractor::new().extract(input, Format::detect(input), &mut hits)?;
    /// assert_eq!(hits[0].host(), "www.example.net");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn extract(
        &self,
        input: &[u8],
        format: Format,
        out: &mut Vec<Hit>,
    ) -> Result<(), ExtractError> {
        match format {
            Format::Message => self.extract_message(input, out),
            Format::Html => self.extract_html(&lossy(input), out),
            Format::Text => self.extract_text(&lossy(input), out),
        }
    }
}

/// The input as text, invalid UTF-8 replaced by U+FFFD: the validation of `str::from_utf8`
/// first, several times faster than the chunk walk of `String::from_utf8_lossy` that only
/// invalid input needs.
fn lossy(input: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(input) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(input),
    }
}

/// Sets up an [`Extractor`]: suffix list, limits, options; [`ExtractorBuilder::build`]
/// checks them.
///
/// # Examples
///
/// ```
/// use rblkit::extract::{Extractor, SuffixList};
/// let psl = SuffixList::embedded().with_rules("hosting.example\n")?;
/// let ex = Extractor::builder()
///     .suffix_list(psl)
///     .max_input_bytes(1 << 20)
///     .max_mime_depth(8)
///     .max_mime_parts(100)
///     .max_redirect_depth(3)
///     .max_hits(1000)
///     .build()?;
/// let mut hits = Vec::new();
/// ex.extract_text("http://www.shop.hosting.example/", &mut hits)?;
/// assert_eq!(hits[0].registrable_domain(), Some("shop.hosting.example"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExtractorBuilder {
    psl: Option<SuffixList>,
    max_input_bytes: usize,
    max_mime_depth: usize,
    max_mime_parts: usize,
    max_redirect_depth: usize,
    max_hits: usize,
    bare_hosts: BareHosts,
}

impl Default for ExtractorBuilder {
    fn default() -> ExtractorBuilder {
        ExtractorBuilder::new()
    }
}

impl ExtractorBuilder {
    /// The defaults: embedded suffix list, 64 MiB input, MIME depth 16 and 1024 parts,
    /// redirector depth 4, 100 000 hits, bare hosts found.
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = rblkit::extract::ExtractorBuilder::new().build()?;
    /// # let _ = ex;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new() -> ExtractorBuilder {
        ExtractorBuilder {
            psl: None,
            max_input_bytes: 64 << 20,
            max_mime_depth: 16,
            max_mime_parts: 1024,
            max_redirect_depth: 4,
            max_hits: 100_000,
            bare_hosts: BareHosts::Find,
        }
    }

    /// The suffix list for registrable domains and known TLDs (default: embedded).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{Extractor, SuffixList};
    /// let ex = Extractor::builder().suffix_list(SuffixList::parse("com\n")?).build()?;
    /// # let _ = ex;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn suffix_list(mut self, psl: SuffixList) -> ExtractorBuilder {
        self.psl = Some(psl);
        self
    }

    /// The largest input, in bytes: 1 to [`MAX_INPUT_BYTES`] (1 GiB).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{Extractor, MAX_INPUT_BYTES};
    /// assert!(Extractor::builder().max_input_bytes(0).build().is_err());
    /// assert!(Extractor::builder().max_input_bytes(MAX_INPUT_BYTES + 1).build().is_err());
    /// ```
    pub fn max_input_bytes(mut self, n: usize) -> ExtractorBuilder {
        self.max_input_bytes = n;
        self
    }

    /// How deep MIME parts and attached messages may nest (1 to 100).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rblkit::extract::Extractor::builder().max_mime_depth(101).build().is_err());
    /// ```
    pub fn max_mime_depth(mut self, n: usize) -> ExtractorBuilder {
        self.max_mime_depth = n;
        self
    }

    /// How many MIME parts a message may have (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let ex = rblkit::extract::Extractor::builder().max_mime_parts(10).build()?;
    /// # let _ = ex;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn max_mime_parts(mut self, n: usize) -> ExtractorBuilder {
        self.max_mime_parts = n;
        self
    }

    /// How many URLs deep redirectors are unwrapped (0 to 16; 0 turns unwrapping off).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::Extractor;
    /// let ex = Extractor::builder().max_redirect_depth(0).build()?;
    /// let mut hits = Vec::new();
    /// ex.extract_text("https://r.example/?u=https%3A%2F%2Fevil.example%2F", &mut hits)?;
    /// assert_eq!(hits.len(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn max_redirect_depth(mut self, n: usize) -> ExtractorBuilder {
        self.max_redirect_depth = n;
        self
    }

    /// How many hits one input may give (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{ExtractError, Extractor};
    /// let ex = Extractor::builder().max_hits(1).build()?;
    /// let mut hits = Vec::new();
    /// let r = ex.extract_text("a.example.com b.example.com", &mut hits);
    /// assert_eq!(r, Err(ExtractError::TooManyHits { max: 1 }));
    /// assert_eq!(hits.len(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn max_hits(mut self, n: usize) -> ExtractorBuilder {
        self.max_hits = n;
        self
    }

    /// Whether bare host names in prose are reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{BareHosts, Extractor};
    /// let ex = Extractor::builder().bare_hosts(BareHosts::Find).build()?;
    /// # let _ = ex;
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn bare_hosts(mut self, b: BareHosts) -> ExtractorBuilder {
        self.bare_hosts = b;
        self
    }

    /// Checks the settings and makes the extractor.
    ///
    /// # Errors
    ///
    /// [`ExtractError::BadSetting`] naming the setting out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{ExtractError, Extractor};
    /// let e = Extractor::builder().max_hits(0).build().unwrap_err();
    /// assert!(matches!(e, ExtractError::BadSetting { setting: "max_hits", .. }));
    /// ```
    pub fn build(self) -> Result<Extractor, ExtractError> {
        let bad = |setting, what| Err(ExtractError::BadSetting { setting, what });
        if self.max_input_bytes == 0 || self.max_input_bytes > MAX_INPUT_BYTES {
            return bad("max_input_bytes", "must be 1 to 1 GiB");
        }
        if self.max_mime_depth == 0 || self.max_mime_depth > 100 {
            return bad("max_mime_depth", "must be 1 to 100");
        }
        if self.max_mime_parts == 0 {
            return bad("max_mime_parts", "must be at least 1");
        }
        if self.max_redirect_depth > 16 {
            return bad("max_redirect_depth", "must be 0 to 16");
        }
        if self.max_hits == 0 {
            return bad("max_hits", "must be at least 1");
        }
        Ok(Extractor {
            psl: self.psl.unwrap_or_else(SuffixList::embedded),
            max_input_bytes: self.max_input_bytes,
            max_mime_depth: self.max_mime_depth,
            max_mime_parts: self.max_mime_parts,
            max_redirect_depth: self.max_redirect_depth,
            max_hits: self.max_hits,
            bare_hosts: self.bare_hosts,
        })
    }
}

/// The next number of a xorshift generator, for the module's tests: the same random cases in
/// every run.
#[cfg(test)]
pub(crate) fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}
