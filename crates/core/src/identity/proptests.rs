//! Property tests: order independence, idempotence, no panic on arbitrary Unicode.

use proptest::prelude::*;

use super::*;
use crate::normalize::{fold_text, normalize_email, normalize_phone};

fn field() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            "Jane", "jane ", "JANE", "Bob", "Robert", "Zoë", "Li", "Smith", "smith"
        ])
        .prop_map(|s| Some(s.to_owned())),
    ]
}

fn record() -> impl Strategy<Value = IdentityRecord> {
    (
        field(),
        field(),
        prop::option::of(prop::sample::select(vec![
            "jane@gmail.com",
            "J.ane@Gmail.com",
            "bob@x.com",
            "smiths@x.com",
            "not-an-email",
        ])),
        prop::option::of(prop::sample::select(vec![
            "+14155550132",
            "(415) 555-0132",
            "+4915123456789",
            "0151 23456789",
        ])),
        prop::option::of(prop::sample::select(vec!["94105", "10115"])),
        prop::option::of(prop::sample::select(vec![
            "1 Main St",
            "1 Main Street",
            "Hauptstraße 1",
        ])),
    )
        .prop_map(|(first, last, email, phone, postcode, line)| {
            let mut r = IdentityRecord::new(String::new());
            r.first_name = first;
            r.last_name = last;
            r.email = email.map(str::to_owned);
            r.phone = phone.map(str::to_owned);
            r.postcode = postcode.map(str::to_owned);
            r.address1 = line.map(str::to_owned);
            r.country = Some(
                if r.postcode.as_deref() == Some("10115") {
                    "DE"
                } else {
                    "US"
                }
                .to_owned(),
            );
            r
        })
}

fn records() -> impl Strategy<Value = Vec<IdentityRecord>> {
    prop::collection::vec(record(), 0..40).prop_map(|mut v| {
        for (i, r) in v.iter_mut().enumerate() {
            r.id = format!("r{i:02}");
        }
        v
    })
}

/// record id -> representative id
fn partition(
    records: &[IdentityRecord],
    res: &Resolution,
) -> std::collections::BTreeMap<String, String> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                r.id.clone(),
                records[res.representative(res.cluster_of(i))].id.clone(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batch_result_does_not_depend_on_input_order(recs in records(), seed in any::<u64>()) {
        let rules = RuleSet::default();
        let a = resolve_batch(&recs, &rules);
        let mut shuffled = recs.clone();
        // deterministic permutation from the seed
        let n = shuffled.len();
        for i in (1..n).rev() {
            #[allow(clippy::cast_possible_truncation)]
            let j = (seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let b = resolve_batch(&shuffled, &rules);
        prop_assert_eq!(partition(&recs, &a), partition(&shuffled, &b));
    }

    #[test]
    fn resolving_twice_changes_nothing(recs in records()) {
        let rules = RuleSet::default();
        let first = resolve_batch(&recs, &rules);
        let second = resolve_batch(&recs, &rules);
        prop_assert_eq!(first.clusters(), second.clusters());
        // incremental: a second pass over a rebuilt index moves nobody
        let mut index = IdentityIndex::new(rules.clone());
        for r in &recs {
            index.resolve_and_insert(r);
        }
        let links = index.links();
        let mut again = IdentityIndex::from_links(rules, links.clone());
        for r in &recs {
            again.resolve_and_insert(r);
        }
        // every decided record keeps its person; only records left Ambiguous may now be
        // decided (later records added evidence)
        let after = again.links();
        for link in &links {
            prop_assert!(after.contains(link), "{:?} changed", link);
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(
        s in "\\PC{0,40}",
        t in any::<String>(),
        region in prop::option::of("[A-Za-z]{0,3}"),
    ) {
        let _ = normalize_email(&s);
        let _ = normalize_email(&t);
        let _ = normalize_phone(&s, region.as_deref());
        let _ = normalize_phone(&t, Some("US"));
        let _ = fold_text(&t);
        let mut r = IdentityRecord::new(s.clone());
        r.email = Some(t.clone());
        r.phone = Some(s.clone());
        r.first_name = Some(t.clone());
        r.last_name = Some(s.clone());
        r.address1 = Some(t.clone());
        r.postcode = Some(s.clone());
        r.country = region.clone();
        r.birth_date = Some(t.clone());
        let copy = IdentityRecord { id: format!("{s}2"), ..r.clone() };
        let res = resolve_batch(&[r.clone(), copy], &RuleSet::default());
        prop_assert!(res.cluster_count() >= 1);
        let mut index = IdentityIndex::new(RuleSet::default());
        index.resolve_and_insert(&r);
        let _ = index.resolve(&r);
    }
}
