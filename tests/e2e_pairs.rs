//! Every commerce x CRM pair compiled in, through the same pair harness: a backfill writes
//! contacts and order records without duplicates or dead letters, fires no automation and
//! reconciles to the cent against what the CRM holds, one contact per email; afterwards a
//! live order reaches the CRM through webhooks (or subscription deliveries), its refund
//! opens a task, and an ordered cart's order reaches the CRM too.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use cartograph::core::metrics::Rates;
use cartograph::harness::{
    BACKFILL_STREAMS, CommerceSystem, CrmSystem, Harness, SeedData, start_commerce, start_crm,
};
use cartograph::model::{
    Cart, CartState, Currency, Decimal, OrderStatus, RecordKind, SourceRef, Timestamp,
};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{DeadLetterFilter, Store};
use cartograph::testkit::fixtures::Seed;

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
        carts: Vec::new(),
        ..seed.to_seed_data()
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
    // One contact per person: no email is held by two contacts.
    let mut emails: Vec<String> = contacts
        .iter()
        .filter_map(|c| {
            c.properties
                .iter()
                .find(|(k, v)| k.to_lowercase().contains("email") && v.contains('@'))
                .map(|(_, v)| v.to_lowercase())
        })
        .collect();
    let with_email = emails.len();
    emails.sort();
    emails.dedup();
    assert_eq!(
        emails.len(),
        with_email,
        "[{pair}] two contacts share an email"
    );
    assert!(with_email > 0, "[{pair}] no contact carries an email");
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
    let order_id = harness.commerce.place_order(&order);
    settle(&harness, &pair, "the live order reaches the CRM", |h| {
        h.crm.order_records().len() > before
    })
    .await;

    // A refund of it opens a task (recipe 7), through the platform's refund events.
    let tasks = harness.crm.tasks().len();
    harness
        .commerce
        .refund_order(&order_id, Decimal::new(500, 2), "damaged in transit")
        .unwrap_or_else(|| panic!("[{pair}] refund of the live order"));
    settle(&harness, &pair, "the refund opens a task", |h| {
        h.crm.tasks().len() > tasks
    })
    .await;

    // A cart of a known customer, ordered: the order reaches the CRM.
    let before = harness.crm.order_records().len();
    let line = order.line_items[0].clone();
    let cart = Cart {
        source: SourceRef::new(
            harness.commerce.system(),
            RecordKind::Cart,
            "pair-cart-1".to_owned(),
        ),
        customer: order.customer.clone(),
        email: order.email.clone(),
        value: line.total,
        items: vec![line],
        state: CartState::Active,
        recovery_url: None,
        channel: None,
        created_at: Some(Timestamp::now()),
        updated_at: Some(Timestamp::now()),
        abandoned_at: None,
        converted_order: None,
    };
    let cart_id = harness.commerce.create_cart(&cart);
    harness
        .commerce
        .convert_cart(&cart_id)
        .unwrap_or_else(|| panic!("[{pair}] cart conversion"));
    settle(&harness, &pair, "the cart's order reaches the CRM", |h| {
        h.crm.order_records().len() > before
    })
    .await;
    let dead = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "[{pair}] dead letters after live traffic: {dead:?}"
    );
    eprintln!(
        "[{pair}] {} contacts, {} order records, {} tasks",
        harness.crm.contacts().len(),
        harness.crm.order_records().len(),
        harness.crm.tasks().len()
    );
}

async fn settle(harness: &Harness, pair: &str, what: &str, check: impl Fn(&Harness) -> bool) {
    common::settle_harness(harness, &format!("[{pair}] {what}"), check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pair_backfills_reconciles_and_takes_live_orders() {
    let pairs = pairs();
    assert!(!pairs.is_empty());
    for (commerce, crm) in pairs {
        run_pair(commerce, crm).await;
    }
}
