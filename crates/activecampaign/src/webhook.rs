//! Inbound ActiveCampaign webhooks: form-encoded (`application/x-www-form-urlencoded`)
//! deliveries of contact `update`, `subscribe` and `unsubscribe` events, parsed into
//! [`CrmEvent`]s.
//!
//! ActiveCampaign does not sign webhooks: the host puts a shared secret in the webhook URL
//! path (its last segment) or has its proxy add a header, and [`verify`] compares it in
//! constant time. Events whose `initiated_by` is `api` are this integration's own writes
//! (`is_own_write`); the webhook is registered without the `api` source anyway.

use cartograph_connector::{Error, ErrorKind, Result, WebhookRequest};
use cartograph_http::Secret;
use cartograph_model::{CrmEvent, CrmEventKind, MembershipChange, Timestamp};
use subtle::ConstantTimeEq as _;

use crate::config::ActiveCampaignConfig;
use crate::error::CONNECTOR;
use crate::map::parse_time;

/// Checks the shared secret of a delivery (header, or last URL path segment) against
/// `webhook_secret`, and `previous_webhook_secret` during a rotation. Without a
/// configured secret nothing is accepted: an unauthenticated delivery must never be stored
/// and acknowledged, so intake answers 500 and ActiveCampaign keeps retrying until the host
/// configures one.
///
/// # Errors
/// [`ErrorKind::Config`] when no secret is configured; [`ErrorKind::Signature`] when the
/// delivery's secret is missing or wrong.
pub fn verify(config: &ActiveCampaignConfig, request: &WebhookRequest) -> Result<()> {
    let Some(secret) = config
        .webhook_secret
        .as_ref()
        .filter(|s| !s.expose().is_empty())
    else {
        return Err(Error::new(
            ErrorKind::Config,
            "webhook_secret is needed to accept webhooks (ActiveCampaign signs nothing)",
        )
        .with_connector(CONNECTOR)
        .with_operation("parse_webhook")
        .with_field("webhook_secret"));
    };
    let given = match &config.webhook_secret_header {
        Some(header) => request.header(header).map(str::to_owned),
        None => url::Url::parse(&request.url).ok().and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_owned))
        }),
    };
    let matches = |candidate: &Secret| {
        given
            .as_ref()
            .is_some_and(|g| bool::from(g.as_bytes().ct_eq(candidate.expose().as_bytes())))
    };
    // During a rotation the old secret is still accepted (deliveries to the old URL).
    let ok = matches(secret)
        || config
            .previous_webhook_secret
            .as_ref()
            .is_some_and(|old| !old.expose().is_empty() && matches(old));
    if ok {
        Ok(())
    } else {
        Err(
            Error::new(ErrorKind::Signature, "webhook secret missing or wrong")
                .with_connector(CONNECTOR)
                .with_operation("parse_webhook"),
        )
    }
}

/// Standard contact fields of a delivery and the property names the connector writes.
const STANDARD: [(&str, &str); 4] = [
    ("contact[email]", "email"),
    ("contact[first_name]", "firstName"),
    ("contact[last_name]", "lastName"),
    ("contact[phone]", "phone"),
];

/// Parses one form-encoded delivery.
///
/// ```
/// use cartograph_activecampaign::webhook::parse;
/// use cartograph_model::CrmEventKind;
///
/// let body = b"type=update&date_time=2024-05-01T10%3A00%3A00-05%3A00&initiated_by=admin&contact%5Bid%5D=7&contact%5Bemail%5D=ada%40example.com&contact%5Bfirst_name%5D=Ada";
/// let events = parse(body)?;
/// assert!(events.iter().any(|e| matches!(&e.kind,
///     CrmEventKind::ContactPropertyChanged { crm_id, property, value }
///         if crm_id == "7" && property == "firstName" && value.as_deref() == Some("Ada"))));
/// assert!(events.iter().all(|e| !e.is_own_write));
/// # Ok::<(), cartograph_connector::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::Decode`] when the body has no `type`, no integer `contact[id]`, or a bad
/// date.
pub fn parse(body: &[u8]) -> Result<Vec<CrmEvent>> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let decode = |why: &str| {
        Error::new(ErrorKind::Decode, why.to_owned())
            .with_connector(CONNECTOR)
            .with_operation("parse_webhook")
    };
    let kind =
        get("type").ok_or_else(|| decode("webhook body has no `type`").with_field("type"))?;
    let crm_id = get("contact[id]")
        .ok_or_else(|| decode("webhook body has no `contact[id]`").with_field("contact[id]"))?
        .trim()
        .to_owned();
    // Contact ids are integers: a blank or other value names no contact (dead letter, not an
    // event about nobody).
    if crm_id.is_empty() || !crm_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(decode("`contact[id]` is not an integer id").with_field("contact[id]"));
    }
    let occurred_at = match get("date_time") {
        Some(text) => {
            parse_time(text).ok_or_else(|| decode("bad `date_time`").with_field("date_time"))?
        }
        None => Timestamp::now(),
    };
    let initiated_by = get("initiated_by")
        .or(get("initiated_from"))
        .map(str::to_owned);
    let is_own_write = initiated_by.as_deref() == Some("api");
    let event = |kind: CrmEventKind| CrmEvent {
        id: None,
        occurred_at,
        is_own_write,
        change_source: initiated_by.clone(),
        kind,
    };
    let mut out = Vec::new();
    match kind {
        "update" | "contact_add" => {
            if kind == "contact_add" {
                out.push(event(CrmEventKind::ContactCreated {
                    crm_id: crm_id.clone(),
                }));
            }
            for (field, property) in STANDARD {
                if let Some(value) = get(field) {
                    out.push(event(CrmEventKind::ContactPropertyChanged {
                        crm_id: crm_id.clone(),
                        property: property.to_owned(),
                        value: Some(value.to_owned()).filter(|v| !v.is_empty()),
                    }));
                }
            }
            for (k, v) in &pairs {
                if let Some(tag) = k
                    .strip_prefix("contact[fields][")
                    .and_then(|r| r.strip_suffix(']'))
                {
                    out.push(event(CrmEventKind::ContactPropertyChanged {
                        crm_id: crm_id.clone(),
                        property: tag.to_uppercase(),
                        value: Some(v.clone()).filter(|v| !v.is_empty()),
                    }));
                }
            }
        }
        "subscribe" | "unsubscribe" => {
            let list_id = get("list").unwrap_or("0").to_owned();
            out.push(event(CrmEventKind::MembershipChanged {
                change: MembershipChange {
                    list_id,
                    contact_crm_id: crm_id,
                    added: kind == "subscribe",
                    at: occurred_at,
                },
            }));
        }
        other => {
            tracing::debug!(webhook_type = other, "webhook event type not handled");
            out.push(event(CrmEventKind::Unhandled {
                topic: other.to_owned(),
                object_id: Some(crm_id).filter(|id| !id.is_empty()),
            }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(header: Option<&str>) -> ActiveCampaignConfig {
        ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .webhook_secret(Secret::new("s3cret"), header.map(str::to_owned))
            .build()
            .expect("valid")
    }

    #[test]
    fn secret_in_the_url_path_or_a_header() {
        let ok = WebhookRequest::post("https://host/hooks/ac/s3cret", Vec::new(), Vec::new());
        verify(&config(None), &ok).expect("path secret");
        let bad = WebhookRequest::post("https://host/hooks/ac/nope", Vec::new(), Vec::new());
        assert_eq!(
            verify(&config(None), &bad).expect_err("wrong").kind(),
            ErrorKind::Signature
        );
        let hdr = WebhookRequest::post(
            "https://host/hooks/ac",
            vec![("X-Hook-Secret".into(), "s3cret".into())],
            Vec::new(),
        );
        verify(&config(Some("x-hook-secret")), &hdr).expect("header secret");
        assert!(verify(&config(Some("x-hook-secret")), &ok).is_err());
    }

    #[test]
    fn the_previous_secret_is_accepted_during_a_rotation_and_only_then() {
        let at = |secret: &str| {
            WebhookRequest::post(format!("https://h/hooks/ac/{secret}"), vec![], Vec::new())
        };
        let rotating = ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .webhook_secret(Secret::new("new-secret"), None)
            .previous_webhook_secret(Secret::new("old-secret"))
            .build()
            .expect("config");
        verify(&rotating, &at("new-secret")).expect("current");
        verify(&rotating, &at("old-secret")).expect("previous, during the rotation");
        assert_eq!(
            verify(&rotating, &at("other")).expect_err("wrong").kind(),
            ErrorKind::Signature
        );
        let done = ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .webhook_secret(Secret::new("new-secret"), None)
            .build()
            .expect("config");
        assert_eq!(
            verify(&done, &at("old-secret"))
                .expect_err("rotated out")
                .kind(),
            ErrorKind::Signature
        );
    }

    #[test]
    fn without_a_configured_secret_every_delivery_is_refused_as_a_config_error() {
        let bare = ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .build()
            .expect("config");
        let blank = ActiveCampaignConfig::builder(Secret::new("k"))
            .account("a")
            .webhook_secret(Secret::new(""), None)
            .build()
            .expect("config");
        let request = WebhookRequest::post(
            "https://h/hooks/ac/anything",
            vec![],
            b"type=update".to_vec(),
        );
        for config in [bare, blank] {
            let err = verify(&config, &request).expect_err("refused");
            assert_eq!(err.kind(), ErrorKind::Config);
            assert_eq!(err.field(), Some("webhook_secret"));
        }
    }

    #[test]
    fn unsubscribes_become_membership_changes_and_api_writes_are_own() {
        let body = b"type=unsubscribe&date_time=2024-05-01+10%3A00%3A00&initiated_by=api&list=3&contact%5Bid%5D=9&contact%5Bemail%5D=x%40y.z";
        let events = parse(body).expect("valid");
        assert_eq!(events.len(), 1);
        assert!(events[0].is_own_write);
        match &events[0].kind {
            CrmEventKind::MembershipChanged { change } => {
                assert_eq!(change.list_id, "3");
                assert_eq!(change.contact_crm_id, "9");
                assert!(!change.added);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            parse(b"{}").expect_err("not a form").kind(),
            ErrorKind::Decode
        );
    }
}
