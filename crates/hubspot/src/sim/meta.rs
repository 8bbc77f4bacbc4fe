//! Properties and groups, v4 associations, lists and memberships, legacy v2 enrollment.

use cartograph_model::Timestamp;
use serde_json::{Value, json};

use super::routes::{Answer, api_error, batch_answer, invalid_body};
use super::state::{Portal, SimList, SimProperty, type_id};

fn property_json(p: &SimProperty) -> Value {
    json!({
        "name": p.name, "label": p.label, "type": p.kind, "fieldType": p.field_type,
        "groupName": p.group, "description": "", "hidden": false, "formField": false,
        "hasUniqueValue": p.unique, "hubspotDefined": p.group == "hubspot_defined",
        "options": p.options.iter().enumerate().map(|(i, (v, l))| json!({"label": l, "value": v, "hidden": false, "displayOrder": i})).collect::<Vec<_>>(),
    })
}

fn field_type_fits(kind: &str, field: &str) -> bool {
    match kind {
        "string" => matches!(field, "text" | "textarea" | "html" | "phonenumber" | "file"),
        "number" => matches!(field, "number" | "calculation_equation"),
        "date" | "datetime" => field == "date",
        "enumeration" => matches!(field, "select" | "radio" | "checkbox" | "booleancheckbox"),
        "bool" => field == "booleancheckbox",
        "phone_number" => field == "phonenumber",
        _ => false,
    }
}

fn parse_options(input: &Value) -> Vec<(String, String)> {
    input
        .get("options")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|o| {
                    Some((
                        o.get("value")?.as_str()?.to_owned(),
                        o.get("label")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Creates one property (`POST /crm/v3/properties/{type}` and each batch input).
pub(crate) fn create_property(
    portal: &mut Portal,
    object: &str,
    input: &Value,
) -> Result<Value, Answer> {
    let text = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(name), Some(label), Some(kind), Some(field), Some(group)) = (
        text("name"),
        text("label"),
        text("type"),
        text("fieldType"),
        text("groupName"),
    ) else {
        return Err(invalid_body(
            "name, label, type, fieldType and groupName are required",
        ));
    };
    if !field_type_fits(&kind, &field) {
        return Err(api_error(
            400,
            "VALIDATION_ERROR",
            &format!("fieldType {field} is not valid for type {kind}"),
            vec![],
        ));
    }
    if !portal
        .groups
        .get(object)
        .is_some_and(|g| g.contains_key(&group))
    {
        return Err(api_error(
            400,
            "VALIDATION_ERROR",
            &format!("Property group {group} does not exist"),
            vec![],
        ));
    }
    let defs = portal.properties.entry(object.to_owned()).or_default();
    if defs.contains_key(&name) {
        return Err(api_error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("Property named '{name}' already exists."),
            vec![],
        ));
    }
    let p = SimProperty {
        options: parse_options(input),
        unique: input
            .get("hasUniqueValue")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        name: name.clone(),
        kind,
        field_type: field,
        group,
        label,
        read_only: false,
    };
    let out = property_json(&p);
    defs.insert(name, p);
    Ok(out)
}

/// `/crm/v3/properties/{type}/...`.
pub(crate) fn properties(
    portal: &mut Portal,
    method: &str,
    object: &str,
    rest: &[&str],
    body: &Value,
) -> Answer {
    match (method, rest) {
        ("GET", []) => Answer::json(
            200,
            json!({"results": portal.properties.get(object).map(|d| d.values().map(property_json).collect::<Vec<_>>()).unwrap_or_default()}),
        ),
        ("POST", []) => match create_property(portal, object, body) {
            Ok(v) => Answer::json(201, v),
            Err(a) => a,
        },
        ("POST", ["batch", "create"]) => {
            let Some(inputs) = body.get("inputs").and_then(Value::as_array) else {
                return invalid_body("inputs is required");
            };
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for input in inputs {
                match create_property(portal, object, input) {
                    Ok(v) => results.push(v),
                    Err(a) => {
                        let mut e = a.body.clone();
                        e["context"] = json!({"name": [input.get("name").and_then(Value::as_str).unwrap_or("")]});
                        errors.push(e);
                    }
                }
            }
            batch_answer(results, errors, 201)
        }
        ("GET", ["groups"]) => Answer::json(
            200,
            json!({"results": portal.groups.get(object).map(|g| g.iter().map(|(n, l)| json!({"name": n, "label": l, "displayOrder": 0, "archived": false})).collect::<Vec<_>>()).unwrap_or_default()}),
        ),
        ("GET", ["groups", name]) => match portal.groups.get(object).and_then(|g| g.get(*name)) {
            Some(label) => Answer::json(
                200,
                json!({"name": name, "label": label, "displayOrder": 0, "archived": false}),
            ),
            None => api_error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("Unable to find property group {name}"),
                vec![],
            ),
        },
        ("POST", ["groups"]) => {
            let (Some(name), Some(label)) = (
                body.get("name").and_then(Value::as_str),
                body.get("label").and_then(Value::as_str),
            ) else {
                return invalid_body("name and label are required");
            };
            let groups = portal.groups.entry(object.to_owned()).or_default();
            if groups.contains_key(name) {
                return api_error(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    &format!("Group {name} already exists"),
                    vec![],
                );
            }
            groups.insert(name.to_owned(), label.to_owned());
            Answer::json(
                201,
                json!({"name": name, "label": label, "displayOrder": 0, "archived": false}),
            )
        }
        ("GET", [name]) => match portal.properties.get(object).and_then(|d| d.get(*name)) {
            Some(p) => Answer::json(200, property_json(p)),
            None => api_error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("Unable to find property {name}"),
                vec![],
            ),
        },
        ("PATCH", [name]) => {
            let Some(p) = portal
                .properties
                .get_mut(object)
                .and_then(|d| d.get_mut(*name))
            else {
                return api_error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("Unable to find property {name}"),
                    vec![],
                );
            };
            if body.get("options").is_some() {
                p.options = parse_options(body);
            }
            if let Some(label) = body.get("label").and_then(Value::as_str) {
                label.clone_into(&mut p.label);
            }
            Answer::json(200, property_json(p))
        }
        _ => api_error(
            404,
            "OBJECT_NOT_FOUND",
            "no such properties endpoint",
            vec![],
        ),
    }
}

fn default_type_id(from: &str, to: &str) -> u32 {
    match (from, to) {
        ("contacts", "companies") => 279,
        ("companies", "contacts") => 280,
        ("deals", "contacts") => 3,
        ("contacts", "deals") => 4,
        ("deals", "line_items") => 19,
        ("line_items", "deals") => 20,
        ("tasks", "contacts") => 204,
        ("tasks", "deals") => 216,
        ("orders", "contacts") => 507,
        ("orders", "line_items") => 513,
        _ => 1,
    }
}

/// v4 `batch/associate/default` and `batch/create`.
pub(crate) fn associations(
    portal: &mut Portal,
    from: &str,
    to: &str,
    op: &str,
    body: &Value,
) -> Answer {
    let Some(inputs) = body.get("inputs").and_then(Value::as_array) else {
        return invalid_body("inputs is required");
    };
    if inputs.len() > 100 {
        return api_error(
            400,
            "VALIDATION_ERROR",
            "Batch input size must be <= 100",
            vec![],
        );
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let id = |side: &str| {
            input.get(side).and_then(|s| s.get("id")).and_then(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            })
        };
        let (Some(f), Some(t)) = (id("from"), id("to")) else {
            return invalid_body("from.id and to.id are required");
        };
        let exists = |object: &str, id: &str| {
            id.parse::<u64>().ok().is_some_and(|n| {
                portal
                    .objects
                    .get(object)
                    .is_some_and(|o| o.contains_key(&n))
            })
        };
        if !exists(from, &f) || !exists(to, &t) {
            errors.push(json!({"status": "error", "category": "VALIDATION_ERROR", "message": format!("{from} {f} or {to} {t} does not exist"), "context": {"fromObjectId": [f], "toObjectId": [t]}, "errors": [], "links": {}}));
            continue;
        }
        let types: Vec<(String, u32)> = if op == "create" {
            input
                .get("types")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|s| {
                            Some((
                                s.get("associationCategory")?.as_str()?.to_owned(),
                                u32::try_from(s.get("associationTypeId")?.as_u64()?).ok()?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            vec![("HUBSPOT_DEFINED".into(), default_type_id(from, to))]
        };
        if op == "create" {
            // `LabelsBetweenObjectPair`: one result per pair, with every label now between
            // the two records (unlabelled types have none).
            for (_, type_id) in &types {
                for (a, ai, b, bi) in [(from, &f, to, &t), (to, &t, from, &f)] {
                    portal.associations.insert((
                        a.to_owned(),
                        ai.clone(),
                        b.to_owned(),
                        bi.clone(),
                        *type_id,
                    ));
                }
            }
            let labels: Vec<&String> = portal
                .associations
                .iter()
                .filter(|(a, ai, b, bi, _)| a == from && ai == &f && b == to && bi == &t)
                .filter_map(|(.., type_id)| portal.association_labels.get(type_id))
                .collect();
            results.push(json!({
                "fromObjectTypeId": type_id(from), "fromObjectId": f,
                "toObjectTypeId": type_id(to), "toObjectId": t,
                "labels": labels,
            }));
            continue;
        }
        for (category, type_id) in types {
            portal.associations.insert((
                from.to_owned(),
                f.clone(),
                to.to_owned(),
                t.clone(),
                type_id,
            ));
            portal.associations.insert((
                to.to_owned(),
                t.clone(),
                from.to_owned(),
                f.clone(),
                type_id,
            ));
            results.push(json!({"from": {"id": f}, "to": {"id": t}, "associationSpec": {"associationCategory": category, "associationTypeId": type_id}}));
        }
    }
    batch_answer(results, errors, if op == "create" { 201 } else { 200 })
}

/// `/crm/v3/lists/...`.
pub(crate) fn lists(
    portal: &mut Portal,
    method: &str,
    rest: &[&str],
    query: &[(String, String)],
    body: &Value,
    now: Timestamp,
) -> Answer {
    match (method, rest) {
        ("POST", []) => {
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("list")
                .to_owned();
            let processing_type = body
                .get("processingType")
                .and_then(Value::as_str)
                .unwrap_or("MANUAL")
                .to_owned();
            let id = portal.next_id().to_string();
            portal.lists.insert(
                id.clone(),
                SimList {
                    name: name.clone(),
                    processing_type: processing_type.clone(),
                    members: Vec::new(),
                },
            );
            Answer::json(
                200,
                json!({"list": {"listId": id, "name": name, "processingType": processing_type, "objectTypeId": "0-1"}}),
            )
        }
        ("PUT", [id, "memberships", "add"]) => {
            let Some(ids) = body.as_array() else {
                return invalid_body("body must be an array of record ids");
            };
            let contacts = portal.objects.get("contacts").cloned().unwrap_or_default();
            let Some(list) = portal.lists.get_mut(*id) else {
                return api_error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("List {id} does not exist"),
                    vec![],
                );
            };
            if list.processing_type == "DYNAMIC" {
                return api_error(
                    400,
                    "VALIDATION_ERROR",
                    "Memberships of DYNAMIC lists cannot be changed; use a MANUAL or SNAPSHOT list",
                    vec![],
                );
            }
            let mut added = Vec::new();
            let mut missing = Vec::new();
            for rid in ids.iter().filter_map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .or_else(|| v.as_u64().map(|n| n.to_string()))
            }) {
                if !rid
                    .parse::<u64>()
                    .ok()
                    .is_some_and(|n| contacts.contains_key(&n))
                {
                    missing.push(rid);
                } else if !list.members.iter().any(|(m, _)| *m == rid) {
                    list.members.push((rid.clone(), now));
                    added.push(rid);
                }
            }
            Answer::json(
                200,
                json!({"recordsIdsAdded": added, "recordIdsRemoved": [], "recordIdsMissing": missing}),
            )
        }
        ("GET", [id, "memberships"] | [id, "memberships", "join-order"]) => {
            let Some(list) = portal.lists.get(*id) else {
                return api_error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("List {id} does not exist"),
                    vec![],
                );
            };
            let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let limit: usize = q("limit")
                .and_then(|v| v.parse().ok())
                .unwrap_or(100)
                .min(250);
            let after: usize = q("after").and_then(|v| v.parse().ok()).unwrap_or(0);
            let page: Vec<Value> = list
                .members
                .iter()
                .skip(after)
                .take(limit)
                .map(|(r, at)| json!({"recordId": r, "membershipTimestamp": at.to_rfc3339()}))
                .collect();
            let mut out = json!({"results": page, "total": list.members.len()});
            if after + limit < list.members.len() {
                out["paging"] = json!({"next": {"after": (after + limit).to_string()}});
            }
            Answer::json(200, out)
        }
        _ => api_error(404, "OBJECT_NOT_FOUND", "no such lists endpoint", vec![]),
    }
}

/// Legacy `POST /automation/v2/workflows/{id}/enrollments/contacts/{email}`.
pub(crate) fn enroll_v2(portal: &mut Portal, workflow: &str, email: &str) -> Answer {
    if portal.find_by("contacts", "email", email).is_none() {
        return api_error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("Contact {email} not found"),
            vec![],
        );
    }
    portal
        .enrollments
        .push((workflow.to_owned(), email.to_lowercase()));
    Answer::empty(204)
}
