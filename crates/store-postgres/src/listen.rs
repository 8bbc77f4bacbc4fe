//! The `LISTEN` side of wake-ups: one dedicated connection per store listens on the store's
//! channel (every enqueue and replay notifies it in its own transaction, so a notification
//! means committed work) and wakes every task in [`Wake::wait`]. The connection is re-made
//! when lost; while it is down, waits simply run to their timeout (polling).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_postgres::{AsyncMessage, NoTls};

/// How recent a notification counts as "just now": a worker that leased nothing a moment
/// after a notification leases again at once instead of waiting for the next one.
const RECENT: Duration = Duration::from_millis(20);

/// Wakes idle workers.
#[derive(Debug)]
pub(crate) struct Wake {
    notify: Notify,
    epoch: Instant,
    /// Microseconds after `epoch` of the last notification, plus one (0: none yet).
    last: AtomicU64,
}

impl Wake {
    pub(crate) fn new() -> Self {
        Self {
            notify: Notify::new(),
            epoch: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    pub(crate) fn wake(&self) {
        let at = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX - 1);
        self.last.store(at + 1, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Returns at the next notification or after `at_most`, or at once when one came in the
    /// last [`RECENT`] (it may have come between the caller's empty lease and this call).
    pub(crate) async fn wait(&self, at_most: Duration) {
        let notified = self.notify.notified();
        let last = self.last.load(Ordering::Acquire);
        if last > 0 {
            let since = self
                .epoch
                .elapsed()
                .saturating_sub(Duration::from_micros(last - 1));
            if since < RECENT {
                return;
            }
        }
        let _ = tokio::time::timeout(at_most, notified).await;
    }
}

/// Keeps a `LISTEN` connection up until aborted.
pub(crate) async fn run(config: tokio_postgres::Config, channel: String, wake: Arc<Wake>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let driver = {
                    let wake = Arc::clone(&wake);
                    async move {
                        let mut messages =
                            futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                        while let Some(message) = messages.next().await {
                            match message {
                                Ok(AsyncMessage::Notification(_)) => wake.wake(),
                                Ok(_) => {}
                                Err(e) => {
                                    tracing::warn!(error = %e, "postgres listen connection failed");
                                    break;
                                }
                            }
                        }
                    }
                };
                let driving = tokio::spawn(driver);
                // The identifier is built from a validated schema name.
                match client.batch_execute(&format!("LISTEN \"{channel}\"")).await {
                    Ok(()) => {
                        backoff = Duration::from_millis(100);
                        tracing::debug!(channel, "listening for queued events");
                        // Anything queued while we were not listening: look once.
                        wake.wake();
                        let _ = driving.await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "postgres LISTEN failed");
                        driving.abort();
                    }
                }
                drop(client);
            }
            Err(e) => {
                tracing::warn!(error = %e, "postgres listen connection could not be made");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}
