//! Property tests of the mapping evaluator (issue #19's standing suite): arbitrary orders,
//! line items and customers, pushed through every compiled default mapping of the CRM crates, never
//! panic; every field either lands in the property map or is a `FieldError` naming the
//! record and a target of the plan.

#![allow(clippy::unwrap_used)]

use cartograph_core::mapping::{Applied, Context, Input, MappingFile, Plan, Subject};
use cartograph_core::metrics::sample;
use cartograph_model::{
    Currency, Customer, Decimal, EmailAddress, Money, Order, RecordKind, SourceRef,
};
use std::sync::LazyLock;

use proptest::prelude::*;

/// The default mapping files, read from the crates that own them.
fn defaults() -> Vec<MappingFile> {
    [
        include_str!("../../hubspot/mappings/hubspot.toml"),
        include_str!("../../salesforce/mappings/salesforce.toml"),
        include_str!("../../activecampaign/mappings/activecampaign.toml"),
    ]
    .into_iter()
    .map(|text| MappingFile::from_toml(text).unwrap())
    .collect()
}

/// Every mapping of every default file, compiled once.
static PLANS: LazyLock<Vec<Plan>> = LazyLock::new(compile_all);

fn compile_all() -> Vec<Plan> {
    defaults()
        .iter()
        .flat_map(|file| {
            file.mappings
                .iter()
                .map(|spec| file.compile(&spec.name, &[]).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["USD", "EUR", "JPY", "KWD"]).prop_map(|c| Currency::new(c).unwrap())
}

fn money() -> impl Strategy<Value = Money> {
    (any::<i64>(), 0u32..=28, currency()).prop_map(|(m, s, c)| Money::new(Decimal::new(m, s), c))
}

/// A generated order, then bent: any currency per amount (mixed currencies), extreme
/// amounts and quantities, odd text, and any number of line items.
fn order() -> impl Strategy<Value = Order> {
    (
        any::<u64>(),
        currency(),
        proptest::collection::vec(money(), 5),
        proptest::option::of("\\PC{0,64}"),
        proptest::option::of("\\PC{0,32}"),
        0usize..=5,
        (any::<i64>(), 0u32..=28),
    )
        .prop_map(|(seed, cur, amounts, number, sku, lines, (qm, qs))| {
            let mut o = sample::orders(1, 3, seed).remove(0);
            o.currency = cur;
            o.subtotal = amounts[0];
            o.discount = amounts[1];
            o.tax = amounts[2];
            o.shipping = amounts[3];
            o.total = amounts[4];
            o.number = number;
            o.line_items.truncate(lines);
            for line in &mut o.line_items {
                line.sku.clone_from(&sku);
                line.quantity = Decimal::new(qm, qs);
                line.unit_price = amounts[4];
            }
            o
        })
}

/// A customer with arbitrary text in every name, contact and tag field.
fn customer() -> impl Strategy<Value = Customer> {
    let text = || proptest::option::of("\\PC{0,40}");
    (
        "[a-z0-9]{1,8}",
        text(),
        text(),
        text(),
        text(),
        text(),
        proptest::collection::vec("\\PC{0,16}", 0..4),
        any::<bool>(),
    )
        .prop_map(|(id, email, first, last, company, phone, tags, guest)| {
            let mut c = Customer::new(SourceRef::new("shop", RecordKind::Customer, id));
            c.email = email.as_deref().and_then(EmailAddress::new);
            c.first_name = first;
            c.last_name = last;
            c.company = company;
            c.phone = phone;
            c.tags = tags;
            c.is_guest = guest;
            c
        })
}

fn check(plan: &Plan, input: &Input<'_>, record: &str) -> Result<(), TestCaseError> {
    let Applied { properties, errors } = plan.apply(input, &Context::default());
    let targets: Vec<&str> = plan.targets().collect();
    for key in properties.keys() {
        prop_assert!(
            targets.contains(&key.as_str()),
            "{} wrote {key}",
            plan.name()
        );
    }
    for err in &errors {
        prop_assert_eq!(&err.record, record);
        prop_assert!(
            targets.contains(&err.field.as_str()),
            "{}: {err}",
            plan.name()
        );
        prop_assert!(
            !properties.contains_key(&err.field),
            "{}: {} both set and failed",
            plan.name(),
            err.field
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_records_through_every_default_mapping_never_panic(o in order(), c in customer()) {
        for plan in PLANS.iter() {
            match plan.subject() {
                Subject::Order => check(plan, &Input::order(&o), &o.source.to_string())?,
                Subject::Customer => {
                    check(plan, &Input::customer(&c), &c.source.to_string())?;
                }
                Subject::LineItem => {
                    for line in &o.line_items {
                        let record = format!("{}/line/{}", o.source, line.id);
                        check(plan, &Input::line_item(&o, line), &record)?;
                    }
                }
                // Other subjects given an order only: every path is missing, still no panic.
                _ => {
                    let _ = plan.apply(&Input::order(&o), &Context::default());
                }
            }
        }
    }
}
