//! Client-side rate limiting: [`RateLimit`] settings and the shared [`RateLimiter`].

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use governor::{DefaultDirectRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// A request quota: at most `requests` in any window of length `per`.
///
/// `burst` is how many requests may start back to back after a quiet spell (default 1,
/// i.e. evenly spaced); it is clamped to `1..requests` so the window bound holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests: u32,
    /// The window, e.g. 30 s for BigCommerce, 10 s for HubSpot, 1 s for ActiveCampaign.
    #[serde(rename = "per_ms", with = "cartograph_connector::serde_millis")]
    pub per: Duration,
    /// Requests allowed back to back (default 1).
    #[serde(default)]
    pub burst: Option<u32>,
}

impl RateLimit {
    /// `requests` per `per`, burst 1.
    pub const fn new(requests: u32, per: Duration) -> Self {
        Self {
            requests,
            per,
            burst: None,
        }
    }

    /// Sets the burst.
    #[must_use]
    pub const fn with_burst(mut self, burst: u32) -> Self {
        self.burst = Some(burst);
        self
    }

    /// The effective burst after clamping.
    pub fn effective_burst(&self) -> u32 {
        self.burst
            .unwrap_or(1)
            .clamp(1, self.requests.saturating_sub(1).max(1))
    }

    /// GCRA quota with burst `b` and one permit every `per / (requests - b)`: then any window
    /// of length `per` holds at most `b + (requests - b) = requests` starts.
    fn quota(&self) -> Result<Quota> {
        if self.requests == 0 || self.per.is_zero() {
            return Err(Error::new(
                ErrorKind::Config,
                "rate limit needs requests > 0 and a non-zero window",
            ));
        }
        let burst = self.effective_burst();
        let spaced = self.requests.saturating_sub(burst).max(1);
        let period = self.per / spaced;
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(period)
            .map(|quota| quota.allow_burst(burst))
            .ok_or_else(|| Error::new(ErrorKind::Config, "rate limit window too small"))
    }

    /// Whether `self` allows strictly fewer requests per unit of time than `other`.
    fn slower_than(&self, other: &Self) -> bool {
        u128::from(self.requests) * other.per.as_nanos()
            < u128::from(other.requests) * self.per.as_nanos()
    }
}

/// What a response said about the vendor's rate limit (built by each vendor's
/// `VendorPolicy::rate_limit_signal` from its headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimitSignal {
    /// Requests left in the current window.
    pub remaining: Option<u32>,
    /// Time until the window resets.
    pub reset_after: Option<Duration>,
    /// The vendor's quota per window.
    pub quota: Option<u32>,
    /// The vendor's window.
    pub window: Option<Duration>,
}

struct State {
    current: RateLimit,
    gcra: Arc<DefaultDirectRateLimiter>,
    paused_until: Option<Instant>,
}

/// A per-account request limiter (GCRA, from [`governor`]), shared by every client of the
/// account through an `Arc`.
///
/// It never lets more than `requests` start in any window of length `per`; vendor headers
/// can tighten it ([`RateLimiter::observe`]): a reported `remaining = 0` pauses every caller
/// until the reset, a smaller vendor quota replaces the configured one. It never loosens.
///
/// ```
/// use cartograph_http::{RateLimit, RateLimiter};
/// use std::time::Duration;
///
/// # async fn demo() -> Result<(), cartograph_connector::Error> {
/// // ActiveCampaign: 5 requests per second per account.
/// let limiter = RateLimiter::shared(RateLimit::new(5, Duration::from_secs(1)))?;
/// limiter.acquire().await;
/// # Ok(()) }
/// ```
pub struct RateLimiter {
    configured: RateLimit,
    state: Mutex<State>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("configured", &self.configured)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter for `limit`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `requests` is 0 or the window is zero or too small.
    pub fn new(limit: RateLimit) -> Result<Self> {
        let gcra = Arc::new(governor::RateLimiter::direct(limit.quota()?));
        Ok(Self {
            configured: limit,
            state: Mutex::new(State {
                current: limit,
                gcra,
                paused_until: None,
            }),
        })
    }

    /// [`RateLimiter::new`] in an `Arc`, ready to share.
    ///
    /// # Errors
    /// As for [`RateLimiter::new`].
    pub fn shared(limit: RateLimit) -> Result<Arc<Self>> {
        Self::new(limit).map(Arc::new)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The limit in force (the configured one, or a tighter one reported by the vendor).
    pub fn current(&self) -> RateLimit {
        self.lock().current
    }

    /// When callers are paused until (after a response said no requests are left).
    pub fn paused_until(&self) -> Option<Instant> {
        self.lock()
            .paused_until
            .filter(|until| *until > Instant::now())
    }

    /// Waits until a request may start.
    pub async fn acquire(&self) {
        loop {
            let (paused_until, gcra) = {
                let state = self.lock();
                (state.paused_until, Arc::clone(&state.gcra))
            };
            if let Some(until) = paused_until {
                if until > Instant::now() {
                    tokio::time::sleep_until(until).await;
                    continue;
                }
            }
            gcra.until_ready().await;
            // A pause that began while this caller waited still applies.
            let paused_until = self.lock().paused_until;
            if let Some(until) = paused_until {
                if until > Instant::now() {
                    tokio::time::sleep_until(until).await;
                }
            }
            return;
        }
    }

    /// Feeds what a response said about the vendor's limit.
    ///
    /// * `remaining == Some(0)`: every caller waits until `reset_after` (or, without it, one
    ///   window) from now.
    /// * a `quota` (per `window`, or per the current window) slower than the current limit
    ///   replaces it.
    pub fn observe(&self, signal: RateLimitSignal) {
        let mut state = self.lock();
        if signal.remaining == Some(0) {
            let wait = signal
                .reset_after
                .or(signal.window)
                .unwrap_or(state.current.per);
            let until = Instant::now() + wait;
            if state.paused_until.is_none_or(|current| current < until) {
                tracing::debug!(
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "rate limit spent, pausing"
                );
                state.paused_until = Some(until);
            }
        }
        if let Some(quota) = signal.quota.filter(|quota| *quota > 0) {
            let window = signal
                .window
                .filter(|w| !w.is_zero())
                .unwrap_or(state.current.per);
            // Keep at most a tenth of the vendor's quota as burst: with GCRA, every request of
            // burst is one less of sustained rate in the window (period = window / (quota -
            // burst)), so a burst carried over from a generous local setting would throttle
            // the sustained rate to a crawl.
            let reported = RateLimit {
                requests: quota,
                per: window,
                burst: state
                    .current
                    .burst
                    .map(|burst| burst.min((quota / 10).max(1))),
            };
            if reported.slower_than(&state.current) {
                if let Ok(gcra_quota) = reported.quota() {
                    tracing::debug!(
                        requests = quota,
                        per_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
                        "tightening rate limit to the vendor's quota"
                    );
                    state.current = reported;
                    state.gcra = Arc::new(governor::RateLimiter::direct(gcra_quota));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_clamped_below_the_quota() {
        assert_eq!(
            RateLimit::new(5, Duration::from_secs(1)).effective_burst(),
            1
        );
        assert_eq!(
            RateLimit::new(5, Duration::from_secs(1))
                .with_burst(9)
                .effective_burst(),
            4
        );
        assert_eq!(
            RateLimit::new(1, Duration::from_secs(1))
                .with_burst(3)
                .effective_burst(),
            1
        );
        assert!(RateLimiter::new(RateLimit::new(0, Duration::from_secs(1))).is_err());
        assert!(RateLimiter::new(RateLimit::new(3, Duration::ZERO)).is_err());
    }

    #[test]
    fn tightening_keeps_the_sustained_rate_near_the_quota() {
        let limiter =
            RateLimiter::new(RateLimit::new(100_000, Duration::from_secs(1)).with_burst(10_000))
                .expect("valid");
        limiter.observe(RateLimitSignal {
            quota: Some(150),
            window: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        let current = limiter.current();
        assert_eq!(current.requests, 150);
        let burst = current.effective_burst();
        assert!(burst <= 15, "burst {burst} eats the sustained rate");
        // Sustained: at least 90 % of the quota per window.
        assert!(current.requests - burst >= 135);
    }

    #[test]
    fn observe_only_tightens() {
        let limiter =
            RateLimiter::new(RateLimit::new(150, Duration::from_secs(30))).expect("valid");
        limiter.observe(RateLimitSignal {
            quota: Some(450),
            window: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        assert_eq!(limiter.current().requests, 150);
        limiter.observe(RateLimitSignal {
            quota: Some(100),
            window: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        assert_eq!(
            limiter.current(),
            RateLimit::new(100, Duration::from_secs(30))
        );
        limiter.observe(RateLimitSignal {
            quota: Some(50),
            ..Default::default()
        });
        assert_eq!(limiter.current().requests, 50);
        assert!(limiter.paused_until().is_none());
    }

    #[test]
    fn serde_form() {
        let limit: RateLimit =
            serde_json::from_str(r#"{"requests": 190, "per_ms": 10000}"#).expect("valid");
        assert_eq!(limit, RateLimit::new(190, Duration::from_secs(10)));
    }
}
