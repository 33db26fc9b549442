//! Strict reading of queries, forms and JSON bodies into checked values; every refusal
//! names its field.

use crate::ledger::DisputeReason;
use crate::subject::Subject;
use serde_json::{Map, Value};

/// Bad input: what is wrong, and which field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad {
    pub(crate) field: &'static str,
    pub(crate) error: String,
}

pub(crate) fn bad(field: &'static str, error: impl Into<String>) -> Bad {
    Bad {
        field,
        error: error.into(),
    }
}

/// The longest subject text taken (an email address: 254; a domain: 253).
const MAX_SUBJECT: usize = 320;

/// Name/value pairs of a query string or form body; a name given twice is refused.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn parse(raw: &[u8], known: &[&'static str]) -> Result<Fields, Bad> {
        let mut v: Vec<(String, String)> = Vec::new();
        for (k, val) in form_urlencoded::parse(raw) {
            let Some(name) = known.iter().find(|n| **n == k) else {
                return Err(bad(
                    "query",
                    format!("unknown field {:?}", truncate(&k, 40)),
                ));
            };
            if v.iter().any(|(n, _)| n == name) {
                return Err(bad(name, "given twice"));
            }
            v.push(((*name).into(), val.into_owned()));
        }
        Ok(Fields(v))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The fields of a JSON object body; unknown fields are refused.
pub(crate) fn json_object(body: &[u8], known: &[&'static str]) -> Result<Map<String, Value>, Bad> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        bad(
            "body",
            format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
        )
    })?;
    let Value::Object(m) = v else {
        return Err(bad("body", "not a JSON object"));
    };
    if let Some(k) = m.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad("body", format!("unknown field {:?}", truncate(k, 40))));
    }
    Ok(m)
}

/// A string field of a JSON object (`None` when absent or null).
pub(crate) fn json_str<'a>(
    m: &'a Map<String, Value>,
    field: &'static str,
) -> Result<Option<&'a str>, Bad> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(field, "must be a string")),
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The subject of a query string's only field, `q`.
pub(crate) fn query_subject(q: Option<&str>) -> Result<Subject, Bad> {
    let f = Fields::parse(q.unwrap_or("").as_bytes(), &["q"])?;
    subject("q", f.get("q"))
}

/// A subject: an IP address, network, domain or email address.
pub(crate) fn subject(field: &'static str, s: Option<&str>) -> Result<Subject, Bad> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(bad(field, "missing: give an IP address, network or domain"));
    }
    if s.len() > MAX_SUBJECT {
        return Err(bad(field, format!("longer than {MAX_SUBJECT} bytes")));
    }
    s.parse::<Subject>().map_err(|e| {
        bad(
            field,
            format!("not an IP address, network, domain or email address: {e}"),
        )
    })
}

/// Free text of at most `max` characters: no control characters but tabs and line breaks
/// (and those only when `lines`).
pub(crate) fn text(
    field: &'static str,
    s: Option<&str>,
    max: usize,
    required: bool,
    lines: bool,
) -> Result<Option<String>, Bad> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return if required {
            Err(bad(field, "missing"))
        } else {
            Ok(None)
        };
    }
    if s.chars().count() > max {
        return Err(bad(field, format!("longer than {max} characters")));
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() && !(lines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(bad(
            field,
            format!("contains the control character U+{:04X}", u32::from(c)),
        ));
    }
    Ok(Some(s.replace("\r\n", "\n")))
}

/// The reason of a removal request.
pub(crate) fn dispute_reason(s: Option<&str>) -> Result<DisputeReason, Bad> {
    match s.map(str::trim) {
        None | Some("") => Err(bad("reason", "missing: technical_error or user_error")),
        Some(r) => DisputeReason::from_name(r)
            .ok_or_else(|| bad("reason", "must be technical_error or user_error")),
    }
}

/// A contact address: an email address.
pub(crate) fn contact(s: Option<&str>) -> Result<String, Bad> {
    let s = s.map(str::trim).unwrap_or("");
    if s.is_empty() {
        return Err(bad("contact", "missing: an email address to answer to"));
    }
    if s.len() > 254 {
        return Err(bad("contact", "longer than 254 bytes"));
    }
    match s.parse::<Subject>() {
        Ok(Subject::Email(_)) => Ok(s.to_owned()),
        _ => Err(bad("contact", "not an email address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_strict() {
        assert!(Fields::parse(b"q=192.0.2.1", &["q"]).is_ok());
        assert_eq!(Fields::parse(b"q=1&q=2", &["q"]).err().unwrap().field, "q");
        assert_eq!(Fields::parse(b"x=1", &["q"]).err().unwrap().field, "query");
        assert_eq!(subject("q", Some("300.1.2.3")).unwrap_err().field, "q");
        assert!(subject("q", Some(" 192.0.2.1 ")).is_ok());
        assert_eq!(contact(Some("not mail")).unwrap_err().field, "contact");
        assert!(contact(Some("noc@example.net")).is_ok());
        assert!(text("text", Some("a\u{7}b"), 10, false, true).is_err());
        assert_eq!(
            text("text", Some("a\r\nb"), 10, false, true)
                .unwrap()
                .unwrap(),
            "a\nb"
        );
        assert!(json_object(b"[1]", &["subject"]).is_err());
        assert!(json_object(br#"{"subject":"x","evil":1}"#, &["subject"]).is_err());
    }
}
