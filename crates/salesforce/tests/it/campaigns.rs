//! The daily campaign revenue summary on the simulator: days on Campaigns, exact, re-runs
//! idempotent, failures per row.

use cartograph_connector::{ErrorKind, RecordOutcome, WriteStatus};
use cartograph_model::{CampaignRevenue, Currency, Money};
use cartograph_salesforce::Salesforce;
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use time::macros::date;

const CODE_FIELD: &str = "Coupon_Code__c";

pub(crate) fn row(day: time::Date, code: &str, amount: &str, orders: u32) -> CampaignRevenue {
    CampaignRevenue {
        day,
        code: code.into(),
        revenue: Money::parse(amount, Currency::USD).unwrap(),
        orders,
    }
}

fn field(sim: &SalesforceSim, id: &str, name: &str) -> Option<String> {
    sim.records("Campaign")
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
        .properties
        .get(name)
        .cloned()
}

fn kinds(out: &[RecordOutcome]) -> Vec<String> {
    out.iter()
        .map(|o| match &o.status {
            WriteStatus::Failed(e) => format!("{:?}", e.kind()),
            other => format!("{other:?}"),
        })
        .collect()
}

async fn start() -> (SalesforceSim, Salesforce) {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    sim.install_campaign_revenue_fields(CODE_FIELD);
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    (sim, sf)
}

#[tokio::test]
async fn days_land_on_their_campaign_exactly_and_reruns_add_nothing() {
    let (sim, sf) = start().await;
    let winter = sim.create_coupon_campaign("Winter sale", CODE_FIELD, "winter10");
    let spring = sim.create_coupon_campaign("Spring", CODE_FIELD, "SPRING");
    let rows = [
        row(date!(2026 - 12 - 02), "WINTER10", "5.00", 1),
        row(date!(2026 - 12 - 01), "WINTER10", "10.10", 2),
        row(date!(2026 - 12 - 01), "SPRING", "0.20", 1),
        row(date!(2026 - 12 - 01), "NOPE", "1.00", 1),
    ];
    let out = sf.write_campaign_revenue(&rows).await.unwrap();
    assert_eq!(kinds(&out), ["Updated", "Updated", "Updated", "NotFound"]);
    assert_eq!(out[0].key, "WINTER10/2026-12-02/USD");
    assert_eq!(out[0].id.as_deref(), Some(winter.as_str()));
    assert_eq!(
        field(&sim, &winter, "Ecom_Daily_Revenue__c").as_deref(),
        Some("2026-12-01 USD 10.10 2\n2026-12-02 USD 5.00 1")
    );
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Total__c").as_deref(),
        Some("15.10")
    );
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Orders__c").as_deref(),
        Some("3")
    );
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Currency__c").as_deref(),
        Some("USD")
    );
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Last_Day__c").as_deref(),
        Some("2026-12-02")
    );
    assert_eq!(
        field(&sim, &spring, "Ecom_Revenue_Total__c").as_deref(),
        Some("0.20")
    );

    // The same days again: nothing written, nothing added.
    let writes = sim.request_log().len();
    let out = sf.write_campaign_revenue(&rows[..3]).await.unwrap();
    assert_eq!(kinds(&out), ["Unchanged", "Unchanged", "Unchanged"]);
    assert_eq!(sim.request_log().len(), writes, "a re-run sends no update");
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Total__c").as_deref(),
        Some("15.10")
    );

    // A day re-aggregated later (a late order) replaces that day, never adds to it.
    let out = sf
        .write_campaign_revenue(&[row(date!(2026 - 12 - 01), "WINTER10", "12.35", 3)])
        .await
        .unwrap();
    assert_eq!(kinds(&out), ["Updated"]);
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Total__c").as_deref(),
        Some("17.35")
    );
    assert_eq!(
        field(&sim, &winter, "Ecom_Revenue_Orders__c").as_deref(),
        Some("4")
    );
}

#[tokio::test]
async fn another_currency_and_ambiguous_codes_fail_per_row() {
    let (sim, sf) = start().await;
    let usd = sim.create_coupon_campaign("USD sale", CODE_FIELD, "USD1");
    sim.create_coupon_campaign("Twin A", CODE_FIELD, "TWIN");
    sim.create_coupon_campaign("Twin B", CODE_FIELD, "twin");
    sf.write_campaign_revenue(&[row(date!(2026 - 12 - 01), "USD1", "1.00", 1)])
        .await
        .unwrap();
    let mut eur = row(date!(2026 - 12 - 02), "USD1", "0", 1);
    eur.revenue = Money::parse("2.00", Currency::EUR).unwrap();
    let out = sf
        .write_campaign_revenue(&[
            eur,
            row(date!(2026 - 12 - 02), "TWIN", "1.00", 1),
            row(date!(2026 - 12 - 02), "USD1", "3.00", 1),
        ])
        .await
        .unwrap();
    assert_eq!(kinds(&out), ["Conflict", "Conflict", "Updated"]);
    // Only the USD day joined the Campaign: currencies are never added up.
    assert_eq!(
        field(&sim, &usd, "Ecom_Revenue_Total__c").as_deref(),
        Some("4.00")
    );
    let WriteStatus::Failed(e) = &out[1].status else {
        panic!("{:?}", out[1])
    };
    assert_eq!(e.record(), Some("TWIN/2026-12-02/USD"));
    assert_eq!(e.field(), Some(CODE_FIELD));
}

#[tokio::test]
async fn unreadable_day_lines_are_never_overwritten() {
    let (sim, sf) = start().await;
    // A rep typed into the day lines.
    let mut fields = serde_json::Map::new();
    fields.insert(
        "Ecom_Daily_Revenue__c".into(),
        "2026-12-01 USD lots 1".into(),
    );
    fields.insert("Name".into(), "Edited".into());
    fields.insert(CODE_FIELD.into(), "EDITED".into());
    let id = sim.create_as_user("Campaign", fields);
    let out = sf
        .write_campaign_revenue(&[row(date!(2026 - 12 - 02), "EDITED", "1.00", 1)])
        .await
        .unwrap();
    let WriteStatus::Failed(e) = &out[0].status else {
        panic!("{:?}", out[0])
    };
    assert_eq!(e.kind(), ErrorKind::Invalid);
    assert_eq!(e.field(), Some("Ecom_Daily_Revenue__c"));
    assert_eq!(
        field(&sim, &id, "Ecom_Daily_Revenue__c").as_deref(),
        Some("2026-12-01 USD lots 1")
    );
}

#[tokio::test]
async fn campaigns_can_be_matched_by_name() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    sim.install_campaign_revenue_fields("Name");
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .campaign_match_field("Name")
            .build()
            .unwrap(),
    )
    .unwrap();
    let id = sim.create_coupon_campaign("BLACKFRIDAY", "Name", "BLACKFRIDAY");
    let out = sf
        .write_campaign_revenue(&[row(date!(2026 - 11 - 27), "BLACKFRIDAY", "99.99", 1)])
        .await
        .unwrap();
    assert_eq!(kinds(&out), ["Updated"]);
    assert_eq!(
        field(&sim, &id, "Ecom_Revenue_Total__c").as_deref(),
        Some("99.99")
    );
}
