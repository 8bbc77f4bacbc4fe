//! [`WebhookReceiver`]: a local endpoint a simulator delivers its webhooks (or push
//! subscription messages) to in tests: it answers every delivery with a status the test
//! chooses (and may change) and hands each delivery over as a [`WebhookRequest`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use cartograph_connector::WebhookRequest;
use tokio::sync::mpsc;

use crate::server::SimServer;

/// One delivery as received, with the status it was answered.
#[derive(Debug, Clone)]
pub struct Received {
    /// The status the receiver answered.
    pub status: u16,
    /// The delivery (URL, headers, body).
    pub request: WebhookRequest,
}

/// A running receiver on `127.0.0.1`; stops when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use cartograph_sim::WebhookReceiver;
///
/// let mut hooks = WebhookReceiver::start("/hooks/shop", 503).await?;
/// assert!(hooks.url().ends_with("/hooks/shop"));
/// let client = reqwest::Client::new();
/// let answer = client.post(hooks.url()).body("{}").send().await.expect("sent");
/// assert_eq!(answer.status().as_u16(), 503);
/// hooks.answer_with(200);
/// client.post(hooks.url()).body("{\"n\":2}").send().await.expect("sent");
/// // `next_accepted` skips the delivery answered 503.
/// let delivery = hooks.next_accepted(Duration::from_secs(5)).await.expect("delivered");
/// assert_eq!(delivery.body, b"{\"n\":2}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebhookReceiver {
    url: String,
    status: Arc<AtomicU16>,
    rx: mpsc::UnboundedReceiver<Received>,
    _server: SimServer,
}

impl WebhookReceiver {
    /// Serves `path` on a free local port, answering every delivery with `status`.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn start(path: &str, status: u16) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(status));
        let answer = Arc::clone(&status);
        let url_slot: Arc<std::sync::OnceLock<String>> = Arc::default();
        let url_of_route = Arc::clone(&url_slot);
        let router =
            axum::Router::new().route(
                path,
                axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                    let status = answer.load(Ordering::SeqCst);
                    let url = url_of_route.get().cloned().unwrap_or_default();
                    let headers = headers
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.as_str().to_owned(),
                                v.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    // A closed receiver only means the test stopped listening.
                    let _ = tx.send(Received {
                        status,
                        request: WebhookRequest::post(url, headers, body.to_vec()),
                    });
                    async move {
                        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                    }
                }),
            );
        let server = SimServer::serve(router).await?;
        let url = format!("{}{path}", server.base_url());
        // Set before the address is handed out: no delivery can arrive earlier.
        let _ = url_slot.set(url.clone());
        Ok(Self {
            url,
            status,
            rx,
            _server: server,
        })
    }

    /// The URL to subscribe (`http://127.0.0.1:<port><path>`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Answers later deliveries with `status`.
    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next delivery, whatever it was answered; `None` when none arrives within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<WebhookRequest> {
        self.next_received(wait).await.map(|r| r.request)
    }

    /// The next delivery answered 2xx, skipping refused ones; `None` when none arrives
    /// within `wait`.
    pub async fn next_accepted(&mut self, wait: Duration) -> Option<WebhookRequest> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let received = self.next_received(left).await?;
            if (200..300).contains(&received.status) {
                return Some(received.request);
            }
        }
    }

    /// The next delivery with the status it was answered; `None` when none arrives within
    /// `wait`.
    pub async fn next_received(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }
}
