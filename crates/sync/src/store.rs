//! The durable state a pipeline needs, behind one trait.
//!
//! A [`Store`] keeps checkpoints per source and stream, the inbound event queue (with leases,
//! attempts and next-attempt times), processed-event keys for de-duplication, identity links,
//! CRM record ids per person, metrics state per customer, mapped-property hashes per CRM record,
//! dead letters, and the run log. `cartograph-store-sqlite` is the embedded default; the
//! conformance suite in `cartograph-testkit` holds every implementation to the same contract.
//!
//! Payloads (queued events, dead letters, metrics state) are JSON text: the store never needs
//! to understand them, and the pipeline owns their schema.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use cartograph_model::Timestamp;
use serde::{Deserialize, Serialize};

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend is busy or temporarily unavailable; retrying may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The record asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Stored data could not be read back (bad JSON, unknown enum value).
    #[error("corrupt stored data in {what}: {reason}")]
    Corrupt {
        /// Which table or record.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// The store was closed or its worker stopped.
    #[error("store closed")]
    Closed,
    /// Any other backend error.
    #[error("store backend error: {0}")]
    Backend(String),
}

impl StoreError {
    /// Whether retrying the same call may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The result type of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Where a listing stream got to: the high-water mark of modification times seen, and the
/// cursor of the page to continue from (a backfill in progress).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Newest modification time fully processed (delta syncs start here minus an overlap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Cursor of the next page, when a listing is in progress (backfill resume point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Whether the backfill of this stream has completed.
    #[serde(default)]
    pub backfill_done: bool,
    /// When the checkpoint was saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved_at: Option<Timestamp>,
}

/// Id of a queued event, assigned by the store.
pub type QueueId = i64;

/// An event to put on the inbound queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewQueuedEvent {
    /// De-duplication key (webhook hash, event id, or resource id plus version). An event
    /// whose key is already queued or was already processed is not queued again.
    pub key: String,
    /// The source system that produced it (a connector name).
    pub source: String,
    /// What the payload is (e.g. `commerce_notification`, `crm_event`, `commerce_event`).
    pub kind: String,
    /// The payload, JSON text.
    pub payload: String,
    /// Earliest time to process it.
    pub not_before: Timestamp,
}

impl NewQueuedEvent {
    /// The queued form of a work item from `source`: the item's kind and its JSON payload
    /// (what workers decode), due at `not_before`. Intake and the lister's retries both build
    /// their events with it.
    ///
    /// # Errors
    /// When the item does not encode as JSON.
    pub fn for_item(
        key: impl Into<String>,
        source: impl Into<String>,
        item: &crate::WorkItem,
        not_before: Timestamp,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            key: key.into(),
            source: source.into(),
            kind: item.kind().to_owned(),
            payload: serde_json::to_string(item)?,
            not_before,
        })
    }
}

/// What [`Store::enqueue`] did with one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnqueueOutcome {
    /// Queued under this id.
    Queued(QueueId),
    /// Already queued or already processed: nothing was added.
    Duplicate,
}

/// An event taken from the queue under a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    /// Store id.
    pub id: QueueId,
    /// De-duplication key.
    pub key: String,
    /// Source system.
    pub source: String,
    /// Payload kind.
    pub kind: String,
    /// Payload, JSON text.
    pub payload: String,
    /// How many times it has been leased, including this lease.
    pub attempts: u32,
    /// When it was enqueued.
    pub enqueued_at: Timestamp,
    /// Until when this lease holds; after that another worker may take it.
    pub lease_until: Timestamp,
    /// The last error recorded for it, if it was retried before.
    pub last_error: Option<String>,
}

/// Queue depth figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Events ready now (not leased, due).
    pub ready: u64,
    /// Events under a live lease.
    pub leased: u64,
    /// Events waiting for a later attempt time.
    pub delayed: u64,
}

impl QueueStats {
    /// All events in the queue.
    pub fn total(&self) -> u64 {
        self.ready + self.leased + self.delayed
    }
}

/// Id of a dead letter.
pub type DeadLetterId = i64;

/// A record that could not be processed, to be parked with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeadLetter {
    /// The record it concerns (a `SourceRef` as text, or an input key).
    pub record: String,
    /// Pipeline stage that failed (`intake`, `hydrate`, `resolve`, `map`, `write`, ...).
    pub stage: String,
    /// The error kind (`ErrorKind::as_str`, or a core error name).
    pub error_kind: String,
    /// The error message (never secrets).
    pub message: String,
    /// Attempts made before giving up.
    pub attempts: u32,
    /// Payload kind, so a replay can re-queue it.
    pub payload_kind: String,
    /// The payload, JSON text.
    pub payload: String,
    /// Source system.
    pub source: String,
    /// When it failed.
    pub at: Timestamp,
}

/// A parked record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Store id.
    pub id: DeadLetterId,
    /// The record it concerns.
    pub record: String,
    /// Stage that failed.
    pub stage: String,
    /// Error kind.
    pub error_kind: String,
    /// Last error message.
    pub message: String,
    /// Attempts over all failures.
    pub attempts: u32,
    /// Payload kind.
    pub payload_kind: String,
    /// Payload, JSON text.
    pub payload: String,
    /// Source system.
    pub source: String,
    /// First failure.
    pub first_seen: Timestamp,
    /// Latest failure.
    pub last_seen: Timestamp,
}

/// Which dead letters to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterFilter {
    /// Only this stage.
    pub stage: Option<String>,
    /// Only this error kind.
    pub error_kind: Option<String>,
    /// Only ids greater than this (paging).
    pub after_id: Option<DeadLetterId>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

/// A record resolved to a person: the identity link the pipeline persists so the identity
/// index can be rebuilt after a restart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Link {
    /// The record's system.
    pub system: String,
    /// The record's id in that system (e.g. `customer/7` or `order/100`).
    pub external_id: String,
    /// The person it belongs to.
    pub person: String,
    /// The identity record as last seen (JSON text), for rebuilding the index.
    pub record: String,
}

/// Id of a run in the run log.
pub type RunId = i64;

/// Totals of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunTotals {
    /// Records read from sources.
    pub read: u64,
    /// Records written (created or updated).
    pub written: u64,
    /// Records skipped because nothing changed.
    pub unchanged: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Retries made.
    pub retried: u64,
    /// Rate-limit answers seen.
    pub rate_limited: u64,
}

/// One line of the per-record log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLog {
    /// The record.
    pub record: String,
    /// Stage.
    pub stage: String,
    /// Outcome (`created`, `updated`, `unchanged`, `skipped`, `dead_lettered`, ...).
    pub outcome: String,
    /// Detail (an id, an error message).
    pub detail: String,
    /// When.
    pub at: Timestamp,
}

/// A run as the log knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Id.
    pub id: RunId,
    /// Mode (`backfill`, `delta`, `worker`, ...).
    pub mode: String,
    /// Start time.
    pub started_at: Timestamp,
    /// End time, when finished.
    pub finished_at: Option<Timestamp>,
    /// Totals (final when finished).
    pub totals: RunTotals,
}

/// Everything one engine batch persists once its CRM writes settled, saved in ONE
/// transaction by [`Store::save_batch`]: a page of a backfill costs one commit, not one per
/// kind of row (or per record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchState {
    /// The CRM the hashes and record ids belong to.
    pub crm: String,
    /// Identity links (as [`Store::save_links`]).
    pub links: Vec<Link>,
    /// Records parked for review (as [`Store::add_dead_letter`]).
    pub dead_letters: Vec<NewDeadLetter>,
    /// Key-value metrics rows: order owners and person ledgers (as
    /// [`Store::save_ledger_rows`]).
    pub ledger_rows: Vec<(String, String)>,
    /// Mapped-property hashes of `crm` (as [`Store::save_property_hashes`]).
    pub property_hashes: Vec<(String, String)>,
    /// CRM record ids of `crm` (as [`Store::save_crm_ids`]).
    pub crm_ids: Vec<(String, String)>,
}

impl BatchState {
    /// Whether there is nothing to save.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
            && self.dead_letters.is_empty()
            && self.ledger_rows.is_empty()
            && self.property_hashes.is_empty()
            && self.crm_ids.is_empty()
    }
}

/// Durable state for pipelines. Object-safe; used as `Arc<dyn Store>`.
///
/// Every method is atomic: it either fully happens or not at all. Implementations must be
/// safe to call from many tasks at once, and two workers must never hold a lease on the same
/// queued event at the same time.
#[async_trait]
pub trait Store: Send + Sync {
    // ---- checkpoints ----

    /// The checkpoint of `stream` of `source`, if any.
    async fn checkpoint(&self, source: &str, stream: &str) -> StoreResult<Option<Checkpoint>>;

    /// Saves the checkpoint of `stream` of `source`.
    async fn save_checkpoint(
        &self,
        source: &str,
        stream: &str,
        checkpoint: &Checkpoint,
    ) -> StoreResult<()>;

    // ---- inbound queue ----

    /// Queues events, skipping any whose key is already queued or processed; one outcome per
    /// input, in order. When this returns, queued events are durable.
    async fn enqueue(&self, events: &[NewQueuedEvent]) -> StoreResult<Vec<EnqueueOutcome>>;

    /// Leases up to `limit` due events (oldest first) to `worker` until `now + lease_for`.
    /// Each lease increments the event's attempt count.
    async fn lease(
        &self,
        worker: &str,
        limit: usize,
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<QueuedEvent>>;

    /// Removes finished events from the queue and records their keys as processed.
    async fn complete(&self, ids: &[QueueId]) -> StoreResult<()>;

    /// Extends `worker`'s leases on `ids` to `now + lease_for`, for a batch still being
    /// worked on; one answer per id: `false` when the lease was no longer `worker`'s (it
    /// expired and may have been taken by another), which the worker cannot undo.
    async fn renew_leases(
        &self,
        worker: &str,
        ids: &[QueueId],
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>>;

    /// Releases an event for another attempt at `next_attempt_at`, recording the error.
    async fn retry_later(
        &self,
        id: QueueId,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> StoreResult<()>;

    /// Releases an event to be tried again at `not_before` **without** counting this lease as
    /// an attempt (the lease's increment is undone): for items that were not tried at all
    /// (their subject was locked by another worker) or that wait on a long-window quota.
    async fn defer(&self, id: QueueId, not_before: Timestamp, reason: &str) -> StoreResult<()>;

    /// Moves a queued event to the dead letters (it is not marked processed, so a replay or a
    /// redelivery can bring it back).
    async fn dead_letter_queued(
        &self,
        id: QueueId,
        letter: &NewDeadLetter,
    ) -> StoreResult<DeadLetterId>;

    /// Queue depth at `now`.
    async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats>;

    // ---- subject locks (per-person serialization) ----

    /// Takes the exclusive lock of each subject (a person) for `holder` until
    /// `now + hold_for`, atomically per subject: one flag per input, in order, `true` when
    /// `holder` now holds it. A subject held by another holder whose lock has not expired is
    /// not taken; a lock `holder` already holds is renewed. Two holders never hold one subject
    /// at the same time, across processes sharing the store. A holder that dies releases its
    /// locks when they expire.
    async fn lock_subjects(
        &self,
        holder: &str,
        subjects: &[String],
        hold_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>>;

    /// Releases the locks `holder` holds on `subjects` (others' locks are left alone).
    async fn unlock_subjects(&self, holder: &str, subjects: &[String]) -> StoreResult<()>;

    // ---- processed keys ----

    /// For each key, whether it was already processed.
    async fn processed(&self, keys: &[String]) -> StoreResult<Vec<bool>>;

    /// Records keys as processed (idempotent).
    async fn mark_processed(&self, keys: &[String], at: Timestamp) -> StoreResult<()>;

    /// Forgets keys processed before `before`; returns how many. Past the vendors' retry
    /// windows a redelivery cannot come, so the dedupe table need not grow forever.
    async fn prune_processed(&self, before: Timestamp) -> StoreResult<u64>;

    // ---- identity links and CRM record ids ----

    /// Links records to people; replaces earlier links of the same (`system`, external id).
    async fn save_links(&self, links: &[Link]) -> StoreResult<()>;

    /// Every stored link, ordered by system and external id, to rebuild an identity index.
    async fn load_links(&self) -> StoreResult<Vec<Link>>;

    /// The CRM record ids of people in `crm`; one answer per person, in order.
    async fn crm_ids(&self, crm: &str, people: &[String]) -> StoreResult<Vec<Option<String>>>;

    /// Saves CRM record ids as (person id, CRM record id) for `crm`.
    async fn save_crm_ids(&self, crm: &str, ids: &[(String, String)]) -> StoreResult<()>;

    // ---- metrics state ----

    /// Metrics state (JSON text) per customer key; one answer per key, in order.
    async fn ledger_rows(&self, keys: &[String]) -> StoreResult<Vec<Option<String>>>;

    /// Saves metrics state (JSON text) per customer key.
    async fn save_ledger_rows(&self, states: &[(String, String)]) -> StoreResult<()>;

    // ---- mapped-property hashes (skip unchanged, recognise echoes) ----

    /// The last written property hash per record key in `crm`; one answer per key, in order.
    async fn property_hashes(&self, crm: &str, keys: &[String])
    -> StoreResult<Vec<Option<String>>>;

    /// Saves property hashes as (record key, hash) for `crm`.
    async fn save_property_hashes(&self, crm: &str, hashes: &[(String, String)])
    -> StoreResult<()>;

    // ---- one batch's state ----

    /// Saves one engine batch's state: links, review dead letters, ledger rows, property
    /// hashes and CRM ids, with the semantics of the single-kind methods, in that order.
    /// Implementations should do it in one transaction (all or nothing); the default runs
    /// the single-kind methods one after another, so a failure part-way leaves the earlier
    /// kinds saved (each of them is idempotent, and the engine retries the batch).
    async fn save_batch(&self, batch: &BatchState) -> StoreResult<()> {
        self.save_links(&batch.links).await?;
        for letter in &batch.dead_letters {
            self.add_dead_letter(letter).await?;
        }
        self.save_ledger_rows(&batch.ledger_rows).await?;
        self.save_property_hashes(&batch.crm, &batch.property_hashes)
            .await?;
        self.save_crm_ids(&batch.crm, &batch.crm_ids).await
    }

    // ---- dead letters ----

    /// Parks a record. A letter for the same record and stage that is still parked is
    /// updated instead (attempts added, last seen and message replaced).
    async fn add_dead_letter(&self, letter: &NewDeadLetter) -> StoreResult<DeadLetterId>;

    /// Parked records matching `filter`, by id.
    async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>>;

    /// One parked record.
    async fn dead_letter(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>>;

    /// Re-queues a parked record's payload (due `now`) and removes the letter.
    async fn replay_dead_letter(&self, id: DeadLetterId, now: Timestamp) -> StoreResult<QueueId>;

    /// Drops a parked record for good.
    async fn discard_dead_letter(&self, id: DeadLetterId) -> StoreResult<()>;

    /// How many records are parked.
    async fn dead_letter_count(&self) -> StoreResult<u64>;

    // ---- run log ----

    /// Opens a run.
    async fn start_run(&self, mode: &str, at: Timestamp) -> StoreResult<RunId>;

    /// Appends per-record lines to a run.
    async fn log_records(&self, run: RunId, records: &[RecordLog]) -> StoreResult<()>;

    /// Closes a run with its totals.
    async fn finish_run(&self, run: RunId, totals: &RunTotals, at: Timestamp) -> StoreResult<()>;

    /// One run.
    async fn run(&self, run: RunId) -> StoreResult<Option<RunSummary>>;

    /// The per-record lines of a run, oldest first, at most `limit`.
    async fn run_records(&self, run: RunId, limit: u32) -> StoreResult<Vec<RecordLog>>;

    // ---- idle workers ----

    /// Waits until new work may have arrived or `at_most` has passed, whichever is first; an
    /// idle worker calls it between empty leases. The default sleeps `at_most` (polling).
    /// A store that hears about new events (PostgreSQL's `LISTEN`/`NOTIFY`) returns as soon
    /// as one is queued, so idle workers wake at once without polling hot. Returning early
    /// is always allowed: the caller simply leases again.
    async fn wait_for_work(&self, at_most: Duration) {
        tokio::time::sleep(at_most).await;
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.since, &self.cursor) {
            (Some(since), Some(cursor)) => write!(f, "since {since}, at cursor {cursor}"),
            (Some(since), None) => write!(f, "since {since}"),
            (None, Some(cursor)) => write!(f, "at cursor {cursor}"),
            (None, None) => f.write_str("from the start"),
        }
    }
}

#[cfg(test)]
mod tests {
    use cartograph_connector::{NotificationKind, WebhookNotification};
    use cartograph_model::{RecordKind, SourceRef};

    use super::NewQueuedEvent;
    use crate::WorkItem;

    #[test]
    fn queued_form_of_an_item_decodes_back_to_it_under_its_kind() {
        let at = cartograph_model::Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
        let item = WorkItem::CommerceNotification {
            notification: WebhookNotification {
                id: "hash-1".into(),
                source: SourceRef::new("shop", RecordKind::Order, "100"),
                topic: "store/order/created".into(),
                kind: NotificationKind::Created,
                occurred_at: at,
            },
        };
        let event = NewQueuedEvent::for_item("hash-1", "shop", &item, at).unwrap();
        assert_eq!(event.key, "hash-1");
        assert_eq!(event.source, "shop");
        assert_eq!(event.kind, "commerce_notification");
        assert_eq!(event.not_before, at);
        // What the worker does with the payload.
        let decoded: WorkItem = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(decoded, item);
    }
}
