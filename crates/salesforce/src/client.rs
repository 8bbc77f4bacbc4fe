//! [`SalesforceClient`]: one method per Salesforce REST call, sent through `cartograph-http`
//! (OAuth 2.0 with one refresh after a 401, pacing, retries, `Sforce-Limit-Info`).
//!
//! The REST root is `{instance_url}/services/data/{version}`; the instance URL comes from
//! the token response (or the config override), so the HTTP client is built on first use.

use cartograph_http::url::path_segment;
use std::sync::Arc;

use cartograph_connector::{Error, ErrorKind, Result, TransportStats};
use cartograph_http::http::{HeaderName, HeaderValue};
use cartograph_http::{HttpClient, OAuth2, RateLimiter, Request, RequestGate};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::config::SalesforceConfig;
use crate::error::{ApiError, CONNECTOR, SalesforcePolicy};

/// One page of a SOQL query.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// Rows in the whole result.
    #[serde(default)]
    pub total_size: u64,
    /// Whether this is the last page.
    #[serde(default = "yes")]
    pub done: bool,
    /// The next page (`/services/data/vNN.N/query/01g...-2000`).
    #[serde(default)]
    pub next_records_url: Option<String>,
    /// The rows.
    #[serde(default)]
    pub records: Vec<Value>,
}

const fn yes() -> bool {
    true
}

/// One per-record result of an sObject Collections call.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SaveResult {
    /// The record id (on success).
    #[serde(default)]
    pub id: Option<String>,
    /// Whether the record was written.
    #[serde(default)]
    pub success: bool,
    /// Whether it was created (upsert: `false` = updated).
    #[serde(default)]
    pub created: bool,
    /// Errors of a failed record.
    #[serde(default)]
    pub errors: Vec<ApiError>,
}

/// Low-level Salesforce REST calls. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

#[derive(Clone, Debug)]
struct Inner {
    config: SalesforceConfig,
    oauth: Arc<OAuth2>,
    /// This client's own limiter: the configured rate and the daily-allocation pacing.
    limiter: Arc<RateLimiter>,
    /// A budget shared with other clients of the org (see [`SalesforceClient::with_request_gate`]).
    shared: Option<Arc<dyn RequestGate>>,
    http: OnceCell<HttpClient>,
    call_options: HeaderValue,
}

pub(crate) fn decode(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Decode, format!("cannot decode {what}: {e}")).with_connector(CONNECTOR)
}

/// Escapes a SOQL string literal (backslash and single quote).
///
/// ```
/// assert_eq!(cartograph_salesforce::client::soql_quote("O'Hara"), r"'O\'Hara'");
/// ```
pub fn soql_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A shared budget plus this client's own daily-allocation pacing: a request waits for the
/// own limiter (slowed or paused when the org's allocation runs low), then for the shared
/// budget; every response's limit header reaches both.
#[derive(Debug)]
struct PacedShared {
    pacing: Arc<RateLimiter>,
    shared: Arc<dyn RequestGate>,
}

#[async_trait::async_trait]
impl RequestGate for PacedShared {
    async fn acquire(&self) -> Result<()> {
        // the own limiter runs at the configured (account) rate, which one process alone
        // never exceeds anyway; what it adds is the pacing and the pause
        self.pacing.acquire().await;
        self.shared.acquire().await
    }

    fn observe(&self, signal: cartograph_http::RateLimitSignal) {
        self.pacing.observe(signal);
        self.shared.observe(signal);
    }
}

impl SalesforceClient {
    /// A client for `config` with its own OAuth 2.0 authenticator and pacing.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a bad config.
    pub fn new(config: &SalesforceConfig) -> Result<Self> {
        config.validate()?;
        let oauth = Arc::new(OAuth2::new(config.oauth()?)?);
        let limiter = RateLimiter::shared(config.rate_limit())?;
        let call_options = HeaderValue::from_str(&format!("client={}", config.call_client))
            .map_err(|_| {
                Error::new(ErrorKind::Config, "call_client is not a header value")
                    .with_connector(CONNECTOR)
                    .with_field("call_client")
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                config: config.clone(),
                oauth,
                limiter,
                shared: None,
                http: OnceCell::new(),
                call_options,
            }),
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// org, on every machine) after this client's own limiter (the configured rate, and the
    /// pacing before the daily allocation runs out, see [`crate::limits`]). Call it before
    /// the first request: the HTTP client is made (once) by the first call.
    #[must_use]
    pub fn with_request_gate(self, gate: Arc<dyn RequestGate>) -> Self {
        let mut inner = (*self.inner).clone();
        inner.shared = Some(gate);
        inner.http = OnceCell::new();
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The REST API version (`vNN.N`).
    pub fn api_version(&self) -> &str {
        &self.inner.config.api_version
    }

    /// Transport counters (zero before the first call).
    pub fn stats(&self) -> TransportStats {
        self.inner
            .http
            .get()
            .map(HttpClient::stats)
            .unwrap_or_default()
    }

    /// Until when requests are held back (daily allocation pacing or spent, see
    /// [`crate::limits`]); `None` when they may go now.
    pub fn paused_until(&self) -> Option<tokio::time::Instant> {
        self.inner.limiter.paused_until()
    }

    /// The user id at the end of the token response's `id` URL (see
    /// [`crate::Salesforce::integration_user_id`]).
    ///
    /// # Errors
    /// The token call failed.
    pub async fn integration_user_id(&self) -> Result<Option<String>> {
        let id = self.inner.oauth.token_field("id").await?;
        Ok(id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|url| url.trim_end_matches('/').rsplit('/').next())
            .filter(|user| user.starts_with("005"))
            .map(str::to_owned))
    }

    /// The instance URL in use (after the first call).
    pub fn instance_url(&self) -> Option<String> {
        self.inner
            .http
            .get()
            .map(|h| h.base_url().as_str().to_owned())
    }

    pub(crate) async fn http(&self) -> Result<&HttpClient> {
        self.inner
            .http
            .get_or_try_init(|| async {
                let config = &self.inner.config;
                let instance = match config.instance_override() {
                    Some(url) => url,
                    None => self
                        .inner
                        .oauth
                        .token_field("instance_url")
                        .await?
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .ok_or_else(|| {
                            decode("token response", "no instance_url").with_field("instance_url")
                        })?,
                };
                let auth: Arc<dyn cartograph_http::Authenticator> = self.inner.oauth.clone();
                let gate: Arc<dyn RequestGate> = match &self.inner.shared {
                    Some(shared) => Arc::new(PacedShared {
                        pacing: Arc::clone(&self.inner.limiter),
                        shared: Arc::clone(shared),
                    }),
                    None => Arc::clone(&self.inner.limiter) as Arc<dyn RequestGate>,
                };
                let http_config = config
                    .settings
                    .http_config(config.rest_root(&instance)?, auth, None)
                    .with_request_gate(gate);
                HttpClient::new(
                    http_config,
                    Arc::new(SalesforcePolicy::new(config.slow_down_at_percent)),
                )
            })
            .await
    }

    pub(crate) fn write(&self, request: Request) -> Request {
        request.header(
            HeaderName::from_static("sforce-call-options"),
            self.inner.call_options.clone(),
        )
    }

    /// Runs a SOQL query and follows `nextRecordsUrl` until `done`.
    ///
    /// # Errors
    /// Transport and vendor errors (`MALFORMED_QUERY` is `Invalid`).
    pub async fn query(&self, soql: &str, operation: &'static str) -> Result<Vec<Value>> {
        let http = self.http().await?;
        let mut page: QueryPage = http
            .send_json(Request::get("query").operation(operation).query("q", soql))
            .await?;
        let mut out = std::mem::take(&mut page.records);
        while !page.done {
            let Some(next) = page.next_records_url.take() else {
                break;
            };
            // `/services/data/v62.0/query/01g...-2000` -> `query/01g...-2000`.
            let rel = next
                .split_once("/query/")
                .map_or(next.as_str(), |(_, rest)| rest);
            page = http
                .send_json(Request::get(format!("query/{rel}")).operation(operation))
                .await?;
            out.append(&mut page.records);
        }
        Ok(out)
    }

    /// One page of a SOQL query: the first (`locator` `None`, `GET query?q=`) or the one a
    /// previous page's `nextRecordsUrl` points at (`locator` = the part after `/query/`).
    ///
    /// # Errors
    /// Transport and vendor errors (`INVALID_QUERY_LOCATOR` is `Invalid`).
    pub async fn query_page(
        &self,
        soql: &str,
        locator: Option<&str>,
        operation: &'static str,
    ) -> Result<QueryPage> {
        let http = self.http().await?;
        let request = match locator {
            None => Request::get("query").operation(operation).query("q", soql),
            Some(l) => Request::get(format!("query/{}", path_segment(l, "query locator")?))
                .operation(operation),
        };
        http.send_json(request).await
    }

    /// `PATCH /composite/sobjects/{sobject}/{field}` (`allOrNone: false`): upserts up to
    /// 200 records by External ID; one result per record, in order.
    ///
    /// # Errors
    /// Transport and vendor errors of the whole call.
    pub async fn upsert(
        &self,
        sobject: &str,
        field: &str,
        records: Vec<Value>,
        operation: &'static str,
    ) -> Result<Vec<SaveResult>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let n = records.len();
        let records = crate::composite::typed(sobject, records);
        self.send_collection(
            Request::patch(format!(
                "composite/sobjects/{}/{}",
                path_segment(sobject, "sobject")?,
                path_segment(field, "external id field")?
            ))
            .operation(operation)
            .json(json!({ "allOrNone": false, "records": records }))
            // An upsert by External ID is idempotent.
            .retry_safe(true),
            n,
        )
        .await
    }

    /// `PATCH /composite/sobjects` (`allOrNone: false`): updates up to 200 records by
    /// record id (`Id` in each body); one result per record, in order.
    ///
    /// # Errors
    /// Transport and vendor errors of the whole call.
    pub async fn update(
        &self,
        sobject: &str,
        records: Vec<Value>,
        operation: &'static str,
    ) -> Result<Vec<SaveResult>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let n = records.len();
        let records = crate::composite::typed(sobject, records);
        self.send_collection(
            Request::patch("composite/sobjects")
                .operation(operation)
                .json(json!({ "allOrNone": false, "records": records }))
                .retry_safe(true),
            n,
        )
        .await
    }

    /// Sends a collection write (with `Sforce-Call-Options`) expecting `n` results.
    pub(crate) async fn send_collection(
        &self,
        request: Request,
        n: usize,
    ) -> Result<Vec<SaveResult>> {
        let http = self.http().await?;
        let results: Vec<SaveResult> = http.send_json(self.write(request)).await?;
        if results.len() != n {
            return Err(decode(
                "collection results",
                format!("{} results for {n} records", results.len()),
            ));
        }
        Ok(results)
    }

    /// `POST /sobjects/{sobject}`: creates one record; its id.
    ///
    /// # Errors
    /// Transport and vendor errors (duplicates are `Conflict`).
    pub async fn create(
        &self,
        sobject: &str,
        body: Value,
        operation: &'static str,
    ) -> Result<String> {
        let http = self.http().await?;
        let result: SaveResult = http
            .send_json(
                self.write(
                    Request::post(format!("sobjects/{}", path_segment(sobject, "sobject")?))
                        .operation(operation),
                )
                .json(body),
            )
            .await?;
        result
            .id
            .filter(|_| result.success)
            .ok_or_else(|| decode("create result", "no id"))
    }

    /// The field names of an sObject (`GET /sobjects/{sobject}/describe`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn describe_fields(&self, sobject: &str) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Describe {
            #[serde(default)]
            fields: Vec<Field>,
        }
        #[derive(Deserialize)]
        struct Field {
            name: String,
        }
        let http = self.http().await?;
        let d: Describe = http
            .send_json(
                Request::get(format!(
                    "sobjects/{}/describe",
                    path_segment(sobject, "sobject")?
                ))
                .operation("describe"),
            )
            .await?;
        Ok(d.fields.into_iter().map(|f| f.name).collect())
    }

    /// Creates a custom field with the Tooling API (`POST /tooling/sobjects/CustomField`).
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn create_custom_field(
        &self,
        sobject: &str,
        name: &str,
        metadata: Value,
    ) -> Result<String> {
        let http = self.http().await?;
        let result: SaveResult = http
            .send_json(
                self.write(
                    Request::post("tooling/sobjects/CustomField").operation("ensure_properties"),
                )
                .json(json!({ "FullName": format!("{sobject}.{name}"), "Metadata": metadata })),
            )
            .await?;
        result
            .id
            .filter(|_| result.success)
            .ok_or_else(|| decode("CustomField result", "no id"))
    }
}
