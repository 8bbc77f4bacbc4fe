//! The engine resolves identity with a trained match model when its config carries one
//! (`EngineConfig::identity_model`): a backfill of labelled customers links the duplicates
//! the rules miss (no shared email, phone or external id), without merging people apart.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cartograph_connector::{CommerceSource, CrmSink, Stream};
use cartograph_core::identity::{IdentityRecord, MatchModel, ModelConfig};
use cartograph_core::metrics::Rates;
use cartograph_model::Currency;
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{EngineConfig, Pipeline, Store};
use cartograph_testkit::generate::{
    ClusterQuality, Dataset, GeneratorConfig, cluster_quality, generate,
};
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};

const CUSTOMERS: usize = 1_500;

/// Backfills the generated customers and scores the store's person links against the
/// generator's labels.
async fn backfill_quality(model: Option<MatchModel>) -> ClusterQuality {
    let (data, kept) = shop_customers();
    let shop = MemoryCommerce::new();
    for r in &kept {
        shop.insert_customer(data.records[*r].customer.clone())
            .unwrap();
    }
    let crm = MemoryCrm::new();
    let mut config =
        EngineConfig::for_profile(&cartograph_hubspot::profile(), Rates::new(Currency::USD))
            .unwrap();
    config.identity_model = model;
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        crm.define_property(p.definition.clone());
    }
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("m.sqlite")).unwrap());
    let pipeline = Pipeline::builder()
        .source(Arc::new(shop.clone()) as Arc<dyn CommerceSource>)
        .writer(Arc::new(shop.clone()))
        .sink(Arc::new(crm) as Arc<dyn CrmSink>)
        .store(Arc::clone(&store))
        .engine(config)
        .build()
        .await
        .unwrap();
    let report = pipeline.backfill(&[Stream::Customers]).await.unwrap();
    assert_eq!(report.handled, kept.len() as u64, "{report:?}");

    let mut person_of: HashMap<String, String> = HashMap::new();
    for link in store.load_links().await.unwrap() {
        // `customer/7`, or `order/7` / `contact/7` for the generator's guest and CRM-side
        // records (its ids are unique across kinds)
        if let Some((_, id)) = link.external_id.split_once('/') {
            person_of.insert(id.to_owned(), link.person);
        }
    }
    let mut cluster: HashMap<String, u32> = HashMap::new();
    let predicted: Vec<u32> = kept
        .iter()
        .map(|&i| &data.records[i])
        .map(|r| {
            let person = person_of
                .get(&r.customer.source.id)
                .unwrap_or_else(|| panic!("customer {} has no person link", r.customer.source.id))
                .clone();
            let next = u32::try_from(cluster.len()).unwrap();
            *cluster.entry(person).or_insert(next)
        })
        .collect();
    let truth: Vec<u32> = kept.iter().map(|&i| data.records[i].person).collect();
    cluster_quality(&truth, &predicted)
}

/// Generated customers a shop can hold: one account per email (the shop refuses a second),
/// so the duplicates left are the ones with another email or none, which rules keyed on the
/// email cannot see.
fn shop_customers() -> (Dataset, Vec<usize>) {
    let data = generate(&GeneratorConfig::new(11, CUSTOMERS));
    let mut seen = HashSet::new();
    let kept = (0..data.records.len())
        .filter(|&i| {
            data.records[i]
                .customer
                .email
                .as_ref()
                .is_none_or(|e| seen.insert(e.normalized().to_owned()))
        })
        .collect();
    (data, kept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trained_model_links_duplicates_the_rules_miss() {
    let (data, kept) = shop_customers();
    let records: Vec<IdentityRecord> = kept
        .iter()
        .map(|&i| IdentityRecord::from(&data.records[i].customer))
        .collect();
    let model = MatchModel::train(&records, &ModelConfig::default());

    let rules = backfill_quality(None).await;
    let scored = backfill_quality(Some(model)).await;
    println!("rules {rules:?}\nmodel {scored:?}");
    assert!(
        scored.recall > rules.recall && scored.recall >= 0.9,
        "the model finds duplicates the rules miss: recall {} (rules {})",
        scored.recall,
        rules.recall
    );
    assert!(
        scored.precision >= 0.95 && scored.wrongly_merged_clusters <= 2,
        "and merges few people apart: precision {} (rules {})",
        scored.precision,
        rules.precision
    );
}
