//! [`SalesforceConfig`]: the login host and environment, the API version, OAuth 2.0
//! credentials, the External ID fields the upserts key on, Contact or Lead, and the shared
//! transport settings.

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{BaseUrl, ConnectorSettings, RateLimit, RetryPolicy, Secret};
use serde::Deserialize;

/// The production login host.
pub const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";
/// The sandbox login host.
pub const SANDBOX_LOGIN_URL: &str = "https://test.salesforce.com";
/// The REST API version used unless configured.
pub const DEFAULT_API_VERSION: &str = "v62.0";
/// The External ID field contacts (and tasks and cases) are upserted on.
pub const DEFAULT_EXTERNAL_ID_FIELD: &str = "Cartograph_Key__c";
/// The External ID field opportunities are upserted on (the default mapping writes it).
pub const DEFAULT_ORDER_EXTERNAL_ID_FIELD: &str = "Ecom_Order_Id__c";
/// The External ID field products (`Product2`) are upserted on.
pub const DEFAULT_PRODUCT_EXTERNAL_ID_FIELD: &str = "Ecom_Product_Id__c";
/// The client id sent in `Sforce-Call-Options: client=...` on every write (CDC
/// `changeOrigin` carries it back, which marks the integration's own writes).
pub const DEFAULT_CALL_CLIENT: &str = "cartograph";
/// Largest sObject Collections request (records per call).
pub const MAX_BATCH: usize = 200;
/// A client-side pacing default: 25 requests per second (the org's real limit is a daily
/// allocation, read from `Sforce-Limit-Info`).
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::new(25, Duration::from_secs(1));

/// Sandbox or production: explicit, so a sandbox config never writes to live data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// A production org (`login.salesforce.com` or a production My Domain).
    Production,
    /// A sandbox (`test.salesforce.com` or a `*.sandbox.my.salesforce.com` My Domain).
    Sandbox,
}

/// Which sObject people are written to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum PersonObject {
    /// `Contact` (mapping `contact`).
    #[default]
    Contact,
    /// `Lead` (mapping `lead`).
    Lead,
}

impl PersonObject {
    /// The sObject name.
    pub const fn sobject(self) -> &'static str {
        match self {
            Self::Contact => "Contact",
            Self::Lead => "Lead",
        }
    }
}

/// How the connector gets its access token.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "grant", rename_all = "snake_case")]
pub enum SalesforceAuth {
    /// Web-server flow: a long-lived refresh token.
    RefreshToken {
        /// The connected app's consumer key.
        client_id: String,
        /// The connected app's consumer secret.
        client_secret: Secret,
        /// The refresh token.
        refresh_token: Secret,
    },
    /// JWT bearer flow (server to server): an assertion signed with the host's RSA private
    /// key, whose certificate is uploaded to the connected app; no secret travels.
    JwtBearer {
        /// The connected app's consumer key (`iss`).
        client_id: String,
        /// The integration user's username (`sub`), pre-authorised for the app.
        username: String,
        /// The RSA private key, PEM (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`).
        private_key: Secret,
        /// `aud`; default `https://login.salesforce.com` (production) or
        /// `https://test.salesforce.com` (sandbox), also with a My Domain login host.
        #[serde(default)]
        audience: Option<String>,
    },
    /// Client-credentials flow (a connected app with a run-as user; My Domain login host).
    ClientCredentials {
        /// The connected app's consumer key.
        client_id: String,
        /// The connected app's consumer secret.
        client_secret: Secret,
    },
}

impl SalesforceAuth {
    fn client_id(&self) -> &str {
        match self {
            Self::RefreshToken { client_id, .. }
            | Self::ClientCredentials { client_id, .. }
            | Self::JwtBearer { client_id, .. } => client_id,
        }
    }

    fn secrets(&self) -> Vec<(&'static str, &Secret)> {
        match self {
            Self::RefreshToken {
                client_secret,
                refresh_token,
                ..
            } => vec![
                ("auth.client_secret", client_secret),
                ("auth.refresh_token", refresh_token),
            ],
            Self::ClientCredentials { client_secret, .. } => {
                vec![("auth.client_secret", client_secret)]
            }
            Self::JwtBearer { private_key, .. } => vec![("auth.private_key", private_key)],
        }
    }
}

/// Settings of the Salesforce connector. Build with [`SalesforceConfig::builder`] or
/// deserialize and call [`SalesforceConfig::validate`].
#[derive(Clone, Debug, Deserialize)]
pub struct SalesforceConfig {
    /// Transport settings (`timeout_ms`, `retry`, `rate_limit`, ...). `base_url`, when set,
    /// is the instance URL override (see [`SalesforceConfig::instance_url`]).
    #[serde(flatten, deserialize_with = "settings_block")]
    pub settings: ConnectorSettings,
    /// Sandbox or production (required).
    pub environment: Environment,
    /// The login host: production, sandbox or a My Domain URL; `None` = the environment's
    /// standard host.
    #[serde(default)]
    pub login_url: Option<String>,
    /// The REST API version, `vNN.N`.
    #[serde(default = "default_version")]
    pub api_version: String,
    /// Instance URL override (tests); otherwise the token response's `instance_url`.
    #[serde(default)]
    pub instance_url: Option<String>,
    /// OAuth 2.0 credentials.
    pub auth: SalesforceAuth,
    /// External ID field of people (and of tasks and cases).
    #[serde(default = "default_ext")]
    pub external_id_field: String,
    /// External ID field of opportunities.
    #[serde(default = "default_order_ext")]
    pub order_external_id_field: String,
    /// External ID field of products (`Product2`).
    #[serde(default = "default_product_ext")]
    pub product_external_id_field: String,
    /// Contact or Lead.
    #[serde(default)]
    pub person_object: PersonObject,
    /// `Sforce-Call-Options: client=<call_client>` on writes.
    #[serde(default = "default_client")]
    pub call_client: String,
    /// `Status` of new CampaignMembers.
    #[serde(default = "default_member_status")]
    pub campaign_member_status: String,
    /// Shared secret of the CDC relay: change events posted to the webhook endpoint must
    /// carry it in `X-Cartograph-Cdc-Secret` (Salesforce signs nothing; the relay is the
    /// Pub/Sub API subscriber that forwards them). `None` = change events are refused.
    #[serde(default)]
    pub cdc_relay_secret: Option<Secret>,
    /// Extra fields `list_contacts` and gap re-reads select (e.g. a segment field such as
    /// `Ecom_Segment__c`), beyond Id, names, Email, Phone and the External ID.
    #[serde(default)]
    pub source_fields: Vec<String>,
    /// Share of the daily API allocation (percent, 1 to 100) from which requests are spaced
    /// so the rest lasts the rolling 24 h (see [`crate::limits`]); 100 = only pause when
    /// spent.
    #[serde(default = "default_slow_down")]
    pub slow_down_at_percent: u8,
    /// Owners of Cases and Tasks per reason (see [`crate::routing`]).
    #[serde(default)]
    pub routing: crate::routing::OwnerRouting,
    /// Campaign field matched against coupon codes by
    /// [`Salesforce::write_campaign_revenue`](crate::Salesforce::write_campaign_revenue)
    /// (`Coupon_Code__c`, or e.g. `Name`).
    #[serde(default = "default_campaign_match")]
    pub campaign_match_field: String,
}

/// The Campaign field matched against coupon codes by default.
pub const DEFAULT_CAMPAIGN_MATCH_FIELD: &str = "Coupon_Code__c";

fn default_campaign_match() -> String {
    DEFAULT_CAMPAIGN_MATCH_FIELD.to_owned()
}

const fn default_slow_down() -> u8 {
    crate::limits::DEFAULT_SLOW_DOWN_AT_PERCENT
}

fn default_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}
fn default_ext() -> String {
    DEFAULT_EXTERNAL_ID_FIELD.to_owned()
}
fn default_order_ext() -> String {
    DEFAULT_ORDER_EXTERNAL_ID_FIELD.to_owned()
}
fn default_product_ext() -> String {
    DEFAULT_PRODUCT_EXTERNAL_ID_FIELD.to_owned()
}
fn default_client() -> String {
    DEFAULT_CALL_CLIENT.to_owned()
}
fn default_member_status() -> String {
    "Sent".to_owned()
}

fn config_error(field: &str, why: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, why.into())
        .with_connector(crate::error::CONNECTOR)
        .with_field(field.to_owned())
}

/// Whether `name` is a plausible Salesforce API field name (`Name`, `Foo__c`).
pub(crate) fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn settings_block<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<ConnectorSettings, D::Error> {
    ConnectorSettings::deserialize_for(deserializer, crate::error::CONNECTOR)
}

impl SalesforceConfig {
    /// A builder with every default.
    ///
    /// ```
    /// use cartograph_salesforce::config::{Environment, SalesforceAuth, SalesforceConfig};
    /// use cartograph_http::Secret;
    ///
    /// let config = SalesforceConfig::builder(
    ///     Environment::Sandbox,
    ///     SalesforceAuth::RefreshToken {
    ///         client_id: "3MVG9...".into(),
    ///         client_secret: Secret::new("secret"),
    ///         refresh_token: Secret::new("5Aep..."),
    ///     },
    /// )
    /// .build()?;
    /// assert_eq!(config.token_url()?, "https://test.salesforce.com/services/oauth2/token");
    /// assert_eq!(config.api_version, "v62.0");
    ///
    /// // A sandbox config pointing at the production login host is refused.
    /// let err = SalesforceConfig::builder(Environment::Sandbox, config.auth.clone())
    ///     .login_url("https://login.salesforce.com")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.field(), Some("login_url"));
    /// # Ok::<(), cartograph_connector::Error>(())
    /// ```
    pub fn builder(environment: Environment, auth: SalesforceAuth) -> SalesforceConfigBuilder {
        SalesforceConfigBuilder {
            config: Self {
                settings: ConnectorSettings::default(),
                environment,
                login_url: None,
                api_version: default_version(),
                instance_url: None,
                auth,
                external_id_field: default_ext(),
                order_external_id_field: default_order_ext(),
                product_external_id_field: default_product_ext(),
                person_object: PersonObject::Contact,
                call_client: default_client(),
                campaign_member_status: default_member_status(),
                cdc_relay_secret: None,
                source_fields: Vec::new(),
                slow_down_at_percent: default_slow_down(),
                routing: crate::routing::OwnerRouting::default(),
                campaign_match_field: default_campaign_match(),
            },
        }
    }

    /// The login host, without a trailing slash.
    pub fn login_url(&self) -> String {
        self.login_url
            .as_deref()
            .unwrap_or(match self.environment {
                Environment::Production => PRODUCTION_LOGIN_URL,
                Environment::Sandbox => SANDBOX_LOGIN_URL,
            })
            .trim()
            .trim_end_matches('/')
            .to_owned()
    }

    /// `{login}/services/oauth2/token`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the login URL is invalid or does not match the
    /// environment.
    pub fn token_url(&self) -> Result<String> {
        let login = self.login_url();
        let url = BaseUrl::parse_for(crate::error::CONNECTOR, "login_url", &login)?;
        let host = url.as_url().host_str().unwrap_or("").to_ascii_lowercase();
        let production_host = host == "login.salesforce.com"
            || (host.ends_with(".my.salesforce.com") && !host.contains(".sandbox."));
        let sandbox_host = host == "test.salesforce.com" || host.contains(".sandbox.");
        match self.environment {
            Environment::Sandbox if production_host => {
                return Err(config_error(
                    "login_url",
                    format!("environment is sandbox but {host} is a production login host"),
                ));
            }
            Environment::Production if sandbox_host => {
                return Err(config_error(
                    "login_url",
                    format!("environment is production but {host} is a sandbox login host"),
                ));
            }
            _ => {}
        }
        Ok(format!("{login}/services/oauth2/token"))
    }

    /// The standard JWT `aud` of the environment (the login host Salesforce names, also
    /// when the token call goes to a My Domain).
    pub fn jwt_audience(&self) -> String {
        match self.environment {
            Environment::Production => PRODUCTION_LOGIN_URL,
            Environment::Sandbox => SANDBOX_LOGIN_URL,
        }
        .to_owned()
    }

    /// The instance URL override: `instance_url`, else `settings.base_url`.
    pub fn instance_override(&self) -> Option<String> {
        self.instance_url
            .clone()
            .or_else(|| {
                self.settings
                    .base_url
                    .as_ref()
                    .map(|b| b.as_str().to_owned())
            })
            .map(|u| u.trim_end_matches('/').to_owned())
    }

    /// The REST root `{instance}/services/data/{version}` for an instance URL.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the result is not a URL.
    pub fn rest_root(&self, instance: &str) -> Result<BaseUrl> {
        BaseUrl::parse_for(
            crate::error::CONNECTOR,
            "instance_url",
            &format!(
                "{}/services/data/{}",
                instance.trim_end_matches('/'),
                self.api_version
            ),
        )
    }

    /// The client-side request pacing (default 25 per second).
    pub fn rate_limit(&self) -> RateLimit {
        self.settings.rate_limit_or(DEFAULT_RATE_LIMIT)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        self.settings.validate(crate::error::CONNECTOR)?;
        self.token_url()?;
        let version = self.api_version.strip_prefix('v').unwrap_or("");
        let valid_version = version.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.chars().all(|c| c.is_ascii_digit())
                && minor.chars().all(|c| c.is_ascii_digit())
        });
        if !valid_version {
            return Err(config_error(
                "api_version",
                "API version must look like v62.0",
            ));
        }
        if let Some(instance) = self.instance_override() {
            self.rest_root(&instance)?;
        }
        if let SalesforceAuth::JwtBearer { username, .. } = &self.auth
            && username.trim().is_empty()
        {
            return Err(config_error("auth.username", "the username is empty"));
        }
        if self.auth.client_id().trim().is_empty() {
            return Err(config_error("auth.client_id", "the client id is empty"));
        }
        for (field, secret) in self.auth.secrets() {
            if secret.is_empty() {
                return Err(config_error(field, "must not be empty"));
            }
        }
        if !(1..=100).contains(&self.slow_down_at_percent) {
            return Err(config_error(
                "slow_down_at_percent",
                "must be between 1 and 100",
            ));
        }
        if self.cdc_relay_secret.as_ref().is_some_and(Secret::is_empty) {
            return Err(config_error("cdc_relay_secret", "must not be empty"));
        }
        if let Some(bad) = self.source_fields.iter().find(|f| !is_field_name(f)) {
            return Err(config_error(
                "source_fields",
                format!("{bad:?} is not a field API name"),
            ));
        }
        if let SalesforceAuth::JwtBearer { private_key, .. } = &self.auth {
            crate::jwt::JwtSigner::new(private_key, "", "", "")?;
        }
        for (field, value) in [
            ("external_id_field", &self.external_id_field),
            ("order_external_id_field", &self.order_external_id_field),
            ("product_external_id_field", &self.product_external_id_field),
        ] {
            if !is_field_name(value) || !value.ends_with("__c") {
                return Err(config_error(
                    field,
                    "must be a custom field API name ending in __c",
                ));
            }
        }
        self.routing.validate()?;
        if !is_field_name(&self.campaign_match_field) {
            return Err(config_error(
                "campaign_match_field",
                "must be a field API name (e.g. Coupon_Code__c or Name)",
            ));
        }
        if self.call_client.trim().is_empty() || self.call_client.contains([',', ' ', '\n']) {
            return Err(config_error(
                "call_client",
                "must be a non-empty id without spaces",
            ));
        }
        Ok(())
    }

    /// The OAuth 2.0 settings for the token endpoint.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a bad login URL.
    pub fn oauth(&self) -> Result<cartograph_http::OAuth2Config> {
        let token_url = self.token_url()?;
        let config = match &self.auth {
            SalesforceAuth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => cartograph_http::OAuth2Config::refresh_token(
                &token_url,
                client_id.clone(),
                client_secret.clone(),
                refresh_token.clone(),
            )?,
            SalesforceAuth::ClientCredentials {
                client_id,
                client_secret,
            } => cartograph_http::OAuth2Config::client_credentials(
                &token_url,
                client_id.clone(),
                client_secret.clone(),
            )?
            .with_client_auth(cartograph_http::ClientAuth::Form),
            SalesforceAuth::JwtBearer {
                client_id,
                username,
                private_key,
                audience,
            } => cartograph_http::OAuth2Config::jwt_bearer(
                &token_url,
                client_id.clone(),
                std::sync::Arc::new(crate::jwt::JwtSigner::new(
                    private_key,
                    client_id.clone(),
                    username.clone(),
                    audience.clone().unwrap_or_else(|| self.jwt_audience()),
                )?),
            )?,
        };
        Ok(config.with_timeout(self.settings.timeout))
    }
}

/// Consuming builder of [`SalesforceConfig`].
#[derive(Clone, Debug)]
pub struct SalesforceConfigBuilder {
    config: SalesforceConfig,
}

impl SalesforceConfigBuilder {
    /// Sets the CDC relay's shared secret (change events without it are refused).
    #[must_use]
    pub fn cdc_relay_secret(mut self, secret: Secret) -> Self {
        self.config.cdc_relay_secret = Some(secret);
        self
    }

    /// Sets the Campaign field matched against coupon codes.
    #[must_use]
    pub fn campaign_match_field(mut self, field: impl Into<String>) -> Self {
        self.config.campaign_match_field = field.into();
        self
    }

    /// Sets the owners of Cases and Tasks (see [`crate::routing`]).
    #[must_use]
    pub fn routing(mut self, routing: crate::routing::OwnerRouting) -> Self {
        self.config.routing = routing;
        self
    }

    /// Sets the share of the daily allocation (percent) from which requests are spaced.
    #[must_use]
    pub fn slow_down_at_percent(mut self, percent: u8) -> Self {
        self.config.slow_down_at_percent = percent;
        self
    }

    /// Sets the extra fields read back by `list_contacts` and gap re-reads.
    #[must_use]
    pub fn source_fields(mut self, fields: Vec<String>) -> Self {
        self.config.source_fields = fields;
        self
    }

    /// Replaces the OAuth 2.0 credentials.
    #[must_use]
    pub fn auth(mut self, auth: SalesforceAuth) -> Self {
        self.config.auth = auth;
        self
    }

    /// Sets the login host (production, sandbox or My Domain).
    #[must_use]
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.config.login_url = Some(url.into());
        self
    }

    /// Sets the API version (`v62.0`).
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.config.api_version = version.into();
        self
    }

    /// Overrides the instance URL (otherwise taken from the token response).
    #[must_use]
    pub fn instance_url(mut self, url: impl Into<String>) -> Self {
        self.config.instance_url = Some(url.into());
        self
    }

    /// Sets the External ID field of people, tasks and cases.
    #[must_use]
    pub fn external_id_field(mut self, field: impl Into<String>) -> Self {
        self.config.external_id_field = field.into();
        self
    }

    /// Sets the External ID field of opportunities.
    #[must_use]
    pub fn order_external_id_field(mut self, field: impl Into<String>) -> Self {
        self.config.order_external_id_field = field.into();
        self
    }

    /// Sets the External ID field of products (`Product2`).
    #[must_use]
    pub fn product_external_id_field(mut self, field: impl Into<String>) -> Self {
        self.config.product_external_id_field = field.into();
        self
    }

    /// Writes people as Contacts or Leads.
    #[must_use]
    pub fn person_object(mut self, object: PersonObject) -> Self {
        self.config.person_object = object;
        self
    }

    /// Sets the `Sforce-Call-Options` client id.
    #[must_use]
    pub fn call_client(mut self, client: impl Into<String>) -> Self {
        self.config.call_client = client.into();
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.settings.retry = retry;
        self
    }

    /// Sets the client-side pacing.
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

    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn build(self) -> Result<SalesforceConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> SalesforceAuth {
        SalesforceAuth::ClientCredentials {
            client_id: "id".into(),
            client_secret: Secret::new("s"),
        }
    }

    #[test]
    fn environment_picks_the_login_host_and_guards_sandbox() {
        let prod = SalesforceConfig::builder(Environment::Production, auth())
            .build()
            .expect("valid");
        assert_eq!(
            prod.token_url().expect("valid"),
            "https://login.salesforce.com/services/oauth2/token"
        );
        let err = SalesforceConfig::builder(Environment::Sandbox, auth())
            .login_url("https://login.salesforce.com/")
            .build()
            .expect_err("sandbox on production host");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("login_url"));
        let err = SalesforceConfig::builder(Environment::Sandbox, auth())
            .login_url("https://acme.my.salesforce.com")
            .build()
            .expect_err("sandbox on production My Domain");
        assert_eq!(err.field(), Some("login_url"));
        SalesforceConfig::builder(Environment::Sandbox, auth())
            .login_url("https://acme--uat.sandbox.my.salesforce.com")
            .build()
            .expect("sandbox My Domain");
        let err = SalesforceConfig::builder(Environment::Production, auth())
            .login_url("https://test.salesforce.com")
            .build()
            .expect_err("production on sandbox host");
        assert_eq!(err.field(), Some("login_url"));
    }

    #[test]
    fn bad_version_fields_and_secrets_are_refused() {
        let err = SalesforceConfig::builder(Environment::Production, auth())
            .api_version("62")
            .build()
            .expect_err("version");
        assert_eq!(err.field(), Some("api_version"));
        let err = SalesforceConfig::builder(Environment::Production, auth())
            .external_id_field("Email")
            .build()
            .expect_err("not custom");
        assert_eq!(err.field(), Some("external_id_field"));
        let err = SalesforceConfig::builder(
            Environment::Production,
            SalesforceAuth::RefreshToken {
                client_id: "id".into(),
                client_secret: Secret::new("s"),
                refresh_token: Secret::new(""),
            },
        )
        .build()
        .expect_err("empty refresh token");
        assert_eq!(err.field(), Some("auth.refresh_token"));
    }

    #[test]
    fn deserializes_with_shared_settings() {
        let config: SalesforceConfig = serde_json::from_value(serde_json::json!({
            "environment": "sandbox",
            "auth": {"grant": "refresh_token", "client_id": "id",
                     "client_secret": "s3cr3t", "refresh_token": "r3fr3sh"},
            "timeout_ms": 5000,
            "person_object": "Lead",
            "instance_url": "http://127.0.0.1:9",
        }))
        .expect("valid");
        config.validate().expect("valid");
        assert_eq!(config.settings.timeout, Duration::from_secs(5));
        assert_eq!(config.person_object, PersonObject::Lead);
        assert_eq!(
            config
                .rest_root("http://127.0.0.1:9")
                .expect("url")
                .as_str(),
            "http://127.0.0.1:9/services/data/v62.0"
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cr3t") && !debug.contains("r3fr3sh"));
    }
}
