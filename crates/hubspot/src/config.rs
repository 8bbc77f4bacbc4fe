//! [`HubSpotConfig`]: where the portal is, how to authenticate, limits and the property
//! mapping the connector writes with.

use std::collections::BTreeMap;
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_http::{BaseUrl, ConnectorSettings, RateLimit, RetryPolicy, Secret};
use cartograph_model::OrderObject;
use serde::Deserialize;
use time::UtcOffset;

/// The public API host.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";
/// HubSpot's documented batch maximum (inputs per batch call).
pub const MAX_BATCH: usize = 100;
/// The portal's default burst limit: 100 requests per 10 s (Free/Starter; 190 on
/// Professional/Enterprise). HubSpot counts per account, shared by all apps of the kind.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit::new(100, Duration::from_secs(10));
/// The portal's default daily limit (Free/Starter).
pub const DEFAULT_DAILY_LIMIT: u32 = 250_000;

/// Which path family the connector calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
pub enum ApiFlavor {
    /// `/crm/v3/objects/...`, `/crm/v3/properties/...`, `/crm/v3/lists/...`,
    /// `/crm/v4/associations/...` (HubSpot now files these as "legacy").
    #[default]
    #[serde(rename = "v3")]
    V3,
    /// Date-versioned `2026-03` paths: `/crm/objects/2026-03/...`,
    /// `/crm/properties/2026-03/...`, `/crm/lists/2026-03/...`,
    /// `/crm/associations/2026-03/...`.
    #[serde(rename = "2026-03")]
    Dated202603,
}

/// How requests are authenticated.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HubSpotAuth {
    /// A private-app access token, sent as `Authorization: Bearer`.
    PrivateApp {
        /// The token.
        token: Secret,
    },
    /// OAuth 2.0 (public app): the refresh token obtained from the authorization-code
    /// exchange; access tokens are fetched from `token_url` and replaced before their
    /// `expires_in` runs out, and once more after a 401.
    OAuth {
        /// The app's client id.
        client_id: String,
        /// The app's client secret.
        client_secret: Secret,
        /// The refresh token.
        refresh_token: Secret,
        /// Token endpoint; default `{base_url}/oauth/v1/token`.
        #[serde(default)]
        token_url: Option<String>,
    },
}

/// Property names and defaults the connector writes with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct HubSpotMapping {
    /// Overrides [`cartograph_model::OrderRecord::object`] for every order when set
    /// (`order` = the commerce `orders` object).
    pub order_object: Option<OrderObject>,
    /// Deal pipeline used when an order's properties name none (`pipeline`).
    pub deal_pipeline: String,
    /// Deal stage used when an order's properties name none (`dealstage`).
    pub deal_stage: String,
    /// Order pipeline for the `orders` object (`hs_pipeline`), when set.
    pub order_pipeline: Option<String>,
    /// Order stage for the `orders` object (`hs_pipeline_stage`), when set.
    pub order_stage: Option<String>,
    /// The integration's property group.
    pub property_group: String,
    /// Label of the property group.
    pub property_group_label: String,
    /// Unique-value property holding the order key on deals and orders (upsert key).
    pub order_id_property: String,
    /// Unique-value property holding `{order key}:{line key}` on line items.
    pub line_item_id_property: String,
    /// Unique-value property holding the product key on products.
    pub product_id_property: String,
    /// Unique-value property holding the task key on tasks.
    pub task_key_property: String,
    /// Contact properties read back by `find_contacts` and `list_contacts`.
    pub contact_read_properties: Vec<String>,
    /// Association labels (as used in [`cartograph_model::Association::label`]) to their
    /// `USER_DEFINED` association type ids.
    pub association_labels: BTreeMap<String, u32>,
}

impl Default for HubSpotMapping {
    fn default() -> Self {
        Self {
            order_object: None,
            deal_pipeline: "default".into(),
            deal_stage: "closedwon".into(),
            order_pipeline: None,
            order_stage: None,
            property_group: "cartograph".into(),
            property_group_label: "Cartograph".into(),
            order_id_property: "cartograph_order_id".into(),
            line_item_id_property: "cartograph_line_item_id".into(),
            product_id_property: "cartograph_product_id".into(),
            task_key_property: "cartograph_task_key".into(),
            contact_read_properties: [
                "email",
                "firstname",
                "lastname",
                "phone",
                "hs_additional_emails",
                "hubspot_owner_id",
                "lastmodifieddate",
            ]
            .map(String::from)
            .to_vec(),
            association_labels: BTreeMap::new(),
        }
    }
}

/// Settings of the HubSpot connector. Build with [`HubSpotConfig::builder`] or deserialize
/// and call [`HubSpotConfig::validate`].
#[derive(Clone, Debug, Deserialize)]
pub struct HubSpotConfig {
    /// Transport settings (`base_url` = the API host, default [`DEFAULT_BASE_URL`];
    /// `timeout_ms`, `connect_timeout_ms`, `retry`, `rate_limit` = the portal's burst limit,
    /// default [`DEFAULT_RATE_LIMIT`], `max_response_bytes`, `user_agent`).
    #[serde(flatten, deserialize_with = "settings_block")]
    pub settings: ConnectorSettings,
    /// Credentials.
    pub auth: HubSpotAuth,
    /// Path family.
    #[serde(default)]
    pub api_flavor: ApiFlavor,
    /// The app's client secret, used to verify webhook signatures (v3).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The app's previous client secret, still accepted for webhook signatures while a
    /// rotation is under way (HubSpot signs with the app's current secret; deliveries in
    /// flight during the switch carry the old one). Remove it once the rotation is done.
    #[serde(default)]
    pub previous_client_secret: Option<Secret>,
    /// The app id: webhook events whose `sourceId` names it are our own writes.
    #[serde(default)]
    pub app_id: Option<String>,
    /// Requests per day the portal allows (default [`DEFAULT_DAILY_LIMIT`]); 0 = do not
    /// count client-side.
    #[serde(default = "default_daily_limit")]
    pub daily_limit: u32,
    /// UTC offset of the portal's time zone, where the daily limit resets at midnight
    /// (default UTC; a fixed offset, daylight-saving changes are not followed).
    #[serde(default = "utc", with = "offset")]
    pub time_zone: UtcOffset,
    /// Inputs per batch call (1..=100, default 100).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Largest accepted age of a webhook (5 minutes).
    #[serde(
        default = "default_tolerance",
        rename = "webhook_tolerance_ms",
        with = "cartograph_connector::serde_millis"
    )]
    pub webhook_tolerance: Duration,
    /// Whether `EnrollmentTarget::Workflow` uses the legacy v2 enroll-by-email endpoint.
    #[serde(default)]
    pub legacy_workflow_enrollment: bool,
    /// Property mapping.
    #[serde(default)]
    pub mapping: HubSpotMapping,
}

fn settings_block<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<ConnectorSettings, D::Error> {
    ConnectorSettings::deserialize_for(deserializer, crate::error::CONNECTOR)
}

const fn default_daily_limit() -> u32 {
    DEFAULT_DAILY_LIMIT
}
const fn utc() -> UtcOffset {
    UtcOffset::UTC
}
const fn default_batch() -> usize {
    MAX_BATCH
}
const fn default_tolerance() -> Duration {
    Duration::from_secs(300)
}

impl HubSpotConfig {
    /// A builder with every default and the given credentials.
    ///
    /// ```
    /// use cartograph_hubspot::{ApiFlavor, HubSpotAuth, HubSpotConfig};
    /// use cartograph_http::Secret;
    ///
    /// let config = HubSpotConfig::builder(HubSpotAuth::PrivateApp { token: Secret::new("pat-na1-x") })
    ///     .base_url("http://127.0.0.1:4010")?
    ///     .api_flavor(ApiFlavor::Dated202603)
    ///     .batch_size(50)
    ///     .build()?;
    /// assert_eq!(config.batch_size, 50);
    /// # Ok::<(), cartograph_connector::Error>(())
    /// ```
    pub fn builder(auth: HubSpotAuth) -> HubSpotConfigBuilder {
        HubSpotConfigBuilder {
            config: Self {
                settings: ConnectorSettings::default(),
                auth,
                api_flavor: ApiFlavor::default(),
                client_secret: None,
                previous_client_secret: None,
                app_id: None,
                daily_limit: DEFAULT_DAILY_LIMIT,
                time_zone: UtcOffset::UTC,
                batch_size: MAX_BATCH,
                webhook_tolerance: default_tolerance(),
                legacy_workflow_enrollment: false,
                mapping: HubSpotMapping::default(),
            },
        }
    }

    /// The API host: `base_url`, else [`DEFAULT_BASE_URL`].
    ///
    /// # Errors
    /// [`ErrorKind::Config`] (not expected: a set `base_url` was checked when it was read).
    pub fn base_url(&self) -> Result<BaseUrl> {
        match &self.settings.base_url {
            Some(url) => Ok(url.clone()),
            None => BaseUrl::parse_for(crate::error::CONNECTOR, "base_url", DEFAULT_BASE_URL),
        }
    }

    /// The portal's burst limit: `rate_limit`, else [`DEFAULT_RATE_LIMIT`].
    pub fn rate_limit(&self) -> RateLimit {
        self.settings.rate_limit_or(DEFAULT_RATE_LIMIT)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: &str| {
            Err(Error::new(ErrorKind::Config, why.to_owned())
                .with_connector(crate::error::CONNECTOR)
                .with_field(field.to_owned()))
        };
        self.settings.validate(crate::error::CONNECTOR)?;
        if self.batch_size == 0 || self.batch_size > MAX_BATCH {
            return bad("batch_size", "batch size must be between 1 and 100");
        }
        match &self.auth {
            HubSpotAuth::PrivateApp { token } if token.is_empty() => {
                return bad("auth.token", "private-app token is empty");
            }
            HubSpotAuth::OAuth {
                client_id,
                refresh_token,
                ..
            } if client_id.is_empty() || refresh_token.is_empty() => {
                return bad("auth", "OAuth client id and refresh token are required");
            }
            _ => {}
        }
        let m = &self.mapping;
        for (field, value) in [
            ("mapping.order_id_property", &m.order_id_property),
            ("mapping.line_item_id_property", &m.line_item_id_property),
            ("mapping.product_id_property", &m.product_id_property),
            ("mapping.task_key_property", &m.task_key_property),
            ("mapping.property_group", &m.property_group),
        ] {
            if value.trim().is_empty() {
                return bad(field, "must not be empty");
            }
        }
        Ok(())
    }
}

/// Consuming builder of [`HubSpotConfig`].
#[derive(Clone, Debug)]
pub struct HubSpotConfigBuilder {
    config: HubSpotConfig,
}

impl HubSpotConfigBuilder {
    /// Sets the API host (e.g. a local simulator).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the connector and the field (`base_url`) when the URL
    /// is invalid.
    pub fn base_url(mut self, url: &str) -> Result<Self> {
        self.config.settings.base_url = Some(BaseUrl::parse_for(
            crate::error::CONNECTOR,
            "base_url",
            url,
        )?);
        Ok(self)
    }

    /// Sets the shared transport settings (a `base_url` set before is kept when `settings`
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

    /// Sets the path family.
    #[must_use]
    pub fn api_flavor(mut self, flavor: ApiFlavor) -> Self {
        self.config.api_flavor = flavor;
        self
    }

    /// Sets the app client secret used for webhook signatures.
    #[must_use]
    pub fn client_secret(mut self, secret: Secret) -> Self {
        self.config.client_secret = Some(secret);
        self
    }

    /// Also accepts webhook signatures made with the app's previous secret (key rotation).
    #[must_use]
    pub fn previous_client_secret(mut self, secret: Secret) -> Self {
        self.config.previous_client_secret = Some(secret);
        self
    }

    /// Sets the app id that marks our own writes.
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.config.app_id = Some(app_id.into());
        self
    }

    /// Sets the portal's burst limit (100 per 10 s on Free/Starter, 190 on
    /// Professional/Enterprise).
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.config.settings.rate_limit = Some(limit);
        self
    }

    /// Sets the portal's daily request limit (0 = do not count client-side).
    #[must_use]
    pub fn daily_limit(mut self, daily: u32) -> Self {
        self.config.daily_limit = daily;
        self
    }

    /// Sets the portal's UTC offset (daily-limit reset).
    #[must_use]
    pub fn time_zone(mut self, offset: UtcOffset) -> Self {
        self.config.time_zone = offset;
        self
    }

    /// Sets the batch size (validated by [`HubSpotConfigBuilder::build`]).
    #[must_use]
    pub fn batch_size(mut self, size: usize) -> Self {
        self.config.batch_size = size;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.settings.retry = retry;
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.settings.timeout = timeout;
        self
    }

    /// Enables the legacy v2 enroll-by-email endpoint for workflow targets.
    #[must_use]
    pub fn legacy_workflow_enrollment(mut self, enabled: bool) -> Self {
        self.config.legacy_workflow_enrollment = enabled;
        self
    }

    /// Sets the property mapping.
    #[must_use]
    pub fn mapping(mut self, mapping: HubSpotMapping) -> Self {
        self.config.mapping = mapping;
        self
    }

    /// Validates and returns the config.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] as for [`HubSpotConfig::validate`].
    pub fn build(self) -> Result<HubSpotConfig> {
        self.config.validate()?;
        Ok(self.config)
    }
}

mod offset {
    use serde::{Deserialize as _, Deserializer, de::Error as _};
    use time::UtcOffset;

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UtcOffset, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_offset(&text).ok_or_else(|| D::Error::custom("expected an offset like +01:00"))
    }
}

/// Parses `Z`, `UTC` or `±HH:MM` into an offset.
pub fn parse_offset(text: &str) -> Option<UtcOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deserializes_with_defaults_and_validates() {
        let config: HubSpotConfig = serde_json::from_value(serde_json::json!({
            "auth": {"kind": "private_app", "token": "pat-x"},
            "api_flavor": "2026-03",
            "time_zone": "-05:00",
            "rate_limit": {"requests": 190, "per_ms": 10000}
        }))
        .expect("valid");
        assert_eq!(config.api_flavor, ApiFlavor::Dated202603);
        assert_eq!(config.batch_size, 100);
        assert_eq!(config.rate_limit().requests, 190);
        assert_eq!(config.rate_limit().per, Duration::from_secs(10));
        assert_eq!(config.daily_limit, DEFAULT_DAILY_LIMIT);
        assert_eq!(config.time_zone.whole_hours(), -5);
        assert_eq!(
            config.base_url().expect("default").as_str(),
            "https://api.hubapi.com/"
        );
        config.validate().expect("valid");
        assert!(!format!("{config:?}").contains("pat-x"));
    }

    #[test]
    fn batch_size_over_100_is_a_config_error() {
        let err = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("t"),
        })
        .batch_size(101)
        .build()
        .expect_err("too big");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("batch_size"));
    }

    #[test]
    fn bad_base_url_names_the_connector_and_the_field() {
        let err = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("t"),
        })
        .base_url("ftp://api.hubapi.com")
        .expect_err("not http");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("base_url"));
        let text = err.to_string();
        assert!(text.starts_with("hubspot"), "{text}");
        assert!(text.contains("base_url"), "{text}");

        let err = serde_json::from_value::<HubSpotConfig>(serde_json::json!({
            "auth": {"kind": "private_app", "token": "pat-x"},
            "base_url": "not a url"
        }))
        .expect_err("not a URL");
        let text = err.to_string();
        assert!(
            text.contains("hubspot") && text.contains("base_url"),
            "{text}"
        );
        assert!(!text.contains("pat-x"), "{text}");
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("Z"), Some(UtcOffset::UTC));
        assert_eq!(
            parse_offset("+05:30").map(UtcOffset::whole_minutes),
            Some(330)
        );
        assert_eq!(parse_offset("nope"), None);
    }
}
