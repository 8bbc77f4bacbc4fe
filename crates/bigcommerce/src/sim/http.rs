//! Router, the request gate (auth, faults, quota headers) and response helpers.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cartograph_model::Timestamp;
use cartograph_sim::Fault;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Shared, routes_catalog as cat, routes_customers as cus, routes_orders as ord};
use crate::wire::{PageLinks, Pagination};

/// Query pairs as sent.
pub(crate) type Q = Vec<(String, String)>;
/// The shared state extractor.
pub(crate) type S = State<Arc<Shared>>;

pub(crate) fn router(shared: &Arc<Shared>) -> Router {
    let api = Router::new()
        .route(
            "/v3/customers",
            get(cus::list).post(cus::create).put(cus::update),
        )
        .route(
            "/v2/customer_groups",
            get(cus::list_groups).post(cus::create_group),
        )
        .route("/v3/shopper-profiles", post(cus::create_profiles))
        .route(
            "/v3/segments/{id}/shopper-profiles",
            post(cus::add_to_segment),
        )
        .route("/v2/orders", get(ord::list))
        .route("/v2/orders/{id}", get(ord::get_one))
        .route("/v2/orders/{id}/{sub}", get(ord::sub_resource))
        .route("/v3/orders/payment_actions/refunds", get(ord::list_refunds))
        .route(
            "/v3/orders/{id}/payment_actions/refunds",
            get(ord::order_refunds),
        )
        .route("/v3/catalog/products", get(cat::list_products))
        .route("/v3/catalog/products/{id}", get(cat::get_product))
        .route("/v3/catalog/categories", get(cat::list_categories))
        .route("/v3/catalog/brands", get(cat::list_brands))
        .route("/v3/carts/{id}", get(cat::get_cart))
        .route("/v3/carts/{id}/redirect_urls", post(cat::redirect_urls))
        .route("/v3/hooks", get(cat::list_hooks).post(cat::create_hook))
        .route(
            "/v3/hooks/{id}",
            get(cat::get_hook)
                .put(cat::update_hook)
                .delete(cat::delete_hook),
        )
        .fallback(|| async {
            v3_error(
                StatusCode::NOT_FOUND,
                "The requested resource was not found.",
                None,
            )
        })
        .layer(middleware::from_fn_with_state(Arc::clone(shared), gate))
        .with_state(Arc::clone(shared));
    Router::new()
        .nest(&format!("/stores/{}", shared.config.store_hash), api)
        .fallback(|| async { v3_error(StatusCode::NOT_FOUND, "Store not found.", None) })
}

/// Auth, injected faults and the quota window, around every API request.
async fn gate(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    sh.state().requests += 1;
    let fault = sh.faults.next_fault();
    if let Some(Fault::Latency(latency)) = fault {
        tokio::time::sleep(latency).await;
    }
    let token_ok = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t == sh.config.access_token);
    if !token_ok {
        return v3_error(
            StatusCode::UNAUTHORIZED,
            "You are not authorized to access this resource.",
            None,
        );
    }
    match fault {
        // Platform overload: a 429 without any rate-limit header.
        Some(Fault::RateLimited(_)) => return StatusCode::TOO_MANY_REQUESTS.into_response(),
        Some(Fault::ServerError(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return v3_error(status, status.canonical_reason().unwrap_or("Error"), None);
        }
        _ => {}
    }
    let quota = sh
        .quota
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let mut response = if quota.allowed {
        next.run(req).await
    } else {
        v3_error(
            StatusCode::TOO_MANY_REQUESTS,
            "You have exceeded your rate limit.",
            None,
        )
    };
    // The headers in real time: what the connector waits, whatever the time scale.
    let scale = sh.config.time_scale;
    let window = scale.real(quota.window).max(Duration::from_millis(1));
    let h = response.headers_mut();
    let ms =
        |d: Duration| HeaderValue::from(u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1));
    h.insert(
        "x-rate-limit-requests-left",
        HeaderValue::from(quota.remaining),
    );
    h.insert(
        "x-rate-limit-time-reset-ms",
        ms(scale.real(quota.reset_after)),
    );
    h.insert(
        "x-rate-limit-requests-quota",
        HeaderValue::from(quota.limit),
    );
    h.insert("x-rate-limit-time-window-ms", ms(window));
    if fault == Some(Fault::Drop) && quota.allowed {
        return cartograph_sim::faults::cut_body(response);
    }
    response
}

/// A v3 error: `{status, title, type, errors}`.
pub(crate) fn v3_error(status: StatusCode, title: &str, errors: Option<Value>) -> Response {
    (
        status,
        axum::Json(json!({
            "status": status.as_u16(),
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": errors.unwrap_or_else(|| json!({})),
        })),
    )
        .into_response()
}

/// A v2 error: `[{status, message}]`.
pub(crate) fn v2_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!([{ "status": status.as_u16(), "message": message }])),
    )
        .into_response()
}

pub(crate) fn ok<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

pub(crate) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The first value of a query key.
pub(crate) fn param<'a>(q: &'a Q, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A comma-separated `:in` list of numbers.
pub(crate) fn ids(q: &Q, key: &str) -> Option<Vec<u64>> {
    param(q, key).map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
}

/// `page` and `limit` (v3 default 50, max 250).
pub(crate) fn page_limit(q: &Q) -> (usize, usize) {
    let page = param(q, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let limit = param(q, "limit")
        .and_then(|p| p.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 250);
    (page, limit)
}

/// One page of `items` and its `meta.pagination`.
pub(crate) fn paginate<T: Clone>(items: &[T], page: usize, limit: usize) -> (Vec<T>, Pagination) {
    let total = items.len();
    let total_pages = total.div_ceil(limit);
    let rows: Vec<T> = items
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    let pagination = Pagination {
        total: total as u64,
        count: rows.len() as u64,
        per_page: limit as u64,
        current_page: page as u64,
        total_pages: total_pages as u64,
        links: Some(PageLinks {
            previous: (page > 1).then(|| format!("?page={}&limit={limit}", page - 1)),
            current: Some(format!("?page={page}&limit={limit}")),
            next: (page < total_pages).then(|| format!("?page={}&limit={limit}", page + 1)),
        }),
    };
    (rows, pagination)
}

/// A filter time: RFC 3339, ISO without offset (UTC), RFC 2822, or a bare date (BigCommerce
/// then appends the current time of day).
pub(crate) fn filter_time(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = Timestamp::parse_rfc3339(t) {
        return Some(ts);
    }
    if let Ok(ts) = Timestamp::parse_rfc2822(t) {
        return Some(ts);
    }
    if let Ok(ts) = Timestamp::parse_rfc3339(&format!("{t}Z")) {
        return Some(ts);
    }
    if t.len() == 10 {
        let now = Timestamp::now().to_offset_date_time();
        let time = format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second());
        return Timestamp::parse_rfc3339(&format!("{t}T{time}Z")).ok();
    }
    None
}

/// Parses a JSON body or answers a 400 v3 error.
pub(crate) fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(v3_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON for this resource.",
            Some(json!({ "body": e.to_string() })),
        ))
    })
}
