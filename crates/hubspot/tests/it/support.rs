//! Shared helpers: a mock server with a loud catch-all, configs, payload builders.

use std::time::Duration;

use cartograph_http::{RetryPolicy, Secret};
use cartograph_hubspot::{HubSpot, HubSpotAuth, HubSpotConfig, HubSpotConfigBuilder};
use cartograph_model::{ContactUpsert, EmailAddress, IdentityKeys, PropertyMap, PropertyValue};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const TOKEN: &str = "pat-test-token";
pub const SECRET: &str = "client-secret-123";
pub const APP_ID: &str = "777";

/// A server whose unmatched requests fail the test when it is dropped.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|req: &Request| {
            ResponseTemplate::new(599)
                .set_body_string(format!("unexpected request {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .named("catch-all: unexpected request")
        .expect(0)
        .mount(&server)
        .await;
    server
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

pub fn builder(uri: &str) -> HubSpotConfigBuilder {
    HubSpotConfig::builder(HubSpotAuth::PrivateApp {
        token: Secret::new(TOKEN),
    })
    .base_url(uri)
    .unwrap()
    .retry(fast_retry())
    .client_secret(Secret::new(SECRET))
    .app_id(APP_ID)
}

pub fn hubspot(server: &MockServer) -> HubSpot {
    HubSpot::new(builder(&server.uri()).build().unwrap()).unwrap()
}

pub fn email(s: &str) -> EmailAddress {
    EmailAddress::new(s).unwrap()
}

pub fn props(pairs: &[(&str, &str)]) -> PropertyMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), PropertyValue::String((*v).to_owned())))
        .collect()
}

pub fn contact(key: &str, mail: &str, pairs: &[(&str, &str)]) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: Some(email(mail)),
            ..IdentityKeys::default()
        },
        properties: props(pairs),
        origin: cartograph_model::Origin::Live,
    }
}

/// A HubSpot record.
pub fn object(id: &str, properties: Value) -> Value {
    json!({"id": id, "properties": properties, "createdAt": "2024-01-01T00:00:00Z",
           "updatedAt": "2024-01-01T00:00:00Z", "archived": false})
}

/// A 200 batch answer.
pub fn batch(results: Vec<Value>) -> Value {
    json!({"status": "COMPLETE", "results": results,
           "startedAt": "2024-01-01T00:00:00Z", "completedAt": "2024-01-01T00:00:01Z"})
}

/// Request bodies received on `path`.
pub async fn bodies(server: &MockServer, path: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == path)
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}
