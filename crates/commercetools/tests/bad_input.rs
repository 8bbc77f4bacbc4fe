//! The bad-input corpus of `parse_webhook` (issue #19's standing suite): every case, built
//! here in code, ends as a typed rejection (kind asserted, the field named where the problem
//! is a field) or parsed notifications, never a panic; the counts per category are asserted.
//! Property tests feed arbitrary bytes and mutated valid bodies through the same entry point.
//!
//! commercetools signs nothing: Subscriptions publish to a queue whose consumer hands the
//! delivery over, so authenticity is the queue's (and the intake's); there is no signature,
//! timestamp tolerance or secret rotation to test here. The dedupe key is the resource and
//! its `sequenceNumber` (messages) or type, id, version and kind (changes).

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::LazyLock;

use base64::Engine as _;
use cartograph_commercetools::{Commercetools, CommercetoolsConfig};
use cartograph_connector::{CommerceSource, ErrorKind, WebhookNotification, WebhookRequest};
use proptest::prelude::*;
use serde_json::{Value, json};

fn message(id: &str, order: &str, seq: i64) -> Value {
    json!({
        "notificationType": "Message", "projectKey": "proj", "id": id, "version": 1,
        "sequenceNumber": seq, "resource": {"typeId": "order", "id": order},
        "resourceVersion": seq, "type": "OrderStateChanged", "orderState": "Cancelled",
        "oldOrderState": "Open", "createdAt": "2026-01-01T00:00:00.000Z",
        "lastModifiedAt": "2026-01-01T00:00:00.000Z"
    })
}

fn change(id: &str, version: i64) -> Value {
    json!({
        "notificationType": "ResourceUpdated", "projectKey": "proj",
        "resource": {"typeId": "customer", "id": id}, "version": version, "oldVersion": version - 1,
        "modifiedAt": "2026-01-01T00:00:00.000Z"
    })
}

/// One connector for every property case (building a client per case is slow).
static CONNECTOR: LazyLock<Commercetools> = LazyLock::new(connector);

fn connector() -> Commercetools {
    Commercetools::new(
        CommercetoolsConfig::builder("proj", "cid", "csecret")
            .build()
            .unwrap(),
    )
    .unwrap()
}

fn delivery(body: &[u8]) -> WebhookRequest {
    WebhookRequest::post("https://host/hooks/ct", Vec::new(), body.to_vec())
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Outcomes of one category: parsed notifications and rejections.
#[derive(Default)]
struct Tally {
    parsed: Vec<WebhookNotification>,
    rejected: usize,
}

impl Tally {
    /// Runs one case that must be rejected as invalid, naming `field` when given.
    fn reject(&mut self, ct: &Commercetools, label: &str, body: &[u8], field: Option<&str>) {
        let err = ct
            .parse_webhook(&delivery(body))
            .err()
            .unwrap_or_else(|| panic!("{label}: accepted"));
        assert_eq!(err.kind(), ErrorKind::Invalid, "{label}: {err}");
        if let Some(field) = field {
            let named =
                err.field().is_some_and(|f| f.contains(field)) || err.message().contains(field);
            assert!(named, "{label}: error does not name {field}: {err}");
        }
        self.rejected += 1;
    }

    fn accept(&mut self, ct: &Commercetools, label: &str, body: &[u8]) -> usize {
        match ct.parse_webhook(&delivery(body)) {
            Ok(n) => {
                let count = n.len();
                self.parsed.extend(n);
                count
            }
            Err(err) => panic!("{label}: rejected: {err}"),
        }
    }
}

#[test]
fn every_truncation_of_a_valid_body_is_an_invalid_error() {
    let ct = connector();
    let mut t = Tally::default();
    for body in [bytes(&message("m1", "o-1", 1)), bytes(&change("c-1", 3))] {
        for len in 0..body.len() {
            t.reject(&ct, &format!("prefix {len}"), &body[..len], None);
        }
        assert_eq!(t.accept(&ct, "whole body", &body), 1);
    }
    let expected = bytes(&message("m1", "o-1", 1)).len() + bytes(&change("c-1", 3)).len();
    assert_eq!((t.rejected, t.parsed.len()), (expected, 2));
}

#[test]
fn a_wrong_type_in_any_field_is_an_invalid_error_naming_it() {
    let ct = connector();
    let mut t = Tally::default();
    let wrong: [(&str, &[Value]); 5] = [
        (
            "/notificationType",
            &[json!(5), json!([]), Value::Null, json!("Nonsense")],
        ),
        ("/resource", &[json!("order"), json!(5), Value::Null]),
        ("/resource/typeId", &[json!(5), json!([]), Value::Null]),
        (
            "/resource/id",
            &[json!(5), json!({}), Value::Null, json!(""), json!("  ")],
        ),
        (
            "/createdAt",
            &[
                json!(5),
                json!("yesterday"),
                json!("2026-13-01T00:00:00Z"),
                Value::Null,
            ],
        ),
    ];
    for (pointer, values) in wrong {
        let field = pointer.trim_start_matches('/').replace('/', ".");
        for value in values {
            let mut body = message("m1", "o-1", 1);
            *body.pointer_mut(pointer).unwrap() = value.clone();
            // Without createdAt the other time fields stand in: remove them too.
            if field == "createdAt" {
                body.as_object_mut().unwrap().remove("lastModifiedAt");
            }
            t.reject(
                &ct,
                &format!("{field} = {value}"),
                &bytes(&body),
                Some(&field),
            );
        }
    }
    for value in [json!(5), json!(""), json!(" "), json!([]), Value::Null] {
        let mut body = message("m1", "o-1", 1);
        body["id"] = value.clone();
        t.reject(
            &ct,
            &format!("message id = {value}"),
            &bytes(&body),
            Some("id"),
        );
    }
    for value in [json!("3"), json!(3.5), json!([]), Value::Null] {
        let mut body = message("m1", "o-1", 1);
        body["sequenceNumber"] = value.clone();
        t.reject(
            &ct,
            &format!("sequenceNumber = {value}"),
            &bytes(&body),
            Some("sequenceNumber"),
        );
    }
    for value in [json!("3"), json!(3.5), json!([]), Value::Null] {
        let mut body = change("c-1", 3);
        body["version"] = value.clone();
        t.reject(
            &ct,
            &format!("version = {value}"),
            &bytes(&body),
            Some("version"),
        );
    }
    let mut body = change("c-1", 3);
    body.as_object_mut().unwrap().remove("version");
    t.reject(&ct, "no version", &bytes(&body), Some("version"));
    for body in [
        json!(5),
        json!("x"),
        json!({}),
        json!({"specversion": "1.0"}),
        json!({"message": {"data": "***"}}),
    ] {
        t.reject(&ct, &format!("body {body}"), &bytes(&body), None);
    }
    assert_eq!(t.rejected, 4 + 3 + 3 + 5 + 4 + 5 + 4 + 4 + 1 + 5);
}

#[test]
fn huge_nested_and_non_utf8_bodies_end_typed() {
    let ct = connector();
    let mut t = Tally::default();
    t.reject(&ct, "10,000 [", "[".repeat(10_000).as_bytes(), None);
    let closed = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    t.reject(&ct, "10,000 [] closed", closed.as_bytes(), None);
    // Envelopes inside envelopes: at most a few levels.
    let mut wrapped = message("m1", "o-1", 1);
    for _ in 0..8 {
        wrapped = json!({"Body": serde_json::to_string(&wrapped).unwrap()});
    }
    t.reject(&ct, "8 envelopes", &bytes(&wrapped), None);
    let mut big = message("m1", "o-1", 1);
    big["padding"] = json!("x".repeat(4 << 20));
    assert_eq!(t.accept(&ct, "4 MiB body", &bytes(&big)), 1);
    let many: Vec<Value> = (0..5_000).map(|i| change(&format!("c-{i}"), 2)).collect();
    assert_eq!(t.accept(&ct, "5,000 changes", &bytes(&json!(many))), 5_000);
    let body = bytes(&message("m1", "o-1", 1));
    let text = String::from_utf8(body.clone()).unwrap();
    let mut utf8 = vec![vec![0xFF; 64], vec![0xC3]];
    for needle in ["Message", "o-1", "Cancelled"] {
        let at = text.find(needle).unwrap();
        for bad in [&[0xFF][..], &[0xC3, 0x28], &[0xED, 0xA0, 0x80]] {
            let mut b = body.clone();
            b.splice(at..at, bad.iter().copied());
            utf8.push(b);
        }
    }
    for (i, case) in utf8.iter().enumerate() {
        t.reject(&ct, &format!("utf8 case {i}"), case, None);
    }
    // Pub/Sub data that decodes to bytes that are not UTF-8 JSON.
    let data = base64::engine::general_purpose::STANDARD.encode([0xFF, 0xFE, 0x00]);
    t.reject(
        &ct,
        "pubsub non-utf8",
        &bytes(&json!({"message": {"data": data}})),
        None,
    );
    assert_eq!((t.rejected, t.parsed.len()), (3 + 2 + 9 + 1, 5_001));
}

#[test]
fn redeliveries_dedupe_and_distinct_events_keep_distinct_keys() {
    let ct = connector();
    let mut t = Tally::default();
    // One delivery carrying a message twice and a change twice: each kept once.
    let body = json!([
        message("m1", "o-1", 1),
        message("m1", "o-1", 1),
        change("c-1", 3),
        change("c-1", 3)
    ]);
    assert_eq!(t.accept(&ct, "redelivered", &bytes(&body)), 2);
    // Distinct changes of one resource (versions) and distinct messages stay distinct.
    let body = json!([
        change("c-1", 4),
        change("c-1", 5),
        message("m2", "o-1", 2),
        message("m3", "o-1", 3)
    ]);
    assert_eq!(t.accept(&ct, "distinct", &bytes(&body)), 4);
    // One message id on two resources, or on two sequence numbers of one resource (two
    // projects into one destination, a reused id): two events, not one.
    let body = json!([
        message("m7", "o-7", 1),
        message("m7", "o-8", 1),
        message("m7", "o-7", 2)
    ]);
    assert_eq!(t.accept(&ct, "reused message id", &bytes(&body)), 3);
    let keys: HashSet<&str> = t.parsed.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(keys.len(), 9);
    assert!(keys.iter().all(|k| !k.trim().is_empty()));
    // Our own writes are the loop guard's to drop (visible as no notification, by design).
    let mut own = message("m9", "o-9", 1);
    own["createdBy"] = json!({"clientId": "cid"});
    assert_eq!(t.accept(&ct, "own write", &bytes(&own)), 0);
    assert_eq!(t.parsed.len(), 9);
}

/// A typed outcome: parsed, or a kind a host dead-letters (never a panic).
fn settles(ct: &Commercetools, body: &[u8]) -> Result<(), TestCaseError> {
    if let Err(err) = ct.parse_webhook(&delivery(body)) {
        prop_assert_eq!(err.kind(), ErrorKind::Invalid, "unexpected kind: {}", err);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        settles(&CONNECTOR, &body)?;
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut body = bytes(&json!([message("m1", "o-1", 1), change("c-1", 3)]));
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        settles(&CONNECTOR, &body)?;
    }
}
