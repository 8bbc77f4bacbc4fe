//! Orders: deal upsert by the unique order id, line items with hs_product_id, products,
//! default associations, the orders object, associate().

use cartograph_connector::{CrmSink, ErrorKind, RecordOutcome, WriteStatus, Written};
use cartograph_hubspot::{HubSpot, HubSpotMapping};
use cartograph_model::{
    Association, ContactRef, CrmObjectType, Decimal, LineItemRecord, OrderObject, OrderRecord,
    Origin, ProductRecord, PropertyValue, RecordRef,
};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

pub fn order(key: &str, object: OrderObject) -> OrderRecord {
    let mut properties = props(&[("deal_currency_code", "EUR")]);
    properties.insert(
        "amount".into(),
        PropertyValue::Number(Decimal::new(12550, 2)),
    );
    properties.insert(
        "closedate".into(),
        PropertyValue::Date(time::macros::date!(2024 - 05 - 01)),
    );
    OrderRecord {
        key: key.into(),
        object,
        contact: Some(ContactRef::Email(email("Buyer@Example.com"))),
        properties,
        line_items: vec![LineItemRecord {
            key: "1".into(),
            product_key: Some("sku-1".into()),
            properties: props(&[("name", "Mug"), ("quantity", "2")]),
        }],
        origin: Origin::Live,
    }
}

async fn mount_common(server: &MockServer, order_path: &str) {
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .and(body_partial_json(
            json!({"idProperty": "email", "inputs": [{"id": "buyer@example.com"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "c1",
            json!({"email": "buyer@example.com"}),
        )])))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/products/batch/read"))
        .and(body_partial_json(
            json!({"idProperty": "cartograph_product_id", "inputs": [{"id": "sku-1"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "p1",
            json!({"cartograph_product_id": "sku-1"}),
        )])))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{order_path}/batch/upsert")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "d1", "new": true,
            "objectWriteTraceId": "0", "properties": {"cartograph_order_id": "o-1"}})])),
        )
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST")).and(path("/crm/v3/objects/line_items/batch/upsert"))
        .and(body_partial_json(json!({"inputs": [{"id": "o-1:1", "idProperty": "cartograph_line_item_id",
            "properties": {"hs_product_id": "p1", "name": "Mug", "quantity": "2", "cartograph_line_item_id": "o-1:1"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "li1", "new": true,
            "objectWriteTraceId": "0", "properties": {"cartograph_line_item_id": "o-1:1"}})])))
        .expect(1).mount(server).await;
}

async fn mount_assoc(server: &MockServer, from: &str, to: &str, from_id: &str, to_id: &str) {
    Mock::given(method("POST")).and(path(format!("/crm/v4/associations/{from}/{to}/batch/associate/default")))
        .and(body_partial_json(json!({"inputs": [{"from": {"id": from_id}, "to": {"id": to_id}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![
            json!({"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}})])))
        .expect(1).mount(server).await;
}

#[tokio::test]
async fn record_orders_upserts_deal_line_items_and_associations() {
    let server = server().await;
    mount_common(&server, "/crm/v3/objects/0-3").await;
    mount_assoc(&server, "0-3", "contacts", "d1", "c1").await;
    mount_assoc(&server, "0-3", "line_items", "d1", "li1").await;
    let out = hubspot(&server)
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some("d1"));
    let sent = bodies(&server, "/crm/v3/objects/0-3/batch/upsert").await;
    let input = &sent[0]["inputs"][0];
    assert_eq!(input["id"], "o-1");
    assert_eq!(input["idProperty"], "cartograph_order_id");
    let p = &input["properties"];
    assert_eq!(p["amount"], "125.50");
    assert_eq!(p["closedate"], "2024-05-01");
    assert_eq!(p["deal_currency_code"], "EUR");
    assert_eq!(p["pipeline"], "default");
    assert_eq!(p["dealstage"], "closedwon");
    assert_eq!(p["cartograph_order_id"], "o-1");
}

#[tokio::test]
async fn orders_object_is_used_when_configured() {
    let server = server().await;
    mount_common(&server, "/crm/v3/objects/orders").await;
    mount_assoc(&server, "orders", "contacts", "d1", "c1").await;
    mount_assoc(&server, "orders", "line_items", "d1", "li1").await;
    let config = builder(&server.uri())
        .mapping(HubSpotMapping {
            order_object: Some(OrderObject::Order),
            ..HubSpotMapping::default()
        })
        .build()
        .unwrap();
    let out = HubSpot::new(config)
        .unwrap()
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{:?}", out[0]);
    let sent = bodies(&server, "/crm/v3/objects/orders/batch/upsert").await;
    assert_eq!(
        sent[0]["inputs"][0]["properties"]["hs_order_name"],
        "Order o-1"
    );
}

#[tokio::test]
async fn order_for_an_unknown_contact_fails_before_writing() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/products/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    let out = hubspot(&server)
        .record_orders(&[order("o-2", OrderObject::Deal)])
        .await
        .unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.field(), Some("contact"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn upsert_products_uses_the_unique_product_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/products/batch/upsert"))
        .and(body_partial_json(
            json!({"inputs": [{"id": "sku-9", "idProperty": "cartograph_product_id",
            "properties": {"name": "Cup", "price": "9.90", "cartograph_product_id": "sku-9"}}]}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "p9", "new": false,
            "objectWriteTraceId": "0", "properties": {}})])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut properties = props(&[("name", "Cup")]);
    properties.insert("price".into(), PropertyValue::Number(Decimal::new(990, 2)));
    let out = hubspot(&server)
        .upsert_products(&[ProductRecord {
            key: "sku-9".into(),
            properties,
        }])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated));
    assert_eq!(out[0].id.as_deref(), Some("p9"));
}

/// A connector whose mapping names the `buyer` label (`USER_DEFINED` type 42).
fn labelled(server: &MockServer) -> HubSpot {
    let mut mapping = HubSpotMapping::default();
    mapping.association_labels.insert("buyer".into(), 42);
    HubSpot::new(builder(&server.uri()).mapping(mapping).build().unwrap()).unwrap()
}

/// `contact:c1 -> <object>:<id>`, labelled or not.
fn from_c1(object: CrmObjectType, id: &str, label: Option<&str>) -> Association {
    Association {
        from: RecordRef {
            object: CrmObjectType::Contact,
            id: "c1".into(),
        },
        to: RecordRef {
            object,
            id: id.into(),
        },
        label: label.map(str::to_owned),
    }
}

/// HubSpot's `batch/create` answer for `c1 -> d1` (`LabelsBetweenObjectPair`, v4 and
/// 2026-03 specs alike).
fn labels_between_c1_d1() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(batch(vec![json!({
        "fromObjectTypeId": "0-1", "fromObjectId": "c1",
        "toObjectTypeId": "0-3", "toObjectId": "d1", "labels": ["buyer"]
    })]))
}

#[tokio::test]
async fn associate_uses_default_types_and_configured_labels() {
    let server = server().await;
    mount_assoc(&server, "contacts", "companies", "c1", "co1").await;
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/contacts/0-3/batch/create"))
        .and(body_partial_json(
            json!({"inputs": [{"from": {"id": "c1"}, "to": {"id": "d1"},
            "types": [{"associationCategory": "USER_DEFINED", "associationTypeId": 42}]}]}),
        ))
        .respond_with(labels_between_c1_d1())
        .expect(1)
        .mount(&server)
        .await;
    let out = labelled(&server)
        .associate(&[
            from_c1(CrmObjectType::Company, "co1", None),
            from_c1(CrmObjectType::Deal, "d1", Some("buyer")),
            from_c1(CrmObjectType::Deal, "d1", Some("nope")),
        ])
        .await
        .unwrap();
    assert!(out[0].is_ok() && out[1].is_ok(), "{out:?}");
    assert_eq!(out[2].error().unwrap().field(), Some("label"));
}

#[tokio::test]
async fn associate_sends_default_pairs_when_the_labelled_call_fails() {
    let server = server().await;
    // The labelled group (`contacts -> 0-3`) sorts before the default one (`contacts ->
    // companies`); its failure must not keep the default pair from being sent.
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/contacts/0-3/batch/create"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    mount_assoc(&server, "contacts", "companies", "c1", "co1").await;
    let out = labelled(&server)
        .associate(&[
            from_c1(CrmObjectType::Deal, "d1", Some("buyer")),
            from_c1(CrmObjectType::Company, "co1", None),
        ])
        .await
        .unwrap();
    assert_eq!(out[0].error().unwrap().kind(), ErrorKind::Unavailable);
    assert_eq!(out[0].key, "contact:c1->deal:d1");
    assert!(out[1].is_ok(), "{:?}", out[1]);
}

#[tokio::test]
async fn labelled_answer_missing_the_pair_fails_that_pair_only() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v4/associations/contacts/0-3/batch/create"))
        .respond_with(labels_between_c1_d1())
        .expect(1)
        .mount(&server)
        .await;
    let out = labelled(&server)
        .associate(&[
            from_c1(CrmObjectType::Deal, "d1", Some("buyer")),
            from_c1(CrmObjectType::Deal, "d2", Some("buyer")),
        ])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{:?}", out[0]);
    assert!(out[1].error().is_some(), "{:?}", out[1]);
}

/// Records order `o-1` (deal `d1`, written) while the contact association answers
/// `contact_answer`; the line-item association is still sent (`expect(1)`).
async fn order_with_contact_association(contact_answer: ResponseTemplate) -> RecordOutcome {
    let server = server().await;
    mount_common(&server, "/crm/v3/objects/0-3").await;
    Mock::given(method("POST"))
        .and(path(
            "/crm/v4/associations/0-3/contacts/batch/associate/default",
        ))
        .respond_with(contact_answer)
        .mount(&server)
        .await;
    mount_assoc(&server, "0-3", "line_items", "d1", "li1").await;
    let mut out = hubspot(&server)
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .expect("records were written: the call must not fail as a whole");
    let first = out.remove(0);
    assert_eq!(first.id.as_deref(), Some("d1"));
    assert!(first.is_written() && !first.is_ok(), "{first:?}");
    first
}

#[tokio::test]
async fn association_failure_after_the_upsert_is_a_partial_outcome() {
    // 5xx until the retries are spent.
    let out = order_with_contact_association(ResponseTemplate::new(503)).await;
    match &out.status {
        WriteStatus::Partial { written, error } => {
            assert_eq!(*written, Written::Created);
            assert_eq!(error.kind(), ErrorKind::Unavailable);
            assert!(error.is_retryable());
            assert_eq!(error.record(), Some("o-1"));
        }
        other => panic!("expected Partial, got {other:?}"),
    }
}

#[tokio::test]
async fn unreadable_association_answer_is_a_partial_outcome() {
    let answer = ResponseTemplate::new(200).set_body_string("<html>proxy</html>");
    let out = order_with_contact_association(answer).await;
    assert!(
        matches!(&out.status, WriteStatus::Partial { error, .. } if error.kind() == ErrorKind::Decode),
        "{out:?}"
    );
}

#[tokio::test]
async fn line_item_failure_after_the_upsert_is_a_partial_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "c1",
            json!({"email": "buyer@example.com"}),
        )])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/products/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/0-3/batch/upsert"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "d1", "new": false,
            "objectWriteTraceId": "0", "properties": {"cartograph_order_id": "o-1"}})])),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/line_items/batch/upsert"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    mount_assoc(&server, "0-3", "contacts", "d1", "c1").await;
    let out = hubspot(&server)
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .unwrap();
    match &out[0].status {
        WriteStatus::Partial { written, error } => {
            assert_eq!(*written, Written::Updated);
            assert_eq!(error.status(), Some(502));
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    assert_eq!(out[0].id.as_deref(), Some("d1"));
}
