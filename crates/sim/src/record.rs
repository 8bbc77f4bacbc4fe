//! [`ExchangeLog`]: records what a simulator answered (method, path, query, status, body),
//! so tests can check the answers against the vendor's API description.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;

/// One request and the simulator's answer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// Request path, without the query.
    pub path: String,
    /// Raw query string, when there was one.
    pub query: Option<String>,
    /// Answer status.
    pub status: u16,
    /// Answer `Content-Type`, when set.
    pub content_type: Option<String>,
    /// Answer body.
    pub body: Vec<u8>,
    /// When the request reached the simulator (for counting requests per window).
    pub received: Instant,
}

impl Exchange {
    /// The answer body as JSON, `None` when empty or not JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A switchable log of exchanges, applied to a router with [`ExchangeLog::layer`]. Off by
/// default (answers pass through untouched and unbuffered); [`ExchangeLog::start`] turns
/// it on.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use cartograph_sim::{ExchangeLog, SimServer};
///
/// let log = ExchangeLog::default();
/// let router = axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
/// let server = SimServer::serve(log.layer(router)).await?;
/// log.start();
/// # let _ = server;
/// assert!(log.take().is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ExchangeLog {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    on: AtomicBool,
    exchanges: Mutex<Vec<Exchange>>,
}

impl ExchangeLog {
    /// Wraps `router` so that its answers are recorded while the log is on.
    pub fn layer<S: Clone + Send + Sync + 'static>(
        &self,
        router: axum::Router<S>,
    ) -> axum::Router<S> {
        router.layer(middleware::from_fn_with_state(self.clone(), record))
    }

    /// Starts recording.
    pub fn start(&self) {
        self.inner.on.store(true, Ordering::SeqCst);
    }

    /// Stops recording.
    pub fn stop(&self) {
        self.inner.on.store(false, Ordering::SeqCst);
    }

    /// The exchanges recorded so far, emptying the log.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(
            &mut *self
                .inner
                .exchanges
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

async fn record(State(log): State<ExchangeLog>, request: Request, next: Next) -> Response {
    if !log.inner.on.load(Ordering::SeqCst) {
        return next.run(request).await;
    }
    let received = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        // A body that failed mid-stream: answer as it would have (cut off), unrecorded.
        return Response::from_parts(parts, Body::empty());
    };
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    log.inner
        .exchanges
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Exchange {
            method,
            path,
            query,
            status: parts.status.as_u16(),
            content_type,
            body: bytes.to_vec(),
            received,
        });
    Response::from_parts(parts, Body::from(bytes))
}
