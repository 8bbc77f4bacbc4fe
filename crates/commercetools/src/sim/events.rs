//! Messages (the Messages API's log, with per-resource `sequenceNumber`s) and Subscription
//! delivery: `Platform` (or `CloudEvents`) payloads wrapped in the Google Cloud Pub/Sub push
//! envelope, POSTed to a local endpoint, at least once, unordered, retried with Pub/Sub's
//! push backoff (10 s doubling to 600 s, time-scaled) while the endpoint answers non-2xx.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::Shared;
use super::state::{Delivery, MESSAGE, State, Subscription, client_logging, reference};

/// A delivery waiting for the state lock to be released.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) subscription: Subscription,
    pub(crate) notification: String,
    pub(crate) payload: Value,
}

/// The identifiers a message repeats from its resource.
fn identifiers(resource: &Value) -> Value {
    let mut out = Map::new();
    for key in ["key", "externalId", "orderNumber", "customerNumber"] {
        if let Some(v) = resource.get(key).filter(|v| v.is_string()) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

impl State {
    /// Records a message about `resource` (already updated to its new version) and queues
    /// it for matching subscriptions.
    pub(crate) fn message(
        &mut self,
        type_id: &str,
        resource: &Value,
        kind: &str,
        payload: Value,
        client_id: &str,
    ) {
        let project_key = self.project_key.clone();
        let project_key = project_key.as_str();
        let payload_limit = self.payload_limit;
        let resource_id = resource
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let now = self.now();
        let sequence = self.next_sequence(&resource_id);
        let mut message = json!({
            "id": self.uuid(), "version": 1, "sequenceNumber": sequence,
            "resource": reference(type_id, &resource_id),
            "resourceVersion": resource.get("version").cloned().unwrap_or(Value::from(1)),
            "resourceUserProvidedIdentifiers": identifiers(resource),
            "type": kind, "createdAt": now, "lastModifiedAt": now,
            "createdBy": client_logging(client_id), "lastModifiedBy": client_logging(client_id),
        });
        if let (Some(target), Value::Object(more)) = (message.as_object_mut(), payload) {
            target.extend(more);
        }
        self.put(MESSAGE, message.clone());
        let id = message["id"].as_str().unwrap_or_default().to_owned();
        for sub in self.subscriptions.clone() {
            if !sub.messages.contains(type_id) {
                continue;
            }
            let mut platform = message.clone();
            platform["notificationType"] = Value::String("Message".to_owned());
            platform["projectKey"] = Value::String(project_key.to_owned());
            if platform.to_string().len() > payload_limit {
                platform = trimmed(&platform, kind);
            }
            let payload = if sub.cloud_events {
                cloud_event(project_key, &platform, kind)
            } else {
                platform
            };
            self.outbox.push(Outgoing {
                subscription: sub,
                notification: id.clone(),
                payload,
            });
        }
    }

    /// Queues `ResourceCreated` / `ResourceUpdated` / `ResourceDeleted` notifications of
    /// change subscriptions on `type_id`.
    pub(crate) fn change(&mut self, type_id: &str, resource: &Value, kind: &str) {
        let project_key = self.project_key.clone();
        let project_key = project_key.as_str();
        let id = resource
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let version = resource.get("version").cloned().unwrap_or(Value::from(1));
        let now = self.now();
        let payload = json!({
            "notificationType": kind, "projectKey": project_key,
            "resource": reference(type_id, id),
            "resourceUserProvidedIdentifiers": identifiers(resource),
            "version": version, "modifiedAt": now,
        });
        let notification = format!("{type_id}:{id}:{version}");
        for sub in self.subscriptions.clone() {
            if sub.changes.contains(type_id) {
                let payload = if sub.cloud_events {
                    cloud_event(project_key, &payload, kind)
                } else {
                    payload.clone()
                };
                self.outbox.push(Outgoing {
                    subscription: sub,
                    notification: notification.clone(),
                    payload,
                });
            }
        }
    }
}

/// A Platform message payload too large for the destination: the message-specific fields
/// are left out and `payloadNotIncluded` says why.
fn trimmed(platform: &Value, kind: &str) -> Value {
    let mut out = Map::new();
    for key in [
        "notificationType",
        "projectKey",
        "id",
        "version",
        "sequenceNumber",
        "resource",
        "resourceVersion",
        "resourceUserProvidedIdentifiers",
        "type",
        "createdAt",
        "lastModifiedAt",
        "createdBy",
        "lastModifiedBy",
    ] {
        if let Some(v) = platform.get(key) {
            out.insert(key.to_owned(), v.clone());
        }
    }
    out.insert(
        "payloadNotIncluded".to_owned(),
        json!({"reason": "Payload too large for the destination.", "payloadType": kind}),
    );
    Value::Object(out)
}

fn cloud_event(project_key: &str, platform: &Value, kind: &str) -> Value {
    let type_id = platform
        .pointer("/resource/typeId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let id = platform
        .pointer("/resource/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event_id = platform
        .get("id")
        .and_then(Value::as_str)
        .map_or_else(|| format!("{type_id}:{id}:{kind}"), str::to_owned);
    let message = platform.get("notificationType").and_then(Value::as_str) == Some("Message");
    let (category, dataref) = if message {
        ("message", format!("/{project_key}/messages/{event_id}"))
    } else {
        ("change", format!("/{project_key}/{type_id}s/{id}"))
    };
    json!({
        "specversion": "1.0", "id": event_id,
        "type": format!("com.commercetools.{type_id}.{category}.{kind}"),
        "source": format!("/{project_key}/{type_id}s"), "subject": id,
        "time": platform.get("createdAt").or_else(|| platform.get("modifiedAt")).cloned(),
        "sequence": platform.get("sequenceNumber").map(ToString::to_string),
        "sequencetype": "Integer", "dataref": dataref,
        "data": platform,
    })
}

/// The Google Cloud Pub/Sub push envelope of one payload.
pub(crate) fn pubsub_envelope(
    sub: &Subscription,
    notification: &str,
    payload: &Value,
    at: &str,
) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(payload.to_string());
    json!({
        "message": {
            "attributes": {"contentType": "application/json"},
            "data": data, "messageId": notification, "message_id": notification,
            "publishTime": at, "publish_time": at,
        },
        "subscription": format!("projects/sim-project/subscriptions/{}", sub.id),
    })
}

/// Sends everything queued in the outbox (call after releasing the state lock).
pub(crate) fn flush(sh: &Arc<Shared>) {
    let outgoing = std::mem::take(&mut sh.state().outbox);
    for item in outgoing {
        let sh = Arc::clone(sh);
        tokio::spawn(async move { deliver(sh, item).await });
    }
}

async fn deliver(sh: Arc<Shared>, item: Outgoing) {
    let mut wait = Duration::from_secs(10);
    for attempt in 1..=sh.config.delivery_attempts.max(1) {
        let at = sh.state().now();
        let body = pubsub_envelope(&item.subscription, &item.notification, &item.payload, &at);
        let status = sh
            .http
            .post(&item.subscription.endpoint)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        sh.state().deliveries.push(Delivery {
            subscription_id: item.subscription.id.clone(),
            notification: item.notification.clone(),
            attempt,
            status,
        });
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        tokio::time::sleep(sh.config.time_scale.real(wait)).await;
        wait = (wait * 2).min(Duration::from_secs(600));
    }
}
