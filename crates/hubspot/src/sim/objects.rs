//! Object endpoints: batch upsert / update / read / create, search, get by id.

use std::collections::{BTreeMap, HashSet};

use cartograph_model::Timestamp;
use serde_json::{Value, json};

use super::routes::{Answer, Change, api_error, batch_answer, invalid_body};
use super::state::{Invalid, Portal, modified_property};

/// Records at most one search query can reach.
pub(crate) const SEARCH_CAP: usize = 10_000;

fn props_of(input: &Value) -> Result<BTreeMap<String, String>, Answer> {
    let mut out = BTreeMap::new();
    let Some(map) = input.get("properties").and_then(Value::as_object) else {
        return Err(invalid_body("properties is required"));
    };
    for (k, v) in map {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            Value::Null => {
                out.insert(k.clone(), String::new());
            }
            other => {
                return Err(invalid_body(&format!(
                    "Invalid input JSON: properties.{k} must be a string, got {other}"
                )));
            }
        }
    }
    Ok(out)
}

fn inputs(body: &Value) -> Result<&Vec<Value>, Answer> {
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_body("inputs is required"))?;
    if inputs.len() > 100 {
        return Err(api_error(
            400,
            "VALIDATION_ERROR",
            &format!("Batch input size must be <= 100 (got {})", inputs.len()),
            vec![],
        ));
    }
    Ok(inputs)
}

#[allow(clippy::needless_pass_by_value)] // built inline by every caller
fn error_entry(category: &str, message: &str, context: Value, details: Vec<Value>) -> Value {
    // `StandardError`: category, context, errors, links, message and status are required.
    json!({"status": "error", "category": category, "message": message, "context": context, "errors": details, "links": {}})
}

fn context_for(trace: Option<&str>, id: &str) -> Value {
    match trace {
        Some(t) => json!({"objectWriteTraceId": [t], "ids": [id]}),
        None => json!({"ids": [id]}),
    }
}

fn invalid_entry(problems: &[Invalid], trace: Option<&str>, id: &str) -> Value {
    let names: Vec<&str> = problems.iter().map(|p| p.property.as_str()).collect();
    error_entry(
        "VALIDATION_ERROR",
        &format!("Property values were not valid: {}", names.join(", ")),
        context_for(trace, id),
        problems.iter().map(Invalid::detail).collect(),
    )
}

/// `batch/upsert` (`update_only = false`) and `batch/update` (`true`).
pub(crate) fn batch_write(
    portal: &mut Portal,
    object: &str,
    body: &Value,
    update_only: bool,
    now: Timestamp,
    changes: &mut Vec<Change>,
) -> Answer {
    let inputs = match inputs(body) {
        Ok(i) => i,
        Err(a) => return a,
    };
    // Resolve every input first: duplicates reject the whole batch.
    let mut seen = HashSet::new();
    let mut plan = Vec::new();
    for input in inputs {
        let Some(id) = input.get("id").and_then(Value::as_str) else {
            return invalid_body("inputs[].id is required");
        };
        let id_property = input
            .get("idProperty")
            .and_then(Value::as_str)
            .unwrap_or("hs_object_id");
        if !portal.is_unique(object, id_property) {
            return api_error(
                400,
                "VALIDATION_ERROR",
                &format!(
                    "Unable to perform update/upsert by non-unique {object} property {id_property}"
                ),
                vec![],
            );
        }
        let props = match props_of(input) {
            Ok(p) => p,
            Err(a) => return a,
        };
        let target = portal.find_by(object, id_property, id);
        let key = target.map_or_else(
            || format!("new:{}", id.to_lowercase()),
            |t| format!("id:{t}"),
        );
        if !seen.insert(key) {
            return api_error(
                400,
                "VALIDATION_ERROR",
                &format!("Duplicate IDs found in batch input: [{id}]. IDs must be unique"),
                vec![],
            );
        }
        let trace = input
            .get("objectWriteTraceId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        plan.push((id.to_owned(), id_property.to_owned(), props, target, trace));
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (id, id_property, mut props, target, trace) in plan {
        if target.is_none() && (update_only || id_property == "hs_object_id") {
            errors.push(error_entry(
                "OBJECT_NOT_FOUND",
                &format!("Object {id} not found"),
                context_for(trace.as_deref(), &id),
                vec![],
            ));
            continue;
        }
        let problems = portal.validate(object, &props);
        if !problems.is_empty() {
            errors.push(invalid_entry(&problems, trace.as_deref(), &id));
            continue;
        }
        if target.is_none() {
            if object == "contacts" && id_property == "email" && !id.contains('@') {
                errors.push(error_entry(
                    "VALIDATION_ERROR",
                    &format!("Email address {id} is invalid"),
                    context_for(trace.as_deref(), &id),
                    vec![json!({"message": "invalid email", "code": "INVALID_EMAIL", "context": {"propertyName": ["email"]}})],
                ));
                continue;
            }
            props
                .entry(id_property.clone())
                .or_insert_with(|| id.clone());
        }
        let (record, changed, created) = portal.write(object, target, &props, now);
        changes.push(Change {
            object: object.to_owned(),
            id: record,
            created,
            changed,
        });
        let mut out = portal.to_json(object, record, None).unwrap_or(Value::Null);
        if !update_only {
            out["new"] = json!(created);
        }
        if let Some(t) = trace {
            out["objectWriteTraceId"] = json!(t);
        }
        results.push(out);
    }
    batch_answer(results, errors, 200)
}

/// `batch/create`.
pub(crate) fn batch_create(
    portal: &mut Portal,
    object: &str,
    body: &Value,
    now: Timestamp,
    changes: &mut Vec<Change>,
) -> Answer {
    let inputs = match inputs(body) {
        Ok(i) => i,
        Err(a) => return a,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in inputs {
        let props = match props_of(input) {
            Ok(p) => p,
            Err(a) => return a,
        };
        let trace = input.get("objectWriteTraceId").and_then(Value::as_str);
        let problems = portal.validate(object, &props);
        if !problems.is_empty() {
            errors.push(invalid_entry(&problems, trace, ""));
            continue;
        }
        if object == "contacts" {
            if let Some(existing) = props
                .get("email")
                .and_then(|e| portal.find_by(object, "email", e))
            {
                errors.push(error_entry(
                    "CONFLICT",
                    &format!("Contact already exists. Existing ID: {existing}"),
                    context_for(trace, ""),
                    vec![],
                ));
                continue;
            }
        }
        let (id, changed, created) = portal.write(object, None, &props, now);
        changes.push(Change {
            object: object.to_owned(),
            id,
            created,
            changed,
        });
        results.push(portal.to_json(object, id, None).unwrap_or(Value::Null));
    }
    batch_answer(results, errors, 201)
}

/// `batch/read`.
pub(crate) fn batch_read(portal: &Portal, object: &str, body: &Value) -> Answer {
    let inputs = match inputs(body) {
        Ok(i) => i,
        Err(a) => return a,
    };
    let id_property = body
        .get("idProperty")
        .and_then(Value::as_str)
        .unwrap_or("hs_object_id");
    let wanted: Vec<String> = body
        .get("properties")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let mut returned = HashSet::new();
    for input in inputs {
        let id = input.get("id").and_then(Value::as_str).unwrap_or("");
        match portal.find_by(object, id_property, id) {
            Some(found) => {
                if returned.insert(found) {
                    results.extend(portal.to_json(object, found, Some(&wanted)));
                }
            }
            None => missing.push(id.to_owned()),
        }
    }
    let errors = if missing.is_empty() {
        vec![]
    } else {
        vec![error_entry(
            "OBJECT_NOT_FOUND",
            &format!(
                "Could not get some {} objects, they may be deleted or not exist.",
                object.to_uppercase()
            ),
            json!({"ids": missing}),
            vec![],
        )]
    };
    batch_answer(results, errors, 200)
}

/// `GET {objects}/{type}`: records in id order, `limit` (default 10, at most 100), cursor
/// `after` (the next record id, as HubSpot's opaque `paging.next.after`), `properties` a
/// comma-separated list (repeated parameters too).
pub(crate) fn list(portal: &Portal, object: &str, query: &[(String, String)]) -> Answer {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit: usize = match param("limit").map(str::parse) {
        None => 10,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => {
            return api_error(
                400,
                "VALIDATION_ERROR",
                "limit must be between 1 and 100",
                vec![],
            );
        }
    };
    let after: u64 = match param("after").map(str::parse) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return api_error(
                400,
                "VALIDATION_ERROR",
                "after is not a valid cursor",
                vec![],
            );
        }
    };
    let wanted: Vec<String> = query
        .iter()
        .filter(|(k, _)| k == "properties")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let Some(records) = portal.objects.get(object) else {
        return api_error(404, "OBJECT_NOT_FOUND", "unknown object type", vec![]);
    };
    let mut ids = records.range(after..).map(|(id, _)| *id);
    let page: Vec<u64> = ids.by_ref().take(limit).collect();
    let results: Vec<Value> = page
        .iter()
        .filter_map(|id| portal.to_json(object, *id, Some(&wanted)))
        .collect();
    let mut body = json!({ "results": results });
    if let Some(next) = ids.next() {
        body["paging"] =
            json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}});
    }
    Answer::json(200, body)
}

#[allow(clippy::cast_precision_loss)] // simulator comparisons of epoch ms and amounts
fn matches_filter(value: Option<&String>, filter: &Value, numeric: bool) -> bool {
    let op = filter
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("EQ");
    let target = filter.get("value").and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| Some(v.to_string()))
    });
    let as_num = |s: &str| -> Option<f64> {
        s.parse::<f64>().ok().or_else(|| {
            Timestamp::parse_rfc3339(s)
                .ok()
                .map(|t| t.unix_millis() as f64)
        })
    };
    match op {
        "HAS_PROPERTY" => value.is_some_and(|v| !v.is_empty()),
        "NOT_HAS_PROPERTY" => value.is_none_or(String::is_empty),
        "IN" => {
            let values: Vec<String> = filter
                .get("values")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            value.is_some_and(|v| values.contains(&v.to_lowercase()))
        }
        _ => {
            let (Some(v), Some(t)) = (value, target) else {
                return op == "NEQ";
            };
            if numeric {
                let (Some(a), Some(b)) = (as_num(v), as_num(&t)) else {
                    return false;
                };
                match op {
                    "EQ" => (a - b).abs() < f64::EPSILON,
                    "NEQ" => (a - b).abs() >= f64::EPSILON,
                    "GT" => a > b,
                    "GTE" => a >= b,
                    "LT" => a < b,
                    "LTE" => a <= b,
                    _ => false,
                }
            } else {
                match op {
                    "EQ" => v.eq_ignore_ascii_case(&t),
                    "NEQ" => !v.eq_ignore_ascii_case(&t),
                    "CONTAINS_TOKEN" => v
                        .to_lowercase()
                        .contains(&t.to_lowercase().replace('*', "")),
                    "GT" => v.as_str() > t.as_str(),
                    "GTE" => v.as_str() >= t.as_str(),
                    "LT" => v.as_str() < t.as_str(),
                    "LTE" => v.as_str() <= t.as_str(),
                    _ => false,
                }
            }
        }
    }
}

/// `POST .../search`: filters, one sort, `after` offsets, at most 10,000 reachable.
pub(crate) fn search(portal: &Portal, object: &str, body: &Value) -> Answer {
    let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(10);
    if limit > 200 {
        return api_error(400, "VALIDATION_ERROR", "limit must be <= 200", vec![]);
    }
    let after: usize = body
        .get("after")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit = usize::try_from(limit).unwrap_or(10);
    if after + limit > SEARCH_CAP {
        return api_error(
            400,
            "VALIDATION_ERROR",
            "Search results are limited to 10,000: narrow the query instead of paging past it",
            vec![],
        );
    }
    let defs = portal.properties.get(object);
    let numeric = |name: &str| {
        defs.and_then(|d| d.get(name))
            .is_some_and(|p| matches!(p.kind.as_str(), "number" | "datetime" | "date"))
    };
    let groups: Vec<&Value> = body
        .get("filterGroups")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let Some(records) = portal.objects.get(object) else {
        return api_error(404, "OBJECT_NOT_FOUND", "unknown object type", vec![]);
    };
    let mut hits: Vec<&super::state::SimRecord> = records
        .values()
        .filter(|r| {
            groups.is_empty()
                || groups.iter().any(|g| {
                    g.get("filters").and_then(Value::as_array).is_none_or(|fs| {
                        fs.iter().all(|f| {
                            let name = f.get("propertyName").and_then(Value::as_str).unwrap_or("");
                            matches_filter(r.properties.get(name), f, numeric(name))
                        })
                    })
                })
        })
        .collect();
    let sort = body
        .get("sorts")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .map(|s| match s {
            Value::String(name) => name
                .strip_prefix('-')
                .map_or((name.clone(), false), |n| (n.to_owned(), true)),
            other => (
                other
                    .get("propertyName")
                    .and_then(Value::as_str)
                    .unwrap_or("hs_object_id")
                    .to_owned(),
                other.get("direction").and_then(Value::as_str) == Some("DESCENDING"),
            ),
        });
    let (sort_by, descending) = sort.unwrap_or_else(|| ("hs_object_id".into(), false));
    let key = |r: &super::state::SimRecord| -> (i128, String) {
        let v = r.properties.get(&sort_by).cloned().unwrap_or_default();
        let n = v
            .parse::<i128>()
            .ok()
            .or_else(|| {
                Timestamp::parse_rfc3339(&v)
                    .ok()
                    .map(|t| i128::from(t.unix_millis()))
            })
            .unwrap_or(i128::MIN);
        (n, v)
    };
    hits.sort_by(|a, b| {
        key(a)
            .cmp(&key(b))
            .then_with(|| a.id.len().cmp(&b.id.len()).then(a.id.cmp(&b.id)))
    });
    if descending {
        hits.reverse();
    }
    let wanted: Vec<String> = body
        .get("properties")
        .and_then(Value::as_array)
        .map_or_else(
            || vec!["email".into(), modified_property(object).into()],
            |a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            },
        );
    let total = hits.len();
    let page: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .filter_map(|r| {
            r.id.parse()
                .ok()
                .and_then(|id| portal.to_json(object, id, Some(&wanted)))
        })
        .collect();
    let mut out = json!({"total": total, "results": page});
    if after + limit < total {
        out["paging"] = json!({"next": {"after": (after + limit).to_string(), "link": "?after="}});
    }
    Answer::json(200, out)
}
