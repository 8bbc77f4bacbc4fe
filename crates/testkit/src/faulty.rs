//! A [`Store`] wrapper that fails on demand: retryable errors (busy, disk full) or fatal
//! ones, on chosen operations, a number of times or until cleared. For reliability tests of
//! workers, intake and listing against any store.
//!
//! ```
//! # use std::sync::Arc;
//! # use cartograph_testkit::faulty::{Fault, FaultyStore};
//! # fn wrap(inner: Arc<dyn cartograph_sync::Store>) {
//! let store = Arc::new(FaultyStore::new(inner));
//! store.fail("lease", Fault::Busy, 3); // the next three leases answer "busy"
//! store.fail("*", Fault::Fatal, u32::MAX); // then everything fails for good
//! # }
//! ```

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use cartograph_model::Timestamp;
use cartograph_sync::store::{
    Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, Link, NewDeadLetter,
    NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary, RunTotals,
    Store, StoreError, StoreResult,
};

/// The error an injected fault answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The backend is busy or locked (retryable).
    Busy,
    /// The disk is full (retryable: space may be freed).
    DiskFull,
    /// An error retrying cannot fix (a read-only or broken database).
    Fatal,
}

impl Fault {
    fn error(self, op: &str) -> StoreError {
        match self {
            Self::Busy => StoreError::Unavailable(format!("injected: database is locked ({op})")),
            Self::DiskFull => {
                StoreError::Unavailable(format!("injected: database or disk is full ({op})"))
            }
            Self::Fatal => StoreError::Backend(format!(
                "injected: attempt to write a readonly database ({op})"
            )),
        }
    }
}

#[derive(Debug)]
struct Planned {
    op: &'static str,
    fault: Fault,
    remaining: u32,
}

/// Wraps a store and fails the operations it is told to.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    plan: Mutex<Vec<Planned>>,
    injected: AtomicU64,
}

impl std::fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStore")
            .field("injected", &self.injected())
            .finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// A wrapper that passes everything through until told otherwise.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            plan: Mutex::new(Vec::new()),
            injected: AtomicU64::new(0),
        }
    }

    /// Fails the next `times` calls of `op` (a [`Store`] method name, or `"*"` for any) with
    /// `fault`. Plans are checked in the order given.
    pub fn fail(&self, op: &'static str, fault: Fault, times: u32) {
        self.plan
            .lock()
            .expect("fault plan poisoned")
            .push(Planned {
                op,
                fault,
                remaining: times,
            });
    }

    /// Removes every planned fault.
    pub fn clear(&self) {
        self.plan.lock().expect("fault plan poisoned").clear();
    }

    /// Faults answered so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    fn check(&self, op: &str) -> StoreResult<()> {
        let mut plan = self.plan.lock().expect("fault plan poisoned");
        let Some(planned) = plan
            .iter_mut()
            .find(|p| p.remaining > 0 && (p.op == "*" || p.op == op))
        else {
            return Ok(());
        };
        planned.remaining -= 1;
        let fault = planned.fault;
        plan.retain(|p| p.remaining > 0);
        drop(plan);
        self.injected.fetch_add(1, Ordering::Relaxed);
        Err(fault.error(op))
    }
}

#[async_trait]
impl Store for FaultyStore {
    async fn checkpoint(&self, source: &str, stream: &str) -> StoreResult<Option<Checkpoint>> {
        self.check("checkpoint")?;
        self.inner.checkpoint(source, stream).await
    }

    async fn save_checkpoint(
        &self,
        source: &str,
        stream: &str,
        checkpoint: &Checkpoint,
    ) -> StoreResult<()> {
        self.check("save_checkpoint")?;
        self.inner.save_checkpoint(source, stream, checkpoint).await
    }

    async fn enqueue(&self, events: &[NewQueuedEvent]) -> StoreResult<Vec<EnqueueOutcome>> {
        self.check("enqueue")?;
        self.inner.enqueue(events).await
    }

    async fn lease(
        &self,
        worker: &str,
        limit: usize,
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<QueuedEvent>> {
        self.check("lease")?;
        self.inner.lease(worker, limit, lease_for, now).await
    }

    async fn complete(&self, ids: &[QueueId]) -> StoreResult<()> {
        self.check("complete")?;
        self.inner.complete(ids).await
    }

    async fn renew_leases(
        &self,
        worker: &str,
        ids: &[QueueId],
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        self.check("renew_leases")?;
        self.inner.renew_leases(worker, ids, lease_for, now).await
    }

    async fn retry_later(
        &self,
        id: QueueId,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> StoreResult<()> {
        self.check("retry_later")?;
        self.inner.retry_later(id, next_attempt_at, error).await
    }

    async fn defer(&self, id: QueueId, not_before: Timestamp, reason: &str) -> StoreResult<()> {
        self.check("defer")?;
        self.inner.defer(id, not_before, reason).await
    }

    async fn dead_letter_queued(
        &self,
        id: QueueId,
        letter: &NewDeadLetter,
    ) -> StoreResult<DeadLetterId> {
        self.check("dead_letter_queued")?;
        self.inner.dead_letter_queued(id, letter).await
    }

    async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats> {
        self.check("queue_stats")?;
        self.inner.queue_stats(now).await
    }

    async fn lock_subjects(
        &self,
        holder: &str,
        subjects: &[String],
        hold_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        self.check("lock_subjects")?;
        self.inner
            .lock_subjects(holder, subjects, hold_for, now)
            .await
    }

    async fn unlock_subjects(&self, holder: &str, subjects: &[String]) -> StoreResult<()> {
        self.check("unlock_subjects")?;
        self.inner.unlock_subjects(holder, subjects).await
    }

    async fn processed(&self, keys: &[String]) -> StoreResult<Vec<bool>> {
        self.check("processed")?;
        self.inner.processed(keys).await
    }

    async fn mark_processed(&self, keys: &[String], at: Timestamp) -> StoreResult<()> {
        self.check("mark_processed")?;
        self.inner.mark_processed(keys, at).await
    }

    async fn prune_processed(&self, before: Timestamp) -> StoreResult<u64> {
        self.check("prune_processed")?;
        self.inner.prune_processed(before).await
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<()> {
        self.check("save_links")?;
        self.inner.save_links(links).await
    }

    async fn load_links(&self) -> StoreResult<Vec<Link>> {
        self.check("load_links")?;
        self.inner.load_links().await
    }

    async fn crm_ids(&self, crm: &str, people: &[String]) -> StoreResult<Vec<Option<String>>> {
        self.check("crm_ids")?;
        self.inner.crm_ids(crm, people).await
    }

    async fn save_crm_ids(&self, crm: &str, ids: &[(String, String)]) -> StoreResult<()> {
        self.check("save_crm_ids")?;
        self.inner.save_crm_ids(crm, ids).await
    }

    async fn ledger_rows(&self, keys: &[String]) -> StoreResult<Vec<Option<String>>> {
        self.check("ledger_rows")?;
        self.inner.ledger_rows(keys).await
    }

    async fn save_ledger_rows(&self, states: &[(String, String)]) -> StoreResult<()> {
        self.check("save_ledger_rows")?;
        self.inner.save_ledger_rows(states).await
    }

    async fn property_hashes(
        &self,
        crm: &str,
        keys: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        self.check("property_hashes")?;
        self.inner.property_hashes(crm, keys).await
    }

    async fn save_property_hashes(
        &self,
        crm: &str,
        hashes: &[(String, String)],
    ) -> StoreResult<()> {
        self.check("save_property_hashes")?;
        self.inner.save_property_hashes(crm, hashes).await
    }

    async fn add_dead_letter(&self, letter: &NewDeadLetter) -> StoreResult<DeadLetterId> {
        self.check("add_dead_letter")?;
        self.inner.add_dead_letter(letter).await
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        self.check("dead_letters")?;
        self.inner.dead_letters(filter).await
    }

    async fn dead_letter(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        self.check("dead_letter")?;
        self.inner.dead_letter(id).await
    }

    async fn replay_dead_letter(&self, id: DeadLetterId, now: Timestamp) -> StoreResult<QueueId> {
        self.check("replay_dead_letter")?;
        self.inner.replay_dead_letter(id, now).await
    }

    async fn discard_dead_letter(&self, id: DeadLetterId) -> StoreResult<()> {
        self.check("discard_dead_letter")?;
        self.inner.discard_dead_letter(id).await
    }

    async fn dead_letter_count(&self) -> StoreResult<u64> {
        self.check("dead_letter_count")?;
        self.inner.dead_letter_count().await
    }

    async fn start_run(&self, mode: &str, at: Timestamp) -> StoreResult<RunId> {
        self.check("start_run")?;
        self.inner.start_run(mode, at).await
    }

    async fn log_records(&self, run: RunId, records: &[RecordLog]) -> StoreResult<()> {
        self.check("log_records")?;
        self.inner.log_records(run, records).await
    }

    async fn finish_run(&self, run: RunId, totals: &RunTotals, at: Timestamp) -> StoreResult<()> {
        self.check("finish_run")?;
        self.inner.finish_run(run, totals, at).await
    }

    async fn run(&self, run: RunId) -> StoreResult<Option<RunSummary>> {
        self.check("run")?;
        self.inner.run(run).await
    }

    async fn run_records(&self, run: RunId, limit: u32) -> StoreResult<Vec<RecordLog>> {
        self.check("run_records")?;
        self.inner.run_records(run, limit).await
    }

    async fn wait_for_work(&self, at_most: Duration) {
        self.inner.wait_for_work(at_most).await;
    }
}
