//! Lost connections: every server connection of the stores is terminated (as a failover or a
//! restart would); operations fail with a retryable error at worst and then work again on
//! new pooled connections, and the `LISTEN` connection comes back by itself, so idle
//! workers still wake on new events. One test in this binary: it kills every
//! `cartograph` connection of the server.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_model::Timestamp;
use cartograph_store_postgres::PgStore;
use cartograph_sync::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_connections_are_retryable_and_come_back() {
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("failover");
    let idle = Arc::new(PgStore::open(&common::config(&url, &schema)).await.unwrap());
    let intake = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    intake.enqueue(&[common::event("before")]).await.unwrap();
    assert_eq!(idle.queue_stats(Timestamp::now()).await.unwrap().ready, 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let killed = common::scalar(
        &url,
        "SELECT count(pg_terminate_backend(pid))::bigint FROM pg_stat_activity
         WHERE application_name = 'cartograph' AND pid <> pg_backend_pid()",
    )
    .await;
    assert!(
        killed >= 3,
        "pooled and LISTEN connections terminated: {killed}"
    );
    // Each call either works on a fresh connection or fails retryably; soon it works.
    let mut answered = None;
    for _ in 0..5 {
        match idle.queue_stats(Timestamp::now()).await {
            Ok(stats) => {
                answered = Some(stats);
                break;
            }
            Err(e) => assert!(e.is_retryable(), "a lost connection is retryable: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered.expect("the store recovered").ready, 1);
    // The listener reconnects (100 ms backoff) and wakes waiters on new events again.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let waiter = {
        let idle = Arc::clone(&idle);
        tokio::spawn(async move {
            let started = Instant::now();
            idle.wait_for_work(Duration::from_secs(30)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut queued = false;
    for _ in 0..5 {
        match intake.enqueue(&[common::event("after")]).await {
            Ok(_) => {
                queued = true;
                break;
            }
            Err(e) => assert!(e.is_retryable(), "{e:?}"),
        }
    }
    assert!(queued, "intake recovered");
    let waited = waiter.await.unwrap();
    assert!(
        waited < Duration::from_secs(5),
        "woken through the re-made LISTEN connection: {waited:?}"
    );
    drop((idle, intake));
    common::drop_schemas(&url, &[schema]).await;
}
