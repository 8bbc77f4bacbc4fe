//! Vendor connector instances, as if on separate machines, sharing one account's request
//! budget through PostgreSQL: together they stay within the account's quota, counted at the
//! vendor's simulator, and one instance alone still gets the whole budget.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph_activecampaign::ActiveCampaign;
use cartograph_activecampaign::sim::{ActiveCampaignSim, Exchange, SimConfig};
use cartograph_http::{RateLimit, RequestGate, RetryPolicy};
use cartograph_store_postgres::PgStore;
use common::busiest_window;

/// The account's quota (the simulator's, in real time): 20 requests in any second.
const QUOTA: u32 = 20;
const WINDOW: Duration = Duration::from_secs(1);
/// Instances of the connector ("machines"), each with two concurrent callers.
const INSTANCES: usize = 4;

async fn account() -> ActiveCampaignSim {
    let sim = ActiveCampaignSim::start(SimConfig {
        requests_per_second: QUOTA,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    sim.record_answers();
    sim
}

/// A connector for the simulated account, with its own in-process limiter at the full quota
/// unless `gate` is given; no retries, so every refusal shows.
fn connector(sim: &ActiveCampaignSim, gate: Option<Arc<dyn RequestGate>>) -> ActiveCampaign {
    let config = sim
        .connector_config()
        .unwrap()
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let connector = ActiveCampaign::new(config).unwrap();
    match gate {
        Some(gate) => connector.with_request_gate(gate),
        None => connector,
    }
}

/// Every instance looks contacts up as fast as it may for `run_for`; returns how many
/// calls each had answered.
async fn drive(connectors: Vec<ActiveCampaign>, run_for: Duration) -> Vec<usize> {
    let began = Instant::now();
    let mut instances = Vec::new();
    for connector in connectors {
        let connector = Arc::new(connector);
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let connector = Arc::clone(&connector);
                tokio::spawn(async move {
                    let mut answered = 0;
                    while began.elapsed() < run_for {
                        if connector
                            .client()
                            .find_contact_by_email("ada@example.com")
                            .await
                            .is_ok()
                        {
                            answered += 1;
                        }
                    }
                    answered
                })
            })
            .collect();
        instances.push(callers);
    }
    let mut answered = Vec::new();
    for callers in instances {
        let mut sum = 0;
        for caller in callers {
            sum += caller.await.unwrap();
        }
        answered.push(sum);
    }
    answered
}

/// What the simulator saw.
struct AtTheVendor {
    /// The most requests received in any one window.
    busiest: usize,
    /// Requests refused (429).
    refused: usize,
    /// Requests per second from the first arrival to the last.
    rate: f64,
}

fn at_the_vendor(answers: &[Exchange]) -> AtTheVendor {
    let mut received: Vec<Instant> = answers.iter().map(|a| a.received).collect();
    let refused = answers.iter().filter(|a| a.status == 429).count();
    let busiest = busiest_window(&mut received, WINDOW);
    let span = match (received.first(), received.last()) {
        (Some(first), Some(last)) => last.duration_since(*first).as_secs_f64(),
        _ => 0.0,
    };
    let rate = if span > 0.0 {
        f64::from(u32::try_from(received.len() - 1).unwrap()) / span
    } else {
        0.0
    };
    AtTheVendor {
        busiest,
        refused,
        rate,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_instances_sharing_the_quota_in_postgres_stay_within_the_accounts_quota() {
    let Some(url) = common::server().await else {
        return;
    };
    let limit = RateLimit::new(QUOTA, WINDOW);

    // Without the shared budget: each instance's own limiter allows the whole quota.
    let sim = account().await;
    let own: Vec<ActiveCampaign> = (0..INSTANCES).map(|_| connector(&sim, None)).collect();
    drive(own, Duration::from_secs(2)).await;
    let private = at_the_vendor(&sim.answers());
    assert!(
        private.busiest > QUOTA as usize && private.refused > 0,
        "four private limiters send more than the quota ({} in one window, {} refused)",
        private.busiest,
        private.refused
    );

    // Shared: four machines, each with its own store, one budget per account in PostgreSQL.
    // The margin (time between reservation and arrival) is generous for a loaded CI box.
    let schema = common::fresh_schema("connectors");
    let mut stores = Vec::new();
    for _ in 0..INSTANCES {
        stores.push(
            PgStore::open(&common::config(&url, &schema).with_pool_size(4))
                .await
                .unwrap(),
        );
    }
    let gate = |store: &PgStore, account: &str| -> Arc<dyn RequestGate> {
        Arc::new(
            store
                .quota()
                .with_margin(Duration::from_millis(100))
                .gate(account, limit),
        )
    };
    let sim = account().await;
    let connectors: Vec<ActiveCampaign> = stores
        .iter()
        .map(|store| connector(&sim, Some(gate(store, "activecampaign:acct-1"))))
        .collect();
    let answered = drive(connectors, Duration::from_secs(3)).await;
    let answers = sim.answers();
    let shared = at_the_vendor(&answers);
    assert!(
        shared.busiest <= QUOTA as usize,
        "{} requests in one second at the vendor, quota {QUOTA}",
        shared.busiest
    );
    assert_eq!(shared.refused, 0, "the vendor refused nothing");
    let together: usize = answered.iter().sum();
    assert_eq!(together, answers.len(), "every request was answered");
    // The budget is used: the sustained rate is (QUOTA - 1) / (1 s + margin), 17.3/s...
    assert!(shared.rate >= 15.0, "{:.1} requests/s", shared.rate);
    // ... and shared: no instance is starved.
    for (instance, n) in answered.iter().enumerate() {
        assert!(
            *n * INSTANCES * 2 >= together,
            "instance {instance} got {n} of {together}: {answered:?}"
        );
    }

    // One instance alone (another account, a fresh budget) gets the whole budget: it is not
    // slower than the four together.
    let sim = account().await;
    let alone = connector(&sim, Some(gate(&stores[0], "activecampaign:acct-2")));
    let answered_alone = drive(vec![alone], Duration::from_secs(3)).await[0];
    let single = at_the_vendor(&sim.answers());
    assert!(
        single.busiest <= QUOTA as usize && single.refused == 0,
        "alone: {} in one window, {} refused",
        single.busiest,
        single.refused
    );
    eprintln!(
        "quota {QUOTA}/s shared by {INSTANCES} instances: answered {answered:?} at {:.1}/s; \
         one instance alone: {answered_alone} at {:.1}/s",
        shared.rate, single.rate
    );
    assert!(
        single.rate >= shared.rate * 0.9,
        "alone {:.1}/s, four together {:.1}/s",
        single.rate,
        shared.rate
    );

    drop(stores);
    common::drop_schemas(&url, &[schema]).await;
}
