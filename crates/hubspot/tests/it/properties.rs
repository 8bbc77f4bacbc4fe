//! ensure_properties: groups, creation with types and unique values, options, conflicts.

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_model::{CrmObjectType, PropertyDefinition, PropertyOption, PropertyType};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn def(object: CrmObjectType, name: &str, kind: PropertyType, unique: bool) -> PropertyDefinition {
    PropertyDefinition {
        object,
        name: name.into(),
        label: name.into(),
        kind,
        options: vec![],
        group: None,
        unique,
        description: None,
    }
}

#[tokio::test]
async fn ensure_properties_creates_missing_and_reports_conflicts() {
    let server = server().await;
    Mock::given(method("GET")).and(path("/crm/v3/properties/0-3/groups/cartograph"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"status": "error", "category": "OBJECT_NOT_FOUND", "message": "not found", "correlationId": "c"})))
        .expect(1).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/properties/0-3/groups"))
        .and(body_partial_json(
            json!({"name": "cartograph", "label": "Cartograph"}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"name": "cartograph", "label": "Cartograph"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/crm/v3/properties/0-3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [
            {"name": "ltv", "type": "string", "fieldType": "text", "groupName": "cartograph", "label": "LTV", "options": []},
            {"name": "tier", "type": "enumeration", "fieldType": "select", "groupName": "cartograph", "label": "Tier",
             "options": [{"label": "Gold", "value": "gold", "hidden": false}]},
            {"name": "same", "type": "number", "fieldType": "number", "groupName": "cartograph", "label": "Same", "options": []}
        ]})))
        .expect(1).mount(&server).await;
    Mock::given(method("POST")).and(path("/crm/v3/properties/0-3/batch/create"))
        .and(body_partial_json(json!({"inputs": [{"name": "cartograph_order_id", "type": "string", "fieldType": "text",
            "groupName": "cartograph", "hasUniqueValue": true}]})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"status": "COMPLETE", "results": [
            {"name": "cartograph_order_id", "type": "string", "fieldType": "text", "groupName": "cartograph", "label": "x", "options": [], "hasUniqueValue": true}]})))
        .expect(1).mount(&server).await;
    Mock::given(method("PATCH"))
        .and(path("/crm/v3/properties/0-3/tier"))
        .and(body_partial_json(
            json!({"options": [{"value": "gold"}, {"value": "silver"}]}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"name": "tier", "type": "enumeration"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut tier = def(
        CrmObjectType::Deal,
        "tier",
        PropertyType::Enumeration,
        false,
    );
    tier.options = vec![
        PropertyOption {
            value: "gold".into(),
            label: "Gold".into(),
        },
        PropertyOption {
            value: "silver".into(),
            label: "Silver".into(),
        },
    ];
    let out = hubspot(&server)
        .ensure_properties(&[
            def(
                CrmObjectType::Deal,
                "cartograph_order_id",
                PropertyType::String,
                true,
            ),
            def(CrmObjectType::Deal, "ltv", PropertyType::Number, false),
            tier,
            def(CrmObjectType::Deal, "same", PropertyType::Number, false),
        ])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    let err = out[1].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.field(), Some("ltv"));
    assert!(matches!(out[2].status, WriteStatus::Updated));
    assert!(matches!(out[3].status, WriteStatus::Unchanged));
}
