//! [`Quota`]: a vendor account's rolling-window request quota, the model behind every
//! simulator's rate-limit headers and 429s.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::time::TimeScale;

/// What the quota says about one request: whether it may be served, and what the vendor's
/// rate-limit headers report. Durations are in **vendor time** (what the real API would
/// print), so headers look the same at any [`TimeScale`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaState {
    /// Whether the request is within the quota.
    pub allowed: bool,
    /// Requests per window.
    pub limit: u32,
    /// Requests left in the current window after this one.
    pub remaining: u32,
    /// The window length (vendor time).
    pub window: Duration,
    /// Until a slot frees up (vendor time); zero when `remaining > 0`.
    pub reset_after: Duration,
}

/// A rolling window of `limit` requests per `window` of vendor time, scaled to real time.
///
/// ```
/// use std::time::Duration;
/// use cartograph_sim::{Quota, TimeScale};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut quota = Quota::new(2, Duration::from_secs(10), TimeScale::new(0.001));
/// assert!(quota.take().allowed);
/// assert_eq!(quota.take().remaining, 0);
/// let refused = quota.take();
/// assert!(!refused.allowed);
/// assert!(refused.reset_after <= Duration::from_secs(10));
/// # }
/// ```
#[derive(Debug)]
pub struct Quota {
    limit: u32,
    window: Duration,
    scale: TimeScale,
    recent: VecDeque<Instant>,
}

impl Quota {
    /// `limit` requests per `window` (vendor time) at `scale`. A zero limit refuses nothing
    /// (no quota).
    pub fn new(limit: u32, window: Duration, scale: TimeScale) -> Self {
        Self {
            limit,
            window,
            scale,
            recent: VecDeque::new(),
        }
    }

    /// The limit per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window (vendor time).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one request if the quota allows it, and reports the state.
    pub fn take(&mut self) -> QuotaState {
        self.take_at(Instant::now())
    }

    /// Reports the state without counting a request.
    pub fn peek(&mut self) -> QuotaState {
        let now = Instant::now();
        self.expire(now);
        self.state(now, true)
    }

    fn expire(&mut self, now: Instant) {
        let real_window = self.scale.real(self.window);
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= real_window)
        {
            self.recent.pop_front();
        }
    }

    fn state(&self, now: Instant, allowed: bool) -> QuotaState {
        let used = u32::try_from(self.recent.len()).unwrap_or(u32::MAX);
        let remaining = self.limit.saturating_sub(used);
        let reset_after = if remaining > 0 {
            Duration::ZERO
        } else {
            self.recent.front().map_or(Duration::ZERO, |oldest| {
                let real_window = self.scale.real(self.window);
                let left = real_window.saturating_sub(now.saturating_duration_since(*oldest));
                self.scale.simulated(left).min(self.window)
            })
        };
        QuotaState {
            allowed,
            limit: self.limit,
            remaining,
            window: self.window,
            reset_after,
        }
    }

    fn take_at(&mut self, now: Instant) -> QuotaState {
        if self.limit == 0 {
            return QuotaState {
                allowed: true,
                limit: 0,
                remaining: 0,
                window: self.window,
                reset_after: Duration::ZERO,
            };
        }
        self.expire(now);
        if self.recent.len() >= self.limit as usize {
            return self.state(now, false);
        }
        self.recent.push_back(now);
        self.state(now, true)
    }
}
