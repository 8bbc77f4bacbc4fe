#![doc = include_str!("../README.md")]

mod config;
mod error;
mod intake;
mod listen;
mod ops;
mod quota;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cartograph_model::Timestamp;
use cartograph_sync::{
    BatchState, Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, Link,
    NewDeadLetter, NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary,
    RunTotals, Store, StoreError, StoreResult,
};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::NoTls;

pub use config::{ConnectionString, PgConfig};
pub use quota::{DEFAULT_MARGIN, QuotaGate, SharedQuota};
pub use schema::SCHEMA_VERSION;

use crate::intake::{GroupSettings, Job};
use crate::listen::Wake;
use crate::ops::{Keyed, OpResult};

/// A [`Store`] on PostgreSQL, for many workers on many machines sharing one queue.
///
/// * Leases take due events with `SELECT ... FOR UPDATE SKIP LOCKED`, in batches, so workers
///   never wait on each other and never hold one event at once; an expired lease (a worker
///   that died) makes the event due again, with its attempt counted.
/// * Intake is group-committed: concurrent [`Store::enqueue`] calls share one transaction.
/// * Every enqueue notifies the store's channel; [`Store::wait_for_work`] returns on it, so
///   idle workers wake at once instead of polling.
/// * Subject locks serialize each person across workers and machines.
/// * [`PgStore::quota`] shares a vendor account's request budget between all workers.
///
/// Statements rolled back by a serialization failure or a deadlock are retried at once (a
/// few times); other transient failures come back as [`StoreError::Unavailable`].
pub struct PgStore {
    pool: Pool,
    intake: mpsc::Sender<Job>,
    wake: Arc<Wake>,
    channel: String,
    schema: String,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .field("listening", &self.listener.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}

/// Runs an operation on a pooled connection, again (up to four times) when PostgreSQL rolled
/// it back because of a concurrent transaction.
macro_rules! on_conn {
    ($self:ident, |$c:ident| $body:expr) => {{
        let mut tries = 0_u32;
        loop {
            #[allow(unused_mut)]
            let mut $c = $self.conn().await?;
            let result: OpResult<_> = $body.await;
            match result {
                Err(ops::Fail::Pg(e)) if error::is_conflict(&e) && tries < 4 => {
                    tries += 1;
                    tracing::debug!(error = %e, tries, "postgres conflict, running again");
                }
                other => break other.map_err(ops::Fail::into_store),
            }
        }
    }};
}

impl PgStore {
    /// Connects to the database at `url` with default settings, creating and migrating the
    /// `cartograph` schema as needed.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached; [`StoreError::Backend`]
    /// for a bad connection string, refused credentials or a failed migration.
    pub async fn connect(url: impl Into<String>) -> StoreResult<Self> {
        Self::open(&PgConfig::new(url)).await
    }

    /// Connects with explicit settings (see [`PgConfig`]).
    ///
    /// ```no_run
    /// use cartograph_store_postgres::{PgConfig, PgStore};
    ///
    /// # async fn demo() -> cartograph_sync::StoreResult<()> {
    /// let store = PgStore::open(
    ///     &PgConfig::new("host=/run/postgresql dbname=cartograph").with_pool_size(16),
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn open(config: &PgConfig) -> StoreResult<Self> {
        config.validate()?;
        let mut driver = config.url.parse()?;
        driver
            .application_name("cartograph")
            .connect_timeout(config.connect_timeout)
            .options(format!("-c search_path={}", config.schema));
        let listen_config = driver.clone();
        {
            let (mut client, connection) =
                driver.connect(NoTls).await.map_err(|e| error::pg(&e))?;
            let conn_task = tokio::spawn(connection);
            let migrated = schema::migrate(&mut client, &config.schema).await;
            drop(client);
            let _ = conn_task.await;
            migrated?;
        }
        let manager = Manager::from_config(
            driver,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.connect_timeout))
            .create_timeout(Some(config.connect_timeout))
            .build()
            .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))?;
        let channel = format!("cartograph_{}", config.schema);
        let (intake, jobs) = mpsc::channel(config.max_group.saturating_mul(4).max(64));
        tokio::spawn(intake::run(
            pool.clone(),
            jobs,
            GroupSettings {
                window: config.group_window,
                max_group: config.max_group,
                lanes: config.commit_lanes,
                channel: channel.clone(),
            },
        ));
        let wake = Arc::new(Wake::new());
        let listener = config.listen.then(|| {
            tokio::spawn(listen::run(
                listen_config,
                channel.clone(),
                Arc::clone(&wake),
            ))
        });
        tracing::debug!(schema = %config.schema, "postgres store opened");
        Ok(Self {
            pool,
            intake,
            wake,
            channel,
            schema: config.schema.clone(),
            listener,
        })
    }

    /// The schema holding this store's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The request budgets shared through this database, one per vendor account (see
    /// [`SharedQuota`]).
    pub fn quota(&self) -> SharedQuota {
        SharedQuota::new(self.pool.clone())
    }

    async fn conn(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| error::pool(&e))
    }
}

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

#[async_trait]
impl Store for PgStore {
    async fn checkpoint(&self, source: &str, stream: &str) -> StoreResult<Option<Checkpoint>> {
        on_conn!(self, |c| ops::checkpoint(&c, source, stream))
    }

    async fn save_checkpoint(
        &self,
        source: &str,
        stream: &str,
        checkpoint: &Checkpoint,
    ) -> StoreResult<()> {
        on_conn!(self, |c| ops::save_checkpoint(
            &c, source, stream, checkpoint
        ))
    }

    async fn enqueue(&self, events: &[NewQueuedEvent]) -> StoreResult<Vec<EnqueueOutcome>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.intake
            .send(Job {
                events: events.to_vec(),
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn lease(
        &self,
        worker: &str,
        limit: usize,
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<QueuedEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::lease(&c, worker, limit, lease_for, now))
    }

    async fn renew_leases(
        &self,
        worker: &str,
        ids: &[QueueId],
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::renew_leases(&c, worker, ids, lease_for, now))
    }

    async fn complete(&self, ids: &[QueueId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let at = now_ms();
        on_conn!(self, |c| ops::complete(&c, ids, at))
    }

    async fn retry_later(
        &self,
        id: QueueId,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> StoreResult<()> {
        let next = next_attempt_at.unix_millis();
        on_conn!(self, |c| ops::retry_later(&c, id, next, error))
    }

    async fn defer(&self, id: QueueId, not_before: Timestamp, reason: &str) -> StoreResult<()> {
        let next = not_before.unix_millis();
        on_conn!(self, |c| ops::defer(&c, id, next, reason))
    }

    async fn dead_letter_queued(
        &self,
        id: QueueId,
        letter: &NewDeadLetter,
    ) -> StoreResult<DeadLetterId> {
        on_conn!(self, |c| ops::dead_letter_queued(&mut c, id, letter))
    }

    async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats> {
        let now = now.unix_millis();
        on_conn!(self, |c| ops::queue_stats(&c, now))
    }

    async fn lock_subjects(
        &self,
        holder: &str,
        subjects: &[String],
        hold_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::lock_subjects(
            &c, holder, subjects, hold_for, now
        ))
    }

    async fn unlock_subjects(&self, holder: &str, subjects: &[String]) -> StoreResult<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::unlock_subjects(&c, holder, subjects))
    }

    async fn processed(&self, keys: &[String]) -> StoreResult<Vec<bool>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::processed(&c, keys))
    }

    async fn mark_processed(&self, keys: &[String], at: Timestamp) -> StoreResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let at = at.unix_millis();
        on_conn!(self, |c| ops::mark_processed(&c, keys, at))
    }

    async fn prune_processed(&self, before: Timestamp) -> StoreResult<u64> {
        let before = before.unix_millis();
        on_conn!(self, |c| ops::prune_processed(&c, before))
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<()> {
        if links.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::save_links(&c, links))
    }

    async fn load_links(&self) -> StoreResult<Vec<Link>> {
        on_conn!(self, |c| ops::load_links(&c))
    }

    async fn crm_ids(&self, crm: &str, people: &[String]) -> StoreResult<Vec<Option<String>>> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::get_values(
            &c,
            Keyed::CrmIds,
            Some(crm),
            people
        ))
    }

    async fn save_crm_ids(&self, crm: &str, ids: &[(String, String)]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::put_pairs(&c, Keyed::CrmIds, Some(crm), ids))
    }

    async fn ledger_rows(&self, keys: &[String]) -> StoreResult<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::get_values(&c, Keyed::Metrics, None, keys))
    }

    async fn save_ledger_rows(&self, states: &[(String, String)]) -> StoreResult<()> {
        if states.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::put_pairs(&c, Keyed::Metrics, None, states))
    }

    async fn property_hashes(
        &self,
        crm: &str,
        keys: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        on_conn!(self, |c| ops::get_values(
            &c,
            Keyed::PropertyHashes,
            Some(crm),
            keys
        ))
    }

    async fn save_property_hashes(
        &self,
        crm: &str,
        hashes: &[(String, String)],
    ) -> StoreResult<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::put_pairs(
            &c,
            Keyed::PropertyHashes,
            Some(crm),
            hashes
        ))
    }

    async fn save_batch(&self, batch: &BatchState) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::save_batch(&mut c, batch))
    }

    async fn add_dead_letter(&self, letter: &NewDeadLetter) -> StoreResult<DeadLetterId> {
        on_conn!(self, |c| ops::add_dead_letter(&c, letter))
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        on_conn!(self, |c| ops::dead_letters(&c, filter))
    }

    async fn dead_letter(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        on_conn!(self, |c| ops::dead_letter(&c, id))
    }

    async fn replay_dead_letter(&self, id: DeadLetterId, now: Timestamp) -> StoreResult<QueueId> {
        let now = now.unix_millis();
        let channel = self.channel.as_str();
        on_conn!(self, |c| ops::replay_dead_letter(&mut c, id, now, channel))
    }

    async fn discard_dead_letter(&self, id: DeadLetterId) -> StoreResult<()> {
        on_conn!(self, |c| ops::discard_dead_letter(&c, id))
    }

    async fn dead_letter_count(&self) -> StoreResult<u64> {
        on_conn!(self, |c| ops::dead_letter_count(&c))
    }

    async fn start_run(&self, mode: &str, at: Timestamp) -> StoreResult<RunId> {
        let at = at.unix_millis();
        on_conn!(self, |c| ops::start_run(&c, mode, at))
    }

    async fn log_records(&self, run: RunId, records: &[RecordLog]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        on_conn!(self, |c| ops::log_records(&c, run, records))
    }

    async fn finish_run(&self, run: RunId, totals: &RunTotals, at: Timestamp) -> StoreResult<()> {
        let at = at.unix_millis();
        on_conn!(self, |c| ops::finish_run(&c, run, totals, at))
    }

    async fn run(&self, run: RunId) -> StoreResult<Option<RunSummary>> {
        on_conn!(self, |c| ops::run(&c, run))
    }

    async fn run_records(&self, run: RunId, limit: u32) -> StoreResult<Vec<RecordLog>> {
        on_conn!(self, |c| ops::run_records(&c, run, limit))
    }

    async fn wait_for_work(&self, at_most: Duration) {
        if self.listener.is_some() {
            self.wake.wait(at_most).await;
        } else {
            tokio::time::sleep(at_most).await;
        }
    }
}
