//! `rblkit web` (feature `cli`): every endpoint of the public site, its JSON API and the
//! operator side, over HTTP on loopback against the built binary; hostile input (oversized
//! bodies, bad subjects, unknown fields, wrong content types, missing or foreign CSRF
//! tokens, markup), authentication, rate limits, and the state surviving a SIGKILL.

use super::web_tools::{ago, eventually, ingest, now, state, Web};
use rblkit::Timestamp;
use serde_json::json;
use std::time::Duration;

const TOKEN: &str = "operator-token-0123456789";

/// A config with a bearer token and limits high enough not to get in the way.
fn config(dir: &super::zone_tools::TempDir, extra: &str) -> String {
    dir.write(
        "web.toml",
        format!("[operator]\ntoken = \"{TOKEN}\"\n{extra}").as_bytes(),
    )
}

const ROOMY: &str = "[limits]\nlookups_per_minute = 10000\nposts_per_minute = 10000\n";

/// spamcop lists 192.0.2.1 (a trap hit and two reports an hour ago); 192.0.2.50 has one
/// report, below the threshold.
fn seed_spamcop(st: &str) {
    let t = ago(3600);
    ingest(
        st,
        "spamcop",
        &format!(
            "{{\"at\":\"{t}\",\"subject\":\"192.0.2.1\",\"event\":\"trap_hit\",\"trap\":\"secret-trap\"}}\n\
             {{\"at\":\"{t}\",\"subject\":\"192.0.2.1\",\"event\":\"spam_report\",\"reporter\":\"alice\"}}\n\
             {{\"at\":\"{t}\",\"subject\":\"192.0.2.1\",\"event\":\"spam_report\",\"reporter\":\"bob\"}}\n\
             {{\"at\":\"{t}\",\"subject\":\"192.0.2.50\",\"event\":\"spam_report\",\"reporter\":\"carol\"}}\n"
        ),
    );
}

fn manual_list(st: &str, profile: &str, subject: &str) {
    ingest(
        st,
        profile,
        &format!(
            "{{\"at\":\"{}\",\"subject\":\"{subject}\",\"event\":\"manual_list\",\"note\":\"internal note\"}}\n",
            ago(60)
        ),
    );
}

/// What `rblkit ledger status --profile spamcop` says of a subject (another process).
fn cli_status(st: &str, subject: &str) -> serde_json::Value {
    let out = std::process::Command::new(super::web_tools::BIN)
        .args([
            "ledger",
            "status",
            "--state",
            st,
            "--profile",
            "spamcop",
            "--json",
            subject,
        ])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn journal_len(st: &str) -> usize {
    let out = std::process::Command::new(super::web_tools::BIN)
        .args(["ledger", "export", "--state", st])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn close_to(t: &serde_json::Value, want: Timestamp) {
    let got: Timestamp = t.as_str().unwrap().parse().unwrap();
    let d = if got > want {
        got.saturating_duration_since(want)
    } else {
        want.saturating_duration_since(got)
    };
    assert!(d < Duration::from_secs(120), "{got} is not about {want}");
}

#[test]
fn lookups_answer_the_public_fields_and_never_evidence() {
    let (d, st) = state("web-lookup");
    seed_spamcop(&st);
    let web = Web::start(&st, "spamcop", Some(&config(&d, ROOMY)));
    let r = web.get("/api/v1/lookup?q=192.0.2.1", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "subject",
        "listed",
        "since",
        "expires",
        "time_to_delist_secs",
        "codes",
        "self_delisted_until",
    ];
    want.sort_unstable();
    assert_eq!(keys, want);
    assert_eq!(v["subject"], "192.0.2.1");
    assert_eq!(v["listed"], true);
    assert_eq!(v["codes"], json!(["127.0.0.2"]));
    assert_eq!(v["self_delisted_until"], serde_json::Value::Null);
    // delisted 24 hours after the last report: about 23 hours from now
    let ttd = v["time_to_delist_secs"].as_u64().unwrap();
    assert!((23 * 3600 - 120..=23 * 3600 + 120).contains(&ttd), "{ttd}");
    close_to(&v["expires"], now() + Duration::from_secs(23 * 3600));
    for secret in ["secret-trap", "alice", "bob", "trap_hit", "spam_report"] {
        assert!(!r.body.contains(secret), "{secret} disclosed: {}", r.body);
    }
    // the same as `rblkit ledger status` says
    let cli = cli_status(&st, "192.0.2.1");
    assert_eq!(cli["listed"], v["listed"]);
    assert_eq!(cli["since"], v["since"]);
    assert_eq!(cli["codes"], v["codes"]);

    // not listed: the subject with one report and one never seen answer alike
    let a = web.get("/api/v1/lookup?q=192.0.2.50", &[]).json();
    let b = web.get("/api/v1/lookup?q=192.0.2.99", &[]).json();
    assert_eq!(a["listed"], false);
    assert_eq!(a["since"], serde_json::Value::Null);
    assert_eq!(a["time_to_delist_secs"], serde_json::Value::Null);
    assert_eq!(a.as_object().unwrap().len(), b.as_object().unwrap().len());
    assert_eq!(a["codes"], b["codes"]);

    // a domain, normalised
    let v = web.get("/api/v1/lookup?q=Example.COM.", &[]).json();
    assert_eq!(v["subject"], "example.com");

    // the page: listed, since, time to delisting, codes, the removal link; no self-delist
    // form under spamcop
    let p = web.get("/lookup?q=192.0.2.1", &[]);
    assert_eq!(p.status, 200);
    assert!(p.header("content-type").unwrap().starts_with("text/html"));
    assert!(p.body.contains("id=\"state\">Listed<"), "{}", p.body);
    assert!(p.body.contains("id=\"codes\">127.0.0.2<"));
    assert!(p.body.contains("mirrors may take a while"));
    assert!(p.body.contains("href=\"/removal-request?q=192.0.2.1\""));
    assert!(!p.body.contains("action=\"/self-delist\""));
    for secret in ["secret-trap", "alice", "bob"] {
        assert!(!p.body.contains(secret));
    }
    let p = web.get("/lookup?q=192.0.2.99", &[]);
    assert!(p.body.contains("Not listed"));
    // the index, the stylesheet, the health check; security headers everywhere
    for path in [
        "/",
        "/style.css",
        "/healthz",
        "/lookup?q=192.0.2.1",
        "/api/v1/lookup?q=192.0.2.1",
        "/nowhere",
    ] {
        let r = web.get(path, &[]);
        assert_eq!(
            r.status,
            if path == "/nowhere" { 404 } else { 200 },
            "{path}"
        );
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    }
    assert!(!web.get("/", &[]).body.contains("<script"));
}

#[test]
fn self_delisting_is_what_spam_center_offers() {
    let (d, st) = state("web-selfdelist");
    manual_list(&st, "spam-center", "192.0.2.7");
    ingest(
        &st,
        "spam-center",
        &format!("{{\"at\":\"{}\",\"subject\":\"192.0.2.8\",\"event\":\"spam_report\",\"reporter\":\"r\"}}\n", ago(60)),
    );
    let web = Web::start(&st, "spam-center", Some(&config(&d, ROOMY)));
    // the page offers the form
    let p = web.get("/lookup?q=192.0.2.7", &[]);
    assert!(p.body.contains("action=\"/self-delist\""));
    let r = web.post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.7"}));
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["accepted"], true);
    close_to(&v["until"], now() + Duration::from_secs(7 * 86_400));
    let l = web.get("/api/v1/lookup?q=192.0.2.7", &[]).json();
    assert_eq!(l["listed"], false);
    assert_eq!(l["self_delisted_until"], v["until"]);
    assert!(web
        .get("/lookup?q=192.0.2.7", &[])
        .body
        .contains("Excluded until"));
    // a subject with hidden history and one never seen get the same answer
    let a = web.post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.8"}));
    let b = web.post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.9"}));
    assert_eq!(a.body, b.body);
    assert_eq!(a.json(), json!({"accepted": false, "reason": "not listed"}));
    drop(web);

    // spamcop refuses it, with the reason, and writes nothing
    let (d2, st2) = state("web-selfdelist-spamcop");
    seed_spamcop(&st2);
    let before = journal_len(&st2);
    let web = Web::start(&st2, "spamcop", Some(&config(&d2, ROOMY)));
    let v = web
        .post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.1"}))
        .json();
    assert_eq!(v["accepted"], false);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("expire on their own"),
        "{v}"
    );
    assert_eq!(journal_len(&st2), before);
}

#[test]
fn removal_requests_are_stored_with_their_review_deadline() {
    let (d, st) = state("web-removal");
    seed_spamcop(&st);
    let web = Web::start(&st, "spamcop", Some(&config(&d, ROOMY)));
    // the form page, with the subject filled in
    let p = web.get("/removal-request?q=192.0.2.1", &[]);
    assert_eq!(p.status, 200);
    assert!(p.body.contains("value=\"192.0.2.1\""));
    let req = json!({"subject": "192.0.2.1", "reason": "user_error", "relationship": "its mail administrator",
                     "contact": "noc@example.net", "text": "A customer reported their own newsletter."});
    let r = web.post_json("/api/v1/removal-requests", &req);
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert!(v["id"].as_u64().unwrap() > 4);
    // two working days (Monday to Friday) after now
    let by = rblkit::policy::Policy::spamcop()
        .review
        .deadline(now())
        .unwrap();
    assert!(
        by >= now() + Duration::from_secs(2 * 86_400)
            && by <= now() + Duration::from_secs(4 * 86_400)
    );
    close_to(&v["review_by"], by);
    // under review (`rblkit ledger status` in another process sees it)
    let s = cli_status(&st, "192.0.2.1");
    assert_eq!(s["state"], "under_review");
    // the operator's queue has it, with everything the requester said
    let q = web
        .get(
            "/api/v1/operator/queue",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
        )
        .json();
    let item = &q["requests"][0];
    assert_eq!(item["subject"], "192.0.2.1");
    assert_eq!(item["reason"], "user_error");
    assert_eq!(item["relationship"], "its mail administrator");
    assert_eq!(item["contact"], "noc@example.net");
    assert_eq!(item["text"], "A customer reported their own newsletter.");
    assert_eq!(item["review_by"], v["review_by"]);
    // the HTML form, with its CSRF token and cookie
    let p = web.get("/removal-request?q=192.0.2.50", &[]);
    let cookie = p.cookie().unwrap();
    let body = format!(
        "subject=192.0.2.50&reason=technical_error&relationship=owner&contact=a%40example.org&text=&csrf={}",
        p.csrf()
    );
    let r = web.post(
        "/removal-request",
        "application/x-www-form-urlencoded",
        &body,
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body.contains("id=\"review-by\""));
    drop(web);

    // spam-center: stored for the queue, but no review opened or promised
    let (d2, st2) = state("web-removal-sc");
    manual_list(&st2, "spam-center", "192.0.2.7");
    let web = Web::start(&st2, "spam-center", Some(&config(&d2, ROOMY)));
    let r = web.post_json(
        "/api/v1/removal-requests",
        &json!({"subject": "192.0.2.7", "reason": "technical_error", "relationship": "owner", "contact": "noc@example.net"}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["review_by"], serde_json::Value::Null);
    let q = web
        .get(
            "/api/v1/operator/queue",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
        )
        .json();
    assert_eq!(q["requests"][0]["subject"], "192.0.2.7");
    assert_eq!(
        web.get("/api/v1/lookup?q=192.0.2.7", &[]).json()["listed"],
        true
    );
    let p = web.get("/lookup?q=192.0.2.7", &[]);
    assert!(!p.body.contains("under review"));
}

#[test]
fn hostile_input_is_refused_and_changes_nothing() {
    let (d, st) = state("web-hostile");
    manual_list(&st, "spam-center", "192.0.2.7");
    let web = Web::start(&st, "spam-center", Some(&config(&d, ROOMY)));
    let before = journal_len(&st);
    let bad = |r: super::web_tools::Resp, status: u16, field: &str| {
        assert_eq!(r.status, status, "{}", r.body);
        let v = r.json();
        assert_eq!(v["field"], field, "{v}");
        assert!(v["error"].as_str().unwrap().len() > 3);
    };
    // bad subjects
    bad(web.get("/api/v1/lookup?q=300.1.2.3", &[]), 400, "q");
    bad(web.get("/api/v1/lookup?q=a..b", &[]), 400, "q");
    bad(web.get("/api/v1/lookup", &[]), 400, "q");
    bad(
        web.get(&format!("/api/v1/lookup?q={}", "a".repeat(400)), &[]),
        400,
        "q",
    );
    bad(
        web.get("/api/v1/lookup?q=192.0.2.1&q=192.0.2.2", &[]),
        400,
        "q",
    );
    bad(web.get("/api/v1/lookup?q=192.0.2.1&x=1", &[]), 400, "query");
    bad(
        web.post_json("/api/v1/self-delist", &json!({"subject": "not a subject"})),
        400,
        "subject",
    );
    bad(
        web.post_json("/api/v1/self-delist", &json!({"subject": 7})),
        400,
        "subject",
    );
    bad(
        web.post_json(
            "/api/v1/self-delist",
            &json!({"subject": "192.0.2.7", "until": "2099-01-01T00:00:00Z"}),
        ),
        400,
        "body",
    );
    bad(
        web.post(
            "/api/v1/self-delist",
            "application/json",
            "{\"subject\":",
            &[],
        ),
        400,
        "body",
    );
    bad(
        web.post(
            "/api/v1/self-delist",
            "text/plain",
            "{\"subject\":\"192.0.2.7\"}",
            &[],
        ),
        415,
        "content-type",
    );
    let removal = |over: serde_json::Value| {
        let mut v = json!({"subject": "192.0.2.7", "reason": "technical_error", "relationship": "owner", "contact": "noc@example.net"});
        for (k, x) in over.as_object().unwrap() {
            v[k] = x.clone();
        }
        web.post_json("/api/v1/removal-requests", &v)
    };
    bad(removal(json!({"reason": "because"})), 400, "reason");
    bad(
        removal(json!({"contact": "not an address"})),
        400,
        "contact",
    );
    bad(removal(json!({"relationship": ""})), 400, "relationship");
    bad(
        removal(json!({"relationship": "owner\u{1b}[31m"})),
        400,
        "relationship",
    );
    bad(removal(json!({"text": "x".repeat(4001)})), 400, "text");
    // an oversized body: 413 before it is read
    let huge = format!(
        "{{\"subject\":\"192.0.2.7\",\"text\":\"{}\"}}",
        "x".repeat(100_000)
    );
    bad(
        web.post("/api/v1/removal-requests", "application/json", &huge, &[]),
        413,
        "body",
    );
    let r = web.post(
        "/self-delist",
        "application/x-www-form-urlencoded",
        &"a".repeat(100_000),
        &[],
    );
    assert_eq!(r.status, 413);
    // forms: no token, a token without its cookie, another client's token
    let p = web.get("/lookup?q=192.0.2.7", &[]);
    let (cookie, token) = (p.cookie().unwrap(), p.csrf());
    let form = |body: &str, cookie: Option<&str>| {
        let h: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
        web.post(
            "/self-delist",
            "application/x-www-form-urlencoded",
            body,
            &h,
        )
    };
    assert_eq!(form("subject=192.0.2.7", Some(&cookie)).status, 403);
    assert_eq!(
        form(&format!("subject=192.0.2.7&csrf={token}"), None).status,
        403
    );
    let other = web.get("/lookup?q=192.0.2.7", &[]).cookie().unwrap();
    assert_ne!(other, cookie);
    assert_eq!(
        form(&format!("subject=192.0.2.7&csrf={token}"), Some(&other)).status,
        403
    );
    assert_eq!(
        form(&format!("subject=192.0.2.7&csrf={token}x"), Some(&cookie)).status,
        403
    );
    let r = web.post(
        "/removal-request",
        "application/x-www-form-urlencoded",
        "subject=192.0.2.7",
        &[("Cookie", &cookie)],
    );
    assert_eq!(r.status, 403);
    // the cookie is SameSite=Strict and HttpOnly
    let set = p.header("set-cookie").unwrap();
    assert!(
        set.contains("SameSite=Strict") && set.contains("HttpOnly"),
        "{set}"
    );
    // no reflected markup: the refusal escapes what it was given
    let r = web.get("/lookup?q=%3Cscript%3Ealert(1)%3C/script%3E", &[]);
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("<script>"));
    assert!(r.body.contains("&lt;script&gt;"), "{}", r.body);
    let r = web.get("/removal-request?q=%22%3E%3Cimg%20src=x%3E", &[]);
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("<img"));
    // nothing of it reached the journal, and the subject is still listed
    assert_eq!(journal_len(&st), before);
    assert_eq!(
        web.get("/api/v1/lookup?q=192.0.2.7", &[]).json()["listed"],
        true
    );
    // a good form post goes through
    let r = form(&format!("subject=192.0.2.7&csrf={token}"), Some(&cookie));
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Excluded until"), "{}", r.body);
    assert_eq!(journal_len(&st), before + 1);
}

#[test]
fn the_operator_side_needs_credentials_and_records_its_actions() {
    // with no credentials configured it is closed
    let (_d0, st0) = state("web-op-closed");
    let web = Web::start(&st0, "spamcop", None);
    for path in [
        "/operator/",
        "/operator/subject?q=192.0.2.1",
        "/api/v1/operator/queue",
        "/api/v1/operator/explain?q=192.0.2.1",
        "/operator/anything",
    ] {
        let r = web.get(
            path,
            &[("Authorization", "Bearer anything-at-all-0123456789")],
        );
        assert_eq!(r.status, 401, "{path}");
        assert!(r.header("www-authenticate").is_some());
    }
    let r = web.post_json(
        "/api/v1/operator/actions",
        &json!({"subject": "192.0.2.1", "action": "allowlist"}),
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["field"], "authorization");
    drop(web);

    // a bearer token and HTTP Basic with an argon2 hash
    let (d, st) = state("web-op");
    seed_spamcop(&st);
    use argon2::password_hash::PasswordHasher as _;
    // small argon2 parameters (1 MiB, one pass): the server under test is a debug build
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    let hash = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_with_salt(b"correct horse", b"rblkit-test-salt")
        .unwrap()
        .to_string();
    let cfg = config(
        &d,
        &format!("user = \"staff\"\npassword_hash = \"{hash}\"\n{ROOMY}"),
    );
    let web = Web::start(&st, "spamcop", Some(&cfg));
    let bearer = format!("Bearer {TOKEN}");
    use base64::Engine as _;
    let basic = |u: &str, p: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        )
    };
    assert_eq!(web.get("/operator/", &[]).status, 401);
    assert_eq!(
        web.get(
            "/operator/",
            &[("Authorization", "Bearer wrong-token-0123456789")]
        )
        .status,
        401
    );
    assert_eq!(
        web.get("/operator/", &[("Authorization", &basic("staff", "wrong"))])
            .status,
        401
    );
    assert_eq!(
        web.get(
            "/operator/",
            &[("Authorization", &basic("other", "correct horse"))]
        )
        .status,
        401
    );
    assert_eq!(
        web.get(
            "/operator/",
            &[("Authorization", &basic("staff", "correct horse"))]
        )
        .status,
        200
    );
    assert_eq!(
        web.get("/operator/", &[("Authorization", &bearer)]).status,
        200
    );
    let auth = [("Authorization", bearer.as_str())];

    // a removal request, then the operator's view of the subject: everything
    let r = web.post_json(
        "/api/v1/removal-requests",
        &json!({"subject": "192.0.2.1", "reason": "user_error", "relationship": "owner", "contact": "noc@example.net", "text": "<b>hi</b>"}),
    );
    assert_eq!(r.status, 201);
    let page = web.get("/operator/", &auth);
    assert!(
        page.body.contains("192.0.2.1") && page.body.contains("&lt;b&gt;hi&lt;/b&gt;"),
        "{}",
        page.body
    );
    let x = web
        .get("/api/v1/operator/explain?q=192.0.2.1", &auth)
        .json();
    assert_eq!(x["state"], "under_review");
    assert_eq!(x["criteria"][0]["evidence"], 3);
    let p = web.get("/operator/subject?q=192.0.2.1", &auth);
    assert!(p.body.contains("id=\"explain\""));
    assert!(p.body.contains("weighted_reports"));

    // actions: each recorded as evidence
    let act = |v: serde_json::Value| {
        web.post(
            "/api/v1/operator/actions",
            "application/json",
            &v.to_string(),
            &auth,
        )
    };
    let r = act(json!({"subject": "192.0.2.1", "action": "list"}));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "note");
    assert_eq!(
        act(json!({"subject": "192.0.2.1", "action": "nuke"})).json()["field"],
        "action"
    );
    let v =
        act(json!({"subject": "192.0.2.1", "action": "uphold", "note": "their own newsletter"}))
            .json();
    assert_eq!(
        v,
        json!({"event": "dispute_decision", "outcome": "accepted", "reason": null})
    );
    assert_eq!(
        web.get("/api/v1/operator/queue", &auth).json()["requests"],
        json!([])
    );
    let v = act(json!({"subject": "192.0.2.1", "action": "reject"})).json();
    assert_eq!(v["outcome"], "refused");
    assert_eq!(v["reason"], "no open dispute");
    let v = act(json!({"subject": "198.51.100.9", "action": "list", "note": "seen in our logs"}))
        .json();
    assert_eq!(v["outcome"], "recorded");
    assert_eq!(
        web.get("/api/v1/lookup?q=198.51.100.9", &[]).json()["listed"],
        true
    );
    assert_eq!(
        act(json!({"subject": "198.51.100.9", "action": "allowlist"})).json()["outcome"],
        "recorded"
    );
    assert_eq!(
        web.get("/api/v1/lookup?q=198.51.100.9", &[]).json()["listed"],
        false
    );
    assert_eq!(
        act(json!({"subject": "198.51.100.9", "action": "unallowlist"})).status,
        200
    );
    assert_eq!(
        act(json!({"subject": "198.51.100.9", "action": "unlist", "note": "fixed"})).json()
            ["outcome"],
        "recorded"
    );
    assert_eq!(
        web.get("/api/v1/lookup?q=198.51.100.9", &[]).json()["listed"],
        false
    );
    let export = std::process::Command::new(super::web_tools::BIN)
        .args(["ledger", "export", "--state", &st])
        .output()
        .unwrap();
    let export = String::from_utf8_lossy(&export.stdout);
    for e in [
        "dispute_decision",
        "manual_list",
        "allowlist_add",
        "allowlist_remove",
        "manual_unlist",
        "seen in our logs",
    ] {
        assert!(export.contains(e), "{e} not recorded");
    }
    // the operator form needs its CSRF token too
    let p = web.get("/operator/subject?q=198.51.100.9", &auth);
    let cookie = p.cookie().unwrap();
    let mut h = auth.to_vec();
    h.push(("Cookie", &cookie));
    let r = web.post(
        "/operator/action",
        "application/x-www-form-urlencoded",
        "subject=198.51.100.9&action=list&note=x",
        &h,
    );
    assert_eq!(r.status, 403);
    let body = format!(
        "subject=198.51.100.9&action=list&note=again&csrf={}",
        p.csrf()
    );
    let r = web.post(
        "/operator/action",
        "application/x-www-form-urlencoded",
        &body,
        &h,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("manual_list: recorded"));
}

#[test]
fn too_many_requests_from_one_client_get_429() {
    let (d, st) = state("web-limits");
    let cfg = config(
        &d,
        "[limits]\nlookups_per_minute = 3\nposts_per_minute = 2\n",
    );
    let web = Web::start(&st, "spam-center", Some(&cfg));
    for _ in 0..3 {
        assert_eq!(web.get("/api/v1/lookup?q=192.0.2.1", &[]).status, 200);
    }
    let r = web.get("/api/v1/lookup?q=192.0.2.1", &[]);
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.json()["field"], "client");
    assert_eq!(web.get("/lookup?q=192.0.2.1", &[]).status, 429);
    // the health check and the index are not counted
    assert_eq!(web.get("/healthz", &[]).status, 200);
    for _ in 0..2 {
        assert_eq!(
            web.post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.1"}))
                .status,
            200
        );
    }
    let r = web.post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.1"}));
    assert_eq!(r.status, 429);
    assert!(r.header("retry-after").is_some());
}

#[test]
fn metrics_count_requests_by_route_and_status_and_the_429s() {
    use super::metrics_tools::{metric, scrape};
    let (d, st) = state("web-metrics");
    let cfg = config(&d, "[limits]\nlookups_per_minute = 2\n");
    let mport = super::postfix_tools::free_port();
    let web = Web::start_with(
        &st,
        "spam-center",
        Some(&cfg),
        &["--metrics", &format!("127.0.0.1:{mport}")],
    );
    let addr = ([127, 0, 0, 1], mport).into();
    let before = scrape(addr);
    let lookup_ok = "rblkit_web_requests_total{route=\"/api/v1/lookup\",code=\"200\"}";
    let lookup_429 = "rblkit_web_requests_total{route=\"/api/v1/lookup\",code=\"429\"}";
    let limited = "rblkit_web_rate_limited_total{limit=\"lookups\"}";
    let other_404 = "rblkit_web_requests_total{route=\"other\",code=\"404\"}";
    let health = "rblkit_web_requests_total{route=\"/healthz\",code=\"200\"}";
    let count = "rblkit_web_request_seconds_count";
    assert_eq!(metric(&before, limited), 0.0, "{before}");
    for _ in 0..2 {
        assert_eq!(web.get("/api/v1/lookup?q=192.0.2.1", &[]).status, 200);
    }
    assert_eq!(web.get("/api/v1/lookup?q=192.0.2.1", &[]).status, 429);
    assert_eq!(web.get("/no/such/page", &[]).status, 404);
    assert_eq!(web.get("/healthz", &[]).status, 200);
    let after = scrape(addr);
    let moved = |series: &str| metric(&after, series) - metric(&before, series);
    assert_eq!(moved(lookup_ok), 2.0, "{after}");
    assert_eq!(moved(lookup_429), 1.0, "{after}");
    assert_eq!(moved(limited), 1.0, "{after}");
    assert_eq!(moved(other_404), 1.0, "{after}");
    assert_eq!(moved(health), 1.0, "{after}");
    assert_eq!(moved(count), 5.0, "{after}");
    // routes are the patterns: neither raw paths nor query strings become labels
    assert!(
        !after.contains("q=192") && !after.contains("/no/such"),
        "{after}"
    );
    // the metrics endpoint is not the site
    assert_eq!(web.get("/metrics", &[]).status, 404);
}

#[test]
fn every_route_pattern_is_served_and_is_its_own_metrics_label() {
    use super::metrics_tools::{metric, scrape};
    let (d, st) = state("web-routes");
    let cfg = config(&d, ROOMY);
    let mport = super::postfix_tools::free_port();
    let web = Web::start_with(
        &st,
        "spamcop",
        Some(&cfg),
        &["--metrics", &format!("127.0.0.1:{mport}")],
    );
    for route in rblkit::web::ROUTES {
        let status = web.get(route, &[]).status;
        // answered by its route (a POST-only route says 405; the operator's say 401)
        assert_ne!(status, 404, "{route}");
        let m = scrape(([127, 0, 0, 1], mport).into());
        let series = format!("rblkit_web_requests_total{{route=\"{route}\",code=\"{status}\"}}");
        assert_eq!(metric(&m, &series), 1.0, "{series} in {m}");
    }
}

#[test]
fn state_survives_a_restart_and_other_processes_are_seen() {
    let (d, st) = state("web-restart");
    manual_list(&st, "spam-center", "192.0.2.7");
    let cfg = config(&d, ROOMY);
    let web = Web::start(&st, "spam-center", Some(&cfg));
    let until = web
        .post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.7"}))
        .json()["until"]
        .clone();
    assert!(until.is_string());
    let r = web.post_json(
        "/api/v1/removal-requests",
        &json!({"subject": "192.0.2.7", "reason": "technical_error", "relationship": "owner", "contact": "noc@example.net"}),
    );
    assert_eq!(r.status, 201);
    // another process lists a subject: seen within a second
    manual_list(&st, "spam-center", "203.0.113.5");
    assert!(eventually(Duration::from_secs(1), || {
        web.get("/api/v1/lookup?q=203.0.113.5", &[]).json()["listed"] == true
    }));
    web.kill();
    let web = Web::start(&st, "spam-center", Some(&cfg));
    let l = web.get("/api/v1/lookup?q=192.0.2.7", &[]).json();
    assert_eq!(l["self_delisted_until"], until);
    assert_eq!(l["listed"], false);
    assert_eq!(
        web.get("/api/v1/lookup?q=203.0.113.5", &[]).json()["listed"],
        true
    );
    let q = web
        .get(
            "/api/v1/operator/queue",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
        )
        .json();
    assert_eq!(q["requests"][0]["subject"], "192.0.2.7");
    // a request during the exclusion changes nothing
    let again = web
        .post_json("/api/v1/self-delist", &json!({"subject": "192.0.2.7"}))
        .json();
    assert_eq!(again["accepted"], false, "{again}");
    assert!(
        again["reason"]
            .as_str()
            .unwrap()
            .contains("already excluded"),
        "{again}"
    );
}

/// Runs `rblkit web` with a config (or a profile) that it refuses: its exit status and
/// standard error.
fn refused(st: &str, profile: &str, config: Option<&str>) -> (Option<i32>, String) {
    let mut args = vec![
        "web",
        "--listen",
        "127.0.0.1:0",
        "--state",
        st,
        "--profile",
        profile,
    ];
    if let Some(f) = config {
        args.extend(["--config", f]);
    }
    let out = std::process::Command::new(super::web_tools::BIN)
        .args(&args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_settings_are_refused_with_their_place() {
    let (d, st) = state("web-config");
    let f = d.write("bad.toml", b"[operator]\ntoken = \"short\"\n");
    let (code, err) = refused(&st, "spamcop", Some(&f));
    assert_eq!(code, Some(78));
    assert!(err.contains("operator.token"), "{err}");
    let f = d.write("bad2.toml", b"[limits]\nlookups = 5\n");
    let (code, err) = refused(&st, "spamcop", Some(&f));
    assert_eq!(code, Some(78));
    assert!(err.contains("line 2"), "{err}");
    let f = d.write(
        "bad3.toml",
        b"[operator]\nuser = \"staff\"\npassword_hash = \"plain\"\n",
    );
    let (code, err) = refused(&st, "spamcop", Some(&f));
    assert_eq!(code, Some(78));
    assert!(err.contains("operator.password_hash"), "{err}");
    assert_eq!(refused(&st, "nope", None).0, Some(64));
}
