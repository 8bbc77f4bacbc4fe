//! [`CommercetoolsConfig`]: project, region or explicit URLs, OAuth client credentials,
//! store, paging and the shared [`ConnectorSettings`].

use std::fmt;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{BaseUrl, ConnectorSettings, Secret};
use serde::Deserialize;

use crate::error::CONNECTOR;

/// The default region (used when neither `region` nor explicit URLs are given).
pub const DEFAULT_REGION: &str = "europe-west1.gcp";
/// Largest `limit` of a query endpoint.
pub const MAX_LIMIT: u32 = 500;

/// Settings of a commercetools connector.
///
/// ```
/// use cartograph_commercetools::CommercetoolsConfig;
///
/// let config = CommercetoolsConfig::builder("my-project", "client-id", "SECRET-1")
///     .api_url("http://127.0.0.1:4010")
///     .auth_url("http://127.0.0.1:4011")
///     .build()?;
/// assert_eq!(config.api_root()?.as_str(), "http://127.0.0.1:4010/my-project");
/// assert_eq!(config.token_url()?, "http://127.0.0.1:4011/oauth/token");
/// assert!(!format!("{config:?}").contains("SECRET-1"));
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
#[derive(Clone, Deserialize)]
pub struct CommercetoolsConfig {
    /// The project key (first path segment of every API call).
    pub project_key: String,
    /// The API client id.
    pub client_id: String,
    /// The API client secret.
    pub client_secret: Secret,
    /// Region such as `europe-west1.gcp`; gives `https://api.{region}.commercetools.com` and
    /// `https://auth.{region}.commercetools.com` unless the URLs are set explicitly.
    #[serde(default = "default_region")]
    pub region: String,
    /// Explicit auth host root (the token endpoint is `<auth_url>/oauth/token`). The API
    /// host is the shared `base_url` setting.
    #[serde(default)]
    pub auth_url: Option<String>,
    /// OAuth scopes, space separated on the token call (default
    /// `manage_project:{project_key}`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Optional store key: queries go under `/{projectKey}/in-store/key={storeKey}/...`.
    #[serde(default)]
    pub store_key: Option<String>,
    /// The system name put on every `SourceRef` (default `commercetools`).
    #[serde(default = "default_system")]
    pub system: String,
    /// Page size of queries (clamped to 1..=500; default 500).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// How far a delta listing reaches back before `since`, in seconds (default 300).
    #[serde(default = "default_overlap_secs")]
    pub delta_overlap_secs: u64,
    /// Idle time after which an `Active` cart with an email or customer is abandoned, in
    /// seconds (default 3600).
    #[serde(default = "default_abandoned_secs")]
    pub abandoned_after_secs: u64,
    /// Language fallback chain for localized strings (default `["en"]`; the first language
    /// present wins, then any language).
    #[serde(default = "default_languages")]
    pub languages: Vec<String>,
    /// The custom field (on the customer's custom type) holding the marketing opt-in, read as
    /// a boolean (default `marketingOptIn`).
    #[serde(default = "default_opt_in_field")]
    pub marketing_opt_in_field: String,
    /// Shared HTTP settings (`base_url` = API host root, timeouts, retry, rate limit).
    #[serde(flatten, deserialize_with = "settings_block")]
    pub settings: ConnectorSettings,
}

impl fmt::Debug for CommercetoolsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommercetoolsConfig")
            .field("project_key", &self.project_key)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("region", &self.region)
            .field("auth_url", &self.auth_url)
            .field("scopes", &self.scopes)
            .field("store_key", &self.store_key)
            .field("system", &self.system)
            .field("page_size", &self.page_size)
            .field("delta_overlap_secs", &self.delta_overlap_secs)
            .field("abandoned_after_secs", &self.abandoned_after_secs)
            .field("languages", &self.languages)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}
fn default_system() -> String {
    "commercetools".to_owned()
}
const fn default_overlap_secs() -> u64 {
    300
}
const fn default_abandoned_secs() -> u64 {
    3600
}
fn default_languages() -> Vec<String> {
    vec!["en".to_owned()]
}
fn default_opt_in_field() -> String {
    "marketingOptIn".to_owned()
}

fn bad(field: &str, why: &str) -> Error {
    Error::new(ErrorKind::Config, why.to_owned())
        .with_connector(CONNECTOR)
        .with_field(field.to_owned())
}

fn settings_block<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<ConnectorSettings, D::Error> {
    ConnectorSettings::deserialize_for(deserializer, CONNECTOR)
}

impl CommercetoolsConfig {
    /// A builder with every default.
    pub fn builder(
        project_key: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> CommercetoolsConfigBuilder {
        CommercetoolsConfigBuilder {
            bad_api_url: None,
            config: Self {
                project_key: project_key.into(),
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                region: default_region(),
                auth_url: None,
                scopes: Vec::new(),
                store_key: None,
                system: default_system(),
                page_size: None,
                delta_overlap_secs: default_overlap_secs(),
                abandoned_after_secs: default_abandoned_secs(),
                languages: default_languages(),
                marketing_opt_in_field: default_opt_in_field(),
                settings: ConnectorSettings::default(),
            },
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        self.settings.validate(CONNECTOR)?;
        let key = self.project_key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad(
                "project_key",
                "project key must be non-empty: letters, digits, '-' or '_'",
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(bad("client_id", "client id is empty"));
        }
        if self.client_secret.is_empty() {
            return Err(bad("client_secret", "client secret is empty"));
        }
        if let Some(store) = &self.store_key
            && (store.trim().is_empty() || store.contains('/'))
        {
            return Err(bad("store_key", "store key is empty or contains '/'"));
        }
        if self.system.trim().is_empty() {
            return Err(bad("system", "system name is empty"));
        }
        if self.page_size == Some(0) {
            return Err(bad("page_size", "page size must be positive"));
        }
        if self.languages.is_empty() {
            return Err(bad("languages", "at least one language is needed"));
        }
        self.api_root()?;
        self.token_url()?;
        Ok(())
    }

    /// The API host root (`base_url`, else from `region`).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an invalid URL.
    pub fn api_host(&self) -> Result<BaseUrl> {
        match &self.settings.base_url {
            Some(url) => Ok(url.clone()),
            None => BaseUrl::parse_for(
                CONNECTOR,
                "region",
                &format!("https://api.{}.commercetools.com", self.region),
            ),
        }
    }

    /// `<api host>/{projectKey}`, the root every request path is relative to.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an invalid URL.
    pub fn api_root(&self) -> Result<BaseUrl> {
        let host = self.api_host()?;
        host.join(&format!("{}/", self.project_key.trim()))
            .and_then(BaseUrl::from_url)
            .map_err(|e| e.with_connector(CONNECTOR).with_field("project_key"))
    }

    /// The token endpoint: `<auth_url or https://auth.{region}.commercetools.com>/oauth/token`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an invalid URL.
    pub fn token_url(&self) -> Result<String> {
        let base = match &self.auth_url {
            Some(url) => BaseUrl::parse_for(CONNECTOR, "auth_url", url)?,
            None => BaseUrl::parse_for(
                CONNECTOR,
                "region",
                &format!("https://auth.{}.commercetools.com", self.region),
            )?,
        };
        Ok(base.join("oauth/token")?.to_string())
    }

    /// The `scope` form field of the token call.
    pub fn scope(&self) -> String {
        if self.scopes.is_empty() {
            format!("manage_project:{}", self.project_key.trim())
        } else {
            self.scopes.join(" ")
        }
    }

    /// The path prefix of store-scoped resources (`in-store/key={storeKey}/` or empty).
    pub fn store_prefix(&self) -> String {
        self.store_key
            .as_deref()
            .map(|k| format!("in-store/key={k}/"))
            .unwrap_or_default()
    }

    /// The effective page size.
    pub fn limit(&self) -> u32 {
        self.page_size.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT)
    }
}

/// Consuming builder of a [`CommercetoolsConfig`].
#[derive(Debug, Clone)]
pub struct CommercetoolsConfigBuilder {
    config: CommercetoolsConfig,
    bad_api_url: Option<Error>,
}

impl CommercetoolsConfigBuilder {
    /// Region such as `us-central1.gcp`.
    #[must_use]
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.config.region = region.into();
        self
    }
    /// Explicit API host root (overrides the region).
    #[must_use]
    pub fn api_url(mut self, url: impl AsRef<str>) -> Self {
        match BaseUrl::parse_for(CONNECTOR, "base_url", url.as_ref()) {
            Ok(base) => {
                self.config.settings.base_url = Some(base);
                self.bad_api_url = None;
            }
            Err(err) => self.bad_api_url = Some(err),
        }
        self
    }
    /// Explicit auth host root (overrides the region).
    #[must_use]
    pub fn auth_url(mut self, url: impl Into<String>) -> Self {
        self.config.auth_url = Some(url.into());
        self
    }
    /// OAuth scopes.
    #[must_use]
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.config.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// Store key for store-scoped queries.
    #[must_use]
    pub fn store_key(mut self, key: impl Into<String>) -> Self {
        self.config.store_key = Some(key.into());
        self
    }
    /// System name on `SourceRef`s.
    #[must_use]
    pub fn system(mut self, system: impl Into<String>) -> Self {
        self.config.system = system.into();
        self
    }
    /// Page size of queries.
    #[must_use]
    pub fn page_size(mut self, size: u32) -> Self {
        self.config.page_size = Some(size);
        self
    }
    /// Delta overlap in seconds.
    #[must_use]
    pub fn delta_overlap_secs(mut self, secs: u64) -> Self {
        self.config.delta_overlap_secs = secs;
        self
    }
    /// Abandoned-cart idle window in seconds.
    #[must_use]
    pub fn abandoned_after_secs(mut self, secs: u64) -> Self {
        self.config.abandoned_after_secs = secs;
        self
    }
    /// Language fallback chain.
    #[must_use]
    pub fn languages<I: IntoIterator<Item = S>, S: Into<String>>(mut self, langs: I) -> Self {
        self.config.languages = langs.into_iter().map(Into::into).collect();
        self
    }
    /// Shared HTTP settings.
    #[must_use]
    pub fn settings(mut self, settings: ConnectorSettings) -> Self {
        let base = self.config.settings.base_url.take();
        self.config.settings = settings;
        if self.config.settings.base_url.is_none() {
            self.config.settings.base_url = base;
        }
        self
    }
    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn build(self) -> Result<CommercetoolsConfig> {
        if let Some(err) = self.bad_api_url {
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
    fn region_gives_both_hosts() {
        let c = CommercetoolsConfig::builder("p1", "id", "s")
            .region("us-central1.gcp")
            .build()
            .expect("valid");
        assert_eq!(
            c.api_root().expect("url").as_str(),
            "https://api.us-central1.gcp.commercetools.com/p1"
        );
        assert_eq!(
            c.token_url().expect("url"),
            "https://auth.us-central1.gcp.commercetools.com/oauth/token"
        );
        assert_eq!(c.scope(), "manage_project:p1");
    }

    #[test]
    fn empty_project_key_names_the_field() {
        let err = CommercetoolsConfig::builder(" ", "id", "s")
            .build()
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("project_key"));
    }

    #[test]
    fn empty_secret_and_zero_page_size_are_refused() {
        let err = CommercetoolsConfig::builder("p", "id", "")
            .build()
            .expect_err("invalid");
        assert_eq!(err.field(), Some("client_secret"));
        let err = CommercetoolsConfig::builder("p", "id", "s")
            .page_size(0)
            .build()
            .expect_err("invalid");
        assert_eq!(err.field(), Some("page_size"));
    }

    #[test]
    fn store_key_prefixes_paths_and_limit_is_clamped() {
        let c = CommercetoolsConfig::builder("p", "id", "s")
            .store_key("eu")
            .page_size(9_999)
            .build()
            .expect("valid");
        assert_eq!(c.store_prefix(), "in-store/key=eu/");
        assert_eq!(c.limit(), 500);
    }

    #[test]
    fn deserializes_with_shared_settings_flattened() {
        let c: CommercetoolsConfig = serde_json::from_value(serde_json::json!({
            "project_key": "p", "client_id": "id", "client_secret": "s",
            "base_url": "http://127.0.0.1:1", "auth_url": "http://127.0.0.1:2",
            "timeout_ms": 5000
        }))
        .expect("parses");
        c.validate().expect("valid");
        assert_eq!(c.settings.timeout.as_millis(), 5000);
        assert_eq!(c.system, "commercetools");
        assert_eq!(c.api_root().expect("url").as_str(), "http://127.0.0.1:1/p");
    }
}
