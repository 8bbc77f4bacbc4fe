//! Tasks: upsert by task key, owner from the contact, associations to contact and deal.

use cartograph_connector::{CrmSink, WriteStatus};
use cartograph_model::{ContactRef, TaskKind, TaskPriority, TaskRequest, Timestamp};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn create_tasks_is_idempotent_by_key_and_associated() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .and(body_partial_json(json!({"idProperty": "email"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(batch(vec![object("c1", json!({"email": "a@example.com"}))])),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/read"))
        .and(body_partial_json(
            json!({"inputs": [{"id": "c1"}], "properties": ["hubspot_owner_id"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "c1",
            json!({"hubspot_owner_id": "own-7"}),
        )])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/0-3/batch/read"))
        .and(body_partial_json(
            json!({"idProperty": "cartograph_order_id", "inputs": [{"id": "o-1"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "d1",
            json!({"cartograph_order_id": "o-1"}),
        )])))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path("/crm/v3/objects/tasks/batch/upsert"))
        .and(body_partial_json(json!({"inputs": [{"id": "refund-1", "idProperty": "cartograph_task_key", "properties": {
            "hs_task_subject": "Call about refund", "hs_task_body": "Refund of 20 EUR", "hs_task_priority": "HIGH",
            "hs_timestamp": "1700000000000", "hubspot_owner_id": "own-7", "cartograph_task_key": "refund-1"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![json!({"id": "t1", "new": true,
            "objectWriteTraceId": "0", "properties": {}})])))
        .expect(1).mount(&server).await;
    for (to, to_id) in [("contacts", "c1"), ("0-3", "d1")] {
        Mock::given(method("POST"))
            .and(path(format!(
                "/crm/v4/associations/tasks/{to}/batch/associate/default"
            )))
            .and(body_partial_json(
                json!({"inputs": [{"from": {"id": "t1"}, "to": {"id": to_id}}]}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![
                json!({"from": {"id": "t1"}, "to": {"id": to_id}}),
            ])))
            .expect(1)
            .mount(&server)
            .await;
    }
    let task = TaskRequest {
        key: "refund-1".into(),
        kind: TaskKind::Task,
        subject: "Call about refund".into(),
        body: "Refund of 20 EUR".into(),
        priority: TaskPriority::High,
        due_at: Some(Timestamp::from_unix_millis(1_700_000_000_000).unwrap()),
        contact: Some(ContactRef::Email(email("A@example.com"))),
        order_key: Some("o-1".into()),
        owner_id: None,
    };
    let out = hubspot(&server).create_tasks(&[task]).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some("t1"));
}

#[tokio::test]
async fn task_association_failure_after_the_upsert_is_a_partial_outcome() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/tasks/batch/upsert"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![
            json!({"id": "t1", "new": true, "objectWriteTraceId": "0", "properties": {}}),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(
            "/crm/v4/associations/tasks/contacts/batch/associate/default",
        ))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let task = TaskRequest {
        key: "refund-2".into(),
        kind: TaskKind::Task,
        subject: "Call".into(),
        body: "Refund".into(),
        priority: TaskPriority::Low,
        due_at: Some(Timestamp::from_unix_millis(1_700_000_000_000).unwrap()),
        contact: Some(ContactRef::CrmId("c1".into())),
        order_key: None,
        owner_id: Some("own-1".into()),
    };
    let out = hubspot(&server)
        .create_tasks(&[task])
        .await
        .expect("the task was written: the call must not fail as a whole");
    assert_eq!(out[0].id.as_deref(), Some("t1"));
    assert!(
        matches!(&out[0].status, WriteStatus::Partial { written: cartograph_connector::Written::Created, error } if error.is_retryable() && error.record() == Some("refund-2")),
        "{:?}",
        out[0]
    );
}
