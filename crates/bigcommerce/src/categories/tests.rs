use std::collections::HashMap;

use super::*;

fn info(entries: &[(u64, Option<&str>, u64)]) -> HashMap<u64, CategoryInfo> {
    entries
        .iter()
        .map(|(id, name, parent)| {
            (
                *id,
                CategoryInfo {
                    name: name.map(str::to_owned),
                    parent: *parent,
                },
            )
        })
        .collect()
}

#[test]
fn names_put_the_most_specific_category_last() {
    // Tools > Saws > Hand saws, plus an unrelated "Sale"; listed deepest first.
    let info = info(&[
        (1, Some("Tools"), 0),
        (2, Some("Saws"), 1),
        (3, Some("Hand saws"), 2),
        (9, Some("Sale"), 0),
    ]);
    assert_eq!(
        ordered_names(&[3, 9, 2, 1], &info),
        ["Sale", "Tools", "Saws", "Hand saws"]
    );
    // Ties keep the catalog's order; duplicates count once.
    assert_eq!(ordered_names(&[9, 1, 9], &info), ["Sale", "Tools"]);
}

#[test]
fn unknown_categories_are_named_by_id_and_cycles_end() {
    let info = info(&[(5, None, 0), (6, Some("A"), 7), (7, Some("B"), 6)]);
    assert_eq!(ordered_names(&[5, 42], &info), ["5", "42"]);
    assert_eq!(ordered_names(&[6, 7], &info).len(), 2);
}

#[test]
fn the_caches_are_bounded_oldest_out_first() {
    let mut cache = Bounded::new(2);
    cache.insert(1u64, "a");
    cache.insert(2, "b");
    cache.insert(1, "a2"); // an update is no new entry
    cache.insert(3, "c");
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.get(&1), None);
    assert_eq!(cache.get(&2), Some(&"b"));
    assert_eq!(cache.get(&3), Some(&"c"));
}

#[test]
fn product_ids_are_positive_numbers() {
    assert_eq!(product_id(Some(" 77 ")), Some(77));
    assert_eq!(product_id(Some("0")), None);
    assert_eq!(product_id(Some("abc")), None);
    assert_eq!(product_id(None), None);
}
