//! The rate limiter's window bound and pauses.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartograph_http::{RateLimit, RateLimitSignal, RateLimiter};

/// Largest number of instants inside any half-open window `[t, t + width)`.
fn busiest_window(instants: &mut [Instant], width: Duration) -> usize {
    instants.sort();
    (0..instants.len())
        .map(|i| {
            instants[i..]
                .iter()
                .take_while(|t| **t - instants[i] < width)
                .count()
        })
        .max()
        .unwrap_or(0)
}

async fn record_under_contention(
    limiter: Arc<RateLimiter>,
    tasks: usize,
    each: usize,
) -> Vec<Instant> {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let limiter = Arc::clone(&limiter);
        let starts = Arc::clone(&starts);
        handles.push(tokio::spawn(async move {
            for _ in 0..each {
                limiter.acquire().await;
                starts.lock().expect("not poisoned").push(Instant::now());
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task finished");
    }
    starts.lock().expect("not poisoned").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limiter_never_exceeds_quota_in_any_window() {
    let per = Duration::from_secs(1);
    // Burst 1: one start every 250 ms. Burst 3: three at once, then one every 500 ms.
    for (limit, each) in [
        (RateLimit::new(5, per), 3),
        (RateLimit::new(5, per).with_burst(3), 2),
    ] {
        let limiter = RateLimiter::shared(limit).expect("valid");
        let started = Instant::now();
        let mut starts = record_under_contention(limiter, 4, each).await;
        assert_eq!(starts.len(), 4 * each);
        let busiest = busiest_window(&mut starts, per);
        assert!(
            busiest <= 5,
            "{busiest} starts within one window for {limit:?}"
        );
        assert!(
            busiest >= 3,
            "limiter far too strict ({busiest}) for {limit:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "too slow: {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn observe_with_nothing_remaining_pauses_callers_until_reset() {
    let limiter = RateLimiter::shared(RateLimit::new(100, Duration::from_secs(1)).with_burst(50))
        .expect("valid");
    limiter.acquire().await;
    let observed = Instant::now();
    limiter.observe(RateLimitSignal {
        remaining: Some(0),
        reset_after: Some(Duration::from_millis(500)),
        ..RateLimitSignal::default()
    });
    assert!(limiter.paused_until().is_some());
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let limiter = Arc::clone(&limiter);
        waiters.push(tokio::spawn(async move {
            limiter.acquire().await;
            Instant::now()
        }));
    }
    for waiter in waiters {
        let at = waiter.await.expect("finished");
        assert!(
            at - observed >= Duration::from_millis(500),
            "started after {:?}",
            at - observed
        );
    }
    // After the reset, permits flow again without a pause.
    let before = Instant::now();
    limiter.acquire().await;
    assert!(before.elapsed() < Duration::from_millis(200));
    assert!(limiter.paused_until().is_none());
}

#[tokio::test]
async fn observe_with_remaining_left_does_not_pause() {
    let limiter = RateLimiter::shared(RateLimit::new(10, Duration::from_secs(1)).with_burst(5))
        .expect("valid");
    limiter.observe(RateLimitSignal {
        remaining: Some(3),
        reset_after: Some(Duration::from_secs(5)),
        ..RateLimitSignal::default()
    });
    let before = Instant::now();
    limiter.acquire().await;
    assert!(before.elapsed() < Duration::from_millis(200));
}
