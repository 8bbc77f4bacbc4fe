//! The SQL behind each `Store` operation, as plain functions over a pooled connection or a
//! transaction. Multi-row writes go as arrays (`unnest`) in one statement; rows are sorted
//! and de-duplicated first so concurrent writers lock them in one order (no deadlocks) and an
//! upsert never touches a row twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use cartograph_model::Timestamp;
use cartograph_sync::{
    BatchState, Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, Link, NewDeadLetter,
    QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary, RunTotals, StoreError,
};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

/// What an operation failed with: the driver (maybe a conflict worth retrying at once) or
/// the store's own verdict.
#[derive(Debug)]
pub(crate) enum Fail {
    Pg(tokio_postgres::Error),
    Store(StoreError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Pg(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Fail {
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Self::Pg(e) => crate::error::pg(&e),
            Self::Store(e) => e,
        }
    }
}

pub(crate) type OpResult<T> = Result<T, Fail>;

pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn ts(ms: i64, what: &str) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_millis(ms).map_err(|e| StoreError::Corrupt {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn attempts(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

fn not_found(what: String) -> Fail {
    Fail::Store(StoreError::NotFound(what))
}

// ---- checkpoints ----

pub(crate) async fn checkpoint<C: GenericClient>(
    c: &C,
    source: &str,
    stream: &str,
) -> OpResult<Option<Checkpoint>> {
    let stmt = c
        .prepare_cached("SELECT data FROM checkpoints WHERE source = $1 AND stream = $2")
        .await?;
    let row = c.query_opt(&stmt, &[&source, &stream]).await?;
    Ok(row
        .map(|r| json(r.get::<_, &str>(0), "checkpoints"))
        .transpose()?)
}

pub(crate) async fn save_checkpoint<C: GenericClient>(
    c: &C,
    source: &str,
    stream: &str,
    cp: &Checkpoint,
) -> OpResult<()> {
    let data = to_json(cp)?;
    let stmt = c
        .prepare_cached(
            "INSERT INTO checkpoints (source, stream, data) VALUES ($1, $2, $3)
             ON CONFLICT (source, stream) DO UPDATE SET data = excluded.data",
        )
        .await?;
    c.execute(&stmt, &[&source, &stream, &data]).await?;
    Ok(())
}

// ---- queue ----

/// One row per input event, first occurrence of a key wins; returns (id, key) of the rows
/// inserted, and notifies `channel` in the same statement when any was.
pub(crate) const ENQUEUE: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
            WITH ORDINALITY AS t (key, source, kind, payload, not_before, ord)
    ), ins AS (
        INSERT INTO queue (key, source, kind, payload, next_attempt_ms, enqueued_ms)
        SELECT key, source, kind, payload, not_before, $6 FROM input
        WHERE NOT EXISTS (SELECT 1 FROM processed p WHERE p.key = input.key)
        ORDER BY ord
        ON CONFLICT (key) DO NOTHING
        RETURNING id, key
    )
    SELECT ins.id, ins.key FROM ins CROSS JOIN LATERAL (SELECT pg_notify($7, '')) AS n";

const QUEUED_COLUMNS: &str = "q.id, q.key, q.source, q.kind, q.payload, q.attempts, q.enqueued_ms, q.lease_until_ms, q.last_error";

pub(crate) async fn lease<C: GenericClient>(
    c: &C,
    worker: &str,
    limit: usize,
    lease_for: Duration,
    now: Timestamp,
) -> OpResult<Vec<QueuedEvent>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(millis(lease_for));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let stmt = c
        .prepare_cached(&format!(
            "WITH due AS (
                 SELECT id FROM queue
                 WHERE next_attempt_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms <= $1)
                 ORDER BY id LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             UPDATE queue q SET lease_until_ms = $3, leased_by = $4, attempts = q.attempts + 1
             FROM due WHERE q.id = due.id
             RETURNING {QUEUED_COLUMNS}"
        ))
        .await?;
    let rows = c
        .query(&stmt, &[&now_ms, &limit, &until_ms, &worker])
        .await?;
    let mut out = rows
        .iter()
        .map(queued_event)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|e| e.id);
    Ok(out)
}

pub(crate) async fn renew_leases<C: GenericClient>(
    c: &C,
    worker: &str,
    ids: &[QueueId],
    lease_for: Duration,
    now: Timestamp,
) -> OpResult<Vec<bool>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(millis(lease_for));
    let stmt = c
        .prepare_cached(
            "UPDATE queue SET lease_until_ms = $1
             WHERE id = ANY($2) AND leased_by = $3 AND lease_until_ms > $4
             RETURNING id",
        )
        .await?;
    let rows = c.query(&stmt, &[&until_ms, &ids, &worker, &now_ms]).await?;
    let renewed: std::collections::HashSet<QueueId> = rows.iter().map(|r| r.get(0)).collect();
    Ok(ids.iter().map(|id| renewed.contains(id)).collect())
}

fn queued_event(r: &Row) -> Result<QueuedEvent, StoreError> {
    Ok(QueuedEvent {
        id: r.get(0),
        key: r.get(1),
        source: r.get(2),
        kind: r.get(3),
        payload: r.get(4),
        attempts: attempts(r.get(5)),
        enqueued_at: ts(r.get(6), "queue.enqueued_ms")?,
        lease_until: ts(r.get(7), "queue.lease_until_ms")?,
        last_error: r.get(8),
    })
}

pub(crate) async fn complete<C: GenericClient>(
    c: &C,
    ids: &[QueueId],
    now_ms: i64,
) -> OpResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let stmt = c
        .prepare_cached(
            "WITH done AS (DELETE FROM queue WHERE id = ANY($1) RETURNING key)
             INSERT INTO processed (key, at_ms) SELECT key, $2 FROM done
             ON CONFLICT (key) DO NOTHING",
        )
        .await?;
    c.execute(&stmt, &[&ids, &now_ms]).await?;
    Ok(())
}

pub(crate) async fn retry_later<C: GenericClient>(
    c: &C,
    id: QueueId,
    next_ms: i64,
    error: &str,
) -> OpResult<()> {
    let stmt = c
        .prepare_cached(
            "UPDATE queue SET next_attempt_ms = $2, lease_until_ms = NULL, leased_by = NULL,
             last_error = $3 WHERE id = $1",
        )
        .await?;
    if c.execute(&stmt, &[&id, &next_ms, &error]).await? == 0 {
        return Err(not_found(format!("queued event {id}")));
    }
    Ok(())
}

pub(crate) async fn defer<C: GenericClient>(
    c: &C,
    id: QueueId,
    next_ms: i64,
    reason: &str,
) -> OpResult<()> {
    let stmt = c
        .prepare_cached(
            "UPDATE queue SET next_attempt_ms = $2, lease_until_ms = NULL, leased_by = NULL,
             attempts = GREATEST(attempts - 1, 0), last_error = $3 WHERE id = $1",
        )
        .await?;
    if c.execute(&stmt, &[&id, &next_ms, &reason]).await? == 0 {
        return Err(not_found(format!("queued event {id}")));
    }
    Ok(())
}

/// One engine batch's state in one transaction (see `Store::save_batch`).
pub(crate) async fn save_batch(
    c: &mut deadpool_postgres::Object,
    batch: &BatchState,
) -> OpResult<()> {
    let tx = c.transaction().await?;
    if !batch.links.is_empty() {
        save_links(&tx, &batch.links).await?;
    }
    for letter in &batch.dead_letters {
        add_dead_letter(&tx, letter).await?;
    }
    if !batch.ledger_rows.is_empty() {
        put_pairs(&tx, Keyed::Metrics, None, &batch.ledger_rows).await?;
    }
    if !batch.property_hashes.is_empty() {
        put_pairs(
            &tx,
            Keyed::PropertyHashes,
            Some(&batch.crm),
            &batch.property_hashes,
        )
        .await?;
    }
    if !batch.crm_ids.is_empty() {
        put_pairs(&tx, Keyed::CrmIds, Some(&batch.crm), &batch.crm_ids).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn dead_letter_queued(
    c: &mut deadpool_postgres::Object,
    id: QueueId,
    letter: &NewDeadLetter,
) -> OpResult<DeadLetterId> {
    let tx = c.transaction().await?;
    let stmt = tx.prepare_cached("DELETE FROM queue WHERE id = $1").await?;
    if tx.execute(&stmt, &[&id]).await? == 0 {
        return Err(not_found(format!("queued event {id}")));
    }
    let letter_id = add_dead_letter(&tx, letter).await?;
    tx.commit().await?;
    Ok(letter_id)
}

pub(crate) async fn queue_stats<C: GenericClient>(c: &C, now_ms: i64) -> OpResult<QueueStats> {
    let stmt = c
        .prepare_cached(
            "SELECT
                 count(*) FILTER (WHERE lease_until_ms > $1),
                 count(*) FILTER (WHERE (lease_until_ms IS NULL OR lease_until_ms <= $1)
                                  AND next_attempt_ms > $1),
                 count(*)
             FROM queue",
        )
        .await?;
    let row = c.query_one(&stmt, &[&now_ms]).await?;
    let leased = count(row.get(0));
    let delayed = count(row.get(1));
    let total = count(row.get(2));
    Ok(QueueStats {
        ready: total.saturating_sub(leased + delayed),
        leased,
        delayed,
    })
}

// ---- subject locks ----

pub(crate) async fn lock_subjects<C: GenericClient>(
    c: &C,
    holder: &str,
    subjects: &[String],
    hold_for: Duration,
    now: Timestamp,
) -> OpResult<Vec<bool>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(millis(hold_for));
    let mut wanted: Vec<&str> = subjects.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    // Insert, take over an expired lock, or renew our own; otherwise leave it. Sorted, so
    // two holders racing for overlapping sets lock rows in the same order.
    let stmt = c
        .prepare_cached(
            "INSERT INTO subject_locks AS l (subject, holder, until_ms)
             SELECT s, $2, $3 FROM unnest($1::text[]) AS s ORDER BY s
             ON CONFLICT (subject) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
             WHERE l.holder = excluded.holder OR l.until_ms <= $4
             RETURNING subject",
        )
        .await?;
    let rows = c
        .query(&stmt, &[&wanted, &holder, &until_ms, &now_ms])
        .await?;
    let taken: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(subjects.iter().map(|s| taken.contains(s)).collect())
}

pub(crate) async fn unlock_subjects<C: GenericClient>(
    c: &C,
    holder: &str,
    subjects: &[String],
) -> OpResult<()> {
    let stmt = c
        .prepare_cached("DELETE FROM subject_locks WHERE holder = $1 AND subject = ANY($2)")
        .await?;
    c.execute(&stmt, &[&holder, &subjects]).await?;
    Ok(())
}

// ---- processed keys ----

pub(crate) async fn processed<C: GenericClient>(c: &C, keys: &[String]) -> OpResult<Vec<bool>> {
    let stmt = c
        .prepare_cached("SELECT key FROM processed WHERE key = ANY($1)")
        .await?;
    let rows = c.query(&stmt, &[&keys]).await?;
    let seen: HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(keys.iter().map(|k| seen.contains(k)).collect())
}

pub(crate) async fn mark_processed<C: GenericClient>(
    c: &C,
    keys: &[String],
    at_ms: i64,
) -> OpResult<()> {
    let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    let stmt = c
        .prepare_cached(
            "INSERT INTO processed (key, at_ms)
             SELECT k, $2 FROM unnest($1::text[]) AS k ORDER BY k
             ON CONFLICT (key) DO NOTHING",
        )
        .await?;
    c.execute(&stmt, &[&keys, &at_ms]).await?;
    Ok(())
}

pub(crate) async fn prune_processed<C: GenericClient>(c: &C, before_ms: i64) -> OpResult<u64> {
    let stmt = c
        .prepare_cached("DELETE FROM processed WHERE at_ms < $1")
        .await?;
    Ok(c.execute(&stmt, &[&before_ms]).await?)
}

// ---- keyed state: CRM ids, metrics, property hashes ----

/// A table of values by (optional scope, key).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keyed {
    CrmIds,
    Metrics,
    PropertyHashes,
}

impl Keyed {
    fn put_sql(self) -> &'static str {
        match self {
            Self::CrmIds => {
                "INSERT INTO crm_ids (crm, person, crm_id)
                 SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t (k, v) ORDER BY k
                 ON CONFLICT (crm, person) DO UPDATE SET crm_id = excluded.crm_id"
            }
            Self::Metrics => {
                "INSERT INTO metrics (key, state)
                 SELECT k, v FROM unnest($2::text[], $3::text[]) AS t (k, v)
                 WHERE $1::text IS NULL ORDER BY k
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state"
            }
            Self::PropertyHashes => {
                "INSERT INTO property_hashes (crm, key, hash)
                 SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t (k, v) ORDER BY k
                 ON CONFLICT (crm, key) DO UPDATE SET hash = excluded.hash"
            }
        }
    }

    fn get_sql(self) -> &'static str {
        match self {
            Self::CrmIds => {
                "SELECT person, crm_id FROM crm_ids WHERE crm = $1 AND person = ANY($2)"
            }
            Self::Metrics => {
                "SELECT key, state FROM metrics WHERE $1::text IS NULL AND key = ANY($2)"
            }
            Self::PropertyHashes => {
                "SELECT key, hash FROM property_hashes WHERE crm = $1 AND key = ANY($2)"
            }
        }
    }
}

/// Upserts (key, value) rows; a key given twice keeps its last value.
pub(crate) async fn put_pairs<C: GenericClient>(
    c: &C,
    table: Keyed,
    scope: Option<&str>,
    rows: &[(String, String)],
) -> OpResult<()> {
    let last: BTreeMap<&str, &str> = rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let keys: Vec<&str> = last.keys().copied().collect();
    let values: Vec<&str> = last.values().copied().collect();
    let stmt = c.prepare_cached(table.put_sql()).await?;
    c.execute(&stmt, &[&scope, &keys, &values]).await?;
    Ok(())
}

/// Reads one optional value per key.
pub(crate) async fn get_values<C: GenericClient>(
    c: &C,
    table: Keyed,
    scope: Option<&str>,
    keys: &[String],
) -> OpResult<Vec<Option<String>>> {
    let stmt = c.prepare_cached(table.get_sql()).await?;
    let rows = c.query(&stmt, &[&scope, &keys]).await?;
    let found: HashMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
}

// ---- identity links ----

pub(crate) async fn save_links<C: GenericClient>(c: &C, links: &[Link]) -> OpResult<()> {
    let last: BTreeMap<(&str, &str), &Link> = links
        .iter()
        .map(|l| ((l.system.as_str(), l.external_id.as_str()), l))
        .collect();
    let systems: Vec<&str> = last.values().map(|l| l.system.as_str()).collect();
    let ids: Vec<&str> = last.values().map(|l| l.external_id.as_str()).collect();
    let people: Vec<&str> = last.values().map(|l| l.person.as_str()).collect();
    let records: Vec<&str> = last.values().map(|l| l.record.as_str()).collect();
    let stmt = c
        .prepare_cached(
            "INSERT INTO links (system, external_id, person, record)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
             ON CONFLICT (system, external_id) DO UPDATE SET
                 person = excluded.person, record = excluded.record",
        )
        .await?;
    c.execute(&stmt, &[&systems, &ids, &people, &records])
        .await?;
    Ok(())
}

pub(crate) async fn load_links<C: GenericClient>(c: &C) -> OpResult<Vec<Link>> {
    // Byte order (as `Link`'s `Ord` and the SQLite store), whatever the database collation.
    let stmt = c
        .prepare_cached(
            "SELECT system, external_id, person, record FROM links
             ORDER BY system COLLATE \"C\", external_id COLLATE \"C\"",
        )
        .await?;
    let rows = c.query(&stmt, &[]).await?;
    Ok(rows
        .iter()
        .map(|r| Link {
            system: r.get(0),
            external_id: r.get(1),
            person: r.get(2),
            record: r.get(3),
        })
        .collect())
}

// ---- dead letters ----

pub(crate) async fn add_dead_letter<C: GenericClient>(
    c: &C,
    l: &NewDeadLetter,
) -> OpResult<DeadLetterId> {
    let at = l.at.unix_millis();
    let tries = i64::from(l.attempts);
    let stmt = c
        .prepare_cached(
            "INSERT INTO dead_letters AS d (record, stage, error_kind, message, attempts,
                 payload_kind, payload, source, first_seen_ms, last_seen_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
             ON CONFLICT (record, stage) DO UPDATE SET
                 error_kind = excluded.error_kind, message = excluded.message,
                 attempts = d.attempts + excluded.attempts, payload_kind = excluded.payload_kind,
                 payload = excluded.payload, source = excluded.source,
                 last_seen_ms = excluded.last_seen_ms
             RETURNING id",
        )
        .await?;
    let row = c
        .query_one(
            &stmt,
            &[
                &l.record,
                &l.stage,
                &l.error_kind,
                &l.message,
                &tries,
                &l.payload_kind,
                &l.payload,
                &l.source,
                &at,
            ],
        )
        .await?;
    Ok(row.get(0))
}

const DL_COLUMNS: &str = "id, record, stage, error_kind, message, attempts, payload_kind, payload,
                          source, first_seen_ms, last_seen_ms";

fn dead_letter_row(r: &Row) -> Result<DeadLetter, StoreError> {
    Ok(DeadLetter {
        id: r.get(0),
        record: r.get(1),
        stage: r.get(2),
        error_kind: r.get(3),
        message: r.get(4),
        attempts: attempts(r.get(5)),
        payload_kind: r.get(6),
        payload: r.get(7),
        source: r.get(8),
        first_seen: ts(r.get(9), "dead_letters.first_seen_ms")?,
        last_seen: ts(r.get(10), "dead_letters.last_seen_ms")?,
    })
}

pub(crate) async fn dead_letters<C: GenericClient>(
    c: &C,
    f: &DeadLetterFilter,
) -> OpResult<Vec<DeadLetter>> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {DL_COLUMNS} FROM dead_letters
             WHERE ($1::text IS NULL OR stage = $1) AND ($2::text IS NULL OR error_kind = $2)
               AND id > $3
             ORDER BY id LIMIT $4"
        ))
        .await?;
    let after = f.after_id.unwrap_or(0);
    let limit = i64::from(f.limit.unwrap_or(100));
    let rows = c
        .query(&stmt, &[&f.stage, &f.error_kind, &after, &limit])
        .await?;
    Ok(rows
        .iter()
        .map(dead_letter_row)
        .collect::<Result<Vec<_>, _>>()?)
}

pub(crate) async fn dead_letter<C: GenericClient>(
    c: &C,
    id: DeadLetterId,
) -> OpResult<Option<DeadLetter>> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {DL_COLUMNS} FROM dead_letters WHERE id = $1"
        ))
        .await?;
    let row = c.query_opt(&stmt, &[&id]).await?;
    Ok(row.as_ref().map(dead_letter_row).transpose()?)
}

pub(crate) async fn replay_dead_letter(
    c: &mut deadpool_postgres::Object,
    id: DeadLetterId,
    now_ms: i64,
    channel: &str,
) -> OpResult<QueueId> {
    let tx = c.transaction().await?;
    let stmt = tx
        .prepare_cached(
            "DELETE FROM dead_letters WHERE id = $1 RETURNING record, source, payload_kind, payload",
        )
        .await?;
    let Some(letter) = tx.query_opt(&stmt, &[&id]).await? else {
        return Err(not_found(format!("dead letter {id}")));
    };
    let record: &str = letter.get(0);
    let key = format!("replay:{id}:{now_ms}:{record}");
    let stmt = tx
        .prepare_cached(
            "INSERT INTO queue (key, source, kind, payload, next_attempt_ms, enqueued_ms)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .await?;
    let source: &str = letter.get(1);
    let kind: &str = letter.get(2);
    let payload: &str = letter.get(3);
    let queued: QueueId = tx
        .query_one(&stmt, &[&key, &source, &kind, &payload, &now_ms])
        .await?
        .get(0);
    tx.execute("SELECT pg_notify($1, '')", &[&channel]).await?;
    tx.commit().await?;
    Ok(queued)
}

pub(crate) async fn discard_dead_letter<C: GenericClient>(c: &C, id: DeadLetterId) -> OpResult<()> {
    let stmt = c
        .prepare_cached("DELETE FROM dead_letters WHERE id = $1")
        .await?;
    if c.execute(&stmt, &[&id]).await? == 0 {
        return Err(not_found(format!("dead letter {id}")));
    }
    Ok(())
}

pub(crate) async fn dead_letter_count<C: GenericClient>(c: &C) -> OpResult<u64> {
    let stmt = c
        .prepare_cached("SELECT count(*) FROM dead_letters")
        .await?;
    Ok(count(c.query_one(&stmt, &[]).await?.get(0)))
}

// ---- run log ----

pub(crate) async fn start_run<C: GenericClient>(c: &C, mode: &str, at_ms: i64) -> OpResult<RunId> {
    let totals = to_json(&RunTotals::default())?;
    let stmt = c
        .prepare_cached(
            "INSERT INTO runs (mode, started_ms, totals) VALUES ($1, $2, $3) RETURNING id",
        )
        .await?;
    Ok(c.query_one(&stmt, &[&mode, &at_ms, &totals]).await?.get(0))
}

pub(crate) async fn log_records<C: GenericClient>(
    c: &C,
    run: RunId,
    records: &[RecordLog],
) -> OpResult<()> {
    let names: Vec<&str> = records.iter().map(|r| r.record.as_str()).collect();
    let stages: Vec<&str> = records.iter().map(|r| r.stage.as_str()).collect();
    let outcomes: Vec<&str> = records.iter().map(|r| r.outcome.as_str()).collect();
    let details: Vec<&str> = records.iter().map(|r| r.detail.as_str()).collect();
    let ats: Vec<i64> = records.iter().map(|r| r.at.unix_millis()).collect();
    let stmt = c
        .prepare_cached(
            "INSERT INTO run_records (run, record, stage, outcome, detail, at_ms)
             SELECT $1, record, stage, outcome, detail, at_ms
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                 WITH ORDINALITY AS t (record, stage, outcome, detail, at_ms, ord)
             ORDER BY ord",
        )
        .await?;
    c.execute(&stmt, &[&run, &names, &stages, &outcomes, &details, &ats])
        .await?;
    Ok(())
}

pub(crate) async fn finish_run<C: GenericClient>(
    c: &C,
    run: RunId,
    totals: &RunTotals,
    at_ms: i64,
) -> OpResult<()> {
    let totals = to_json(totals)?;
    let stmt = c
        .prepare_cached("UPDATE runs SET finished_ms = $2, totals = $3 WHERE id = $1")
        .await?;
    if c.execute(&stmt, &[&run, &at_ms, &totals]).await? == 0 {
        return Err(not_found(format!("run {run}")));
    }
    Ok(())
}

pub(crate) async fn run<C: GenericClient>(c: &C, run: RunId) -> OpResult<Option<RunSummary>> {
    let stmt = c
        .prepare_cached("SELECT id, mode, started_ms, finished_ms, totals FROM runs WHERE id = $1")
        .await?;
    let Some(row) = c.query_opt(&stmt, &[&run]).await? else {
        return Ok(None);
    };
    let finished: Option<i64> = row.get(3);
    Ok(Some(RunSummary {
        id: row.get(0),
        mode: row.get(1),
        started_at: ts(row.get(2), "runs.started_ms")?,
        finished_at: finished.map(|f| ts(f, "runs.finished_ms")).transpose()?,
        totals: json(row.get::<_, &str>(4), "runs.totals")?,
    }))
}

pub(crate) async fn run_records<C: GenericClient>(
    c: &C,
    run: RunId,
    limit: u32,
) -> OpResult<Vec<RecordLog>> {
    let stmt = c
        .prepare_cached(
            "SELECT record, stage, outcome, detail, at_ms FROM run_records
             WHERE run = $1 ORDER BY seq LIMIT $2",
        )
        .await?;
    let rows = c.query(&stmt, &[&run, &i64::from(limit)]).await?;
    rows.iter()
        .map(|r| {
            Ok(RecordLog {
                record: r.get(0),
                stage: r.get(1),
                outcome: r.get(2),
                detail: r.get(3),
                at: ts(r.get(4), "run_records.at_ms")?,
            })
        })
        .collect()
}
