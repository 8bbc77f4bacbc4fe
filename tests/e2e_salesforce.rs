//! BigCommerce + Salesforce seed templates on the simulators, through real webhooks: the
//! catalog reaches Salesforce as Product2 with standard prices; an order becomes an
//! Opportunity with its line items (Composite); a B2B order (billing company) updates the
//! company's Account and links the buyer to it.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use cartograph::bigcommerce::sim::BigCommerceSim;
use cartograph::harness::{CommerceSimulator, CrmSimulator, Harness};
use cartograph::model::{
    Currency, Decimal, LineItem, Money, Order, OrderStatus, RecordKind, SourceRef, Timestamp,
};
use cartograph::salesforce::sim::{SalesforceSim, SimConfig};
use cartograph::sim::SimRecordView;
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{DeadLetterFilter, Store, WorkerConfig};
use cartograph::testkit::fixtures::Seed;
use common::STREAMS;

struct World {
    _dir: tempfile::TempDir,
    bc: Arc<BigCommerceSim>,
    sf: Arc<SalesforceSim>,
    store: Arc<dyn Store>,
    harness: Harness,
    seed: Seed,
}

async fn world() -> World {
    let bc = Arc::new(BigCommerceSim::start(common::bc_config()).await.unwrap());
    let sf = Arc::new(SalesforceSim::start(SimConfig::fast()).await.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("sf.sqlite")).unwrap());
    let harness = Harness::builder(
        Arc::clone(&bc) as Arc<dyn CommerceSimulator>,
        Arc::clone(&sf) as Arc<dyn CrmSimulator>,
        Arc::clone(&store),
        common::rates(),
    )
    .worker_config(WorkerConfig {
        retry_base: Duration::from_millis(10),
        ..WorkerConfig::default()
    })
    .build()
    .await
    .unwrap();
    let seed = Seed::builder().numeric_ids(true).build();
    bc.seed_customer_groups(&seed.customer_groups);
    bc.seed_customers(&seed.customers);
    bc.seed_categories(&seed.categories);
    bc.seed_brands(&seed.brands);
    bc.seed_products(&seed.products);
    World {
        _dir: dir,
        bc,
        sf,
        store,
        harness,
        seed,
    }
}

async fn settle(w: &World, what: &str, check: impl Fn(&World) -> bool) {
    let worker = w.harness.pipeline.worker("test-worker");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        worker.run_until_idle().await.unwrap();
        if check(w) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let dead = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    panic!("timed out waiting for: {what}; dead letters: {dead:?}");
}

fn usd(cents: i64) -> Money {
    Money::new(Decimal::new(cents, 2), Currency::USD)
}

fn field<'a>(r: &'a SimRecordView, name: &str) -> &'a str {
    r.properties.get(name).map_or("", String::as_str)
}

/// A paid order for two catalog products and one custom line, 5.00 shipping, billed to
/// `company` when given.
fn order(w: &World, id: &str, company: Option<&str>) -> Order {
    let customer = w.seed.customers.iter().find(|c| c.email.is_some()).unwrap();
    let line = |n: usize, product: Option<&str>, cents: i64, quantity: i64| LineItem {
        id: n.to_string(),
        sku: Some(format!("E2E-{n}")),
        product_id: product.map(str::to_owned),
        variant_id: None,
        name: format!("Item {n}"),
        quantity: Decimal::new(quantity, 0),
        unit_price: usd(cents),
        total: usd(cents * quantity),
        discount: None,
        tax: None,
        categories: vec![format!("Category {n}")],
        brand: None,
        image_url: None,
        product_url: None,
        custom: cartograph::model::Attributes::new(),
    };
    let products: Vec<&str> = w
        .seed
        .products
        .iter()
        .take(2)
        .map(|p| p.source.id.as_str())
        .collect();
    let lines = vec![
        line(1, Some(products[0]), 2_500, 2),
        line(2, Some(products[1]), 1_000, 1),
        line(3, None, 499, 1),
    ];
    let lines_total: i64 = 2_500 * 2 + 1_000 + 499;
    let shipping = 500;
    let total = lines_total + shipping;
    let mut billing = customer.primary_address().cloned().unwrap_or_default();
    billing.company = company.map(str::to_owned);
    Order {
        source: SourceRef::new("bigcommerce", RecordKind::Order, id),
        number: Some(id.into()),
        customer: Some(customer.source.clone()),
        email: customer.email.clone(),
        status: OrderStatus::AwaitingFulfillment,
        raw_status: cartograph::model::RawStatus::default(),
        payment_status: cartograph::model::PaymentStatus::Paid,
        fulfillment_status: cartograph::model::FulfillmentStatus::Unfulfilled,
        currency: Currency::USD,
        subtotal: usd(lines_total),
        discount: usd(0),
        tax: usd(0),
        shipping: usd(shipping),
        total: usd(total),
        coupons: vec![],
        billing_address: Some(billing),
        shipping_addresses: vec![],
        channel: None,
        line_items: lines,
        created_at: Timestamp::now(),
        updated_at: Some(Timestamp::now()),
        paid_at: Some(Timestamp::now()),
        shipped_at: None,
        is_archived: false,
        custom: cartograph::model::Attributes::new(),
    }
}

fn opportunity(w: &World, store_id: &str) -> Option<SimRecordView> {
    let key = format!("bigcommerce/order/{store_id}");
    w.sf.order_records()
        .into_iter()
        .find(|o| field(o, "Ecom_Order_Id__c") == key)
}

fn lines_of(w: &World, opportunity: &str) -> Vec<SimRecordView> {
    w.sf.records("OpportunityLineItem")
        .into_iter()
        .filter(|l| field(l, "OpportunityId") == opportunity)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_becomes_an_opportunity_with_line_items_on_priced_products() {
    let w = world().await;
    w.harness.pipeline.backfill(&STREAMS).await.unwrap();
    let products = w.sf.records("Product2");
    assert!(!products.is_empty(), "the catalog reached Salesforce");
    let entries = w.sf.records("PricebookEntry");
    let first = &w.seed.products[0];
    let product = products
        .iter()
        .find(|p| {
            field(p, "Ecom_Product_Id__c") == format!("bigcommerce/product/{}", first.source.id)
        })
        .unwrap_or_else(|| panic!("{} not in {products:?}", first.source));
    let entry = entries
        .iter()
        .find(|e| field(e, "Product2Id") == product.id)
        .expect("a standard price for the product");

    let store_id = w.bc.place_order(&order(&w, "880001", None));
    settle(&w, "the Opportunity with its lines", |w| {
        opportunity(w, &store_id).is_some_and(|o| lines_of(w, &o.id).len() == 3)
    })
    .await;
    let opp = opportunity(&w, &store_id).unwrap();
    assert_eq!(field(&opp, "StageName"), "Closed Won");
    // Salesforce sums the lines (2 x 25.00 + 10.00 + 4.99); the store total, with
    // shipping, is kept beside it (and is what revenue reads).
    assert_eq!(field(&opp, "Amount"), "64.99");
    assert_eq!(field(&opp, "Ecom_Order_Total__c"), "69.99");
    let lines = lines_of(&w, &opp.id);
    let on_catalog = lines
        .iter()
        .find(|l| field(l, "Cartograph_Key__c").ends_with("#1"))
        .unwrap();
    assert_eq!(field(on_catalog, "PricebookEntryId"), entry.id);
    assert_eq!(field(on_catalog, "Quantity"), "2");
    // The unsynced line got a product of its own (by SKU), priced once.
    assert!(
        products.len() < w.sf.records("Product2").len(),
        "a product for the custom line"
    );
    assert!(
        w.sf.records("Product2")
            .iter()
            .any(|p| field(p, "Ecom_Product_Id__c") == "bigcommerce/sku/E2E-3")
    );
    // An update of the same order writes no second Opportunity nor line.
    let status = field(&opp, "Ecom_Order_Status__c").to_owned();
    assert!(w.bc.set_order_status(&store_id, OrderStatus::Shipped));
    settle(&w, "the status change", |w| {
        opportunity(w, &store_id).is_some_and(|o| field(&o, "Ecom_Order_Status__c") != status)
    })
    .await;
    let count =
        w.sf.order_records()
            .iter()
            .filter(|o| field(o, "Ecom_Order_Id__c") == format!("bigcommerce/order/{store_id}"))
            .count();
    assert_eq!(count, 1);
    assert_eq!(lines_of(&w, &opp.id).len(), 3);
    let dead = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_b2b_order_updates_the_company_account_and_links_the_buyer() {
    let w = world().await;
    w.harness.pipeline.backfill(&STREAMS).await.unwrap();
    let store_id =
        w.bc.place_order(&order(&w, "880002", Some("Globex Corporation")));
    settle(&w, "the company's Account with the order", |w| {
        w.sf.records("Account").iter().any(|a| {
            field(a, "Cartograph_Key__c") == "company/globex corporation"
                && field(a, "Ecom_Order_Count__c") == "1"
        })
    })
    .await;
    let account =
        w.sf.records("Account")
            .into_iter()
            .find(|a| field(a, "Cartograph_Key__c") == "company/globex corporation")
            .unwrap();
    assert_eq!(field(&account, "Name"), "Globex Corporation");
    assert_eq!(field(&account, "Ecom_Lifetime_Value__c"), "69.99");
    assert_eq!(field(&account, "Ecom_Currency__c"), "USD");
    // BigCommerce order lines carry no categories, so no top categories here (the
    // summary's categories are unit-tested in the connector).
    let opp = opportunity(&w, &store_id).unwrap();
    assert_eq!(field(&opp, "AccountId"), account.id);
    let buyer = w.seed.customers.iter().find(|c| c.email.is_some()).unwrap();
    let contact =
        w.sf.contact_by_email(buyer.email.as_ref().unwrap().as_str())
            .unwrap();
    assert_eq!(
        field(&contact, "AccountId"),
        account.id,
        "the buyer is linked"
    );

    // A second company order counts on the same Account.
    let second =
        w.bc.place_order(&order(&w, "880003", Some("Globex Corporation")));
    settle(&w, "the second order on the Account", |w| {
        w.sf.records("Account").iter().any(|a| {
            field(a, "Cartograph_Key__c") == "company/globex corporation"
                && field(a, "Ecom_Order_Count__c") == "2"
        })
    })
    .await;
    assert!(opportunity(&w, &second).is_some());
    let globex: Vec<SimRecordView> =
        w.sf.records("Account")
            .into_iter()
            .filter(|a| field(a, "Name") == "Globex Corporation")
            .collect();
    assert_eq!(globex.len(), 1, "one Account per company");
    assert_eq!(field(&globex[0], "Ecom_Lifetime_Value__c"), "139.98");
}
