//! The SQLite store against the Store conformance suite, plus SQLite-specific behaviour.
#![allow(clippy::unwrap_used)]

use cartograph_testkit::store as suite;

use std::sync::Arc;

use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    suite::run_all(|| {
        n += 1;
        Arc::new(SqliteStore::open(dir.path().join(format!("s{n}.sqlite"))).unwrap())
            as Arc<dyn Store>
    })
    .await;
}

use cartograph_model::Timestamp;
use cartograph_store_sqlite::{Durability, SqliteConfig};
use cartograph_sync::{EnqueueOutcome, NewQueuedEvent, StoreError};
use std::time::Duration;

fn event(key: &str) -> NewQueuedEvent {
    NewQueuedEvent {
        key: key.into(),
        source: "bigcommerce".into(),
        kind: "commerce_notification".into(),
        payload: "{}".into(),
        not_before: Timestamp::UNIX_EPOCH,
    }
}

#[tokio::test]
async fn queued_events_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        store.enqueue(&[event("a"), event("b")]).await.unwrap();
        let leased = store
            .lease("w", 1, Duration::from_secs(60), Timestamp::now())
            .await
            .unwrap();
        store.complete(&[leased[0].id]).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let left = store
        .lease("w", 10, Duration::from_secs(60), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(store.processed(&["a".into()]).await.unwrap(), vec![true]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_are_group_committed_and_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.sqlite");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with(&SqliteConfig {
            group_window: Duration::from_millis(2),
            ..SqliteConfig::new(&path)
        })
        .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..500 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.enqueue(&[event(&format!("e{i}"))]).await
        }));
    }
    for t in tasks {
        assert!(matches!(
            t.await.unwrap().unwrap()[0],
            EnqueueOutcome::Queued(_)
        ));
    }
    drop(store);
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(
        reopened.queue_stats(Timestamp::now()).await.unwrap().ready,
        500
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_operation_does_not_undo_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with(&SqliteConfig {
            group_window: Duration::from_millis(20),
            durability: Durability::Normal,
            ..SqliteConfig::new(dir.path().join("f.sqlite"))
        })
        .unwrap(),
    );
    let a = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.retry_later(424_242, Timestamp::now(), "x").await })
    };
    let b = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.enqueue(&[event("kept")]).await })
    };
    assert!(matches!(a.await.unwrap(), Err(StoreError::NotFound(_))));
    assert!(matches!(
        b.await.unwrap().unwrap()[0],
        EnqueueOutcome::Queued(_)
    ));
    assert_eq!(store.queue_stats(Timestamp::now()).await.unwrap().ready, 1);
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    bump_user_version(&path);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

fn bump_user_version(path: &std::path::Path) {
    // Simulate a newer schema with the sqlite3 file format itself: user_version lives at a
    // fixed header offset (60..64, big endian).
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_file_refuses_to_open_instead_of_acknowledging_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.sqlite");
    {
        let store = SqliteStore::open(&path).unwrap();
        let events: Vec<_> = (0..3_000).map(|i| event(&format!("k{i}"))).collect();
        store.enqueue(&events).await.unwrap();
    }
    // The writer thread checkpoints the WAL into the file when the store drops.
    for _ in 0..100 {
        if !dir.path().join("damaged.sqlite-wal").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024, "file is {} bytes", bytes.len());
    let middle = bytes.len() / 2;
    bytes[middle - 8192..middle + 8192].fill(0);
    std::fs::write(&path, &bytes).unwrap();

    let error = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&error, StoreError::Corrupt { what, .. } if what.contains("damaged.sqlite")),
        "{error}"
    );
    assert!(!error.is_retryable());

    // A host that runs its own check can skip it (and then meets the damage on use).
    let skipped = SqliteStore::open_with(&SqliteConfig {
        integrity: cartograph_store_sqlite::IntegrityCheck::Skip,
        ..SqliteConfig::new(&path)
    });
    assert!(skipped.is_ok(), "skip opens without checking");
}
