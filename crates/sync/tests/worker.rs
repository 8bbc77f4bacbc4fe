//! Worker and intake behaviour on the SQLite store: every item ends completed, retried,
//! parked or dead-lettered, never dropped.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceSource, Error, ErrorKind, NotificationKind, WebhookNotification,
    WebhookRequest,
};
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{
    Counters, DeadLetterFilter, Handler, Intake, ItemOutcome, NewQueuedEvent, Store, WorkItem,
    Worker, WorkerConfig,
};

fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("w.sqlite")).unwrap();
    (dir, Arc::new(store))
}

fn notification(id: &str) -> WorkItem {
    WorkItem::CommerceNotification {
        notification: WebhookNotification {
            id: id.into(),
            source: SourceRef::new("shop", RecordKind::Order, id),
            topic: "store/order/created".into(),
            kind: NotificationKind::Created,
            occurred_at: Timestamp::from_unix_seconds(1_700_000_000).unwrap(),
        },
    }
}

async fn enqueue(store: &dyn Store, items: &[WorkItem]) {
    let events: Vec<_> = items
        .iter()
        .map(|i| NewQueuedEvent {
            key: i.record(),
            source: "shop".into(),
            kind: i.kind().into(),
            payload: serde_json::to_string(i).unwrap(),
            not_before: Timestamp::UNIX_EPOCH,
        })
        .collect();
    store.enqueue(&events).await.unwrap();
}

/// Answers per record: a scripted list of outcomes per call, then Done.
struct Scripted {
    calls: AtomicU32,
    script: Mutex<Vec<fn() -> ItemOutcome>>,
}

#[async_trait]
impl Handler for Scripted {
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut script = self.script.lock().unwrap();
        items
            .iter()
            .map(|_| {
                if script.is_empty() {
                    ItemOutcome::Done
                } else {
                    script.remove(0)()
                }
            })
            .collect()
    }
}

fn worker(
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    max_attempts: u32,
) -> (Worker, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let config = WorkerConfig {
        retry_base: Duration::ZERO,
        max_attempts,
        ..WorkerConfig::default()
    };
    (
        Worker::new(store, handler, Arc::clone(&counters), config),
        counters,
    )
}

#[tokio::test]
async fn retryable_failures_are_retried_then_completed() {
    let (_dir, store) = store();
    enqueue(store.as_ref(), &[notification("1")]).await;
    let handler = Arc::new(Scripted {
        calls: AtomicU32::new(0),
        script: Mutex::new(vec![
            || ItemOutcome::Retry {
                error: Error::new(ErrorKind::Unavailable, "503"),
            },
            || ItemOutcome::Retry {
                error: Error::new(ErrorKind::RateLimited, "429"),
            },
        ]),
    });
    let (worker, counters) = worker(Arc::clone(&store), handler.clone(), 5);
    let report = worker.run_until_idle().await.unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(report.retried, 2);
    assert_eq!(handler.calls.load(Ordering::SeqCst), 3);
    assert_eq!(counters.snapshot().rate_limited, 1);
    assert_eq!(
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );
    assert_eq!(
        store.processed(&["shop/order/1".into()]).await.unwrap(),
        vec![true]
    );
}

#[tokio::test]
async fn exhausted_retries_become_dead_letters_with_the_reason() {
    let (_dir, store) = store();
    enqueue(store.as_ref(), &[notification("2")]).await;
    let handler = Arc::new(Scripted {
        calls: AtomicU32::new(0),
        script: Mutex::new(vec![
            || ItemOutcome::Retry {
                error: Error::new(ErrorKind::Timeout, "slow")
            };
            10
        ]),
    });
    let (worker, counters) = worker(Arc::clone(&store), handler, 3);
    worker.run_until_idle().await.unwrap();
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].stage, "retries_exhausted");
    assert_eq!(letters[0].error_kind, "timeout");
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].record, "shop/order/2");
    assert_eq!(counters.snapshot().dead_lettered, 1);
    // The payload is kept, so a replay brings the item back.
    store
        .replay_dead_letter(letters[0].id, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(store.queue_stats(Timestamp::now()).await.unwrap().ready, 1);
}

#[tokio::test]
async fn quota_errors_park_instead_of_failing() {
    let (_dir, store) = store();
    enqueue(store.as_ref(), &[notification("3")]).await;
    let handler = Arc::new(Scripted {
        calls: AtomicU32::new(0),
        script: Mutex::new(vec![|| {
            ItemOutcome::from_error(
                "write",
                Error::new(ErrorKind::QuotaExhausted, "DAILY")
                    .with_retry_after(Duration::from_secs(3600)),
            )
        }]),
    });
    let (worker, counters) = worker(Arc::clone(&store), handler, 3);
    let report = worker.run_until_idle().await.unwrap();
    assert_eq!(report.parked, 1);
    assert_eq!(counters.snapshot().parked, 1);
    let stats = store.queue_stats(Timestamp::now()).await.unwrap();
    assert_eq!(stats.delayed, 1, "parked until the quota resets: {stats:?}");
    assert_eq!(store.dead_letter_count().await.unwrap(), 0);
}

#[tokio::test]
async fn undecodable_payloads_and_permanent_errors_are_dead_lettered() {
    let (_dir, store) = store();
    store
        .enqueue(&[NewQueuedEvent {
            key: "garbage".into(),
            source: "shop".into(),
            kind: "commerce_notification".into(),
            payload: "{not json".into(),
            not_before: Timestamp::UNIX_EPOCH,
        }])
        .await
        .unwrap();
    enqueue(store.as_ref(), &[notification("4")]).await;
    let handler = Arc::new(Scripted {
        calls: AtomicU32::new(0),
        script: Mutex::new(vec![|| ItemOutcome::Dead {
            stage: "map",
            error: Error::invalid_field("shop/order/4", "currency", "unknown currency \"XYZ\""),
        }]),
    });
    let (worker, _) = worker(Arc::clone(&store), handler, 3);
    let report = worker.run_until_idle().await.unwrap();
    assert_eq!(report.dead_lettered, 2);
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    let stages: Vec<_> = letters
        .iter()
        .map(|l| (l.stage.as_str(), l.error_kind.as_str()))
        .collect();
    assert!(stages.contains(&("decode", "decode")), "{stages:?}");
    assert!(stages.contains(&("map", "invalid")), "{stages:?}");
    let map = letters.iter().find(|l| l.stage == "map").unwrap();
    assert!(map.message.contains("field currency"), "{}", map.message);
}

struct Shop;

#[async_trait]
impl CommerceSource for Shop {
    fn name(&self) -> &str {
        "shop"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            webhooks: true,
            ..Capabilities::default()
        }
    }
    fn parse_webhook(
        &self,
        request: &WebhookRequest,
    ) -> cartograph_connector::Result<Vec<WebhookNotification>> {
        if request.header("x-secret") != Some("s3cret") {
            return Err(Error::new(ErrorKind::Signature, "bad secret"));
        }
        let id: String = serde_json::from_slice::<serde_json::Value>(&request.body)
            .map_err(|e| Error::new(ErrorKind::Decode, e.to_string()))?["id"]
            .as_str()
            .ok_or_else(|| Error::new(ErrorKind::Decode, "missing id").with_field("id"))?
            .to_owned();
        let WorkItem::CommerceNotification { notification } = notification(&id) else {
            unreachable!()
        };
        Ok(vec![notification])
    }
}

#[tokio::test]
async fn intake_queues_once_refuses_bad_signatures_and_keeps_bad_bodies() {
    let (_dir, store) = store();
    let intake = Intake::new(Arc::clone(&store));
    let req = |secret: &str, body: &str| {
        WebhookRequest::post(
            "https://app.example/hooks",
            vec![("X-Secret".into(), secret.into())],
            body.as_bytes().to_vec(),
        )
    };
    let ok = intake
        .commerce(&Shop, &req("s3cret", r#"{"id":"9"}"#))
        .await;
    assert_eq!((ok.status, ok.queued, ok.duplicates), (200, 1, 0));
    let again = intake
        .commerce(&Shop, &req("s3cret", r#"{"id":"9"}"#))
        .await;
    assert_eq!(
        (again.status, again.queued, again.duplicates),
        (200, 0, 1),
        "redelivery is a duplicate"
    );
    let forged = intake
        .commerce(&Shop, &req("guess", r#"{"id":"10"}"#))
        .await;
    assert_eq!(forged.status, 401);
    let broken = intake.commerce(&Shop, &req("s3cret", r#"{"id":"#)).await;
    assert_eq!((broken.status, broken.dead_lettered), (200, 1));
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].stage, "intake");
    assert!(
        letters[0].payload.contains(r#"{\"id\":"#),
        "raw body kept: {}",
        letters[0].payload
    );
    assert!(
        !letters[0].payload.contains("s3cret"),
        "header values are not stored"
    );
    assert_eq!(store.queue_stats(Timestamp::now()).await.unwrap().ready, 1);
}
