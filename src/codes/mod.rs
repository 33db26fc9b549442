//! Return codes: the `127.0.0.x` answers of DNS lists and what they mean.
//!
//! - [`ReturnCode`]: one A record of an answer, as an open newtype.
//! - [`Reason`] and [`ReasonSet`]: why a subject is listed, the taxonomy that policies list
//!   by and that codes say.
//! - [`CodeScheme`]: which codes say which reasons — a single code, one code per reason, or
//!   a bitmask — to [encode](CodeScheme::encode) a listing and to
//!   [decode](CodeScheme::decode_answer) another list's answer into a [`Verdict`].
//! - [`known`]: the schemes of well-known public lists.
//! - [`expand_txt`]: TXT templates with rbldnsd's `$` substitution.
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
mod reason;
mod return_code;
mod scheme;

pub use error::CodesError;
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
