use super::SubjectError;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// The longest domain name in presentation form without the trailing dot (RFC 1035: 255
/// octets on the wire).
pub(crate) const MAX_NAME_LEN: usize = 253;
/// The longest label (RFC 1035).
pub(crate) const MAX_LABEL_LEN: usize = 63;

/// A validated domain name: lowercase A-labels, no trailing dot, labels of 1–63 octets,
/// at most 253 octets, the last label not all digits.
///
/// Internationalised names are converted with UTS #46 (non-transitional, as browsers and
/// mail clients resolve them) to A-labels; letters, digits, `-` and `_` are the characters a
/// label may hold afterwards (`_` appears in real DNS names and in service labels).
///
/// # Examples
///
/// ```
/// use rblkit::subject::Domain;
///
/// let d = Domain::new("WWW.Example.COM.")?;
/// assert_eq!(d.as_str(), "www.example.com");
/// assert_eq!(d.label_count(), 3);
/// assert_eq!(d.parent(), Some("example.com"));
/// assert!(d.is_within(&Domain::new("example.com")?));
///
/// let idn = Domain::new("münchen.de")?;
/// assert_eq!(idn.as_str(), "xn--mnchen-3ya.de");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Domain(Box<str>);

#[inline]
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

/// Checks an ASCII name already lowercased: label lengths, total length, characters, last
/// label. Offsets are those of `original` unless the name was `mapped` by UTS #46, when they
/// are 0.
fn check_ascii(name: &str, original: &str, mapped: bool) -> Result<(), SubjectError> {
    if name.is_empty() {
        return Err(SubjectError::Empty);
    }
    let bytes = name.as_bytes();
    let same = !mapped;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            if i == start {
                return Err(SubjectError::EmptyLabel {
                    offset: if same { i } else { 0 },
                });
            }
            if i - start > MAX_LABEL_LEN {
                return Err(SubjectError::LabelTooLong {
                    offset: if same { start } else { 0 },
                    len: i - start,
                });
            }
            start = i + 1;
        } else if !is_name_byte(b) {
            let offset = if same { i } else { 0 };
            let ch = if same {
                original[i..].chars().next().unwrap_or('?')
            } else {
                b as char
            };
            return Err(SubjectError::BadChar { offset, ch });
        }
    }
    if start == bytes.len() {
        return Err(SubjectError::EmptyLabel {
            offset: if same { start } else { 0 },
        });
    }
    if bytes.len() - start > MAX_LABEL_LEN {
        return Err(SubjectError::LabelTooLong {
            offset: if same { start } else { 0 },
            len: bytes.len() - start,
        });
    }
    if bytes.len() > MAX_NAME_LEN {
        return Err(SubjectError::NameTooLong { len: bytes.len() });
    }
    if bytes[start..].iter().all(u8::is_ascii_digit) {
        return Err(SubjectError::NumericLastLabel {
            text: original.into(),
        });
    }
    Ok(())
}

impl Domain {
    /// Validates and normalises a domain name.
    ///
    /// # Errors
    ///
    /// [`SubjectError`]: empty name or label, a label over 63 octets, a name over 253, a
    /// character that no host name holds (with its byte offset), an invalid IDN, or a last
    /// label of digits only (an IP address or a mistyped one, never a domain).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::{Domain, SubjectError};
    /// assert_eq!(Domain::new("Example.ORG")?.as_str(), "example.org");
    /// assert!(matches!(Domain::new("exa mple.org"), Err(SubjectError::BadChar { offset: 3, .. })));
    /// assert!(matches!(Domain::new("192.0.2.1"), Err(SubjectError::NumericLastLabel { .. })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(text: &str) -> Result<Domain, SubjectError> {
        Domain::normalize(text).map(|c| Domain(c.into_owned().into_boxed_str()))
    }

    /// Normalises a domain name without allocating when it is already canonical (lowercase
    /// ASCII, no trailing dot, no `xn--` label to check).
    ///
    /// # Errors
    ///
    /// As [`Domain::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// use std::borrow::Cow;
    /// assert!(matches!(Domain::normalize("example.com")?, Cow::Borrowed("example.com")));
    /// assert_eq!(Domain::normalize("EXAMPLE.com.")?, "example.com");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn normalize(text: &str) -> Result<Cow<'_, str>, SubjectError> {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        if trimmed.is_empty() {
            return Err(if text.is_empty() {
                SubjectError::Empty
            } else {
                SubjectError::EmptyLabel { offset: 0 }
            });
        }
        let bytes = trimmed.as_bytes();
        // the common case, a name already canonical, in one pass
        if is_canonical(bytes) {
            return Ok(Cow::Borrowed(trimmed));
        }
        let ascii = bytes.is_ascii();
        let needs_idna = !ascii || has_ace_label(bytes);
        if !needs_idna {
            if bytes.iter().any(u8::is_ascii_uppercase) {
                let lower = trimmed.to_ascii_lowercase();
                check_ascii(&lower, text, false)?;
                return Ok(Cow::Owned(lower));
            }
            check_ascii(trimmed, text, false)?;
            return Ok(Cow::Borrowed(trimmed));
        }
        // Characters that are never part of a host name are refused before UTS #46 mapping,
        // with the offset where they are.
        for (i, ch) in trimmed.char_indices() {
            if ch.is_ascii() && !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')) {
                return Err(SubjectError::BadChar { offset: i, ch });
            }
        }
        let mapped = Uts46::new()
            .to_ascii(
                trimmed.as_bytes(),
                AsciiDenyList::EMPTY,
                Hyphens::Allow,
                DnsLength::Ignore,
            )
            .map_err(|_| SubjectError::BadIdn {
                text: text.chars().take(64).collect::<String>().into(),
            })?;
        let mut out = mapped.into_owned();
        // UTS #46 maps full-stop look-alikes to '.', so a trailing one may appear only now.
        if out.ends_with('.') && out.len() > 1 {
            out.pop();
        }
        check_ascii(&out, text, true)?;
        Ok(Cow::Owned(out))
    }

    /// The name, lowercase A-labels without a trailing dot.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// assert_eq!(Domain::new("a.example")?.as_str(), "a.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The labels, left to right.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// let d = Domain::new("a.b.example")?;
    /// assert_eq!(d.labels().collect::<Vec<_>>(), ["a", "b", "example"]);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn labels(&self) -> std::str::Split<'_, char> {
        self.0.split('.')
    }

    /// How many labels the name has.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// assert_eq!(Domain::new("example")?.label_count(), 1);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn label_count(&self) -> usize {
        self.0.bytes().filter(|&b| b == b'.').count() + 1
    }

    /// The name without its first label, when it has more than one.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// assert_eq!(Domain::new("a.b.example")?.parent(), Some("b.example"));
    /// assert_eq!(Domain::new("example")?.parent(), None);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn parent(&self) -> Option<&str> {
        self.0.split_once('.').map(|(_, rest)| rest)
    }

    /// Whether this name is `other` or a name below it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::Domain;
    /// let zone = Domain::new("example.com")?;
    /// assert!(Domain::new("www.example.com")?.is_within(&zone));
    /// assert!(zone.is_within(&zone));
    /// assert!(!Domain::new("badexample.com")?.is_within(&zone));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn is_within(&self, other: &Domain) -> bool {
        let (me, o) = (self.as_str(), other.as_str());
        me == o
            || (me.len() > o.len()
                && me.ends_with(o)
                && me.as_bytes()[me.len() - o.len() - 1] == b'.')
    }
}

/// Whether `bytes` (without a trailing dot) is a canonical name, checked in one pass:
/// lowercase letters, digits, `-` and `_`, labels of 1–63 octets, at most 253 in all, no
/// `xn--` label (those need IDNA's check), a last label not all digits.
#[inline]
fn is_canonical(bytes: &[u8]) -> bool {
    if bytes.is_empty() || bytes.len() > MAX_NAME_LEN {
        return false;
    }
    let mut label_len = 0usize;
    let mut all_digits = true;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            if label_len == 0 || label_len > MAX_LABEL_LEN {
                return false;
            }
            label_len = 0;
            all_digits = true;
        } else {
            if !is_name_byte(b) {
                return false;
            }
            if label_len == 0 && b == b'x' && bytes[i..].starts_with(b"xn--") {
                return false;
            }
            all_digits &= b.is_ascii_digit();
            label_len += 1;
        }
    }
    label_len != 0 && label_len <= MAX_LABEL_LEN && !all_digits
}

fn has_ace_label(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'.')
        .any(|l| l.len() >= 4 && l[..4].eq_ignore_ascii_case(b"xn--"))
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({:?})", &*self.0)
    }
}

impl FromStr for Domain {
    type Err = SubjectError;
    fn from_str(s: &str) -> Result<Domain, SubjectError> {
        Domain::new(s)
    }
}

impl AsRef<str> for Domain {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_passes_through() {
        assert!(matches!(
            Domain::normalize("a-b_c.example").unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(Domain::new("A.EXAMPLE.").unwrap().as_str(), "a.example");
    }

    #[test]
    fn idn_to_a_label() {
        assert_eq!(
            Domain::new("Bücher.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        // ideographic and fullwidth full stops
        assert_eq!(
            Domain::new("example\u{3002}com").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(
            Domain::new("example\u{FF0E}com").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(
            Domain::new("ＥＸＡＭＰＬＥ.com").unwrap().as_str(),
            "example.com"
        );
        // an A-label in the input is checked and kept
        assert_eq!(
            Domain::new("XN--BCHER-KVA.example").unwrap().as_str(),
            "xn--bcher-kva.example"
        );
        assert!(matches!(
            Domain::new("xn--a.example"),
            Err(SubjectError::BadIdn { .. })
        ));
    }

    #[test]
    fn lengths() {
        let l63 = "a".repeat(63);
        let l64 = "a".repeat(64);
        assert!(Domain::new(&format!("{l63}.example")).is_ok());
        assert!(matches!(
            Domain::new(&format!("{l64}.example")),
            Err(SubjectError::LabelTooLong { offset: 0, len: 64 })
        ));
        assert!(matches!(
            Domain::new(&format!("x.{l64}")),
            Err(SubjectError::LabelTooLong { offset: 2, len: 64 })
        ));
        let name253 = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(name253.len(), 253);
        assert!(Domain::new(&name253).is_ok());
        assert!(Domain::new(&format!("{name253}.")).is_ok());
        assert!(matches!(
            Domain::new(&format!("{l63}.{l63}.{l63}.{}", "b".repeat(62))),
            Err(SubjectError::NameTooLong { len: 254 })
        ));
    }

    #[test]
    fn empty_and_bad() {
        assert!(matches!(Domain::new(""), Err(SubjectError::Empty)));
        assert!(matches!(
            Domain::new("."),
            Err(SubjectError::EmptyLabel { .. })
        ));
        assert!(matches!(
            Domain::new("a..b"),
            Err(SubjectError::EmptyLabel { offset: 2 })
        ));
        assert!(matches!(
            Domain::new(".a"),
            Err(SubjectError::EmptyLabel { offset: 0 })
        ));
        assert!(matches!(
            Domain::new("a.b.."),
            Err(SubjectError::EmptyLabel { offset: 4 })
        ));
        assert!(matches!(
            Domain::new("a/b.c"),
            Err(SubjectError::BadChar { offset: 1, ch: '/' })
        ));
        assert!(matches!(
            Domain::new("ä/b.c"),
            Err(SubjectError::BadChar { offset: 2, ch: '/' })
        ));
        assert!(matches!(
            Domain::new("a\0b.c"),
            Err(SubjectError::BadChar { ch: '\0', .. })
        ));
        assert!(Domain::new("[1.2.3.4]").is_err());
        assert!(Domain::new("1.2.3.4").is_err());
        assert!(Domain::new("example.123").is_err());
        assert!(Domain::new("123.example").is_ok());
        assert!(Domain::new("test").is_ok());
    }

    #[test]
    fn fuzz_regression_offsets_after_mapping() {
        // UTS #46 mapping changed the text without changing its length; offsets used to be
        // taken into the original text and split a character.
        let text = "\u{2f4}\u{2c1}\u{1c1}66\u{2c1}6\u{2c1}6\u{1f4}\u{1f4}\u{1f4}\u{2c1}6\u{2c1}%@K6\u{1f4}\u{1c1}\u{2c1}6\u{2c1}6\u{1f4}\u{2c1}u\u{1c1}66\u{2c1}6\u{2c1}6\u{b4}\u{1f4}\u{2c1}6\u{2c1}6\u{1f4}\u{1c1}\u{1c1}6\u{1f4}\u{1f4}";
        let _ = Domain::new(text);
        let _ = text.parse::<crate::Subject>();
    }

    #[test]
    fn one_pass_check_agrees_with_the_full_one() {
        for name in [
            "a",
            "a.b",
            "a-b_c.example",
            "123.example",
            "example.123",
            "a..b",
            ".a",
            "xn--x.a",
            "axn--b.c",
            "x.xn--y",
            "A.b",
            "a b",
            &"a".repeat(64),
            &format!("{}.b", "a".repeat(63)),
        ] {
            let full = check_ascii(name, name, false).is_ok()
                && name.bytes().all(|b| !b.is_ascii_uppercase())
                && !has_ace_label(name.as_bytes());
            assert_eq!(is_canonical(name.as_bytes()), full, "{name}");
        }
    }

    proptest::proptest! {
        #[test]
        fn one_pass_check_agrees_on_random_names(name in "[a-zA-Z0-9._x-]{0,70}|(xn--)?[a-z0-9]{1,70}(\\.[a-z0-9-]{0,70}){0,5}") {
            let full = check_ascii(&name, &name, false).is_ok()
                && name.bytes().all(|b| !b.is_ascii_uppercase())
                && !has_ace_label(name.as_bytes());
            proptest::prop_assert_eq!(is_canonical(name.as_bytes()), full, "{}", name);
        }
    }

    #[test]
    fn within() {
        let z = Domain::new("example.com").unwrap();
        assert!(Domain::new("a.b.example.com").unwrap().is_within(&z));
        assert!(!Domain::new("com").unwrap().is_within(&z));
        assert!(!Domain::new("xexample.com").unwrap().is_within(&z));
    }
}
