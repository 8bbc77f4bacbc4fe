//! The intake router and server: forwarded headers trusted only from configured proxies,
//! stalled connections cannot starve valid deliveries, bodies over the limit are refused.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use cartograph_connector::{CommerceSource, CrmSink, NotificationKind};
use cartograph_core::metrics::Rates;
use cartograph_model::{Currency, RecordKind, Timestamp};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::router::{
    IntakeServerConfig, intake_router_with, serve_intake, webhook_request_from,
};
use cartograph_sync::{EngineConfig, Pipeline, Store};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm, MemoryWebhookEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn forwarded_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("intake.internal:8080"));
    headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
    headers.insert(
        "x-forwarded-host",
        HeaderValue::from_static("attacker.example"),
    );
    headers
}

#[test]
fn forwarded_headers_count_only_from_trusted_proxies_and_the_public_url_wins() {
    let uri: Uri = "/webhooks/crm?x=1".parse().unwrap();
    let proxy: IpAddr = "10.0.0.5".parse().unwrap();
    let stranger: IpAddr = "203.0.113.9".parse().unwrap();
    let config = IntakeServerConfig {
        trusted_proxies: vec![proxy],
        ..IntakeServerConfig::default()
    };
    let url = |peer, config: &IntakeServerConfig| {
        webhook_request_from(
            &Method::POST,
            &uri,
            &forwarded_headers(),
            b"",
            Some(peer),
            config,
        )
        .url
    };
    assert_eq!(
        url(stranger, &config),
        "http://intake.internal:8080/webhooks/crm?x=1",
        "a client's forwarded headers are ignored"
    );
    assert_eq!(
        url(proxy, &config),
        "https://attacker.example/webhooks/crm?x=1",
        "a trusted proxy's are honoured"
    );
    let public = IntakeServerConfig {
        public_url: Some("https://hooks.example.com/".into()),
        ..config
    };
    assert_eq!(
        url(proxy, &public),
        "https://hooks.example.com/webhooks/crm?x=1",
        "the configured public URL wins"
    );
}

async fn pipeline() -> (tempfile::TempDir, MemoryCommerce, Arc<Pipeline>) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("r.sqlite")).unwrap());
    let shop = MemoryCommerce::with_seed(&Seed::builder().customers(3).orders(3).build()).unwrap();
    let crm = MemoryCrm::new();
    let config =
        EngineConfig::for_profile(&cartograph_hubspot::profile(), Rates::new(Currency::USD))
            .unwrap();
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        crm.define_property(p.definition.clone());
    }
    let p = Pipeline::builder()
        .source(Arc::new(shop.clone()) as Arc<dyn CommerceSource>)
        .sink(Arc::new(crm) as Arc<dyn CrmSink>)
        .store(store)
        .engine(config)
        .build()
        .await
        .unwrap();
    (dir, shop, Arc::new(p))
}

/// Sends a raw HTTP/1.1 request and returns the status line's code.
async fn post(addr: std::net::SocketAddr, headers: &[(String, String)], body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST /webhooks/commerce HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_connections_time_out_and_valid_deliveries_still_get_through() {
    let (_dir, shop, pipeline) = pipeline().await;
    let config = IntakeServerConfig {
        header_read_timeout: Duration::from_millis(300),
        max_connections: 8,
        max_body: 64 * 1024,
        ..IntakeServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let router = intake_router_with(Arc::clone(&pipeline), config.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve_intake(listener, router, &config, async {
            let _ = stopped.await;
        })
        .await
    });

    // Far more stalled sockets than connection slots: each sends half a request line.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /webhooks/commerce HTTP/1.1\r\nhos")
            .await
            .unwrap();
        stalled.push(s);
    }
    let request = shop.webhook_request(&[MemoryWebhookEvent::new(
        "router-1",
        RecordKind::Order,
        "1",
        NotificationKind::Created,
        Timestamp::now(),
    )]);
    let answered = tokio::time::timeout(
        Duration::from_secs(20),
        post(addr, &request.headers, &request.body),
    )
    .await
    .expect("a valid delivery is answered despite the stalled sockets");
    assert_eq!(answered, 200);
    assert_eq!(
        pipeline
            .store()
            .queue_stats(Timestamp::now())
            .await
            .unwrap()
            .total(),
        1
    );

    let huge = vec![b'x'; 65 * 1024];
    assert_eq!(post(addr, &request.headers, &huge).await, 413);

    drop(stalled);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
