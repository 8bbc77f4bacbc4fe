//! Single-record upsert by External ID: `PATCH /sobjects/{SObject}/{field}/{value}`.
//!
//! Salesforce answers 201 (created), 200 with a body or 204 (updated one match), or **300
//! Multiple Choices** when the value matches more than one record (an External ID field
//! that is not marked unique): the body is the list of the matching records' URLs. A 300 is
//! not a transient failure: retrying writes nothing and picks no record. It becomes a
//! per-record [`ErrorKind::Conflict`] (`MULTIPLE_CHOICES`, never retried) naming the record
//! and the matching ids, for review as a dead letter.

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result, WriteStatus};
use cartograph_http::Request;
use cartograph_http::url::path_segment;
use serde_json::{Map, Value};

use crate::Salesforce;
use crate::client::{SalesforceClient, SaveResult};
use crate::error::CONNECTOR;

/// The vendor code of an ambiguous upsert (HTTP 300).
pub const MULTIPLE_CHOICES: &str = "MULTIPLE_CHOICES";

/// The error of a 300 answer: the ids at the end of the matching records' URLs.
///
/// ```
/// use cartograph_salesforce::upsert_one::ambiguous;
/// let err = ambiguous(br#"["/services/data/v62.0/sobjects/Contact/003A","/services/data/v62.0/sobjects/Contact/003B"]"#);
/// assert_eq!(err.kind(), cartograph_connector::ErrorKind::Conflict);
/// assert!(!err.is_retryable());
/// assert!(err.to_string().contains("003A, 003B"));
/// ```
pub fn ambiguous(body: &[u8]) -> Error {
    let ids: Vec<String> = serde_json::from_slice::<Vec<String>>(body)
        .unwrap_or_default()
        .iter()
        .filter_map(|url| url.rsplit('/').next())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    let message = if ids.is_empty() {
        "the External ID matches more than one record".to_owned()
    } else {
        format!(
            "the External ID matches {} records: {}",
            ids.len(),
            ids.join(", ")
        )
    };
    Error::new(ErrorKind::Conflict, message)
        .with_connector(CONNECTOR)
        .with_status(300)
        .with_vendor_code(MULTIPLE_CHOICES)
}

impl SalesforceClient {
    /// `PATCH /sobjects/{sobject}/{field}/{value}` with `fields` (without the External ID,
    /// which the path carries).
    ///
    /// # Errors
    /// A 300 is [`ErrorKind::Conflict`] ([`ambiguous`]); transport and vendor errors.
    pub async fn upsert_one(
        &self,
        sobject: &str,
        field: &str,
        value: &str,
        fields: Map<String, Value>,
        operation: &'static str,
    ) -> Result<SaveResult> {
        let http = self.http().await?;
        let request = Request::patch(format!(
            "sobjects/{}/{}/{}",
            path_segment(sobject, "sobject")?,
            path_segment(field, "external id field")?,
            path_segment(value, "external id")?
        ))
        .operation(operation)
        .json(Value::Object(fields))
        .retry_safe(true);
        let response = http.send(self.write(request)).await?;
        if response.status == 204 || response.body.is_empty() {
            return Ok(SaveResult {
                success: true,
                ..SaveResult::default()
            });
        }
        let mut result: SaveResult = serde_json::from_slice(&response.body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("cannot decode upsert result: {e}"),
            )
            .with_connector(CONNECTOR)
            .with_operation(operation)
        })?;
        result.created = result.created || response.status == 201;
        Ok(result)
    }
}

impl Salesforce {
    /// Upserts one record of `sobject` on the External ID field `field` = `value`; the
    /// outcome is named `key`. An ambiguous match (300) or a vendor refusal of the record is
    /// a failed outcome naming `sobject/field/value`; credentials, config and exhausted
    /// retries fail the call.
    ///
    /// # Errors
    /// Fatal errors (see above).
    pub async fn upsert_record(
        &self,
        sobject: &str,
        field: &str,
        value: &str,
        key: &str,
        fields: Map<String, Value>,
    ) -> Result<RecordOutcome> {
        let record = format!("{sobject}/{field}/{value}");
        match self
            .client
            .upsert_one(sobject, field, value, fields, "upsert_record")
            .await
        {
            Ok(result) => Ok(RecordOutcome {
                key: key.to_owned(),
                id: result.id,
                status: if result.created {
                    WriteStatus::Created
                } else {
                    WriteStatus::Updated
                },
            }),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Conflict | ErrorKind::Invalid | ErrorKind::NotFound
                ) =>
            {
                Ok(RecordOutcome::failed(key, e.with_record(record)))
            }
            Err(e) => Err(e.with_record(record)),
        }
    }
}
