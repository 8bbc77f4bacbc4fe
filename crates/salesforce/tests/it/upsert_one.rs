//! Single-record upserts by External ID: 201/200/204 outcomes, and a 300 (several records
//! match) as a per-record Conflict naming the record, never retried.

use cartograph_connector::{ErrorKind, WriteStatus};
use cartograph_salesforce::Salesforce;
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::wire::{builder, token};

const ROOT: &str = "/services/data/v62.0";

fn fields(name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("LastName".into(), json!(name));
    m
}

#[tokio::test]
async fn single_upsert_outcomes_and_an_ambiguous_match_is_a_named_conflict() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    for (value, answer) in [
        (
            "new-1",
            ResponseTemplate::new(201).set_body_json(
                json!({"id": "003N", "success": true, "errors": [], "created": true}),
            ),
        ),
        (
            "old-1",
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "003O", "success": true, "errors": [], "created": false}),
            ),
        ),
        ("old-2", ResponseTemplate::new(204)),
        (
            "twice",
            ResponseTemplate::new(300).set_body_json(json!([
                format!("{ROOT}/sobjects/Contact/003A"),
                format!("{ROOT}/sobjects/Contact/003B"),
            ])),
        ),
    ] {
        Mock::given(method("PATCH"))
            .and(path(format!(
                "{ROOT}/sobjects/Contact/Cartograph_Key__c/{value}"
            )))
            .and(header("sforce-call-options", "client=cartograph"))
            .and(body_json(json!({"LastName": "Lovelace"})))
            .respond_with(answer)
            // Exactly once each: the 300 is not retried.
            .expect(1)
            .mount(&server)
            .await;
    }
    let sf = Salesforce::new(builder(&server).build().unwrap()).unwrap();
    let one = |value: &'static str| {
        let sf = &sf;
        async move {
            sf.upsert_record(
                "Contact",
                "Cartograph_Key__c",
                value,
                "k",
                fields("Lovelace"),
            )
            .await
            .unwrap()
        }
    };
    let created = one("new-1").await;
    assert!(matches!(created.status, WriteStatus::Created));
    assert_eq!(created.id.as_deref(), Some("003N"));
    let updated = one("old-1").await;
    assert!(matches!(updated.status, WriteStatus::Updated));
    assert_eq!(updated.id.as_deref(), Some("003O"));
    assert!(matches!(one("old-2").await.status, WriteStatus::Updated));
    let ambiguous = one("twice").await;
    let WriteStatus::Failed(err) = &ambiguous.status else {
        panic!("not failed: {ambiguous:?}");
    };
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(!err.is_retryable());
    assert_eq!(err.vendor_code(), Some("MULTIPLE_CHOICES"));
    assert_eq!(err.record(), Some("Contact/Cartograph_Key__c/twice"));
    assert!(err.to_string().contains("003A, 003B"), "{err}");
}

#[tokio::test]
async fn simulator_answers_300_when_the_value_matches_several_records() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    // Two people entered in the UI with the same value (the field is not unique there).
    let mut ids = Vec::new();
    for email in ["a@example.com", "b@example.com"] {
        let mut f = fields("Twin");
        f.insert("Email".into(), json!(email));
        f.insert("Cartograph_Key__c".into(), json!("shared-key"));
        ids.push(sim.create_as_user("Contact", f));
    }
    let out = sf
        .upsert_record(
            "Contact",
            "Cartograph_Key__c",
            "shared-key",
            "k1",
            fields("X"),
        )
        .await
        .unwrap();
    let WriteStatus::Failed(err) = &out.status else {
        panic!("not failed: {out:?}");
    };
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains(&ids.join(", ")), "{err}");
    // Neither twin was touched.
    assert!(
        sim.records("Contact")
            .iter()
            .all(|r| r.properties.get("LastName").map(String::as_str) == Some("Twin"))
    );
    // A unique value: created, then updated.
    let first = sf
        .upsert_record("Contact", "Cartograph_Key__c", "solo", "k2", fields("Solo"))
        .await
        .unwrap();
    assert!(matches!(first.status, WriteStatus::Created));
    let again = sf
        .upsert_record(
            "Contact",
            "Cartograph_Key__c",
            "solo",
            "k2",
            fields("Solo2"),
        )
        .await
        .unwrap();
    assert!(matches!(again.status, WriteStatus::Updated));
    assert_eq!(again.id, first.id);
    // A refused record (required field cleared) fails only itself, naming the field.
    let mut empty = Map::new();
    empty.insert("LastName".into(), Value::Null);
    let refused = sf
        .upsert_record("Contact", "Cartograph_Key__c", "nobody", "k3", empty)
        .await
        .unwrap();
    let WriteStatus::Failed(err) = &refused.status else {
        panic!("not failed: {refused:?}");
    };
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.record(), Some("Contact/Cartograph_Key__c/nobody"));
}
