//! Contacts: lookup before write, upsert by lowercased email, merges, 207, Unchanged.

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_model::IdentityKeys;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const READ: &str = "/crm/v3/objects/contacts/batch/read";
const UPSERT: &str = "/crm/v3/objects/contacts/batch/upsert";

#[tokio::test]
async fn upsert_contacts_looks_up_then_upserts_by_lowercased_email() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .and(query_param("archived", "false"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(
            json!({"idProperty": "email", "inputs": [{"id": "ada@example.com"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(UPSERT))
        .and(body_partial_json(
            json!({"inputs": [{"id": "ada@example.com", "idProperty": "email",
            "properties": {"email": "ada@example.com", "firstname": "Ada"}}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![json!({
            "id": "501", "new": true, "objectWriteTraceId": "0",
            "properties": {"email": "ada@example.com"}, "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-01T00:00:00Z", "archived": false})])))
        .expect(1)
        .mount(&server)
        .await;
    let out = hubspot(&server)
        .upsert_contacts(&[contact("p1", " Ada@Example.COM ", &[("firstname", "Ada")])])
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some("501"));
}

#[tokio::test]
async fn duplicate_inputs_for_one_contact_are_merged_into_one_batch_input() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path(UPSERT))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![json!({
            "id": "9", "new": true, "objectWriteTraceId": "0", "properties": {"email": "bo@example.com"}})])))
        .expect(1)
        .mount(&server).await;
    let out = hubspot(&server)
        .upsert_contacts(&[
            contact(
                "a",
                "Bo@Example.com",
                &[("firstname", "Bo"), ("lastname", "Old")],
            ),
            contact("b", "bo@example.com", &[("lastname", "New")]),
        ])
        .await
        .unwrap();
    let sent = bodies(&server, UPSERT).await;
    let inputs = sent[0]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "one input per contact: {sent:?}");
    assert_eq!(inputs[0]["properties"]["lastname"], "New");
    assert_eq!(inputs[0]["properties"]["firstname"], "Bo");
    assert!(matches!(out[0].status, WriteStatus::Created));
    assert!(matches!(out[1].status, WriteStatus::Updated));
    assert_eq!(out[1].id.as_deref(), Some("9"));
}

#[tokio::test]
async fn partial_batch_207_gives_per_record_outcomes_with_correlation_id() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .mount(&server)
        .await;
    Mock::given(method("POST")).and(path(UPSERT))
        .respond_with(ResponseTemplate::new(207)
            .insert_header("x-hubspot-correlation-id", "corr-207")
            .set_body_json(json!({
                "status": "COMPLETE", "numErrors": 1,
                "results": [{"id": "1", "new": false, "objectWriteTraceId": "0", "properties": {"email": "a@example.com"}}],
                "errors": [{"status": "error", "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "context": {"objectWriteTraceId": ["1"]},
                    "errors": [{"message": "bad number", "code": "INVALID_INTEGER", "context": {"propertyName": ["age"]}}]}],
                "startedAt": "2024-01-01T00:00:00Z", "completedAt": "2024-01-01T00:00:00Z"})))
        .mount(&server).await;
    let out = hubspot(&server)
        .upsert_contacts(&[
            contact("ok", "a@example.com", &[("firstname", "A")]),
            contact("bad", "b@example.com", &[("age", "x")]),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated));
    let err = out[1].error().expect("second failed");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.request_id(), Some("corr-207"));
    assert_eq!(err.vendor_code(), Some("INVALID_INTEGER"));
    assert_eq!(err.field(), Some("age"));
    assert_eq!(err.record(), Some("bad"));
}

#[tokio::test]
async fn contacts_already_holding_every_value_are_not_written() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "42",
            json!({"email": "c@example.com", "firstname": "Cy", "hs_additional_emails": null}),
        )])))
        .mount(&server)
        .await;
    let out = hubspot(&server)
        .upsert_contacts(&[contact("c", "C@example.com", &[("firstname", "Cy")])])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged));
    assert_eq!(out[0].id.as_deref(), Some("42"));
}

#[tokio::test]
async fn contact_found_by_secondary_email_is_updated_by_id() {
    let server = server().await;
    Mock::given(method("POST")).and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "77", json!({"email": "main@example.com", "hs_additional_emails": "old@example.com;x@example.com"}))])))
        .mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/contacts/batch/update"))
        .and(body_partial_json(
            json!({"inputs": [{"id": "77", "properties": {"firstname": "Dee"}}]}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(batch(vec![object("77", json!({}))])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = hubspot(&server)
        .upsert_contacts(&[contact(
            "d",
            "old@example.com",
            &[("firstname", "Dee"), ("email", "old@example.com")],
        )])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
    let sent = bodies(&server, "/crm/v3/objects/contacts/batch/update").await;
    assert!(
        sent[0]["inputs"][0]["properties"].get("email").is_none(),
        "primary email kept"
    );
}

#[tokio::test]
async fn more_than_batch_size_inputs_are_refused_and_lookups_are_chunked() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(UPSERT))
        .respond_with(|req: &wiremock::Request| {
            let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
            let results: Vec<_> = body["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    json!({
                "id": format!("id-{}", i["id"].as_str().unwrap()), "new": true,
                "objectWriteTraceId": i["objectWriteTraceId"], "properties": {"email": i["id"]}})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(batch(results))
        })
        .expect(1)
        .mount(&server)
        .await;
    let hs = hubspot(&server);
    let too_many: Vec<_> = (0..101)
        .map(|n| contact(&format!("k{n}"), &format!("u{n}@example.com"), &[]))
        .collect();
    assert_eq!(
        hs.upsert_contacts(&too_many).await.unwrap_err().kind(),
        ErrorKind::Invalid
    );
    // 100 contacts with a secondary email each: 200 emails, looked up in two reads.
    let contacts: Vec<_> = (0..100)
        .map(|n| {
            let mut c = contact(&format!("k{n}"), &format!("u{n}@example.com"), &[]);
            c.identity
                .secondary_emails
                .push(email(&format!("alt{n}@example.com")));
            c
        })
        .collect();
    let out = hs.upsert_contacts(&contacts).await.unwrap();
    assert!(out.iter().all(|o| matches!(o.status, WriteStatus::Created)));
    assert_eq!(out[99].id.as_deref(), Some("id-u99@example.com"));
    let sizes: Vec<usize> = bodies(&server, READ)
        .await
        .iter()
        .map(|b| b["inputs"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100]);
}

#[tokio::test]
async fn contacts_without_email_or_id_fail_naming_the_field() {
    let server = server().await;
    let mut c = contact("nobody", "x@example.com", &[]);
    c.identity = IdentityKeys::default();
    let out = hubspot(&server).upsert_contacts(&[c]).await.unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("identity.email"));
}

#[tokio::test]
async fn find_contacts_matches_primary_and_secondary_emails() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(READ))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![object(
            "5",
            json!({"email": "p@example.com", "hs_additional_emails": "s@example.com"}),
        )])))
        .mount(&server)
        .await;
    let keys = [
        IdentityKeys {
            email: Some(email("P@example.com")),
            ..IdentityKeys::default()
        },
        IdentityKeys {
            email: Some(email("s@example.com")),
            ..IdentityKeys::default()
        },
        IdentityKeys {
            email: Some(email("none@example.com")),
            ..IdentityKeys::default()
        },
    ];
    let found = hubspot(&server).find_contacts(&keys).await.unwrap();
    assert_eq!(found[0].as_ref().unwrap().crm_id, "5");
    assert_eq!(found[1].as_ref().unwrap().crm_id, "5");
    assert!(found[2].is_none());
}

#[tokio::test]
async fn dated_flavour_uses_2026_03_paths() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path("/crm/objects/2026-03/contacts/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch(vec![])))
        .expect(1)
        .mount(&server)
        .await;
    let config = builder(&server.uri())
        .api_flavor(cartograph_hubspot::ApiFlavor::Dated202603)
        .build()
        .unwrap();
    let hs = cartograph_hubspot::HubSpot::new(config).unwrap();
    let keys = [IdentityKeys {
        email: Some(email("a@example.com")),
        ..IdentityKeys::default()
    }];
    assert!(hs.find_contacts(&keys).await.unwrap()[0].is_none());
}
