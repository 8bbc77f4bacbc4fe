//! OAuth 2.0 access tokens: client-credentials, refresh-token and JWT-bearer (RFC 7523)
//! grants, refreshed ahead of expiry, one token call at a time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cartograph_connector::{Error, ErrorKind, Result};
use http::HeaderMap;
use http::header::AUTHORIZATION;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::Secret;
use crate::auth::{Authenticator, sensitive_header};

/// Token-response fields never kept in [`OAuth2::token_field`] (they are credentials).
const SECRET_FIELDS: [&str; 4] = ["access_token", "refresh_token", "id_token", "signature"];

/// Which grant obtains the access token.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum OAuth2Grant {
    /// `grant_type=client_credentials` (commercetools, Salesforce client credentials).
    ClientCredentials,
    /// `grant_type=refresh_token` with a long-lived refresh token (HubSpot public apps,
    /// Salesforce web-server flow). A rotated refresh token in a response replaces it.
    RefreshToken(Secret),
    /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523) with a fresh
    /// signed assertion for every token call (Salesforce JWT bearer flow). The signer holds
    /// the private key; this crate never sees it.
    JwtBearer(Arc<dyn AssertionSigner>),
}

/// Mints the signed JWT of a [`OAuth2Grant::JwtBearer`] token call.
///
/// Implementations keep the key out of `Debug`, errors and logs.
pub trait AssertionSigner: Send + Sync + std::fmt::Debug {
    /// A new assertion (a compact JWS), valid for a short while from now.
    ///
    /// # Errors
    /// Signing failed.
    fn assertion(&self) -> Result<Secret>;
}

/// The `grant_type` of the JWT-bearer grant.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How the client authenticates itself to the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)`.
    Basic,
    /// `client_id` and `client_secret` as form fields.
    Form,
    /// No client authentication (the JWT-bearer assertion names and proves the client).
    None,
}

/// Settings of an [`OAuth2`] authenticator.
///
/// ```
/// use cartograph_http::{ClientAuth, OAuth2Config, Secret};
/// use std::time::Duration;
///
/// let config = OAuth2Config::client_credentials(
///     "https://auth.europe-west1.gcp.commercetools.com/oauth/token",
///     "my-client",
///     Secret::new("client-secret"),
/// )?
/// .with_scope("manage_project:my-project")
/// .with_refresh_margin(Duration::from_secs(120));
/// assert_eq!(config.client_auth, ClientAuth::Basic);
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct OAuth2Config {
    /// The token endpoint (may live on a separate auth host).
    pub token_url: ::url::Url,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Secret,
    /// The grant used to get tokens.
    pub grant: OAuth2Grant,
    /// How the client authenticates to the token endpoint.
    pub client_auth: ClientAuth,
    /// Optional `scope` form field.
    pub scope: Option<String>,
    /// Refresh a token this long before it expires (default 60 s).
    pub refresh_margin: Duration,
    /// Lifetime assumed when the response has no `expires_in` (Salesforce; default 15 min).
    pub default_lifetime: Duration,
    /// Timeout of one token call (default 30 s).
    pub timeout: Duration,
}

impl OAuth2Config {
    fn base(
        token_url: &str,
        client_id: String,
        client_secret: Secret,
        grant: OAuth2Grant,
    ) -> Result<Self> {
        let token_url = ::url::Url::parse(token_url)
            .map_err(|err| Error::new(ErrorKind::Config, format!("invalid token URL: {err}")))?;
        if !matches!(token_url.scheme(), "http" | "https") {
            return Err(Error::new(
                ErrorKind::Config,
                "token URL must be http or https",
            ));
        }
        Ok(Self {
            token_url,
            client_id,
            client_secret,
            grant,
            client_auth: ClientAuth::Basic,
            scope: None,
            refresh_margin: Duration::from_secs(60),
            default_lifetime: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(30),
        })
    }

    /// Client-credentials grant, client authenticated with HTTP Basic.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `token_url` is not an http(s) URL.
    pub fn client_credentials(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> Result<Self> {
        Self::base(
            token_url,
            client_id.into(),
            client_secret,
            OAuth2Grant::ClientCredentials,
        )
    }

    /// Refresh-token grant, client id and secret sent as form fields.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `token_url` is not an http(s) URL.
    pub fn refresh_token(
        token_url: &str,
        client_id: impl Into<String>,
        client_secret: Secret,
        refresh_token: Secret,
    ) -> Result<Self> {
        let mut config = Self::base(
            token_url,
            client_id.into(),
            client_secret,
            OAuth2Grant::RefreshToken(refresh_token),
        )?;
        config.client_auth = ClientAuth::Form;
        Ok(config)
    }

    /// JWT-bearer grant (RFC 7523): no client secret, `signer` mints the assertion.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `token_url` is not an http(s) URL.
    pub fn jwt_bearer(
        token_url: &str,
        client_id: impl Into<String>,
        signer: Arc<dyn AssertionSigner>,
    ) -> Result<Self> {
        let mut config = Self::base(
            token_url,
            client_id.into(),
            Secret::new(""),
            OAuth2Grant::JwtBearer(signer),
        )?;
        config.client_auth = ClientAuth::None;
        Ok(config)
    }

    /// Sets the `scope` field.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Sets how the client authenticates to the token endpoint.
    #[must_use]
    pub fn with_client_auth(mut self, client_auth: ClientAuth) -> Self {
        self.client_auth = client_auth;
        self
    }

    /// Sets how long before expiry a token is replaced.
    #[must_use]
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets the lifetime assumed when a response has no `expires_in`.
    #[must_use]
    pub fn with_default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Sets the timeout of one token call.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

struct Token {
    access: Secret,
    expires_at: Instant,
    fetched_at: Instant,
    extra: Map<String, Value>,
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    refresh_token: Option<Secret>,
}

/// An [`Authenticator`] sending `Authorization: Bearer <access token>` from an OAuth 2.0
/// token endpoint.
///
/// * The token is fetched on first use and replaced when it is within
///   [`OAuth2Config::refresh_margin`] of its `expires_in` (a token whose whole lifetime is
///   shorter than the margin is therefore fetched anew for every request).
/// * Concurrent callers share one token call (single flight).
/// * After a 401, [`Authenticator::refresh_after_unauthorized`] forces one new token; 401s of
///   requests that raced with that refresh reuse it instead of calling again.
/// * Token values never appear in `Debug`, errors or tracing.
pub struct OAuth2 {
    config: OAuth2Config,
    http: reqwest::Client,
    state: Mutex<State>,
}

impl std::fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OAuth2 {
    /// An authenticator with its own `reqwest::Client` for token calls.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the HTTP client cannot be built.
    pub fn new(config: OAuth2Config) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|err| {
                Error::new(ErrorKind::Config, "cannot build HTTP client")
                    .with_source(err.without_url())
            })?;
        Ok(Self::with_http_client(config, http))
    }

    /// An authenticator using a shared `reqwest::Client` for token calls.
    pub fn with_http_client(config: OAuth2Config, http: reqwest::Client) -> Self {
        let refresh_token = match &config.grant {
            OAuth2Grant::RefreshToken(token) => Some(token.clone()),
            OAuth2Grant::ClientCredentials | OAuth2Grant::JwtBearer(_) => None,
        };
        Self {
            config,
            http,
            state: Mutex::new(State {
                token: None,
                refresh_token,
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &OAuth2Config {
        &self.config
    }

    /// A valid access token, fetching one if needed.
    ///
    /// # Errors
    /// The token call failed (see [`Authenticator::apply`]).
    pub async fn access_token(&self) -> Result<Secret> {
        let mut state = self.state.lock().await;
        if let Some(token) = &state.token {
            if token.expires_at > Instant::now() + self.config.refresh_margin {
                return Ok(token.access.clone());
            }
        }
        self.fetch(&mut state).await
    }

    /// The current refresh token (after rotation, the newest one): persist it if the vendor
    /// rotates refresh tokens. `None` for the client-credentials grant.
    pub async fn refresh_token(&self) -> Option<Secret> {
        self.state.lock().await.refresh_token.clone()
    }

    /// A non-secret field of the latest token response (e.g. Salesforce `instance_url`),
    /// fetching a token first if there is none.
    ///
    /// # Errors
    /// The token call failed.
    pub async fn token_field(&self, name: &str) -> Result<Option<Value>> {
        self.access_token().await?;
        let state = self.state.lock().await;
        Ok(state
            .token
            .as_ref()
            .and_then(|token| token.extra.get(name).cloned()))
    }

    async fn fetch(&self, state: &mut State) -> Result<Secret> {
        let started = Instant::now();
        let mut form: Vec<(&str, &str)> = Vec::new();
        let refresh = state.refresh_token.clone();
        let assertion = match &self.config.grant {
            OAuth2Grant::JwtBearer(signer) => Some(
                signer
                    .assertion()
                    .map_err(|err| err.with_operation("oauth2_token"))?,
            ),
            _ => None,
        };
        match (&self.config.grant, &refresh, &assertion) {
            (OAuth2Grant::RefreshToken(_), Some(refresh), _) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", refresh.expose()));
            }
            (OAuth2Grant::JwtBearer(_), _, Some(assertion)) => {
                form.push(("grant_type", JWT_BEARER_GRANT_TYPE));
                form.push(("assertion", assertion.expose()));
            }
            _ => form.push(("grant_type", "client_credentials")),
        }
        if let Some(scope) = &self.config.scope {
            form.push(("scope", scope));
        }
        let mut request = self
            .http
            .post(self.config.token_url.clone())
            .timeout(self.config.timeout);
        match self.config.client_auth {
            ClientAuth::Basic => {
                request = request.basic_auth(
                    &self.config.client_id,
                    Some(self.config.client_secret.expose()),
                );
            }
            ClientAuth::Form => {
                form.push(("client_id", &self.config.client_id));
                form.push(("client_secret", self.config.client_secret.expose()));
            }
            ClientAuth::None => {}
        }
        let response = request
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(token_transport_error)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(token_transport_error)?;
        let parsed: Option<Value> = serde_json::from_slice(&body).ok();
        if !(200..300).contains(&status) {
            let err = token_status_error(status, parsed.as_ref());
            tracing::warn!(status, kind = %err.kind(), "oauth2 token request failed");
            return Err(err);
        }
        let Some(Value::Object(mut fields)) = parsed else {
            return Err(
                Error::new(ErrorKind::Decode, "token response is not a JSON object")
                    .with_operation("oauth2_token")
                    .with_status(status),
            );
        };
        let access = match fields.get("access_token") {
            Some(Value::String(token)) if !token.is_empty() => Secret::new(token.as_str()),
            _ => {
                return Err(
                    Error::new(ErrorKind::Decode, "token response has no access_token")
                        .with_operation("oauth2_token")
                        .with_field("access_token")
                        .with_status(status),
                );
            }
        };
        if let Some(Value::String(rotated)) = fields.get("refresh_token") {
            if !rotated.is_empty() && matches!(self.config.grant, OAuth2Grant::RefreshToken(_)) {
                state.refresh_token = Some(Secret::new(rotated.as_str()));
            }
        }
        let lifetime = fields
            .get("expires_in")
            .and_then(|value| match value {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .map_or(self.config.default_lifetime, Duration::from_secs);
        for name in SECRET_FIELDS {
            fields.remove(name);
        }
        let now = Instant::now();
        tracing::debug!(
            expires_in_s = lifetime.as_secs(),
            latency_ms = u64::try_from(now.duration_since(started).as_millis()).unwrap_or(u64::MAX),
            "oauth2 token fetched"
        );
        state.token = Some(Token {
            access: access.clone(),
            expires_at: started + lifetime,
            fetched_at: now,
            extra: fields,
        });
        Ok(access)
    }
}

fn token_transport_error(err: reqwest::Error) -> Error {
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    Error::new(
        kind,
        crate::client::transport_message("token request failed", &err),
    )
    .with_operation("oauth2_token")
    .with_source(err.without_url())
}

fn token_status_error(status: u16, body: Option<&Value>) -> Error {
    let text = |name: &str| {
        body.and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let code = text("error");
    let mut message = String::from("token request refused");
    if let Some(code) = &code {
        message.push_str(": ");
        message.push_str(code);
    }
    if let Some(description) = text("error_description") {
        message.push_str(": ");
        message.push_str(&description.chars().take(200).collect::<String>());
    }
    let kind = match status {
        400 | 401 | 403 => ErrorKind::Unauthorized,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    };
    let mut err = Error::new(kind, message)
        .with_operation("oauth2_token")
        .with_status(status);
    if let Some(code) = code {
        err = err.with_vendor_code(code);
    }
    err
}

#[async_trait]
impl Authenticator for OAuth2 {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        let token = self.access_token().await?;
        headers.insert(
            AUTHORIZATION,
            sensitive_header(&format!("Bearer {}", token.expose()))?,
        );
        Ok(())
    }

    async fn refresh_after_unauthorized(&self) -> Result<bool> {
        let asked = Instant::now();
        let mut state = self.state.lock().await;
        if state
            .token
            .as_ref()
            .is_some_and(|token| token.fetched_at > asked)
        {
            // Another request refreshed while this one waited for the lock.
            return Ok(true);
        }
        state.token = None;
        self.fetch(&mut state).await?;
        Ok(true)
    }

    fn scheme(&self) -> &'static str {
        "oauth2"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_errors_keep_only_the_oauth_fields() {
        let body = serde_json::json!({"error": "invalid_grant", "error_description": "expired", "access_token": "tok-SECRET"});
        let err = token_status_error(400, Some(&body));
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert_eq!(err.vendor_code(), Some("invalid_grant"));
        assert!(err.to_string().contains("expired"));
        assert!(!format!("{err:?}").contains("SECRET"));
        assert_eq!(token_status_error(503, None).kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn config_rejects_bad_token_urls_and_hides_secrets() {
        assert!(OAuth2Config::client_credentials("ftp://x/token", "id", Secret::new("s")).is_err());
        let config = OAuth2Config::refresh_token(
            "https://api.hubapi.com/oauth/v1/token",
            "id",
            Secret::new("cs-SECRET"),
            Secret::new("rt-SECRET"),
        )
        .expect("valid");
        assert_eq!(config.client_auth, ClientAuth::Form);
        let auth = OAuth2::new(config).expect("client");
        assert!(!format!("{auth:?}").contains("SECRET"));
    }
}
