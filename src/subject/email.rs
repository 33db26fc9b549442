use super::{Domain, SubjectError};
use std::fmt;
use std::str::FromStr;

/// The longest local part (RFC 5321, 4.5.3.1.1).
const MAX_LOCAL_LEN: usize = 64;

/// An email address: a local part and a normalised [`Domain`].
///
/// The local part is a dot-atom (`first.last+tag`, UTF-8 allowed as in RFC 6531) or a quoted
/// string (`"john doe"`), at most 64 octets; ASCII letters in it are lowercased, so that
/// addresses compare as mail systems and address lists compare them. Address literals
/// (`user@[192.0.2.1]`) are not accepted.
///
/// # Examples
///
/// ```
/// use rblkit::subject::EmailAddr;
///
/// let a = EmailAddr::new("Sales+Promo@Shop.Example")?;
/// assert_eq!(a.local_part(), "sales+promo");
/// assert_eq!(a.domain().as_str(), "shop.example");
/// assert_eq!(a.to_string(), "sales+promo@shop.example");
/// assert!(EmailAddr::new("root@").is_err());
/// assert!(EmailAddr::new("a..b@example.com").is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EmailAddr {
    local: Box<str>,
    domain: Domain,
}

fn is_atext(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(ch)
        || !ch.is_ascii() && !ch.is_control()
}

fn check_local(local: &str) -> Result<(), SubjectError> {
    let bad = |offset, what| Err(SubjectError::BadLocalPart { offset, what });
    if local.is_empty() {
        return bad(0, "empty");
    }
    if local.len() > MAX_LOCAL_LEN {
        return bad(MAX_LOCAL_LEN, "longer than 64 octets");
    }
    if let Some(inner) = local.strip_prefix('"') {
        let Some(inner) = inner.strip_suffix('"') else {
            return bad(0, "unterminated quoted string");
        };
        let mut escaped = false;
        for (i, ch) in inner.char_indices() {
            if escaped {
                escaped = false;
                if ch.is_control() && ch != '\t' {
                    return bad(i + 1, "control character");
                }
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' {
                return bad(i + 1, "unescaped quote");
            } else if ch.is_control() && ch != '\t' {
                return bad(i + 1, "control character");
            }
        }
        if escaped {
            return bad(local.len() - 1, "backslash at the end");
        }
        return Ok(());
    }
    let mut prev_dot = true;
    for (i, ch) in local.char_indices() {
        if ch == '.' {
            if prev_dot {
                return bad(i, "empty dot-atom part");
            }
            prev_dot = true;
        } else if is_atext(ch) {
            prev_dot = false;
        } else {
            return bad(i, "character not allowed outside quotes");
        }
    }
    if prev_dot {
        return bad(local.len() - 1, "ends with a dot");
    }
    Ok(())
}

impl EmailAddr {
    /// Validates and normalises an address `local@domain`.
    ///
    /// # Errors
    ///
    /// [`SubjectError::BadLocalPart`] or [`SubjectError::BadEmailDomain`], with the byte
    /// offset.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::EmailAddr;
    /// assert!(EmailAddr::new("\"john doe\"@example.com").is_ok());
    /// assert!(EmailAddr::new("john doe@example.com").is_err());
    /// ```
    pub fn new(text: &str) -> Result<EmailAddr, SubjectError> {
        if text.is_empty() {
            return Err(SubjectError::Empty);
        }
        let Some(at) = text.rfind('@') else {
            return Err(SubjectError::BadLocalPart {
                offset: text.len(),
                what: "no '@'",
            });
        };
        let (local, domain) = (&text[..at], &text[at + 1..]);
        check_local(local)?;
        let domain = Domain::new(domain).map_err(|e| SubjectError::BadEmailDomain {
            offset: at + 1,
            source: Box::new(e),
        })?;
        let local = if local.bytes().any(|b| b.is_ascii_uppercase()) {
            local.to_ascii_lowercase().into_boxed_str()
        } else {
            local.into()
        };
        Ok(EmailAddr { local, domain })
    }

    /// The local part, ASCII letters lowercased, quotes kept.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::EmailAddr;
    /// assert_eq!(EmailAddr::new("Root@localhost.example")?.local_part(), "root");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn local_part(&self) -> &str {
        &self.local
    }

    /// The domain.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::subject::EmailAddr;
    /// assert_eq!(EmailAddr::new("a@B.example")?.domain().as_str(), "b.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn domain(&self) -> &Domain {
        &self.domain
    }
}

impl fmt::Display for EmailAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl fmt::Debug for EmailAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddr(\"{self}\")")
    }
}

impl FromStr for EmailAddr {
    type Err = SubjectError;
    fn from_str(s: &str) -> Result<EmailAddr, SubjectError> {
        EmailAddr::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_parts() {
        for ok in [
            "a",
            "a.b",
            "a+b",
            "o'neil",
            "\"a b\"",
            "\"a\\\"b\"",
            "ünïcode",
            "x_y-z",
        ] {
            assert!(EmailAddr::new(&format!("{ok}@example.com")).is_ok(), "{ok}");
        }
        for bad in ["", ".a", "a.", "a..b", "a b", "\"ab", "a\"b", "a,b", "a\tb"] {
            assert!(
                EmailAddr::new(&format!("{bad}@example.com")).is_err(),
                "{bad:?}"
            );
        }
        assert!(EmailAddr::new(&format!("{}@example.com", "a".repeat(64))).is_ok());
        assert!(EmailAddr::new(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn domain_errors_have_offsets() {
        match EmailAddr::new("user@exa mple.com") {
            Err(SubjectError::BadEmailDomain { offset: 5, source }) => {
                assert!(matches!(*source, SubjectError::BadChar { offset: 3, .. }))
            }
            other => panic!("{other:?}"),
        }
        assert!(EmailAddr::new("user@[192.0.2.1]").is_err());
        assert!(EmailAddr::new("user@192.0.2.1").is_err());
        assert!(EmailAddr::new("nodomain").is_err());
    }

    #[test]
    fn last_at_splits() {
        let a = EmailAddr::new("\"a@b\"@example.com").unwrap();
        assert_eq!(a.local_part(), "\"a@b\"");
        assert_eq!(a.to_string().parse::<EmailAddr>().unwrap(), a);
    }
}
