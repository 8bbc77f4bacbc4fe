//! OAuth 2.0: single flight, proactive refresh, refresh after 401, refresh-token rotation.
//! Tokens come from a second mock server: the auth host may differ from the API host.

use std::sync::Arc;
use std::time::Duration;

use cartograph_http::{
    AssertionSigner, Authenticator, ClientAuth, Error, ErrorKind, OAuth2, OAuth2Config, Request,
    Secret,
};
use serde_json::json;
use wiremock::matchers::{basic_auth, bearer_token, body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, client_for, fast_retry};

fn token(access: &str, expires_in: u64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access, "token_type": "bearer", "expires_in": expires_in, "scope": "manage_project:p"
    }))
}

fn client_credentials(auth_server: &MockServer) -> OAuth2Config {
    OAuth2Config::client_credentials(
        &format!("{}/oauth/token", auth_server.uri()),
        "client-1",
        Secret::new("cs-SECRET"),
    )
    .expect("valid token URL")
    .with_scope("manage_project:p")
}

async fn mount_api(api: &MockServer, access: &str, status: u16, times: u64) {
    Mock::given(method("GET"))
        .and(path("/p/orders"))
        .and(bearer_token(access))
        .respond_with(ResponseTemplate::new(status).set_body_json(json!({"results": []})))
        .expect(times)
        .mount(api)
        .await;
}

#[tokio::test]
async fn client_credentials_token_fetched_once_for_concurrent_requests() {
    let (auth_server, api) = (MockServer::start().await, MockServer::start().await);
    catch_all(&auth_server).await;
    catch_all(&api).await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(basic_auth("client-1", "cs-SECRET"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=manage_project%3Ap"))
        .respond_with(token("at-1", 3600).set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&auth_server)
        .await;
    mount_api(&api, "at-1", 200, 10).await;
    let oauth = Arc::new(OAuth2::new(client_credentials(&auth_server)).expect("oauth"));
    let client = client_for(&api.uri(), oauth, fast_retry(2));
    let mut calls = Vec::new();
    for _ in 0..10 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client.send(Request::get("/p/orders")).await
        }));
    }
    for call in calls {
        call.await.expect("task").expect("request");
    }
}

#[tokio::test]
async fn token_refreshed_proactively_before_expiry() {
    let (auth_server, api) = (MockServer::start().await, MockServer::start().await);
    catch_all(&api).await;
    // The first token lives 30 s, inside the 60 s margin: it is stale at once.
    Mock::given(method("POST"))
        .respond_with(token("at-1", 30))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&auth_server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 3600))
        .expect(1)
        .mount(&auth_server)
        .await;
    mount_api(&api, "at-1", 200, 1).await;
    mount_api(&api, "at-2", 200, 2).await;
    let oauth = Arc::new(OAuth2::new(client_credentials(&auth_server)).expect("oauth"));
    let client = client_for(&api.uri(), oauth, fast_retry(1));
    for _ in 0..3 {
        client
            .send(Request::get("/p/orders"))
            .await
            .expect("request");
    }
}

#[tokio::test]
async fn unauthorized_refreshes_token_once_and_retries_once() {
    let (auth_server, api) = (MockServer::start().await, MockServer::start().await);
    catch_all(&api).await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&auth_server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 3600))
        .mount(&auth_server)
        .await;
    mount_api(&api, "at-1", 401, 1).await;
    mount_api(&api, "at-2", 200, 1).await;
    let oauth = Arc::new(OAuth2::new(client_credentials(&auth_server)).expect("oauth"));
    // max_attempts 1: the 401 retry is on top of the normal retry budget.
    let client = client_for(&api.uri(), oauth, fast_retry(1));
    assert_eq!(
        client
            .send(Request::get("/p/orders"))
            .await
            .expect("retried")
            .status,
        200
    );
    assert_eq!(
        auth_server
            .received_requests()
            .await
            .expect("recorded")
            .len(),
        2
    );
}

#[tokio::test]
async fn second_unauthorized_is_returned() {
    let (auth_server, api) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .expect(2)
        .mount(&auth_server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "expired"})))
        .expect(2)
        .mount(&api)
        .await;
    let oauth = Arc::new(OAuth2::new(client_credentials(&auth_server)).expect("oauth"));
    let err = client_for(&api.uri(), oauth, fast_retry(5))
        .send(Request::get("/p/orders").operation("list_orders"))
        .await
        .expect_err("still 401");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.operation(), "list_orders");
}

#[tokio::test]
async fn refresh_token_grant_uses_form_auth_and_keeps_rotated_token() {
    let auth_server = MockServer::start().await;
    catch_all(&auth_server).await;
    Mock::given(method("POST"))
        .and(path("/oauth/v1/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .and(body_string_contains("client_id=app"))
        .and(body_string_contains("client_secret=cs"))
        // Salesforce-style: no expires_in, an instance_url to read back.
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-1", "refresh_token": "rt-2", "instance_url": "https://x.my.salesforce.com"
        })))
        .expect(1)
        .mount(&auth_server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("refresh_token=rt-2"))
        .respond_with(token("at-2", 3600))
        .expect(1)
        .mount(&auth_server)
        .await;
    let config = OAuth2Config::refresh_token(
        &format!("{}/oauth/v1/token", auth_server.uri()),
        "app",
        Secret::new("cs"),
        Secret::new("rt-1"),
    )
    .expect("valid")
    .with_default_lifetime(Duration::from_secs(7200));
    assert_eq!(config.client_auth, ClientAuth::Form);
    let oauth = OAuth2::new(config).expect("oauth");
    assert_eq!(oauth.access_token().await.expect("token").expose(), "at-1");
    assert_eq!(
        oauth.token_field("instance_url").await.expect("token"),
        Some(json!("https://x.my.salesforce.com"))
    );
    assert_eq!(
        oauth.token_field("access_token").await.expect("token"),
        None
    );
    assert_eq!(oauth.refresh_token().await.expect("kept").expose(), "rt-2");
    // Within the default lifetime: no new call.
    assert_eq!(oauth.access_token().await.expect("token").expose(), "at-1");
    assert!(oauth.refresh_after_unauthorized().await.expect("refreshed"));
    assert_eq!(oauth.access_token().await.expect("token").expose(), "at-2");
    // No refresh_token in the second response: the rotated one stays.
    assert_eq!(oauth.refresh_token().await.expect("kept").expose(), "rt-2");
}

#[tokio::test]
async fn token_endpoint_refusal_is_unauthorized() {
    let auth_server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client", "error_description": "bad credentials"
        })))
        .expect(1)
        .mount(&auth_server)
        .await;
    let oauth = OAuth2::new(client_credentials(&auth_server).with_client_auth(ClientAuth::Form))
        .expect("oauth");
    let err = oauth.access_token().await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.vendor_code(), Some("invalid_client"));
    assert!(!format!("{err:?}").contains("cs-SECRET"));
}

#[tokio::test]
async fn concurrent_unauthorized_responses_share_one_refresh() {
    let (auth_server, api) = (MockServer::start().await, MockServer::start().await);
    catch_all(&api).await;
    Mock::given(method("POST"))
        .respond_with(token("at-1", 3600))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&auth_server)
        .await;
    Mock::given(method("POST"))
        .respond_with(token("at-2", 3600).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&auth_server)
        .await;
    mount_api(&api, "at-1", 401, 5).await;
    mount_api(&api, "at-2", 200, 5).await;
    let oauth = Arc::new(OAuth2::new(client_credentials(&auth_server)).expect("oauth"));
    oauth.access_token().await.expect("first token");
    let client = client_for(&api.uri(), oauth, fast_retry(1));
    let mut calls = Vec::new();
    for _ in 0..5 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client.send(Request::get("/p/orders")).await
        }));
    }
    for call in calls {
        assert_eq!(call.await.expect("task").expect("retried").status, 200);
    }
}

/// A signer that numbers its assertions (each token call must mint a new one).
#[derive(Debug, Default)]
struct CountingSigner(std::sync::atomic::AtomicU32);

impl AssertionSigner for CountingSigner {
    fn assertion(&self) -> cartograph_http::Result<Secret> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        Ok(Secret::new(format!("jwt-{n}")))
    }
}

#[derive(Debug)]
struct FailingSigner;

impl AssertionSigner for FailingSigner {
    fn assertion(&self) -> cartograph_http::Result<Secret> {
        Err(Error::new(ErrorKind::Config, "private key rejected"))
    }
}

#[tokio::test]
async fn jwt_bearer_grant_sends_a_fresh_assertion_and_no_client_secret() {
    let auth_server = MockServer::start().await;
    catch_all(&auth_server).await;
    for (n, access) in [(1, "at-1"), (2, "at-2")] {
        Mock::given(method("POST"))
            .and(path("/services/oauth2/token"))
            .and(body_string_contains(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
            ))
            .and(body_string_contains(format!("assertion=jwt-{n}")))
            .respond_with(token(access, 3600))
            .expect(1)
            .mount(&auth_server)
            .await;
    }
    let config = OAuth2Config::jwt_bearer(
        &format!("{}/services/oauth2/token", auth_server.uri()),
        "consumer-key",
        Arc::new(CountingSigner::default()),
    )
    .expect("valid");
    assert_eq!(config.client_auth, ClientAuth::None);
    let oauth = OAuth2::new(config).expect("oauth");
    assert_eq!(oauth.access_token().await.expect("token").expose(), "at-1");
    assert!(oauth.refresh_after_unauthorized().await.expect("refreshed"));
    assert_eq!(oauth.access_token().await.expect("token").expose(), "at-2");
    for request in auth_server.received_requests().await.expect("recorded") {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        assert!(!body.contains("client_secret"), "{body}");
        assert!(request.headers.get("authorization").is_none());
    }
}

#[tokio::test]
async fn jwt_bearer_signing_failure_is_returned_without_a_token_call() {
    let auth_server = MockServer::start().await;
    catch_all(&auth_server).await;
    let config = OAuth2Config::jwt_bearer(
        &format!("{}/services/oauth2/token", auth_server.uri()),
        "consumer-key",
        Arc::new(FailingSigner),
    )
    .expect("valid");
    let err = OAuth2::new(config)
        .expect("oauth")
        .access_token()
        .await
        .expect_err("signing fails");
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(err.operation(), "oauth2_token");
    assert!(
        auth_server
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}
