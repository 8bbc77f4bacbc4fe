//! Webhook emission: thin signed payloads POSTed to matching hooks with BigCommerce's retry
//! schedule (time-scaled), hook deactivation after the last retry, the cart idle timer, and
//! the mutation helpers that emit.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use cartograph_http::Secret;
use cartograph_model::{Decimal, Money, OrderStatus, Timestamp};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::Shared;
use super::state::{Delivery, now};
use crate::map::{status_label, status_to_id};
use crate::webhook::{
    H_WEBHOOK_ID, H_WEBHOOK_SIGNATURE, H_WEBHOOK_TIMESTAMP, decode_signing_secret, sign,
};
use crate::wire::{self, WebhookData, WebhookPayload};

/// Seconds between delivery attempts after a failure (BigCommerce's documented schedule).
pub(crate) const RETRY_SCHEDULE_SECS: [u64; 11] = [
    60, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 50400, 86400,
];

pub(crate) fn register(
    sh: &Shared,
    scope: &str,
    destination: &str,
    headers: BTreeMap<String, String>,
) -> wire::Hook {
    let mut s = sh.state();
    let id = s.allocate();
    let at = Timestamp::now().unix_seconds();
    let hook = wire::Hook {
        id,
        client_id: Some("sim-client".into()),
        store_hash: Some(sh.config.store_hash.clone()),
        scope: scope.to_owned(),
        destination: destination.to_owned(),
        headers: (!headers.is_empty()).then_some(headers),
        is_active: true,
        created_at: at,
        updated_at: at,
    };
    s.hooks.insert(id, hook.clone());
    hook
}

fn matches(hook_scope: &str, scope: &str) -> bool {
    hook_scope == scope
        || hook_scope
            .strip_suffix('*')
            .is_some_and(|prefix| scope.starts_with(prefix))
}

fn data(kind: &str, id: Value) -> WebhookData {
    WebhookData {
        kind: kind.into(),
        id,
        status: None,
        refund: None,
        order_id: None,
        token: None,
        cart_id: None,
        address: None,
        sku: None,
        inventory: None,
    }
}

/// Emits one event to every active hook whose scope matches.
pub(crate) fn emit(sh: &Arc<Shared>, scope: &str, data: WebhookData) {
    let seq = sh.seq.fetch_add(1, Ordering::Relaxed);
    let digest = Sha256::digest(format!("{scope}|{}|{seq}", data.id).as_bytes());
    let hash = digest.iter().take(20).fold(String::new(), |mut out, b| {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
        out
    });
    let payload = WebhookPayload {
        scope: scope.to_owned(),
        store_id: sh.config.store_id.clone(),
        data,
        hash,
        created_at: Timestamp::now().unix_seconds(),
        producer: format!("stores/{}", sh.config.store_hash),
    };
    let Ok(body) = serde_json::to_vec(&payload) else {
        return;
    };
    let hooks: Vec<wire::Hook> = sh
        .state()
        .hooks
        .values()
        .filter(|h| h.is_active && matches(&h.scope, scope))
        .cloned()
        .collect();
    for hook in hooks {
        let sh = Arc::clone(sh);
        let body = body.clone();
        let hash = payload.hash.clone();
        let scope = scope.to_owned();
        tokio::spawn(async move { deliver(sh, hook, scope, hash, body).await });
    }
}

async fn deliver(sh: Arc<Shared>, hook: wire::Hook, scope: String, hash: String, body: Vec<u8>) {
    let key = sh
        .config
        .signing_secret
        .as_ref()
        .and_then(|s| decode_signing_secret(&Secret::new(s.clone())));
    let msg_id = format!("msg_{hash}");
    for attempt in 1..=u32::try_from(RETRY_SCHEDULE_SECS.len() + 1).unwrap_or(12) {
        let mut request = sh
            .http
            .post(&hook.destination)
            .header("content-type", "application/json");
        for (k, v) in hook.headers.iter().flatten() {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(key) = &key {
            let ts = Timestamp::now().unix_seconds();
            request = request
                .header(H_WEBHOOK_ID, msg_id.as_str())
                .header(H_WEBHOOK_TIMESTAMP, ts.to_string())
                .header(H_WEBHOOK_SIGNATURE, sign(key, &msg_id, ts, &body));
        }
        let status = request
            .body(body.clone())
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16());
        sh.state().deliveries.push(Delivery {
            hook_id: hook.id,
            scope: scope.clone(),
            hash: hash.clone(),
            attempt,
            status,
        });
        if status.is_some_and(|s| (200..300).contains(&s)) {
            return;
        }
        let Some(wait) = RETRY_SCHEDULE_SECS.get(attempt as usize - 1) else {
            break;
        };
        tokio::time::sleep(sh.config.scaled(Duration::from_secs(*wait))).await;
    }
    // Retries exhausted (about 48 h in store time): BigCommerce deactivates the hook.
    if let Some(h) = sh.state().hooks.get_mut(&hook.id) {
        h.is_active = false;
    }
}

pub(crate) fn order_event(sh: &Arc<Shared>, scope: &str, id: &str, extra: Option<WebhookData>) {
    let n: u64 = id.parse().unwrap_or_default();
    emit(
        sh,
        scope,
        extra.unwrap_or_else(|| data("order", Value::from(n))),
    );
}

pub(crate) fn cart_event(sh: &Arc<Shared>, scope: &str, id: &str, extra: Option<WebhookData>) {
    emit(
        sh,
        scope,
        extra.unwrap_or_else(|| data("cart", Value::from(id))),
    );
}

pub(crate) fn customer_event(sh: &Arc<Shared>, scope: &str, id: u64) {
    emit(sh, scope, data("customer", Value::from(id)));
}

pub(crate) fn set_status(sh: &Arc<Shared>, order_id: &str, status: OrderStatus) -> bool {
    let change = {
        let mut s = sh.state();
        let Some(rec) = order_id
            .parse::<u64>()
            .ok()
            .and_then(|id| s.orders.get_mut(&id))
        else {
            return false;
        };
        let previous = rec.order.status_id;
        let new = status_to_id(status);
        rec.order.status_id = new;
        status_label(new).clone_into(&mut rec.order.status);
        rec.order.date_modified = now().to_rfc2822();
        (previous, new)
    };
    let mut d = data(
        "order",
        Value::from(order_id.parse::<u64>().unwrap_or_default()),
    );
    d.status = Some(wire::WebhookStatus {
        previous_status_id: change.0,
        new_status_id: change.1,
    });
    order_event(sh, "store/order/statusUpdated", order_id, Some(d));
    true
}

pub(crate) fn refund(
    sh: &Arc<Shared>,
    order_id: &str,
    amount: Decimal,
    reason: &str,
) -> Option<String> {
    let refund_id = {
        let mut s = sh.state();
        let oid = order_id
            .parse::<u64>()
            .ok()
            .filter(|id| s.orders.contains_key(id))?;
        let id = s.allocate();
        let number: serde_json::Number =
            serde_json::from_str(&amount.normalize().to_string()).ok()?;
        s.refunds.insert(
            id,
            wire::Refund {
                id,
                order_id: oid,
                user_id: Some(1),
                created: now().to_rfc3339(),
                reason: Some(reason.to_owned()),
                total_amount: number.clone(),
                total_tax: None,
                uses_merchant_override_values: false,
                items: vec![wire::RefundItem {
                    item_type: "ORDER".into(),
                    item_id: oid,
                    reason: None,
                    quantity: None,
                    requested_amount: Some(number.clone()),
                }],
                payments: vec![wire::RefundPayment {
                    id: 1,
                    provider_id: "storecredit".into(),
                    amount: number,
                    offline: true,
                    is_declined: false,
                }],
            },
        );
        if let Some(rec) = s.orders.get_mut(&oid) {
            rec.order.date_modified = now().to_rfc2822();
        }
        id
    };
    let mut d = data(
        "order",
        Value::from(order_id.parse::<u64>().unwrap_or_default()),
    );
    d.refund = Some(wire::WebhookRefund { refund_id });
    order_event(sh, "store/order/refund/created", order_id, Some(d));
    Some(refund_id.to_string())
}

pub(crate) fn convert(sh: &Arc<Shared>, cart_id: &str) -> Option<String> {
    let order_id = {
        let mut s = sh.state();
        let rec = s.carts.remove(cart_id)?;
        let cart = rec.cart;
        let id = s.allocate();
        let stamp = now().to_rfc2822();
        let total = cart
            .cart_amount
            .as_ref()
            .map_or_else(|| "0".into(), ToString::to_string);
        let total = Money::parse(&total, cartograph_model::Currency::USD)
            .map_or_else(|_| "0.0000".into(), |m| m.to_decimal_string(4));
        let order = wire::Order {
            id,
            customer_id: cart.customer_id,
            date_created: stamp.clone(),
            date_modified: stamp,
            status_id: 11,
            status: status_label(11).into(),
            subtotal_ex_tax: total.as_str().into(),
            subtotal_inc_tax: total.as_str().into(),
            total_ex_tax: total.as_str().into(),
            total_inc_tax: total.into(),
            total_tax: "0.0000".into(),
            payment_status: "captured".into(),
            currency_code: cart.currency.code.clone(),
            default_currency_code: cart.currency.code.clone(),
            cart_id: Some(cart.id.clone()),
            channel_id: cart.channel_id,
            order_source: "www".into(),
            billing_address: wire::BillingAddress {
                email: cart.email.clone().unwrap_or_default(),
                ..wire::BillingAddress::default()
            },
            ..wire::Order::default()
        };
        s.orders.insert(
            id,
            super::state::OrderRec {
                order,
                ..super::state::OrderRec::default()
            },
        );
        id
    };
    let mut d = data("cart", Value::from(cart_id));
    d.order_id = Some(Value::from(order_id));
    cart_event(sh, "store/cart/converted", cart_id, Some(d));
    order_event(sh, "store/order/created", &order_id.to_string(), None);
    Some(order_id.to_string())
}

/// Marks idle carts abandoned (once each) and emits `store/cart/abandoned`.
pub(crate) async fn abandon_loop(sh: Arc<Shared>) {
    let idle = sh.config.scaled(sh.config.abandon_after);
    let tick = (idle / 4).clamp(Duration::from_millis(5), Duration::from_secs(60));
    loop {
        tokio::time::sleep(tick).await;
        let due: Vec<(String, String)> = {
            let mut s = sh.state();
            let now = Instant::now();
            let mut due = Vec::new();
            for (id, rec) in &mut s.carts {
                if !rec.abandoned && now.duration_since(rec.last_change) >= idle {
                    rec.abandoned = true;
                    due.push(id.clone());
                }
            }
            due.into_iter()
                .map(|id| {
                    let token = s.uuid().replace('-', "");
                    (id, token)
                })
                .collect()
        };
        for (id, token) in due {
            let mut d = data("cart", Value::from(id.as_str()));
            d.token = Some(token);
            cart_event(&sh, "store/cart/abandoned", &id, Some(d));
        }
    }
}
