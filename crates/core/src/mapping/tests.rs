use super::*;
use crate::metrics::sample;

#[test]
fn bundled_defaults_compile() {
    for (crm, file) in [
        ("hubspot", defaults::hubspot()),
        ("salesforce", defaults::salesforce()),
        ("activecampaign", defaults::activecampaign()),
    ] {
        let file = file.unwrap_or_else(|e| panic!("{crm}: {e}"));
        assert_eq!(file.crm, crm);
        assert!(!file.mappings.is_empty(), "{crm} has mappings");
        for m in &file.mappings {
            if let Err(e) = file.compile(&m.name, &[]) {
                panic!("{crm}: {e}");
            }
        }
    }
}

#[test]
fn hubspot_deal_maps_a_sample_order() {
    let file = defaults::hubspot().unwrap();
    let plan = file.compile("deal", &[]).unwrap();
    let order = &sample::orders(1, 1, 42)[0];
    let out = plan.apply(&Input::order(order), &Context::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    println!("{:#?}", out.properties);
}
