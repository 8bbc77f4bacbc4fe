//! The testkit conformance suites against the simulator.

use cartograph_activecampaign::ActiveCampaign;
use cartograph_activecampaign::sim::{ActiveCampaignSim, SimConfig};
use cartograph_connector::{WebhookRequest, async_trait};
use cartograph_model::{EnrollmentTarget, PropertyValue};
use cartograph_testkit::conformance::crm_source::CrmHarness;
use cartograph_testkit::conformance::{crm_sink, crm_source};
use cartograph_testkit::fixtures::CrmFixture;
use rust_decimal::Decimal;

struct Harness<'a>(&'a ActiveCampaignSim);

#[async_trait]
impl CrmHarness for Harness<'_> {
    async fn edit_as_user(&self, crm_id: &str, property: &str, value: &str) {
        assert!(
            self.0.update_contact_as_user(crm_id, property, value),
            "sim cannot edit {crm_id}"
        );
    }

    async fn take_webhooks(&self) -> Vec<WebhookRequest> {
        self.0.take_webhook_requests()
    }
}

async fn setup() -> (ActiveCampaignSim, ActiveCampaign, CrmFixture) {
    let sim = ActiveCampaignSim::start(SimConfig::fast()).await.unwrap();
    let ac = ActiveCampaign::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    // The secret the connector checks is the URL's last segment.
    ac.register_webhook("https://hooks.example/activecampaign/sim-webhook-secret")
        .await
        .unwrap();
    let automation = sim.create_automation("conformance");
    let fx = CrmFixture {
        contact_property: "firstName".into(),
        order_properties: [
            ("currency".to_owned(), PropertyValue::String("USD".into())),
            (
                "totalPrice".to_owned(),
                PropertyValue::Number(Decimal::new(1000, 0)),
            ),
        ]
        .into(),
        line_item_properties: [
            ("name".to_owned(), PropertyValue::String("Widget".into())),
            (
                "price".to_owned(),
                PropertyValue::Number(Decimal::new(500, 0)),
            ),
            (
                "quantity".to_owned(),
                PropertyValue::Number(Decimal::new(2, 0)),
            ),
        ]
        .into(),
        enrollment_target: EnrollmentTarget::Automation { id: automation },
        ..CrmFixture::default()
    };
    (sim, ac, fx)
}

#[tokio::test]
async fn activecampaign_passes_the_crm_sink_suite() {
    let (_sim, ac, fx) = setup().await;
    crm_sink::run_all(&ac, &fx).await;
}

#[tokio::test]
async fn activecampaign_passes_the_crm_source_suite() {
    let (sim, ac, fx) = setup().await;
    crm_source::run_all(&ac, &ac, &Harness(&sim), &fx).await;
}
