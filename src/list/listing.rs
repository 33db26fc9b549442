use crate::codes::{expand_txt, ReturnCode};
use crate::time::Timestamp;

/// What a list answers for a listed subject: the return codes (one A record each), the TXT
/// templates (one TXT record each), and since when and until when the subject is listed.
///
/// TXT templates keep rbldnsd's `$` (the queried subject, or for domain lists the listed
/// name) and `$$` (a dollar sign); [`Listing::render_txt`] expands them.
///
/// # Examples
///
/// ```
/// use rblkit::{Listing, Timestamp};
/// use rblkit::codes::ReturnCode;
///
/// let l = Listing::new(ReturnCode::new_assert(127, 0, 0, 4))
///     .with_code(ReturnCode::LISTED)
///     .with_txt("listed, see https://bl.example/?ip=$")
///     .with_since("2026-11-20T10:00:00Z".parse()?);
/// assert_eq!(l.codes(), &[ReturnCode::LISTED, ReturnCode::new_assert(127, 0, 0, 4)]);
/// assert_eq!(l.render_txt(0, "192.0.2.1").unwrap(), "listed, see https://bl.example/?ip=192.0.2.1");
/// assert_eq!(l.since(), Some("2026-11-20T10:00:00Z".parse::<Timestamp>()?));
/// assert_eq!(l.expires(), None);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Listing {
    codes: Box<[ReturnCode]>,
    txt: Box<[Box<str>]>,
    since: Option<Timestamp>,
    expires: Option<Timestamp>,
}

impl Listing {
    /// A listing with one return code and no TXT.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(Listing::new(ReturnCode::LISTED).codes().len(), 1);
    /// ```
    pub fn new(code: ReturnCode) -> Listing {
        Listing {
            codes: Box::new([code]),
            txt: Box::new([]),
            since: None,
            expires: None,
        }
    }

    /// A listing with several return codes (kept sorted, duplicates dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::with_codes([ReturnCode::new_assert(127, 0, 0, 4), ReturnCode::LISTED, ReturnCode::LISTED]);
    /// assert_eq!(l.codes().len(), 2);
    /// ```
    pub fn with_codes(codes: impl IntoIterator<Item = ReturnCode>) -> Listing {
        let mut v: Vec<ReturnCode> = codes.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Listing {
            codes: v.into_boxed_slice(),
            txt: Box::new([]),
            since: None,
            expires: None,
        }
    }

    /// Adds a return code.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_code(ReturnCode::new_assert(127, 0, 0, 3));
    /// assert_eq!(l.codes().len(), 2);
    /// ```
    pub fn with_code(self, code: ReturnCode) -> Listing {
        let mut v = self.codes.into_vec();
        if let Err(i) = v.binary_search(&code) {
            v.insert(i, code);
        }
        Listing {
            codes: v.into_boxed_slice(),
            ..self
        }
    }

    /// Adds a TXT template (a duplicate of one already there is dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_txt("spam source $").with_txt("spam source $");
    /// assert_eq!(l.txt().len(), 1);
    /// ```
    pub fn with_txt(self, template: impl Into<Box<str>>) -> Listing {
        let t = template.into();
        if self.txt.contains(&t) {
            return self;
        }
        let mut v = self.txt.into_vec();
        v.push(t);
        Listing {
            txt: v.into_boxed_slice(),
            ..self
        }
    }

    /// Sets since when the subject is listed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{Listing, Timestamp};
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_since(Timestamp::UNIX_EPOCH);
    /// assert_eq!(l.since(), Some(Timestamp::UNIX_EPOCH));
    /// ```
    pub fn with_since(self, since: Timestamp) -> Listing {
        Listing {
            since: Some(since),
            ..self
        }
    }

    /// Sets until when the subject is listed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::{Listing, Timestamp};
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_expires(Timestamp::MAX);
    /// assert_eq!(l.expires(), Some(Timestamp::MAX));
    /// ```
    pub fn with_expires(self, expires: Timestamp) -> Listing {
        Listing {
            expires: Some(expires),
            ..self
        }
    }

    /// The return codes, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(Listing::new(ReturnCode::LISTED).codes(), &[ReturnCode::LISTED]);
    /// ```
    pub fn codes(&self) -> &[ReturnCode] {
        &self.codes
    }

    /// The TXT templates, unexpanded, in the order they were added.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_txt("x $");
    /// assert_eq!(&*l.txt()[0], "x $");
    /// ```
    pub fn txt(&self) -> &[Box<str>] {
        &self.txt
    }

    /// Since when the subject is listed, when known.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(Listing::new(ReturnCode::LISTED).since(), None);
    /// ```
    pub fn since(&self) -> Option<Timestamp> {
        self.since
    }

    /// Until when the subject is listed, when the listing expires on its own.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// assert_eq!(Listing::new(ReturnCode::LISTED).expires(), None);
    /// ```
    pub fn expires(&self) -> Option<Timestamp> {
        self.expires
    }

    /// The `i`-th TXT template expanded for `subject`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_txt("$ is listed");
    /// assert_eq!(l.render_txt(0, "192.0.2.1").unwrap(), "192.0.2.1 is listed");
    /// assert!(l.render_txt(1, "192.0.2.1").is_none());
    /// ```
    pub fn render_txt(&self, i: usize, subject: &str) -> Option<String> {
        let t = self.txt.get(i)?;
        let mut out = String::with_capacity(t.len() + subject.len());
        expand_txt(t, subject, &mut out);
        Some(out)
    }

    /// Expands the `i`-th TXT template for `subject` into `out` (appending), without
    /// allocating when `out` has room; returns whether there was such a template.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::Listing;
    /// use rblkit::codes::ReturnCode;
    /// let l = Listing::new(ReturnCode::LISTED).with_txt("$");
    /// let mut buf = String::with_capacity(64);
    /// assert!(l.render_txt_into(0, "spam.example", &mut buf));
    /// assert_eq!(buf, "spam.example");
    /// ```
    pub fn render_txt_into(&self, i: usize, subject: &str, out: &mut String) -> bool {
        match self.txt.get(i) {
            Some(t) => {
                expand_txt(t, subject, out);
                true
            }
            None => false,
        }
    }

    /// The same listing with its TXT templates in sorted order.
    pub(crate) fn with_sorted_txt(mut self) -> Listing {
        self.txt.sort_unstable();
        self
    }

    /// The union of two listings of the same entry: all codes, all TXT templates, the earlier
    /// `since`, the later `expires` (none when either never expires).
    pub(crate) fn merged(&self, other: &Listing) -> Listing {
        let mut codes: Vec<ReturnCode> = self
            .codes
            .iter()
            .chain(other.codes.iter())
            .copied()
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut txt = self.txt.to_vec();
        for t in other.txt.iter() {
            if !txt.contains(t) {
                txt.push(t.clone());
            }
        }
        let since = match (self.since, other.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let expires = match (self.expires, other.expires) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        Listing {
            codes: codes.into_boxed_slice(),
            txt: txt.into_boxed_slice(),
            since,
            expires,
        }
    }
}
