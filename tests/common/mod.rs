//! A world for end-to-end tests: the BigCommerce and HubSpot simulators, a SQLite store in a
//! temporary folder, a pipeline over real connectors, and an HTTP intake server both
//! simulators deliver their webhooks to.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph::core::metrics::Rates;
use cartograph::harness::{CommerceSimulator, CrmSimulator, Harness, SeedData};
use cartograph::hubspot::HubSpot;
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::model::{Currency, Decimal};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, Pipeline, Store, WorkerConfig};
use cartograph::testkit::fixtures::Seed;

/// The streams a backfill lists, in dependency order (the harness's list).
#[allow(unused_imports)] // not every test binary that includes this module lists streams
pub use cartograph::harness::BACKFILL_STREAMS as STREAMS;

pub struct World {
    pub dir: tempfile::TempDir,
    pub bc: Arc<BigCommerceSim>,
    pub hs: Arc<HubSpotSim>,
    pub bigcommerce: Arc<BigCommerce>,
    pub hubspot: Arc<HubSpot>,
    pub store: Arc<dyn Store>,
    pub pipeline: Arc<Pipeline>,
    pub intake_url: String,
    pub harness: Harness,
}

pub fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

pub fn bc_config() -> BcSimConfig {
    BcSimConfig {
        abandon_after: Duration::from_secs(3600),
        time_scale: cartograph_sim::TimeScale::new(0.0002),
        ..BcSimConfig::default()
    }
}

/// Starts everything through the pair harness; `tune` adjusts the engine configuration
/// (recipes, thresholds).
pub async fn world(tune: impl FnOnce(&mut EngineConfig, &HubSpotSim)) -> World {
    let bc = Arc::new(BigCommerceSim::start(bc_config()).await.unwrap());
    let hs = Arc::new(
        HubSpotSim::start(HsSimConfig {
            burst: 10_000,
            ..HsSimConfig::default()
        })
        .await
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("e2e.sqlite")).unwrap());
    let bigcommerce = Arc::new(BigCommerce::new(bc.connector_config().build().unwrap()).unwrap());
    let hubspot = Arc::new(HubSpot::new(hs.connector_config().unwrap().build().unwrap()).unwrap());
    let mut config = EngineConfig::for_profile(&cartograph::hubspot::profile(), rates()).unwrap();
    tune(&mut config, &hs);
    let harness = Harness::builder(
        Arc::clone(&bc) as Arc<dyn CommerceSimulator>,
        Arc::clone(&hs) as Arc<dyn CrmSimulator>,
        Arc::clone(&store),
        rates(),
    )
    .engine(config)
    .worker_config(WorkerConfig {
        retry_base: Duration::from_millis(10),
        ..WorkerConfig::default()
    })
    .build()
    .await
    .unwrap();
    World {
        dir,
        bc,
        hs,
        bigcommerce,
        hubspot,
        store,
        pipeline: Arc::clone(&harness.pipeline),
        intake_url: harness.intake_url.clone(),
        harness,
    }
}

/// The standard seed with BigCommerce-shaped (numeric) ids, loaded into the store simulator.
pub fn seed(world: &World) -> Seed {
    load_seed(&world.bc)
}

/// The standard seed with BigCommerce-shaped (numeric) ids, loaded into `bc`.
pub fn load_seed(bc: &BigCommerceSim) -> Seed {
    let seed = Seed::builder().numeric_ids(true).build();
    bc.seed(&SeedData {
        carts: Vec::new(),
        ..seed.to_seed_data()
    });
    seed
}

/// Waits until `check` holds, draining the queue meanwhile (webhooks arrive asynchronously).
/// The budget is generous because CI runs many of these worlds at once on two cores.
pub async fn settle(world: &World, what: &str, mut check: impl FnMut(&World) -> bool) {
    let worker = world.pipeline.worker("test-worker");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        worker.run_until_idle().await.unwrap();
        if check(world) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Waits until `check` holds for a pair harness, draining its queue meanwhile (webhooks
/// arrive asynchronously); panics naming `what` after 60 s.
pub async fn settle_harness(harness: &Harness, what: &str, check: impl Fn(&Harness) -> bool) {
    let worker = harness.pipeline.worker("test-worker");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        worker.run_until_idle().await.unwrap();
        if check(harness) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Drains the queue once (webhooks that already arrived).
pub async fn drain(world: &World) {
    world
        .pipeline
        .worker("drain")
        .run_until_idle()
        .await
        .unwrap();
}

/// Writes to HubSpot contacts so far (batch upserts, creates and updates).
pub fn contact_writes(world: &World) -> usize {
    world
        .hs
        .requests()
        .iter()
        .filter(|(method, path, _)| {
            method != "GET"
                && path.contains("/contacts")
                && !path.ends_with("/batch/read")
                && !path.ends_with("/search")
        })
        .count()
}
pub mod processes;
