//! CommerceWriter against wiremock: find by email, create, 409 retry, DuplicateField.

use cartograph_connector::{CommerceWriter, WriteStatus};
use cartograph_model::{Attributes, CustomerWrite, EmailAddress};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use super::{connector, customer, server, token};

fn write(email: &str) -> CustomerWrite {
    CustomerWrite {
        key: format!("k-{email}"),
        id: None,
        email: EmailAddress::new(email),
        first_name: Some("Ann".into()),
        last_name: None,
        phone: None,
        company: None,
        customer_group_id: Some("g-1".into()),
        email_consent: None,
        custom: Attributes::new(),
    }
}

fn empty() -> serde_json::Value {
    json!({"limit": 500, "count": 0, "results": []})
}

#[tokio::test]
async fn find_by_email_queries_normalized_emails_in_one_predicate() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .and(query_param(
            "where",
            r#"email in ("a@example.com", "b@example.com")"#,
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"limit": 500, "count": 1,
            "results": [customer("a", "2026-01-01T00:00:00.000Z")]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let emails = [
        EmailAddress::new("A@Example.com").expect("email"),
        EmailAddress::new("b@example.com").expect("email"),
    ];
    let found = connector(&server)
        .find_customers_by_email(&emails)
        .await
        .expect("ok");
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn new_customer_is_created_with_external_auth_and_group() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/proj/customers"))
        .and(body_partial_json(
            json!({"email": "new@example.com", "authenticationMode": "ExternalAuth",
            "firstName": "Ann", "customerGroup": {"typeId": "customer-group", "id": "g-1"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"customer":
            customer("c-new", "2026-01-01T00:00:00.000Z")})))
        .expect(1)
        .mount(&server)
        .await;
    let out = connector(&server)
        .upsert_customers(&[write("new@example.com")])
        .await
        .expect("ok");
    assert!(matches!(out[0].status, WriteStatus::Created));
    assert_eq!(out[0].id.as_deref(), Some("c-new"));
}

#[tokio::test]
async fn concurrent_modification_is_retried_by_re_reading_the_version() {
    let server = server().await;
    token(&server, "t", 1).await;
    let mut v1 = customer("c-1", "2026-01-01T00:00:00.000Z");
    let mut v2 = v1.clone();
    v2["version"] = json!(2);
    v1["version"] = json!(1);
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(v1))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(v2.clone()))
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/proj/customers/c-1"))
        .and(body_partial_json(json!({"version": 1})))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"statusCode": 409,
            "message": "version", "errors": [{"code": "ConcurrentModification",
            "message": "version", "currentVersion": 2}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/proj/customers/c-1"))
        .and(body_partial_json(json!({"version": 2, "actions": [
            {"action": "setFirstName", "firstName": "Ann"},
            {"action": "setCustomerGroup", "customerGroup": {"typeId": "customer-group", "id": "g-1"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(v2))
        .expect(1)
        .mount(&server)
        .await;
    let mut w = write("c-1@example.com");
    w.id = Some("c-1".into());
    let out = connector(&server).upsert_customers(&[w]).await.expect("ok");
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
}

#[tokio::test]
async fn duplicate_field_on_create_fetches_the_existing_customer_and_updates_it() {
    let server = server().await;
    token(&server, "t", 1).await;
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty()))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    let mut existing = customer("c-9", "2026-01-01T00:00:00.000Z");
    existing["firstName"] = json!("Ann");
    existing["customerGroup"] = json!({"typeId": "customer-group", "id": "g-1"});
    Mock::given(method("GET"))
        .and(path("/proj/customers"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"limit": 500, "count": 1,
            "results": [existing.clone()]})),
        )
        .with_priority(2)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/proj/customers"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"statusCode": 400,
            "message": "dup", "errors": [{"code": "DuplicateField", "message": "dup",
            "field": "email", "duplicateValue": "dup@example.com"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/proj/customers/c-9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(existing))
        .expect(1)
        .mount(&server)
        .await;
    let out = connector(&server)
        .upsert_customers(&[
            write("dup@example.com"),
            CustomerWrite {
                email: None,
                ..write("x")
            },
        ])
        .await
        .expect("ok");
    assert!(
        matches!(out[0].status, WriteStatus::Unchanged),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some("c-9"));
    assert!(
        out[1].error().is_some(),
        "a write without id or email fails alone"
    );
}
