use crate::subject::{Domain, SubjectError};
use std::fmt;
use std::str::FromStr;

/// Which names a domain entry covers, as in rbldnsd's `dnset`.
///
/// # Examples
///
/// ```
/// use rblkit::list::DomainScope;
/// assert!(DomainScope::NameAndSubdomains.covers_name());
/// assert!(!DomainScope::Subdomains.covers_name());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum DomainScope {
    /// The name only (`example.com`).
    Exact,
    /// Names below it, not the name itself (`*.example.com`).
    Subdomains,
    /// The name and every name below it (`.example.com`).
    NameAndSubdomains,
}

impl DomainScope {
    /// Whether the entry covers the name itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::DomainScope;
    /// assert!(DomainScope::Exact.covers_name());
    /// ```
    pub fn covers_name(self) -> bool {
        matches!(self, DomainScope::Exact | DomainScope::NameAndSubdomains)
    }

    /// Whether the entry covers names below it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::DomainScope;
    /// assert!(DomainScope::Subdomains.covers_subdomains());
    /// assert!(!DomainScope::Exact.covers_subdomains());
    /// ```
    pub fn covers_subdomains(self) -> bool {
        matches!(
            self,
            DomainScope::Subdomains | DomainScope::NameAndSubdomains
        )
    }
}

/// A domain entry of a list: a [`Domain`] and the [`DomainScope`] it covers.
///
/// Its text form is rbldnsd's: `example.com`, `*.example.com`, `.example.com`.
///
/// # Examples
///
/// ```
/// use rblkit::list::{DomainPattern, DomainScope};
///
/// let p: DomainPattern = "*.Spam.Example".parse()?;
/// assert_eq!(p.scope(), DomainScope::Subdomains);
/// assert_eq!(p.domain().as_str(), "spam.example");
/// assert_eq!(p.to_string(), "*.spam.example");
/// assert!(p.matches("a.b.spam.example"));
/// assert!(!p.matches("spam.example"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainPattern {
    domain: Domain,
    scope: DomainScope,
}

impl DomainPattern {
    /// A pattern from its parts.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::{DomainPattern, DomainScope};
    /// use rblkit::subject::Domain;
    /// let p = DomainPattern::new(Domain::new("example.com")?, DomainScope::NameAndSubdomains);
    /// assert_eq!(p.to_string(), ".example.com");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn new(domain: Domain, scope: DomainScope) -> DomainPattern {
        DomainPattern { domain, scope }
    }

    /// The domain.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::DomainPattern;
    /// assert_eq!("x.example".parse::<DomainPattern>()?.domain().as_str(), "x.example");
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The scope.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::{DomainPattern, DomainScope};
    /// assert_eq!(".x.example".parse::<DomainPattern>()?.scope(), DomainScope::NameAndSubdomains);
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn scope(&self) -> DomainScope {
        self.scope
    }

    /// Whether a name (lowercase A-labels, no trailing dot) falls under this pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::list::DomainPattern;
    /// let p: DomainPattern = ".example.com".parse()?;
    /// assert!(p.matches("example.com") && p.matches("www.example.com"));
    /// assert!(!p.matches("badexample.com"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn matches(&self, name: &str) -> bool {
        let d = self.domain.as_str();
        if name.len() == d.len() {
            return self.scope.covers_name() && name.eq_ignore_ascii_case(d);
        }
        self.scope.covers_subdomains()
            && name.len() > d.len()
            && name.as_bytes()[name.len() - d.len() - 1] == b'.'
            && name[name.len() - d.len()..].eq_ignore_ascii_case(d)
    }
}

impl fmt::Display for DomainPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            DomainScope::Exact => write!(f, "{}", self.domain),
            DomainScope::Subdomains => write!(f, "*.{}", self.domain),
            DomainScope::NameAndSubdomains => write!(f, ".{}", self.domain),
        }
    }
}

impl FromStr for DomainPattern {
    type Err = SubjectError;

    fn from_str(s: &str) -> Result<DomainPattern, SubjectError> {
        let (scope, rest, skip) = if let Some(r) = s.strip_prefix("*.") {
            (DomainScope::Subdomains, r, 2)
        } else if let Some(r) = s.strip_prefix('.') {
            (DomainScope::NameAndSubdomains, r, 1)
        } else {
            (DomainScope::Exact, s, 0)
        };
        let domain = Domain::new(rest).map_err(|e| shift(e, skip))?;
        Ok(DomainPattern { domain, scope })
    }
}

fn shift(e: SubjectError, by: usize) -> SubjectError {
    match e {
        SubjectError::EmptyLabel { offset } => SubjectError::EmptyLabel {
            offset: offset + by,
        },
        SubjectError::LabelTooLong { offset, len } => SubjectError::LabelTooLong {
            offset: offset + by,
            len,
        },
        SubjectError::BadChar { offset, ch } => SubjectError::BadChar {
            offset: offset + by,
            ch,
        },
        other => other,
    }
}

impl From<Domain> for DomainPattern {
    fn from(domain: Domain) -> DomainPattern {
        DomainPattern {
            domain,
            scope: DomainScope::Exact,
        }
    }
}
