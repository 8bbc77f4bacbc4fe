//! Order lines linked to the catalog, BigCommerce to HubSpot: a backfilled line item carries
//! the HubSpot id of its synced product (`hs_product_id`), and a buyer's contact gets its top
//! category from the catalog categories of the products bought, read with one batched
//! catalog lookup per page of orders (not one per line).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::{STREAMS, seed, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfilled_line_items_point_at_their_synced_products() {
    let w = world(|_, _| {}).await;
    let seed = seed(&w);
    let report = w.pipeline.backfill(&STREAMS).await.unwrap();
    assert_eq!(report.dead_lettered, 0, "{report:?}");

    // HubSpot product id by store product id (the product key is `bigcommerce/product/{id}`).
    let products: BTreeMap<String, String> =
        w.hs.records("products")
            .into_iter()
            .filter_map(|p| {
                let key = p.properties.get("cartograph_product_id")?;
                let id = key.strip_prefix("bigcommerce/product/")?.to_owned();
                Some((id, p.id))
            })
            .collect();
    assert_eq!(products.len(), seed.products.len(), "{products:?}");
    // Each line item sold a seed product, recognised by its SKU.
    let by_sku: BTreeMap<&str, &str> = seed
        .products
        .iter()
        .filter_map(|p| Some((p.sku.as_deref()?, p.source.id.as_str())))
        .collect();
    let lines = w.hs.records("line_items");
    let mut checked = 0;
    for line in &lines {
        let Some(product) = line
            .properties
            .get("hs_sku")
            .and_then(|s| by_sku.get(s.as_str()))
        else {
            continue;
        };
        assert_eq!(
            line.properties.get("hs_product_id"),
            products.get(*product),
            "line item of product {product}: {:?}",
            line.properties
        );
        checked += 1;
    }
    assert!(checked > 0, "no line item sold a seed product: {lines:?}");
}
