//! Durable intake into the PostgreSQL queue: 256 concurrent single-event `enqueue` calls
//! (one per webhook), group-committed, beside the same calls with one transaction per event
//! (group commit off: `max_group` 1, as many commit lanes as connections), so the figure
//! reads as a ratio; and a worker's lease + complete of 100 events.
//!
//! Needs a server: `CARTOGRAPH_PG_URL=... cargo bench -p cartograph-store-postgres`; without
//! the variable it prints that it skipped.

// Criterion's generated items are undocumented.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cartograph_model::Timestamp;
use cartograph_store_postgres::{PgConfig, PgStore};
use cartograph_sync::{NewQueuedEvent, Store};
use criterion::{Criterion, Throughput};

const CONCURRENT: u64 = 256;

static NEXT: AtomicU64 = AtomicU64::new(0);

fn event() -> NewQueuedEvent {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    NewQueuedEvent {
        key: format!("bench:{n}"),
        source: "shop".into(),
        kind: "commerce_notification".into(),
        payload: format!(r#"{{"scope":"store/order/updated","data":{{"type":"order","id":{n}}}}}"#),
        not_before: Timestamp::UNIX_EPOCH,
    }
}

async fn enqueue_concurrently(store: &Arc<PgStore>) {
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let store = Arc::clone(store);
            tokio::spawn(async move { store.enqueue(&[event()]).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("enqueue");
    }
}

fn main() {
    let Ok(url) = std::env::var("CARTOGRAPH_PG_URL") else {
        eprintln!("pg_intake: skipped (set CARTOGRAPH_PG_URL to a PostgreSQL server)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let schema = format!("bench_{}", std::process::id());
    let grouped = rt.block_on(async {
        Arc::new(
            PgStore::open(&PgConfig::new(url.as_str()).with_schema(schema.as_str()))
                .await
                .expect("open"),
        )
    });
    let single = rt.block_on(async {
        let config = PgConfig {
            max_group: 1,
            commit_lanes: 8,
            ..PgConfig::new(url.as_str()).with_schema(schema.as_str())
        };
        Arc::new(PgStore::open(&config).await.expect("open"))
    });

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    {
        let mut group = c.benchmark_group("pg_intake");
        group.throughput(Throughput::Elements(CONCURRENT));
        group.bench_function("group_commit_256_concurrent", |b| {
            b.iter(|| rt.block_on(enqueue_concurrently(&grouped)));
        });
        group.bench_function("baseline_one_transaction_per_event", |b| {
            b.iter(|| rt.block_on(enqueue_concurrently(&single)));
        });
        group.finish();
    }
    {
        let mut group = c.benchmark_group("pg_queue");
        group.throughput(Throughput::Elements(100));
        group.bench_function("lease_and_complete_100", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let batch = grouped
                        .lease("bench", 100, Duration::from_secs(60), Timestamp::now())
                        .await
                        .expect("lease");
                    if batch.len() < 100 {
                        enqueue_concurrently(&grouped).await;
                    }
                    let ids: Vec<_> = batch.iter().map(|e| e.id).collect();
                    grouped.complete(&ids).await.expect("complete");
                });
            });
        });
        group.finish();
    }
    c.final_summary();
    drop((grouped, single));
    rt.block_on(async {
        if let Ok((client, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await
        {
            let task = tokio::spawn(connection);
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await;
            drop(client);
            let _ = task.await;
        }
    });
}
