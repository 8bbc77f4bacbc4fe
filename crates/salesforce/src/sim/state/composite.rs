//! `POST /composite` (at most 25 subrequests, at most 5 of them collections or queries;
//! `@{ref.field}` / `@{ref[0].id}` references; `allOrNone` rollback with
//! `PROCESSING_HALTED` for the others) and the collection create (`POST
//! /composite/sobjects`) and delete (`DELETE /composite/sobjects?ids=`).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use super::{Reply, State, error, record_error, text};

/// A record of a collection: its sObject and canonically spelled fields.
type Typed = (String, serde_json::Map<String, Value>);

const HALTED: &str = "The transaction was rolled back since another operation in the same \
                      transaction failed.";

fn halted() -> Value {
    json!([{"errorCode": "PROCESSING_HALTED", "message": HALTED}])
}

/// Whether a subrequest's answer is a failure (an error status, or a collection with a
/// refused record).
fn failed(status: u16, body: &Value) -> bool {
    status >= 400
        || body.as_array().is_some_and(|a| {
            a.iter()
                .any(|r| r.get("success").is_some_and(|s| s == &json!(false)))
        })
}

/// The value a reference (`opp[0].id`, `acct.id`) names in earlier results.
fn lookup(reference: &str, results: &HashMap<String, Value>) -> Option<String> {
    let name_end = reference.find(['.', '[']).unwrap_or(reference.len());
    let mut value = results.get(&reference[..name_end])?;
    let mut rest = &reference[name_end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let (index, tail) = r.split_once(']')?;
            value = value.get(index.parse::<usize>().ok()?)?;
            rest = tail;
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            value = value.get(&r[..end])?;
            rest = &r[end..];
        } else {
            return None;
        }
    }
    Some(text(value))
}

/// `text` with every `@{...}` replaced; the first unresolved reference on failure.
fn substitute(text: &str, results: &HashMap<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            return Err(rest[start..].to_owned());
        };
        let reference = &rest[start + 2..start + end];
        out.push_str(&lookup(reference, results).ok_or_else(|| reference.to_owned())?);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl State {
    /// The records of a collection body (at most 200, each with `attributes.type` of a
    /// known object and known fields), canonically spelled; the whole call's error reply
    /// otherwise.
    pub(super) fn typed_records(&self, body: &Value) -> Result<Vec<Typed>, Reply> {
        let records = body
            .get("records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if records.len() > 200 {
            return Err(error(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
                &[],
            ));
        }
        let mut parsed = Vec::new();
        for r in &records {
            let Some(map) = r.as_object() else {
                return Err(error(
                    400,
                    "JSON_PARSER_ERROR",
                    "records must be objects",
                    &[],
                ));
            };
            let object = map
                .get("attributes")
                .and_then(|a| a.get("type"))
                .map(text)
                .unwrap_or_default();
            if !self.fields.contains_key(&object) {
                return Err(error(
                    400,
                    "INVALID_TYPE",
                    "every record needs attributes.type",
                    &[],
                ));
            }
            if let Some(reply) = self.check_fields(&object, map) {
                return Err(reply);
            }
            parsed.push((object.clone(), self.canonical(&object, map)));
        }
        Ok(parsed)
    }

    pub(super) fn composite(&mut self, body: &Value) -> Reply {
        let Some(subs) = body.get("compositeRequest").and_then(Value::as_array) else {
            return error(
                400,
                "JSON_PARSER_ERROR",
                "compositeRequest is required",
                &[],
            );
        };
        let all_or_none = body.get("allOrNone").and_then(Value::as_bool) == Some(true);
        if subs.len() > 25 {
            return error(
                400,
                "LIMIT_EXCEEDED",
                "A composite request can contain at most 25 subrequests",
                &[],
            );
        }
        let collections = subs
            .iter()
            .filter(|s| {
                let url = s.get("url").map(text).unwrap_or_default();
                url.contains("/composite/sobjects") || url.contains("/query")
            })
            .count();
        if collections > 5 {
            return error(
                400,
                "LIMIT_EXCEEDED",
                "A composite request can contain at most 5 sObject Collections or query subrequests",
                &[],
            );
        }
        let saved = (self.rows.clone(), self.next_id);
        let mut results: HashMap<String, Value> = HashMap::new();
        let mut out: Vec<(String, u16, Value)> = Vec::new();
        let mut culprit = None;
        for sub in subs {
            let reference = sub.get("referenceId").map(text).unwrap_or_default();
            if culprit.is_some() && all_or_none {
                out.push((reference, 400, halted()));
                continue;
            }
            let (status, value) = self.subrequest(sub, &results);
            if failed(status, &value) {
                culprit.get_or_insert(out.len());
            }
            let status = if failed(status, &value) {
                status.max(400)
            } else {
                status
            };
            results.insert(reference.clone(), value.clone());
            out.push((reference, status, value));
        }
        if let Some(bad) = culprit
            && all_or_none
        {
            (self.rows, self.next_id) = saved;
            for (n, item) in out.iter_mut().enumerate() {
                if n != bad {
                    item.1 = 400;
                    item.2 = halted();
                }
            }
        }
        let responses: Vec<Value> = out
            .into_iter()
            .map(|(reference, status, body)| {
                json!({"body": body, "httpHeaders": {}, "httpStatusCode": status,
                       "referenceId": reference})
            })
            .collect();
        (200, json!({"compositeResponse": responses}))
    }

    fn subrequest(&mut self, sub: &Value, results: &HashMap<String, Value>) -> Reply {
        let method = sub.get("method").map(text).unwrap_or_default();
        let url = sub.get("url").map(text).unwrap_or_default();
        let resolved = substitute(&url, results).and_then(|url| {
            let body = sub.get("body").cloned().unwrap_or(Value::Null);
            let body = substitute(&body.to_string(), results)?;
            Ok((
                url,
                serde_json::from_str::<Value>(&body).unwrap_or(Value::Null),
            ))
        });
        let (url, body) = match resolved {
            Ok(v) => v,
            Err(reference) => {
                return error(
                    400,
                    "INVALID_FIELD",
                    &format!("Invalid reference specified. No value for {reference} found"),
                    &[],
                );
            }
        };
        let Some(rest) = url
            .strip_prefix("/services/data/")
            .and_then(|r| r.split_once('/'))
            .map(|(_, rest)| rest.to_owned())
        else {
            return error(
                400,
                "NOT_FOUND",
                "subrequest url must be /services/data/vNN.N/...",
                &[],
            );
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest.as_str(), ""));
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segments.first() == Some(&"composite") && segments.len() == 1 {
            return error(400, "INVALID_FIELD", "composite cannot nest", &[]);
        }
        let query: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self.handle(&method, &segments, &query, &body, None)
    }

    /// `POST /composite/sobjects`: creates up to 200 records (any types); with
    /// `allOrNone` one refused record undoes the others (`ALL_OR_NONE_OPERATION_ROLLED_BACK`).
    pub(super) fn create_many(&mut self, body: &Value) -> Reply {
        let all_or_none = body.get("allOrNone").and_then(Value::as_bool) == Some(true);
        let parsed = match self.typed_records(body) {
            Ok(p) => p,
            Err(reply) => return reply,
        };
        let saved = (self.rows.clone(), self.next_id);
        let mut results = Vec::new();
        let mut refused = false;
        for (object, mut fields) in parsed {
            let problem = super::read_only(&object, &fields)
                .or_else(|| Self::missing_required(&object, &fields))
                .or_else(|| self.check_catalog(&object, &mut fields, None));
            match problem {
                Some(e) => {
                    refused = true;
                    results.push(e);
                }
                None => {
                    let id = self.insert(&object, fields);
                    results.push(json!({"id": id, "success": true, "errors": []}));
                }
            }
        }
        if refused && all_or_none {
            (self.rows, self.next_id) = saved;
            for r in &mut results {
                if r.get("success") == Some(&json!(true)) {
                    *r = record_error(
                        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the request \
                         was using AllOrNone header",
                        &[],
                    );
                }
            }
        }
        (200, Value::Array(results))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(reference: &str, url: &str, body: &Value) -> Value {
        json!({"method": "POST", "url": format!("/services/data/v62.0/{url}"),
               "referenceId": reference, "body": body})
    }

    #[test]
    fn more_than_25_subrequests_or_5_collections_are_refused_whole() {
        let mut state = State::new(2000, false, true);
        let product = json!({"Name": "Boot"});
        let subs: Vec<Value> = (0..26)
            .map(|n| sub(&format!("p{n}"), "sobjects/Product2", &product))
            .collect();
        let (status, body) = state.composite(&json!({"allOrNone": true, "compositeRequest": subs}));
        assert_eq!(status, 400);
        assert_eq!(body[0]["errorCode"], "LIMIT_EXCEEDED");
        let records = json!({"allOrNone": true, "records": [
            {"attributes": {"type": "Product2"}, "Name": "Boot"}]});
        let subs: Vec<Value> = (0..6)
            .map(|n| sub(&format!("c{n}"), "composite/sobjects", &records))
            .collect();
        let (status, _) = state.composite(&json!({"allOrNone": true, "compositeRequest": subs}));
        assert_eq!(status, 400);
        assert!(state.rows.get("Product2").is_none_or(Vec::is_empty));
    }

    #[test]
    fn all_or_none_rolls_back_and_halts_the_others() {
        let mut state = State::new(2000, false, true);
        let subs = json!([
            sub("prod", "sobjects/Product2", &json!({"Name": "Boot"})),
            // References the product, but names a price book that does not exist.
            sub(
                "entry",
                "sobjects/PricebookEntry",
                &json!({
                "Product2Id": "@{prod.id}", "Pricebook2Id": "01sNOPE", "UnitPrice": "10"})
            ),
        ]);
        let (status, body) = state.composite(&json!({"allOrNone": true, "compositeRequest": subs}));
        assert_eq!(status, 200);
        let responses = body["compositeResponse"].as_array().unwrap();
        assert_eq!(responses[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
        assert_eq!(
            responses[1]["body"][0]["errorCode"],
            "INVALID_CROSS_REFERENCE_KEY"
        );
        assert_eq!(responses[1]["body"][0]["fields"][0], "Pricebook2Id");
        assert!(
            state.rows.get("Product2").is_none_or(Vec::is_empty),
            "rolled back"
        );
    }

    #[test]
    fn references_name_fields_and_collection_items() {
        let mut results = HashMap::new();
        results.insert("opp".to_owned(), json!([{"id": "006A", "success": true}]));
        results.insert("acct".to_owned(), json!({"id": "001B"}));
        assert_eq!(
            substitute(
                r#"{"OpportunityId":"@{opp[0].id}","AccountId":"@{acct.id}"}"#,
                &results
            ),
            Ok(r#"{"OpportunityId":"006A","AccountId":"001B"}"#.to_owned())
        );
        assert_eq!(
            substitute("@{nope.id}", &results),
            Err("nope.id".to_owned())
        );
    }
}
