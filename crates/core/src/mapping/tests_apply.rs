//! Buffer-reusing application and list paths (the fast paths must change no result).

use cartograph_model::{PropertyType, PropertyValue};

use super::tests::{def, file};
use super::*;
use crate::metrics::sample;

/// Every bundled order and line-item plan, applied in turn to many orders through one
/// reused buffer, gives exactly what a fresh `apply` gives (including dropped keys).
#[test]
fn apply_reusing_equals_fresh_apply_for_every_bundled_plan() {
    let mut orders = sample::orders(300, 40, 9);
    // Vary the shape: some orders without lines, numbers or channels, some with coupons.
    for (i, o) in orders.iter_mut().enumerate() {
        match i % 7 {
            0 => o.line_items.clear(),
            1 => o.number = None,
            2 => o.channel = None,
            3 => o.coupons.push(cartograph_model::Coupon {
                code: format!("C{i}"),
                amount: None,
            }),
            _ => {}
        }
    }
    for file in [
        defaults::hubspot(),
        defaults::salesforce(),
        defaults::activecampaign(),
    ] {
        let file = file.unwrap();
        for spec in &file.mappings {
            let plan = file.compile(&spec.name, &[]).unwrap();
            let mut reused = Applied::default();
            let mut into = PropertyMap::new();
            for o in &orders {
                let inputs: Vec<Input<'_>> = match plan.subject() {
                    Subject::Order => vec![Input::order(o)],
                    Subject::LineItem => o
                        .line_items
                        .iter()
                        .map(|l| Input::line_item(o, l))
                        .collect(),
                    _ => continue,
                };
                for input in inputs {
                    let fresh = plan.apply(&input, &Context::default());
                    plan.apply_reusing(&input, &Context::default(), &mut reused);
                    assert_eq!(reused, fresh, "{} {}", file.crm, spec.name);
                    // `apply_into` over a full map overwrites in place: same as fresh when
                    // the previous record set a superset of keys; never loses new keys.
                    let mut errors = Vec::new();
                    plan.apply_into(&input, &Context::default(), &mut into, &mut errors);
                    assert_eq!(errors, fresh.errors);
                    for (k, v) in &fresh.properties {
                        assert_eq!(into.get(k), Some(v), "{} {} {k}", file.crm, spec.name);
                    }
                }
            }
        }
    }
}

#[test]
fn apply_reusing_drops_foreign_keys_and_apply_into_keeps_them() {
    let plan = defaults::hubspot().unwrap().compile("deal", &[]).unwrap();
    let order = &sample::orders(1, 1, 3)[0];
    let fresh = plan.apply(&Input::order(order), &Context::default());

    let mut out = Applied::default();
    out.properties
        .insert("aaa_foreign".into(), PropertyValue::Bool(true));
    out.properties
        .insert("zzz_foreign".into(), PropertyValue::Bool(true));
    out.properties
        .insert("dealname".into(), PropertyValue::Number(1.into()));
    out.errors.push(FieldError {
        record: "x".into(),
        field: "y".into(),
        reason: FieldErrorReason::Missing,
    });
    let mut kept = out.properties.clone();
    plan.apply_reusing(&Input::order(order), &Context::default(), &mut out);
    assert_eq!(out, fresh);

    let mut errors = Vec::new();
    plan.apply_into(
        &Input::order(order),
        &Context::default(),
        &mut kept,
        &mut errors,
    );
    assert_eq!(kept.len(), fresh.properties.len() + 2);
    assert_eq!(kept["aaa_foreign"], PropertyValue::Bool(true));
    assert_eq!(kept["dealname"], fresh.properties["dealname"]);

    // A record without the subject clears a reused buffer and reports it.
    plan.apply_reusing(&Input::default(), &Context::default(), &mut out);
    assert!(out.properties.is_empty());
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn list_paths_index_count_first_last_distinct_and_join() {
    let mut order = sample::orders(1, 1, 5).remove(0);
    for (l, (sku, cats)) in order.line_items.iter_mut().zip([
        ("A", &["All", "Shoes"][..]),
        ("B", &["All", "Hats"][..]),
        ("A", &["Shoes"][..]),
        ("C", &[][..]),
        ("B", &["All"][..]),
    ]) {
        l.sku = Some(sku.into());
        l.categories = cats.iter().map(|c| (*c).to_owned()).collect();
    }
    let mut f = file(&[
        ("text", "order.line_items[*].sku | distinct | join('|')"),
        ("num", "order.line_items | count"),
        ("t1", "order.line_items[1].sku"),
        ("t2", "order.line_items[*].categories | distinct | join"),
        ("t3", "order.line_items[*].sku | last"),
        ("t7", "order.line_items[*].sku | first"),
        ("t4", "order.coupons[*].code | join"),
        ("t5", "order.line_items[*].sku | count | string"),
        ("t6", "order.line_items[9].sku"),
        ("flag", "order.coupons | present"),
    ]);
    for t in ["t1", "t2", "t3", "t4", "t5", "t6", "t7"] {
        f.properties.push(def(t, PropertyType::String, &[]));
    }
    let plan = f.compile("deal", &[]).unwrap();
    let out = plan.apply(&Input::order(&order), &Context::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let p = &out.properties;
    let s = |v: &str| PropertyValue::String(v.into());
    assert_eq!(p["text"], s("A|B|C"));
    assert_eq!(p["num"], PropertyValue::Number(5.into()));
    assert_eq!(p["t1"], s("B"));
    assert_eq!(p["t2"], s("All, Shoes, Hats"));
    assert_eq!(p["t3"], s("B"));
    assert_eq!(p["t7"], s("A"));
    assert!(!p.contains_key("t4"), "no coupons: missing");
    assert_eq!(p["t5"], s("5"));
    assert!(!p.contains_key("t6"), "index past the end: missing");
    assert_eq!(p["flag"], PropertyValue::Bool(false));
}

/// Aggregations folded while walking a path give exactly what building the list first
/// gives: values, missing values and per-field errors, on lists with duplicates, empty
/// lists, numbers among strings, custom attributes and mixed currencies.
#[test]
fn folded_aggregations_equal_list_building_evaluation() {
    use cartograph_model::{AttributeValue, Currency, Decimal, Money};

    let mut orders = sample::orders(60, 10, 21);
    for (i, o) in orders.iter_mut().enumerate() {
        match i % 6 {
            0 => o.line_items.clear(),
            1 => {
                // Duplicates and a line without categories.
                let first = o.line_items[0].clone();
                o.line_items.push(first);
                o.line_items[1].categories.clear();
            }
            2 => o.line_items[0].unit_price = Money::new(Decimal::new(100, 2), Currency::EUR),
            3 => {
                for (n, l) in o.line_items.iter_mut().enumerate() {
                    l.custom.insert(
                        "color".into(),
                        if n % 2 == 0 {
                            AttributeValue::String("red".into())
                        } else {
                            AttributeValue::Number(Decimal::from(n as u64))
                        },
                    );
                }
            }
            4 => o
                .coupons
                .extend(["A", "B", "A"].map(|c| cartograph_model::Coupon {
                    code: c.into(),
                    amount: None,
                })),
            // Quantities of different scales, and one near the top of the decimal range.
            _ => {
                o.line_items[0].quantity = Decimal::new(15, 1);
                if i % 12 == 5 {
                    // Two of them: the sum leaves the range (an overflow error both ways).
                    let big = Decimal::from_i128_with_scale((1 << 95) + 7, 0);
                    o.line_items[1].quantity = big;
                    o.line_items[2].quantity = big;
                }
            }
        }
    }
    let fields = [
        ("t1", "order.line_items[*].sku | distinct | join('|')"),
        ("t2", "order.line_items[*].categories | distinct | join"),
        ("t3", "order.line_items[*].categories | join(';')"),
        ("t4", "order.line_items[*].quantity | distinct | join(',')"),
        ("t5", "order.line_items[*].quantity | sum | string"),
        (
            "t6",
            "order.line_items[*].unit_price | sum | amount | string",
        ),
        ("t7", "order.line_items[*].sku | count | string"),
        ("t8", "order.line_items[*].categories | count | string"),
        ("t9", "order.coupons[*].code | distinct | join"),
        (
            "t10",
            "order.line_items[*].custom[\"color\"] | distinct | join",
        ),
        (
            "t11",
            "order.line_items[*].custom[\"color\"] | count | string",
        ),
        ("t12", "order.line_items[*].sku | join | upper"),
    ];
    let mut f = file(&fields);
    for (t, _) in &fields {
        f.properties.push(def(t, PropertyType::String, &[]));
    }
    let plan = f.compile("deal", &[]).unwrap();
    let mut differed = 0;
    for o in &orders {
        let folded = plan.apply(&Input::order(o), &Context::default());
        super::fold::DISABLED.set(true);
        let built = plan.apply(&Input::order(o), &Context::default());
        super::fold::DISABLED.set(false);
        assert_eq!(folded, built, "{}", o.source);
        differed += usize::from(!built.errors.is_empty());
    }
    // The cases above do reach the error paths (mixed currencies, attributes in a join).
    assert!(differed > 0);
}
