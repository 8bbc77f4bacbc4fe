//! [`HttpClient`] and [`HttpConfig`]: sending a [`Request`] with auth, rate limiting,
//! retries and tracing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, Result};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::auth::Authenticator;
use crate::gate::RequestGate;
use crate::limit::RateLimiter;
use crate::policy::VendorPolicy;
use crate::request::{Request, Response};
use crate::retry::RetryPolicy;
use crate::url::BaseUrl;

/// The `User-Agent` sent unless configured otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("cartograph/", env!("CARGO_PKG_VERSION"));

/// Settings of an [`HttpClient`].
#[derive(Clone)]
pub struct HttpConfig {
    /// Every request path is joined to this (keeping its path prefix).
    pub base_url: BaseUrl,
    /// Puts credentials on each attempt.
    pub auth: Arc<dyn Authenticator>,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// What every attempt waits for: the account's request budget, shared by every client
    /// of the account (an in-process [`RateLimiter`], or a budget shared across processes).
    pub gate: Option<Arc<dyn RequestGate>>,
    /// Timeout of one attempt, connect to last body byte (default 30 s).
    pub timeout: Duration,
    /// Connect timeout (default 10 s; applies only to clients built by [`HttpClient::new`]).
    pub connect_timeout: Duration,
    /// The `User-Agent` header (applies only to clients built by [`HttpClient::new`]).
    pub user_agent: String,
    /// Largest response body accepted, in bytes (default 64 MiB): a larger one is a
    /// `Decode` error naming the size, never an unbounded allocation.
    pub max_response_bytes: usize,
}

impl HttpConfig {
    /// Settings with the defaults: [`RetryPolicy::default`], no gate, 30 s timeout,
    /// 10 s connect timeout, [`DEFAULT_USER_AGENT`].
    pub fn new(base_url: BaseUrl, auth: Arc<dyn Authenticator>) -> Self {
        Self {
            base_url,
            auth,
            retry: RetryPolicy::default(),
            gate: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the shared in-process rate limiter as the gate.
    #[must_use]
    pub fn with_rate_limiter(self, limiter: Arc<RateLimiter>) -> Self {
        self.with_request_gate(limiter)
    }

    /// Sets the gate every attempt waits for (replacing any rate limiter).
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Sets the per-attempt timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the largest accepted response body.
    #[must_use]
    pub fn with_max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Sets the `User-Agent`.
    #[must_use]
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("base_url", &self.base_url)
            .field("auth", &self.auth.scheme())
            .field("retry", &self.retry)
            .field("gate", &self.gate)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// Sends [`Request`]s to one vendor account. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: HttpConfig,
    policy: Arc<dyn VendorPolicy>,
    http: reqwest::Client,
    stats: Stats,
}

/// Transport counters, shared by clones of a client.
#[derive(Debug, Default)]
struct Stats {
    requests: std::sync::atomic::AtomicU64,
    retries: std::sync::atomic::AtomicU64,
    rate_limited: std::sync::atomic::AtomicU64,
    server_errors: std::sync::atomic::AtomicU64,
}

fn bump(counter: &std::sync::atomic::AtomicU64) {
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("connector", &self.inner.policy.connector())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A failed attempt and whether the vendor certainly did not act on it.
struct Failure {
    error: Error,
    unprocessed: bool,
}

impl Failure {
    fn unprocessed(error: Error) -> Self {
        Self {
            error,
            unprocessed: true,
        }
    }
}

impl HttpClient {
    /// A client with its own `reqwest::Client` (timeouts and user agent from `config`).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the HTTP client cannot be built.
    pub fn new(config: HttpConfig, policy: Arc<dyn VendorPolicy>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .build()
            .map_err(|err| {
                Error::new(ErrorKind::Config, "cannot build HTTP client")
                    .with_connector(policy.connector())
                    .with_source(err.without_url())
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                policy,
                http,
                stats: Stats::default(),
            }),
        })
    }

    /// Uses a shared `reqwest::Client` instead of the client's own (the per-attempt
    /// timeout still applies; connect timeout and user agent are the shared client's).
    #[must_use]
    pub fn with_http_client(self, http: reqwest::Client) -> Self {
        self.rebuilt(self.inner.config.clone(), http)
    }

    /// Waits for `gate` before every attempt instead of the configured rate limiter or gate
    /// (see [`RequestGate`]); keeps the connection pool. Counters start again at zero.
    #[must_use]
    pub fn with_request_gate(self, gate: Arc<dyn RequestGate>) -> Self {
        let config = self.inner.config.clone().with_request_gate(gate);
        self.rebuilt(config, self.inner.http.clone())
    }

    fn rebuilt(&self, config: HttpConfig, http: reqwest::Client) -> Self {
        let inner = Inner {
            config,
            policy: Arc::clone(&self.inner.policy),
            http,
            stats: Stats::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The settings.
    pub fn config(&self) -> &HttpConfig {
        &self.inner.config
    }

    /// The vendor policy.
    pub fn policy(&self) -> &Arc<dyn VendorPolicy> {
        &self.inner.policy
    }

    /// The base URL.
    pub fn base_url(&self) -> &BaseUrl {
        &self.inner.config.base_url
    }

    /// What this client has sent so far: attempts, retries, 429 and 5xx answers.
    pub fn stats(&self) -> cartograph_connector::TransportStats {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.inner.stats;
        cartograph_connector::TransportStats {
            requests: s.requests.load(Relaxed),
            retries: s.retries.load(Relaxed),
            rate_limited: s.rate_limited.load(Relaxed),
            server_errors: s.server_errors.load(Relaxed),
        }
    }

    /// Sends a request: waits for the gate (rate limiter or shared budget), authenticates, retries per the
    /// [`RetryPolicy`] (a non-replayable request only after a 429 or a failed connect),
    /// renews credentials once after a 401, and returns the first success.
    ///
    /// # Errors
    /// The last attempt's error, carrying connector, operation, status and vendor request id.
    pub async fn send(&self, request: Request) -> Result<Response> {
        self.send_inner(&request)
            .await
            .map_err(|err| self.context(err, &request))
    }

    /// [`HttpClient::send`], then decodes the JSON body (see [`Response::json`]).
    ///
    /// # Errors
    /// As for [`HttpClient::send`] and [`Response::json`].
    pub async fn send_json<T: serde::de::DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.send(request).await?.json()
    }

    fn context(&self, mut err: Error, request: &Request) -> Error {
        if err.connector().is_empty() {
            err = err.with_connector(self.inner.policy.connector());
        }
        if err.operation().is_empty() && !request.operation_name().is_empty() {
            err = err.with_operation(request.operation_cow());
        }
        err
    }

    async fn send_inner(&self, request: &Request) -> Result<Response> {
        let config = &self.inner.config;
        let url = config
            .base_url
            .join_with_query(request.path(), request.query_pairs())?;
        let body = request.body_bytes()?;
        let replayable = request.is_replayable();
        let mut backoff = config.retry.backoff();
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            bump(&self.inner.stats.requests);
            if attempt > 1 {
                bump(&self.inner.stats.retries);
            }
            let span = tracing::info_span!(
                "http.request",
                connector = self.inner.policy.connector(),
                operation = request.operation_name(),
                method = %request.method(),
                path = url.path(),
                attempt,
                status = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
            );
            let outcome = self
                .attempt(request, &url, body.as_ref(), &span)
                .instrument(span.clone())
                .await;
            let Failure { error, unprocessed } = match outcome {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let error = self.context(error, request);
            if error.status() == Some(401) && !refreshed {
                refreshed = true;
                if config.auth.refresh_after_unauthorized().await? {
                    tracing::debug!(parent: &span, "credentials renewed after 401, retrying once");
                    continue;
                }
                return Err(error);
            }
            if !(replayable || unprocessed) || attempt >= config.retry.max_attempts {
                return Err(error);
            }
            let Some(delay) = backoff
                .next()
                .and_then(|base| config.retry.delay_for(&error, base))
            else {
                return Err(error);
            };
            tracing::warn!(
                parent: &span,
                kind = %error.kind(),
                status = error.status(),
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "request failed, retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        url: &::url::Url,
        body: Option<&bytes::Bytes>,
        span: &tracing::Span,
    ) -> Result<Response, Failure> {
        let inner = &*self.inner;
        if let Some(gate) = &inner.config.gate {
            gate.acquire().await.map_err(Failure::unprocessed)?;
        }
        let started = Instant::now();
        let mut headers = request.headers().clone();
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("application/json"));
        if body.is_some() {
            headers
                .entry(CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
        }
        inner
            .config
            .auth
            .apply(&mut headers)
            .await
            .map_err(Failure::unprocessed)?;
        let mut builder = inner
            .http
            .request(request.method().clone(), url.clone())
            .headers(headers)
            .timeout(inner.config.timeout);
        if let Some(body) = body {
            builder = builder.body(body.clone());
        }
        let result = builder.send().await;
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                record_latency(span, started);
                return Err(transport_failure(err));
            }
        };
        let status = response.status().as_u16();
        span.record("status", status);
        if status == 429 {
            bump(&inner.stats.rate_limited);
        } else if status >= 500 {
            bump(&inner.stats.server_errors);
        }
        let headers = response.headers().clone();
        if let (Some(gate), Some(signal)) =
            (&inner.config.gate, inner.policy.rate_limit_signal(&headers))
        {
            gate.observe(signal);
        }
        let limit = inner.config.max_response_bytes;
        let too_large = |size: u64| Failure {
            error: Error::new(
                ErrorKind::Decode,
                format!("response body of {size} bytes exceeds the {limit}-byte limit"),
            )
            .with_status(status),
            unprocessed: false,
        };
        if let Some(size) = response.content_length()
            && usize::try_from(size).map_or(true, |s| s > limit)
        {
            record_latency(span, started);
            return Err(too_large(size));
        }
        let body = response.bytes().await.map_err(|err| Failure {
            error: transport_error(err),
            unprocessed: false,
        });
        record_latency(span, started);
        let body = body?;
        if body.len() > limit {
            return Err(too_large(body.len() as u64));
        }
        if inner.policy.is_success(status) {
            tracing::debug!("response");
            return Ok(Response::new(status, headers, body)
                .with_context(inner.policy.connector(), request.operation_cow()));
        }
        let mut error = inner.policy.classify(status, &headers, &body);
        if error.status().is_none() {
            error = error.with_status(status);
        }
        if error.request_id().is_none() {
            if let Some(id) = inner.policy.request_id(&headers) {
                error = error.with_request_id(id);
            }
        }
        tracing::debug!(kind = %error.kind(), "error response");
        Err(Failure {
            error,
            unprocessed: status == 429,
        })
    }
}

fn record_latency(span: &tracing::Span, started: Instant) {
    span.record(
        "latency_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
}

fn transport_failure(err: reqwest::Error) -> Failure {
    let unprocessed = err.is_connect();
    Failure {
        error: transport_error(err),
        unprocessed,
    }
}

/// Maps a transport error to Timeout or Network, without the URL (its path or query may
/// hold credentials) but with the address (`host:port`) and, when the cause is an I/O
/// error, its kind: `connection failed: 127.0.0.1:4010: connection refused`.
fn transport_error(err: reqwest::Error) -> Error {
    let (kind, what) = if err.is_timeout() {
        (ErrorKind::Timeout, "request timed out")
    } else if err.is_connect() {
        (ErrorKind::Network, "connection failed")
    } else if err.is_builder() {
        (ErrorKind::Config, "invalid request")
    } else if err.is_body() || err.is_decode() {
        (ErrorKind::Network, "reading the response failed")
    } else {
        (ErrorKind::Network, "request failed")
    };
    Error::new(kind, transport_message(what, &err)).with_source(err.without_url())
}

/// `what`, then the address and the I/O cause of `err` when known.
pub(crate) fn transport_message(what: &str, err: &reqwest::Error) -> String {
    let mut message = String::from(what);
    if let Some(address) = err.url().and_then(address) {
        message.push_str(": ");
        message.push_str(&address);
    }
    if let Some(cause) = io_cause(err) {
        message.push_str(": ");
        message.push_str(&cause.kind().to_string());
    }
    message
}

/// `host:port` of `url` (no user info, path or query).
fn address(url: &::url::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

/// The innermost I/O error in the source chain (connection refused, reset, ...).
fn io_cause<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut found = None;
    let mut next = Some(err);
    while let Some(current) = next {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            found = Some(io);
        }
        next = current.source();
    }
    found
}
