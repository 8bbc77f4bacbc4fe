//! Crash safety: a worker process killed with SIGKILL mid-run, and a backfill killed
//! mid-way, lose nothing and create no duplicate CRM records once restarted.
//!
//! The simulators and the SQLite file live in the parent test; the child is this same test
//! binary re-run on an `#[ignore]`d entry point that talks to them over HTTP, so `kill -9`
//! hits a real process with in-flight batches and open transactions.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph::connector::{NotificationKind, Stream, WebhookNotification};
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::model::{RecordKind, SourceRef, Timestamp};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{ListConfig, NewQueuedEvent, Pipeline, Store, WorkItem, WorkerConfig};
use cartograph::testkit::fixtures::Seed;
use common::processes::{self, ProcessEnv, Tuning};

const ORDERS: usize = 120;

fn tuning() -> Tuning {
    Tuning {
        header_secret: None,
        faulty_crm: false,
        worker: WorkerConfig {
            batch_size: 5,
            lease_for: Duration::from_secs(1),
            retry_base: Duration::from_millis(10),
            ..WorkerConfig::default()
        },
        list: ListConfig {
            page_size: 5,
            ..ListConfig::default()
        },
    }
}

/// The pipeline both processes build: same store file, same simulators.
async fn pipeline(env: &ProcessEnv) -> Pipeline {
    processes::pipeline(env, &tuning()).await
}

/// Child entry point: drains the queue, slowly, until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the crash tests"]
async fn crash_child_worker() {
    let Some(env) = ProcessEnv::from_env() else {
        return;
    };
    let p = pipeline(&env).await;
    p.worker("child").run_until_idle().await.unwrap();
}

/// Child entry point: runs a backfill until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the crash tests"]
async fn crash_child_backfill() {
    let Some(env) = ProcessEnv::from_env() else {
        return;
    };
    let p = pipeline(&env).await;
    p.backfill(&[Stream::Customers, Stream::Orders])
        .await
        .unwrap();
}

struct Parent {
    _dir: tempfile::TempDir,
    bc: BigCommerceSim,
    hs: HubSpotSim,
    env: ProcessEnv,
    order_ids: Vec<String>,
}

async fn parent() -> Parent {
    // Slow store answers stretch the run so the kill lands mid-way.
    let bc = BigCommerceSim::start(BcSimConfig {
        faults: cartograph::sim::FaultRates {
            latency: Duration::from_millis(15),
            ..cartograph::sim::FaultRates::default()
        },
        ..common::bc_config()
    })
    .await
    .unwrap();
    let hs = HubSpotSim::start(HsSimConfig {
        burst: 100_000,
        ..HsSimConfig::default()
    })
    .await
    .unwrap();
    let seed = Seed::builder().numeric_ids(true).build();
    bc.seed_customers(&seed.customers);
    let templates: Vec<_> = seed
        .orders
        .iter()
        .filter(|o| o.is_revenue() && o.email.is_some())
        .collect();
    let orders: Vec<_> = (0..ORDERS)
        .map(|i| {
            let mut o = templates[i % templates.len()].clone();
            o.source = SourceRef::new("bigcommerce", RecordKind::Order, (70_000 + i).to_string());
            o.number = Some((70_000 + i).to_string());
            o
        })
        .collect();
    let order_ids = bc.seed_orders(&orders);
    let dir = tempfile::tempdir().unwrap();
    let env = ProcessEnv {
        bc: bc.base_url(),
        hs: hs.base_url().to_owned(),
        db: dir.path().join("crash.sqlite").display().to_string(),
    };
    Parent {
        _dir: dir,
        bc,
        hs,
        env,
        order_ids,
    }
}

/// One deal per order, none twice; returns the order-id -> deal count map's size.
fn assert_one_deal_per_order(hs: &HubSpotSim, order_ids: &[String]) {
    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for deal in hs.records("deals") {
        let key = deal
            .properties
            .get("cartograph_order_id")
            .cloned()
            .unwrap_or_default();
        *per_order.entry(key).or_default() += 1;
    }
    let duplicated: Vec<_> = per_order.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicated.is_empty(), "duplicate deals: {duplicated:?}");
    for id in order_ids {
        assert!(
            per_order
                .keys()
                .any(|k| k.ends_with(&format!("order/{id}"))),
            "order {id} has no deal (keys like {:?})",
            per_order.keys().next()
        );
    }
    let emails: Vec<String> = hs
        .records("contacts")
        .iter()
        .filter_map(|c| c.properties.get("email").map(|e| e.to_lowercase()))
        .collect();
    let unique: std::collections::BTreeSet<_> = emails.iter().collect();
    assert_eq!(emails.len(), unique.len(), "duplicate contacts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing_and_duplicates_nothing() {
    let p = parent().await;
    {
        let store = SqliteStore::open(&p.env.db).unwrap();
        let now = Timestamp::now();
        let events: Vec<_> = p
            .order_ids
            .iter()
            .map(|id| {
                let item = WorkItem::CommerceNotification {
                    notification: WebhookNotification {
                        id: format!("hash-{id}"),
                        source: SourceRef::new("bigcommerce", RecordKind::Order, id.clone()),
                        topic: "store/order/created".into(),
                        kind: NotificationKind::Created,
                        occurred_at: now,
                    },
                };
                NewQueuedEvent {
                    key: format!("bigcommerce:hash-{id}"),
                    source: "bigcommerce".into(),
                    kind: item.kind().into(),
                    payload: serde_json::to_string(&item).unwrap(),
                    not_before: now,
                }
            })
            .collect();
        store.enqueue(&events).await.unwrap();
    }
    let child = p.env.spawn("crash_child_worker");
    let at_kill = child.kill_when(&p.hs, ORDERS / 5).await;
    assert!(at_kill < ORDERS, "killed after the work was done");

    // Restart: the dead worker's leases expire and a new worker finishes the queue.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pipeline = pipeline(&p.env).await;
    pipeline.worker("restarted").run_until_idle().await.unwrap();
    assert_eq!(
        pipeline
            .store()
            .queue_stats(Timestamp::now())
            .await
            .unwrap()
            .total(),
        0,
        "work left in the queue"
    );
    assert_eq!(pipeline.dead_letter_count().await.unwrap(), 0);
    assert_one_deal_per_order(&p.hs, &p.order_ids);
    drop(p.bc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backfill_resumes_from_its_checkpoint() {
    let p = parent().await;
    let child = p.env.spawn("crash_child_backfill");
    let at_kill = child.kill_when(&p.hs, ORDERS / 4).await;
    assert!(at_kill < ORDERS, "killed after the backfill was done");

    let pipeline = pipeline(&p.env).await;
    let checkpoint = pipeline
        .store()
        .checkpoint("bigcommerce", "orders:backfill")
        .await
        .unwrap();
    assert!(
        checkpoint
            .as_ref()
            .is_some_and(|c| c.cursor.is_some() && !c.backfill_done),
        "the killed backfill left a resume point: {checkpoint:?}"
    );
    let report = pipeline
        .backfill(&[Stream::Customers, Stream::Orders])
        .await
        .unwrap();
    assert!(
        report.read < (ORDERS as u64),
        "the backfill restarted from scratch instead of resuming: read {}",
        report.read
    );
    assert_eq!(pipeline.dead_letter_count().await.unwrap(), 0);
    assert_one_deal_per_order(&p.hs, &p.order_ids);
    drop(p.bc);
}
