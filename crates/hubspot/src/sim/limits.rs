//! The portal's limits: the rolling ten-second burst window ([`cartograph_sim::Quota`]) and
//! the daily count, with HubSpot's rate-limit headers. Injected faults are the shared
//! [`cartograph_sim::FaultInjector`]'s (see [`super::HubSpotSim::faults`]).

use std::time::Duration;

use cartograph_sim::{Quota, QuotaState, TimeScale};

/// HubSpot's burst window (portal time).
const BURST_WINDOW: Duration = Duration::from_secs(10);

/// Limits of one portal.
#[derive(Debug)]
pub(crate) struct Limiter {
    burst: Quota,
    scale: TimeScale,
    daily: u32,
    used_today: u32,
    last: Option<QuotaState>,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Serve it.
    Serve,
    /// 429 `TEN_SECONDLY_ROLLING`: the burst window is full.
    TenSecondly,
    /// 429 `DAILY`: the day's requests are spent.
    Daily,
}

/// Rate-limit header values for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Headers {
    /// `X-HubSpot-RateLimit-Max`.
    pub(crate) max: u32,
    /// `X-HubSpot-RateLimit-Remaining`.
    pub(crate) remaining: u32,
    /// `X-HubSpot-RateLimit-Interval-Milliseconds`.
    pub(crate) interval_ms: u64,
    /// `X-HubSpot-RateLimit-Daily`.
    pub(crate) daily: u32,
    /// `X-HubSpot-RateLimit-Daily-Remaining`.
    pub(crate) daily_remaining: u32,
}

impl Limiter {
    /// `burst` requests per 10 s of portal time at `scale`, `daily` per day. The interval
    /// header reports the window in real time, so a client limiter follows the simulator's
    /// clock.
    pub(crate) fn new(burst: u32, daily: u32, scale: TimeScale) -> Self {
        Self {
            burst: Quota::new(burst, BURST_WINDOW, scale),
            scale,
            daily,
            used_today: 0,
            last: None,
        }
    }

    /// Sets how many requests are left today.
    pub(crate) fn set_daily_remaining(&mut self, remaining: u32) {
        self.used_today = self.daily.saturating_sub(remaining);
    }

    /// Decides one request; a served one counts against both limits.
    pub(crate) fn check(&mut self) -> Verdict {
        if self.used_today >= self.daily {
            return Verdict::Daily;
        }
        let state = self.burst.take();
        self.last = Some(state);
        if !state.allowed {
            return Verdict::TenSecondly;
        }
        self.used_today = self.used_today.saturating_add(1);
        Verdict::Serve
    }

    /// Header values after the current request.
    pub(crate) fn headers(&mut self) -> Headers {
        let state = match self.last {
            Some(state) => state,
            None => self.burst.peek(),
        };
        let window = self.scale.real(BURST_WINDOW);
        Headers {
            max: self.burst.limit(),
            remaining: state.remaining,
            interval_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1),
            daily: self.daily,
            daily_remaining: self.daily.saturating_sub(self.used_today),
        }
    }
}
