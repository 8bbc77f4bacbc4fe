//! A ready-made axum router for webhook intake and a hardened server to run it (feature
//! `axum`).
//!
//! `POST /webhooks/commerce` goes to [`Intake::commerce`](crate::Intake::commerce) with the
//! pipeline's commerce source, `POST /webhooks/crm` to [`Intake::crm`](crate::Intake::crm)
//! with its CRM source. The answer is the intake's status: 200 once durably queued, 401 for a
//! bad signature, 413 for a body over the limit, 408 for a body that does not arrive in time,
//! 503 when the store could not commit or no worker can drain (the vendor retries).
//! `POST /webhooks/commerce/{key}` and `/webhooks/crm/{key}` go to the same handlers, for
//! vendors that sign nothing and carry a shared secret as the last path segment
//! (ActiveCampaign): the connector checks that segment, the router does not.
//!
//! Signatures (HubSpot v3) cover the full URL the vendor called. It is rebuilt from
//! [`IntakeServerConfig::public_url`] when set, else from `X-Forwarded-Proto` /
//! `X-Forwarded-Host` **only** when the peer is one of
//! [`IntakeServerConfig::trusted_proxies`], else from the `Host` header: a client cannot
//! choose the URL a signature is checked against by sending forwarded headers.
//!
//! [`serve_intake`] runs the router with header and body read timeouts and a connection
//! limit, so stalled sockets cannot starve valid deliveries.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::routing::post;
use cartograph_connector::WebhookRequest;
use cartograph_model::Timestamp;
use tokio::net::TcpListener;

use crate::intake::DEFAULT_MAX_BODY;
use crate::pipeline::Pipeline;

/// Settings of the intake router and server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeServerConfig {
    /// The scheme and host vendors call, e.g. `https://hooks.example.com`. When set, it is
    /// the URL signatures are checked against, whatever the request's headers say.
    pub public_url: Option<String>,
    /// Peers whose `X-Forwarded-Proto` / `X-Forwarded-Host` are honoured (your reverse
    /// proxies). Empty by default: forwarded headers from anyone else are ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Largest body read (default 1 MiB); larger ones answer 413 before any secret check.
    pub max_body: usize,
    /// How long a connection may take to send a request's headers (default 5 s).
    pub header_read_timeout: Duration,
    /// How long a request may take to send its body (default 10 s); 408 after that.
    pub body_read_timeout: Duration,
    /// Connections served at once (default 1,024); more wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for IntakeServerConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            trusted_proxies: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            header_read_timeout: Duration::from_secs(5),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

struct RouterState {
    pipeline: Arc<Pipeline>,
    config: IntakeServerConfig,
}

/// The intake router over `pipeline` with default settings.
pub fn intake_router(pipeline: Arc<Pipeline>) -> Router {
    intake_router_with(pipeline, IntakeServerConfig::default())
}

/// The intake router over `pipeline` with `config`.
pub fn intake_router_with(pipeline: Arc<Pipeline>, config: IntakeServerConfig) -> Router {
    Router::new()
        .route("/webhooks/commerce", post(commerce))
        .route("/webhooks/commerce/{key}", post(commerce))
        .route("/webhooks/crm", post(crm))
        .route("/webhooks/crm/{key}", post(crm))
        .with_state(Arc::new(RouterState { pipeline, config }))
}

/// Serves `router` on `listener` until `shutdown` completes: each connection gets the header
/// read timeout, the number of connections served at once is capped, and the peer address
/// is handed to the router (for [`IntakeServerConfig::trusted_proxies`]).
///
/// # Errors
/// The listener failing to accept.
pub async fn serve_intake(
    listener: TcpListener,
    router: Router,
    config: &IntakeServerConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;

    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let mut shutdown = std::pin::pin!(shutdown);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => {
                permit.map_err(|_| std::io::Error::other("connection limit closed"))?
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let header_timeout = config.header_read_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request.map(axum::body::Body::new))
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                tracing::debug!(%peer, %error, "intake connection closed");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
    Ok(())
}

/// The request as the vendor sent it, trusting no forwarded header (see
/// [`webhook_request_from`]).
pub fn webhook_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> WebhookRequest {
    webhook_request_from(
        method,
        uri,
        headers,
        body,
        None,
        &IntakeServerConfig::default(),
    )
}

/// The request as the vendor sent it: the URL from `config.public_url`, else from forwarded
/// headers when `peer` is a trusted proxy, else from `Host`.
pub fn webhook_request_from(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    peer: Option<IpAddr>,
    config: &IntakeServerConfig,
) -> WebhookRequest {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let url = if let Some(public) = &config.public_url {
        format!("{}{path}", public.trim_end_matches('/'))
    } else {
        let trusted = peer.is_some_and(|p| config.trusted_proxies.contains(&p));
        let forwarded = |name: &str| if trusted { header(name) } else { None };
        let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
        let host = forwarded("x-forwarded-host")
            .or_else(|| header("host"))
            .unwrap_or("localhost");
        format!("{scheme}://{host}{path}")
    };
    WebhookRequest {
        method: method.as_str().to_owned(),
        url,
        headers: headers
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_owned(), v.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
        received_at: Timestamp::now(),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Reads the request within the limits; the status to answer when it cannot be.
async fn read(state: &RouterState, request: Request) -> Result<WebhookRequest, StatusCode> {
    let (parts, body) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let limit = state.config.max_body;
    let bytes = tokio::time::timeout(
        state.config.body_read_timeout,
        axum::body::to_bytes(body, limit),
    )
    .await
    .map_err(|_| StatusCode::REQUEST_TIMEOUT)?
    .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    Ok(webhook_request_from(
        &parts.method,
        &parts.uri,
        &parts.headers,
        &bytes,
        peer,
        &state.config,
    ))
}

async fn commerce(State(state): State<Arc<RouterState>>, request: Request) -> StatusCode {
    let request = match read(&state, request).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    let pipeline = &state.pipeline;
    let answer = pipeline
        .intake()
        .max_body(state.config.max_body)
        .commerce(pipeline.source().as_ref(), &request)
        .await;
    status(answer.status)
}

async fn crm(State(state): State<Arc<RouterState>>, request: Request) -> StatusCode {
    let Some(source) = state.pipeline.crm_source() else {
        return StatusCode::NOT_FOUND;
    };
    let request = match read(&state, request).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    status(
        state
            .pipeline
            .intake()
            .max_body(state.config.max_body)
            .crm(source.as_ref(), &request)
            .await
            .status,
    )
}
