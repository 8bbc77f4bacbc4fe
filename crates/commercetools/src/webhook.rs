//! Subscription deliveries -> [`WebhookNotification`]s.
//!
//! commercetools never calls an HTTPS webhook: Subscriptions publish to a queue. A queue
//! consumer (or a Google Pub/Sub push subscription) hands the delivery to Cartograph's
//! intake, and [`parse_delivery`] accepts every shape that arrives there:
//!
//! * the **Platform** format payload (`notificationType` `Message`, `ResourceCreated`,
//!   `ResourceUpdated`, `ResourceDeleted`);
//! * the **CloudEvents** format (`specversion`, payload in `data`);
//! * envelopes: **Google Pub/Sub push** (`message.data` base64), **SQS** (`Records[].body`
//!   or `Body`), **SNS** (`Type: Notification`, `Message`), **EventBridge** (`detail`), and
//!   plain JSON arrays of any of these.
//!
//! A payload with `payloadNotIncluded` still names its resource, so hydration fetches it.
//! Messages are de-duplicated on their resource and `sequenceNumber` (unique per message of
//! a resource), ordered per resource by `sequenceNumber`, and a message created by
//! `own_client_id` (our own write) is dropped (loop guard).

use std::collections::HashSet;

use base64::Engine as _;
use cartograph_connector::{Error, ErrorKind, NotificationKind, Result, WebhookNotification};
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use serde_json::Value;

/// Parses a delivery body into notifications.
///
/// # Errors
/// [`ErrorKind::Invalid`] for a body that is not JSON or not a recognised delivery.
pub fn parse_delivery(
    system: &str,
    own_client_id: Option<&str>,
    body: &[u8],
) -> Result<Vec<WebhookNotification>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("delivery is not JSON: {e}")))?;
    let mut payloads = Vec::new();
    unwrap_envelopes(value, &mut payloads, 0)?;
    let mut seen = HashSet::new();
    let mut out: Vec<(Option<i64>, WebhookNotification)> = Vec::new();
    for payload in payloads {
        if let Some(own) = own_client_id
            && created_by(&payload) == Some(own)
        {
            continue;
        }
        let sequence = payload.get("sequenceNumber").and_then(Value::as_i64);
        for n in notifications(system, &payload)? {
            if seen.insert(n.id.clone()) {
                out.push((sequence, n));
            }
        }
    }
    out.sort_by(|(sa, a), (sb, b)| {
        (a.source.kind.as_str(), &a.source.id, *sa).cmp(&(
            b.source.kind.as_str(),
            &b.source.id,
            *sb,
        ))
    });
    Ok(out.into_iter().map(|(_, n)| n).collect())
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid, message.into()).with_connector("commercetools")
}

fn created_by(payload: &Value) -> Option<&str> {
    payload
        .get("createdBy")
        .or_else(|| payload.get("lastModifiedBy"))
        .and_then(|c| c.get("clientId"))
        .and_then(Value::as_str)
}

fn json_string(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| invalid(format!("envelope body is not JSON: {e}")))
}

fn unwrap_envelopes(value: Value, out: &mut Vec<Value>, depth: u8) -> Result<()> {
    if depth > 4 {
        return Err(invalid("delivery envelopes nested too deeply"));
    }
    match value {
        Value::Array(items) => {
            for item in items {
                unwrap_envelopes(item, out, depth + 1)?;
            }
            Ok(())
        }
        Value::Object(ref map) => {
            if map.contains_key("notificationType") {
                out.push(value);
                return Ok(());
            }
            if map.contains_key("specversion") {
                let data = map
                    .get("data")
                    .cloned()
                    .ok_or_else(|| invalid("CloudEvent without data"))?;
                return unwrap_envelopes(data, out, depth + 1);
            }
            if let Some(message) = map.get("message").and_then(Value::as_object) {
                // Google Pub/Sub push.
                let data = message
                    .get("data")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("Pub/Sub message without data"))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| invalid(format!("Pub/Sub data is not base64: {e}")))?;
                let inner: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| invalid(format!("Pub/Sub data is not JSON: {e}")))?;
                return unwrap_envelopes(inner, out, depth + 1);
            }
            if let Some(records) = map.get("Records").and_then(Value::as_array) {
                // SQS (Lambda event source shape).
                for record in records {
                    let body = record
                        .get("body")
                        .and_then(Value::as_str)
                        .ok_or_else(|| invalid("SQS record without body"))?;
                    unwrap_envelopes(json_string(body)?, out, depth + 1)?;
                }
                return Ok(());
            }
            if let Some(body) = map.get("Body").and_then(Value::as_str) {
                return unwrap_envelopes(json_string(body)?, out, depth + 1);
            }
            if map.get("Type").and_then(Value::as_str) == Some("Notification") {
                let message = map
                    .get("Message")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("SNS notification without Message"))?;
                return unwrap_envelopes(json_string(message)?, out, depth + 1);
            }
            if let Some(detail) = map.get("detail") {
                // EventBridge.
                return unwrap_envelopes(detail.clone(), out, depth + 1);
            }
            Err(invalid("not a commercetools subscription delivery"))
        }
        _ => Err(invalid("not a commercetools subscription delivery")),
    }
}

fn record_kind(type_id: &str) -> Option<RecordKind> {
    Some(match type_id {
        "customer" => RecordKind::Customer,
        "order" => RecordKind::Order,
        "cart" => RecordKind::Cart,
        "product" => RecordKind::Product,
        "category" => RecordKind::Category,
        "customer-group" => RecordKind::CustomerGroup,
        _ => return None,
    })
}

fn str_field<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).and_then(Value::as_str)
}

/// The notifications of one Platform-format payload (none for resource types Cartograph
/// does not sync, e.g. `payment`, `subscription` test messages).
///
/// # Errors
/// [`ErrorKind::Invalid`] naming the missing or bad field.
pub fn notifications(system: &str, payload: &Value) -> Result<Vec<WebhookNotification>> {
    let kind_name = str_field(payload, "notificationType").ok_or_else(|| {
        invalid("payload without notificationType").with_field("notificationType")
    })?;
    if kind_name == "Event" {
        // Event subscriptions (Import API, Checkout) concern no synced resource.
        tracing::debug!(event = ?str_field(payload, "type"), "ignoring commercetools Event notification");
        return Ok(Vec::new());
    }
    let resource = payload
        .get("resource")
        .ok_or_else(|| invalid("payload without resource").with_field("resource"))?;
    let type_id = str_field(resource, "typeId")
        .ok_or_else(|| invalid("resource without typeId").with_field("resource.typeId"))?;
    let id = str_field(resource, "id")
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| invalid("resource without id").with_field("resource.id"))?;
    let Some(record) = record_kind(type_id) else {
        return Ok(Vec::new());
    };
    let time_text = str_field(payload, "createdAt")
        .or_else(|| str_field(payload, "modifiedAt"))
        .or_else(|| str_field(payload, "lastModifiedAt"))
        .ok_or_else(|| invalid("payload without a time").with_field("createdAt"))?;
    let occurred_at = Timestamp::parse_rfc3339(time_text)
        .map_err(|e| invalid(format!("bad payload time: {e}")).with_field("createdAt"))?;
    let source = SourceRef::new(system.to_owned(), record, id.to_owned());
    let mut out = Vec::new();
    match kind_name {
        "Message" => {
            // A blank message id is refused (the payload is not what the spec describes),
            // but the dedupe key is the resource and its `sequenceNumber`, which the
            // spec makes unique per message of a resource: a redelivery has the same
            // pair, and two messages never do, even with a reused or colliding id (two
            // projects feeding one destination, a replayed test fixture).
            str_field(payload, "id")
                .filter(|id| !id.trim().is_empty())
                .ok_or_else(|| invalid("message without id").with_field("id"))?;
            let sequence = payload
                .get("sequenceNumber")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    invalid("message without an integer sequenceNumber")
                        .with_field("sequenceNumber")
                })?;
            let message_id = format!("{type_id}:{id}:{sequence}:Message");
            let message_type = str_field(payload, "type").unwrap_or("Message");
            let kind = message_kind(record, message_type, payload);
            if message_type == "OrderCreated"
                && let Some(cart_id) = payload.pointer("/order/cart/id").and_then(Value::as_str)
            {
                out.push(WebhookNotification {
                    id: format!("{message_id}:cart"),
                    source: SourceRef::new(system.to_owned(), RecordKind::Cart, cart_id.to_owned()),
                    topic: "OrderCreated".to_owned(),
                    kind: NotificationKind::Converted {
                        order_id: id.to_owned(),
                    },
                    occurred_at,
                });
            }
            out.push(WebhookNotification {
                id: message_id,
                source,
                topic: message_type.to_owned(),
                kind,
                occurred_at,
            });
        }
        "ResourceCreated" | "ResourceUpdated" | "ResourceDeleted" => {
            // The version is part of the dedupe key: a missing or mistyped one would make
            // every change of the resource one key (all but the first dropped).
            let version = payload
                .get("version")
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    invalid("change without an integer version").with_field("version")
                })?;
            let kind = match kind_name {
                "ResourceCreated" => NotificationKind::Created,
                "ResourceDeleted" => NotificationKind::Deleted,
                _ => NotificationKind::Updated,
            };
            out.push(WebhookNotification {
                id: format!("{type_id}:{id}:{version}:{kind_name}"),
                source,
                topic: kind_name.to_owned(),
                kind,
                occurred_at,
            });
        }
        other => {
            return Err(invalid(format!("unknown notificationType {other:?}"))
                .with_field("notificationType"));
        }
    }
    Ok(out)
}

fn message_kind(record: RecordKind, message_type: &str, payload: &Value) -> NotificationKind {
    if message_type.ends_with("Created") && !message_type.contains("Address") {
        return NotificationKind::Created;
    }
    if message_type.ends_with("Deleted") && !message_type.contains("Address") {
        return NotificationKind::Deleted;
    }
    match (record, message_type) {
        (RecordKind::Order, "OrderStateChanged") => NotificationKind::StatusChanged {
            from: str_field(payload, "oldOrderState").map(str::to_owned),
            to: str_field(payload, "orderState").map(str::to_owned),
        },
        // Shipping moves the canonical status (Shipped, Delivered, ...); the raw shipment
        // states are not order states, so `from` stays unknown and hydration reads `to`.
        (RecordKind::Order, "OrderShipmentStateChanged") => NotificationKind::StatusChanged {
            from: None,
            to: str_field(payload, "shipmentState").map(str::to_owned),
        },
        // Refunds live on the order's payments (which do not name their order); the return
        // recorded on the order is what ties a refund to it. Hydration reads the order's
        // payments and takes the newest refund.
        (RecordKind::Order, "ReturnInfoAdded") => NotificationKind::Refunded { refund_id: None },
        _ => NotificationKind::Updated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(id: &str, seq: i64, kind: &str) -> Value {
        json!({"notificationType": "Message", "projectKey": "p", "id": id, "version": 1,
               "sequenceNumber": seq, "resource": {"typeId": "order", "id": "o-1"},
               "resourceVersion": seq, "type": kind, "orderState": "Cancelled",
               "oldOrderState": "Open",
               "createdAt": "2026-01-01T00:00:00.000Z", "lastModifiedAt": "2026-01-01T00:00:00.000Z"})
    }

    #[test]
    fn platform_message_becomes_a_status_change() {
        let body = serde_json::to_vec(&message("m1", 2, "OrderStateChanged")).expect("json");
        let n = parse_delivery("commercetools", None, &body).expect("parses");
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].id, "order:o-1:2:Message");
        assert_eq!(n[0].source.kind, RecordKind::Order);
        assert_eq!(
            n[0].kind,
            NotificationKind::StatusChanged {
                from: Some("Open".into()),
                to: Some("Cancelled".into())
            }
        );
    }

    #[test]
    fn pubsub_push_envelope_is_decoded() {
        let inner = serde_json::to_vec(&message("m1", 1, "OrderCreated")).expect("json");
        let data = base64::engine::general_purpose::STANDARD.encode(inner);
        let body = serde_json::to_vec(&json!({"message": {"data": data, "messageId": "x"},
            "subscription": "projects/p/subscriptions/s"}))
        .expect("json");
        let n = parse_delivery("commercetools", None, &body).expect("parses");
        assert_eq!(n[0].kind, NotificationKind::Created);
    }

    #[test]
    fn sqs_sns_and_eventbridge_envelopes_are_unwrapped() {
        let inner = message("m1", 1, "OrderPaymentStateChanged").to_string();
        let sqs = json!({"Records": [{"body": inner, "messageId": "q"}]});
        let sns = json!({"Type": "Notification", "MessageId": "s", "Message": inner});
        let eb = json!({"version": "0", "detail-type": "x", "detail": message("m1", 1, "X")});
        for body in [sqs, sns, eb] {
            let n =
                parse_delivery("commercetools", None, body.to_string().as_bytes()).expect("parses");
            assert_eq!(n.len(), 1, "{body}");
            assert_eq!(n[0].kind, NotificationKind::Updated);
        }
    }

    #[test]
    fn duplicates_are_dropped_and_messages_ordered_by_sequence_number() {
        let body = serde_json::to_vec(&json!([
            message("m3", 3, "OrderStateChanged"),
            message("m1", 1, "OrderCreated"),
            message("m3", 3, "OrderStateChanged")
        ]))
        .expect("json");
        let n = parse_delivery("commercetools", None, &body).expect("parses");
        assert_eq!(
            n.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(),
            ["order:o-1:1:Message", "order:o-1:3:Message"]
        );
    }

    #[test]
    fn the_dedupe_key_is_resource_and_sequence_number_not_the_message_id() {
        // Two messages sharing an id (two projects into one destination, a reused id) on
        // different resources or sequence numbers are two events; a redelivery of one
        // message in another envelope is the same key.
        let mut other_resource = message("m1", 1, "OrderStateChanged");
        other_resource["resource"] = json!({"typeId": "order", "id": "o-2"});
        let body = serde_json::to_vec(&json!([
            message("m1", 1, "OrderCreated"),
            message("m1", 2, "OrderStateChanged"),
            other_resource
        ]))
        .expect("json");
        let keys: HashSet<String> = parse_delivery("commercetools", None, &body)
            .expect("parses")
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");

        let plain = serde_json::to_vec(&message("m1", 2, "OrderStateChanged")).expect("json");
        let sqs = json!({"Records": [{"body": message("m1", 2, "OrderStateChanged").to_string()}]});
        let again = parse_delivery("commercetools", None, sqs.to_string().as_bytes()).expect("sqs");
        let first = parse_delivery("commercetools", None, &plain).expect("plain");
        assert_eq!(first[0].id, again[0].id);
    }

    #[test]
    fn a_message_without_an_integer_sequence_number_is_refused_naming_it() {
        for value in [Value::Null, json!("3"), json!(1.5)] {
            let mut m = message("m1", 1, "OrderStateChanged");
            m["sequenceNumber"] = value;
            let err = parse_delivery("commercetools", None, m.to_string().as_bytes())
                .expect_err("no sequence number");
            assert_eq!(err.kind(), ErrorKind::Invalid);
            assert_eq!(err.field(), Some("sequenceNumber"));
        }
    }

    #[test]
    fn own_writes_are_dropped_by_client_id() {
        let mut m = message("m1", 1, "CustomerFirstNameSet");
        m["createdBy"] = json!({"clientId": "our-client"});
        let body = serde_json::to_vec(&m).expect("json");
        assert!(
            parse_delivery("commercetools", Some("our-client"), &body)
                .expect("parses")
                .is_empty()
        );
        assert_eq!(
            parse_delivery("commercetools", Some("other"), &body)
                .expect("parses")
                .len(),
            1
        );
    }

    #[test]
    fn order_created_from_a_cart_also_converts_the_cart() {
        let mut m = message("m1", 1, "OrderCreated");
        m["order"] = json!({"id": "o-1", "cart": {"typeId": "cart", "id": "cart-9"}});
        let n = parse_delivery(
            "commercetools",
            None,
            &serde_json::to_vec(&m).expect("json"),
        )
        .expect("parses");
        assert!(n.iter().any(|n| n.source.kind == RecordKind::Cart
            && n.kind
                == NotificationKind::Converted {
                    order_id: "o-1".into()
                }));
    }

    #[test]
    fn event_notifications_and_unsynced_resource_types_give_nothing() {
        let event = json!({"id": "e", "notificationType": "Event", "type": "ImportContainerCreated",
            "resourceType": "import-api", "data": {}, "createdAt": "2025-03-26T17:28:20.397Z"});
        assert!(
            parse_delivery("ct", None, event.to_string().as_bytes())
                .expect("ok")
                .is_empty()
        );
        let mut payment = message("m1", 1, "PaymentTransactionAdded");
        payment["resource"] = json!({"typeId": "payment", "id": "pay-1"});
        assert!(
            parse_delivery("ct", None, payment.to_string().as_bytes())
                .expect("ok")
                .is_empty()
        );
    }

    #[test]
    fn shipment_changes_and_returns_become_status_changes_and_refunds() {
        let mut shipped = message("m1", 2, "OrderShipmentStateChanged");
        shipped["shipmentState"] = json!("Shipped");
        let n = parse_delivery("ct", None, shipped.to_string().as_bytes()).expect("parses");
        assert_eq!(
            n[0].kind,
            NotificationKind::StatusChanged {
                from: None,
                to: Some("Shipped".into())
            }
        );
        let returned = message("m2", 3, "ReturnInfoAdded");
        let n = parse_delivery("ct", None, returned.to_string().as_bytes()).expect("parses");
        assert_eq!(n[0].kind, NotificationKind::Refunded { refund_id: None });
    }

    #[test]
    fn garbage_is_an_invalid_error() {
        let err = parse_delivery("commercetools", None, b"{\"hello\":1}").expect_err("bad");
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(parse_delivery("commercetools", None, b"nope").is_err());
    }
}
