use std::collections::BTreeMap;
use std::time::Duration;

use cartograph_bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph_bigcommerce::sim::{SIM_HEADER_SECRET, SimConfig};
use cartograph_connector::{CommerceSource, NotificationKind};
use cartograph_model::{CommerceEventKind, Decimal, OrderStatus, Origin, RecordKind};
use cartograph_sim::CommerceSimulator as _;

use crate::support;

#[tokio::test]
async fn order_events_arrive_signed_and_parse_with_the_connector() {
    let (sim, bc) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(200).await;
    let hook = bc.ensure_hook("store/order/*", rx.url()).await.unwrap();
    assert!(hook.is_active);
    let order = seed.orders[1].clone();
    let mut order = order;
    order.source.id = "77777".into();
    let id = sim.place_order(&order);
    assert!(sim.set_order_status(&id, OrderStatus::Cancelled));
    let refund = sim
        .refund_order(&id, Decimal::new(150, 2), "damaged")
        .unwrap();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let delivery = rx
            .next(support::WAIT)
            .await
            .expect("a delivery within 10 s");
        assert!(
            delivery
                .header("webhook-signature")
                .unwrap()
                .starts_with("v1,")
        );
        assert_eq!(
            delivery.header(DEFAULT_SECRET_HEADER),
            Some(SIM_HEADER_SECRET)
        );
        let notes = bc
            .parse_webhook(&delivery)
            .expect("verified by the connector");
        assert_eq!(notes[0].source.kind, RecordKind::Order);
        assert_eq!(notes[0].source.id, id);
        let event = bc.hydrate(&notes[0], Origin::Live).await.unwrap().unwrap();
        kinds.push((notes[0].kind.clone(), event.kind.name()));
    }
    kinds.sort_by_key(|(_, name)| *name);
    assert!(
        kinds
            .iter()
            .any(|(k, n)| *k == NotificationKind::Created && *n == "order_placed")
    );
    assert!(kinds.iter().any(|(_, n)| *n == "order_cancelled"));
    assert!(kinds.iter().any(|(k, n)| *n == "order_refunded"
        && *k
            == NotificationKind::Refunded {
                refund_id: Some(refund.clone())
            }));
    // A tampered delivery fails verification.
    let mut bad = {
        let _ = sim.set_order_status(&id, OrderStatus::Completed);
        rx.next(support::WAIT)
            .await
            .expect("a delivery within 10 s")
    };
    bad.body.push(b' ');
    assert!(bc.parse_webhook(&bad).is_err());
}

#[tokio::test]
async fn carts_are_abandoned_after_idle_time_and_converted() {
    let (sim, bc) = support::sim(SimConfig {
        abandon_after: Duration::from_secs(3600),
        time_scale: cartograph_sim::TimeScale::new(0.0001),
        ..SimConfig::default()
    })
    .await;
    let seed = support::seed();
    let mut rx = support::receiver(200).await;
    let headers = BTreeMap::from([(
        DEFAULT_SECRET_HEADER.to_owned(),
        SIM_HEADER_SECRET.to_owned(),
    )]);
    sim.register_webhook("store/cart/*", rx.url(), headers);
    let mut cart = seed.carts[0].clone();
    cart.source.id = "0c0a7000-0000-4000-8000-00000000abcd".into();
    let id = sim.create_cart(&cart);
    let created = bc
        .parse_webhook(
            &rx.next(support::WAIT)
                .await
                .expect("a delivery within 10 s"),
        )
        .unwrap();
    assert_eq!(created[0].kind, NotificationKind::Created);
    let abandoned = bc
        .parse_webhook(
            &rx.next(support::WAIT)
                .await
                .expect("a delivery within 10 s"),
        )
        .unwrap();
    assert!(matches!(
        abandoned[0].kind,
        NotificationKind::Abandoned { token: Some(_) }
    ));
    assert_eq!(abandoned[0].source.id, id);
    let event = bc
        .hydrate(&abandoned[0], Origin::Live)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        event.kind,
        CommerceEventKind::CartAbandoned { .. }
    ));
    let order_id = sim.convert_cart(&id).unwrap();
    let converted = bc
        .parse_webhook(
            &rx.next(support::WAIT)
                .await
                .expect("a delivery within 10 s"),
        )
        .unwrap();
    assert_eq!(
        converted[0].kind,
        NotificationKind::Converted {
            order_id: order_id.clone()
        }
    );
    let event = bc
        .hydrate(&converted[0], Origin::Live)
        .await
        .unwrap()
        .unwrap();
    match event.kind {
        CommerceEventKind::CartConverted { cart, order } => {
            assert!(cart.is_none(), "converted carts are deleted");
            assert_eq!(order.id, order_id);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn failed_deliveries_follow_the_retry_schedule_then_deactivate_the_hook() {
    let (sim, bc) = support::sim(SimConfig {
        time_scale: cartograph_sim::TimeScale::new(0.000_002),
        ..SimConfig::default()
    })
    .await;
    let mut rx = support::receiver(500).await;
    let hook = bc.ensure_hook("store/order/*", rx.url()).await.unwrap();
    let mut order = support::seed().orders[0].clone();
    order.source.id = "424242".into();
    sim.place_order(&order);
    for _ in 0..12 {
        rx.next(support::WAIT)
            .await
            .expect("a delivery within 10 s");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while sim.hook(hook.id).unwrap().is_active {
        assert!(tokio::time::Instant::now() < deadline, "hook still active");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let attempts: Vec<u32> = sim.deliveries().iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, (1..=12).collect::<Vec<_>>());
    assert!(
        sim.deliveries().windows(2).all(|w| w[0].hash == w[1].hash),
        "same hash on retries"
    );
    // Re-enabling through the connector.
    assert!(
        bc.ensure_hook("store/order/*", rx.url())
            .await
            .unwrap()
            .is_active
    );
}

#[tokio::test]
async fn the_harness_subscription_delivers_each_event_once_even_when_repeated() {
    use cartograph_sim::CommerceSimulator;
    let (sim, _bc) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut rx = support::receiver(200).await;
    CommerceSimulator::deliver_webhooks_to(&sim, rx.url())
        .await
        .unwrap();
    CommerceSimulator::deliver_webhooks_to(&sim, rx.url())
        .await
        .unwrap();
    let mut order = seed.orders[1].clone();
    order.source.id = "88888".into();
    let id = sim.place_order(&order);
    sim.refund_order(&id, Decimal::new(150, 2), "damaged")
        .unwrap();
    // Two events (created, refund created): two deliveries, then silence.
    let first = rx
        .next(Duration::from_secs(10))
        .await
        .expect("first delivery");
    let second = rx
        .next(Duration::from_secs(10))
        .await
        .expect("second delivery");
    let scopes = |r: &cartograph_connector::WebhookRequest| {
        serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["scope"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut got = vec![scopes(&first), scopes(&second)];
    got.sort();
    assert_eq!(got, ["store/order/created", "store/order/refund/created"]);
    assert!(
        rx.next(Duration::from_millis(300)).await.is_none(),
        "an event was delivered twice"
    );
    assert_eq!(sim.deliveries().len(), 2);
}
