//! The bad-input corpus of `parse_webhook` (issue #19's standing suite): every case, built
//! here in code, ends as a typed rejection (kind asserted, the field named where the problem
//! is a field) or parsed events, never a panic; the counts per category are asserted.
//! Property tests feed arbitrary bytes and mutated valid bodies through the same entry point.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::LazyLock;

use cartograph_connector::{CrmSource, ErrorKind, WebhookRequest};
use cartograph_http::Secret;
use cartograph_hubspot::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_v3};
use cartograph_hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph_model::{CrmEvent, CrmEventKind, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

const URL: &str = "https://hooks.example.com/hubspot";
const CURRENT: &str = "current-secret";
const PREVIOUS: &str = "previous-secret";
const RETIRED: &str = "retired-secret";
const TS: i64 = 1_700_000_000_000;

fn event(id: u64, object: u64) -> Value {
    json!({
        "eventId": id,
        "subscriptionId": 2,
        "portalId": 3,
        "appId": 777,
        "occurredAt": TS,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": object,
        "propertyName": "firstname",
        "propertyValue": "Ada",
        "changeSource": "CRM_UI"
    })
}

fn valid() -> Value {
    json!([event(1, 10)])
}

/// One connector for every property case (building a client per case is slow).
static ROTATING: LazyLock<HubSpot> = LazyLock::new(|| hubspot(true));

fn hubspot(previous: bool) -> HubSpot {
    let mut b = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
        token: Secret::new("pat-token"),
    })
    .client_secret(Secret::new(CURRENT));
    if previous {
        b = b.previous_client_secret(Secret::new(PREVIOUS));
    }
    HubSpot::new(b.build().unwrap()).unwrap()
}

/// A v3-signed delivery of `body`, sent at `sent` and received at `received` (epoch ms).
fn delivery(body: &[u8], secret: &str, sent: i64, received: i64) -> WebhookRequest {
    let ts = sent.to_string();
    WebhookRequest {
        method: "POST".into(),
        url: URL.into(),
        headers: vec![
            (
                SIGNATURE_HEADER.into(),
                sign_v3(secret, "POST", URL, body, &ts),
            ),
            (TIMESTAMP_HEADER.into(), ts),
        ],
        body: body.to_vec(),
        received_at: Timestamp::from_unix_millis(received).unwrap(),
    }
}

fn signed(body: &[u8]) -> WebhookRequest {
    delivery(body, CURRENT, TS, TS + 1_000)
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Outcomes of one category: parsed events and rejections.
#[derive(Default)]
struct Tally {
    parsed: Vec<CrmEvent>,
    rejected: usize,
}

impl Tally {
    /// Runs one case that must be rejected with `kind`, naming `field` when given.
    fn reject(
        &mut self,
        hs: &HubSpot,
        label: &str,
        r: &WebhookRequest,
        kind: ErrorKind,
        field: Option<&str>,
    ) {
        let err = hs
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

    fn accept(&mut self, hs: &HubSpot, label: &str, r: &WebhookRequest) -> usize {
        match hs.parse_webhook(r) {
            Ok(events) => {
                let n = events.len();
                self.parsed.extend(events);
                n
            }
            Err(err) => panic!("{label}: rejected: {err}"),
        }
    }
}

#[test]
fn every_truncation_of_a_valid_body_is_a_decode_error() {
    let hs = hubspot(false);
    let body = bytes(&valid());
    let mut t = Tally::default();
    for len in 0..body.len() {
        t.reject(
            &hs,
            &format!("prefix {len}"),
            &signed(&body[..len]),
            ErrorKind::Decode,
            None,
        );
    }
    assert_eq!(t.accept(&hs, "whole body", &signed(&body)), 1);
    assert_eq!((t.rejected, t.parsed.len()), (body.len(), 1));
}

#[test]
fn a_wrong_type_in_any_field_is_a_decode_error_naming_it() {
    let hs = hubspot(false);
    let wrong: [(&str, &[Value]); 8] = [
        (
            "eventId",
            &[
                json!(true),
                json!([]),
                json!({}),
                Value::Null,
                json!(""),
                json!("  "),
            ],
        ),
        (
            "occurredAt",
            &[
                json!("1700000000000"),
                json!(1.5),
                json!(true),
                json!(i64::MAX),
                Value::Null,
            ],
        ),
        ("subscriptionType", &[json!(5), json!([]), Value::Null]),
        (
            "objectId",
            &[json!(true), json!([]), json!({}), Value::Null, json!("")],
        ),
        ("propertyName", &[json!(5), json!([])]),
        ("propertyValue", &[json!(5), json!({})]),
        ("changeSource", &[json!(5), json!([])]),
        ("attemptNumber", &[json!("0"), json!(-1)]),
    ];
    let mut t = Tally::default();
    for (field, values) in wrong {
        for value in values {
            let mut e = event(1, 10);
            e[field] = value.clone();
            let label = format!("{field} = {value}");
            t.reject(
                &hs,
                &label,
                &signed(&bytes(&json!([e]))),
                ErrorKind::Decode,
                Some(field),
            );
        }
    }
    for field in ["eventId", "occurredAt", "subscriptionType", "objectId"] {
        let mut e = event(1, 10);
        e.as_object_mut().unwrap().remove(field);
        t.reject(
            &hs,
            &format!("no {field}"),
            &signed(&bytes(&json!([e]))),
            ErrorKind::Decode,
            Some(field),
        );
    }
    // Not an array of events.
    for body in [
        json!({}),
        json!(5),
        json!("[]"),
        json!([5]),
        json!([[]]),
        Value::Null,
    ] {
        t.reject(
            &hs,
            &format!("body {body}"),
            &signed(&bytes(&body)),
            ErrorKind::Decode,
            None,
        );
    }
    assert_eq!(t.rejected, 6 + 5 + 3 + 5 + 2 + 2 + 2 + 2 + 4 + 6);
}

#[test]
fn huge_and_deeply_nested_bodies_end_typed() {
    let hs = hubspot(false);
    let mut t = Tally::default();
    t.reject(
        &hs,
        "10,000 [",
        &signed("[".repeat(10_000).as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let nested = format!("[{}]", "{\"eventId\":".repeat(10_000));
    t.reject(
        &hs,
        "10,000 {",
        &signed(nested.as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let mut e = event(1, 10);
    e["propertyValue"] = json!(format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)));
    assert_eq!(
        t.accept(&hs, "brackets in a string", &signed(&bytes(&json!([e])))),
        1
    );
    let many: Vec<Value> = (1..=20_000).map(|i| event(i, i)).collect();
    assert_eq!(
        t.accept(&hs, "20,000 events", &signed(&bytes(&json!(many)))),
        20_000
    );
    let mut e = event(1, 10);
    e["propertyValue"] = json!("x".repeat(4 << 20));
    assert_eq!(
        t.accept(&hs, "4 MiB value", &signed(&bytes(&json!([e])))),
        1
    );
    assert_eq!((t.rejected, t.parsed.len()), (2, 20_002));
}

#[test]
fn invalid_utf8_is_a_decode_error() {
    let hs = hubspot(false);
    let body = bytes(&valid());
    let text = String::from_utf8(body.clone()).unwrap();
    let mut cases: Vec<Vec<u8>> = vec![vec![0xFF; 64], vec![0xC3], b"\xEF\xBB\xBF[]".to_vec()];
    for needle in ["contact.propertyChange", "firstname", "Ada", "CRM_UI"] {
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
    let mut t = Tally::default();
    for (i, case) in cases.iter().enumerate() {
        t.reject(
            &hs,
            &format!("utf8 case {i}"),
            &signed(case),
            ErrorKind::Decode,
            None,
        );
    }
    assert_eq!(t.rejected, 3 + 4 * 4);
}

#[test]
fn blank_event_ids_are_rejected_and_reused_ones_are_one_event() {
    let hs = hubspot(false);
    let mut t = Tally::default();
    // Two events with a blank key would collapse into one: the delivery is rejected whole.
    let blank = json!([event(1, 10), event(2, 11)])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e["eventId"] = json!("");
            e
        })
        .collect::<Vec<_>>();
    t.reject(
        &hs,
        "blank eventIds",
        &signed(&bytes(&json!(blank))),
        ErrorKind::Decode,
        Some("eventId"),
    );
    // A redelivered eventId inside one delivery is the same event: kept once.
    let n = t.accept(
        &hs,
        "reused eventId",
        &signed(&bytes(&json!([event(5, 10), event(5, 10), event(6, 10)]))),
    );
    assert_eq!(n, 2);
    let ids: HashSet<Option<&str>> = t.parsed.iter().map(|e| e.id.as_deref()).collect();
    assert_eq!(ids, HashSet::from([Some("5"), Some("6")]));
    // Unknown subscription types stay visible as `Unhandled`, never vanish.
    let mut e = event(7, 12);
    e["subscriptionType"] = json!("deal.creation");
    assert_eq!(
        t.accept(&hs, "unknown type", &signed(&bytes(&json!([e])))),
        1
    );
    assert!(
        matches!(&t.parsed[2].kind, CrmEventKind::Unhandled { topic, .. } if topic == "deal.creation")
    );
    assert_eq!((t.rejected, t.parsed.len()), (1, 3));
}

#[test]
fn bad_stale_replayed_and_rotated_signatures() {
    let body = bytes(&valid());
    let rotating = hubspot(true);
    let single = hubspot(false);
    let mut t = Tally::default();
    t.accept(
        &rotating,
        "current secret",
        &delivery(&body, CURRENT, TS, TS),
    );
    t.accept(
        &rotating,
        "previous secret during rotation",
        &delivery(&body, PREVIOUS, TS, TS),
    );
    t.reject(
        &single,
        "previous secret after rotation",
        &delivery(&body, PREVIOUS, TS, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &rotating,
        "retired secret",
        &delivery(&body, RETIRED, TS, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &single,
        "stale",
        &delivery(&body, CURRENT, TS - 301_000, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &single,
        "future",
        &delivery(&body, CURRENT, TS + 301_000, TS),
        ErrorKind::Signature,
        None,
    );
    t.reject(
        &single,
        "replayed a day later",
        &delivery(&body, CURRENT, TS, TS + 86_400_000),
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.body = bytes(&json!([event(1, 99)]));
    t.reject(
        &single,
        "replayed with another body",
        &r,
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.url = format!("{URL}?tenant=2");
    t.reject(
        &single,
        "replayed to another URL",
        &r,
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.method = "PUT".into();
    t.reject(
        &single,
        "replayed with another method",
        &r,
        ErrorKind::Signature,
        None,
    );
    let mut r = delivery(&body, CURRENT, TS, TS);
    r.headers[1].1 = (TS + 1).to_string();
    t.reject(
        &single,
        "replayed with another timestamp",
        &r,
        ErrorKind::Signature,
        None,
    );
    for (index, value) in [
        (0, ""),
        (0, "***"),
        (0, "AAAA"),
        (1, "soon"),
        (1, ""),
        (1, "99999999999999999999999"),
    ] {
        let mut r = delivery(&body, CURRENT, TS, TS);
        r.headers[index].1 = value.to_owned();
        t.reject(
            &single,
            &format!("header {index} = {value:?}"),
            &r,
            ErrorKind::Signature,
            None,
        );
    }
    for index in [0, 1] {
        let mut r = delivery(&body, CURRENT, TS, TS);
        r.headers.remove(index);
        t.reject(
            &single,
            &format!("no header {index}"),
            &r,
            ErrorKind::Signature,
            None,
        );
    }
    let open = HubSpot::new(
        HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("pat-token"),
        })
        .build()
        .unwrap(),
    )
    .unwrap();
    t.reject(
        &open,
        "no secret configured",
        &delivery(&body, CURRENT, TS, TS),
        ErrorKind::Config,
        None,
    );
    assert_eq!((t.parsed.len(), t.rejected), (2, 2 + 3 + 4 + 6 + 2 + 1));
}

/// A typed outcome: parsed, or a kind a host dead-letters (never a panic).
fn settles(hs: &HubSpot, r: &WebhookRequest) -> Result<(), TestCaseError> {
    if let Err(err) = hs.parse_webhook(r) {
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
        let hs = &*ROTATING;
        settles(hs, &signed(&body))?;
        settles(hs, &delivery(&body, RETIRED, TS, TS))?;
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let hs = &*ROTATING;
        let mut body = bytes(&json!([event(1, 10), event(2, 11)]));
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        settles(hs, &signed(&body))?;
    }
}
