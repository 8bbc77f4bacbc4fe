//! Every commerce x CRM pair compiled in, through the same pair harness: a backfill writes
//! contacts and order records without duplicates or dead letters, fires no automation and
//! reconciles to the cent against what the CRM holds; a live order placed afterwards
//! reaches the CRM through webhooks.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use cartograph::harness::{
    BACKFILL_STREAMS, CommerceSystem, CrmSystem, Harness, SeedData, start_commerce, start_crm,
};
use cartograph_core::metrics::Rates;
use cartograph_model::{Currency, Decimal, OrderStatus, Timestamp};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{DeadLetterFilter, Store};
use cartograph_testkit::fixtures::Seed;

/// The pairs this build can run.
fn pairs() -> Vec<(CommerceSystem, CrmSystem)> {
    let mut pairs = Vec::new();
    for commerce in CommerceSystem::ALL {
        for crm in CrmSystem::ALL {
            if enabled_commerce(commerce) && enabled_crm(crm) {
                pairs.push((commerce, crm));
            }
        }
    }
    pairs
}

fn enabled_commerce(system: CommerceSystem) -> bool {
    matches!(
        system,
        CommerceSystem::BigCommerce | CommerceSystem::Commercetools
    )
}

fn enabled_crm(system: CrmSystem) -> bool {
    matches!(
        system,
        CrmSystem::HubSpot | CrmSystem::ActiveCampaign | CrmSystem::Salesforce
    )
}

fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

fn seed_data(seed: &Seed) -> SeedData {
    SeedData {
        customer_groups: seed.customer_groups.clone(),
        categories: seed.categories.clone(),
        brands: seed.brands.clone(),
        products: seed.products.clone(),
        customers: seed.customers.clone(),
        orders: seed.orders.clone(),
        refunds: seed.refunds.clone(),
        carts: Vec::new(),
    }
}

async fn run_pair(commerce: CommerceSystem, crm: CrmSystem) {
    let pair = format!("{commerce}:{crm}");
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("pair.sqlite")).unwrap());
    let harness = Harness::builder(
        start_commerce(commerce).await.unwrap(),
        start_crm(crm).await.unwrap(),
        Arc::clone(&store),
        rates(),
    )
    .build()
    .await
    .unwrap_or_else(|e| panic!("[{pair}] harness: {e}"));
    let seed = Seed::builder().numeric_ids(true).build();
    harness.commerce.seed(&seed_data(&seed));

    let report = harness.pipeline.backfill(&BACKFILL_STREAMS).await.unwrap();
    assert!(report.read > 0, "[{pair}] {report:?}");
    let dead = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "[{pair}] dead letters after backfill: {dead:?}"
    );
    let contacts = harness.crm.contacts();
    assert!(!contacts.is_empty(), "[{pair}] no contacts");
    assert!(
        !harness.crm.order_records().is_empty(),
        "[{pair}] no order records"
    );
    assert!(
        harness.crm.enrollments().is_empty(),
        "[{pair}] a backfill never enrolls"
    );
    let reconciliation = harness.pipeline.quality().reconciliation;
    assert!(
        reconciliation.is_balanced(),
        "[{pair}] reconciliation: {reconciliation:?}"
    );

    // Live: a new order by a known customer reaches the CRM through the webhook path.
    let before = harness.crm.order_records().len();
    let mut order = seed.orders[0].clone();
    order.source.id = "990001".into();
    order.number = Some("990001".into());
    order.created_at = Timestamp::now();
    order.updated_at = None;
    order.status = OrderStatus::AwaitingFulfillment;
    harness.commerce.place_order(&order);
    let worker = harness.pipeline.worker("pair-test");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        worker.run_until_idle().await.unwrap();
        if harness.crm.order_records().len() > before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "[{pair}] the live order never reached the CRM"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pair_backfills_reconciles_and_takes_live_orders() {
    let pairs = pairs();
    assert!(!pairs.is_empty());
    for (commerce, crm) in pairs {
        run_pair(commerce, crm).await;
    }
}
