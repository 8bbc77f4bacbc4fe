//! Keeping time-limited claims alive while work outlasts them: a worker's leases on its
//! batch, the engine's locks on the people a batch writes.

use std::future::Future;
use std::time::Duration;

/// The shortest interval between two renewals, whatever the period.
const MIN_EVERY: Duration = Duration::from_millis(10);

/// Runs `work` to completion while calling `renew` every third of `period` (at least every
/// 10 ms), so claims held for `period` stay held however long the work takes. `work` keeps
/// being polled while a renewal runs, and a renewal once started always finishes before this
/// returns: a renewal cut off mid-way could land after the caller has settled or released
/// what it renews.
pub(crate) async fn renewing<T, R>(
    period: Duration,
    work: impl Future<Output = T>,
    mut renew: impl FnMut() -> R,
) -> T
where
    R: Future<Output = ()>,
{
    let every = (period / 3).max(MIN_EVERY);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            biased;
            done = &mut work => return done,
            () = tokio::time::sleep(every) => {}
        }
        let mut renewal = std::pin::pin!(renew());
        tokio::select! {
            biased;
            () = &mut renewal => {}
            done = &mut work => {
                renewal.await;
                return done;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::Notify;

    use super::renewing;

    #[tokio::test]
    async fn renews_while_the_work_runs_and_returns_its_result() {
        let renewals = Arc::new(AtomicUsize::new(0));
        let third = Arc::new(Notify::new());
        let work = {
            let third = Arc::clone(&third);
            async move {
                // The work outlasts three renewal intervals: it ends only after the third.
                third.notified().await;
                "done"
            }
        };
        let counted = Arc::clone(&renewals);
        let done = renewing(Duration::from_millis(30), work, move || {
            let counted = Arc::clone(&counted);
            let third = Arc::clone(&third);
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) + 1 == 3 {
                    third.notify_one();
                }
            }
        })
        .await;
        assert_eq!(done, "done");
        assert_eq!(renewals.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_renewal_under_way_finishes_before_the_result_is_returned() {
        let finished = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(Notify::new());
        let work = {
            let started = Arc::clone(&started);
            async move {
                // Ends as soon as the first renewal has started, while it is still running.
                started.notified().await;
                "done"
            }
        };
        let counted = Arc::clone(&finished);
        let done = renewing(Duration::from_millis(30), work, move || {
            let counted = Arc::clone(&counted);
            let started = Arc::clone(&started);
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(50)).await;
                counted.fetch_add(1, Ordering::SeqCst);
            }
        })
        .await;
        assert_eq!(done, "done");
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the renewal was cut off"
        );
    }

    #[tokio::test]
    async fn work_shorter_than_a_third_of_the_period_is_never_renewed() {
        let renewals = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&renewals);
        let done = renewing(Duration::from_secs(3600), async { 7 }, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .await;
        assert_eq!(done, 7);
        assert_eq!(renewals.load(Ordering::SeqCst), 0);
    }
}
