//! Writing: customer sign-up (`POST /customers`, `DuplicateField` on a taken email or key),
//! customer group creation, and versioned updates (`{version, actions}`; a stale version is
//! a 409 `ConcurrentModification` with `currentVersion`) of customers and orders, each
//! producing the platform's messages.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::http::{ApiPath, error, invalid_input, not_found, ok};
use super::routes::find;
use super::state::{CUSTOMER, CUSTOMER_GROUP, ORDER, State, client_logging, reference};

/// A failed write: the answer to send.
pub(crate) type Refused = Box<Response>;

fn json_body(body: &Bytes) -> Result<Value, Refused> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "InvalidJsonInput",
            "Request body does not contain valid JSON.",
            json!({"detailedErrorMessage": e.to_string()}),
        ))
    })
}

fn duplicate(field: &str, value: &Value, what: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "DuplicateField",
        &format!("There is already an existing {what} with the provided {field}."),
        json!({"field": field, "duplicateValue": value}),
    )
}

fn email_taken(state: &State, email: &str, stores: &[String], except: Option<&str>) -> bool {
    let email = email.to_lowercase();
    state.all(CUSTOMER).any(|c| {
        if c.get("id").and_then(Value::as_str) == except {
            return false;
        }
        let same = c
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.to_lowercase() == email);
        let theirs: Vec<&str> = c
            .get("stores")
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(|r| r.get("key").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        // Global customers share one email space; store customers are unique per store.
        same && (theirs.is_empty()
            || stores.is_empty()
            || theirs.iter().any(|k| stores.iter().any(|s| s == k)))
    })
}

fn group_reference(state: &State, identifier: &Value) -> Result<Value, Refused> {
    let id = match (
        identifier.get("id").and_then(Value::as_str),
        identifier.get("key").and_then(Value::as_str),
    ) {
        (Some(id), _) => state.get(CUSTOMER_GROUP, id).map(|_| id.to_owned()),
        (None, Some(key)) => find(state, CUSTOMER_GROUP, &format!("key={key}"), None),
        (None, None) => None,
    };
    id.map(|id| reference(CUSTOMER_GROUP, &id)).ok_or_else(|| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "ReferencedResourceNotFound",
            "The referenced object of type 'customer-group' was not found. It either doesn't exist, or it can't be accessed from this endpoint (e.g., if the endpoint filters by store or customer account).",
            json!({"typeId": "customer-group"}),
        ))
    })
}

/// `POST` on a collection.
pub(crate) fn create(sh: &Arc<Shared>, path: &ApiPath, body: &Bytes, client: &str) -> Response {
    let draft = match json_body(body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let result = match path.resource.as_str() {
        "customers" => create_customer(sh, path.store.as_deref(), &draft, client)
            .map(|c| (StatusCode::CREATED, json!({"customer": c}))),
        "customer-groups" => create_group(sh, &draft).map(|g| (StatusCode::CREATED, g)),
        other => Err(Box::new(error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("Creating {other} is not supported by the simulator."),
            json!({}),
        ))),
    };
    match result {
        Ok((status, value)) => ok(status, &value),
        Err(r) => *r,
    }
}

fn create_customer(
    sh: &Shared,
    store: Option<&str>,
    draft: &Value,
    client: &str,
) -> Result<Value, Refused> {
    let email = draft
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| Box::new(missing("email")))?;
    let external = draft.get("authenticationMode").and_then(Value::as_str) == Some("ExternalAuth");
    if !external && draft.get("password").and_then(Value::as_str).is_none() {
        return Err(Box::new(missing("password")));
    }
    let mut stores: Vec<String> = draft
        .get("stores")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|r| r.get("key").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if let Some(store) = store {
        stores = vec![store.to_owned()];
    }
    let mut state = sh.state();
    if email_taken(&state, email, &stores, None) {
        return Err(Box::new(duplicate(
            "email",
            &Value::String(email.to_owned()),
            "customer",
        )));
    }
    if let Some(key) = draft.get("key").and_then(Value::as_str)
        && find(&state, CUSTOMER, &format!("key={key}"), None).is_some()
    {
        return Err(Box::new(duplicate(
            "key",
            &Value::String(key.to_owned()),
            "customer",
        )));
    }
    let group = match draft.get("customerGroup") {
        Some(identifier) => Some(group_reference(&state, identifier)?),
        None => None,
    };
    let id = state.uuid();
    let now = state.now();
    let mut customer = json!({
        "id": id, "version": 1, "versionModifiedAt": now, "email": email,
        "addresses": [], "shippingAddressIds": [], "billingAddressIds": [],
        "customerGroupAssignments": [],
        "isEmailVerified": draft.get("isEmailVerified").and_then(Value::as_bool).unwrap_or(false),
        "stores": stores.iter().map(|k| json!({"typeId": "store", "key": k})).collect::<Vec<_>>(),
        "authenticationMode": if external { "ExternalAuth" } else { "Password" },
        "createdAt": now, "lastModifiedAt": now,
        "createdBy": client_logging(client), "lastModifiedBy": client_logging(client),
    });
    if !external {
        customer["password"] = Value::String("****sim-hashed****".to_owned());
    }
    for key in [
        "firstName",
        "lastName",
        "middleName",
        "title",
        "salutation",
        "companyName",
        "customerNumber",
        "externalId",
        "key",
        "dateOfBirth",
        "locale",
        "vatId",
        "custom",
    ] {
        if let Some(v) = draft.get(key) {
            customer[key] = v.clone();
        }
    }
    if let Some(group) = group {
        customer["customerGroup"] = group;
    }
    if let Some(addresses) = draft.get("addresses").and_then(Value::as_array) {
        let mut with_ids = Vec::new();
        for a in addresses {
            let mut a = a.clone();
            if a.get("id").is_none() {
                a["id"] = Value::String(state.uuid()[24..].to_owned());
            }
            with_ids.push(a);
        }
        customer["addresses"] = Value::Array(with_ids);
    }
    state.put(CUSTOMER, customer.clone());
    state.message(
        CUSTOMER,
        &customer,
        "CustomerCreated",
        json!({"customer": customer}),
        client,
    );
    state.change(CUSTOMER, &customer, "ResourceCreated");
    Ok(customer)
}

fn missing(field: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "RequiredField",
        &format!("A value is required for field {field}."),
        json!({"field": field}),
    )
}

fn create_group(sh: &Shared, draft: &Value) -> Result<Value, Refused> {
    let name = draft
        .get("groupName")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Box::new(missing("groupName")))?;
    let mut state = sh.state();
    if let Some(key) = draft.get("key").and_then(Value::as_str)
        && find(&state, CUSTOMER_GROUP, &format!("key={key}"), None).is_some()
    {
        return Err(Box::new(duplicate(
            "key",
            &Value::String(key.to_owned()),
            "customer group",
        )));
    }
    let id = state.uuid();
    let now = state.now();
    let mut group = json!({"id": id, "version": 1, "name": name, "createdAt": now,
                           "lastModifiedAt": now});
    if let Some(key) = draft.get("key") {
        group["key"] = key.clone();
    }
    state.put(CUSTOMER_GROUP, group.clone());
    Ok(group)
}

/// `POST` on a resource: a versioned update.
pub(crate) fn update(
    sh: &Arc<Shared>,
    path: &ApiPath,
    id: &str,
    body: &Bytes,
    client: &str,
) -> Response {
    let draft = match json_body(body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let type_id = match path.resource.as_str() {
        "customers" => CUSTOMER,
        "orders" => ORDER,
        other => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                &format!("Updating {other} is not supported by the simulator."),
                json!({}),
            );
        }
    };
    let Some(version) = draft.get("version").and_then(Value::as_i64) else {
        return missing("version");
    };
    let actions = draft
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let found = {
        let state = sh.state();
        find(&state, type_id, id, path.store.as_deref())
    };
    let Some(found) = found else {
        return not_found(id);
    };
    match apply(sh, type_id, &found, Some(version), &actions, client) {
        Ok(value) => ok(StatusCode::OK, &value),
        Err(r) => *r,
    }
}

/// Applies update actions to a stored customer or order as `client` (all or nothing),
/// checking `version` when given; bumps the version and records the messages.
pub(crate) fn apply(
    sh: &Shared,
    type_id: &'static str,
    id: &str,
    version: Option<i64>,
    actions: &[Value],
    client: &str,
) -> Result<Value, Refused> {
    let mut state = sh.state();
    if state.interfere.remove(id) {
        // A concurrent writer lands between the caller's read and this write.
        let now = state.now();
        if let Some(current) = state.get_mut(type_id, id) {
            let v = current.get("version").and_then(Value::as_i64).unwrap_or(1) + 1;
            current["version"] = json!(v);
            current["lastModifiedAt"] = Value::String(now);
            current["lastModifiedBy"] = client_logging(super::seed::STOREFRONT_CLIENT);
        }
    }
    let Some(current) = state.get(type_id, id).cloned() else {
        return Err(Box::new(not_found(id)));
    };
    let current_version = current.get("version").and_then(Value::as_i64).unwrap_or(1);
    if let Some(v) = version
        && v != current_version
    {
        let message = format!(
            "Object {id} has a different version than expected. Expected: {v} - Actual: {current_version}."
        );
        return Err(Box::new(error(
            StatusCode::CONFLICT,
            "ConcurrentModification",
            &message,
            json!({"currentVersion": current_version}),
        )));
    }
    let mut next = current.clone();
    let mut messages: Vec<(&'static str, Value)> = Vec::new();
    for action in actions {
        let name = action
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let produced = if type_id == CUSTOMER {
            customer_action(&state, id, &mut next, name, action)?
        } else {
            order_action(&mut next, name, action)?
        };
        if let Some(m) = produced {
            messages.push(m);
        }
    }
    if actions.is_empty() {
        return Ok(current);
    }
    let now = state.now();
    next["version"] = json!(current_version + 1);
    next["lastModifiedAt"] = Value::String(now.clone());
    next["lastModifiedBy"] = client_logging(client);
    if type_id == CUSTOMER {
        next["versionModifiedAt"] = Value::String(now);
    }
    state.put(type_id, next.clone());
    for (kind, payload) in messages {
        state.message(type_id, &next, kind, payload, client);
    }
    state.change(type_id, &next, "ResourceUpdated");
    Ok(next)
}

fn set_or_remove(target: &mut Value, field: &str, value: Option<&Value>) {
    match value.filter(|v| !v.is_null()) {
        Some(v) => target[field] = v.clone(),
        None => {
            if let Some(map) = target.as_object_mut() {
                map.remove(field);
            }
        }
    }
}

fn unknown_action(name: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "InvalidJsonInput",
        "Request body does not contain valid JSON.",
        json!({"detailedErrorMessage": format!("actions -> action: Unknown action '{name}'")}),
    )
}

type Produced = Option<(&'static str, Value)>;

fn customer_action(
    state: &State,
    id: &str,
    c: &mut Value,
    name: &str,
    a: &Value,
) -> Result<Produced, Refused> {
    let simple = |field: &str| a.get(field);
    Ok(match name {
        "setFirstName" => {
            set_or_remove(c, "firstName", simple("firstName"));
            Some((
                "CustomerFirstNameSet",
                json!({"firstName": simple("firstName")}),
            ))
        }
        "setLastName" => {
            set_or_remove(c, "lastName", simple("lastName"));
            Some((
                "CustomerLastNameSet",
                json!({"lastName": simple("lastName")}),
            ))
        }
        "setCompanyName" => {
            set_or_remove(c, "companyName", simple("companyName"));
            Some((
                "CustomerCompanyNameSet",
                json!({"companyName": simple("companyName")}),
            ))
        }
        "setTitle" | "setSalutation" | "setMiddleName" | "setDateOfBirth" | "setLocale"
        | "setExternalId" | "setVatId" => {
            let field = name.trim_start_matches("set");
            let field = format!("{}{}", field[..1].to_ascii_lowercase(), &field[1..]);
            set_or_remove(c, &field, simple(&field));
            None
        }
        "setKey" => {
            if let Some(key) = simple("key").and_then(Value::as_str)
                && find(state, CUSTOMER, &format!("key={key}"), None)
                    .is_some_and(|other| other != id)
            {
                return Err(Box::new(duplicate(
                    "key",
                    &Value::String(key.to_owned()),
                    "customer",
                )));
            }
            set_or_remove(c, "key", simple("key"));
            None
        }
        "changeEmail" => {
            let email = simple("email")
                .and_then(Value::as_str)
                .ok_or_else(|| Box::new(missing("email")))?;
            let stores: Vec<String> = c
                .get("stores")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|r| r.get("key").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if email_taken(state, email, &stores, Some(id)) {
                return Err(Box::new(duplicate(
                    "email",
                    &Value::String(email.to_owned()),
                    "customer",
                )));
            }
            c["email"] = Value::String(email.to_owned());
            c["isEmailVerified"] = Value::Bool(false);
            Some(("CustomerEmailChanged", json!({"email": email})))
        }
        "setCustomerGroup" => match simple("customerGroup").filter(|v| !v.is_null()) {
            Some(identifier) => {
                let group = group_reference(state, identifier)?;
                c["customerGroup"] = group.clone();
                Some(("CustomerGroupSet", json!({"customerGroup": group})))
            }
            None => {
                set_or_remove(c, "customerGroup", None);
                Some(("CustomerGroupSet", json!({})))
            }
        },
        "setCustomType" => {
            match simple("type").filter(|v| !v.is_null()) {
                Some(t) => {
                    let id = t
                        .get("id")
                        .cloned()
                        .unwrap_or_else(|| json!(super::seed::CUSTOMER_TYPE_ID));
                    c["custom"] = json!({"type": {"typeId": "type", "id": id},
                                         "fields": simple("fields").cloned().unwrap_or_else(|| json!({}))});
                }
                None => set_or_remove(c, "custom", None),
            }
            None
        }
        "setCustomField" => {
            let field = simple("name")
                .and_then(Value::as_str)
                .ok_or_else(|| Box::new(missing("name")))?;
            let Some(fields) = c
                .pointer_mut("/custom/fields")
                .and_then(Value::as_object_mut)
            else {
                return Err(Box::new(error(
                    StatusCode::BAD_REQUEST,
                    "InvalidOperation",
                    "This resource has no custom type set - please use setCustomType first to set the type and then set the custom fields.",
                    json!({}),
                )));
            };
            let existed = fields.contains_key(field);
            match simple("value").filter(|v| !v.is_null()) {
                Some(v) => {
                    fields.insert(field.to_owned(), v.clone());
                    let kind = if existed {
                        "CustomerCustomFieldChanged"
                    } else {
                        "CustomerCustomFieldAdded"
                    };
                    Some((kind, json!({"name": field, "value": v})))
                }
                None => {
                    fields.remove(field);
                    Some(("CustomerCustomFieldRemoved", json!({"name": field})))
                }
            }
        }
        "addAddress" => {
            let mut address = simple("address")
                .cloned()
                .ok_or_else(|| Box::new(missing("address")))?;
            if address.get("id").is_none() {
                address["id"] = Value::String(format!(
                    "addr-{}",
                    c["addresses"].as_array().map_or(0, Vec::len) + 1
                ));
            }
            if let Some(list) = c.get_mut("addresses").and_then(Value::as_array_mut) {
                list.push(address.clone());
            }
            Some(("CustomerAddressAdded", json!({"address": address})))
        }
        other => return Err(Box::new(unknown_action(other))),
    })
}

fn order_action(o: &mut Value, name: &str, a: &Value) -> Result<Produced, Refused> {
    let state_change =
        |o: &mut Value, field: &str, allowed: &[&str]| -> Result<(Value, Option<Value>), Refused> {
            let new = a
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| allowed.contains(s))
                .ok_or_else(|| Box::new(invalid_input(&format!("Invalid value for '{field}'."))))?;
            let old = o.get(field).cloned();
            o[field] = Value::String(new.to_owned());
            Ok((Value::String(new.to_owned()), old))
        };
    Ok(match name {
        "changeOrderState" => {
            let (new, old) = state_change(
                o,
                "orderState",
                &["Open", "Confirmed", "Complete", "Cancelled"],
            )?;
            if new == "Complete" {
                o["completedAt"] = o["lastModifiedAt"].clone();
            }
            Some((
                "OrderStateChanged",
                json!({"orderState": new, "oldOrderState": old}),
            ))
        }
        "changeShipmentState" => {
            let (new, old) = state_change(
                o,
                "shipmentState",
                &[
                    "Shipped",
                    "Delivered",
                    "Ready",
                    "Pending",
                    "Delayed",
                    "Partial",
                    "Backorder",
                ],
            )?;
            Some((
                "OrderShipmentStateChanged",
                json!({"shipmentState": new, "oldShipmentState": old}),
            ))
        }
        "changePaymentState" => {
            let (new, old) = state_change(
                o,
                "paymentState",
                &["BalanceDue", "Failed", "Pending", "CreditOwed", "Paid"],
            )?;
            Some((
                "OrderPaymentStateChanged",
                json!({"paymentState": new, "oldPaymentState": old}),
            ))
        }
        "addReturnInfo" => {
            let info = json!({"items": a.get("items").cloned().unwrap_or_else(|| json!([])),
                              "returnTrackingId": a.get("returnTrackingId"),
                              "returnDate": a.get("returnDate")});
            if let Some(list) = o.get_mut("returnInfo").and_then(Value::as_array_mut) {
                list.push(info.clone());
            } else {
                o["returnInfo"] = json!([info.clone()]);
            }
            Some(("ReturnInfoAdded", json!({"returnInfo": info})))
        }
        other => return Err(Box::new(unknown_action(other))),
    })
}
