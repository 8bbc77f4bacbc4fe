//! Per-portal rate limiting with HubSpot's headers (scaled in time), the daily limit, and
//! seeded fault injection.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::time::Instant;

/// A fault the simulator can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `policyName: TEN_SECONDLY_ROLLING`.
    TenSecondly,
    /// 429 with `policyName: DAILY`.
    Daily,
    /// A 5xx with this status.
    ServerError(u16),
    /// Answer normally after this delay.
    Latency(Duration),
}

/// Limits and faults of one portal.
#[derive(Debug)]
pub(crate) struct Limiter {
    burst: u32,
    window: Duration,
    window_ms_reported: u64,
    daily: u32,
    used_today: u32,
    recent: VecDeque<Instant>,
    queued: VecDeque<Fault>,
    random: Option<(f64, Fault)>,
    rng: StdRng,
    /// Requests answered 429 and 5xx so far.
    pub(crate) answered: FaultCounts,
}

/// How many requests a portal refused or delayed, by kind (for tests that must see their faults bite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Answered 429 (ten-secondly or daily limit, queued or from the quota).
    pub rate_limited: u64,
    /// Answered with a 5xx.
    pub server_errors: u64,
    /// Answered late, after an injected delay.
    pub delayed: u64,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Serve it (after `delay`).
    Serve {
        /// Injected latency.
        delay: Option<Duration>,
    },
    /// Answer with this fault.
    Fail(Fault),
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
    /// `burst` requests per 10 s of portal time (scaled to real time by `time_scale`, real
    /// seconds per portal second), `daily` per day, faults seeded. The interval header
    /// reports the scaled window, so a client limiter follows the simulator's clock.
    pub(crate) fn new(burst: u32, daily: u32, time_scale: f64, seed: u64) -> Self {
        let window = cartograph_sim::TimeScale::new(time_scale).real(Duration::from_secs(10));
        Self {
            burst,
            window,
            window_ms_reported: u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1),
            daily,
            used_today: 0,
            recent: VecDeque::new(),
            queued: VecDeque::new(),
            random: None,
            answered: FaultCounts::default(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Queues faults answered to the next requests, in order.
    pub(crate) fn fail_next(&mut self, count: usize, fault: Fault) {
        self.queued.extend(std::iter::repeat_n(fault, count));
    }

    /// Injects `fault` into each request with `probability` (seeded, deterministic).
    pub(crate) fn set_random(&mut self, probability: f64, fault: Fault) {
        self.random = (probability > 0.0).then_some((probability, fault));
    }

    /// Sets how many requests are left today.
    pub(crate) fn set_daily_remaining(&mut self, remaining: u32) {
        self.used_today = self.daily.saturating_sub(remaining);
    }

    /// Decides one request.
    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        let verdict = self.decide(now);
        match verdict {
            Verdict::Fail(Fault::TenSecondly | Fault::Daily) => self.answered.rate_limited += 1,
            Verdict::Fail(Fault::ServerError(_)) => self.answered.server_errors += 1,
            Verdict::Serve { delay: Some(_) } => self.answered.delayed += 1,
            Verdict::Fail(Fault::Latency(_)) | Verdict::Serve { delay: None } => {}
        }
        verdict
    }

    fn decide(&mut self, now: Instant) -> Verdict {
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            self.recent.pop_front();
        }
        if let Some(fault) = self.queued.pop_front() {
            return match fault {
                Fault::Latency(d) => self.admit(now, Some(d)),
                other => Verdict::Fail(other),
            };
        }
        if self.used_today >= self.daily {
            return Verdict::Fail(Fault::Daily);
        }
        if u32::try_from(self.recent.len()).unwrap_or(u32::MAX) >= self.burst {
            return Verdict::Fail(Fault::TenSecondly);
        }
        if let Some((p, fault)) = self.random {
            if self.rng.random_bool(p.clamp(0.0, 1.0)) {
                return match fault {
                    Fault::Latency(d) => self.admit(now, Some(d)),
                    other => Verdict::Fail(other),
                };
            }
        }
        self.admit(now, None)
    }

    fn admit(&mut self, now: Instant, delay: Option<Duration>) -> Verdict {
        self.recent.push_back(now);
        self.used_today = self.used_today.saturating_add(1);
        Verdict::Serve { delay }
    }

    /// Header values after the current request.
    pub(crate) fn headers(&self) -> Headers {
        Headers {
            max: self.burst,
            remaining: self
                .burst
                .saturating_sub(u32::try_from(self.recent.len()).unwrap_or(u32::MAX)),
            interval_ms: self.window_ms_reported,
            daily: self.daily,
            daily_remaining: self.daily.saturating_sub(self.used_today),
        }
    }
}
