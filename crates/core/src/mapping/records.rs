//! Building CRM write intents from plans.

use cartograph_model::{
    ContactRef, LineItemRecord, Order, OrderObject, OrderRecord, Origin, Product, ProductRecord,
    RecordKind, SourceRef,
};

use super::{Context, FieldError, Input, Plan};

/// Builds an [`OrderRecord`] (deal, opportunity or commerce order) with one line-item
/// record per order line. The key is the order's `system/order/id`; line keys are the line
/// ids; a line's product key is the key [`product_record`] gives that product
/// (`system/product/id`, the order's system), so sinks find the synced product by it. Field
/// errors of the order and its lines are returned beside the record.
pub fn order_record(
    order_plan: &Plan,
    line_plan: Option<&Plan>,
    object: OrderObject,
    input: &Input<'_>,
    order: &Order,
    origin: Origin,
    cx: &Context<'_>,
) -> (OrderRecord, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut properties = cartograph_model::PropertyMap::new();
    let input = Input {
        order: Some(order),
        ..*input
    };
    order_plan.apply_into(&input, cx, &mut properties, &mut errors);
    let line_items = line_plan
        .map(|plan| {
            order
                .line_items
                .iter()
                .map(|line| {
                    let mut props = cartograph_model::PropertyMap::new();
                    plan.apply_into(&Input::line_item(order, line), cx, &mut props, &mut errors);
                    LineItemRecord {
                        key: line.id.clone(),
                        product_key: line_product_key(order, line),
                        properties: props,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let record = OrderRecord {
        key: order.source.to_string(),
        object,
        contact: order.email.clone().map(ContactRef::Email),
        properties,
        line_items,
        origin,
    };
    (record, errors)
}

/// The key of a line's product record: `system/product/id`, as [`product_record`] keys it;
/// `None` for a line without a product id.
fn line_product_key(order: &Order, line: &cartograph_model::LineItem) -> Option<String> {
    line.product_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| SourceRef::new(order.source.system.clone(), RecordKind::Product, id).to_string())
}

/// Builds a [`ProductRecord`] keyed by the product's `system/product/id`.
pub fn product_record(
    plan: &Plan,
    product: &Product,
    cx: &Context<'_>,
) -> (ProductRecord, Vec<FieldError>) {
    let out = plan.apply(&Input::product(product), cx);
    (
        ProductRecord {
            key: product.source.to_string(),
            properties: out.properties,
        },
        out.errors,
    )
}

#[cfg(test)]
mod tests {
    use cartograph_model::{Origin, RecordKind, SourceRef};

    use super::super::{Context, Input, Subject, defaults};
    use super::*;
    use crate::metrics::sample;

    /// A line's product key is the key of that product's own record, for every bundled
    /// mapping: a sink finds the synced product by it.
    #[test]
    fn line_product_keys_are_the_product_records_keys() {
        let mut order = sample::orders(1, 1, 5).remove(0);
        assert!(!order.line_items.is_empty());
        order.line_items.truncate(1);
        order.line_items[0].product_id = Some(" 77 ".into());
        let product: Product = serde_json::from_value(serde_json::json!({
            "source": SourceRef::new(order.source.system.clone(), RecordKind::Product, "77"),
            "name": "Widget",
        }))
        .unwrap();
        for file in [
            defaults::hubspot(),
            defaults::salesforce(),
            defaults::activecampaign(),
        ] {
            let file = file.unwrap();
            let plan = |subject| {
                file.mappings
                    .iter()
                    .find(|m| file.compile(&m.name, &[]).unwrap().subject() == subject)
                    .map(|m| file.compile(&m.name, &[]).unwrap())
            };
            let order_plan = plan(Subject::Order).unwrap();
            let line_plan = plan(Subject::LineItem);
            let product_plan = plan(Subject::Product).unwrap_or_else(|| order_plan.clone());
            let (product_record, _) = product_record(&product_plan, &product, &Context::default());
            let product_keys = |order: &Order| -> Vec<Option<String>> {
                let (record, _) = order_record(
                    &order_plan,
                    line_plan.as_ref(),
                    OrderObject::Deal,
                    &Input::default(),
                    order,
                    Origin::Live,
                    &Context::default(),
                );
                record
                    .line_items
                    .into_iter()
                    .map(|l| l.product_key)
                    .collect()
            };
            assert_eq!(product_keys(&order), vec![Some(product_record.key.clone())]);
            let mut without = order.clone();
            without.line_items[0].product_id = None;
            assert_eq!(product_keys(&without), vec![None]);
        }
    }
}
