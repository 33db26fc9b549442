//! The web adapter (feature `http`): the public site a rejected sender lands on — lookup,
//! time to delisting, self-delisting, removal requests — with its JSON API, and the
//! operator's review behind credentials. [`Site::router`] is an axum [`Router`] to serve
//! alone (as `rblkit web` does) or to mount in a larger server.
//!
//! - Public pages: `GET /` (the lookup form), `GET /lookup?q=SUBJECT`, `POST /self-delist`,
//!   `GET`/`POST /removal-request?q=SUBJECT`. JSON API: `GET /api/v1/lookup?q=SUBJECT`,
//!   `POST /api/v1/self-delist`, `POST /api/v1/removal-requests` (requests must be
//!   `application/json`). The public side answers from [`policy::status`](crate::policy::status):
//!   never evidence.
//! - The operator: `GET /operator/` (the review queue), `GET /operator/subject?q=` (the full
//!   [`explain`](crate::policy::explain)), `POST /operator/action`; and
//!   `GET /api/v1/operator/queue`, `GET /api/v1/operator/explain?q=`,
//!   `POST /api/v1/operator/actions`. Everything under `/operator/` and `/api/v1/operator/`
//!   answers 401 without a credential of the [`WebConfig`], and with none configured it
//!   stays closed.
//! - Requests become ledger evidence (`self_delist`, `dispute`, `dispute_decision`,
//!   `manual_list`, `manual_unlist`, `allowlist_add`, `allowlist_remove`), appended durably
//!   to the state directory's store, which other processes share; what they write is seen
//!   within a second (the store is refreshed before an answer when it was last read more
//!   than 250 ms before).
//! - Abuse resistance: per-client rate limits (lookups; POST and operator requests) with
//!   429 and `Retry-After`; request bodies over the limit get 413; forms carry a CSRF token
//!   (an HMAC of a per-process secret, a two-hour window and a `SameSite=Strict` cookie
//!   nonce); every page is escaped, with a CSP that allows no script, `nosniff`, frame
//!   denial and no referrer; bad input is refused with its field before anything is
//!   written.
//! - The web process reads the clock and passes `now` to the core.
//!
//! # Examples
//!
//! ```
//! use rblkit::web::{Site, WebConfig};
//! let dir = std::env::temp_dir().join(format!("rblkit-doc-web-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let site = Site::open(&dir, "spam-center", WebConfig::default())?;
//! let app: axum::Router = site.router();
//! // serve it: axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! # drop(app);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), rblkit::Error>(())
//! ```

mod config;
mod csrf;
mod error;
mod html;
mod input;
mod limit;
mod operator;
mod public;
mod stats;

pub use config::WebConfig;
pub use error::WebError;

use crate::ledger::store::{Store, StoreError, StoreOptions};
use crate::ledger::{DisputeReason, Event, Evidence, Ledger, LedgerConfig, Outcome};
use crate::policy::Policy;
use crate::subject::Subject;
use crate::time::Timestamp;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use input::Bad;
use limit::RateLimiter;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The route patterns [`Site::router`] serves (all literal paths): the `route` label of
/// its metrics ([`Site::serve_metrics`]), where any other path counts as `other`.
///
/// # Examples
///
/// ```
/// assert!(rblkit::web::ROUTES.contains(&"/api/v1/lookup"));
/// ```
pub const ROUTES: &[&str] = &[
    "/",
    "/style.css",
    "/healthz",
    "/lookup",
    "/self-delist",
    "/removal-request",
    "/api/v1/lookup",
    "/api/v1/self-delist",
    "/api/v1/removal-requests",
    "/operator/",
    "/operator/subject",
    "/operator/action",
    "/api/v1/operator/queue",
    "/api/v1/operator/explain",
    "/api/v1/operator/actions",
];

/// How long a read answers from the store before it looks for other processes' writes.
const REFRESH: Duration = Duration::from_millis(250);

/// The prefix of a removal request's text that carries the requester's relationship to the
/// subject (the `dispute` event has no field of its own for it).
const RELATIONSHIP: &str = "relationship: ";

/// A removal request in the operator's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Removal {
    subject: Subject,
    filed: Timestamp,
    reason: DisputeReason,
    relationship: String,
    contact: String,
    text: String,
}

/// The removal requests no operator has acted on, in filing order; kept up to date by the
/// store's apply hook, so it sees every process's writes.
#[derive(Default)]
struct Queue(Vec<Removal>);

impl Queue {
    fn see(&mut self, ledger: &Ledger, e: &Event, o: Outcome) {
        match &e.evidence {
            Evidence::Dispute {
                reason,
                contact,
                text,
                ..
            } => {
                let (relationship, text) = split_relationship(text.as_deref().unwrap_or(""));
                let r = Removal {
                    subject: e.subject.clone(),
                    filed: e.at,
                    reason: *reason,
                    relationship: relationship.into(),
                    contact: contact.as_deref().unwrap_or("").into(),
                    text: text.into(),
                };
                // a rebuilt ledger replays the journal: keep each request once
                if !self.0.contains(&r) {
                    self.0.push(r);
                }
            }
            Evidence::DisputeDecision { .. }
            | Evidence::ManualList { .. }
            | Evidence::ManualUnlist { .. }
            | Evidence::AllowlistAdd { .. }
            | Evidence::AllowlistRemove { .. } => {
                let decided = matches!(e.evidence, Evidence::DisputeDecision { .. })
                    && matches!(o, Outcome::Accepted { .. });
                let open = ledger
                    .id(&e.subject)
                    .and_then(|id| ledger.open_dispute(id))
                    .is_some();
                // acted on: decided, or (no review open) any operator action on it
                if decided || !open {
                    self.0.retain(|r| r.subject != e.subject);
                }
            }
            _ => {}
        }
    }
}

fn split_relationship(text: &str) -> (&str, &str) {
    match text.strip_prefix(RELATIONSHIP) {
        Some(rest) => match rest.split_once('\n') {
            Some((rel, t)) => (rel, t.strip_prefix('\n').unwrap_or(t)),
            None => (rest, ""),
        },
        None => ("", text),
    }
}

struct Shared {
    store: Store,
    refreshed: Instant,
}

struct Inner {
    policy: Policy,
    config: WebConfig,
    shared: Mutex<Shared>,
    queue: Arc<Mutex<Queue>>,
    csrf: csrf::Csrf,
    lookups: RateLimiter,
    posts: RateLimiter,
    stats: stats::Stats,
}

/// The web adapter over one state directory and one profile: [`Site::router`] serves it.
///
/// # Examples
///
/// ```
/// use rblkit::web::{Site, WebConfig};
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-site-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// assert!(Site::open(&dir, "no-such-profile", WebConfig::default()).is_err());
/// let site = Site::open(&dir, "spamcop", WebConfig::default())?;
/// assert_eq!(site.profile(), "spamcop");
/// # drop(site);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Clone)]
pub struct Site {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("profile", &self.inner.policy.name())
            .field("config", &self.inner.config)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn clock() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

impl Site {
    /// Opens the store in `dir` (created when missing) under the built-in profile `profile`
    /// (`spamcop`, `spam-center`, `relay`).
    ///
    /// # Errors
    ///
    /// [`WebError::UnknownProfile`]; a store that cannot be opened; no randomness for the
    /// CSRF secret.
    pub fn open(dir: &Path, profile: &str, config: WebConfig) -> crate::Result<Site> {
        let unknown = || WebError::UnknownProfile {
            name: profile.into(),
            known: Policy::PROFILES.join(", ").into(),
        };
        let policy = Policy::profile(profile).ok_or_else(unknown)?;
        let hook_policy = Policy::profile(profile).ok_or_else(unknown)?;
        let queue = Arc::new(Mutex::new(Queue::default()));
        let q = Arc::clone(&queue);
        let store = Store::open_with(
            dir,
            LedgerConfig::default(),
            StoreOptions::default(),
            Box::new(move |ledger: &mut Ledger, e: &Event| {
                let o = hook_policy.apply(ledger, e);
                lock(&q).see(ledger, e, o);
                o
            }),
        )?;
        let csrf = csrf::Csrf::new()?;
        Ok(Site {
            inner: Arc::new(Inner {
                lookups: RateLimiter::new(config.lookups_per_minute, config.clients),
                posts: RateLimiter::new(config.posts_per_minute, config.clients),
                policy,
                config,
                shared: Mutex::new(Shared {
                    store,
                    refreshed: Instant::now(),
                }),
                queue,
                csrf,
                stats: stats::Stats::default(),
            }),
        })
    }

    /// The profile's name.
    pub fn profile(&self) -> &str {
        self.inner.policy.name()
    }

    /// Serves Prometheus metrics on `GET http://ADDR/metrics` while the endpoint is kept:
    /// requests by route pattern and status code, 429 refusals by rate limit, the latency
    /// histogram of the requests answered by this site's routers.
    ///
    /// # Errors
    ///
    /// `addr` cannot be bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::web::{Site, WebConfig};
    /// use std::io::{Read, Write};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-web-metrics-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let site = Site::open(&dir, "spamcop", WebConfig::default())?;
    /// let m = site.serve_metrics("127.0.0.1:0".parse().unwrap())?;
    /// let mut s = std::net::TcpStream::connect(m.local_addr())?;
    /// s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    /// let mut text = String::new();
    /// s.read_to_string(&mut text)?;
    /// assert!(text.contains("rblkit_web_rate_limited_total{limit=\"lookups\"} 0\n"), "{text}");
    /// # drop(m);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serve_metrics(&self, addr: SocketAddr) -> std::io::Result<crate::metrics::Endpoint> {
        let site = Arc::clone(&self.inner);
        crate::metrics::Endpoint::start(addr, move || site.stats.render())
    }

    /// The routes of the public site, its API and the operator side, with the limits and
    /// security headers. Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so rate limits are per client
    /// (without the connection's address every client shares one allowance).
    pub fn router(&self) -> Router {
        let state = Arc::clone(&self.inner);
        Router::new()
            .route("/", get(public::index))
            .route("/style.css", get(public::style))
            .route("/healthz", get(public::healthz))
            .route("/lookup", get(public::lookup_page))
            .route(
                "/self-delist",
                axum::routing::post(public::self_delist_form),
            )
            .route(
                "/removal-request",
                get(public::removal_page).post(public::removal_form),
            )
            .route("/api/v1/lookup", get(public::lookup_api))
            .route(
                "/api/v1/self-delist",
                axum::routing::post(public::self_delist_api),
            )
            .route(
                "/api/v1/removal-requests",
                axum::routing::post(public::removal_api),
            )
            .route("/operator/", get(operator::queue_page))
            .route("/operator/subject", get(operator::subject_page))
            .route(
                "/operator/action",
                axum::routing::post(operator::action_form),
            )
            .route("/api/v1/operator/queue", get(operator::queue_api))
            .route("/api/v1/operator/explain", get(operator::explain_api))
            .route(
                "/api/v1/operator/actions",
                axum::routing::post(operator::action_api),
            )
            .fallback(public::not_found)
            .layer(DefaultBodyLimit::max(self.inner.config.body_bytes))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&state),
                guard,
            ))
            .with_state(state)
    }
}

impl Inner {
    /// The store, refreshed when it was last read more than [`REFRESH`] ago.
    fn read(&self) -> MutexGuard<'_, Shared> {
        let mut s = lock(&self.shared);
        if s.refreshed.elapsed() >= REFRESH {
            if let Err(e) = s.store.refresh() {
                eprintln!("rblkit: web: reading the ledger: {e}");
            }
            s.refreshed = Instant::now();
        }
        s
    }

    /// Appends one event durably (on a blocking thread: the commit waits for the disk) and
    /// returns its outcome, the journal seq and what `then` reads from the ledger after it.
    async fn append<T: Send + 'static>(
        self: &Arc<Self>,
        subject: Subject,
        evidence: Evidence,
        then: impl FnOnce(&Policy, &Ledger, &Subject, Timestamp) -> T + Send + 'static,
    ) -> Result<(Outcome, u64, T), StoreError> {
        let me = Arc::clone(self);
        let r = tokio::task::spawn_blocking(move || {
            let mut s = lock(&me.shared);
            // the journal stays in time order even if the clock went back
            let now = s.store.newest().map_or(clock(), |n| n.max(clock()));
            let e = Event::new(now, subject.clone(), evidence);
            let out = s.store.append(std::slice::from_ref(&e))?;
            s.refreshed = Instant::now();
            let seq = s.store.last_seq();
            let t = then(&me.policy, s.store.ledger(), &subject, now);
            Ok((out.first().copied().unwrap_or(Outcome::Recorded), seq, t))
        })
        .await;
        r.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }

    fn review_by(&self, filed: Timestamp) -> Option<Timestamp> {
        self.policy.review.deadline(filed)
    }
}

/// The client's address (unspecified when the server was not given connection info).
fn client(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

fn is_operator(path: &str) -> bool {
    path == "/operator"
        || path.starts_with("/operator/")
        || path == "/api/v1/operator"
        || path.starts_with("/api/v1/operator/")
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Whether the request carries an operator credential; checked on a blocking thread, since
/// an argon2 verification takes a while.
async fn authorised(site: &Arc<Inner>, headers: &HeaderMap) -> bool {
    let Some(h) = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes().to_vec())
    else {
        return false;
    };
    let site = Arc::clone(site);
    tokio::task::spawn_blocking(move || site.config.authorised(Some(&h)))
        .await
        .unwrap_or(false)
}

/// Rate limits, operator authentication and the security headers of every answer.
async fn guard(State(site): State<Arc<Inner>>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let path = req.uri().path().to_owned();
    let api = is_api(&path);
    let operator = is_operator(&path);
    let ip = client(&req);
    // the limiter and its index in `stats::LIMITS`
    let limiter = if req.method() == Method::POST || operator {
        Some((&site.posts, 1))
    } else if path == "/lookup" || path == "/api/v1/lookup" {
        Some((&site.lookups, 0))
    } else {
        None
    };
    let mut resp =
        if let Some((Err(wait), which)) = limiter.map(|(l, i)| (l.check(ip, Instant::now()), i)) {
            site.stats.rate_limited(which);
            let mut r = refuse(
                api,
                StatusCode::TOO_MANY_REQUESTS,
                &input::bad(
                    "client",
                    format!("too many requests; try again in {} s", wait.as_secs()),
                ),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs()));
            r
        } else if operator && !authorised(&site, req.headers()).await {
            let why = if site.config.operator_open() {
                "operator credentials needed"
            } else {
                "the operator side is closed: no credentials are configured"
            };
            let mut r = refuse(
                api,
                StatusCode::UNAUTHORIZED,
                &input::bad("authorization", why),
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(site.config.challenge()),
            );
            r
        } else {
            next.run(req).await
        };
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        resp = refuse(
            api,
            StatusCode::PAYLOAD_TOO_LARGE,
            &input::bad(
                "body",
                format!("larger than {} bytes", site.config.body_bytes),
            ),
        );
    }
    site.stats
        .request(&path, resp.status().as_u16(), t0.elapsed());
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// A refusal: `{"error", "field"}` for the API, a page otherwise.
fn refuse(api: bool, status: StatusCode, b: &Bad) -> Response {
    if api {
        json(
            status,
            &serde_json::json!({"error": b.error, "field": b.field}),
        )
    } else {
        let mut body = String::new();
        body.push_str("<h1>");
        html::esc(&mut body, status.canonical_reason().unwrap_or("Error"));
        body.push_str("</h1><p class=\"error\" id=\"error\">");
        html::esc(&mut body, b.field);
        body.push_str(": ");
        html::esc(&mut body, &b.error);
        body.push_str("</p>");
        html::lookup_form(&mut body, "");
        page(status, "Error", &body)
    }
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html::page(title, body),
    )
        .into_response()
}

fn store_failed(api: bool, e: &StoreError) -> Response {
    eprintln!("rblkit: web: writing to the ledger: {e}");
    refuse(
        api,
        StatusCode::SERVICE_UNAVAILABLE,
        &input::bad("ledger", "the request could not be stored; try again later"),
    )
}

/// Whether the request's content type is `want` (parameters such as `charset` allowed).
fn content_type_is(headers: &HeaderMap, want: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(want))
}

fn wrong_type(api: bool, want: &str) -> Response {
    refuse(
        api,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        &input::bad("content-type", format!("must be {want}")),
    )
}

/// The client's CSRF cookie nonce, when it has a well-formed one.
fn cookie_nonce(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == csrf::COOKIE && csrf::is_nonce(v))
        .map(|(_, v)| v.to_owned())
}

/// The CSRF token for a page with a form, and the cookie to set when the client has no
/// nonce yet.
fn form_token(site: &Inner, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    let now = clock().unix_seconds();
    if let Some(n) = cookie_nonce(headers) {
        return (site.csrf.token(&n, now), None);
    }
    let n = site.csrf.nonce();
    let secure = if site.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = HeaderValue::from_str(&format!(
        "{}={n}; Path=/; HttpOnly; SameSite=Strict{secure}",
        csrf::COOKIE
    ))
    .expect("a cookie of hex digits");
    (site.csrf.token(&n, now), Some(cookie))
}

/// Whether a form's CSRF token is good for the client's cookie.
fn csrf_ok(site: &Inner, headers: &HeaderMap, token: Option<&str>) -> bool {
    match (cookie_nonce(headers), token) {
        (Some(n), Some(t)) => site.csrf.check(&n, t, clock().unix_seconds()),
        _ => false,
    }
}

/// The 403 answer to a form without a good CSRF token.
fn csrf_refused() -> Response {
    refuse(
        false,
        StatusCode::FORBIDDEN,
        &input::bad(
            "csrf",
            "the form's security token is missing or expired; reload the page and send it again",
        ),
    )
}

fn with_cookie(mut r: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(c) = cookie {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r
}
