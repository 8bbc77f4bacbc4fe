//! Deep Data: connection, ecom customer, orders with products, `source` by origin.

use cartograph_connector::{CrmSink, WriteStatus};
use cartograph_model::{
    ContactRef, LineItemRecord, OrderObject, OrderRecord, Origin, PropertyValue,
};
use rust_decimal::Decimal;
use serde_json::json;
use wiremock::matchers::{body_partial_json, query_param};
use wiremock::{MockServer, ResponseTemplate};

use crate::support::*;

pub(crate) fn order(key: &str, origin: Origin, total: i64) -> OrderRecord {
    OrderRecord {
        key: key.into(),
        object: OrderObject::Order,
        contact: Some(ContactRef::Email(email("ada@example.com"))),
        properties: props(&[
            ("externalid", text(key)),
            ("totalPrice", PropertyValue::Number(Decimal::new(total, 0))),
            ("currency", text("USD")),
            ("orderNumber", text(key)),
            ("shippingMethod", text("UPS Ground")),
        ]),
        line_items: vec![LineItemRecord {
            key: "l1".into(),
            product_key: None,
            properties: props(&[
                ("externalid", text("p-77")),
                ("name", text("Widget")),
                ("price", PropertyValue::Number(Decimal::new(total, 0))),
                ("quantity", PropertyValue::Number(Decimal::ONE)),
                ("category", text("Tools")),
            ]),
        }],
        origin,
    }
}

/// Connection exists (id 1), customer exists (id 9).
pub(crate) async fn deep_data(server: &MockServer) {
    on("GET", "connections")
        .and(query_param("filters[service]", "bigcommerce"))
        .and(query_param("filters[externalid]", "store-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "connections": [{"id": "1", "service": "bigcommerce", "externalid": "store-1"}]})))
        .expect(1)
        .mount(server)
        .await;
    on("GET", "ecomCustomers")
        .and(query_param("filters[email]", "ada@example.com"))
        .and(query_param("filters[connectionid]", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ecomCustomers": [{"id": "9", "email": "ada@example.com", "externalid": "ada@example.com"}]})))
        .mount(server)
        .await;
}

async fn no_order(server: &MockServer, externalid: &str) {
    on("GET", "ecomOrders")
        .and(query_param("filters[externalid]", externalid))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ecomOrders": [], "meta": {"total": "0"}})),
        )
        .mount(server)
        .await;
}

#[tokio::test]
async fn historical_orders_are_sent_with_source_zero_and_live_with_source_one() {
    let server = server().await;
    deep_data(&server).await;
    no_order(&server, "o-hist").await;
    no_order(&server, "o-live").await;
    on("POST", "ecomOrders")
        .and(body_partial_json(json!({"ecomOrder": {"externalid": "o-hist", "source": 0, "totalPrice": 4500,
            "connectionid": 1, "customerid": 9, "currency": "USD",
            "orderProducts": [{"externalid": "p-77", "name": "Widget", "price": 4500, "quantity": 1, "category": "Tools"}]}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ecomOrder": {"id": "100"}})))
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "ecomOrders")
        .and(body_partial_json(
            json!({"ecomOrder": {"externalid": "o-live", "source": 1}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ecomOrder": {"id": "101"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .record_orders(&[
            order("o-hist", Origin::Historical, 4500),
            order("o-live", Origin::Live, 1000),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    assert_eq!(out[1].id.as_deref(), Some("101"));
}

#[tokio::test]
async fn missing_connection_and_customer_are_created_first() {
    let server = server().await;
    on("GET", "connections")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"connections": []})))
        .mount(&server)
        .await;
    on("POST", "connections")
        .and(body_partial_json(
            json!({"connection": {"service": "bigcommerce", "externalid": "store-1"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"connection": {"id": "4"}})))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "ecomCustomers")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ecomCustomers": []})))
        .mount(&server)
        .await;
    on("POST", "ecomCustomers")
        .and(body_partial_json(json!({"ecomCustomer": {"connectionid": "4", "email": "ada@example.com", "acceptsMarketing": "0"}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ecomCustomer": {"id": "12"}})))
        .expect(1)
        .mount(&server)
        .await;
    no_order(&server, "o-1").await;
    on("POST", "ecomOrders")
        .and(body_partial_json(
            json!({"ecomOrder": {"connectionid": 4, "customerid": 12}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ecomOrder": {"id": "100"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .record_orders(&[order("o-1", Origin::Live, 100)])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{out:?}");
}

#[tokio::test]
async fn an_existing_order_is_updated_in_place_for_refunds() {
    let server = server().await;
    deep_data(&server).await;
    on("GET", "ecomOrders")
        .and(query_param("filters[externalid]", "o-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ecomOrders": [{"id": "100", "externalid": "o-1"}]})),
        )
        .mount(&server)
        .await;
    on("PUT", "ecomOrders/100")
        .and(body_partial_json(
            json!({"ecomOrder": {"totalPrice": 2500}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ecomOrder": {"id": "100"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .record_orders(&[order("o-1", Origin::Live, 2500)])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated), "{out:?}");
}

#[tokio::test]
async fn a_negative_total_fails_only_that_order() {
    let server = server().await;
    deep_data(&server).await;
    no_order(&server, "o-ok").await;
    on("POST", "ecomOrders")
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ecomOrder": {"id": "100"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .record_orders(&[
            order("o-bad", Origin::Live, -5),
            order("o-ok", Origin::Live, 5),
        ])
        .await
        .unwrap();
    let err = out[0].error().expect("negative total refused");
    assert_eq!(err.field(), Some("totalPrice"));
    assert!(out[1].is_ok(), "{out:?}");
}

#[tokio::test]
async fn a_duplicate_answer_on_retry_updates_the_existing_order() {
    let server = server().await;
    deep_data(&server).await;
    on("GET", "ecomOrders")
        .and(query_param("filters[externalid]", "o-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ecomOrders": []})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on("POST", "ecomOrders")
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"errors": [{"title": "duplicate order",
            "code": "duplicate", "source": {"pointer": "/data/attributes/externalid"}}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "ecomOrders")
        .and(query_param("filters[externalid]", "o-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ecomOrders": [{"id": "100", "externalid": "o-1"}]})),
        )
        .mount(&server)
        .await;
    on("PUT", "ecomOrders/100")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ecomOrder": {"id": "100"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .record_orders(&[order("o-1", Origin::Live, 100)])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated), "{out:?}");
}
