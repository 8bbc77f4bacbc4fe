//! [`VendorPolicy`]: how a vendor crate plugs its error format and rate-limit headers into
//! the client, with [`default_classify`] for the common cases.

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind};
use http::HeaderMap;
use http::header::RETRY_AFTER;

use crate::limit::RateLimitSignal;

/// Longest message [`default_classify`] keeps from a body, in characters.
const MESSAGE_CHARS: usize = 200;

/// What a vendor crate tells the client about its API.
pub trait VendorPolicy: Send + Sync {
    /// The connector name put on every error (e.g. `"bigcommerce"`).
    fn connector(&self) -> &'static str;

    /// Turns a non-success response into an error: kind, retry-after, vendor code, request
    /// id and a short message (never a whole body, never a token). The client adds the
    /// connector, operation, status and request id when missing.
    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        default_classify(status, headers, body)
    }

    /// Rate-limit information in a response's headers; called on every response, success
    /// or not, and fed to the client's [`crate::RequestGate`] (e.g. its [`crate::RateLimiter`]).
    fn rate_limit_signal(&self, _headers: &HeaderMap) -> Option<RateLimitSignal> {
        None
    }

    /// The vendor's request or correlation id. The default reads `X-Request-Id`, then
    /// `X-Correlation-Id`.
    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        ["x-request-id", "x-correlation-id"]
            .iter()
            .find_map(|name| headers.get(*name))
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    /// Whether a status is a success whose body the caller reads (default: 2xx). A vendor
    /// can, for example, treat 207 as success and inspect the per-item errors itself.
    fn is_success(&self, status: u16) -> bool {
        (200..300).contains(&status)
    }
}

/// A [`VendorPolicy`] with every default: [`default_classify`], no rate-limit headers.
#[derive(Clone, Copy, Debug)]
pub struct DefaultPolicy {
    /// The connector name.
    pub connector: &'static str,
}

impl DefaultPolicy {
    /// The default policy for `connector`.
    pub const fn new(connector: &'static str) -> Self {
        Self { connector }
    }
}

impl VendorPolicy for DefaultPolicy {
    fn connector(&self) -> &'static str {
        self.connector
    }
}

/// The usual status mapping: 400/422 Invalid, 401 Unauthorized, 403 Forbidden, 404
/// NotFound, 409 Conflict, 408 Timeout, 429 RateLimited (with the standard `Retry-After`),
/// 5xx Unavailable (with `Retry-After` when sent), other 4xx Invalid, anything else Other.
/// The message comes from a JSON `message`/`title`/`detail`/`error_description`/`error`
/// field, or a short plain-text body.
///
/// ```
/// use cartograph_connector::ErrorKind;
/// use cartograph_http::default_classify;
/// use http::HeaderMap;
/// use std::time::Duration;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", "2".parse()?);
/// let err = default_classify(429, &headers, br#"{"message":"slow down"}"#);
/// assert_eq!(err.kind(), ErrorKind::RateLimited);
/// assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
/// assert_eq!(err.message(), "slow down");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn default_classify(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let kind = match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Unavailable,
        // 400, 422 and the rest of 4xx: the input was refused.
        400..=499 => ErrorKind::Invalid,
        _ => ErrorKind::Other,
    };
    let message = body_message(body).unwrap_or_else(|| {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("unexpected status")
            .to_owned()
    });
    let mut err = Error::new(kind, message).with_status(status);
    if matches!(kind, ErrorKind::RateLimited | ErrorKind::Unavailable) {
        if let Some(after) = parse_retry_after(headers) {
            err = err.with_retry_after(after);
        }
    }
    err
}

/// The standard `Retry-After` header: delay seconds or an HTTP date (a date in the past
/// gives zero).
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// A short message from an error body: a known JSON field, or short plain text.
pub fn body_message(body: &[u8]) -> Option<String> {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        return json_message(&value).map(|text| cut(text.trim()));
    }
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() || text.starts_with('<') || text.chars().count() > MESSAGE_CHARS {
        return None;
    }
    Some(text.to_owned())
}

fn json_message(value: &serde_json::Value) -> Option<&str> {
    const FIELDS: [&str; 5] = ["message", "title", "detail", "error_description", "error"];
    match value {
        serde_json::Value::Object(map) => FIELDS
            .iter()
            .find_map(|field| map.get(*field).and_then(serde_json::Value::as_str))
            .or_else(|| map.get("error").and_then(json_message))
            .or_else(|| map.get("errors").and_then(json_message)),
        // Salesforce and others answer with an array of errors.
        serde_json::Value::Array(items) => items.first().and_then(json_message),
        _ => None,
    }
}

fn cut(text: &str) -> String {
    text.chars().take(MESSAGE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("valid value"));
        }
        map
    }

    #[test]
    fn statuses_map_to_kinds() {
        let none = HeaderMap::new();
        for (status, kind) in [
            (400, ErrorKind::Invalid),
            (422, ErrorKind::Invalid),
            (401, ErrorKind::Unauthorized),
            (403, ErrorKind::Forbidden),
            (404, ErrorKind::NotFound),
            (409, ErrorKind::Conflict),
            (429, ErrorKind::RateLimited),
            (500, ErrorKind::Unavailable),
            (503, ErrorKind::Unavailable),
        ] {
            let err = default_classify(status, &none, b"");
            assert_eq!(err.kind(), kind, "{status}");
            assert_eq!(err.status(), Some(status));
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(&headers(&[(
                "retry-after",
                "Sun, 06 Nov 1994 08:49:37 GMT"
            )])),
            Some(Duration::ZERO)
        );
        let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(100);
        let format = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        let text = future.format(format).expect("formattable");
        let wait = parse_retry_after(&headers(&[("retry-after", &text)])).expect("parsed");
        assert!(
            wait > Duration::from_secs(95) && wait <= Duration::from_secs(100),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "soon")])),
            None
        );
    }

    #[test]
    fn messages_come_from_known_fields() {
        assert_eq!(
            body_message(br#"{"category":"VALIDATION_ERROR","message":"Property x"}"#).as_deref(),
            Some("Property x")
        );
        assert_eq!(
            body_message(br#"[{"message":"Session expired","errorCode":"INVALID_SESSION_ID"}]"#)
                .as_deref(),
            Some("Session expired")
        );
        assert_eq!(
            body_message(br#"{"status":422,"title":"Invalid email"}"#).as_deref(),
            Some("Invalid email")
        );
        assert_eq!(
            body_message(br#"{"errors":[{"title":"bad"}]}"#).as_deref(),
            Some("bad")
        );
        assert_eq!(
            body_message(b"Too many requests").as_deref(),
            Some("Too many requests")
        );
        assert_eq!(body_message(b"<html>oops</html>"), None);
        assert_eq!(body_message(&[b'x'; 500]), None);
        let err = default_classify(503, &HeaderMap::new(), b"");
        assert_eq!(err.message(), "Service Unavailable");
    }
}
