//! A stateful HubSpot portal served over HTTP on `127.0.0.1` (feature `sim`).
//!
//! It answers the paths and shapes the connector uses (both `v3` and `2026-03` families):
//! contacts unique by email (case-insensitive, secondary emails too), deals (`deals` and
//! `0-3`), line items, products, orders, tasks, v4 associations, lists and memberships,
//! property definitions and groups, legacy v2 enrollment and the OAuth token endpoint.
//! Writes are validated like HubSpot does (unknown property -> 400
//! `PROPERTY_DOESNT_EXIST`, wrong-typed value -> 207/400, more than 100 inputs -> 400, two
//! inputs for one record -> 400), batches half-succeed with 207, search stops at 10,000
//! results, every response carries the `X-HubSpot-RateLimit-*` headers of a per-portal
//! limiter (a [`cartograph_sim::Quota`] on the simulator's [`TimeScale`]), and faults
//! (429 `TEN_SECONDLY_ROLLING`, 5xx, latency, dropped connections) are injected by the
//! shared [`FaultInjector`], randomly with a seed ([`SimConfig::faults`]) or in order
//! ([`HubSpotSim::faults`]). Contact changes are posted as signed v3 webhooks to a
//! registered URL.

mod harness;
mod limits;
mod meta;
mod objects;
mod routes;
mod state;
mod webhook;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cartograph_connector::Result;
use cartograph_http::Secret;
use cartograph_model::Timestamp;

pub use cartograph_sim::{Exchange, Fault};
use cartograph_sim::{FaultInjector, FaultRates, TimeScale};
pub use state::{SimList, SimProperty, SimRecord};

use crate::config::{HubSpotAuth, HubSpotConfig, HubSpotConfigBuilder};

/// Settings of a simulated portal.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Portal (hub) id.
    pub portal_id: u64,
    /// The app id put on API-made changes (`sourceId`).
    pub app_id: String,
    /// Accepted private-app token.
    pub token: String,
    /// App client secret (webhook signatures, OAuth).
    pub client_secret: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth refresh token accepted by `/oauth/v1/token`.
    pub refresh_token: String,
    /// `expires_in` of issued OAuth tokens.
    pub token_lifetime_secs: u64,
    /// Requests per 10 s window.
    pub burst: u32,
    /// Requests per day.
    pub daily: u32,
    /// Real seconds per portal second: the 10 s window lasts `10 s * time_scale`
    /// (0.01 runs the portal 100x faster; [`TimeScale::REAL`] is real time).
    pub time_scale: TimeScale,
    /// Random injected faults (seeded); a 429 is HubSpot's `TEN_SECONDLY_ROLLING`.
    pub faults: FaultRates,
}

impl SimConfig {
    /// The connector config for a portal with these settings served at `base_url` (also
    /// one in another process): the private-app token, client secret and app id, and the
    /// portal's own limits on the simulator's clock. What [`HubSpotSim::connector_config`]
    /// returns.
    ///
    /// # Errors
    /// [`cartograph_connector::ErrorKind::Config`] naming `base_url` when it is not a URL.
    pub fn connector_config_at(&self, base_url: &str) -> Result<HubSpotConfigBuilder> {
        Ok(HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new(self.token.clone()),
        })
        .base_url(base_url)?
        .client_secret(Secret::new(self.client_secret.clone()))
        .app_id(self.app_id.clone())
        .rate_limit(cartograph_http::RateLimit::new(
            self.burst,
            self.time_scale.real(std::time::Duration::from_secs(10)),
        ))
        .daily_limit(self.daily))
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            portal_id: 62_515,
            app_id: "54321".into(),
            token: "sim-private-app-token".into(),
            client_secret: "sim-client-secret".into(),
            client_id: "sim-client-id".into(),
            refresh_token: "sim-refresh-token".into(),
            token_lifetime_secs: 1800,
            burst: 190,
            daily: 1_000_000,
            time_scale: TimeScale::REAL,
            faults: FaultRates {
                seed: 7,
                ..FaultRates::default()
            },
        }
    }
}

/// URL signed into webhook deliveries when no target is registered.
pub const DEFAULT_WEBHOOK_URL: &str = "https://hooks.example.com/hubspot";

pub(crate) struct Inner {
    pub(crate) config: SimConfig,
    pub(crate) portal: state::Portal,
    pub(crate) limiter: limits::Limiter,
    pub(crate) oauth_tokens: Vec<String>,
    pub(crate) revoked: Vec<String>,
    pub(crate) next_token: u64,
    pub(crate) next_event: u64,
    pub(crate) webhook_target: Option<String>,
    pub(crate) log: Vec<(String, String, serde_json::Value)>,
    pub(crate) deliveries: Vec<(String, bool)>,
    pub(crate) outbox: Vec<cartograph_connector::WebhookRequest>,
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
    pub(crate) faults: FaultInjector,
    pub(crate) answered: Mutex<FaultCounts>,
    http: reqwest::Client,
}

/// How many requests a portal refused or delayed, by kind (for tests that must see their
/// faults bite): injected faults and the portal's own limits alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Answered 429 (ten-secondly or daily limit, injected or from the quota).
    pub rate_limited: u64,
    /// Answered with a 5xx.
    pub server_errors: u64,
    /// Answered after an injected latency.
    pub delayed: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running simulated portal; the server stops when this is dropped.
pub struct HubSpotSim {
    shared: Arc<Shared>,
    base_url: String,
    task: tokio::task::JoinHandle<()>,
    answers: cartograph_sim::ExchangeLog,
}

impl std::fmt::Debug for HubSpotSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotSim")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for HubSpotSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl HubSpotSim {
    /// Starts a portal with `config` on `127.0.0.1` with a free port.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let limiter = limits::Limiter::new(config.burst, config.daily, config.time_scale);
        let shared = Arc::new(Shared {
            faults: FaultInjector::new(config.faults),
            answered: Mutex::new(FaultCounts::default()),
            inner: Mutex::new(Inner {
                config,
                portal: state::Portal::new(),
                limiter,
                oauth_tokens: Vec::new(),
                revoked: Vec::new(),
                next_token: 0,
                next_event: 0,
                webhook_target: None,
                log: Vec::new(),
                deliveries: Vec::new(),
                outbox: Vec::new(),
            }),
            http: reqwest::Client::new(),
        });
        let answers = cartograph_sim::ExchangeLog::default();
        let app = answers.layer(
            axum::Router::new()
                .fallback(routes::handle)
                .with_state(Arc::clone(&shared)),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            shared,
            base_url: format!("http://{addr}"),
            task,
            answers,
        })
    }

    /// Starts recording every answer (method, path, status, body) for
    /// [`HubSpotSim::answers`]; off by default.
    pub fn record_answers(&self) {
        self.answers.start();
    }

    /// The answers recorded since [`HubSpotSim::record_answers`], emptying the record.
    pub fn answers(&self) -> Vec<cartograph_sim::Exchange> {
        self.answers.take()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The settings.
    pub fn config(&self) -> SimConfig {
        self.shared.lock().config.clone()
    }

    /// A connector config pointing here with the private-app token, client secret and app
    /// id of this portal.
    ///
    /// # Errors
    /// [`cartograph_connector::ErrorKind::Config`] (not expected).
    pub fn connector_config(&self) -> Result<HubSpotConfigBuilder> {
        self.config().connector_config_at(&self.base_url)
    }

    /// Every record of an object type (`contacts`, `deals`, `0-3`...).
    pub fn records(&self, object: &str) -> Vec<SimRecord> {
        let object = state::canonical(object).unwrap_or("contacts");
        self.shared
            .lock()
            .portal
            .objects
            .get(object)
            .map(|o| o.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The contact whose primary email is `email` (case-insensitive).
    pub fn contact_by_email(&self, email: &str) -> Option<SimRecord> {
        let inner = self.shared.lock();
        let id = inner.portal.find_by("contacts", "email", email)?;
        inner.portal.objects.get("contacts")?.get(&id).cloned()
    }

    /// Creates a contact directly (no webhook), e.g. to seed data; returns its id.
    pub fn insert(
        &self,
        object: &str,
        properties: &[(&str, &str)],
        modified: Option<Timestamp>,
    ) -> String {
        let object = state::canonical(object).unwrap_or("contacts");
        let props = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut inner = self.shared.lock();
        let (id, _, _) = inner.portal.write(
            object,
            None,
            &props,
            modified.unwrap_or_else(Timestamp::now),
        );
        id.to_string()
    }

    /// Changes properties of a record as a HubSpot user would (no webhook); `false` when
    /// there is no such record.
    pub fn update(&self, object: &str, id: &str, properties: &[(&str, &str)]) -> bool {
        let object = state::canonical(object).unwrap_or("contacts");
        let Ok(id) = id.parse::<u64>() else {
            return false;
        };
        let mut inner = self.shared.lock();
        if !inner
            .portal
            .objects
            .get(object)
            .is_some_and(|r| r.contains_key(&id))
        {
            return false;
        }
        let props = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        inner
            .portal
            .write(object, Some(id), &props, Timestamp::now());
        true
    }

    /// Deletes (archives) a record as a HubSpot user would (no webhook); `false` when there
    /// is no such record.
    pub fn archive(&self, object: &str, id: &str) -> bool {
        let object = state::canonical(object).unwrap_or("contacts");
        let Ok(id) = id.parse::<u64>() else {
            return false;
        };
        let mut inner = self.shared.lock();
        let removed = inner
            .portal
            .objects
            .get_mut(object)
            .and_then(|r| r.remove(&id));
        let Some(removed) = removed else {
            return false;
        };
        let mut lookup = inner.portal.lookup.borrow_mut();
        for property in removed.properties.keys() {
            lookup.invalidate(object, property);
        }
        true
    }

    /// Adds a secondary email to a contact (`hs_additional_emails`).
    pub fn add_secondary_email(&self, contact_id: &str, email: &str) {
        let mut inner = self.shared.lock();
        if let Some(r) = contact_id
            .parse()
            .ok()
            .and_then(|id: u64| inner.portal.objects.get_mut("contacts")?.get_mut(&id))
        {
            let list = r
                .properties
                .entry("hs_additional_emails".into())
                .or_default();
            if !list.is_empty() {
                list.push(';');
            }
            list.push_str(&email.to_lowercase());
            inner
                .portal
                .lookup
                .borrow_mut()
                .invalidate("contacts", "hs_additional_emails");
        }
    }

    /// Changes contact properties as a HubSpot user would (`changeSource: CRM_UI`), and
    /// posts the webhook.
    pub async fn update_contact_as_user(&self, contact_id: &str, properties: &[(&str, &str)]) {
        let props = properties
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let change = {
            let mut inner = self.shared.lock();
            let Ok(id) = contact_id.parse::<u64>() else {
                return;
            };
            let (id, changed, created) =
                inner
                    .portal
                    .write("contacts", Some(id), &props, Timestamp::now());
            routes::Change {
                object: "contacts".into(),
                id,
                created,
                changed,
            }
        };
        webhook::emit(&self.shared, &[change], false).await;
    }

    /// Records associated with a record: `(to type, to id, association type id)`.
    pub fn associations(&self, object: &str, id: &str) -> Vec<(String, String, u32)> {
        let object = state::canonical(object).unwrap_or("contacts");
        self.shared
            .lock()
            .portal
            .associations
            .iter()
            .filter(|(f, fid, ..)| f == object && fid == id)
            .map(|(_, _, t, tid, type_id)| (t.clone(), tid.clone(), *type_id))
            .collect()
    }

    /// Names a `USER_DEFINED` association type: `batch/create` answers list `label` for
    /// pairs linked with `type_id`.
    pub fn define_association_label(&self, type_id: u32, label: &str) {
        self.shared
            .lock()
            .portal
            .association_labels
            .insert(type_id, label.to_owned());
    }

    /// Creates a list (`MANUAL`, `SNAPSHOT` or `DYNAMIC`); returns its id.
    pub fn create_list(&self, name: &str, processing_type: &str) -> String {
        let mut inner = self.shared.lock();
        let id = inner.portal.next_id().to_string();
        inner.portal.lists.insert(
            id.clone(),
            SimList {
                name: name.into(),
                processing_type: processing_type.into(),
                members: Vec::new(),
            },
        );
        id
    }

    /// Member record ids of a list, in join order.
    pub fn list_members(&self, list_id: &str) -> Vec<String> {
        self.shared
            .lock()
            .portal
            .lists
            .get(list_id)
            .map(|l| l.members.iter().map(|(m, _)| m.clone()).collect())
            .unwrap_or_default()
    }

    /// Legacy v2 enrollments `(workflow id, email)`.
    pub fn enrollments(&self) -> Vec<(String, String)> {
        self.shared.lock().portal.enrollments.clone()
    }

    /// A property definition.
    pub fn property(&self, object: &str, name: &str) -> Option<SimProperty> {
        let object = state::canonical(object)?;
        self.shared
            .lock()
            .portal
            .properties
            .get(object)?
            .get(name)
            .cloned()
    }

    /// Defines a custom property directly (group `cartograph`).
    pub fn define_property(
        &self,
        object: &str,
        name: &str,
        kind: &str,
        field_type: &str,
        options: &[&str],
        unique: bool,
    ) {
        let Some(object) = state::canonical(object) else {
            return;
        };
        let mut inner = self.shared.lock();
        inner
            .portal
            .groups
            .entry(object.into())
            .or_default()
            .entry("cartograph".into())
            .or_insert_with(|| "Cartograph".into());
        inner
            .portal
            .properties
            .entry(object.into())
            .or_default()
            .insert(
                name.into(),
                SimProperty {
                    name: name.into(),
                    kind: kind.into(),
                    field_type: field_type.into(),
                    options: options
                        .iter()
                        .map(|o| ((*o).to_owned(), (*o).to_owned()))
                        .collect(),
                    unique,
                    group: "cartograph".into(),
                    label: name.into(),
                    read_only: false,
                },
            );
    }

    /// Registers the URL contact changes are posted to.
    pub fn set_webhook_target(&self, url: impl Into<String>) {
        self.shared.lock().webhook_target = Some(url.into());
    }

    /// Webhook bodies posted so far and whether each got a 2xx.
    pub fn deliveries(&self) -> Vec<(String, bool)> {
        self.shared.lock().deliveries.clone()
    }

    /// Every webhook the portal built since the last call, signed for the registered target
    /// (or [`DEFAULT_WEBHOOK_URL`]), as a host would receive it.
    pub fn take_webhook_requests(&self) -> Vec<cartograph_connector::WebhookRequest> {
        std::mem::take(&mut self.shared.lock().outbox)
    }

    /// Requests received: `(method, path?query, JSON body)`.
    pub fn requests(&self) -> Vec<(String, String, serde_json::Value)> {
        self.shared.lock().log.clone()
    }

    /// The fault injector (queue faults for the next requests, change the random rates).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// Requests answered 429 or 5xx, or delayed by an injected latency, so far.
    pub fn fault_counts(&self) -> FaultCounts {
        *self
            .shared
            .answered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets how many requests are left today.
    pub fn set_daily_remaining(&self, remaining: u32) {
        self.shared.lock().limiter.set_daily_remaining(remaining);
    }

    /// Makes an issued OAuth access token invalid (the next call gets a 401).
    pub fn revoke_oauth_tokens(&self) {
        let mut inner = self.shared.lock();
        let tokens = inner.oauth_tokens.clone();
        inner.revoked.extend(tokens);
    }
}
