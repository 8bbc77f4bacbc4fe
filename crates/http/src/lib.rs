#![doc = include_str!("../README.md")]

pub mod auth;
pub mod client;
pub mod gate;
pub mod limit;
pub mod oauth;
pub mod policy;
pub mod request;
pub mod retry;
pub mod secret;
pub mod settings;
pub mod url;

pub use auth::{Authenticator, BearerToken, HeaderToken, NoAuth};
pub use cartograph_connector::serde_millis;
pub use cartograph_connector::{Error, ErrorKind, Result};
pub use client::{DEFAULT_USER_AGENT, HttpClient, HttpConfig};
pub use gate::RequestGate;
pub use limit::{RateLimit, RateLimitSignal, RateLimiter};
pub use oauth::{
    AssertionSigner, ClientAuth, JWT_BEARER_GRANT_TYPE, OAuth2, OAuth2Config, OAuth2Grant,
};
pub use policy::{DefaultPolicy, VendorPolicy, default_classify, parse_retry_after};
pub use request::{Body, Request, Response};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use settings::ConnectorSettings;
pub use url::BaseUrl;

/// Re-exported so vendor crates name the same `http` types as the client.
pub use http;
/// Re-exported so vendor crates and hosts can build a shared `reqwest::Client` for
/// [`HttpClient::with_http_client`] without their own dependency line.
pub use reqwest;
