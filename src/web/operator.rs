//! The operator side: the review queue, a subject's full explanation, and actions recorded
//! as ledger evidence. The guard lets only authenticated requests reach these handlers.

use super::input::{self, Bad, Fields};
use super::{
    clock, content_type_is, csrf_ok, csrf_refused, form_token, html, json, lock, page, refuse,
    store_failed, with_cookie, wrong_type, Inner,
};
use crate::ledger::store::StoreError;
use crate::ledger::{DisputeDecision, Evidence, Outcome};
use crate::policy::explain;
use crate::subject::Subject;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json as j, Value};
use std::fmt::Write as _;
use std::sync::Arc;

type Site = State<Arc<Inner>>;

/// The queue, oldest first, with deadlines: `(request, review_by)`.
fn queue(site: &Inner) -> Vec<(super::Removal, Option<crate::Timestamp>)> {
    drop(site.read()); // catch up with other processes first
    lock(&site.queue)
        .0
        .iter()
        .map(|r| (r.clone(), site.review_by(r.filed)))
        .collect()
}

pub(super) async fn queue_api(State(site): Site) -> Response {
    let now = clock();
    let items: Vec<Value> = queue(&site)
        .into_iter()
        .map(|(r, by)| {
            j!({
                "subject": r.subject.to_string(),
                "filed": r.filed.to_string(),
                "reason": r.reason.as_str(),
                "relationship": r.relationship,
                "contact": r.contact,
                "text": r.text,
                "review_by": by.map(|t| t.to_string()),
                "overdue": by.is_some_and(|t| t < now),
            })
        })
        .collect();
    json(
        StatusCode::OK,
        &j!({"profile": site.policy.name(), "requests": items}),
    )
}

pub(super) async fn queue_page(State(site): Site) -> Response {
    let now = clock();
    let q = queue(&site);
    let mut b = format!(
        "<h1>Removal requests</h1><p>Profile {}; {} waiting.</p>",
        html::e(site.policy.name()),
        q.len()
    );
    b.push_str("<table id=\"queue\"><tr><th>Subject</th><th>Filed</th><th>Review by</th><th>Reason</th><th>From</th><th>Text</th></tr>");
    for (r, by) in &q {
        let s = r.subject.to_string();
        let _ = write!(
            b,
            "<tr><td><a href=\"/operator/subject?q={}\">{}</a></td><td>{}</td><td>{}{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
            html::url(&s),
            html::e(&s),
            r.filed,
            by.map_or("no review promised".into(), |t| t.to_string()),
            if by.is_some_and(|t| t < now) { " — overdue" } else { "" },
            r.reason.as_str(),
            html::e(&r.contact),
            html::e(&r.relationship),
            html::e(&r.text),
        );
    }
    b.push_str("</table><h2>Look at a subject</h2><form method=\"get\" action=\"/operator/subject\">\
                <label for=\"q\">Subject</label><input type=\"text\" id=\"q\" name=\"q\" maxlength=\"320\" required>\
                <p><button type=\"submit\">Explain</button></p></form>");
    page(StatusCode::OK, "Removal requests", &b)
}

pub(super) async fn explain_api(State(site): Site, RawQuery(q): RawQuery) -> Response {
    match input::query_subject(q.as_deref()) {
        Err(b) => refuse(true, StatusCode::BAD_REQUEST, &b),
        Ok(s) => {
            let g = site.read();
            let x = explain(g.store.ledger(), &site.policy, &s, clock());
            json(StatusCode::OK, &x.to_json())
        }
    }
}

const ACTIONS: &[(&str, &str)] = &[
    ("uphold", "Uphold the open dispute"),
    ("reject", "Reject the open dispute"),
    ("list", "List it"),
    ("unlist", "Unlist it"),
    ("allowlist", "Allowlist it"),
    ("unallowlist", "End its allowlisting"),
];

pub(super) async fn subject_page(
    State(site): Site,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let s = match input::query_subject(q.as_deref()) {
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
        Ok(s) => s,
    };
    let text = {
        let g = site.read();
        explain(g.store.ledger(), &site.policy, &s, clock()).to_string()
    };
    let (token, cookie) = form_token(&site, &headers);
    let name = s.to_string();
    let mut b = format!(
        "<h1>{}</h1><pre id=\"explain\">{}</pre><h2>Act</h2>\
         <form method=\"post\" action=\"/operator/action\"><input type=\"hidden\" name=\"subject\" value=\"{}\">\
         <label for=\"action\">Action</label><select id=\"action\" name=\"action\">",
        html::e(&name),
        html::e(&text),
        html::e(&name)
    );
    for (v, label) in ACTIONS {
        let _ = write!(b, "<option value=\"{v}\">{label}</option>");
    }
    b.push_str(
        "</select><label for=\"note\">Note (recorded with the evidence; needed to list or unlist)</label>\
         <input type=\"text\" id=\"note\" name=\"note\" maxlength=\"1000\">",
    );
    html::csrf_field(&mut b, &token);
    b.push_str("<p><button type=\"submit\" id=\"act\">Record</button></p></form><p><a href=\"/operator/\">Back to the queue</a></p>");
    with_cookie(page(StatusCode::OK, &name, &b), cookie)
}

/// An operator's action as evidence.
fn action(
    subject: Option<&str>,
    action: Option<&str>,
    note: Option<&str>,
) -> Result<(Subject, Evidence), Bad> {
    let s = input::subject("subject", subject)?;
    let note = input::text("note", note, 1000, false, false)?;
    let need = |n: Option<String>| {
        n.ok_or_else(|| input::bad("note", "missing: listing and unlisting need a note"))
    };
    let ev = match action.map(str::trim) {
        Some("uphold") => Evidence::DisputeDecision {
            decision: DisputeDecision::Upheld,
            note: note.map(Into::into),
        },
        Some("reject") => Evidence::DisputeDecision {
            decision: DisputeDecision::Rejected,
            note: note.map(Into::into),
        },
        Some("list") => Evidence::ManualList {
            note: need(note)?.into(),
            reason: None,
        },
        Some("unlist") => Evidence::ManualUnlist {
            note: need(note)?.into(),
            reason: None,
        },
        Some("allowlist") => Evidence::AllowlistAdd {
            note: note.map(Into::into),
        },
        Some("unallowlist") => Evidence::AllowlistRemove {
            note: note.map(Into::into),
        },
        None | Some("") => return Err(input::bad("action", "missing")),
        Some(_) => {
            return Err(input::bad(
                "action",
                "must be uphold, reject, list, unlist, allowlist or unallowlist",
            ))
        }
    };
    Ok((s, ev))
}

/// Records the action; `(outcome, reason)`.
async fn act(
    site: &Arc<Inner>,
    s: Subject,
    ev: Evidence,
) -> Result<(&'static str, Option<String>), StoreError> {
    let (o, _, ()) = site.append(s, ev, |_, _, _, _| ()).await?;
    Ok(match o {
        Outcome::Accepted { .. } => ("accepted", None),
        Outcome::Refused(r) => ("refused", Some(r.to_string())),
        _ => ("recorded", None),
    })
}

pub(super) async fn action_api(State(site): Site, headers: HeaderMap, body: Bytes) -> Response {
    if !content_type_is(&headers, "application/json") {
        return wrong_type(true, "application/json");
    }
    let parsed = input::json_object(&body, &["subject", "action", "note"]).and_then(|m| {
        action(
            input::json_str(&m, "subject")?,
            input::json_str(&m, "action")?,
            input::json_str(&m, "note")?,
        )
    });
    let (s, ev) = match parsed {
        Ok(x) => x,
        Err(b) => return refuse(true, StatusCode::BAD_REQUEST, &b),
    };
    let event = ev.name();
    match act(&site, s, ev).await {
        Err(e) => store_failed(true, &e),
        Ok((outcome, reason)) => json(
            StatusCode::OK,
            &j!({"event": event, "outcome": outcome, "reason": reason}),
        ),
    }
}

pub(super) async fn action_form(State(site): Site, headers: HeaderMap, body: Bytes) -> Response {
    if !content_type_is(&headers, "application/x-www-form-urlencoded") {
        return wrong_type(false, "application/x-www-form-urlencoded");
    }
    let f = match Fields::parse(&body, &["subject", "action", "note", "csrf"]) {
        Ok(f) => f,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    if !csrf_ok(&site, &headers, f.get("csrf")) {
        return csrf_refused();
    }
    let (s, ev) = match action(f.get("subject"), f.get("action"), f.get("note")) {
        Ok(x) => x,
        Err(b) => return refuse(false, StatusCode::BAD_REQUEST, &b),
    };
    let name = s.to_string();
    let event = ev.name();
    match act(&site, s, ev).await {
        Err(e) => store_failed(false, &e),
        Ok((outcome, reason)) => {
            let b = format!(
                "<h1>{}</h1><p class=\"notice\" id=\"notice\">{event}: {outcome}{}</p>\
                 <p><a href=\"/operator/subject?q={}\">Back to the subject</a> · <a href=\"/operator/\">the queue</a></p>",
                html::e(&name),
                reason.map(|r| format!(" ({})", html::e(&r))).unwrap_or_default(),
                html::url(&name)
            );
            page(StatusCode::OK, &name, &b)
        }
    }
}
