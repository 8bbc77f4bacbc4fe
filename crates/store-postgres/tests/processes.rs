//! Four worker processes on one database drain 20,000 queued events while two of them are
//! killed with SIGKILL and started again: nothing is lost, at most the batches in flight at
//! the kills are repeated, and a vendor that answers 429 over its quota (10 requests per
//! 100 ms here, one request per batch) never has to, because every process takes its
//! requests from the account's budget in the database.
//!
//! The worker processes are this test binary run again with [`CHILD`] set: the test
//! `worker_process` is their entry point.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../examples/support/count.rs"]
mod count;

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_http::{
    BaseUrl, DefaultPolicy, HttpClient, HttpConfig, NoAuth, RateLimit, RetryPolicy,
};
use cartograph_model::Timestamp;
use cartograph_store_postgres::PgStore;
use cartograph_sync::{NewQueuedEvent, Store};

/// Set in a worker process: its name.
const CHILD: &str = "CARTOGRAPH_PG_TEST_WORKER";
const SCHEMA: &str = "CARTOGRAPH_PG_TEST_SCHEMA";
const VENDOR: &str = "CARTOGRAPH_PG_TEST_VENDOR";
const BATCH: usize = 50;
const EVENTS: u64 = 20_000;
const PEOPLE: u64 = 500;

fn quota() -> RateLimit {
    RateLimit::new(10, Duration::from_millis(100))
}

/// The entry point of the worker processes started by
/// `four_worker_processes_drain_the_queue_through_two_kills`; run directly (without
/// [`CHILD`]) it has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_process() {
    let Ok(name) = std::env::var(CHILD) else {
        return;
    };
    let url = std::env::var(common::URL_VAR).unwrap();
    let schema = std::env::var(SCHEMA).unwrap();
    let store = Arc::new(
        PgStore::open(&common::config(&url, &schema).with_pool_size(4))
            .await
            .unwrap(),
    );
    let vendor = std::env::var(VENDOR).unwrap();
    let gate = store.quota().gate("vendor:acct-1", quota());
    let client = HttpClient::new(
        HttpConfig::new(BaseUrl::parse(&vendor).unwrap(), Arc::new(NoAuth))
            .with_request_gate(Arc::new(gate))
            .with_retry(RetryPolicy::none()),
        Arc::new(DefaultPolicy::new("vendor")),
    )
    .unwrap();
    count::work(store, name, BATCH, Some(client)).await.unwrap();
}

fn spawn(name: &str, url: &str, schema: &str, vendor: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["worker_process", "--exact", "--test-threads=1", "--quiet"])
        .env(CHILD, name)
        .env(common::URL_VAR, url)
        .env(SCHEMA, schema)
        .env(VENDOR, vendor)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_worker_processes_drain_the_queue_through_two_kills() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let Some(url) = common::server().await else {
        return;
    };
    let schema = common::fresh_schema("procs");
    let store = PgStore::open(&common::config(&url, &schema)).await.unwrap();
    let (server, tally) = common::vendor::start(quota()).await;
    let events: Vec<NewQueuedEvent> = (0..EVENTS)
        .map(|n| count::notification(n, PEOPLE).unwrap())
        .collect();
    for chunk in events.chunks(2000) {
        store.enqueue(chunk).await.unwrap();
    }
    let started = Instant::now();
    let mut workers: Vec<Child> = (0..4)
        .map(|i| spawn(&format!("w{i}"), &url, &schema, &server.uri()))
        .collect();
    // Kill two workers once the work is under way, then start them again.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let left = store.queue_stats(Timestamp::now()).await.unwrap().total();
        if left <= EVENTS * 4 / 5 {
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {left} left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (i, worker) in workers.iter_mut().enumerate().take(2) {
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();
        *worker = spawn(&format!("w{i}-again"), &url, &schema, &server.uri());
    }
    for worker in &mut workers {
        loop {
            if let Some(status) = worker.try_wait().unwrap() {
                assert!(status.success(), "a worker process failed: {status}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the workers did not drain the queue"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let elapsed = started.elapsed();
    let (counted, lost, repeated) = count::tally(&store, EVENTS, PEOPLE).await.unwrap();
    eprintln!(
        "4 processes, 2 killed: {EVENTS} events in {elapsed:?}; counted {counted}, lost {lost}, repeated {repeated}; vendor {:?}",
        tally.lock().unwrap()
    );
    assert_eq!(lost, 0, "every queued event was processed");
    assert!(
        repeated <= 2 * BATCH as u64,
        "only the batches in flight at the two kills may repeat: {repeated}"
    );
    let stats = store.queue_stats(Timestamp::now()).await.unwrap();
    assert_eq!(stats.total(), 0, "{stats:?}");
    assert_eq!(store.dead_letter_count().await.unwrap(), 0);
    let keys: Vec<String> = events.iter().map(|e| e.key.clone()).collect();
    assert!(store.processed(&keys).await.unwrap().iter().all(|p| *p));
    let common::vendor::Tally {
        refused: refusals,
        served,
    } = *tally.lock().unwrap();
    assert_eq!(
        refusals, 0,
        "the shared budget kept four processes within the vendor's quota"
    );
    assert!(
        served >= EVENTS / BATCH as u64,
        "one vendor call per batch at least: {served}"
    );
    drop(store);
    common::drop_schemas(&url, &[schema]).await;
}
