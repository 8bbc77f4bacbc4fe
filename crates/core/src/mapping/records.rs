//! Building CRM write intents from plans.

use cartograph_model::{
    ContactRef, LineItemRecord, Order, OrderObject, OrderRecord, Origin, Product, ProductRecord,
};

use super::{Context, FieldError, Input, Plan};

/// Builds an [`OrderRecord`] (deal, opportunity or commerce order) with one line-item
/// record per order line. The key is the order's `system/order/id`; line keys are the line
/// ids. Field errors of the order and its lines are returned beside the record.
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
                        product_key: line.product_id.clone(),
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
