//! Reading: query endpoints (`where`, `sort`, `limit` up to 500, `offset` up to 10,000,
//! `withTotal`, `expand`), get by id or `key=`, in-store scoping, and the dispatch of every
//! API request.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::http::{ApiPath, Q, error, invalid_input, not_found, ok, values, vars};
use super::predicate::{self, Expr, Sort};
use super::state::{
    CART, CATEGORY, CUSTOMER, CUSTOMER_GROUP, MESSAGE, ORDER, PAYMENT, PRODUCT, State,
    type_of_endpoint,
};

/// Largest `limit`.
pub const MAX_LIMIT: u64 = 500;
/// Largest `offset`.
pub const MAX_OFFSET: u64 = 10_000;

/// Answers one authorized API request.
pub(crate) fn dispatch(
    sh: &Arc<Shared>,
    method: &Method,
    path: &ApiPath,
    q: &Q,
    body: &Bytes,
    client: &str,
) -> Response {
    if path.store.is_some() && !matches!(path.resource.as_str(), "customers" | "orders" | "carts") {
        return error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            &format!(
                "The endpoint '{}' is not available in a Store.",
                path.resource
            ),
            json!({}),
        );
    }
    let response = match (method.clone(), path.id.as_deref()) {
        (Method::GET, None) => query(sh, path, q),
        (Method::GET, Some(id)) => get(sh, path, id, q),
        (Method::POST, None) => super::routes_write::create(sh, path, body, client),
        (Method::POST, Some(id)) => super::routes_write::update(sh, path, id, body, client),
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("{method} is not supported on this endpoint by the simulator."),
            json!({}),
        ),
    };
    super::events::flush(sh);
    response
}

fn number(q: &Q, key: &str, default: u64, max: u64) -> Result<u64, Box<Response>> {
    match values(q, key).first() {
        None => Ok(default),
        Some(text) => {
            let n: u64 = text.parse().map_err(|_| {
                Box::new(invalid_input(&format!(
                    "Malformed parameter: {key}: not a number: {text}"
                )))
            })?;
            if n > max {
                return Err(Box::new(invalid_input(&format!(
                    "Invalid {key} '{n}'. {key}: Value must be less than or equal to {max}."
                ))));
            }
            Ok(n)
        }
    }
}

/// Whether a stored resource is visible in a store.
pub(crate) fn in_store(type_id: &str, value: &Value, store: Option<&str>) -> bool {
    let Some(store) = store else { return true };
    match type_id {
        CUSTOMER => value
            .get("stores")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .any(|r| r.get("key").and_then(Value::as_str) == Some(store))
            }),
        ORDER | CART => value.pointer("/store/key").and_then(Value::as_str) == Some(store),
        _ => false,
    }
}

/// The resource as an endpoint shows it (`products` wraps the projection in `masterData`).
fn present(endpoint: &str, value: &Value) -> Value {
    if endpoint != "products" {
        return value.clone();
    }
    let mut data = value.clone();
    let mut out = json!({});
    if let Some(map) = data.as_object_mut() {
        for key in [
            "id",
            "version",
            "key",
            "productType",
            "taxCategory",
            "createdAt",
            "lastModifiedAt",
        ] {
            if let Some(v) = map.remove(key) {
                out[key] = v;
            }
        }
    }
    let published = data.get("published").cloned().unwrap_or(Value::Bool(true));
    out["masterData"] = json!({"current": data, "staged": data, "published": published,
                                "hasStagedChanges": false});
    out
}

/// The stored collection of a `Reference.typeId`.
pub(crate) fn stored_type(type_id: &str) -> Option<&'static str> {
    Some(match type_id {
        "customer" => CUSTOMER,
        "order" => ORDER,
        "cart" => CART,
        "product" => PRODUCT,
        "category" => CATEGORY,
        "customer-group" => CUSTOMER_GROUP,
        "payment" => PAYMENT,
        "message" => MESSAGE,
        _ => return None,
    })
}

/// Expands one path (`paymentInfo.payments[*]`, `customerGroup`, `lineItems[*].variant`...):
/// references at its end get an `obj` with the referenced resource.
fn expand(state: &State, value: &mut Value, segments: &[&str]) {
    let Some((first, rest)) = segments.split_first() else {
        if let (Some(type_id), Some(id)) = (
            value
                .get("typeId")
                .and_then(Value::as_str)
                .and_then(stored_type),
            value.get("id").and_then(Value::as_str),
        ) && let Some(obj) = state.get(type_id, id)
        {
            let obj = obj.clone();
            value["obj"] = obj;
        }
        return;
    };
    let (name, all) = match first.strip_suffix("[*]") {
        Some(name) => (name, true),
        None => (*first, false),
    };
    let Some(child) = value.get_mut(name) else {
        return;
    };
    match child {
        Value::Array(items) if all => {
            for item in items {
                expand(state, item, rest);
            }
        }
        other => expand(state, other, rest),
    }
}

pub(crate) fn expanded(state: &State, mut value: Value, expands: &[&str]) -> Value {
    for e in expands {
        let segments: Vec<&str> = e.split('.').collect();
        expand(state, &mut value, &segments);
    }
    value
}

fn query(sh: &Arc<Shared>, path: &ApiPath, q: &Q) -> Response {
    let Some(type_id) = type_of_endpoint(&path.resource) else {
        return not_found(&path.resource);
    };
    let limit = match number(q, "limit", 20, MAX_LIMIT) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let offset = match number(q, "offset", 0, MAX_OFFSET) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let with_total = values(q, "withTotal").first() != Some(&"false");
    let input = vars(q);
    let mut predicates: Vec<Expr> = Vec::new();
    for text in values(q, "where") {
        match predicate::parse(text, &input) {
            Ok(expr) => predicates.push(expr),
            Err(why) => {
                return invalid_input(&format!("Malformed parameter: where: {why}"));
            }
        }
    }
    let mut sorts: Vec<Sort> = Vec::new();
    for text in values(q, "sort") {
        match predicate::parse_sort(text) {
            Ok(s) => sorts.push(s),
            Err(why) => return invalid_input(&format!("Malformed parameter: sort: {why}")),
        }
    }
    let expands = values(q, "expand");
    let state = sh.state();
    let store = path.store.as_deref();
    let wrap = path.resource == "products";
    let mut hits: Vec<Value> = Vec::new();
    let mut borrowed: Vec<&Value> = Vec::new();
    for value in state.all(type_id) {
        if !in_store(type_id, value, store) {
            continue;
        }
        if wrap {
            let shown = present(&path.resource, value);
            if predicates.iter().all(|p| predicate::matches(p, &shown)) {
                hits.push(shown);
            }
        } else if predicates.iter().all(|p| predicate::matches(p, value)) {
            borrowed.push(value);
        }
    }
    let by = |a: &Value, b: &Value| -> Ordering {
        predicate::order_by(&sorts, a, b).then_with(|| {
            a.get("id")
                .and_then(Value::as_str)
                .cmp(&b.get("id").and_then(Value::as_str))
        })
    };
    let total = hits.len() + borrowed.len();
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    let results: Vec<Value> = if wrap {
        hits.sort_by(|a, b| by(a, b));
        hits.into_iter().skip(skip).take(take).collect()
    } else {
        borrowed.sort_by(|a, b| by(a, b));
        borrowed
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|v| expanded(&state, v.clone(), &expands))
            .collect()
    };
    let mut body = json!({"limit": limit, "offset": offset, "count": results.len(),
                          "results": results});
    if with_total {
        body["total"] = json!(total);
    }
    ok(StatusCode::OK, &body)
}

/// Finds a resource by id or `key=<key>` in the store scope.
pub(crate) fn find(
    state: &State,
    type_id: &'static str,
    id: &str,
    store: Option<&str>,
) -> Option<String> {
    let found = match id.strip_prefix("key=") {
        Some(key) => state
            .all(type_id)
            .find(|v| v.get("key").and_then(Value::as_str) == Some(key))
            .and_then(|v| v.get("id").and_then(Value::as_str))
            .map(str::to_owned),
        None => state.get(type_id, id).map(|_| id.to_owned()),
    }?;
    state
        .get(type_id, &found)
        .filter(|v| in_store(type_id, v, store))
        .map(|_| found)
}

fn get(sh: &Arc<Shared>, path: &ApiPath, id: &str, q: &Q) -> Response {
    let Some(type_id) = type_of_endpoint(&path.resource) else {
        return not_found(&path.resource);
    };
    let state = sh.state();
    let Some(found) = find(&state, type_id, id, path.store.as_deref()) else {
        return not_found(id);
    };
    let Some(value) = state.get(type_id, &found) else {
        return not_found(id);
    };
    let shown = present(&path.resource, value);
    ok(
        StatusCode::OK,
        &expanded(&state, shown, &values(q, "expand")),
    )
}
