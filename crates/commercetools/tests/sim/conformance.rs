use cartograph_commercetools::sim::SimConfig;
use cartograph_testkit::conformance::{commerce_source, commerce_writer};

use crate::support;

#[tokio::test]
async fn commerce_source_conformance_against_the_simulator() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = support::seed();
    support::load(&sim, &seed);
    commerce_source::run_all(&ct, &seed).await;
}

#[tokio::test]
async fn commerce_writer_conformance_against_the_simulator() {
    let (_sim, ct) = support::sim(SimConfig::default()).await;
    commerce_writer::run_all(&ct).await;
}
