//! Who gets which answer: a zone's `acl` and `aclkey` datasets, and the server's own
//! verdicts (an over-quota client), combined as rbldnsd combines its ACLs: if any says
//! ignore the query gets no answer, else if any says refuse it is REFUSED, else empty, else
//! the first A+TXT answer.

use crate::codes::ReturnCode;
use crate::zone::AclAction;
use std::net::IpAddr;

/// Who asks: the client's address (for the `acl` datasets and `$` in their answers), and an
/// answer the server decided on before looking (for a client over its query quota).
///
/// # Examples
///
/// See [`super::respond_from`].
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct Client<'a> {
    /// The client's address.
    pub addr: Option<IpAddr>,
    /// An action applying before the zone's own (an over-quota answer).
    pub forced: Option<&'a AclAction>,
}

impl<'a> Client<'a> {
    /// A client at this address.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rblkit::dns::server::Client::at("127.0.0.1".parse().unwrap());
    /// assert!(c.addr.is_some());
    /// ```
    pub fn at(addr: IpAddr) -> Client<'a> {
        Client {
            addr: Some(addr),
            forced: None,
        }
    }

    /// With an action that applies before the zone's access datasets.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::zone::AclAction;
    /// let c = rblkit::dns::server::Client::at("127.0.0.1".parse().unwrap()).forced(&AclAction::Refuse);
    /// assert!(c.forced.is_some());
    /// ```
    pub fn forced(mut self, a: &'a AclAction) -> Client<'a> {
        self.forced = Some(a);
        self
    }
}

/// What a key label did to a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum KeyUse {
    /// The zone has no keys, or the query asks for SOA or NS.
    #[default]
    None,
    /// Key `i` of the zone's key dataset.
    Known(usize),
    /// No key, or one the zone does not know.
    Unknown,
}

/// The combined verdict of the access datasets for one query.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Gate<'a> {
    pub(crate) ignore: bool,
    pub(crate) refuse: bool,
    pub(crate) empty: bool,
    /// The first A+TXT answer, with the TTL of the dataset that gave it.
    pub(crate) always: Option<(ReturnCode, &'a str, Option<u32>)>,
    /// Whether an access dataset (or the server) had a verdict other than pass.
    pub(crate) acted: bool,
}

impl<'a> Gate<'a> {
    pub(crate) fn add(&mut self, a: &'a AclAction, ttl: Option<u32>) {
        match a {
            AclAction::Ignore => self.ignore = true,
            AclAction::Refuse => self.refuse = true,
            AclAction::Empty => self.empty = true,
            AclAction::Always { code, txt } => {
                if self.always.is_none() {
                    self.always = Some((*code, txt, ttl));
                }
            }
            _ => return,
        }
        self.acted = true;
    }

    /// The verdict that decides, for counting.
    pub(crate) fn verdict(&self) -> Verdict {
        if self.ignore {
            Verdict::Ignore
        } else if self.refuse {
            Verdict::Refuse
        } else if self.empty {
            Verdict::Empty
        } else if self.always.is_some() {
            Verdict::Always
        } else {
            Verdict::Pass
        }
    }
}

/// The access verdict a query got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Verdict {
    /// No access dataset had a say, or it said pass.
    #[default]
    Pass,
    Ignore,
    Refuse,
    Empty,
    Always,
}

impl Verdict {
    pub(crate) const ALL: [Verdict; 5] = [
        Verdict::Pass,
        Verdict::Ignore,
        Verdict::Refuse,
        Verdict::Empty,
        Verdict::Always,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Ignore => "ignore",
            Verdict::Refuse => "refuse",
            Verdict::Empty => "empty",
            Verdict::Always => "listed",
        }
    }
}

/// Writes the client's address as text into `buf` (rbldnsd's `$` in an ACL's TXT); its
/// length. No allocation.
pub(crate) fn addr_text(addr: Option<IpAddr>, buf: &mut [u8; 48]) -> usize {
    use std::io::Write;
    let Some(a) = addr else {
        return 0;
    };
    let mut c = std::io::Cursor::new(&mut buf[..]);
    if write!(c, "{a}").is_err() {
        return 0;
    }
    c.position() as usize
}
