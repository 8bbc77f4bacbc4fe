//! Reading back (`CrmSource`): the SOQL delta query on the wire, the CDC relay's secret,
//! the testkit suite against the simulator (SystemModstamp, CDC events, own writes), gap
//! events re-read.

use std::time::Duration;

use cartograph_connector::{
    CrmSink, CrmSource, Cursor, ErrorKind, ListRequest, WebhookRequest, async_trait,
};
use cartograph_http::Secret;
use cartograph_model::{CrmEventKind, PropertyValue, Timestamp};
use cartograph_salesforce::cdc::{RELAY_SECRET_HEADER, parse_change_events};
use cartograph_salesforce::sim::{SalesforceSim, SimConfig, UI_USER_ID};
use cartograph_salesforce::{Environment, Salesforce, SalesforceAuth, SalesforceConfig};
use cartograph_testkit::conformance::crm_source::{self, CrmHarness};
use cartograph_testkit::fixtures::CrmFixture;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::wire::{builder, token, upsert};

const ROOT: &str = "/services/data/v62.0";

fn wire_sf(server: &MockServer) -> Salesforce {
    let config = builder(server)
        .cdc_relay_secret(Secret::new("relay-s3cret"))
        .source_fields(vec!["Ecom_Segment__c".into()])
        .build()
        .unwrap();
    Salesforce::new(config).unwrap()
}

const SELECT: &str = "SELECT Id, Email, FirstName, LastName, Phone, Cartograph_Key__c, \
     LastModifiedDate, LastModifiedById, SystemModstamp, Ecom_Segment__c FROM Contact";

#[tokio::test]
async fn list_contacts_queries_system_modstamp_and_continues_by_keyset() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    let row = |id: &str, stamp: &str| {
        json!({"attributes": {"type": "Contact"}, "Id": id, "Email": format!("{id}@example.com"),
               "LastName": "L", "SystemModstamp": stamp, "LastModifiedDate": stamp,
               "LastModifiedById": "005U", "Ecom_Segment__c": "VIP"})
    };
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            format!(
                "{SELECT} WHERE SystemModstamp >= 2024-05-01T10:00:00Z \
                 ORDER BY SystemModstamp, Id LIMIT 2"
            ),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 2, "done": false,
            "nextRecordsUrl": format!("{ROOT}/query/01gX-1"),
            "records": [row("003A", "2024-05-01T10:00:01.000+0000")]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query/01gX-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 2, "done": true,
            "records": [row("003B", "2024-05-01T10:00:02.500+0000")]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            format!(
                "{SELECT} WHERE SystemModstamp >= 2024-05-01T10:00:00Z AND \
                 (SystemModstamp > 2024-05-01T10:00:02.500Z OR (SystemModstamp = \
                 2024-05-01T10:00:02.500Z AND Id > '003B')) ORDER BY SystemModstamp, Id LIMIT 2"
            ),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 0, "done": true, "records": []})))
        .expect(1)
        .mount(&server)
        .await;
    let sf = wire_sf(&server);
    let since = Timestamp::parse_rfc3339("2024-05-01T10:00:00Z").unwrap();
    let request = ListRequest::since(since).with_limit(2);
    let page = CrmSource::list_contacts(&sf, &request).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|c| c.crm_id.as_str()).collect();
    assert_eq!(ids, ["003A", "003B"]);
    assert_eq!(
        page.items[1].updated_at,
        Some(Timestamp::parse_rfc3339("2024-05-01T10:00:02.5Z").unwrap())
    );
    assert_eq!(
        page.items[0].properties.get("Ecom_Segment__c"),
        Some(&PropertyValue::String("VIP".into()))
    );
    let next = page.next.clone().expect("a full page continues");
    assert_eq!(next.as_str(), "Contact|2024-05-01T10:00:02.500+0000|003B");
    let page = CrmSource::list_contacts(&sf, &request.at(Some(next)))
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
    let err = CrmSource::list_contacts(&sf, &request.at(Some(Cursor::new("Account|x|y"))))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
}

fn delivery(secret: Option<&str>, body: &serde_json::Value) -> WebhookRequest {
    let headers = secret
        .map(|s| vec![(RELAY_SECRET_HEADER.to_owned(), s.to_owned())])
        .unwrap_or_default();
    WebhookRequest::post(
        "https://sync.example/webhooks/crm",
        headers,
        body.to_string().into_bytes(),
    )
}

#[tokio::test]
async fn change_events_need_the_relay_secret_and_flag_our_client() {
    let server = MockServer::start().await;
    let sf = wire_sf(&server);
    let body = json!([{"data": {"event": {"replayId": 9}, "payload": {
        "ChangeEventHeader": {"entityName": "Contact", "recordIds": ["003A"], "changeType": "UPDATE",
            "changeOrigin": "com/salesforce/api/rest/62.0;client=cartograph",
            "changedFields": ["Ecom_Segment__c"]},
        "Ecom_Segment__c": "VIP"}}}]);
    for secret in [None, Some("wrong")] {
        let err = sf.parse_webhook(&delivery(secret, &body)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Signature, "{secret:?}");
        assert!(!err.to_string().contains("relay-s3cret"));
    }
    let events = sf
        .parse_webhook(&delivery(Some("relay-s3cret"), &body))
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].is_own_write);
    // Without a configured secret, change events are a Config error (never accepted blind).
    let open = Salesforce::new(
        SalesforceConfig::builder(
            Environment::Sandbox,
            SalesforceAuth::ClientCredentials {
                client_id: "c".into(),
                client_secret: Secret::new("s"),
            },
        )
        .build()
        .unwrap(),
    )
    .unwrap();
    let err = open
        .parse_webhook(&delivery(Some("relay-s3cret"), &body))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.field(), Some("cdc_relay_secret"));
}

struct Harness<'a>(&'a SalesforceSim);

#[async_trait]
impl CrmHarness for Harness<'_> {
    async fn edit_as_user(&self, crm_id: &str, property: &str, value: &str) {
        assert!(
            self.0
                .edit_as_user("Contact", crm_id, &[(property, json!(value))]),
            "no Contact {crm_id}"
        );
    }

    async fn take_webhooks(&self) -> Vec<WebhookRequest> {
        self.0.take_change_events()
    }
}

async fn sim_sf(config: SimConfig) -> (SalesforceSim, Salesforce) {
    let sim = SalesforceSim::start(config).await.unwrap();
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .source_fields(vec!["LastName".into()])
            .build()
            .unwrap(),
    )
    .unwrap();
    (sim, sf)
}

#[tokio::test]
async fn salesforce_passes_the_crm_source_suite() {
    let (sim, sf) = sim_sf(SimConfig {
        query_page_size: 2,
        ..SimConfig::fast()
    })
    .await;
    let fx = CrmFixture {
        contact_property: "LastName".into(),
        ..CrmFixture::default()
    };
    crm_source::run_all(&sf, &sf, &Harness(&sim), &fx).await;
}

/// Writes one Contact through the connector; its id.
async fn write_one(sf: &Salesforce) -> String {
    let out = sf
        .upsert_contacts(&[upsert("p1", "ada@example.com")])
        .await
        .unwrap();
    out[0].id.clone().unwrap()
}

#[tokio::test]
async fn simulator_stamps_every_write_and_tells_its_writer() {
    let (sim, sf) = sim_sf(SimConfig::fast()).await;
    let id = write_one(&sf).await;
    let ours = parse_change_events(&sim.take_change_events()[0].body).unwrap();
    assert_eq!(ours[0].change_type_name, "CREATE");
    assert!(ours[0].is_from_client("cartograph"));
    let row = |sim: &SalesforceSim| {
        sim.records("Contact")
            .into_iter()
            .find(|r| r.id == id)
            .unwrap()
            .properties
    };
    let first = row(&sim);
    assert_eq!(
        first["LastModifiedById"],
        cartograph_salesforce::sim::INTEGRATION_USER_ID
    );
    // Same values again: no change, no event, SystemModstamp kept.
    write_one(&sf).await;
    assert!(sim.take_change_events().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Only existing fields can be edited.
    assert!(!sim.edit_as_user("Contact", &id, &[("No_Such__c", json!("x"))]));
    assert!(sim.take_change_events().is_empty());
    assert!(sim.edit_as_user("Contact", &id, &[("Phone", json!("+14155550100"))]));
    let after = row(&sim);
    assert_eq!(after["LastModifiedById"], UI_USER_ID);
    assert!(after["SystemModstamp"] > first["SystemModstamp"]);
    let events = sim.take_change_events();
    let theirs = parse_change_events(&events[0].body).unwrap();
    assert_eq!(theirs[0].changed_fields, ["Phone", "LastModifiedDate"]);
    assert_eq!(theirs[0].change_origin, "");
    let crm = sf.parse_webhook(&events[0]).unwrap();
    assert!(matches!(&crm[0].kind,
        CrmEventKind::ContactPropertyChanged { property, value: Some(v), .. }
            if property == "Phone" && v == "+14155550100"));
    assert!(!crm[0].is_own_write);
}

#[tokio::test]
async fn gap_events_are_re_read_into_current_values() {
    let (sim, sf) = sim_sf(SimConfig::fast()).await;
    let id = write_one(&sf).await;
    sim.take_change_events();
    sim.emit_gap_event("Contact", &[&id, "003SIM999999999"], "GAP_UPDATE");
    let delivery = sim.take_change_events().remove(0);
    // parse_webhook keeps them as Unhandled (dead-lettered, never dropped) ...
    let kept = sf.parse_webhook(&delivery).unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|e| matches!(&e.kind,
        CrmEventKind::Unhandled { topic, .. } if topic == "ContactChangeEvent/GAP_UPDATE")));
    // ... and resolve_change_events re-reads them.
    let events = parse_change_events(&delivery.body).unwrap();
    let resolved = sf.resolve_change_events(&events).await.unwrap();
    assert!(resolved.iter().any(|e| matches!(&e.kind,
        CrmEventKind::ContactPropertyChanged { crm_id, property, value: Some(v) }
            if *crm_id == id && property == "LastName" && v == "Lovelace")));
    assert!(resolved.iter().any(|e| matches!(&e.kind,
        CrmEventKind::ContactDeleted { crm_id } if crm_id == "003SIM999999999")));
}

#[tokio::test]
async fn lead_mode_lists_leads_then_contacts_and_names_the_integration_user() {
    let sim = SalesforceSim::start(SimConfig {
        query_page_size: 1,
        ..SimConfig::fast()
    })
    .await
    .unwrap();
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .person_object(cartograph_salesforce::PersonObject::Lead)
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut people = Vec::new();
    for n in 0..3 {
        let mut u = upsert(&format!("p{n}"), &format!("p{n}@example.com"));
        u.properties
            .insert("Company".into(), PropertyValue::String("Acme".into()));
        people.push(u);
    }
    let out = sf.upsert_contacts(&people).await.unwrap();
    let lead = out[0].id.clone().unwrap();
    let contact = sim.convert_lead(&lead).unwrap();
    let mut listed = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = CrmSource::list_contacts(&sf, &ListRequest::all().with_limit(2).at(cursor))
            .await
            .unwrap();
        listed.extend(page.items);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let ids: Vec<&str> = listed.iter().map(|c| c.crm_id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids[..3].iter().all(|id| id.starts_with("00Q")), "{ids:?}");
    assert_eq!(ids[3], contact);
    // The Leads were written by the integration user; the conversion (by a rep) wrote the
    // converted Lead and its Contact as the rep.
    let me = sf.integration_user_id().await.unwrap().unwrap();
    assert_eq!(me, cartograph_salesforce::sim::INTEGRATION_USER_ID);
    for c in &listed {
        let Some(PropertyValue::String(user)) = c.properties.get("LastModifiedById") else {
            panic!("no LastModifiedById on {}", c.crm_id);
        };
        let by_rep = c.crm_id == lead || c.crm_id == contact;
        assert_eq!(
            user,
            if by_rep { UI_USER_ID } else { me.as_str() },
            "{}",
            c.crm_id
        );
    }
}
