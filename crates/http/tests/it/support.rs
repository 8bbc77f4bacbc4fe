//! Shared helpers.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use cartograph_http::http::HeaderMap;
use cartograph_http::{
    Authenticator, BaseUrl, DefaultPolicy, HttpClient, HttpConfig, NoAuth, Result, RetryPolicy,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Retries that do not slow the suite down.
pub(crate) fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_delays(Duration::from_millis(5), Duration::from_millis(20))
        .with_jitter(false)
}

/// A client for `base` with the given auth and retry policy.
pub(crate) fn client_for(
    base: &str,
    auth: Arc<dyn Authenticator>,
    retry: RetryPolicy,
) -> HttpClient {
    let config = HttpConfig::new(BaseUrl::parse(base).expect("valid base"), auth).with_retry(retry);
    HttpClient::new(config, Arc::new(DefaultPolicy::new("test"))).expect("client")
}

/// A client for the mock server, no auth.
pub(crate) fn client(server: &MockServer, retry: RetryPolicy) -> HttpClient {
    client_for(&server.uri(), Arc::new(NoAuth), retry)
}

/// A mock that fails the test (on drop of the server) if any unexpected request arrives.
pub(crate) async fn catch_all(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("unexpected request")
        .mount(server)
        .await;
}

/// Authenticator that counts attempts (one `apply` per attempt).
#[derive(Debug, Default)]
pub(crate) struct CountingAuth(pub(crate) AtomicUsize);

impl CountingAuth {
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Authenticator for CountingAuth {
    async fn apply(&self, _headers: &mut HeaderMap) -> Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs a TRACE-level subscriber writing into the returned buffer, for this thread.
pub(crate) fn capture_tracing() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}
