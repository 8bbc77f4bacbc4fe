//! A stateful in-memory BigCommerce store served over HTTP on `127.0.0.1` (feature `sim`).
//!
//! It answers the paths and shapes the [`crate::Client`] uses (v2 orders and customer
//! groups with 204 past the last page, v3 customers with cursor paging, catalog, carts,
//! refunds, shopper profiles, segments, hooks), with real error bodies and status codes,
//! a per-store quota ([`cartograph_sim::Quota`]) with the `X-Rate-Limit-*` headers, fault
//! injection ([`cartograph_sim::FaultInjector`]: [`SimConfig::faults`] and
//! [`BigCommerceSim::faults`]), a seeding API fed by canonical records, mutation helpers and
//! webhook emission with BigCommerce's retry schedule. Durations in store time (quota
//! window, retry schedule, cart idle time) go through [`SimConfig::time_scale`] so tests run
//! fast; the rate-limit headers report them in real time, the time the connector waits.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use cartograph_bigcommerce::BigCommerce;
//! use cartograph_bigcommerce::sim::{SimConfig, BigCommerceSim};
//!
//! let sim = BigCommerceSim::start(SimConfig::default()).await?;
//! let connector = BigCommerce::new(sim.connector_config().build().expect("valid"))
//!     .expect("client");
//! # Ok(()) }
//! ```

mod harness;
pub use harness::SCOPES;
mod http;
mod routes_catalog;
mod routes_customers;
mod routes_orders;
mod seed;
mod state;
mod webhooks;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use cartograph_http::{RateLimit, RetryPolicy};
use cartograph_model::{Brand, Cart, Category, Customer, CustomerGroup, Order, Product, Refund};
use cartograph_sim::{FaultInjector, FaultRates, Quota, TimeScale};

pub use cartograph_sim::Exchange;
pub use state::Delivery;

/// BigCommerce's webhook retry schedule (seconds of store time after each failed attempt).
pub const RETRY_SCHEDULE_SECS: [u64; 11] = webhooks::RETRY_SCHEDULE_SECS;

use crate::config::{BigCommerceConfig, BigCommerceConfigBuilder};

/// Simulator settings.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Store hash in the paths.
    pub store_hash: String,
    /// Accepted `X-Auth-Token`.
    pub access_token: String,
    /// `store_id` in webhook payloads.
    pub store_id: String,
    /// Requests per quota window.
    pub quota: u32,
    /// Quota window (store time; BigCommerce: 30 s).
    pub window: Duration,
    /// Real seconds per store second (0.001 makes the 60 s first webhook retry 60 ms).
    pub time_scale: TimeScale,
    /// Random injected faults, drawn from a seeded generator: a 429 is BigCommerce's
    /// platform overload (no rate-limit headers), 5xx carry a v3 error body, a dropped
    /// connection cuts the body off; queue single faults with [`BigCommerceSim::faults`].
    pub faults: FaultRates,
    /// Standard Webhooks signing secret (base64, optional `whsec_`); `None` sends unsigned
    /// deliveries (older hooks).
    pub signing_secret: Option<String>,
    /// Idle time after which a cart is abandoned (store time; BigCommerce: 1 h).
    pub abandon_after: Duration,
    /// Accept `http://` hook destinations (the real API wants HTTPS on 443).
    pub allow_http_hooks: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            store_hash: "simstore".into(),
            access_token: "sim-token".into(),
            store_id: "1001".into(),
            quota: 150,
            window: Duration::from_secs(30),
            time_scale: TimeScale::new(0.001),
            faults: FaultRates::default(),
            signing_secret: Some("whsec_c2ltLXNpZ25pbmcta2V5".into()),
            abandon_after: Duration::from_secs(3600),
            allow_http_hooks: true,
        }
    }
}

impl SimConfig {
    /// The connector config for a simulator with these settings served at `base_url`
    /// (also one in another process): what [`BigCommerceSim::connector_config`] returns.
    pub fn connector_config_at(&self, base_url: &str) -> BigCommerceConfigBuilder {
        let mut b = BigCommerceConfig::builder(self.store_hash.clone(), self.access_token.clone())
            .base_url(base_url)
            .retry(
                RetryPolicy::default()
                    .with_delays(Duration::from_millis(1), Duration::from_millis(20))
                    .with_overload_delay(Duration::from_millis(20)),
            )
            .rate_limit(RateLimit::new(100_000, Duration::from_secs(1)).with_burst(10_000))
            .webhook_header_secret(SIM_HEADER_SECRET);
        if let Some(secret) = &self.signing_secret {
            b = b.webhook_signing_secret(secret.clone());
        }
        b
    }

    /// Scales a store-time duration to real time.
    pub fn scaled(&self, d: Duration) -> Duration {
        self.time_scale.real(d)
    }
}

/// State shared by the server, the helpers and the delivery tasks.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) state: Mutex<state::State>,
    pub(crate) quota: Mutex<Quota>,
    pub(crate) faults: FaultInjector,
    pub(crate) http: reqwest::Client,
    pub(crate) seq: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, state::State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running simulator; stops when dropped.
pub struct BigCommerceSim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    answers: cartograph_sim::ExchangeLog,
}

impl std::fmt::Debug for BigCommerceSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BigCommerceSim")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for BigCommerceSim {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl BigCommerceSim {
    /// Starts a simulator on `127.0.0.1` with a free port.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            faults: FaultInjector::new(config.faults),
            quota: Mutex::new(Quota::new(config.quota, config.window, config.time_scale)),
            config,
            state: Mutex::new(state::State::default()),
            http: reqwest::Client::new(),
            seq: std::sync::atomic::AtomicU64::new(1),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let answers = cartograph_sim::ExchangeLog::default();
        let app = answers.layer(http::router(&shared));
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(error = %err, "simulator server stopped");
            }
        });
        let idle = tokio::spawn(webhooks::abandon_loop(Arc::clone(&shared)));
        Ok(Self {
            addr,
            shared,
            tasks: vec![server, idle],
            answers,
        })
    }

    /// Starts recording every answer (method, path, status, body) for
    /// [`BigCommerceSim::answers`]; off by default.
    pub fn record_answers(&self) {
        self.answers.start();
    }

    /// The answers recorded since [`BigCommerceSim::record_answers`], emptying the record.
    pub fn answers(&self) -> Vec<cartograph_sim::Exchange> {
        self.answers.take()
    }

    /// The fault injector (queue faults for the next requests, change the random rates).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// `http://127.0.0.1:<port>`: the gateway root to configure as `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The store hash.
    pub fn store_hash(&self) -> &str {
        &self.shared.config.store_hash
    }

    /// A connector config pointing at this simulator (token, hash, signing secret, a
    /// webhook header secret `sim-header-secret`, fast retries, a generous client limiter).
    pub fn connector_config(&self) -> BigCommerceConfigBuilder {
        self.shared.config.connector_config_at(&self.base_url())
    }

    /// Seeds customers (ids kept when numeric, else assigned); returns the ids in order.
    pub fn seed_customers(&self, customers: &[Customer]) -> Vec<String> {
        let mut s = self.shared.state();
        customers
            .iter()
            .map(|c| {
                let w = seed::customer(&mut s, c);
                let id = w.id;
                s.customers.insert(id, w);
                id.to_string()
            })
            .collect()
    }

    /// Seeds customer groups.
    pub fn seed_customer_groups(&self, groups: &[CustomerGroup]) -> Vec<String> {
        let mut s = self.shared.state();
        groups
            .iter()
            .map(|g| {
                let w = seed::group(&mut s, g);
                let id = w.id;
                s.groups.insert(id, w);
                id.to_string()
            })
            .collect()
    }

    /// Seeds orders (historical: no webhooks).
    pub fn seed_orders(&self, orders: &[Order]) -> Vec<String> {
        let mut s = self.shared.state();
        orders
            .iter()
            .map(|o| {
                let rec = seed::order(&mut s, o);
                let id = rec.order.id;
                s.orders.insert(id, rec);
                id.to_string()
            })
            .collect()
    }

    /// Seeds refunds (their orders must be seeded first for currency lookups).
    pub fn seed_refunds(&self, refunds: &[Refund]) -> Vec<String> {
        let mut s = self.shared.state();
        refunds
            .iter()
            .map(|r| {
                let w = seed::refund(&mut s, r);
                let id = w.id;
                s.refunds.insert(id, w);
                id.to_string()
            })
            .collect()
    }

    /// Seeds products with their variants.
    pub fn seed_products(&self, products: &[Product]) -> Vec<String> {
        let mut s = self.shared.state();
        products
            .iter()
            .map(|p| {
                let w = seed::product(&mut s, p);
                let id = w.id;
                s.products.insert(id, w);
                id.to_string()
            })
            .collect()
    }

    /// Seeds categories.
    pub fn seed_categories(&self, categories: &[Category]) -> Vec<String> {
        let mut s = self.shared.state();
        categories
            .iter()
            .map(|c| {
                let id = s.claim(&c.source.id);
                let parent_id = c
                    .parent_id
                    .as_deref()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                s.categories.insert(
                    id,
                    crate::wire::Category {
                        id,
                        parent_id,
                        name: c.name.clone(),
                        is_visible: true,
                    },
                );
                id.to_string()
            })
            .collect()
    }

    /// Seeds brands.
    pub fn seed_brands(&self, brands: &[Brand]) -> Vec<String> {
        let mut s = self.shared.state();
        brands
            .iter()
            .map(|b| {
                let id = s.claim(&b.source.id);
                s.brands.insert(
                    id,
                    crate::wire::Brand {
                        id,
                        name: b.name.clone(),
                    },
                );
                id.to_string()
            })
            .collect()
    }

    /// Seeds carts as they are (whatever their state); no webhooks.
    pub fn seed_carts(&self, carts: &[Cart]) -> Vec<String> {
        let mut s = self.shared.state();
        carts
            .iter()
            .map(|c| {
                let w = seed::cart(&mut s, c);
                let id = w.id.clone();
                s.carts.insert(
                    id.clone(),
                    state::CartRec {
                        cart: w,
                        last_change: Instant::now(),
                        abandoned: true,
                    },
                );
                id
            })
            .collect()
    }

    /// Creates a segment (for `add_to_segment`); returns its id.
    pub fn create_segment(&self) -> String {
        let mut s = self.shared.state();
        let id = s.uuid();
        s.segments
            .insert(id.clone(), std::collections::BTreeSet::new());
        id
    }

    /// Shopper profile ids in a segment.
    pub fn segment_members(&self, segment_id: &str) -> Vec<String> {
        self.shared
            .state()
            .segments
            .get(segment_id)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Registers a webhook (like `POST /v3/hooks`); returns its id.
    pub fn register_webhook(
        &self,
        scope: &str,
        destination: &str,
        headers: BTreeMap<String, String>,
    ) -> u64 {
        webhooks::register(&self.shared, scope, destination, headers).id
    }

    /// A hook's current state (e.g. deactivated after failed retries).
    pub fn hook(&self, id: u64) -> Option<crate::wire::Hook> {
        self.shared.state().hooks.get(&id).cloned()
    }

    /// Every webhook delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.state().deliveries.clone()
    }

    /// Number of customers in the store.
    pub fn customer_count(&self) -> usize {
        self.shared.state().customers.len()
    }

    /// Records shopper activity on a cart (resets its idle timer).
    pub fn touch_cart(&self, cart_id: &str) -> bool {
        let touched = {
            let mut s = self.shared.state();
            s.carts.get_mut(cart_id).map(|rec| {
                rec.last_change = Instant::now();
                rec.abandoned = false;
                rec.cart.updated_time = Some(state::now().to_rfc3339());
            })
        };
        if touched.is_some() {
            webhooks::cart_event(&self.shared, "store/cart/updated", cart_id, None);
        }
        touched.is_some()
    }
}

/// The webhook header secret [`BigCommerceSim::connector_config`] configures; register hooks
/// with it in their `headers`.
pub const SIM_HEADER_SECRET: &str = "sim-header-secret";
