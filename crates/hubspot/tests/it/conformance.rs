//! The testkit conformance suites against the simulator.

use cartograph_connector::{WebhookRequest, async_trait};
use cartograph_hubspot::HubSpot;
use cartograph_hubspot::sim::{HubSpotSim, SimConfig};
use cartograph_model::EnrollmentTarget;
use cartograph_testkit::conformance::crm_source::CrmHarness;
use cartograph_testkit::conformance::{crm_sink, crm_source};
use cartograph_testkit::fixtures::CrmFixture;

use crate::support::fast_retry;

struct Harness<'a>(&'a HubSpotSim);

#[async_trait]
impl CrmHarness for Harness<'_> {
    async fn edit_as_user(&self, crm_id: &str, property: &str, value: &str) {
        self.0
            .update_contact_as_user(crm_id, &[(property, value)])
            .await;
    }

    async fn take_webhooks(&self) -> Vec<WebhookRequest> {
        self.0.take_webhook_requests()
    }
}

async fn setup() -> (HubSpotSim, HubSpot, CrmFixture) {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = HubSpot::new(
        sim.connector_config()
            .unwrap()
            .retry(fast_retry())
            .build()
            .unwrap(),
    )
    .unwrap();
    use cartograph_connector::CrmSink as _;
    let ensured = hs
        .ensure_properties(&hs.required_properties())
        .await
        .unwrap();
    assert!(ensured.iter().all(|o| o.is_ok()), "{ensured:?}");
    let list = sim.create_list("conformance", "MANUAL");
    let fx = CrmFixture {
        enrollment_target: EnrollmentTarget::List { id: list },
        ..CrmFixture::default()
    };
    (sim, hs, fx)
}

#[tokio::test]
async fn hubspot_passes_the_crm_sink_suite() {
    let (_sim, hs, fx) = setup().await;
    crm_sink::run_all(&hs, &fx).await;
}

#[tokio::test]
async fn hubspot_passes_the_crm_source_suite() {
    let (sim, hs, fx) = setup().await;
    crm_source::run_all(&hs, &hs, &Harness(&sim), &fx).await;
}
