//! Webhook emission: contact creations and property changes, posted as a signed (v3) JSON
//! array to the registered URL. API writes carry `changeSource: INTEGRATION` and the app
//! id as `sourceId`; writes made with [`super::HubSpotSim::update_contact_as_user`] carry
//! `CRM_UI` and a user id.

use serde_json::{Value, json};

use super::Shared;
use super::routes::Change;
use crate::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_v3};

/// Builds the signed delivery for `changes` (contacts only), keeps it in the outbox and
/// posts it when a target is registered.
pub(crate) async fn emit(shared: &Shared, changes: &[Change], by_app: bool) {
    let (target, secret, body) = {
        let mut inner = shared.lock();
        let target = inner
            .webhook_target
            .clone()
            .unwrap_or_else(|| super::DEFAULT_WEBHOOK_URL.to_owned());
        let now = cartograph_model::Timestamp::now().unix_millis();
        let (source, source_id) = if by_app {
            ("INTEGRATION", inner.config.app_id.clone())
        } else {
            ("CRM_UI", "userId:1".to_owned())
        };
        let mut events: Vec<Value> = Vec::new();
        for change in changes.iter().filter(|c| c.object == "contacts") {
            let base = |inner: &mut super::Inner| {
                inner.next_event += 1;
                json!({"eventId": inner.next_event, "subscriptionId": 1, "portalId": inner.config.portal_id,
                       "appId": inner.config.app_id.parse::<u64>().map_or_else(|_| json!(inner.config.app_id), |n| json!(n)),
                       "occurredAt": now, "attemptNumber": 0, "objectId": change.id,
                       "changeSource": source, "sourceId": source_id})
            };
            if change.created {
                let mut e = base(&mut inner);
                e["subscriptionType"] = json!("contact.creation");
                e["changeFlag"] = json!("NEW");
                events.push(e);
            }
            for (name, value) in &change.changed {
                let mut e = base(&mut inner);
                e["subscriptionType"] = json!("contact.propertyChange");
                e["propertyName"] = json!(name);
                e["propertyValue"] = json!(value);
                events.push(e);
            }
        }
        if events.is_empty() {
            return;
        }
        (
            target,
            inner.config.client_secret.clone(),
            Value::Array(events).to_string(),
        )
    };
    let ts = cartograph_model::Timestamp::now().unix_millis().to_string();
    let signature = sign_v3(&secret, "POST", &target, body.as_bytes(), &ts);
    shared
        .lock()
        .outbox
        .push(cartograph_connector::WebhookRequest {
            method: "POST".into(),
            url: target.clone(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (SIGNATURE_HEADER.into(), signature.clone()),
                (TIMESTAMP_HEADER.into(), ts.clone()),
            ],
            body: body.clone().into_bytes(),
            received_at: cartograph_model::Timestamp::now(),
        });
    if shared.lock().webhook_target.is_none() {
        return;
    }
    let sent = shared
        .http
        .post(&target)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header(TIMESTAMP_HEADER, ts)
        .body(body.clone())
        .send()
        .await;
    let delivered = sent.is_ok_and(|r| r.status().is_success());
    shared.lock().deliveries.push((body, delivered));
}
