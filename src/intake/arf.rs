//! Feedback-loop reports in the Abuse Reporting Format (RFC 5965, RFC 6650): a
//! `multipart/report; report-type=feedback-report` message whose second part, of type
//! `message/feedback-report`, holds header-style fields, and whose third part is the reported
//! message (`message/rfc822`) or its header only (`text/rfc822-headers`).

use super::received::parse_hop_address;
use super::IntakeError;
use mailparse::{MailHeaderMap, ParsedMail};
use std::net::IpAddr;

/// The kind of feedback (RFC 5965 section 7.3, RFC 6650's `not-spam`).
///
/// # Examples
///
/// ```
/// use rblkit::intake::FeedbackType;
/// assert_eq!("Not-Spam".parse::<FeedbackType>().unwrap(), FeedbackType::NotSpam);
/// assert_eq!(FeedbackType::Abuse.to_string(), "abuse");
/// assert_eq!("x-new".parse::<FeedbackType>().unwrap().to_string(), "x-new");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedbackType {
    /// Unsolicited mail or some other kind of abuse.
    Abuse,
    /// A report of fraud or phishing.
    Fraud,
    /// A virus was found in the message.
    Virus,
    /// The message was wrongly taken for spam.
    NotSpam,
    /// An authentication failure (RFC 6591); not evidence of spam.
    AuthFailure,
    /// Any other kind, lowercased as registered or sent.
    Other(Box<str>),
}

impl std::str::FromStr for FeedbackType {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<FeedbackType, Self::Err> {
        let l = s.trim().to_ascii_lowercase();
        Ok(match l.as_str() {
            "abuse" => FeedbackType::Abuse,
            "fraud" => FeedbackType::Fraud,
            "virus" => FeedbackType::Virus,
            "not-spam" => FeedbackType::NotSpam,
            "auth-failure" => FeedbackType::AuthFailure,
            _ => FeedbackType::Other(l.into()),
        })
    }
}

impl std::fmt::Display for FeedbackType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FeedbackType::Abuse => "abuse",
            FeedbackType::Fraud => "fraud",
            FeedbackType::Virus => "virus",
            FeedbackType::NotSpam => "not-spam",
            FeedbackType::AuthFailure => "auth-failure",
            FeedbackType::Other(s) => s,
        })
    }
}

/// The machine-readable part of a feedback report.
///
/// # Examples
///
/// ```
/// use rblkit::intake::{FeedbackReport, FeedbackType};
/// let r = FeedbackReport::parse_fields(b"Feedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\nSource-IP: 203.0.113.7\r\nReporting-MTA: dns; fbl.mailbox.example\r\nIncidents: 3\r\n")?;
/// assert_eq!(r.feedback_type, FeedbackType::Abuse);
/// assert_eq!(r.source_ip, Some("203.0.113.7".parse().unwrap()));
/// assert_eq!(r.reporting_mta.as_deref(), Some("fbl.mailbox.example"));
/// assert_eq!(r.incidents, Some(3));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FeedbackReport {
    /// `Feedback-Type`.
    pub feedback_type: FeedbackType,
    /// `User-Agent`.
    pub user_agent: Option<Box<str>>,
    /// `Source-IP`, when it holds an address.
    pub source_ip: Option<IpAddr>,
    /// `Reporting-MTA`, without its `dns;` type.
    pub reporting_mta: Option<Box<str>>,
    /// `Original-Mail-From`.
    pub original_mail_from: Option<Box<str>>,
    /// `Original-Rcpt-To` (all of them).
    pub original_rcpt_to: Vec<Box<str>>,
    /// `Reported-Domain` (all of them).
    pub reported_domains: Vec<Box<str>>,
    /// `Reported-URI` (all of them).
    pub reported_uris: Vec<Box<str>>,
    /// `Incidents`: how many times the reporter saw it.
    pub incidents: Option<u32>,
}

impl FeedbackReport {
    /// Reads the fields of a `message/feedback-report` part.
    ///
    /// # Errors
    ///
    /// [`IntakeError::Arf`] when the fields do not parse or `Feedback-Type` is missing.
    pub fn parse_fields(body: &[u8]) -> Result<FeedbackReport, IntakeError> {
        let (headers, _) = mailparse::parse_headers(body).map_err(|e| IntakeError::Arf {
            what: format!("feedback fields: {e}").chars().take(200).collect(),
        })?;
        let Some(ft) = headers.get_first_value("Feedback-Type") else {
            return Err(IntakeError::Arf {
                what: "no Feedback-Type field".into(),
            });
        };
        let all = |name: &str| -> Vec<Box<str>> {
            headers
                .get_all_values(name)
                .into_iter()
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().into())
                .collect()
        };
        let first = |name: &str| -> Option<Box<str>> {
            headers
                .get_first_value(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().into())
        };
        Ok(FeedbackReport {
            feedback_type: ft.parse().unwrap_or(FeedbackType::Abuse),
            user_agent: first("User-Agent"),
            source_ip: first("Source-IP").and_then(|v| parse_hop_address(&v)),
            reporting_mta: first("Reporting-MTA").map(|v| strip_type(&v).into()),
            original_mail_from: first("Original-Mail-From"),
            original_rcpt_to: all("Original-Rcpt-To"),
            reported_domains: all("Reported-Domain"),
            reported_uris: all("Reported-URI"),
            incidents: first("Incidents").and_then(|v| v.parse().ok()),
        })
    }
}

/// `dns; name` → `name`.
fn strip_type(v: &str) -> &str {
    match v.split_once(';') {
        Some((_, name)) => name.trim(),
        None => v.trim(),
    }
}

/// Whether a parsed message is a feedback report (`multipart/report` with
/// `report-type=feedback-report`).
pub(crate) fn is_feedback_report(mail: &ParsedMail<'_>) -> bool {
    mail.ctype.mimetype.eq_ignore_ascii_case("multipart/report")
        && mail
            .ctype
            .params
            .get("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("feedback-report"))
}

/// The parts of a feedback report: the fields, and the reported message (whole, or its
/// header only).
pub(crate) struct ArfParts {
    pub(crate) report: FeedbackReport,
    pub(crate) original: Option<(Vec<u8>, Original)>,
}

/// What a report carries of the reported message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Original {
    Message,
    HeadersOnly,
}

pub(crate) fn parts(mail: &ParsedMail<'_>) -> Result<ArfParts, IntakeError> {
    let mut report = None;
    let mut original = None;
    for p in &mail.subparts {
        let mt = p.ctype.mimetype.to_ascii_lowercase();
        match mt.as_str() {
            "message/feedback-report" if report.is_none() => {
                let body = crate::extract::body_bytes(p);
                report = Some(FeedbackReport::parse_fields(&body)?);
            }
            "message/rfc822" | "message/global" if original.is_none() => {
                let body = crate::extract::body_bytes(p);
                original = Some((body, Original::Message));
            }
            "text/rfc822-headers" | "message/global-headers" if original.is_none() => {
                let body = crate::extract::body_bytes(p);
                original = Some((body, Original::HeadersOnly));
            }
            _ => {}
        }
    }
    let report = report.ok_or_else(|| IntakeError::Arf {
        what: "no message/feedback-report part".into(),
    })?;
    Ok(ArfParts { report, original })
}
