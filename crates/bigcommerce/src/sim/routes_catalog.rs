//! Catalog (products, categories, brands), carts and hooks (v3).

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use cartograph_model::Timestamp;
use serde_json::json;

use super::http::{Q, S, body, filter_time, ids, ok, page_limit, paginate, param, v3_error};
use super::webhooks;
use crate::wire::{Collection, Hook, HookInput, Meta, Product, Single};

fn modified(p: &Product) -> i64 {
    p.date_modified
        .as_deref()
        .and_then(|t| Timestamp::parse_rfc3339(t).ok())
        .map_or(0, |t| t.unix_millis())
}

fn render(p: &Product, include: &str) -> Product {
    let mut p = p.clone();
    if !include.split(',').any(|i| i == "variants") {
        p.variants.clear();
    }
    if !include.split(',').any(|i| i == "images") {
        p.images.clear();
    }
    p
}

/// The rows as JSON, cut to `id` and the `include_fields` when the request names some (as
/// the API does: "The ID and the specified fields will be returned"); applied to one page.
fn included<T: serde::Serialize>(rows: &[T], q: &Q) -> Vec<serde_json::Value> {
    let fields: Option<Vec<&str>> = param(q, "include_fields").map(|f| {
        f.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect()
    });
    rows.iter()
        .map(|row| {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            if let (Some(fields), Some(object)) = (&fields, value.as_object_mut()) {
                object.retain(|k, _| k == "id" || fields.contains(&k.as_str()));
            }
            value
        })
        .collect()
}

fn collection<T: serde::Serialize + Clone>(rows: &[T], q: &Q) -> Response {
    let (page, limit) = page_limit(q);
    let (data, pagination) = paginate(rows, page, limit);
    let data = included(&data, q);
    ok(
        StatusCode::OK,
        &Collection {
            data,
            meta: Meta {
                pagination: Some(pagination),
                cursor_pagination: None,
            },
        },
    )
}

pub(crate) async fn list_products(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let s = sh.state();
    let include = param(&q, "include").unwrap_or_default();
    let only = ids(&q, "id:in");
    let min = param(&q, "date_modified:min").and_then(filter_time);
    let max = param(&q, "date_modified:max").and_then(filter_time);
    let mut rows: Vec<Product> = s
        .products
        .values()
        .filter(|p| only.as_ref().is_none_or(|o| o.contains(&p.id)))
        .filter(|p| min.is_none_or(|m| modified(p) >= m.unix_millis()))
        .filter(|p| max.is_none_or(|m| modified(p) <= m.unix_millis()))
        .map(|p| render(p, include))
        .collect();
    if param(&q, "sort") == Some("date_modified") {
        rows.sort_by_key(|p| (modified(p), p.id));
    }
    if param(&q, "direction") == Some("desc") {
        rows.reverse();
    }
    collection(&rows, &q)
}

pub(crate) async fn get_product(
    axum::extract::State(sh): S,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> Response {
    let s = sh.state();
    match id.parse::<u64>().ok().and_then(|i| s.products.get(&i)) {
        Some(p) => ok(
            StatusCode::OK,
            &Single {
                data: render(p, param(&q, "include").unwrap_or_default()),
                meta: json!({}),
            },
        ),
        None => v3_error(
            StatusCode::NOT_FOUND,
            "The requested product was not found.",
            None,
        ),
    }
}

pub(crate) async fn list_categories(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let only = ids(&q, "id:in");
    let rows: Vec<_> = sh
        .state()
        .categories
        .values()
        .filter(|c| only.as_ref().is_none_or(|o| o.contains(&c.id)))
        .cloned()
        .collect();
    collection(&rows, &q)
}

pub(crate) async fn list_brands(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let rows: Vec<_> = sh.state().brands.values().cloned().collect();
    collection(&rows, &q)
}

pub(crate) async fn get_cart(axum::extract::State(sh): S, Path(id): Path<String>) -> Response {
    match sh.state().carts.get(&id) {
        Some(rec) => ok(
            StatusCode::OK,
            &Single {
                data: rec.cart.clone(),
                meta: json!({}),
            },
        ),
        None => v3_error(StatusCode::NOT_FOUND, "Cart not found.", None),
    }
}

/// `POST /carts/{id}/redirect_urls`: takes a JSON object body (`Redirect_urls_Post`, every
/// field optional) with a JSON `Content-Type`, as the spec declares; anything else is
/// refused, so a connector that sends no body cannot pass here.
pub(crate) async fn redirect_urls(
    axum::extract::State(sh): S,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Response {
    let json_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return v3_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "The request must be sent as application/json.",
            None,
        );
    }
    match body::<serde_json::Value>(&bytes) {
        Ok(v) if v.is_object() => {}
        Ok(_) => {
            return v3_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request body must be a JSON object.",
                None,
            );
        }
        Err(e) => return *e,
    }
    if !sh.state().carts.contains_key(&id) {
        return v3_error(StatusCode::NOT_FOUND, "Cart not found.", None);
    }
    let store = &sh.config.store_hash;
    ok(
        StatusCode::CREATED,
        &json!({"data": {
            "cart_url": format!("https://store-{store}.example/cart.php?action=load&id={id}"),
            "checkout_url": format!("https://store-{store}.example/cart.php?action=loadInCheckout&id={id}")
        }}),
    )
}

pub(crate) async fn list_hooks(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let rows: Vec<Hook> = sh.state().hooks.values().cloned().collect();
    collection(&rows, &q)
}

pub(crate) async fn create_hook(axum::extract::State(sh): S, bytes: Bytes) -> Response {
    let input: HookInput = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let (Some(scope), Some(destination)) = (input.scope.clone(), input.destination.clone()) else {
        return v3_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "scope and destination are required.",
            None,
        );
    };
    if !destination.starts_with("https://") && !sh.config.allow_http_hooks {
        return v3_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "destination must be HTTPS on port 443.",
            None,
        );
    }
    let mut hook = webhooks::register(&sh, &scope, &destination, input.headers.unwrap_or_default());
    if input.is_active == Some(false) {
        if let Some(h) = sh.state().hooks.get_mut(&hook.id) {
            h.is_active = false;
            hook.is_active = false;
        }
    }
    ok(
        StatusCode::OK,
        &Single {
            data: hook,
            meta: json!({}),
        },
    )
}

pub(crate) async fn get_hook(axum::extract::State(sh): S, Path(id): Path<u64>) -> Response {
    match sh.state().hooks.get(&id) {
        Some(h) => ok(
            StatusCode::OK,
            &Single {
                data: h.clone(),
                meta: json!({}),
            },
        ),
        None => v3_error(StatusCode::NOT_FOUND, "Webhook not found.", None),
    }
}

pub(crate) async fn update_hook(
    axum::extract::State(sh): S,
    Path(id): Path<u64>,
    bytes: Bytes,
) -> Response {
    let input: HookInput = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut s = sh.state();
    let Some(h) = s.hooks.get_mut(&id) else {
        return v3_error(StatusCode::NOT_FOUND, "Webhook not found.", None);
    };
    if let Some(v) = input.scope {
        h.scope = v;
    }
    if let Some(v) = input.destination {
        h.destination = v;
    }
    if let Some(v) = input.is_active {
        h.is_active = v;
    }
    if let Some(v) = input.headers {
        h.headers = Some(v);
    }
    h.updated_at = Timestamp::now().unix_seconds();
    let data = h.clone();
    ok(
        StatusCode::OK,
        &Single {
            data,
            meta: json!({}),
        },
    )
}

pub(crate) async fn delete_hook(axum::extract::State(sh): S, Path(id): Path<u64>) -> Response {
    match sh.state().hooks.remove(&id) {
        Some(h) => ok(
            StatusCode::OK,
            &Single {
                data: h,
                meta: json!({}),
            },
        ),
        None => v3_error(StatusCode::NOT_FOUND, "Webhook not found.", None),
    }
}
