//! TSIG (RFC 8945): shared-key MACs on transfers, NOTIFY and the SOA queries of
//! secondaries.
//!
//! The server reads the TSIG record at the end of a request, checks its MAC, time and key
//! ([`verify`]), and signs its answers with the same key ([`Signer`]): every message of a
//! transfer carries a TSIG record, each one's MAC covering the previous one's (RFC 8945,
//! 5.3.1). The MAC computation works on the raw bytes the server writes.

use super::request::{skip_name, skip_record};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha384, Sha512};

/// The TSIG record type.
const TSIG: u16 = 250;
/// Class ANY, which TSIG records carry.
const ANY: u16 = 255;
/// The time window (seconds) of the messages the server signs.
const FUDGE: u16 = 300;

/// TSIG error: the MAC does not verify.
pub(crate) const BADSIG: u16 = 16;
/// TSIG error: the key (or its algorithm) is unknown.
pub(crate) const BADKEY: u16 = 17;
/// TSIG error: the time is outside the fudge window.
pub(crate) const BADTIME: u16 = 18;
/// TSIG error: the MAC is shorter than the server accepts.
pub(crate) const BADTRUNC: u16 = 22;

/// A TSIG key that does not parse.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::TsigKey;
/// let e = "hmac-md5:k:c2VjcmV0".parse::<TsigKey>().unwrap_err();
/// assert_eq!(e.to_string(), "TSIG key \"hmac-md5:k:c2VjcmV0\": algorithm hmac-md5 is not supported (hmac-sha256, hmac-sha384, hmac-sha512)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsigError {
    /// The key is not `[ALGORITHM:]NAME:SECRET`, or one of its parts is wrong.
    #[error("TSIG key {text:?}: {why}")]
    BadKey {
        /// The text given.
        text: Box<str>,
        /// What is wrong.
        why: Box<str>,
    },
    /// A key file that does not parse.
    #[error("{file}:{line}: {why}")]
    BadKeyFile {
        /// The file.
        file: Box<str>,
        /// The line (1-based).
        line: usize,
        /// What is wrong.
        why: Box<str>,
    },
}

/// A TSIG algorithm.
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::TsigAlgorithm;
/// assert_eq!(TsigAlgorithm::from_name("HMAC-SHA256"), Some(TsigAlgorithm::HmacSha256));
/// assert_eq!(TsigAlgorithm::HmacSha512.to_string(), "hmac-sha512");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TsigAlgorithm {
    /// HMAC-SHA256 (RFC 4635), the one to use.
    HmacSha256,
    /// HMAC-SHA384.
    HmacSha384,
    /// HMAC-SHA512.
    HmacSha512,
}

impl TsigAlgorithm {
    const ALL: [TsigAlgorithm; 3] = [
        TsigAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512,
    ];

    /// The algorithm of this name (`hmac-sha256`, any case, with or without the final dot).
    ///
    /// # Examples
    ///
    /// See [`TsigAlgorithm`].
    pub fn from_name(name: &str) -> Option<TsigAlgorithm> {
        let n = name.trim_end_matches('.');
        TsigAlgorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(n))
    }

    fn name(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm's name in wire form.
    fn wire(self) -> &'static [u8] {
        match self {
            TsigAlgorithm::HmacSha256 => b"\x0bhmac-sha256\0",
            TsigAlgorithm::HmacSha384 => b"\x0bhmac-sha384\0",
            TsigAlgorithm::HmacSha512 => b"\x0bhmac-sha512\0",
        }
    }

    fn from_wire(w: &[u8]) -> Option<TsigAlgorithm> {
        TsigAlgorithm::ALL.into_iter().find(|a| a.wire() == w)
    }

    /// Octets of a full MAC.
    fn mac_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha384 => 48,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }
}

impl std::fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A shared TSIG key: its name, algorithm and secret.
///
/// Parsed from `[ALGORITHM:]NAME:SECRET`, the form `dig -y` and `kdig -y` take (the
/// algorithm defaults to `hmac-sha256`; the secret is base64), or read from key files
/// ([`TsigKey::from_key_file`]).
///
/// # Examples
///
/// ```
/// use rblkit::dns::server::{TsigAlgorithm, TsigKey};
/// let k: TsigKey = "hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0".parse()?;
/// assert_eq!((k.name(), k.algorithm()), ("xfr-key", TsigAlgorithm::HmacSha256));
/// let k: TsigKey = "Other.Key.:c2VjcmV0c2VjcmV0".parse()?;
/// assert_eq!(k.name(), "other.key");
/// # Ok::<(), rblkit::dns::server::TsigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    name: Box<str>,
    /// The name in wire form, lowercase.
    wire: Box<[u8]>,
    algorithm: TsigAlgorithm,
    secret: Box<[u8]>,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for TsigKey {
    type Err = TsigError;
    fn from_str(s: &str) -> Result<TsigKey, TsigError> {
        let bad = |why: &str| TsigError::BadKey {
            text: s.into(),
            why: why.into(),
        };
        let parts: Vec<&str> = s.split(':').collect();
        let (alg, name, secret) = match parts[..] {
            [name, secret] => ("hmac-sha256", name, secret),
            [alg, name, secret] => (alg, name, secret),
            _ => return Err(bad("not [ALGORITHM:]NAME:SECRET")),
        };
        TsigKey::new(name, alg, secret).map_err(|why| bad(&why))
    }
}

impl TsigKey {
    /// A key from its name, algorithm name and base64 secret.
    fn new(name: &str, algorithm: &str, secret: &str) -> Result<TsigKey, String> {
        use base64::Engine as _;
        let algorithm = TsigAlgorithm::from_name(algorithm).ok_or_else(|| {
            let all: Vec<&str> = TsigAlgorithm::ALL.iter().map(|a| a.name()).collect();
            format!(
                "algorithm {algorithm} is not supported ({})",
                all.join(", ")
            )
        })?;
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut wire = Vec::with_capacity(name.len() + 2);
        for l in name.split('.') {
            if l.is_empty() || l.len() > 63 {
                return Err(format!("key name {name:?} is not a domain name"));
            }
            wire.push(l.len() as u8);
            wire.extend_from_slice(l.as_bytes());
        }
        wire.push(0);
        if wire.len() > 255 {
            return Err(format!("key name {name:?} is too long"));
        }
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|e| format!("secret is not base64: {e}"))?;
        if secret.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(TsigKey {
            name: name.into(),
            wire: wire.into(),
            algorithm,
            secret: secret.into(),
        })
    }

    /// The keys of a file in the format BIND's `tsig-keygen` writes and BIND and Knot
    /// (`keymgr`'s `-t` output aside) read:
    /// `key "NAME" { algorithm hmac-sha256; secret "BASE64"; };`, several keys in a file,
    /// comments (`#`, `//`) allowed.
    ///
    /// # Errors
    ///
    /// [`TsigError::BadKeyFile`] with the line where the text is not a key statement.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::dns::server::TsigKey;
    /// let keys = TsigKey::from_key_file("xfr.key", "key \"xfr\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0\";\n};\n")?;
    /// assert_eq!(keys[0].name(), "xfr");
    /// # Ok::<(), rblkit::dns::server::TsigError>(())
    /// ```
    pub fn from_key_file(file: &str, text: &str) -> Result<Vec<TsigKey>, TsigError> {
        // tokens with their lines: words, quoted strings, and `{`, `}`, `;`
        let mut tokens: Vec<(usize, String)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("");
            let line = line.split("//").next().unwrap_or("");
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    c if c.is_whitespace() => {}
                    '{' | '}' | ';' => tokens.push((n + 1, c.to_string())),
                    '"' => {
                        let s: String = chars.by_ref().take_while(|&c| c != '"').collect();
                        tokens.push((n + 1, format!("\"{s}")));
                    }
                    c => {
                        let mut s = c.to_string();
                        while let Some(&d) = chars.peek() {
                            if d.is_whitespace() || matches!(d, '{' | '}' | ';' | '"') {
                                break;
                            }
                            s.push(d);
                            chars.next();
                        }
                        tokens.push((n + 1, s));
                    }
                }
            }
        }
        let unquote = |t: &str| t.strip_prefix('"').unwrap_or(t).to_owned();
        let mut keys = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let line = tokens[i].0;
            let bad = |line: usize, why: String| TsigError::BadKeyFile {
                file: file.into(),
                line,
                why: why.into(),
            };
            let tok = |j: usize| tokens.get(j).map(|t| t.1.as_str());
            if tok(i) != Some("key") || tok(i + 2) != Some("{") {
                return Err(bad(line, "expected key \"NAME\" {".into()));
            }
            let name = unquote(tok(i + 1).unwrap_or_default());
            i += 3;
            let (mut alg, mut secret) = (None, None);
            while tok(i) != Some("}") {
                let Some(field) = tok(i) else {
                    return Err(bad(line, "the key statement does not end".into()));
                };
                let l = tokens[i].0;
                let value = tok(i + 1).map(unquote);
                if tok(i + 2) != Some(";") {
                    return Err(bad(l, format!("expected `{field} VALUE;`")));
                }
                match field {
                    "algorithm" => alg = value,
                    "secret" => secret = value,
                    other => return Err(bad(l, format!("unknown field {other:?}"))),
                }
                i += 3;
            }
            i += 1;
            if tok(i) == Some(";") {
                i += 1;
            }
            let (Some(alg), Some(secret)) = (alg, secret) else {
                return Err(bad(
                    line,
                    format!("key {name:?} lacks its algorithm or secret"),
                ));
            };
            keys.push(TsigKey::new(&name, &alg, &secret).map_err(|why| bad(line, why))?);
        }
        Ok(keys)
    }

    /// The key's name (lowercase, without the final dot).
    ///
    /// # Examples
    ///
    /// See [`TsigKey`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's algorithm.
    ///
    /// # Examples
    ///
    /// See [`TsigKey`].
    pub fn algorithm(&self) -> TsigAlgorithm {
        self.algorithm
    }

    /// The MAC of the concatenated `parts`.
    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            // HMAC takes keys of any length
            let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
                return Vec::new();
            };
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        match self.algorithm {
            TsigAlgorithm::HmacSha256 => run::<Hmac<Sha256>>(&self.secret, parts),
            TsigAlgorithm::HmacSha384 => run::<Hmac<Sha384>>(&self.secret, parts),
            TsigAlgorithm::HmacSha512 => run::<Hmac<Sha512>>(&self.secret, parts),
        }
    }
}

/// A TSIG record as read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TsigRecord<'a> {
    /// Where the record starts in the message.
    pub(crate) start: usize,
    /// The key name, wire form, lowercase.
    pub(crate) key: Vec<u8>,
    /// The algorithm name, wire form, lowercase.
    pub(crate) algorithm: Vec<u8>,
    pub(crate) class: u16,
    pub(crate) ttl: u32,
    pub(crate) time: u64,
    pub(crate) fudge: u16,
    pub(crate) mac: &'a [u8],
    pub(crate) original_id: u16,
    pub(crate) error: u16,
    pub(crate) other: &'a [u8],
}

/// A TSIG record that is broken or not where it must be (the last record): FORMERR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Reads a name at `i` (compression pointers followed, at most 127 of them) into `out`,
/// lowercase; the offset after it.
fn read_name(p: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    let mut end = None;
    let mut hops = 0;
    loop {
        let l = *p.get(i)?;
        match l & 0xc0 {
            0 => {
                let l = usize::from(l);
                let label = p.get(i..i + 1 + l)?;
                out.extend(label.iter().map(u8::to_ascii_lowercase));
                if out.len() > 255 {
                    return None;
                }
                i += 1 + l;
                if l == 0 {
                    return Some(end.unwrap_or(i));
                }
            }
            0xc0 => {
                let to = usize::from(u16::from_be_bytes([l, *p.get(i + 1)?]) & 0x3fff);
                end.get_or_insert(i + 2);
                hops += 1;
                if hops > 127 || to >= i {
                    return None;
                }
                i = to;
            }
            _ => return None,
        }
    }
}

/// The TSIG record of a message: `Ok(None)` when it has none; an error when a TSIG record
/// is broken or is not the last record of the additional section. Linear in the message.
pub(crate) fn find(p: &[u8]) -> Result<Option<TsigRecord<'_>>, Malformed> {
    if p.len() < 12 {
        return Ok(None);
    }
    let be = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    let (qd, an, ns, ar) = (be(4), be(6), be(8), be(10));
    if ar == 0 {
        return Ok(None);
    }
    let mut i = 12;
    for _ in 0..qd {
        let Some(j) = skip_name(p, i).filter(|j| j + 4 <= p.len()) else {
            return Ok(None);
        };
        i = j + 4;
    }
    for _ in 0..u32::from(an) + u32::from(ns) + u32::from(ar) - 1 {
        let start = i;
        let Some(j) = skip_record(p, i) else {
            return Ok(None);
        };
        let n = skip_name(p, start).ok_or(Malformed)?;
        if be(n) == TSIG {
            // a TSIG record that is not the last one
            return Err(Malformed);
        }
        i = j;
    }
    let start = i;
    let mut key = Vec::new();
    let Some(n) = read_name(p, i, &mut key) else {
        return Ok(None);
    };
    let Some(f) = p.get(n..n + 10) else {
        return Ok(None);
    };
    if u16::from_be_bytes([f[0], f[1]]) != TSIG {
        return Ok(None);
    }
    let class = u16::from_be_bytes([f[2], f[3]]);
    let ttl = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    let rdlen = usize::from(u16::from_be_bytes([f[8], f[9]]));
    let rd_start = n + 10;
    let end = rd_start + rdlen;
    if end != p.len() {
        return Err(Malformed);
    }
    // the algorithm name is never compressed (RFC 8945, 4.2)
    let rd = &p[..end];
    let mut algorithm = Vec::new();
    let mut j = rd_start;
    loop {
        let l = usize::from(*rd.get(j).ok_or(Malformed)?);
        if l > 63 {
            return Err(Malformed);
        }
        let label = rd.get(j..j + 1 + l).ok_or(Malformed)?;
        algorithm.extend(label.iter().map(u8::to_ascii_lowercase));
        j += 1 + l;
        if algorithm.len() > 255 {
            return Err(Malformed);
        }
        if l == 0 {
            break;
        }
    }
    let fixed = rd.get(j..j + 10).ok_or(Malformed)?;
    let time = u64::from_be_bytes([
        0, 0, fixed[0], fixed[1], fixed[2], fixed[3], fixed[4], fixed[5],
    ]);
    let fudge = u16::from_be_bytes([fixed[6], fixed[7]]);
    let mac_len = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    j += 10;
    let mac = rd.get(j..j + mac_len).ok_or(Malformed)?;
    j += mac_len;
    let tail = rd.get(j..j + 6).ok_or(Malformed)?;
    let original_id = u16::from_be_bytes([tail[0], tail[1]]);
    let error = u16::from_be_bytes([tail[2], tail[3]]);
    let other_len = usize::from(u16::from_be_bytes([tail[4], tail[5]]));
    j += 6;
    let other = rd.get(j..j + other_len).ok_or(Malformed)?;
    if j + other_len != end {
        return Err(Malformed);
    }
    Ok(Some(TsigRecord {
        start,
        key,
        algorithm,
        class,
        ttl,
        time,
        fudge,
        mac,
        original_id,
        error,
        other,
    }))
}

/// What a request's TSIG record says.
#[derive(Debug)]
pub(crate) enum Verdict<'k> {
    /// No TSIG record.
    Unsigned,
    /// A broken TSIG record: FORMERR.
    Malformed,
    /// Signed with this key and verified: answer, signing with the signer; the request
    /// without its TSIG record is the first `len` octets (with ARCOUNT one less).
    Signed { signer: Signer<'k>, len: usize },
    /// Not verified: answer NOTAUTH with this TSIG error (signed by the signer for BADTIME,
    /// unsigned otherwise).
    Failed(Failure<'k>),
}

/// A TSIG failure to answer (RFC 8945, 5.2).
#[derive(Debug)]
pub(crate) struct Failure<'k> {
    pub(crate) error: u16,
    key: Vec<u8>,
    algorithm: Vec<u8>,
    time: u64,
    fudge: u16,
    /// BADTIME: the answer is signed.
    signer: Option<Signer<'k>>,
    now: u64,
}

/// The fields of a TSIG record other than its MAC and original ID: what the MAC covers
/// after the message (the TSIG variables, RFC 8945, 4.3.3).
struct Fields<'a> {
    key: &'a [u8],
    class: u16,
    ttl: u32,
    algorithm: &'a [u8],
    time: u64,
    fudge: u16,
    error: u16,
    other: &'a [u8],
}

impl Fields<'_> {
    /// The TSIG variables in wire form.
    fn variables(&self) -> Vec<u8> {
        let mut v =
            Vec::with_capacity(self.key.len() + self.algorithm.len() + 24 + self.other.len());
        v.extend_from_slice(self.key);
        v.extend_from_slice(&self.class.to_be_bytes());
        v.extend_from_slice(&self.ttl.to_be_bytes());
        v.extend_from_slice(self.algorithm);
        v.extend_from_slice(&self.time.to_be_bytes()[2..]);
        v.extend_from_slice(&self.fudge.to_be_bytes());
        v.extend_from_slice(&self.error.to_be_bytes());
        v.extend_from_slice(&(self.other.len() as u16).to_be_bytes());
        v.extend_from_slice(self.other);
        v
    }

    /// Appends the TSIG record with `mac` to the message starting at `at` of `m`, counting
    /// it in ARCOUNT.
    fn put(&self, m: &mut Vec<u8>, at: usize, mac: &[u8], original_id: u16) {
        m.extend_from_slice(self.key);
        m.extend_from_slice(&TSIG.to_be_bytes());
        m.extend_from_slice(&self.class.to_be_bytes());
        m.extend_from_slice(&self.ttl.to_be_bytes());
        let rdlen = self.algorithm.len() + 16 + mac.len() + self.other.len();
        m.extend_from_slice(&(rdlen as u16).to_be_bytes());
        m.extend_from_slice(self.algorithm);
        m.extend_from_slice(&self.time.to_be_bytes()[2..]);
        m.extend_from_slice(&self.fudge.to_be_bytes());
        m.extend_from_slice(&(mac.len() as u16).to_be_bytes());
        m.extend_from_slice(mac);
        m.extend_from_slice(&original_id.to_be_bytes());
        m.extend_from_slice(&self.error.to_be_bytes());
        m.extend_from_slice(&(self.other.len() as u16).to_be_bytes());
        m.extend_from_slice(self.other);
        let ar = u16::from_be_bytes([m[at + 10], m[at + 11]]).wrapping_add(1);
        m[at + 10..at + 12].copy_from_slice(&ar.to_be_bytes());
    }
}

/// Checks the TSIG record of a request against `keys` at `now` (seconds since 1970).
pub(crate) fn verify<'k>(keys: &'k [TsigKey], p: &[u8], now: u64) -> Verdict<'k> {
    let t = match find(p) {
        Ok(None) => return Verdict::Unsigned,
        Ok(Some(t)) => t,
        Err(Malformed) => return Verdict::Malformed,
    };
    let fail = |error: u16, signer: Option<Signer<'k>>| {
        Verdict::Failed(Failure {
            error,
            key: t.key.clone(),
            algorithm: t.algorithm.clone(),
            time: t.time,
            fudge: t.fudge,
            signer,
            now,
        })
    };
    let alg = TsigAlgorithm::from_wire(&t.algorithm);
    let Some(key) = keys
        .iter()
        .find(|k| *k.wire == *t.key && Some(k.algorithm) == alg)
    else {
        return fail(BADKEY, None);
    };
    let full = key.algorithm.mac_len();
    if t.mac.len() > full || t.mac.len() < (full / 2).max(10) {
        return Verdict::Malformed;
    }
    // the request as it was signed: its original ID, ARCOUNT without the TSIG record
    let mut head = [0u8; 12];
    head.copy_from_slice(&p[..12]);
    head[..2].copy_from_slice(&t.original_id.to_be_bytes());
    let ar = u16::from_be_bytes([head[10], head[11]]).wrapping_sub(1);
    head[10..12].copy_from_slice(&ar.to_be_bytes());
    let vars = Fields {
        key: &t.key,
        class: t.class,
        ttl: t.ttl,
        algorithm: &t.algorithm,
        time: t.time,
        fudge: t.fudge,
        error: t.error,
        other: t.other,
    }
    .variables();
    let mac = key.mac(&[&head, &p[12..t.start], &vars]);
    // constant time: every octet is compared
    let diff = mac.iter().zip(t.mac).fold(0u8, |d, (a, b)| d | (a ^ b));
    if diff != 0 {
        return fail(BADSIG, None);
    }
    let signer = Signer {
        key,
        prior: Some(t.mac.to_vec()),
        first: true,
    };
    if now.abs_diff(t.time) > u64::from(t.fudge) {
        return fail(BADTIME, Some(signer));
    }
    if t.mac.len() < full {
        return fail(BADTRUNC, Some(signer));
    }
    Verdict::Signed {
        signer,
        len: t.start,
    }
}

impl Failure<'_> {
    /// Appends the TSIG record of the NOTAUTH answer `m` (from offset `at`, where the
    /// message starts) and counts it in ARCOUNT.
    pub(crate) fn append(&mut self, m: &mut Vec<u8>, at: usize) {
        let (now, error) = (self.now, self.error);
        match &mut self.signer {
            Some(s) if error == BADTIME => {
                // the request's time, and ours in the other data (RFC 8945, 5.2.3)
                let other = now.to_be_bytes()[2..].to_vec();
                s.sign_with(m, at, self.time, error, &other);
            }
            Some(s) => s.sign_with(m, at, now, error, &[]),
            None => {
                let id = [m[at], m[at + 1]];
                let fields = Fields {
                    key: &self.key,
                    class: ANY,
                    ttl: 0,
                    algorithm: &self.algorithm,
                    time: self.time,
                    fudge: self.fudge,
                    error: self.error,
                    other: &[],
                };
                fields.put(m, at, &[], u16::from_be_bytes(id));
            }
        }
    }
}

/// Signs the messages of one exchange with one key: a request (NOTIFY), or the answers to
/// a signed request, each MAC covering the one before it.
#[derive(Debug, Clone)]
pub(crate) struct Signer<'k> {
    key: &'k TsigKey,
    /// The MAC the next one covers: the request's, then each answer's; `None` for a
    /// request.
    prior: Option<Vec<u8>>,
    /// Whether the next message is the first answer (its MAC covers all the variables;
    /// later ones only the time, RFC 8945, 5.3.1).
    first: bool,
}

impl<'k> Signer<'k> {
    /// A signer for a request of ours.
    pub(crate) fn request(key: &'k TsigKey) -> Signer<'k> {
        Signer {
            key,
            prior: None,
            first: true,
        }
    }

    /// The octets the TSIG record of `sign` adds.
    pub(crate) fn overhead(&self) -> usize {
        self.key.wire.len()
            + 10
            + self.key.algorithm.wire().len()
            + 16
            + self.key.algorithm.mac_len()
    }

    /// The key.
    pub(crate) fn key(&self) -> &'k TsigKey {
        self.key
    }

    /// Appends a TSIG record signing the message that starts at `at` of `m`, at `now`.
    pub(crate) fn sign(&mut self, m: &mut Vec<u8>, at: usize, now: u64) {
        self.sign_with(m, at, now, 0, &[]);
    }

    fn sign_with(&mut self, m: &mut Vec<u8>, at: usize, time: u64, error: u16, other: &[u8]) {
        let k = self.key;
        let alg = k.algorithm.wire();
        let mut prior = Vec::new();
        if let Some(p) = &self.prior {
            prior.extend_from_slice(&(p.len() as u16).to_be_bytes());
            prior.extend_from_slice(p);
        }
        let fields = Fields {
            key: &k.wire,
            class: ANY,
            ttl: 0,
            algorithm: alg,
            time,
            fudge: FUDGE,
            error,
            other,
        };
        let vars = if self.first {
            fields.variables()
        } else {
            let mut v = time.to_be_bytes()[2..].to_vec();
            v.extend_from_slice(&FUDGE.to_be_bytes());
            v
        };
        let mac = k.mac(&[&prior, &m[at..], &vars]);
        let id = u16::from_be_bytes([m[at], m[at + 1]]);
        fields.put(m, at, &mac, id);
        self.prior = Some(mac);
        self.first = false;
    }
}

/// The name of a TSIG error, for the log.
pub(crate) fn error_name(e: u16) -> &'static str {
    match e {
        BADSIG => "BADSIG (the MAC does not verify)",
        BADKEY => "BADKEY (unknown key)",
        BADTIME => "BADTIME (the time is off)",
        BADTRUNC => "BADTRUNC (MAC too short)",
        _ => "TSIG error",
    }
}

/// Seconds since 1970, for TSIG times.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Fuzzing entry: the TSIG record finder and the verifier on arbitrary bytes, with one
/// key; never panics.
#[doc(hidden)]
pub fn fuzz_tsig(data: &[u8]) {
    let Ok(key) = "hmac-sha256:k:c2VjcmV0c2VjcmV0c2VjcmV0".parse::<TsigKey>() else {
        return;
    };
    let keys = [key];
    let _ = find(data);
    match verify(&keys, data, 1_700_000_000) {
        Verdict::Failed(mut f) if data.len() >= 12 => {
            let mut m = data[..12].to_vec();
            f.append(&mut m, 0);
        }
        Verdict::Signed { mut signer, len } => {
            let mut m = data[..len].to_vec();
            signer.sign(&mut m, 0, 1_700_000_000);
            signer.sign(&mut m, 0, 1_700_000_001);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TsigKey {
        "hmac-sha256:xfr.key:bWFpbHRvOnNlY3JldEBleGFtcGxlLm9yZw=="
            .parse()
            .unwrap()
    }

    fn query() -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(b"\x02bl\x04test\0\0\xfc\0\x01");
        q
    }

    #[test]
    fn a_signed_request_verifies_and_a_changed_one_does_not() {
        let k = key();
        let keys = [k.clone()];
        let mut q = query();
        Signer::request(&k).sign(&mut q, 0, 1000);
        let t = find(&q).unwrap().unwrap();
        assert_eq!((t.time, t.fudge, t.mac.len()), (1000, FUDGE, 32));
        let n = query().len();
        assert!(matches!(verify(&keys, &q, 1100), Verdict::Signed { len, .. } if len == n));
        // too late
        assert!(matches!(
            verify(&keys, &q, 1301),
            Verdict::Failed(Failure { error: BADTIME, .. })
        ));
        // another key of the same name
        let other: TsigKey = "hmac-sha256:xfr.key:b3RoZXI=".parse().unwrap();
        assert!(matches!(
            verify(&[other], &q, 1000),
            Verdict::Failed(Failure { error: BADSIG, .. })
        ));
        // unknown name
        let other: TsigKey = "hmac-sha256:other:b3RoZXI=".parse().unwrap();
        assert!(matches!(
            verify(&[other], &q, 1000),
            Verdict::Failed(Failure { error: BADKEY, .. })
        ));
        // one octet of the question changed
        let mut bad = q.clone();
        bad[14] = b'c';
        assert!(matches!(
            verify(&keys, &bad, 1000),
            Verdict::Failed(Failure { error: BADSIG, .. })
        ));
        // cut short, or a record after the TSIG record
        assert!(matches!(
            verify(&keys, &q[..q.len() - 1], 1000),
            Verdict::Malformed | Verdict::Unsigned
        ));
        let mut after = q.clone();
        after[11] = 2;
        after.extend_from_slice(&[0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(verify(&keys, &after, 1000), Verdict::Malformed));
        assert!(matches!(verify(&keys, &query(), 1000), Verdict::Unsigned));
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Queries signed by `dig -y` (BIND 9.18: EDNS with a cookie, then TSIG) and `kdig -y`
    /// (Knot 3.2, HMAC-SHA512) with the key of `key()`.
    #[test]
    fn verifies_the_macs_of_dig_and_kdig() {
        let dig = hex("110c0120000100000000000202626c0474657374000006000100002904d000000000000c000a0008b1c13da24fbb830c03786672036b65790000fa00ff00000000003d0b686d61632d7368613235360000006b10169e012c002018afeda9ed6fe41ae42f2105f631413e507e41f78aa5b654670060deacca1ed9110c00000000");
        let kdig = hex("2fbe0120000100000000000102626c0474657374000006000103786672036b65790000fa00ff00000000005d0b686d61632d7368613531320000006b1016a4012c0040758f45a40ceb1124f1fbdfc802906aade44ac8ff5f913ce1cc51e461ec48419f542bec5030c2874729b786544d5c90a79b389511ac8ac6dc222dbc37f1c7b9322fbe00000000");
        let b64 = "cmJsa2l0LXRlc3QtdHNpZy1zZWNyZXQtMzItYnl0ZXM=";
        let k256: TsigKey = format!("hmac-sha256:xfr.key:{b64}").parse().unwrap();
        let k512: TsigKey = format!("hmac-sha512:xfr.key:{b64}").parse().unwrap();
        let keys = [k256, k512];
        // signed at 0x6b10169e and 0x6b1016a4
        let at = |v: &[u8]| find(v).unwrap().unwrap().time;
        assert_eq!((at(&dig), at(&kdig)), (0x6b10169e, 0x6b1016a4));
        for (q, len) in [(&dig, 48), (&kdig, 25)] {
            match verify(&keys, q, at(q) + 10) {
                Verdict::Signed { len: n, .. } => assert_eq!(n, len),
                v => panic!("{v:?}"),
            }
            let mut bad = q.clone();
            bad[13] ^= 0x20; // the MAC covers the case of the name
            assert!(matches!(
                verify(&keys, &bad, at(q)),
                Verdict::Failed(Failure { error: BADSIG, .. })
            ));
        }
        // the same name with the other algorithm only: unknown key
        assert!(matches!(
            verify(&keys[..1], &kdig, at(&kdig)),
            Verdict::Failed(Failure { error: BADKEY, .. })
        ));
    }

    #[test]
    fn answers_chain_their_macs() {
        let k = key();
        let keys = [k.clone()];
        let mut q = query();
        Signer::request(&k).sign(&mut q, 0, 1000);
        let Verdict::Signed { mut signer, .. } = verify(&keys, &q, 1000) else {
            panic!("not verified");
        };
        let mut a = query();
        a[2] |= 0x80;
        a[10..12].fill(0);
        signer.sign(&mut a, 0, 1000);
        let t = find(&a).unwrap().unwrap();
        let req_mac = find(&q).unwrap().unwrap().mac.to_vec();
        // the first answer: the request MAC, the answer, all the variables
        let mut plain = a[..t.start].to_vec();
        plain[11] = 0;
        let mut pre = vec![0, 32];
        pre.extend_from_slice(&req_mac);
        let vars = Fields {
            key: &k.wire,
            class: ANY,
            ttl: 0,
            algorithm: k.algorithm.wire(),
            time: 1000,
            fudge: FUDGE,
            error: 0,
            other: &[],
        }
        .variables();
        assert_eq!(t.mac, &k.mac(&[&pre, &plain, &vars])[..]);
        // the next one: the previous MAC and the timers only
        let first_mac = t.mac.to_vec();
        let mut b = plain.clone();
        signer.sign(&mut b, 0, 1001);
        let t2 = find(&b).unwrap().unwrap();
        let mut pre = vec![0, 32];
        pre.extend_from_slice(&first_mac);
        let mut timers = 1001u64.to_be_bytes()[2..].to_vec();
        timers.extend_from_slice(&FUDGE.to_be_bytes());
        assert_eq!(t2.mac, &k.mac(&[&pre, &plain, &timers])[..]);
    }

    #[test]
    fn reads_key_files() {
        let text = "# made by tsig-keygen\nkey \"a.key\" {\n\talgorithm hmac-sha512;\n\tsecret \"c2VjcmV0\";\n};\nkey b { algorithm hmac-sha256; secret \"c2VjcmV0\"; };\n";
        let keys = TsigKey::from_key_file("k", text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            (keys[0].name(), keys[0].algorithm()),
            ("a.key", TsigAlgorithm::HmacSha512)
        );
        assert_eq!(keys[1].name(), "b");
        let e =
            TsigKey::from_key_file("k", "key \"a\" {\n algorithm hmac-sha256;\n};\n").unwrap_err();
        assert!(e.to_string().starts_with("k:1: key \"a\" lacks"), "{e}");
        let e = TsigKey::from_key_file("k", "\nkey \"a\" {\n colour blue;\n};\n").unwrap_err();
        assert!(e.to_string().starts_with("k:3: unknown field"), "{e}");
    }
}
