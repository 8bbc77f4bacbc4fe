//! A stateful Salesforce org on a local port (feature `sim`), faithful to the parts of the
//! REST API the connector uses: the OAuth 2.0 token endpoint (`/services/oauth2/token`,
//! answering a local `instance_url` and no `expires_in`), bearer sessions that can be
//! expired (401 `INVALID_SESSION_ID`), the SOQL subset the connector sends with
//! `nextRecordsUrl` paging, `describe`, sObject Collections upsert by External ID (200 cap,
//! per-record results in order, `DUPLICATE_EXTERNAL_ID`, required fields, an optional
//! duplicate rule answering `DUPLICATES_DETECTED`), Lead conversion
//! ([`SalesforceSim::convert_lead`]; writes to a converted Lead answer
//! `CANNOT_UPDATE_CONVERTED_LEAD`), record creation (CampaignMember
//! duplicates answer `DUPLICATE_VALUE`), Tooling API `CustomField` creation,
//! `Sforce-Limit-Info` from a daily allocation ([`Quota`], 403 `REQUEST_LIMIT_EXCEEDED` when
//! spent), [`FaultInjector`] faults and a [`TimeScale`]. Products and orders: Product2,
//! an active standard Pricebook2, PricebookEntry and OpportunityLineItem with Salesforce's
//! required-field and reference checks, `Amount` summed from the lines, collection creates
//! and deletes, and `POST /composite` (25 subrequests, 5 collections, `@{ref}` chaining,
//! `allOrNone` rollback with `PROCESSING_HALTED`); optional multi-currency.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
//! use cartograph_salesforce::Salesforce;
//!
//! let sim = SalesforceSim::start(SimConfig::fast()).await?;
//! let sf = Salesforce::new(sim.connector_config()?.build()?)?;
//! # let _ = sf; Ok(()) }
//! ```

mod auth;
mod campaigns;
mod cdc;
mod limits;
mod soql;
mod state;
mod upsert_one;

pub use auth::generate_rsa_key_pair;
pub use cdc::{INTEGRATION_USER_ID, UI_USER_ID};

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use cartograph_connector::{CrmSink, CrmSource, Result, async_trait};
use cartograph_http::{RateLimit, RetryPolicy, Secret};
use cartograph_model::EnrollmentTarget;
use cartograph_sim::{
    CrmSimulator, Fault, FaultInjector, FaultRates, Quota, SimRecordView, SimServer, TimeScale,
};
use serde_json::{Value, json};

use crate::Salesforce;
use crate::config::{Environment, SalesforceAuth, SalesforceConfig, SalesforceConfigBuilder};
use state::State;

/// Simulator settings.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The connected app's consumer key (other ids get `invalid_client`).
    pub client_id: String,
    /// The connected app's consumer secret.
    pub client_secret: String,
    /// Real seconds per simulated second.
    pub time_scale: TimeScale,
    /// Daily API request allocation (rolling 24 h vendor time); 0 = unlimited.
    pub daily_requests: u32,
    /// Rows per query page (Salesforce: 2000).
    pub query_page_size: usize,
    /// An active duplicate rule on Contact/Lead Email (creates answer `DUPLICATES_DETECTED`).
    pub duplicate_rule: bool,
    /// Whether the connector's External ID fields already exist (`Cartograph_Key__c` on
    /// Contact, Lead, Task, Case; `Ecom_Order_Id__c` on Opportunity).
    pub preinstall_external_ids: bool,
    /// Multi-currency: `CurrencyIsoCode` on Opportunity, Product2, PricebookEntry and
    /// OpportunityLineItem (entries then exist per product and currency).
    pub multi_currency: bool,
    /// Random faults.
    pub faults: FaultRates,
    /// Public key (PEM SubjectPublicKeyInfo) of the connected app's certificate: JWT bearer
    /// assertions must verify with it; `None` = the JWT flow is refused.
    pub jwt_public_key: Option<String>,
    /// The pre-authorised user JWT assertions must name in `sub`.
    pub jwt_username: String,
    /// The `aud` JWT assertions must carry (a sandbox org: `https://test.salesforce.com`).
    pub jwt_audience: String,
    /// The CDC relay's shared secret, sent with every change-event delivery.
    pub cdc_relay_secret: String,
}

impl Default for SimConfig {
    /// Real time, 100,000 requests a day, 2000-row pages, no duplicate rule, no faults.
    fn default() -> Self {
        Self {
            client_id: "sim-client-id".into(),
            client_secret: "sim-client-secret".into(),
            time_scale: TimeScale::REAL,
            daily_requests: 100_000,
            query_page_size: 2000,
            duplicate_rule: false,
            preinstall_external_ids: true,
            multi_currency: false,
            faults: FaultRates::default(),
            jwt_public_key: None,
            jwt_username: "integration@sim.example".into(),
            jwt_audience: crate::config::SANDBOX_LOGIN_URL.into(),
            cdc_relay_secret: "sim-cdc-relay-secret".into(),
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

struct Shared {
    config: SimConfig,
    state: Mutex<State>,
    quota: Mutex<Quota>,
    faults: FaultInjector,
    requests: AtomicU64,
    tokens: Mutex<HashSet<String>>,
    token_calls: AtomicU64,
    base_url: Mutex<String>,
    log: Mutex<Vec<(String, String, Value)>>,
    cdc: Mutex<cdc::Channel>,
    http: cartograph_http::reqwest::Client,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

/// A running simulated Salesforce org.
pub struct SalesforceSim {
    shared: Arc<Shared>,
    server: SimServer,
}

impl std::fmt::Debug for SalesforceSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceSim")
            .field("base_url", &self.server.base_url())
            .finish_non_exhaustive()
    }
}

impl SalesforceSim {
    /// Starts an org on `127.0.0.1`.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let quota = Quota::new(
            config.daily_requests,
            Duration::from_secs(24 * 3600),
            config.time_scale,
        );
        let mut state = State::new(
            config.query_page_size,
            config.duplicate_rule,
            config.preinstall_external_ids,
        );
        if config.multi_currency {
            state.enable_multi_currency();
        }
        let shared = Arc::new(Shared {
            faults: FaultInjector::new(config.faults),
            state: Mutex::new(state),
            config,
            quota: Mutex::new(quota),
            requests: AtomicU64::new(0),
            tokens: Mutex::new(HashSet::new()),
            token_calls: AtomicU64::new(0),
            base_url: Mutex::new(String::new()),
            log: Mutex::new(Vec::new()),
            cdc: Mutex::new(cdc::Channel::default()),
            // A relay target that hangs must not hang the org's API answers.
            http: cartograph_http::reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
        });
        cdc::install_fields(&mut shared.state());
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let server = SimServer::serve(router).await?;
        *lock(&shared.base_url) = server.base_url();
        Ok(Self { shared, server })
    }

    /// A config builder pointed at this org: sandbox environment, login host = the
    /// simulator, client-credentials auth, retry delays that follow the time scale.
    ///
    /// # Errors
    /// Never for a running simulator.
    pub fn connector_config(&self) -> Result<SalesforceConfigBuilder> {
        let scale = self.shared.config.time_scale;
        Ok(SalesforceConfig::builder(
            Environment::Sandbox,
            SalesforceAuth::ClientCredentials {
                client_id: self.shared.config.client_id.clone(),
                client_secret: Secret::new(self.shared.config.client_secret.clone()),
            },
        )
        .login_url(self.server.base_url())
        .cdc_relay_secret(Secret::new(self.shared.config.cdc_relay_secret.clone()))
        .rate_limit(RateLimit::new(10_000, Duration::from_secs(1)))
        .retry(
            RetryPolicy::default()
                .with_max_attempts(6)
                .with_delays(
                    scale.real(Duration::from_millis(200)),
                    scale.real(Duration::from_secs(5)),
                )
                .with_overload_delay(scale.real(Duration::from_secs(1))),
        ))
    }

    /// Invalidates every session (the next REST call gets 401 `INVALID_SESSION_ID`).
    pub fn expire_sessions(&self) {
        lock(&self.shared.tokens).clear();
    }

    /// Token calls served.
    pub fn token_calls(&self) -> u64 {
        self.shared.token_calls.load(Ordering::Relaxed)
    }

    /// Turns the Contact/Lead duplicate rule on or off.
    pub fn set_duplicate_rule(&self, on: bool) {
        self.shared.state().duplicate_rule = on;
    }

    /// The fault injector (queue faults for the next requests).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// Records of any sObject.
    pub fn records(&self, sobject: &str) -> Vec<SimRecordView> {
        self.shared.state().views(sobject)
    }

    /// Creates a Campaign; its id.
    pub fn create_campaign(&self, name: &str) -> String {
        let mut fields = serde_json::Map::new();
        fields.insert("Name".into(), json!(name));
        fields.insert("IsActive".into(), json!(true));
        self.shared.state().insert("Campaign", fields)
    }

    /// Converts a Lead as a sales rep would (a new Account and Contact; the Lead keeps its
    /// fields, is marked `IsConverted` and names the Contact in `ConvertedContactId`, and
    /// every later write to it fails with `CANNOT_UPDATE_CONVERTED_LEAD`). The Contact's
    /// id; `None` for an unknown or already converted Lead.
    pub fn convert_lead(&self, lead_id: &str) -> Option<String> {
        self.as_user(|state| state.convert_lead(lead_id))
    }

    /// Creates a record as a person in the UI would (e.g. a Contact without the External
    /// ID); its id.
    pub fn create_as_user(&self, sobject: &str, fields: serde_json::Map<String, Value>) -> String {
        self.as_user(|state| state.insert_as_user(sobject, fields))
    }

    /// Changes fields of a record as a person in the UI would; `false` when there is no
    /// such record.
    pub fn update_as_user(
        &self,
        sobject: &str,
        id: &str,
        fields: serde_json::Map<String, Value>,
    ) -> bool {
        let mut state = self.shared.state();
        let Some(row) = state
            .rows
            .get_mut(sobject)
            .and_then(|rows| rows.iter_mut().find(|r| r.id == id))
        else {
            return false;
        };
        row.fields.extend(fields);
        true
    }

    /// Deletes a record as a person in the UI would; `false` when there is no such record.
    pub fn delete_as_user(&self, sobject: &str, id: &str) -> bool {
        let mut state = self.shared.state();
        let Some(rows) = state.rows.get_mut(sobject) else {
            return false;
        };
        let before = rows.len();
        rows.retain(|r| r.id != id);
        rows.len() != before
    }

    /// Every write's `Sforce-Call-Options` client id, in order.
    pub fn call_clients(&self) -> Vec<String> {
        self.shared.state().call_clients.clone()
    }

    /// Every REST request with a JSON body: method, path below `/services/data/vNN.N`, body.
    pub fn request_log(&self) -> Vec<(String, String, Value)> {
        lock(&self.shared.log).clone()
    }
}

fn reply(status: u16, body: &Value, usage: Option<(u32, u32)>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        code,
        [("content-type", "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    if let Some((used, limit)) = usage
        && let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{limit}"))
    {
        response.headers_mut().insert("sforce-limit-info", v);
    }
    response
}

fn with_retry_after(mut response: Response, real: Duration) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("{:.3}", real.as_secs_f64())) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}

fn token(shared: &Shared, body: &Bytes) -> Response {
    shared.token_calls.fetch_add(1, Ordering::Relaxed);
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let jwt =
        form.get("grant_type").map(String::as_str) == Some(cartograph_http::JWT_BEARER_GRANT_TYPE);
    if jwt
        && let Err((error, description)) = auth::check_assertion(
            &shared.config,
            &form,
            cartograph_model::Timestamp::now().unix_seconds(),
        )
    {
        return reply(
            400,
            &json!({"error": error, "error_description": description}),
            None,
        );
    }
    let id_ok = form.get("client_id") == Some(&shared.config.client_id)
        && form.get("client_secret") == Some(&shared.config.client_secret);
    if !jwt && !id_ok {
        return reply(
            400,
            &json!({"error": "invalid_client", "error_description": "invalid client credentials"}),
            None,
        );
    }
    let n = shared.token_calls.load(Ordering::Relaxed);
    let access = format!("00DSIM!sim-session-{n}");
    lock(&shared.tokens).insert(access.clone());
    let base = lock(&shared.base_url).clone();
    reply(
        200,
        &json!({
            "access_token": access,
            "instance_url": base,
            "id": format!("{base}/id/00DSIM000000001/005SIM000000001"),
            "token_type": "Bearer",
            "issued_at": cartograph_model::Timestamp::now().unix_millis().to_string(),
            "signature": "c2lt",
        }),
        None,
    )
}

async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let path = uri.path().trim_start_matches('/').to_owned();
    if path == "services/oauth2/token" && method == Method::POST {
        return token(&shared, &body);
    }
    let Some(rest) = path.strip_prefix("services/data/") else {
        return reply(
            404,
            &json!([{"errorCode": "NOT_FOUND", "message": "not found"}]),
            None,
        );
    };
    let Some((_version, rest)) = rest.split_once('/') else {
        return reply(
            404,
            &json!([{"errorCode": "NOT_FOUND", "message": "not found"}]),
            None,
        );
    };
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if !bearer.is_some_and(|t| lock(&shared.tokens).contains(&t)) {
        return reply(
            401,
            &json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            None,
        );
    }
    let scale = shared.config.time_scale;
    let quota = lock(&shared.quota).take();
    let usage = (shared.config.daily_requests > 0)
        .then(|| (quota.limit.saturating_sub(quota.remaining), quota.limit));
    if !quota.allowed {
        let wait = scale.real(quota.reset_after.max(Duration::from_secs(1)));
        return with_retry_after(
            reply(
                403,
                &json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
                usage,
            ),
            wait,
        );
    }
    let fault = shared.faults.next_fault();
    match fault {
        Some(Fault::RateLimited(after)) => {
            return with_retry_after(
                reply(
                    403,
                    &json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]),
                    usage,
                ),
                scale.real(after),
            );
        }
        Some(Fault::ServerError(status)) => {
            return reply(
                status,
                &json!([{"message": "Service Unavailable", "errorCode": "SERVER_UNAVAILABLE"}]),
                usage,
            );
        }
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        // A dropped connection: the request is served, its answer cut off (below).
        Some(Fault::Drop) | None => {}
    }
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let json_body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return reply(
                    400,
                    &json!([{"message": "Unexpected character", "errorCode": "JSON_PARSER_ERROR"}]),
                    usage,
                );
            }
        }
    };
    if !json_body.is_null() {
        lock(&shared.log).push((method.to_string(), rest.to_owned(), json_body.clone()));
    }
    let client = headers
        .get("sforce-call-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("client=")))
        .map(str::to_owned);
    let (status, value, events) = {
        let mut state = shared.state();
        let before = (method != Method::GET).then(|| cdc::snapshot(&state));
        let (status, value) = match (method.as_str(), segments.as_slice()) {
            ("PATCH", ["sobjects", object, field, value]) => upsert_one::upsert(
                &mut state,
                object,
                field,
                value,
                &json_body,
                client.as_deref(),
            ),
            _ => state.handle(
                method.as_str(),
                &segments,
                &query,
                &json_body,
                client.as_deref(),
            ),
        };
        let events = before.map_or_else(Vec::new, |before| {
            let writer = cdc::Writer::Api(client.clone());
            cdc::diff(
                &mut state,
                &before,
                &writer,
                &mut lock(&shared.cdc).next_replay,
            )
        });
        (status, value, events)
    };
    cdc::publish(&shared, events).await;
    let response = reply(status, &value, usage);
    if fault == Some(Fault::Drop) {
        return cartograph_sim::faults::cut_body(response);
    }
    response
}

#[async_trait]
impl CrmSimulator for SalesforceSim {
    fn name(&self) -> &str {
        crate::profile::PROFILE_NAME
    }

    fn base_url(&self) -> String {
        self.server.base_url()
    }

    fn sink(&self) -> Result<Arc<dyn CrmSink>> {
        Ok(Arc::new(Salesforce::new(
            self.connector_config()?.build()?,
        )?))
    }

    fn crm_source(&self) -> Result<Option<Arc<dyn CrmSource>>> {
        Ok(Some(Arc::new(Salesforce::new(
            self.connector_config()?.build()?,
        )?)))
    }

    async fn deliver_webhooks_to(&self, url: &str) -> Result<()> {
        lock(&self.shared.cdc).target = Some(url.to_owned());
        Ok(())
    }

    fn contacts(&self) -> Vec<SimRecordView> {
        let state = self.shared.state();
        let mut out = state.views("Contact");
        out.extend(state.views("Lead"));
        out
    }

    fn contact_by_email(&self, email: &str) -> Option<SimRecordView> {
        self.contacts().into_iter().find(|c| {
            c.properties
                .get("Email")
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }

    fn order_records(&self) -> Vec<SimRecordView> {
        self.records("Opportunity")
    }

    fn edit_order_record(&self, id: &str, property: &str, value: &str) -> bool {
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.into()));
        let mut fields = serde_json::Map::new();
        fields.insert(property.to_owned(), value);
        self.update_as_user("Opportunity", id, fields)
    }

    fn delete_order_record(&self, id: &str) -> bool {
        self.delete_as_user("Opportunity", id)
    }

    fn tasks(&self) -> Vec<SimRecordView> {
        let state = self.shared.state();
        let mut out = state.views("Task");
        out.extend(state.views("Case"));
        out
    }

    fn enrollments(&self) -> Vec<(String, String)> {
        self.records("CampaignMember")
            .into_iter()
            .map(|m| {
                let person = m
                    .properties
                    .get("ContactId")
                    .or_else(|| m.properties.get("LeadId"))
                    .cloned()
                    .unwrap_or_default();
                (
                    person,
                    m.properties.get("CampaignId").cloned().unwrap_or_default(),
                )
            })
            .collect()
    }

    fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    fn create_enrollment_target(&self, name: &str) -> Option<EnrollmentTarget> {
        Some(EnrollmentTarget::Campaign {
            id: self.create_campaign(name),
        })
    }

    fn enrolled_in(&self, target: &EnrollmentTarget) -> usize {
        match target {
            EnrollmentTarget::Campaign { id } => self
                .enrollments()
                .iter()
                .filter(|(_, campaign)| campaign == id)
                .count(),
            _ => 0,
        }
    }

    fn set_fault_rates(&self, rate_limited: f64, server_errors: f64) {
        self.shared.faults.set_rates(FaultRates {
            rate_limited,
            server_error: server_errors,
            ..self.shared.config.faults
        });
    }

    fn record_counts(&self) -> Vec<(String, usize)> {
        let state = self.shared.state();
        [
            ("contacts", "Contact"),
            ("leads", "Lead"),
            ("opportunities", "Opportunity"),
            ("tasks", "Task"),
            ("cases", "Case"),
            ("campaign members", "CampaignMember"),
            ("accounts", "Account"),
            ("products", "Product2"),
            ("price book entries", "PricebookEntry"),
            ("opportunity line items", "OpportunityLineItem"),
        ]
        .into_iter()
        .map(|(label, object)| (label.to_owned(), state.views(object).len()))
        .collect()
    }
}
