//! Behaviour of the in-memory connectors beyond the shared contracts: what pipelines rely on
//! when they test against them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cartograph_connector::{
    CommerceSource, CrmSink, CrmSource, Cursor, ErrorKind, ListRequest, NotificationKind,
    WriteStatus,
};
use cartograph_model::{
    CommerceEventKind, ContactRef, ContactUpsert, EmailAddress, EnrollmentRequest,
    EnrollmentTarget, IdentityKeys, OrderObject, OrderRecord, OrderStatus, Origin, PropertyValue,
    RecordKind, Timestamp,
};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm, MemoryWebhookEvent};

fn contact(key: &str, email: &str) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: EmailAddress::new(email),
            ..IdentityKeys::default()
        },
        properties: [("firstname".to_owned(), PropertyValue::String("Ada".into()))].into(),
        origin: Origin::Live,
    }
}

#[tokio::test]
async fn duplicate_inputs_in_one_batch_both_fail_and_create_nothing() {
    let crm = MemoryCrm::new();
    let out = crm
        .upsert_contacts(&[
            contact("a", "Dup@Example.com"),
            contact("ok", "other@example.com"),
            contact("b", "dup@example.COM"),
        ])
        .await
        .unwrap();
    for i in [0, 2] {
        let err = out[i].error().unwrap();
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert_eq!(err.vendor_code(), Some("DUPLICATE_INPUT"));
    }
    assert!(matches!(out[1].status, WriteStatus::Created));
    assert!(crm.contact_by_email("dup@example.com").is_none());
    assert_eq!(crm.counts().failed, 2);
}

#[tokio::test]
async fn unknown_property_names_the_property_and_vendor_code() {
    let crm = MemoryCrm::new();
    let mut c = contact("a", "a@example.com");
    c.properties
        .insert("nope".into(), PropertyValue::Bool(true));
    let out = crm.upsert_contacts(&[c]).await.unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.vendor_code(), Some("PROPERTY_DOESNT_EXIST"));
    assert_eq!(err.field(), Some("nope"));
    assert!(crm.contacts().is_empty());
}

#[tokio::test]
async fn secondary_emails_find_the_same_contact() {
    let crm = MemoryCrm::new();
    let mut c = contact("a", "primary@example.com");
    c.identity.secondary_emails = vec![EmailAddress::new("Old@Example.com").unwrap()];
    crm.upsert_contacts(&[c]).await.unwrap();
    let out = crm
        .upsert_contacts(&[contact("b", "old@example.com")])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged));
    assert_eq!(crm.contacts().len(), 1);
}

#[tokio::test]
async fn retried_orders_and_tasks_are_recorded_once() {
    let crm = MemoryCrm::new();
    crm.upsert_contacts(&[contact("a", "buyer@example.com")])
        .await
        .unwrap();
    let order = OrderRecord {
        key: "memory/order/1".into(),
        object: OrderObject::Deal,
        contact: Some(ContactRef::Email(
            EmailAddress::new("BUYER@example.com").unwrap(),
        )),
        properties: [("amount".to_owned(), PropertyValue::Number(5.into()))].into(),
        line_items: Vec::new(),
        origin: Origin::Historical,
    };
    crm.record_orders(std::slice::from_ref(&order))
        .await
        .unwrap();
    let retry = crm
        .record_orders(std::slice::from_ref(&order))
        .await
        .unwrap();
    assert!(matches!(retry[0].status, WriteStatus::Unchanged));
    let orders = crm.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].versions, 1);
    assert_eq!(
        orders[0].contact_id,
        crm.contacts().first().map(|c| c.crm_id.clone())
    );
}

#[tokio::test]
async fn historical_enrollments_are_not_recorded() {
    let crm = MemoryCrm::new();
    crm.upsert_contacts(&[contact("a", "a@example.com")])
        .await
        .unwrap();
    let request = |key: &str, origin| EnrollmentRequest {
        key: key.into(),
        contact: ContactRef::Email(EmailAddress::new("a@example.com").unwrap()),
        target: EnrollmentTarget::Workflow { id: "wf".into() },
        reason: "first purchase".into(),
        origin,
    };
    let out = crm
        .enroll(&[request("h", Origin::Historical), request("l", Origin::Live)])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged));
    assert!(matches!(out[1].status, WriteStatus::Created));
    let enrolled: Vec<_> = crm.enrollments().into_iter().map(|e| e.key).collect();
    assert_eq!(enrolled, ["l"]);
}

#[tokio::test]
async fn injected_faults_fail_calls_then_clear() {
    let crm = MemoryCrm::new();
    crm.faults().fail_next(2, ErrorKind::Unavailable);
    for _ in 0..2 {
        let err = crm
            .upsert_contacts(&[contact("a", "a@example.com")])
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(err.status(), Some(503));
    }
    assert!(
        crm.upsert_contacts(&[contact("a", "a@example.com")])
            .await
            .is_ok()
    );

    crm.faults()
        .rate_limit_next("find_contacts", 1, Duration::from_millis(250));
    let err = crm.find_contacts(&[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_millis(250)));

    crm.faults().fail_record("bad", ErrorKind::Invalid);
    let out = crm
        .upsert_contacts(&[
            contact("bad", "b@example.com"),
            contact("good", "c@example.com"),
        ])
        .await
        .unwrap();
    assert_eq!(out[0].error().unwrap().kind(), ErrorKind::Invalid);
    assert!(out[1].is_ok());
    assert_eq!(crm.faults().calls("upsert_contacts"), 4);
}

#[tokio::test]
async fn crm_webhooks_flag_own_writes_only() {
    let crm = MemoryCrm::new();
    let out = crm
        .upsert_contacts(&[contact("a", "a@example.com")])
        .await
        .unwrap();
    let id = out[0].id.clone().unwrap();
    crm.edit_contact_as_user(&id, "lastname", PropertyValue::String("Byron".into()))
        .unwrap();
    let events = crm.parse_webhook(&crm.take_webhook().unwrap()).unwrap();
    let own: Vec<_> = events.iter().map(|e| e.is_own_write).collect();
    // created + firstname by us, lastname by a person
    assert_eq!(own, [true, true, false]);
    assert!(crm.take_webhook().is_none());
}

#[tokio::test]
async fn customers_are_unique_by_case_insensitive_email() {
    let seed = Seed::default();
    let shop = MemoryCommerce::with_seed(&seed).unwrap();
    let mut twin = seed.customers[0].clone();
    twin.source.id = "twin".into();
    twin.email = EmailAddress::new(twin.email.unwrap().as_str().to_uppercase());
    let err = shop.insert_customer(twin).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn a_status_change_shows_in_the_next_delta_and_hydrates_from_a_webhook() {
    let seed = Seed::default();
    let shop = MemoryCommerce::with_seed(&seed).unwrap();
    let now = Timestamp::from_unix_seconds(1_800_000_000).unwrap();
    shop.clock().set(now);
    let id = seed.orders[1].source.id.clone();
    shop.update_order_status(&id, OrderStatus::Shipped).unwrap();

    let delta = shop.list_orders(&ListRequest::since(now)).await.unwrap();
    let ids: Vec<_> = delta.items.iter().map(|o| o.source.id.as_str()).collect();
    assert_eq!(ids, [id.as_str()]);

    let request = shop.webhook_request(&[MemoryWebhookEvent::new(
        "evt-1",
        RecordKind::Order,
        id.clone(),
        NotificationKind::StatusChanged {
            from: Some("awaiting_fulfillment".into()),
            to: Some("shipped".into()),
        },
        now,
    )]);
    let notes = shop.parse_webhook(&request).unwrap();
    assert_eq!(notes[0].topic, "order/status_changed");
    let event = shop
        .hydrate(&notes[0], Origin::Live)
        .await
        .unwrap()
        .unwrap();
    match event.kind {
        CommerceEventKind::OrderStatusChanged { from, to, .. } => {
            assert_eq!(from, Some(OrderStatus::AwaitingFulfillment));
            assert_eq!(to, OrderStatus::Shipped);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn webhook_secret_and_malformed_bodies_are_typed_errors() {
    let shop = MemoryCommerce::builder().webhook_secret("s3cret").build();
    let mut request = shop.webhook_request(&[]);
    assert!(shop.parse_webhook(&request).unwrap().is_empty());
    request
        .headers
        .retain(|(k, _)| k != "x-memory-webhook-secret");
    assert_eq!(
        shop.parse_webhook(&request).unwrap_err().kind(),
        ErrorKind::Signature
    );

    let open = MemoryCommerce::new();
    let mut bad = open.webhook_request(&[]);
    bad.body = b"{\"events\": 5}".to_vec();
    assert_eq!(
        open.parse_webhook(&bad).unwrap_err().kind(),
        ErrorKind::Decode
    );
}

#[tokio::test]
async fn malformed_cursor_is_invalid_not_a_restart() {
    let shop = MemoryCommerce::with_seed(&Seed::default()).unwrap();
    let request = ListRequest::all().at(Some(Cursor::new("garbage")));
    let err = shop.list_customers(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("cursor"));
}

#[tokio::test]
async fn seed_covers_mixed_ids_currencies_and_guests() {
    let seed = Seed::default();
    let ids = seed.ids(cartograph_connector::Stream::Customers);
    assert!(ids.iter().any(|id| id.parse::<u64>().is_err()));
    assert!(ids.iter().any(|id| id.starts_with('0')));
    let currencies: std::collections::BTreeSet<_> = seed
        .orders
        .iter()
        .map(|o| o.currency.code().to_owned())
        .collect();
    assert!(currencies.contains("JPY") && currencies.len() >= 3);
    for o in seed.orders.iter().filter(|o| o.currency.code() == "JPY") {
        assert!(o.total.amount().fract().is_zero(), "JPY has no minor units");
    }
    assert!(seed.orders.iter().any(|o| o.customer.is_none()));
    assert!(
        seed.customers
            .iter()
            .all(|c| c.email.as_ref().unwrap().as_str() != c.email.as_ref().unwrap().normalized())
    );
}
