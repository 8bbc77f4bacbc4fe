use cartograph_bigcommerce::sim::SimConfig;
use cartograph_testkit::conformance::{commerce_source, commerce_writer};

use crate::support;

#[tokio::test]
async fn commerce_source_conformance_against_the_simulator() {
    let (sim, bc) = support::sim(SimConfig {
        quota: 100_000,
        ..SimConfig::default()
    })
    .await;
    let seed = support::seed();
    support::load(&sim, &seed);
    commerce_source::run_all(&bc, &seed).await;
}

#[tokio::test]
async fn commerce_writer_conformance_against_the_simulator() {
    let (_sim, bc) = support::sim(SimConfig {
        quota: 100_000,
        ..SimConfig::default()
    })
    .await;
    commerce_writer::run_all(&bc).await;
}
