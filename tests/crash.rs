//! Crash safety: a worker process killed with SIGKILL mid-run, and a backfill killed
//! mid-way, lose nothing and create no duplicate CRM records once restarted.
//!
//! The simulators and the SQLite file live in the parent test; the child is this same test
//! binary re-run on an `#[ignore]`d entry point that talks to them over HTTP, so `kill -9`
//! hits a real process with in-flight batches and open transactions.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::harness::{PairConnectors, PipelineOptions, pair_pipeline};
use cartograph_bigcommerce::BigCommerce;
use cartograph_bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph_connector::{
    CommerceSource, CrmSink, NotificationKind, Stream, WebhookNotification,
};
use cartograph_hubspot::HubSpot;
use cartograph_hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{
    EngineConfig, ListConfig, NewQueuedEvent, Pipeline, Store, WorkItem, WorkerConfig,
};
use cartograph_testkit::fixtures::Seed;

const ORDERS: usize = 120;

struct Env {
    bc: String,
    hs: String,
    db: String,
}

fn env() -> Option<Env> {
    Some(Env {
        bc: std::env::var("CRASH_BC").ok()?,
        hs: std::env::var("CRASH_HS").ok()?,
        db: std::env::var("CRASH_DB").ok()?,
    })
}

/// The pipeline both processes build: same store file, same simulators, wired by the pair
/// harness from connectors pointed at the parent's simulators.
async fn pipeline(env: &Env) -> Pipeline {
    let bc = BigCommerce::new(
        BcSimConfig::default()
            .connector_config_at(&env.bc)
            .build()
            .unwrap(),
    )
    .unwrap();
    let hs = HubSpot::new(
        HsSimConfig::default()
            .connector_config_at(&env.hs)
            .unwrap()
            // HubSpot's default portal quota paces the child, so a kill lands mid-run.
            .rate_limit(cartograph_hubspot::DEFAULT_RATE_LIMIT)
            .daily_limit(cartograph_hubspot::DEFAULT_DAILY_LIMIT)
            .build()
            .unwrap(),
    )
    .unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&env.db).unwrap());
    let connectors = PairConnectors {
        source: Arc::new(bc) as Arc<dyn CommerceSource>,
        writer: None,
        sink: Arc::new(hs) as Arc<dyn CrmSink>,
        crm_source: None,
    };
    pair_pipeline(
        connectors,
        store,
        common::rates(),
        PipelineOptions {
            // A killed process holds its customers this long; the restarted run waits it out.
            tune: Some(Box::new(|engine: &mut EngineConfig| {
                engine.subject_lock_for = Duration::from_secs(2);
            })),
            worker: Some(WorkerConfig {
                batch_size: 5,
                lease_for: Duration::from_secs(1),
                retry_base: Duration::from_millis(10),
                ..WorkerConfig::default()
            }),
            list: Some(ListConfig {
                page_size: 5,
                ..ListConfig::default()
            }),
            ..PipelineOptions::default()
        },
    )
    .await
    .unwrap()
}

/// Child entry point: drains the queue, slowly, until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the crash tests"]
async fn crash_child_worker() {
    let Some(env) = env() else { return };
    let p = pipeline(&env).await;
    p.worker("child").run_until_idle().await.unwrap();
}

/// Child entry point: runs a backfill until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the crash tests"]
async fn crash_child_backfill() {
    let Some(env) = env() else { return };
    let p = pipeline(&env).await;
    p.backfill(&[Stream::Customers, Stream::Orders])
        .await
        .unwrap();
}

struct Parent {
    _dir: tempfile::TempDir,
    bc: BigCommerceSim,
    hs: HubSpotSim,
    env: Env,
    order_ids: Vec<String>,
}

async fn parent() -> Parent {
    // Slow store answers stretch the run so the kill lands mid-way.
    let bc = BigCommerceSim::start(BcSimConfig {
        faults: cartograph_sim::FaultRates {
            latency: Duration::from_millis(15),
            ..cartograph_sim::FaultRates::default()
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
    let env = Env {
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

fn spawn(env: &Env, entry: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", entry, "--test-threads", "1"])
        .env("CRASH_BC", &env.bc)
        .env("CRASH_HS", &env.hs)
        .env("CRASH_DB", &env.db)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Kills the child with SIGKILL once HubSpot holds `at_least` deals (and before it is done).
async fn kill_when(child: &mut Child, hs: &HubSpotSim, at_least: usize) -> usize {
    let started = Instant::now();
    loop {
        let deals = hs.records("deals").len();
        if deals >= at_least {
            child.kill().unwrap();
            child.wait().unwrap();
            return deals;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child finished before it could be killed ({deals} deals)"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the child made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
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
    let mut child = spawn(&p.env, "crash_child_worker");
    let at_kill = kill_when(&mut child, &p.hs, ORDERS / 5).await;
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
    let mut child = spawn(&p.env, "crash_child_backfill");
    let at_kill = kill_when(&mut child, &p.hs, ORDERS / 4).await;
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
