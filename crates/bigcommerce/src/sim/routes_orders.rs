//! Orders (v2: bare arrays, 204 past the end) and refunds (v3).

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use cartograph_model::Timestamp;

use super::http::{
    Q, S, filter_time, ids, no_content, ok, page_limit, paginate, param, v2_error, v3_error,
};
use super::state::OrderRec;
use crate::wire::{Collection, Meta, Order, Refund};

fn modified(o: &Order) -> i64 {
    Timestamp::parse_rfc2822(&o.date_modified)
        .or_else(|_| Timestamp::parse_rfc2822(&o.date_created))
        .map_or(0, |t| t.unix_millis())
}

pub(crate) async fn list(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let s = sh.state();
    let min = param(&q, "min_date_modified").and_then(filter_time);
    let max = param(&q, "max_date_modified").and_then(filter_time);
    let customer = param(&q, "customer_id").and_then(|v| v.parse::<u64>().ok());
    let status = param(&q, "status_id").and_then(|v| v.parse::<u32>().ok());
    let min_id = param(&q, "min_id").and_then(|v| v.parse::<u64>().ok());
    let mut rows: Vec<&Order> = s
        .orders
        .values()
        .map(|r| &r.order)
        .filter(|o| min.is_none_or(|m| modified(o) >= m.unix_millis()))
        .filter(|o| max.is_none_or(|m| modified(o) <= m.unix_millis()))
        .filter(|o| customer.is_none_or(|c| o.customer_id == c))
        .filter(|o| status.is_none_or(|st| o.status_id == st))
        .filter(|o| min_id.is_none_or(|m| o.id >= m))
        .collect();
    let sort = param(&q, "sort").unwrap_or("id");
    let (field, desc) = sort
        .split_once(':')
        .map_or((sort, false), |(f, d)| (f, d == "desc"));
    match field {
        "date_modified" => rows.sort_by_key(|o| (modified(o), o.id)),
        "date_created" => rows.sort_by_key(|o| {
            (
                Timestamp::parse_rfc2822(&o.date_created).map_or(0, |t| t.unix_millis()),
                o.id,
            )
        }),
        _ => rows.sort_by_key(|o| o.id),
    }
    if desc {
        rows.reverse();
    }
    let (page, limit) = page_limit(&q);
    let (data, _) = paginate(&rows, page, limit);
    if data.is_empty() {
        return no_content();
    }
    ok(StatusCode::OK, &data)
}

fn find(s: &super::state::State, id: &str) -> Option<OrderRec> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| s.orders.get(&id).cloned())
}

pub(crate) async fn get_one(axum::extract::State(sh): S, Path(id): Path<String>) -> Response {
    match find(&sh.state(), &id) {
        Some(rec) => ok(StatusCode::OK, &rec.order),
        None => v2_error(
            StatusCode::NOT_FOUND,
            "The requested resource was not found.",
        ),
    }
}

pub(crate) async fn sub_resource(
    axum::extract::State(sh): S,
    Path((id, sub)): Path<(String, String)>,
    Query(q): Query<Q>,
) -> Response {
    let Some(rec) = find(&sh.state(), &id) else {
        return v2_error(
            StatusCode::NOT_FOUND,
            "The requested resource was not found.",
        );
    };
    let (page, limit) = page_limit(&q);
    let rows: Vec<serde_json::Value> = match sub.as_str() {
        "products" => rec
            .products
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or_default())
            .collect(),
        "shipping_addresses" => rec
            .shipping
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or_default())
            .collect(),
        "coupons" => rec
            .coupons
            .iter()
            .map(|p| serde_json::to_value(p).unwrap_or_default())
            .collect(),
        _ => {
            return v2_error(
                StatusCode::NOT_FOUND,
                "The requested resource was not found.",
            );
        }
    };
    let (data, _) = paginate(&rows, page, limit);
    if data.is_empty() {
        return no_content();
    }
    ok(StatusCode::OK, &data)
}

pub(crate) async fn list_refunds(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let s = sh.state();
    let orders = ids(&q, "order_id:in");
    let only = ids(&q, "id:in");
    let min = param(&q, "created:min").and_then(filter_time);
    let max = param(&q, "created:max").and_then(filter_time);
    let created = |r: &Refund| Timestamp::parse_rfc3339(&r.created).map_or(0, |t| t.unix_millis());
    let rows: Vec<Refund> = s
        .refunds
        .values()
        .filter(|r| orders.as_ref().is_none_or(|o| o.contains(&r.order_id)))
        .filter(|r| only.as_ref().is_none_or(|o| o.contains(&r.id)))
        .filter(|r| min.is_none_or(|m| created(r) >= m.unix_millis()))
        .filter(|r| max.is_none_or(|m| created(r) <= m.unix_millis()))
        .cloned()
        .collect();
    let (page, limit) = page_limit(&q);
    let (data, pagination) = paginate(&rows, page, limit);
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

pub(crate) async fn order_refunds(axum::extract::State(sh): S, Path(id): Path<String>) -> Response {
    let s = sh.state();
    let Some(order_id) = id.parse::<u64>().ok().filter(|i| s.orders.contains_key(i)) else {
        return v3_error(StatusCode::NOT_FOUND, "Order not found.", None);
    };
    let data: Vec<Refund> = s
        .refunds
        .values()
        .filter(|r| r.order_id == order_id)
        .cloned()
        .collect();
    ok(
        StatusCode::OK,
        &Collection {
            data,
            meta: Meta::default(),
        },
    )
}
