//! Customers (v3, cursor paging), customer groups (v2), shopper profiles and segments.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use super::http::{
    Q, S, body, filter_time, ids, no_content, ok, page_limit, paginate, param, v2_error, v3_error,
};
use super::state::{State, now};
use super::webhooks;
use crate::wire::{
    Collection, CursorPagination, Customer, CustomerGroup, CustomerInput, Meta, PageLinks,
    ShopperProfile,
};

fn modified_ms(c: &Customer) -> i64 {
    c.date_modified
        .as_deref()
        .and_then(|t| cartograph_model::Timestamp::parse_rfc3339(t).ok())
        .map_or(0, |t| t.unix_millis())
}

fn cursor_of(c: &Customer, by_modified: bool) -> String {
    if by_modified {
        format!("m{}_{}", modified_ms(c), c.id)
    } else {
        format!("i{}", c.id)
    }
}

fn key(c: &Customer, by_modified: bool) -> (i64, u64) {
    (if by_modified { modified_ms(c) } else { 0 }, c.id)
}

fn parse_cursor(text: &str) -> Option<(i64, u64)> {
    if let Some(rest) = text.strip_prefix('m') {
        let (m, id) = rest.split_once('_')?;
        return Some((m.parse().ok()?, id.parse().ok()?));
    }
    Some((0, text.strip_prefix('i')?.parse().ok()?))
}

fn render(s: &State, c: &Customer, include: &BTreeSet<&str>) -> Customer {
    let mut c = c.clone();
    if !include.contains("addresses") {
        c.addresses.clear();
    }
    if !include.contains("attributes") {
        c.attributes.clear();
    }
    if !include.contains("formfields") {
        c.form_fields.clear();
    }
    if !include.contains("shopper_profile_id") {
        c.shopper_profile_id = None;
    }
    c.segment_ids = include.contains("segment_ids").then(|| {
        let profile = c.shopper_profile_id.clone().unwrap_or_default();
        s.segments
            .iter()
            .filter(|(_, members)| members.contains(&profile))
            .map(|(id, _)| id.clone())
            .collect()
    });
    c
}

pub(crate) async fn list(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let s = sh.state();
    let include: BTreeSet<&str> = param(&q, "include")
        .unwrap_or_default()
        .split(',')
        .collect();
    let by_modified = param(&q, "sort").is_some_and(|v| v.starts_with("date_modified"));
    let id_in = ids(&q, "id:in");
    let email_in: Option<Vec<String>> =
        param(&q, "email:in").map(|v| v.split(',').map(|e| e.trim().to_lowercase()).collect());
    let min = param(&q, "date_modified:min").and_then(filter_time);
    let max = param(&q, "date_modified:max").and_then(filter_time);
    let mut rows: Vec<&Customer> = s
        .customers
        .values()
        .filter(|c| id_in.as_ref().is_none_or(|ids| ids.contains(&c.id)))
        .filter(|c| {
            email_in
                .as_ref()
                .is_none_or(|es| es.contains(&c.email.trim().to_lowercase()))
        })
        .filter(|c| min.is_none_or(|m| modified_ms(c) >= m.unix_millis()))
        .filter(|c| max.is_none_or(|m| modified_ms(c) <= m.unix_millis()))
        .collect();
    rows.sort_by_key(|c| key(c, by_modified));
    if param(&q, "sort").is_some_and(|v| v.ends_with(":desc")) {
        rows.reverse();
    }
    let (page, limit) = page_limit(&q);
    let after = param(&q, "after");
    let (data, pagination, more) = if let Some(after) = after {
        let Some(pos) = parse_cursor(after) else {
            return v3_error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid cursor.", None);
        };
        let rest: Vec<&Customer> = rows
            .into_iter()
            .filter(|c| key(c, by_modified) > pos)
            .collect();
        let more = rest.len() > limit;
        (rest.into_iter().take(limit).collect::<Vec<_>>(), None, more)
    } else {
        let (data, p) = paginate(&rows, page, limit);
        let more = p.current_page < p.total_pages;
        (data, Some(p), more)
    };
    let cursor = (after.is_some() || page == 1).then(|| CursorPagination {
        count: data.len() as u64,
        per_page: limit as u64,
        start_cursor: data.first().map(|c| cursor_of(c, by_modified)),
        end_cursor: data.last().map(|c| cursor_of(c, by_modified)),
        links: Some(PageLinks {
            previous: None,
            current: None,
            next: more
                .then(|| {
                    data.last()
                        .map(|c| format!("?after={}&limit={limit}", cursor_of(c, by_modified)))
                })
                .flatten(),
        }),
    });
    let data: Vec<Customer> = data.into_iter().map(|c| render(&s, c, &include)).collect();
    ok(
        StatusCode::OK,
        &Collection {
            data,
            meta: Meta {
                pagination,
                cursor_pagination: cursor,
            },
        },
    )
}

fn too_many(n: usize) -> Option<Response> {
    (n > crate::client::CUSTOMER_BATCH).then(|| {
        v3_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request payload is too large. The maximum number of items allowed in the array is 10.",
            None,
        )
    })
}

fn email_taken(s: &State, email: &str, except: Option<u64>) -> bool {
    let e = email.trim().to_lowercase();
    s.customers
        .values()
        .any(|c| Some(c.id) != except && c.email.trim().to_lowercase() == e)
}

pub(crate) async fn create(axum::extract::State(sh): S, bytes: Bytes) -> Response {
    let inputs: Vec<CustomerInput> = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(r) = too_many(inputs.len()) {
        return r;
    }
    let created = {
        let mut s = sh.state();
        let mut errors = serde_json::Map::new();
        let mut seen = BTreeSet::new();
        for (i, c) in inputs.iter().enumerate() {
            for (field, value) in [
                ("email", &c.email),
                ("first_name", &c.first_name),
                ("last_name", &c.last_name),
            ] {
                if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    errors.insert(
                        format!("[{i}].{field}"),
                        json!(format!("{field} is required")),
                    );
                }
            }
            if let Some(e) = &c.email {
                if email_taken(&s, e, None) || !seen.insert(e.trim().to_lowercase()) {
                    errors.insert(
                        format!("[{i}].email"),
                        json!(format!("The email {e} is already in use.")),
                    );
                }
            }
            if let Some(g) = c
                .customer_group_id
                .filter(|g| *g > 0 && !s.groups.contains_key(g))
            {
                errors.insert(
                    format!("[{i}].customer_group_id"),
                    json!(format!("Customer group {g} does not exist.")),
                );
            }
        }
        if !errors.is_empty() {
            return v3_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Create customers failed.",
                Some(Value::Object(errors)),
            );
        }
        let stamp = now().to_rfc3339();
        let mut out = Vec::new();
        for c in inputs {
            let id = s.allocate();
            let customer = Customer {
                id,
                email: c.email.unwrap_or_default(),
                first_name: c.first_name.unwrap_or_default(),
                last_name: c.last_name.unwrap_or_default(),
                company: c.company,
                phone: c.phone,
                customer_group_id: Some(c.customer_group_id.unwrap_or(0)),
                date_created: Some(stamp.clone()),
                date_modified: Some(stamp.clone()),
                accepts_product_review_abandoned_cart_emails: c
                    .accepts_product_review_abandoned_cart_emails,
                ..Customer::default()
            };
            s.customers.insert(id, customer.clone());
            out.push(customer);
        }
        out
    };
    for c in &created {
        webhooks::customer_event(&sh, "store/customer/created", c.id);
    }
    ok(
        StatusCode::OK,
        &Collection {
            data: created,
            meta: Meta::default(),
        },
    )
}

pub(crate) async fn update(axum::extract::State(sh): S, bytes: Bytes) -> Response {
    let inputs: Vec<CustomerInput> = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(r) = too_many(inputs.len()) {
        return r;
    }
    let updated = {
        let mut s = sh.state();
        let mut errors = serde_json::Map::new();
        for (i, c) in inputs.iter().enumerate() {
            match c.id {
                Some(id) if s.customers.contains_key(&id) => {
                    if c.email
                        .as_deref()
                        .is_some_and(|e| email_taken(&s, e, Some(id)))
                    {
                        errors.insert(
                            format!("[{i}].email"),
                            json!("The email is already in use."),
                        );
                    }
                }
                Some(id) => {
                    errors.insert(
                        format!("[{i}].id"),
                        json!(format!("Customer {id} not found.")),
                    );
                }
                None => {
                    errors.insert(format!("[{i}].id"), json!("id is required"));
                }
            }
            if let Some(g) = c
                .customer_group_id
                .filter(|g| *g > 0 && !s.groups.contains_key(g))
            {
                errors.insert(
                    format!("[{i}].customer_group_id"),
                    json!(format!("Customer group {g} does not exist.")),
                );
            }
        }
        if !errors.is_empty() {
            return v3_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Update customers failed.",
                Some(Value::Object(errors)),
            );
        }
        let stamp = now().to_rfc3339();
        let mut out = Vec::new();
        for c in inputs {
            let Some(existing) = c.id.and_then(|id| s.customers.get_mut(&id)) else {
                continue;
            };
            if let Some(v) = c.email {
                existing.email = v;
            }
            if let Some(v) = c.first_name {
                existing.first_name = v;
            }
            if let Some(v) = c.last_name {
                existing.last_name = v;
            }
            if c.company.is_some() {
                existing.company = c.company;
            }
            if c.phone.is_some() {
                existing.phone = c.phone;
            }
            if c.customer_group_id.is_some() {
                existing.customer_group_id = c.customer_group_id;
            }
            if c.accepts_product_review_abandoned_cart_emails.is_some() {
                existing.accepts_product_review_abandoned_cart_emails =
                    c.accepts_product_review_abandoned_cart_emails;
            }
            existing.date_modified = Some(stamp.clone());
            out.push(existing.clone());
        }
        out
    };
    for c in &updated {
        webhooks::customer_event(&sh, "store/customer/updated", c.id);
    }
    ok(
        StatusCode::OK,
        &Collection {
            data: updated,
            meta: Meta::default(),
        },
    )
}

pub(crate) async fn list_groups(axum::extract::State(sh): S, Query(q): Query<Q>) -> Response {
    let s = sh.state();
    let rows: Vec<CustomerGroup> = s.groups.values().cloned().collect();
    let (page, limit) = page_limit(&q);
    let (data, _) = paginate(&rows, page, limit);
    if data.is_empty() {
        return no_content();
    }
    ok(StatusCode::OK, &data)
}

pub(crate) async fn create_group(axum::extract::State(sh): S, bytes: Bytes) -> Response {
    let input: Value = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(name) = input["name"].as_str().filter(|n| !n.trim().is_empty()) else {
        return v2_error(StatusCode::BAD_REQUEST, "The field 'name' is required.");
    };
    let mut s = sh.state();
    if s.groups.values().any(|g| g.name.eq_ignore_ascii_case(name)) {
        return v2_error(
            StatusCode::CONFLICT,
            "A customer group with this name already exists.",
        );
    }
    let id = s.allocate();
    let group = CustomerGroup {
        id,
        name: name.to_owned(),
        is_default: false,
        is_group_for_guests: false,
    };
    s.groups.insert(id, group.clone());
    // The spec answers `POST /customer_groups` with 200 (v2), not 201.
    ok(StatusCode::OK, &group)
}

pub(crate) async fn create_profiles(axum::extract::State(sh): S, bytes: Bytes) -> Response {
    let input: Vec<Value> = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut s = sh.state();
    let mut out = Vec::new();
    for item in input {
        let Some(cid) = item["customer_id"]
            .as_u64()
            .filter(|c| s.customers.contains_key(c))
        else {
            return v3_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Customer not found.",
                None,
            );
        };
        let id = s.uuid();
        let stamp = now().to_rfc3339();
        let profile = ShopperProfile {
            id: id.clone(),
            customer_id: cid,
            created_at: Some(stamp.clone()),
            updated_at: Some(stamp),
        };
        s.profiles.insert(id.clone(), profile.clone());
        if let Some(c) = s.customers.get_mut(&cid) {
            c.shopper_profile_id = Some(id);
        }
        out.push(profile);
    }
    ok(StatusCode::CREATED, &json!({ "data": out, "meta": {} }))
}

pub(crate) async fn add_to_segment(
    axum::extract::State(sh): S,
    Path(segment): Path<String>,
    bytes: Bytes,
) -> Response {
    let profiles: Vec<String> = match body(&bytes) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if profiles.len() > crate::client::SEGMENT_BATCH {
        return v3_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Limit of Shopper Profiles per request is 50.",
            None,
        );
    }
    let mut s = sh.state();
    if !s.segments.contains_key(&segment) {
        return v3_error(StatusCode::NOT_FOUND, "Segment not found.", None);
    }
    if let Some(unknown) = profiles.iter().find(|p| !s.profiles.contains_key(*p)) {
        return v3_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Shopper profile {unknown} not found."),
            None,
        );
    }
    let members = s.segments.get(&segment).cloned().unwrap_or_default();
    let conflicts: Vec<&String> = profiles.iter().filter(|p| members.contains(*p)).collect();
    if !conflicts.is_empty() {
        let errors: serde_json::Map<String, Value> = conflicts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    i.to_string(),
                    json!(format!(
                        "Shopper profile `{p}` already exists for segment `{segment}`."
                    )),
                )
            })
            .collect();
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({"data": [], "errors": [{"status": 409,
                "title": "Unable to add shopper profiles to segment due to conflicts.",
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "errors": errors}],
                "meta": {"total": profiles.len(), "success": 0, "failed": conflicts.len()}})),
        )
            .into_response();
    }
    let added: Vec<ShopperProfile> = profiles
        .iter()
        .filter_map(|p| s.profiles.get(p).cloned())
        .collect();
    if let Some(m) = s.segments.get_mut(&segment) {
        m.extend(profiles);
    }
    ok(StatusCode::CREATED, &json!({ "data": added }))
}
