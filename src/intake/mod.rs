//! Evidence from real mail: a reported or trapped message, or a feedback-loop (ARF) report,
//! becomes [`ledger`](crate::ledger) events.
//!
//! [`Intake::report`] finds, in the message (or in the original attached to a forwarded
//! report or an ARF report):
//! - the **source IP**: the first untrusted hop of the `Received` chain, walking down from
//!   the top ([`find_source`]); hops inside the [`TrustedNetworks`] are believed, so the walk
//!   goes on below them; special-purpose addresses (loopback, private, documentation …, see
//!   [`is_special_purpose`]) are passed over unless allowed. With no trusted networks the
//!   topmost recorded connecting address is the source. An ARF report's `Source-IP` wins;
//! - the **domains**: the registrable domains of the URLs and hosts of the body (the
//!   [`extract`](crate::extract) module, MIME-aware), minus the domains that must never be
//!   listed; the sender's domains only when the configuration asks ([`SenderDomains`]);
//! - a [`fingerprint`] of the body;
//!
//! and makes one event per subject: `spam_report`, `trap_hit` or `ham_report`. Every step
//! that finds nothing says why in a [`Note`].
//!
//! # Examples
//!
//! ```
//! use rblkit::intake::{Intake, IntakeConfig, ReportKind};
//! let msg = b"Received: from helo.example (spam.example [45.95.147.10]) by mx.example.net (Postfix) with ESMTP id 1; Tue, 1 Dec 2026 10:00:00 +0000\r\n\
//! From: <a@b.example>\r\nSubject: offer\r\n\r\nVisit http://www.cheap-pills.biz/buy now\r\n";
//! let intake = Intake::new(IntakeConfig::default());
//! let r = intake.report(msg, &ReportKind::trap("trap-1"), "2026-12-01T10:05:00Z".parse()?)?;
//! assert_eq!(r.source, Some("45.95.147.10".parse().unwrap()));
//! assert_eq!(r.domains[0].as_str(), "cheap-pills.biz");
//! let mut line = String::new();
//! r.events[0].write_line(&mut line);
//! assert!(line.contains(r#""event":"trap_hit""#));
//! # Ok::<(), rblkit::Error>(())
//! ```

mod arf;
mod error;
mod fingerprint;
mod header;
mod received;

pub use arf::{FeedbackReport, FeedbackType};
pub use error::IntakeError;
pub use fingerprint::fingerprint;
pub use received::{
    find_source, is_special_purpose, parse_hop_address, Hop, SourceSearch, TrustedNetworks,
};

use crate::extract::{Extractor, HitKind};
use crate::ledger::{Event, Evidence};
use crate::subject::{Domain, Subject};
use crate::time::Timestamp;
use arf::Original;
use mailparse::{MailHeaderMap, ParsedMail};
use std::fmt;
use std::net::IpAddr;

/// Whether special-purpose addresses can be a source.
///
/// # Examples
///
/// ```
/// use rblkit::intake::{IntakeConfig, SpecialSources};
/// let c = IntakeConfig::default().special_sources(SpecialSources::Allow);
/// assert_eq!(c.special_sources_setting(), SpecialSources::Allow);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SpecialSources {
    /// Passed over like trusted hops (the default).
    #[default]
    Skip,
    /// Taken as sources: for a list inside a private network, and for tests on loopback.
    Allow,
}

/// Whether the sender's domains (`From`, `Return-Path`) become evidence. Spammers forge
/// them, so by default they do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SenderDomains {
    /// Left out (the default).
    #[default]
    Ignore,
    /// Their registrable domains are added.
    Include,
}

/// What the intake believes and leaves out.
///
/// # Examples
///
/// ```
/// use rblkit::intake::{IntakeConfig, SenderDomains};
/// let c = IntakeConfig::default()
///     .trusted("192.0.2.0/24".parse()?)
///     .never_list("example.net".parse()?)
///     .sender_domains(SenderDomains::Include);
/// assert!(c.trusted_networks().contains("192.0.2.9".parse().unwrap()));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    trusted: TrustedNetworks,
    special: SpecialSources,
    never: Vec<Domain>,
    senders: SenderDomains,
    max_bytes: usize,
}

impl Default for IntakeConfig {
    fn default() -> IntakeConfig {
        IntakeConfig {
            trusted: TrustedNetworks::new(),
            special: SpecialSources::Skip,
            never: Vec::new(),
            senders: SenderDomains::Ignore,
            max_bytes: 32 << 20,
        }
    }
}

impl IntakeConfig {
    /// Sets the trusted networks.
    pub fn trusted(mut self, t: TrustedNetworks) -> IntakeConfig {
        self.trusted = t;
        self
    }

    /// The trusted networks.
    pub fn trusted_networks(&self) -> &TrustedNetworks {
        &self.trusted
    }

    /// Sets whether special-purpose addresses can be sources.
    pub fn special_sources(mut self, s: SpecialSources) -> IntakeConfig {
        self.special = s;
        self
    }

    /// Whether special-purpose addresses can be sources.
    pub fn special_sources_setting(&self) -> SpecialSources {
        self.special
    }

    /// A domain that, with the names below it, never becomes evidence (the operator's own,
    /// an allowlisted one).
    pub fn never_list(mut self, d: Domain) -> IntakeConfig {
        self.never.push(d);
        self
    }

    /// Sets whether sender domains become evidence.
    pub fn sender_domains(mut self, s: SenderDomains) -> IntakeConfig {
        self.senders = s;
        self
    }

    /// The largest message taken in (32 MiB by default).
    pub fn max_message_bytes(mut self, n: usize) -> IntakeConfig {
        self.max_bytes = n;
        self
    }

    fn never_listed(&self, d: &Domain) -> bool {
        self.never.iter().any(|n| d.is_within(n))
    }
}

/// What kind of evidence a message is.
///
/// # Examples
///
/// ```
/// use rblkit::intake::ReportKind;
/// assert_eq!(ReportKind::spam("user-1").event_name(), Some("spam_report"));
/// assert_eq!(ReportKind::Arf.event_name(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// A recipient (or their filter) reports spam: the message itself, or the original
    /// attached to it as `message/rfc822`.
    Spam {
        /// Who reports it.
        reporter: Box<str>,
    },
    /// A spamtrap received the message.
    Trap {
        /// Which trap (the envelope recipient, or a name).
        trap: Box<str>,
    },
    /// Release & train: a recipient released a wrongly caught message (itself, or attached).
    Ham {
        /// Who released it.
        reporter: Box<str>,
    },
    /// A feedback-loop report (RFC 5965); its feedback type says spam or ham.
    Arf,
}

impl ReportKind {
    /// A spam report by `reporter`.
    pub fn spam(reporter: &str) -> ReportKind {
        ReportKind::Spam {
            reporter: reporter.into(),
        }
    }

    /// A trap hit on `trap`.
    pub fn trap(trap: &str) -> ReportKind {
        ReportKind::Trap { trap: trap.into() }
    }

    /// A release by `reporter`.
    pub fn ham(reporter: &str) -> ReportKind {
        ReportKind::Ham {
            reporter: reporter.into(),
        }
    }

    /// The event this kind makes, when the kind alone says it.
    pub fn event_name(&self) -> Option<&'static str> {
        match self {
            ReportKind::Spam { .. } => Some("spam_report"),
            ReportKind::Trap { .. } => Some("trap_hit"),
            ReportKind::Ham { .. } => Some("ham_report"),
            ReportKind::Arf => None,
        }
    }
}

/// Something the intake wants the operator to know about one message.
///
/// # Examples
///
/// ```
/// use rblkit::intake::Note;
/// assert_eq!(Note::NoReceived.to_string(), "the message has no Received header: no source IP");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// No `Received` header at all.
    NoReceived,
    /// Every hop that recorded an address was trusted or special-purpose.
    AllHopsTrusted {
        /// How many hops recorded an address.
        with_address: usize,
    },
    /// The source came from the ARF report's `Source-IP`.
    SourceFromArf,
    /// The ARF report's `Source-IP` is special-purpose and was passed over.
    ArfSourceSpecial(IpAddr),
    /// The report carries no copy of the reported message; the report itself was read.
    NoAttachedMessage,
    /// The report carries only the header of the reported message: no body, no URLs.
    HeadersOnly,
    /// The message has no body.
    NoBody,
    /// Extraction stopped; what it found before stopping is kept.
    Extraction(crate::extract::ExtractError),
    /// A domain found is one that is never listed.
    NeverListed(Domain),
    /// This feedback type is not evidence of spam or ham.
    NotEvidence(FeedbackType),
    /// Nothing to list was found: no source, no domain.
    NothingFound,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::NoReceived => f.write_str("the message has no Received header: no source IP"),
            Note::AllHopsTrusted { with_address } => write!(
                f,
                "all {with_address} hops with an address are trusted or special-purpose: no source IP"
            ),
            Note::SourceFromArf => f.write_str("source IP from the report's Source-IP field"),
            Note::ArfSourceSpecial(ip) => write!(
                f,
                "the report's Source-IP {ip} is special-purpose; the Received chain decides"
            ),
            Note::NoAttachedMessage => {
                f.write_str("no attached message: the report itself was read")
            }
            Note::HeadersOnly => {
                f.write_str("only the header of the reported message: no body, no URLs")
            }
            Note::NoBody => f.write_str("the message has no body: no URLs"),
            Note::Extraction(e) => write!(f, "extraction stopped: {e}"),
            Note::NeverListed(d) => write!(f, "{d} is never listed: left out"),
            Note::NotEvidence(t) => write!(f, "feedback type {t} is not evidence: no events"),
            Note::NothingFound => f.write_str("nothing to list: no source IP and no domain"),
        }
    }
}

/// What one message became.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The source IP, when one was found.
    pub source: Option<IpAddr>,
    /// Which `Received` field (0 = topmost) recorded it; `None` when it came from ARF.
    pub source_hop: Option<usize>,
    /// The hops of the chain, topmost first.
    pub hops: Vec<Hop>,
    /// The registrable domains found, sorted, each once.
    pub domains: Vec<Domain>,
    /// The fingerprint of the (reported) message's body.
    pub fingerprint: String,
    /// The feedback report's fields, for ARF.
    pub feedback: Option<FeedbackReport>,
    /// The events, source IP first, then the domains.
    pub events: Vec<Event>,
    /// What the operator should know.
    pub notes: Vec<Note>,
}

/// Turns messages into evidence.
#[derive(Debug)]
pub struct Intake {
    config: IntakeConfig,
    extractor: Extractor,
}

/// How deep a forwarded report may nest the reported message.
const MAX_FORWARD_DEPTH: usize = 4;

impl Intake {
    /// An intake with the default extractor (embedded public suffix list).
    pub fn new(config: IntakeConfig) -> Intake {
        Intake::with_extractor(config, Extractor::new())
    }

    /// An intake with an extractor of the caller's (own suffix list, limits).
    pub fn with_extractor(config: IntakeConfig, extractor: Extractor) -> Intake {
        Intake { config, extractor }
    }

    /// The configuration.
    pub fn config(&self) -> &IntakeConfig {
        &self.config
    }

    /// Reads one message (`raw`, RFC 5322 with MIME) of `kind`, and makes the events, each
    /// at `now`.
    ///
    /// # Errors
    ///
    /// [`IntakeError::TooLarge`] over the size limit; [`IntakeError::EmptyId`] for an empty
    /// reporter or trap; [`IntakeError::Arf`] when `kind` is [`ReportKind::Arf`] and the
    /// message is not a feedback report; [`IntakeError::Header`] when the header block does
    /// not parse. Broken MIME in a body is a [`Note`], not an error.
    pub fn report(
        &self,
        raw: &[u8],
        kind: &ReportKind,
        now: Timestamp,
    ) -> Result<Report, IntakeError> {
        if raw.len() > self.config.max_bytes {
            return Err(IntakeError::TooLarge {
                len: raw.len(),
                max: self.config.max_bytes,
            });
        }
        let mut notes = Vec::new();
        let mut feedback = None;
        let mut headers_only = false;
        // The reported message, and the evidence each subject gets.
        let (original, evidence): (std::borrow::Cow<'_, [u8]>, Option<Evidence>) = match kind {
            ReportKind::Trap { trap } => {
                non_empty(trap, "trap")?;
                (raw.into(), Some(Evidence::TrapHit { trap: trap.clone() }))
            }
            ReportKind::Spam { reporter } | ReportKind::Ham { reporter } => {
                non_empty(reporter, "reporter")?;
                let original = match attached_message(raw) {
                    Some(m) => m.into(),
                    None => raw.into(),
                };
                let ev = if matches!(kind, ReportKind::Spam { .. }) {
                    Evidence::SpamReport {
                        reporter: reporter.clone(),
                        fingerprint: None,
                        weight: None,
                    }
                } else {
                    Evidence::HamReport {
                        reporter: reporter.clone(),
                    }
                };
                (original, Some(ev))
            }
            ReportKind::Arf => {
                let mail = mailparse::parse_mail(raw).map_err(|e| IntakeError::Arf {
                    what: truncate(&e.to_string()),
                })?;
                if !arf::is_feedback_report(&mail) {
                    return Err(IntakeError::Arf {
                        what: format!(
                            "Content-Type is {}, not multipart/report; report-type=feedback-report",
                            mail.ctype.mimetype
                        )
                        .into(),
                    });
                }
                let parts = arf::parts(&mail)?;
                let reporter = arf_reporter(&mail, &parts.report);
                let ev = match parts.report.feedback_type {
                    FeedbackType::NotSpam => Some(Evidence::HamReport { reporter }),
                    FeedbackType::AuthFailure | FeedbackType::Other(_) => {
                        notes.push(Note::NotEvidence(parts.report.feedback_type.clone()));
                        None
                    }
                    _ => Some(Evidence::SpamReport {
                        reporter,
                        fingerprint: None,
                        weight: parts
                            .report
                            .incidents
                            .filter(|&n| n > 1)
                            .map(|n| f64::from(n).min(crate::ledger::MAX_WEIGHT)),
                    }),
                };
                let original = match parts.original {
                    Some((bytes, how)) => {
                        headers_only = how == Original::HeadersOnly;
                        if headers_only {
                            notes.push(Note::HeadersOnly);
                        }
                        bytes.into()
                    }
                    None => {
                        notes.push(Note::NoAttachedMessage);
                        Vec::new().into()
                    }
                };
                feedback = Some(parts.report);
                (original, ev)
            }
        };

        let headers = header::Headers::parse(&original);
        let body = original.get(headers.body_at..).unwrap_or_default();

        // The source.
        let hops: Vec<Hop> = headers.all("Received").map(|v| Hop::parse(&v)).collect();
        let allow_special = self.config.special == SpecialSources::Allow;
        let mut source = None;
        let mut source_hop = None;
        if let Some(ip) = feedback.as_ref().and_then(|f| f.source_ip) {
            if allow_special || !is_special_purpose(ip) {
                source = Some(ip);
                notes.push(Note::SourceFromArf);
            } else {
                notes.push(Note::ArfSourceSpecial(ip));
            }
        }
        if source.is_none() {
            match find_source(&hops, &self.config.trusted, allow_special) {
                SourceSearch::Found { hop, ip } => {
                    source = Some(ip);
                    source_hop = Some(hop);
                }
                SourceSearch::NoReceived => notes.push(Note::NoReceived),
                SourceSearch::AllTrusted { with_address } => {
                    notes.push(Note::AllHopsTrusted { with_address })
                }
            }
        }

        // The domains: registrable domains as found (borrowed from the hits), each once.
        let mut hits = Vec::new();
        let mut extra: Vec<String> = Vec::new();
        if !original.is_empty() && !headers_only {
            if body.iter().all(u8::is_ascii_whitespace) {
                notes.push(Note::NoBody);
            } else if let Err(e) = self.extractor.extract_message(&original, &mut hits) {
                notes.push(Note::Extraction(e));
            }
        }
        let psl = self.extractor.suffix_list();
        if let Some(f) = &feedback {
            for d in &f.reported_domains {
                if let Ok(d) = Domain::new(d) {
                    if let Some(r) = psl.registrable_domain(d.as_str()) {
                        extra.push(r.to_owned());
                    }
                }
            }
            for u in &f.reported_uris {
                let mut uh = Vec::new();
                // A bad URI is left out; the report's other evidence stands.
                let _ = self.extractor.extract_text(u, &mut uh);
                extra.extend(
                    uh.iter()
                        .filter_map(|h| h.registrable_domain())
                        .map(str::to_owned),
                );
            }
        }
        if self.config.senders == SenderDomains::Include {
            for name in ["From", "Sender", "Return-Path"] {
                for v in headers.all(name) {
                    if let Some(d) = address_domain(&v) {
                        if let Some(r) = psl.registrable_domain(&d) {
                            extra.push(r.to_owned());
                        }
                    }
                }
            }
        }
        let mut names: Vec<&str> = hits
            .iter()
            .filter(|h| matches!(h.kind(), HitKind::Url | HitKind::Host))
            .filter_map(|h| h.registrable_domain())
            .chain(extra.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut domains = Vec::with_capacity(names.len());
        for n in names {
            let Ok(d) = Domain::new(n) else { continue };
            if self.config.never_listed(&d) {
                notes.push(Note::NeverListed(d));
            } else {
                domains.push(d);
            }
        }

        let fp = fingerprint(body);
        let mut events = Vec::new();
        if let Some(ev) = evidence {
            let ev = with_fingerprint(ev, &fp);
            if let Some(ip) = source {
                events.push(Event::new(now, Subject::Ip(ip), ev.clone()));
            }
            for d in &domains {
                events.push(Event::new(now, Subject::Domain(d.clone()), ev.clone()));
            }
        }
        if source.is_none() && domains.is_empty() {
            notes.push(Note::NothingFound);
        }
        Ok(Report {
            source,
            source_hop,
            hops,
            domains,
            fingerprint: fp,
            feedback,
            events,
            notes,
        })
    }
}

fn non_empty(id: &str, field: &'static str) -> Result<(), IntakeError> {
    if id.trim().is_empty() {
        return Err(IntakeError::EmptyId { field });
    }
    Ok(())
}

fn truncate(s: &str) -> Box<str> {
    s.chars().take(200).collect::<String>().into()
}

fn with_fingerprint(ev: Evidence, fp: &str) -> Evidence {
    match ev {
        Evidence::SpamReport {
            reporter, weight, ..
        } => Evidence::SpamReport {
            reporter,
            fingerprint: Some(fp.into()),
            weight,
        },
        other => other,
    }
}

/// The reported message attached to a forwarded report (the first `message/rfc822` part,
/// not deeper than [`MAX_FORWARD_DEPTH`]), when the report is multipart.
fn attached_message(raw: &[u8]) -> Option<Vec<u8>> {
    let headers = header::Headers::parse(raw);
    let ct = headers.all("Content-Type").next()?;
    if !ct
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/")
    {
        return None;
    }
    let mail = mailparse::parse_mail(raw).ok()?;
    find_rfc822(&mail, 0)
}

fn find_rfc822(p: &ParsedMail<'_>, depth: usize) -> Option<Vec<u8>> {
    if depth > MAX_FORWARD_DEPTH {
        return None;
    }
    for s in &p.subparts {
        let mt = s.ctype.mimetype.to_ascii_lowercase();
        if mt == "message/rfc822" || mt == "message/global" {
            return Some(crate::extract::body_bytes(s));
        }
        if let Some(m) = find_rfc822(s, depth + 1) {
            return Some(m);
        }
    }
    None
}

/// The reporting party of a feedback report: its `Reporting-MTA`, else the domain of its
/// `From`, else its `User-Agent`, else `arf`.
fn arf_reporter(mail: &ParsedMail<'_>, r: &FeedbackReport) -> Box<str> {
    if let Some(m) = &r.reporting_mta {
        return m.to_ascii_lowercase().into();
    }
    if let Some(d) = mail
        .headers
        .get_first_value("From")
        .and_then(|v| address_domain(&v))
    {
        return d.into();
    }
    if let Some(ua) = &r.user_agent {
        return ua.clone();
    }
    "arf".into()
}

/// The domain of the first address in an address header, normalised.
fn address_domain(v: &str) -> Option<String> {
    let list = mailparse::addrparse(v).ok()?;
    let addr = list.iter().find_map(|a| match a {
        mailparse::MailAddr::Single(s) => Some(s.addr.clone()),
        mailparse::MailAddr::Group(g) => g.addrs.first().map(|s| s.addr.clone()),
    })?;
    let (_, domain) = addr.rsplit_once('@')?;
    Domain::new(domain).ok().map(|d| d.as_str().to_owned())
}
