//! Full recomputation of customer metrics, the reference the incremental engine must match.

use std::collections::BTreeMap;

use cartograph_model::{Decimal, Order, Refund, Timestamp};

use super::{
    CustomerMetrics, MetricsConfig, MetricsError, average, average_gap, cancelled_time,
    customer_key, fixed, top_names, version_time,
};

/// Computes every customer's metrics from scratch, from orders and refunds in arrival order
/// (later versions of an order replace earlier ones under the same staleness rule as
/// [`MetricsEngine`](super::MetricsEngine)). Orders are owned by their default
/// [`customer_key`]. Records that fail to convert are reported and skipped, as the engine
/// does.
pub fn recompute(
    config: &MetricsConfig,
    orders: &[Order],
    refunds: &[Refund],
) -> (BTreeMap<String, CustomerMetrics>, Vec<MetricsError>) {
    let mut errors = Vec::new();
    // Latest accepted version of each order, keeping first-arrival order of keys.
    let mut latest: BTreeMap<String, &Order> = BTreeMap::new();
    for order in orders {
        let key = order.source.to_string();
        if latest
            .get(&key)
            .is_some_and(|old| version_time(order) < version_time(old))
        {
            continue;
        }
        if order.is_revenue() {
            match config.rates.to_base(&order.total) {
                Err(source) => {
                    errors.push(MetricsError::Conversion {
                        record: key,
                        field: "total",
                        source,
                    });
                    continue;
                }
                Ok(total) => {
                    let field = if super::amount_in_range(total.round_to_minor().amount()).is_none()
                    {
                        Some("total")
                    } else if !super::quantities_in_range(order) {
                        Some("line_items.quantity")
                    } else {
                        None
                    };
                    if let Some(field) = field {
                        errors.push(MetricsError::Overflow { record: key, field });
                        continue;
                    }
                }
            }
        }
        latest.insert(key, order);
    }
    let mut latest_refunds: BTreeMap<String, (String, Decimal, Timestamp)> = BTreeMap::new();
    for refund in refunds {
        let key = refund.source.to_string();
        match config.rates.to_base(&refund.amount) {
            Ok(m) => match super::amount_in_range(m.round_to_minor().amount()) {
                Some(amount) => {
                    latest_refunds
                        .insert(key, (refund.order.to_string(), amount, refund.created_at));
                }
                None => errors.push(MetricsError::Overflow {
                    record: key,
                    field: "amount",
                }),
            },
            Err(source) => errors.push(MetricsError::Conversion {
                record: key,
                field: "amount",
                source,
            }),
        }
    }
    let mut by_order: BTreeMap<&str, Vec<(Decimal, Timestamp)>> = BTreeMap::new();
    for (order, amount, at) in latest_refunds.values() {
        by_order.entry(order).or_default().push((*amount, *at));
    }
    let mut by_customer: BTreeMap<String, Vec<&Order>> = BTreeMap::new();
    for order in latest.values() {
        if let Some(key) = customer_key(order) {
            by_customer.entry(key).or_default().push(order);
        }
    }
    let out = by_customer
        .into_iter()
        .map(|(key, orders)| {
            let m = customer(config, &orders, &by_order);
            (key, m)
        })
        .collect();
    (out, errors)
}

fn customer(
    config: &MetricsConfig,
    orders: &[&Order],
    refunds: &BTreeMap<&str, Vec<(Decimal, Timestamp)>>,
) -> CustomerMetrics {
    let base = config.base();
    let mut m = CustomerMetrics::empty(base);
    let mut gross = Decimal::ZERO;
    let mut refunded = Decimal::ZERO;
    let mut weights: BTreeMap<&str, Decimal> = BTreeMap::new();
    for order in orders {
        let key = order.source.to_string();
        for (amount, at) in refunds.get(key.as_str()).into_iter().flatten() {
            m.last_refund_at = m.last_refund_at.max(Some(*at));
            if order.is_revenue() {
                refunded += *amount;
            }
        }
        if order.status.is_cancelled() {
            m.last_cancelled_at = m.last_cancelled_at.max(Some(cancelled_time(order)));
        }
        if !order.is_revenue() {
            continue;
        }
        m.paid_order_count += 1;
        if let Ok(total) = config.rates.to_base(&order.total) {
            gross += total.round_to_minor().amount();
        }
        m.first_order_at = Some(
            m.first_order_at
                .map_or(order.created_at, |f| f.min(order.created_at)),
        );
        m.last_order_at = m.last_order_at.max(Some(order.created_at));
        for line in &order.line_items {
            if let Some(cat) = line.categories.last() {
                *weights.entry(cat.as_str()).or_default() += line.quantity;
            }
        }
    }
    m.gross_revenue = fixed(gross, base);
    m.refunded = fixed(refunded, base);
    m.lifetime_value = fixed(gross - refunded, base);
    m.average_order_value = average(m.lifetime_value, m.paid_order_count);
    m.average_days_between_orders = m
        .first_order_at
        .zip(m.last_order_at)
        .and_then(|(f, l)| average_gap(f, l, m.paid_order_count));
    m.top_categories = top_names(weights.into_iter().collect(), config.top());
    m
}
