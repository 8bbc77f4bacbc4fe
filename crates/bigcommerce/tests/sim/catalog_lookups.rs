//! The simulator answers the catalog lookups behind line categories as the API does:
//! `id:in` filters products and categories, `include_fields` returns `id` and the named
//! fields only.

use cartograph_bigcommerce::sim::SimConfig;

use crate::support::{load, seed, sim};

#[tokio::test]
async fn id_in_lookups_return_the_asked_records_with_only_the_included_fields() {
    let (sim, bc) = sim(SimConfig::default()).await;
    let seed = seed();
    load(&sim, &seed);
    let product = &seed.products[0];
    let id: u64 = product.source.id.parse().unwrap();
    let expected: Vec<u64> = product
        .category_ids
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    assert!(
        !expected.is_empty(),
        "the seed's first product has a category"
    );

    // 4_000_000 is no product: it is left out, not an error.
    let found = bc
        .client()
        .product_categories(&[id, 4_000_000])
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, id);
    assert_eq!(found[0].categories, expected);

    let categories = bc.client().categories_by_id(&expected).await.unwrap();
    let names: Vec<&str> = categories.iter().map(|c| c.name.as_str()).collect();
    let seeded: Vec<&str> = seed
        .categories
        .iter()
        .filter(|c| product.category_ids.contains(&c.source.id))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, seeded);
    assert!(
        categories.iter().all(|c| !c.is_visible),
        "is_visible was not asked for"
    );

    // The raw answer carries `id` and the named field only.
    sim.record_answers();
    bc.client().product_categories(&[id]).await.unwrap();
    let answer = sim
        .answers()
        .into_iter()
        .find(|a| a.path.ends_with("/v3/catalog/products"))
        .unwrap();
    let row = &answer.json().unwrap()["data"][0];
    let mut keys: Vec<&str> = row
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["categories", "id"], "{row}");
}
