//! A ready-made axum router for webhook intake (feature `axum`).
//!
//! `POST /webhooks/commerce` goes to [`Intake::commerce`](crate::Intake::commerce) with the
//! pipeline's commerce source, `POST /webhooks/crm` to [`Intake::crm`](crate::Intake::crm)
//! with its CRM source. The full URL the vendor called is rebuilt from `X-Forwarded-Proto` /
//! `X-Forwarded-Host` when a proxy sets them, else from the `Host` header, because signatures
//! cover it. The answer is the intake's status: 200 once durably queued, 401 for a bad
//! signature, 503 when the store could not commit (the vendor retries).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::post;
use bytes::Bytes;
use cartograph_connector::WebhookRequest;
use cartograph_model::Timestamp;

use crate::pipeline::Pipeline;

/// The intake router over `pipeline`.
pub fn intake_router(pipeline: Arc<Pipeline>) -> Router {
    Router::new()
        .route("/webhooks/commerce", post(commerce))
        .route("/webhooks/crm", post(crm))
        .with_state(pipeline)
}

/// The request as the vendor sent it.
pub fn webhook_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> WebhookRequest {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .unwrap_or("localhost");
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    WebhookRequest {
        method: method.as_str().to_owned(),
        url: format!("{scheme}://{host}{path}"),
        headers: headers
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_owned(), v.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
        received_at: Timestamp::now(),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn commerce(
    State(pipeline): State<Arc<Pipeline>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let request = webhook_request(&method, &uri, &headers, &body);
    let answer = pipeline
        .intake()
        .commerce(pipeline.source().as_ref(), &request)
        .await;
    status(answer.status)
}

async fn crm(
    State(pipeline): State<Arc<Pipeline>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(source) = pipeline.crm_source() else {
        return StatusCode::NOT_FOUND;
    };
    let request = webhook_request(&method, &uri, &headers, &body);
    status(
        pipeline
            .intake()
            .crm(source.as_ref(), &request)
            .await
            .status,
    )
}
