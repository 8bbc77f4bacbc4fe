//! The daily API allocation: `Sforce-Limit-Info: api-usage=used/limit` on every response
//! paces the connector before the allocation runs out.
//!
//! * Below `slow_down_at_percent` of the allocation (default 90 %): no pacing beyond the
//!   client-side rate limit.
//! * From there on, every response spaces the next request by `24 h / remaining` (at most
//!   [`MAX_SPACING`]): what is left is spread over the rolling 24 h window, so the
//!   connector never spends it in a burst, and since old requests keep dropping out of the
//!   window, the usage the next response reports decides again.
//! * Spent (`used >= limit`): every caller pauses [`SPENT_PAUSE`] and looks again. A 403
//!   `REQUEST_LIMIT_EXCEEDED` carries the same header, so it parks every request, not only
//!   the refused one, until usage drops; the refused request itself is retried after
//!   `Retry-After` (or a minute) while retries last, then fails as a retryable
//!   `RateLimited` that the pipeline queues for later.

use std::time::Duration;

use cartograph_http::RateLimitSignal;

/// Default threshold: pacing starts at 90 % of the daily allocation.
pub const DEFAULT_SLOW_DOWN_AT_PERCENT: u8 = 90;
/// Longest spacing between requests while pacing.
pub const MAX_SPACING: Duration = Duration::from_secs(60);
/// Pause when the allocation is spent.
pub const SPENT_PAUSE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The pause after a response reporting `used` of `limit` requests, `None` below the
/// threshold.
///
/// ```
/// use cartograph_salesforce::limits::pacing;
/// use std::time::Duration;
///
/// assert_eq!(pacing(89_999, 100_000, 90), None);
/// // 10,000 left: one request every 8.64 s.
/// assert_eq!(pacing(90_000, 100_000, 90), Some(Duration::from_millis(8_640)));
/// assert_eq!(pacing(99_999, 100_000, 90), Some(Duration::from_secs(60)));
/// assert_eq!(pacing(100_000, 100_000, 90), Some(Duration::from_secs(60)));
/// ```
pub fn pacing(used: u32, limit: u32, slow_down_at_percent: u8) -> Option<Duration> {
    if limit == 0 {
        return None;
    }
    if used >= limit {
        return Some(SPENT_PAUSE);
    }
    let threshold = u64::from(limit) * u64::from(slow_down_at_percent.min(100)) / 100;
    if u64::from(used) < threshold {
        return None;
    }
    let remaining = limit - used;
    Some((DAY / remaining).min(MAX_SPACING))
}

/// The rate-limit signal of a response's `api-usage`: a pause (`remaining = 0` with
/// `reset_after` = the spacing) when pacing applies.
pub fn usage_signal(used: u32, limit: u32, slow_down_at_percent: u8) -> RateLimitSignal {
    match pacing(used, limit, slow_down_at_percent) {
        Some(wait) => RateLimitSignal {
            remaining: Some(0),
            reset_after: Some(wait),
            ..RateLimitSignal::default()
        },
        None => RateLimitSignal {
            remaining: Some(limit.saturating_sub(used)),
            ..RateLimitSignal::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_tightens_as_the_allocation_shrinks() {
        let spacing = |used| pacing(used, 15_000, 80).expect("pacing");
        assert_eq!(pacing(11_999, 15_000, 80), None);
        assert!(spacing(12_000) < spacing(13_000));
        assert!(spacing(13_000) < spacing(14_500));
        assert_eq!(spacing(14_999), MAX_SPACING);
        // 100 % = only the spent pause.
        assert_eq!(pacing(14_999, 15_000, 100), None);
        assert_eq!(pacing(15_000, 15_000, 100), Some(SPENT_PAUSE));
        // No allocation reported: nothing to pace by.
        assert_eq!(pacing(5, 0, 90), None);
    }

    #[test]
    fn signal_pauses_only_when_pacing() {
        assert_eq!(
            usage_signal(10, 100, 90),
            RateLimitSignal {
                remaining: Some(90),
                ..RateLimitSignal::default()
            }
        );
        let paced = usage_signal(95, 100, 90);
        assert_eq!(paced.remaining, Some(0));
        assert_eq!(paced.reset_after, Some(MAX_SPACING));
    }
}
