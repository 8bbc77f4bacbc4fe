//! The request gate: awaited before every attempt, told what responses say, and able to
//! refuse sending.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cartograph_http::http::HeaderMap;
use cartograph_http::{
    BaseUrl, Error, ErrorKind, HttpClient, HttpConfig, NoAuth, RateLimit, RateLimitSignal,
    RateLimiter, Request, RequestGate, Result, VendorPolicy,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{catch_all, fast_retry};

/// Counts acquisitions and keeps the signals it is told; refuses when `refuse` is set.
#[derive(Debug, Default)]
struct RecordingGate {
    acquired: AtomicUsize,
    signals: Mutex<Vec<RateLimitSignal>>,
    refuse: bool,
}

#[async_trait]
impl RequestGate for RecordingGate {
    async fn acquire(&self) -> Result<()> {
        self.acquired.fetch_add(1, Ordering::SeqCst);
        if self.refuse {
            return Err(Error::new(ErrorKind::Unavailable, "budget unreachable"));
        }
        Ok(())
    }

    fn observe(&self, signal: RateLimitSignal) {
        self.signals.lock().expect("not poisoned").push(signal);
    }
}

/// Reads `x-remaining` as the rate-limit signal.
struct RemainingHeader;

impl VendorPolicy for RemainingHeader {
    fn connector(&self) -> &'static str {
        "test"
    }

    fn rate_limit_signal(&self, headers: &HeaderMap) -> Option<RateLimitSignal> {
        let remaining = headers.get("x-remaining")?.to_str().ok()?.parse().ok()?;
        Some(RateLimitSignal {
            remaining: Some(remaining),
            ..RateLimitSignal::default()
        })
    }
}

fn client(server: &MockServer, gate: Arc<dyn RequestGate>, attempts: u32) -> HttpClient {
    let config = HttpConfig::new(
        BaseUrl::parse(&server.uri()).expect("url"),
        Arc::new(NoAuth),
    )
    .with_retry(fast_retry(attempts))
    .with_request_gate(gate);
    HttpClient::new(config, Arc::new(RemainingHeader)).expect("client")
}

#[tokio::test]
async fn the_gate_is_awaited_before_every_attempt_and_told_each_answer() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(503).insert_header("x-remaining", "7"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200).insert_header("x-remaining", "6"))
        .expect(1)
        .mount(&server)
        .await;
    let gate = Arc::new(RecordingGate::default());
    let client = client(&server, gate.clone(), 3);
    client
        .send(Request::get("/contacts"))
        .await
        .expect("second attempt served");
    assert_eq!(gate.acquired.load(Ordering::SeqCst), 2, "one per attempt");
    let remaining: Vec<Option<u32>> = gate
        .signals
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|s| s.remaining)
        .collect();
    assert_eq!(remaining, [Some(7), Some(6)]);
}

#[tokio::test]
async fn a_gate_that_cannot_answer_sends_nothing_and_is_retried() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let gate = Arc::new(RecordingGate {
        refuse: true,
        ..RecordingGate::default()
    });
    let client = client(&server, gate.clone(), 3);
    let err = client
        .send(Request::post("/contacts").json(serde_json::json!({"email": "a@example.com"})))
        .await
        .expect_err("no budget, no request");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.connector(), "test");
    // Nothing was sent, so even a POST is tried again, up to the policy's attempts.
    assert_eq!(gate.acquired.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_client_given_a_gate_no_longer_waits_for_its_own_limiter() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    Mock::given(method("GET"))
        .and(path("/contacts"))
        .respond_with(ResponseTemplate::new(200))
        .expect(3)
        .mount(&server)
        .await;
    // Its own limiter allows one request per minute; the gate allows all.
    let limiter = RateLimiter::shared(RateLimit::new(1, Duration::from_secs(60))).expect("valid");
    let config = HttpConfig::new(
        BaseUrl::parse(&server.uri()).expect("url"),
        Arc::new(NoAuth),
    )
    .with_rate_limiter(limiter);
    let gate = Arc::new(RecordingGate::default());
    let client = HttpClient::new(config, Arc::new(RemainingHeader))
        .expect("client")
        .with_request_gate(gate.clone());
    let began = Instant::now();
    for _ in 0..3 {
        client.send(Request::get("/contacts")).await.expect("sent");
    }
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(gate.acquired.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().requests, 3);
}
