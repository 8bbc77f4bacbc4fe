use std::path::Path;

use cartograph_connector::{ErrorKind, NotificationKind, WebhookRequest};
use cartograph_http::Secret;
use cartograph_model::{RecordKind, Timestamp};

use super::*;
use crate::config::WebhookConfig;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/specs/bigcommerce/docs/webhooks/callbacks/data"
);

const CART: &str = "09346904-4175-44fd-be53-f7e598531b6c";
const LINE_CART: &str = "b0386708-fef3-45de-9d8b-fbe3031450a4";

/// What each upstream sample must parse into, judged by the scope the file actually carries.
fn expected(stem: &str) -> Option<(RecordKind, &'static str, NotificationKind)> {
    use NotificationKind as N;
    use RecordKind as R;
    Some(match stem {
        "store_cart_abandoned" => (
            R::Cart,
            CART,
            N::Abandoned {
                token: Some("1eed6d2d979776ff18e695ceeb10ea61".into()),
            },
        ),
        "store_cart_converted" => (
            R::Cart,
            "d30016e2-23c0-4a90-884f-2e92ac135476",
            N::Converted {
                order_id: "252".into(),
            },
        ),
        "store_cart_couponApplied" | "store_cart_updated" => (R::Cart, CART, N::Updated),
        "store_cart_created" => (R::Cart, CART, N::Created),
        "store_cart_deleted" => (R::Cart, CART, N::Deleted),
        "store_cart_lineItem_created"
        | "store_cart_lineItem_deleted"
        | "store_cart_lineItem_updated" => (R::Cart, LINE_CART, N::Updated),
        "store_customer_address_created"
        | "store_customer_address_deleted"
        | "store_customer_address_updated" => (R::Customer, "32", N::Updated),
        // store_customer_updated/deleted carry scope store/customer/created upstream.
        "store_customer_created" | "store_customer_updated" | "store_customer_deleted" => {
            (R::Customer, "32", N::Created)
        }
        "store_customer_payment_instrument_default_updated" => (R::Customer, "32", N::Other),
        "store_order_archived" => (R::Order, "250", N::Archived),
        "store_order_created" => (R::Order, "250", N::Created),
        "store_order_updated" => (R::Order, "250", N::Updated),
        "store_order_message_created" => (R::Order, "250", N::Other),
        "store_order_refund_created" => (
            R::Order,
            "250",
            N::Refunded {
                refund_id: Some("3".into()),
            },
        ),
        "store_order_statusUpdated" => (
            R::Order,
            "250",
            N::StatusChanged {
                from: Some("0".into()),
                to: Some("11".into()),
            },
        ),
        "store_product_created" => (R::Product, "205", N::Created),
        "store_product_updated" => (R::Product, "205", N::Updated),
        "store_product_deleted" => (R::Product, "205", N::Deleted),
        "store_product_inventory_order_updated" | "store_product_inventory_updated" => {
            (R::Product, "167", N::Updated)
        }
        "store_sku_created"
        | "store_sku_deleted"
        | "store_sku_updated"
        | "store_sku_inventory_order_updated"
        | "store_sku_inventory_updated" => (R::Product, "206", N::Updated),
        "store_subscriber_created" | "store_subscriber_deleted" | "store_subscriber_updated" => {
            (R::Contact, "5", N::Other)
        }
        _ => return None,
    })
}

/// Samples whose scope does not match their file name (upstream slips).
const KNOWN_SLIPS: &[&str] = &[
    "store_cart_lineItem_deleted",
    "store_cart_lineItem_updated",
    "store_customer_address_updated",
    "store_customer_deleted",
    "store_customer_updated",
    "store_subscriber_deleted",
    "store_subscriber_updated",
];

#[test]
fn every_upstream_webhook_sample_parses_into_the_right_notification() {
    let dir = Path::new(SAMPLES);
    if !dir.is_dir() {
        println!("SKIPPED: BigCommerce webhook samples not found at {SAMPLES}");
        return;
    }
    let mut seen = 0;
    let mut slips = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let body = std::fs::read(&path).unwrap();
        let payload: crate::wire::WebhookPayload = serde_json::from_slice(&body).unwrap();
        if payload.scope.replace('/', "_") != stem {
            slips.push(stem.clone());
        }
        let (kind, id, what) =
            expected(&stem).unwrap_or_else(|| panic!("new upstream sample {stem}: add it"));
        let parsed = parse_body("bigcommerce", &body).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert_eq!(parsed.len(), 1, "{stem}");
        let n = &parsed[0];
        assert_eq!(n.source.kind, kind, "{stem}");
        assert_eq!(n.source.id, id, "{stem}");
        assert_eq!(n.kind, what, "{stem}");
        assert_eq!(
            n.id,
            format!("{}:{}:{}", payload.hash, payload.scope, n.source.id),
            "{stem}: hash, scope and resource id make the dedupe id"
        );
        assert_eq!(n.topic, payload.scope, "{stem}");
        assert_eq!(n.occurred_at.unix_seconds(), payload.created_at, "{stem}");
        seen += 1;
    }
    assert!(seen >= 30, "only {seen} samples");
    assert_eq!(slips, KNOWN_SLIPS, "upstream scope slips changed");
}

#[test]
fn malformed_payloads_are_decode_errors() {
    let err = parse_body("bc", br#"{"scope":"store/order/created","data":{"type":"order","id":-1},"hash":"h","created_at":1}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.field(), Some("data.id"));
    let err = parse_body(
        "bc",
        br#"{"scope":"store/order/created","data":{"type":"order"},"hash":"h","created_at":1}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("data"),
        "missing id is reported at its parent"
    );
    let err = parse_body("bc", br#"{"scope":"store/cart/converted","data":{"type":"cart","id":"x"},"hash":"h","created_at":1}"#)
        .unwrap_err();
    assert_eq!(err.field(), Some("data.orderId"));
    let err = parse_body(
        "bc",
        br#"{"scope":"store/widget/made","data":{"type":"w","id":1},"hash":"h","created_at":1}"#,
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("scope"));
}

fn order_event(scope: &str, id: &str, hash: &str, created_at: i64) -> Vec<u8> {
    format!(
        r#"{{"scope":"{scope}","data":{{"type":"order","id":{id}}},"hash":"{hash}","created_at":{created_at}}}"#
    )
    .into_bytes()
}

#[test]
fn blank_or_reused_hashes_never_collapse_two_events() {
    let key = |body: Vec<u8>| parse_body("bc", &body).unwrap().remove(0).id;
    // Redelivery of one event: same key.
    assert_eq!(
        key(order_event("store/order/created", "1", "h1", 10)),
        key(order_event("store/order/created", "1", "h1", 10))
    );
    // A reused hash on another order or another scope: different keys.
    let reused = [
        key(order_event("store/order/created", "1", "h1", 10)),
        key(order_event("store/order/created", "2", "h1", 10)),
        key(order_event("store/order/updated", "1", "h1", 10)),
    ];
    assert_eq!(
        reused
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "{reused:?}"
    );
    // Blank hashes fall back to scope, id and creation time.
    let blank = [
        key(order_event("store/order/updated", "1", "", 10)),
        key(order_event("store/order/updated", "1", "  ", 11)),
        key(order_event("store/order/updated", "2", "", 10)),
    ];
    assert!(blank.iter().all(|k| !k.trim().is_empty()));
    assert_eq!(
        blank
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        3,
        "{blank:?}"
    );
}

#[test]
fn ids_outside_the_vendor_contract_are_decode_errors_naming_the_field() {
    for (scope, id) in [
        ("store/order/created", r#""abc""#),
        ("store/order/created", r#""12a""#),
        ("store/customer/updated", r#""../../v2/customers/1""#),
        ("store/order/created", "1.5"),
    ] {
        let err = parse_body("bc", &order_event(scope, id, "h", 1)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode, "{scope} {id}");
        assert_eq!(err.field(), Some("data.id"), "{scope} {id}");
    }
    let numeric_string = parse_body("bc", &order_event("store/order/created", r#""42""#, "h", 1))
        .unwrap()
        .remove(0);
    assert_eq!(numeric_string.source.id, "42");
    for bad in [r#""../../v2/customers/1""#, r#""a b""#, r#""""#, "7"] {
        let body = format!(
            r#"{{"scope":"store/cart/abandoned","data":{{"type":"cart","id":{bad}}},"hash":"h","created_at":1}}"#
        );
        let err = parse_body("bc", body.as_bytes()).unwrap_err();
        assert_eq!(err.field(), Some("data.id"), "cart id {bad}");
    }
}

const KEY_B64: &str = "c2VjcmV0LWtleS0x"; // "secret-key-1"
const KEY2_B64: &str = "c2VjcmV0LWtleS0y"; // "secret-key-2"
const BODY: &[u8] = br#"{"scope":"store/order/created","data":{"type":"order","id":1},"hash":"h","created_at":1700000000}"#;

fn config(header: bool, signing: &[&str]) -> WebhookConfig {
    WebhookConfig {
        header_secrets: if header {
            vec![Secret::new("hdr")]
        } else {
            Vec::new()
        },
        signing_secrets: signing.iter().map(|s| Secret::new(*s)).collect(),
        ..WebhookConfig::default()
    }
}

fn request(header: Option<&str>, sig: Option<(&str, i64)>, now: i64) -> WebhookRequest {
    let mut headers = Vec::new();
    if let Some(h) = header {
        headers.push((
            crate::config::DEFAULT_SECRET_HEADER.to_owned(),
            h.to_owned(),
        ));
    }
    if let Some((sig, ts)) = sig {
        headers.push(("webhook-id".into(), "msg_1".into()));
        headers.push(("webhook-timestamp".into(), ts.to_string()));
        headers.push(("webhook-signature".into(), sig.to_owned()));
    }
    let mut r = WebhookRequest::post("https://x/hook", headers, BODY.to_vec());
    r.received_at = Timestamp::from_unix_seconds(now).unwrap();
    r
}

fn signature(key_b64: &str, ts: i64) -> String {
    let key = decode_signing_secret(&Secret::new(key_b64)).unwrap();
    sign(&key, "msg_1", ts, BODY)
}

#[test]
fn header_secret_is_checked() {
    let c = config(true, &[]);
    verify(&request(Some("hdr"), None, 0), &c).unwrap();
    let err = verify(&request(Some("nope"), None, 0), &c).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    assert_eq!(
        verify(&request(None, None, 0), &c).unwrap_err().kind(),
        ErrorKind::Signature
    );
    let none = config(false, &[]);
    assert_eq!(
        verify(&request(Some("hdr"), None, 0), &none)
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
}

#[test]
fn standard_webhooks_signature_accept_reject_stale_and_rotated() {
    let ts = 1_700_000_000;
    let c = config(true, &[&format!("whsec_{KEY_B64}")]);
    verify(
        &request(Some("hdr"), Some((&signature(KEY_B64, ts), ts)), ts + 10),
        &c,
    )
    .unwrap();
    // Wrong key.
    let err = verify(
        &request(Some("hdr"), Some((&signature(KEY2_B64, ts), ts)), ts),
        &c,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    // Body tampered: signature made for another timestamp.
    let err = verify(
        &request(Some("hdr"), Some((&signature(KEY_B64, ts + 1), ts)), ts),
        &c,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Signature);
    // Stale (and future) timestamps.
    let err = verify(
        &request(Some("hdr"), Some((&signature(KEY_B64, ts), ts)), ts + 301),
        &c,
    )
    .unwrap_err();
    assert!(err.message().contains("tolerance"), "{err}");
    assert!(
        verify(
            &request(Some("hdr"), Some((&signature(KEY_B64, ts), ts)), ts - 301),
            &c
        )
        .is_err()
    );
    // Rotation: several signatures in the header, several secrets configured.
    let both = format!("v1,bm90LWl0 {}", signature(KEY2_B64, ts));
    let rotated = config(true, &[KEY_B64, KEY2_B64]);
    verify(&request(Some("hdr"), Some((&both, ts)), ts), &rotated).unwrap();
    assert!(verify(&request(Some("hdr"), Some((&both, ts)), ts), &c).is_err());
}

#[test]
fn signature_requirements() {
    let ts = 1_700_000_000;
    // Signing secret only: a signature is then mandatory.
    let only_sig = config(false, &[KEY_B64]);
    assert!(verify(&request(None, None, ts), &only_sig).is_err());
    verify(
        &request(None, Some((&signature(KEY_B64, ts), ts)), ts),
        &only_sig,
    )
    .unwrap();
    // Header + signing secret: unsigned (older) hooks pass unless required.
    let mut both = config(true, &[KEY_B64]);
    verify(&request(Some("hdr"), None, ts), &both).unwrap();
    both.require_signature = true;
    assert!(verify(&request(Some("hdr"), None, ts), &both).is_err());
}
