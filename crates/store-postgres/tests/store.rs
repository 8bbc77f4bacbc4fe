//! The PostgreSQL store against the Store conformance suite, plus what only a shared server
//! shows: several store instances (machines) on one queue, group commit, wake-ups,
//! migrations and error kinds.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_model::Timestamp;
use cartograph_store_postgres::{PgConfig, PgStore};
use cartograph_sync::{EnqueueOutcome, Store, StoreError};
use cartograph_testkit::store as suite;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(url) = common::server().await else {
        return;
    };
    // The suite opens 15 stores; open them first (opening is async), each in its own schema.
    let mut schemas = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..15 {
        let schema = common::fresh_schema("conf");
        stores.push(Arc::new(
            PgStore::open(&common::config(&url, &schema)).await.unwrap(),
        ));
        schemas.push(schema);
    }
    stores.reverse();
    suite::run_all(|| stores.pop().expect("the suite opens 15 stores") as Arc<dyn Store>).await;
    assert!(stores.is_empty(), "the suite used every store");
    common::drop_schemas(&url, &schemas).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_on_separate_instances_never_share_an_event() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("share");
    // Four instances, each with its own pool and listener: four machines.
    let mut machines = Vec::new();
    for _ in 0..4 {
        machines.push(Arc::new(
            PgStore::open(&common::config(&url, &schema).with_pool_size(3))
                .await
                .unwrap(),
        ));
    }
    let events: Vec<_> = (0..1200)
        .map(|i| common::event(&format!("e{i:05}")))
        .collect();
    for chunk in events.chunks(300) {
        machines[0].enqueue(chunk).await.unwrap();
    }
    let mut tasks = Vec::new();
    for (m, store) in machines.iter().enumerate() {
        for w in 0..2 {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .lease(
                            &format!("m{m}w{w}"),
                            25,
                            Duration::from_secs(600),
                            Timestamp::now(),
                        )
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        break;
                    }
                    let ids: Vec<_> = batch.iter().map(|e| e.id).collect();
                    mine.extend(batch.into_iter().map(|e| e.key));
                    store.complete(&ids).await.unwrap();
                }
                mine
            }));
        }
    }
    let mut seen = HashSet::new();
    let mut per_worker = Vec::new();
    for task in tasks {
        let keys = task.await.unwrap();
        per_worker.push(keys.len());
        for key in keys {
            assert!(seen.insert(key.clone()), "{key} leased twice");
        }
    }
    assert_eq!(seen.len(), 1200, "every event handed out once");
    assert!(
        per_worker.iter().filter(|n| **n > 0).count() >= 2,
        "the work was shared: {per_worker:?}"
    );
    let keys: Vec<String> = events.iter().map(|e| e.key.clone()).collect();
    assert!(
        machines[3]
            .processed(&keys)
            .await
            .unwrap()
            .iter()
            .all(|p| *p)
    );
    drop(machines);
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_lease_expires_and_another_machine_gets_the_event() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("expiry");
    let a = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    let b = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    a.enqueue(&[common::event("only")]).await.unwrap();
    let first = a
        .lease("a", 10, Duration::from_millis(300), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    drop(a); // the worker dies holding the lease
    assert!(
        b.lease("b", 10, Duration::from_secs(30), Timestamp::now())
            .await
            .unwrap()
            .is_empty(),
        "the lease still holds"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let again = b
        .lease("b", 10, Duration::from_secs(30), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(again.len(), 1, "re-delivered after the lease expired");
    assert_eq!(again[0].key, "only");
    assert_eq!(again[0].attempts, 2, "the dead worker's attempt counts");
    drop(b);
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_are_group_committed_and_all_durable() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("group");
    let store = Arc::new(
        PgStore::open(
            &common::config(&url, &schema).with_group_commit(Duration::from_millis(5), 1024),
        )
        .await
        .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let store = Arc::clone(&store);
        // Every tenth key is sent twice, concurrently: one of the two is queued.
        let key = format!("w{}", if i % 10 == 9 { i - 1 } else { i });
        tasks.push(tokio::spawn(async move {
            store.enqueue(&[common::event(&key)]).await
        }));
    }
    let mut queued = HashSet::new();
    let mut duplicates = 0;
    for t in tasks {
        match t.await.unwrap().unwrap()[0] {
            EnqueueOutcome::Queued(id) => assert!(queued.insert(id), "id {id} given twice"),
            EnqueueOutcome::Duplicate => duplicates += 1,
        }
    }
    assert_eq!((queued.len(), duplicates), (900, 100));
    drop(store);
    // Durable and visible to another machine.
    let other = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    assert_eq!(
        other.queue_stats(Timestamp::now()).await.unwrap().ready,
        900
    );
    // Rows written by one transaction share its xmin: far fewer transactions than events.
    let transactions = common::scalar(
        &url,
        &format!("SELECT count(DISTINCT xmin::text)::bigint FROM {schema}.queue"),
    )
    .await;
    assert!(
        transactions <= 300,
        "{transactions} transactions for 900 events: intake is not group-committed"
    );
    drop(other);
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_does_not_undo_its_group() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("fail");
    let store = Arc::new(
        PgStore::open(
            &common::config(&url, &schema).with_group_commit(Duration::from_millis(30), 1024),
        )
        .await
        .unwrap(),
    );
    let bad = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            // PostgreSQL text cannot hold NUL: this event fails the whole INSERT.
            let mut e = common::event("bad");
            e.payload = "{\"x\":\"\u{0}\"}".into();
            store.enqueue(&[e]).await
        })
    };
    let good: Vec<_> = (0..5)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.enqueue(&[common::event(&format!("good{i}"))]).await })
        })
        .collect();
    let err = bad.await.unwrap().unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(!err.is_retryable());
    for g in good {
        assert!(matches!(
            g.await.unwrap().unwrap()[0],
            EnqueueOutcome::Queued(_)
        ));
    }
    assert_eq!(store.queue_stats(Timestamp::now()).await.unwrap().ready, 5);
    drop(store);
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_workers_wake_when_another_machine_enqueues() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("wake");
    let idle = Arc::new(PgStore::open(&common::config(&url, &schema)).await.unwrap());
    let intake = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    // Let the listener settle (its first connect wakes waiters once by design).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let quiet = Instant::now();
    idle.wait_for_work(Duration::from_millis(400)).await;
    assert!(
        quiet.elapsed() >= Duration::from_millis(350),
        "no work, no wake-up: waited {:?}",
        quiet.elapsed()
    );
    let waiter = {
        let idle = Arc::clone(&idle);
        tokio::spawn(async move {
            let started = Instant::now();
            idle.wait_for_work(Duration::from_secs(30)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    intake.enqueue(&[common::event("wake-up")]).await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(
        waited < Duration::from_secs(5),
        "woken by the notification, not the 30 s timeout: {waited:?}"
    );
    assert_eq!(
        idle.lease("w", 10, Duration::from_secs(5), Timestamp::now())
            .await
            .unwrap()
            .len(),
        1
    );
    drop((idle, intake));
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_machines_starting_at_once_migrate_once() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("migrate");
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let config = common::config(&url, &schema);
            tokio::spawn(async move { PgStore::open(&config).await })
        })
        .collect();
    for open in opens {
        open.await.unwrap().unwrap();
    }
    let versions = common::scalar(
        &url,
        &format!("SELECT count(*)::bigint FROM {schema}.schema_migrations"),
    )
    .await;
    assert_eq!(
        versions,
        i64::from(cartograph_store_postgres::SCHEMA_VERSION)
    );
    // Reopening is a no-op; a schema from a newer build is refused.
    PgStore::open(&common::config(&url, &schema)).await.unwrap();
    common::sql(
        &url,
        &format!("INSERT INTO {schema}.schema_migrations (version) VALUES (99)"),
    )
    .await;
    let err = PgStore::open(&common::config(&url, &schema))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
    common::drop_schemas(&url, &[schema]).await;
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_error_without_the_password() {
    // Port 9 on loopback: nothing listens there.
    let config = PgConfig {
        connect_timeout: Duration::from_secs(2),
        ..PgConfig::new("postgresql://carto:hunter2-secret@127.0.0.1:9/cartograph")
    };
    let err = PgStore::open(&config).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("hunter2"), "{err:?}");
    assert!(!format!("{config:?}").contains("hunter2"));
}
