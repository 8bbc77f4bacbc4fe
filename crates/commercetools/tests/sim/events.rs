use std::time::Duration;

use base64::Engine as _;
use cartograph_commercetools::sim::{CHANGE_TYPES, MESSAGE_TYPES, SimConfig};
use cartograph_connector::{CommerceSource, ListRequest, NotificationKind};
use cartograph_model::CommerceEventKind;
use cartograph_model::{Decimal, OrderStatus, Origin, RecordKind, Timestamp};
use cartograph_sim::CommerceSimulator as _;
use serde_json::Value;

use crate::support;

fn inner(request: &cartograph_connector::WebhookRequest) -> Value {
    let envelope: Value = serde_json::from_slice(&request.body).unwrap();
    let data = envelope["message"]["data"].as_str().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn pubsub_push_deliveries_parse_and_hydrate_into_order_events() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(200).await;
    sim.subscribe_push(rx.url(), &MESSAGE_TYPES, &CHANGE_TYPES, false);

    let mut order = seed.orders[0].clone();
    order.source.id = "live-1".into();
    order.status = OrderStatus::AwaitingFulfillment;
    let id = sim.place_order(&order);
    let delivery = rx
        .next_accepted(support::WAIT)
        .await
        .expect("a delivery within 10 s");
    let payload = inner(&delivery);
    assert_eq!(payload["notificationType"], "Message");
    assert_eq!(payload["type"], "OrderCreated");
    assert_eq!(payload["sequenceNumber"], 1);
    assert_eq!(payload["projectKey"], sim.config().project_key.as_str());
    let notes = ct.parse_webhook(&delivery).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].source.kind, notes[0].source.id.as_str()),
        (RecordKind::Order, id.as_str())
    );
    assert_eq!(notes[0].kind, NotificationKind::Created);
    let event = ct.hydrate(&notes[0], Origin::Live).await.unwrap().unwrap();
    let CommerceEventKind::OrderPlaced { order: placed } = event.kind else {
        panic!("{event:?}")
    };
    assert_eq!(
        (placed.total, placed.currency),
        (order.total, order.currency)
    );

    assert!(sim.set_order_status(&id, OrderStatus::Shipped));
    let payload = inner(
        &rx.next_accepted(support::WAIT)
            .await
            .expect("a delivery within 10 s"),
    );
    assert_eq!(payload["type"], "OrderShipmentStateChanged");
    assert_eq!(payload["sequenceNumber"], 2);
    assert_eq!(payload["resourceVersion"], 2);

    let refund = sim
        .refund_order(&id, Decimal::new(500, 2), "Damaged")
        .unwrap();
    let delivery = rx
        .next_accepted(support::WAIT)
        .await
        .expect("a delivery within 10 s");
    assert_eq!(inner(&delivery)["type"], "ReturnInfoAdded");
    let notes = ct.parse_webhook(&delivery).unwrap();
    assert_eq!(
        notes[0].kind,
        NotificationKind::Refunded { refund_id: None }
    );
    let event = ct.hydrate(&notes[0], Origin::Live).await.unwrap().unwrap();
    let CommerceEventKind::OrderRefunded { refund: r, .. } = event.kind else {
        panic!("{event:?}")
    };
    assert_eq!(r.source.id, refund);
    assert_eq!(r.amount.amount(), Decimal::new(500, 2));
    assert_eq!(r.amount.currency(), order.currency);
}

#[tokio::test]
async fn converted_cart_and_own_writes_and_payload_not_included() {
    let (sim, ct) = support::sim(SimConfig {
        payload_limit: 600,
        ..SimConfig::default()
    })
    .await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(200).await;
    sim.subscribe_push(rx.url(), &MESSAGE_TYPES, &CHANGE_TYPES, false);
    let mut cart = seed.carts[0].clone();
    cart.source.id = "live-cart".into();
    let cart_id = sim.create_cart(&cart);
    let created = inner(
        &rx.next_accepted(support::WAIT)
            .await
            .expect("a delivery within 10 s"),
    );
    assert_eq!(created["notificationType"], "ResourceCreated");
    assert_eq!(created["resource"]["typeId"], "cart");
    let order_id = sim.convert_cart(&cart_id).unwrap();
    let mut kinds = Vec::new();
    for _ in 0..2 {
        let d = rx
            .next_accepted(support::WAIT)
            .await
            .expect("a delivery within 10 s");
        let payload = inner(&d);
        if payload["type"] == "OrderCreated" {
            // Too large for the 600-byte limit: delivered without the order.
            assert_eq!(payload["payloadNotIncluded"]["payloadType"], "OrderCreated");
            assert!(payload.get("order").is_none());
        }
        for n in ct.parse_webhook(&d).unwrap() {
            kinds.push((n.source.kind, n.source.id.clone(), n.kind.clone()));
            if n.source.kind == RecordKind::Order {
                let event = ct.hydrate(&n, Origin::Live).await.unwrap().unwrap();
                assert!(
                    matches!(event.kind, CommerceEventKind::OrderPlaced { .. }),
                    "fetched by id"
                );
            }
        }
    }
    assert!(
        kinds.contains(&(
            RecordKind::Order,
            order_id.clone(),
            NotificationKind::Created
        )),
        "{kinds:?}"
    );
    assert!(
        kinds
            .iter()
            .any(|(k, id, _)| *k == RecordKind::Cart && *id == cart_id),
        "{kinds:?}"
    );

    // Our own write comes back as a message created by our client: dropped (loop guard).
    let customer = &seed.customers[0].source.id;
    cartograph_connector::CommerceWriter::assign_customer_group(
        &ct,
        customer,
        &seed.customer_groups[1].source.id,
    )
    .await
    .unwrap();
    let d = rx
        .next_accepted(support::WAIT)
        .await
        .expect("a delivery within 10 s");
    assert_eq!(inner(&d)["type"], "CustomerGroupSet");
    assert_eq!(
        inner(&d)["createdBy"]["clientId"],
        sim.config().client_id.as_str()
    );
    assert!(ct.parse_webhook(&d).unwrap().is_empty());
}

#[tokio::test]
async fn failed_pushes_are_retried_and_messages_can_be_polled() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(503).await;
    sim.subscribe_push(rx.url(), &MESSAGE_TYPES, &[], false);
    let since = Timestamp::now();
    let mut order = seed.orders[1].clone();
    order.status = OrderStatus::AwaitingFulfillment;
    let id = sim.place_order(&order);
    tokio::time::sleep(Duration::from_millis(30)).await;
    rx.answer_with(200);
    let d = rx
        .next_accepted(support::WAIT)
        .await
        .expect("a delivery within 10 s");
    assert_eq!(inner(&d)["resource"]["id"], id.as_str());
    let mut attempts = sim.deliveries();
    for _ in 0..100 {
        if attempts.last().is_some_and(|a| a.status == Some(200)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        attempts = sim.deliveries();
    }
    assert!(
        attempts.len() >= 2 && attempts[0].status == Some(503),
        "{attempts:?}"
    );
    assert_eq!(attempts.last().unwrap().status, Some(200));

    sim.set_order_status(&id, OrderStatus::Cancelled);
    let page = ct.poll_messages(&ListRequest::since(since)).await.unwrap();
    let kinds: Vec<_> = page.items.iter().map(|n| n.topic.as_str()).collect();
    assert_eq!(kinds, ["OrderCreated", "OrderStateChanged"]);
    assert_eq!(
        page.items[1].kind,
        NotificationKind::StatusChanged {
            from: Some("Confirmed".into()),
            to: Some("Cancelled".into())
        }
    );
    // Already applied resource versions are not returned twice.
    let again = ct.poll_messages(&ListRequest::since(since)).await.unwrap();
    assert!(again.items.is_empty(), "{:?}", again.items);
}

#[tokio::test]
async fn cloud_events_format_is_delivered_and_parsed() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(200).await;
    sim.subscribe_push(rx.url(), &["order"], &[], true);
    let id = sim.place_order(&seed.orders[2]);
    let d = rx
        .next_accepted(support::WAIT)
        .await
        .expect("a delivery within 10 s");
    let event = inner(&d);
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(
        event["type"],
        "com.commercetools.order.message.OrderCreated"
    );
    assert_eq!(event["subject"], id.as_str());
    assert_eq!(event["sequence"], "1");
    assert_eq!(event["data"]["notificationType"], "Message");
    let notes = ct.parse_webhook(&d).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].source.id.as_str(), &notes[0].kind),
        (id.as_str(), &NotificationKind::Created)
    );
}
