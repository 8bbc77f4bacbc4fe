//! [`CommercetoolsPolicy`]: the `errors[]` body of commercetools into the shared [`Error`].
//!
//! A commercetools error response looks like
//! `{"statusCode":409,"message":"...","errors":[{"code":"ConcurrentModification",
//! "message":"...","currentVersion":3}]}`. The first error's `code` becomes the vendor code;
//! `field` is kept on the error; `DuplicateField` and `ConcurrentModification` are
//! [`ErrorKind::Conflict`]; 429, 502 and 503 are retryable.

use cartograph_connector::{Error, ErrorKind};
use cartograph_http::http::HeaderMap;
use cartograph_http::{VendorPolicy, default_classify, parse_retry_after};
use serde::Deserialize;

/// The connector name on every error.
pub const CONNECTOR: &str = "commercetools";

/// One entry of a commercetools `errors[]` array.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorObject {
    /// Machine-readable code (`ConcurrentModification`, `DuplicateField`, ...).
    #[serde(default)]
    pub code: String,
    /// Human message.
    #[serde(default)]
    pub message: String,
    /// The offending field (`DuplicateField`, `InvalidField`, ...).
    #[serde(default)]
    pub field: Option<String>,
    /// The duplicate value of a `DuplicateField` (never copied into messages: may be an
    /// email).
    #[serde(default)]
    pub duplicate_value: Option<serde_json::Value>,
    /// The current version on a `ConcurrentModification`.
    #[serde(default)]
    pub current_version: Option<i64>,
}

/// A commercetools error response body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    /// HTTP status repeated in the body.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Top-level message.
    #[serde(default)]
    pub message: Option<String>,
    /// The errors (at least one in practice). OAuth errors use `error`/`error_description`.
    #[serde(default)]
    pub errors: Vec<ErrorObject>,
    /// OAuth error code.
    #[serde(default)]
    pub error: Option<String>,
}

/// Parses a body into its first error, if it is a commercetools error body.
pub fn first_error(body: &[u8]) -> Option<ErrorObject> {
    serde_json::from_slice::<ErrorResponse>(body)
        .ok()
        .and_then(|r| r.errors.into_iter().next())
}

/// The [`VendorPolicy`] of commercetools.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommercetoolsPolicy;

impl VendorPolicy for CommercetoolsPolicy {
    fn connector(&self) -> &'static str {
        CONNECTOR
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        classify(status, headers, body)
    }

    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        ["x-correlation-id", "x-request-id"]
            .iter()
            .find_map(|name| headers.get(*name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// Turns a commercetools error response into an [`Error`].
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let base = default_classify(status, headers, body);
    let parsed: Option<ErrorResponse> = serde_json::from_slice(body).ok();
    let Some(parsed) = parsed else {
        return base;
    };
    let first = parsed.errors.first().cloned();
    let code = first
        .as_ref()
        .map(|e| e.code.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| parsed.error.clone());
    let kind = match code.as_deref() {
        Some("ConcurrentModification" | "DuplicateField" | "DuplicateStandalonePrice") => {
            ErrorKind::Conflict
        }
        Some("ResourceNotFound") => ErrorKind::NotFound,
        Some("invalid_token" | "invalid_client" | "InvalidToken") => ErrorKind::Unauthorized,
        Some("insufficient_scope" | "InsufficientScope") => ErrorKind::Forbidden,
        _ => base.kind(),
    };
    let message = first
        .as_ref()
        .map(|e| e.message.clone())
        .filter(|m| !m.is_empty())
        .or(parsed.message)
        .unwrap_or_else(|| base.message().to_owned());
    let mut err = Error::new(kind, message).with_status(status);
    if let Some(code) = code {
        err = err.with_vendor_code(code);
    }
    if let Some(field) = first.and_then(|e| e.field) {
        err = err.with_field(field);
    }
    if matches!(status, 429 | 502 | 503 | 504) {
        err = err.with_retryable(true);
        if let Some(after) = parse_retry_after(headers) {
            err = err.with_retry_after(after);
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_modification_is_a_conflict_with_code() {
        let body = br#"{"statusCode":409,"message":"Object has a different version","errors":[{"code":"ConcurrentModification","message":"Object has a different version","currentVersion":3}]}"#;
        let err = classify(409, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(err.vendor_code(), Some("ConcurrentModification"));
        assert!(!err.is_retryable());
        assert_eq!(first_error(body).and_then(|e| e.current_version), Some(3));
    }

    #[test]
    fn duplicate_field_names_the_field_without_the_value() {
        let body = br#"{"statusCode":400,"message":"dup","errors":[{"code":"DuplicateField","message":"A duplicate value","field":"email","duplicateValue":"a@b.c"}]}"#;
        let err = classify(400, &HeaderMap::new(), body);
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(err.field(), Some("email"));
        assert!(!err.to_string().contains("a@b.c"));
    }

    #[test]
    fn rate_limit_and_bad_gateway_are_retryable_with_retry_after() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "3".parse().expect("header"));
        let err = classify(
            429,
            &headers,
            br#"{"statusCode":429,"message":"Too many","errors":[]}"#,
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(3)));
        let err = classify(502, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert!(err.is_retryable());
    }

    #[test]
    fn oauth_invalid_client_is_unauthorized() {
        let body = br#"{"statusCode":401,"message":"Please provide valid client credentials","errors":[{"code":"invalid_client","message":"Please provide valid client credentials"}],"error":"invalid_client"}"#;
        assert_eq!(
            classify(401, &HeaderMap::new(), body).kind(),
            ErrorKind::Unauthorized
        );
    }
}
