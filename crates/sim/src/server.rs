//! [`SimServer`]: an axum router served on `127.0.0.1` with a free port.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

/// A running local server; stops when dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use cartograph_sim::SimServer;
///
/// let router = axum::Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
/// let server = SimServer::serve(router).await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SimServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SimServer {
    /// Binds `127.0.0.1:0` and serves `router` on a background task.
    ///
    /// # Errors
    /// When no local port can be bound.
    pub async fn serve(router: axum::Router) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "simulator server stopped");
            }
        });
        Ok(Self { addr, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
