//! Recipes 1, 4, 5 and 6 on the BigCommerce and HubSpot simulators: a backfill creates one
//! contact per person with lifecycle and metrics, deals with line items, products; a second
//! run writes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use cartograph::model::OrderStatus;
use common::{STREAMS, seed, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_syncs_contacts_deals_and_products_without_duplicates() {
    let w = world(|_, _| {}).await;
    let seed = seed(&w);
    let report = w.pipeline.backfill(&STREAMS).await.unwrap();
    assert_eq!(
        report.dead_lettered,
        0,
        "{:?}",
        w.store
            .dead_letters(&cartograph::sync::DeadLetterFilter::default())
            .await
            .unwrap()
    );
    assert_eq!(w.pipeline.dead_letter_count().await.unwrap(), 0);

    // Recipe 1: one contact per email, never two.
    let contacts = w.hs.records("contacts");
    let emails: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.properties.get("email").cloned())
        .collect();
    let unique: BTreeSet<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    assert_eq!(emails.len(), unique.len(), "duplicate contacts: {emails:?}");
    for customer in &seed.customers {
        let email = customer.email.as_ref().unwrap().normalized().to_owned();
        assert!(unique.contains(&email), "customer {email} has no contact");
    }

    // Recipe 4: metrics and lifecycle on the contact of a paying customer.
    let buyer = seed
        .orders
        .iter()
        .find(|o| {
            o.is_revenue() && o.customer.is_some() && o.currency == cartograph::model::Currency::USD
        })
        .unwrap();
    let contact =
        w.hs.contact_by_email(buyer.email.as_ref().unwrap().as_str())
            .unwrap();
    let count: u64 = contact.properties["ecom_order_count"].parse().unwrap();
    assert!(count >= 1, "{:?}", contact.properties);
    assert!(contact.properties.contains_key("ecom_lifetime_value"));
    assert!(
        ["customer", "repeat", "vip", "lapsed", "churn_risk"]
            .contains(&contact.properties["ecom_lifecycle"].as_str()),
        "{:?}",
        contact.properties.get("ecom_lifecycle")
    );

    // Recipe 5 (default: every placed order): one deal per order with its line items.
    let placed = seed
        .orders
        .iter()
        .filter(|o| o.status != OrderStatus::Incomplete && !o.is_archived)
        .count();
    let deals = w.hs.records("deals");
    assert_eq!(deals.len(), placed, "one deal per placed order");
    assert!(!w.hs.records("line_items").is_empty());

    // Recipe 6: products.
    assert_eq!(w.hs.records("products").len(), seed.products.len());

    // Revenue per day and currency matches between store and CRM, to the cent.
    let quality = w.pipeline.quality();
    assert!(
        quality.reconciliation.is_balanced(),
        "{:?}",
        quality.reconciliation
    );
    assert!(quality.resolved > 0);

    // A backfill is historical: no enrollments, no tasks.
    assert!(w.hs.enrollments().is_empty());
    assert!(w.hs.records("tasks").is_empty());

    // Idempotent: a delta over the same data writes nothing.
    let writes_before =
        w.hs.requests()
            .iter()
            .filter(|(m, _, _)| m != "GET")
            .count();
    let delta = w.pipeline.delta(&STREAMS).await.unwrap();
    assert_eq!(delta.handled, 0, "{delta:?}");
    let writes_after =
        w.hs.requests()
            .iter()
            .filter(|(m, _, _)| m != "GET")
            .count();
    assert_eq!(
        writes_before, writes_after,
        "a delta over unchanged data wrote to HubSpot"
    );
    assert_eq!(w.hs.records("deals").len(), placed);

    // Recipe 6: a price change in the store follows to the CRM product on the next delta.
    let mut product = seed.products[0].clone();
    product.price = Some(cartograph::model::Money::new(
        cartograph::model::Decimal::new(12345, 2),
        product.price.unwrap().currency(),
    ));
    product.sale_price = None;
    product.updated_at = Some(cartograph::model::Timestamp::now());
    w.bc.seed_products(std::slice::from_ref(&product));
    let delta = w.pipeline.delta(&STREAMS).await.unwrap();
    assert_eq!(delta.handled, 1, "{delta:?}");
    let prices: Vec<String> =
        w.hs.records("products")
            .iter()
            .filter_map(|p| p.properties.get("price").cloned())
            .collect();
    assert!(prices.contains(&"123.45".to_owned()), "{prices:?}");
    assert_eq!(
        w.hs.records("products").len(),
        seed.products.len(),
        "updated, not duplicated"
    );
}
