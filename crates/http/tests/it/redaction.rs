//! A planted token never shows in Debug, Display, errors or tracing output.

use std::sync::Arc;

use cartograph_http::{
    BaseUrl, BearerToken, HeaderToken, HttpConfig, OAuth2, OAuth2Config, Request, Secret,
};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{capture_tracing, client_for, fast_retry};

const PLANTED: &str = "tok-SECRET-123";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(PLANTED), "{what} leaks the token: {text}");
    assert!(!text.contains("SECRET"), "{what} leaks a secret: {text}");
}

#[test]
fn secret_and_auth_types_never_print_the_token() {
    let secret = Secret::new(PLANTED);
    assert_clean("Secret Debug", &format!("{secret:?} {secret:#?}"));
    assert_clean("Secret Display", &secret.to_string());
    let header_token = HeaderToken::new("X-Auth-Token", secret.clone()).expect("valid");
    assert_clean("HeaderToken", &format!("{header_token:?}"));
    assert_clean("BearerToken", &format!("{:?}", BearerToken(secret.clone())));
    let oauth = OAuth2Config::refresh_token(
        "https://auth.example/token",
        "id",
        secret.clone(),
        secret.clone(),
    )
    .expect("valid");
    assert_clean("OAuth2Config", &format!("{oauth:?}"));
    assert_clean(
        "OAuth2",
        &format!("{:?}", OAuth2::new(oauth).expect("oauth")),
    );
    let config = HttpConfig::new(
        BaseUrl::parse("https://api.example/stores/s").expect("valid"),
        Arc::new(header_token),
    );
    assert_clean("HttpConfig", &format!("{config:?} {config:#?}"));
}

#[tokio::test]
async fn errors_and_tracing_never_contain_the_token() {
    let (captured, _guard) = capture_tracing();
    let api = MockServer::start().await;
    let auth_server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": PLANTED, "expires_in": 3600})),
        )
        .mount(&auth_server)
        .await;
    Mock::given(path("/unauthorized"))
        .and(header("x-auth-token", PLANTED))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "invalid token"})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/broken"))
        .respond_with(ResponseTemplate::new(500).insert_header("x-request-id", "r-1"))
        .expect(2)
        .mount(&api)
        .await;
    Mock::given(path("/oauth-broken"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&api)
        .await;

    let header_auth =
        Arc::new(HeaderToken::new("X-Auth-Token", Secret::new(PLANTED)).expect("valid"));
    let client = client_for(&api.uri(), header_auth, fast_retry(2));
    let mut errors = Vec::new();
    errors.push(
        client
            .send(Request::get("/unauthorized").operation("list_orders"))
            .await
            .expect_err("401"),
    );
    errors.push(
        client
            .send(
                Request::post("/broken")
                    .query("api_key", PLANTED)
                    .json(json!({"token": PLANTED}))
                    .retry_safe(true),
            )
            .await
            .expect_err("500"),
    );
    let oauth = OAuth2Config::client_credentials(
        &format!("{}/token", auth_server.uri()),
        "id",
        Secret::new(PLANTED),
    )
    .expect("valid");
    let oauth_client = client_for(
        &api.uri(),
        Arc::new(OAuth2::new(oauth).expect("oauth")),
        fast_retry(2),
    );
    errors.push(
        oauth_client
            .send(Request::get("/oauth-broken"))
            .await
            .expect_err("401 twice"),
    );
    let bad_host = client_for(
        "http://127.0.0.1:9",
        Arc::new(BearerToken(Secret::new(PLANTED))),
        fast_retry(1),
    );
    errors.push(
        bad_host
            .send(Request::get("/x").query("token", PLANTED))
            .await
            .expect_err("no server"),
    );

    for err in &errors {
        assert_clean("error Display", &err.to_string());
        assert_clean("error Debug", &format!("{err:?}"));
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            assert_clean("error source", &format!("{cause} {cause:?}"));
            source = cause.source();
        }
    }
    let logs = captured.text();
    assert!(
        logs.contains("http.request"),
        "tracing was captured: {logs}"
    );
    assert!(
        logs.contains("path=\"/broken\"") || logs.contains("path=/broken"),
        "{logs}"
    );
    assert!(logs.contains("status=500"), "{logs}");
    assert_clean("tracing output", &logs);
}
