//! ActiveCampaign's error bodies turned into the shared [`Error`].
//!
//! * `{"errors":[{"title","detail","code","source":{"pointer"}}]}` (422 and most 4xx): the
//!   first error's `title`/`detail` is the message, `code` the vendor code, and the last
//!   segment of `source.pointer` the field. Code `duplicate` becomes
//!   [`ErrorKind::Conflict`].
//! * `{"message": "..."}` (403, 404, 429): the message.
//! * 403 is how ActiveCampaign answers a wrong or revoked `Api-Token`:
//!   [`ErrorKind::Unauthorized`] (there is no token refresh; dead-letter and alert).
//! * 429 and 503 are retried by the HTTP client; a 429 without `Retry-After` waits one
//!   second (the 5 requests/s window).

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind};
use cartograph_http::http::HeaderMap;
use cartograph_http::{VendorPolicy, default_classify, parse_retry_after};
use serde::Deserialize;

/// Connector name on every error.
pub const CONNECTOR: &str = "activecampaign";

/// One entry of an `errors[]` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiError {
    /// Short title.
    #[serde(default)]
    pub title: Option<String>,
    /// Longer detail.
    #[serde(default)]
    pub detail: Option<String>,
    /// Machine code (e.g. `duplicate`, `field_missing`).
    #[serde(default)]
    pub code: Option<String>,
    /// Where in the request the error is.
    #[serde(default)]
    pub source: Option<ErrorSource>,
}

/// `source` of an API error.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorSource {
    /// JSON pointer into the request (`/data/attributes/email`).
    #[serde(default)]
    pub pointer: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ApiError>,
    #[serde(default)]
    message: Option<String>,
}

/// The vendor policy: error bodies, request id.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActiveCampaignPolicy;

impl VendorPolicy for ActiveCampaignPolicy {
    fn connector(&self) -> &'static str {
        CONNECTOR
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        classify(status, headers, body)
    }
}

/// Turns a failed response into an [`Error`] (see the module docs).
///
/// ```
/// use cartograph_activecampaign::error::classify;
/// use cartograph_connector::ErrorKind;
///
/// let body = br#"{"errors":[{"title":"Email address already exists in the system","detail":"","code":"duplicate","source":{"pointer":"/data/attributes/email"}}]}"#;
/// let err = classify(422, &Default::default(), body);
/// assert_eq!(err.kind(), ErrorKind::Conflict);
/// assert_eq!(err.field(), Some("email"));
/// assert_eq!(err.vendor_code(), Some("duplicate"));
/// ```
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let base = default_classify(status, headers, body);
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let mut kind = match status {
        403 => ErrorKind::Unauthorized,
        _ => base.kind(),
    };
    if status == 400
        && parsed
            .message
            .as_deref()
            .is_some_and(|m| m.contains("Rate limit exceeded"))
    {
        // The bulk-import limit (100 imports per minute) answers 400.
        kind = ErrorKind::RateLimited;
    }
    let first = parsed.errors.first();
    let code = first.and_then(|e| e.code.clone()).filter(|c| !c.is_empty());
    if code.as_deref() == Some("duplicate") {
        kind = ErrorKind::Conflict;
    }
    let message = first
        .and_then(|e| {
            let title = e.title.as_deref().unwrap_or("").trim();
            let detail = e.detail.as_deref().unwrap_or("").trim();
            match (title.is_empty(), detail.is_empty()) {
                (true, true) => None,
                (false, true) => Some(title.to_owned()),
                (true, false) => Some(detail.to_owned()),
                (false, false) => Some(format!("{title}: {detail}")),
            }
        })
        .or(parsed.message)
        .unwrap_or_else(|| base.message().to_owned());
    let mut err = Error::new(kind, message).with_status(status);
    if let Some(code) = code {
        err = err.with_vendor_code(code);
    }
    if let Some(field) = first
        .and_then(|e| e.source.as_ref())
        .and_then(|s| s.pointer.as_deref())
        .and_then(|p| p.rsplit('/').next())
        .filter(|f| !f.is_empty())
    {
        err = err.with_field(field.to_owned());
    }
    match kind {
        ErrorKind::RateLimited => {
            let default = if status == 400 { 60 } else { 1 };
            err = err.with_retry_after(
                parse_retry_after(headers).unwrap_or(Duration::from_secs(default)),
            );
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

    #[test]
    fn bad_token_is_unauthorized() {
        let err = classify(
            403,
            &HeaderMap::new(),
            br#"{"message":"You are not authorized to access this resource"}"#,
        );
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert_eq!(
            err.message(),
            "You are not authorized to access this resource"
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn rate_limit_without_header_waits_one_window() {
        let err = classify(
            429,
            &HeaderMap::new(),
            br#"{"message":"Too Many Requests"}"#,
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn validation_errors_name_the_field() {
        let err = classify(
            422,
            &HeaderMap::new(),
            br#"{"errors":[{"title":"The totalPrice must be an integer","code":"field_invalid","source":{"pointer":"/data/attributes/totalPrice"}}]}"#,
        );
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.field(), Some("totalPrice"));
        assert_eq!(err.vendor_code(), Some("field_invalid"));
    }

    #[test]
    fn bulk_import_rate_limit_is_a_400_that_waits_a_minute() {
        let err = classify(
            400,
            &HeaderMap::new(),
            br#"{"success":0,"message":"Rate limit exceeded.","failureReasons":["Up to 100 imports may be requested per minute."]}"#,
        );
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    }

    #[test]
    fn unavailable_is_retryable() {
        let err = classify(503, &HeaderMap::new(), b"");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.is_retryable());
    }
}
