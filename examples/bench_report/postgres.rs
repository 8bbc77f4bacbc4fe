//! `postgres_intake_events_per_sec`, `postgres_lease_complete_per_sec`,
//! `postgres_quota_overhead_ms` and `postgres_workers_scaling` (in `pg_scaling`): the
//! PostgreSQL store on the server named by
//! `CARTOGRAPH_PG_URL` (each run in a fresh schema, dropped afterwards). Without the
//! variable the figures are null with that reason.
//!
//! - Intake: [`SENDERS`] concurrent single-event `enqueue` calls (one per webhook, as the
//!   intake router makes them), group-committed by the store; events durably queued per
//!   second. No HTTP: the HTTP intake is measured on SQLite by the `intake` section.
//! - Lease + complete: 1, 2 and 4 workers, each with its own store (as on separate
//!   machines), lease batches of [`BATCH`] with `FOR UPDATE SKIP LOCKED` and complete them
//!   until the queue is empty; events per second for all workers together.
//! - Shared quota: the time one `SharedQuota::reserve` takes (the database round trip every
//!   gated vendor request waits for, on an account whose budget never makes it wait), the
//!   median of sequential calls; p99 and the reservations per second of 8 concurrent callers
//!   of one account in the detail.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cartograph::http::RateLimit;
use cartograph::model::Timestamp;
use cartograph::store_postgres::{PgConfig, PgStore};
use cartograph::sync::{NewQueuedEvent, Store};
use serde_json::json;

use crate::report::{Figure, median, percentile};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The variable naming the server.
pub(crate) const URL_VAR: &str = "CARTOGRAPH_PG_URL";
/// Concurrent intake callers.
pub(crate) const SENDERS: usize = 256;
/// Events per lease.
const BATCH: usize = 100;
/// Worker counts of the lease + complete figure.
const WORKERS: [usize; 3] = [1, 2, 4];
/// Sequential reservations timed for the quota figure.
const RESERVATIONS: usize = 2_000;
/// Concurrent callers of one account for the reservation throughput.
const QUOTA_CALLERS: usize = 8;

const INTAKE: &str = "postgres_intake_events_per_sec";
const LEASE: &str = "postgres_lease_complete_per_sec";
const QUOTA: &str = "postgres_quota_overhead_ms";

/// The three figures as null with `reason`.
pub(crate) fn missing(reason: &str) -> Vec<Figure> {
    vec![
        Figure::missing(INTAKE, "events/s", json!(null), reason),
        Figure::missing(LEASE, "events/s", json!(null), reason),
        Figure::missing(QUOTA, "ms", json!(null), reason),
        crate::pg_scaling::missing(reason),
    ]
}

fn event(run: usize, n: usize) -> NewQueuedEvent {
    NewQueuedEvent {
        key: format!("bench:{run}:{n}"),
        source: "shop".into(),
        kind: "commerce_notification".into(),
        payload: format!(r#"{{"scope":"store/order/updated","data":{{"type":"order","id":{n}}}}}"#),
        not_before: Timestamp::UNIX_EPOCH,
    }
}

#[allow(clippy::cast_precision_loss)]
fn per_sec(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// `events` single-event enqueues from [`SENDERS`] tasks; events per second.
async fn intake_run(store: &Arc<PgStore>, run: usize, events: usize) -> Result<f64, BoxError> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..SENDERS)
        .map(|_| {
            let store = Arc::clone(store);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= events {
                        return Ok::<(), cartograph::sync::StoreError>(());
                    }
                    store.enqueue(&[event(run, n)]).await?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(per_sec(events, started.elapsed()))
}

/// Workers drain the queue (`events` due events) in batches; events per second.
async fn drain(stores: &[Arc<PgStore>], events: usize) -> Result<f64, BoxError> {
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(i, store)| {
            let store = Arc::clone(store);
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let worker = format!("bench-worker-{i}");
                loop {
                    let batch = store
                        .lease(&worker, BATCH, Duration::from_secs(60), Timestamp::now())
                        .await?;
                    if batch.is_empty() {
                        return Ok::<(), cartograph::sync::StoreError>(());
                    }
                    let ids: Vec<_> = batch.iter().map(|e| e.id).collect();
                    store.complete(&ids).await?;
                    done.fetch_add(ids.len(), Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let drained = done.load(Ordering::Relaxed);
    if drained != events {
        return Err(format!("{drained} of {events} events drained").into());
    }
    Ok(per_sec(events, started.elapsed()))
}

/// Milliseconds per sequential reservation, and reservations per second of
/// [`QUOTA_CALLERS`] concurrent callers.
async fn quota(store: &PgStore) -> Result<(Vec<f64>, f64), BoxError> {
    // A budget that never makes a caller wait: only the round trip is timed.
    let limit = RateLimit::new(1_000_000_000, Duration::from_secs(1));
    let quota = store.quota();
    quota.reserve("bench:warm-up", &limit).await?;
    let mut each = Vec::with_capacity(RESERVATIONS);
    for _ in 0..RESERVATIONS {
        let started = Instant::now();
        quota.reserve("bench:sequential", &limit).await?;
        each.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let per_caller = RESERVATIONS / QUOTA_CALLERS;
    let started = Instant::now();
    let tasks: Vec<_> = (0..QUOTA_CALLERS)
        .map(|_| {
            let quota = quota.clone();
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    quota.reserve("bench:concurrent", &limit).await?;
                }
                Ok::<(), cartograph::sync::StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok((each, per_sec(per_caller * QUOTA_CALLERS, started.elapsed())))
}

async fn open(url: &str, schema: &str) -> Result<Arc<PgStore>, BoxError> {
    Ok(Arc::new(
        PgStore::open(&PgConfig::new(url).with_schema(schema)).await?,
    ))
}

async fn drop_schema(url: &str, schema: &str) -> Result<(), BoxError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// The three figures on `url`: `events` per intake and drain run, `runs` runs each.
pub(crate) async fn measure(
    url: &str,
    events: usize,
    runs: usize,
) -> Result<Vec<Figure>, BoxError> {
    let schema = format!("bench_report_{}", std::process::id());
    let result = measure_in(url, &schema, events, runs).await;
    let dropped = drop_schema(url, &schema).await;
    let figures = result?;
    dropped?;
    Ok(figures)
}

async fn measure_in(
    url: &str,
    schema: &str,
    events: usize,
    runs: usize,
) -> Result<Vec<Figure>, BoxError> {
    let scaling_events = events;
    let intake_store = open(url, schema).await?;
    let mut workers = Vec::new();
    for _ in 0..WORKERS[WORKERS.len() - 1] {
        workers.push(open(url, schema).await?);
    }
    let mut intake = Vec::new();
    let mut lease: Vec<(usize, Vec<f64>)> = WORKERS.iter().map(|w| (*w, Vec::new())).collect();
    let mut run = 0;
    for _ in 0..runs {
        for (count, rates) in &mut lease {
            intake.push(intake_run(&intake_store, run, events).await?);
            run += 1;
            rates.push(drain(&workers[..*count], events).await?);
        }
    }
    let (each, concurrent) = quota(&intake_store).await?;
    let input = json!({"events": events, "runs": runs * WORKERS.len(), "senders": SENDERS});
    let intake_figure = Figure::new(INTAKE, median(&intake), "events/s", input)
        .target(">= 5,000 durable events/s (issue 17)", |v| v >= 5_000.0)
        .detail(json!({
            "runs": intake,
            "method": "single-event enqueue calls from 256 tasks, group commit, no HTTP",
        }));
    let by_workers: serde_json::Map<String, serde_json::Value> = lease
        .iter()
        .map(|(w, rates)| (w.to_string(), json!(median(rates))))
        .collect();
    let one = lease.first().map_or(f64::NAN, |(_, rates)| median(rates));
    let lease_figure = Figure::new(
        LEASE,
        one,
        "events/s",
        json!({"events": events, "runs": runs, "batch": BATCH}),
    )
    .detail(json!({
        "by_workers": by_workers,
        "method": "workers (one store each) lease batches with SKIP LOCKED and complete them until the queue is empty; value: 1 worker",
    }));
    let quota_figure = Figure::new(
        QUOTA,
        median(&each),
        "ms",
        json!({"reservations": RESERVATIONS}),
    )
    .detail(json!({
        "p99_ms": percentile(&each, 99.0),
        "reservations_per_sec_one_account": concurrent,
        "concurrent_callers": QUOTA_CALLERS,
        "method": "SharedQuota::reserve on a budget that never waits: one upsert round trip per gated request",
    }));
    let scaling_schema = format!("{schema}_scaling");
    let scaling = crate::pg_scaling::measure(url, &scaling_schema, scaling_events, runs).await;
    drop_schema(url, &scaling_schema).await?;
    Ok(vec![intake_figure, lease_figure, quota_figure, scaling?])
}
