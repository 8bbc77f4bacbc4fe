//! wiremock tests of the write path's REST calls: the Composite request of an order with
//! line items (all or none, `referenceId` chaining, standard price book), its rollback and
//! lost answers, product prices, and the company Account of a B2B order.

use std::time::Duration;

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_http::{RateLimit, RetryPolicy, Secret};
use cartograph_model::{
    ContactRef, Decimal, EmailAddress, LineItemRecord, OrderObject, OrderRecord, Origin,
    ProductRecord, PropertyValue,
};
use cartograph_salesforce::{Environment, Salesforce, SalesforceAuth, SalesforceConfig};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ROOT: &str = "/services/data/v62.0";

fn sf(server: &MockServer) -> Salesforce {
    let config = SalesforceConfig::builder(
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
            .with_max_attempts(3)
            .with_delays(Duration::from_millis(1), Duration::from_millis(5))
            .with_jitter(false),
    )
    .rate_limit(RateLimit::new(1000, Duration::from_secs(1)))
    .build()
    .unwrap();
    Salesforce::new(config).unwrap()
}

/// Token, describes, and SOQL answers chosen by the query's `FROM` object.
async fn org(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "instance_url": server.uri(), "token_type": "Bearer",
            "issued_at": "1700000000000", "signature": "x", "id": "https://login/id/00D/005",
        })))
        .mount(server)
        .await;
    for (object, fields) in [
        (
            "Opportunity",
            &[
                "Id",
                "Name",
                "Amount",
                "CloseDate",
                "StageName",
                "ContactId",
                "AccountId",
                "Pricebook2Id",
                "IsWon",
                "Ecom_Order_Id__c",
            ][..],
        ),
        (
            "OpportunityLineItem",
            &[
                "Id",
                "Quantity",
                "UnitPrice",
                "Description",
                "Cartograph_Key__c",
            ][..],
        ),
        (
            "PricebookEntry",
            &["Id", "UnitPrice", "IsActive", "Product2Id", "Pricebook2Id"][..],
        ),
        (
            "Product2",
            &[
                "Id",
                "Name",
                "ProductCode",
                "IsActive",
                "Ecom_Product_Id__c",
            ][..],
        ),
        (
            "Account",
            &[
                "Id",
                "Name",
                "BillingCity",
                "Cartograph_Key__c",
                "Ecom_Order_Count__c",
                "Ecom_Lifetime_Value__c",
            ][..],
        ),
    ] {
        let fields: Vec<Value> = fields.iter().map(|f| json!({"name": f})).collect();
        Mock::given(method("GET"))
            .and(path(format!("{ROOT}/sobjects/{object}/describe")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"fields": fields})))
            .mount(server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(|req: &Request| {
            let q = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let rows = if q.contains("FROM Product2") {
                json!([{"Id": "01tA", "Ecom_Product_Id__c": "bigcommerce/product/77"}])
            } else if q.contains("FROM Pricebook2") {
                json!([{"Id": "01sSTD", "IsStandard": true, "IsActive": true},
                       {"Id": "01sOTHER", "IsStandard": false, "IsActive": true}])
            } else if q.contains("FROM PricebookEntry") {
                json!([{"Id": "01uOTHER", "Product2Id": "01tA", "Pricebook2Id": "01sOTHER",
                        "UnitPrice": 9.0, "IsActive": true},
                       {"Id": "01uA", "Product2Id": "01tA", "Pricebook2Id": "01sSTD",
                        "UnitPrice": 10.0, "IsActive": true}])
            } else if q.contains("FROM Opportunity WHERE AccountId") {
                json!([{"Id": "006A", "AccountId": "001A", "Amount": 120.5,
                        "CloseDate": "2024-05-01", "IsWon": true,
                        "Ecom_Order_Id__c": "bigcommerce/order/1"},
                       // A deal a rep opened on the Account: not an order.
                       {"Id": "006R", "AccountId": "001A", "Amount": 5000,
                        "CloseDate": "2024-05-02", "IsWon": true, "Ecom_Order_Id__c": null}])
            } else {
                json!([])
            };
            ResponseTemplate::new(200).set_body_json(json!({
                "totalSize": rows.as_array().map_or(0, Vec::len), "done": true, "records": rows}))
        })
        .mount(server)
        .await;
}

fn order_with_line() -> OrderRecord {
    OrderRecord {
        key: "bigcommerce/order/1".into(),
        object: OrderObject::Deal,
        contact: Some(ContactRef::Email(EmailAddress::new("a@b.co").unwrap())),
        properties: [
            ("Name".to_owned(), PropertyValue::String("Order #1".into())),
            (
                "StageName".to_owned(),
                PropertyValue::String("Closed Won".into()),
            ),
        ]
        .into(),
        line_items: vec![LineItemRecord {
            key: "1".into(),
            product_key: Some("bigcommerce/product/77".into()),
            properties: [
                ("Quantity".to_owned(), PropertyValue::Number(2.into())),
                (
                    "UnitPrice".to_owned(),
                    PropertyValue::Number(Decimal::new(1050, 2)),
                ),
            ]
            .into(),
        }],
        origin: Origin::Live,
    }
}

async fn composite_bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == format!("{ROOT}/composite"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn line_items_go_in_one_all_or_none_composite_chained_to_the_opportunity() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{ROOT}/composite")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"compositeResponse": [
                {"referenceId": "opp", "httpStatusCode": 200, "httpHeaders": {},
                 "body": [{"id": "006N", "success": true, "created": true, "errors": []}]},
                {"referenceId": "new0", "httpStatusCode": 200, "httpHeaders": {},
                 "body": [{"id": "00kN", "success": true, "errors": []}]},
            ]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = sf(&server)
        .record_orders(&[order_with_line()])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    assert_eq!(out[0].id.as_deref(), Some("006N"));
    let body = &composite_bodies(&server).await[0];
    assert_eq!(body["allOrNone"], json!(true));
    assert_eq!(body["collateSubrequests"], json!(false));
    let subs = body["compositeRequest"].as_array().unwrap();
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0]["method"], "PATCH");
    assert_eq!(
        subs[0]["url"],
        format!("{ROOT}/composite/sobjects/Opportunity/Ecom_Order_Id__c")
    );
    assert_eq!(subs[0]["referenceId"], "opp");
    let opp = &subs[0]["body"]["records"][0];
    assert_eq!(opp["Ecom_Order_Id__c"], "bigcommerce/order/1");
    assert_eq!(opp["Pricebook2Id"], "01sSTD", "the standard price book");
    assert_eq!(opp["attributes"]["type"], "Opportunity");
    assert_eq!(subs[1]["method"], "POST");
    assert_eq!(subs[1]["url"], format!("{ROOT}/composite/sobjects"));
    assert_eq!(subs[1]["body"]["allOrNone"], json!(true));
    let line = &subs[1]["body"]["records"][0];
    assert_eq!(line["OpportunityId"], "@{opp[0].id}");
    assert_eq!(
        line["PricebookEntryId"], "01uA",
        "the standard entry, not the other book's"
    );
    assert_eq!(line["Cartograph_Key__c"], "bigcommerce/order/1#1");
    assert_eq!(line["UnitPrice"], "10.5");
    assert_eq!(line["Quantity"], 2);
    assert_eq!(line["attributes"]["type"], "OpportunityLineItem");
}

#[tokio::test]
async fn a_rolled_back_composite_fails_the_order_with_the_refused_line_named() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{ROOT}/composite")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"compositeResponse": [
            {"referenceId": "opp", "httpStatusCode": 400, "httpHeaders": {},
             "body": [{"errorCode": "PROCESSING_HALTED",
                       "message": "The transaction was rolled back since another operation in the same transaction failed."}]},
            {"referenceId": "new0", "httpStatusCode": 400, "httpHeaders": {},
             "body": [{"success": false, "errors": [{"statusCode": "FIELD_INTEGRITY_EXCEPTION",
                       "message": "field integrity exception: PricebookEntryId (pricebook entry is inactive)",
                       "fields": ["PricebookEntryId"]}]}]},
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let out = sf(&server)
        .record_orders(&[order_with_line()])
        .await
        .unwrap();
    let WriteStatus::Failed(e) = &out[0].status else {
        panic!("{out:?}");
    };
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_eq!(e.vendor_code(), Some("FIELD_INTEGRITY_EXCEPTION"));
    assert_eq!(e.field(), Some("line_items[1].PricebookEntryId"));
    assert_eq!(e.record(), Some("bigcommerce/order/1"));
    assert!(e.message().contains("line 1"), "{}", e.message());
    assert!(e.message().contains("new0"), "{}", e.message());
}

#[tokio::test]
async fn a_lost_composite_answer_is_not_resent() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("POST"))
        .and(path(format!("{ROOT}/composite")))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!([
            {"errorCode": "SERVER_UNAVAILABLE", "message": "unavailable"}])))
        .expect(1)
        .mount(&server)
        .await;
    let err = sf(&server)
        .record_orders(&[order_with_line()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_product_price_is_written_to_the_standard_price_book() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Product2/Ecom_Product_Id__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "01tA", "success": true, "created": false, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "01uA", "success": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    let product = ProductRecord {
        key: "bigcommerce/product/77".into(),
        properties: [
            ("Name".to_owned(), PropertyValue::String("Boot".into())),
            (
                "PricebookEntry.UnitPrice".to_owned(),
                PropertyValue::Number(Decimal::new(1250, 2)),
            ),
            // Single-currency org: no CurrencyIsoCode on PricebookEntry, dropped.
            (
                "PricebookEntry.CurrencyIsoCode".to_owned(),
                PropertyValue::String("USD".into()),
            ),
        ]
        .into(),
    };
    let out = sf(&server).upsert_products(&[product]).await.unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated), "{out:?}");
    let requests = server.received_requests().await.unwrap();
    let body = |p: &str| -> Value {
        let r = requests
            .iter()
            .find(|r| r.method.as_str() == "PATCH" && r.url.path() == p)
            .unwrap();
        serde_json::from_slice(&r.body).unwrap()
    };
    let product = &body(&format!(
        "{ROOT}/composite/sobjects/Product2/Ecom_Product_Id__c"
    ))["records"][0];
    assert_eq!(product["Ecom_Product_Id__c"], "bigcommerce/product/77");
    assert!(product.get("PricebookEntry.UnitPrice").is_none());
    let entry = &body(&format!("{ROOT}/composite/sobjects"))["records"][0];
    assert_eq!(entry["Id"], "01uA", "the standard entry changes price");
    assert_eq!(entry["UnitPrice"], "12.5");
    assert!(entry.get("CurrencyIsoCode").is_none());
}

#[tokio::test]
async fn a_company_order_upserts_its_account_and_writes_the_summary() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Account/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "001A", "success": true, "created": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Opportunity/Ecom_Order_Id__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "006A", "success": true, "created": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "001A", "success": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    let mut order = order_with_line();
    order.line_items.clear();
    order.properties.insert(
        "Account.Name".into(),
        PropertyValue::String(" Acme ".into()),
    );
    order.properties.insert(
        "Account.BillingCity".into(),
        PropertyValue::String("Berlin".into()),
    );
    let out = sf(&server).record_orders(&[order]).await.unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    let requests = server.received_requests().await.unwrap();
    let body = |p: &str| -> Value {
        let r = requests
            .iter()
            .find(|r| r.method.as_str() == "PATCH" && r.url.path() == p)
            .unwrap();
        serde_json::from_slice(&r.body).unwrap()
    };
    let account = &body(&format!(
        "{ROOT}/composite/sobjects/Account/Cartograph_Key__c"
    ))["records"][0];
    assert_eq!(account["Cartograph_Key__c"], "company/acme");
    assert_eq!(account["BillingCity"], "Berlin");
    let opp = &body(&format!(
        "{ROOT}/composite/sobjects/Opportunity/Ecom_Order_Id__c"
    ))["records"][0];
    assert_eq!(opp["AccountId"], "001A");
    assert!(opp.get("Account.Name").is_none());
    let summary = &body(&format!("{ROOT}/composite/sobjects"))["records"][0];
    assert_eq!(summary["Id"], "001A");
    assert_eq!(summary["Ecom_Order_Count__c"], 1);
    assert_eq!(summary["Ecom_Lifetime_Value__c"], "120.50");
    // Fields the org lacks are not sent.
    assert!(summary.get("Ecom_Top_Categories__c").is_none());
}

#[tokio::test]
async fn a_failed_line_lookup_after_a_write_fails_only_the_orders_with_lines() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(wiremock::matchers::query_param(
            "q",
            "SELECT Id, Ecom_Order_Id__c FROM Opportunity WHERE Ecom_Order_Id__c IN \
             ('bigcommerce/order/1')",
        ))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!([
            {"errorCode": "SERVER_UNAVAILABLE", "message": "unavailable"}])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Opportunity/Ecom_Order_Id__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "006P", "success": true, "created": true, "errors": []}])))
        .expect(1)
        .mount(&server)
        .await;
    let mut plain = order_with_line();
    plain.key = "bigcommerce/order/2".into();
    plain.line_items.clear();
    let out = sf(&server)
        .record_orders(&[order_with_line(), plain])
        .await
        .expect("a call that wrote an order answers Ok");
    assert!(matches!(out[1].status, WriteStatus::Created), "{out:?}");
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.record(), Some("bigcommerce/order/1"));
    assert!(composite_bodies(&server).await.is_empty());
}

#[tokio::test]
async fn a_rerun_updates_lines_and_leaves_the_price_book_of_an_opportunity_with_lines() {
    let server = MockServer::start().await;
    org(&server).await;
    let answer = |rows: Value| {
        ResponseTemplate::new(200)
            .set_body_json(json!({"totalSize": 1, "done": true, "records": rows}))
    };
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(wiremock::matchers::query_param(
            "q",
            "SELECT Id, Ecom_Order_Id__c FROM Opportunity WHERE Ecom_Order_Id__c IN \
             ('bigcommerce/order/1')",
        ))
        .respond_with(answer(
            json!([{"Id": "006A", "Ecom_Order_Id__c": "bigcommerce/order/1"}]),
        ))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(wiremock::matchers::query_param(
            "q",
            "SELECT Id, OpportunityId, PricebookEntryId, Cartograph_Key__c FROM \
             OpportunityLineItem WHERE OpportunityId IN ('006A')",
        ))
        .respond_with(answer(json!([
            {"Id": "00kA", "OpportunityId": "006A", "PricebookEntryId": "01uA",
             "Cartograph_Key__c": "bigcommerce/order/1#1"},
            {"Id": "00kGONE", "OpportunityId": "006A", "PricebookEntryId": "01uA",
             "Cartograph_Key__c": "bigcommerce/order/1#2"},
            {"Id": "00kREP", "OpportunityId": "006A", "PricebookEntryId": "01uA",
             "Cartograph_Key__c": null}])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{ROOT}/composite")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"compositeResponse": [
                {"referenceId": "opp", "httpStatusCode": 200, "httpHeaders": {},
                 "body": [{"id": "006A", "success": true, "created": false, "errors": []}]},
                {"referenceId": "del0", "httpStatusCode": 200, "httpHeaders": {},
                 "body": [{"id": "00kGONE", "success": true, "errors": []}]},
                {"referenceId": "upd0", "httpStatusCode": 200, "httpHeaders": {},
                 "body": [{"id": "00kA", "success": true, "errors": []}]},
            ]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = sf(&server)
        .record_orders(&[order_with_line()])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated), "{out:?}");
    let body = &composite_bodies(&server).await[0];
    let subs = body["compositeRequest"].as_array().unwrap();
    assert_eq!(subs.len(), 3, "{subs:?}");
    assert!(
        subs[0]["body"]["records"][0].get("Pricebook2Id").is_none(),
        "an Opportunity with lines keeps its price book"
    );
    assert_eq!(subs[1]["method"], "DELETE");
    assert_eq!(
        subs[1]["url"],
        format!("{ROOT}/composite/sobjects?ids=00kGONE&allOrNone=true"),
        "the dropped line goes, the rep's line stays"
    );
    let update = &subs[2]["body"]["records"][0];
    assert_eq!(update["Id"], "00kA");
    assert!(update.get("OpportunityId").is_none() && update.get("PricebookEntryId").is_none());
    assert_eq!(update["Quantity"], 2);
}

#[tokio::test]
async fn a_refused_account_summary_leaves_the_written_order_partial() {
    let server = MockServer::start().await;
    org(&server).await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Account/Cartograph_Key__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "001A", "success": true, "created": false, "errors": []}])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!(
            "{ROOT}/composite/sobjects/Opportunity/Ecom_Order_Id__c"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "006A", "success": true, "created": true, "errors": []}])))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"success": false, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
              "message": "Accounts need an owner", "fields": []}]}])))
        .mount(&server)
        .await;
    let mut order = order_with_line();
    order.line_items.clear();
    order
        .properties
        .insert("Account.Name".into(), PropertyValue::String("Acme".into()));
    let out = sf(&server).record_orders(&[order]).await.unwrap();
    let WriteStatus::Partial { error, .. } = &out[0].status else {
        panic!("{out:?}");
    };
    assert_eq!(out[0].id.as_deref(), Some("006A"));
    assert_eq!(
        error.vendor_code(),
        Some("FIELD_CUSTOM_VALIDATION_EXCEPTION")
    );
    assert_eq!(error.record(), Some("bigcommerce/order/1"));
}
