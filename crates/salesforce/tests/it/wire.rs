//! wiremock tests of the REST calls: token exchange, upsert path and body, session refresh,
//! partial failures, query paging.

use std::time::Duration;

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_http::{RateLimit, RetryPolicy, Secret};
use cartograph_model::{
    ContactUpsert, EmailAddress, IdentityKeys, Origin, PropertyValue, RecordKind, SourceRef,
};
use cartograph_salesforce::{
    Environment, PersonObject, Salesforce, SalesforceAuth, SalesforceConfig,
    SalesforceConfigBuilder,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROOT: &str = "/services/data/v62.0";

fn sf(server: &MockServer) -> Salesforce {
    Salesforce::new(builder(server).build().unwrap()).unwrap()
}

/// The wiremock tests' config: refresh-token grant against `server`, fast retries.
pub(crate) fn builder(server: &MockServer) -> SalesforceConfigBuilder {
    SalesforceConfig::builder(
        Environment::Sandbox,
        SalesforceAuth::RefreshToken {
            client_id: "cid".into(),
            client_secret: Secret::new("csecret"),
            refresh_token: Secret::new("rtoken"),
        },
    )
    .login_url(server.uri())
    .retry(
        RetryPolicy::default()
            .with_max_attempts(2)
            .with_delays(Duration::from_millis(1), Duration::from_millis(5))
            .with_jitter(false),
    )
    .rate_limit(RateLimit::new(1000, Duration::from_secs(1)))
}

pub(crate) async fn token(server: &MockServer, access: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rtoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": access, "instance_url": server.uri(), "token_type": "Bearer",
            "issued_at": "1700000000000", "signature": "x", "id": "https://login/id/00D/005",
        })))
        .expect(times)
        .mount(server)
        .await;
}

async fn no_rows(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 0, "done": true, "records": []})))
        .mount(server)
        .await;
}

async fn describe(server: &MockServer, object: &str, fields: &[&str]) {
    let fields: Vec<Value> = fields.iter().map(|f| json!({"name": f})).collect();
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/sobjects/{object}/describe")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"fields": fields})))
        .mount(server)
        .await;
}

pub(crate) fn upsert(key: &str, mail: &str) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: EmailAddress::new(mail),
            ..IdentityKeys::default()
        },
        properties: [(
            "LastName".to_owned(),
            PropertyValue::String("Lovelace".into()),
        )]
        .into(),
        origin: Origin::Live,
    }
}

#[tokio::test]
async fn upsert_exchanges_the_token_and_patches_the_collection() {
    let server = MockServer::start().await;
    token(&server, "tok-1", 1).await;
    describe(
        &server,
        "Contact",
        &["Id", "Email", "LastName", "Cartograph_Key__c"],
    )
    .await;
    no_rows(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Contact/Cartograph_Key__c"
        )))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("sforce-call-options", "client=cartograph"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "003A", "success": true, "errors": [], "created": true},
            {"id": "003B", "success": true, "errors": [], "created": false},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let out = sf(&server)
        .upsert_contacts(&[
            upsert("p1", "Ada@Example.com"),
            upsert("p2", "bob@example.com"),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created));
    assert_eq!(out[0].id.as_deref(), Some("003A"));
    assert!(matches!(out[1].status, WriteStatus::Updated));
    let requests = server.received_requests().await.unwrap();
    let patch: &Request = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    assert_eq!(body["allOrNone"], json!(false));
    let first = &body["records"][0];
    assert_eq!(first["attributes"]["type"], json!("Contact"));
    assert_eq!(first["Email"], json!("Ada@Example.com"));
    assert_eq!(first["Cartograph_Key__c"], json!("ada@example.com"));
    assert_eq!(first["LastName"], json!("Lovelace"));
}

#[tokio::test]
async fn an_expired_session_refreshes_the_token_once() {
    let server = MockServer::start().await;
    token(&server, "tok", 2).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!([
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 0, "done": true, "records": []})))
        .mount(&server)
        .await;
    let found = sf(&server)
        .find_contacts(&[IdentityKeys {
            email: EmailAddress::new("a@b.co"),
            ..IdentityKeys::default()
        }])
        .await
        .unwrap();
    assert_eq!(found, vec![None]);
}

#[tokio::test]
async fn a_duplicate_rule_fails_only_its_record_and_is_not_retried() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    describe(
        &server,
        "Contact",
        &["Id", "Email", "LastName", "Cartograph_Key__c"],
    )
    .await;
    no_rows(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Contact/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "003A", "success": true, "errors": [], "created": true},
            {"success": false, "errors": [{"statusCode": "DUPLICATES_DETECTED",
              "message": "Use one of these records?", "fields": []}]},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let out = sf(&server)
        .upsert_contacts(&[upsert("p1", "a@example.com"), upsert("p2", "b@example.com")])
        .await
        .unwrap();
    assert!(out[0].is_ok());
    let err = out[1].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.vendor_code(), Some("DUPLICATES_DETECTED"));
    assert_eq!(err.record(), Some("p2"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn queries_follow_next_records_url() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            "SELECT Id, Email, FirstName, LastName, Phone, Cartograph_Key__c, LastModifiedDate \
             FROM Contact WHERE Email IN ('c@d.co', 'a@b.co')",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 2, "done": false,
            "nextRecordsUrl": format!("{ROOT}/query/01gD0000000001-1"),
            "records": [{"attributes": {"type": "Contact"}, "Id": "003A", "Email": "a@b.co"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query/01gD0000000001-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 2, "done": true,
            "records": [{"attributes": {"type": "Contact"}, "Id": "003C", "Email": "C@d.co"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let keys: Vec<IdentityKeys> = ["c@d.co", "a@b.co", "x@y.co"]
        .iter()
        .map(|m| IdentityKeys {
            email: EmailAddress::new(*m),
            ..IdentityKeys::default()
        })
        .collect();
    let found = sf(&server).find_contacts(&keys[..2]).await.unwrap();
    assert_eq!(found[0].as_ref().unwrap().crm_id, "003C");
    assert_eq!(found[1].as_ref().unwrap().crm_id, "003A");
}

#[tokio::test]
async fn oversized_batches_are_refused_before_any_call() {
    let server = MockServer::start().await;
    let inputs: Vec<ContactUpsert> = (0..201)
        .map(|n| upsert(&format!("p{n}"), &format!("p{n}@example.com")))
        .collect();
    let err = sf(&server).upsert_contacts(&inputs).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(server.received_requests().await.unwrap().is_empty());
}

fn task(key: &str, kind: cartograph_model::TaskKind) -> cartograph_model::TaskRequest {
    cartograph_model::TaskRequest {
        key: key.into(),
        kind,
        subject: "Refund".into(),
        body: "Call the buyer".into(),
        priority: cartograph_model::TaskPriority::High,
        due_at: None,
        contact: None,
        order_key: None,
        owner_id: None,
    }
}

#[tokio::test]
async fn a_fatal_error_after_a_write_fails_records_not_the_call() {
    let server = MockServer::start().await;
    token(&server, "tok-1", 1).await;
    // Cases go first and are written; the task upsert then fails past its retries.
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Case/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "500A", "success": true, "errors": [], "created": true},
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Task/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!([
            {"errorCode": "SERVER_UNAVAILABLE", "message": "try later"}])))
        .mount(&server)
        .await;
    let out = sf(&server)
        .create_tasks(&[
            task("t-1", cartograph_model::TaskKind::Task),
            task("c-1", cartograph_model::TaskKind::Case),
        ])
        .await
        .expect("the case was written: the call must not fail as a whole");
    assert!(
        matches!(out[1].status, WriteStatus::Created),
        "{:?}",
        out[1]
    );
    assert_eq!(out[1].id.as_deref(), Some("500A"));
    let err = out[0].error().expect("the task failed");
    assert!(!out[0].is_written());
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.record(), Some("t-1"));
}

fn sf_lead(server: &MockServer) -> Salesforce {
    let config = SalesforceConfig::builder(
        Environment::Sandbox,
        SalesforceAuth::RefreshToken {
            client_id: "cid".into(),
            client_secret: Secret::new("csecret"),
            refresh_token: Secret::new("rtoken"),
        },
    )
    .login_url(server.uri())
    .person_object(PersonObject::Lead)
    .retry(
        RetryPolicy::default()
            .with_max_attempts(2)
            .with_delays(Duration::from_millis(1), Duration::from_millis(5))
            .with_jitter(false),
    )
    .rate_limit(RateLimit::new(1000, Duration::from_secs(1)))
    .build()
    .unwrap();
    Salesforce::new(config).unwrap()
}

/// The `q` parameter of every query received, in order.
async fn soql_sent(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == format!("{ROOT}/query"))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

const FIND: &str =
    "SELECT Id, Email, FirstName, LastName, Phone, Cartograph_Key__c, LastModifiedDate";

#[tokio::test]
async fn find_contacts_looks_up_email_external_id_and_phone() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            format!("{FIND} FROM Contact WHERE Phone IN ('+14155550100', '+14155550199')"),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Contact"}, "Id": "003P", "Email": null,
                         "Phone": "+14155550199", "LastName": "Hopper"}]})))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    no_rows(&server).await;
    let keys = [
        IdentityKeys {
            email: EmailAddress::new("Ada@Example.com"),
            phone: Some("+14155550100".into()),
            external_ids: vec![SourceRef::new("bigcommerce", RecordKind::Customer, "7")],
            ..IdentityKeys::default()
        },
        IdentityKeys {
            phone: Some("+14155550199".into()),
            ..IdentityKeys::default()
        },
    ];
    let found = sf(&server).find_contacts(&keys).await.unwrap();
    assert_eq!(found[0], None);
    assert_eq!(found[1].as_ref().unwrap().crm_id, "003P");
    assert_eq!(
        soql_sent(&server).await,
        vec![
            format!("{FIND} FROM Contact WHERE Email IN ('ada@example.com')"),
            format!("{FIND} FROM Contact WHERE Cartograph_Key__c IN ('bigcommerce/customer/7')"),
            format!("{FIND} FROM Contact WHERE Phone IN ('+14155550100', '+14155550199')"),
        ]
    );
}

#[tokio::test]
async fn a_shared_phone_alone_matches_nobody() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 2, "done": true,
            "records": [
                {"attributes": {"type": "Contact"}, "Id": "003A", "Phone": "+14155550100"},
                {"attributes": {"type": "Contact"}, "Id": "003B", "Phone": "+14155550100"}]})))
        .mount(&server)
        .await;
    let found = sf(&server)
        .find_contacts(&[IdentityKeys {
            phone: Some("+14155550100".into()),
            ..IdentityKeys::default()
        }])
        .await
        .unwrap();
    assert_eq!(found, vec![None]);
}

const CONVERTED: &str =
    "SELECT Id, Email, Cartograph_Key__c, IsConverted, ConvertedContactId FROM Lead";

#[tokio::test]
async fn a_converted_lead_is_written_to_its_contact_never_to_the_lead() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    describe(
        &server,
        "Lead",
        &["Id", "Email", "LastName", "Company", "Cartograph_Key__c"],
    )
    .await;
    describe(&server, "Contact", &["Id", "Email", "LastName", "Phone"]).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Lead"}, "Id": "00QA",
                         "Email": "ada@example.com", "Cartograph_Key__c": "ada@example.com",
                         "IsConverted": true, "ConvertedContactId": "003C"}]})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .and(header("sforce-call-options", "client=cartograph"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "003C", "success": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Lead/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let mut ada = upsert("p1", "Ada@Example.com");
    ada.properties
        .insert("Company".into(), PropertyValue::String("Acme".into()));
    let out = sf_lead(&server).upsert_contacts(&[ada]).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some("003C"));
    assert_eq!(
        soql_sent(&server).await,
        vec![
            format!("{CONVERTED} WHERE Email IN ('ada@example.com')"),
            format!("{CONVERTED} WHERE Cartograph_Key__c IN ('ada@example.com')"),
        ]
    );
    let requests = server.received_requests().await.unwrap();
    let patch = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH")
        .unwrap();
    let body: Value = serde_json::from_slice(&patch.body).unwrap();
    let record = &body["records"][0];
    assert_eq!(record["attributes"]["type"], json!("Contact"));
    assert_eq!(record["Id"], json!("003C"));
    assert_eq!(record["LastName"], json!("Lovelace"));
    assert_eq!(record["Email"], json!("Ada@Example.com"));
    // Lead-only fields and the Lead's External ID are not sent to the Contact.
    assert!(record.get("Company").is_none());
    assert!(record.get("Cartograph_Key__c").is_none());
}

#[tokio::test]
async fn a_lead_converted_after_the_lookup_fails_its_record_as_a_conflict() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    describe(
        &server,
        "Lead",
        &["Id", "Email", "LastName", "Company", "Cartograph_Key__c"],
    )
    .await;
    no_rows(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Lead/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"success": false, "errors": [{"statusCode": "CANNOT_UPDATE_CONVERTED_LEAD",
              "message": "cannot reference converted lead", "fields": []}]}])))
        .expect(1)
        .mount(&server)
        .await;
    let out = sf_lead(&server)
        .upsert_contacts(&[upsert("p1", "ada@example.com")])
        .await
        .unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.vendor_code(), Some("CANNOT_UPDATE_CONVERTED_LEAD"));
    assert_eq!(err.record(), Some("p1"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn find_contacts_on_lead_answers_the_contact_of_a_converted_lead() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            format!(
                "{FIND}, IsConverted, ConvertedContactId FROM Lead WHERE Email IN ('ada@example.com')"
            ),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Lead"}, "Id": "00QA",
                         "Email": "ada@example.com", "IsConverted": true,
                         "ConvertedContactId": "003C"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            "SELECT Id, Email, FirstName, LastName, Phone, LastModifiedDate FROM Contact \
             WHERE Id IN ('003C')",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 1, "done": true,
            "records": [{"attributes": {"type": "Contact"}, "Id": "003C",
                         "Email": "ada@example.com", "LastName": "Lovelace"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let found = sf_lead(&server)
        .find_contacts(&[IdentityKeys {
            email: EmailAddress::new("ada@example.com"),
            ..IdentityKeys::default()
        }])
        .await
        .unwrap();
    assert_eq!(found[0].as_ref().unwrap().crm_id, "003C");
    assert_eq!(soql_sent(&server).await.len(), 2);
}
