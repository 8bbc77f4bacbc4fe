//! Order lines get their categories from the catalog: one batched product lookup and one
//! category lookup per page of orders, cached across pages.

use cartograph_connector::{CommerceSource, ListRequest};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{self, ROOT, order};

const MODIFIED: &str = "Mon, 01 Jan 2024 00:00:00 +0000";

fn line(id: u64, order_id: u64, product_id: u64) -> Value {
    json!({"id": id, "order_id": order_id, "product_id": product_id, "name": format!("P{product_id}"),
           "quantity": 1, "price_ex_tax": "5.0000", "total_ex_tax": "5.0000", "total_tax": "0.0000"})
}

/// Orders `ids` on page `page` (limit 2), each with lines of `products`, and empty
/// shipping addresses and coupons.
async fn orders_page(server: &MockServer, page: u32, ids: [u64; 2], products: &[u64]) {
    Mock::given(method("GET"))
        .and(path(support::path("/v2/orders")))
        .and(query_param("page", page.to_string()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([order(ids[0], MODIFIED), order(ids[1], MODIFIED)])),
        )
        .mount(server)
        .await;
    for id in ids {
        let lines: Vec<Value> = products
            .iter()
            .enumerate()
            .map(|(i, p)| line(id * 100 + i as u64, id, *p))
            .collect();
        Mock::given(method("GET"))
            .and(path(support::path(&format!("/v2/orders/{id}/products"))))
            .respond_with(ResponseTemplate::new(200).set_body_json(lines))
            .mount(server)
            .await;
    }
    for sub in ["shipping_addresses", "coupons"] {
        Mock::given(method("GET"))
            .and(path_regex(format!(r"^{ROOT}/v2/orders/\d+/{sub}$")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .mount(server)
            .await;
    }
}

/// A one-page v3 answer of `rows` for `GET {rest}`.
async fn catalog(server: &MockServer, rest: &str, rows: Value) {
    let count = rows.as_array().map_or(0, Vec::len);
    Mock::given(method("GET"))
        .and(path(support::path(rest)))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": rows,
            "meta": {"pagination": {"total": count, "count": count, "per_page": count,
                                    "current_page": 1, "total_pages": 1}}
        })))
        .mount(server)
        .await;
}

async fn catalog_requests(server: &MockServer, rest: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == support::path(rest))
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_page_of_orders_costs_one_product_and_one_category_lookup_and_later_pages_use_the_cache()
{
    let server = support::server().await;
    orders_page(&server, 1, [1, 2], &[77, 78, 79, 80]).await;
    orders_page(&server, 2, [3, 4], &[77, 80]).await;
    // 77 is in "Tools" (top level) and its child "Saws", listed child first; 78 is in a
    // category the catalog no longer has; 79 is in none; the catalog lacks product 80.
    catalog(
        &server,
        "/v3/catalog/products",
        json!([{"id": 77, "categories": [12, 11]}, {"id": 78, "categories": [99]},
               {"id": 79, "categories": []}]),
    )
    .await;
    catalog(
        &server,
        "/v3/catalog/categories",
        json!([{"id": 11, "parent_id": 0, "name": "Tools"},
               {"id": 12, "parent_id": 11, "name": "Saws"}]),
    )
    .await;
    let bc = support::connector(&server);

    let first = bc
        .list_orders(&ListRequest::all().with_limit(2))
        .await
        .unwrap();
    let categories = |o: &cartograph_model::Order| -> Vec<Vec<String>> {
        o.line_items.iter().map(|l| l.categories.clone()).collect()
    };
    for o in &first.items {
        assert_eq!(
            categories(o),
            [vec!["Tools", "Saws"], vec!["99"], vec![], vec![]],
            "{}",
            o.source
        );
    }
    let products = catalog_requests(&server, "/v3/catalog/products").await;
    assert_eq!(products.len(), 1, "{products:?}");
    assert!(
        products[0].contains("id%3Ain=77%2C78%2C79%2C80")
            || products[0].contains("id:in=77,78,79,80"),
        "{products:?}"
    );

    let categories_asked = catalog_requests(&server, "/v3/catalog/categories").await;
    assert_eq!(categories_asked.len(), 1, "{categories_asked:?}");
    assert!(
        categories_asked[0].contains("id%3Ain=11%2C12%2C99")
            || categories_asked[0].contains("id:in=11,12,99"),
        "{categories_asked:?}"
    );

    // The next page names only products asked before (80 too, which the catalog lacks): no
    // catalog request at all.
    let second = bc
        .list_orders(&ListRequest::all().with_limit(2).at(first.next.clone()))
        .await
        .unwrap();
    for o in &second.items {
        assert_eq!(categories(o), [vec!["Tools", "Saws"], vec![]]);
    }
    assert_eq!(
        catalog_requests(&server, "/v3/catalog/products")
            .await
            .len(),
        1
    );
    assert_eq!(
        catalog_requests(&server, "/v3/catalog/categories")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_failed_catalog_lookup_fails_the_page_rather_than_dropping_categories() {
    let server = support::server().await;
    orders_page(&server, 1, [1, 2], &[77]).await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/catalog/products")))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "status": 403, "title": "You don't have a required scope to access the endpoint"
        })))
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let err = bc
        .list_orders(&ListRequest::all().with_limit(2))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        cartograph_connector::ErrorKind::Forbidden,
        "{err}"
    );
}

#[tokio::test]
async fn a_carts_lines_get_their_categories_too() {
    const CART: &str = "a1b2c3d4-0000-4000-8000-000000000002";
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path(&format!("/v3/carts/{CART}"))))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": CART, "customer_id": 7, "email": "shopper@example.com",
            "currency": {"code": "USD"}, "cart_amount": 10,
            "line_items": {"physical_items": [
                {"id": "i1", "product_id": 77, "name": "Saw", "quantity": 1,
                 "list_price": 10, "sale_price": 10, "extended_sale_price": 10}
            ]}
        }, "meta": {}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(support::path(&format!(
            "/v3/carts/{CART}/redirect_urls"
        ))))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {
            "cart_url": "https://shop.example/cart", "checkout_url": "https://shop.example/co"
        }, "meta": {}})))
        .mount(&server)
        .await;
    catalog(
        &server,
        "/v3/catalog/products",
        json!([{"id": 77, "categories": [11]}]),
    )
    .await;
    catalog(
        &server,
        "/v3/catalog/categories",
        json!([{"id": 11, "parent_id": 0, "name": "Tools"}]),
    )
    .await;
    let cart = support::connector(&server)
        .get_cart(CART)
        .await
        .unwrap()
        .expect("the cart exists");
    assert_eq!(cart.items[0].categories, ["Tools"]);
}

#[tokio::test]
async fn products_read_by_the_product_stream_need_no_lookup_for_their_lines() {
    let server = support::server().await;
    orders_page(&server, 1, [1, 2], &[77]).await;
    // The product listing says 77 is in category 11; the catalog lookup must not be asked.
    Mock::given(method("GET"))
        .and(path(support::path("/v3/catalog/products")))
        .and(query_param("include", "variants,images"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": 77, "name": "Saw", "price": 9.99, "categories": [11],
                      "inventory_tracking": "none", "availability": "available", "is_visible": true}],
            "meta": {"pagination": {"total": 1, "count": 1, "per_page": 50, "current_page": 1, "total_pages": 1}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    catalog(
        &server,
        "/v3/catalog/categories",
        json!([{"id": 11, "parent_id": 0, "name": "Tools"}]),
    )
    .await;
    let bc = support::connector(&server);
    bc.list_products(&ListRequest::all()).await.unwrap();
    let page = bc
        .list_orders(&ListRequest::all().with_limit(2))
        .await
        .unwrap();
    assert_eq!(page.items[0].line_items[0].categories, ["Tools"]);
    let lookups: Vec<String> = catalog_requests(&server, "/v3/catalog/products")
        .await
        .into_iter()
        .filter(|q| q.contains("include_fields"))
        .collect();
    assert!(lookups.is_empty(), "{lookups:?}");
}
