//! Parsing HubSpot webhook deliveries (a JSON array of events) into [`CrmEvent`]s.

use std::collections::HashSet;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_model::{CrmEvent, CrmEventKind, Timestamp};

use crate::error::CONNECTOR;
use crate::wire::WebhookEvent;

/// Change sources HubSpot uses for writes made by an app.
const APP_SOURCES: [&str; 2] = ["INTEGRATION", "API"];

/// Decodes a delivery body; the error names the JSON path that failed.
///
/// # Errors
/// [`ErrorKind::Decode`] with the failing path in [`Error::field`].
pub fn decode_events(body: &[u8]) -> Result<Vec<WebhookEvent>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        Error::new(
            ErrorKind::Decode,
            format!("cannot decode webhook at {path}: {}", err.inner()),
        )
        .with_connector(CONNECTOR)
        .with_operation("parse_webhook")
        .with_field(path)
    })
}

/// Whether an event is an echo of a write made by our app (`sourceId` names `app_id`).
pub fn is_own_write(event: &WebhookEvent, app_id: Option<&str>) -> bool {
    let (Some(app), Some(source_id)) = (app_id, event.source_id.as_deref()) else {
        return false;
    };
    let from_app = event
        .change_source
        .as_deref()
        .is_none_or(|s| APP_SOURCES.iter().any(|a| a.eq_ignore_ascii_case(s)));
    let id = source_id.rsplit(':').next().unwrap_or(source_id);
    from_app && (id == app || source_id == app)
}

/// Turns decoded events into canonical events: de-duplicated on `eventId`, unknown
/// subscription types skipped, own writes flagged.
///
/// # Errors
/// [`ErrorKind::Decode`] when an `occurredAt` is out of range, or an `eventId` or `objectId`
/// is blank.
pub fn to_crm_events(events: Vec<WebhookEvent>, app_id: Option<&str>) -> Result<Vec<CrmEvent>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(events.len());
    for (index, event) in events.into_iter().enumerate() {
        // A blank eventId would collapse distinct events into one; a blank objectId names no
        // contact. Both are decode errors (the delivery goes to dead letters).
        for (value, name) in [(&event.event_id, "eventId"), (&event.object_id, "objectId")] {
            if value.trim().is_empty() {
                return Err(Error::new(ErrorKind::Decode, format!("blank {name}"))
                    .with_connector(CONNECTOR)
                    .with_operation("parse_webhook")
                    .with_field(format!("[{index}].{name}")));
            }
        }
        if !seen.insert(event.event_id.clone()) {
            continue;
        }
        let crm_id = event.object_id.clone();
        let kind = match event.subscription_type.as_str() {
            "contact.creation" => CrmEventKind::ContactCreated { crm_id },
            "contact.propertyChange" => CrmEventKind::ContactPropertyChanged {
                crm_id,
                property: event.property_name.clone().unwrap_or_default(),
                value: event.property_value.clone().filter(|v| !v.is_empty()),
            },
            "contact.deletion" | "contact.privacyDeletion" => {
                CrmEventKind::ContactDeleted { crm_id }
            }
            "contact.merge" => CrmEventKind::ContactMerged {
                crm_id: event.primary_object_id.clone().unwrap_or(crm_id),
                merged_ids: event.merged_object_ids.clone(),
            },
            other => {
                tracing::debug!(subscription_type = other, "webhook event type not handled");
                CrmEventKind::Unhandled {
                    topic: other.to_owned(),
                    object_id: Some(crm_id).filter(|id| !id.is_empty()),
                }
            }
        };
        let occurred_at = Timestamp::from_unix_millis(event.occurred_at).map_err(|_| {
            Error::new(ErrorKind::Decode, "occurredAt out of range")
                .with_connector(CONNECTOR)
                .with_operation("parse_webhook")
                .with_field(format!("[{index}].occurredAt"))
        })?;
        out.push(CrmEvent {
            id: Some(event.event_id.clone()),
            occurred_at,
            is_own_write: is_own_write(&event, app_id),
            change_source: event.change_source.clone(),
            kind,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dedupes_and_flags_own_writes() {
        let body = br#"[
          {"eventId":100,"subscriptionId":1,"portalId":62515,"appId":54321,"occurredAt":1700000000000,
           "subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":123,
           "propertyName":"firstname","propertyValue":"Ada","changeSource":"INTEGRATION","sourceId":"54321"},
          {"eventId":100,"subscriptionId":1,"portalId":62515,"appId":54321,"occurredAt":1700000000000,
           "subscriptionType":"contact.propertyChange","objectId":123,"propertyName":"firstname","propertyValue":"Ada"},
          {"eventId":101,"occurredAt":1700000000001,"subscriptionType":"contact.creation","objectId":"124","changeSource":"CRM_UI","sourceId":"userId:5"},
          {"eventId":102,"occurredAt":1700000000002,"subscriptionType":"deal.creation","objectId":9}
        ]"#;
        let events =
            to_crm_events(decode_events(body).expect("decodes"), Some("54321")).expect("maps");
        assert_eq!(
            events.len(),
            3,
            "the duplicate is dropped, the unknown type kept"
        );
        assert!(events[0].is_own_write);
        assert_eq!(events[0].change_source.as_deref(), Some("INTEGRATION"));
        assert!(matches!(
            &events[0].kind,
            CrmEventKind::ContactPropertyChanged { crm_id, property, value }
                if crm_id == "123" && property == "firstname" && value.as_deref() == Some("Ada")
        ));
        assert!(!events[1].is_own_write);
        assert_eq!(
            events[2].kind,
            CrmEventKind::Unhandled {
                topic: "deal.creation".into(),
                object_id: Some("9".into())
            },
            "an unknown subscription type stays visible"
        );
    }

    #[test]
    fn decode_errors_name_the_path() {
        let err = decode_events(
            br#"[{"eventId":1,"occurredAt":"x","subscriptionType":"a","objectId":1}]"#,
        )
        .expect_err("bad occurredAt");
        assert_eq!(err.kind(), ErrorKind::Decode);
        assert_eq!(err.field(), Some("[0].occurredAt"));
    }
}
