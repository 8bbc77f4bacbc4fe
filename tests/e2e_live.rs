//! Live recipes on the BigCommerce and HubSpot simulators, through real webhooks: the store
//! simulator POSTs signed deliveries to the intake server, workers drain the queue.
//!
//! Recipe 2 (status change -> enrollment), 3 (abandoned cart -> contact + enrollment, ended
//! by an order), 4 (metrics follow every order and refund), 5 (high-value order -> deal with
//! line items + task), 7 (refund -> revenue adjusted, suppression, task) and 8 (CRM property
//! change -> store customer group, with the loop guard).
#![allow(clippy::unwrap_used)]

mod common;

use cartograph::connector::CommerceSource;
use cartograph::harness::CommerceSimulator as _;
use cartograph::model::{
    Cart, CartState, Currency, Customer, Decimal, EnrollmentTarget, LineItem, Money, Order,
    OrderStatus, RawStatus, RecordKind, SourceRef, Timestamp,
};
use common::{STREAMS, seed, settle, world};

fn usd(amount: i64) -> Money {
    Money::new(Decimal::new(amount, 0), Currency::USD)
}

fn line(id: &str, sku: &str, price: i64, quantity: i64) -> LineItem {
    LineItem {
        id: id.into(),
        sku: Some(sku.into()),
        product_id: None,
        variant_id: None,
        name: format!("Item {sku}"),
        quantity: Decimal::new(quantity, 0),
        unit_price: usd(price),
        total: usd(price * quantity),
        discount: None,
        tax: None,
        categories: vec!["Gear".into()],
        brand: None,
        image_url: None,
        product_url: None,
        custom: cartograph::model::Attributes::new(),
    }
}

fn order_for(customer: &Customer, id: &str, total: i64) -> Order {
    let email = customer.email.clone();
    Order {
        source: SourceRef::new("bigcommerce", RecordKind::Order, id),
        number: Some(id.into()),
        customer: Some(customer.source.clone()),
        email,
        status: OrderStatus::AwaitingFulfillment,
        raw_status: RawStatus::default(),
        payment_status: cartograph::model::PaymentStatus::Paid,
        fulfillment_status: cartograph::model::FulfillmentStatus::Unfulfilled,
        currency: Currency::USD,
        subtotal: usd(total),
        discount: usd(0),
        tax: usd(0),
        shipping: usd(0),
        total: usd(total),
        coupons: vec![],
        billing_address: customer.primary_address().cloned(),
        shipping_addresses: vec![],
        channel: None,
        line_items: vec![line("1", "HV-1", total / 2, 2)],
        created_at: Timestamp::now(),
        updated_at: Some(Timestamp::now()),
        paid_at: None,
        shipped_at: None,
        is_archived: false,
        custom: cartograph::model::Attributes::new(),
    }
}

fn prop(w: &common::World, email: &str, name: &str) -> Option<String> {
    w.hs.contact_by_email(email)
        .and_then(|c| c.properties.get(name).cloned())
        .filter(|v| !v.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_lifecycle_drives_deals_tasks_enrollments_and_metrics() {
    let mut shipped_list = String::new();
    let w = world(|config, hs| {
        shipped_list = hs.create_list("Shipped orders", "MANUAL");
        config.recipes.status_enrollments.insert(
            OrderStatus::Shipped.as_str().into(),
            EnrollmentTarget::List {
                id: shipped_list.clone(),
            },
        );
        config.recipes.high_value_threshold = Some(Decimal::new(500, 0));
    })
    .await;
    let seed = seed(&w);
    w.pipeline.backfill(&STREAMS).await.unwrap();
    let customer = seed.customers.iter().find(|c| c.email.is_some()).unwrap();
    let email = customer.email.as_ref().unwrap().as_str().to_owned();
    let count_before: u64 = prop(&w, &email, "ecom_order_count").map_or(0, |v| v.parse().unwrap());
    let deals_before = w.hs.records("deals").len();

    // Recipe 5 + 4: a high-value order placed live.
    let order_id = w.bc.place_order(&order_for(customer, "90001", 800));
    settle(&w, "deal for the live order", |w| {
        w.hs.records("deals").len() == deals_before + 1
    })
    .await;
    settle(&w, "high-value task", |w| !w.hs.records("tasks").is_empty()).await;
    let tasks = w.hs.records("tasks");
    assert_eq!(tasks.len(), 1, "one task for the high-value order");
    assert!(
        tasks[0]
            .properties
            .values()
            .any(|v| v.contains("High-value order")),
        "{:?}",
        tasks[0].properties
    );
    let count_after: u64 = prop(&w, &email, "ecom_order_count")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        count_after,
        count_before + 1,
        "order count follows the live order"
    );
    let deal =
        w.hs.records("deals")
            .into_iter()
            .find(|d| {
                d.properties
                    .values()
                    .any(|v| v.ends_with("order/90001") || v == "90001")
            })
            .unwrap();
    assert!(
        !w.hs.associations("deals", &deal.id).is_empty(),
        "deal associated (contact, line items)"
    );

    // Recipe 2: status change -> list membership (enrollment).
    assert!(w.bc.set_order_status(&order_id, OrderStatus::Shipped));
    let contact_id = w.hs.contact_by_email(&email).unwrap().id;
    settle(&w, "enrolled in the shipped list", |w| {
        w.hs.list_members(&shipped_list).contains(&contact_id)
    })
    .await;

    // Recipe 7: refund -> LTV down, suppression flag, task for the owner.
    let ltv_before: Decimal = prop(&w, &email, "ecom_lifetime_value")
        .unwrap()
        .parse()
        .unwrap();
    w.bc.refund_order(&order_id, Decimal::new(300, 0), "damaged in transit")
        .unwrap();
    settle(&w, "refund task", |w| w.hs.records("tasks").len() == 2).await;
    settle(&w, "suppression flag", |w| {
        prop(w, &email, "ecom_marketing_suppressed").as_deref() == Some("true")
    })
    .await;
    let ltv_after: Decimal = prop(&w, &email, "ecom_lifetime_value")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        ltv_before - ltv_after,
        Decimal::new(300, 0),
        "LTV net of the refund, exact"
    );

    // Nothing lost: the queue is empty and nothing was dead-lettered.
    assert_eq!(
        w.pipeline.dead_letter_count().await.unwrap(),
        0,
        "{:?}",
        w.store
            .dead_letters(&cartograph::sync::DeadLetterFilter::default())
            .await
            .unwrap()
    );
    assert_eq!(
        w.store.queue_stats(Timestamp::now()).await.unwrap().total(),
        0
    );
    // Redeliveries of the same webhook are deduplicated: one deal per order.
    assert_eq!(w.hs.records("deals").len(), deals_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_cart_reaches_the_contact_and_an_order_ends_it() {
    let mut cart_list = String::new();
    let w = world(|config, hs| {
        cart_list = hs.create_list("Abandoned carts", "MANUAL");
        config.recipes.abandoned_cart_enrollment = Some(EnrollmentTarget::List {
            id: cart_list.clone(),
        });
    })
    .await;
    let seed = seed(&w);
    w.pipeline.backfill(&STREAMS).await.unwrap();
    let customer = seed.customers.iter().find(|c| c.email.is_some()).unwrap();
    let email = customer.email.as_ref().unwrap().as_str().to_owned();
    let cart = Cart {
        source: SourceRef::new("bigcommerce", RecordKind::Cart, "cart-1"),
        customer: Some(customer.source.clone()),
        email: customer.email.clone(),
        items: vec![line("c1", "CART-1", 40, 2)],
        value: usd(80),
        state: CartState::Active,
        recovery_url: None,
        channel: None,
        created_at: Some(Timestamp::now()),
        updated_at: Some(Timestamp::now()),
        abandoned_at: None,
        converted_order: None,
    };
    let cart_id = w.bc.create_cart(&cart);
    settle(&w, "abandoned cart on the contact", |w| {
        prop(w, &email, "ecom_abandoned_cart_value").is_some()
    })
    .await;
    assert!(
        prop(&w, &email, "ecom_abandoned_cart_url").is_some(),
        "recovery URL on the contact"
    );
    let contact_id = w.hs.contact_by_email(&email).unwrap().id;
    settle(&w, "abandoned-cart enrollment", |w| {
        w.hs.list_members(&cart_list).contains(&contact_id)
    })
    .await;

    // An order ends it.
    w.bc.convert_cart(&cart_id).unwrap();
    settle(&w, "abandoned cart cleared", |w| {
        prop(w, &email, "ecom_abandoned_cart_value").is_none()
    })
    .await;
    assert_eq!(w.pipeline.dead_letter_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_property_change_sets_the_store_group_without_a_loop() {
    let w = world(|config, _| {
        config.recipes.reverse.group_property = Some("ecom_customer_group_request".into());
        config
            .recipes
            .reverse
            .groups_by_value
            .insert("wholesale".into(), "2".into());
    })
    .await;
    w.hs.define_property(
        "contacts",
        "ecom_customer_group_request",
        "string",
        "text",
        &[],
        false,
    );
    let seed = seed(&w);
    w.pipeline.backfill(&STREAMS).await.unwrap();
    // Our own writes came back from HubSpot as webhooks: the loop guard dropped them all.
    common::drain(&w).await;
    let customer = seed
        .customers
        .iter()
        .find(|c| c.email.is_some() && !c.customer_group_ids.contains(&"2".to_owned()))
        .unwrap();
    let email = customer.email.as_ref().unwrap().as_str().to_owned();
    let contact = w.hs.contact_by_email(&email).unwrap();
    let writes_before = common::contact_writes(&w);

    // A user in HubSpot puts the contact into the wholesale segment.
    w.hs.update_contact_as_user(&contact.id, &[("ecom_customer_group_request", "wholesale")])
        .await;
    settle(&w, "customer moved to group 2 in the store", |_| true).await;
    let mut moved = false;
    for _ in 0..100 {
        common::drain(&w).await;
        let c = w
            .bigcommerce
            .get_customer(&customer.source.id)
            .await
            .unwrap()
            .unwrap();
        if c.customer_group_ids == ["2"] {
            moved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        moved,
        "the store customer was not moved to the wholesale group"
    );
    // Loop guard: the store-side change did not produce a write back to HubSpot beyond at
    // most one contact update carrying the new group, and nothing keeps bouncing.
    common::drain(&w).await;
    let after_first = common::contact_writes(&w);
    assert!(
        after_first <= writes_before + 1,
        "writes before {writes_before}, after {after_first}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    common::drain(&w).await;
    assert_eq!(
        common::contact_writes(&w),
        after_first,
        "writes kept bouncing between the systems"
    );
    assert_eq!(w.pipeline.dead_letter_count().await.unwrap(), 0);
}
