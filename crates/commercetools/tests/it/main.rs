//! wiremock tests of the commercetools connector: OAuth, keyset paging, delta, retries,
//! typed errors, money, refunds via payments, subscription deliveries and the spec examples.

mod spec;
mod writer;

use std::time::Duration;

use base64::Engine as _;
use cartograph_commercetools::{Commercetools, CommercetoolsConfig};
use cartograph_connector::{
    CommerceSource, ErrorKind, ListRequest, NotificationKind, WebhookRequest,
};
use cartograph_http::{ConnectorSettings, RetryPolicy};
use cartograph_model::{Decimal, Origin, RecordKind, Timestamp};
use serde_json::{Value, json};
use wiremock::matchers::{
    any, body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PROJECT: &str = "proj";

async fn server() -> MockServer {
    let server = MockServer::start().await;
    // Anything not matched by a test's mocks is a bug: answer loudly and fail on drop.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all")
        .mount(&server)
        .await;
    server
}

async fn token(server: &MockServer, value: &str, times: u64) {
    let basic = base64::engine::general_purpose::STANDARD.encode("cid:csecret");
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=manage_project%3Aproj"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": value, "token_type": "Bearer", "expires_in": 172_800,
            "scope": "manage_project:proj"
        })))
        .up_to_n_times(times)
        .expect(times)
        .mount(server)
        .await;
}

fn config(server: &MockServer) -> cartograph_commercetools::CommercetoolsConfigBuilder {
    let settings = ConnectorSettings {
        retry: RetryPolicy {
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        },
        ..ConnectorSettings::default()
    };
    CommercetoolsConfig::builder(PROJECT, "cid", "csecret")
        .settings(settings)
        .api_url(server.uri())
        .auth_url(server.uri())
}

fn connector(server: &MockServer) -> Commercetools {
    Commercetools::new(config(server).build().expect("config")).expect("connector")
}

fn eur(cents: i64) -> Value {
    json!({"type":"centPrecision","currencyCode":"EUR","centAmount":cents,"fractionDigits":2})
}

fn customer(id: &str, modified: &str) -> Value {
    json!({"id": id, "version": 1, "email": format!("{id}@example.com"),
           "createdAt": "2026-01-01T00:00:00.000Z", "lastModifiedAt": modified})
}

fn page(results: &[Value]) -> Value {
    json!({"limit": 2, "offset": 0, "count": results.len(), "results": results})
}

#[tokio::test]
async fn token_is_fetched_with_basic_auth_once_and_reused() {
    let server = server().await;
    token(&server, "tok-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(customer("c-1", "2026-01-02T00:00:00.000Z")),
        )
        .expect(2)
        .mount(&server)
        .await;
    let source = connector(&server);
    for _ in 0..2 {
        let c = source
            .get_customer("c-1")
            .await
            .expect("ok")
            .expect("found");
        assert_eq!(c.source.id, "c-1");
    }
}

#[tokio::test]
async fn unauthorized_response_fetches_a_new_token_once_and_retries() {
    let server = server().await;
    token(&server, "old", 1).await;
    token(&server, "new", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .and(header("authorization", "Bearer old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "statusCode": 401, "message": "invalid_token",
            "errors": [{"code": "invalid_token", "message": "invalid_token"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .and(header("authorization", "Bearer new"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(customer("c-1", "2026-01-02T00:00:00.000Z")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).get_customer("c-1").await.expect("ok");
    assert!(c.is_some());
}

#[tokio::test]
async fn keyset_paging_never_sends_offset_and_continues_after_the_last_record() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .and(query_param("limit", "2"))
        .and(query_param("withTotal", "false"))
        .and(query_param("sort", "lastModifiedAt asc"))
        .and(query_param("sort", "id asc"))
        .and(query_param_is_missing("offset"))
        .and(query_param_is_missing("where"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[
            customer("a", "2026-01-01T00:00:00.000Z"),
            customer("b", "2026-01-01T00:00:01.000Z"),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .and(query_param_is_missing("offset"))
        .and(query_param(
            "where",
            r#"lastModifiedAt > "2026-01-01T00:00:01.000Z" or (lastModifiedAt = "2026-01-01T00:00:01.000Z" and id > "b")"#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[customer(
            "c",
            "2026-01-01T00:00:02.000Z",
        )])))
        .expect(1)
        .mount(&server)
        .await;
    let source = connector(&server);
    let first = source
        .list_customers(&ListRequest::all().with_limit(2))
        .await
        .expect("page 1");
    assert_eq!(first.items.len(), 2);
    let next = first.next.expect("a full page has a next cursor");
    let second = source
        .list_customers(&ListRequest::all().with_limit(2).at(Some(next)))
        .await
        .expect("page 2");
    assert_eq!(second.items[0].source.id, "c");
    assert!(second.next.is_none(), "a short page is the last");
}

#[tokio::test]
async fn delta_listing_filters_on_last_modified_with_the_overlap_window() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/in-store/key=eu/orders"))
        .and(query_param(
            "where",
            r#"lastModifiedAt >= "2026-01-01T09:55:00.000Z""#,
        ))
        .and(query_param_is_missing("offset"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[])))
        .expect(1)
        .mount(&server)
        .await;
    let source = Commercetools::new(config(&server).store_key("eu").build().expect("config"))
        .expect("connector");
    let since = Timestamp::parse_rfc3339("2026-01-01T10:00:00Z").expect("time");
    let page = source
        .list_orders(&ListRequest::since(since))
        .await
        .expect("ok");
    assert!(page.items.is_empty() && page.next.is_none());
}

#[tokio::test]
async fn rate_limits_and_bad_gateways_are_retried() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(
                    json!({"statusCode": 429, "message": "Too many requests", "errors": []}),
                ),
        )
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(customer("c-1", "2026-01-02T00:00:00.000Z")),
        )
        .expect(1)
        .with_priority(3)
        .mount(&server)
        .await;
    let source = connector(&server);
    assert!(source.get_customer("c-1").await.expect("ok").is_some());
    let stats = source.transport_stats().expect("stats");
    assert!(stats.retries >= 2, "{stats:?}");
}

#[tokio::test]
async fn missing_record_is_none_and_vendor_errors_are_typed() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/orders/gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "message": "not found",
            "errors": [{"code": "ResourceNotFound", "message": "not found"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/orders/dup"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "statusCode": 400, "message": "dup",
            "errors": [{"code": "DuplicateField", "message": "dup", "field": "orderNumber",
                        "duplicateValue": "1001"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let source = connector(&server);
    assert!(source.get_order("gone").await.expect("ok").is_none());
    let err = source.get_order("dup").await.expect_err("error");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.vendor_code(), Some("DuplicateField"));
    assert_eq!(err.field(), Some("orderNumber"));
}

fn order(id: &str, total: &Value) -> Value {
    json!({"id": id, "version": 3, "orderNumber": "1001", "customerEmail": "a@example.com",
           "lineItems": [{"id": "li", "name": {"en": "Tea"}, "variant": {"id": 1, "sku": "T"},
                          "price": {"value": total.clone()}, "quantity": 1, "totalPrice": total.clone()}],
           "totalPrice": total.clone(), "orderState": "Open", "paymentState": "Paid",
           "createdAt": "2026-01-01T00:00:00.000Z", "lastModifiedAt": "2026-01-01T00:00:00.000Z"})
}

#[tokio::test]
async fn high_precision_and_zero_decimal_money_are_exact() {
    let server = server().await;
    token(&server, "t", 1).await;
    let high = json!({"type": "highPrecision", "currencyCode": "EUR", "centAmount": 1235,
                      "preciseAmount": 1_234_567, "fractionDigits": 5});
    let jpy = json!({"type": "centPrecision", "currencyCode": "JPY", "centAmount": 1500,
                     "fractionDigits": 0});
    Mock::given(method("GET"))
        .and(path("/proj/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "limit": 500, "count": 2, "results": [order("o-h", &high), order("o-j", &jpy)]})))
        .expect(1)
        .mount(&server)
        .await;
    let orders = connector(&server)
        .list_orders(&ListRequest::all())
        .await
        .expect("ok")
        .items;
    assert_eq!(orders[0].total.amount(), Decimal::new(1_234_567, 5));
    assert_eq!(
        orders[0].line_items[0].unit_price.amount(),
        Decimal::new(1_234_567, 5)
    );
    assert_eq!(orders[1].total.amount(), Decimal::from(1500));
    assert_eq!(orders[1].total.currency().code(), "JPY");
}

#[tokio::test]
async fn refunds_are_read_from_expanded_order_payments() {
    let server = server().await;
    token(&server, "t", 1).await;
    let mut o = order("o-1", &eur(2000));
    o["paymentInfo"] = json!({"payments": [{"typeId": "payment", "id": "pay-1", "obj": {
    "id": "pay-1", "version": 2, "amountPlanned": eur(2000),
    "transactions": [
        {"id": "tx-c", "type": "Charge", "amount": eur(2000), "state": "Success",
         "timestamp": "2026-01-01T00:00:00.000Z"},
        {"id": "tx-r", "type": "Refund", "amount": eur(750), "state": "Success",
         "timestamp": "2026-01-02T00:00:00.000Z"}
    ]}}]});
    Mock::given(method("GET"))
        .and(path("/proj/orders"))
        .and(query_param("expand", "paymentInfo.payments[*]"))
        .and(query_param("where", "paymentInfo is defined"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"limit": 500, "count": 1, "results": [o.clone()]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/orders/o-1"))
        .and(query_param("expand", "paymentInfo.payments[*]"))
        .respond_with(ResponseTemplate::new(200).set_body_json(o))
        .expect(1)
        .mount(&server)
        .await;
    let source = connector(&server);
    let refunds = source
        .list_refunds(&ListRequest::all())
        .await
        .expect("ok")
        .items;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].source.id, "tx-r");
    assert_eq!(refunds[0].order.id, "o-1");
    assert_eq!(refunds[0].amount.amount(), Decimal::new(750, 2));
    assert_eq!(source.get_order_refunds("o-1").await.expect("ok").len(), 1);
}

#[tokio::test]
async fn payload_not_included_delivery_is_hydrated_by_a_fetch() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/orders/o-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order("o-1", &eur(100))))
        .expect(1)
        .mount(&server)
        .await;
    let source = connector(&server);
    let delivery = json!({"notificationType": "Message", "projectKey": "proj", "id": "m-1",
        "version": 1, "sequenceNumber": 1, "resource": {"typeId": "order", "id": "o-1"},
        "resourceVersion": 1, "type": "OrderCreated",
        "payloadNotIncluded": {"reason": "Payload too large.", "payloadType": "OrderCreated"},
        "createdAt": "2026-01-01T00:00:00.000Z", "lastModifiedAt": "2026-01-01T00:00:00.000Z"});
    let request = WebhookRequest::post(
        "http://intake/ct",
        vec![],
        delivery.to_string().into_bytes(),
    );
    let notes = source.parse_webhook(&request).expect("parses");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, NotificationKind::Created);
    assert_eq!(notes[0].source.kind, RecordKind::Order);
    let event = source
        .hydrate(&notes[0], Origin::Live)
        .await
        .expect("ok")
        .expect("event");
    assert_eq!(event.source.id, "o-1");
}

#[tokio::test]
async fn abandoned_cart_query_selects_idle_reachable_active_carts() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/carts"))
        .and(query_param_is_missing("offset"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"limit": 500, "count": 1,
            "results": [{"id": "cart-1", "version": 1, "customerEmail": "a@example.com",
                         "lineItems": [], "totalPrice": eur(0), "cartState": "Active",
                         "createdAt": "2020-01-01T00:00:00.000Z",
                         "lastModifiedAt": "2020-01-01T00:00:00.000Z"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let carts = connector(&server)
        .list_abandoned_carts(&ListRequest::all())
        .await
        .expect("ok")
        .items;
    assert_eq!(carts[0].state, cartograph_model::CartState::Abandoned);
    let requests = server.received_requests().await.expect("recorded");
    let cart_query = requests
        .iter()
        .find(|r| r.url.path() == "/proj/carts")
        .expect("cart query");
    let wheres: Vec<String> = cart_query
        .url
        .query_pairs()
        .filter(|(k, _)| k == "where")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert!(
        wheres.iter().any(
            |w| w.starts_with("cartState = \"Active\" and lastModifiedAt < ")
                && w.contains("customerEmail is defined")
        ),
        "{wheres:?}"
    );
}

#[tokio::test]
async fn delta_overlap_returns_only_unseen_versions_from_before_since() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .and(query_param_is_missing("where"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(&[
            customer("seen-old", "2026-01-01T09:58:00.000Z"),
            customer("new", "2026-01-01T10:01:00.000Z"),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .and(query_param(
            "where",
            r#"lastModifiedAt >= "2026-01-01T09:55:00.000Z""#,
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"limit": 500, "count": 3,
            "results": [
                customer("seen-old", "2026-01-01T09:58:00.000Z"),
                customer("late-commit", "2026-01-01T09:59:00.000Z"),
                customer("new", "2026-01-01T10:01:00.000Z")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let source = connector(&server);
    source
        .list_customers(&ListRequest::all())
        .await
        .expect("full");
    let since = Timestamp::parse_rfc3339("2026-01-01T10:00:00Z").expect("time");
    let ids: Vec<String> = source
        .list_customers(&ListRequest::since(since))
        .await
        .expect("delta")
        .items
        .into_iter()
        .map(|c| c.source.id)
        .collect();
    assert_eq!(ids, ["late-commit", "new"]);
}

fn msg(id: &str, seq: i64, at: &str) -> Value {
    json!({"id": id, "version": 1, "sequenceNumber": seq, "resourceVersion": seq,
           "resource": {"typeId": "customer", "id": "c-1"}, "type": "CustomerFirstNameSet",
           "createdAt": at, "lastModifiedAt": at})
}

#[tokio::test]
async fn messages_are_polled_keyset_and_old_resource_versions_skipped() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/messages"))
        .and(query_param("sort", "lastModifiedAt asc"))
        .and(query_param_is_missing("offset"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"limit": 500, "count": 3,
            "results": [msg("m2", 2, "2026-01-01T00:00:02.000Z"),
                        msg("m1", 1, "2026-01-01T00:00:01.000Z"),
                        msg("m3", 3, "2026-01-01T00:00:03.000Z")]})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let source = connector(&server);
    let first = source
        .poll_messages(&ListRequest::all())
        .await
        .expect("ok")
        .items;
    // m1 arrives after m2 at resource version 1 < 2 already applied: skipped.
    // Keys are resource and sequence number, so the same message read from a queue
    // delivery dedupes against this poll.
    assert_eq!(
        first.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
        ["customer:c-1:2:Message", "customer:c-1:3:Message"]
    );
    let again = source
        .poll_messages(&ListRequest::all())
        .await
        .expect("ok")
        .items;
    assert!(
        again.is_empty(),
        "already applied versions are skipped: {again:?}"
    );
}
