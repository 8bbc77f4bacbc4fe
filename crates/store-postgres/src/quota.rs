//! [`SharedQuota`]: one vendor account's request budget shared by every worker on every
//! machine, through the database.
//!
//! An in-process [`RateLimiter`](cartograph_http::RateLimiter) per worker lets N workers
//! send N times the vendor's quota. Here the budget is one row per account holding the
//! GCRA's *theoretical arrival time* (TAT) on the database's clock: each request reserves its
//! slot with one atomic upsert (`tat = max(tat, now) + T`) and is told how long to wait
//! before starting. With `T = (per + margin) / (requests - burst)` and a tolerance of
//! `(burst - 1) * T`, any window of length `per` holds at most `requests` starts, whichever
//! worker sends them and however many there are. One clock (the server's) means machines'
//! clocks need not agree; `margin` absorbs the network time between the reservation and the
//! request leaving.
//!
//! [`QuotaGate`] plugs it into any [`HttpClient`](cartograph_http::HttpClient) and every
//! vendor connector: it is a [`RequestGate`], which the client awaits before every attempt
//! (retries included); each connector takes one with `with_request_gate`.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use cartograph_connector::{Error, ErrorKind};
use cartograph_http::{RateLimit, RateLimitSignal, RequestGate};
use cartograph_sync::{StoreError, StoreResult};
use deadpool_postgres::Pool;
use tokio::time::Instant;

use crate::error;

/// Default allowance for the time between a reservation and the request reaching the vendor.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(25);

/// Request budgets shared through the database. Cheap to clone.
#[derive(Clone)]
pub struct SharedQuota {
    pool: Pool,
    margin: Duration,
}

impl std::fmt::Debug for SharedQuota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedQuota")
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

/// The GCRA parameters of a limit, in microseconds: emission interval and tolerance.
pub(crate) fn gcra(limit: &RateLimit, margin: Duration) -> StoreResult<(i64, i64)> {
    if limit.requests == 0 || limit.per.is_zero() {
        return Err(StoreError::Backend(
            "a shared quota needs requests > 0 and a non-zero window".to_owned(),
        ));
    }
    let burst = limit.effective_burst();
    let spaced = u128::from(limit.requests.saturating_sub(burst).max(1));
    let window = (limit.per + margin).as_micros();
    let interval = window.div_ceil(spaced);
    let interval = i64::try_from(interval).unwrap_or(i64::MAX).max(1);
    let tolerance = interval.saturating_mul(i64::from(burst.saturating_sub(1)));
    Ok((interval, tolerance))
}

impl SharedQuota {
    pub(crate) fn new(pool: Pool) -> Self {
        Self {
            pool,
            margin: DEFAULT_MARGIN,
        }
    }

    /// Sets the allowance for network time (default [`DEFAULT_MARGIN`]); the sustained rate
    /// is `requests / (per + margin)`.
    #[must_use]
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Reserves the next request slot of `account` under `limit` and returns how long to
    /// wait before sending it (zero when it may go now). Every caller of one account must
    /// pass the same `limit`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached (the caller should
    /// not send: the budget is unknown); [`StoreError::Backend`] for an empty limit.
    pub async fn reserve(&self, account: &str, limit: &RateLimit) -> StoreResult<Duration> {
        let (interval, tolerance) = gcra(limit, self.margin)?;
        let client = self.pool.get().await.map_err(|e| error::pool(&e))?;
        // One statement: the first reservation of an account creates its row (also after a
        // server crash emptied the unlogged table). The row lock orders concurrent
        // reservations; the clock is read after it is held.
        let stmt = client
            .prepare_cached(
                "INSERT INTO quota_budgets AS b (account, tat_us)
                 VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $2)
                 ON CONFLICT (account) DO UPDATE
                 SET tat_us = GREATEST(b.tat_us, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint) + $2
                 RETURNING tat_us, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            )
            .await
            .map_err(|e| error::pg(&e))?;
        let row = client
            .query_one(&stmt, &[&account, &interval])
            .await
            .map_err(|e| error::pg(&e))?;
        let (tat, now): (i64, i64) = (row.get(0), row.get(1));
        // This request's slot starts at max(now, old tat - tolerance) = new tat - T - tolerance.
        let start = tat.saturating_sub(interval).saturating_sub(tolerance);
        let wait = u64::try_from(start.saturating_sub(now)).unwrap_or(0);
        Ok(Duration::from_micros(wait))
    }

    /// Waits until a request of `account` may start under `limit`.
    ///
    /// # Errors
    /// As [`SharedQuota::reserve`].
    pub async fn acquire(&self, account: &str, limit: &RateLimit) -> StoreResult<()> {
        let wait = self.reserve(account, limit).await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// A [`RequestGate`] for `account` under `limit`: give it to every connector (and
    /// every HTTP client) of the account, in every process, with `with_request_gate`.
    ///
    /// `account` names the vendor account (e.g. `hubspot:<portal id>`); every gate of one
    /// account must carry the same `limit`.
    pub fn gate(&self, account: impl Into<String>, limit: RateLimit) -> QuotaGate {
        QuotaGate {
            quota: self.clone(),
            account: account.into(),
            limit,
            paused_until: Mutex::new(None),
        }
    }
}

/// Makes every request of an HTTP client wait for a [`SharedQuota`] (see
/// [`SharedQuota::gate`]).
///
/// A response saying the vendor's window is spent (`remaining: 0`, e.g. after another
/// integration used the account) pauses this gate's requests until the reported reset.
pub struct QuotaGate {
    quota: SharedQuota,
    account: String,
    limit: RateLimit,
    paused_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for QuotaGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaGate")
            .field("account", &self.account)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl QuotaGate {
    fn paused_until(&self) -> Option<Instant> {
        let until = *self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        until.filter(|until| *until > Instant::now())
    }
}

#[async_trait]
impl RequestGate for QuotaGate {
    async fn acquire(&self) -> cartograph_connector::Result<()> {
        if let Some(until) = self.paused_until() {
            tokio::time::sleep_until(until).await;
        }
        self.quota
            .acquire(&self.account, &self.limit)
            .await
            .map_err(|e| {
                let kind = if e.is_retryable() {
                    ErrorKind::Unavailable
                } else {
                    ErrorKind::Config
                };
                Error::new(kind, format!("shared quota of {}: {e}", self.account))
            })
    }

    fn observe(&self, signal: RateLimitSignal) {
        if signal.remaining != Some(0) {
            return;
        }
        let wait = signal
            .reset_after
            .or(signal.window)
            .unwrap_or(self.limit.per);
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A quota whose pool never connects (nothing here reaches the database).
    fn unconnected() -> SharedQuota {
        let mut driver = tokio_postgres::Config::new();
        driver.host("/nonexistent").port(1);
        let manager = deadpool_postgres::Manager::new(driver, tokio_postgres::NoTls);
        let pool = Pool::builder(manager)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .expect("pool");
        SharedQuota::new(pool)
    }

    #[tokio::test]
    async fn a_spent_window_pauses_the_gate_until_the_reported_reset() {
        let gate = unconnected().gate("crm:1", RateLimit::new(10, Duration::from_secs(1)));
        assert!(gate.paused_until().is_none());
        gate.observe(RateLimitSignal {
            remaining: Some(3),
            ..RateLimitSignal::default()
        });
        assert!(gate.paused_until().is_none(), "requests left: no pause");
        let before = Instant::now();
        gate.observe(RateLimitSignal {
            remaining: Some(0),
            reset_after: Some(Duration::from_secs(4)),
            ..RateLimitSignal::default()
        });
        let until = gate.paused_until().expect("paused");
        assert!(until >= before + Duration::from_secs(4));
        assert!(until <= Instant::now() + Duration::from_secs(4));
        // A shorter reset reported later does not cut the pause short.
        gate.observe(RateLimitSignal {
            remaining: Some(0),
            reset_after: Some(Duration::from_millis(10)),
            ..RateLimitSignal::default()
        });
        assert_eq!(gate.paused_until(), Some(until));
    }

    #[tokio::test]
    async fn an_unreachable_budget_is_a_retryable_error_naming_the_account() {
        let quota = unconnected();
        let gate = quota.gate("crm:portal-7", RateLimit::new(10, Duration::from_secs(1)));
        let err = gate.acquire().await.expect_err("no database");
        assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains("crm:portal-7"), "{err}");
    }

    #[test]
    fn gcra_parameters_keep_every_window_within_the_quota() {
        // 190 per 10 s, burst 1: one every (10 s + margin) / 189.
        let limit = RateLimit::new(190, Duration::from_secs(10));
        let (t, tau) = gcra(&limit, Duration::ZERO).expect("valid");
        assert_eq!(t, (10_000_000 + 188) / 189);
        assert_eq!(tau, 0);
        // Starts in a window of length per: at most 1 + (per + tau) / T.
        let most = 1 + (10_000_000 + tau) / t;
        assert!(most <= 190, "{most}");
        let bursty = RateLimit::new(100, Duration::from_secs(10)).with_burst(10);
        let (t, tau) = gcra(&bursty, Duration::from_millis(25)).expect("valid");
        assert_eq!(tau, 9 * t);
        let most = 1 + (10_000_000 + tau) / t;
        assert!(most <= 100, "{most}");
        assert!(gcra(&RateLimit::new(0, Duration::from_secs(1)), Duration::ZERO).is_err());
    }
}
