use cartograph_bigcommerce::BigCommerceConfig;
use cartograph_bigcommerce::webhook::{decode_signing_secret, sign};
use cartograph_bigcommerce::{BigCommerce, config::DEFAULT_SECRET_HEADER};
use cartograph_connector::{CommerceSource, ErrorKind, NotificationKind, WebhookRequest};
use cartograph_http::Secret;
use cartograph_model::{RecordKind, Timestamp};
use serde_json::json;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support;

const OLD: &str = "whsec_b2xkLWtleQ=="; // "old-key"
const NEW: &str = "bmV3LWtleQ=="; // "new-key"
const BODY: &str = r#"{"scope":"store/cart/abandoned","store_id":"1","data":{"type":"cart","id":"09346904-4175-44fd-be53-f7e598531b6c","token":"t1"},"hash":"abc","created_at":1700000000,"producer":"stores/abc123"}"#;

fn connector(signing: &[&str]) -> BigCommerce {
    let mut b = BigCommerceConfig::builder("abc123", "t").webhook_header_secret("hdr-secret");
    for s in signing {
        b = b.webhook_signing_secret(*s);
    }
    BigCommerce::new(b.build().unwrap()).unwrap()
}

fn delivery(secret: &str, signatures: Option<String>, ts: i64, now: i64) -> WebhookRequest {
    let mut headers = vec![(DEFAULT_SECRET_HEADER.to_owned(), secret.to_owned())];
    if let Some(sig) = signatures {
        headers.push(("webhook-id".into(), "msg_9".into()));
        headers.push(("webhook-timestamp".into(), ts.to_string()));
        headers.push(("webhook-signature".into(), sig));
    }
    let mut r = WebhookRequest::post("https://host/hooks/bc", headers, BODY.as_bytes().to_vec());
    r.received_at = Timestamp::from_unix_seconds(now).unwrap();
    r
}

fn sig(secret: &str, ts: i64) -> String {
    sign(
        &decode_signing_secret(&Secret::new(secret)).unwrap(),
        "msg_9",
        ts,
        BODY.as_bytes(),
    )
}

#[test]
fn signed_delivery_is_accepted_and_parsed() {
    let ts = 1_700_000_000;
    let bc = connector(&[OLD]);
    let n = bc
        .parse_webhook(&delivery("hdr-secret", Some(sig(OLD, ts)), ts, ts + 5))
        .unwrap();
    assert_eq!(n[0].source.kind, RecordKind::Cart);
    assert_eq!(n[0].source.id, "09346904-4175-44fd-be53-f7e598531b6c");
    assert_eq!(
        n[0].id,
        "abc:store/cart/abandoned:09346904-4175-44fd-be53-f7e598531b6c"
    );
    assert_eq!(
        n[0].kind,
        NotificationKind::Abandoned {
            token: Some("t1".into())
        }
    );
}

#[test]
fn wrong_secret_bad_signature_and_stale_timestamps_are_rejected() {
    let ts = 1_700_000_000;
    let bc = connector(&[OLD]);
    let cases = [
        delivery("wrong", Some(sig(OLD, ts)), ts, ts),
        delivery("hdr-secret", Some(sig(NEW, ts)), ts, ts),
        delivery("hdr-secret", Some(sig(OLD, ts)), ts, ts + 3600),
        delivery("hdr-secret", Some("v1,AAAA".into()), ts, ts),
    ];
    for (i, case) in cases.iter().enumerate() {
        let err = bc.parse_webhook(case).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Signature, "case {i}: {err}");
    }
}

#[test]
fn rotated_keys_accept_either_signature() {
    let ts = 1_700_000_000;
    let bc = connector(&[OLD, NEW]);
    let both = format!("{} {}", sig(NEW, ts), sig(OLD, ts));
    bc.parse_webhook(&delivery("hdr-secret", Some(both), ts, ts))
        .unwrap();
    bc.parse_webhook(&delivery("hdr-secret", Some(sig(NEW, ts)), ts, ts))
        .unwrap();
    // Only the retired key remains configured elsewhere: the new signature alone fails.
    let old_only = connector(&[OLD]);
    assert!(
        old_only
            .parse_webhook(&delivery("hdr-secret", Some(sig(NEW, ts)), ts, ts))
            .is_err()
    );
}

#[tokio::test]
async fn ensure_hook_reenables_a_deactivated_hook_and_creates_missing_ones() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/hooks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 7, "scope": "store/order/*", "destination": "https://h/bc", "is_active": false}
        ], "meta": {"pagination": {"total": 1, "count": 1, "per_page": 250, "current_page": 1, "total_pages": 1}}})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(support::path("/v3/hooks/7")))
        .and(body_json(json!({"is_active": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data":
            {"id": 7, "scope": "store/order/*", "destination": "https://h/bc", "is_active": true}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(support::path("/v3/hooks")))
        .and(body_json(json!({"scope": "store/cart/abandoned", "destination": "https://h/bc",
            "is_active": true, "headers": {DEFAULT_SECRET_HEADER: "hdr-secret"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data":
            {"id": 8, "scope": "store/cart/abandoned", "destination": "https://h/bc", "is_active": true}})))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    assert!(
        bc.ensure_hook("store/order/*", "https://h/bc")
            .await
            .unwrap()
            .is_active
    );
    assert_eq!(
        bc.ensure_hook("store/cart/abandoned", "https://h/bc")
            .await
            .unwrap()
            .id,
        8
    );
}
