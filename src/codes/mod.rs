//! Return codes: the `127.0.0.x` answers of DNS lists and what they mean.
//!
//! - [`ReturnCode`]: one A record of an answer, as an open newtype.
//! - [`Reason`] and [`ReasonSet`]: why a subject is listed, the taxonomy that policies list
//!   by and that codes say.
//! - [`CodeScheme`]: which codes say which reasons — a single code, one code per reason, or
//!   a bitmask — to [encode](CodeScheme::encode) a listing and to
//!   [decode](CodeScheme::decode_answer) another list's answer into a [`Verdict`].
//! - [`known`]: the schemes of well-known public lists; [`OWN_IP`] and [`OWN_DOMAIN`]: the
//!   default codes of our own lists.
//! - [`test_points`]: RFC 5782's test entries, and a check of a list's answers for them.
//! - [`expand_txt`]: TXT templates with rbldnsd's `$` substitution; [`txt_strings`]: the
//!   DNS character-strings of an expanded text.
//!
//! # TXT length
//!
//! A character-string in a TXT record holds at most 255 octets ([`TXT_STRING_MAX`]). An
//! expanded text longer than that is not cut, as rbldnsd cuts it: [`txt_strings`] splits it
//! into several character-strings of one record, at character boundaries, and resolvers and
//! mail servers join them, as RFC 7208 has them do for SPF. The DNS answer as a whole is
//! bounded by the message size, which the server enforces.
//!
//! # Examples
//!
//! ```
//! use rblkit::codes::{known, CodeScheme, Reason, ReasonSet, ReturnCode, Verdict};
//!
//! // Our list: one code per reason, text form as a config file would hold it.
//! let ours: CodeScheme = "per-reason fallback=127.0.0.2 127.0.0.2=spam_source,spam_trap \
//!                         127.0.0.4=exploited 127.0.0.10=dynamic".parse()?;
//! let codes = ours.encode(ReasonSet::of(&[Reason::SpamTrap, Reason::Dynamic]));
//! assert_eq!(codes, [ReturnCode::new_assert(127, 0, 0, 2), ReturnCode::new_assert(127, 0, 0, 10)]);
//!
//! // Another list's answer.
//! let surbl = known::for_zone("multi.surbl.org").unwrap().scheme;
//! let v = surbl.decode_answer(&[ReturnCode::new_assert(127, 0, 0, 72)]);
//! assert_eq!(v, Verdict::Listed { reasons: ReasonSet::of(&[Reason::SpamDomain, Reason::Phishing]), unknown: false });
//! # Ok::<(), rblkit::Error>(())
//! ```

mod error;
pub mod known;
mod own;
mod reason;
mod return_code;
mod scheme;
pub mod test_points;

pub use error::CodesError;
pub use own::{OWN_DOMAIN, OWN_IP};
pub use reason::{Reason, ReasonIter, ReasonSet};
pub use return_code::ReturnCode;
pub use scheme::{CodeLayout, CodeMeaning, CodeScheme, CodeSchemeBuilder, ListError, Verdict};

/// Expands a TXT template as rbldnsd does: each `$` is replaced by `subject` (the queried
/// address, or for domain lists the listed name) and `$$` stands for a single `$`.
///
/// # Examples
///
/// ```
/// let mut out = String::new();
/// rblkit::codes::expand_txt("see https://bl.example/?$ (cost: $$5)", "192.0.2.1", &mut out);
/// assert_eq!(out, "see https://bl.example/?192.0.2.1 (cost: $5)");
/// ```
pub fn expand_txt(template: &str, subject: &str, out: &mut String) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        if rest[i + 1..].starts_with('$') {
            out.push('$');
            rest = &rest[i + 2..];
        } else {
            out.push_str(subject);
            rest = &rest[i + 1..];
        }
    }
    out.push_str(rest);
}

/// The most octets a character-string of a TXT record holds (RFC 1035, 3.3.14).
pub const TXT_STRING_MAX: usize = 255;

/// Splits an expanded TXT text into the character-strings of one TXT record: pieces of at
/// most [`TXT_STRING_MAX`] octets, cut at character boundaries, joined again by whoever
/// reads the record. An empty text is one empty string.
///
/// # Examples
///
/// ```
/// use rblkit::codes::{txt_strings, TXT_STRING_MAX};
/// assert_eq!(txt_strings("listed").collect::<Vec<_>>(), ["listed"]);
/// let long = "é".repeat(200); // 400 octets
/// let parts: Vec<&str> = txt_strings(&long).collect();
/// assert_eq!(parts.len(), 2);
/// assert!(parts.iter().all(|p| p.len() <= TXT_STRING_MAX));
/// assert_eq!(parts.concat(), long);
/// assert_eq!(txt_strings("").count(), 1);
/// ```
pub fn txt_strings(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        if r.len() <= TXT_STRING_MAX {
            rest = None;
            return Some(r);
        }
        let mut cut = TXT_STRING_MAX;
        while !r.is_char_boundary(cut) {
            cut -= 1;
        }
        rest = Some(&r[cut..]);
        Some(&r[..cut])
    })
}
