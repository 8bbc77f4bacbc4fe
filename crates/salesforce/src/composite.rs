//! The Composite resource (`POST /composite`): up to 25 subrequests in one call (at most 5
//! of them sObject Collections or queries), `referenceId` chaining (`@{ref[0].id}` names
//! the first record of a collection result) and `allOrNone` rollback.
//!
//! [`Subrequest`] describes one subrequest as plain data, so request building is testable
//! without a network; [`SalesforceClient::composite`] sends a batch of them.

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::Request;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::{SalesforceClient, SaveResult, decode};
use crate::error::{ApiError, CONNECTOR, from_api_error};

/// Subrequests per Composite call.
pub const MAX_SUBREQUESTS: usize = 25;
/// sObject Collections (or query) subrequests per Composite call.
pub const MAX_COLLECTION_SUBREQUESTS: usize = 5;
/// Records per sObject Collections subrequest.
pub const MAX_COLLECTION_RECORDS: usize = 200;

/// One subrequest: method, path below the REST root (`composite/sobjects`), body.
#[derive(Debug, Clone, PartialEq)]
pub struct Subrequest {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// Path below `/services/data/vNN.N/`, with its query string.
    pub path: String,
    /// Name of the result for later references (`@{referenceId...}`).
    pub reference_id: String,
    /// The body, if any.
    pub body: Option<Value>,
}

impl Subrequest {
    /// Whether it counts against [`MAX_COLLECTION_SUBREQUESTS`].
    pub fn is_collection(&self) -> bool {
        self.path.starts_with("composite/sobjects") || self.path.starts_with("query")
    }

    /// `POST composite/sobjects` creating `records` of `sobject` (all or none).
    pub fn create(reference_id: &str, sobject: &str, records: Vec<Value>) -> Self {
        Self {
            method: "POST",
            path: "composite/sobjects".into(),
            reference_id: reference_id.into(),
            body: Some(collection(sobject, records)),
        }
    }

    /// `PATCH composite/sobjects` updating `records` (each with `Id`) of `sobject`.
    pub fn update(reference_id: &str, sobject: &str, records: Vec<Value>) -> Self {
        Self {
            method: "PATCH",
            path: "composite/sobjects".into(),
            reference_id: reference_id.into(),
            body: Some(collection(sobject, records)),
        }
    }

    /// `PATCH composite/sobjects/{sobject}/{field}` upserting `records` by External ID.
    pub fn upsert(reference_id: &str, sobject: &str, field: &str, records: Vec<Value>) -> Self {
        Self {
            method: "PATCH",
            path: format!("composite/sobjects/{sobject}/{field}"),
            reference_id: reference_id.into(),
            body: Some(collection(sobject, records)),
        }
    }

    /// `DELETE composite/sobjects?ids=...&allOrNone=true`.
    pub fn delete(reference_id: &str, ids: &[String]) -> Self {
        Self {
            method: "DELETE",
            path: format!("composite/sobjects?ids={}&allOrNone=true", ids.join(",")),
            reference_id: reference_id.into(),
            body: None,
        }
    }
}

/// `records` with `attributes.type` set to `sobject`.
pub(crate) fn typed(sobject: &str, records: Vec<Value>) -> Vec<Value> {
    records
        .into_iter()
        .map(|mut r| {
            if let Some(map) = r.as_object_mut() {
                map.insert("attributes".into(), json!({ "type": sobject }));
            }
            r
        })
        .collect()
}

/// A collection body: every record typed, all or none.
fn collection(sobject: &str, records: Vec<Value>) -> Value {
    json!({ "allOrNone": true, "records": typed(sobject, records) })
}

/// The result of one subrequest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubResponse {
    /// The subrequest's `referenceId`.
    #[serde(default)]
    pub reference_id: String,
    /// Its HTTP status.
    #[serde(default)]
    pub http_status_code: u16,
    /// Its body (a collection's results, a record, or an error array).
    #[serde(default)]
    pub body: Value,
}

/// Salesforce's code for subrequests skipped because another one failed.
pub const PROCESSING_HALTED: &str = "PROCESSING_HALTED";

impl SubResponse {
    /// The per-record results of a collection subrequest.
    pub fn save_results(&self) -> Vec<SaveResult> {
        serde_json::from_value(self.body.clone()).unwrap_or_default()
    }

    /// The first error of this subrequest: an error array, or the first failed record of
    /// a collection. `None` when it succeeded.
    pub fn error(&self) -> Option<ApiError> {
        let is_results = self
            .body
            .as_array()
            .and_then(|a| a.first())
            .is_some_and(|r| r.get("success").is_some());
        if self.http_status_code >= 400
            && !is_results
            && let Ok(errors) = serde_json::from_value::<Vec<ApiError>>(self.body.clone())
            && let Some(first) = errors.into_iter().next()
        {
            return Some(first);
        }
        let results = self.save_results();
        // The failed record, not the ones rolled back with it.
        let failed = results
            .iter()
            .find(|r| {
                !r.success
                    && r.errors
                        .first()
                        .is_none_or(|e| e.error_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK")
            })
            .or_else(|| results.iter().find(|r| !r.success))
            .cloned();
        if let Some(failed) = failed {
            return Some(failed.errors.into_iter().next().unwrap_or(ApiError {
                message: "record refused without an error".into(),
                error_code: String::new(),
                fields: Vec::new(),
            }));
        }
        (self.http_status_code >= 400).then(|| ApiError {
            message: format!("subrequest failed with HTTP {}", self.http_status_code),
            error_code: String::new(),
            fields: Vec::new(),
        })
    }

    /// Whether it was skipped or rolled back because another subrequest failed.
    pub fn halted(&self) -> bool {
        self.error().is_some_and(|e| {
            e.error_code == PROCESSING_HALTED || e.error_code == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        })
    }
}

/// The error that made an all-or-none Composite call fail (the first failed subrequest
/// that was not merely halted), naming its `referenceId`. `None` when all succeeded.
pub fn culprit(responses: &[SubResponse]) -> Option<Error> {
    let failed: Vec<(&SubResponse, ApiError)> = responses
        .iter()
        .filter_map(|r| r.error().map(|e| (r, e)))
        .collect();
    let (response, error) = failed
        .iter()
        .find(|(r, _)| !r.halted())
        .or_else(|| failed.first())?;
    let err = from_api_error(error, ErrorKind::Invalid);
    let message = format!("{} (subrequest {})", err.message(), response.reference_id);
    let mut out = Error::new(err.kind(), message)
        .with_connector(CONNECTOR)
        .with_retryable(err.is_retryable());
    if let Some(code) = err.vendor_code() {
        out = out.with_vendor_code(code.to_owned());
    }
    if let Some(field) = err.field() {
        out = out.with_field(field.to_owned());
    }
    Some(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeBody {
    #[serde(default)]
    composite_response: Vec<SubResponse>,
}

impl SalesforceClient {
    /// `POST /composite/sobjects` (`allOrNone: false`): creates up to 200 records; one
    /// result per record, in order.
    ///
    /// # Errors
    /// Transport and vendor errors of the whole call.
    pub async fn create_many(
        &self,
        sobject: &str,
        records: Vec<Value>,
        operation: &'static str,
    ) -> Result<Vec<SaveResult>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let n = records.len();
        let mut body = collection(sobject, records);
        body["allOrNone"] = json!(false);
        self.send_collection(
            Request::post("composite/sobjects")
                .operation(operation)
                .json(body)
                .retry_safe(false),
            n,
        )
        .await
    }

    /// `POST /composite` with `allOrNone: true` and `collateSubrequests: false` (in order):
    /// one result per subrequest, in order.
    ///
    /// Not retried after a lost response (a create may have committed); callers look up
    /// what exists before they build the next call.
    ///
    /// # Errors
    /// `Invalid` for more than [`MAX_SUBREQUESTS`] subrequests or more than
    /// [`MAX_COLLECTION_SUBREQUESTS`] collections (before any request); transport and vendor
    /// errors of the whole call.
    pub async fn composite(
        &self,
        subrequests: &[Subrequest],
        operation: &'static str,
    ) -> Result<Vec<SubResponse>> {
        let collections = subrequests.iter().filter(|s| s.is_collection()).count();
        if subrequests.len() > MAX_SUBREQUESTS || collections > MAX_COLLECTION_SUBREQUESTS {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "{} subrequests ({collections} collections) in one Composite call; at most \
                     {MAX_SUBREQUESTS} ({MAX_COLLECTION_SUBREQUESTS} collections)",
                    subrequests.len()
                ),
            )
            .with_connector(CONNECTOR)
            .with_operation(operation));
        }
        if subrequests.is_empty() {
            return Ok(Vec::new());
        }
        let root = format!("/services/data/{}", self.api_version());
        let requests: Vec<Value> = subrequests
            .iter()
            .map(|s| {
                let mut r = json!({
                    "method": s.method,
                    "url": format!("{root}/{}", s.path),
                    "referenceId": s.reference_id,
                });
                if let Some(body) = &s.body {
                    r["body"] = body.clone();
                }
                r
            })
            .collect();
        let http = self.http().await?;
        let body: CompositeBody = http
            .send_json(
                self.write(Request::post("composite").operation(operation))
                    .json(json!({
                        "allOrNone": true,
                        "collateSubrequests": false,
                        "compositeRequest": requests,
                    }))
                    .retry_safe(false),
            )
            .await?;
        if body.composite_response.len() != subrequests.len() {
            return Err(decode(
                "composite response",
                format!(
                    "{} results for {} subrequests",
                    body.composite_response.len(),
                    subrequests.len()
                ),
            ));
        }
        Ok(body.composite_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_typed_and_all_or_none() {
        let s = Subrequest::create("new0", "OpportunityLineItem", vec![json!({"Quantity": 2})]);
        assert!(s.is_collection());
        assert_eq!(
            s.body,
            Some(json!({"allOrNone": true, "records": [
                {"Quantity": 2, "attributes": {"type": "OpportunityLineItem"}}]}))
        );
        let d = Subrequest::delete("del0", &["00kA".into(), "00kB".into()]);
        assert_eq!(d.path, "composite/sobjects?ids=00kA,00kB&allOrNone=true");
    }

    #[test]
    fn the_culprit_is_the_failed_subrequest_not_the_halted_ones() {
        let responses: Vec<SubResponse> = serde_json::from_value(json!([
            {"referenceId": "opp", "httpStatusCode": 400, "body": [
                {"errorCode": "PROCESSING_HALTED", "message": "rolled back"}]},
            {"referenceId": "new0", "httpStatusCode": 400, "body": [
                {"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Quantity]",
                 "fields": ["Quantity"]}]},
        ]))
        .unwrap();
        let err = culprit(&responses).unwrap();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.vendor_code(), Some("REQUIRED_FIELD_MISSING"));
        assert_eq!(err.field(), Some("Quantity"));
        assert!(err.message().contains("new0"), "{}", err.message());
        let ok: Vec<SubResponse> = serde_json::from_value(json!([
            {"referenceId": "opp", "httpStatusCode": 200, "body": [
                {"id": "006A", "success": true, "created": true, "errors": []}]}]))
        .unwrap();
        assert!(culprit(&ok).is_none());
    }
}
