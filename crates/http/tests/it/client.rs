//! Joins, retries, error context, decoding.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_http::http::HeaderMap;
use cartograph_http::{
    BaseUrl, ErrorKind, HttpClient, HttpConfig, NoAuth, RateLimit, RateLimitSignal, RateLimiter,
    Request, RetryPolicy, VendorPolicy,
};
use serde_json::json;
use wiremock::matchers::{any, body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{CountingAuth, catch_all, client, client_for, fast_retry};

#[tokio::test]
async fn base_url_join_keeps_path_prefix() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/stores/abc123/v3/customers"))
        .and(query_param("limit", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .expect(4)
        .mount(&server)
        .await;
    for (base, request_path) in [
        (format!("{}/stores/abc123", server.uri()), "/v3/customers"),
        (format!("{}/stores/abc123/", server.uri()), "/v3/customers"),
        (format!("{}/stores/abc123/", server.uri()), "v3/customers"),
        (format!("{}/stores/abc123", server.uri()), "v3/customers"),
    ] {
        let client = client_for(&base, Arc::new(NoAuth), RetryPolicy::none());
        let response = client
            .send(Request::get(request_path).query("limit", "5"))
            .await
            .expect("joined URL matches");
        assert_eq!(response.status, 200);
    }
}

#[tokio::test]
async fn rate_limited_honours_retry_after() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/v3/orders"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let http = client(&server, fast_retry(3));
    let response = http
        .send(Request::get("/v3/orders"))
        .await
        .expect("retried");
    assert_eq!(response.status, 200);
    let stats = http.stats();
    assert_eq!(
        (
            stats.requests,
            stats.retries,
            stats.rate_limited,
            stats.server_errors
        ),
        (2, 1, 1, 0),
        "the transport counts the 429 and the retry"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited only {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limited_without_hint_waits_overload_delay() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let retry = fast_retry(3).with_overload_delay(Duration::from_millis(400));
    let started = Instant::now();
    let response = client(&server, retry)
        .send(Request::get("/x"))
        .await
        .expect("retried");
    assert!(response.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_returned_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "300"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = client(&server, fast_retry(5))
        .send(Request::get("/x"))
        .await
        .expect_err("parked");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(300)));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_request_is_not_retried() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/v3/customers"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"title": "bad filter"})))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, fast_retry(5))
        .send(Request::get("/v3/customers").operation("list_customers"))
        .await
        .expect_err("400");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.message(), "bad filter");
    assert_eq!(err.operation(), "list_customers");
}

#[tokio::test]
async fn server_errors_retried_up_to_max_attempts() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/v3/catalog/products"))
        .respond_with(ResponseTemplate::new(503).insert_header("X-Request-Id", "req-42"))
        .expect(4)
        .mount(&server)
        .await;
    let err = client(&server, fast_retry(4))
        .send(Request::get("/v3/catalog/products").operation("list_products"))
        .await
        .expect_err("always 503");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.connector(), "test");
    assert_eq!(err.operation(), "list_products");
    assert_eq!(err.request_id(), Some("req-42"));
}

#[tokio::test]
async fn post_is_not_retried_on_503_unless_retry_safe() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("POST"))
        .and(path("/unsafe"))
        .and(body_json(json!([{"email": "a@example.com"}])))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/safe"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let client = client(&server, fast_retry(3));
    let body = json!([{"email": "a@example.com"}]);
    let err = client
        .send(Request::post("/unsafe").json(body.clone()))
        .await
        .expect_err("503");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let err = client
        .send(Request::post("/safe").json(body).retry_safe(true))
        .await
        .expect_err("503");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn post_is_retried_after_429() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("POST"))
        .and(path("/v3/customers"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/customers"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": [{"id": 7}]})))
        .expect(1)
        .mount(&server)
        .await;
    let response = client(&server, fast_retry(3))
        .send(Request::post("/v3/customers").json(json!([{"email": "a@example.com"}])))
        .await
        .expect("retried after 429");
    assert_eq!(response.status, 201);
}

#[tokio::test]
async fn post_is_retried_after_connect_error_but_not_after_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let auth = Arc::new(CountingAuth::default());
    let err = client_for(&closed, auth.clone(), fast_retry(3))
        .send(Request::post("/x").json(json!({})))
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(auth.count(), 3, "connect errors are always safe to retry");

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let auth = Arc::new(CountingAuth::default());
    let config = HttpConfig::new(BaseUrl::parse(&server.uri()).expect("valid"), auth.clone())
        .with_retry(fast_retry(3))
        .with_timeout(Duration::from_millis(200));
    let client = HttpClient::new(
        config,
        Arc::new(cartograph_http::DefaultPolicy::new("test")),
    )
    .expect("client");
    let err = client
        .send(Request::post("/x"))
        .await
        .expect_err("timed out");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(
        auth.count(),
        1,
        "a POST that may have been processed is not replayed"
    );
    let err = client
        .send(Request::get("/x"))
        .await
        .expect_err("GET times out too");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(auth.count(), 4, "a GET is replayed");
}

#[tokio::test]
async fn closed_port_error_names_the_address_and_the_refusal_but_not_the_query() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let err = client_for(
        &format!("http://{address}/api"),
        Arc::new(NoAuth),
        fast_retry(1),
    )
    .send(Request::get("/orders").query("api_key", "hunter2"))
    .await
    .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Network);
    let text = err.to_string();
    assert!(text.contains(&address), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(text.starts_with("test"), "names the connector: {text}");
    assert!(
        !text.contains("hunter2") && !text.contains("/orders"),
        "{text}"
    );
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Page {
    data: Vec<Item>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Item {
    id: u64,
    email: String,
}

#[tokio::test]
async fn decode_error_names_the_json_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": 1, "email": "a@example.com"}, {"id": 2, "email": null}]
        })))
        .mount(&server)
        .await;
    let err = client(&server, RetryPolicy::none())
        .send_json::<Page>(Request::get("/v3/customers").operation("list_customers"))
        .await
        .err()
        .expect("email is null");
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.field(), Some("data[1].email"));
    assert_eq!(err.connector(), "test");
    assert_eq!(err.operation(), "list_customers");
    assert!(err.to_string().contains("data[1].email"), "{err}");
}

/// BigCommerce-style headers.
struct BigCommerceLike;

impl VendorPolicy for BigCommerceLike {
    fn connector(&self) -> &'static str {
        "bigcommerce"
    }

    fn rate_limit_signal(&self, headers: &HeaderMap) -> Option<RateLimitSignal> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.parse::<u64>().ok();
        Some(RateLimitSignal {
            remaining: number("x-rate-limit-requests-left").and_then(|n| u32::try_from(n).ok()),
            reset_after: number("x-rate-limit-time-reset-ms").map(Duration::from_millis),
            quota: number("x-rate-limit-requests-quota").and_then(|n| u32::try_from(n).ok()),
            window: number("x-rate-limit-time-window-ms").map(Duration::from_millis),
        })
    }
}

#[tokio::test]
async fn response_headers_pause_the_shared_limiter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Rate-Limit-Requests-Left", "0")
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "600")
                .insert_header("X-Rate-Limit-Requests-Quota", "100")
                .insert_header("X-Rate-Limit-Time-Window-Ms", "30000"),
        )
        .expect(2)
        .mount(&server)
        .await;
    let limiter = RateLimiter::shared(RateLimit::new(150, Duration::from_secs(30)).with_burst(10))
        .expect("valid");
    let config = HttpConfig::new(
        BaseUrl::parse(&server.uri()).expect("valid"),
        Arc::new(NoAuth),
    )
    .with_rate_limiter(limiter.clone());
    let client = HttpClient::new(config, Arc::new(BigCommerceLike)).expect("client");
    client.send(Request::get("/a")).await.expect("first");
    assert_eq!(
        limiter.current().requests,
        100,
        "tightened to the vendor quota"
    );
    let started = Instant::now();
    client.send(Request::get("/b")).await.expect("second");
    assert!(
        started.elapsed() >= Duration::from_millis(550),
        "second request waited {:?}",
        started.elapsed()
    );
}
