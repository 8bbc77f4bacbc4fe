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
    Counters, DeadLetterFilter, Handler, Health, Intake, ItemOutcome, NewQueuedEvent, Store,
    WorkItem, Worker, WorkerConfig,
};
use cartograph_testkit::faulty::{Fault, FaultyStore};

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

// ---- store faults and health ----

fn fast(store: Arc<dyn Store>, health: &Arc<Health>) -> Worker {
    let handler = Arc::new(Scripted {
        calls: AtomicU32::new(0),
        script: Mutex::new(Vec::new()),
    });
    Worker::new(
        store,
        handler,
        Arc::new(Counters::default()),
        WorkerConfig {
            idle_poll: Duration::from_millis(1),
            store_backoff_max: Duration::from_millis(5),
            ..WorkerConfig::default()
        },
    )
    .with_health(Arc::clone(health))
}

fn signed(body: &str) -> WebhookRequest {
    WebhookRequest::post(
        "https://app.example/hooks",
        vec![("X-Secret".into(), "s3cret".into())],
        body.as_bytes().to_vec(),
    )
}

#[tokio::test]
async fn retryable_store_errors_are_backed_off_and_draining_goes_on() {
    let (_dir, inner) = store();
    enqueue(inner.as_ref(), &[notification("5"), notification("6")]).await;
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    faulty.fail("lease", Fault::Busy, 2);
    faulty.fail("complete", Fault::DiskFull, 1);
    let health = Arc::new(Health::default());
    let report = fast(faulty.clone(), &health)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(faulty.injected(), 3);
    assert_eq!(health.snapshot().store_errors, 3);
    assert_eq!(
        report.completed, 2,
        "both events completed after the faults"
    );
    assert_eq!(
        inner.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );
}

#[tokio::test]
async fn a_running_worker_outlasts_a_long_run_of_retryable_errors() {
    let (_dir, inner) = store();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    // More consecutive errors than `run_until_idle` would take: `run` never gives up on them.
    faulty.fail("lease", Fault::DiskFull, 40);
    enqueue(inner.as_ref(), &[notification("7")]).await;
    let health = Arc::new(Health::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = fast(faulty.clone(), &health);
    let running = tokio::spawn(async move { worker.run(stopped).await });
    for _ in 0..500 {
        if inner.processed(&["shop/order/7".into()]).await.unwrap()[0] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    let report = running.await.unwrap().unwrap();
    assert_eq!(report.completed, 1);
    assert_eq!(faulty.injected(), 40);
    assert!(health.snapshot().failed.is_empty());
}

#[tokio::test]
async fn intake_answers_503_while_no_worker_can_drain_and_200_once_one_runs_again() {
    let (_dir, inner) = store();
    let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
    let health = Arc::new(Health::default());
    let intake = Intake::new(faulty.clone()).with_health(Arc::clone(&health));
    assert_eq!(
        intake
            .commerce(&Shop, &signed(r#"{"id":"20"}"#))
            .await
            .status,
        200
    );

    faulty.fail("lease", Fault::Fatal, 1);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let error = fast(faulty.clone(), &health)
        .run(stopped.clone())
        .await
        .unwrap_err();
    assert!(!error.is_retryable(), "{error}");
    let snapshot = health.snapshot();
    assert!(!snapshot.can_drain());
    assert_eq!(snapshot.failed.len(), 1);
    assert!(
        snapshot.failed[0].error.contains("readonly"),
        "{snapshot:?}"
    );

    let refused = intake.commerce(&Shop, &signed(r#"{"id":"21"}"#)).await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(refused.error.unwrap().contains("no worker can drain"));
    assert_eq!(
        inner.queue_stats(Timestamp::now()).await.unwrap().total(),
        1,
        "the refused delivery was not stored"
    );

    // The host restarts a worker: intake acknowledges again and the queue drains.
    let worker = fast(faulty.clone(), &health);
    let running = tokio::spawn(async move { worker.run(stopped).await });
    for _ in 0..500 {
        if health.snapshot().running > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let taken = intake.commerce(&Shop, &signed(r#"{"id":"21"}"#)).await;
    assert_eq!(taken.status, 200, "{taken:?}");
    for _ in 0..500 {
        if inner.queue_stats(Timestamp::now()).await.unwrap().total() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    assert_eq!(running.await.unwrap().unwrap().completed, 2);
}

/// What the wrapped store holds: (queued events, dead letters).
async fn held(store: &dyn Store) -> (u64, u64) {
    (
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        store.dead_letter_count().await.unwrap(),
    )
}

#[tokio::test]
async fn intake_never_acknowledges_a_delivery_a_store_fault_kept_out() {
    // Every fault on the write of a queued event (enqueue) and of a dead letter (an
    // unparsable body): 503 so the vendor redelivers, nothing stored; once the store is
    // healthy again the redelivery is taken, and stored exactly once.
    for fault in [Fault::Busy, Fault::DiskFull, Fault::Fatal] {
        for (op, body, stored) in [
            ("enqueue", r#"{"id":"40"}"#, (1, 0)),
            ("add_dead_letter", r#"{"id":"#, (0, 1)),
        ] {
            let (_dir, inner) = store();
            let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
            let intake = Intake::new(faulty.clone());
            faulty.fail(op, fault, u32::MAX);
            let refused = intake.commerce(&Shop, &signed(body)).await;
            assert_eq!(
                (refused.status, refused.queued, refused.dead_lettered),
                (503, 0, 0),
                "{fault:?} on {op}: {refused:?}"
            );
            assert!(refused.error.is_some(), "{fault:?} on {op}");
            assert_eq!(held(inner.as_ref()).await, (0, 0), "{fault:?} on {op}");
            faulty.clear();
            let taken = intake.commerce(&Shop, &signed(body)).await;
            assert_eq!(taken.status, 200, "{fault:?} on {op}: {taken:?}");
            if op == "enqueue" {
                // A further redelivery is a known duplicate.
                let again = intake.commerce(&Shop, &signed(body)).await;
                assert_eq!((again.status, again.duplicates), (200, 1), "{fault:?}");
            }
            assert_eq!(held(inner.as_ref()).await, stored, "{fault:?} on {op}");
        }
    }
}

#[tokio::test]
async fn intake_retries_a_brief_retryable_store_fault_but_not_a_fatal_one() {
    for (fault, times, status, attempts) in [
        (Fault::Busy, 1, 200, 1),
        (Fault::DiskFull, 2, 200, 2),
        (Fault::Busy, 3, 503, 3),
        (Fault::Fatal, 1, 503, 1),
    ] {
        let (_dir, inner) = store();
        let faulty = Arc::new(FaultyStore::new(Arc::clone(&inner)));
        let intake = Intake::new(faulty.clone());
        faulty.fail("enqueue", fault, times);
        let answer = intake.commerce(&Shop, &signed(r#"{"id":"41"}"#)).await;
        assert_eq!(answer.status, status, "{fault:?} x{times}: {answer:?}");
        assert_eq!(faulty.injected(), attempts, "{fault:?} x{times}");
        let queued = u64::from(status == 200);
        assert_eq!(
            held(inner.as_ref()).await,
            (queued, 0),
            "{fault:?} x{times}"
        );
    }
}

#[tokio::test]
async fn intake_without_a_webhook_secret_refuses_and_stores_nothing() {
    let (_dir, store) = store();
    let intake = Intake::new(Arc::clone(&store));
    let hubspot = cartograph_hubspot::HubSpot::new(
        cartograph_hubspot::HubSpotConfig::builder(cartograph_hubspot::HubSpotAuth::PrivateApp {
            token: cartograph_http::Secret::new("pat-test"),
        })
        .build()
        .unwrap(),
    )
    .unwrap();
    let request = WebhookRequest::post(
        "https://app.example/hooks/hubspot",
        vec![("X-HubSpot-Signature-v3".into(), "forged".into())],
        br#"[{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":5}]"#.to_vec(),
    );
    let answer = intake.crm(&hubspot, &request).await;
    assert_eq!(answer.status, 500, "{answer:?}");
    assert!(answer.error.unwrap().contains("client_secret"));
    assert_eq!(store.dead_letter_count().await.unwrap(), 0);
    assert_eq!(
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );
}

#[tokio::test]
async fn intake_refuses_other_methods_and_oversized_bodies_and_caps_dead_letters() {
    let (_dir, store) = store();
    let intake = Intake::new(Arc::clone(&store)).max_body(512 * 1024);
    let mut get = signed(r#"{"id":"30"}"#);
    get.method = "GET".into();
    assert_eq!(intake.commerce(&Shop, &get).await.status, 405);

    let huge = format!(r#"{{"id":"31","pad":"{}"}}"#, "x".repeat(600 * 1024));
    let answer = intake.commerce(&Shop, &signed(&huge)).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );

    // Under the limit but unparsable: kept as a dead letter, its body cut to the cap.
    let broken = format!(r#"{{"id":"32","pad":"{}"#, "y".repeat(300 * 1024));
    let answer = intake.commerce(&Shop, &signed(&broken)).await;
    assert_eq!((answer.status, answer.dead_lettered), (200, 1));
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0].payload.len() < cartograph_sync::intake::DEAD_LETTER_BODY_CAP + 1024,
        "dead letter payload is {} bytes",
        letters[0].payload.len()
    );
    assert!(letters[0].payload.contains(r#""body_truncated":true"#));
}

#[tokio::test]
async fn a_running_worker_forgets_processed_keys_past_the_retention() {
    let (_dir, store) = store();
    let now = Timestamp::now();
    store
        .mark_processed(
            &["old".into()],
            now.saturating_sub(time::Duration::hours(100)),
        )
        .await
        .unwrap();
    store.mark_processed(&["recent".into()], now).await.unwrap();
    let health = Arc::new(Health::default());
    let worker = fast(Arc::clone(&store), &health);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { worker.run(stopped).await });
    let keys = ["old".to_owned(), "recent".to_owned()];
    let mut seen = Vec::new();
    for _ in 0..500 {
        seen = store.processed(&keys).await.unwrap();
        if !seen[0] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    assert_eq!(seen, vec![false, true], "72 h retention by default");
}

/// Takes `delay` per batch and counts the items it saw.
struct Slow {
    delay: Duration,
    seen: AtomicU32,
}

#[async_trait]
impl Handler for Slow {
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome> {
        tokio::time::sleep(self.delay).await;
        self.seen
            .fetch_add(u32::try_from(items.len()).unwrap(), Ordering::SeqCst);
        items.iter().map(|_| ItemOutcome::Done).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_slower_than_its_lease_is_renewed_and_never_handled_twice() {
    let (_dir, store) = store();
    enqueue(store.as_ref(), &[notification("40")]).await;
    let slow = Arc::new(Slow {
        delay: Duration::from_millis(900),
        seen: AtomicU32::new(0),
    });
    let config = WorkerConfig {
        lease_for: Duration::from_millis(300),
        idle_poll: Duration::from_millis(5),
        ..WorkerConfig::default()
    };
    let counters = Arc::new(Counters::default());
    let first = Worker::new(
        Arc::clone(&store),
        slow.clone(),
        Arc::clone(&counters),
        config.clone(),
    );
    let second = Worker::new(Arc::clone(&store), slow.clone(), counters, config);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let busy = tokio::spawn({
        let stopped = stopped.clone();
        async move { first.run(stopped).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The second worker polls all through the first one's slow batch.
    let poller = tokio::spawn(async move { second.run(stopped).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.send(true).unwrap();
    let a = busy.await.unwrap().unwrap();
    let b = poller.await.unwrap().unwrap();
    assert_eq!(slow.seen.load(Ordering::SeqCst), 1, "handled exactly once");
    assert_eq!(a.completed + b.completed, 1);
    assert_eq!(
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );
}

/// Records the enqueue times the worker hands over.
#[derive(Default)]
struct Timed {
    seen: Mutex<Vec<Timestamp>>,
}

#[async_trait]
impl Handler for Timed {
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome> {
        items.iter().map(|_| ItemOutcome::Done).collect()
    }

    async fn handle_queued(&self, items: &[WorkItem], enqueued: &[Timestamp]) -> Vec<ItemOutcome> {
        self.seen.lock().unwrap().extend_from_slice(enqueued);
        self.handle(items).await
    }
}

#[tokio::test]
async fn the_worker_hands_each_item_its_enqueue_time_in_milliseconds() {
    let (_dir, store) = store();
    let before = Timestamp::now().truncated_to_millis();
    enqueue(store.as_ref(), &[notification("1"), notification("2")]).await;
    let after = Timestamp::now();
    let handler = Arc::new(Timed::default());
    let (worker, _) = worker(Arc::clone(&store), handler.clone(), 3);
    worker.run_until_idle().await.unwrap();
    let seen = handler.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    // The vendor's time says 1_700_000_000 s; the queue knows when the intake took it.
    assert!(seen.iter().all(|t| *t >= before && *t <= after), "{seen:?}");
}
