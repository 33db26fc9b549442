#![no_main]
//! Arbitrary requests to the web adapter's router (method, route, query, content type,
//! cookie, authorization and body from the input) are answered, never a panic; bad input is
//! a 4xx answer with its field named (JSON routes) and never a 5xx; and the settings file
//! parser refuses or accepts any text without panicking.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use rblkit::web::{Site, WebConfig, ROUTES};
use std::sync::OnceLock;
use tower::ServiceExt as _;

const TYPES: &[&str] = &[
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "",
];

fn site() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static S: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("rblkit-fuzz-web-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let config = WebConfig::default()
            .with_operator_token("fuzz-operator-token-0123")
            .unwrap()
            .with_limits(u32::MAX, u32::MAX);
        let site = Site::open(&dir, "spamcop", config).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        (rt, site.router())
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = WebConfig::from_toml(text, "fuzz.toml");
    }
    if data.len() < 3 {
        return;
    }
    let (rt, router) = site();
    let route = ROUTES[usize::from(data[0]) % ROUTES.len()];
    let ctype = TYPES[usize::from(data[1]) % TYPES.len()];
    let post = data[2] & 1 == 1;
    let authorised = data[2] & 2 == 2;
    let rest = &data[3..];
    let (query, body) = rest.split_at(rest.len() / 2);
    let query: String = form_urlencoded::byte_serialize(query).collect();
    let mut b = Request::builder()
        .method(if post { "POST" } else { "GET" })
        .uri(format!("{route}?q={query}"));
    if !ctype.is_empty() {
        b = b.header("content-type", ctype);
    }
    if authorised {
        b = b.header("authorization", "Bearer fuzz-operator-token-0123");
    }
    if let Ok(cookie) = axum::http::HeaderValue::from_bytes(body) {
        b = b.header("cookie", cookie);
    }
    let req = b.body(Body::from(body.to_vec())).unwrap();
    let resp = rt.block_on(router.clone().oneshot(req)).unwrap();
    let s = resp.status();
    assert!(
        !s.is_server_error() || s == StatusCode::SERVICE_UNAVAILABLE,
        "{route} answered {s}"
    );
    assert!(resp.headers().contains_key("content-security-policy"));
});
