use cartograph_bigcommerce::sim::SimConfig;
use cartograph_connector::{CommerceSource, CommerceWriter, ListRequest, drain};
use cartograph_model::{CustomerWrite, EmailAddress, OrderStatus};
use cartograph_sim::CommerceSimulator as _;

use crate::support;

#[tokio::test]
async fn the_client_reads_every_stream_from_the_simulator() {
    let (sim, bc) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let customers = drain(&ListRequest::all().with_limit(3), |r| {
        let bc = &bc;
        async move { bc.list_customers(&r).await }
    })
    .await
    .unwrap();
    assert_eq!(customers.len(), seed.customers.len());
    let orders = drain(&ListRequest::all().with_limit(4), |r| {
        let bc = &bc;
        async move { bc.list_orders(&r).await }
    })
    .await
    .unwrap();
    assert_eq!(orders.len(), seed.orders.len());
    for o in &orders {
        let want = seed
            .orders
            .iter()
            .find(|s| s.source.id == o.source.id)
            .unwrap();
        assert_eq!(
            (o.currency, o.total),
            (want.currency, want.total),
            "order {}",
            o.source.id
        );
        assert_eq!(o.status, want.status);
        assert_eq!(o.line_items.len(), want.line_items.len());
    }
    let refunds = bc.list_refunds(&ListRequest::all()).await.unwrap().items;
    assert_eq!(refunds.len(), seed.refunds.len());
    let products = bc.list_products(&ListRequest::all()).await.unwrap().items;
    assert_eq!(products.len(), seed.products.len());
    let cart = bc
        .get_cart(&seed.carts[0].source.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cart.value, seed.carts[0].value);
    assert!(
        cart.recovery_url
            .unwrap()
            .contains(&seed.carts[0].source.id)
    );
    assert_eq!(
        bc.list_customer_groups(&ListRequest::all())
            .await
            .unwrap()
            .items
            .len(),
        seed.customer_groups.len()
    );
}

#[tokio::test]
async fn writes_round_trip_and_emails_stay_unique() {
    let (sim, bc) = support::sim(SimConfig::default()).await;
    let write = |key: &str, email: &str| CustomerWrite {
        key: key.into(),
        email: EmailAddress::new(email),
        first_name: Some("Grace".into()),
        last_name: Some("Hopper".into()),
        ..CustomerWrite::default()
    };
    let writes: Vec<_> = (0..25)
        .map(|i| write(&format!("k{i}"), &format!("g{i}@example.com")))
        .collect();
    let out = bc.upsert_customers(&writes).await.unwrap();
    assert!(out.iter().all(cartograph_connector::RecordOutcome::is_ok));
    assert_eq!(sim.customer_count(), 25);
    let again = bc
        .upsert_customers(&[write("dup", "G0@EXAMPLE.com")])
        .await
        .unwrap();
    assert!(
        again[0].error().is_some(),
        "duplicate email (case-insensitive) refused"
    );
    assert_eq!(sim.customer_count(), 25);
    let group = bc.create_customer_group("VIP").await.unwrap();
    let id = out[0].id.clone().unwrap();
    bc.assign_customer_group(&id, &group.source.id)
        .await
        .unwrap();
    let found = bc
        .find_customers_by_email(&[EmailAddress::new("G0@example.com").unwrap()])
        .await
        .unwrap();
    assert_eq!(found[0].customer_group_ids, vec![group.source.id.clone()]);
    let segment = sim.create_segment();
    let ids: Vec<String> = out.iter().filter_map(|o| o.id.clone()).collect();
    let added = bc.add_to_segment(&segment, &ids).await.unwrap();
    assert!(added.iter().all(cartograph_connector::RecordOutcome::is_ok));
    assert_eq!(sim.segment_members(&segment).len(), 25);
    let again = bc.add_to_segment(&segment, &ids[..2]).await.unwrap();
    assert!(matches!(
        again[0].status,
        cartograph_connector::WriteStatus::Unchanged
    ));
}

#[tokio::test]
async fn status_changes_show_in_deltas() {
    let (sim, bc) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let since = cartograph_model::Timestamp::now() - time::Duration::seconds(1);
    let id = &seed.orders[0].source.id;
    assert!(sim.set_order_status(id, OrderStatus::Shipped));
    let page = bc.list_orders(&ListRequest::since(since)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, OrderStatus::Shipped);
}
