use cartograph_connector::{CommerceSource, ListRequest, drain};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{self, TOKEN, customer, order};

#[tokio::test]
async fn list_customers_follows_the_after_cursor() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .and(header("X-Auth-Token", TOKEN))
        .and(query_param("include", "addresses,attributes,formfields"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer(1, "2024-01-01T00:00:00Z"), customer(2, "2024-01-02T00:00:00Z")],
            "meta": {"cursor_pagination": {"count": 2, "per_page": 2, "start_cursor": "c1",
                     "end_cursor": "c2", "links": {"next": "?after=c2&limit=2"}}}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .and(query_param("after", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer(3, "2024-01-03T00:00:00Z")],
            "meta": {"cursor_pagination": {"count": 1, "per_page": 2, "start_cursor": "c3",
                     "end_cursor": "c3", "links": {"previous": "?before=c3"}}}})))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let all = drain(&ListRequest::all().with_limit(2), |r| {
        let bc = &bc;
        async move { bc.list_customers(&r).await }
    })
    .await
    .unwrap();
    let ids: Vec<_> = all.iter().map(|c| c.source.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3"]);
}

#[tokio::test]
async fn list_orders_stops_at_the_204_past_the_last_page() {
    let server = support::server().await;
    support::order_details(&server).await;
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders")))
        .and(header("X-Auth-Token", TOKEN))
        .and(query_param("page", "1"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            order(1, "Mon, 01 Jan 2024 00:00:00 +0000"),
            order(2, "Mon, 01 Jan 2024 00:00:00 +0000")
        ])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders")))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let first = bc
        .list_orders(&ListRequest::all().with_limit(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let next = first.next.clone().expect("a full page has a next page");
    let second = bc
        .list_orders(&ListRequest::all().with_limit(2).at(Some(next)))
        .await
        .unwrap();
    assert!(second.items.is_empty());
    assert!(second.next.is_none(), "204 ends the listing");
}

#[tokio::test]
async fn list_products_follows_meta_pagination() {
    let server = support::server().await;
    let product = |id: u64| {
        json!({"id": id, "name": format!("P{id}"), "price": 9.99,
        "inventory_tracking": "none", "availability": "available", "is_visible": true})
    };
    for (page, total_pages, ids) in [(1, 2, vec![1, 2]), (2, 2, vec![3])] {
        Mock::given(method("GET"))
            .and(path(support::path("/v3/catalog/products")))
            .and(query_param("include", "variants,images"))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": ids.iter().map(|i| product(*i)).collect::<Vec<_>>(),
                "meta": {"pagination": {"total": 3, "count": ids.len(), "per_page": 2,
                         "current_page": page, "total_pages": total_pages}}})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let bc = support::connector(&server);
    let all = drain(&ListRequest::all().with_limit(2), |r| {
        let bc = &bc;
        async move { bc.list_products(&r).await }
    })
    .await
    .unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].price.unwrap().amount().to_string(), "9.99");
}

#[tokio::test]
async fn missing_records_are_none_and_bad_ids_never_hit_the_api() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders/404")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!([
            {"status": 404, "message": "The requested resource was not found."}])))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    assert!(bc.get_order("404").await.unwrap().is_none());
    assert!(bc.get_order("not-a-number").await.unwrap().is_none());
}
