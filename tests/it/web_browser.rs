//! The lookup page in a real browser: headless Chromium (Debian `chromium`), driven over
//! WebDriver by `chromedriver` (Debian `chromium-driver`), loads the page of a listed IP,
//! submits the self-delist form, and the page then shows the subject excluded until a date
//! 7 days ahead. The screenshot is written to `target/tmp/web-browser-self-delisted.png`.

use super::web_tools::{ingest, now, request, state, Web};
use super::zone_tools::{tool, TempDir};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver {
    port: u16,
    child: Child,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let h = [("Content-Type", "application/json")];
        let r = request(self.port, method, path, &h, body.as_bytes());
        let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        assert_eq!(r.status, 200, "WebDriver {method} {path}: {}", r.body);
        v["value"].clone()
    }

    fn find(&self, session: &str, css: &str) -> String {
        let v = self.call(
            "POST",
            &format!("/session/{session}/element"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// The text of `css` once it satisfies `ok`, asked again while the page is still the
    /// one before a navigation (its elements go stale) or not yet rendered, for up to 20 s.
    fn text_when(&self, session: &str, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let h = [("Content-Type", "application/json")];
        let find = json!({"using": "css selector", "value": css}).to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        while Instant::now() < deadline {
            let r = request(
                self.port,
                "POST",
                &format!("/session/{session}/element"),
                &h,
                find.as_bytes(),
            );
            let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            if let Some(e) = v["value"][ELEMENT].as_str() {
                let path = format!("/session/{session}/element/{e}/text");
                let r = request(self.port, "GET", &path, &h, b"");
                let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                if let (200, Some(t)) = (r.status, v["value"].as_str()) {
                    if ok(t) {
                        return t.to_owned();
                    }
                    last = t.to_owned();
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{css} never satisfied the check; last text {last:?}");
    }

    fn text(&self, session: &str, css: &str) -> String {
        let e = self.find(session, css);
        let v = self.call("GET", &format!("/session/{session}/element/{e}/text"), None);
        v.as_str().unwrap().to_owned()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn chromium_self_delists_a_listed_ip_from_its_lookup_page() {
    let Some(chromium) = tool("chromium", &["/usr/bin/chromium"], "chromium") else {
        return;
    };
    let Some(chromedriver) = tool(
        "chromedriver",
        &["/usr/bin/chromedriver"],
        "chromium-driver",
    ) else {
        return;
    };
    let (_d, st) = state("web-browser");
    let at = (now() - Duration::from_secs(60)).to_string();
    ingest(
        &st,
        "spam-center",
        &format!("{{\"at\":\"{at}\",\"subject\":\"192.0.2.77\",\"event\":\"manual_list\",\"note\":\"trap hits\"}}\n"),
    );
    let web = Web::start(&st, "spam-center", None);

    let profile = TempDir::new("web-browser-profile");
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        port,
        child,
        _profile: profile,
    };
    let start = Instant::now();
    loop {
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && driver.call("GET", "/status", None)["ready"] == true;
        if up {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=900,1000",
                     format!("--user-data-dir={}", driver._profile.0.display())],
        },
        "timeouts": {"pageLoad": 20000, "implicit": 5000, "script": 5000},
    }}});
    let t0 = Instant::now();
    let session = driver.call("POST", "/session", Some(caps));
    eprintln!("browser session in {:?}", t0.elapsed());
    let session = session["sessionId"].as_str().unwrap().to_owned();
    let page = format!("http://127.0.0.1:{}/lookup?q=192.0.2.77", web.port);
    driver.call(
        "POST",
        &format!("/session/{session}/url"),
        Some(json!({"url": page})),
    );
    assert_eq!(driver.text(&session, "#state"), "Listed");
    let button = driver.find(&session, "#self-delist");
    driver.call(
        "POST",
        &format!("/session/{session}/element/{button}/click"),
        Some(json!({})),
    );
    // the answer page: excluded until 7 days from now
    let state = driver.text_when(&session, "#state", |t| t != "Listed");
    assert!(state.starts_with("Excluded until"), "{state}");
    let until: rblkit::Timestamp = driver.text(&session, "#until").parse().unwrap();
    let want = now() + Duration::from_secs(7 * 86_400);
    assert!(
        until.saturating_duration_since(want) < Duration::from_secs(120)
            && want.saturating_duration_since(until) < Duration::from_secs(120),
        "{until} is not 7 days ahead"
    );
    assert!(driver.text(&session, "#notice").contains("listed again"));
    eprintln!("form submitted and checked at {:?}", t0.elapsed());
    let png = driver.call("GET", &format!("/session/{session}/screenshot"), None);
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(png.as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let out =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-browser-self-delisted.png");
    std::fs::write(&out, &png).unwrap();
    eprintln!("screenshot: {}", out.display());
    driver.call("DELETE", &format!("/session/{session}"), None);
    eprintln!("session closed at {:?}", t0.elapsed());
    // the server agrees
    let v = web.get("/api/v1/lookup?q=192.0.2.77", &[]).json();
    assert_eq!(v["self_delisted_until"], until.to_string());
}
