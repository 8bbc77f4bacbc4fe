//! wiremock tests of `write_campaign_revenue`: the Campaign query and the one collection
//! update with the day lines and totals.

use cartograph_connector::{ErrorKind, WriteStatus};
use serde_json::json;
use time::macros::date;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::campaigns::row;
use crate::wire::{builder, token};

const ROOT: &str = "/services/data/v62.0";

#[tokio::test]
async fn a_new_day_joins_the_stored_lines_in_one_update() {
    let server = MockServer::start().await;
    token(&server, "t1", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(query_param(
            "q",
            "SELECT Id, Coupon_Code__c, Ecom_Daily_Revenue__c FROM Campaign \
             WHERE Coupon_Code__c IN ('WINTER10')",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "totalSize": 1, "done": true, "records": [{
            "attributes": {"type": "Campaign"},
            "Id": "701000000000001AAA", "Coupon_Code__c": "winter10",
            "Ecom_Daily_Revenue__c": "2026-12-01 USD 10.10 2",
        }]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .and(header("sforce-call-options", "client=cartograph"))
        .and(body_json(json!({
            "allOrNone": false,
            "records": [{
                "attributes": {"type": "Campaign"},
                "Id": "701000000000001AAA",
                "Ecom_Daily_Revenue__c": "2026-12-01 USD 10.10 2\n2026-12-02 USD 0.05 1",
                "Ecom_Revenue_Total__c": "10.15",
                "Ecom_Revenue_Orders__c": 3,
                "Ecom_Revenue_Currency__c": "USD",
                "Ecom_Revenue_Last_Day__c": "2026-12-02",
            }]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "701000000000001AAA", "success": true, "errors": []}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let sf = cartograph_salesforce::Salesforce::new(builder(&server).build().unwrap()).unwrap();
    let out = sf
        .write_campaign_revenue(&[
            row(date!(2026 - 12 - 01), "WINTER10", "10.10", 2),
            row(date!(2026 - 12 - 02), "WINTER10", "0.05", 1),
            row(date!(2026 - 12 - 02), "winter10", "9.99", 1),
        ])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Unchanged),
        "{:?}",
        out[0]
    );
    assert!(
        matches!(out[1].status, WriteStatus::Updated),
        "{:?}",
        out[1]
    );
    let WriteStatus::Failed(e) = &out[2].status else {
        panic!("{:?}", out[2])
    };
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_eq!(e.record(), Some("winter10/2026-12-02/USD"));
}

#[tokio::test]
async fn a_refused_campaign_update_fails_its_rows() {
    let server = MockServer::start().await;
    token(&server, "t1", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
        "totalSize": 1, "done": true, "records": [{
            "Id": "701000000000001AAA", "Coupon_Code__c": "A",
            "Ecom_Daily_Revenue__c": null,
        }]})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{ROOT}/composite/sobjects")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "success": false,
            "errors": [{"statusCode": "STRING_TOO_LONG", "message": "data value too large",
                        "fields": ["Ecom_Daily_Revenue__c"]}]
        }])))
        .mount(&server)
        .await;
    let sf = cartograph_salesforce::Salesforce::new(builder(&server).build().unwrap()).unwrap();
    let out = sf
        .write_campaign_revenue(&[row(date!(2026 - 12 - 01), "A", "1.00", 1)])
        .await
        .unwrap();
    let WriteStatus::Failed(e) = &out[0].status else {
        panic!("{:?}", out[0])
    };
    assert_eq!(e.record(), Some("A/2026-12-01/USD"));
    assert!(!e.is_retryable());
}
