//! JWT bearer flow: the token call on the wire (wiremock), and the simulator's token
//! endpoint verifying the assertion with the connected app's public key.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cartograph_connector::{CrmSink, ErrorKind};
use cartograph_http::{RateLimit, RetryPolicy};
use cartograph_model::{EmailAddress, IdentityKeys};
use cartograph_salesforce::sim::{SalesforceSim, SimConfig, generate_rsa_key_pair};
use cartograph_salesforce::{Environment, Salesforce, SalesforceAuth, SalesforceConfig};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ROOT: &str = "/services/data/v62.0";

fn by_email(mail: &str) -> IdentityKeys {
    IdentityKeys {
        email: EmailAddress::new(mail),
        ..IdentityKeys::default()
    }
}

fn claims_of(assertion: &str) -> Value {
    let claims = assertion.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("base64url")).expect("json")
}

#[tokio::test]
async fn jwt_bearer_posts_a_signed_assertion_and_no_secret() {
    let server = MockServer::start().await;
    let (private_key, _public) = generate_rsa_key_pair();
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        ))
        .and(body_string_contains("assertion=eyJ"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-jwt", "instance_url": server.uri(), "token_type": "Bearer",
            "issued_at": "1700000000000", "id": "https://login/id/00D/005",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .and(header("authorization", "Bearer tok-jwt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "totalSize": 0, "done": true, "records": []})))
        .mount(&server)
        .await;
    let config = SalesforceConfig::builder(
        Environment::Production,
        SalesforceAuth::JwtBearer {
            client_id: "3MVG9consumer".into(),
            username: "integration@acme.com".into(),
            private_key: private_key.clone(),
            audience: None,
        },
    )
    .login_url(server.uri())
    .rate_limit(RateLimit::new(1000, Duration::from_secs(1)))
    .retry(RetryPolicy::default().with_max_attempts(1))
    .build()
    .unwrap();
    let debug = format!("{config:?}");
    let key_line = private_key.expose().lines().nth(3).unwrap();
    assert!(!debug.contains(key_line), "{debug}");
    let sf = Salesforce::new(config).unwrap();
    let found = sf
        .find_contacts(&[by_email("a@example.com")])
        .await
        .unwrap();
    assert!(found[0].is_none());

    let requests = server.received_requests().await.unwrap();
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert!(!body.contains("client_secret"), "{body}");
    let form: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
    let claims = claims_of(&form["assertion"]);
    assert_eq!(claims["iss"], "3MVG9consumer");
    assert_eq!(claims["sub"], "integration@acme.com");
    // Production: the production login host, also when the call goes elsewhere.
    assert_eq!(claims["aud"], "https://login.salesforce.com");
    let exp = claims["exp"].as_i64().unwrap();
    let now = cartograph_model::Timestamp::now().unix_seconds();
    assert!(exp > now && exp <= now + 180, "exp {exp} now {now}");
}

#[tokio::test]
async fn jwt_bearer_refusal_is_unauthorized_naming_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "user hasn't approved this consumer"})))
        .mount(&server)
        .await;
    let (private_key, _public) = generate_rsa_key_pair();
    let sf = Salesforce::new(
        SalesforceConfig::builder(
            Environment::Sandbox,
            SalesforceAuth::JwtBearer {
                client_id: "3MVG9consumer".into(),
                username: "integration@acme.com".into(),
                private_key,
                audience: None,
            },
        )
        .login_url(server.uri())
        .retry(RetryPolicy::default().with_max_attempts(1))
        .build()
        .unwrap(),
    )
    .unwrap();
    let err = sf
        .find_contacts(&[by_email("a@example.com")])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.vendor_code(), Some("invalid_grant"));
    assert!(err.to_string().contains("approved"), "{err}");
}

#[test]
fn jwt_config_refuses_a_key_that_is_not_rsa_pem_and_an_empty_user() {
    let (private_key, public) = generate_rsa_key_pair();
    let build = |username: &str, key: cartograph_http::Secret| {
        SalesforceConfig::builder(
            Environment::Sandbox,
            SalesforceAuth::JwtBearer {
                client_id: "cid".into(),
                username: username.into(),
                private_key: key,
                audience: None,
            },
        )
        .build()
    };
    // A public key where the private one belongs.
    let err = build("u@acme.com", cartograph_http::Secret::new(public.clone())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.field(), Some("auth.private_key"));
    let err = build(" ", private_key.clone()).unwrap_err();
    assert_eq!(err.field(), Some("auth.username"));
    build("u@acme.com", private_key).unwrap();
    // Deserialized from config text.
    let config: SalesforceConfig = serde_json::from_value(json!({
        "environment": "sandbox",
        "auth": {"grant": "jwt_bearer", "client_id": "cid", "username": "u@acme.com",
                 "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
    }))
    .unwrap();
    assert_eq!(
        config.validate().unwrap_err().field(),
        Some("auth.private_key")
    );
}

async fn sim_with_key(public: &str) -> SalesforceSim {
    SalesforceSim::start(SimConfig {
        jwt_public_key: Some(public.to_owned()),
        ..SimConfig::fast()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn simulator_accepts_an_assertion_signed_with_the_registered_key() {
    let (private_key, public) = generate_rsa_key_pair();
    let sim = sim_with_key(&public).await;
    let sf = Salesforce::new(
        sim.jwt_connector_config(private_key)
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap();
    assert!(
        sf.find_contacts(&[by_email("a@example.com")])
            .await
            .unwrap()[0]
            .is_none()
    );
    assert_eq!(sim.token_calls(), 1);
    // An expired session mints a new assertion (JWT flows have no refresh token).
    sim.expire_sessions();
    sf.find_contacts(&[by_email("a@example.com")])
        .await
        .unwrap();
    assert_eq!(sim.token_calls(), 2);
}

#[tokio::test]
async fn simulator_refuses_another_key_user_or_audience() {
    let (private_key, public) = generate_rsa_key_pair();
    let (other_private, _other_public) = generate_rsa_key_pair();
    let sim = sim_with_key(&public).await;
    let err = Salesforce::new(
        sim.jwt_connector_config(other_private.clone())
            .unwrap()
            .build()
            .unwrap(),
    )
    .unwrap()
    .find_contacts(&[by_email("a@example.com")])
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.to_string().contains("invalid assertion"), "{err}");

    for (auth, reason) in [
        (
            SalesforceAuth::JwtBearer {
                client_id: "sim-client-id".into(),
                username: "someone@else.example".into(),
                private_key: private_key.clone(),
                audience: None,
            },
            "approved",
        ),
        (
            SalesforceAuth::JwtBearer {
                client_id: "sim-client-id".into(),
                username: "integration@sim.example".into(),
                private_key: private_key.clone(),
                audience: Some("https://login.salesforce.com".into()),
            },
            "audience",
        ),
    ] {
        let config = sim.connector_config().unwrap().auth(auth).build().unwrap();
        let err = Salesforce::new(config)
            .unwrap()
            .find_contacts(&[by_email("a@example.com")])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
}
