//! The worker: drains the durable queue in batches, hands items to a [`Handler`], and settles
//! each one: complete, retry with backoff, park on a quota, or dead-letter. Nothing leaves the
//! queue without one of these.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cartograph_connector::{Error, ErrorKind};
use cartograph_model::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tracing::Instrument;

use crate::observe::Counters;
use crate::queue_item::{ItemOutcome, WorkItem};
use crate::store::{NewDeadLetter, QueuedEvent, Store, StoreResult};

/// Processes work items. The sync engine implements it; tests can plug in their own.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Processes a batch; returns one outcome per item, in order.
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome>;
}

/// Worker settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// Name recorded on leases (for operators).
    pub name: String,
    /// Items leased and handled together (batched to the CRM's maximum by the handler).
    pub batch_size: usize,
    /// How long a lease holds; a worker that dies releases its items when it expires.
    #[serde(with = "crate::serde_millis")]
    pub lease_for: Duration,
    /// Attempts before a retryable failure is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt.
    #[serde(with = "crate::serde_millis")]
    pub retry_base: Duration,
    /// Longest retry delay.
    #[serde(with = "crate::serde_millis")]
    pub retry_max: Duration,
    /// Longest pause between leases when the queue is empty ([`Store::wait_for_work`] may
    /// end it early when the store hears of new events).
    #[serde(with = "crate::serde_millis")]
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: "worker".into(),
            batch_size: 100,
            lease_for: Duration::from_secs(120),
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            idle_poll: Duration::from_millis(200),
        }
    }
}

/// What one [`Worker::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchReport {
    /// Items leased.
    pub leased: usize,
    /// Items completed.
    pub completed: usize,
    /// Items scheduled for retry.
    pub retried: usize,
    /// Items parked on a quota.
    pub parked: usize,
    /// Items dead-lettered.
    pub dead_lettered: usize,
    /// Items put back untried because their subject was busy elsewhere.
    pub deferred: usize,
}

impl BatchReport {
    fn add(&mut self, other: &BatchReport) {
        self.leased += other.leased;
        self.completed += other.completed;
        self.retried += other.retried;
        self.parked += other.parked;
        self.dead_lettered += other.dead_lettered;
        self.deferred += other.deferred;
    }
}

/// Drains the queue.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    counters: Arc<Counters>,
    config: WorkerConfig,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker over `store` handing items to `handler`.
    pub fn new(
        store: Arc<dyn Store>,
        handler: Arc<dyn Handler>,
        counters: Arc<Counters>,
        config: WorkerConfig,
    ) -> Self {
        Self {
            store,
            handler,
            counters,
            config,
        }
    }

    /// Leases one batch, handles it and settles every item.
    pub async fn run_once(&self) -> StoreResult<BatchReport> {
        let now = Timestamp::now();
        let leased = self
            .store
            .lease(
                &self.config.name,
                self.config.batch_size,
                self.config.lease_for,
                now,
            )
            .await?;
        let mut report = BatchReport {
            leased: leased.len(),
            ..BatchReport::default()
        };
        if leased.is_empty() {
            return Ok(report);
        }
        let span =
            tracing::info_span!("sync.batch", worker = %self.config.name, size = leased.len());
        let mut items = Vec::with_capacity(leased.len());
        let mut queued = Vec::with_capacity(leased.len());
        for event in leased {
            match serde_json::from_str::<WorkItem>(&event.payload) {
                Ok(item) => {
                    items.push(item);
                    queued.push(event);
                }
                Err(e) => {
                    let error = Error::new(ErrorKind::Decode, format!("queued payload: {e}"));
                    self.dead_letter(&event, "decode", &error).await?;
                    report.dead_lettered += 1;
                }
            }
        }
        let mut outcomes = self
            .handler
            .handle(&items)
            .instrument(span)
            .await
            .into_iter();
        let mut done = Vec::new();
        for event in &queued {
            let outcome = outcomes.next().unwrap_or_else(|| ItemOutcome::Dead {
                stage: "handle",
                error: Error::new(ErrorKind::Other, "handler returned no outcome for item"),
            });
            match outcome {
                ItemOutcome::Done => done.push(event.id),
                ItemOutcome::Retry { error } => {
                    if error.kind() == ErrorKind::RateLimited {
                        self.counters.add_rate_limited(1);
                    }
                    if event.attempts >= self.config.max_attempts {
                        self.dead_letter(event, "retries_exhausted", &error).await?;
                        report.dead_lettered += 1;
                    } else {
                        let at =
                            now.saturating_add(to_time(self.retry_delay(event.attempts, &error)));
                        self.store
                            .retry_later(event.id, at, &error.to_string())
                            .await?;
                        self.counters.add_retried(1);
                        report.retried += 1;
                    }
                }
                ItemOutcome::Park { until, error } => {
                    tracing::warn!(key = %event.key, until = %until, error = %error, "parked on quota");
                    self.store
                        .defer(event.id, until, &error.to_string())
                        .await?;
                    self.counters.add_parked(1);
                    report.parked += 1;
                }
                ItemOutcome::Defer { until, reason } => {
                    tracing::debug!(key = %event.key, until = %until, reason, "deferred");
                    self.store.defer(event.id, until, &reason).await?;
                    report.deferred += 1;
                }
                ItemOutcome::Dead { stage, error } => {
                    self.dead_letter(event, stage, &error).await?;
                    report.dead_lettered += 1;
                }
            }
        }
        if !done.is_empty() {
            self.store.complete(&done).await?;
            report.completed = done.len();
        }
        Ok(report)
    }

    /// Runs batches until the queue has nothing due.
    pub async fn run_until_idle(&self) -> StoreResult<BatchReport> {
        let mut total = BatchReport::default();
        loop {
            let report = self.run_once().await?;
            total.add(&report);
            if report.leased == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` turns true; the batch in flight is finished and settled first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> StoreResult<BatchReport> {
        let mut total = BatchReport::default();
        while !*shutdown.borrow() {
            let report = self.run_once().await?;
            total.add(&report);
            if report.leased == 0 {
                tokio::select! {
                    _ = shutdown.changed() => {}
                    () = self.store.wait_for_work(self.config.idle_poll) => {}
                }
            }
        }
        Ok(total)
    }

    fn retry_delay(&self, attempts: u32, error: &Error) -> Duration {
        let exp = self
            .config
            .retry_base
            .saturating_mul(2_u32.saturating_pow(attempts.saturating_sub(1)));
        let delay = exp.min(self.config.retry_max);
        error.retry_after().map_or(delay, |after| delay.max(after))
    }

    async fn dead_letter(
        &self,
        event: &QueuedEvent,
        stage: &str,
        error: &Error,
    ) -> StoreResult<()> {
        let letter = NewDeadLetter {
            record: serde_json::from_str::<WorkItem>(&event.payload)
                .map_or_else(|_| format!("queue/{}", event.key), |i| i.record()),
            stage: stage.to_owned(),
            error_kind: error.kind().as_str().to_owned(),
            message: error.to_string(),
            attempts: event.attempts,
            payload_kind: event.kind.clone(),
            payload: event.payload.clone(),
            source: event.source.clone(),
            at: Timestamp::now(),
        };
        tracing::warn!(record = %letter.record, stage, error = %error, "dead-lettered");
        self.store.dead_letter_queued(event.id, &letter).await?;
        self.counters.add_dead_lettered(1);
        Ok(())
    }
}

fn to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
}

/// Workers running as tasks of the current Tokio runtime (see
/// [`Pipeline::spawn_workers`](crate::Pipeline::spawn_workers)).
#[derive(Debug)]
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<StoreResult<BatchReport>>>,
}

impl WorkerPool {
    /// Spawns one task per worker, each running [`Worker::run`] until [`WorkerPool::shutdown`].
    pub fn spawn(workers: impl IntoIterator<Item = Worker>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let handles = workers
            .into_iter()
            .map(|worker| {
                let stopped = stopped.clone();
                tokio::spawn(async move { worker.run(stopped).await })
            })
            .collect();
        Self { stop, handles }
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether the pool has no workers.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Asks every worker to stop once its batch in flight is finished and settled, waits for
    /// all of them, and returns their reports in spawn order. A worker's store error is
    /// returned after every worker has stopped; a worker that panicked panics here.
    ///
    /// # Errors
    /// The first store error a worker stopped with.
    pub async fn shutdown(self) -> StoreResult<Vec<BatchReport>> {
        let _ = self.stop.send(true);
        let mut reports = Vec::with_capacity(self.handles.len());
        let mut first_error = None;
        for handle in self.handles {
            match handle.await {
                Ok(Ok(report)) => reports.push(report),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(join) => std::panic::resume_unwind(join.into_panic()),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(reports),
        }
    }
}
