//! Burst with faults (issue #19's standing suite): a burst of BigCommerce order webhooks,
//! a fifth of them redeliveries, goes over HTTP into the intake router the crate ships while
//! the HubSpot simulator answers 5 % of requests 503, three runs of 429s, and ten requests
//! only after the client has timed out (the write still lands), and the worker process
//! draining the queue is killed with SIGKILL twice mid-drain. Afterwards:
//!
//! * every event intake acknowledged (200) is in the CRM, or in a dead letter naming it;
//! * no order has two deals and no email two contacts;
//! * every contact's `ecom_order_count` and `ecom_lifetime_value` equal a recompute of its
//!   orders by `cartograph::core::metrics`.
//!
//! `BURST_EVENTS` sets the number of deliveries (default 2,000 for `cargo test`; the
//! bench-style run is `BURST_EVENTS=10000 cargo test --release --test burst`). The child
//! processes are this test binary re-run on an `#[ignore]`d entry point, as in
//! `tests/crash.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph::bigcommerce::sim::BigCommerceSim;
use cartograph::core::metrics::{MetricsConfig, MetricsEngine};
use cartograph::hubspot::sim::{Fault, HubSpotSim, SimConfig as HsSimConfig};
use cartograph::model::{Decimal, Timestamp};
use cartograph::sim::{FaultRates, TimeScale};
use cartograph::sync::router::{IntakeServerConfig, intake_router, serve_intake};
use cartograph::sync::{DeadLetterFilter, ListConfig, Pipeline, WorkerConfig};
use cartograph::testkit::fixtures::Seed;
use common::processes::{self, ProcessEnv, Tuning};
use futures::StreamExt as _;

/// Deliveries sent when `BURST_EVENTS` is not set.
const DEFAULT_EVENTS: usize = 2_000;
/// Share of deliveries that are redeliveries of an earlier one, in percent.
const DUPLICATE_PERCENT: usize = 20;
/// Orders per customer, so many events of one person are in flight at once.
const ORDERS_PER_CUSTOMER: usize = 10;
const HEADER_SECRET: &str = "burst-header-secret";

fn events_wanted() -> usize {
    std::env::var("BURST_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_EVENTS)
}

/// The pipeline the intake (parent) and the worker processes (children) build over the
/// same store file and simulators.
async fn pipeline(env: &ProcessEnv) -> Pipeline {
    let tuning = Tuning {
        header_secret: Some(HEADER_SECRET),
        faulty_crm: true,
        worker: WorkerConfig {
            batch_size: 20,
            lease_for: Duration::from_secs(1),
            retry_base: Duration::from_millis(10),
            ..WorkerConfig::default()
        },
        list: ListConfig::default(),
    };
    processes::pipeline(env, &tuning).await
}

/// Child entry point: two workers drain the queue until the parent kills the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the burst test"]
async fn burst_child_workers() {
    let Some(env) = ProcessEnv::from_env() else {
        return;
    };
    let p = pipeline(&env).await;
    let _pool = p.spawn_workers(2);
    std::future::pending::<()>().await;
}

fn webhook(order_id: &str) -> String {
    format!(
        r#"{{"scope":"store/order/created","store_id":"1","data":{{"type":"order","id":{order_id}}},"hash":"burst-{order_id}","created_at":1700000000,"producer":"stores/simstore"}}"#
    )
}

/// Sends one delivery as a vendor does: until it is acknowledged, redelivering after a 503
/// or a dropped connection. Returns the last status.
async fn deliver(client: &reqwest::Client, url: &str, body: String) -> u16 {
    let mut status = 0;
    for _ in 0..200 {
        let sent = client
            .post(url)
            .header(DEFAULT_SECRET_HEADER, HEADER_SECRET)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        status = sent.map_or(0, |r| r.status().as_u16());
        if status != 503 && status != 0 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    status
}

/// The deliveries of the burst: each order once, plus redeliveries of earlier ones, in a
/// fixed shuffled order.
fn burst(order_ids: &[String], total: usize) -> Vec<String> {
    let mut out: Vec<String> = order_ids.to_vec();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % bound as u64).unwrap()
    };
    while out.len() < total {
        let pick = order_ids[next(order_ids.len())].clone();
        out.push(pick);
    }
    for i in (1..out.len()).rev() {
        out.swap(i, next(i + 1));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_with_crm_faults_and_two_kills_loses_nothing_and_keeps_metrics_exact() {
    let total = events_wanted();
    let distinct = total * (100 - DUPLICATE_PERCENT) / 100;
    let seed = Seed::builder()
        .numeric_ids(true)
        .customers(distinct.div_ceil(ORDERS_PER_CUSTOMER))
        .orders(distinct)
        .build();
    let bc = BigCommerceSim::start(common::bc_config()).await.unwrap();
    bc.seed_customers(&seed.customers);
    let order_ids = bc.seed_orders(&seed.orders);
    assert_eq!(order_ids.len(), distinct);
    // A 10 s window of 40 requests, 20x faster than real time: the connector paces itself
    // by the quota headers, and the simulator adds runs of 429s and 5 % of 503s on top.
    let hs = HubSpotSim::start(HsSimConfig {
        burst: 40,
        time_scale: TimeScale::new(0.05),
        ..HsSimConfig::default()
    })
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let env = ProcessEnv {
        bc: bc.base_url(),
        hs: hs.base_url().to_owned(),
        db: dir.path().join("burst.sqlite").display().to_string(),
    };
    let intake = Arc::new(pipeline(&env).await);
    hs.faults().set_rates(FaultRates {
        server_error: 0.05,
        seed: 19,
        ..FaultRates::default()
    });
    fail_next(&hs, 20, Fault::RateLimited(Duration::from_secs(1)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!(
        "http://{}/webhooks/commerce",
        listener.local_addr().unwrap()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve_intake(
            listener,
            intake_router(intake),
            &IntakeServerConfig::default(),
            async move {
                let _ = stopped.await;
            },
        )
        .await
    });

    let started = Instant::now();
    let first = env.spawn("burst_child_workers");
    let sender = tokio::spawn({
        let deliveries = burst(&order_ids, total);
        async move {
            let client = reqwest::Client::new();
            futures::stream::iter(deliveries)
                .map(|id| {
                    let (client, url) = (client.clone(), url.clone());
                    async move { (deliver(&client, &url, webhook(&id)).await, id) }
                })
                .buffer_unordered(16)
                .collect::<Vec<(u16, String)>>()
                .await
        }
    });
    let first_kill = first.kill_when(&hs, distinct / 4).await;
    fail_next(&hs, 20, Fault::RateLimited(Duration::from_secs(1)));
    // Timeouts: the client gives up after 1 s, the simulator still applies the write after
    // 1.5 s, and the retry must update that record, not create a second one.
    fail_next(&hs, 10, Fault::Latency(Duration::from_millis(1500)));
    let second = env.spawn("burst_child_workers");
    let second_kill = second.kill_when(&hs, distinct * 3 / 5).await;
    fail_next(&hs, 20, Fault::RateLimited(Duration::from_secs(1)));
    assert!(second_kill < distinct, "killed after the drain was done");
    let answers = sender.await.unwrap();

    // Restart: the dead process's leases and locks expire, and two workers finish.
    let p = pipeline(&env).await;
    let pool = p.spawn_workers(2);
    let store = p.store();
    let drained = Instant::now();
    while store.queue_stats(Timestamp::now()).await.unwrap().total() > 0 {
        assert!(
            drained.elapsed() < Duration::from_secs(600),
            "the queue does not drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pool.shutdown().await.unwrap();
    let elapsed = started.elapsed();
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();

    let acked: BTreeSet<&str> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, id)| id.as_str())
        .collect();
    let refused: Vec<_> = answers.iter().filter(|(s, _)| *s != 200).collect();
    assert!(
        refused.is_empty(),
        "deliveries never acknowledged: {refused:?}"
    );
    assert_eq!(acked.len(), distinct);

    // Every acknowledged event is in the CRM, or in a dead letter naming it.
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    let mut deals_per_order: BTreeMap<String, usize> = BTreeMap::new();
    for deal in hs.records("deals") {
        let key = deal.properties.get("cartograph_order_id").cloned();
        let id = key
            .as_deref()
            .and_then(|k| k.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        *deals_per_order.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = deals_per_order.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "orders with two deals: {twice:?}");
    let lettered = |id: &str| {
        letters
            .iter()
            .any(|l| l.record.ends_with(&format!("order/{id}")))
    };
    let lost: Vec<_> = acked
        .iter()
        .filter(|id| !deals_per_order.contains_key(**id) && !lettered(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged, then lost: {lost:?}");

    // One contact per email.
    let contacts = hs.records("contacts");
    let mut emails: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.properties.get("email").map(|e| e.to_lowercase()))
        .collect();
    let with_email = emails.len();
    emails.sort();
    emails.dedup();
    assert_eq!(emails.len(), with_email, "two contacts share an email");

    // Every contact's metrics equal a recompute from the orders that reached the CRM.
    let mut engine = MetricsEngine::new(MetricsConfig::new(common::rates()));
    for order in &seed.orders {
        if deals_per_order.contains_key(&order.source.id)
            && let Some(email) = &order.email
        {
            engine
                .upsert_order_for(Some(email.normalized()), order)
                .unwrap();
        }
    }
    let expected = engine.all();
    let number = |c: &cartograph::hubspot::sim::SimRecord, name: &str| {
        c.properties
            .get(name)
            .and_then(|v| Decimal::from_str(v).ok())
            .unwrap_or_default()
    };
    let mut checked = 0;
    let mut wrong = Vec::new();
    for contact in &contacts {
        let Some(email) = contact.properties.get("email").map(|e| e.to_lowercase()) else {
            continue;
        };
        let Some(metrics) = expected.get(&email) else {
            continue;
        };
        checked += 1;
        let got = (
            number(contact, "ecom_order_count"),
            number(contact, "ecom_lifetime_value"),
        );
        let want = (
            Decimal::from(metrics.paid_order_count),
            metrics.lifetime_value.amount(),
        );
        if got != want {
            wrong.push((email, got, want));
        }
    }
    assert!(
        checked * 10 >= expected.len() * 9,
        "only {checked} of {} people have a contact",
        expected.len()
    );
    assert!(
        wrong.is_empty(),
        "{} of {checked} contacts have metrics other than a recompute: {wrong:?}",
        wrong.len()
    );
    let faults = hs.fault_counts();
    assert!(
        faults.rate_limited >= 60 && faults.server_errors > 0 && faults.delayed >= 10,
        "the CRM faults did not bite: {faults:?} of {} requests",
        hs.requests().len()
    );
    let repeat_buyers = expected.values().filter(|m| m.paid_order_count > 1).count();
    assert!(
        repeat_buyers * 4 >= checked,
        "too few people with several orders to catch a lost update: {repeat_buyers}"
    );
    println!(
        "burst: {total} deliveries ({distinct} distinct), kills at {first_kill} and \
         {second_kill} deals, CRM answered {} 429s, {} 5xx and {} late of {} requests, {} dead letters, \
         {checked} contacts checked ({repeat_buyers} with several paid orders), {:.1} s",
        faults.rate_limited,
        faults.server_errors,
        faults.delayed,
        hs.requests().len(),
        letters.len(),
        elapsed.as_secs_f64()
    );
    drop(bc);
}

/// Answers the next `count` requests of the portal with `fault`.
fn fail_next(hs: &HubSpotSim, count: usize, fault: Fault) {
    for _ in 0..count {
        hs.faults().push(fault);
    }
}
