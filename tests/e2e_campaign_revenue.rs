//! BigCommerce + Salesforce, the seed's "daily revenue summary -> Campaigns": orders with
//! coupons read back from the BigCommerce simulator, aggregated per UTC day and code
//! (`cartograph::core::campaign_revenue`), written to the matching Salesforce Campaigns;
//! exact to the cent, and a re-run adds nothing.
#![allow(clippy::unwrap_used)]

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph::connector::{CommerceSource, ListRequest, WriteStatus, drain};
use cartograph::core::campaign_revenue::daily_campaign_revenue;
use cartograph::core::metrics::sample;
use cartograph::model::{Coupon, Currency, Money, Order, OrderStatus, Timestamp};
use cartograph::salesforce::Salesforce;
use cartograph::salesforce::sim::{SalesforceSim, SimConfig};

const CODE_FIELD: &str = "Coupon_Code__c";

fn order(i: usize, at: &str, total: &str, status: OrderStatus, codes: &[&str]) -> Order {
    let mut o = sample::order(&mut sample::Rng::new(7), i, 1);
    let total = Money::parse(total, Currency::USD).unwrap();
    o.status = status;
    o.is_archived = false;
    o.currency = Currency::USD;
    o.subtotal = total;
    o.discount = Money::zero(Currency::USD);
    o.tax = Money::zero(Currency::USD);
    o.shipping = Money::zero(Currency::USD);
    o.total = total;
    o.line_items.clear();
    o.created_at = Timestamp::parse_rfc3339(at).unwrap();
    o.updated_at = Some(o.created_at);
    o.coupons = codes
        .iter()
        .map(|c| Coupon {
            code: (*c).into(),
            amount: None,
        })
        .collect();
    o
}

fn field(sf: &SalesforceSim, id: &str, name: &str) -> String {
    sf.records("Campaign")
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
        .properties
        .get(name)
        .cloned()
        .unwrap_or_default()
}

/// The host's daily job: every order from the store, aggregated, written to Campaigns.
async fn daily_job(store: &BigCommerce, crm: &Salesforce) -> Vec<WriteStatus> {
    let orders = drain(&ListRequest::default(), |r| async move {
        store.list_orders(&r).await
    })
    .await
    .unwrap();
    let report = daily_campaign_revenue(&orders);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    crm.write_campaign_revenue(&report.rows)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupon_revenue_reaches_campaigns_exact_to_the_cent() {
    let bc = BigCommerceSim::start(BcSimConfig::default()).await.unwrap();
    bc.seed_orders(&[
        order(
            1,
            "2026-12-01T10:00:00Z",
            "25.10",
            OrderStatus::AwaitingFulfillment,
            &["winter10"],
        ),
        order(
            2,
            "2026-12-01T23:59:59Z",
            "0.20",
            OrderStatus::Completed,
            &["WINTER10"],
        ),
        order(
            3,
            "2026-12-02T00:00:01Z",
            "19.99",
            OrderStatus::Shipped,
            &["WINTER10", "vip5"],
        ),
        order(
            4,
            "2026-12-02T09:00:00Z",
            "100.00",
            OrderStatus::Cancelled,
            &["WINTER10"],
        ),
        order(
            5,
            "2026-12-02T09:00:00Z",
            "50.00",
            OrderStatus::Completed,
            &[],
        ),
        order(
            6,
            "2026-12-02T12:00:00Z",
            "0.01",
            OrderStatus::Completed,
            &["VIP5"],
        ),
    ]);
    let store = BigCommerce::new(bc.connector_config().build().unwrap()).unwrap();

    let sf = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    sf.install_campaign_revenue_fields(CODE_FIELD);
    let winter = sf.create_coupon_campaign("Winter sale", CODE_FIELD, "WINTER10");
    let vip = sf.create_coupon_campaign("VIP", CODE_FIELD, "VIP5");
    let crm = Salesforce::new(sf.connector_config().unwrap().build().unwrap()).unwrap();

    let first = daily_job(&store, &crm).await;
    assert_eq!(
        first.len(),
        3,
        "WINTER10 on two days, VIP5 on one: {first:?}"
    );
    assert!(
        first.iter().all(|s| matches!(s, WriteStatus::Updated)),
        "{first:?}"
    );
    assert_eq!(
        field(&sf, &winter, "Ecom_Daily_Revenue__c"),
        "2026-12-01 USD 25.30 2\n2026-12-02 USD 19.99 1"
    );
    assert_eq!(field(&sf, &winter, "Ecom_Revenue_Total__c"), "45.29");
    assert_eq!(field(&sf, &winter, "Ecom_Revenue_Orders__c"), "3");
    assert_eq!(
        field(&sf, &vip, "Ecom_Daily_Revenue__c"),
        "2026-12-02 USD 20.00 2"
    );
    assert_eq!(field(&sf, &vip, "Ecom_Revenue_Total__c"), "20.00");

    // Tomorrow's run sees the same days again: nothing is added twice.
    let again = daily_job(&store, &crm).await;
    assert!(
        again.iter().all(|s| matches!(s, WriteStatus::Unchanged)),
        "{again:?}"
    );
    assert_eq!(field(&sf, &winter, "Ecom_Revenue_Total__c"), "45.29");
    assert_eq!(field(&sf, &vip, "Ecom_Revenue_Total__c"), "20.00");
}
