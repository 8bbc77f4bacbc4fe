//! Errors: 429 and 503 retried, bad token, vendor error bodies.

use cartograph_connector::{CrmSink, ErrorKind};
use cartograph_model::IdentityKeys;
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::query_param;

use crate::support::*;

fn keys(mail: &str) -> Vec<IdentityKeys> {
    vec![IdentityKeys {
        email: Some(email(mail)),
        ..Default::default()
    }]
}

#[tokio::test]
async fn rate_limited_request_honours_retry_after_and_succeeds() {
    let server = server().await;
    on("GET", "contacts")
        .and(query_param("email", "a@example.com"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"message": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    lookup(
        &server,
        "a@example.com",
        Some(contact("7", "a@example.com")),
    )
    .await;
    let ac = ac(&server);
    let found = ac.find_contacts(&keys("a@example.com")).await.unwrap();
    assert_eq!(found[0].as_ref().map(|c| c.crm_id.as_str()), Some("7"));
    let stats = ac.transport_stats().unwrap();
    assert_eq!(stats.rate_limited, 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = server().await;
    on("GET", "contacts")
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    lookup(&server, "a@example.com", None).await;
    let found = ac(&server)
        .find_contacts(&keys("a@example.com"))
        .await
        .unwrap();
    assert!(found[0].is_none());
}

#[tokio::test]
async fn a_bad_token_fails_the_whole_call_as_unauthorized() {
    let server = server().await;
    on("GET", "contacts")
        .respond_with(
            ResponseTemplate::new(403).set_body_json(
                json!({"message": "You are not authorized to access this resource"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = ac(&server)
        .upsert_contacts(&[upsert("a", "a@example.com", Default::default())])
        .await
        .expect_err("whole call fails");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(403));
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn vendor_validation_errors_fail_the_record_naming_the_field() {
    let server = server().await;
    lookup(&server, "a@example.com", None).await;
    on("POST", "contact/sync")
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"errors": [{"title": "Contact Email Address is not valid.",
            "detail": "", "code": "email_invalid", "source": {"pointer": "/data/attributes/email"}}]})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .upsert_contacts(&[upsert("a", "a@example.com", Default::default())])
        .await
        .unwrap();
    let err = out[0].error().expect("failed");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("email"));
    assert_eq!(err.record(), Some("a"));
    assert_eq!(err.vendor_code(), Some("email_invalid"));
}

#[tokio::test]
async fn ids_in_paths_are_escaped_and_never_reach_another_resource() {
    let server = server().await;
    on("GET", "contacts/1%2F..%2F..%2Fusers%2F1")
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "No Result found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let ac = ac(&server);
    let found = ac.client().get_contact("1/../../users/1").await.unwrap();
    assert!(found.is_none(), "the escaped id is one (missing) contact");
    let err = ac.client().get_contact(".").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
}
