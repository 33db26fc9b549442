//! The public pages and JSON API: lookup, self-delisting, removal requests.

use super::input::{self, Bad, Fields};
use super::{
    clock, content_type_is, csrf_ok, csrf_refused, form_token, html, json, page, refuse,
    store_failed, with_cookie, wrong_type, Inner, RELATIONSHIP,
};
use crate::ledger::store::StoreError;
use crate::ledger::{DisputeReason, Evidence, Outcome, Refusal};
use crate::policy::{status, SelfDelisting, State as Standing, Status};
use crate::subject::Subject;
use crate::time::Timestamp;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json as j, Value};
use std::fmt::Write as _;
use std::sync::Arc;

type Site = State<Arc<Inner>>;

pub(super) async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::STYLE,
    )
        .into_response()
}

/// A trivial answer, for health checks (and as the load script's reference).
pub(super) async fn healthz() -> &'static str {
    "ok\n"
}

pub(super) async fn not_found(req: axum::extract::Request) -> Response {
    let api = super::is_api(req.uri().path());
    refuse(
        api,
        StatusCode::NOT_FOUND,
        &input::bad("path", "no such page"),
    )
}

pub(super) async fn index() -> Response {
    let mut b = String::from(
        "<h1>Is your address listed?</h1><p>Enter the IP address, network or domain named in \
         the message that refused your mail.</p>",
    );
    html::lookup_form(&mut b, "");
    page(StatusCode::OK, "Lookup", &b)
}

fn standing(site: &Inner, s: &Subject) -> Status {
    let g = site.read();
    status(g.store.ledger(), &site.policy, s, clock())
}

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

fn status_json(st: &Status) -> Value {
    j!({
        "subject": st.subject.to_string(),
        "listed": st.listed,
        "since": ts(st.since),
        "expires": ts(st.expires),
        "time_to_delist_secs": st.time_to_delist.map(|d| d.as_secs()),
        "codes": st.codes.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "self_delisted_until": ts(st.self_delisted_until),
    })
}

pub(super) async fn lookup_api(State(site): Site, RawQuery(q): RawQuery) -> Response {
    match input::query_subject(q.as_deref()) {
        Err(b) => refuse(true, StatusCode::BAD_REQUEST, &b),
        Ok(s) => json(StatusCode::OK, &status_json(&standing(&site, &s))),
    }
}

/// What the public is told of a listing: the generic text, never why.
const GENERIC: &str = "Mail from this address or domain was reported as unwanted, or reached \
                       addresses that receive only unwanted mail. The details are not published.";

fn status_body(site: &Inner, st: &Status, csrf: &str, notice: Option<&str>) -> String {
    let subject = st.subject.to_string();
    let mut b = String::new();
    let _ = write!(b, "<h1 id=\"subject\">{}</h1>", html::e(&subject));
    if let Some(n) = notice {
        let _ = write!(b, "<p class=\"notice\" id=\"notice\">{}</p>", html::e(n));
    }
    match (st.state, st.listed) {
        (Standing::SelfDelisted, _) => {
            let until = st
                .self_delisted_until
                .map(|t| t.to_string())
                .unwrap_or_default();
            let _ = write!(
                b,
                "<p><span class=\"status excluded\" id=\"state\">Excluded until \
                 <time id=\"until\" datetime=\"{u}\">{u}</time></span></p>\
                 <p>Its owner asked for an exclusion; it is not listed until then. If the \
                 problem recurs in the meantime, it is listed again.</p>",
                u = html::e(&until)
            );
        }
        (_, true) => {
            b.push_str("<p><span class=\"status listed\" id=\"state\">Listed</span></p><dl>");
            if let Some(t) = st.since {
                let _ = write!(b, "<dt>Listed since</dt><dd id=\"since\">{t}</dd>");
            }
            b.push_str("<dt>Time to delisting</dt><dd id=\"ttd\">");
            match (st.time_to_delist, st.expires) {
                (Some(d), _) if d.is_zero() => b.push_str(
                    "0 — in the delisting process; mirrors of the list may take a while to follow",
                ),
                (Some(d), Some(t)) => {
                    let _ = write!(
                        b,
                        "{} (at {t}) if nothing new is reported; mirrors may take a while to follow",
                        html::duration(d)
                    );
                }
                _ => b.push_str("no automatic delisting"),
            }
            b.push_str("</dd><dt>Return codes</dt><dd id=\"codes\">");
            for (i, c) in st.codes.iter().enumerate() {
                if i > 0 {
                    b.push_str(", ");
                }
                let _ = write!(b, "{c}");
            }
            let _ = write!(b, "</dd></dl><p>{}</p>", html::e(GENERIC));
            if st.state == Standing::UnderReview {
                b.push_str("<p><span class=\"status review\">A removal request is under review.</span></p>");
            }
            if site.policy.self_delisting == SelfDelisting::Offered {
                let rules = site.read().store.ledger().config().self_delist;
                let _ = write!(
                    b,
                    "<h2>Fixed the problem?</h2><p>You may exclude it from the list for up to {}{}. \
                     If the problem recurs, it is listed again.</p>\
                     <form method=\"post\" action=\"/self-delist\"><input type=\"hidden\" \
                     name=\"subject\" value=\"{}\">",
                    rules.map_or("7 days".into(), |r| html::duration(r.max)),
                    rules.map_or(String::new(), |r| format!(
                        ", {} times per {}",
                        r.uses,
                        html::duration(r.period)
                    )),
                    html::e(&subject)
                );
                html::csrf_field(&mut b, csrf);
                b.push_str(
                    "<button type=\"submit\" id=\"self-delist\">Exclude it now</button></form>",
                );
            } else {
                b.push_str(
                    "<p>This list offers no self-delisting: its listings end on their own once \
                     the problem stops (see the time to delisting).</p>",
                );
            }
        }
        (_, false) => {
            b.push_str("<p><span class=\"status clean\" id=\"state\">Not listed</span></p>");
        }
    }
    if st.listed || st.state == Standing::SelfDelisted {
        let _ = write!(
            b,
            "<p>Think the listing is wrong? <a id=\"removal\" href=\"/removal-request?q={}\">Request its removal</a>.</p>",
            html::url(&subject)
        );
    }
    b.push_str("<h2>Look up another</h2>");
    html::lookup_form(&mut b, "");
    b
}

pub(super) async fn lookup_page(
    State(site): Site,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let s = match input::query_subject(q.as_deref()) {
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
        Ok(s) => s,
    };
    let st = standing(&site, &s);
    let (token, cookie) = form_token(&site, &headers);
    let body = status_body(&site, &st, &token, None);
    with_cookie(page(StatusCode::OK, &st.subject.to_string(), &body), cookie)
}

/// The answer to a self-delisting request.
enum SelfDelist {
    Accepted(Timestamp),
    Refused(String),
}

async fn self_delist(site: &Arc<Inner>, s: Subject) -> Result<SelfDelist, StoreError> {
    if site.policy.self_delisting == SelfDelisting::NotOffered {
        return Ok(SelfDelist::Refused(
            "this list does not offer self-delisting: its listings expire on their own".into(),
        ));
    }
    // only the public standing decides whether a request is written at all
    let st = standing(site, &s);
    if let Some(until) = st.self_delisted_until {
        return Ok(SelfDelist::Refused(format!(
            "already excluded until {until}"
        )));
    }
    if !st.listed {
        return Ok(SelfDelist::Refused("not listed".into()));
    }
    let (o, _, ()) = site
        .append(s, Evidence::SelfDelist, |_, _, _, _| ())
        .await?;
    Ok(match o {
        Outcome::Accepted { until: Some(t) } => SelfDelist::Accepted(t),
        Outcome::Refused(Refusal::UsesExhausted { next }) => SelfDelist::Refused(format!(
            "self-delisting is used up for this period; it is offered again from {next}"
        )),
        Outcome::Refused(Refusal::NotListed | Refusal::Allowlisted) => {
            SelfDelist::Refused("not listed".into())
        }
        Outcome::Refused(r) => SelfDelist::Refused(r.to_string()),
        _ => SelfDelist::Refused("not accepted".into()),
    })
}

pub(super) async fn self_delist_api(
    State(site): Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, "application/json") {
        return wrong_type(true, "application/json");
    }
    let s = match input::json_object(&body, &["subject"])
        .and_then(|m| input::subject("subject", input::json_str(&m, "subject")?))
    {
        Ok(s) => s,
        Err(b) => return refuse(true, StatusCode::BAD_REQUEST, &b),
    };
    match self_delist(&site, s).await {
        Err(e) => store_failed(true, &e),
        Ok(SelfDelist::Accepted(t)) => json(
            StatusCode::OK,
            &j!({"accepted": true, "until": t.to_string()}),
        ),
        Ok(SelfDelist::Refused(r)) => json(StatusCode::OK, &j!({"accepted": false, "reason": r})),
    }
}

pub(super) async fn self_delist_form(
    State(site): Site,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return wrong_type(false, "application/x-www-form-urlencoded");
    }
    let f = match Fields::parse(&body, &["subject", "csrf"]) {
        Ok(f) => f,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    if !csrf_ok(&site, &headers, f.get("csrf")) {
        return csrf_refused();
    }
    let s = match input::subject("subject", f.get("subject")) {
        Ok(s) => s,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    let notice = match self_delist(&site, s.clone()).await {
        Err(e) => return store_failed(false, &e),
        Ok(SelfDelist::Accepted(t)) => format!(
            "Accepted: {s} is excluded from the list until {t}. If the problem recurs, it is listed again."
        ),
        Ok(SelfDelist::Refused(r)) => format!("Not accepted: {r}."),
    };
    let st = standing(&site, &s);
    let (token, cookie) = form_token(&site, &headers);
    let body = status_body(&site, &st, &token, Some(&notice));
    with_cookie(page(StatusCode::OK, &s.to_string(), &body), cookie)
}

/// A checked removal request.
struct Removal {
    subject: Subject,
    reason: DisputeReason,
    relationship: String,
    contact: String,
    text: Option<String>,
}

fn removal(get: impl Fn(&'static str) -> Result<Option<String>, Bad>) -> Result<Removal, Bad> {
    let subject = input::subject("subject", get("subject")?.as_deref())?;
    let reason = input::dispute_reason(get("reason")?.as_deref())?;
    let relationship = input::text(
        "relationship",
        get("relationship")?.as_deref(),
        100,
        true,
        false,
    )?
    .unwrap_or_default();
    let contact = input::contact(get("contact")?.as_deref())?;
    let text = input::text("text", get("text")?.as_deref(), 4000, false, true)?;
    Ok(Removal {
        subject,
        reason,
        relationship,
        contact,
        text,
    })
}

/// Stores the request as a `dispute`: its id (the journal's seq) and review deadline.
async fn file(site: &Arc<Inner>, r: Removal) -> Result<(u64, Option<Timestamp>), StoreError> {
    let mut text = format!("{RELATIONSHIP}{}", r.relationship);
    if let Some(t) = &r.text {
        text.push_str("\n\n");
        text.push_str(t);
    }
    let ev = Evidence::Dispute {
        reason: r.reason,
        reporter: None,
        contact: Some(r.contact.into()),
        text: Some(text.into()),
    };
    let (_, seq, review_by) = site
        .append(r.subject, ev, |policy, ledger, s, now| {
            // the open review's deadline (this request's, or the one already open)
            policy
                .review_by(ledger, s)
                .or_else(|| policy.review.deadline(now))
        })
        .await?;
    Ok((seq, review_by))
}

pub(super) async fn removal_api(State(site): Site, headers: HeaderMap, body: Bytes) -> Response {
    if !content_type_is(&headers, "application/json") {
        return wrong_type(true, "application/json");
    }
    let fields = ["subject", "reason", "relationship", "contact", "text"];
    let r = input::json_object(&body, &fields)
        .and_then(|m| removal(|f| Ok(input::json_str(&m, f)?.map(str::to_owned))));
    let r = match r {
        Ok(r) => r,
        Err(b) => return refuse(true, StatusCode::BAD_REQUEST, &b),
    };
    match file(&site, r).await {
        Err(e) => store_failed(true, &e),
        Ok((id, review_by)) => json(
            StatusCode::CREATED,
            &j!({"id": id, "review_by": ts(review_by)}),
        ),
    }
}

fn removal_body(subject: &str, token: &str) -> String {
    let mut b = String::from(
        "<h1>Request a removal</h1><p>Staff review each request; say why the listing is wrong.</p>\
         <form method=\"post\" action=\"/removal-request\">",
    );
    let _ = write!(
        b,
        "<label for=\"subject\">IP address, network or domain</label>\
         <input type=\"text\" id=\"subject\" name=\"subject\" value=\"{}\" maxlength=\"320\" required>\
         <label for=\"relationship\">Your relationship to it</label>\
         <input type=\"text\" id=\"relationship\" name=\"relationship\" maxlength=\"100\" \
         placeholder=\"e.g. its mail administrator\" required>\
         <label for=\"reason\">Why it is wrong</label><select id=\"reason\" name=\"reason\">\
         <option value=\"technical_error\">A technical error (the list is wrong about it)</option>\
         <option value=\"user_error\">A user error (someone reported mail they wanted)</option></select>\
         <label for=\"contact\">Your email address</label>\
         <input type=\"email\" id=\"contact\" name=\"contact\" maxlength=\"254\" required>\
         <label for=\"text\">Anything else staff should know</label>\
         <textarea id=\"text\" name=\"text\" maxlength=\"4000\"></textarea>",
        html::e(subject)
    );
    html::csrf_field(&mut b, token);
    b.push_str("<p><button type=\"submit\" id=\"send\">Send the request</button></p></form>");
    b
}

pub(super) async fn removal_page(
    State(site): Site,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match Fields::parse(q.unwrap_or_default().as_bytes(), &["q"]) {
        Ok(f) => match f.get("q") {
            None | Some("") => String::new(),
            Some(v) => match input::subject("q", Some(v)) {
                Ok(s) => s.to_string(),
                Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
            },
        },
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    let (token, cookie) = form_token(&site, &headers);
    with_cookie(
        page(
            StatusCode::OK,
            "Request a removal",
            &removal_body(&subject, &token),
        ),
        cookie,
    )
}

pub(super) async fn removal_form(State(site): Site, headers: HeaderMap, body: Bytes) -> Response {
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return wrong_type(false, "application/x-www-form-urlencoded");
    }
    let fields = [
        "subject",
        "reason",
        "relationship",
        "contact",
        "text",
        "csrf",
    ];
    let f = match Fields::parse(&body, &fields) {
        Ok(f) => f,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    if !csrf_ok(&site, &headers, f.get("csrf")) {
        return csrf_refused();
    }
    let r = match removal(|n| Ok(f.get(n).map(str::to_owned))) {
        Ok(r) => r,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    let subject = r.subject.to_string();
    match file(&site, r).await {
        Err(e) => store_failed(false, &e),
        Ok((id, review_by)) => {
            let mut b = format!(
                "<h1>Request received</h1><p class=\"notice\" id=\"notice\">Your request number \
                 <span id=\"id\">{id}</span> about {} is stored.",
                html::e(&subject)
            );
            match review_by {
                Some(t) => {
                    let _ = write!(b, " Staff review it by <time id=\"review-by\">{t}</time>.");
                }
                None => b.push_str(" This list's listings expire on their own; staff read requests but promise no review."),
            }
            b.push_str("</p>");
            html::lookup_form(&mut b, "");
            page(StatusCode::CREATED, "Request received", &b)
        }
    }
}
