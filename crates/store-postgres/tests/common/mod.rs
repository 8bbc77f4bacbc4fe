//! Finding the test server and giving each test store a schema of its own.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod vendor;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use cartograph_model::Timestamp;
use cartograph_store_postgres::{PgConfig, PgStore};
use cartograph_sync::NewQueuedEvent;

/// The variable holding the test server's connection string.
pub const URL_VAR: &str = "CARTOGRAPH_PG_URL";

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The test server's connection string, or `None` (after saying why) when there is none and
/// `CI` is not set. Under CI a missing or unreachable server fails the test.
pub async fn server() -> Option<String> {
    let Ok(url) = std::env::var(URL_VAR) else {
        assert!(
            !under_ci(),
            "CI is set but {URL_VAR} is not: .ci/run starts PostgreSQL and sets it"
        );
        eprintln!(
            "SKIPPED: no PostgreSQL server: set {URL_VAR} (e.g. \"host=/tmp port=5432 user=postgres dbname=cartograph\") to run the PostgreSQL store tests"
        );
        return None;
    };
    match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok((client, connection)) => {
            let task = tokio::spawn(connection);
            drop(client);
            let _ = task.await;
            Some(url)
        }
        Err(e) => {
            assert!(
                !under_ci(),
                "CI is set but the PostgreSQL server at {URL_VAR} is not reachable: {e}"
            );
            eprintln!("SKIPPED: the PostgreSQL server at {URL_VAR} is not reachable: {e}");
            None
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A schema name no other test (of this or another test process) uses.
pub fn fresh_schema(tag: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("t_{tag}_{}_{n}_{nanos}", std::process::id())
}

/// Settings for a store in `schema`.
pub fn config(url: &str, schema: &str) -> PgConfig {
    PgConfig::new(url).with_schema(schema)
}

/// Opens a store in a fresh schema.
pub async fn fresh(url: &str, tag: &str) -> PgStore {
    PgStore::open(&config(url, &fresh_schema(tag)))
        .await
        .unwrap()
}

/// Runs SQL on a connection of its own.
pub async fn sql(url: &str, text: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    client.batch_execute(text).await.unwrap();
    drop(client);
    let _ = task.await;
}

/// Runs a query returning one `bigint`.
pub async fn scalar(url: &str, text: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(connection);
    let value: i64 = client.query_one(text, &[]).await.unwrap().get(0);
    drop(client);
    let _ = task.await;
    value
}

/// Drops the schemas the test made.
pub async fn drop_schemas(url: &str, schemas: &[String]) {
    for schema in schemas {
        sql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
    }
}

/// A due commerce notification with key `key`.
pub fn event(key: &str) -> NewQueuedEvent {
    NewQueuedEvent {
        key: key.into(),
        source: "shop".into(),
        kind: "commerce_notification".into(),
        payload: format!(r#"{{"key":"{key}"}}"#),
        not_before: Timestamp::UNIX_EPOCH,
    }
}

/// Largest number of instants inside any half-open window `[t, t + width)`.
pub fn busiest_window(instants: &mut [Instant], width: Duration) -> usize {
    instants.sort();
    (0..instants.len())
        .map(|i| {
            instants[i..]
                .iter()
                .take_while(|t| **t - instants[i] < width)
                .count()
        })
        .max()
        .unwrap_or(0)
}
