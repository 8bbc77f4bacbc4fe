//! [`ActiveCampaignConfig`]: the account, its `Api-Token`, the Deep Data connection, the
//! default list and tag, and the shared transport settings.

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{BaseUrl, ConnectorSettings, RateLimit, RetryPolicy, Secret};
use serde::Deserialize;

/// ActiveCampaign's documented limit: 5 requests per second per account (all keys share it).
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::new(5, Duration::from_secs(1));
/// Largest `upsert_contacts` batch the connector accepts (it syncs contacts one by one).
pub const MAX_BATCH: usize = 100;
/// The list contacts who accept marketing join when no list id is configured.
pub const DEFAULT_LIST_NAME: &str = "Master Contact List";
/// The tag put on every synced contact unless configured otherwise.
pub const DEFAULT_TAG: &str = "bigcommerce-customer";

/// The Deep Data connection (one per store), found or created at the first order.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectionSettings {
    /// The service name (`service`), e.g. `bigcommerce`.
    pub service: String,
    /// The store's id in that service (`externalid`), e.g. the store hash.
    pub externalid: String,
    /// The name shown in ActiveCampaign.
    pub name: String,
    /// Logo URL.
    pub logo_url: String,
    /// Where the integration is managed.
    pub link_url: String,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self {
            service: "cartograph".into(),
            externalid: "default".into(),
            name: "Cartograph store".into(),
            logo_url: "https://example.com/logo.png".into(),
            link_url: "https://example.com/".into(),
        }
    }
}

/// Settings of the ActiveCampaign connector. Build with [`ActiveCampaignConfig::builder`] or
/// deserialize and call [`ActiveCampaignConfig::validate`].
///
/// The base URL is `https://{account}.api-us1.com/api/3` unless `base_url` overrides it.
#[derive(Clone, Debug, Deserialize)]
pub struct ActiveCampaignConfig {
    /// Transport settings (`base_url`, `timeout_ms`, `connect_timeout_ms`, `retry`,
    /// `rate_limit`, ...); the rate limit defaults to [`DEFAULT_RATE_LIMIT`].
    #[serde(flatten, deserialize_with = "settings_block")]
    pub settings: ConnectorSettings,
    /// The account name (the `{account}` of the API host); unused when `base_url` is set.
    #[serde(default)]
    pub account: Option<String>,
    /// The API key, sent as `Api-Token`.
    pub api_token: Secret,
    /// The Deep Data connection.
    #[serde(default)]
    pub connection: ConnectionSettings,
    /// The list contacts who accepted marketing join; `None` = the list named
    /// [`DEFAULT_LIST_NAME`].
    #[serde(default)]
    pub list_id: Option<String>,
    /// Tags put on every synced contact (default `bigcommerce-customer`).
    #[serde(default = "default_tags")]
    pub tags: Vec<String>,
    /// Shared secret of inbound webhooks (ActiveCampaign does not sign them): the last
    /// segment of the webhook URL path, or the value of `webhook_secret_header`.
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// Header carrying the webhook secret (set by the host's proxy); `None` = URL path.
    #[serde(default)]
    pub webhook_secret_header: Option<String>,
    /// The secret being rotated out: still accepted, beside `webhook_secret`, until it is
    /// removed, so deliveries to the old URL in flight during a rotation are not refused.
    #[serde(default)]
    pub previous_webhook_secret: Option<Secret>,
    /// Historical `upsert_contacts` batches of at least this many contacts go through
    /// `/import/bulk_import` (ActiveCampaign suggests 10 or more); 0 = never.
    #[serde(default = "default_bulk_min")]
    pub bulk_import_min: usize,
}

fn settings_block<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<ConnectorSettings, D::Error> {
    ConnectorSettings::deserialize_for(deserializer, crate::error::CONNECTOR)
}

const fn default_bulk_min() -> usize {
    10
}

fn default_tags() -> Vec<String> {
    vec![DEFAULT_TAG.to_owned()]
}

impl ActiveCampaignConfig {
    /// A builder with every default and the given token.
    ///
    /// ```
    /// use cartograph_activecampaign::ActiveCampaignConfig;
    /// use cartograph_http::Secret;
    ///
    /// let config = ActiveCampaignConfig::builder(Secret::new("ac-key"))
    ///     .account("mystore")
    ///     .list_id("3")
    ///     .build()?;
    /// assert_eq!(config.base_url()?.as_str(), "https://mystore.api-us1.com/api/3");
    /// assert_eq!(config.rate_limit().requests, 5);
    /// # Ok::<(), cartograph_connector::Error>(())
    /// ```
    pub fn builder(api_token: Secret) -> ActiveCampaignConfigBuilder {
        ActiveCampaignConfigBuilder {
            config: Self {
                settings: ConnectorSettings::default(),
                account: None,
                api_token,
                connection: ConnectionSettings::default(),
                list_id: None,
                tags: default_tags(),
                webhook_secret: None,
                webhook_secret_header: None,
                previous_webhook_secret: None,
                bulk_import_min: default_bulk_min(),
            },
        }
    }

    /// The API root: `base_url`, else `https://{account}.api-us1.com/api/3`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when neither is set or the URL is invalid.
    pub fn base_url(&self) -> Result<BaseUrl> {
        if let Some(url) = &self.settings.base_url {
            return Ok(url.clone());
        }
        match self.account.as_deref().map(str::trim) {
            Some(account) if !account.is_empty() => BaseUrl::parse_for(
                crate::error::CONNECTOR,
                "account",
                &format!("https://{account}.api-us1.com/api/3"),
            ),
            _ => Err(config_error("account", "set the account name or base_url")),
        }
    }

    /// The account's request quota (default 5 per second).
    pub fn rate_limit(&self) -> RateLimit {
        self.settings.rate_limit_or(DEFAULT_RATE_LIMIT)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        self.settings.validate(crate::error::CONNECTOR)?;
        self.base_url()?;
        if self.api_token.is_empty() {
            return Err(config_error("api_token", "the API token is empty"));
        }
        let c = &self.connection;
        for (field, value) in [
            ("connection.service", &c.service),
            ("connection.externalid", &c.externalid),
            ("connection.name", &c.name),
        ] {
            if value.trim().is_empty() {
                return Err(config_error(field, "must not be empty"));
            }
        }
        if self.list_id.as_deref().is_some_and(|l| l.trim().is_empty()) {
            return Err(config_error("list_id", "must not be empty when set"));
        }
        if self.tags.iter().any(|t| t.trim().is_empty()) {
            return Err(config_error("tags", "tag names must not be empty"));
        }
        Ok(())
    }
}

fn config_error(field: &str, why: &str) -> Error {
    Error::new(ErrorKind::Config, why.to_owned())
        .with_connector(crate::error::CONNECTOR)
        .with_field(field.to_owned())
}

/// Consuming builder of [`ActiveCampaignConfig`].
#[derive(Clone, Debug)]
pub struct ActiveCampaignConfigBuilder {
    config: ActiveCampaignConfig,
}

impl ActiveCampaignConfigBuilder {
    /// Sets the account name (`https://{account}.api-us1.com/api/3`).
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> Self {
        self.config.account = Some(account.into());
        self
    }

    /// Overrides the API root (e.g. a local simulator, `http://127.0.0.1:4010/api/3`).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the URL is invalid.
    pub fn base_url(mut self, url: &str) -> Result<Self> {
        self.config.settings.base_url = Some(BaseUrl::parse_for(
            crate::error::CONNECTOR,
            "base_url",
            url,
        )?);
        Ok(self)
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.settings.retry = retry;
        self
    }

    /// Sets the account's rate limit.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.settings.rate_limit = Some(limit);
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.settings.timeout = timeout;
        self
    }

    /// Sets the Deep Data connection.
    #[must_use]
    pub fn connection(mut self, connection: ConnectionSettings) -> Self {
        self.config.connection = connection;
        self
    }

    /// Sets the list contacts who accepted marketing join.
    #[must_use]
    pub fn list_id(mut self, list: impl Into<String>) -> Self {
        self.config.list_id = Some(list.into());
        self
    }

    /// Sets the tags put on every synced contact.
    #[must_use]
    pub fn tags(mut self, tags: Vec<String>) -> Self {
        self.config.tags = tags;
        self
    }

    /// Sets the webhook secret (and, optionally, the header carrying it).
    #[must_use]
    pub fn webhook_secret(mut self, secret: Secret, header: Option<String>) -> Self {
        self.config.webhook_secret = Some(secret);
        self.config.webhook_secret_header = header;
        self
    }

    /// Keeps accepting `secret` (the one being rotated out) beside `webhook_secret`.
    #[must_use]
    pub fn previous_webhook_secret(mut self, secret: Secret) -> Self {
        self.config.previous_webhook_secret = Some(secret);
        self
    }

    /// Sets the smallest historical batch sent through bulk import (0 = never).
    #[must_use]
    pub fn bulk_import_min(mut self, min: usize) -> Self {
        self.config.bulk_import_min = min;
        self
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn build(self) -> Result<ActiveCampaignConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_base_url_error_names_connector_and_field() {
        let err = ActiveCampaignConfig::builder(Secret::new("k"))
            .base_url("ftp://127.0.0.1/api/3")
            .expect_err("non-http scheme is rejected");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.connector(), "activecampaign");
        assert_eq!(err.field(), Some("base_url"));
    }

    #[test]
    fn account_or_base_url_is_required() {
        let err = ActiveCampaignConfig::builder(Secret::new("k"))
            .build()
            .expect_err("no account");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("account"));
        let config = ActiveCampaignConfig::builder(Secret::new("k"))
            .base_url("http://127.0.0.1:9/api/3")
            .expect("valid")
            .build()
            .expect("valid");
        assert_eq!(
            config.base_url().expect("set").as_str(),
            "http://127.0.0.1:9/api/3"
        );
    }

    #[test]
    fn empty_token_and_tags_are_refused() {
        let err = ActiveCampaignConfig::builder(Secret::new(""))
            .account("a")
            .build()
            .expect_err("empty token");
        assert_eq!(err.field(), Some("api_token"));
        let err = ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .tags(vec![" ".into()])
            .build()
            .expect_err("blank tag");
        assert_eq!(err.field(), Some("tags"));
    }

    #[test]
    fn deserializes_with_shared_settings() {
        let config: ActiveCampaignConfig = serde_json::from_value(serde_json::json!({
            "account": "shop",
            "api_token": "k",
            "timeout_ms": 5000,
            "rate_limit": {"requests": 4, "per_ms": 1000},
            "connection": {"service": "bigcommerce", "externalid": "abc123"},
        }))
        .expect("valid");
        config.validate().expect("valid");
        assert_eq!(config.settings.timeout, Duration::from_secs(5));
        assert_eq!(config.rate_limit().requests, 4);
        assert_eq!(config.connection.externalid, "abc123");
        assert_eq!(config.tags, vec![DEFAULT_TAG.to_owned()]);
        assert!(!format!("{config:?}").contains("\"k\""));
    }
}
