//! Rate limits, quota, auth refresh, typed error bodies, decode paths.

use std::time::Duration;

use cartograph_connector::{CrmSink, ErrorKind};
use cartograph_http::{RateLimit, RateLimiter, Secret};
use cartograph_hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph_model::IdentityKeys;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const READ: &str = "/crm/v3/objects/contacts/batch/read";

fn keys() -> Vec<IdentityKeys> {
    vec![IdentityKeys {
        email: Some(email("a@example.com")),
        ..IdentityKeys::default()
    }]
}

#[tokio::test]
async fn ten_secondly_429_waits_and_retries() {
    let server = server().await;
    Mock::given(method("POST")).and(path(READ))
        .respond_with(ResponseTemplate::new(429)
            .insert_header("x-hubspot-ratelimit-interval-milliseconds", "20")
            .set_body_json(json!({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": "c-429", "policyName": "TEN_SECONDLY_ROLLING"})))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server).await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .expect(1)
        .mount(&server)
        .await;
    let found = hubspot(&server).find_contacts(&keys()).await.unwrap();
    assert!(found[0].is_none());
}

#[tokio::test]
async fn daily_429_is_quota_exhausted_until_midnight_and_never_retried() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"status": "error",
            "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT",
            "correlationId": "c-daily", "policyName": "DAILY"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let hs = hubspot(&server);
    let err = hs.find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
    assert!(!err.is_retryable());
    assert_eq!(err.request_id(), Some("c-daily"));
    let wait = err.retry_after().unwrap();
    assert!(wait > Duration::ZERO && wait <= Duration::from_secs(86_400));
    // Parked: the next call fails without reaching HubSpot (expect(1) above).
    let again = hs.find_contacts(&keys()).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::QuotaExhausted);
    assert!(hs.client().daily_quota_exhausted_until().is_some());
}

#[tokio::test]
async fn unauthorized_refreshes_the_oauth_token_once() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v1/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "at-1", "refresh_token": "rt-1", "expires_in": 1800}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/v1/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "at-2", "refresh_token": "rt-1", "expires_in": 1800}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(READ))
        .and(header("authorization", "Bearer at-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"status": "error", "category": "EXPIRED_AUTHENTICATION",
            "message": "The OAuth token used to make this call expired", "correlationId": "c-401"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(READ))
        .and(header("authorization", "Bearer at-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .expect(1)
        .mount(&server)
        .await;
    let config = HubSpotConfig::builder(HubSpotAuth::OAuth {
        client_id: "cid".into(),
        client_secret: Secret::new("cs"),
        refresh_token: Secret::new("rt-1"),
        token_url: None,
    })
    .base_url(&server.uri())
    .unwrap()
    .retry(fast_retry())
    .build()
    .unwrap();
    let found = HubSpot::new(config)
        .unwrap()
        .find_contacts(&keys())
        .await
        .unwrap();
    assert!(found[0].is_none());
}

#[tokio::test]
async fn private_app_401_is_unauthorized_with_correlation_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"status": "error", "category": "INVALID_AUTHENTICATION",
            "message": "Authentication credentials not found.", "correlationId": "c-auth"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = hubspot(&server).find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.request_id(), Some("c-auth"));
    assert_eq!(err.vendor_code(), Some("INVALID_AUTHENTICATION"));
    assert!(!format!("{err:?}{err}").contains(TOKEN));
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"status": "COMPLETE",
            "results": [{"id": "1", "properties": {"email": 5}}]})),
        )
        .mount(&server)
        .await;
    let err = hubspot(&server).find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.field(), Some("results[0].properties.email"));
}

#[tokio::test]
async fn server_errors_are_retried_then_typed() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(3)
        .mount(&server)
        .await;
    let err = hubspot(&server).find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.status(), Some(502));
}

#[tokio::test]
async fn rate_limit_headers_tighten_the_shared_limiter() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-hubspot-ratelimit-max", "50")
                .insert_header("x-hubspot-ratelimit-remaining", "49")
                .insert_header("x-hubspot-ratelimit-interval-milliseconds", "10000")
                .set_body_json(batch(vec![])),
        )
        .mount(&server)
        .await;
    let limiter = RateLimiter::shared(RateLimit::new(100, Duration::from_secs(10))).unwrap();
    let hs = HubSpot::with_rate_limiter(builder(&server.uri()).build().unwrap(), limiter.clone())
        .unwrap();
    hs.find_contacts(&keys()).await.unwrap();
    assert_eq!(limiter.current().requests, 50);
}

#[tokio::test]
async fn unknown_property_400_fails_the_records_with_the_vendor_code() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/crm/v3/objects/contacts/batch/upsert"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"status": "error",
            "message": "Property values were not valid", "correlationId": "c-400", "category": "VALIDATION_ERROR",
            "errors": [{"message": "Property \"nope\" does not exist", "code": "PROPERTY_DOESNT_EXIST",
                        "context": {"propertyName": ["nope"]}}]})))
        .expect(1)
        .mount(&server).await;
    let out = hubspot(&server)
        .upsert_contacts(&[contact("k", "a@example.com", &[("nope", "1")])])
        .await
        .unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.vendor_code(), Some("PROPERTY_DOESNT_EXIST"));
    assert_eq!(err.field(), Some("nope"));
    assert_eq!(err.request_id(), Some("c-400"));
}

#[tokio::test]
async fn closed_port_error_names_the_connector_address_and_refusal() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let hs = HubSpot::new(builder(&format!("http://{address}")).build().unwrap()).unwrap();
    let err = hs
        .find_contacts(&keys())
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind(), ErrorKind::Network);
    let text = err.to_string();
    assert!(text.starts_with("hubspot"), "{text}");
    assert!(text.contains(&address), "{text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}
