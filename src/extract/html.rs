//! HTML: tags and attributes in one forward pass, entities decoded with a map back to the
//! source offsets, link text compared with the link target.

use super::scan::{scan, Ctx, Mode, Spans};
use super::{Flags, HitKind};

/// Attributes whose value is a URL.
const URL_ATTRS: &[&[u8]] = &[
    b"href",
    b"src",
    b"action",
    b"formaction",
    b"background",
    b"cite",
    b"data",
    b"poster",
    b"longdesc",
    b"usemap",
    b"codebase",
    b"srcset",
    b"data-src",
    b"data-href",
    b"data-url",
    b"ping",
];

/// Scratch buffers for entity decoding.
#[derive(Default)]
struct Scratch {
    text: String,
    map: Vec<usize>,
}

/// An open `<a>`: the index of its target hit and where its text's hits start.
struct Anchor {
    href: Option<usize>,
    text_from: usize,
}

pub(crate) fn scan_html(cx: &mut Ctx<'_>, html: &str) {
    let b = html.as_bytes();
    let n = b.len();
    let mut sc = Scratch::default();
    let mut anchor: Option<Anchor> = None;
    let mut i = 0;
    let mut text_from = 0;
    while i < n && !cx.stopped() {
        let Some(k) = memchr::memchr(b'<', &b[i..]) else {
            break;
        };
        let lt = i + k;
        let next = b.get(lt + 1).copied().unwrap_or(0);
        if b[lt..].starts_with(b"<!--") {
            text(cx, html, text_from, lt, Mode::Prose, &mut sc);
            let body = lt + 4;
            let end = memchr::memmem::find(&b[body..], b"-->").map_or(n, |e| body + e);
            text(cx, html, body, end, Mode::SchemeOnly, &mut sc);
            i = (end + 3).min(n);
            text_from = i;
            continue;
        }
        if next == b'!' || next == b'?' {
            text(cx, html, text_from, lt, Mode::Prose, &mut sc);
            i = memchr::memchr(b'>', &b[lt..]).map_or(n, |e| lt + e + 1);
            text_from = i;
            continue;
        }
        let closing = next == b'/';
        let name_start = lt + 1 + usize::from(closing);
        let name_len = b[name_start.min(n)..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b':')
            .count();
        if name_len == 0 || !b[name_start].is_ascii_alphabetic() {
            // Not a tag: a '<' in text.
            i = lt + 1;
            continue;
        }
        text(cx, html, text_from, lt, Mode::Prose, &mut sc);
        let name = &b[name_start..name_start + name_len];
        let mut lname = [0u8; 16];
        let ln = name.len().min(16);
        for (d, s) in lname.iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        let lname = &lname[..ln];
        if closing {
            if lname == b"a" {
                close_anchor(cx, anchor.take());
            }
            i = memchr::memchr(b'>', &b[lt..]).map_or(n, |e| lt + e + 1);
            text_from = i;
            continue;
        }
        if lname == b"a" {
            close_anchor(cx, anchor.take());
        }
        let before = cx.out.len();
        let (end, href_at) = attributes(cx, html, name_start + name_len, lname, &mut sc);
        i = end;
        text_from = i;
        if lname == b"a" {
            let href = href_at.and_then(|from| {
                (from.max(before)..cx.out.len()).find(|&h| cx.out[h].kind() != HitKind::Email)
            });
            anchor = Some(Anchor {
                href,
                text_from: cx.out.len(),
            });
        }
        if lname == b"script" || lname == b"style" || lname == b"textarea" || lname == b"title" {
            // Raw text up to the end tag.
            let close: &[u8] = match lname {
                b"script" => b"</script",
                b"style" => b"</style",
                b"textarea" => b"</textarea",
                _ => b"</title",
            };
            let end = find_ci(&b[i..], close).map_or(n, |e| i + e);
            let mode = if lname == b"title" || lname == b"textarea" {
                Mode::Prose
            } else {
                Mode::SchemeOnly
            };
            text(cx, html, i, end, mode, &mut sc);
            i = end;
            text_from = i;
        }
    }
    text(cx, html, text_from, n, Mode::Prose, &mut sc);
    close_anchor(cx, anchor.take());
}

/// Case-insensitive search for an ASCII needle.
fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(k) = memchr::memchr(first, &hay[from..]) {
        let p = from + k;
        if hay.len() - p >= needle.len() && hay[p..p + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(p);
        }
        from = p + 1;
    }
    None
}

/// Reads the attributes of a start tag from `i` to its `>`; scans URL attributes. Returns
/// the offset after the tag and, when an `href` was scanned, the hit count before it.
fn attributes(
    cx: &mut Ctx<'_>,
    html: &str,
    mut i: usize,
    tag: &[u8],
    sc: &mut Scratch,
) -> (usize, Option<usize>) {
    let b = html.as_bytes();
    let n = b.len();
    let mut href_at = None;
    loop {
        while i < n && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= n {
            return (n, href_at);
        }
        if b[i] == b'>' {
            return (i + 1, href_at);
        }
        let ns = i;
        while i < n && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = &b[ns..i];
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n || b[i] != b'=' {
            continue;
        }
        i += 1;
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return (n, href_at);
        }
        let (vs, ve, next) = match b[i] {
            q @ (b'"' | b'\'') => {
                let vs = i + 1;
                let ve = memchr::memchr(q, &b[vs..]).map_or(n, |e| vs + e);
                (vs, ve, (ve + 1).min(n))
            }
            _ => {
                let vs = i;
                let mut ve = i;
                while ve < n && !b[ve].is_ascii_whitespace() && b[ve] != b'>' {
                    ve += 1;
                }
                (vs, ve, ve)
            }
        };
        i = next;
        if !html.is_char_boundary(vs) || !html.is_char_boundary(ve) {
            continue;
        }
        let is_url = URL_ATTRS.iter().any(|a| a.eq_ignore_ascii_case(name));
        if is_url {
            if name.eq_ignore_ascii_case(b"href") && tag == b"a" {
                href_at = Some(cx.out.len());
            }
            attr_url(cx, html, vs, ve, sc);
        } else if name.eq_ignore_ascii_case(b"content") && tag == b"meta" {
            text(cx, html, vs, ve, Mode::Prose, sc);
        } else if super::host::contains(&b[vs..ve], b"//") {
            text(cx, html, vs, ve, Mode::SchemeOnly, sc);
        }
        if cx.stopped() {
            return (n, href_at);
        }
    }
}

/// A URL attribute: entities decoded, protocol-relative `//host` read as `http://host`.
fn attr_url(cx: &mut Ctx<'_>, html: &str, vs: usize, ve: usize, sc: &mut Scratch) {
    let v = html[vs..ve].trim_start();
    let vs = ve - v.len();
    let v = v.trim_end();
    if v.is_empty() {
        return;
    }
    let ve = vs + v.len();
    if v.starts_with("//") || v.contains('&') {
        sc.text.clear();
        sc.map.clear();
        if v.starts_with("//") {
            sc.text.push_str("http:");
            sc.map.extend(std::iter::repeat_n(vs, 5));
        }
        decode_entities(html, vs, ve, sc);
        let t = std::mem::take(&mut sc.text);
        let m = std::mem::take(&mut sc.map);
        scan(cx, &t, Spans::Map(&m), Mode::Prose, 0);
        sc.text = t;
        sc.map = m;
    } else {
        scan(cx, v, Spans::Offset(vs), Mode::Prose, 0);
    }
}

/// Text between tags.
fn text(cx: &mut Ctx<'_>, html: &str, s: usize, e: usize, mode: Mode, sc: &mut Scratch) {
    if s >= e || cx.stopped() {
        return;
    }
    let t = &html[s..e];
    if memchr::memchr(b'&', t.as_bytes()).is_none() {
        scan(cx, t, Spans::Offset(s), mode, 0);
        return;
    }
    sc.text.clear();
    sc.map.clear();
    decode_entities(html, s, e, sc);
    let tx = std::mem::take(&mut sc.text);
    let m = std::mem::take(&mut sc.map);
    scan(cx, &tx, Spans::Map(&m), mode, 0);
    sc.text = tx;
    sc.map = m;
}

const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("period", '.'),
    ("colon", ':'),
    ("sol", '/'),
    ("commat", '@'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("quest", '?'),
    ("equals", '='),
    ("percnt", '%'),
    ("num", '#'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("shy", '\u{AD}'),
    ("ZeroWidthSpace", '\u{200B}'),
    ("zwj", '\u{200D}'),
    ("zwnj", '\u{200C}'),
];

/// Appends `html[s..e]` with character references decoded to the scratch text, recording
/// for each byte the source offset it came from.
fn decode_entities(html: &str, s: usize, e: usize, sc: &mut Scratch) {
    let b = html.as_bytes();
    let mut i = s;
    while i < e {
        let Some(k) = memchr::memchr(b'&', &b[i..e]) else {
            push_src(sc, html, i, e);
            return;
        };
        let amp = i + k;
        push_src(sc, html, i, amp);
        let (ch, len) = entity(&b[amp + 1..e]);
        match ch {
            Some(c) => {
                let before = sc.text.len();
                sc.text.push(c);
                sc.map
                    .extend(std::iter::repeat_n(amp, sc.text.len() - before));
                i = amp + 1 + len;
            }
            None => {
                sc.text.push('&');
                sc.map.push(amp);
                i = amp + 1;
            }
        }
    }
}

fn push_src(sc: &mut Scratch, html: &str, s: usize, e: usize) {
    sc.text.push_str(&html[s..e]);
    sc.map.extend(s..e);
}

/// The character a reference after `&` stands for, and the bytes it takes (with the `;`).
fn entity(b: &[u8]) -> (Option<char>, usize) {
    if b.first() == Some(&b'#') {
        let (hex, start) = match b.get(1) {
            Some(b'x' | b'X') => (true, 2),
            _ => (false, 1),
        };
        let digits = b[start.min(b.len())..]
            .iter()
            .take(8)
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return (None, 0);
        }
        let text = std::str::from_utf8(&b[start..start + digits]).unwrap_or("0");
        let v = u32::from_str_radix(text, if hex { 16 } else { 10 }).unwrap_or(0xFFFD);
        let c = char::from_u32(v)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}');
        let mut len = start + digits;
        if b.get(len) == Some(&b';') {
            len += 1;
        }
        return (Some(c), len);
    }
    let name_len = b
        .iter()
        .take(16)
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    let name = &b[..name_len];
    for &(n, c) in ENTITIES {
        if n.as_bytes() == name {
            let mut len = name_len;
            if b.get(len) == Some(&b';') {
                len += 1;
            }
            return (Some(c), len);
        }
    }
    (None, 0)
}

/// At `</a>`: flags the link when its text names another domain.
fn close_anchor(cx: &mut Ctx<'_>, a: Option<Anchor>) {
    let Some(a) = a else {
        return;
    };
    let Some(h) = a.href else {
        return;
    };
    if h >= cx.out.len() {
        return;
    }
    fn key(hit: &super::Hit) -> &str {
        hit.registrable_domain().unwrap_or(hit.host())
    }
    let mut phish = false;
    for t in a.text_from..cx.out.len() {
        if cx.out[t].kind() == HitKind::Email || key(&cx.out[t]) == key(&cx.out[h]) {
            continue;
        }
        cx.out[t].flags |= Flags::PHISHING;
        phish = true;
    }
    if phish {
        cx.out[h].flags |= Flags::PHISHING;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(entity(b"amp;x"), (Some('&'), 4));
        assert_eq!(entity(b"#46;"), (Some('.'), 4));
        assert_eq!(entity(b"#x2E"), (Some('.'), 4));
        assert_eq!(entity(b"#0;"), (Some('\u{FFFD}'), 3));
        assert_eq!(entity(b"#xD800;"), (Some('\u{FFFD}'), 7));
        assert_eq!(entity(b"bogus;"), (None, 0));
        assert_eq!(entity(b"#;"), (None, 0));
        let mut sc = Scratch::default();
        let h = "a&amp;b&#46;c";
        decode_entities(h, 0, h.len(), &mut sc);
        assert_eq!(sc.text, "a&b.c");
        assert_eq!(sc.map, [0, 1, 6, 7, 12]);
    }

    #[test]
    fn find_ci_works() {
        assert_eq!(find_ci(b"x</SCRIPT>", b"</script"), Some(1));
        assert_eq!(find_ci(b"x</scrip", b"</script"), None);
    }
}
