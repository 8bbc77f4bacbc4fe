//! A stateful ActiveCampaign account on a local port (feature `sim`), faithful to the parts
//! of the v3 API the connector uses: contacts unique by email (case-insensitive) with
//! `/contact/sync`, custom fields and field values, tags, lists and `contactLists` status
//! (1 subscribed, 2 unsubscribed), Deep Data connections, ecomCustomers and ecomOrders
//! (`externalid` unique per connection, 422 `duplicate`; `filters[state]` 0 pending,
//! 1 completed, 2 abandoned, 3 recovered), notes, automations that record whether an order
//! **triggered** them (only `source: 1` does), webhooks (form-encoded, filtered by
//! `sources`), `limit`/`offset` paging with `meta.total` as a string, the 5 requests/s
//! per-account quota (429 with `Retry-After`), `Api-Token` auth (403 on a bad token) and
//! injected faults.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cartograph_activecampaign::sim::{ActiveCampaignSim, SimConfig};
//! use cartograph_activecampaign::ActiveCampaign;
//!
//! let sim = ActiveCampaignSim::start(SimConfig::fast()).await?;
//! let ac = ActiveCampaign::new(sim.connector_config()?.build()?)?;
//! # let _ = ac; Ok(()) }
//! ```

mod routes;
mod state;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cartograph_connector::{CrmSink, CrmSource, Result, WebhookRequest, async_trait};
use cartograph_http::{RateLimit, RetryPolicy, Secret};
use cartograph_sim::{
    CrmSimulator, FaultInjector, FaultRates, Quota, SimRecordView, SimServer, TimeScale,
};

use crate::{ActiveCampaign, ActiveCampaignConfig, ActiveCampaignConfigBuilder};
pub use cartograph_sim::Exchange;
use state::State;
pub use state::Triggered;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The account's API token (requests with another `Api-Token` get 403).
    pub token: String,
    /// Real seconds per simulated second.
    pub time_scale: TimeScale,
    /// Requests per second (vendor time) per account; 0 = no quota.
    pub requests_per_second: u32,
    /// Random faults.
    pub faults: FaultRates,
    /// The shared secret the host puts in its webhook URL: `deliver_webhooks_to(url)`
    /// registers `url/<secret>`, and `connector_config` sets it as `webhook_secret`.
    pub webhook_secret: String,
}

impl Default for SimConfig {
    /// Real time, ActiveCampaign's 5 requests/s, no faults.
    fn default() -> Self {
        Self {
            token: "sim-api-token".into(),
            time_scale: TimeScale::REAL,
            requests_per_second: 5,
            faults: FaultRates::default(),
            webhook_secret: "sim-webhook-secret".into(),
        }
    }
}

impl SimConfig {
    /// 1000x faster than real time (tests).
    pub fn fast() -> Self {
        Self {
            time_scale: TimeScale::new(0.001),
            ..Self::default()
        }
    }
}

pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    pub(crate) state: Mutex<State>,
    pub(crate) quota: Mutex<Quota>,
    pub(crate) imports: Mutex<Quota>,
    pub(crate) faults: FaultInjector,
    pub(crate) requests: AtomicU64,
    pub(crate) log: Mutex<Vec<(String, String, serde_json::Value)>>,
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running simulated ActiveCampaign account.
pub struct ActiveCampaignSim {
    shared: Arc<Shared>,
    server: SimServer,
    answers: cartograph_sim::ExchangeLog,
}

impl std::fmt::Debug for ActiveCampaignSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveCampaignSim")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl ActiveCampaignSim {
    /// Starts an account with a "Master Contact List" on `127.0.0.1`.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let scale = config.time_scale;
        let quota = Quota::new(
            config.requests_per_second,
            Duration::from_secs(1),
            config.time_scale,
        );
        let shared = Arc::new(Shared {
            faults: FaultInjector::new(config.faults),
            config,
            state: Mutex::new(State::new()),
            quota: Mutex::new(quota),
            imports: Mutex::new(Quota::new(100, Duration::from_secs(60), scale)),
            requests: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        });
        let answers = cartograph_sim::ExchangeLog::default();
        let server = SimServer::serve(answers.layer(routes::router(Arc::clone(&shared)))).await?;
        Ok(Self {
            shared,
            server,
            answers,
        })
    }

    /// Starts recording every answer (method, path, status, body) for
    /// [`ActiveCampaignSim::answers`]; off by default.
    pub fn record_answers(&self) {
        self.answers.start();
    }

    /// The answers recorded since [`ActiveCampaignSim::record_answers`], emptying the
    /// record.
    pub fn answers(&self) -> Vec<cartograph_sim::Exchange> {
        self.answers.take()
    }

    /// The API root, `http://127.0.0.1:<port>/api/3`.
    pub fn api_url(&self) -> String {
        format!("{}/api/3", self.server.base_url())
    }

    /// A config builder pointed at this simulator: its token, its time-scaled rate limit and
    /// a retry policy whose delays follow the time scale.
    ///
    /// # Errors
    /// When the URL is refused (never, for a running simulator).
    pub fn connector_config(&self) -> Result<ActiveCampaignConfigBuilder> {
        let scale = self.shared.config.time_scale;
        let window = scale
            .real(Duration::from_secs(1))
            .max(Duration::from_micros(50));
        let mut builder =
            ActiveCampaignConfig::builder(Secret::new(self.shared.config.token.clone()))
                .base_url(&self.api_url())?
                .webhook_secret(Secret::new(self.shared.config.webhook_secret.clone()), None)
                .retry(
                    RetryPolicy::default()
                        .with_max_attempts(6)
                        .with_delays(
                            scale.real(Duration::from_millis(200)),
                            scale.real(Duration::from_secs(5)),
                        )
                        .with_overload_delay(scale.real(Duration::from_secs(1))),
                );
        if self.shared.config.requests_per_second > 0 {
            builder = builder.rate_limit(RateLimit::new(
                self.shared.config.requests_per_second,
                window,
            ));
        }
        Ok(builder)
    }

    /// Every request served so far with a JSON body: method, path below `/api/3` and body.
    pub fn request_log(&self) -> Vec<(String, String, serde_json::Value)> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The fault injector (queue faults for the next requests).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// Creates an automation; returns its id.
    pub fn create_automation(&self, name: &str) -> String {
        self.shared.state().create_automation(name)
    }

    /// Creates a list; returns its id.
    pub fn create_list(&self, name: &str) -> String {
        self.shared.state().create_list(name)
    }

    /// Sets a contact's status on a list as the contact would (2 = unsubscribed).
    pub fn set_list_status_as_user(&self, list: &str, contact: &str, status: u8) {
        let outbox = {
            let mut state = self.shared.state();
            state.set_list_status(list, contact, status, "public");
            std::mem::take(&mut state.outbox)
        };
        routes::push(outbox);
    }

    /// The status of a contact on a list, if any.
    pub fn list_status(&self, list: &str, contact: &str) -> Option<u8> {
        self.shared.state().list_status(list, contact)
    }

    /// Changes a contact property as a person in the UI would (source `admin`).
    pub fn update_contact_as_user(&self, contact: &str, property: &str, value: &str) -> bool {
        let (changed, outbox) = {
            let mut state = self.shared.state();
            let changed = state.edit_contact(contact, property, value, "admin");
            (changed, std::mem::take(&mut state.outbox))
        };
        routes::push(outbox);
        changed
    }

    /// Automation runs started by ecommerce orders and carts (only `source: 1` starts one).
    pub fn triggered_automations(&self) -> Vec<Triggered> {
        self.shared.state().triggered.clone()
    }

    /// Tag names of a contact.
    pub fn contact_tags(&self, contact: &str) -> Vec<String> {
        self.shared.state().contact_tag_names(contact)
    }

    /// Webhook deliveries made since the last call.
    pub fn take_webhook_requests(&self) -> Vec<WebhookRequest> {
        std::mem::take(&mut self.shared.state().deliveries)
    }

    /// Bulk imports accepted so far.
    pub fn bulk_imports(&self) -> usize {
        self.shared.state().bulk_imports
    }

    /// Ecommerce customers (`connectionid`, `externalid`, `email`, `acceptsMarketing`).
    pub fn ecom_customers(&self) -> Vec<SimRecordView> {
        self.shared.state().customer_views()
    }

    /// Ecommerce orders in `state` (0 pending, 1 completed, 2 abandoned, 3 recovered).
    pub fn orders_in_state(&self, state: u8) -> Vec<SimRecordView> {
        self.order_records()
            .into_iter()
            .filter(|o| o.properties.get("state").map(String::as_str) == Some(&state.to_string()))
            .collect()
    }
}

#[async_trait]
impl CrmSimulator for ActiveCampaignSim {
    fn name(&self) -> &str {
        crate::profile::PROFILE_NAME
    }

    fn base_url(&self) -> String {
        self.api_url()
    }

    fn sink(&self) -> Result<Arc<dyn CrmSink>> {
        Ok(Arc::new(ActiveCampaign::new(
            self.connector_config()?.build()?,
        )?))
    }

    fn crm_source(&self) -> Result<Option<Arc<dyn CrmSource>>> {
        Ok(Some(Arc::new(ActiveCampaign::new(
            self.connector_config()?.build()?,
        )?)))
    }

    /// Registers `url/<webhook_secret>`: ActiveCampaign signs nothing, so the secret the
    /// connector checks travels as the URL's last path segment.
    async fn deliver_webhooks_to(&self, url: &str) -> Result<()> {
        let url = format!(
            "{}/{}",
            url.trim_end_matches('/'),
            cartograph_http::url::path_segment(
                &self.shared.config.webhook_secret,
                "webhook_secret"
            )?
        );
        // Idempotent: a second subscription to `url` would deliver every event twice.
        let mut state = self.shared.state();
        if !state.has_webhook(&url) {
            state.add_webhook(&url, true);
        }
        Ok(())
    }

    fn contacts(&self) -> Vec<SimRecordView> {
        self.shared.state().contact_views()
    }

    fn contact_by_email(&self, email: &str) -> Option<SimRecordView> {
        let state = self.shared.state();
        let id = state.contact_by_email(email)?;
        state.contact_views().into_iter().find(|c| c.id == id)
    }

    fn order_records(&self) -> Vec<SimRecordView> {
        self.shared.state().order_views()
    }

    fn edit_order_record(&self, id: &str, property: &str, value: &str) -> bool {
        let value =
            serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()));
        self.shared.state().edit_order(id, property, value)
    }

    fn delete_order_record(&self, id: &str) -> bool {
        self.shared.state().delete_order(id)
    }

    fn tasks(&self) -> Vec<SimRecordView> {
        self.shared.state().note_views()
    }

    fn enrollments(&self) -> Vec<(String, String)> {
        self.shared.state().enrollments.clone()
    }

    fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}
