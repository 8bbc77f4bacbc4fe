//! [`BigCommerceConfig`]: store, credentials, endpoints, timeouts, retry, rate limit and
//! webhook secrets.

use std::fmt;
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{BaseUrl, ConnectorSettings, RateLimit, RetryPolicy, Secret};
use cartograph_model::Currency;
use serde::Deserialize;

use crate::error::CONNECTOR;

/// The public API gateway (every store is under `/stores/{store_hash}`).
pub const DEFAULT_BASE_URL: &str = "https://api.bigcommerce.com";

/// The store's default request quota: 150 per 30 s (the Standard/Plus plan).
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::new(150, Duration::from_secs(30));

/// The default header that carries the shared webhook secret (set on each hook as a custom
/// header when the hook is created).
pub const DEFAULT_SECRET_HEADER: &str = "X-Cartograph-Webhook-Secret";

/// Settings of a BigCommerce connector.
///
/// Deserializes from a host's config file (durations in milliseconds or seconds as named;
/// the transport keys are the shared [`ConnectorSettings`] block); build one in code with
/// [`BigCommerceConfig::builder`].
///
/// ```
/// use cartograph_bigcommerce::BigCommerceConfig;
///
/// let config = BigCommerceConfig::builder("abc123", "tok-SECRET-1")
///     .base_url("http://127.0.0.1:4010")
///     .webhook_header_secret("shared-secret")
///     .build()?;
/// assert_eq!(config.api_root()?.as_str(), "http://127.0.0.1:4010/stores/abc123");
/// assert!(!format!("{config:?}").contains("tok-SECRET-1"));
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
#[derive(Clone, Deserialize)]
pub struct BigCommerceConfig {
    /// The store hash (the `{store_hash}` in `/stores/{store_hash}/v3`).
    pub store_hash: String,
    /// The API account's access token, sent as `X-Auth-Token`.
    pub access_token: Secret,
    /// Transport settings (`base_url` = the gateway root, `v2` and `v3` paths go under
    /// `<base_url>/stores/{store_hash}`; `timeout_ms`, `connect_timeout_ms`, `retry` (its
    /// overload delay is used for a 429 without rate-limit headers), `rate_limit` (default
    /// [`DEFAULT_RATE_LIMIT`], tightened at run time by the `X-Rate-Limit-*` headers),
    /// `max_response_bytes`, `user_agent`).
    #[serde(flatten, deserialize_with = "settings_block")]
    pub settings: ConnectorSettings,
    /// The system name put on every `SourceRef` (default `bigcommerce`; use
    /// `bigcommerce:<hash>` when a host syncs several stores).
    #[serde(default = "default_system")]
    pub system: String,
    /// Page size for listings (clamped to the API maximum of 250; default 50 for v2 orders
    /// and 250 elsewhere when unset).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// How far a delta listing reaches back before `since`, in seconds (default 300).
    #[serde(default = "default_overlap_secs")]
    pub delta_overlap_secs: u64,
    /// How many per-order sub-resource reads (products, shipping addresses, coupons) run at
    /// once while listing orders (default 4).
    #[serde(default = "default_order_concurrency")]
    pub order_detail_concurrency: usize,
    /// The store's default currency: v3 catalog prices carry none (default `USD`).
    #[serde(default = "default_currency")]
    pub store_currency: Currency,
    /// Webhook verification.
    #[serde(default)]
    pub webhooks: WebhookConfig,
}

/// How inbound webhooks are verified.
#[derive(Clone, Deserialize)]
pub struct WebhookConfig {
    /// The custom header that carries the shared secret.
    #[serde(default = "default_secret_header")]
    pub secret_header: String,
    /// Accepted values of the custom header (several during a rotation). When non-empty the
    /// header is mandatory.
    #[serde(default)]
    pub header_secrets: Vec<Secret>,
    /// Standard Webhooks signing secrets (base64, optionally prefixed `whsec_`); several
    /// during a rotation. A delivery carrying `webhook-signature` is verified against them.
    #[serde(default)]
    pub signing_secrets: Vec<Secret>,
    /// Refuse deliveries without a Standard Webhooks signature.
    #[serde(default)]
    pub require_signature: bool,
    /// Largest accepted distance between `webhook-timestamp` and the arrival time, in
    /// seconds (default 300).
    #[serde(default = "default_tolerance_secs")]
    pub tolerance_secs: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            secret_header: default_secret_header(),
            header_secrets: Vec::new(),
            signing_secrets: Vec::new(),
            require_signature: false,
            tolerance_secs: default_tolerance_secs(),
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("secret_header", &self.secret_header)
            .field("header_secrets", &self.header_secrets.len())
            .field("signing_secrets", &self.signing_secrets.len())
            .field("require_signature", &self.require_signature)
            .field("tolerance_secs", &self.tolerance_secs)
            .finish()
    }
}

impl fmt::Debug for BigCommerceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BigCommerceConfig")
            .field("store_hash", &self.store_hash)
            .field("access_token", &self.access_token)
            .field("settings", &self.settings)
            .field("system", &self.system)
            .field("page_size", &self.page_size)
            .field("delta_overlap_secs", &self.delta_overlap_secs)
            .field("store_currency", &self.store_currency)
            .field("webhooks", &self.webhooks)
            .finish_non_exhaustive()
    }
}

fn settings_block<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<ConnectorSettings, D::Error> {
    ConnectorSettings::deserialize_for(deserializer, CONNECTOR)
}
const fn default_currency() -> Currency {
    Currency::USD
}
fn default_system() -> String {
    "bigcommerce".to_owned()
}
const fn default_overlap_secs() -> u64 {
    300
}
const fn default_order_concurrency() -> usize {
    4
}
fn default_secret_header() -> String {
    DEFAULT_SECRET_HEADER.to_owned()
}
const fn default_tolerance_secs() -> u64 {
    300
}

impl BigCommerceConfig {
    /// A builder with every default.
    pub fn builder(
        store_hash: impl Into<String>,
        access_token: impl Into<Secret>,
    ) -> BigCommerceConfigBuilder {
        BigCommerceConfigBuilder {
            bad_base_url: None,
            config: Self {
                store_hash: store_hash.into(),
                access_token: access_token.into(),
                settings: ConnectorSettings::default(),
                system: default_system(),
                page_size: None,
                delta_overlap_secs: default_overlap_secs(),
                order_detail_concurrency: default_order_concurrency(),
                store_currency: default_currency(),
                webhooks: WebhookConfig::default(),
            },
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| {
            Err(Error::new(ErrorKind::Config, why.to_owned())
                .with_connector(CONNECTOR)
                .with_field(field.to_owned()))
        };
        let hash = self.store_hash.trim();
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric()) {
            return bad(
                "store_hash",
                "store hash must be non-empty and alphanumeric",
            );
        }
        if self.access_token.is_empty() {
            return bad("access_token", "access token is empty");
        }
        if self.system.trim().is_empty() {
            return bad("system", "system name is empty");
        }
        self.settings.validate(CONNECTOR)?;
        if self.webhooks.secret_header.trim().is_empty() {
            return bad("webhooks.secret_header", "secret header name is empty");
        }
        if self.webhooks.header_secrets.iter().any(Secret::is_empty) {
            return bad("webhooks.header_secrets", "a header secret is empty");
        }
        for secret in &self.webhooks.signing_secrets {
            if crate::webhook::decode_signing_secret(secret).is_none() {
                return bad(
                    "webhooks.signing_secrets",
                    "a signing secret is not base64 (optionally prefixed whsec_)",
                );
            }
        }
        self.api_root().map(|_| ())
    }

    /// The gateway root: `base_url`, else [`DEFAULT_BASE_URL`].
    ///
    /// # Errors
    /// [`ErrorKind::Config`] (not expected: a set `base_url` was checked when it was read).
    pub fn base_url(&self) -> Result<BaseUrl> {
        match &self.settings.base_url {
            Some(url) => Ok(url.clone()),
            None => BaseUrl::parse_for(CONNECTOR, "base_url", DEFAULT_BASE_URL),
        }
    }

    /// `<base_url>/stores/{store_hash}`: the root under which `v2` and `v3` live.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming `store_hash` when the hash does not make a URL path.
    pub fn api_root(&self) -> Result<BaseUrl> {
        let root = self
            .base_url()?
            .join(&format!("stores/{}", self.store_hash.trim()))?;
        BaseUrl::from_url(root).map_err(|e| e.with_connector(CONNECTOR).with_field("store_hash"))
    }

    /// The store's request quota: `rate_limit`, else [`DEFAULT_RATE_LIMIT`].
    pub fn rate_limit(&self) -> RateLimit {
        self.settings.rate_limit_or(DEFAULT_RATE_LIMIT)
    }

    /// The page size for v3 listings (1..=250).
    pub fn v3_page_size(&self, hint: Option<u32>) -> u32 {
        hint.or(self.page_size).unwrap_or(250).clamp(1, 250)
    }

    /// The page size for v2 listings (1..=250, default 50).
    pub fn v2_page_size(&self, hint: Option<u32>) -> u32 {
        hint.or(self.page_size).unwrap_or(50).clamp(1, 250)
    }
}

/// Builds a [`BigCommerceConfig`].
#[derive(Debug)]
pub struct BigCommerceConfigBuilder {
    config: BigCommerceConfig,
    /// A `base_url` that did not parse, reported by `build()`.
    bad_base_url: Option<Error>,
}

impl BigCommerceConfigBuilder {
    /// Gateway root (tests point it at a local server); an invalid URL is reported by
    /// [`BigCommerceConfigBuilder::build`], naming the field `base_url`.
    #[must_use]
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        match BaseUrl::parse_for(CONNECTOR, "base_url", url.as_ref()) {
            Ok(base) => {
                self.config.settings.base_url = Some(base);
                self.bad_base_url = None;
            }
            Err(err) => self.bad_base_url = Some(err),
        }
        self
    }

    /// The shared transport settings (a `base_url` set before is kept when `settings`
    /// carries none).
    #[must_use]
    pub fn settings(mut self, settings: ConnectorSettings) -> Self {
        let base = self.config.settings.base_url.take();
        self.config.settings = settings;
        if self.config.settings.base_url.is_none() {
            self.config.settings.base_url = base;
        }
        self
    }

    /// The system name used in `SourceRef`s.
    #[must_use]
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.config.system = system.into();
        self
    }

    /// Per-attempt timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.settings.timeout = timeout;
        self
    }

    /// Connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.settings.connect_timeout = timeout;
        self
    }

    /// Retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.settings.retry = retry;
        self
    }

    /// Store quota for the client-side limiter.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.settings.rate_limit = Some(limit);
        self
    }

    /// Default page size.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.config.page_size = Some(size);
        self
    }

    /// Delta overlap.
    #[must_use]
    pub fn delta_overlap(mut self, overlap: Duration) -> Self {
        self.config.delta_overlap_secs = overlap.as_secs();
        self
    }

    /// Concurrent per-order detail reads.
    #[must_use]
    pub fn order_detail_concurrency(mut self, n: usize) -> Self {
        self.config.order_detail_concurrency = n.max(1);
        self
    }

    /// The store's default currency (catalog prices).
    #[must_use]
    pub fn store_currency(mut self, currency: Currency) -> Self {
        self.config.store_currency = currency;
        self
    }

    /// Name of the custom header carrying the webhook secret.
    #[must_use]
    pub fn webhook_secret_header(mut self, name: impl Into<String>) -> Self {
        self.config.webhooks.secret_header = name.into();
        self
    }

    /// Adds an accepted custom-header secret.
    #[must_use]
    pub fn webhook_header_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.config.webhooks.header_secrets.push(secret.into());
        self
    }

    /// Adds a Standard Webhooks signing secret (base64, optional `whsec_` prefix).
    #[must_use]
    pub fn webhook_signing_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.config.webhooks.signing_secrets.push(secret.into());
        self
    }

    /// Refuse deliveries without a signature.
    #[must_use]
    pub fn require_webhook_signature(mut self, required: bool) -> Self {
        self.config.webhooks.require_signature = required;
        self
    }

    /// Timestamp tolerance for signed deliveries.
    #[must_use]
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.config.webhooks.tolerance_secs = tolerance.as_secs();
        self
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] as for [`BigCommerceConfig::validate`].
    pub fn build(self) -> Result<BigCommerceConfig> {
        if let Some(err) = self.bad_base_url {
            return Err(err);
        }
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_with_defaults_and_hides_the_token() {
        let config: BigCommerceConfig = serde_json::from_value(serde_json::json!({
            "store_hash": "abc123",
            "access_token": "tok-SECRET",
            "webhooks": { "header_secrets": ["hs"], "signing_secrets": ["whsec_c2VjcmV0"] }
        }))
        .unwrap();
        config.validate().unwrap();
        assert_eq!(
            config.api_root().unwrap().as_str(),
            "https://api.bigcommerce.com/stores/abc123"
        );
        assert_eq!(config.rate_limit().requests, 150);
        let debug = format!("{config:?}");
        assert!(!debug.contains("tok-SECRET"), "{debug}");
        assert!(!debug.contains("hs\""), "{debug}");
    }

    #[test]
    fn bad_settings_name_the_field() {
        let err = BigCommerceConfig::builder("", "t").build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("store_hash"));
        let err = BigCommerceConfig::builder("abc", "t")
            .base_url("ftp://x")
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("base_url"));
        let err = BigCommerceConfig::builder("abc", "t")
            .webhook_signing_secret("not base64 !!")
            .build()
            .unwrap_err();
        assert_eq!(err.field(), Some("webhooks.signing_secrets"));
    }

    #[test]
    fn page_sizes_are_clamped() {
        let config = BigCommerceConfig::builder("abc", "t").build().unwrap();
        assert_eq!(config.v3_page_size(Some(1000)), 250);
        assert_eq!(config.v2_page_size(None), 50);
        assert_eq!(config.v3_page_size(Some(0)), 1);
    }
}
