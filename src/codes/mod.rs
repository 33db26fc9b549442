//! Return codes: the `127.0.0.x` answers of DNS lists and what they mean.

mod error;
mod return_code;

pub use error::CodesError;
pub use return_code::ReturnCode;

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
