//! The pages: one layout, everything escaped, no inline script or style (the stylesheet is
//! `/style.css`).

use std::fmt::Write as _;

/// The stylesheet of every page.
pub(crate) const STYLE: &str = "\
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}\
header a{font-weight:600;text-decoration:none;color:#1b1b1b}\
h1{font-size:1.6rem;word-break:break-all}\
.status{display:inline-block;padding:.25rem .7rem;border-radius:.3rem;font-weight:600}\
.listed{background:#fde2e1;color:#8a1c13}.clean{background:#e1f5e4;color:#145a22}\
.excluded{background:#fff4d6;color:#6b4d00}.review{background:#e4ecfb;color:#1d3f7a}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}\
form{margin:1rem 0}label{display:block;margin:.6rem 0 .2rem;font-weight:600}\
input[type=text],input[type=email],select,textarea{width:100%;box-sizing:border-box;padding:.4rem;font:inherit}\
textarea{min-height:6rem}button{padding:.45rem 1rem;font:inherit;cursor:pointer}\
.notice{border-left:.3rem solid #c98a00;padding:.4rem .8rem;background:#fffaf0}\
.error{border-left:.3rem solid #b3261e;padding:.4rem .8rem;background:#fdf0ef}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;vertical-align:top}\
pre{background:#f5f5f5;padding:.8rem;overflow-x:auto;white-space:pre-wrap}\
footer{margin-top:3rem;color:#666;font-size:.85rem}\n";

/// Appends `s` with `& < > " '` escaped, for text and attribute values alike.
pub(crate) fn esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `s` escaped.
pub(crate) fn e(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    esc(&mut out, s);
    out
}

/// `s` for a query string (`application/x-www-form-urlencoded`).
pub(crate) fn url(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The whole page around `body` (already escaped markup).
pub(crate) fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 600);
    out.push_str(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
    );
    esc(&mut out, title);
    out.push_str(
        "</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body>\
         <header><a href=\"/\">Reputation list lookup</a></header><main>",
    );
    out.push_str(body);
    out.push_str(
        "</main><footer>Mirrors of the list may take a while to follow a change.</footer>\
         </body></html>\n",
    );
    out
}

/// The lookup form.
pub(crate) fn lookup_form(out: &mut String, value: &str) {
    let _ = write!(
        out,
        "<form method=\"get\" action=\"/lookup\"><label for=\"q\">IP address, network or domain</label>\
         <input type=\"text\" id=\"q\" name=\"q\" value=\"{}\" maxlength=\"320\" required> \
         <p><button type=\"submit\">Look up</button></p></form>",
        e(value)
    );
}

/// A hidden CSRF field.
pub(crate) fn csrf_field(out: &mut String, token: &str) {
    let _ = write!(
        out,
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        e(token)
    );
}

/// A duration in words (days, hours, minutes).
pub(crate) fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let unit = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    match (days, hours) {
        (0, 0) => unit(mins, "minute"),
        (0, h) => format!("{} {}", unit(h, "hour"), unit(mins, "minute")),
        (d, 0) => unit(d, "day"),
        (d, h) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::e("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
        assert_eq!(super::url("a b&c"), "a+b%26c");
    }
}
