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

use cartograph_model::{
    AttributeValue, Currency, Decimal, Money, PropertyDefinition, PropertyOption, PropertyType,
    PropertyValue,
};

pub(super) fn def(name: &str, kind: PropertyType, options: &[&str]) -> TargetProperty {
    TargetProperty {
        definition: PropertyDefinition {
            object: cartograph_model::CrmObjectType::Deal,
            name: name.into(),
            label: name.into(),
            kind,
            options: options
                .iter()
                .map(|o| PropertyOption {
                    value: (*o).into(),
                    label: (*o).into(),
                })
                .collect(),
            group: None,
            unique: false,
            description: None,
        },
        standard: false,
    }
}

pub(super) fn file(fields: &[(&str, &str)]) -> MappingFile {
    let mut maps = std::collections::BTreeMap::new();
    maps.insert(
        "stage".to_owned(),
        [("completed", "won"), ("cancelled", "lost")]
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect(),
    );
    MappingFile {
        crm: "test".into(),
        languages: vec!["de-CH".into(), "en".into()],
        maps,
        properties: vec![
            def("text", PropertyType::String, &[]),
            def("num", PropertyType::Number, &[]),
            def("flag", PropertyType::Bool, &[]),
            def("day", PropertyType::Date, &[]),
            def("at", PropertyType::DateTime, &[]),
            def("stage", PropertyType::Enumeration, &["won", "lost", "open"]),
            def("tags", PropertyType::MultiEnumeration, &["Shoes", "Hats"]),
        ],
        mappings: vec![MappingSpec {
            name: "deal".into(),
            object: cartograph_model::CrmObjectType::Deal,
            subject: Subject::Order,
            fields: fields
                .iter()
                .map(|(t, s)| FieldSpec {
                    target: (*t).into(),
                    source: (*s).into(),
                    when: None,
                    required: false,
                    on_null: OnNull::Skip,
                })
                .collect(),
            remove: vec![],
        }],
    }
}

fn compile_err(target: &str, source: &str) -> CompileErrorKind {
    let errs = file(&[(target, source)]).compile("deal", &[]).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert_eq!(errs.0[0].field, target);
    errs.0[0].kind.clone()
}

#[test]
fn compile_refuses_unknown_paths_targets_and_type_mismatches() {
    let k = compile_err("text", "order.totl");
    assert!(
        k.to_string().contains("order.totl") && k.to_string().contains("total"),
        "{k}"
    );
    assert!(matches!(
        compile_err("text", "product.name"),
        CompileErrorKind::UnknownPath { .. }
    ));
    assert!(matches!(
        compile_err("text", "order.line_items.sku"),
        CompileErrorKind::UnknownPath { .. }
    ));
    assert!(matches!(
        compile_err("nope", "order.id"),
        CompileErrorKind::UnknownTarget { .. }
    ));
    let k = compile_err("num", "order.total");
    assert!(
        k.to_string().contains("amount"),
        "money needs an explicit amount: {k}"
    );
    assert!(matches!(
        compile_err("text", "order.total | lower"),
        CompileErrorKind::TypeMismatch { .. }
    ));
    assert!(matches!(
        compile_err("text", "order.line_items[*].sku"),
        CompileErrorKind::TargetType { .. }
    ));
    assert!(matches!(
        compile_err("stage", "'closed'"),
        CompileErrorKind::NotAnOption { .. }
    ));
    assert!(matches!(
        compile_err("stage", "order.status | map(nope)"),
        CompileErrorKind::UnknownMap { .. }
    ));
    assert!(matches!(
        compile_err("text", "order.id | frobnicate"),
        CompileErrorKind::UnknownTransform { .. }
    ));
    assert!(matches!(
        compile_err("text", "order.id |"),
        CompileErrorKind::Syntax { .. }
    ));
    let errs = file(&[
        ("text", "order.id"),
        ("text", "order.number"),
        ("num", "x.y"),
    ])
    .compile("deal", &[])
    .unwrap_err();
    assert_eq!(errs.0.len(), 2, "every problem is listed: {errs}");
}

#[test]
fn transforms_aggregations_and_conditions_evaluate() {
    let mut order = sample::orders(1, 1, 5).remove(0);
    order.custom.insert(
        "title".into(),
        AttributeValue::Localized(
            [
                ("de".to_owned(), "Bestellung".to_owned()),
                ("en".to_owned(), "Order".to_owned()),
            ]
            .into_iter()
            .collect(),
        ),
    );
    order.custom.insert(
        "score".into(),
        AttributeValue::String("not a number".into()),
    );
    order.status = cartograph_model::OrderStatus::Completed;
    order.line_items[0].categories = vec!["Shoes".into()];
    order.line_items[1].categories = vec!["Hats".into()];
    order.line_items[2].categories = vec!["Shoes".into()];
    let rates = Rates::new(Currency::EUR).with_rate(Currency::USD, Decimal::new(9, 1));
    let plan = file(&[
        ("text", r#"order.custom["title"] | localized"#),
        ("num", "order.line_items[*].total | sum | convert | amount"),
        (
            "flag",
            "order.total | gt(10) | and(order.status | in('completed', 'shipped'))",
        ),
        ("day", "order.created_at | date"),
        ("at", "order.created_at | epoch_ms | datetime"),
        ("stage", "order.status | map(stage)"),
        ("tags", "order.line_items[0].categories"),
    ])
    .compile("deal", &[])
    .unwrap();
    let out = plan.apply(
        &Input::order(&order),
        &Context {
            rates: Some(&rates),
        },
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let p = &out.properties;
    assert_eq!(
        p["text"],
        PropertyValue::String("Bestellung".into()),
        "de-CH falls back to de"
    );
    let usd_sum = Money::sum(order.currency, order.line_items.iter().map(|l| &l.total)).unwrap();
    let eur = rates.convert(&usd_sum, Currency::EUR).unwrap();
    assert_eq!(p["num"], PropertyValue::Number(eur.amount()));
    assert_eq!(p["flag"], PropertyValue::Bool(true));
    assert_eq!(p["day"], PropertyValue::Date(order.created_at.date()));
    assert_eq!(p["at"], PropertyValue::DateTime(order.created_at));
    assert_eq!(p["stage"], PropertyValue::Enumeration("won".into()));
    assert_eq!(
        p["tags"],
        PropertyValue::MultiEnumeration(vec!["Shoes".into()])
    );
}

#[test]
fn per_field_errors_name_record_field_and_reason_and_other_fields_still_map() {
    let mut order = sample::orders(1, 1, 5).remove(0);
    order.status = cartograph_model::OrderStatus::OnHold;
    order
        .custom
        .insert("score".into(), AttributeValue::String("n/a".into()));
    order.line_items[0].categories = vec!["Bags".into()];
    let plan = file(&[
        ("stage", "order.status | map(stage)"),
        ("num", r#"order.custom["score"]"#),
        ("tags", "order.line_items[*].category"),
        ("text", "order.total | convert | amount | string"),
        ("flag", "order.is_revenue"),
    ])
    .compile("deal", &[])
    .unwrap();
    let out = plan.apply(&Input::order(&order), &Context::default());
    assert_eq!(out.properties.len(), 1, "{:?}", out.properties);
    assert_eq!(out.properties["flag"], PropertyValue::Bool(true));
    let by_field = |f: &str| out.errors.iter().find(|e| e.field == f).unwrap();
    assert!(matches!(
        by_field("stage").reason,
        FieldErrorReason::Unmapped { .. }
    ));
    assert!(matches!(
        by_field("num").reason,
        FieldErrorReason::Parse { .. }
    ));
    assert!(matches!(
        by_field("tags").reason,
        FieldErrorReason::NotAnOption { .. }
    ));
    assert!(matches!(by_field("text").reason, FieldErrorReason::NoRates));
    let msg = by_field("stage").to_string();
    assert!(
        msg.contains("shop/order/0") && msg.contains("stage") && msg.contains("on_hold"),
        "{msg}"
    );
    // The subject itself missing is one error, not a panic.
    let out = plan.apply(&Input::default(), &Context::default());
    assert!(matches!(
        out.errors[0].reason,
        FieldErrorReason::MissingSubject("order")
    ));
}

#[test]
fn required_when_and_clear_control_missing_values() {
    let mut f = file(&[
        ("text", "order.number"),
        ("num", "order.line_items[*].quantity | sum"),
        ("flag", "order.is_archived"),
    ]);
    f.mappings[0].fields[0].required = true;
    f.mappings[0].fields[1].when = Some("order.status | eq('shipped')".into());
    f.mappings[0].fields[2].on_null = OnNull::Clear;
    f.mappings[0].fields[2].source = "order.shipped_at | present | if(null, true)".into();
    let plan = f.compile("deal", &[]).unwrap();
    let mut order = sample::orders(1, 1, 5).remove(0);
    order.number = None;
    order.status = cartograph_model::OrderStatus::Completed;
    let out = plan.apply(&Input::order(&order), &Context::default());
    assert!(matches!(out.errors[0].reason, FieldErrorReason::Missing));
    assert!(
        !out.properties.contains_key("num"),
        "condition false: not written"
    );
    order.shipped_at = Some(order.created_at);
    let out = plan.apply(&Input::order(&order), &Context::default());
    assert_eq!(out.properties["flag"], PropertyValue::Null, "cleared");
}

#[test]
fn overrides_replace_add_and_remove_fields() {
    let mut hubspot = defaults::hubspot().unwrap();
    let overrides = MappingFile::from_toml(
        r#"
crm = "hubspot"
[maps.deal_stage]
"*" = "closedwon"
[[properties]]
object = "deal"
name = "ecom_store"
label = "Store"
type = "string"
[[mappings]]
name = "deal"
object = "deal"
subject = "order"
remove = ["ecom_gift_message"]
fields = [
  { target = "dealname", source = "concat('Web order ', order.number)" },
  { target = "ecom_store", source = "order.system" },
]
"#,
    )
    .unwrap();
    hubspot.merge(overrides);
    let plan = hubspot.compile("deal", &[]).unwrap();
    let order = &sample::orders(1, 1, 42)[0];
    let out = plan.apply(&Input::order(order), &Context::default());
    assert_eq!(
        out.properties["dealname"],
        PropertyValue::String("Web order 100000".into())
    );
    assert_eq!(
        out.properties["ecom_store"],
        PropertyValue::String("shop".into())
    );
    assert!(!out.properties.contains_key("ecom_gift_message"));
    assert!(hubspot.custom_properties().any(|p| p.name == "ecom_store"));
    assert!(!hubspot.custom_properties().any(|p| p.name == "email"));
    // JSON works too.
    let json = serde_json::to_string(&hubspot).unwrap();
    assert_eq!(MappingFile::from_json(&json).unwrap(), hubspot);
}

#[test]
fn hubspot_contact_carries_metrics_status_and_abandoned_cart() {
    use crate::metrics::{MetricsConfig, MetricsEngine, Population, TierConfig};
    use crate::rules::{Facts, RulesConfig, evaluate};
    let plan = defaults::hubspot()
        .unwrap()
        .compile("contact", &[])
        .unwrap();
    let mut engine = MetricsEngine::new(MetricsConfig::new(
        Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(11, 1)),
    ));
    for o in sample::orders(500, 20, 1) {
        engine.upsert_order(&o).unwrap();
    }
    let all = engine.all();
    let pop = Population::build(all.values(), TierConfig::default());
    let key = "shop/customer/3";
    let m = &all[key];
    let now = m.last_order_at.unwrap();
    let status = evaluate(
        &RulesConfig::default(),
        &Facts {
            metrics: Some(m),
            tier: pop.tier(m),
            rfm: pop.rfm(m),
            open_case_at: None,
            cart: None,
            now,
        },
    );
    let mut customer = cartograph_model::Customer::new(cartograph_model::SourceRef::new(
        "shop",
        cartograph_model::RecordKind::Customer,
        "3",
    ));
    customer.email = cartograph_model::EmailAddress::new("customer3@example.com");
    let input = Input {
        customer: Some(&customer),
        metrics: Some(m),
        status: Some(&status),
        ..Input::default()
    };
    let out = plan.apply(&input, &Context::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let p = &out.properties;
    assert_eq!(
        p["ecom_order_count"],
        PropertyValue::Number(Decimal::from(m.paid_order_count))
    );
    assert_eq!(
        p["ecom_lifetime_value"],
        PropertyValue::Number(m.lifetime_value.amount())
    );
    assert!(matches!(
        &p["ecom_value_tier"],
        PropertyValue::Enumeration(_)
    ));
    assert_eq!(
        p["ecom_lifecycle"],
        PropertyValue::Enumeration(status.lifecycle.as_str().into())
    );
    assert_eq!(
        p["ecom_abandoned_cart_at"],
        PropertyValue::Null,
        "no cart: cleared"
    );
}
