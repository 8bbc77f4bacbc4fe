//! Versioned migrations, applied in order and recorded in `PRAGMA user_version`.

use cartograph_sync::{StoreError, StoreResult};
use rusqlite::Connection;

/// Migration `i` moves the schema from version `i` to `i + 1`. Never edit a shipped entry:
/// append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r"
    CREATE TABLE checkpoints (
        source TEXT NOT NULL,
        stream TEXT NOT NULL,
        data   TEXT NOT NULL,
        PRIMARY KEY (source, stream)
    ) WITHOUT ROWID;

    CREATE TABLE queue (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        key             TEXT NOT NULL UNIQUE,
        source          TEXT NOT NULL,
        kind            TEXT NOT NULL,
        payload         TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        lease_until_ms  INTEGER,
        leased_by       TEXT,
        enqueued_ms     INTEGER NOT NULL,
        last_error      TEXT
    );
    CREATE INDEX queue_due ON queue (next_attempt_ms, id);

    CREATE TABLE processed (
        key   TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE links (
        system      TEXT NOT NULL,
        external_id TEXT NOT NULL,
        person      TEXT NOT NULL,
        record      TEXT NOT NULL,
        PRIMARY KEY (system, external_id)
    ) WITHOUT ROWID;
    CREATE INDEX links_person ON links (person);

    CREATE TABLE crm_ids (
        crm    TEXT NOT NULL,
        person TEXT NOT NULL,
        crm_id TEXT NOT NULL,
        PRIMARY KEY (crm, person)
    ) WITHOUT ROWID;

    CREATE TABLE metrics (
        key   TEXT PRIMARY KEY,
        state TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE property_hashes (
        crm  TEXT NOT NULL,
        key  TEXT NOT NULL,
        hash TEXT NOT NULL,
        PRIMARY KEY (crm, key)
    ) WITHOUT ROWID;

    CREATE TABLE dead_letters (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        record        TEXT NOT NULL,
        stage         TEXT NOT NULL,
        error_kind    TEXT NOT NULL,
        message       TEXT NOT NULL,
        attempts      INTEGER NOT NULL,
        payload_kind  TEXT NOT NULL,
        payload       TEXT NOT NULL,
        source        TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms  INTEGER NOT NULL,
        UNIQUE (record, stage)
    );

    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        mode        TEXT NOT NULL,
        started_ms  INTEGER NOT NULL,
        finished_ms INTEGER,
        totals      TEXT NOT NULL
    );

    CREATE TABLE run_records (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        run     INTEGER NOT NULL REFERENCES runs (id),
        record  TEXT NOT NULL,
        stage   TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail  TEXT NOT NULL,
        at_ms   INTEGER NOT NULL
    );
    CREATE INDEX run_records_run ON run_records (run, seq);
    ",
    // 2: per-subject locks (two events of one person are never processed at once).
    r"
    CREATE TABLE subject_locks (
        subject  TEXT PRIMARY KEY,
        holder   TEXT NOT NULL,
        until_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    ",
    // 3: processed keys are pruned by age.
    r"
    CREATE INDEX processed_at ON processed (at_ms);
    ",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 3;

/// Applies every migration newer than the database's version, each in its own transaction.
/// Refuses a database written by a newer build.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<u32> {
    let db = |e: rusqlite::Error| StoreError::Backend(format!("migration failed: {e}"));
    let current: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db)?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this build ({SCHEMA_VERSION})"
        )));
    }
    for (idx, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction().map_err(db)?;
        tx.execute_batch(sql).map_err(db)?;
        tx.pragma_update(None, "user_version", idx + 1)
            .map_err(db)?;
        tx.commit().map_err(db)?;
    }
    Ok(SCHEMA_VERSION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent_and_versioned() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_VERSION);
        let v: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }

    #[test]
    fn newer_databases_are_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(migrate(&mut conn).is_err());
    }
}
