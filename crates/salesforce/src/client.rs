//! [`SalesforceClient`]: one method per Salesforce REST call, sent through `cartograph-http`
//! (OAuth 2.0 with one refresh after a 401, pacing, retries, `Sforce-Limit-Info`).
//!
//! The REST root is `{instance_url}/services/data/{version}`; the instance URL comes from
//! the token response (or the config override), so the HTTP client is built on first use.

use cartograph_http::url::path_segment;
use std::sync::Arc;

use cartograph_connector::{Error, ErrorKind, Result, TransportStats};
use cartograph_http::http::{HeaderName, HeaderValue};
use cartograph_http::{HttpClient, OAuth2, RateLimiter, Request};
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

#[derive(Debug)]
struct Inner {
    config: SalesforceConfig,
    oauth: Arc<OAuth2>,
    limiter: Arc<RateLimiter>,
    http: OnceCell<HttpClient>,
    call_options: HeaderValue,
}

fn decode(what: &str, e: impl std::fmt::Display) -> Error {
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
                http: OnceCell::new(),
                call_options,
            }),
        })
    }

    /// Transport counters (zero before the first call).
    pub fn stats(&self) -> TransportStats {
        self.inner
            .http
            .get()
            .map(HttpClient::stats)
            .unwrap_or_default()
    }

    /// The instance URL in use (after the first call).
    pub fn instance_url(&self) -> Option<String> {
        self.inner
            .http
            .get()
            .map(|h| h.base_url().as_str().to_owned())
    }

    async fn http(&self) -> Result<&HttpClient> {
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
                let http_config = config.settings.http_config(
                    config.rest_root(&instance)?,
                    auth,
                    Some(Arc::clone(&self.inner.limiter)),
                );
                HttpClient::new(http_config, Arc::new(SalesforcePolicy))
            })
            .await
    }

    fn write(&self, request: Request) -> Request {
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
        let records: Vec<Value> = records
            .into_iter()
            .map(|mut r| {
                if let Some(map) = r.as_object_mut() {
                    map.insert("attributes".into(), json!({ "type": sobject }));
                }
                r
            })
            .collect();
        let http = self.http().await?;
        let results: Vec<SaveResult> = http
            .send_json(
                self.write(
                    Request::patch(format!(
                        "composite/sobjects/{}/{}",
                        path_segment(sobject, "sobject")?,
                        path_segment(field, "external id field")?
                    ))
                    .operation(operation)
                    .json(json!({ "allOrNone": false, "records": records }))
                    // An upsert by External ID is idempotent.
                    .retry_safe(true),
                ),
            )
            .await?;
        if results.len() != n {
            return Err(decode(
                "collection results",
                format!("{} results for {n} records", results.len()),
            ));
        }
        Ok(results)
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
        let records: Vec<Value> = records
            .into_iter()
            .map(|mut r| {
                if let Some(map) = r.as_object_mut() {
                    map.insert("attributes".into(), json!({ "type": sobject }));
                }
                r
            })
            .collect();
        let http = self.http().await?;
        let results: Vec<SaveResult> = http
            .send_json(
                self.write(
                    Request::patch("composite/sobjects")
                        .operation(operation)
                        .json(json!({ "allOrNone": false, "records": records }))
                        .retry_safe(true),
                ),
            )
            .await?;
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
