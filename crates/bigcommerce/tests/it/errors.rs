use std::time::Duration;

use cartograph_bigcommerce::BigCommerce;
use cartograph_bigcommerce::error::PLATFORM_OVERLOAD;
use cartograph_connector::{CommerceSource, ErrorKind, ListRequest};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, customer};

async fn customers_ok(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer(1, "2024-01-01T00:00:00Z")], "meta": {}})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn rate_limited_sleeps_for_the_reset_header_then_succeeds() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Requests-Left", "0")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "40")
                .insert_header("X-Rate-Limit-Requests-Quota", "150")
                .insert_header("X-Rate-Limit-Time-Window-Ms", "30000"),
        )
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    customers_ok(&server).await;
    let bc = support::connector(&server);
    let page = bc.list_customers(&ListRequest::all()).await.unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn rate_limited_without_headers_is_platform_overload_with_the_longer_backoff() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .respond_with(ResponseTemplate::new(429))
        .expect(1)
        .mount(&server)
        .await;
    let config = support::builder(&server)
        .retry(
            support::fast_retry()
                .with_max_attempts(1)
                .with_overload_delay(Duration::from_secs(17)),
        )
        .build()
        .unwrap();
    let bc = BigCommerce::new(config).unwrap();
    let err = bc.list_customers(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.vendor_code(), Some(PLATFORM_OVERLOAD));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(17)));
    assert_eq!(err.connector(), "bigcommerce");
    assert_eq!(err.operation(), "list_customers");
}

#[tokio::test]
async fn overload_is_retried_after_the_overload_delay() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    customers_ok(&server).await;
    let bc = support::connector(&server);
    assert_eq!(
        bc.list_customers(&ListRequest::all())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn unauthorized_is_typed_and_not_retried() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!([
            {"status": 401, "message": "You are not authorized"}])))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let err = bc.list_orders(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.message().contains("uninstalled"), "{err}");
    assert!(!err.is_retryable());
    assert!(!err.to_string().contains(support::TOKEN));
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .with_priority(1)
        .mount(&server)
        .await;
    customers_ok(&server).await;
    let bc = support::connector(&server);
    assert_eq!(
        bc.list_customers(&ListRequest::all())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn server_errors_give_up_after_max_attempts() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/catalog/brands")))
        .respond_with(ResponseTemplate::new(500))
        .expect(4)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let err = bc.list_brands(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.status(), Some(500));
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/catalog/brands")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": 1, "name": "A"}, {"id": "x", "name": "B"}], "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let err = bc.list_brands(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.field(), Some("data[1].id"));
}

#[tokio::test]
async fn ids_in_paths_are_escaped_and_never_reach_another_resource() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path(
            "/v3/carts/..%2F..%2Fv2%2Fcustomers%2F1",
        )))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"status": 404, "title": "Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let bc = BigCommerce::new(support::builder(&server).build().unwrap()).unwrap();
    let cart = bc.client().get_cart("../../v2/customers/1").await.unwrap();
    assert!(cart.is_none(), "the escaped id is one (missing) cart");
    let err = bc.client().get_cart("..").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("cart id"));
}
