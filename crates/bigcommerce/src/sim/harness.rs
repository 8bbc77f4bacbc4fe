//! The BigCommerce simulator seen by the pair harness ([`CommerceSimulator`]).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, Result};
use cartograph_model::{Cart, Decimal, Order, OrderStatus};
use cartograph_sim::{CommerceSimulator, SeedData, Seeded};

use super::{SIM_HEADER_SECRET, Simulator};
use crate::BigCommerce;
use crate::config::DEFAULT_SECRET_HEADER;

/// Every webhook scope a pipeline listens to. `store/order/*` "fires for all `store/order`
/// events" (BigCommerce's webhook reference), refunds (`store/order/refund/created`)
/// included: subscribing to both would deliver every refund twice.
pub const SCOPES: [&str; 4] = [
    "store/order/*",
    "store/customer/*",
    "store/cart/*",
    "store/product/*",
];

impl Simulator {
    fn connector(&self) -> Result<Arc<BigCommerce>> {
        Ok(Arc::new(BigCommerce::new(
            self.connector_config().build()?,
        )?))
    }
}

#[async_trait]
impl CommerceSimulator for Simulator {
    fn system(&self) -> &str {
        "bigcommerce"
    }

    fn base_url(&self) -> String {
        Simulator::base_url(self)
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
        self.seed_brands(&data.brands);
        let products = self.seed_products(&data.products);
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
        // Idempotent: a scope already hooked to `url` is not hooked again (two hooks would
        // deliver every event twice).
        let hooked: Vec<String> = self
            .shared
            .state()
            .hooks
            .values()
            .filter(|h| h.is_active && h.destination == url)
            .map(|h| h.scope.clone())
            .collect();
        for scope in SCOPES
            .into_iter()
            .filter(|s| !hooked.iter().any(|h| h == s))
        {
            self.register_webhook(
                scope,
                url,
                [(
                    DEFAULT_SECRET_HEADER.to_owned(),
                    SIM_HEADER_SECRET.to_owned(),
                )]
                .into(),
            );
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
