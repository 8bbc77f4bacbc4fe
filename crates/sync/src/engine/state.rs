//! What the engine remembers per person, persisted as JSON in the store's metrics table:
//! the latest customer profile, the person's orders (trimmed to what metrics need) and
//! refunds, the last cart and the last open case. Metrics are recomputed from this ledger,
//! so replaying an event never double-counts.

use cartograph_core::metrics::{CustomerMetrics, MetricsConfig, MetricsEngine, MetricsError};
use cartograph_model::{Cart, Customer, Order, Refund, SourceRef, Timestamp};
use serde::{Deserialize, Serialize};

/// One person's ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonState {
    /// The freshest customer profile (account, or a guest profile built from an order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Customer>,
    /// Orders, one entry per order (latest version), trimmed.
    #[serde(default)]
    pub orders: Vec<Order>,
    /// Refunds.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// The last cart seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart: Option<Cart>,
    /// When the last refund or cancellation case was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_case_at: Option<Timestamp>,
}

impl PersonState {
    /// Adds or replaces an order (an older version never replaces a newer one). Returns the
    /// previous version, if any.
    pub fn upsert_order(&mut self, order: &Order) -> Option<Order> {
        let trimmed = trim(order);
        match self.orders.iter_mut().find(|o| o.source == order.source) {
            Some(existing) => {
                let newer = order.updated_at.unwrap_or(order.created_at)
                    >= existing.updated_at.unwrap_or(existing.created_at);
                let previous = existing.clone();
                if newer {
                    *existing = trimmed;
                }
                Some(previous)
            }
            None => {
                self.orders.push(trimmed);
                None
            }
        }
    }

    /// Adds a refund (idempotent by id).
    pub fn upsert_refund(&mut self, refund: &Refund) -> bool {
        if self.refunds.iter().any(|r| r.source == refund.source) {
            return false;
        }
        self.refunds.push(refund.clone());
        true
    }

    /// Metrics recomputed from the ledger.
    pub fn metrics(
        &self,
        config: &MetricsConfig,
        person: &str,
    ) -> Result<CustomerMetrics, MetricsError> {
        let mut engine = MetricsEngine::new(config.clone());
        for order in &self.orders {
            engine.upsert_order_for(Some(person), order)?;
        }
        if !self.refunds.is_empty() {
            // Refunds of orders in this ledger only: one set lookup per refund, not a scan of
            // the orders.
            let orders: std::collections::HashSet<&SourceRef> =
                self.orders.iter().map(|o| &o.source).collect();
            for refund in &self.refunds {
                if orders.contains(&refund.order) {
                    engine.upsert_refund(refund)?;
                }
            }
        }
        Ok(engine
            .metrics(person)
            .unwrap_or_else(|| CustomerMetrics::empty(config.base())))
    }

    /// The last paid order time, for cart rules.
    pub fn last_order_at(&self) -> Option<Timestamp> {
        self.orders
            .iter()
            .filter(|o| o.is_revenue())
            .map(|o| o.created_at)
            .max()
    }
}

/// An order without what metrics never read (addresses, custom attributes, line-item
/// extras), so ledgers stay small.
fn trim(order: &Order) -> Order {
    let mut o = order.clone();
    o.billing_address = None;
    o.shipping_addresses.clear();
    o.custom.clear();
    for line in &mut o.line_items {
        line.custom.clear();
        line.image_url = None;
        line.product_url = None;
    }
    o
}
