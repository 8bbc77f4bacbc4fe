//! Revenue reconciliation reads the CRM back: after a backfill from BigCommerce into each
//! CRM simulator, the store's revenue matches what the CRM holds to the cent, in full and
//! sampled; a deal edited or deleted in the CRM afterwards shows up as a difference naming
//! its order.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cartograph::connector::{CrmOrder, ListRequest, drain};
use cartograph::core::metrics::Rates;
use cartograph::harness::{
    BACKFILL_STREAMS, CommerceSystem, CrmSystem, Harness, SeedData, start_commerce, start_crm,
};
use cartograph::model::{Currency, Decimal};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::Store;
use cartograph::sync::reconcile::{DifferenceKind, ReadBack};
use cartograph::testkit::fixtures::Seed;

fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

async fn backfilled(crm: CrmSystem, dir: &tempfile::TempDir) -> Harness {
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join(format!("{crm}.sqlite"))).unwrap());
    let harness = Harness::builder(
        start_commerce(CommerceSystem::BigCommerce).await.unwrap(),
        start_crm(crm).await.unwrap(),
        store,
        rates(),
    )
    .build()
    .await
    .unwrap();
    let seed = Seed::builder().numeric_ids(true).build();
    harness.commerce.seed(&SeedData {
        customer_groups: seed.customer_groups.clone(),
        categories: seed.categories.clone(),
        brands: seed.brands.clone(),
        products: seed.products.clone(),
        customers: seed.customers.clone(),
        orders: seed.orders.clone(),
        refunds: seed.refunds.clone(),
        carts: Vec::new(),
    });
    harness.pipeline.backfill(&BACKFILL_STREAMS).await.unwrap();
    harness
}

/// The store key a CRM record stands for (ActiveCampaign holds the bare order id).
fn names(difference_key: &str, record: &CrmOrder) -> bool {
    difference_key == record.key || difference_key.ends_with(&format!("/{}", record.key))
}

async fn check(crm: CrmSystem) {
    let dir = tempfile::tempdir().unwrap();
    let harness = backfilled(crm, &dir).await;

    let full = harness
        .pipeline
        .reconcile_with_crm(&ReadBack::Full)
        .await
        .unwrap();
    eprintln!(
        "[{crm}] {} store orders, {} CRM records read, {} not revenue, {} day lines",
        full.store_orders,
        full.crm_records_read,
        full.not_revenue,
        full.days.len()
    );
    assert!(full.is_exact(), "[{crm}] {:?}", full.differences);
    assert!(full.store_orders > 10, "[{crm}] {full:?}");
    assert_eq!(full.matched, full.store_orders, "[{crm}]");
    assert!((full.alignment() - 1.0).abs() < f64::EPSILON, "[{crm}]");
    assert!(
        full.days.iter().all(|d| d.difference().is_zero()),
        "[{crm}]"
    );
    assert!(full.crm_records_read >= full.store_orders, "[{crm}]");

    let sample = harness
        .pipeline
        .reconcile_with_crm(&ReadBack::Sample { one_in: 3 })
        .await
        .unwrap();
    assert!(sample.is_exact(), "[{crm}] {:?}", sample.differences);
    assert!(
        sample.store_orders > 0 && sample.store_orders < full.store_orders,
        "[{crm}]"
    );

    // The sink reads back every page (the simulators page at 100 or fewer).
    let records = drain(&ListRequest::all().with_limit(7), |request| {
        let sink = Arc::clone(&harness.sink);
        async move { sink.read_orders(&request).await }
    })
    .await
    .unwrap();
    assert_eq!(records.len() as u64, full.crm_records_read, "[{crm}]");

    // Edit one order record's amount and delete another, as a CRM user would.
    let amount = harness.sink.profile().unwrap().revenue_fields.amount;
    let counted: Vec<&CrmOrder> = records
        .iter()
        // Amounts above 1.00, so "1" (1.00, or 1 cent where amounts are cents) differs.
        .filter(|r| r.amount.is_some_and(|a| a.to_minor().unwrap() > 100))
        .collect();
    let (edited, deleted) = (counted[0], counted[1]);
    assert!(
        harness.crm.edit_order_record(&edited.crm_id, &amount, "1"),
        "[{crm}] edit"
    );
    assert!(
        harness.crm.delete_order_record(&deleted.crm_id),
        "[{crm}] delete"
    );

    let after = harness
        .pipeline
        .reconcile_with_crm(&ReadBack::Full)
        .await
        .unwrap();
    assert!(!after.is_exact(), "[{crm}]");
    assert_eq!(after.matched, full.matched - 2, "[{crm}]");
    assert_eq!(
        after.differences.len(),
        2,
        "[{crm}] {:?}",
        after.differences
    );
    let differs = after
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::AmountDiffers)
        .unwrap();
    assert!(
        names(&differs.key, edited),
        "[{crm}] {differs:?} vs {edited:?}"
    );
    assert_ne!(differs.crm.as_ref().unwrap().amount, edited.amount);
    let missing = after
        .differences
        .iter()
        .find(|d| d.kind == DifferenceKind::MissingInCrm)
        .unwrap();
    assert!(
        names(&missing.key, deleted),
        "[{crm}] {missing:?} vs {deleted:?}"
    );
    assert!(after.alignment() < 1.0, "[{crm}]");
    // The day line of each changed order is off by the changed amounts.
    let off: Vec<_> = after
        .days
        .iter()
        .filter(|d| !d.difference().is_zero())
        .collect();
    assert!(!off.is_empty() && off.len() <= 2, "[{crm}] {off:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubspot_deals_read_back_reconcile_and_show_edits_and_deletions() {
    check(CrmSystem::HubSpot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_opportunities_read_back_reconcile_and_show_edits_and_deletions() {
    check(CrmSystem::Salesforce).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activecampaign_orders_read_back_reconcile_and_show_edits_and_deletions() {
    check(CrmSystem::ActiveCampaign).await;
}
