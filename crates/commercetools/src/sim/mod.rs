//! A stateful in-memory commercetools project served over HTTP on `127.0.0.1` (feature
//! `sim`): an **auth host** (`POST /oauth/token`, client credentials with HTTP Basic,
//! expiring tokens) and an **API host** (`/{projectKey}/...`).
//!
//! It answers what the [`crate::Client`] and the writer use, in the API's shapes: queries of
//! customers, orders, carts, payments, products and product projections, categories,
//! customer groups and messages with `where` predicates, `sort`, `limit` (max 500),
//! `offset` (max 10,000: beyond is a 400 `InvalidInput`), `withTotal` and `expand`; get by
//! id or `key=`; in-store paths `/{projectKey}/in-store/key={storeKey}/...` for customers,
//! orders and carts; customer sign-up (`DuplicateField` on a taken email), versioned updates
//! of customers and orders (a stale `version` is a 409 `ConcurrentModification` with
//! `currentVersion`), customer group creation; error bodies
//! `{statusCode, message, errors: [{code, message, ...}]}`. Every change records messages
//! with per-resource `sequenceNumber`s (`GET /messages`) and is delivered to push
//! subscriptions in the Google Cloud Pub/Sub push envelope.
//!
//! The real API publishes no general request-rate limit and sends no rate-limit headers;
//! the simulator answers 429s (without `Retry-After`) and 502/503s only when injected
//! ([`SimConfig::faults`], [`CommercetoolsSim::faults`]) or past an optional [`SimConfig::quota`].
//! Durations in platform time (token lifetime, delivery retry backoff) go through
//! [`SimConfig::time_scale`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use cartograph_commercetools::Commercetools;
//! use cartograph_commercetools::sim::{SimConfig, CommercetoolsSim};
//! use cartograph_connector::{CommerceSource, ListRequest};
//! use cartograph_testkit::fixtures::Seed;
//!
//! let sim = CommercetoolsSim::start(SimConfig::default()).await?;
//! let seed = Seed::builder().customers(3).orders(0).refunds(0).carts(0).build();
//! sim.seed_customers(&seed.customers);
//! let source = Commercetools::new(sim.connector_config().build()?)?;
//! let page = source.list_customers(&ListRequest::all()).await?;
//! assert_eq!(page.items.len(), 3);
//! # Ok(()) }
//! ```

mod events;
mod harness;
mod http;
mod predicate;
mod routes;
mod routes_write;
mod seed;
mod state;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cartograph_http::{ConnectorSettings, RetryPolicy};
use cartograph_model::{Cart, Category, Customer, CustomerGroup, Order, Product, Refund};
use cartograph_sim::{FaultInjector, FaultRates, Quota, SimServer, TimeScale};
use serde_json::{Value, json};

pub use harness::{CHANGE_TYPES, MESSAGE_TYPES};
pub use routes::{MAX_LIMIT, MAX_OFFSET};
pub use seed::STOREFRONT_CLIENT;
pub use state::Delivery;

use crate::config::{CommercetoolsConfig, CommercetoolsConfigBuilder};
use state::{CART, CATEGORY, CUSTOMER, CUSTOMER_GROUP, MESSAGE, ORDER, PAYMENT, PRODUCT, State};

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The project key (first path segment).
    pub project_key: String,
    /// The accepted API client id.
    pub client_id: String,
    /// The accepted API client secret.
    pub client_secret: String,
    /// Lifetime of access tokens (platform time; commercetools: 48 h).
    pub token_lifetime: Duration,
    /// Real seconds per platform second.
    pub time_scale: TimeScale,
    /// Random injected faults (429, 5xx, dropped connections, latency).
    pub faults: FaultRates,
    /// Optional request quota `(requests, window)` answered with 429s once exceeded (the
    /// real API publishes none; for load tests).
    pub quota: Option<(u32, Duration)>,
    /// Largest delivery payload in bytes; larger message payloads are delivered with
    /// `payloadNotIncluded` (default 256 KiB, the SQS limit).
    pub payload_limit: usize,
    /// Attempts per subscription delivery before it is dropped.
    pub delivery_attempts: u32,
    /// The customer custom field holding the marketing opt-in (as the connector reads it).
    pub opt_in_field: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            project_key: "sim-project".into(),
            client_id: "sim-client".into(),
            client_secret: "sim-client-secret".into(),
            token_lifetime: Duration::from_secs(172_800),
            time_scale: TimeScale::new(0.001),
            faults: FaultRates::default(),
            quota: None,
            payload_limit: 256 * 1024,
            delivery_attempts: 8,
            opt_in_field: "marketingOptIn".into(),
        }
    }
}

/// State shared by the servers, the helpers and the delivery tasks.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) state: Mutex<State>,
    pub(crate) faults: FaultInjector,
    pub(crate) quota: Option<Mutex<Quota>>,
    pub(crate) http: reqwest::Client,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running simulator (API and auth hosts); stops when dropped.
pub struct CommercetoolsSim {
    api: SimServer,
    auth: SimServer,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CommercetoolsSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommercetoolsSim")
            .field("api", &self.api.addr())
            .field("auth", &self.auth.addr())
            .field("project_key", &self.shared.config.project_key)
            .finish_non_exhaustive()
    }
}

impl CommercetoolsSim {
    /// Starts both hosts on `127.0.0.1` with free ports.
    ///
    /// # Errors
    /// When a port cannot be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let quota = config
            .quota
            .map(|(limit, window)| Mutex::new(Quota::new(limit, window, config.time_scale)));
        let state = State::new(&config.project_key, config.payload_limit);
        let shared = Arc::new(Shared {
            faults: FaultInjector::new(config.faults),
            config,
            state: Mutex::new(state),
            quota,
            http: reqwest::Client::new(),
        });
        let api = SimServer::serve(http::api_router(&shared)).await?;
        let auth = SimServer::serve(http::auth_router(&shared)).await?;
        Ok(Self { api, auth, shared })
    }

    /// `http://127.0.0.1:<port>` of the API host (the connector's `base_url`).
    pub fn api_url(&self) -> String {
        self.api.base_url()
    }

    /// `http://127.0.0.1:<port>` of the auth host (the connector's `auth_url`).
    pub fn auth_url(&self) -> String {
        self.auth.base_url()
    }

    /// The settings.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// A connector config pointing at both hosts with the simulator's client credentials,
    /// fast retries, and the abandoned-cart window in simulated time.
    pub fn connector_config(&self) -> CommercetoolsConfigBuilder {
        let c = &self.shared.config;
        let settings = ConnectorSettings {
            retry: RetryPolicy::default()
                .with_delays(Duration::from_millis(1), Duration::from_millis(20))
                .with_overload_delay(Duration::from_millis(20)),
            ..ConnectorSettings::default()
        };
        let abandoned = c
            .time_scale
            .real(Duration::from_secs(3600))
            .as_secs()
            .max(1);
        CommercetoolsConfig::builder(
            c.project_key.clone(),
            c.client_id.clone(),
            c.client_secret.clone(),
        )
        .settings(settings)
        .api_url(self.api_url())
        .auth_url(self.auth_url())
        .abandoned_after_secs(abandoned)
    }

    /// The fault injector (queue faults for the next requests).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// `(method, path?query)` of every API request so far, percent-decoded.
    pub fn request_log(&self) -> Vec<(String, String)> {
        self.shared.state().log.clone()
    }

    /// Access tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.state().tokens_issued
    }

    /// Expires every issued token now (the next API call with one gets a 401).
    pub fn expire_tokens(&self) {
        let now = tokio::time::Instant::now();
        for token in self.shared.state().tokens.values_mut() {
            token.expires_at = now;
        }
    }

    /// Declares a store (in-store paths of unknown stores are refused).
    pub fn add_store(&self, key: &str) {
        self.shared.state().stores.insert(key.to_owned());
    }

    /// Makes the next update of `id` meet a concurrent change by another client first (its
    /// version moves on between the caller's read and write).
    pub fn interfere_with_next_update(&self, id: &str) {
        self.shared.state().interfere.insert(id.to_owned());
    }

    /// A stored resource as the API returns it (`customer`, `order`, `cart`, `product`,
    /// `category`, `customer-group`, `payment`, `message`).
    pub fn resource(&self, type_id: &str, id: &str) -> Option<Value> {
        let t = routes::stored_type(type_id)?;
        let s = self.shared.state();
        s.resolve(t, id).and_then(|id| s.get(t, &id).cloned())
    }

    /// How many resources of a type are stored.
    pub fn count(&self, type_id: &str) -> usize {
        routes::stored_type(type_id).map_or(0, |t| self.shared.state().count(t))
    }

    /// The simulator id of a seeded record's canonical id.
    pub fn id_of(&self, type_id: &str, canonical: &str) -> Option<String> {
        routes::stored_type(type_id).and_then(|t| self.shared.state().resolve(t, canonical))
    }

    /// Every message recorded so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut all: Vec<Value> = self.shared.state().all(MESSAGE).cloned().collect();
        all.sort_by(|a, b| a["createdAt"].as_str().cmp(&b["createdAt"].as_str()));
        all
    }

    /// Subscribes `endpoint` (a Google Cloud Pub/Sub push endpoint, as the simulator models
    /// the destination) to messages of `message_types` and changes of `change_types`
    /// (resource type ids such as `order`, `cart`), in `Platform` or `CloudEvents` format.
    /// Returns the subscription id.
    pub fn subscribe_push(
        &self,
        endpoint: &str,
        message_types: &[&str],
        change_types: &[&str],
        cloud_events: bool,
    ) -> String {
        let mut s = self.shared.state();
        let id = s.uuid();
        s.subscriptions.push(state::Subscription {
            id: id.clone(),
            endpoint: endpoint.to_owned(),
            messages: message_types
                .iter()
                .map(|t| (*t).to_owned())
                .collect::<BTreeSet<_>>(),
            changes: change_types.iter().map(|t| (*t).to_owned()).collect(),
            cloud_events,
        });
        id
    }

    /// Every subscription delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.state().deliveries.clone()
    }

    fn flush(&self) {
        events::flush(&self.shared);
    }

    /// Seeds customer groups; returns their ids in order.
    pub fn seed_customer_groups(&self, groups: &[CustomerGroup]) -> Vec<String> {
        let mut s = self.shared.state();
        groups
            .iter()
            .map(|g| {
                let v = seed::group(&mut s, g);
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                s.put(CUSTOMER_GROUP, v);
                id
            })
            .collect()
    }

    /// Seeds categories (parents first); returns their ids.
    pub fn seed_categories(&self, categories: &[Category]) -> Vec<String> {
        let mut s = self.shared.state();
        categories
            .iter()
            .map(|c| {
                let v = seed::category(&mut s, c);
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                s.put(CATEGORY, v);
                id
            })
            .collect()
    }

    /// Seeds customers (groups first); no messages.
    pub fn seed_customers(&self, customers: &[Customer]) -> Vec<String> {
        let field = self.shared.config.opt_in_field.clone();
        let mut s = self.shared.state();
        customers
            .iter()
            .map(|c| {
                let v = seed::customer(&mut s, c, &field);
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                s.put(CUSTOMER, v);
                id
            })
            .collect()
    }

    /// Seeds products as published projections; `brands` (canonical brand id -> name) go
    /// into a `brand` attribute.
    pub fn seed_products(
        &self,
        products: &[Product],
        brands: &[cartograph_model::Brand],
    ) -> Vec<String> {
        let mut s = self.shared.state();
        products
            .iter()
            .map(|p| {
                let brand = p
                    .brand_id
                    .as_ref()
                    .and_then(|b| brands.iter().find(|x| &x.source.id == b))
                    .map(|b| b.name.as_str());
                let v = seed::product(&mut s, p, brand);
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                s.put(PRODUCT, v);
                id
            })
            .collect()
    }

    /// Seeds orders (historical: no messages), each paid one with a payment holding its
    /// charge.
    pub fn seed_orders(&self, orders: &[Order]) -> Vec<String> {
        let mut s = self.shared.state();
        orders.iter().map(|o| store_order(&mut s, o)).collect()
    }

    /// Seeds refunds as `Refund` transactions of their orders' payments (orders first).
    /// Returns the transaction ids; a refund of an unknown order is skipped (empty id).
    pub fn seed_refunds(&self, refunds: &[Refund]) -> Vec<String> {
        let mut s = self.shared.state();
        refunds
            .iter()
            .map(|r| {
                let Some(order_id) = s.resolve(ORDER, &r.order.id) else {
                    return String::new();
                };
                let tx = seed::refund_transaction(&mut s, r);
                let tx_id = tx["id"].as_str().unwrap_or_default().to_owned();
                let at = tx["timestamp"].clone();
                let payment_id = payment_of(&mut s, &order_id);
                if let Some(p) = s.get_mut(PAYMENT, &payment_id) {
                    if let Some(list) = p["transactions"].as_array_mut() {
                        list.push(tx);
                    }
                    let v = p["version"].as_i64().unwrap_or(1) + 1;
                    p["version"] = json!(v);
                    p["lastModifiedAt"] = at;
                }
                tx_id
            })
            .collect()
    }

    /// Seeds carts as they are; no messages.
    pub fn seed_carts(&self, carts: &[Cart]) -> Vec<String> {
        let mut s = self.shared.state();
        carts
            .iter()
            .map(|c| {
                let v = seed::cart(&mut s, c);
                let id = v["id"].as_str().unwrap_or_default().to_owned();
                s.put(CART, v);
                id
            })
            .collect()
    }

    /// Records shopper activity on a cart (new version and `lastModifiedAt`; a
    /// `ResourceUpdated` change follows); `false` when unknown.
    pub fn touch_cart(&self, cart_id: &str) -> bool {
        let touched = {
            let mut s = self.shared.state();
            let Some(id) = s.resolve(CART, cart_id) else {
                return false;
            };
            let now = s.now();
            let Some(cart) = s.get_mut(CART, &id) else {
                return false;
            };
            let v = cart["version"].as_i64().unwrap_or(1) + 1;
            cart["version"] = json!(v);
            cart["lastModifiedAt"] = Value::String(now);
            let cart = cart.clone();
            s.change(CART, &cart, "ResourceUpdated");
            true
        };
        self.flush();
        touched
    }
}

fn store_order(s: &mut State, o: &Order) -> String {
    let (order, payment) = seed::order(s, o);
    let id = order["id"].as_str().unwrap_or_default().to_owned();
    s.put(ORDER, order);
    if let Some(p) = payment {
        s.put(PAYMENT, p);
    }
    id
}

/// `OrderCreated` (with the whole order) and the `ResourceCreated` change.
fn created(s: &mut State, order_id: &str) {
    let Some(order) = s.get(ORDER, order_id).cloned() else {
        return;
    };
    s.message(
        ORDER,
        &order,
        "OrderCreated",
        json!({"order": order}),
        STOREFRONT_CLIENT,
    );
    s.change(ORDER, &order, "ResourceCreated");
}

/// The order's payment, created (with `paymentInfo` on the order) when it has none.
fn payment_of(s: &mut State, order_id: &str) -> String {
    if let Some(id) = s
        .get(ORDER, order_id)
        .and_then(|o| o.pointer("/paymentInfo/payments/0/id"))
        .and_then(Value::as_str)
    {
        return id.to_owned();
    }
    let pid = s.uuid();
    let Some(order) = s.get(ORDER, order_id).cloned() else {
        return pid;
    };
    let at = order["createdAt"].clone();
    let mut payment = json!({"id": pid, "version": 1, "amountPlanned": order["totalPrice"],
        "paymentMethodInfo": {"paymentInterface": "sim-psp", "method": "CREDIT_CARD"},
        "paymentStatus": {}, "interfaceInteractions": [], "transactions": [],
        "createdAt": at, "lastModifiedAt": at});
    if let Some(cid) = order["customerId"].as_str() {
        payment["customer"] = state::reference(CUSTOMER, cid);
    }
    s.put(PAYMENT, payment);
    if let Some(o) = s.get_mut(ORDER, order_id) {
        o["paymentInfo"] = json!({"payments": [state::reference(PAYMENT, &pid)]});
    }
    pid
}
