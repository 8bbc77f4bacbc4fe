//! HubSpot's error bodies and rate-limit headers, turned into the shared [`Error`].
//!
//! * 429 `TEN_SECONDLY_ROLLING` / `SECONDLY` -> [`ErrorKind::RateLimited`] with a retry-after
//!   (the HTTP client waits and retries).
//! * 429 `DAILY` -> [`ErrorKind::QuotaExhausted`], retry-after until the next midnight in
//!   the portal's time zone, never retried; later calls fail at once until then.
//! * Other errors keep `category`, the first `errors[].code`, the property name and the
//!   `correlationId` (as the request id).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::http::HeaderMap;
use cartograph_http::{RateLimitSignal, VendorPolicy, default_classify, parse_retry_after};
use cartograph_model::Timestamp;
use time::UtcOffset;

use crate::wire::{ApiError, StandardError};

/// Connector name on every error.
pub const CONNECTOR: &str = "hubspot";

/// Header carrying the correlation id on every response.
pub const CORRELATION_HEADER: &str = "x-hubspot-correlation-id";

/// The next midnight after `now` in the zone `offset`, as a UTC instant.
pub fn next_midnight(now: Timestamp, offset: UtcOffset) -> Timestamp {
    let local = now.to_offset_date_time().to_offset(offset);
    let next = local.date().next_day().unwrap_or(local.date());
    Timestamp::from(next.midnight().assume_offset(offset))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Daily-quota state shared by every call of one connector: once HubSpot (or the
/// client-side counter) says the day is spent, calls fail with
/// [`ErrorKind::QuotaExhausted`] until the portal's midnight.
#[derive(Debug)]
pub struct DailyGate {
    offset: UtcOffset,
    limit: u32,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    exhausted_until: Option<Timestamp>,
    day: Option<time::Date>,
    used: u32,
}

impl DailyGate {
    /// A gate for a portal in `offset` with `limit` requests per day (0 = no client-side
    /// count).
    pub fn new(offset: UtcOffset, limit: u32) -> Self {
        Self {
            offset,
            limit,
            state: Mutex::new(GateState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The error to return while the quota is spent.
    pub fn exhausted_error(&self, now: Timestamp, until: Timestamp) -> Error {
        let wait = Duration::try_from(until - now).unwrap_or(Duration::ZERO);
        Error::new(ErrorKind::QuotaExhausted, "daily API limit reached")
            .with_connector(CONNECTOR)
            .with_status(429)
            .with_vendor_code("DAILY")
            .with_retry_after(wait)
            .with_retryable(false)
    }

    /// Counts one call; fails when the day's quota is spent.
    ///
    /// # Errors
    /// [`ErrorKind::QuotaExhausted`] until the next midnight in the portal's zone.
    pub fn admit(&self, now: Timestamp) -> Result<()> {
        let mut state = self.lock();
        if let Some(until) = state.exhausted_until {
            if now < until {
                return Err(self.exhausted_error(now, until));
            }
            state.exhausted_until = None;
        }
        let today = now.to_offset_date_time().to_offset(self.offset).date();
        if state.day != Some(today) {
            state.day = Some(today);
            state.used = 0;
        }
        if self.limit > 0 && state.used >= self.limit {
            let until = next_midnight(now, self.offset);
            state.exhausted_until = Some(until);
            return Err(self.exhausted_error(now, until));
        }
        state.used += 1;
        Ok(())
    }

    /// Marks the day spent (a `DAILY` 429 or `X-HubSpot-RateLimit-Daily-Remaining: 0`);
    /// returns when it resets.
    pub fn exhaust(&self, now: Timestamp) -> Timestamp {
        let until = next_midnight(now, self.offset);
        self.lock().exhausted_until = Some(until);
        until
    }

    /// When the quota resets, if it is spent.
    pub fn exhausted_until(&self) -> Option<Timestamp> {
        self.lock().exhausted_until
    }
}

/// The [`VendorPolicy`] for HubSpot.
#[derive(Debug)]
pub struct HubSpotPolicy {
    gate: std::sync::Arc<DailyGate>,
}

impl HubSpotPolicy {
    /// A policy reporting daily exhaustion to `gate`.
    pub fn new(gate: std::sync::Arc<DailyGate>) -> Self {
        Self { gate }
    }
}

/// Decides the kind and retry-after of an error response; pure except for marking the
/// daily gate.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8], gate: &DailyGate) -> Error {
    let parsed: Option<ApiError> = serde_json::from_slice(body).ok();
    let mut err = default_classify(status, headers, body).with_connector(CONNECTOR);
    let Some(api) = parsed else {
        return err;
    };
    if let Some(id) = &api.correlation_id {
        err = err.with_request_id(id.clone());
    }
    if status == 429 {
        let policy = api.policy_name.as_deref().unwrap_or("");
        let message = api
            .message
            .clone()
            .unwrap_or_else(|| "rate limited".to_owned());
        if policy.eq_ignore_ascii_case("DAILY") {
            let now = Timestamp::now();
            let until = gate.exhaust(now);
            let mut quota = gate.exhausted_error(now, until);
            quota = Error::new(ErrorKind::QuotaExhausted, message)
                .with_connector(CONNECTOR)
                .with_status(429)
                .with_vendor_code("DAILY")
                .with_retry_after(quota.retry_after().unwrap_or_default())
                .with_retryable(false);
            if let Some(id) = api.correlation_id {
                quota = quota.with_request_id(id);
            }
            return quota;
        }
        let wait = parse_retry_after(headers)
            .or_else(|| {
                header_u64(headers, "x-hubspot-ratelimit-interval-milliseconds")
                    .map(Duration::from_millis)
            })
            .unwrap_or(if policy.eq_ignore_ascii_case("SECONDLY") {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(10)
            });
        let mut limited = Error::new(ErrorKind::RateLimited, message)
            .with_connector(CONNECTOR)
            .with_status(429)
            .with_retry_after(wait);
        if !policy.is_empty() {
            limited = limited.with_vendor_code(policy.to_owned());
        }
        if let Some(id) = api.correlation_id {
            limited = limited.with_request_id(id);
        }
        return limited;
    }
    if let Some(code) = vendor_code(&api) {
        err = err.with_vendor_code(code);
    }
    if let Some(field) = property_name(&api.context, &api.errors) {
        err = err.with_field(field);
    }
    err
}

fn vendor_code(api: &ApiError) -> Option<String> {
    api.errors
        .iter()
        .find_map(|e| e.code.clone())
        .or_else(|| {
            api.sub_category
                .as_ref()
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .or_else(|| api.category.clone())
}

fn property_name(
    context: &std::collections::BTreeMap<String, Vec<String>>,
    errors: &[crate::wire::ErrorDetail],
) -> Option<String> {
    context
        .get("propertyName")
        .and_then(|v| v.first().cloned())
        .or_else(|| {
            errors.iter().find_map(|e| {
                e.context
                    .get("propertyName")
                    .and_then(|v| v.first().cloned())
            })
        })
}

/// Turns one error of a 207 batch into a per-record error. `correlation` is the response's
/// correlation id, kept when the error has none of its own.
pub fn batch_error(
    error: &StandardError,
    status: u16,
    correlation: Option<&str>,
    operation: &'static str,
) -> Error {
    let code = error
        .errors
        .iter()
        .find_map(|e| e.code.clone())
        .or_else(|| {
            error
                .sub_category
                .as_ref()
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .or_else(|| error.category.clone());
    let kind = match error.category.as_deref() {
        Some("OBJECT_NOT_FOUND") => ErrorKind::NotFound,
        Some("CONFLICT" | "OBJECT_ALREADY_EXISTS") => ErrorKind::Conflict,
        Some("RATE_LIMITS") => ErrorKind::RateLimited,
        Some("INTERNAL_ERROR") => ErrorKind::Unavailable,
        _ => ErrorKind::Invalid,
    };
    let message = if error.message.is_empty() {
        "record rejected".to_owned()
    } else {
        error.message.clone()
    };
    let mut err = Error::new(kind, message)
        .with_connector(CONNECTOR)
        .with_operation(operation)
        .with_status(status);
    if let Some(code) = code {
        err = err.with_vendor_code(code);
    }
    if let Some(field) = property_name(&error.context, &error.errors) {
        err = err.with_field(field);
    }
    if let Some(id) = error
        .correlation_id
        .as_deref()
        .or(error.id.as_deref())
        .or(correlation)
    {
        err = err.with_request_id(id.to_owned());
    }
    err
}

impl VendorPolicy for HubSpotPolicy {
    fn connector(&self) -> &'static str {
        CONNECTOR
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
        classify(status, headers, body, &self.gate)
    }

    fn rate_limit_signal(&self, headers: &HeaderMap) -> Option<RateLimitSignal> {
        if header_u64(headers, "x-hubspot-ratelimit-daily-remaining") == Some(0) {
            self.gate.exhaust(Timestamp::now());
        }
        let quota = header_u64(headers, "x-hubspot-ratelimit-max");
        let remaining = header_u64(headers, "x-hubspot-ratelimit-remaining");
        let window = header_u64(headers, "x-hubspot-ratelimit-interval-milliseconds");
        if quota.is_none() && remaining.is_none() {
            return None;
        }
        Some(RateLimitSignal {
            remaining: remaining.map(|r| u32::try_from(r).unwrap_or(u32::MAX)),
            reset_after: None,
            quota: quota.map(|q| u32::try_from(q).unwrap_or(u32::MAX)),
            window: window.map(Duration::from_millis),
        })
    }

    fn request_id(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get(CORRELATION_HEADER)
            .or_else(|| headers.get("x-request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate() -> DailyGate {
        DailyGate::new(UtcOffset::UTC, 0)
    }

    #[test]
    fn ten_secondly_is_rate_limited_and_retryable() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            "10000".parse().expect("v"),
        );
        let body = br#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c-1","policyName":"TEN_SECONDLY_ROLLING"}"#;
        let err = classify(429, &headers, body, &gate());
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(err.is_retryable());
        assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
        assert_eq!(err.request_id(), Some("c-1"));
        assert_eq!(err.vendor_code(), Some("TEN_SECONDLY_ROLLING"));
    }

    #[test]
    fn daily_is_quota_exhausted_until_portal_midnight() {
        let g = DailyGate::new(UtcOffset::from_hms(2, 0, 0).expect("offset"), 0);
        let body = br#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c-2","policyName":"DAILY"}"#;
        let err = classify(429, &HeaderMap::new(), body, &g);
        assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
        assert!(!err.is_retryable());
        let wait = err.retry_after().expect("until midnight");
        assert!(wait <= Duration::from_secs(86_400));
        let until = g.exhausted_until().expect("exhausted");
        let local = until
            .to_offset_date_time()
            .to_offset(UtcOffset::from_hms(2, 0, 0).expect("o"));
        assert_eq!((local.hour(), local.minute()), (0, 0));
        assert_eq!(
            g.admit(Timestamp::now()).expect_err("parked").kind(),
            ErrorKind::QuotaExhausted
        );
    }

    #[test]
    fn next_midnight_respects_the_offset() {
        let now = Timestamp::parse_rfc3339("2024-03-10T23:30:00Z").expect("ts");
        assert_eq!(
            next_midnight(now, UtcOffset::UTC).to_rfc3339(),
            "2024-03-11T00:00:00Z"
        );
        let minus5 = UtcOffset::from_hms(-5, 0, 0).expect("o");
        assert_eq!(
            next_midnight(now, minus5).to_rfc3339(),
            "2024-03-11T05:00:00Z"
        );
    }

    #[test]
    fn validation_errors_keep_code_field_and_correlation() {
        let body = br#"{"status":"error","message":"Property values were not valid","correlationId":"c-3","category":"VALIDATION_ERROR","errors":[{"message":"Property \"foo\" does not exist","code":"PROPERTY_DOESNT_EXIST","context":{"propertyName":["foo"]}}]}"#;
        let err = classify(400, &HeaderMap::new(), body, &gate());
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.vendor_code(), Some("PROPERTY_DOESNT_EXIST"));
        assert_eq!(err.field(), Some("foo"));
        assert_eq!(err.request_id(), Some("c-3"));
        assert_eq!(err.message(), "Property values were not valid");
    }

    #[test]
    fn client_side_daily_count_parks_calls() {
        let g = DailyGate::new(UtcOffset::UTC, 2);
        let now = Timestamp::now();
        g.admit(now).expect("1");
        g.admit(now).expect("2");
        assert_eq!(
            g.admit(now).expect_err("3").kind(),
            ErrorKind::QuotaExhausted
        );
    }
}
