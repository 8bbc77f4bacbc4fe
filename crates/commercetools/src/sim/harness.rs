//! The commercetools simulator seen by the pair harness ([`CommerceSimulator`]).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, Result};
use cartograph_model::{Cart, Decimal, Order, OrderStatus};
use cartograph_sim::{CommerceSimulator, SeedData, Seeded};

use super::Simulator;
use crate::Commercetools;

/// Resource types whose messages a pipeline subscribes to.
pub const MESSAGE_TYPES: [&str; 3] = ["customer", "order", "product"];
/// Resource types whose changes a pipeline subscribes to (carts have no messages of
/// interest: abandonment is idleness).
pub const CHANGE_TYPES: [&str; 1] = ["cart"];

impl Simulator {
    fn connector(&self) -> Result<Arc<Commercetools>> {
        Ok(Arc::new(Commercetools::new(
            self.connector_config().build()?,
        )?))
    }
}

#[async_trait]
impl CommerceSimulator for Simulator {
    fn system(&self) -> &str {
        "commercetools"
    }

    fn base_url(&self) -> String {
        self.api_url()
    }

    fn source(&self) -> Result<Arc<dyn CommerceSource>> {
        Ok(self.connector()? as Arc<dyn CommerceSource>)
    }

    fn writer(&self) -> Result<Option<Arc<dyn CommerceWriter>>> {
        Ok(Some(self.connector()? as Arc<dyn CommerceWriter>))
    }

    fn seed(&self, data: &SeedData) -> Seeded {
        self.seed_customer_groups(&data.customer_groups);
        self.seed_categories(&data.categories);
        let products = self.seed_products(&data.products, &data.brands);
        let customers = self.seed_customers(&data.customers);
        let orders = self.seed_orders(&data.orders);
        let refunds = self.seed_refunds(&data.refunds);
        let carts = self.seed_carts(&data.carts);
        Seeded {
            customers,
            products,
            orders,
            refunds,
            carts,
        }
    }

    async fn deliver_webhooks_to(&self, url: &str) -> Result<()> {
        // Idempotent: a second subscription to `url` would deliver every message twice.
        let subscribed = self
            .shared
            .state()
            .subscriptions
            .iter()
            .any(|s| s.endpoint == url);
        if !subscribed {
            self.subscribe_push(url, &MESSAGE_TYPES, &CHANGE_TYPES, false);
        }
        Ok(())
    }

    fn place_order(&self, order: &Order) -> String {
        Simulator::place_order(self, order)
    }

    fn set_order_status(&self, order_id: &str, status: OrderStatus) -> bool {
        Simulator::set_order_status(self, order_id, status)
    }

    fn refund_order(&self, order_id: &str, amount: Decimal, reason: &str) -> Option<String> {
        Simulator::refund_order(self, order_id, amount, reason)
    }

    fn create_cart(&self, cart: &Cart) -> String {
        Simulator::create_cart(self, cart)
    }

    fn convert_cart(&self, cart_id: &str) -> Option<String> {
        Simulator::convert_cart(self, cart_id)
    }

    fn request_count(&self) -> u64 {
        Simulator::request_count(self)
    }

    fn webhook_deliveries(&self) -> (usize, usize) {
        let deliveries = self.deliveries();
        let failed = deliveries
            .iter()
            .filter(|d| d.status.is_none_or(|s| s >= 300))
            .count();
        (deliveries.len(), failed)
    }
}
