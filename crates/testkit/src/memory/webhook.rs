//! The webhook shape of [`MemoryCommerce`](super::MemoryCommerce).

use cartograph_connector::{
    Error, ErrorKind, NotificationKind, Result, WebhookNotification, WebhookRequest,
};
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use serde::{Deserialize, Serialize};

use super::commerce::MemoryCommerce;

/// The header that carries the shared secret when one is configured.
pub const SECRET_HEADER: &str = "x-memory-webhook-secret";

/// One event in a [`MemoryCommerce`] webhook.
///
/// The body is `{"events": [...]}` with events like
///
/// ```json
/// {"id": "evt-1", "resource": "order", "resource_id": "ORD-00001",
///  "action": "status_changed", "from": "pending", "to": "shipped",
///  "occurred_at": "2024-01-01T00:00:00Z"}
/// ```
///
/// `resource` is a `RecordKind` name (`customer`, `order`, `cart`, `product`, ...); `action` and
/// its extra fields are a `NotificationKind` (`created`, `updated`, `deleted`, `archived`,
/// `status_changed` with `from`/`to`, `refunded` with `refund_id`, `abandoned` with `token`,
/// `converted` with `order_id`, `other`). When the platform has a webhook secret, the request must carry it in
/// the [`SECRET_HEADER`] header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryWebhookEvent {
    /// Delivery id (the de-duplication key).
    pub id: String,
    /// The kind of record.
    pub resource: RecordKind,
    /// The record's id.
    pub resource_id: String,
    /// What happened.
    #[serde(flatten)]
    pub action: NotificationKind,
    /// When it happened.
    pub occurred_at: Timestamp,
}

impl MemoryWebhookEvent {
    /// An event.
    pub fn new(
        id: impl Into<String>,
        resource: RecordKind,
        resource_id: impl Into<String>,
        action: NotificationKind,
        occurred_at: Timestamp,
    ) -> Self {
        Self {
            id: id.into(),
            resource,
            resource_id: resource_id.into(),
            action,
            occurred_at,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Body {
    events: Vec<MemoryWebhookEvent>,
}

impl MemoryCommerce {
    /// The webhook request this platform would send for `events` (with its secret header, if
    /// it has one).
    pub fn webhook_request(&self, events: &[MemoryWebhookEvent]) -> WebhookRequest {
        let body = serde_json::to_vec(&Body {
            events: events.to_vec(),
        })
        .unwrap_or_default();
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(secret) = &self.shared.webhook_secret {
            headers.push((SECRET_HEADER.to_owned(), secret.clone()));
        }
        WebhookRequest::post("https://hooks.example/memory", headers, body)
    }
}

fn action_name(kind: &NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Created => "created",
        NotificationKind::Updated => "updated",
        NotificationKind::Deleted => "deleted",
        NotificationKind::Archived => "archived",
        NotificationKind::StatusChanged { .. } => "status_changed",
        NotificationKind::Refunded { .. } => "refunded",
        NotificationKind::Abandoned { .. } => "abandoned",
        NotificationKind::Converted { .. } => "converted",
        NotificationKind::Other => "other",
    }
}

/// Verifies and parses a webhook body.
pub(crate) fn parse(
    connector: &str,
    secret: Option<&str>,
    request: &WebhookRequest,
) -> Result<Vec<WebhookNotification>> {
    let err = |kind, message: String| {
        Error::new(kind, message)
            .with_connector(connector.to_owned())
            .with_operation("parse_webhook")
    };
    if let Some(secret) = secret
        && request.header(SECRET_HEADER) != Some(secret)
    {
        return Err(err(
            ErrorKind::Signature,
            "missing or wrong webhook secret".to_owned(),
        ));
    }
    let body: Body = serde_json::from_slice(&request.body)
        .map_err(|e| err(ErrorKind::Decode, format!("webhook body: {e}")))?;
    body.events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            if e.resource_id.trim().is_empty() {
                return Err(err(ErrorKind::Decode, "empty resource id".to_owned())
                    .with_field(format!("events[{i}].resource_id")));
            }
            Ok(WebhookNotification {
                topic: format!("{}/{}", e.resource.as_str(), action_name(&e.action)),
                id: e.id,
                source: SourceRef::new(connector.to_owned(), e.resource, e.resource_id),
                kind: e.action,
                occurred_at: e.occurred_at,
            })
        })
        .collect()
}
