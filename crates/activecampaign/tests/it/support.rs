//! Shared helpers: a mock server with a loud catch-all, configs, payload builders.

use std::time::Duration;

use cartograph_activecampaign::{ActiveCampaign, ActiveCampaignConfig, ConnectionSettings};
use cartograph_http::{RetryPolicy, Secret};
use cartograph_model::{
    ContactUpsert, EmailAddress, IdentityKeys, Origin, PropertyMap, PropertyValue,
};
use serde_json::{Value, json};
use wiremock::matchers::{any, header, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

pub(crate) const TOKEN: &str = "ac-test-token";

/// A server whose unmatched requests fail the test when it is dropped.
pub(crate) async fn server() -> MockServer {
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

pub(crate) fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with_jitter(false)
}

pub(crate) fn ac(server: &MockServer) -> ActiveCampaign {
    let config = ActiveCampaignConfig::builder(Secret::new(TOKEN))
        .base_url(&format!("{}/api/3", server.uri()))
        .unwrap()
        .retry(fast_retry())
        .rate_limit(cartograph_http::RateLimit::new(
            1000,
            Duration::from_secs(1),
        ))
        .list_id("1")
        .connection(ConnectionSettings {
            service: "bigcommerce".into(),
            externalid: "store-1".into(),
            ..ConnectionSettings::default()
        })
        .build()
        .unwrap();
    ActiveCampaign::new(config).unwrap()
}

/// A mock for `method` `/api/3/{p}` that requires the `Api-Token` header.
pub(crate) fn on(m: &str, p: &str) -> MockBuilder {
    Mock::given(method(m))
        .and(path(format!("/api/3/{p}")))
        .and(header("api-token", TOKEN))
}

pub(crate) fn email(s: &str) -> EmailAddress {
    EmailAddress::new(s).unwrap()
}

pub(crate) fn props(pairs: &[(&str, PropertyValue)]) -> PropertyMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

pub(crate) fn text(s: &str) -> PropertyValue {
    PropertyValue::String(s.to_owned())
}

pub(crate) fn upsert(key: &str, mail: &str, properties: PropertyMap) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: Some(email(mail)),
            ..IdentityKeys::default()
        },
        properties,
        origin: Origin::Live,
    }
}

pub(crate) fn contact(id: &str, mail: &str) -> Value {
    json!({"id": id, "email": mail, "firstName": "", "lastName": "", "phone": "",
           "cdate": "2024-05-01T10:00:00-05:00", "udate": "2024-05-01T10:00:00-05:00"})
}

/// `GET /contacts?email=` answering `found`.
pub(crate) async fn lookup(server: &MockServer, mail: &str, found: Option<Value>) {
    let contacts: Vec<Value> = found.into_iter().collect();
    let total = contacts.len().to_string();
    on("GET", "contacts")
        .and(query_param("email", mail))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"contacts": contacts, "meta": {"total": total}})),
        )
        .mount(server)
        .await;
}
