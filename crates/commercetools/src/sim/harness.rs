//! The commercetools simulator seen by the pair harness ([`CommerceSimulator`]).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, Result};
use cartograph_model::{
    Cart, Currency, Decimal, Money, Order, OrderStatus, PaymentStatus, Timestamp,
};
use cartograph_sim::harness::delivery_counts;
use cartograph_sim::{CommerceSimulator, SeedData, Seeded};

use serde_json::{Value, json};

use super::seed::{self, STOREFRONT_CLIENT};
use super::state::{self, CART, ORDER, PAYMENT};
use super::{CommercetoolsSim, created, payment_of, routes_write, store_order};
use crate::Commercetools;

/// Resource types whose messages a pipeline subscribes to.
pub const MESSAGE_TYPES: [&str; 3] = ["customer", "order", "product"];
/// Resource types whose changes a pipeline subscribes to (carts have no messages of
/// interest: abandonment is idleness).
pub const CHANGE_TYPES: [&str; 1] = ["cart"];

impl CommercetoolsSim {
    fn connector(&self) -> Result<Arc<Commercetools>> {
        Ok(Arc::new(Commercetools::new(
            self.connector_config().build()?,
        )?))
    }
}

#[async_trait]
impl CommerceSimulator for CommercetoolsSim {
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

    /// Places an order as the storefront would (`OrderCreated` follows); returns its id.
    fn place_order(&self, order: &Order) -> String {
        let now = Timestamp::now();
        let mut fresh = order.clone();
        fresh.created_at = now;
        fresh.updated_at = Some(now);
        let id = {
            let mut s = self.shared.state();
            let id = store_order(&mut s, &fresh);
            created(&mut s, &id);
            id
        };
        self.flush();
        id
    }

    /// Moves an order to a canonical status through `changeOrderState`,
    /// `changeShipmentState` and `changePaymentState` (their messages follow); `false` when
    /// the order is unknown.
    fn set_order_status(&self, order_id: &str, status: OrderStatus) -> bool {
        let Some(id) = self.shared.state().resolve(ORDER, order_id) else {
            return false;
        };
        let Some(current) = self.resource("order", &id) else {
            return false;
        };
        let payment = match current["paymentState"].as_str() {
            Some("Failed") => PaymentStatus::Failed,
            Some("Pending" | "BalanceDue") => PaymentStatus::Pending,
            Some(_) => PaymentStatus::Paid,
            None => PaymentStatus::Unknown,
        };
        let (order_state, payment_state, shipment_state) = seed::states(status, payment);
        let mut actions = Vec::new();
        if current["orderState"].as_str() != Some(order_state) {
            actions.push(json!({"action": "changeOrderState", "orderState": order_state}));
        }
        if let Some(sh) = shipment_state
            && current["shipmentState"].as_str() != Some(sh)
        {
            actions.push(json!({"action": "changeShipmentState", "shipmentState": sh}));
        }
        if let Some(p) = payment_state
            && current["paymentState"].as_str() != Some(p)
        {
            actions.push(json!({"action": "changePaymentState", "paymentState": p}));
        }
        let done = routes_write::apply(&self.shared, ORDER, &id, None, &actions, STOREFRONT_CLIENT)
            .is_ok();
        self.flush();
        done
    }

    /// Refunds part of an order: a `Refund` transaction on its payment
    /// (`PaymentTransactionAdded`), then `addReturnInfo` on the order (`ReturnInfoAdded`).
    /// Returns the transaction id, `None` when the order is unknown.
    fn refund_order(&self, order_id: &str, amount: Decimal, reason: &str) -> Option<String> {
        let id = self.shared.state().resolve(ORDER, order_id)?;
        let order = self.resource("order", &id)?;
        let currency = Currency::new(order["totalPrice"]["currencyCode"].as_str()?).ok()?;
        let (tx_id, line) = {
            let mut s = self.shared.state();
            let now = s.now();
            let tx_id = s.uuid();
            let tx = json!({"id": tx_id, "timestamp": now, "type": "Refund",
                "amount": seed::money(&Money::new(amount, currency)),
                "interactionId": reason, "state": "Success"});
            let payment_id = payment_of(&mut s, &id);
            let payment = s.get_mut(PAYMENT, &payment_id)?;
            payment["transactions"].as_array_mut()?.push(tx.clone());
            let v = payment["version"].as_i64().unwrap_or(1) + 1;
            payment["version"] = json!(v);
            payment["lastModifiedAt"] = Value::String(now.clone());
            let payment = payment.clone();
            s.message(
                PAYMENT,
                &payment,
                "PaymentTransactionAdded",
                json!({"transaction": tx}),
                STOREFRONT_CLIENT,
            );
            let line = order["lineItems"][0]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (tx_id, (line, now))
        };
        let item = json!({"id": format!("ret-{tx_id}"), "quantity": 1, "type": "LineItemReturnItem",
            "lineItemId": line.0, "comment": reason, "shipmentState": "Returned",
            "paymentState": "Refunded", "createdAt": line.1, "lastModifiedAt": line.1});
        let action = json!({"action": "addReturnInfo", "items": [item], "returnDate": line.1});
        let applied =
            routes_write::apply(&self.shared, ORDER, &id, None, &[action], STOREFRONT_CLIENT);
        self.flush();
        applied.ok().map(|_| tx_id)
    }

    /// Creates an `Active` cart as a shopper would (a `ResourceCreated` change follows);
    /// returns its id.
    fn create_cart(&self, cart: &Cart) -> String {
        let now = Timestamp::now();
        let mut fresh = cart.clone();
        fresh.state = cartograph_model::CartState::Active;
        fresh.created_at = Some(now);
        fresh.updated_at = Some(now);
        let id = {
            let mut s = self.shared.state();
            let v = seed::cart(&mut s, &fresh);
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            s.put(CART, v.clone());
            s.change(CART, &v, "ResourceCreated");
            id
        };
        self.flush();
        id
    }

    /// Orders a cart: the cart becomes `Ordered`, an order referencing it is created
    /// (`OrderCreated` with `order.cart`). Returns the order id.
    fn convert_cart(&self, cart_id: &str) -> Option<String> {
        let order_id = {
            let mut s = self.shared.state();
            let id = s.resolve(CART, cart_id)?;
            let now = s.now();
            let cart = s.get_mut(CART, &id)?;
            if cart["cartState"].as_str() != Some("Active") {
                return None;
            }
            let v = cart["version"].as_i64().unwrap_or(1) + 1;
            cart["version"] = json!(v);
            cart["cartState"] = Value::String("Ordered".to_owned());
            cart["lastModifiedAt"] = Value::String(now.clone());
            let cart = cart.clone();
            let order_id = s.uuid();
            let mut order = json!({
                "id": order_id, "version": 1, "lineItems": cart["lineItems"],
                "customLineItems": [], "totalPrice": cart["totalPrice"],
                "taxedPrice": {"totalNet": cart["totalPrice"], "totalGross": cart["totalPrice"],
                    "totalTax": {"type": "centPrecision",
                        "currencyCode": cart["totalPrice"]["currencyCode"],
                        "centAmount": 0, "fractionDigits": cart["totalPrice"]["fractionDigits"]},
                    "taxPortions": []},
                "orderState": "Open", "paymentState": "Paid", "shipmentState": "Pending",
                "taxMode": "Platform", "inventoryMode": "None", "shippingMode": "Single",
                "shipping": [], "syncInfo": [], "returnInfo": [], "discountCodes": [],
                "directDiscounts": [], "refusedGifts": [], "itemShippingAddresses": [],
                "origin": "Customer", "cart": state::reference(CART, &id),
                "createdAt": now, "lastModifiedAt": now,
                "createdBy": state::client_logging(STOREFRONT_CLIENT),
                "lastModifiedBy": state::client_logging(STOREFRONT_CLIENT),
            });
            for key in ["customerId", "customerEmail", "anonymousId", "store"] {
                if let Some(v) = cart.get(key) {
                    order[key] = v.clone();
                }
            }
            order["orderNumber"] = Value::String(format!("ct-{}", &order_id[24..]));
            s.put(ORDER, order);
            s.change(CART, &cart, "ResourceUpdated");
            created(&mut s, &order_id);
            order_id
        };
        self.flush();
        Some(order_id)
    }

    /// API requests served so far (token calls not counted).
    fn request_count(&self) -> u64 {
        self.shared.state().requests
    }

    fn webhook_deliveries(&self) -> (usize, usize) {
        delivery_counts(self.deliveries().iter().map(|d| d.status))
    }
}
