use std::collections::HashMap;
use std::time::Duration;

use cartograph_bigcommerce::BigCommerce;
use cartograph_bigcommerce::sim::{BigCommerceSim, SimConfig};
use cartograph_model::RecordKind;
use cartograph_sim::WebhookReceiver;
use cartograph_testkit::fixtures::Seed;

pub(crate) async fn sim(config: SimConfig) -> (BigCommerceSim, BigCommerce) {
    let sim = BigCommerceSim::start(config).await.unwrap();
    let bc = BigCommerce::new(sim.connector_config().build().unwrap()).unwrap();
    (sim, bc)
}

/// The standard testkit seed with BigCommerce-shaped ids (integers; UUIDs for carts;
/// refund ids ascending with their creation time, as the real API assigns them).
pub(crate) fn seed() -> Seed {
    let base = Seed::builder().system("bigcommerce").build();
    let mut refunds: Vec<_> = base
        .refunds
        .iter()
        .map(|r| (r.created_at, r.source.id.clone()))
        .collect();
    refunds.sort();
    let refund_rank: HashMap<String, u64> = refunds
        .into_iter()
        .enumerate()
        .map(|(i, (_, id))| (id, 900 + i as u64))
        .collect();
    let mut next = 100u64;
    base.map_ids(|kind, id| match kind {
        RecordKind::Cart => {
            next += 1;
            format!("0c0a7000-0000-4000-8000-{next:012}")
        }
        RecordKind::Refund => refund_rank[id].to_string(),
        _ => {
            next += 1;
            next.to_string()
        }
    })
}

/// Loads a seed into the simulator.
pub(crate) fn load(sim: &BigCommerceSim, seed: &Seed) {
    seed.load_into(sim);
}

/// How long a test waits for a webhook delivery.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// A local receiver of webhook deliveries answering `status`.
pub(crate) async fn receiver(status: u16) -> WebhookReceiver {
    WebhookReceiver::start("/hooks/bigcommerce", status)
        .await
        .unwrap()
}
