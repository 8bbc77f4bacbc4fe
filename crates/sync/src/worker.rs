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

use crate::health::Health;
use crate::observe::Counters;
use crate::queue_item::{ItemOutcome, WorkItem};
use crate::store::{NewDeadLetter, QueuedEvent, Store, StoreResult};

/// Processes work items. The sync engine implements it; tests can plug in their own.
#[async_trait]
pub trait Handler: Send + Sync {
    /// Processes a batch; returns one outcome per item, in order.
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome>;

    /// Processes a batch leased from the queue, with the time the intake enqueued each
    /// item (millisecond precision, for latency figures where the vendor's event time has
    /// whole seconds only). The default ignores the times.
    async fn handle_queued(&self, items: &[WorkItem], _enqueued: &[Timestamp]) -> Vec<ItemOutcome> {
        self.handle(items).await
    }
}

/// Worker settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// Name recorded on leases (for operators).
    pub name: String,
    /// Items leased and handled together (batched to the CRM's maximum by the handler).
    pub batch_size: usize,
    /// How long a lease holds; a worker that dies releases its items when it expires. A
    /// live worker renews the leases of its batch every third of this while it works, so a
    /// short lease means quick recovery after a crash without re-delivering slow batches.
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
    /// Longest pause after a retryable store error (busy, locked, disk full); the pause
    /// starts at `idle_poll` and doubles per consecutive error.
    #[serde(with = "crate::serde_millis", default = "default_store_backoff_max")]
    pub store_backoff_max: Duration,
    /// Consecutive retryable store errors [`Worker::run_until_idle`] backs off from before it
    /// returns the error ([`Worker::run`] backs off for as long as it runs).
    #[serde(default = "default_store_retries")]
    pub store_retries: u32,
    /// How long processed keys are remembered for de-duplication: past every vendor's
    /// redelivery window (BigCommerce retries for 48 hours, HubSpot for 24) with a margin.
    #[serde(with = "crate::serde_millis", default = "default_processed_retention")]
    pub processed_retention: Duration,
    /// How often a running worker forgets processed keys older than `processed_retention`.
    #[serde(with = "crate::serde_millis", default = "default_prune_every")]
    pub prune_every: Duration,
}

fn default_processed_retention() -> Duration {
    Duration::from_secs(72 * 3600)
}

fn default_prune_every() -> Duration {
    Duration::from_secs(3600)
}

fn default_store_backoff_max() -> Duration {
    Duration::from_secs(30)
}

fn default_store_retries() -> u32 {
    8
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            name: "worker".into(),
            batch_size: 100,
            lease_for: Duration::from_secs(30),
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            idle_poll: Duration::from_millis(200),
            store_backoff_max: default_store_backoff_max(),
            store_retries: default_store_retries(),
            processed_retention: default_processed_retention(),
            prune_every: default_prune_every(),
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
    health: Arc<Health>,
    config: WorkerConfig,
    /// The lease holder: the name plus what makes it unique across processes and machines
    /// (two hosts may both run a `worker-0`).
    holder: String,
}

static WORKERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

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
            health: Arc::default(),
            holder: format!(
                "{}#{}-{}-{}",
                config.name,
                std::process::id(),
                Timestamp::now().unix_millis(),
                WORKERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            config,
        }
    }

    /// Reports this worker's state to `health` (shared with the intake of the same process,
    /// which refuses deliveries while no worker can drain).
    #[must_use]
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = health;
        self
    }

    /// Leases one batch, handles it and settles every item.
    pub async fn run_once(&self) -> StoreResult<BatchReport> {
        let now = Timestamp::now();
        let leased = self
            .store
            .lease(
                &self.holder,
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
        let ids: Vec<_> = queued.iter().map(|e| e.id).collect();
        let enqueued: Vec<Timestamp> = queued.iter().map(|e| e.enqueued_at).collect();
        let mut outcomes = self
            .renewing(
                &ids,
                self.handler
                    .handle_queued(&items, &enqueued)
                    .instrument(span),
            )
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
                        let message = error.to_string();
                        self.persist(|| self.store.retry_later(event.id, at, &message))
                            .await?;
                        self.counters.add_retried(1);
                        report.retried += 1;
                    }
                }
                ItemOutcome::Park { until, error } => {
                    tracing::warn!(key = %event.key, until = %until, error = %error, "parked on quota");
                    let message = error.to_string();
                    self.persist(|| self.store.defer(event.id, until, &message))
                        .await?;
                    self.counters.add_parked(1);
                    report.parked += 1;
                }
                ItemOutcome::Defer { until, reason } => {
                    tracing::debug!(key = %event.key, until = %until, reason, "deferred");
                    self.persist(|| self.store.defer(event.id, until, &reason))
                        .await?;
                    report.deferred += 1;
                }
                ItemOutcome::Dead { stage, error } => {
                    self.dead_letter(event, stage, &error).await?;
                    report.dead_lettered += 1;
                }
            }
        }
        if !done.is_empty() {
            self.persist(|| self.store.complete(&done)).await?;
            report.completed = done.len();
        }
        Ok(report)
    }

    /// Runs batches until the queue has nothing due. A retryable store error is backed off
    /// from up to `store_retries` times in a row.
    ///
    /// # Errors
    /// A store error that is not retryable, or the last of too many retryable ones in a row.
    pub async fn run_until_idle(&self) -> StoreResult<BatchReport> {
        let mut total = BatchReport::default();
        loop {
            let report = self.persist(|| Box::pin(self.run_once())).await?;
            total.add(&report);
            if report.leased == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` turns true; the batch in flight is finished and settled first.
    /// Retryable store errors (busy, locked, disk full) are backed off from, for as long as
    /// they last; an error that is not retryable stops the worker, is recorded in its
    /// [`Health`] (so the intake of this process answers 503 while no worker runs) and is
    /// returned.
    ///
    /// # Errors
    /// The store error the worker stopped on.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> StoreResult<BatchReport> {
        let _running = self.health.running(&self.config.name);
        let mut total = BatchReport::default();
        let mut errors = 0;
        let mut pruned_at: Option<std::time::Instant> = None;
        while !*shutdown.borrow() {
            if pruned_at.is_none_or(|at| at.elapsed() >= self.config.prune_every) {
                pruned_at = Some(std::time::Instant::now());
                self.prune_processed().await;
            }
            let pause = match self.run_once().await {
                Ok(report) => {
                    errors = 0;
                    total.add(&report);
                    if report.leased > 0 {
                        continue;
                    }
                    None
                }
                Err(e) if e.is_retryable() => {
                    errors += 1;
                    Some(self.store_backoff(errors, &e))
                }
                Err(e) => {
                    tracing::error!(worker = %self.config.name, error = %e, "worker stopped on a store error");
                    self.health.failed(&self.config.name, &e.to_string());
                    return Err(e);
                }
            };
            match pause {
                // Idle: until the store hears of new work, or the poll interval.
                None => tokio::select! {
                    _ = shutdown.changed() => {}
                    () = self.store.wait_for_work(self.config.idle_poll) => {}
                },
                Some(backoff) => tokio::select! {
                    _ = shutdown.changed() => {}
                    () = tokio::time::sleep(backoff) => {}
                },
            }
        }
        Ok(total)
    }

    /// Runs `work` while renewing the leases on `ids` every third of the lease period.
    async fn renewing<T>(&self, ids: &[crate::store::QueueId], work: impl Future<Output = T>) -> T {
        crate::renew::renewing(self.config.lease_for, work, move || async move {
            let renewed = self
                .store
                .renew_leases(&self.holder, ids, self.config.lease_for, Timestamp::now())
                .await;
            match renewed {
                Ok(held) if held.iter().all(|h| *h) => {}
                Ok(held) => tracing::warn!(
                    worker = %self.config.name,
                    lost = held.iter().filter(|h| !**h).count(),
                    "leases expired before renewal; those events may be handled twice"
                ),
                Err(e) => {
                    tracing::warn!(worker = %self.config.name, error = %e, "lease renewal failed");
                }
            }
        })
        .await
    }

    /// Settles through `op`, backing off from retryable store errors up to `store_retries`
    /// times: the work is done, so settling it is worth waiting for (an unsettled item is
    /// handled again when its lease expires).
    async fn persist<'a, T>(
        &self,
        op: impl Fn()
            -> std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<T>> + Send + 'a>>,
    ) -> StoreResult<T> {
        let mut errors = 0;
        loop {
            match op().await {
                Err(e) if e.is_retryable() && errors < self.config.store_retries => {
                    errors += 1;
                    tokio::time::sleep(self.store_backoff(errors, &e)).await;
                }
                result => return result,
            }
        }
    }

    /// Forgets processed keys past the retention; a failure is logged and tried again at the
    /// next prune (nothing is lost by pruning late).
    async fn prune_processed(&self) {
        let before = Timestamp::now().saturating_sub(to_time(self.config.processed_retention));
        match self.store.prune_processed(before).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(worker = %self.config.name, pruned = n, "forgot old processed keys");
            }
            Err(e) => {
                tracing::warn!(worker = %self.config.name, error = %e, "pruning processed keys failed");
            }
        }
    }

    fn store_backoff(&self, errors: u32, error: &crate::store::StoreError) -> Duration {
        self.health.store_error();
        let pause = self
            .config
            .idle_poll
            .max(Duration::from_millis(10))
            .saturating_mul(2_u32.saturating_pow(errors.saturating_sub(1).min(16)))
            .min(self.config.store_backoff_max);
        tracing::warn!(
            worker = %self.config.name,
            error = %error,
            consecutive = errors,
            pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            "store error; backing off"
        );
        pause
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
        self.persist(|| self.store.dead_letter_queued(event.id, &letter))
            .await?;
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
