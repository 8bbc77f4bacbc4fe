use std::time::Duration;

use cartograph_bigcommerce::{BigCommerce, BigCommerceConfig, BigCommerceConfigBuilder};
use cartograph_http::{RateLimit, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const TOKEN: &str = "tok-test-123";
pub(crate) const ROOT: &str = "/stores/abc123";

pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
        .with_overload_delay(Duration::from_millis(30))
        .with_max_attempts(4)
}

pub(crate) fn builder(server: &MockServer) -> BigCommerceConfigBuilder {
    BigCommerceConfig::builder("abc123", TOKEN)
        .base_url(server.uri())
        .retry(fast_retry())
        .rate_limit(RateLimit::new(10_000, Duration::from_secs(1)).with_burst(1_000))
        .webhook_header_secret("hdr-secret")
        .delta_overlap(Duration::from_secs(300))
}

/// A server whose unmatched requests answer 599 and fail the test when it drops.
pub(crate) async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .named("catch-all: no unexpected requests")
        .expect(0)
        .mount(&server)
        .await;
    server
}

pub(crate) fn connector(server: &MockServer) -> BigCommerce {
    BigCommerce::new(builder(server).build().unwrap()).unwrap()
}

pub(crate) fn path(rest: &str) -> String {
    format!("{ROOT}{rest}")
}

pub(crate) fn customer(id: u64, modified: &str) -> Value {
    json!({"id": id, "email": format!("c{id}@example.com"), "first_name": "C", "last_name": format!("{id}"),
           "customer_group_id": 0, "date_created": "2024-01-01T00:00:00Z", "date_modified": modified})
}

pub(crate) fn order(id: u64, modified: &str) -> Value {
    json!({"id": id, "customer_id": 0, "date_created": "Mon, 01 Jan 2024 00:00:00 +0000",
           "date_modified": modified, "status_id": 11, "status": "Awaiting Fulfillment",
           "subtotal_ex_tax": "10.0000", "total_inc_tax": "10.0000", "total_tax": "0.0000",
           "currency_code": "USD", "default_currency_code": "USD",
           "billing_address": {"email": format!("o{id}@example.com")}})
}

/// Mounts empty products / shipping addresses / coupons for every order.
pub(crate) async fn order_details(server: &MockServer) {
    use wiremock::matchers::{method, path_regex};
    for sub in ["products", "shipping_addresses", "coupons"] {
        Mock::given(method("GET"))
            .and(path_regex(format!(r"^{ROOT}/v2/orders/\d+/{sub}$")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .mount(server)
            .await;
    }
}
