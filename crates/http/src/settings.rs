//! [`ConnectorSettings`]: the transport settings every vendor config embeds (flattened), so
//! the five connector configs read alike: base URL, timeouts, retry policy, rate limit and
//! response-size validation, with one serde shape.
//!
//! ```
//! use std::time::Duration;
//! use cartograph_http::{ConnectorSettings, RateLimit};
//!
//! let settings: ConnectorSettings = serde_json::from_value(serde_json::json!({
//!     "base_url": "http://127.0.0.1:4010",
//!     "timeout_ms": 5000,
//!     "rate_limit": {"requests": 5, "per_ms": 1000},
//! }))?;
//! assert_eq!(settings.timeout, Duration::from_secs(5));
//! let base = settings.base_url_or("https://api.example.com")?;
//! assert_eq!(base.as_str(), "http://127.0.0.1:4010/");
//! let limit = settings.rate_limit_or(RateLimit::new(10, Duration::from_secs(1)));
//! assert_eq!(limit.requests, 5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::Authenticator;
use crate::client::{DEFAULT_USER_AGENT, HttpConfig};
use crate::limit::{RateLimit, RateLimiter};
use crate::retry::RetryPolicy;
use crate::url::BaseUrl;

/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Transport settings shared by every connector config (`#[serde(flatten)]` into it).
///
/// Keys: `base_url`, `timeout_ms`, `connect_timeout_ms`, `retry`, `rate_limit`,
/// `max_response_bytes`, `user_agent`; all optional. The vendor crate supplies the defaults
/// that differ per vendor (its public API host, its documented quota) through
/// [`ConnectorSettings::base_url_or`] and [`ConnectorSettings::rate_limit_or`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorSettings {
    /// API root override; tests point it at a local simulator. `None` = the vendor's host.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "base_url_setting"
    )]
    pub base_url: Option<BaseUrl>,
    /// Timeout of one attempt, connect to last body byte (default 30 s).
    #[serde(rename = "timeout_ms", with = "cartograph_connector::serde_millis")]
    pub timeout: Duration,
    /// Connect timeout (default 10 s).
    #[serde(
        rename = "connect_timeout_ms",
        with = "cartograph_connector::serde_millis"
    )]
    pub connect_timeout: Duration,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// The account's request quota; `None` = the vendor's documented default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Largest response body accepted, in bytes (default 64 MiB); a larger one is a
    /// `Decode` error, never an unbounded allocation.
    pub max_response_bytes: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            rate_limit: None,
            max_response_bytes: 64 * 1024 * 1024,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

/// `base_url`: the error names the field (serde's own message would not, inside a
/// flattened block).
fn base_url_setting<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<BaseUrl>, D::Error> {
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    BaseUrl::parse(&text)
        .map(Some)
        .map_err(|err| D::Error::custom(format_args!("field base_url: {}", err.message())))
}

impl ConnectorSettings {
    /// Deserializes the settings block of `connector`'s config; a bad value's error names
    /// the connector and the field (`hubspot: config: field base_url: invalid base URL ...`).
    /// Vendor configs call it from `#[serde(flatten, deserialize_with = ...)]`, so all five
    /// read and report the same block alike.
    ///
    /// ```
    /// use cartograph_http::ConnectorSettings;
    ///
    /// let err = ConnectorSettings::deserialize_for(
    ///     serde_json::json!({"base_url": "ftp://127.0.0.1"}),
    ///     "examplecrm",
    /// )
    /// .unwrap_err()
    /// .to_string();
    /// assert!(err.starts_with("examplecrm: config: field base_url:"), "{err}");
    /// ```
    ///
    /// # Errors
    /// The deserializer's error, prefixed with `{connector}: config: `.
    pub fn deserialize_for<'de, D: Deserializer<'de>>(
        deserializer: D,
        connector: &str,
    ) -> std::result::Result<Self, D::Error> {
        Self::deserialize(deserializer)
            .map_err(|err| D::Error::custom(format_args!("{connector}: config: {err}")))
    }

    /// The configured base URL, or `default` (the vendor's public host).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `default` is not a valid URL.
    pub fn base_url_or(&self, default: &str) -> Result<BaseUrl> {
        match &self.base_url {
            Some(url) => Ok(url.clone()),
            None => BaseUrl::parse(default),
        }
    }

    /// The configured quota, or `default` (the vendor's documented one).
    pub fn rate_limit_or(&self, default: RateLimit) -> RateLimit {
        self.rate_limit.unwrap_or(default)
    }

    /// Checks the values, naming the bad field for `connector`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the field: a zero timeout, a retry policy with no
    /// attempt, a rate limit with no requests or no window, a zero response limit.
    pub fn validate(&self, connector: &str) -> Result<()> {
        let bad = |field: &str, why: &str| {
            Err(Error::new(ErrorKind::Config, why.to_owned())
                .with_connector(connector.to_owned())
                .with_field(field.to_owned()))
        };
        if self.timeout.is_zero() {
            return bad("timeout_ms", "timeout must be non-zero");
        }
        if self.connect_timeout.is_zero() {
            return bad("connect_timeout_ms", "connect timeout must be non-zero");
        }
        if self.retry.max_attempts == 0 {
            return bad("retry.max_attempts", "at least one attempt is needed");
        }
        if let Some(limit) = &self.rate_limit
            && (limit.requests == 0 || limit.per.is_zero())
        {
            return bad(
                "rate_limit",
                "rate limit needs requests > 0 and a non-zero window",
            );
        }
        if self.max_response_bytes == 0 {
            return bad("max_response_bytes", "response limit must be non-zero");
        }
        Ok(())
    }

    /// An [`HttpConfig`] for `base_url` with these timeouts, retry policy and user agent, and
    /// `limiter` as the account's shared rate limiter.
    pub fn http_config(
        &self,
        base_url: BaseUrl,
        auth: Arc<dyn Authenticator>,
        limiter: Option<Arc<RateLimiter>>,
    ) -> HttpConfig {
        let mut config = HttpConfig::new(base_url, auth)
            .with_retry(self.retry.clone())
            .with_timeout(self.timeout)
            .with_connect_timeout(self.connect_timeout)
            .with_user_agent(self.user_agent.clone())
            .with_max_response_bytes(self.max_response_bytes);
        if let Some(limiter) = limiter {
            config = config.with_rate_limiter(limiter);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_serde() {
        let settings = ConnectorSettings::default();
        let json = serde_json::to_value(&settings).expect("serializes");
        assert_eq!(json["timeout_ms"], 30_000);
        let back: ConnectorSettings = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, settings);
    }

    #[test]
    fn zero_timeout_names_the_field() {
        let settings = ConnectorSettings {
            timeout: Duration::ZERO,
            ..ConnectorSettings::default()
        };
        let err = settings.validate("examplecrm").expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("timeout_ms"));
    }

    #[test]
    fn empty_rate_limit_is_refused() {
        let settings = ConnectorSettings {
            rate_limit: Some(RateLimit::new(0, Duration::from_secs(1))),
            ..ConnectorSettings::default()
        };
        let err = settings.validate("examplecrm").expect_err("invalid");
        assert_eq!(err.field(), Some("rate_limit"));
    }
}
