//! Single-record upsert by External ID (`PATCH /sobjects/{S}/{field}/{value}`) as
//! Salesforce answers it: 201 with the new id, 200 with `created: false` for one match, 300
//! with the matching records' URLs when the value matches several (a non-unique External
//! ID field), 404 for an unknown object, 400 with the error array otherwise. The write goes
//! through the collection upsert, so validation and duplicate rules are the same.

use serde_json::{Value, json};

use super::state::{Reply, State, error};

/// Answers `PATCH /sobjects/{object}/{field}/{value}`.
pub(crate) fn upsert(
    state: &mut State,
    object: &str,
    field: &str,
    value: &str,
    body: &Value,
    client: Option<&str>,
) -> Reply {
    let Some(fields) = body.as_object() else {
        return error(400, "JSON_PARSER_ERROR", "body must be an object", &[]);
    };
    let matches: Vec<String> = state
        .rows
        .get(object)
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    r.fields.iter().any(|(k, v)| {
                        k.eq_ignore_ascii_case(field)
                            && v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(value))
                    })
                })
                .map(|r| format!("/services/data/v62.0/sobjects/{object}/{}", r.id))
                .collect()
        })
        .unwrap_or_default();
    if matches.len() > 1 {
        return (300, json!(matches));
    }
    let mut record = fields.clone();
    record.insert("attributes".into(), json!({"type": object}));
    record.insert(field.to_owned(), json!(value));
    let (status, answer) = state.handle(
        "PATCH",
        &["composite", "sobjects", object, field],
        &std::collections::BTreeMap::new(),
        &json!({"allOrNone": false, "records": [record]}),
        client,
    );
    if status != 200 {
        return (status, answer);
    }
    let result = &answer[0];
    if result["success"] == json!(true) {
        let created = result["created"] == json!(true);
        let status = if created { 201 } else { 200 };
        return (
            status,
            json!({"id": result["id"], "success": true, "errors": [], "created": created}),
        );
    }
    let errors: Vec<Value> = result["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| json!({"errorCode": e["statusCode"], "message": e["message"], "fields": e["fields"]}))
                .collect()
        })
        .unwrap_or_default();
    (400, Value::Array(errors))
}
