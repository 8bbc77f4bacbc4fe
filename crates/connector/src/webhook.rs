//! Inbound webhooks: the raw request a host's HTTP server received, and the thin
//! notifications a connector parses out of it.

use std::fmt;

use cartograph_model::{SourceRef, Timestamp};
use serde::{Deserialize, Serialize};

/// An inbound webhook request exactly as received.
///
/// Signatures are computed over the raw body and often the full URL, so hosts pass both
/// untouched (behind a proxy, rebuild the URL the vendor called from `X-Forwarded-*`).
/// `received_at` is the host's clock at arrival; connectors compare it with the vendor's
/// timestamp to reject stale deliveries.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRequest {
    /// HTTP method (`POST`).
    pub method: String,
    /// Full URL as the vendor called it, including scheme, host and query.
    pub url: String,
    /// Headers in arrival order.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// When the host received the request.
    pub received_at: Timestamp,
}

impl WebhookRequest {
    /// A POST request received now.
    pub fn post(url: impl Into<String>, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self {
            method: "POST".into(),
            url: url.into(),
            headers,
            body,
            received_at: Timestamp::now(),
        }
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for WebhookRequest {
    // Header values can carry shared secrets: print names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .field("received_at", &self.received_at)
            .finish()
    }
}

/// What a thin webhook says happened to its resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NotificationKind {
    /// Created.
    Created,
    /// Updated.
    Updated,
    /// Deleted.
    Deleted,
    /// Archived (soft-deleted).
    Archived,
    /// Order status changed, with the vendor's raw status ids.
    StatusChanged {
        /// Previous vendor status id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// New vendor status id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// An order was refunded.
    Refunded {
        /// The refund's id, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund_id: Option<String>,
    },
    /// A cart was abandoned.
    Abandoned {
        /// The vendor's abandoned-cart token, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// A cart became an order.
    Converted {
        /// The order id.
        order_id: String,
    },
    /// A topic the connector recognises but does not act on.
    Other,
}

/// One thin notification parsed from a webhook: which resource, what happened, and the key
/// to de-duplicate redeliveries. The full record is fetched later, by a worker, so intake
/// stays fast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookNotification {
    /// De-duplication key (BigCommerce `hash`, HubSpot `eventId`, ...), stable across
    /// redeliveries of the same event.
    pub id: String,
    /// The resource the event is about.
    pub source: SourceRef,
    /// The vendor's topic / scope (`store/order/statusUpdated`).
    pub topic: String,
    /// What happened.
    pub kind: NotificationKind,
    /// When it happened, by the vendor's clock.
    pub occurred_at: Timestamp,
}
