//! Table-driven extraction cases (`tests/data/extract/cases.tsv`), MIME fixtures, HTML and
//! property tests.

use proptest::prelude::*;
use rblkit::extract::{ExtractError, Extractor, Flags, Format, Hit, HitKind, SuffixList};

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.peek().copied() {
            Some('t') => {
                it.next();
                out.push('\t');
            }
            Some('n') => {
                it.next();
                out.push('\n');
            }
            Some('u') => {
                it.next();
                assert_eq!(it.next(), Some('{'));
                let hex: String = it.by_ref().take_while(|&c| c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            _ => out.push('\\'),
        }
    }
    out
}

fn flag(name: &str) -> Flags {
    [
        Flags::OBFUSCATED,
        Flags::IDN,
        Flags::NUMERIC_IP,
        Flags::USERINFO,
        Flags::UNUSUAL_CHARS,
        Flags::REDIRECTED,
        Flags::PHISHING,
        Flags::NO_SCHEME,
    ]
    .into_iter()
    .find(|f| f.names().next() == Some(name))
    .unwrap_or_else(|| panic!("unknown flag {name}"))
}

fn describe(hits: &[Hit]) -> String {
    hits.iter()
        .map(|h| {
            format!(
                "{} {} reg={:?} url={:?} email={:?} [{}]",
                h.kind(),
                h.host(),
                h.registrable_domain(),
                h.url(),
                h.email(),
                h.flags()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Checks one row; returns what failed.
fn check_row(ex: &Extractor, input: &str, expect: &str) -> Vec<String> {
    let mut hits = Vec::new();
    ex.extract_text(input, &mut hits).unwrap();
    let mut fails = Vec::new();
    for h in &hits {
        assert!(h.span().end <= input.len() && h.span().start <= h.span().end);
    }
    for e in expect.split_whitespace() {
        let ok = if e == "!*" {
            hits.is_empty()
        } else if let Some(n) = e.strip_prefix('=') {
            hits.len() == n.parse::<usize>().unwrap()
        } else if let Some(f) = e.strip_prefix("!flag:") {
            !hits.iter().any(|h| h.flags().contains(flag(f)))
        } else if let Some(f) = e.strip_prefix("flag:") {
            hits.iter().any(|h| h.flags().contains(flag(f)))
        } else if let Some(k) = e.strip_prefix("!kind:") {
            !hits.iter().any(|h| h.kind().as_str() == k)
        } else if let Some(k) = e.strip_prefix("kind:") {
            hits.iter().any(|h| h.kind().as_str() == k)
        } else if let Some(d) = e.strip_prefix("reg:") {
            hits.iter().any(|h| h.registrable_domain() == Some(d))
        } else if let Some(u) = e.strip_prefix("url:") {
            hits.iter().any(|h| h.url() == Some(u))
        } else if let Some(m) = e.strip_prefix("email:") {
            hits.iter().any(|h| h.email() == Some(m))
        } else if let Some(h) = e.strip_prefix('!') {
            !hits.iter().any(|x| x.host() == h)
        } else {
            hits.iter().any(|x| x.host() == e)
        };
        if !ok {
            fails.push(format!(
                "{input:?}: expected {e}, got [{}]",
                describe(&hits)
            ));
        }
    }
    fails
}

#[test]
fn table() {
    let ex = Extractor::new();
    let data = include_str!("../data/extract/cases.tsv");
    let mut fails = Vec::new();
    let mut rows = 0;
    for line in data.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (input, expect) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("row without a tab: {line:?}"));
        rows += 1;
        fails.extend(check_row(&ex, &unescape(input), expect));
    }
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
    assert!(rows >= 300, "only {rows} rows");
}

/// Generated rows: bare names under many known suffixes are found, in prose and with each
/// surrounding punctuation; names under file extensions and unknown suffixes are not.
#[test]
fn generated_suffix_rows() {
    let ex = Extractor::new();
    let known = [
        "com", "net", "org", "info", "biz", "de", "fr", "it", "es", "nl", "be", "ch", "at", "pl",
        "ru", "ua", "cn", "jp", "kr", "in", "br", "mx", "ar", "au", "nz", "ca", "us", "eu", "io",
        "me", "tv", "ws", "xyz", "top", "club", "online", "site", "shop", "store", "live", "co.uk",
        "org.uk", "com.au", "co.jp", "com.br", "com.cn", "co.nz", "co.za", "com.mx",
    ];
    let mut fails = Vec::new();
    let mut rows = 0;
    for (i, tld) in known.iter().enumerate() {
        for wrap in [
            ("", ""),
            ("(", ")"),
            ("<", ">"),
            ("\"", "\"."),
            ("see ", ", ok"),
        ] {
            let host = format!("zq{i}x.{tld}");
            let input = format!("{}{host}{}", wrap.0, wrap.1);
            rows += 1;
            fails.extend(check_row(&ex, &input, &format!("{host} =1")));
            let www = format!("www.zq{i}y.{tld}");
            rows += 1;
            fails.extend(check_row(
                &ex,
                &format!("{}{www}/p{}", wrap.0, wrap.1),
                &format!("{www} kind:url"),
            ));
        }
    }
    for ext in [
        "pdf", "doc", "docx", "xls", "txt", "jpg", "png", "gif", "exe", "dll", "tmp", "log",
        "html", "htm", "php", "css", "csv", "json", "xml", "yaml", "toml", "zip", "rs", "py", "sh",
        "md", "mov", "so", "c", "h", "o", "a", "bak",
    ] {
        rows += 1;
        fails.extend(check_row(&ex, &format!("open file{ext}.{ext} now"), "!*"));
    }
    assert!(rows > 500);
    assert!(
        fails.is_empty(),
        "{} failures:\n{}",
        fails.len(),
        fails.join("\n")
    );
}

#[test]
fn spans_point_at_the_text() {
    let ex = Extractor::new();
    let text = "x (http://a.example.com/p). joe@example.org, www.example.net!";
    let mut hits = Vec::new();
    ex.extract_text(text, &mut hits).unwrap();
    let got: Vec<&str> = hits.iter().map(|h| &text[h.span()]).collect();
    assert_eq!(
        got,
        [
            "http://a.example.com/p",
            "joe@example.org",
            "www.example.net"
        ]
    );
}

#[test]
fn redirect_depth_is_limited() {
    let mut u = String::from("deepest.example.org");
    for i in 0..8 {
        u = format!("https://r{i}.example.com/?u={}", pct(&u));
    }
    let mut hits = Vec::new();
    Extractor::new().extract_text(&u, &mut hits).unwrap();
    // The outer URL and four levels below it.
    assert_eq!(hits.len(), 5, "{}", describe(&hits));
    let mut hits = Vec::new();
    Extractor::builder()
        .max_redirect_depth(16)
        .build()
        .unwrap()
        .extract_text(&u, &mut hits)
        .unwrap();
    assert!(hits.iter().any(|h| h.host() == "deepest.example.org"));
    assert!(hits[1..]
        .iter()
        .all(|h| h.flags().contains(Flags::REDIRECTED)));
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn limits_give_errors() {
    let ex = Extractor::builder().max_input_bytes(10).build().unwrap();
    let mut hits = Vec::new();
    assert_eq!(
        ex.extract_text("http://example.com/", &mut hits),
        Err(ExtractError::TooLarge { len: 19, max: 10 })
    );
    let ex = Extractor::builder().max_hits(3).build().unwrap();
    let text = "a.example.com ".repeat(10);
    assert_eq!(
        ex.extract_text(&text, &mut hits),
        Err(ExtractError::TooManyHits { max: 3 })
    );
    assert_eq!(hits.len(), 3);
}

#[test]
fn newer_suffix_list_at_run_time() {
    let list = SuffixList::parse("// ===BEGIN ICANN DOMAINS===\ncom\nexample.com\n").unwrap();
    let ex = Extractor::builder().suffix_list(list).build().unwrap();
    let mut hits = Vec::new();
    ex.extract_text("http://a.b.example.com/ and www.x.org", &mut hits)
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].registrable_domain(), Some("b.example.com"));
    if let Ok(text) = std::fs::read_to_string("/usr/share/publicsuffix/public_suffix_list.dat") {
        let l = SuffixList::parse(&text).unwrap();
        assert_eq!(
            l.registrable_domain("x.bar.blogspot.com"),
            Some("bar.blogspot.com")
        );
    } else if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "missing /usr/share/publicsuffix/public_suffix_list.dat (Debian package publicsuffix)"
        );
    } else {
        eprintln!("skipped: /usr/share/publicsuffix/public_suffix_list.dat missing (Debian package publicsuffix)");
    }
}

// ---- HTML

fn html_hits(html: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    Extractor::new().extract_html(html, &mut hits).unwrap();
    for h in &hits {
        assert!(h.span().end <= html.len());
    }
    hits
}

fn hosts(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(Hit::host).collect()
}

#[test]
fn html_links_and_text() {
    let html = r##"<html><head><title>Offer at www.title.example.com</title>
<style>body { background: url(http://css.example.com/bg.png) } .x.style{}</style>
<script>var a = "http://js.example.com/x"; window.location.href = b;</script></head>
<body bgcolor=white><p>Hello &amp; welcome to www.text.example&#46;com&period;</p>
<a href="http://link.example.com/?a=1&amp;b=2">click</a>
<a HREF='//proto-relative.example.org/x'>x</a>
<A href=unquoted.example.net/p>y</A>
<img src="https://img.example.com/i.png" alt="pic">
<form action="https://form.example.com/post"></form>
<meta http-equiv="refresh" content="0; url=http://refresh.example.com/">
<!-- hidden http://comment.example.com/ and bare.example.com -->
<a href="mailto:joe@mail.example.com">mail</a>
<div style="background:url('http://inline.example.com/a.png')"></div>
<a href="relative/page.html">rel</a> <a href="#top">top</a>
</body></html>"##;
    let hits = html_hits(html);
    let h = hosts(&hits);
    for want in [
        "www.title.example.com",
        "css.example.com",
        "js.example.com",
        "www.text.example.com",
        "link.example.com",
        "proto-relative.example.org",
        "unquoted.example.net",
        "img.example.com",
        "form.example.com",
        "refresh.example.com",
        "comment.example.com",
        "mail.example.com",
        "inline.example.com",
    ] {
        assert!(h.contains(&want), "missing {want} in {h:?}");
    }
    for not in [
        "bare.example.com",
        "x.style",
        "window.location.href",
        "page.html",
    ] {
        assert!(!h.contains(&not), "unexpected {not} in {h:?}");
    }
    let link = hits
        .iter()
        .find(|x| x.host() == "link.example.com")
        .unwrap();
    assert_eq!(link.url(), Some("http://link.example.com/?a=1&b=2"));
    assert_eq!(&html[link.span()], "http://link.example.com/?a=1&amp;b=2");
    let text = hits
        .iter()
        .find(|x| x.host() == "www.text.example.com")
        .unwrap();
    assert_eq!(&html[text.span()], "www.text.example&#46;com");
}

#[test]
fn html_phishing() {
    let hits =
        html_hits(r#"<a href="http://evil.example.net/login">https://www.bank.example.com/</a>"#);
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.flags().contains(Flags::PHISHING)));
    let hits = html_hits(r#"<a href="http://www.bank.example.com/login">bank.example.com</a>"#);
    assert!(hits.iter().all(|h| !h.flags().contains(Flags::PHISHING)));
    let hits =
        html_hits(r#"<a href="http://evil.example.net/">Click here</a> www.other.example.org"#);
    assert!(hits.iter().all(|h| !h.flags().contains(Flags::PHISHING)));
    // An unclosed anchor is closed by the next one.
    let hits = html_hits(
        r#"<a href="http://a.example.net/">www.b.example.org<a href="http://c.example.org/">c.example.org</a>"#,
    );
    let a = hits.iter().find(|h| h.host() == "a.example.net").unwrap();
    assert!(a.flags().contains(Flags::PHISHING));
    let c = hits.iter().find(|h| h.host() == "c.example.org").unwrap();
    assert!(!c.flags().contains(Flags::PHISHING) || c.kind() == HitKind::Host);
}

#[test]
fn html_broken_markup() {
    for html in [
        "<a href=\"http://x.example.com/",
        "<a href='",
        "<a href",
        "<",
        "<<<<>>>>",
        "<!--",
        "<!-- http://c.example.com/",
        "<script>http://s.example.com/",
        "a < b and c > d, see www.example.com",
        "&#99999999999;&#x;&amp",
        "<a\u{0}href=x>",
        "<é href=http://x.example.com>",
    ] {
        let _ = html_hits(html);
    }
    assert_eq!(
        hosts(&html_hits("a < b and c > d, see www.example.com")),
        ["www.example.com"]
    );
    assert_eq!(
        hosts(&html_hits("<!-- http://c.example.com/")),
        ["c.example.com"]
    );
}

// ---- MIME

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/extract/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn mime_hits(raw: &[u8]) -> Vec<Hit> {
    let mut hits = Vec::new();
    Extractor::new().extract_message(raw, &mut hits).unwrap();
    hits
}

#[test]
fn mime_multipart_alternative() {
    let raw = fixture("alternative.eml");
    assert_eq!(Format::detect(&raw), Format::Message);
    let hits = mime_hits(&raw);
    let h = hosts(&hits);
    assert!(h.contains(&"www.plain.example.com"), "{h:?}");
    assert!(h.contains(&"html.example.org"), "{h:?}");
    assert!(h.contains(&"subject.example.net"), "{h:?}");
    let plain = hits
        .iter()
        .find(|x| x.host() == "www.plain.example.com")
        .unwrap();
    let html = hits
        .iter()
        .find(|x| x.host() == "html.example.org")
        .unwrap();
    assert_ne!(plain.part(), html.part());
}

#[test]
fn mime_quoted_printable_soft_break_inside_url() {
    let hits = mime_hits(&fixture("qp-soft-break.eml"));
    let u: Vec<_> = hits.iter().filter_map(Hit::url).collect();
    assert!(
        u.contains(&"http://www.split-across-lines.example.com/very/long/path?id=12345"),
        "{u:?}"
    );
    assert!(hosts(&hits).contains(&"qp.example.org"));
}

#[test]
fn mime_base64_html() {
    let hits = mime_hits(&fixture("base64-html.eml"));
    let h = hosts(&hits);
    assert!(h.contains(&"b64.example.com"), "{h:?}");
    assert!(h.contains(&"xn--mnchen-3ya.example"), "{h:?}");
    assert!(hits.iter().any(|x| x.flags().contains(Flags::PHISHING)));
}

#[test]
fn mime_attached_message_and_charset() {
    let hits = mime_hits(&fixture("nested-rfc822.eml"));
    let h = hosts(&hits);
    assert!(h.contains(&"outer.example.com"), "{h:?}");
    assert!(h.contains(&"inner.example.org"), "{h:?}");
    assert!(h.contains(&"xn--caf-dma.example.com"), "{h:?}");
    assert!(!h.contains(&"attachment.example.net"), "{h:?}");
}

#[test]
fn mime_limits() {
    let mut raw = String::new();
    let depth = 30;
    for i in 0..depth {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\nhttp://deep.example.com/\r\n");
    let ex = Extractor::builder().max_mime_depth(10).build().unwrap();
    let mut hits = Vec::new();
    assert_eq!(
        ex.extract_message(raw.as_bytes(), &mut hits),
        Err(ExtractError::TooDeep { max: 10 })
    );
    let ex = Extractor::builder().max_mime_depth(40).build().unwrap();
    hits.clear();
    ex.extract_message(raw.as_bytes(), &mut hits).unwrap();
    assert_eq!(hosts(&hits), ["deep.example.com"]);

    let mut raw = String::from("Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n");
    for i in 0..50 {
        raw.push_str(&format!(
            "--x\r\nContent-Type: text/plain\r\n\r\nhttp://p{i}.example.com/\r\n"
        ));
    }
    raw.push_str("--x--\r\n");
    let ex = Extractor::builder().max_mime_parts(20).build().unwrap();
    hits.clear();
    assert_eq!(
        ex.extract_message(raw.as_bytes(), &mut hits),
        Err(ExtractError::TooManyParts { max: 20 })
    );
}

// ---- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_never_panics_and_spans_are_inside(s in "\\PC{0,300}") {
        let mut hits = Vec::new();
        Extractor::new().extract_text(&s, &mut hits).unwrap();
        for h in &hits {
            prop_assert!(h.span().start <= h.span().end && h.span().end <= s.len());
            prop_assert!(s.is_char_boundary(h.span().start) && s.is_char_boundary(h.span().end));
        }
    }

    #[test]
    fn urlish_text_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("http://"), Just("hxxps://"), Just("www."), Just("."), Just("[.]"), Just("(dot)"),
            Just("@"), Just("%2e"), Just("%"), Just(":"), Just("/"), Just("?u="), Just("&"),
            Just("example"), Just("com"), Just("co.uk"), Just("0x7f"), Just("1"), Just("["),
            Just("]"), Just("::"), Just("\u{3002}"), Just("\u{200B}"), Just("ü"), Just(" "),
            Just("("), Just(")"), Just("mailto:"), Just("<a href="), Just(">"), Just("&amp;"),
            Just("\""), Just("-"), Just("xn--"), Just("255"), Just("ｅ"),
        ], 0..60)) {
        let s: String = parts.concat();
        let ex = Extractor::new();
        let mut hits = Vec::new();
        ex.extract_text(&s, &mut hits).unwrap();
        for h in &hits {
            prop_assert!(h.span().end <= s.len());
            prop_assert!(!h.host().is_empty());
            prop_assert!(h.host().bytes().all(|b| !b.is_ascii_uppercase()));
        }
        hits.clear();
        ex.extract_html(&s, &mut hits).unwrap();
        for h in &hits {
            prop_assert!(h.span().end <= s.len());
        }
        hits.clear();
        let _ = ex.extract_message(s.as_bytes(), &mut hits);
    }

    #[test]
    fn found_in_any_surrounding(pre in "[ a-z,;(]{0,8}", post in "[ a-z,;)!?.]{0,8}", n in 0u32..1000) {
        let host = format!("h{n}.example.com");
        let s = format!("{pre} http://{host}/x {post}");
        let mut hits = Vec::new();
        Extractor::new().extract_text(&s, &mut hits).unwrap();
        prop_assert!(hits.iter().any(|h| h.host() == host));
    }
}

// ---- the command line

#[cfg(feature = "cli")]
mod cli {
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rblkit"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // a run that fails before it reads its input closes the pipe early: its output
        // and exit status are what the tests look at
        if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    #[test]
    fn json_lines_from_stdin() {
        let (code, out, _) = run(
            &["extract", "--json"],
            "Go to HXXP://Bank.Example.COM@evil.example.co.uk:8080/x, mail joe@Mail.Example.org, \
             or http://0x7f.1/ and http://[2001:DB8::1]/ and münchen.de."
                .as_bytes(),
        );
        assert_eq!(code, 0);
        let rows: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 5, "{out}");
        for r in &rows {
            assert!(r["kind"].is_string() && r["host"].is_string());
            assert!(r.get("registrable_domain").is_some());
        }
        assert_eq!(rows[0]["kind"], "url");
        assert_eq!(rows[0]["url"], "http://evil.example.co.uk:8080/x");
        assert_eq!(rows[0]["host"], "evil.example.co.uk");
        assert_eq!(rows[0]["registrable_domain"], "example.co.uk");
        assert_eq!(rows[1]["kind"], "email");
        assert_eq!(rows[1]["host"], "mail.example.org");
        assert!(rows[1].get("url").is_none());
        assert_eq!(rows[2]["host"], "127.0.0.1");
        assert!(rows[2]["registrable_domain"].is_null());
        assert_eq!(rows[3]["host"], "2001:db8::1");
        assert_eq!(rows[4]["host"], "xn--mnchen-3ya.de");
    }

    #[test]
    fn nothing_found_is_success() {
        let (code, out, _) = run(&["extract", "--json"], b"nothing to see here, v1.2.3.");
        assert_eq!((code, out.as_str()), (0, ""));
        let (code, out, _) = run(&["extract", "-"], b"");
        assert_eq!((code, out.as_str()), (0, ""));
    }

    #[test]
    fn file_message_and_human_output() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/extract/alternative.eml"
        );
        let (code, out, _) = run(&["extract", path], b"");
        assert_eq!(code, 0);
        assert!(
            out.contains("host\twww.plain.example.com\texample.com"),
            "{out}"
        );
        assert!(
            out.contains("url\thtml.example.org\texample.org\thttps://html.example.org/deal"),
            "{out}"
        );
        let (code, out, _) = run(
            &["extract", "--unique", "--format", "text", "-"],
            b"a.example.com b.example.com",
        );
        assert_eq!(code, 0);
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn errors_have_exit_codes() {
        let (code, _, err) = run(&["extract", "/nonexistent/file"], b"");
        assert_eq!(code, 66);
        assert!(err.contains("/nonexistent/file"));
        let (code, _, _) = run(
            &["extract", "--max-input-bytes", "4"],
            b"http://example.com/",
        );
        assert_eq!(code, 65);
        let dir = std::env::temp_dir().join(format!("rblkit-extract-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.dat");
        std::fs::write(&bad, "com\na..b\n").unwrap();
        let (code, _, err) = run(&["extract", "--suffix-list", bad.to_str().unwrap()], b"");
        assert_eq!(code, 78);
        assert!(err.contains("line 2"), "{err}");
        let extra = dir.join("extra.dat");
        std::fs::write(&extra, "example.com\n").unwrap();
        let (code, out, _) = run(
            &[
                "extract",
                "--json",
                "--extra-suffixes",
                extra.to_str().unwrap(),
            ],
            b"http://a.b.example.com/",
        );
        assert_eq!(code, 0);
        assert!(
            out.contains("\"registrable_domain\":\"b.example.com\""),
            "{out}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Recall beside linkify: of the hosts the table expects, how many each finds (linkify's
/// link text must contain the expected host, lowercased; rblkit must report it normalised).
#[test]
fn finds_more_than_linkify() {
    let ex = Extractor::new();
    let mut finder = linkify::LinkFinder::new();
    finder.url_must_have_scheme(false);
    finder.kinds(&[linkify::LinkKind::Url, linkify::LinkKind::Email]);
    let data = include_str!("../data/extract/cases.tsv");
    let (mut total, mut ours, mut theirs) = (0, 0, 0);
    // Rows where nothing may be found: how many each gets wrong.
    let (mut quiet_rows, mut our_noise, mut their_noise) = (0, 0, 0);
    for line in data.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((input, expect)) = line.split_once('\t') else {
            continue;
        };
        let input = unescape(input);
        let mut hits = Vec::new();
        ex.extract_text(&input, &mut hits).unwrap();
        let links: Vec<String> = finder
            .links(&input)
            .map(|l| l.as_str().to_lowercase())
            .collect();
        if expect.split_whitespace().any(|e| e == "!*") {
            quiet_rows += 1;
            our_noise += usize::from(!hits.is_empty());
            their_noise += usize::from(!links.is_empty());
        }
        for e in expect.split_whitespace() {
            if e.contains(':') || e.starts_with('!') || e.starts_with('=') {
                continue;
            }
            total += 1;
            ours += usize::from(hits.iter().any(|h| h.host() == e));
            theirs += usize::from(links.iter().any(|l| l.contains(e)));
        }
    }
    eprintln!("expected hosts: {total}, rblkit found {ours}, linkify found {theirs}");
    eprintln!("rows without hosts: {quiet_rows}, rblkit reported something in {our_noise}, linkify in {their_noise}");
    assert_eq!(ours, total);
    assert_eq!(our_noise, 0);
    assert!(theirs < ours, "linkify found {theirs} of {total}");
}
