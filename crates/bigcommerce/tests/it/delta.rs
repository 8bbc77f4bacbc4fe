use cartograph_connector::{CommerceSource, ListRequest, drain};
use cartograph_model::Timestamp;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{self, customer, order};

fn since() -> Timestamp {
    Timestamp::parse_rfc3339("2024-05-14T09:34:00.750Z").unwrap()
}

#[tokio::test]
async fn customer_delta_sends_full_timestamp_minus_overlap_sorted_ascending() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .and(query_param("date_modified:min", "2024-05-14T09:29:00Z"))
        .and(query_param("sort", "date_modified:asc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer(1, "2024-05-14T09:40:00Z")], "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let page = bc
        .list_customers(&ListRequest::since(since()))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(page.next.is_none());
}

#[tokio::test]
async fn order_delta_reaches_back_then_keeps_since_onwards_once_per_run() {
    let server = support::server().await;
    support::order_details(&server).await;
    let pages = [
        (
            1,
            json!([
                // In the overlap the vendor window reaches back to (before `since`).
                order(1, "Tue, 14 May 2024 09:30:00 +0000"),
                order(2, "Tue, 14 May 2024 09:40:00 +0000")
            ]),
        ),
        // Page shift: order 2 shows up again with the same version.
        (
            2,
            json!([
                order(2, "Tue, 14 May 2024 09:40:00 +0000"),
                order(3, "Tue, 14 May 2024 09:41:00 +0000")
            ]),
        ),
    ];
    for (page, body) in pages {
        Mock::given(method("GET"))
            .and(path(support::path("/v2/orders")))
            .and(query_param(
                "min_date_modified",
                "Tue, 14 May 2024 09:29:00 +0000",
            ))
            .and(query_param("sort", "date_modified:asc"))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(2)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders")))
        .and(query_param("page", "3"))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    for _ in 0..2 {
        let all = drain(&ListRequest::since(since()).with_limit(2), |r| {
            let bc = &bc;
            async move { bc.list_orders(&r).await }
        })
        .await
        .unwrap();
        let ids: Vec<_> = all.iter().map(|o| o.source.id.clone()).collect();
        assert_eq!(
            ids,
            ["2", "3"],
            "nothing before since, each version once per run"
        );
    }
}

#[tokio::test]
async fn product_and_refund_deltas_use_full_timestamps() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/catalog/products")))
        .and(query_param("date_modified:min", "2024-05-14T09:29:00Z"))
        .and(query_param("sort", "date_modified"))
        .and(query_param("direction", "asc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [], "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/orders/payment_actions/refunds")))
        .and(query_param("created:min", "2024-05-14T09:29:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 5, "order_id": 9, "created": "2024-05-14T09:35:00Z", "total_amount": 3.5}
        ], "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders/9")))
        .respond_with(ResponseTemplate::new(200).set_body_json(order(9, "")))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    assert!(
        bc.list_products(&ListRequest::since(since()))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let refunds = bc.list_refunds(&ListRequest::since(since())).await.unwrap();
    assert_eq!(refunds.items[0].amount.to_string(), "3.5 USD");
}
