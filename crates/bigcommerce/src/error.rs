//! [`BigCommercePolicy`]: BigCommerce error bodies and `X-Rate-Limit-*` headers for the
//! shared HTTP client.

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind};
use cartograph_http::http::HeaderMap;
use cartograph_http::{RateLimitSignal, VendorPolicy, default_classify};

use crate::wire::{V2Error, V3Error};

/// The connector name on every error.
pub const CONNECTOR: &str = "bigcommerce";

/// Requests left in the current window.
pub const H_REQUESTS_LEFT: &str = "x-rate-limit-requests-left";
/// Milliseconds until the window resets (sleep this long on 429).
pub const H_RESET_MS: &str = "x-rate-limit-time-reset-ms";
/// Requests allowed per window.
pub const H_QUOTA: &str = "x-rate-limit-requests-quota";
/// Window length in milliseconds.
pub const H_WINDOW_MS: &str = "x-rate-limit-time-window-ms";

/// Vendor code put on a 429 that came without rate-limit headers.
pub const PLATFORM_OVERLOAD: &str = "platform_overload";

/// The BigCommerce [`VendorPolicy`].
///
/// * 401 is [`ErrorKind::Unauthorized`]: BigCommerce tokens never expire, so this means
///   the app was uninstalled or the API account deleted (park the source, alert).
/// * 429 with `X-Rate-Limit-Time-Reset-Ms` retries after that many milliseconds; 429
///   without the headers is platform overload and retries after `overload_delay`.
/// * v3 bodies `{status, title, type, errors}` and v2 bodies `[{status, message}]` give the
///   message and, for field errors, the field.
#[derive(Clone, Debug)]
pub struct BigCommercePolicy {
    overload_delay: Duration,
}

impl BigCommercePolicy {
    /// A policy whose header-less 429 waits `overload_delay` (use
    /// `RetryPolicy::overload_delay`).
    pub const fn new(overload_delay: Duration) -> Self {
        Self { overload_delay }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok()
}

/// Reads the four `X-Rate-Limit-*` headers (names are case-insensitive).
pub fn rate_limit_signal(headers: &HeaderMap) -> Option<RateLimitSignal> {
    let signal = RateLimitSignal {
        remaining: header_u64(headers, H_REQUESTS_LEFT).and_then(|v| u32::try_from(v).ok()),
        reset_after: header_u64(headers, H_RESET_MS).map(Duration::from_millis),
        quota: header_u64(headers, H_QUOTA).and_then(|v| u32::try_from(v).ok()),
        window: header_u64(headers, H_WINDOW_MS).map(Duration::from_millis),
    };
    (signal != RateLimitSignal::default()).then_some(signal)
}

/// Message and field from a BigCommerce error body (v3 object or v2 array).
pub fn body_detail(body: &[u8]) -> Option<(String, Option<String>)> {
    if let Ok(v3) = serde_json::from_slice::<V3Error>(body) {
        if !v3.title.is_empty() {
            let (field, detail) = first_field_error(v3.errors.as_ref());
            let mut message = v3.title;
            if let Some(detail) = detail.or(v3.detail) {
                message = format!("{message}: {detail}");
            }
            return Some((message, field));
        }
    }
    if let Ok(v2) = serde_json::from_slice::<Vec<V2Error>>(body) {
        if let Some(first) = v2.into_iter().find(|e| !e.message.is_empty()) {
            return Some((first.message, None));
        }
    }
    None
}

fn first_field_error(errors: Option<&serde_json::Value>) -> (Option<String>, Option<String>) {
    match errors {
        Some(serde_json::Value::Object(map)) => map.iter().next().map_or((None, None), |(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (Some(k.trim_start_matches('.').to_owned()), Some(text))
        }),
        Some(serde_json::Value::Array(items)) => (
            None,
            items
                .first()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
        ),
        _ => (None, None),
    }
}

impl VendorPolicy for BigCommercePolicy {
    fn connector(&self) -> &'static str {
        CONNECTOR
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        let base = default_classify(status, headers, body);
        let (message, field) =
            body_detail(body).unwrap_or_else(|| (base.message().to_owned(), None));
        let mut err = match status {
            401 => Error::new(
                ErrorKind::Unauthorized,
                format!("{message} (app uninstalled or API account deleted)"),
            ),
            // The customers batch limit answers 413; it is the input that is wrong.
            413 => Error::new(ErrorKind::Invalid, message),
            _ => Error::new(base.kind(), message),
        }
        .with_status(status);
        if let Some(field) = field {
            err = err.with_field(field);
        }
        if status == 429 {
            match header_u64(headers, H_RESET_MS) {
                Some(ms) => err = err.with_retry_after(Duration::from_millis(ms)),
                None => {
                    err = err
                        .with_retry_after(self.overload_delay)
                        .with_vendor_code(PLATFORM_OVERLOAD);
                }
            }
        } else if let Some(after) = base.retry_after() {
            err = err.with_retry_after(after);
        }
        err
    }

    fn rate_limit_signal(&self, headers: &HeaderMap) -> Option<RateLimitSignal> {
        rate_limit_signal(headers)
    }

    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        ["x-request-id", "x-bc-request-id", "x-correlation-id"]
            .iter()
            .find_map(|n| headers.get(*n))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn v3_and_v2_bodies_give_message_and_field() {
        let policy = BigCommercePolicy::new(Duration::from_secs(10));
        let err = policy.classify(
            422,
            &HeaderMap::new(),
            br#"{"status":422,"title":"Create customers failed.","type":"/x",
                "errors":{".email":"The email is already in use"}}"#,
        );
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.field(), Some("email"));
        assert!(
            err.message().contains("already in use"),
            "{}",
            err.message()
        );
        let err = policy.classify(
            404,
            &HeaderMap::new(),
            br#"[{"status":404,"message":"The requested resource was not found."}]"#,
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.message(), "The requested resource was not found.");
    }

    #[test]
    fn unauthorized_means_uninstalled() {
        let policy = BigCommercePolicy::new(Duration::from_secs(10));
        let err = policy.classify(401, &HeaderMap::new(), b"");
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert!(err.message().contains("uninstalled"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn too_many_requests_with_and_without_headers() {
        let policy = BigCommercePolicy::new(Duration::from_secs(12));
        let err = policy.classify(
            429,
            &headers(&[("X-Rate-Limit-Time-Reset-Ms", "1500")]),
            b"",
        );
        assert_eq!(err.retry_after(), Some(Duration::from_millis(1500)));
        assert_eq!(err.vendor_code(), None);
        let err = policy.classify(429, &HeaderMap::new(), b"");
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
        assert_eq!(err.vendor_code(), Some(PLATFORM_OVERLOAD));
        let err = policy.classify(413, &HeaderMap::new(), b"");
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }

    #[test]
    fn rate_limit_headers_become_a_signal() {
        let signal = rate_limit_signal(&headers(&[
            ("X-Rate-Limit-Requests-Left", "0"),
            ("x-rate-limit-time-reset-ms", "2500"),
            ("X-RATE-LIMIT-REQUESTS-QUOTA", "150"),
            ("X-Rate-Limit-Time-Window-Ms", "30000"),
        ]))
        .unwrap();
        assert_eq!(signal.remaining, Some(0));
        assert_eq!(signal.reset_after, Some(Duration::from_millis(2500)));
        assert_eq!(signal.quota, Some(150));
        assert_eq!(signal.window, Some(Duration::from_secs(30)));
        assert_eq!(rate_limit_signal(&HeaderMap::new()), None);
    }
}
