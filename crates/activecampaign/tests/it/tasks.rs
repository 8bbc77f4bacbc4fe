//! Notes for tasks, automations and lists for enrollment, fields for property definitions.

use cartograph_connector::{CrmSink, WriteStatus};
use cartograph_model::{
    ContactRef, CrmObjectType, EnrollmentRequest, EnrollmentTarget, Origin, PropertyDefinition,
    PropertyType, TaskKind, TaskPriority, TaskRequest,
};
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, body_partial_json};

use crate::support::*;

fn refund_task(key: &str, order: Option<&str>) -> TaskRequest {
    TaskRequest {
        key: key.into(),
        kind: TaskKind::Task,
        subject: "Refund issued".into(),
        body: "Order o-1 refunded 25.00 USD".into(),
        priority: TaskPriority::High,
        due_at: None,
        contact: Some(ContactRef::Email(email("a@example.com"))),
        order_key: order.map(str::to_owned),
        owner_id: None,
    }
}

#[tokio::test]
async fn refund_tasks_become_notes_once_per_key() {
    let server = server().await;
    lookup(
        &server,
        "a@example.com",
        Some(contact("7", "a@example.com")),
    )
    .await;
    on("GET", "contacts/7/notes")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"notes": [
            {"id": "50", "note": "Earlier\n[cartograph:t-old]"}]})))
        .mount(&server)
        .await;
    on("POST", "notes")
        .and(body_partial_json(
            json!({"note": {"reltype": "Subscriber", "relid": 7}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"note": {"id": "51"}})))
        .expect(1)
        .mount(&server)
        .await;
    let task = |key: &str| refund_task(key, Some("o-1"));
    let out = ac(&server)
        .create_tasks(&[task("t-new"), task("t-old")])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    assert!(matches!(out[1].status, WriteStatus::Unchanged), "{out:?}");
    assert_eq!(out[1].id.as_deref(), Some("50"));
}

#[tokio::test]
async fn live_enrollment_adds_to_the_automation_and_historical_never_does() {
    let server = server().await;
    on("GET", "contacts/7")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"contact": contact("7", "a@example.com")})),
        )
        .mount(&server)
        .await;
    on("POST", "contactAutomations")
        .and(body_json(
            json!({"contactAutomation": {"contact": 7, "automation": 3}}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"contactAutomation": {"id": "80"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let request = |key: &str, origin| EnrollmentRequest {
        key: key.into(),
        contact: ContactRef::CrmId("7".into()),
        target: EnrollmentTarget::Automation { id: "3".into() },
        reason: "test".into(),
        origin,
    };
    let out = ac(&server)
        .enroll(&[request("h", Origin::Historical), request("l", Origin::Live)])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged), "{out:?}");
    assert!(matches!(out[1].status, WriteStatus::Created), "{out:?}");
}

#[tokio::test]
async fn missing_custom_fields_are_created_and_existing_ones_left_alone() {
    let server = server().await;
    on("GET", "fields")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "fields": [{"id": "3", "title": "LTV", "type": "text", "perstag": "ECOM_LTV"}], "meta": {"total": "1"}})))
        .mount(&server)
        .await;
    on("POST", "fields")
        .and(body_partial_json(
            json!({"field": {"perstag": "ECOM_LAST_ORDER_DATE", "type": "date"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"field": {"id": "4"}})))
        .expect(1)
        .mount(&server)
        .await;
    let def = |name: &str, kind| PropertyDefinition {
        object: CrmObjectType::Contact,
        name: name.into(),
        label: name.into(),
        kind,
        options: Vec::new(),
        group: None,
        unique: false,
        description: None,
    };
    let out = ac(&server)
        .ensure_properties(&[
            def("ECOM_LTV", PropertyType::Number),
            def("ECOM_LAST_ORDER_DATE", PropertyType::Date),
            def("firstName", PropertyType::String),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged), "{out:?}");
    assert!(matches!(out[1].status, WriteStatus::Created), "{out:?}");
    assert!(matches!(out[2].status, WriteStatus::Unchanged), "{out:?}");
}

#[tokio::test]
async fn webhook_registration_excludes_the_api_source() {
    let server = server().await;
    on("POST", "webhooks")
        .and(body_json(json!({"webhook": {"name": "cartograph", "url": "https://hooks.example/ac/s",
            "events": ["update", "subscribe", "unsubscribe"], "sources": ["public", "admin", "system"]}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"webhook": {"id": "3"}})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        ac(&server)
            .register_webhook("https://hooks.example/ac/s")
            .await
            .unwrap(),
        "3"
    );
}

#[tokio::test]
async fn a_fatal_error_after_a_written_note_fails_the_rest_not_the_call() {
    let server = server().await;
    lookup(
        &server,
        "a@example.com",
        Some(contact("7", "a@example.com")),
    )
    .await;
    on("GET", "contacts/7/notes")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"notes": []})))
        .mount(&server)
        .await;
    // The first note is written; the second answers 503 past the retries; the third is
    // never tried (the catch-all would see it).
    on("POST", "notes")
        .and(wiremock::matchers::body_string_contains("[cartograph:t-1]"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"note": {"id": "51"}})))
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "notes")
        .and(wiremock::matchers::body_string_contains("[cartograph:t-2]"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let task = |key: &str| refund_task(key, None);
    let out = ac(&server)
        .create_tasks(&[task("t-1"), task("t-2"), task("t-3")])
        .await
        .expect("a note was written: the call must not fail as a whole");
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    assert_eq!(out[0].id.as_deref(), Some("51"));
    for (o, key) in out[1..].iter().zip(["t-2", "t-3"]) {
        let err = o.error().expect("failed");
        assert!(!o.is_written() && err.is_retryable(), "{o:?}");
        assert_eq!(err.record(), Some(key));
    }
}
