use std::time::Duration;

use cartograph_bigcommerce::sim::SimConfig;
use cartograph_connector::{CommerceSource, CommerceWriter, ErrorKind, ListRequest};
use cartograph_sim::CommerceSimulator as _;
use cartograph_sim::{FaultRates, TimeScale};
use serde_json::json;

use crate::support;

#[tokio::test]
async fn quota_headers_count_down_and_429_when_exceeded() {
    let (sim, bc) = support::sim(SimConfig {
        quota: 3,
        window: Duration::from_secs(30),
        time_scale: TimeScale::new(0.02),
        ..SimConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/stores/{}/v3/catalog/brands",
        sim.base_url(),
        sim.store_hash()
    );
    let mut left = Vec::new();
    for _ in 0..4 {
        let r = http
            .get(&url)
            .header("X-Auth-Token", "sim-token")
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-rate-limit-requests-quota"], "3");
        assert_eq!(h["x-rate-limit-time-window-ms"], "600");
        assert!(h.contains_key("x-rate-limit-time-reset-ms"));
        left.push((
            r.status().as_u16(),
            h["x-rate-limit-requests-left"].to_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        left,
        [
            (200, "2".into()),
            (200, "1".into()),
            (200, "0".into()),
            (429, "0".into())
        ]
    );
    // The connector waits for the reset and gets through.
    assert!(bc.list_brands(&ListRequest::all()).await.is_ok());
}

#[tokio::test]
async fn batch_of_eleven_customers_is_rejected_whole() {
    let (sim, bc) = support::sim(SimConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!(
        "{}/stores/{}/v3/customers",
        sim.base_url(),
        sim.store_hash()
    );
    let batch: Vec<_> = (0..11)
        .map(|i| json!({"email": format!("b{i}@x.com"), "first_name": "B", "last_name": "B"}))
        .collect();
    let r = http
        .post(&url)
        .header("X-Auth-Token", "sim-token")
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 413);
    assert!(body["title"].as_str().unwrap().contains("10"));
    assert_eq!(sim.customer_count(), 0);
    // Through the client: the request is a typed Invalid error.
    let inputs: Vec<_> = (0..11)
        .map(|i| cartograph_bigcommerce::wire::CustomerInput {
            email: Some(format!("c{i}@x.com")),
            first_name: Some("C".into()),
            last_name: Some("C".into()),
            ..Default::default()
        })
        .collect();
    let err = bc.client().create_customers(&inputs).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.status(), Some(413));
    // Missing last_name is a 422 naming the field.
    let r = http
        .post(&url)
        .header("X-Auth-Token", "sim-token")
        .json(&json!([{"email": "x@x.com", "first_name": "X"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["errors"]["[0].last_name"].is_string(), "{body}");
}

#[tokio::test]
async fn wrong_token_is_unauthorized() {
    let (sim, _) = support::sim(SimConfig::default()).await;
    let bc = cartograph_bigcommerce::BigCommerce::new(
        sim.connector_config()
            .build()
            .map(|mut c| {
                c.access_token = cartograph_http::Secret::new("revoked");
                c
            })
            .unwrap(),
    )
    .unwrap();
    let err = bc.find_customers_by_email(&[]).await;
    assert!(err.is_ok(), "no emails, no request");
    let err = bc.list_customers(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn injected_faults_are_retried_through() {
    let (sim, bc) = support::sim(SimConfig {
        faults: FaultRates {
            rate_limited: 0.2,
            server_error: 0.2,
            dropped: 0.2,
            latency: Duration::from_millis(1),
            seed: 7,
        },
        ..SimConfig::default()
    })
    .await;
    let seed = support::seed();
    support::load(&sim, &seed);
    let mut ok = 0;
    for _ in 0..10 {
        if bc.list_brands(&ListRequest::all()).await.is_ok() {
            ok += 1;
        }
    }
    assert!(
        ok >= 8,
        "retries carry most calls through the faults ({ok}/10)"
    );
    assert!(sim.request_count() > 10, "faults forced retries");
}
