//! Carts: the cart read and its recovery link (`POST /v3/carts/{id}/redirect_urls`).

use cartograph_connector::CommerceSource;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support;

const CART: &str = "a1b2c3d4-0000-4000-8000-000000000001";

#[tokio::test]
async fn cart_redirect_urls_sends_an_empty_json_object() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path(&format!("/v3/carts/{CART}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": CART, "customer_id": 7, "email": "shopper@example.com",
            "currency": {"code": "USD"}, "cart_amount": 25.5,
            "created_time": "2024-05-01T10:00:00+00:00", "updated_time": "2024-05-01T11:00:00+00:00",
            "line_items": {"physical_items": [], "digital_items": []}
        }, "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    // Only a request with the `{}` body and a JSON content type is answered; anything
    // else falls through to the catch-all, which fails the test.
    Mock::given(method("POST"))
        .and(path(support::path(&format!(
            "/v3/carts/{CART}/redirect_urls"
        ))))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "cart_url": "https://shop.example/cart.php?action=load&id=x",
            "checkout_url": "https://shop.example/cart.php?action=loadInCheckout&id=x"
        }, "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let cart = support::connector(&server)
        .get_cart(CART)
        .await
        .unwrap()
        .expect("the cart exists");
    assert_eq!(
        cart.recovery_url.as_deref(),
        Some("https://shop.example/cart.php?action=load&id=x")
    );
}
