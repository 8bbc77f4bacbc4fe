//! Change Data Capture events as webhook-style input: [`parse_change_events`] reads what a
//! CDC relay posts (a Pub/Sub API or CometD subscriber forwarding `ContactChangeEvent` /
//! `LeadChangeEvent` messages) and [`to_crm_events`] turns them into [`CrmEvent`]s.
//!
//! Accepted bodies: one message `{"channel", "data": {"event": {"replayId"}, "payload"}}`,
//! a bare payload `{"ChangeEventHeader": {...}, ...}`, or a JSON array of either.
//!
//! * `changeType` `CREATE`/`UPDATE`/`DELETE`/`UNDELETE` become contact created / property
//!   changed / deleted events, one per record id (a header may name several records that
//!   got the same change) and changed field (`changedFields`; compound fields such as
//!   `Name.FirstName` are read from the nested payload and named by their last part).
//! * `GAP_*` and `GAP_OVERFLOW` events carry ids only: they cannot say what changed, so
//!   [`to_crm_events`] answers them as [`CrmEventKind::Unhandled`] (kept and dead-lettered,
//!   never dropped) and [`crate::Salesforce::resolve_change_events`] re-reads the records
//!   instead.
//! * `changeOrigin` containing `client=<call_client>` (our `Sforce-Call-Options`) marks the
//!   integration's own writes: `is_own_write = true`, so two-way sync writes no echoes.

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_model::{CrmEvent, CrmEventKind, Timestamp};
use serde_json::{Map, Value};

use crate::error::CONNECTOR;

/// The header a CDC relay authenticates its deliveries with.
pub const RELAY_SECRET_HEADER: &str = "X-Cartograph-Cdc-Secret";

/// Fields Salesforce maintains on every write: never reported as a property change.
pub(crate) const SYSTEM_FIELDS: [&str; 4] = [
    "LastModifiedDate",
    "SystemModstamp",
    "LastModifiedById",
    "Id",
];

/// `ChangeEventHeader.changeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// A record was created.
    Create,
    /// A record was updated.
    Update,
    /// A record was deleted.
    Delete,
    /// A record was restored from the recycle bin.
    Undelete,
    /// A gap event (`GAP_CREATE`, `GAP_UPDATE`, `GAP_DELETE`, `GAP_UNDELETE`,
    /// `GAP_OVERFLOW`): ids only, the record must be re-read.
    Gap,
}

/// One parsed change event.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// `entityName` (`Contact`, `Lead`, ...).
    pub entity: String,
    /// The kind of change.
    pub change_type: ChangeType,
    /// `changeType` as sent (`GAP_UPDATE` ...).
    pub change_type_name: String,
    /// `recordIds`.
    pub record_ids: Vec<String>,
    /// `changedFields` (empty on CREATE and gap events).
    pub changed_fields: Vec<String>,
    /// `changeOrigin` (`com/salesforce/api/rest/62.0;client=cartograph`, empty from the UI).
    pub change_origin: String,
    /// `commitUser`.
    pub commit_user: Option<String>,
    /// `commitTimestamp`.
    pub committed_at: Option<Timestamp>,
    /// The replay id (opaque), else `transactionKey:sequenceNumber`.
    pub event_id: Option<String>,
    /// The payload fields (values of the changed fields; all fields on CREATE).
    pub fields: Map<String, Value>,
}

impl ChangeEvent {
    /// Whether `changeOrigin` names `client` (`...;client=<client>`).
    pub fn is_from_client(&self, client: &str) -> bool {
        self.change_origin
            .split(';')
            .filter_map(|part| part.trim().strip_prefix("client="))
            .any(|c| c == client)
    }

    /// Whether the change is about people (`Contact` or `Lead`).
    pub fn is_person(&self) -> bool {
        matches!(self.entity.as_str(), "Contact" | "Lead")
    }
}

fn invalid(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::Invalid, why.into())
        .with_connector(CONNECTOR)
        .with_operation("parse_webhook")
}

/// Parses a relay delivery.
///
/// # Errors
/// [`ErrorKind::Invalid`] naming the field for a body that is not JSON, a message without
/// `ChangeEventHeader`, or a header without `entityName`, `changeType` or `recordIds`.
pub fn parse_change_events(body: &[u8]) -> Result<Vec<ChangeEvent>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("change event body is not JSON: {e}")))?;
    let messages = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| parse_one(m).map_err(|e| e.with_record(format!("change event #{i}"))))
        .collect()
}

fn parse_one(message: &Value) -> Result<ChangeEvent> {
    let (payload, replay) = match message.get("data") {
        Some(data) => (
            data.get("payload"),
            data.get("event").and_then(|e| e.get("replayId")),
        ),
        None => (Some(message), message.get("replayId")),
    };
    let payload = payload
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("change event has no payload").with_field("data.payload"))?;
    let header = payload
        .get("ChangeEventHeader")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            invalid("change event has no ChangeEventHeader").with_field("ChangeEventHeader")
        })?;
    let text = |name: &str| header.get(name).and_then(Value::as_str);
    let strings = |name: &str| -> Vec<String> {
        header
            .get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let entity = text("entityName")
        .filter(|e| !e.is_empty())
        .ok_or_else(|| invalid("no entityName").with_field("ChangeEventHeader.entityName"))?;
    let name = text("changeType")
        .ok_or_else(|| invalid("no changeType").with_field("ChangeEventHeader.changeType"))?;
    let change_type = match name {
        "CREATE" => ChangeType::Create,
        "UPDATE" => ChangeType::Update,
        "DELETE" => ChangeType::Delete,
        "UNDELETE" => ChangeType::Undelete,
        gap if gap.starts_with("GAP_") => ChangeType::Gap,
        other => {
            return Err(invalid(format!("unknown changeType {other:?}"))
                .with_field("ChangeEventHeader.changeType"));
        }
    };
    let record_ids = strings("recordIds");
    if record_ids.is_empty() && name != "GAP_OVERFLOW" {
        return Err(invalid("no recordIds").with_field("ChangeEventHeader.recordIds"));
    }
    let committed_at = header
        .get("commitTimestamp")
        .and_then(Value::as_i64)
        .and_then(|ms| Timestamp::from_unix_millis(ms).ok());
    let event_id = replay
        .map(|r| match r {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .or_else(|| {
            let tx = text("transactionKey")?;
            let seq = header.get("sequenceNumber").map(Value::to_string)?;
            Some(format!("{tx}:{seq}"))
        });
    let mut fields = payload.clone();
    fields.remove("ChangeEventHeader");
    Ok(ChangeEvent {
        entity: entity.to_owned(),
        change_type,
        change_type_name: name.to_owned(),
        record_ids,
        changed_fields: strings("changedFields"),
        change_origin: text("changeOrigin").unwrap_or_default().to_owned(),
        commit_user: text("commitUser").map(str::to_owned),
        committed_at,
        event_id,
        fields,
    })
}

/// A payload value as a property string (`None` for null or absent); `Name.FirstName`
/// reads the nested compound field.
fn field_value(fields: &Map<String, Value>, path: &str) -> Option<String> {
    let mut parts = path.split('.');
    let mut current = fields.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    match current {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The [`CrmEvent`]s of change events; `client` is our `Sforce-Call-Options` client id.
/// Gap events and non-person entities become [`CrmEventKind::Unhandled`].
pub fn to_crm_events(
    events: &[ChangeEvent],
    client: &str,
    received_at: Timestamp,
) -> Vec<CrmEvent> {
    let mut out = Vec::new();
    for event in events {
        let own = event.is_from_client(client);
        let base = |suffix: String, kind: CrmEventKind| CrmEvent {
            id: event.event_id.as_ref().map(|id| format!("{id}:{suffix}")),
            occurred_at: event.committed_at.unwrap_or(received_at),
            is_own_write: own,
            change_source: (!event.change_origin.is_empty()).then(|| event.change_origin.clone()),
            kind,
        };
        if event.change_type == ChangeType::Gap || !event.is_person() {
            let topic = format!("{}ChangeEvent/{}", event.entity, event.change_type_name);
            if event.record_ids.is_empty() {
                out.push(base(
                    String::new(),
                    CrmEventKind::Unhandled {
                        topic: topic.clone(),
                        object_id: None,
                    },
                ));
            }
            for id in &event.record_ids {
                out.push(base(
                    id.clone(),
                    CrmEventKind::Unhandled {
                        topic: topic.clone(),
                        object_id: Some(id.clone()),
                    },
                ));
            }
            continue;
        }
        let changed: Vec<String> = match event.change_type {
            ChangeType::Create | ChangeType::Undelete => event
                .fields
                .iter()
                .filter(|(k, v)| !v.is_null() && !SYSTEM_FIELDS.contains(&k.as_str()))
                .map(|(k, _)| k.clone())
                .collect(),
            ChangeType::Update => event
                .changed_fields
                .iter()
                .filter(|f| !SYSTEM_FIELDS.contains(&f.as_str()))
                .cloned()
                .collect(),
            ChangeType::Delete | ChangeType::Gap => Vec::new(),
        };
        for id in &event.record_ids {
            match event.change_type {
                ChangeType::Delete => {
                    out.push(base(
                        id.clone(),
                        CrmEventKind::ContactDeleted { crm_id: id.clone() },
                    ));
                    continue;
                }
                ChangeType::Create | ChangeType::Undelete => out.push(base(
                    id.clone(),
                    CrmEventKind::ContactCreated { crm_id: id.clone() },
                )),
                ChangeType::Update | ChangeType::Gap => {}
            }
            for field in &changed {
                let property = field.rsplit('.').next().unwrap_or(field).to_owned();
                out.push(base(
                    format!("{id}:{field}"),
                    CrmEventKind::ContactPropertyChanged {
                        crm_id: id.clone(),
                        property,
                        value: field_value(&event.fields, field),
                    },
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(header: &Value, fields: &Value, replay: u64) -> Value {
        let mut payload = fields.clone();
        payload["ChangeEventHeader"] = header.clone();
        json!({"channel": "/data/ContactChangeEvent",
               "data": {"schema": "s", "event": {"replayId": replay}, "payload": payload}})
    }

    #[test]
    fn update_from_the_ui_becomes_property_changes_and_ours_is_flagged() {
        let ui = message(
            &json!({"entityName": "Contact", "recordIds": ["003A", "003B"], "changeType": "UPDATE",
                    "changeOrigin": "", "commitTimestamp": 1_714_557_600_000_i64,
                    "commitUser": "005U", "transactionKey": "t1", "sequenceNumber": 1,
                    "changedFields": ["Ecom_Segment__c", "Name.FirstName", "LastModifiedDate"]}),
            &json!({"Ecom_Segment__c": "VIP", "Name": {"FirstName": "Ada"},
                    "LastModifiedDate": "2024-05-01T10:00:00.000Z"}),
            41,
        );
        let ours = message(
            &json!({"entityName": "Contact", "recordIds": ["003A"], "changeType": "UPDATE",
                    "changeOrigin": "com/salesforce/api/rest/62.0;client=cartograph",
                    "changedFields": ["Phone"]}),
            &json!({"Phone": null}),
            42,
        );
        let body = serde_json::to_vec(&json!([ui, ours])).expect("json");
        let parsed = parse_change_events(&body).expect("parses");
        assert_eq!(parsed[0].event_id.as_deref(), Some("41"));
        let events = to_crm_events(&parsed, "cartograph", Timestamp::now());
        let summary: Vec<(String, bool, Option<String>)> = events
            .iter()
            .map(|e| match &e.kind {
                CrmEventKind::ContactPropertyChanged {
                    crm_id,
                    property,
                    value,
                } => (
                    format!("{crm_id}.{property}"),
                    e.is_own_write,
                    value.clone(),
                ),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("003A.Ecom_Segment__c".into(), false, Some("VIP".into())),
                ("003A.FirstName".into(), false, Some("Ada".into())),
                ("003B.Ecom_Segment__c".into(), false, Some("VIP".into())),
                ("003B.FirstName".into(), false, Some("Ada".into())),
                ("003A.Phone".into(), true, None),
            ]
        );
        assert_eq!(
            events[0].occurred_at,
            Timestamp::from_unix_millis(1_714_557_600_000).expect("time")
        );
        assert_eq!(events[0].id.as_deref(), Some("41:003A:Ecom_Segment__c"));
        assert!(events[0].change_source.is_none());
        // Another client's write is not ours.
        let other = parsed[1].clone();
        assert!(!other.is_from_client("cartograph-staging"));
    }

    #[test]
    fn gap_events_are_kept_for_a_re_read_never_dropped() {
        let gap = json!({"ChangeEventHeader": {"entityName": "Lead", "recordIds": ["00QA", "00QB"],
                          "changeType": "GAP_UPDATE", "changeOrigin": "", "changedFields": []}});
        let parsed = parse_change_events(gap.to_string().as_bytes()).expect("parses");
        assert_eq!(parsed[0].change_type, ChangeType::Gap);
        let events = to_crm_events(&parsed, "cartograph", Timestamp::now());
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|e| matches!(&e.kind,
            CrmEventKind::Unhandled { topic, object_id: Some(_) } if topic == "LeadChangeEvent/GAP_UPDATE")));
    }

    #[test]
    fn create_and_delete_events() {
        let create = message(
            &json!({"entityName": "Contact", "recordIds": ["003N"], "changeType": "CREATE",
                    "changeOrigin": "com/salesforce/api/rest/62.0", "changedFields": []}),
            &json!({"Email": "n@example.com", "Phone": null, "LastModifiedDate": "x"}),
            7,
        );
        let delete = message(
            &json!({"entityName": "Contact", "recordIds": ["003D"], "changeType": "DELETE",
                    "changedFields": []}),
            &json!({}),
            8,
        );
        let body = json!([create, delete]).to_string();
        let events = to_crm_events(
            &parse_change_events(body.as_bytes()).expect("parses"),
            "cartograph",
            Timestamp::now(),
        );
        let kinds: Vec<&CrmEventKind> = events.iter().map(|e| &e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                &CrmEventKind::ContactCreated {
                    crm_id: "003N".into()
                },
                &CrmEventKind::ContactPropertyChanged {
                    crm_id: "003N".into(),
                    property: "Email".into(),
                    value: Some("n@example.com".into())
                },
                &CrmEventKind::ContactDeleted {
                    crm_id: "003D".into()
                },
            ]
        );
        // An API write without our client id is a foreign write.
        assert!(events.iter().all(|e| !e.is_own_write));
    }

    #[test]
    fn malformed_messages_name_the_field_and_the_message() {
        for (body, field) in [
            (
                json!({"data": {"payload": {"Email": "x"}}}),
                "ChangeEventHeader",
            ),
            (
                json!([{}, {"ChangeEventHeader": {"recordIds": ["1"], "changeType": "UPDATE"}}]),
                "ChangeEventHeader",
            ),
            (
                json!({"ChangeEventHeader": {"entityName": "Contact", "changeType": "MERGE", "recordIds": ["1"]}}),
                "ChangeEventHeader.changeType",
            ),
            (
                json!({"ChangeEventHeader": {"entityName": "Contact", "changeType": "UPDATE"}}),
                "ChangeEventHeader.recordIds",
            ),
        ] {
            let err = parse_change_events(body.to_string().as_bytes()).expect_err("bad");
            assert_eq!(err.kind(), ErrorKind::Invalid, "{body}");
            assert_eq!(err.field(), Some(field), "{body}");
            assert!(
                err.record()
                    .is_some_and(|r| r.starts_with("change event #"))
            );
        }
        assert!(parse_change_events(b"not json").is_err());
    }
}
