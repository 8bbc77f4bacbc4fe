//! HTTP plumbing of the simulator: auth, injected faults, the per-account quota, then the
//! API semantics in [`super::state`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cartograph_connector::WebhookRequest;
use cartograph_sim::Fault;
use serde_json::{Value, json};

use super::Shared;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn reply(status: u16, body: &Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn retry_after(mut response: Response, real: std::time::Duration) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("{:.3}", real.as_secs_f64())) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let token = headers.get("api-token").and_then(|v| v.to_str().ok());
    if token != Some(shared.config.token.as_str()) {
        return reply(
            403,
            &json!({"message": "You are not authorized to access this resource"}),
        );
    }
    let scale = shared.config.time_scale;
    let fault = shared.faults.next_fault();
    match fault {
        Some(Fault::RateLimited(after)) => {
            return retry_after(
                reply(429, &json!({"message": "Too Many Requests"})),
                scale.real(after),
            );
        }
        Some(Fault::ServerError(status)) => {
            return reply(status, &json!({"message": "Service Unavailable"}));
        }
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        // A dropped connection: the request is served, its answer cut off (below).
        Some(Fault::Drop) | None => {}
    }
    let quota = shared
        .quota
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if !quota.allowed {
        let wait = scale.real(quota.reset_after.max(std::time::Duration::from_millis(1)));
        return retry_after(reply(429, &json!({"message": "Too Many Requests"})), wait);
    }
    let path = uri.path().trim_start_matches('/');
    let Some(rest) = path.strip_prefix("api/3") else {
        return reply(404, &json!({"message": "No Result found for route"}));
    };
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let json_body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return reply(400, &json!({"message": "Request body is not valid JSON"})),
        }
    };
    if !json_body.is_null() {
        shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((method.to_string(), rest.to_owned(), json_body.clone()));
    }
    if rest.trim_matches('/') == "import/bulk_import" {
        let import = shared
            .imports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if !import.allowed {
            return reply(
                400,
                &json!({"success": 0, "message": "Rate limit exceeded.",
                        "failureReasons": ["Up to 100 imports may be requested per minute."]}),
            );
        }
    }
    let (status, value, outbox) = {
        let mut state = shared.state();
        let (status, value) = state.handle(method.as_str(), &segments, &query, &json_body);
        (status, value, std::mem::take(&mut state.outbox))
    };
    push(outbox);
    let response = reply(status, &value);
    if fault == Some(Fault::Drop) {
        return cartograph_sim::faults::cut_body(response);
    }
    response
}

/// Posts push-webhook deliveries in the background (failures are only logged, as the real
/// account would retry later).
pub(crate) fn push(outbox: Vec<WebhookRequest>) {
    if outbox.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    runtime.spawn(async move {
        let client = cartograph_http::reqwest::Client::new();
        for request in outbox {
            let result = client
                .post(&request.url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(request.body)
                .send()
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "simulated webhook delivery failed");
            }
        }
    });
}
