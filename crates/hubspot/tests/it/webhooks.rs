//! Webhook signature v3 accept / reject / stale, parsing and own-write flags.

use cartograph_connector::{CrmSource, ErrorKind, WebhookRequest};
use cartograph_hubspot::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_v3};
use cartograph_model::{CrmEventKind, Timestamp};

use crate::support::*;

const URL: &str = "https://hooks.example.com/hubspot?tenant=7";
const BODY: &str = r#"[{"eventId":1,"subscriptionId":2,"portalId":3,"appId":777,"occurredAt":1700000000000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":10,"propertyName":"firstname","propertyValue":"Ada","changeSource":"INTEGRATION","sourceId":"777"},{"eventId":2,"occurredAt":1700000000001,"subscriptionType":"contact.propertyChange","objectId":11,"propertyName":"lastname","propertyValue":"Lovelace","changeSource":"CRM_UI","sourceId":"userId:1"},{"eventId":2,"occurredAt":1700000000001,"subscriptionType":"contact.propertyChange","objectId":11,"propertyName":"lastname","propertyValue":"Lovelace","changeSource":"CRM_UI"}]"#;

fn request(secret: &str, sent_ms: i64, received_ms: i64) -> WebhookRequest {
    let ts = sent_ms.to_string();
    let sig = sign_v3(secret, "POST", URL, BODY.as_bytes(), &ts);
    WebhookRequest {
        method: "POST".into(),
        url: URL.into(),
        headers: vec![
            (SIGNATURE_HEADER.into(), sig),
            (TIMESTAMP_HEADER.into(), ts),
        ],
        body: BODY.as_bytes().to_vec(),
        received_at: Timestamp::from_unix_millis(received_ms).unwrap(),
    }
}

#[tokio::test]
async fn valid_signature_is_accepted_parsed_deduped_and_flagged() {
    let server = server().await;
    let events = hubspot(&server)
        .parse_webhook(&request(SECRET, 1_700_000_000_000, 1_700_000_060_000))
        .unwrap();
    assert_eq!(events.len(), 2, "eventId 2 delivered twice is kept once");
    assert!(events[0].is_own_write);
    assert!(!events[1].is_own_write);
    assert_eq!(events[1].id.as_deref(), Some("2"));
    assert!(
        matches!(&events[1].kind, CrmEventKind::ContactPropertyChanged { crm_id, .. } if crm_id == "11")
    );
}

#[tokio::test]
async fn wrong_secret_or_tampered_body_is_rejected() {
    let server = server().await;
    let hs = hubspot(&server);
    let err = hs
        .parse_webhook(&request(
            "other-secret",
            1_700_000_000_000,
            1_700_000_000_000,
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    let mut tampered = request(SECRET, 1_700_000_000_000, 1_700_000_000_000);
    tampered.body = BODY.replace("Ada", "Eve").into_bytes();
    assert_eq!(
        hs.parse_webhook(&tampered).unwrap_err().kind(),
        ErrorKind::Signature
    );
    let mut missing = request(SECRET, 1_700_000_000_000, 1_700_000_000_000);
    missing.headers.retain(|(k, _)| k != SIGNATURE_HEADER);
    assert_eq!(
        hs.parse_webhook(&missing).unwrap_err().kind(),
        ErrorKind::Signature
    );
}

#[tokio::test]
async fn stale_timestamp_is_rejected() {
    let server = server().await;
    let err = hubspot(&server)
        .parse_webhook(&request(
            SECRET,
            1_700_000_000_000,
            1_700_000_000_000 + 5 * 60_000 + 1,
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    assert!(err.message().contains("timestamp"));
}

#[tokio::test]
async fn the_previous_secret_is_accepted_during_a_rotation_and_only_then() {
    let server = server().await;
    let rotating = cartograph_hubspot::HubSpot::new(
        builder(&server.uri())
            .previous_client_secret(cartograph_http::Secret::new("old-secret"))
            .build()
            .unwrap(),
    )
    .unwrap();
    let (sent, received) = (1_700_000_000_000, 1_700_000_000_000);
    assert!(
        rotating
            .parse_webhook(&request(SECRET, sent, received))
            .is_ok()
    );
    assert!(
        rotating
            .parse_webhook(&request("old-secret", sent, received))
            .is_ok()
    );
    let err = rotating
        .parse_webhook(&request("third-secret", sent, received))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    // Without the rotation setting the old secret is refused.
    let err = hubspot(&server)
        .parse_webhook(&request("old-secret", sent, received))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
}
