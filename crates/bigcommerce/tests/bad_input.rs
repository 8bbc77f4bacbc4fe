//! The bad-input corpus of `parse_webhook` (issue #19's standing suite): every case, built
//! here in code, ends as a typed rejection (kind asserted, the field named where the problem
//! is a field) or a parsed notification, never a panic; the counts per category are asserted.
//! Property tests feed arbitrary bytes and mutated valid bodies through the same entry point.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::LazyLock;

use cartograph_bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph_bigcommerce::webhook::{decode_signing_secret, sign};
use cartograph_bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph_connector::{CommerceSource, ErrorKind, WebhookNotification, WebhookRequest};
use cartograph_http::Secret;
use cartograph_model::Timestamp;
use proptest::prelude::*;
use serde_json::{Value, json};

const HEADER: &str = "hdr-secret";
const CURRENT: &str = "whsec_bmV3LWtleQ=="; // "new-key"
const PREVIOUS: &str = "b2xkLWtleQ=="; // "old-key"
const RETIRED: &str = "cmV0aXJlZC1rZXk="; // "retired-key"
const TS: i64 = 1_700_000_000;

fn valid() -> Value {
    json!({
        "scope": "store/order/created",
        "store_id": "1001",
        "data": { "type": "order", "id": 250 },
        "hash": "3f9ea420af83450d7ef9f78b08c8af25b2213637",
        "created_at": TS,
        "producer": "stores/abc123"
    })
}

/// One connector for every property case (building a client per case is slow).
static CONNECTOR: LazyLock<BigCommerce> = LazyLock::new(connector);

fn connector() -> BigCommerce {
    let config = BigCommerceConfig::builder("abc123", "t")
        .webhook_header_secret(HEADER)
        .webhook_signing_secret(CURRENT)
        .webhook_signing_secret(PREVIOUS)
        .build()
        .unwrap();
    BigCommerce::new(config).unwrap()
}

fn signature(secret: &str, id: &str, ts: i64, body: &[u8]) -> String {
    sign(
        &decode_signing_secret(&Secret::new(secret)).unwrap(),
        id,
        ts,
        body,
    )
}

/// A delivery with the header secret and a signature over `body` (so the body is what is
/// tested), sent at `ts` and received at `now`.
fn delivery(body: &[u8], secret: &str, ts: i64, now: i64) -> WebhookRequest {
    let headers = vec![
        (DEFAULT_SECRET_HEADER.to_owned(), HEADER.to_owned()),
        ("webhook-id".to_owned(), "msg_1".to_owned()),
        ("webhook-timestamp".to_owned(), ts.to_string()),
        (
            "webhook-signature".to_owned(),
            signature(secret, "msg_1", ts, body),
        ),
    ];
    let mut r = WebhookRequest::post("https://host/hooks/bc", headers, body.to_vec());
    r.received_at = Timestamp::from_unix_seconds(now).unwrap();
    r
}

fn signed(body: &[u8]) -> WebhookRequest {
    delivery(body, CURRENT, TS, TS + 1)
}

/// Outcomes of one category: parsed notifications and rejections.
#[derive(Default)]
struct Tally {
    parsed: Vec<WebhookNotification>,
    rejected: usize,
}

impl Tally {
    /// Runs one case that must be rejected with `kind`, naming `field` when given.
    fn reject(
        &mut self,
        bc: &BigCommerce,
        label: &str,
        r: &WebhookRequest,
        kind: ErrorKind,
        field: Option<&str>,
    ) {
        let err = bc
            .parse_webhook(r)
            .err()
            .unwrap_or_else(|| panic!("{label}: accepted"));
        assert_eq!(err.kind(), kind, "{label}: {err}");
        if let Some(field) = field {
            let named =
                err.field().is_some_and(|f| f.contains(field)) || err.message().contains(field);
            assert!(named, "{label}: error does not name {field}: {err}");
        }
        self.rejected += 1;
    }

    fn accept(&mut self, bc: &BigCommerce, label: &str, r: &WebhookRequest) {
        match bc.parse_webhook(r) {
            Ok(n) => {
                assert_eq!(n.len(), 1, "{label}: one notification per delivery");
                self.parsed.extend(n);
            }
            Err(err) => panic!("{label}: rejected: {err}"),
        }
    }
}

#[test]
fn every_truncation_of_a_valid_body_is_a_decode_error() {
    let bc = connector();
    let body = serde_json::to_vec(&valid()).unwrap();
    let mut t = Tally::default();
    for len in 0..body.len() {
        t.reject(
            &bc,
            &format!("prefix {len}"),
            &signed(&body[..len]),
            ErrorKind::Decode,
            None,
        );
    }
    t.accept(&bc, "whole body", &signed(&body));
    assert_eq!((t.rejected, t.parsed.len()), (body.len(), 1));
}

#[test]
fn a_wrong_type_in_any_field_is_a_decode_error_naming_it() {
    let bc = connector();
    let wrong: [(&str, &[Value]); 6] = [
        (
            "/scope",
            &[json!(5), json!(true), json!([]), json!({}), Value::Null],
        ),
        ("/hash", &[json!(5), json!(false), json!(["a"]), json!({})]),
        (
            "/created_at",
            &[
                json!("1700000000"),
                json!(1.5),
                json!(true),
                json!([]),
                json!(i64::MAX),
            ],
        ),
        ("/data", &[json!("x"), json!(5), json!([]), Value::Null]),
        ("/data/type", &[json!(5), json!([]), Value::Null]),
        (
            "/data/id",
            &[
                json!(true),
                json!([]),
                json!({}),
                json!("abc"),
                json!(-1),
                json!(1.5),
                json!(""),
                json!(" "),
                json!("1e3"),
                json!("18446744073709551616"),
                Value::Null,
            ],
        ),
    ];
    let mut t = Tally::default();
    for (pointer, values) in wrong {
        let field = pointer.trim_start_matches('/').replace('/', ".");
        for value in values {
            let mut body = valid();
            *body.pointer_mut(pointer).unwrap() = value.clone();
            let label = format!("{field} = {value}");
            t.reject(
                &bc,
                &label,
                &signed(&serde_json::to_vec(&body).unwrap()),
                ErrorKind::Decode,
                Some(&field),
            );
        }
    }
    // A field removed is named too.
    for field in ["scope", "hash", "created_at", "data"] {
        let mut body = valid();
        body.as_object_mut().unwrap().remove(field);
        t.reject(
            &bc,
            &format!("no {field}"),
            &signed(&serde_json::to_vec(&body).unwrap()),
            ErrorKind::Decode,
            Some(field),
        );
    }
    // Unknown scopes, and owner ids of the wrong type in sub-resources.
    let mut body = valid();
    body["scope"] = json!("store/unknown/created");
    t.reject(
        &bc,
        "unknown scope",
        &signed(&serde_json::to_vec(&body).unwrap()),
        ErrorKind::Decode,
        Some("scope"),
    );
    let mut body = valid();
    body["scope"] = json!("store/customer/address/updated");
    body["data"]["address"] = json!({ "customer_id": "seven" });
    t.reject(
        &bc,
        "address owner",
        &signed(&serde_json::to_vec(&body).unwrap()),
        ErrorKind::Decode,
        Some("customer_id"),
    );
    let mut body = valid();
    body["scope"] = json!("store/cart/abandoned");
    body["data"] = json!({ "type": "cart", "id": "../../v2/customers/1" });
    t.reject(
        &bc,
        "cart path",
        &signed(&serde_json::to_vec(&body).unwrap()),
        ErrorKind::Decode,
        Some("data.id"),
    );
    assert_eq!(t.rejected, 5 + 4 + 5 + 4 + 3 + 11 + 4 + 3);
}

#[test]
fn huge_and_deeply_nested_bodies_end_typed() {
    let bc = connector();
    let mut t = Tally::default();
    let deep = "[".repeat(10_000);
    t.reject(
        &bc,
        "10,000 [",
        &signed(deep.as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let deep_obj = "{\"a\":".repeat(10_000);
    t.reject(
        &bc,
        "10,000 {",
        &signed(deep_obj.as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let nested_id = format!(
        r#"{{"scope":"store/order/created","data":{{"type":"order","id":{}1{}}},"hash":"h","created_at":{TS}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    t.reject(
        &bc,
        "nested id",
        &signed(nested_id.as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let mut body = valid();
    body["padding"] = json!("x".repeat(4 << 20));
    body["hash"] = json!("h".repeat(1 << 20));
    t.accept(
        &bc,
        "4 MiB body",
        &signed(&serde_json::to_vec(&body).unwrap()),
    );
    // Digits beyond any BigCommerce id would fetch nothing and complete with no write.
    let mut body = valid();
    body["data"]["id"] = json!("9".repeat(100_000));
    let huge_id = serde_json::to_vec(&body).unwrap();
    t.reject(
        &bc,
        "100,000-digit id",
        &signed(&huge_id),
        ErrorKind::Decode,
        Some("data.id"),
    );
    assert_eq!((t.rejected, t.parsed.len()), (4, 1));
}

#[test]
fn invalid_utf8_is_a_decode_error() {
    let bc = connector();
    let body = serde_json::to_vec(&valid()).unwrap();
    let text = String::from_utf8(body.clone()).unwrap();
    let mut t = Tally::default();
    let mut cases: Vec<Vec<u8>> = vec![vec![0xFF; 64], vec![0xC3], b"\xEF\xBB\xBF".to_vec()];
    for needle in ["order/created", "3f9ea420", "stores/abc123", "1001"] {
        let at = text.find(needle).unwrap();
        for bad in [
            &[0xFF][..],
            &[0xC3, 0x28],
            &[0xED, 0xA0, 0x80],
            &[0xF8, 0x88, 0x80, 0x80],
        ] {
            let mut b = body.clone();
            b.splice(at..at, bad.iter().copied());
            cases.push(b);
        }
    }
    for (i, case) in cases.iter().enumerate() {
        t.reject(
            &bc,
            &format!("utf8 case {i}"),
            &signed(case),
            ErrorKind::Decode,
            None,
        );
    }
    assert_eq!(t.rejected, 3 + 4 * 4);
}

#[test]
fn blank_and_reused_hashes_never_collapse_distinct_events() {
    let bc = connector();
    let mut t = Tally::default();
    let events = [
        ("store/order/created", json!(1), ""),
        ("store/order/created", json!(2), ""),
        ("store/order/updated", json!(1), ""),
        ("store/order/updated", json!(1), "   "),
        ("store/order/created", json!(3), "reused"),
        ("store/order/created", json!(4), "reused"),
        ("store/customer/created", json!(3), "reused"),
        ("store/product/updated", json!(3), "reused"),
    ];
    for (i, (scope, id, hash)) in events.iter().enumerate() {
        let mut body = valid();
        body["scope"] = json!(scope);
        body["data"]["id"] = id.clone();
        body["hash"] = json!(hash);
        body["created_at"] = json!(TS + i64::try_from(i).unwrap());
        t.accept(
            &bc,
            &format!("event {i}"),
            &signed(&serde_json::to_vec(&body).unwrap()),
        );
    }
    let keys: HashSet<&str> = t.parsed.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(
        keys.len(),
        events.len(),
        "distinct events keep distinct keys: {keys:?}"
    );
    assert!(keys.iter().all(|k| !k.trim().is_empty()));
    // A redelivery of one event keeps its key (that is what dedupes it).
    let body = serde_json::to_vec(&valid()).unwrap();
    let first = bc.parse_webhook(&signed(&body)).unwrap();
    let again = bc
        .parse_webhook(&delivery(&body, CURRENT, TS + 60, TS + 61))
        .unwrap();
    assert_eq!(first[0].id, again[0].id);
}

#[test]
fn bad_stale_replayed_and_rotated_signatures() {
    let bc = connector();
    let body = serde_json::to_vec(&valid()).unwrap();
    let mut t = Tally::default();
    // Rotation: the current and the previous signing secret verify; a retired one does not.
    t.accept(&bc, "current secret", &delivery(&body, CURRENT, TS, TS));
    t.accept(&bc, "previous secret", &delivery(&body, PREVIOUS, TS, TS));
    t.reject(
        &bc,
        "retired secret",
        &delivery(&body, RETIRED, TS, TS),
        ErrorKind::Signature,
        None,
    );
    // Stale, from the future, replayed late.
    t.reject(
        &bc,
        "stale",
        &delivery(&body, CURRENT, TS - 301, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &bc,
        "future",
        &delivery(&body, CURRENT, TS + 301, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &bc,
        "replayed a day later",
        &delivery(&body, CURRENT, TS, TS + 86_400),
        ErrorKind::Signature,
        None,
    );
    // A captured signature replayed with another body, another id or another timestamp.
    let mut other = valid();
    other["data"]["id"] = json!(251);
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.body = serde_json::to_vec(&other).unwrap();
    t.reject(
        &bc,
        "replayed with another body",
        &r,
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    set(&mut r, "webhook-id", "msg_2");
    t.reject(
        &bc,
        "replayed with another id",
        &r,
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    set(&mut r, "webhook-timestamp", &(TS + 1).to_string());
    t.reject(
        &bc,
        "replayed with another timestamp",
        &r,
        ErrorKind::Signature,
        None,
    );
    // Malformed headers.
    for (name, value) in [
        ("webhook-signature", "v1,AAAA"),
        ("webhook-signature", "v2,c2lnbmF0dXJl"),
        ("webhook-signature", "v1,***"),
        ("webhook-signature", ""),
        ("webhook-timestamp", "soon"),
        ("webhook-timestamp", "99999999999999999999999"),
        (DEFAULT_SECRET_HEADER, "wrong"),
        (DEFAULT_SECRET_HEADER, ""),
    ] {
        let mut r = delivery(&body, CURRENT, TS, TS);
        set(&mut r, name, value);
        t.reject(
            &bc,
            &format!("{name}: {value:?}"),
            &r,
            ErrorKind::Signature,
            None,
        );
    }
    // Without a signature the matching header secret authenticates (signatures are optional
    // unless required); with a signature, every part of it is checked.
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.headers.retain(|(n, _)| !n.starts_with("webhook-"));
    t.accept(&bc, "header secret only", &r);
    for name in ["webhook-id", "webhook-timestamp", DEFAULT_SECRET_HEADER] {
        let mut r = delivery(&body, CURRENT, TS, TS);
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        t.reject(&bc, &format!("no {name}"), &r, ErrorKind::Signature, None);
    }
    // No secret configured at all: refused, never accepted unauthenticated.
    let open =
        BigCommerce::new(BigCommerceConfig::builder("abc123", "t").build().unwrap()).unwrap();
    t.reject(
        &open,
        "no secret configured",
        &delivery(&body, CURRENT, TS, TS),
        ErrorKind::Config,
        None,
    );
    assert_eq!((t.parsed.len(), t.rejected), (3, 1 + 3 + 3 + 8 + 3 + 1));
}

fn set(r: &mut WebhookRequest, name: &str, value: &str) {
    for (n, v) in &mut r.headers {
        if n.eq_ignore_ascii_case(name) {
            value.clone_into(v);
        }
    }
}

/// A typed outcome: parsed, or a kind a host dead-letters (never a panic).
fn settles(bc: &BigCommerce, r: &WebhookRequest) -> Result<(), TestCaseError> {
    if let Err(err) = bc.parse_webhook(r) {
        prop_assert!(
            matches!(err.kind(), ErrorKind::Decode | ErrorKind::Signature),
            "unexpected kind: {err}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let bc = &*CONNECTOR;
        settles(bc, &signed(&body))?;
        settles(bc, &delivery(&body, RETIRED, TS, TS))?;
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let bc = &*CONNECTOR;
        let mut body = serde_json::to_vec(&valid()).unwrap();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        settles(bc, &signed(&body))?;
    }
}
