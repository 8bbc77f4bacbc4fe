//! The SQL behind each `Store` operation, as plain functions over a connection. They run on
//! the writer thread inside the current group transaction.

use std::time::Duration;

use cartograph_model::Timestamp;
use cartograph_sync::{
    Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, Link, NewDeadLetter,
    NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary, RunTotals,
    StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn db(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) =>
        {
            StoreError::Corrupt {
                what: "database file".to_owned(),
                reason: e.to_string(),
            }
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

fn ts(ms: i64, what: &str) -> StoreResult<Timestamp> {
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

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) fn checkpoint(
    c: &Connection,
    source: &str,
    stream: &str,
) -> StoreResult<Option<Checkpoint>> {
    let data: Option<String> = c
        .prepare_cached("SELECT data FROM checkpoints WHERE source = ?1 AND stream = ?2")
        .and_then(|mut s| {
            s.query_row(params![source, stream], |r| r.get(0))
                .optional()
        })
        .map_err(|e| db(&e))?;
    data.map(|d| json(&d, "checkpoints")).transpose()
}

pub(crate) fn save_checkpoint(
    c: &Connection,
    source: &str,
    stream: &str,
    cp: &Checkpoint,
) -> StoreResult<()> {
    let data = to_json(cp)?;
    c.prepare_cached(
        "INSERT INTO checkpoints (source, stream, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (source, stream) DO UPDATE SET data = excluded.data",
    )
    .and_then(|mut s| s.execute(params![source, stream, data]))
    .map_err(|e| db(&e))?;
    Ok(())
}

pub(crate) fn enqueue(
    c: &Connection,
    events: &[NewQueuedEvent],
    now_ms: i64,
) -> StoreResult<Vec<EnqueueOutcome>> {
    let mut seen = c
        .prepare_cached("SELECT 1 FROM processed WHERE key = ?1")
        .map_err(|e| db(&e))?;
    let mut insert = c
        .prepare_cached(
            "INSERT OR IGNORE INTO queue (key, source, kind, payload, next_attempt_ms, enqueued_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(|e| db(&e))?;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        if seen.exists(params![e.key]).map_err(|e| db(&e))? {
            out.push(EnqueueOutcome::Duplicate);
            continue;
        }
        let n = insert
            .execute(params![
                e.key,
                e.source,
                e.kind,
                e.payload,
                e.not_before.unix_millis(),
                now_ms
            ])
            .map_err(|e| db(&e))?;
        out.push(if n == 1 {
            EnqueueOutcome::Queued(c.last_insert_rowid())
        } else {
            EnqueueOutcome::Duplicate
        });
    }
    Ok(out)
}

pub(crate) fn renew_leases(
    c: &Connection,
    worker: &str,
    ids: &[QueueId],
    lease_for: Duration,
    now: Timestamp,
) -> StoreResult<Vec<bool>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(i64::try_from(lease_for.as_millis()).unwrap_or(i64::MAX));
    let mut stmt = c
        .prepare_cached(
            "UPDATE queue SET lease_until_ms = ?1
             WHERE id = ?2 AND leased_by = ?3 AND lease_until_ms > ?4",
        )
        .map_err(|e| db(&e))?;
    ids.iter()
        .map(|id| {
            stmt.execute(params![until_ms, id, worker, now_ms])
                .map(|n| n == 1)
                .map_err(|e| db(&e))
        })
        .collect()
}

pub(crate) fn lease(
    c: &Connection,
    worker: &str,
    limit: usize,
    lease_for: Duration,
    now: Timestamp,
) -> StoreResult<Vec<QueuedEvent>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(i64::try_from(lease_for.as_millis()).unwrap_or(i64::MAX));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = c
        .prepare_cached(
            "UPDATE queue SET lease_until_ms = ?1, leased_by = ?2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM queue
                 WHERE next_attempt_ms <= ?3 AND (lease_until_ms IS NULL OR lease_until_ms <= ?3)
                 ORDER BY id LIMIT ?4)
             RETURNING id, key, source, kind, payload, attempts, enqueued_ms, lease_until_ms, last_error",
        )
        .map_err(|e| db(&e))?;
    let rows = stmt
        .query_map(params![until_ms, worker, now_ms, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .map_err(|e| db(&e))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, key, source, kind, payload, att, enq, until, last_error) =
            row.map_err(|e| db(&e))?;
        out.push(QueuedEvent {
            id,
            key,
            source,
            kind,
            payload,
            attempts: attempts(att),
            enqueued_at: ts(enq, "queue.enqueued_ms")?,
            lease_until: ts(until, "queue.lease_until_ms")?,
            last_error,
        });
    }
    out.sort_by_key(|e| e.id);
    Ok(out)
}

pub(crate) fn complete(c: &Connection, ids: &[QueueId], now_ms: i64) -> StoreResult<()> {
    let mut del = c
        .prepare_cached("DELETE FROM queue WHERE id = ?1 RETURNING key")
        .map_err(|e| db(&e))?;
    let mut mark = c
        .prepare_cached("INSERT OR IGNORE INTO processed (key, at_ms) VALUES (?1, ?2)")
        .map_err(|e| db(&e))?;
    for id in ids {
        let key: Option<String> = del
            .query_row(params![id], |r| r.get(0))
            .optional()
            .map_err(|e| db(&e))?;
        if let Some(key) = key {
            mark.execute(params![key, now_ms]).map_err(|e| db(&e))?;
        }
    }
    Ok(())
}

pub(crate) fn retry_later(
    c: &Connection,
    id: QueueId,
    next_ms: i64,
    error: &str,
) -> StoreResult<()> {
    let n = c
        .prepare_cached(
            "UPDATE queue SET next_attempt_ms = ?2, lease_until_ms = NULL, leased_by = NULL,
             last_error = ?3 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, next_ms, error]))
        .map_err(|e| db(&e))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("queued event {id}")));
    }
    Ok(())
}

pub(crate) fn defer(c: &Connection, id: QueueId, next_ms: i64, reason: &str) -> StoreResult<()> {
    let n = c
        .prepare_cached(
            "UPDATE queue SET next_attempt_ms = ?2, lease_until_ms = NULL, leased_by = NULL,
             attempts = MAX(attempts - 1, 0), last_error = ?3 WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id, next_ms, reason]))
        .map_err(|e| db(&e))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("queued event {id}")));
    }
    Ok(())
}

pub(crate) fn lock_subjects(
    c: &Connection,
    holder: &str,
    subjects: &[String],
    hold_for: Duration,
    now: Timestamp,
) -> StoreResult<Vec<bool>> {
    let now_ms = now.unix_millis();
    let until_ms = now_ms.saturating_add(i64::try_from(hold_for.as_millis()).unwrap_or(i64::MAX));
    // Insert, or take over an expired lock, or renew our own; otherwise leave it.
    let mut take = c
        .prepare_cached(
            "INSERT INTO subject_locks (subject, holder, until_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (subject) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
             WHERE subject_locks.holder = excluded.holder OR subject_locks.until_ms <= ?4",
        )
        .map_err(|e| db(&e))?;
    subjects
        .iter()
        .map(|subject| {
            take.execute(params![subject, holder, until_ms, now_ms])
                .map(|n| n == 1)
                .map_err(|e| db(&e))
        })
        .collect()
}

pub(crate) fn unlock_subjects(
    c: &Connection,
    holder: &str,
    subjects: &[String],
) -> StoreResult<()> {
    let mut del = c
        .prepare_cached("DELETE FROM subject_locks WHERE subject = ?1 AND holder = ?2")
        .map_err(|e| db(&e))?;
    for subject in subjects {
        del.execute(params![subject, holder]).map_err(|e| db(&e))?;
    }
    Ok(())
}

pub(crate) fn dead_letter_queued(
    c: &Connection,
    id: QueueId,
    letter: &NewDeadLetter,
) -> StoreResult<DeadLetterId> {
    let n = c
        .prepare_cached("DELETE FROM queue WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .map_err(|e| db(&e))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("queued event {id}")));
    }
    add_dead_letter(c, letter)
}

pub(crate) fn queue_stats(c: &Connection, now_ms: i64) -> StoreResult<QueueStats> {
    c.prepare_cached(
        "SELECT
            COALESCE(SUM(CASE WHEN lease_until_ms > ?1 THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN (lease_until_ms IS NULL OR lease_until_ms <= ?1) AND next_attempt_ms > ?1 THEN 1 ELSE 0 END), 0),
            COUNT(*)
         FROM queue",
    )
    .and_then(|mut s| {
        s.query_row(params![now_ms], |r| {
            let leased = count(r.get(0)?);
            let delayed = count(r.get(1)?);
            let total = count(r.get(2)?);
            Ok(QueueStats {
                ready: total.saturating_sub(leased + delayed),
                leased,
                delayed,
            })
        })
    })
    .map_err(|e| db(&e))
}

pub(crate) fn processed(c: &Connection, keys: &[String]) -> StoreResult<Vec<bool>> {
    let mut stmt = c
        .prepare_cached("SELECT 1 FROM processed WHERE key = ?1")
        .map_err(|e| db(&e))?;
    keys.iter()
        .map(|k| stmt.exists(params![k]).map_err(|e| db(&e)))
        .collect()
}

pub(crate) fn mark_processed(c: &Connection, keys: &[String], at_ms: i64) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached("INSERT OR IGNORE INTO processed (key, at_ms) VALUES (?1, ?2)")
        .map_err(|e| db(&e))?;
    for k in keys {
        stmt.execute(params![k, at_ms]).map_err(|e| db(&e))?;
    }
    Ok(())
}

pub(crate) fn prune_processed(c: &Connection, before_ms: i64) -> StoreResult<u64> {
    let n = c
        .prepare_cached("DELETE FROM processed WHERE at_ms < ?1")
        .and_then(|mut s| s.execute(params![before_ms]))
        .map_err(|e| db(&e))?;
    Ok(n as u64)
}

/// Upserts (a, b) -> value rows of a two-column-key table.
pub(crate) fn put_pairs(
    c: &Connection,
    sql: &str,
    scope: Option<&str>,
    rows: &[(String, String)],
) -> StoreResult<()> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| db(&e))?;
    for (k, v) in rows {
        match scope {
            Some(scope) => stmt.execute(params![scope, k, v]),
            None => stmt.execute(params![k, v]),
        }
        .map_err(|e| db(&e))?;
    }
    Ok(())
}

/// Reads one optional value per key.
pub(crate) fn get_values(
    c: &Connection,
    sql: &str,
    scope: Option<&str>,
    keys: &[String],
) -> StoreResult<Vec<Option<String>>> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| db(&e))?;
    keys.iter()
        .map(|k| {
            match scope {
                Some(scope) => stmt.query_row(params![scope, k], |r| r.get(0)),
                None => stmt.query_row(params![k], |r| r.get(0)),
            }
            .optional()
            .map_err(|e| db(&e))
        })
        .collect()
}

pub(crate) fn save_links(c: &Connection, links: &[Link]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO links (system, external_id, person, record) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (system, external_id) DO UPDATE SET
                 person = excluded.person, record = excluded.record",
        )
        .map_err(|e| db(&e))?;
    for l in links {
        stmt.execute(params![l.system, l.external_id, l.person, l.record])
            .map_err(|e| db(&e))?;
    }
    Ok(())
}

pub(crate) fn load_links(c: &Connection) -> StoreResult<Vec<Link>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT system, external_id, person, record FROM links ORDER BY system, external_id",
        )
        .map_err(|e| db(&e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Link {
                system: r.get(0)?,
                external_id: r.get(1)?,
                person: r.get(2)?,
                record: r.get(3)?,
            })
        })
        .map_err(|e| db(&e))?;
    rows.map(|r| r.map_err(|e| db(&e))).collect()
}

pub(crate) fn add_dead_letter(c: &Connection, l: &NewDeadLetter) -> StoreResult<DeadLetterId> {
    let at = l.at.unix_millis();
    c.prepare_cached(
        "INSERT INTO dead_letters (record, stage, error_kind, message, attempts, payload_kind,
                                   payload, source, first_seen_ms, last_seen_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (record, stage) DO UPDATE SET
             error_kind = excluded.error_kind, message = excluded.message,
             attempts = attempts + excluded.attempts, payload_kind = excluded.payload_kind,
             payload = excluded.payload, source = excluded.source,
             last_seen_ms = excluded.last_seen_ms
         RETURNING id",
    )
    .and_then(|mut s| {
        s.query_row(
            params![
                l.record,
                l.stage,
                l.error_kind,
                l.message,
                l.attempts,
                l.payload_kind,
                l.payload,
                l.source,
                at
            ],
            |r| r.get(0),
        )
    })
    .map_err(|e| db(&e))
}

const DL_COLUMNS: &str = "id, record, stage, error_kind, message, attempts, payload_kind, payload,
                          source, first_seen_ms, last_seen_ms";

fn dead_letter_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(DeadLetter, i64, i64)> {
    Ok((
        DeadLetter {
            id: r.get(0)?,
            record: r.get(1)?,
            stage: r.get(2)?,
            error_kind: r.get(3)?,
            message: r.get(4)?,
            attempts: attempts(r.get(5)?),
            payload_kind: r.get(6)?,
            payload: r.get(7)?,
            source: r.get(8)?,
            first_seen: Timestamp::UNIX_EPOCH,
            last_seen: Timestamp::UNIX_EPOCH,
        },
        r.get(9)?,
        r.get(10)?,
    ))
}

fn finish_letter((mut l, first, last): (DeadLetter, i64, i64)) -> StoreResult<DeadLetter> {
    l.first_seen = ts(first, "dead_letters.first_seen_ms")?;
    l.last_seen = ts(last, "dead_letters.last_seen_ms")?;
    Ok(l)
}

pub(crate) fn dead_letters(c: &Connection, f: &DeadLetterFilter) -> StoreResult<Vec<DeadLetter>> {
    let sql = format!(
        "SELECT {DL_COLUMNS} FROM dead_letters
         WHERE (?1 IS NULL OR stage = ?1) AND (?2 IS NULL OR error_kind = ?2) AND id > ?3
         ORDER BY id LIMIT ?4"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(|e| db(&e))?;
    let rows = stmt
        .query_map(
            params![
                f.stage,
                f.error_kind,
                f.after_id.unwrap_or(0),
                f.limit.unwrap_or(100)
            ],
            dead_letter_row,
        )
        .map_err(|e| db(&e))?;
    rows.map(|r| r.map_err(|e| db(&e)).and_then(finish_letter))
        .collect()
}

pub(crate) fn dead_letter(c: &Connection, id: DeadLetterId) -> StoreResult<Option<DeadLetter>> {
    let sql = format!("SELECT {DL_COLUMNS} FROM dead_letters WHERE id = ?1");
    let row = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params![id], dead_letter_row).optional())
        .map_err(|e| db(&e))?;
    row.map(finish_letter).transpose()
}

pub(crate) fn replay_dead_letter(
    c: &Connection,
    id: DeadLetterId,
    now_ms: i64,
) -> StoreResult<QueueId> {
    let letter =
        dead_letter(c, id)?.ok_or_else(|| StoreError::NotFound(format!("dead letter {id}")))?;
    c.prepare_cached(
        "INSERT INTO queue (key, source, kind, payload, next_attempt_ms, enqueued_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )
    .and_then(|mut s| {
        s.execute(params![
            format!("replay:{id}:{now_ms}:{}", letter.record),
            letter.source,
            letter.payload_kind,
            letter.payload,
            now_ms
        ])
    })
    .map_err(|e| db(&e))?;
    let queued = c.last_insert_rowid();
    discard_dead_letter(c, id)?;
    Ok(queued)
}

pub(crate) fn discard_dead_letter(c: &Connection, id: DeadLetterId) -> StoreResult<()> {
    let n = c
        .prepare_cached("DELETE FROM dead_letters WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id]))
        .map_err(|e| db(&e))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("dead letter {id}")));
    }
    Ok(())
}

pub(crate) fn dead_letter_count(c: &Connection) -> StoreResult<u64> {
    c.query_row("SELECT COUNT(*) FROM dead_letters", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(count)
    .map_err(|e| db(&e))
}

pub(crate) fn start_run(c: &Connection, mode: &str, at_ms: i64) -> StoreResult<RunId> {
    let totals = to_json(&RunTotals::default())?;
    c.prepare_cached("INSERT INTO runs (mode, started_ms, totals) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![mode, at_ms, totals]))
        .map_err(|e| db(&e))?;
    Ok(c.last_insert_rowid())
}

pub(crate) fn log_records(c: &Connection, run: RunId, records: &[RecordLog]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "INSERT INTO run_records (run, record, stage, outcome, detail, at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(|e| db(&e))?;
    for r in records {
        stmt.execute(params![
            run,
            r.record,
            r.stage,
            r.outcome,
            r.detail,
            r.at.unix_millis()
        ])
        .map_err(|e| db(&e))?;
    }
    Ok(())
}

pub(crate) fn finish_run(
    c: &Connection,
    run: RunId,
    totals: &RunTotals,
    at_ms: i64,
) -> StoreResult<()> {
    let totals = to_json(totals)?;
    let n = c
        .prepare_cached("UPDATE runs SET finished_ms = ?2, totals = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![run, at_ms, totals]))
        .map_err(|e| db(&e))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("run {run}")));
    }
    Ok(())
}

pub(crate) fn run(c: &Connection, run: RunId) -> StoreResult<Option<RunSummary>> {
    let row: Option<(i64, String, i64, Option<i64>, String)> = c
        .prepare_cached("SELECT id, mode, started_ms, finished_ms, totals FROM runs WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row(params![run], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(|e| db(&e))?;
    row.map(|(id, mode, started, finished, totals)| {
        Ok(RunSummary {
            id,
            mode,
            started_at: ts(started, "runs.started_ms")?,
            finished_at: finished.map(|f| ts(f, "runs.finished_ms")).transpose()?,
            totals: json(&totals, "runs.totals")?,
        })
    })
    .transpose()
}

pub(crate) fn run_records(c: &Connection, run: RunId, limit: u32) -> StoreResult<Vec<RecordLog>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT record, stage, outcome, detail, at_ms FROM run_records
             WHERE run = ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(|e| db(&e))?;
    let rows = stmt
        .query_map(params![run, limit], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(|e| db(&e))?;
    rows.map(|r| {
        let (record, stage, outcome, detail, at) = r.map_err(|e| db(&e))?;
        Ok(RecordLog {
            record,
            stage,
            outcome,
            detail,
            at: ts(at, "run_records.at_ms")?,
        })
    })
    .collect()
}
