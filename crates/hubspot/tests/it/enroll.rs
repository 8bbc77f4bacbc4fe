//! Enrollment: trigger property, list membership, legacy v2, historical never enrolls.

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_hubspot::HubSpot;
use cartograph_model::{ContactRef, EnrollmentRequest, EnrollmentTarget, Origin, PropertyValue};
use serde_json::json;
use wiremock::matchers::{body_json, body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn req(
    key: &str,
    contact: ContactRef,
    target: EnrollmentTarget,
    origin: Origin,
) -> EnrollmentRequest {
    EnrollmentRequest {
        key: key.into(),
        contact,
        target,
        reason: "test".into(),
        origin,
    }
}

#[tokio::test]
async fn historical_requests_never_enroll() {
    let server = server().await; // any request would hit the catch-all
    let out = hubspot(&server)
        .enroll(&[req(
            "h",
            ContactRef::CrmId("1".into()),
            EnrollmentTarget::List { id: "9".into() },
            Origin::Historical,
        )])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged));
}

#[tokio::test]
async fn list_and_trigger_property_enrollment() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(batch(vec![object("c2", json!({"email": "b@example.com"}))])),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/crm/v3/lists/55/memberships/add"))
        .and(body_json(json!(["c1", "c2"])))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"recordsIdsAdded": ["c1"], "recordIdsMissing": [], "recordIdsRemoved": []}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/crm/v3/objects/contacts/batch/update"))
        .and(body_partial_json(json!({"inputs": [{"id": "c1", "properties": {"cart_abandoned": "true", "cart_value": "10"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "c1", "objectWriteTraceId": "0", "properties": {}})])))
        .expect(1).mount(&server).await;
    let trigger = |name: &str, value| EnrollmentTarget::TriggerProperty {
        name: name.into(),
        value,
    };
    let out = hubspot(&server)
        .enroll(&[
            req(
                "l1",
                ContactRef::CrmId("c1".into()),
                EnrollmentTarget::List { id: "55".into() },
                Origin::Live,
            ),
            req(
                "l2",
                ContactRef::Email(email("B@example.com")),
                EnrollmentTarget::List { id: "55".into() },
                Origin::Live,
            ),
            req(
                "t1",
                ContactRef::CrmId("c1".into()),
                trigger("cart_abandoned", PropertyValue::Bool(true)),
                Origin::Live,
            ),
            req(
                "t2",
                ContactRef::CrmId("c1".into()),
                trigger("cart_value", PropertyValue::Number(10.into())),
                Origin::Live,
            ),
            req(
                "w",
                ContactRef::CrmId("c1".into()),
                EnrollmentTarget::Workflow { id: "1".into() },
                Origin::Live,
            ),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated));
    assert!(
        matches!(out[1].status, WriteStatus::Unchanged),
        "already a member"
    );
    assert!(matches!(out[2].status, WriteStatus::Updated));
    assert!(matches!(out[3].status, WriteStatus::Updated));
    assert_eq!(out[4].error().unwrap().kind(), ErrorKind::Unsupported);
}

#[tokio::test]
async fn legacy_workflow_enrollment_posts_by_email() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(batch(vec![object("c1", json!({"email": "a@example.com"}))])),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/automation/v2/workflows/321/enrollments/contacts/a@example.com",
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let hs = HubSpot::new(
        builder(&server.uri())
            .legacy_workflow_enrollment(true)
            .build()
            .unwrap(),
    )
    .unwrap();
    let out = hs
        .enroll(&[req(
            "w",
            ContactRef::CrmId("c1".into()),
            EnrollmentTarget::Workflow { id: "321".into() },
            Origin::Live,
        )])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
}
