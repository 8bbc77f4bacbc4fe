//! Salesforce -> BigCommerce on the simulators: a person in Salesforce changes a Contact,
//! Change Data Capture delivers the change through the relay to the intake, and the store
//! customer moves to the matching customer group; the integration's own Salesforce writes
//! (the backfill, the customer's re-sync after the group change) come back as CDC events
//! flagged as own writes and are dropped, so nothing bounces between the systems.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::BigCommerceSim;
use cartograph::connector::CommerceSource as _;
use cartograph::harness::{CommerceSimulator, CrmSimulator, Harness};
use cartograph::model::Timestamp;
use cartograph::salesforce::cdc::{parse_change_events, to_crm_events};
use cartograph::salesforce::sim::{SalesforceSim, SimConfig};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, Store, WorkerConfig};
use cartograph::testkit::fixtures::Seed;
use serde_json::json;

const GROUP_FIELD: &str = "Ecom_Customer_Group_Request__c";

/// Writes to Salesforce people so far (collections and single-record writes).
fn person_writes(sim: &SalesforceSim) -> usize {
    sim.request_log()
        .iter()
        .filter(|(method, path, body)| {
            method != "GET"
                && (path.contains("/Contact") || path.contains("/Lead") || {
                    path == "composite/sobjects"
                        && body.to_string().contains("\"type\":\"Contact\"")
                })
        })
        .count()
}

/// Intake keys of the CRM events in the simulator's CDC deliveries since the last call,
/// split into (ours, theirs) by `changeOrigin`.
fn delivered_event_keys(sim: &SalesforceSim) -> (Vec<String>, Vec<String>) {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for delivery in sim.take_change_events() {
        let events = parse_change_events(&delivery.body).unwrap();
        for event in to_crm_events(&events, "cartograph", Timestamp::now()) {
            let key = format!("salesforce:{}", event.id.unwrap());
            if event.is_own_write {
                ours.push(key);
            } else {
                theirs.push(key);
            }
        }
    }
    (ours, theirs)
}

async fn drain(harness: &Harness) {
    harness
        .pipeline
        .worker("drain")
        .run_until_idle()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesforce_contact_change_moves_the_store_customer_without_echoes() {
    let bc = Arc::new(BigCommerceSim::start(common::bc_config()).await.unwrap());
    let sf = Arc::new(
        SalesforceSim::start(SimConfig {
            time_scale: cartograph::sim::TimeScale::new(0.01),
            ..SimConfig::default()
        })
        .await
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("sf.sqlite")).unwrap());
    let mut config =
        EngineConfig::for_profile(&cartograph::salesforce::profile(), common::rates()).unwrap();
    config.recipes.reverse.group_property = Some(GROUP_FIELD.into());
    config
        .recipes
        .reverse
        .groups_by_value
        .insert("wholesale".into(), "2".into());
    let harness = Harness::builder(
        Arc::clone(&bc) as Arc<dyn CommerceSimulator>,
        Arc::clone(&sf) as Arc<dyn CrmSimulator>,
        Arc::clone(&store),
        common::rates(),
    )
    .engine(config)
    .worker_config(WorkerConfig {
        retry_base: Duration::from_millis(10),
        ..WorkerConfig::default()
    })
    .build()
    .await
    .unwrap();
    let seed = Seed::builder().numeric_ids(true).build();
    bc.seed_customer_groups(&seed.customer_groups);
    bc.seed_customers(&seed.customers);
    bc.seed_categories(&seed.categories);
    bc.seed_products(&seed.products);
    bc.seed_orders(&seed.orders);
    harness.pipeline.backfill(&common::STREAMS).await.unwrap();
    // The backfill's own writes came back as CDC deliveries; all were accepted and dropped.
    tokio::time::sleep(Duration::from_millis(200)).await;
    drain(&harness).await;
    let deliveries = sf.cdc_deliveries();
    assert!(!deliveries.is_empty(), "the backfill emitted no CDC events");
    assert!(
        deliveries.iter().all(|ok| *ok),
        "a CDC delivery was refused"
    );
    assert_eq!(harness.pipeline.dead_letter_count().await.unwrap(), 0);
    // Every event of those deliveries was an echo of our writes: none was queued.
    let (ours, theirs) = delivered_event_keys(&sf);
    assert!(
        !ours.is_empty() && theirs.is_empty(),
        "{} {theirs:?}",
        ours.len()
    );
    assert!(
        store.processed(&ours).await.unwrap().iter().all(|p| !p),
        "an echo of our own Salesforce write was queued"
    );

    let customer = seed
        .customers
        .iter()
        .find(|c| c.email.is_some() && !c.customer_group_ids.contains(&"2".to_owned()))
        .unwrap();
    let email = customer.email.as_ref().unwrap().as_str().to_owned();
    let contact = sf.contact_by_email(&email).unwrap();
    let writes_before = person_writes(&sf);

    // An admin adds the picklist to Contact; a sales rep marks the Contact as wholesale.
    assert!(!sf.edit_as_user("Contact", &contact.id, &[(GROUP_FIELD, json!("wholesale"))]));
    assert!(sf.add_custom_field("Contact", GROUP_FIELD));
    assert!(sf.edit_as_user("Contact", &contact.id, &[(GROUP_FIELD, json!("wholesale"))]));
    let bigcommerce = BigCommerce::new(bc.connector_config().build().unwrap()).unwrap();
    let mut moved = false;
    for _ in 0..400 {
        drain(&harness).await;
        let c = bigcommerce
            .get_customer(&customer.source.id)
            .await
            .unwrap()
            .unwrap();
        if c.customer_group_ids == ["2"] {
            moved = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        moved,
        "the store customer was not moved to the wholesale group"
    );

    // No echo: at most one re-sync of the customer to Salesforce, and then quiet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&harness).await;
    let after_first = person_writes(&sf);
    assert!(
        after_first <= writes_before + 1,
        "writes before {writes_before}, after {after_first}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    drain(&harness).await;
    assert_eq!(
        person_writes(&sf),
        after_first,
        "writes kept bouncing between the systems"
    );
    // The rep's change was queued and handled; the re-sync's echo was not.
    let (ours, theirs) = delivered_event_keys(&sf);
    assert!(
        store.processed(&theirs).await.unwrap().iter().all(|p| *p),
        "the rep's change was not processed: {theirs:?}"
    );
    assert!(store.processed(&ours).await.unwrap().iter().all(|p| !p));
    // The rep's change is still what Salesforce holds (nothing overwrote it).
    let now = sf.contact_by_email(&email).unwrap();
    assert_eq!(now.properties[GROUP_FIELD], "wholesale");
    assert_eq!(harness.pipeline.dead_letter_count().await.unwrap(), 0);
}
