#![doc = include_str!("../README.md")]

mod ops;
mod reader;
mod schema;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use cartograph_model::Timestamp;
use cartograph_sync::{
    BatchState, Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, Link,
    NewDeadLetter, NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary,
    RunTotals, Store, StoreError, StoreResult,
};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

pub use schema::SCHEMA_VERSION;

use crate::reader::Reader;
use crate::writer::Writer;

/// How hard SQLite syncs to disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// `synchronous = FULL`: every commit is on disk before it returns; survives power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL` (WAL): survives a process crash; the last commits may be lost on
    /// power loss. Faster.
    Normal,
}

/// Settings for [`SqliteStore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqliteConfig {
    /// Database file (created if missing).
    pub path: PathBuf,
    /// Disk sync level.
    #[serde(default)]
    pub durability: Durability,
    /// How long a connection waits for another process's lock before giving up.
    #[serde(
        default = "default_busy_timeout",
        with = "cartograph_connector::serde_millis"
    )]
    pub busy_timeout: Duration,
    /// How long the writer waits for more work to join a group commit once it has some.
    /// Zero commits whatever is already waiting without delay.
    #[serde(
        default = "default_group_window",
        with = "cartograph_connector::serde_millis"
    )]
    pub group_window: Duration,
    /// Most operations in one group commit.
    #[serde(default = "default_max_group")]
    pub max_group: usize,
    /// What is checked at open before anything is acknowledged into the file.
    #[serde(default)]
    pub integrity: IntegrityCheck,
}

/// The integrity check run when a store is opened: a damaged file refuses to open, so intake
/// never acknowledges events into a file workers cannot read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityCheck {
    /// `PRAGMA quick_check`: every page and record format, without index cross-checks
    /// (linear in the file size; the default).
    #[default]
    Quick,
    /// `PRAGMA integrity_check`: also verifies that indexes match their tables (slower).
    Full,
    /// No check (a host that runs its own, e.g. on a huge file at a quiet hour).
    Skip,
}

fn default_busy_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_group_window() -> Duration {
    Duration::from_millis(1)
}

fn default_max_group() -> usize {
    512
}

impl SqliteConfig {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::default(),
            busy_timeout: default_busy_timeout(),
            group_window: default_group_window(),
            max_group: default_max_group(),
            integrity: IntegrityCheck::default(),
        }
    }
}

/// The embedded default [`Store`]: one SQLite file in WAL mode, migrated on open, written by a
/// single thread that commits operations in groups.
pub struct SqliteStore {
    // Field order is drop order: readers close before the writer's final checkpoint.
    reader: Reader,
    writer: Writer,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the database at `path` with default settings.
    ///
    /// Opening does blocking file I/O; it is quick, but call it outside hot async paths.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with(&SqliteConfig::new(path.as_ref()))
    }

    /// Opens with explicit settings.
    pub fn open_with(config: &SqliteConfig) -> StoreResult<Self> {
        let mut conn = Connection::open_with_flags(
            &config.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| ops::db(&e))?;
        conn.busy_timeout(config.busy_timeout)
            .map_err(|e| ops::db(&e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| ops::db(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "could not switch {} to WAL (journal mode is {mode})",
                config.path.display()
            )));
        }
        let sync = match config.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)
            .map_err(|e| ops::db(&e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| ops::db(&e))?;
        conn.set_prepared_statement_cache_capacity(64);
        check_integrity(&conn, config)?;
        schema::migrate(&mut conn)?;
        let writer = Writer::spawn(conn, config.group_window, config.max_group)?;
        let readers = (0..READERS)
            .map(|_| open_reader(config))
            .collect::<StoreResult<Vec<_>>>()?;
        let reader = Reader::spawn(readers)?;
        tracing::debug!(path = %config.path.display(), "sqlite store opened");
        Ok(Self {
            reader,
            writer,
            path: config.path.clone(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Read-only connections beside the writer (the keyed reads of workers' batches).
const READERS: usize = 2;

fn open_reader(config: &SqliteConfig) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        &config.path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| ops::db(&e))?;
    conn.busy_timeout(config.busy_timeout)
        .map_err(|e| ops::db(&e))?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// Runs the configured check; a damaged file is [`StoreError::Corrupt`] naming the file and
/// the first problems SQLite reports.
fn check_integrity(conn: &Connection, config: &SqliteConfig) -> StoreResult<()> {
    let pragma = match config.integrity {
        IntegrityCheck::Quick => "PRAGMA quick_check(5)",
        IntegrityCheck::Full => "PRAGMA integrity_check(5)",
        IntegrityCheck::Skip => return Ok(()),
    };
    let corrupt = |reason: String| StoreError::Corrupt {
        what: config.path.display().to_string(),
        reason,
    };
    let mut statement = conn.prepare(pragma).map_err(|e| corrupt(e.to_string()))?;
    let rows: Vec<String> = statement
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(Iterator::collect)
        .map_err(|e| corrupt(e.to_string()))?;
    if rows.len() == 1 && rows[0] == "ok" {
        return Ok(());
    }
    tracing::error!(path = %config.path.display(), problems = ?rows, "sqlite store is damaged");
    Err(corrupt(format!(
        "integrity check failed (restore from a backup): {}",
        rows.join("; ")
    )))
}

fn now_ms() -> i64 {
    Timestamp::now().unix_millis()
}

const PUT_CRM_ID: &str = "INSERT INTO crm_ids (crm, person, crm_id) VALUES (?1, ?2, ?3)
     ON CONFLICT (crm, person) DO UPDATE SET crm_id = excluded.crm_id";
const GET_CRM_ID: &str = "SELECT crm_id FROM crm_ids WHERE crm = ?1 AND person = ?2";
const PUT_METRICS: &str = "INSERT INTO metrics (key, state) VALUES (?1, ?2)
     ON CONFLICT (key) DO UPDATE SET state = excluded.state";
const GET_METRICS: &str = "SELECT state FROM metrics WHERE key = ?1";
const PUT_HASH: &str = "INSERT INTO property_hashes (crm, key, hash) VALUES (?1, ?2, ?3)
     ON CONFLICT (crm, key) DO UPDATE SET hash = excluded.hash";
const GET_HASH: &str = "SELECT hash FROM property_hashes WHERE crm = ?1 AND key = ?2";

#[async_trait]
impl Store for SqliteStore {
    async fn checkpoint(&self, source: &str, stream: &str) -> StoreResult<Option<Checkpoint>> {
        let (source, stream) = (source.to_owned(), stream.to_owned());
        self.writer
            .call(move |c| ops::checkpoint(c, &source, &stream))
            .await
    }

    async fn save_checkpoint(
        &self,
        source: &str,
        stream: &str,
        checkpoint: &Checkpoint,
    ) -> StoreResult<()> {
        let (source, stream, cp) = (source.to_owned(), stream.to_owned(), checkpoint.clone());
        self.writer
            .call(move |c| ops::save_checkpoint(c, &source, &stream, &cp))
            .await
    }

    async fn enqueue(&self, events: &[NewQueuedEvent]) -> StoreResult<Vec<EnqueueOutcome>> {
        let events = events.to_vec();
        self.writer
            .call(move |c| ops::enqueue(c, &events, now_ms()))
            .await
    }

    async fn renew_leases(
        &self,
        worker: &str,
        ids: &[QueueId],
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<bool>> {
        let (worker, ids) = (worker.to_owned(), ids.to_vec());
        self.writer
            .call(move |c| ops::renew_leases(c, &worker, &ids, lease_for, now))
            .await
    }

    async fn lease(
        &self,
        worker: &str,
        limit: usize,
        lease_for: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<QueuedEvent>> {
        let worker = worker.to_owned();
        self.writer
            .call(move |c| ops::lease(c, &worker, limit, lease_for, now))
            .await
    }

    async fn complete(&self, ids: &[QueueId]) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.writer
            .call(move |c| ops::complete(c, &ids, now_ms()))
            .await
    }

    async fn retry_later(
        &self,
        id: QueueId,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> StoreResult<()> {
        let error = error.to_owned();
        let next = next_attempt_at.unix_millis();
        self.writer
            .call(move |c| ops::retry_later(c, id, next, &error))
            .await
    }

    async fn defer(&self, id: QueueId, not_before: Timestamp, reason: &str) -> StoreResult<()> {
        let reason = reason.to_owned();
        let next = not_before.unix_millis();
        self.writer
            .call(move |c| ops::defer(c, id, next, &reason))
            .await
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
        let holder = holder.to_owned();
        let subjects = subjects.to_vec();
        self.writer
            .call(move |c| ops::lock_subjects(c, &holder, &subjects, hold_for, now))
            .await
    }

    async fn unlock_subjects(&self, holder: &str, subjects: &[String]) -> StoreResult<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        let holder = holder.to_owned();
        let subjects = subjects.to_vec();
        self.writer
            .call(move |c| ops::unlock_subjects(c, &holder, &subjects))
            .await
    }

    async fn dead_letter_queued(
        &self,
        id: QueueId,
        letter: &NewDeadLetter,
    ) -> StoreResult<DeadLetterId> {
        let letter = letter.clone();
        self.writer
            .call(move |c| ops::dead_letter_queued(c, id, &letter))
            .await
    }

    async fn queue_stats(&self, now: Timestamp) -> StoreResult<QueueStats> {
        let now = now.unix_millis();
        self.writer.call(move |c| ops::queue_stats(c, now)).await
    }

    async fn processed(&self, keys: &[String]) -> StoreResult<Vec<bool>> {
        let keys = keys.to_vec();
        self.reader.call(move |c| ops::processed(c, &keys)).await
    }

    async fn mark_processed(&self, keys: &[String], at: Timestamp) -> StoreResult<()> {
        let keys = keys.to_vec();
        let at = at.unix_millis();
        self.writer
            .call(move |c| ops::mark_processed(c, &keys, at))
            .await
    }

    async fn prune_processed(&self, before: Timestamp) -> StoreResult<u64> {
        let before = before.unix_millis();
        self.writer
            .call(move |c| ops::prune_processed(c, before))
            .await
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<()> {
        let links = links.to_vec();
        self.writer.call(move |c| ops::save_links(c, &links)).await
    }

    async fn load_links(&self) -> StoreResult<Vec<Link>> {
        self.reader.call(ops::load_links).await
    }

    async fn crm_ids(&self, crm: &str, people: &[String]) -> StoreResult<Vec<Option<String>>> {
        let (crm, people) = (crm.to_owned(), people.to_vec());
        self.reader
            .call(move |c| ops::get_values(c, GET_CRM_ID, Some(&crm), &people))
            .await
    }

    async fn save_crm_ids(&self, crm: &str, ids: &[(String, String)]) -> StoreResult<()> {
        let (crm, ids) = (crm.to_owned(), ids.to_vec());
        self.writer
            .call(move |c| ops::put_pairs(c, PUT_CRM_ID, Some(&crm), &ids))
            .await
    }

    async fn ledger_rows(&self, keys: &[String]) -> StoreResult<Vec<Option<String>>> {
        let keys = keys.to_vec();
        self.reader
            .call(move |c| ops::get_values(c, GET_METRICS, None, &keys))
            .await
    }

    async fn save_ledger_rows(&self, states: &[(String, String)]) -> StoreResult<()> {
        let states = states.to_vec();
        self.writer
            .call(move |c| ops::put_pairs(c, PUT_METRICS, None, &states))
            .await
    }

    async fn property_hashes(
        &self,
        crm: &str,
        keys: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        let (crm, keys) = (crm.to_owned(), keys.to_vec());
        self.reader
            .call(move |c| ops::get_values(c, GET_HASH, Some(&crm), &keys))
            .await
    }

    async fn save_property_hashes(
        &self,
        crm: &str,
        hashes: &[(String, String)],
    ) -> StoreResult<()> {
        let (crm, hashes) = (crm.to_owned(), hashes.to_vec());
        self.writer
            .call(move |c| ops::put_pairs(c, PUT_HASH, Some(&crm), &hashes))
            .await
    }

    async fn save_batch(&self, batch: &BatchState) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let batch = batch.clone();
        // One job, so one savepoint inside the writer's group transaction: all or nothing.
        self.writer
            .call(move |c| {
                ops::save_links(c, &batch.links)?;
                for letter in &batch.dead_letters {
                    ops::add_dead_letter(c, letter)?;
                }
                ops::put_pairs(c, PUT_METRICS, None, &batch.ledger_rows)?;
                ops::put_pairs(c, PUT_HASH, Some(&batch.crm), &batch.property_hashes)?;
                ops::put_pairs(c, PUT_CRM_ID, Some(&batch.crm), &batch.crm_ids)
            })
            .await
    }

    async fn add_dead_letter(&self, letter: &NewDeadLetter) -> StoreResult<DeadLetterId> {
        let letter = letter.clone();
        self.writer
            .call(move |c| ops::add_dead_letter(c, &letter))
            .await
    }

    async fn dead_letters(&self, filter: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
        let filter = filter.clone();
        self.writer
            .call(move |c| ops::dead_letters(c, &filter))
            .await
    }

    async fn dead_letter(&self, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
        self.writer.call(move |c| ops::dead_letter(c, id)).await
    }

    async fn replay_dead_letter(&self, id: DeadLetterId, now: Timestamp) -> StoreResult<QueueId> {
        let now = now.unix_millis();
        self.writer
            .call(move |c| ops::replay_dead_letter(c, id, now))
            .await
    }

    async fn discard_dead_letter(&self, id: DeadLetterId) -> StoreResult<()> {
        self.writer
            .call(move |c| ops::discard_dead_letter(c, id))
            .await
    }

    async fn dead_letter_count(&self) -> StoreResult<u64> {
        self.writer.call(ops::dead_letter_count).await
    }

    async fn start_run(&self, mode: &str, at: Timestamp) -> StoreResult<RunId> {
        let mode = mode.to_owned();
        let at = at.unix_millis();
        self.writer
            .call(move |c| ops::start_run(c, &mode, at))
            .await
    }

    async fn log_records(&self, run: RunId, records: &[RecordLog]) -> StoreResult<()> {
        let records = records.to_vec();
        self.writer
            .call(move |c| ops::log_records(c, run, &records))
            .await
    }

    async fn finish_run(&self, run: RunId, totals: &RunTotals, at: Timestamp) -> StoreResult<()> {
        let totals = *totals;
        let at = at.unix_millis();
        self.writer
            .call(move |c| ops::finish_run(c, run, &totals, at))
            .await
    }

    async fn run(&self, run: RunId) -> StoreResult<Option<RunSummary>> {
        self.writer.call(move |c| ops::run(c, run)).await
    }

    async fn run_records(&self, run: RunId, limit: u32) -> StoreResult<Vec<RecordLog>> {
        self.writer
            .call(move |c| ops::run_records(c, run, limit))
            .await
    }
}
