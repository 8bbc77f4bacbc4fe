//! [`RetryPolicy`]: when and how long to wait before trying a request again.

use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};
use cartograph_connector::{Error, ErrorKind};
use serde::{Deserialize, Serialize};

/// Retry settings: exponential backoff with jitter (computed by [`backon`]), bounded by the
/// vendor's `Retry-After`.
///
/// Serialized with durations in milliseconds:
///
/// ```
/// use cartograph_http::RetryPolicy;
/// use std::time::Duration;
///
/// let policy: RetryPolicy = serde_json::from_str(r#"{"max_attempts": 3, "max_delay_ms": 5000}"#)?;
/// assert_eq!(policy.max_attempts, 3);
/// assert_eq!(policy.max_delay, Duration::from_secs(5));
/// assert_eq!(policy.min_delay, Duration::from_millis(200));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (default 5; 1 = never retry).
    pub max_attempts: u32,
    /// First backoff delay (default 200 ms).
    #[serde(rename = "min_delay_ms", with = "cartograph_connector::serde_millis")]
    pub min_delay: Duration,
    /// Longest backoff delay (default 30 s).
    #[serde(rename = "max_delay_ms", with = "cartograph_connector::serde_millis")]
    pub max_delay: Duration,
    /// Growth factor between delays (default 2).
    pub factor: f32,
    /// Add random jitter to each delay (default on).
    pub jitter: bool,
    /// Least wait after a rate-limit error that said nothing about when to come back, e.g.
    /// a BigCommerce 429 without rate-limit headers, which means platform overload
    /// (default 10 s).
    #[serde(
        rename = "overload_delay_ms",
        with = "cartograph_connector::serde_millis"
    )]
    pub overload_delay: Duration,
    /// Longest single wait the client accepts from a vendor's `Retry-After`; a longer one
    /// returns the error at once so the caller can park the work (default 120 s).
    #[serde(
        rename = "max_retry_after_ms",
        with = "cartograph_connector::serde_millis"
    )]
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            jitter: true,
            overload_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts (the first one included).
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the backoff bounds.
    #[must_use]
    pub fn with_delays(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max;
        self
    }

    /// Turns jitter on or off.
    #[must_use]
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the least wait after a rate-limit error without `Retry-After`.
    #[must_use]
    pub fn with_overload_delay(mut self, delay: Duration) -> Self {
        self.overload_delay = delay;
        self
    }

    /// Sets the longest `Retry-After` the client waits for.
    #[must_use]
    pub fn with_max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The backoff delays between attempts: at most `max_attempts - 1` of them.
    pub fn backoff(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let retries = usize::try_from(self.max_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let max = self.max_delay.max(self.min_delay);
        let mut builder = ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(max)
            .with_factor(factor)
            .with_max_times(retries);
        if self.jitter {
            builder = builder.with_jitter();
        }
        // backon's jitter adds up to one more current delay; keep the cap a cap.
        builder.build().map(move |delay| delay.min(max))
    }

    /// How long to wait before retrying after `error`, given the backoff's next delay;
    /// `None` when the error must be returned instead. The caller has already checked that
    /// the request may be replayed and attempts are left.
    ///
    /// ```
    /// use cartograph_connector::{Error, ErrorKind};
    /// use cartograph_http::RetryPolicy;
    /// use std::time::Duration;
    ///
    /// let policy = RetryPolicy::default();
    /// let backoff = Duration::from_millis(200);
    /// let limited = Error::new(ErrorKind::RateLimited, "slow down").with_retry_after(Duration::from_secs(3));
    /// assert_eq!(policy.delay_for(&limited, backoff), Some(Duration::from_secs(3)));
    /// let overloaded = Error::new(ErrorKind::RateLimited, "overload");
    /// assert_eq!(policy.delay_for(&overloaded, backoff), Some(Duration::from_secs(10)));
    /// let daily = Error::new(ErrorKind::RateLimited, "daily").with_retry_after(Duration::from_secs(3600));
    /// assert_eq!(policy.delay_for(&daily, backoff), None);
    /// assert_eq!(policy.delay_for(&Error::new(ErrorKind::Invalid, "bad"), backoff), None);
    /// ```
    pub fn delay_for(&self, error: &Error, backoff: Duration) -> Option<Duration> {
        if !error.is_retryable() {
            return None;
        }
        match error.retry_after() {
            Some(after) if after > self.max_retry_after => None,
            Some(after) => Some(backoff.max(after)),
            None if error.kind() == ErrorKind::RateLimited => {
                Some(backoff.max(self.overload_delay))
            }
            None => Some(backoff),
        }
    }
}

/// Whether a method can be sent twice without a second effect (RFC 9110 idempotent methods).
pub fn is_idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::PUT
            | http::Method::DELETE
            | http::Method::OPTIONS
            | http::Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let policy = RetryPolicy::default().with_jitter(false);
        // backon computes in f32: compare whole milliseconds.
        let delays: Vec<u128> = policy
            .backoff()
            .map(|d| (d + Duration::from_micros(500)).as_millis())
            .collect();
        assert_eq!(delays, [200, 400, 800, 1600]);
        let capped = RetryPolicy::default()
            .with_jitter(false)
            .with_max_attempts(12)
            .with_delays(Duration::from_secs(1), Duration::from_secs(5));
        assert!(capped.backoff().all(|d| d <= Duration::from_secs(5)));
        assert_eq!(RetryPolicy::none().backoff().count(), 0);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let policy = RetryPolicy::default().with_max_attempts(20);
        for delay in policy.backoff() {
            assert!(
                delay >= Duration::from_millis(200) && delay <= Duration::from_secs(30),
                "{delay:?}"
            );
        }
        let first = RetryPolicy::default().backoff().next().expect("one delay");
        assert!(first <= Duration::from_millis(400), "{first:?}");
    }

    #[test]
    fn delay_honours_retry_after_and_caps() {
        let policy = RetryPolicy::default().with_max_retry_after(Duration::from_secs(5));
        let small = Duration::from_millis(100);
        let err = Error::new(ErrorKind::Unavailable, "x").with_retry_after(Duration::from_secs(2));
        assert_eq!(policy.delay_for(&err, small), Some(Duration::from_secs(2)));
        assert_eq!(
            policy.delay_for(&err, Duration::from_secs(4)),
            Some(Duration::from_secs(4))
        );
        let err = Error::new(ErrorKind::Unavailable, "x").with_retry_after(Duration::from_secs(6));
        assert_eq!(policy.delay_for(&err, small), None);
        let quota =
            Error::new(ErrorKind::QuotaExhausted, "x").with_retry_after(Duration::from_secs(1));
        assert_eq!(policy.delay_for(&quota, small), None);
        assert_eq!(
            policy.delay_for(&Error::new(ErrorKind::Timeout, "x"), small),
            Some(small)
        );
    }

    #[test]
    fn serde_uses_milliseconds_and_defaults() {
        let json = serde_json::to_value(RetryPolicy::default()).expect("ser");
        assert_eq!(json["min_delay_ms"], 200);
        assert_eq!(json["overload_delay_ms"], 10_000);
        let back: RetryPolicy = serde_json::from_value(json).expect("de");
        assert_eq!(back, RetryPolicy::default());
        assert!(is_idempotent(&http::Method::PUT));
        assert!(!is_idempotent(&http::Method::POST));
        assert!(!is_idempotent(&http::Method::PATCH));
    }
}
