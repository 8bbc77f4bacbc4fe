//! Several workers draining one burst: two events of one person are never applied at once,
//! so every contact's metrics equal those of a single worker processing the same events.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cartograph_connector::{CommerceSource, CrmSink, NotificationKind};
use cartograph_core::metrics::Rates;
use cartograph_model::{Currency, Decimal, RecordKind, Timestamp};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{EngineConfig, Pipeline, Store, WorkerConfig};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm, MemoryWebhookEvent};

/// Contact metrics the test compares, per email.
type Metrics = BTreeMap<String, (String, String)>;

const CUSTOMERS: usize = 40;
const ORDERS: usize = 400;

fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

/// Drains one burst of order webhooks (every order of the seed, about ten per customer)
/// with `workers` workers and returns each contact's order count and lifetime value.
async fn drain(workers: usize) -> Metrics {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("c.sqlite")).unwrap());
    let seed = Seed::builder().customers(CUSTOMERS).orders(ORDERS).build();
    let shop = MemoryCommerce::with_seed(&seed).unwrap();
    let crm = MemoryCrm::new();
    let config = EngineConfig::for_profile(&cartograph_hubspot::profile(), rates()).unwrap();
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        crm.define_property(p.definition.clone());
    }
    let p = Pipeline::builder()
        .source(Arc::new(shop.clone()) as Arc<dyn CommerceSource>)
        .sink(Arc::new(crm.clone()) as Arc<dyn CrmSink>)
        .store(Arc::clone(&store))
        .engine(config)
        // Small batches: each worker's batches hold many of the same people as the others'.
        .worker_config(WorkerConfig {
            batch_size: 7,
            idle_poll: Duration::from_millis(10),
            ..WorkerConfig::default()
        })
        .build()
        .await
        .unwrap();
    // Grouped by customer, so the batches the workers take at once hold the same people.
    let mut orders: Vec<_> = seed.orders.iter().collect();
    orders.sort_by_key(|o| o.customer.as_ref().map(|c| c.id.clone()));
    let events: Vec<MemoryWebhookEvent> = orders
        .into_iter()
        .enumerate()
        .map(|(i, order)| {
            MemoryWebhookEvent::new(
                format!("burst-{i}"),
                RecordKind::Order,
                order.source.id.clone(),
                NotificationKind::Created,
                Timestamp::now(),
            )
        })
        .collect();
    let answer = p
        .intake()
        .commerce(p.source().as_ref(), &shop.webhook_request(&events))
        .await;
    assert_eq!(answer.queued, ORDERS, "every webhook is queued");

    let pool = p.spawn_workers(workers);
    for _ in 0..3000 {
        if store.queue_stats(Timestamp::now()).await.unwrap().total() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reports = pool.shutdown().await.unwrap();
    assert_eq!(
        store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0,
        "the burst drains with {workers} workers: {reports:?}"
    );
    let completed: usize = reports.iter().map(|r| r.completed).sum();
    assert_eq!(completed, ORDERS, "{reports:?}");
    assert_eq!(p.dead_letter_count().await.unwrap(), 0);

    crm.contacts()
        .into_iter()
        .filter_map(|c| {
            let prop = |name: &str| {
                c.properties
                    .get(name)
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default()
            };
            Some((
                c.email?.normalized().to_owned(),
                (prop("ecom_order_count"), prop("ecom_lifetime_value")),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_workers_give_every_contact_the_metrics_one_worker_gives() {
    let reference = drain(1).await;
    let with_orders = reference
        .values()
        .filter(|(count, _)| !count.is_empty() && !count.contains("\"0\""))
        .count();
    assert!(
        with_orders >= CUSTOMERS / 2,
        "the reference run counted orders on most contacts: {reference:?}"
    );
    for workers in [2, 4] {
        let got = drain(workers).await;
        let wrong: Vec<_> = reference
            .iter()
            .filter(|(email, metrics)| got.get(*email) != Some(metrics))
            .map(|(email, metrics)| (email, metrics, got.get(email)))
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} contacts have other metrics with {workers} workers than with one: {wrong:?}",
            wrong.len(),
            reference.len()
        );
    }
}
