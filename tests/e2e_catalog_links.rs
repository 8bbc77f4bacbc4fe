//! Order lines linked to the catalog, BigCommerce to HubSpot: a backfilled line item carries
//! the HubSpot id of its synced product (`hs_product_id`), and a buyer's contact gets its top
//! category from the catalog categories of the products bought, read with one batched
//! catalog lookup per page of orders (not one per line).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use cartograph::bigcommerce::sim::BigCommerceSim;
use cartograph::harness::{CommerceSimulator, CrmSimulator, Harness};
use cartograph::hubspot::sim::HubSpotSim;
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{ListConfig, Store};
use common::{STREAMS, bc_config, load_seed, rates, seed, world};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bigcommerce_backfill_gives_the_buyer_a_top_category_with_one_lookup_per_page() {
    // Small listing pages, so that orders span several pages.
    let bc = Arc::new(BigCommerceSim::start(bc_config()).await.unwrap());
    let hs = Arc::new(
        HubSpotSim::start(cartograph::hubspot::sim::SimConfig::default())
            .await
            .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("e2e.sqlite")).unwrap());
    let harness = Harness::builder(
        Arc::clone(&bc) as Arc<dyn CommerceSimulator>,
        Arc::clone(&hs) as Arc<dyn CrmSimulator>,
        store,
        rates(),
    )
    .list_config(ListConfig {
        page_size: 5,
        ..ListConfig::default()
    })
    .build()
    .await
    .unwrap();
    let seed = load_seed(&bc);
    bc.record_answers();
    let report = harness.pipeline.backfill(&STREAMS).await.unwrap();
    assert_eq!(report.dead_lettered, 0, "{report:?}");

    // The buyer of a paid order of a categorised product has that category among its top
    // categories (names, as the catalog spells them).
    let names: BTreeMap<&str, &str> = seed
        .categories
        .iter()
        .map(|c| (c.source.id.as_str(), c.name.as_str()))
        .collect();
    let categories_of = |product: &str| -> BTreeSet<&str> {
        seed.products
            .iter()
            .filter(|p| p.source.id == product)
            .flat_map(|p| {
                p.category_ids
                    .iter()
                    .filter_map(|c| names.get(c.as_str()).copied())
            })
            .collect()
    };
    let (buyer, bought) = seed
        .orders
        .iter()
        .filter(|o| o.is_revenue() && o.email.is_some())
        .find_map(|o| {
            let cats: BTreeSet<&str> = o
                .line_items
                .iter()
                .filter_map(|l| l.product_id.as_deref())
                .flat_map(categories_of)
                .collect();
            (!cats.is_empty()).then_some((o, cats))
        })
        .expect("a paid order of a categorised product");
    let contact = hs
        .contact_by_email(buyer.email.as_ref().unwrap().as_str())
        .unwrap();
    let top = contact
        .properties
        .get("ecom_top_categories")
        .cloned()
        .unwrap_or_default();
    assert!(
        top.split("; ").any(|c| bought.contains(c)),
        "top categories {top:?}, bought {bought:?}"
    );

    // Requests: at most one lookup of products and one of category names per page of
    // orders, however many lines (the product stream, read first, already gave the products'
    // category ids).
    let answers = bc.answers();
    let order_pages = answers
        .iter()
        .filter(|a| a.path.ends_with("/v2/orders") && a.status == 200)
        .count();
    let lookups = |path: &str| {
        answers
            .iter()
            .filter(|a| {
                a.path.ends_with(path)
                    && a.query
                        .as_deref()
                        .is_some_and(|q| q.contains("id%3Ain=") || q.contains("id:in="))
            })
            .count()
    };
    let products = lookups("/v3/catalog/products");
    let categories = lookups("/v3/catalog/categories");
    let lines: usize = seed.orders.iter().map(|o| o.line_items.len()).sum();
    eprintln!(
        "{products} product and {categories} category lookups for {order_pages} order pages ({lines} lines)"
    );
    assert!(order_pages > 1, "{order_pages} order pages");
    assert!(
        products <= order_pages && (1..=order_pages).contains(&categories),
        "{products} product and {categories} category lookups for {order_pages} order pages"
    );
}
