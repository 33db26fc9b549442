//! The public suffix list: registrable domains and known top-level domains.

use super::ExtractError;
use publicsuffix::{Info, List as PsList, Psl, Type};
use std::sync::{Arc, OnceLock};

/// The public suffix list shipped with the crate (publicsuffix.org, MPL-2.0).
const EMBEDDED: &str = include_str!("../../data/public_suffix_list.dat");

const ICANN_MARK: &str = "// ===BEGIN ICANN DOMAINS===";
const PRIVATE_MARK: &str = "// ===BEGIN PRIVATE DOMAINS===";

/// A public suffix list: decides the registrable domain of a host (the domain a URI list is
/// queried with) and whether a name ends in a known top-level domain.
///
/// Both sections of the list count: ICANN suffixes such as `co.uk` and private ones such as
/// `blogspot.com`, so `a.foo.co.uk` is queried as `foo.co.uk` and `a.bar.blogspot.com` as
/// `bar.blogspot.com`, which is the 2-level/3-level handling SURBL-style lists expect. A copy
/// of the list is embedded ([`SuffixList::embedded`]); a newer list file can be loaded at run
/// time ([`SuffixList::parse`]) and extra rules, such as SURBL's `two-level-tlds` and
/// `three-level-tlds` files, added ([`SuffixList::with_rules`]).
///
/// # Examples
///
/// ```
/// use rblkit::extract::SuffixList;
///
/// let psl = SuffixList::embedded();
/// assert_eq!(psl.registrable_domain("www.foo.co.uk"), Some("foo.co.uk"));
/// assert_eq!(psl.registrable_domain("x.bar.blogspot.com"), Some("bar.blogspot.com"));
/// assert_eq!(psl.registrable_domain("co.uk"), None);
/// assert!(psl.has_known_suffix("example.com"));
/// assert!(!psl.has_known_suffix("report.pdf"));
///
/// let mine = SuffixList::embedded().with_rules("example.com\n")?;
/// assert_eq!(mine.registrable_domain("a.b.example.com"), Some("b.example.com"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SuffixList {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    list: PsList,
    text: String,
}

impl SuffixList {
    /// The list embedded in the crate (a copy of publicsuffix.org's `public_suffix_list.dat`),
    /// parsed once per process.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// assert_eq!(SuffixList::embedded().registrable_domain("a.b.example.org"), Some("example.org"));
    /// ```
    pub fn embedded() -> SuffixList {
        static LIST: OnceLock<SuffixList> = OnceLock::new();
        LIST.get_or_init(|| {
            SuffixList::parse(EMBEDDED).unwrap_or_else(|e| unreachable!("embedded list: {e}"))
        })
        .clone()
    }

    /// Parses a list in the format of `public_suffix_list.dat` (rules one a line, `//`
    /// comments, `*.` wildcards, `!` exceptions). A file without the `BEGIN ICANN DOMAINS`
    /// marker, such as SURBL's `two-level-tlds`, is read as a list of ICANN rules.
    ///
    /// # Errors
    ///
    /// [`ExtractError::BadSuffixRule`] with the line and column of a bad rule;
    /// [`ExtractError::EmptySuffixList`] when there is no rule.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::{ExtractError, SuffixList};
    /// let l = SuffixList::parse("com\nco.uk\n")?;
    /// assert_eq!(l.registrable_domain("www.a.co.uk"), Some("a.co.uk"));
    /// assert!(matches!(SuffixList::parse("com\na..b\n"), Err(ExtractError::BadSuffixRule { line: 2, .. })));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<SuffixList, ExtractError> {
        validate(text)?;
        let owned = if text.contains("BEGIN ICANN DOMAINS") {
            text.to_owned()
        } else {
            format!("{ICANN_MARK}\n{text}")
        };
        let list: PsList = owned.parse().map_err(|e| ExtractError::BadSuffixRule {
            line: 0,
            column: 0,
            rule: format!("{e}").chars().take(64).collect::<String>().into(),
            what: "refused by the public suffix parser",
        })?;
        Ok(SuffixList {
            inner: Arc::new(Inner { list, text: owned }),
        })
    }

    /// This list with more rules added (same format as [`SuffixList::parse`]; they count as
    /// private rules). Use it for an operator's own suffixes or SURBL's level files.
    ///
    /// # Errors
    ///
    /// As [`SuffixList::parse`], with lines counted in `rules`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let l = SuffixList::embedded().with_rules("// mine\nshop.example\n")?;
    /// assert_eq!(l.registrable_domain("x.y.shop.example"), Some("y.shop.example"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn with_rules(&self, rules: &str) -> Result<SuffixList, ExtractError> {
        validate_lines(rules, false)?;
        let text = format!("{}\n{PRIVATE_MARK}\n{rules}", self.inner.text);
        SuffixList::parse(&text)
    }

    /// The registrable domain of a normalised host (lowercase A-labels): the public suffix
    /// plus one label. `None` when the host is itself a public suffix, or is empty.
    ///
    /// A name under an unknown top-level domain counts as under a one-label suffix, as the
    /// list's implicit `*` rule says.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let psl = SuffixList::embedded();
    /// assert_eq!(psl.registrable_domain("a.b.example.net"), Some("example.net"));
    /// assert_eq!(psl.registrable_domain("a.corp.internal-tld"), Some("corp.internal-tld"));
    /// assert_eq!(psl.registrable_domain("com"), None);
    /// ```
    pub fn registrable_domain<'a>(&self, host: &'a str) -> Option<&'a str> {
        let d = self.inner.list.domain(host.as_bytes())?;
        let len = d.as_bytes().len();
        host.get(host.len() - len..)
    }

    /// Both answers with one walk of the list: where the registrable domain starts in `host`,
    /// and whether the host ends in a suffix the list names.
    ///
    /// This is `Psl::domain` without its two splitting iterators: the labels are fed to the
    /// list's trie right to left by [`Labels`], and the label before the suffix is found by
    /// one backward loop.
    pub(crate) fn lookup(&self, host: &str) -> (Option<usize>, bool) {
        let name = host.as_bytes();
        let fqdn = name.last() == Some(&b'.');
        let mut labels = Labels {
            name,
            end: name.len(),
        };
        if fqdn {
            labels.next();
        }
        let Info { mut len, typ } = self.inner.list.find(labels);
        if fqdn {
            len += 1;
        }
        if len == 0 || name.len() < len + 2 {
            return (None, false);
        }
        // The label before the suffix.
        let mut start = name.len() - len - 1;
        while start > 0 && name[start - 1] != b'.' {
            start -= 1;
        }
        (Some(start), typ.is_some())
    }

    /// Whether the host ends in a suffix the list names (not only the implicit `*` rule): the
    /// test for a bare `name.tld` in prose.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::extract::SuffixList;
    /// let psl = SuffixList::embedded();
    /// assert!(psl.has_known_suffix("example.co.uk"));
    /// assert!(!psl.has_known_suffix("config.yaml"));
    /// ```
    pub fn has_known_suffix(&self, host: &str) -> bool {
        matches!(
            self.inner
                .list
                .suffix(host.as_bytes())
                .and_then(|s| s.typ()),
            Some(Type::Icann | Type::Private)
        )
    }
}

/// The labels of a name, right to left (as `rsplit('.')` gives them).
struct Labels<'a> {
    name: &'a [u8],
    /// The end of the next label; past the start when done.
    end: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.end > self.name.len() {
            return None;
        }
        let mut start = self.end;
        while start > 0 && self.name[start - 1] != b'.' {
            start -= 1;
        }
        let label = &self.name[start..self.end];
        // Past the start (`len + 1`) after the first label.
        self.end = if start == 0 {
            self.name.len() + 1
        } else {
            start - 1
        };
        Some(label)
    }
}

fn validate(text: &str) -> Result<(), ExtractError> {
    validate_lines(text, true)
}

fn validate_lines(text: &str, need_rule: bool) -> Result<(), ExtractError> {
    let mut rules = 0usize;
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        let lead = line.len() - trimmed.len();
        let rule = trimmed.split_whitespace().next().unwrap_or("");
        let bad = |column: usize, what: &'static str| ExtractError::BadSuffixRule {
            line: line_no,
            column: lead + column + 1,
            rule: rule.chars().take(64).collect::<String>().into(),
            what,
        };
        let body = rule.strip_prefix('!').unwrap_or(rule);
        let base = rule.len() - body.len();
        if rule.starts_with('!') && !body.contains('.') {
            return Err(bad(0, "an exception needs at least two labels"));
        }
        let mut col = base;
        for label in body.split('.') {
            if label.is_empty() {
                return Err(bad(col, "empty label"));
            }
            if label.len() > 63 {
                return Err(bad(col, "label longer than 63 octets"));
            }
            if label != "*" {
                if let Some((i, _)) = label.char_indices().find(|&(_, c)| {
                    c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '_')
                }) {
                    return Err(bad(col + i, "character not allowed in a rule"));
                }
                if idna::domain_to_ascii(label).is_err() {
                    return Err(bad(col, "invalid internationalised label"));
                }
            }
            col += label.len() + 1;
        }
        rules += 1;
    }
    if need_rule && rules == 0 {
        return Err(ExtractError::EmptySuffixList);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_levels() {
        let p = SuffixList::embedded();
        for (host, want) in [
            ("foo.co.uk", Some("foo.co.uk")),
            ("a.b.foo.co.uk", Some("foo.co.uk")),
            ("bar.blogspot.com", Some("bar.blogspot.com")),
            ("www.bar.blogspot.com", Some("bar.blogspot.com")),
            ("blogspot.com", None),
            ("www.example.com", Some("example.com")),
            ("example.com", Some("example.com")),
            ("xn--mnchen-3ya.de", Some("xn--mnchen-3ya.de")),
            ("a.city.kawasaki.jp", Some("city.kawasaki.jp")),
            ("a.b.kawasaki.jp", Some("a.b.kawasaki.jp")),
        ] {
            assert_eq!(p.registrable_domain(host), want, "{host}");
        }
    }

    #[test]
    fn bad_rules_have_positions() {
        assert!(matches!(
            SuffixList::parse("com\n  a..b\n"),
            Err(ExtractError::BadSuffixRule {
                line: 2,
                column: 5,
                ..
            })
        ));
        assert!(matches!(
            SuffixList::parse("com\nx/y\n"),
            Err(ExtractError::BadSuffixRule {
                line: 2,
                column: 2,
                ..
            })
        ));
        assert!(matches!(
            SuffixList::parse("!com\n"),
            Err(ExtractError::BadSuffixRule { line: 1, .. })
        ));
        assert_eq!(
            SuffixList::parse("// nothing\n\n").unwrap_err(),
            ExtractError::EmptySuffixList
        );
    }

    /// The one-walk lookup agrees with the crate's `domain` and `suffix` on every kind of
    /// name: wildcards, exceptions, private rules, unknown suffixes, trailing dots, empty
    /// labels.
    #[test]
    fn lookup_agrees_with_psl_domain() {
        let p = SuffixList::embedded();
        for host in [
            "",
            ".",
            "..",
            "com",
            "com.",
            "example.com",
            "example.com.",
            "a.b.example.co.uk",
            "co.uk",
            "x.bar.blogspot.com",
            "blogspot.com",
            "a.city.kawasaki.jp",
            "city.kawasaki.jp",
            "b.kawasaki.jp",
            "a.b.kawasaki.jp",
            "www.ck",
            "a.www.ck",
            "x.y.ck",
            "unknown-tld",
            "a.unknown-tld",
            "a..com",
            ".example.com",
            "example..",
            "a.b.c.d.e.f.g.h",
            "xn--p1ai",
            "a.xn--p1ai",
            "a.b.xn--mnchen-3ya.de",
        ] {
            let want = match p.inner.list.domain(host.as_bytes()) {
                Some(d) => (
                    Some(host.len() - d.as_bytes().len()),
                    d.suffix().typ().is_some(),
                ),
                None => (None, false),
            };
            assert_eq!(p.lookup(host), want, "{host:?}");
        }
    }

    #[test]
    fn plain_list_is_icann() {
        let l = SuffixList::parse("uk\nco.uk\n").unwrap();
        assert!(l.has_known_suffix("a.co.uk"));
        assert!(!l.has_known_suffix("a.com"));
        assert_eq!(l.registrable_domain("x.a.com"), Some("a.com"));
    }
}
