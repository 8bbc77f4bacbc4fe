//! [`RequestGate`]: what an [`HttpClient`](crate::HttpClient) waits for before every attempt.
//!
//! A vendor's rate limit belongs to the account (store, portal, org), not to one process.
//! The in-process [`RateLimiter`] is one gate: right for one worker, or for every client of
//! one process sharing it through an `Arc`. When several processes or machines work for one
//! account, each with its own limiter, together they send a multiple of the quota; a gate
//! whose budget lives outside the process (the PostgreSQL store's `SharedQuota`) keeps them
//! within it. Every connector takes one with `with_request_gate`.

use async_trait::async_trait;
use cartograph_connector::Result;

use crate::limit::{RateLimitSignal, RateLimiter};

/// Decides when the next request of one vendor account may start.
///
/// [`HttpClient`](crate::HttpClient) awaits [`RequestGate::acquire`] before every attempt
/// (retries included) and feeds every response's rate-limit headers to
/// [`RequestGate::observe`].
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use cartograph_http::{RateLimit, RateLimiter, RequestGate};
///
/// # async fn demo() -> cartograph_http::Result<()> {
/// // The in-process limiter is a gate: 5 requests per second for this process.
/// let gate: Arc<dyn RequestGate> = RateLimiter::shared(RateLimit::new(5, Duration::from_secs(1)))?;
/// gate.acquire().await?;
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RequestGate: Send + Sync + std::fmt::Debug {
    /// Waits until one more request of the account may start, and counts it.
    ///
    /// # Errors
    /// When the budget cannot be consulted (e.g. the database holding it is unreachable):
    /// the attempt is then not sent, and the error is retried like a failed connect.
    async fn acquire(&self) -> Result<()>;

    /// What a response said about the vendor's limit (remaining requests, reset, quota).
    /// The default ignores it.
    fn observe(&self, _signal: RateLimitSignal) {}
}

#[async_trait]
impl RequestGate for RateLimiter {
    async fn acquire(&self) -> Result<()> {
        RateLimiter::acquire(self).await;
        Ok(())
    }

    fn observe(&self, signal: RateLimitSignal) {
        RateLimiter::observe(self, signal);
    }
}
