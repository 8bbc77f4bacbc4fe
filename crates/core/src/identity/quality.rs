//! Quality on labelled generated data (the targets), and phone agreement on it.

use cartograph_testkit::generate::{GeneratorConfig, RecordOrigin, cluster_quality, generate};

use super::*;
use crate::normalize::{PhoneCache, normalize_phone};

fn resolve_generated(
    seed: u64,
    n: usize,
) -> (Vec<u32>, Resolution, Vec<IdentityRecord>, Vec<RecordOrigin>) {
    let data = generate(&GeneratorConfig::new(seed, n));
    let records: Vec<IdentityRecord> = data
        .records
        .iter()
        .map(|r| IdentityRecord::from(&r.customer))
        .collect();
    let origins = data.records.iter().map(|r| r.origin).collect();
    let res = resolve_batch(&records, &RuleSet::default());
    (data.labels(), res, records, origins)
}

#[test]
fn generated_data_meets_precision_recall_and_wrong_merge_targets() {
    for seed in [1, 2] {
        let (truth, res, recs, origins) = resolve_generated(seed, 30_000);
        let q = cluster_quality(&truth, res.clusters());
        println!("seed {seed}: {q:?}\n{:?}", res.stats);
        // recall by duplicate kind: is each duplicate in its person's account cluster?
        let mut account_cluster = std::collections::HashMap::new();
        for (i, o) in origins.iter().enumerate() {
            if *o == RecordOrigin::Account {
                account_cluster.insert(truth[i], res.cluster_of(i));
            }
        }
        let mut per_kind: std::collections::BTreeMap<String, (u32, u32)> =
            std::collections::BTreeMap::new();
        for (i, o) in origins.iter().enumerate() {
            if let RecordOrigin::Duplicate(k) = o {
                let e = per_kind.entry(format!("{k:?}")).or_default();
                e.1 += 1;
                if account_cluster.get(&truth[i]) == Some(&res.cluster_of(i)) {
                    e.0 += 1;
                }
            }
        }
        println!("found/total by kind: {per_kind:?}");
        let mut wrong: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
        for e in &res.edges {
            if truth[e.a] != truth[e.b] {
                *wrong.entry(e.rule.as_str()).or_default() += 1;
                if std::env::var_os("SHOW_WRONG").is_some() {
                    println!("{} {:?} | {:?}", e.rule, recs[e.a], recs[e.b]);
                }
            }
        }
        println!("wrong merges by rule: {wrong:?}");
        assert!(q.precision >= 0.99, "precision {}", q.precision);
        assert!(q.recall >= 0.95, "recall {}", q.recall);
        assert!(
            q.wrong_merge_rate <= 0.005,
            "wrong merge rate {}",
            q.wrong_merge_rate
        );
    }
}

#[test]
fn cached_phone_parsing_agrees_with_direct_parsing_on_generated_data() {
    let data = generate(&GeneratorConfig::new(3, 5_000));
    let mut cache = PhoneCache::new();
    let mut checked = 0;
    for r in &data.records {
        let rec = IdentityRecord::from(&r.customer);
        let Some(phone) = rec.phone.as_deref() else {
            continue;
        };
        let region = rec
            .country
            .as_deref()
            .and_then(crate::normalize::country_code);
        let direct = normalize_phone(phone, region.as_deref());
        assert_eq!(cache.normalize(phone, region.as_deref()), direct, "{phone}");
        // and the generator's ground truth E.164 is what libphonenumber gives
        // (a national number on a record without a country has no region: NoRegion)
        if region.is_none() && !phone.starts_with('+') {
            assert_eq!(direct, Err(crate::normalize::PhoneError::NoRegion));
            continue;
        }
        let truth = data.person(r.person).phone.as_ref().map(|p| p.e164.clone());
        assert_eq!(direct.map(|p| p.e164).ok(), truth, "{phone} ({region:?})");
        checked += 1;
    }
    assert!(checked > 2_000);
}
