//! Two-way sync runs to quiescence (issue #19's standing suite), for every CRM with a
//! source (HubSpot and ActiveCampaign; Salesforce parses no webhooks yet, so it has no
//! reverse flow to loop through).
//!
//! A person's change in the CRM (a HubSpot property, an ActiveCampaign list subscription)
//! flows back to the BigCommerce customer through the commerce writer. The store's change
//! comes back as a `store/customer/updated` webhook and flows to the CRM contact, whose
//! echo the CRM delivers (HubSpot) or does not deliver (ActiveCampaign, `api` source). The
//! loop guard must stop it there. The whole exchange is a bounded number of events and
//! requests, and further rounds of webhooks and draining make no request to either side.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use cartograph::activecampaign::sim::{ActiveCampaignSim, SimConfig as AcSimConfig};
use cartograph::bigcommerce::sim::BigCommerceSim;
use cartograph::connector::Stream;
use cartograph::harness::{CommerceSimulator, CrmSimulator, Harness};
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::model::Customer;
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, Store};
use cartograph::testkit::fixtures::Seed;

/// The store group the CRM-side change asks for.
const WHOLESALE: &str = "2";
/// Most events one settled exchange may take: the CRM change and the store's customer
/// update (2 today), and a redelivery or two. One echo per round of a loop would pass this
/// within two rounds.
const MAX_EVENTS: usize = 4;
/// Most requests to both systems one settled exchange may take (4 today).
const MAX_REQUESTS: u64 = 16;

struct Pair {
    _dir: tempfile::TempDir,
    bc: Arc<BigCommerceSim>,
    harness: Harness,
    customer: Customer,
}

impl Pair {
    /// Requests both simulators have answered so far.
    fn requests(&self) -> u64 {
        self.harness.crm.request_count() + self.harness.commerce.request_count()
    }

    /// Drains until three rounds in a row (50 ms apart, for webhooks in flight) find no work
    /// and make no request; returns the events handled and the requests made.
    async fn quiesce(&self, what: &str) -> (usize, u64) {
        let worker = self.harness.pipeline.worker("ping-pong");
        let start = self.requests();
        let (mut handled, mut quiet) = (0, 0);
        for _ in 0..600 {
            let before = self.requests();
            let report = worker.run_until_idle().await.unwrap();
            handled += report.leased;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if report.leased == 0 && self.requests() == before {
                quiet += 1;
                if quiet == 3 {
                    return (handled, self.requests() - start);
                }
            } else {
                quiet = 0;
            }
        }
        panic!("{what}: never quiet after {handled} events: the systems keep bouncing writes");
    }

    async fn group_of_customer(&self) -> Vec<String> {
        self.harness
            .source
            .get_customer(&self.customer.source.id)
            .await
            .unwrap()
            .unwrap()
            .customer_group_ids
    }
}

/// BigCommerce with the standard seed's groups and customers, `crm` on the other side,
/// backfilled and settled; `reverse` sets the engine's reverse recipe.
async fn pair(
    crm: Arc<dyn CrmSimulator>,
    reverse: impl FnOnce(&mut EngineConfig) + Send + 'static,
) -> Pair {
    let bc = Arc::new(BigCommerceSim::start(common::bc_config()).await.unwrap());
    let seed = Seed::builder().numeric_ids(true).build();
    bc.seed_customer_groups(&seed.customer_groups);
    bc.seed_customers(&seed.customers);
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("p.sqlite")).unwrap());
    let harness = Harness::builder(
        Arc::clone(&bc) as Arc<dyn CommerceSimulator>,
        crm,
        store,
        common::rates(),
    )
    .tune(reverse)
    .build()
    .await
    .unwrap();
    harness
        .pipeline
        .backfill(&[Stream::Customers])
        .await
        .unwrap();
    let customer = seed
        .customers
        .iter()
        .find(|c| c.email.is_some() && !c.customer_group_ids.iter().any(|g| g == WHOLESALE))
        .unwrap()
        .clone();
    let pair = Pair {
        _dir: dir,
        bc,
        harness,
        customer,
    };
    // Echoes of the backfill's own writes are dropped at intake; nothing keeps going.
    pair.quiesce("after the backfill").await;
    pair
}

/// The exchange after a CRM-side change: the store customer ends in the wholesale group,
/// within the bounds, with no dead letter; later rounds make no request.
async fn assert_settles_without_a_loop(pair: &Pair, crm: &str) {
    // The CRM pushes its webhook asynchronously: drain until the change has reached the
    // store (the test's own reads of the customer are taken out of the request count),
    // then until nothing moves.
    let start = pair.requests();
    let worker = pair.harness.pipeline.worker("ping-pong");
    let (mut events, mut reads) = (0, 0);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        events += worker.run_until_idle().await.unwrap().leased;
        let before = pair.requests();
        let group = pair.group_of_customer().await;
        reads += pair.requests() - before;
        if group == [WHOLESALE] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "[{crm}] the CRM change did not reach the store customer: groups {group:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (more, _) = pair.quiesce(crm).await;
    events += more;
    let requests = pair.requests() - start - reads;
    // At least the CRM change and the store's update that flowed back to the contact.
    assert!(
        (2..=MAX_EVENTS).contains(&events),
        "[{crm}] the change took {events} events"
    );
    assert!(
        requests <= MAX_REQUESTS,
        "[{crm}] the change took {requests} requests"
    );
    assert_eq!(
        pair.harness.pipeline.dead_letter_count().await.unwrap(),
        0,
        "[{crm}] dead letters"
    );
    let before = pair.requests();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let report = pair
            .harness
            .pipeline
            .worker("later")
            .run_until_idle()
            .await
            .unwrap();
        assert_eq!(report.leased, 0, "[{crm}] work kept arriving: {report:?}");
    }
    assert_eq!(pair.requests(), before, "[{crm}] requests after quiescence");
    println!("ping-pong [{crm}]: {events} events, {requests} requests, then none");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hubspot_property_change_reaches_the_store_and_settles_with_no_echo_writes() {
    let hs = Arc::new(
        HubSpotSim::start(HsSimConfig {
            time_scale: cartograph::sim::TimeScale::new(0.01),
            burst: 10_000,
            ..HsSimConfig::default()
        })
        .await
        .unwrap(),
    );
    hs.define_property(
        "contacts",
        "ecom_customer_group_request",
        "string",
        "text",
        &[],
        false,
    );
    let pair = pair(Arc::clone(&hs) as Arc<dyn CrmSimulator>, |config| {
        config.recipes.reverse.group_property = Some("ecom_customer_group_request".into());
        config
            .recipes
            .reverse
            .groups_by_value
            .insert("wholesale".into(), WHOLESALE.into());
    })
    .await;
    let email = pair.customer.email.as_ref().unwrap().as_str().to_owned();
    let contact = hs.contact_by_email(&email).unwrap();
    hs.update_contact_as_user(&contact.id, &[("ecom_customer_group_request", "wholesale")])
        .await;
    assert_settles_without_a_loop(&pair, "hubspot").await;
    drop(pair.bc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activecampaign_list_subscription_reaches_the_store_and_settles_with_no_echo_writes() {
    let ac = Arc::new(
        ActiveCampaignSim::start(AcSimConfig {
            time_scale: cartograph::sim::TimeScale::new(0.05),
            requests_per_second: 1_000,
            ..AcSimConfig::default()
        })
        .await
        .unwrap(),
    );
    let list = ac.create_list("wholesale");
    let reverse_list = list.clone();
    let pair = pair(Arc::clone(&ac) as Arc<dyn CrmSimulator>, move |config| {
        config
            .recipes
            .reverse
            .groups_by_list
            .insert(reverse_list, WHOLESALE.into());
    })
    .await;
    let email = pair.customer.email.as_ref().unwrap().as_str().to_owned();
    let contact = ac.contact_by_email(&email).unwrap();
    ac.set_list_status_as_user(&list, &contact.id, 1);
    assert_settles_without_a_loop(&pair, "activecampaign").await;
    drop(pair.bc);
}
