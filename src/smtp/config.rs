//! The policy server's configuration: a TOML file ([`PolicyConfig::from_toml`]) for the
//! limits, the counting mode, the lists, the replies and the exemptions.

use super::reply::{RefusalReason, Replies, Reply};
use super::request::Limits;
use super::SmtpError;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// When a message is counted against its sender's rate limit.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::Counting;
/// assert_eq!(Counting::default(), Counting::PerMessage);
/// assert_eq!("end-of-message".parse::<Counting>()?, Counting::EndOfMessage);
/// assert_eq!(Counting::PerRecipient.to_string(), "recipient");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Counting {
    /// Once per message, at its first RCPT request (the requests of one message share
    /// Postfix's `instance`). Postfix: `smtpd_sender_restrictions = check_policy_service
    /// inet:127.0.0.1:PORT` (asked at RCPT with the default `smtpd_delay_reject = yes`;
    /// there a sender status such as 5.1.7 reaches the client unchanged), or the same in
    /// `smtpd_recipient_restrictions` (where Postfix maps 5.1.7 to 5.1.3).
    #[default]
    PerMessage,
    /// Every RCPT request counts: a message to ten recipients counts ten. Same Postfix lines.
    PerRecipient,
    /// At END-OF-MESSAGE, by the message's `recipient_count` (the recipients Postfix
    /// accepted): a message to ten recipients counts ten, mail refused before the end of
    /// its data counts nothing, and a message whose recipients do not fit in what is left
    /// of the limit is refused there and counts nothing. The RCPT requests are still
    /// judged (refused once the limit is reached), not counted. Postfix: the line above
    /// plus `smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:PORT`,
    /// last in that list.
    EndOfMessage,
}

impl FromStr for Counting {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<Counting, SmtpError> {
        match s {
            "message" | "instance" => Ok(Counting::PerMessage),
            "recipient" => Ok(Counting::PerRecipient),
            "end-of-message" => Ok(Counting::EndOfMessage),
            _ => Err(SmtpError::BadField {
                field: "counting",
                problem: format!("{s:?}; use message, recipient or end-of-message").into(),
            }),
        }
    }
}

impl fmt::Display for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Counting::PerMessage => "message",
            Counting::PerRecipient => "recipient",
            Counting::EndOfMessage => "end-of-message",
        })
    }
}

/// Addresses to match: `user@example.com` exactly, `@example.com` any address at that
/// domain, `example.com` any address at that domain or below it. Case does not matter.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::AddressList;
/// let l = AddressList::new(&["boss@corp.example.com", "@spam.example.net", "bulk.example.org"])?;
/// assert!(l.matches("Boss@Corp.Example.com"));
/// assert!(l.matches("x@spam.example.net"));
/// assert!(!l.matches("x@sub.spam.example.net"));
/// assert!(l.matches("x@mx.bulk.example.org"));
/// assert!(!l.matches("other@corp.example.com"));
/// assert!(!l.matches(""));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    addresses: Vec<Box<str>>,
    exact_domains: Vec<Box<str>>,
    domains: Vec<Box<str>>,
}

impl AddressList {
    /// A list of these entries.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadField`] for an empty entry or one that is no address or domain.
    pub fn new(entries: &[&str]) -> Result<AddressList, SmtpError> {
        let mut l = AddressList::default();
        for e in entries {
            let low = e.trim().to_ascii_lowercase();
            let bad = || SmtpError::BadField {
                field: "address list",
                problem: format!("{e:?} is no address, @domain or domain").into(),
            };
            if let Some(d) = low.strip_prefix('@') {
                crate::subject::Domain::new(d).map_err(|_| bad())?;
                l.exact_domains.push(d.into());
            } else if low.contains('@') {
                let (local, domain) = low.rsplit_once('@').ok_or_else(bad)?;
                if local.is_empty() || domain.is_empty() {
                    return Err(bad());
                }
                l.addresses.push(low.into());
            } else {
                crate::subject::Domain::new(&low).map_err(|_| bad())?;
                l.domains.push(low.into());
            }
        }
        Ok(l)
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty() && self.exact_domains.is_empty() && self.domains.is_empty()
    }

    /// Whether an address matches.
    pub fn matches(&self, addr: &str) -> bool {
        if self.is_empty() {
            return false;
        }
        let Some((_, domain)) = addr.rsplit_once('@') else {
            return false;
        };
        let low_eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        let domain = domain.trim_end_matches('.');
        self.addresses.iter().any(|a| low_eq(a, addr))
            || self.exact_domains.iter().any(|d| low_eq(d, domain))
            || self.domains.iter().any(|d| {
                low_eq(d, domain)
                    || (domain.len() > d.len()
                        && domain.as_bytes()[domain.len() - d.len() - 1] == b'.'
                        && low_eq(d, &domain[domain.len() - d.len()..]))
            })
    }
}

/// Networks to match (`192.0.2.0/24`, `2001:db8::/32`, or a single address).
///
/// # Examples
///
/// ```
/// use rblkit::smtp::NetworkList;
/// let l = NetworkList::new(&["192.0.2.0/24", "2001:db8::1"])?;
/// assert!(l.contains("192.0.2.77".parse().unwrap()));
/// assert!(!l.contains("198.51.100.1".parse().unwrap()));
/// assert!(l.contains("2001:db8::1".parse().unwrap()));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkList {
    nets: Vec<IpNet>,
}

impl NetworkList {
    /// A list of these networks.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadField`] for an entry that is no network or address.
    pub fn new(entries: &[&str]) -> Result<NetworkList, SmtpError> {
        let mut nets = Vec::with_capacity(entries.len());
        for e in entries {
            let e = e.trim();
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| SmtpError::BadField {
                    field: "network list",
                    problem: format!("{e:?} is no network or address").into(),
                })?;
            nets.push(net);
        }
        Ok(NetworkList { nets })
    }

    /// Whether an address is in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// One octet pattern of a [`DnsList`]: values or ranges (`2`, `[2..11]`, `[2;4;6..8]`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Octet(Vec<(u8, u8)>);

/// A DNS list the client address is checked against, as Postfix postscreen's
/// `postscreen_dnsbl_sites` writes it: `zone[=pattern][*weight]`, where the pattern matches
/// the answered `127.x.y.z` octet by octet (`127.0.0.[2..11]`, `127.0.0.[2;4]`), and the
/// weight (default 1) may be negative for an allowlist.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::DnsList;
/// let l: DnsList = "zen.example.org=127.0.0.[2..11]*3".parse()?;
/// assert_eq!((l.zone(), l.weight()), ("zen.example.org", 3));
/// assert!(l.matches("127.0.0.4".parse().unwrap()));
/// assert!(!l.matches("127.0.0.12".parse().unwrap()));
/// let w: DnsList = "list.dnswl.example=127.0.[0..255].[1;2;3]*-5".parse()?;
/// assert_eq!(w.weight(), -5);
/// assert_eq!(w.to_string(), "list.dnswl.example=127.0.[0..255].[1;2;3]*-5");
/// assert!("bl.example=127.0.0.[9..2]".parse::<DnsList>().is_err());
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsList {
    zone: Box<str>,
    pattern: Option<[Octet; 4]>,
    weight: i32,
}

impl DnsList {
    /// The zone.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The weight.
    pub fn weight(&self) -> i32 {
        self.weight
    }

    /// Whether an answered address matches the pattern (any address when there is none).
    pub fn matches(&self, a: std::net::Ipv4Addr) -> bool {
        match &self.pattern {
            None => true,
            Some(p) => p
                .iter()
                .zip(a.octets())
                .all(|(o, v)| o.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&v))),
        }
    }
}

impl FromStr for DnsList {
    type Err = SmtpError;

    fn from_str(s: &str) -> Result<DnsList, SmtpError> {
        let bad = |offset: usize, problem| SmtpError::BadDnsList {
            text: s.into(),
            offset,
            problem,
        };
        let (rest, weight) = match s.rfind('*') {
            Some(p) => {
                let w = s[p + 1..]
                    .parse::<i32>()
                    .ok()
                    .filter(|w| w.abs() <= 1000)
                    .ok_or_else(|| bad(p + 1, "the weight is a whole number from -1000 to 1000"))?;
                (&s[..p], w)
            }
            None => (s, 1),
        };
        let (zone, pat) = match rest.find('=') {
            Some(p) => (&rest[..p], Some((p + 1, &rest[p + 1..]))),
            None => (rest, None),
        };
        crate::subject::Domain::new(zone).map_err(|_| bad(0, "the zone is no domain name"))?;
        let pattern = match pat {
            None => None,
            Some((start, text)) => {
                let mut octets = Vec::with_capacity(4);
                let mut off = start;
                for part in split_octets(text) {
                    octets.push(octet(part).map_err(|p| bad(off, p))?);
                    off += part.len() + 1;
                }
                let arr: [Octet; 4] = octets
                    .try_into()
                    .map_err(|_| bad(start, "the pattern has four octets"))?;
                Some(arr)
            }
        };
        Ok(DnsList {
            zone: zone.to_ascii_lowercase().into(),
            pattern,
            weight,
        })
    }
}

/// The octets of a pattern: split at the dots outside brackets.
fn split_octets(text: &str) -> Vec<&str> {
    let mut parts = Vec::with_capacity(4);
    let mut depth = 0u32;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'.' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn octet(part: &str) -> Result<Octet, &'static str> {
    let num = |t: &str| {
        t.parse::<u8>()
            .map_err(|_| "an octet is a number from 0 to 255")
    };
    if let Some(inner) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
        let mut v = Vec::new();
        for item in inner.split(';') {
            let r = match item.split_once("..") {
                Some((a, b)) => (num(a)?, num(b)?),
                None => {
                    let n = num(item)?;
                    (n, n)
                }
            };
            if r.0 > r.1 {
                return Err("a range goes from low to high");
            }
            v.push(r);
        }
        Ok(Octet(v))
    } else {
        let n = num(part)?;
        Ok(Octet(vec![(n, n)]))
    }
}

impl fmt::Display for DnsList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.zone)?;
        if let Some(p) = &self.pattern {
            f.write_str("=")?;
            for (i, o) in p.iter().enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                let one = |f: &mut fmt::Formatter<'_>, &(lo, hi): &(u8, u8)| {
                    if lo == hi {
                        write!(f, "{lo}")
                    } else {
                        write!(f, "{lo}..{hi}")
                    }
                };
                if o.0.len() == 1 && o.0[0].0 == o.0[0].1 {
                    one(f, &o.0[0])?;
                } else {
                    f.write_str("[")?;
                    for (j, r) in o.0.iter().enumerate() {
                        if j > 0 {
                            f.write_str(";")?;
                        }
                        one(f, r)?;
                    }
                    f.write_str("]")?;
                }
            }
        }
        if self.weight != 1 {
            write!(f, "*{}", self.weight)?;
        }
        Ok(())
    }
}

/// The DNS list checks: the lists, the score at which a client is refused, the datasets
/// looked up in process, the resolver and the time to wait. A list whose zone is one of
/// the `datasets` is looked up in memory ([`LocalLists`](super::LocalLists)); the others
/// are asked of the resolver.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::DnsChecks;
/// let d = DnsChecks::default();
/// assert!(d.lists.is_empty());
/// assert_eq!(d.threshold, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsChecks {
    /// The lists.
    pub lists: Vec<DnsList>,
    /// The sum of the matching lists' weights at which the client is refused.
    pub threshold: i32,
    /// Datasets (`ZONE:TYPE:FILE[,FILE…]`, as `rblkit serve` takes them) whose zones are
    /// looked up in process, with no DNS round trip.
    pub datasets: Vec<crate::zone::DatasetSpec>,
    /// The resolver (`None`: the system's).
    pub server: Option<SocketAddr>,
    /// How long to wait for the answers.
    pub timeout: Duration,
}

impl DnsChecks {
    /// Whether a zone is one of the [`DnsChecks::datasets`] (looked up in process).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::DnsChecks;
    /// let mut d = DnsChecks::default();
    /// d.datasets.push("bl.example:ip4set:bl.txt".parse()?);
    /// assert!(d.is_local("BL.example") && !d.is_local("zen.example.org"));
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn is_local(&self, zone: &str) -> bool {
        let zone = zone.strip_suffix('.').unwrap_or(zone);
        self.datasets
            .iter()
            .any(|s| s.zone().as_str().eq_ignore_ascii_case(zone))
    }
}

impl Default for DnsChecks {
    /// No lists; threshold 1; the system resolver; 2 s.
    fn default() -> Self {
        DnsChecks {
            lists: Vec::new(),
            threshold: 1,
            datasets: Vec::new(),
            server: None,
            timeout: Duration::from_secs(2),
        }
    }
}

/// The campaign rule fed from the policy requests, which carry no content: one client (its
/// `sasl_username`, else its address) using more than `senders` distinct envelope senders
/// within one window of `window` (windows aligned to the clock). The ledger's
/// [`SenderRotation`](crate::policy::SenderRotation) criterion then lists them — the
/// account, or every sender address of the client's campaign (an unauthenticated
/// client's campaign is of one sender domain: the ledger groups a campaign by account,
/// else by sender domain) — until `linger` after its latest message. Off (`senders` 0)
/// by default: a mail server relaying for many users of one domain would trip it.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::ClientCampaign;
/// let c = ClientCampaign::default();
/// assert_eq!((c.senders, c.window.as_secs()), (0, 3600));
/// let mut on = c;
/// on.senders = 10;
/// assert_eq!(on.rotation().min_senders, 11);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCampaign {
    /// The most distinct envelope senders of one client in a window (0: off).
    pub senders: u32,
    /// The window.
    pub window: Duration,
    /// How long the listing lasts after the campaign's latest message.
    pub linger: Duration,
}

impl Default for ClientCampaign {
    /// Off; one-hour windows; listed for a day after the latest message.
    fn default() -> Self {
        ClientCampaign {
            senders: 0,
            window: Duration::from_secs(3600),
            linger: crate::policy::SenderRotation::default().linger,
        }
    }
}

impl ClientCampaign {
    /// The ledger's campaign criterion for this rule (its default when off).
    pub fn rotation(&self) -> crate::policy::SenderRotation {
        let mut r = crate::policy::SenderRotation::default();
        if self.senders > 0 {
            r.min_senders = self.senders.saturating_add(1);
            r.linger = self.linger;
        }
        r
    }

    /// The campaign a request's message belongs to at `unix_secs`, as the ledger's
    /// fingerprint: `None` when off or when the request names no client.
    pub(crate) fn key(
        &self,
        user: &str,
        client: Option<IpAddr>,
        unix_secs: i64,
    ) -> Option<Box<str>> {
        if self.senders == 0 {
            return None;
        }
        let window = i64::try_from(self.window.as_secs().max(1)).unwrap_or(i64::MAX);
        let start = unix_secs.div_euclid(window) * window;
        let client = if user.is_empty() {
            client?.to_canonical().to_string()
        } else {
            user.to_owned()
        };
        Some(format!("policy client {client} from {start}").into())
    }
}

/// The policy server's settings. [`PolicyConfig::default`] is the built-in relay policy.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::{Counting, PolicyConfig, RefusalReason};
/// let c = PolicyConfig::from_toml(r#"
/// counting = "recipient"
/// show_evidence = true
/// [limits]
/// messages_per_hour = 100
/// [blocked]
/// senders = ["@spam.example.net"]
/// [exempt]
/// networks = ["192.0.2.0/24"]
/// [replies]
/// rate_limit = "450 4.7.1 Slow down, see https://relay.example.com/limits"
/// "#, "policy.toml")?;
/// assert_eq!(c.counting, Counting::PerRecipient);
/// assert_eq!(c.rate.limit, 100);
/// assert!(c.blocked_senders.matches("a@spam.example.net"));
/// assert!(c.replies.get(RefusalReason::RateLimit).text().starts_with("Slow down"));
/// let e = PolicyConfig::from_toml("[limits]\nmessages_per_hour = \"many\"\n", "bad.toml").unwrap_err();
/// assert!(e.to_string().starts_with("bad.toml: "), "{e}");
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PolicyConfig {
    /// The rate limit.
    pub rate: crate::policy::RateLimit,
    /// The escalation to a permanent block.
    pub kept_sending: crate::policy::KeptSending,
    /// When messages count.
    pub counting: Counting,
    /// The protocol limits.
    pub limits: Limits,
    /// Clients that are neither judged nor counted (answered `DUNNO`).
    pub exempt_networks: NetworkList,
    /// Authenticated users that are neither judged nor counted.
    pub exempt_users: Vec<Box<str>>,
    /// Senders that are allowed whatever else says (not counted).
    pub allow_senders: AddressList,
    /// Clients that are allowed whatever else says, DNS lists included (not counted).
    pub allow_clients: NetworkList,
    /// Senders refused (the relay's own blocked list).
    pub blocked_senders: AddressList,
    /// Recipients refused.
    pub blocked_recipients: AddressList,
    /// The DNS list checks of the client address.
    pub dns: DnsChecks,
    /// The replies.
    pub replies: Replies,
    /// Whether replies add the evidence (`(301 messages in the rolling window)`); off by
    /// default: the public text discloses nothing.
    pub show_evidence: bool,
    /// Shared counters in Redis (`[redis]`); `None`: the local ledger alone.
    pub redis: Option<super::RedisConfig>,
    /// Classes of limits beside the per-identity one (`[[limit]]`).
    pub classes: Vec<super::LimitClass>,
    /// Per-key limits (`[overrides] file`).
    pub overrides: super::Overrides,
    /// Alerts of limits crossed (`[alerts]`).
    pub alerts: Option<super::AlertConfig>,
    /// How many refusals are logged.
    pub refusal_log: super::RefusalLog,
    /// The campaign rule fed from the requests.
    pub campaign: ClientCampaign,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    counting: Option<String>,
    show_evidence: Option<bool>,
    limits: Option<FileLimits>,
    exempt: Option<FileExempt>,
    allow: Option<FileAllow>,
    blocked: Option<FileBlocked>,
    dns: Option<FileDns>,
    replies: Option<BTreeMap<String, String>>,
    redis: Option<super::redis::FileRedis>,
    limit: Option<Vec<super::limits::FileClass>>,
    overrides: Option<super::limits::FileOverrides>,
    alerts: Option<super::alert::FileAlerts>,
    log: Option<FileLog>,
    campaign: Option<FileCampaign>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileCampaign {
    senders: Option<u32>,
    window_secs: Option<u64>,
    linger_secs: Option<u64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLog {
    refusals_per_second: Option<u32>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    messages_per_hour: Option<u64>,
    kept_sending_grace: Option<u32>,
    max_line: Option<usize>,
    max_attributes: Option<usize>,
    idle_secs: Option<u64>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileExempt {
    #[serde(default)]
    networks: Vec<String>,
    #[serde(default)]
    sasl_users: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileAllow {
    #[serde(default)]
    senders: Vec<String>,
    #[serde(default)]
    clients: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileBlocked {
    #[serde(default)]
    senders: Vec<String>,
    #[serde(default)]
    recipients: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileDns {
    #[serde(default)]
    lists: Vec<String>,
    #[serde(default)]
    datasets: Vec<String>,
    threshold: Option<i32>,
    server: Option<String>,
    timeout_ms: Option<u64>,
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl PolicyConfig {
    /// Reads a config file's text; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`SmtpError::Config`] naming the file and the line and column (TOML) or the field.
    pub fn from_toml(text: &str, file: &str) -> Result<PolicyConfig, SmtpError> {
        let err = |message: String| SmtpError::Config {
            file: file.into(),
            message: message.into(),
        };
        let f: FileConfig = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            err(format!("line {line}, column {col}: {}", e.message()))
        })?;
        let field = |name: &str, e: SmtpError| err(format!("{name}: {e}"));
        let mut c = PolicyConfig::default();
        if let Some(s) = &f.counting {
            c.counting = s.parse().map_err(|e| field("counting", e))?;
        }
        c.show_evidence = f.show_evidence.unwrap_or(false);
        if let Some(l) = f.limits {
            if let Some(n) = l.messages_per_hour {
                if n == 0 {
                    return Err(err("limits.messages_per_hour: at least 1".into()));
                }
                c.rate.limit = n;
                c.kept_sending.limit = u32::try_from(n).unwrap_or(u32::MAX);
            }
            if let Some(g) = l.kept_sending_grace {
                c.kept_sending.grace = g;
            }
            if let Some(n) = l.max_line {
                if n < 64 {
                    return Err(err("limits.max_line: at least 64".into()));
                }
                c.limits.max_line = n;
            }
            if let Some(n) = l.max_attributes {
                if n < 8 {
                    return Err(err("limits.max_attributes: at least 8".into()));
                }
                c.limits.max_attributes = n;
            }
            if let Some(s) = l.idle_secs {
                if s == 0 {
                    return Err(err("limits.idle_secs: at least 1".into()));
                }
                c.limits.idle = Duration::from_secs(s);
            }
        }
        if let Some(x) = f.exempt {
            c.exempt_networks =
                NetworkList::new(&strs(&x.networks)).map_err(|e| field("exempt.networks", e))?;
            c.exempt_users = x.sasl_users.into_iter().map(Into::into).collect();
        }
        if let Some(a) = f.allow {
            c.allow_senders =
                AddressList::new(&strs(&a.senders)).map_err(|e| field("allow.senders", e))?;
            c.allow_clients =
                NetworkList::new(&strs(&a.clients)).map_err(|e| field("allow.clients", e))?;
        }
        if let Some(b) = f.blocked {
            c.blocked_senders =
                AddressList::new(&strs(&b.senders)).map_err(|e| field("blocked.senders", e))?;
            c.blocked_recipients = AddressList::new(&strs(&b.recipients))
                .map_err(|e| field("blocked.recipients", e))?;
        }
        if let Some(d) = f.dns {
            for l in &d.lists {
                c.dns
                    .lists
                    .push(l.parse().map_err(|e| field("dns.lists", e))?);
            }
            for (i, spec) in d.datasets.iter().enumerate() {
                c.dns.datasets.push(
                    spec.parse()
                        .map_err(|e| err(format!("dns.datasets[{i}]: {e}")))?,
                );
            }
            if let Some(t) = d.threshold {
                c.dns.threshold = t;
            }
            if let Some(s) = &d.server {
                c.dns.server = Some(
                    s.parse::<SocketAddr>()
                        .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                        .map_err(|_| err(format!("dns.server: {s:?} is no ADDR:PORT")))?,
                );
            }
            if let Some(ms) = d.timeout_ms {
                if ms == 0 {
                    return Err(err("dns.timeout_ms: at least 1".into()));
                }
                c.dns.timeout = Duration::from_millis(ms);
            }
            #[cfg(not(feature = "dns-client"))]
            if let Some(l) = c.dns.lists.iter().find(|l| !c.dns.is_local(l.zone())) {
                return Err(err(format!(
                    "dns.lists: {l} is no zone of dns.datasets, and this build has no DNS client (feature dns-client)"
                )));
            }
        }
        if let Some(k) = f.campaign {
            if let Some(n) = k.senders {
                c.campaign.senders = n;
            }
            for (name, v, to) in [
                (
                    "campaign.window_secs",
                    k.window_secs,
                    &mut c.campaign.window,
                ),
                (
                    "campaign.linger_secs",
                    k.linger_secs,
                    &mut c.campaign.linger,
                ),
            ] {
                match v {
                    Some(0) => return Err(err(format!("{name}: at least 1"))),
                    Some(s) => *to = Duration::from_secs(s),
                    None => {}
                }
            }
        }
        if let Some(n) = f.log.and_then(|l| l.refusals_per_second) {
            c.refusal_log.per_second = n;
        }
        if let Some(r) = f.replies {
            for (k, v) in r {
                let reason: RefusalReason = k.parse().map_err(|e| field("replies", e))?;
                let reply: Reply = v.parse().map_err(|e| field(&format!("replies.{k}"), e))?;
                c.replies.set(reason, reply);
            }
        }
        if let Some(r) = f.redis {
            c.redis = Some(r.into_config().map_err(err)?);
        }
        for (i, l) in f.limit.unwrap_or_default().into_iter().enumerate() {
            c.classes.push(l.into_class(i).map_err(err)?);
        }
        if let Some(o) = f.overrides {
            c.overrides = o.load()?;
        }
        if let Some(a) = f.alerts {
            c.alerts = Some(a.into_config().map_err(err)?);
        }
        Ok(c)
    }

    /// Whether an authenticated user is exempt.
    pub fn is_exempt_user(&self, user: &str) -> bool {
        !user.is_empty() && self.exempt_users.iter().any(|u| &**u == user)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |p| before.len() - p - 1)
        + 1;
    (line, col)
}
