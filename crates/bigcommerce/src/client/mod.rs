//! [`Client`]: typed BigCommerce calls over the shared [`HttpClient`], returning wire types.
//!
//! Split by resource: customers (and groups, segments), orders (and refunds), catalog (and
//! carts), hooks. Mapping to the canonical model happens in [`crate::connector`].

mod catalog;
mod customers;
mod decode;
mod hooks;
mod orders;

use std::sync::Arc;

use cartograph_connector::{ErrorKind, Result};
use cartograph_http::{HeaderToken, HttpClient, RateLimiter, Request, RequestGate, Secret};
use serde::de::DeserializeOwned;

use crate::config::BigCommerceConfig;
use crate::error::BigCommercePolicy;
use crate::wire::Collection;

pub use catalog::ID_CHUNK;
pub use customers::CustomerQuery;
pub use decode::v2_rows;
pub use orders::OrderQuery;

/// Largest batch of customers per `POST`/`PUT /v3/customers`.
pub const CUSTOMER_BATCH: usize = 10;
/// Largest batch of shopper profiles per segment call.
pub const SEGMENT_BATCH: usize = 50;
/// Largest `limit` of v3 listings.
pub const MAX_LIMIT: u32 = 250;

/// Low-level BigCommerce API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
    config: Arc<BigCommerceConfig>,
}

impl Client {
    /// Transport figures of this client (requests, retries, 429s, 5xx).
    pub fn stats(&self) -> cartograph_connector::TransportStats {
        self.http.stats()
    }

    /// A client with its own connection pool, rate limiter and retry policy.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for invalid settings.
    pub fn new(config: BigCommerceConfig) -> Result<Self> {
        config.validate()?;
        let auth = HeaderToken::new("X-Auth-Token", Secret::new(config.access_token.expose()))?;
        let limiter = RateLimiter::shared(config.rate_limit())?;
        let http_config =
            config
                .settings
                .http_config(config.api_root()?, Arc::new(auth), Some(limiter));
        let policy = BigCommercePolicy::new(config.settings.retry.overload_delay);
        let http = HttpClient::new(http_config, Arc::new(policy))?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// Uses a host-provided `reqwest::Client` (shared pool, custom TLS).
    #[must_use]
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = self.http.with_http_client(http);
        self
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this client's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.http = self.http.with_request_gate(gate);
        self
    }

    /// The settings.
    pub fn config(&self) -> &BigCommerceConfig {
        &self.config
    }

    /// The underlying HTTP client (for calls this crate does not wrap).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    async fn json<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.http.send(request).await?.json()
    }

    /// A v2 listing page: `None` when the API answers 204 (past the last page).
    async fn v2_page<T: DeserializeOwned>(&self, request: Request) -> Result<Option<Vec<T>>> {
        v2_rows(&self.http.send(request).await?)
    }

    /// A single record, `None` on 404.
    async fn optional<T: DeserializeOwned>(&self, request: Request) -> Result<Option<T>> {
        match self.http.send(request).await {
            Ok(response) if response.status == 204 || response.is_empty() => Ok(None),
            Ok(response) => response.json().map(Some),
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn collection<T: DeserializeOwned>(&self, request: Request) -> Result<Collection<T>> {
        self.json(request).await
    }
}

/// Joins ids for an `:in` filter.
pub(crate) fn join_ids<T: ToString>(ids: &[T]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
