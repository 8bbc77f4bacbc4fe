//! A host seeds either commerce simulator with records built only from the model's public
//! constructors (no testkit or bench helpers) and everything reaches the CRM through the
//! facade: contacts for account and guest buyers, one deal per order at the order's exact
//! total, and a live cart turned into an order.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use cartograph::core::metrics::Rates;
use cartograph::harness::{
    BACKFILL_STREAMS, CommerceSystem, CrmSystem, Harness, SeedData, start_commerce, start_crm,
};
use cartograph::model::{
    Address, AddressKind, Cart, Currency, Customer, Decimal, EmailAddress, LineItem, Money, Order,
    OrderStatus, PaymentStatus, Product, RecordKind, SourceRef, Timestamp, Variant,
};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{DeadLetterFilter, Store};

fn usd(cents: i64) -> Money {
    Money::from_minor(cents, Currency::USD)
}

struct Records {
    data: SeedData,
    totals: Vec<Money>,
}

fn records(system: &str) -> Records {
    let sref = |kind, id: &str| SourceRef::new(system, kind, id);
    let at = Timestamp::now() - time::Duration::days(30);
    let ada = Customer {
        email: EmailAddress::new("Ada@Example.com"),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        addresses: vec![Address {
            line1: Some("12 St James's Square".into()),
            city: Some("London".into()),
            country_code: Some("GB".into()),
            ..Address::new(AddressKind::Billing)
        }],
        created_at: Some(at),
        updated_at: Some(at),
        ..Customer::new(sref(RecordKind::Customer, "1"))
    };
    let grace = Customer {
        email: EmailAddress::new("grace@example.com"),
        first_name: Some("Grace".into()),
        last_name: Some("Hopper".into()),
        created_at: Some(at),
        updated_at: Some(at),
        ..Customer::new(sref(RecordKind::Customer, "2"))
    };
    let tea = Product {
        sku: Some("TEA-1".into()),
        price: Some(usd(450)),
        variants: vec![Variant {
            sku: Some("TEA-1-250G".into()),
            price: Some(usd(450)),
            ..Variant::new("11")
        }],
        created_at: Some(at),
        updated_at: Some(at),
        ..Product::new(sref(RecordKind::Product, "10"), "Tea")
    };
    let pot = Product {
        sku: Some("POT-1".into()),
        price: Some(usd(2999)),
        created_at: Some(at),
        updated_at: Some(at),
        ..Product::new(sref(RecordKind::Product, "20"), "Teapot")
    };
    let line = |id: &str, product: &Product, quantity: i64| {
        LineItem::new(
            id,
            product.name.clone(),
            Decimal::from(quantity),
            product.price.unwrap(),
        )
        .unwrap()
        .for_product(product)
    };
    let placed = |id: &str, status: OrderStatus| {
        Order::builder(sref(RecordKind::Order, id), Currency::USD, at)
            .number(id)
            .status(status)
            .payment_status(PaymentStatus::Paid)
            .updated_at(at)
    };
    let orders = vec![
        placed("100", OrderStatus::Completed)
            .customer(&ada)
            .line_item(line("100-1", &tea, 3))
            .line_item(line("100-2", &pot, 1))
            .tax(usd(435))
            .shipping(usd(599))
            .build()
            .unwrap(),
        placed("101", OrderStatus::Shipped)
            .customer(&grace)
            .line_item(line("101-1", &pot, 2))
            .discount(usd(500))
            .build()
            .unwrap(),
        // A guest checkout: an email and no account.
        placed("102", OrderStatus::AwaitingFulfillment)
            .email(EmailAddress::new("guest@example.org").unwrap())
            .line_item(line("102-1", &tea, 1))
            .shipping(usd(599))
            .build()
            .unwrap(),
    ];
    let totals = orders.iter().map(|o| o.total).collect();
    Records {
        data: SeedData {
            products: vec![tea, pot],
            customers: vec![ada, grace],
            orders,
            ..SeedData::default()
        },
        totals,
    }
}

fn amounts(harness: &Harness) -> Vec<Decimal> {
    let mut amounts: Vec<Decimal> = harness
        .crm
        .order_records()
        .iter()
        .map(|deal| deal.properties["amount"].parse().unwrap())
        .collect();
    amounts.sort();
    amounts
}

async fn run(commerce: CommerceSystem) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("seed.sqlite")).unwrap());
    let harness = Harness::builder(
        start_commerce(commerce).await.unwrap(),
        start_crm(CrmSystem::HubSpot).await.unwrap(),
        Arc::clone(&store),
        Rates::new(Currency::USD),
    )
    .build()
    .await
    .unwrap();
    let system = harness.commerce.system().to_owned();
    let records = records(&system);
    let seeded = harness.commerce.seed(&records.data);
    assert_eq!(seeded.orders.len(), 3, "[{commerce}] {seeded:?}");
    harness.pipeline.backfill(&BACKFILL_STREAMS).await.unwrap();

    let dead = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(dead.is_empty(), "[{commerce}] dead letters: {dead:?}");
    for email in ["ada@example.com", "grace@example.com", "guest@example.org"] {
        assert!(
            harness.crm.contact_by_email(email).is_some(),
            "[{commerce}] no contact for {email}"
        );
    }
    let ada = harness.crm.contact_by_email("ada@example.com").unwrap();
    assert_eq!(ada.properties["firstname"], "Ada", "[{commerce}]");
    // One deal per order, each at the order's total to the cent:
    // 3 x 4.50 + 29.99 + 4.35 tax + 5.99 shipping; 2 x 29.99 - 5.00; 4.50 + 5.99.
    let mut totals: Vec<Decimal> = records.totals.iter().map(Money::amount).collect();
    totals.sort();
    assert_eq!(
        totals,
        [
            Decimal::new(1049, 2),
            Decimal::new(5383, 2),
            Decimal::new(5498, 2)
        ]
    );
    assert_eq!(amounts(&harness), totals, "[{commerce}] deal amounts");

    // Live: Grace's cart, built with `Cart::new` + `with_items`, becomes an order.
    let tea = &records.data.products[0];
    let cart = Cart {
        customer: Some(records.data.customers[1].source.clone()),
        email: records.data.customers[1].email.clone(),
        created_at: Some(Timestamp::now()),
        updated_at: Some(Timestamp::now()),
        ..Cart::new(
            SourceRef::new(&system, RecordKind::Cart, "500"),
            Currency::USD,
        )
        .with_items([LineItem::new("500-1", "Tea", Decimal::from(2), usd(450))
            .unwrap()
            .for_product(tea)])
        .unwrap()
    };
    assert_eq!(cart.value, usd(900));
    let cart_id = harness.commerce.create_cart(&cart);
    harness
        .commerce
        .convert_cart(&cart_id)
        .unwrap_or_else(|| panic!("[{commerce}] cart conversion"));
    common::settle_harness(&harness, "the cart's order reaches the CRM", |h| {
        h.crm.order_records().len() == 4
    })
    .await;
    assert!(
        amounts(&harness).contains(&Decimal::new(900, 2)),
        "[{commerce}] the cart's order at the cart's value: {:?}",
        amounts(&harness)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_commerce_simulators_take_records_built_from_the_model_constructors() {
    for commerce in CommerceSystem::ALL {
        run(commerce).await;
    }
}
