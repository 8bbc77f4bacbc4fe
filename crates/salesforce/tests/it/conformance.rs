//! The testkit `CrmSink` suite against the simulator.

use cartograph_model::{Decimal, PropertyValue};
use cartograph_salesforce::Salesforce;
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use cartograph_sim::CrmSimulator as _;
use cartograph_testkit::conformance::crm_sink;
use cartograph_testkit::fixtures::CrmFixture;

#[tokio::test]
async fn salesforce_passes_the_crm_sink_suite() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    let campaign = sim.create_enrollment_target("conformance").unwrap();
    let mut property = CrmFixture::default().property;
    property.name = "Conformance_Score__c".into();
    let fx = CrmFixture {
        contact_property: "LastName".into(),
        unknown_property: "Cartograph_No_Such_Field__c".into(),
        order_properties: [
            ("Name".to_owned(), PropertyValue::String("Order #1".into())),
            (
                "Amount".to_owned(),
                PropertyValue::Number(Decimal::new(1999, 2)),
            ),
            (
                "StageName".to_owned(),
                PropertyValue::String("Closed Won".into()),
            ),
        ]
        .into(),
        line_item_properties: [
            (
                "Description".to_owned(),
                PropertyValue::String("Widget".into()),
            ),
            ("Quantity".to_owned(), PropertyValue::Number(2.into())),
            (
                "UnitPrice".to_owned(),
                PropertyValue::Number(Decimal::new(999, 2)),
            ),
        ]
        .into(),
        enrollment_target: campaign,
        property,
        ..CrmFixture::default()
    };
    crm_sink::run_all(&sf, &fx).await;
    assert!(!sim.order_records().is_empty());
    // Line items are written (on the custom-item product), never dropped.
    let lines = sim.records("OpportunityLineItem");
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|l| l.properties["TotalPrice"] == "19.98"));
    assert!(sim.call_clients().iter().all(|c| c == "cartograph"));
}
