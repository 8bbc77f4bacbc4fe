//! How requests are authenticated: the [`Authenticator`] trait and the static schemes.
//! OAuth 2.0 lives in [`crate::oauth`].

use std::fmt;

use async_trait::async_trait;
use cartograph_connector::{Error, ErrorKind, Result};
use http::HeaderMap;
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};

use crate::Secret;

/// Puts credentials on a request, and renews them when the vendor refuses them.
///
/// Implementations must never log, print or put into an error the credential itself.
#[async_trait]
pub trait Authenticator: Send + Sync {
    /// Adds the credential headers to an outgoing request (called before every attempt).
    ///
    /// # Errors
    /// Whatever getting a credential failed with (for OAuth 2.0: the token call).
    async fn apply(&self, headers: &mut HeaderMap) -> Result<()>;

    /// Called once when a request got a 401. Return `true` when the credentials were renewed
    /// and the request should be retried once; `false` when there is nothing to renew (the
    /// 401 is then returned to the caller).
    ///
    /// # Errors
    /// Renewal failed; that error is returned to the caller instead of the 401.
    async fn refresh_after_unauthorized(&self) -> Result<bool> {
        Ok(false)
    }

    /// Short name of the scheme for `Debug` output and logs (`"bearer"`, `"oauth2"`...).
    fn scheme(&self) -> &'static str {
        "custom"
    }
}

/// A sensitive header value made from a secret: marked sensitive so `http`/`hyper` never
/// print it.
///
/// # Errors
/// [`ErrorKind::Config`] when the secret contains bytes not allowed in a header (the
/// message does not repeat the value).
pub fn sensitive_header(value: &str) -> Result<HeaderValue> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        Error::new(
            ErrorKind::Config,
            "credential contains characters not allowed in an HTTP header",
        )
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A static token sent in a header of its own, e.g. BigCommerce `X-Auth-Token` or
/// ActiveCampaign `Api-Token`.
///
/// ```
/// use cartograph_http::{HeaderToken, Secret};
///
/// let auth = HeaderToken::new("X-Auth-Token", Secret::new("abc"))?;
/// assert_eq!(format!("{auth:?}"), r#"HeaderToken { header: "x-auth-token", token: [REDACTED] }"#);
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
#[derive(Clone)]
pub struct HeaderToken {
    header: HeaderName,
    token: Secret,
}

impl HeaderToken {
    /// A token sent as `header: token`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when `header` is not a valid header name.
    pub fn new(header: &str, token: Secret) -> Result<Self> {
        let header = HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
            Error::new(ErrorKind::Config, format!("invalid header name {header:?}"))
        })?;
        Ok(Self { header, token })
    }

    /// The header the token goes in.
    pub fn header(&self) -> &HeaderName {
        &self.header
    }
}

impl fmt::Debug for HeaderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderToken")
            .field("header", &self.header.as_str())
            .field("token", &self.token)
            .finish()
    }
}

#[async_trait]
impl Authenticator for HeaderToken {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        headers.insert(self.header.clone(), sensitive_header(self.token.expose())?);
        Ok(())
    }

    fn scheme(&self) -> &'static str {
        "header-token"
    }
}

/// A static `Authorization: Bearer <token>` (HubSpot private apps, pre-issued tokens).
#[derive(Clone, Debug)]
pub struct BearerToken(pub Secret);

#[async_trait]
impl Authenticator for BearerToken {
    async fn apply(&self, headers: &mut HeaderMap) -> Result<()> {
        headers.insert(
            AUTHORIZATION,
            sensitive_header(&format!("Bearer {}", self.0.expose()))?,
        );
        Ok(())
    }

    fn scheme(&self) -> &'static str {
        "bearer"
    }
}

/// No credentials at all (public endpoints, simulators).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

#[async_trait]
impl Authenticator for NoAuth {
    async fn apply(&self, _headers: &mut HeaderMap) -> Result<()> {
        Ok(())
    }

    fn scheme(&self) -> &'static str {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    #[test]
    fn header_token_sets_a_sensitive_header() {
        let auth = HeaderToken::new("Api-Token", Secret::new("tok-SECRET-123")).expect("valid");
        let mut headers = HeaderMap::new();
        run(auth.apply(&mut headers)).expect("applied");
        let value = headers.get("api-token").expect("set");
        assert_eq!(value.to_str().expect("ascii"), "tok-SECRET-123");
        assert!(value.is_sensitive());
        assert!(!format!("{auth:?}{headers:?}").contains("SECRET"));
        assert!(!run(auth.refresh_after_unauthorized()).expect("ok"));
    }

    #[test]
    fn bearer_token_and_no_auth() {
        let mut headers = HeaderMap::new();
        run(BearerToken(Secret::new("t1")).apply(&mut headers)).expect("applied");
        assert_eq!(headers[AUTHORIZATION], "Bearer t1");
        let mut empty = HeaderMap::new();
        run(NoAuth.apply(&mut empty)).expect("applied");
        assert!(empty.is_empty());
    }

    #[test]
    fn bad_header_names_and_values_are_config_errors() {
        let err = HeaderToken::new("bad header", Secret::new("x")).expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::Config);
        let auth = BearerToken(Secret::new("line\nbreak-SECRET"));
        let err = run(auth.apply(&mut HeaderMap::new())).expect_err("invalid value");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(!format!("{err:?}{err}").contains("SECRET"));
    }
}
