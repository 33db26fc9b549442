//! Whole messages: MIME structure by `mailparse`, every text part decoded and scanned.

use super::html::scan_html;
use super::scan::{scan, Ctx, Mode, Spans};
use super::ExtractError;
use mailparse::{MailHeaderMap, ParsedMail};

pub(crate) fn scan_message(cx: &mut Ctx<'_>, raw: &[u8]) -> Result<(), ExtractError> {
    let mut part_no = 0;
    message(cx, raw, 0, &mut part_no)
}

fn message(
    cx: &mut Ctx<'_>,
    raw: &[u8],
    depth: usize,
    part_no: &mut usize,
) -> Result<(), ExtractError> {
    if depth >= cx.ex.max_mime_depth {
        return Err(ExtractError::TooDeep {
            max: cx.ex.max_mime_depth,
        });
    }
    let mail = mailparse::parse_mail(raw).map_err(|e| ExtractError::Mime {
        part: *part_no,
        what: mime_error(&e),
    })?;
    if let Some(subject) = mail.headers.get_first_value("Subject") {
        cx.part = *part_no;
        scan(cx, &subject, Spans::Offset(0), Mode::Prose, 0);
    }
    walk(cx, &mail, depth, part_no)
}

fn mime_error(e: &mailparse::MailParseError) -> Box<str> {
    let s = e.to_string();
    s.chars().take(200).collect::<String>().into()
}

fn walk(
    cx: &mut Ctx<'_>,
    p: &ParsedMail<'_>,
    depth: usize,
    part_no: &mut usize,
) -> Result<(), ExtractError> {
    if depth >= cx.ex.max_mime_depth {
        return Err(ExtractError::TooDeep {
            max: cx.ex.max_mime_depth,
        });
    }
    let this = *part_no;
    *part_no += 1;
    if *part_no > cx.ex.max_mime_parts {
        return Err(ExtractError::TooManyParts {
            max: cx.ex.max_mime_parts,
        });
    }
    if cx.stopped() {
        return Ok(());
    }
    if !p.subparts.is_empty() {
        for s in &p.subparts {
            walk(cx, s, depth + 1, part_no)?;
        }
        return Ok(());
    }
    let mt = p.ctype.mimetype.to_ascii_lowercase();
    if mt == "message/rfc822" || mt == "message/global" {
        let body = body_bytes(p);
        return message(cx, &body, depth + 1, part_no);
    }
    if !(mt.starts_with("text/") || mt.starts_with("multipart/")) {
        return Ok(());
    }
    let body = match p.get_body() {
        Ok(b) => b,
        // A body the transfer encoding or charset refuses is still read, as it stands.
        Err(_) => String::from_utf8_lossy(&p.get_body_encoded_raw()).into_owned(),
    };
    cx.part = this;
    if mt == "text/html" {
        scan_html(cx, &body);
    } else {
        scan(cx, &body, Spans::Offset(0), Mode::Prose, 0);
    }
    Ok(())
}

/// A part's body with its transfer encoding undone, or as it stands when the encoding is
/// broken.
pub(crate) fn body_bytes(p: &ParsedMail<'_>) -> Vec<u8> {
    p.get_body_raw()
        .unwrap_or_else(|_| p.get_body_encoded_raw())
}

trait RawBody {
    fn get_body_encoded_raw(&self) -> Vec<u8>;
}

impl RawBody for ParsedMail<'_> {
    fn get_body_encoded_raw(&self) -> Vec<u8> {
        match self.get_body_encoded() {
            mailparse::body::Body::Base64(b) | mailparse::body::Body::QuotedPrintable(b) => {
                b.get_raw().to_vec()
            }
            mailparse::body::Body::SevenBit(b) | mailparse::body::Body::EightBit(b) => {
                b.get_raw().to_vec()
            }
            mailparse::body::Body::Binary(b) => b.get_raw().to_vec(),
        }
    }
}
