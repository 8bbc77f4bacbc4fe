//! Inbound webhooks: verification (custom-header secret and Standard Webhooks signature) and
//! parsing the thin payload into [`WebhookNotification`]s. Pure: no I/O.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use cartograph_connector::{
    Error, ErrorKind, NotificationKind, Result, WebhookNotification, WebhookRequest,
};
use cartograph_http::Secret;
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::config::WebhookConfig;
use crate::wire::{WebhookData, WebhookPayload};

/// Standard Webhooks message id header.
pub const H_WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks timestamp header (unix seconds).
pub const H_WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks signature header (`v1,<base64>`, space-separated when several).
pub const H_WEBHOOK_SIGNATURE: &str = "webhook-signature";

fn sig_error(message: &str) -> Error {
    Error::new(ErrorKind::Signature, message.to_owned())
        .with_connector("bigcommerce")
        .with_operation("parse_webhook")
}

/// The HMAC key of a Standard Webhooks secret: base64, optionally prefixed `whsec_`.
pub fn decode_signing_secret(secret: &Secret) -> Option<Vec<u8>> {
    let text = secret.expose().trim();
    let text = text.strip_prefix("whsec_").unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .ok()
        .filter(|k| !k.is_empty())
}

/// The Standard Webhooks signature of a delivery: `v1,` + base64(HMAC-SHA256(key,
/// `{id}.{timestamp}.{body}`)).
///
/// ```
/// use cartograph_bigcommerce::webhook::sign;
///
/// let sig = sign(b"key", "msg_1", 1_700_000_000, br#"{"a":1}"#);
/// assert!(sig.starts_with("v1,"));
/// ```
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(hmac(key, id, timestamp, body)))
}

fn hmac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; the error arm cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Verifies a delivery against `config`, using `request.received_at` as "now".
///
/// * With header secrets configured, the custom header must carry one of them.
/// * With signing secrets configured, a `webhook-signature` is checked: any `v1,` entry may
///   match any secret (key rotation); the timestamp must be within the tolerance. Without
///   the headers the delivery passes only if signatures are not required.
///
/// # Errors
/// [`ErrorKind::Signature`] for a missing, wrong or stale secret or signature;
/// [`ErrorKind::Config`] when no secret is configured at all.
pub fn verify(request: &WebhookRequest, config: &WebhookConfig) -> Result<()> {
    if config.header_secrets.is_empty() && config.signing_secrets.is_empty() {
        return Err(Error::new(
            ErrorKind::Config,
            "no webhook secret configured: refusing unauthenticated deliveries",
        )
        .with_connector("bigcommerce")
        .with_operation("parse_webhook"));
    }
    if !config.header_secrets.is_empty() {
        let given = request
            .header(&config.secret_header)
            .ok_or_else(|| sig_error("webhook secret header missing"))?;
        let ok = config.header_secrets.iter().fold(false, |acc, s| {
            acc | bool::from(s.expose().as_bytes().ct_eq(given.trim().as_bytes()))
        });
        if !ok {
            return Err(sig_error("webhook secret header does not match"));
        }
    }
    let signature = request.header(H_WEBHOOK_SIGNATURE);
    if config.signing_secrets.is_empty() {
        return Ok(());
    }
    let Some(signature) = signature else {
        return if config.require_signature || config.header_secrets.is_empty() {
            Err(sig_error("webhook signature missing"))
        } else {
            Ok(())
        };
    };
    let id = request
        .header(H_WEBHOOK_ID)
        .ok_or_else(|| sig_error("webhook-id header missing"))?;
    let timestamp: i64 = request
        .header(H_WEBHOOK_TIMESTAMP)
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| sig_error("webhook-timestamp header missing or not a number"))?;
    let now = request.received_at.unix_seconds();
    let tolerance = i64::try_from(config.tolerance_secs).unwrap_or(i64::MAX);
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(sig_error(
            "webhook timestamp outside the tolerance (stale or replayed)",
        ));
    }
    let mut matched = false;
    for secret in &config.signing_secrets {
        let Some(key) = decode_signing_secret(secret) else {
            continue;
        };
        let expected = hmac(&key, id, timestamp, &request.body);
        for candidate in signature.split_whitespace() {
            let Some(encoded) = candidate.strip_prefix("v1,") else {
                continue;
            };
            let Ok(given) = STANDARD.decode(encoded.trim()) else {
                continue;
            };
            matched |= bool::from(expected.ct_eq(&given));
        }
    }
    if matched {
        Ok(())
    } else {
        Err(sig_error("webhook signature does not match"))
    }
}

/// Parses a verified body into its notification (one per delivery).
///
/// # Errors
/// [`ErrorKind::Decode`] naming the JSON path for a malformed body or id.
pub fn parse_body(system: &str, body: &[u8]) -> Result<Vec<WebhookNotification>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let payload: WebhookPayload = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::new(
            ErrorKind::Decode,
            format!("webhook body at {path}: {}", e.inner()),
        )
        .with_connector("bigcommerce")
        .with_operation("parse_webhook")
        .with_field(path)
    })?;
    notification(system, &payload).map(|n| vec![n])
}

/// An integer id (orders, customers, products, refunds, subscribers are integers in
/// BigCommerce), sent as a JSON number or a string of digits.
fn id_text(value: &serde_json::Value, field: &str) -> Result<String> {
    match value {
        serde_json::Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        // Digits only (no sign), and within u64: a longer run names no record and would
        // complete with no write.
        serde_json::Value::String(s)
            if s.trim().bytes().all(|b| b.is_ascii_digit()) && s.trim().parse::<u64>().is_ok() =>
        {
            Ok(s.trim().to_owned())
        }
        _ => Err(
            Error::new(ErrorKind::Decode, "webhook id is not a positive integer")
                .with_connector("bigcommerce")
                .with_operation("parse_webhook")
                .with_field(field.to_owned()),
        ),
    }
}

/// A token id (carts are UUIDs): letters, digits, `-` and `_` only, at most 64 of them, so
/// it can never name another resource when placed in a path.
fn token_text(value: &serde_json::Value, field: &str) -> Result<String> {
    let text = match value {
        serde_json::Value::String(s) => s.trim(),
        _ => "",
    };
    if text.is_empty()
        || text.len() > 64
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::new(
            ErrorKind::Decode,
            "webhook cart id is not a token of letters, digits, '-' and '_'",
        )
        .with_connector("bigcommerce")
        .with_operation("parse_webhook")
        .with_field(field.to_owned()));
    }
    Ok(text.to_owned())
}

fn owner_id(owner: Option<u64>, field: &str) -> Result<String> {
    owner.map(|id| id.to_string()).ok_or_else(|| {
        Error::new(ErrorKind::Decode, "webhook payload lacks the owning record")
            .with_connector("bigcommerce")
            .with_operation("parse_webhook")
            .with_field(field.to_owned())
    })
}

/// Maps one payload to a notification: resource kind and id, and what happened.
///
/// # Errors
/// [`ErrorKind::Decode`] when the id (or the owning record's id) is missing or malformed,
/// or the resource type is unknown.
pub fn notification(system: &str, p: &WebhookPayload) -> Result<WebhookNotification> {
    let d: &WebhookData = &p.data;
    let scope = p.scope.as_str();
    let parts: Vec<&str> = scope.split('/').collect();
    let action = parts.last().copied().unwrap_or_default();
    let simple = |kind: RecordKind| -> Result<(RecordKind, String, NotificationKind)> {
        let what = match action {
            "created" => NotificationKind::Created,
            "updated" => NotificationKind::Updated,
            "deleted" => NotificationKind::Deleted,
            "archived" => NotificationKind::Archived,
            _ => NotificationKind::Other,
        };
        let id = if kind == RecordKind::Cart {
            token_text(&d.id, "data.id")?
        } else {
            id_text(&d.id, "data.id")?
        };
        Ok((kind, id, what))
    };
    let (kind, id, what) = match parts.get(1..).unwrap_or_default() {
        ["order", "statusUpdated"] => (
            RecordKind::Order,
            id_text(&d.id, "data.id")?,
            NotificationKind::StatusChanged {
                from: d.status.as_ref().map(|s| s.previous_status_id.to_string()),
                to: d.status.as_ref().map(|s| s.new_status_id.to_string()),
            },
        ),
        ["order", "refund", "created"] => (
            RecordKind::Order,
            id_text(&d.id, "data.id")?,
            NotificationKind::Refunded {
                refund_id: d.refund.as_ref().map(|r| r.refund_id.to_string()),
            },
        ),
        ["order", "transaction", _] => (
            RecordKind::Order,
            id_text(&d.id, "data.id")?,
            NotificationKind::Updated,
        ),
        ["order", "created" | "updated" | "archived"] => simple(RecordKind::Order)?,
        ["order", ..] => (
            RecordKind::Order,
            id_text(&d.id, "data.id")?,
            NotificationKind::Other,
        ),
        ["customer", "address", _] => (
            RecordKind::Customer,
            owner_id(
                d.address.as_ref().and_then(|a| a.customer_id),
                "data.address.customer_id",
            )?,
            NotificationKind::Updated,
        ),
        ["customer", "channel", ..] => (
            RecordKind::Customer,
            id_text(&d.id, "data.id")?,
            NotificationKind::Updated,
        ),
        ["customer", "created" | "updated" | "deleted"] => simple(RecordKind::Customer)?,
        ["customer", ..] => (
            RecordKind::Customer,
            id_text(&d.id, "data.id")?,
            NotificationKind::Other,
        ),
        ["cart", "abandoned"] => (
            RecordKind::Cart,
            token_text(&d.id, "data.id")?,
            NotificationKind::Abandoned {
                token: d.token.clone(),
            },
        ),
        ["cart", "converted"] => (
            RecordKind::Cart,
            token_text(&d.id, "data.id")?,
            NotificationKind::Converted {
                order_id: id_text(
                    d.order_id.as_ref().unwrap_or(&serde_json::Value::Null),
                    "data.orderId",
                )?,
            },
        ),
        ["cart", "lineItem", _] => (
            RecordKind::Cart,
            token_text(
                &d.cart_id
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String),
                "data.cartId",
            )?,
            NotificationKind::Updated,
        ),
        ["cart", "couponApplied"] => (
            RecordKind::Cart,
            token_text(&d.id, "data.id")?,
            NotificationKind::Updated,
        ),
        ["cart", "created" | "updated" | "deleted"] => simple(RecordKind::Cart)?,
        ["cart", ..] => (
            RecordKind::Cart,
            token_text(&d.id, "data.id")?,
            NotificationKind::Other,
        ),
        ["product", "inventory", ..] => (
            RecordKind::Product,
            id_text(&d.id, "data.id")?,
            NotificationKind::Updated,
        ),
        ["product", "created" | "updated" | "deleted"] => simple(RecordKind::Product)?,
        ["product", ..] => (
            RecordKind::Product,
            id_text(&d.id, "data.id")?,
            NotificationKind::Other,
        ),
        ["sku", ..] => (
            RecordKind::Product,
            owner_id(
                d.sku
                    .as_ref()
                    .and_then(|s| s.product_id)
                    .or_else(|| d.inventory.as_ref().and_then(|i| i.product_id)),
                "data.sku.product_id",
            )?,
            NotificationKind::Updated,
        ),
        // Newsletter subscribers are not customers (their ids differ): recognised, not acted on.
        ["subscriber", ..] => (
            RecordKind::Contact,
            id_text(&d.id, "data.id")?,
            NotificationKind::Other,
        ),
        _ => {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("unknown webhook scope {scope:?}"),
            )
            .with_connector("bigcommerce")
            .with_operation("parse_webhook")
            .with_field("scope"));
        }
    };
    let occurred_at = Timestamp::from_unix_seconds(p.created_at).map_err(|e| {
        Error::new(ErrorKind::Decode, e.to_string())
            .with_connector("bigcommerce")
            .with_field("created_at")
    })?;
    // The hash is identical across redeliveries of one event, but it is not guaranteed unique
    // across events (and can arrive blank): the key carries the scope and the resource id too,
    // and a blank hash falls back to the event's creation time, so two events never collapse.
    let hash = p.hash.trim();
    let dedupe = if hash.is_empty() {
        format!("{scope}:{id}:{}", p.created_at)
    } else {
        format!("{hash}:{scope}:{id}")
    };
    Ok(WebhookNotification {
        id: dedupe,
        source: SourceRef::new(system, kind, id),
        topic: p.scope.clone(),
        kind: what,
        occurred_at,
    })
}

#[cfg(test)]
mod tests;
