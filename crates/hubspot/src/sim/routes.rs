//! The HTTP front: auth, rate limits and faults, dispatch to the resources, responses in
//! HubSpot's shapes with its headers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cartograph_model::Timestamp;
use serde_json::{Value, json};

use cartograph_sim::Fault;

use super::limits::Verdict;
use super::state::canonical;
use super::{Shared, meta, objects, webhook};

/// A response under construction.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// Status.
    pub(crate) status: u16,
    /// JSON body (`Null` = empty).
    pub(crate) body: Value,
}

impl Answer {
    /// A JSON answer.
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self { status, body }
    }

    /// An empty answer.
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            body: Value::Null,
        }
    }
}

/// A record written by a request (for webhooks).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// Object type.
    pub(crate) object: String,
    /// Record id.
    pub(crate) id: u64,
    /// Whether it was created.
    pub(crate) created: bool,
    /// Changed properties.
    pub(crate) changed: Vec<(String, String)>,
}

/// HubSpot's error body.
pub(crate) fn api_error(status: u16, category: &str, message: &str, errors: Vec<Value>) -> Answer {
    let mut body = json!({"status": "error", "message": message, "correlationId": uuid::Uuid::new_v4().to_string(), "category": category});
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    Answer::json(status, body)
}

/// 400 for a malformed body.
pub(crate) fn invalid_body(message: &str) -> Answer {
    api_error(400, "VALIDATION_ERROR", message, vec![])
}

/// 200/201 or 207 batch answer.
#[allow(clippy::needless_pass_by_value)] // callers hand over their vectors
pub(crate) fn batch_answer(results: Vec<Value>, errors: Vec<Value>, ok: u16) -> Answer {
    let now = Timestamp::now().to_rfc3339();
    let mut body =
        json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
    if errors.is_empty() {
        Answer::json(ok, body)
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = Value::Array(errors);
        Answer::json(207, body)
    }
}

fn ten_secondly() -> Answer {
    Answer::json(
        429,
        json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.", "errorType": "RATE_LIMIT", "correlationId": uuid::Uuid::new_v4().to_string(), "policyName": "TEN_SECONDLY_ROLLING", "groupName": "sim"}),
    )
}

fn daily() -> Answer {
    Answer::json(
        429,
        json!({"status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT", "correlationId": uuid::Uuid::new_v4().to_string(), "policyName": "DAILY", "groupName": "sim"}),
    )
}

/// Splits `/crm/v3/x/...` and `/crm/x/2026-03/...` into (family, rest).
fn family<'a>(segments: &'a [&'a str]) -> Option<(&'a str, &'a [&'a str])> {
    match segments {
        [
            "crm",
            "v3",
            family @ ("objects" | "properties" | "lists"),
            rest @ ..,
        ]
        | [
            "crm",
            family @ ("objects" | "properties" | "lists" | "associations"),
            "2026-03",
            rest @ ..,
        ] => Some((family, rest)),
        ["crm", "v4", "associations", rest @ ..] => Some(("associations", rest)),
        _ => None,
    }
}

fn dispatch(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    body: &Value,
    changes: &mut Vec<super::routes::Change>,
) -> Answer {
    let path = uri.path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let now = Timestamp::now();
    let mut inner = shared.lock();
    let portal = &mut inner.portal;
    let m = method.as_str();
    if let [
        "automation",
        "v2",
        "workflows",
        wid,
        "enrollments",
        "contacts",
        email,
    ] = segments.as_slice()
    {
        return if m == "POST" {
            meta::enroll_v2(portal, wid, email)
        } else {
            api_error(405, "VALIDATION_ERROR", "method not allowed", vec![])
        };
    }
    let Some((fam, rest)) = family(&segments) else {
        return api_error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("no route for {path}"),
            vec![],
        );
    };
    match (fam, rest) {
        ("lists", rest) => meta::lists(portal, m, rest, &query, body, now),
        ("associations", [from, to, "batch", op @ ..]) if m == "POST" => {
            let (Some(from), Some(to)) = (canonical(from), canonical(to)) else {
                return api_error(400, "VALIDATION_ERROR", "unknown object type", vec![]);
            };
            match op {
                ["associate", "default"] => meta::associations(portal, from, to, "default", body),
                ["create"] => meta::associations(portal, from, to, "create", body),
                _ => api_error(
                    404,
                    "OBJECT_NOT_FOUND",
                    "no such associations endpoint",
                    vec![],
                ),
            }
        }
        ("properties", [object, rest @ ..]) => match canonical(object) {
            Some(object) => meta::properties(portal, m, object, rest, body),
            None => api_error(
                400,
                "VALIDATION_ERROR",
                &format!("Unable to infer object type from: {object}"),
                vec![],
            ),
        },
        ("objects", [object, rest @ ..]) => {
            let Some(object) = canonical(object) else {
                return api_error(
                    400,
                    "VALIDATION_ERROR",
                    &format!("Unable to infer object type from: {object}"),
                    vec![],
                );
            };
            match (m, rest) {
                ("POST", ["batch", "upsert"]) => {
                    objects::batch_write(portal, object, body, false, now, changes)
                }
                ("POST", ["batch", "update"]) => {
                    objects::batch_write(portal, object, body, true, now, changes)
                }
                ("POST", ["batch", "create"]) => {
                    objects::batch_create(portal, object, body, now, changes)
                }
                ("POST", ["batch", "read"]) => objects::batch_read(portal, object, body),
                ("POST", ["search"]) => objects::search(portal, object, body),
                ("GET", []) => objects::list(portal, object, &query),
                ("GET", [id]) => {
                    let id_property = query
                        .iter()
                        .find(|(k, _)| k == "idProperty")
                        .map_or("hs_object_id", |(_, v)| v.as_str());
                    match portal
                        .find_by(object, id_property, id)
                        .and_then(|n| portal.to_json(object, n, None))
                    {
                        Some(v) => Answer::json(200, v),
                        None => api_error(404, "OBJECT_NOT_FOUND", "Object not found", vec![]),
                    }
                }
                _ => api_error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("no route for {m} {path}"),
                    vec![],
                ),
            }
        }
        _ => api_error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("no route for {m} {path}"),
            vec![],
        ),
    }
}

fn token_endpoint(shared: &Shared, body: &[u8]) -> Answer {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut inner = shared.lock();
    let ok = field("grant_type").as_deref() == Some("refresh_token")
        && field("client_id").as_deref() == Some(inner.config.client_id.as_str())
        && field("client_secret").as_deref() == Some(inner.config.client_secret.as_str())
        && field("refresh_token").as_deref() == Some(inner.config.refresh_token.as_str());
    if !ok {
        return Answer::json(
            400,
            json!({"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token", "error": "invalid_grant", "error_description": "missing or unknown refresh token"}),
        );
    }
    inner.next_token += 1;
    let token = format!("sim-oauth-{}", inner.next_token);
    inner.oauth_tokens.push(token.clone());
    Answer::json(
        200,
        json!({"token_type": "bearer", "access_token": token, "refresh_token": inner.config.refresh_token, "expires_in": inner.config.token_lifetime_secs}),
    )
}

/// The single handler every request goes through.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    shared
        .lock()
        .log
        .push((method.to_string(), uri.to_string(), parsed.clone()));
    if uri.path() == "/oauth/v1/token" && method == Method::POST {
        return respond(&shared, token_endpoint(&shared, &body), false);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let authorized = {
        let inner = shared.lock();
        bearer.is_some_and(|b| {
            b == inner.config.token
                || inner.oauth_tokens.contains(&b) && !inner.revoked.contains(&b)
        })
    };
    if !authorized {
        return respond(
            &shared,
            api_error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found.",
                vec![],
            ),
            false,
        );
    }
    if !body.is_empty() && parsed.is_null() {
        return respond(
            &shared,
            invalid_body("Invalid input JSON: the body is not JSON"),
            true,
        );
    }
    let fault = shared.faults.next_fault();
    let count = |bump: fn(&mut super::FaultCounts)| {
        bump(
            &mut shared
                .answered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    };
    match fault {
        Some(Fault::Latency(latency)) => {
            count(|c| c.delayed += 1);
            tokio::time::sleep(latency).await;
        }
        // An injected 429 is HubSpot's burst limit.
        Some(Fault::RateLimited(_)) => {
            count(|c| c.rate_limited += 1);
            return respond(&shared, ten_secondly(), true);
        }
        Some(Fault::ServerError(status)) => {
            count(|c| c.server_errors += 1);
            let answer = api_error(
                status,
                "INTERNAL_ERROR",
                "internal error (injected)",
                vec![],
            );
            return respond(&shared, answer, true);
        }
        Some(Fault::Drop) | None => {}
    }
    let verdict = shared.lock().limiter.check();
    match verdict {
        Verdict::TenSecondly => {
            count(|c| c.rate_limited += 1);
            return respond(&shared, ten_secondly(), true);
        }
        Verdict::Daily => {
            count(|c| c.rate_limited += 1);
            return respond(&shared, daily(), true);
        }
        Verdict::Serve => {}
    }
    let mut changes = Vec::new();
    let answer = dispatch(&shared, &method, &uri, &parsed, &mut changes);
    if !changes.is_empty() {
        webhook::emit(&shared, &changes, true).await;
    }
    let response = respond(&shared, answer, true);
    if fault == Some(Fault::Drop) {
        return cartograph_sim::faults::cut_body(response);
    }
    response
}

fn respond(shared: &Shared, answer: Answer, limited: bool) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if answer.body.is_null() {
        status.into_response()
    } else {
        (status, axum::Json(answer.body)).into_response()
    };
    let h = response.headers_mut();
    let correlation = uuid::Uuid::new_v4().to_string();
    if let Ok(v) = HeaderValue::from_str(&correlation) {
        h.insert("x-hubspot-correlation-id", v);
    }
    if limited {
        let l = shared.lock().limiter.headers();
        for (name, value) in [
            ("x-hubspot-ratelimit-max", u64::from(l.max)),
            ("x-hubspot-ratelimit-remaining", u64::from(l.remaining)),
            ("x-hubspot-ratelimit-interval-milliseconds", l.interval_ms),
            ("x-hubspot-ratelimit-daily", u64::from(l.daily)),
            (
                "x-hubspot-ratelimit-daily-remaining",
                u64::from(l.daily_remaining),
            ),
        ] {
            h.insert(name, HeaderValue::from(value));
        }
    }
    response
}
