//! The daily API allocation: `Sforce-Limit-Info` pacing before it runs out, and
//! `REQUEST_LIMIT_EXCEEDED` parking every request.

use std::time::Duration;

use cartograph_connector::{CrmSink, ErrorKind};
use cartograph_http::RetryPolicy;
use cartograph_model::{EmailAddress, IdentityKeys};
use cartograph_salesforce::Salesforce;
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use serde_json::json;
use tokio::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::wire::{builder, token};

const ROOT: &str = "/services/data/v62.0";

fn keys() -> Vec<IdentityKeys> {
    vec![IdentityKeys {
        email: EmailAddress::new("a@example.com"),
        ..IdentityKeys::default()
    }]
}

async fn answer_query(server: &MockServer, usage: &str) {
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("sforce-limit-info", usage)
                .set_body_json(json!({"totalSize": 0, "done": true, "records": []})),
        )
        .mount(server)
        .await;
}

/// How long requests are held back after one lookup answered with `usage`.
async fn hold_after(usage: &str, slow_down_at_percent: u8) -> Option<Duration> {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    answer_query(&server, usage).await;
    let sf = Salesforce::new(
        builder(&server)
            .slow_down_at_percent(slow_down_at_percent)
            .build()
            .unwrap(),
    )
    .unwrap();
    sf.find_contacts(&keys()).await.unwrap();
    sf.client()
        .paused_until()
        .map(|until| until.saturating_duration_since(Instant::now()))
}

#[tokio::test]
async fn usage_past_the_threshold_spaces_requests_before_the_allocation_runs_out() {
    // Well below 90 %: no pause.
    assert_eq!(hold_after("api-usage=500/100000", 90).await, None);
    // 95 %: 5,000 left, one request every 17.28 s.
    let held = hold_after("api-usage=95000/100000", 90)
        .await
        .expect("paced");
    assert!(
        held > Duration::from_secs(16) && held <= Duration::from_millis(17_280),
        "{held:?}"
    );
    // The threshold is configurable: at 99 % the same usage is not paced yet.
    assert_eq!(hold_after("api-usage=95000/100000", 99).await, None);
    // Nearly spent: at most a minute between requests.
    let held = hold_after("api-usage=99999/100000", 90)
        .await
        .expect("paced");
    assert!(held > Duration::from_secs(55), "{held:?}");
}

#[tokio::test]
async fn request_limit_exceeded_parks_every_request_and_is_rate_limited() {
    let server = MockServer::start().await;
    token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(format!("{ROOT}/query")))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("sforce-limit-info", "api-usage=15001/15000")
                .insert_header("retry-after", "120")
                .set_body_json(json!([{"message": "TotalRequests Limit exceeded.",
                                       "errorCode": "REQUEST_LIMIT_EXCEEDED"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let sf = Salesforce::new(
        builder(&server)
            .retry(RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = sf.find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(err.vendor_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    // Every other request of this connector waits too (not only the refused one).
    let held = sf
        .client()
        .paused_until()
        .map(|until| until.saturating_duration_since(Instant::now()))
        .expect("parked");
    assert!(held > Duration::from_secs(55), "{held:?}");
}

#[tokio::test]
async fn simulator_reports_its_daily_allocation_and_refuses_when_spent() {
    let sim = SalesforceSim::start(SimConfig {
        daily_requests: 4,
        ..SimConfig::fast()
    })
    .await
    .unwrap();
    // Pacing off (100 %) so the test sees the allocation itself.
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .slow_down_at_percent(100)
            .retry(RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    for _ in 0..3 {
        sf.find_contacts(&keys()).await.unwrap();
        assert!(sf.client().paused_until().is_none());
    }
    // The fourth request spends the allocation: the header says 4/4 and the client parks.
    sf.find_contacts(&keys()).await.unwrap();
    assert!(sf.client().paused_until().is_some());

    // A second connector on the same org (its own limiter) is refused in Salesforce's shape.
    let other = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .retry(RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = other.find_contacts(&keys()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.vendor_code(), Some("REQUEST_LIMIT_EXCEEDED"));
}

#[tokio::test]
async fn simulator_near_its_allocation_makes_the_connector_pace() {
    let sim = SalesforceSim::start(SimConfig {
        daily_requests: 1000,
        ..SimConfig::fast()
    })
    .await
    .unwrap();
    // Other integrations of the org used 950 of today's 1,000 requests.
    assert_eq!(sim.spend_api_requests(950), 950);
    assert_eq!(sim.api_usage(), Some((950, 1000)));
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    sf.find_contacts(&keys()).await.unwrap();
    // 951 of 1,000 is past 90 %: the next request waits (24 h / 49 left, capped at a minute).
    let held = sf
        .client()
        .paused_until()
        .map(|until| until.saturating_duration_since(Instant::now()))
        .expect("paced");
    assert!(held > Duration::from_secs(55), "{held:?}");
    assert_eq!(sim.api_usage(), Some((951, 1000)));
    // Spending past the allocation counts only what is left.
    assert_eq!(sim.spend_api_requests(100), 49);
}
