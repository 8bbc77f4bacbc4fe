//! The BigCommerce simulator seen by the pair harness ([`CommerceSimulator`]).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, Result};
use cartograph_model::{Cart, Decimal, Order, OrderStatus};
use cartograph_sim::harness::delivery_counts;
use cartograph_sim::{CommerceSimulator, SeedData, Seeded};

use super::{BigCommerceSim, SIM_HEADER_SECRET, webhooks};
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

impl BigCommerceSim {
    fn connector(&self) -> Result<Arc<BigCommerce>> {
        Ok(Arc::new(BigCommerce::new(
            self.connector_config().build()?,
        )?))
    }
}

#[async_trait]
impl CommerceSimulator for BigCommerceSim {
    fn system(&self) -> &str {
        "bigcommerce"
    }

    fn base_url(&self) -> String {
        BigCommerceSim::base_url(self)
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

    /// Places an order (emits `store/order/created`); returns its id.
    fn place_order(&self, order: &Order) -> String {
        let id = self.seed_orders(std::slice::from_ref(order)).remove(0);
        webhooks::order_event(&self.shared, "store/order/created", &id, None);
        id
    }

    /// Changes an order's status (emits `store/order/statusUpdated`); `false` when absent.
    fn set_order_status(&self, order_id: &str, status: OrderStatus) -> bool {
        webhooks::set_status(&self.shared, order_id, status)
    }

    /// Refunds part of an order (emits `store/order/refund/created`); returns the refund id.
    fn refund_order(&self, order_id: &str, amount: Decimal, reason: &str) -> Option<String> {
        webhooks::refund(&self.shared, order_id, amount, reason)
    }

    /// Creates a cart (emits `store/cart/created`); it is abandoned after
    /// [`super::SimConfig::abandon_after`] without changes (emits `store/cart/abandoned`).
    fn create_cart(&self, cart: &Cart) -> String {
        let id = self.seed_carts(std::slice::from_ref(cart)).remove(0);
        {
            let mut s = self.shared.state();
            if let Some(rec) = s.carts.get_mut(&id) {
                rec.abandoned = false;
            }
        }
        webhooks::cart_event(&self.shared, "store/cart/created", &id, None);
        id
    }

    /// Turns a cart into an order: the cart is deleted, `store/cart/converted` (with
    /// `orderId`) and `store/order/created` are emitted. Returns the order id.
    fn convert_cart(&self, cart_id: &str) -> Option<String> {
        webhooks::convert(&self.shared, cart_id)
    }

    /// API requests served so far.
    fn request_count(&self) -> u64 {
        self.shared.state().requests
    }

    fn webhook_deliveries(&self) -> (usize, usize) {
        delivery_counts(self.deliveries().iter().map(|d| d.status))
    }
}
