//! One settings block for five connectors: the transport keys of every vendor config are the
//! shared `cartograph::http::ConnectorSettings`, read from the same JSON or TOML block, and a
//! bad base URL is reported the same way by all five (connector and field named).

use std::time::Duration;

use cartograph::activecampaign::ActiveCampaignConfig;
use cartograph::bigcommerce::BigCommerceConfig;
use cartograph::commercetools::CommercetoolsConfig;
use cartograph::connector::ErrorKind;
use cartograph::http::{ConnectorSettings, RateLimit, Secret};
use cartograph::hubspot::{HubSpotAuth, HubSpotConfig};
use cartograph::salesforce::SalesforceConfig;
use serde_json::{Value, json};

/// The shared block, as a host's config file would carry it.
const SHARED_TOML: &str = r#"
base_url = "http://127.0.0.1:4010/api"
timeout_ms = 5000
connect_timeout_ms = 1500
max_response_bytes = 1048576
user_agent = "host-app/2.1"

[retry]
max_attempts = 2
min_delay_ms = 5

[rate_limit]
requests = 7
per_ms = 2000
"#;

fn shared_json() -> Value {
    json!({
        "base_url": "http://127.0.0.1:4010/api",
        "timeout_ms": 5000,
        "connect_timeout_ms": 1500,
        "max_response_bytes": 1_048_576,
        "user_agent": "host-app/2.1",
        "retry": {"max_attempts": 2, "min_delay_ms": 5},
        "rate_limit": {"requests": 7, "per_ms": 2000},
    })
}

/// Each connector's own required keys: (name, JSON keys, the same keys as top-level TOML).
fn vendors() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        (
            "bigcommerce",
            json!({"store_hash": "abc123", "access_token": "tok"}),
            r#"store_hash = "abc123"
access_token = "tok""#,
        ),
        (
            "commercetools",
            json!({"project_key": "shop", "client_id": "id", "client_secret": "s"}),
            r#"project_key = "shop"
client_id = "id"
client_secret = "s""#,
        ),
        (
            "hubspot",
            json!({"auth": {"kind": "private_app", "token": "pat"}}),
            r#"auth = { kind = "private_app", token = "pat" }"#,
        ),
        (
            "salesforce",
            json!({"environment": "sandbox", "auth": {"grant": "refresh_token",
                "client_id": "id", "client_secret": "s", "refresh_token": "r"}}),
            r#"environment = "sandbox"
auth = { grant = "refresh_token", client_id = "id", client_secret = "s", refresh_token = "r" }"#,
        ),
        (
            "activecampaign",
            json!({"api_token": "key", "account": "mystore"}),
            r#"api_token = "key"
account = "mystore""#,
        ),
    ]
}

/// Deserializes `name`'s config from `value` (JSON) and returns its settings after
/// `validate()`, or the deserialization error's text.
fn settings_of(name: &str, value: Value) -> Result<ConnectorSettings, String> {
    fn read<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
    let settings = match name {
        "bigcommerce" => read::<BigCommerceConfig>(value).map(|c| {
            c.validate().expect("valid");
            c.settings
        }),
        "commercetools" => read::<CommercetoolsConfig>(value).map(|c| {
            c.validate().expect("valid");
            c.settings
        }),
        "hubspot" => read::<HubSpotConfig>(value).map(|c| {
            c.validate().expect("valid");
            c.settings
        }),
        "salesforce" => read::<SalesforceConfig>(value).map(|c| {
            c.validate().expect("valid");
            c.settings
        }),
        "activecampaign" => read::<ActiveCampaignConfig>(value).map(|c| {
            c.validate().expect("valid");
            c.settings
        }),
        other => panic!("unknown connector {other}"),
    }?;
    Ok(settings)
}

fn merged(vendor: &Value, shared: &Value) -> Value {
    let mut all = vendor.clone();
    for (k, v) in shared.as_object().expect("object") {
        all[k] = v.clone();
    }
    all
}

#[test]
fn five_configs_read_the_same_settings_block() {
    let expected: ConnectorSettings = toml::from_str(SHARED_TOML).expect("shared block");
    assert_eq!(expected.timeout, Duration::from_secs(5));
    assert_eq!(expected.connect_timeout, Duration::from_millis(1500));
    assert_eq!(expected.retry.max_attempts, 2);
    assert_eq!(
        expected.rate_limit,
        Some(RateLimit::new(7, Duration::from_secs(2)))
    );
    assert_eq!(
        expected.base_url.as_ref().map(|u| u.as_str().to_owned()),
        Some("http://127.0.0.1:4010/api".to_owned())
    );
    for (name, vendor, vendor_toml) in vendors() {
        let from_json = settings_of(name, merged(&vendor, &shared_json()))
            .unwrap_or_else(|e| panic!("{name} from JSON: {e}"));
        assert_eq!(from_json, expected, "{name} from JSON");
        // The same file as TOML: the vendor's keys, then the shared block.
        let text = format!("{vendor_toml}\n{SHARED_TOML}");
        let table: Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{name} TOML: {e}"));
        let from_toml = settings_of(name, table).unwrap_or_else(|e| panic!("{name} TOML: {e}"));
        assert_eq!(from_toml, expected, "{name} from TOML");
        // Without the block, every key takes the shared default.
        let bare = settings_of(name, vendor).unwrap_or_else(|e| panic!("{name} bare: {e}"));
        assert_eq!(bare, ConnectorSettings::default(), "{name} defaults");
    }
}

#[test]
fn a_bad_base_url_in_the_block_names_connector_and_field_for_all_five() {
    for (name, vendor, _) in vendors() {
        let text = settings_of(
            name,
            merged(&vendor, &json!({"base_url": "ftp://127.0.0.1"})),
        )
        .expect_err("ftp is not a base URL");
        assert!(
            text.starts_with(&format!("{name}: config: field base_url:")),
            "{name}: {text}"
        );
        let text = settings_of(name, merged(&vendor, &json!({"timeout_ms": "soon"})))
            .expect_err("not milliseconds");
        assert!(
            text.starts_with(&format!("{name}: config:")),
            "{name}: {text}"
        );
    }
}

#[test]
fn a_bad_base_url_in_a_builder_is_the_same_typed_error_for_all_five() {
    let bad = "ftp://127.0.0.1";
    let errors = [
        BigCommerceConfig::builder("abc123", "tok")
            .base_url(bad)
            .build()
            .expect_err("bigcommerce"),
        CommercetoolsConfig::builder("shop", "id", "s")
            .api_url(bad)
            .build()
            .expect_err("commercetools"),
        HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("pat"),
        })
        .base_url(bad)
        .expect_err("hubspot"),
        ActiveCampaignConfig::builder(Secret::new("key"))
            .base_url(bad)
            .expect_err("activecampaign"),
    ];
    for (err, name) in
        errors
            .iter()
            .zip(["bigcommerce", "commercetools", "hubspot", "activecampaign"])
    {
        assert_eq!(err.kind(), ErrorKind::Config, "{name}");
        assert_eq!(err.connector(), name);
        assert_eq!(err.field(), Some("base_url"), "{name}");
        assert!(
            err.to_string()
                .starts_with(&format!("{name}: config [field base_url]")),
            "{err}"
        );
    }
}
