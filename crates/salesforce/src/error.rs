//! Salesforce's error bodies turned into the shared [`Error`].
//!
//! * REST errors are an array `[{"message","errorCode","fields"}]`; the first entry gives
//!   the message, the vendor code and the field.
//! * `INVALID_SESSION_ID` (401) is [`ErrorKind::Unauthorized`]: the HTTP client refreshes
//!   the token once and retries.
//! * `REQUEST_LIMIT_EXCEEDED` (403 for the daily allocation) is [`ErrorKind::RateLimited`],
//!   waiting `Retry-After` or a minute.
//! * `DUPLICATES_DETECTED` (an org duplicate rule) is [`ErrorKind::Conflict`], never retried;
//!   so is `CANNOT_UPDATE_CONVERTED_LEAD` (a write to a Lead converted since the lookup).
//! * `INVALID_FIELD`, `REQUIRED_FIELD_MISSING`, `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`,
//!   ... are [`ErrorKind::Invalid`] naming the field.
//! * `Sforce-Limit-Info: api-usage=N/M` on every response is fed to the rate limiter: from
//!   a threshold of the daily allocation requests are spaced, and when it is spent they
//!   pause (see [`crate::limits`]).

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind};
use cartograph_http::http::HeaderMap;
use cartograph_http::{RateLimitSignal, VendorPolicy, default_classify, parse_retry_after};
use serde::Deserialize;

/// Connector name on every error.
pub const CONNECTOR: &str = "salesforce";

/// One Salesforce error entry (REST error arrays and per-record collection results).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiError {
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// Machine code (`errorCode` in REST errors, `statusCode` in collection results).
    #[serde(default, rename = "errorCode", alias = "statusCode")]
    pub error_code: String,
    /// Fields the error is about.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The [`ErrorKind`] of a Salesforce error code.
pub fn kind_of(code: &str, fallback: ErrorKind) -> ErrorKind {
    match code {
        "INVALID_SESSION_ID" => ErrorKind::Unauthorized,
        "REQUEST_LIMIT_EXCEEDED" | "TXN_SECURITY_METERING_ERROR" => ErrorKind::RateLimited,
        "DUPLICATES_DETECTED"
        | "DUPLICATE_VALUE"
        | "DUPLICATE_EXTERNAL_ID"
        | "CANNOT_UPDATE_CONVERTED_LEAD" => ErrorKind::Conflict,
        "NOT_FOUND" | "ENTITY_IS_DELETED" => ErrorKind::NotFound,
        "INSUFFICIENT_ACCESS" | "INSUFFICIENT_ACCESS_OR_READONLY" | "API_DISABLED_FOR_ORG" => {
            ErrorKind::Forbidden
        }
        "INVALID_FIELD"
        | "REQUIRED_FIELD_MISSING"
        | "INVALID_TYPE"
        | "MALFORMED_QUERY"
        | "JSON_PARSER_ERROR"
        | "STRING_TOO_LONG"
        | "INVALID_EMAIL_ADDRESS"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        | "INVALID_FIELD_FOR_INSERT_UPDATE"
        | "INVALID_CROSS_REFERENCE_KEY"
        | "MALFORMED_ID"
        | "EXCEEDED_ID_LIMIT"
        | "INVALID_BATCH_SIZE" => ErrorKind::Invalid,
        _ => fallback,
    }
}

/// An [`Error`] from one Salesforce error entry (status unknown: per-record results).
pub fn from_api_error(e: &ApiError, fallback: ErrorKind) -> Error {
    let kind = kind_of(&e.error_code, fallback);
    let message = if e.message.trim().is_empty() {
        e.error_code.clone()
    } else {
        e.message.clone()
    };
    let mut err = Error::new(kind, message).with_connector(CONNECTOR);
    if !e.error_code.is_empty() {
        err = err.with_vendor_code(e.error_code.clone());
    }
    if let Some(field) = e.fields.first().filter(|f| !f.is_empty()) {
        err = err.with_field(field.clone());
    }
    if kind == ErrorKind::Conflict {
        err = err.with_retryable(false);
    }
    err
}

/// The vendor policy: error arrays, `Sforce-Limit-Info` pacing (see [`crate::limits`]).
#[derive(Debug, Clone, Copy)]
pub struct SalesforcePolicy {
    slow_down_at_percent: u8,
}

impl SalesforcePolicy {
    /// A policy that paces requests from `slow_down_at_percent` of the daily allocation.
    pub const fn new(slow_down_at_percent: u8) -> Self {
        Self {
            slow_down_at_percent,
        }
    }
}

impl Default for SalesforcePolicy {
    /// Pacing from [`crate::limits::DEFAULT_SLOW_DOWN_AT_PERCENT`].
    fn default() -> Self {
        Self::new(crate::limits::DEFAULT_SLOW_DOWN_AT_PERCENT)
    }
}

impl VendorPolicy for SalesforcePolicy {
    fn connector(&self) -> &'static str {
        CONNECTOR
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        classify(status, headers, body)
    }

    fn rate_limit_signal(&self, headers: &HeaderMap) -> Option<RateLimitSignal> {
        let (used, limit) = api_usage(headers)?;
        Some(crate::limits::usage_signal(
            used,
            limit,
            self.slow_down_at_percent,
        ))
    }

    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        ["sforce-request-id", "x-request-id"]
            .iter()
            .find_map(|name| headers.get(*name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// `Sforce-Limit-Info: api-usage=used/limit` (other entries such as `api-bursts=` ignored).
///
/// ```
/// use cartograph_http::http::{HeaderMap, HeaderValue};
/// let mut headers = HeaderMap::new();
/// headers.insert("sforce-limit-info", HeaderValue::from_static("api-usage=18/15000"));
/// assert_eq!(cartograph_salesforce::error::api_usage(&headers), Some((18, 15000)));
/// ```
pub fn api_usage(headers: &HeaderMap) -> Option<(u32, u32)> {
    let text = headers.get("sforce-limit-info")?.to_str().ok()?;
    text.split(',').find_map(|part| {
        let usage = part.trim().strip_prefix("api-usage=")?;
        let (used, limit) = usage.split_once('/')?;
        Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
    })
}

/// Turns a failed response into an [`Error`] (see the module docs).
///
/// ```
/// use cartograph_salesforce::error::classify;
/// use cartograph_connector::ErrorKind;
///
/// let body = br#"[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]"#;
/// let err = classify(400, &Default::default(), body);
/// assert_eq!(err.kind(), ErrorKind::Invalid);
/// assert_eq!(err.field(), Some("LastName"));
/// assert_eq!(err.vendor_code(), Some("REQUIRED_FIELD_MISSING"));
/// ```
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    if status == 300 {
        // An External ID upsert matching several records (see `upsert_one`).
        return crate::upsert_one::ambiguous(body);
    }
    let base = default_classify(status, headers, body);
    let parsed: Vec<ApiError> = serde_json::from_slice::<Vec<ApiError>>(body)
        .or_else(|_| serde_json::from_slice::<ApiError>(body).map(|e| vec![e]))
        .unwrap_or_default();
    let Some(first) = parsed.into_iter().find(|e| !e.error_code.is_empty()) else {
        return base.with_status(status);
    };
    let fallback = match status {
        401 => ErrorKind::Unauthorized,
        _ => base.kind(),
    };
    let mut err = from_api_error(&first, fallback).with_status(status);
    match err.kind() {
        ErrorKind::RateLimited => {
            err =
                err.with_retry_after(parse_retry_after(headers).unwrap_or(Duration::from_secs(60)));
        }
        ErrorKind::Unavailable => {
            if let Some(after) = parse_retry_after(headers) {
                err = err.with_retry_after(after);
            }
        }
        _ => {}
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartograph_http::http::HeaderValue;

    #[test]
    fn expired_session_is_unauthorized() {
        let err = classify(
            401,
            &HeaderMap::new(),
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert_eq!(err.vendor_code(), Some("INVALID_SESSION_ID"));
    }

    #[test]
    fn daily_limit_is_rate_limited_and_waits() {
        let err = classify(
            403,
            &HeaderMap::new(),
            br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn duplicate_rule_is_a_conflict_never_retried() {
        let err = classify(
            400,
            &HeaderMap::new(),
            br#"[{"message":"Use one of these records?","errorCode":"DUPLICATES_DETECTED","fields":[]}]"#,
        );
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_converted_lead_is_a_conflict_never_retried() {
        let e = ApiError {
            message: "cannot reference converted lead".into(),
            error_code: "CANNOT_UPDATE_CONVERTED_LEAD".into(),
            fields: Vec::new(),
        };
        let err = from_api_error(&e, ErrorKind::Invalid);
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(err.vendor_code(), Some("CANNOT_UPDATE_CONVERTED_LEAD"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn invalid_field_names_the_field() {
        let err = classify(
            400,
            &HeaderMap::new(),
            br#"[{"message":"No such column 'Foo__c' on sobject of type Contact","errorCode":"INVALID_FIELD","fields":["Foo__c"]}]"#,
        );
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.field(), Some("Foo__c"));
    }

    #[test]
    fn limit_info_header_is_a_rate_limit_signal() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "sforce-limit-info",
            HeaderValue::from_static("api-usage=100/100, api-bursts=1/5"),
        );
        let signal = SalesforcePolicy::default()
            .rate_limit_signal(&headers)
            .expect("signal");
        assert_eq!(signal.remaining, Some(0));
        assert_eq!(signal.reset_after, Some(Duration::from_secs(60)));
        assert!(
            SalesforcePolicy::default()
                .rate_limit_signal(&HeaderMap::new())
                .is_none()
        );
        // Past the configured threshold the policy paces before the allocation is spent.
        headers.insert(
            "sforce-limit-info",
            HeaderValue::from_static("api-usage=60/100"),
        );
        let paced = SalesforcePolicy::new(50)
            .rate_limit_signal(&headers)
            .expect("signal");
        assert_eq!(paced.remaining, Some(0));
        assert_eq!(paced.reset_after, Some(crate::limits::MAX_SPACING));
        let unpaced = SalesforcePolicy::default()
            .rate_limit_signal(&headers)
            .expect("signal");
        assert_eq!(unpaced.remaining, Some(40));
        assert_eq!(unpaced.reset_after, None);
    }

    #[test]
    fn unavailable_is_retryable() {
        let err = classify(503, &HeaderMap::new(), b"");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retryable());
    }
}
