//! Change Data Capture in the simulator: every write that changes a Contact or Lead bumps
//! its `SystemModstamp`, sets `LastModifiedById` to the writing user and emits a change
//! event (`ChangeEventHeader` with `changeType`, `changedFields`, `changeOrigin`,
//! `commitUser`, `commitTimestamp`, plus the changed values), as a CometD-style message
//! `{channel, data: {event: {replayId}, payload}}`. Events are kept in an outbox and, once a
//! target is set ([`CrmSimulator::deliver_webhooks_to`](cartograph_sim::CrmSimulator)),
//! posted there with the relay secret header, the way a CDC relay (a Pub/Sub API
//! subscriber) forwards them.

use std::collections::BTreeMap;
use std::sync::Arc;

use cartograph_connector::WebhookRequest;
use serde_json::{Map, Value, json};

use super::state::{State, now};
use super::{SalesforceSim, Shared, lock};
use crate::cdc::{RELAY_SECRET_HEADER, SYSTEM_FIELDS};

/// Objects with change notifications enabled in the simulated org.
pub(crate) const ENTITIES: [&str; 2] = ["Contact", "Lead"];
/// The integration user (the one the connector's sessions belong to).
pub const INTEGRATION_USER_ID: &str = "005SIM000000001";
/// The person editing records in the UI ([`super::SalesforceSim::edit_as_user`]).
pub const UI_USER_ID: &str = "005SIM000000002";
/// Who made a write.
#[derive(Debug, Clone)]
pub(crate) enum Writer {
    /// A REST call of the integration user, with its `Sforce-Call-Options` client.
    Api(Option<String>),
    /// A person in the UI.
    User,
}

/// The CDC-enabled rows before a write.
pub(crate) type Snapshot = BTreeMap<(String, String), Map<String, Value>>;

pub(crate) fn snapshot(state: &State) -> Snapshot {
    let mut out = Snapshot::new();
    for object in ENTITIES {
        for row in state.rows.get(object).into_iter().flatten() {
            out.insert((object.to_owned(), row.id.clone()), row.fields.clone());
        }
    }
    out
}

/// Adds the fields CDC maintains to the org's schema.
pub(crate) fn install_fields(state: &mut State) {
    for object in ENTITIES {
        for field in ["SystemModstamp", "LastModifiedById"] {
            state.add_field(object, field);
        }
    }
}

/// Compares the rows with `before`: bumps `SystemModstamp`/`LastModifiedById` of every
/// created or changed row and returns the change events, in row order.
pub(crate) fn diff(
    state: &mut State,
    before: &Snapshot,
    writer: &Writer,
    next_replay: &mut u64,
) -> Vec<Value> {
    let stamp = now();
    let (origin, user) = match writer {
        Writer::Api(Some(client)) => (
            format!("com/salesforce/api/rest/62.0;client={client}"),
            INTEGRATION_USER_ID,
        ),
        Writer::Api(None) => (
            "com/salesforce/api/rest/62.0".to_owned(),
            INTEGRATION_USER_ID,
        ),
        Writer::User => (String::new(), UI_USER_ID),
    };
    let mut events = Vec::new();
    for object in ENTITIES {
        let Some(rows) = state.rows.get_mut(object) else {
            continue;
        };
        for row in rows.iter_mut() {
            let old = before.get(&(object.to_owned(), row.id.clone()));
            let changed: Vec<String> = row
                .fields
                .iter()
                .filter(|(k, v)| {
                    !SYSTEM_FIELDS.contains(&k.as_str())
                        && match old {
                            None => !v.is_null(),
                            Some(old) => old.get(*k).unwrap_or(&Value::Null) != *v,
                        }
                })
                .map(|(k, _)| k.clone())
                .collect();
            if old.is_some() && changed.is_empty() {
                continue;
            }
            row.fields.insert("SystemModstamp".into(), json!(stamp));
            row.fields.insert("LastModifiedById".into(), json!(user));
            *next_replay += 1;
            let mut payload = Map::new();
            for field in &changed {
                payload.insert(field.clone(), row.fields[field].clone());
            }
            payload.insert(
                "LastModifiedDate".into(),
                row.fields["LastModifiedDate"].clone(),
            );
            payload.insert("LastModifiedById".into(), json!(user));
            let (change_type, changed_fields) = if old.is_none() {
                ("CREATE", Vec::new())
            } else {
                let mut fields = changed.clone();
                fields.push("LastModifiedDate".into());
                ("UPDATE", fields)
            };
            payload.insert(
                "ChangeEventHeader".into(),
                header(
                    object,
                    &[row.id.as_str()],
                    change_type,
                    &changed_fields,
                    &origin,
                    user,
                    *next_replay,
                ),
            );
            events.push(envelope(object, *next_replay, &payload));
        }
    }
    events
}

fn header(
    object: &str,
    ids: &[&str],
    change_type: &str,
    changed_fields: &[String],
    origin: &str,
    user: &str,
    sequence: u64,
) -> Value {
    json!({
        "entityName": object,
        "recordIds": ids,
        "changeType": change_type,
        "changeOrigin": origin,
        "transactionKey": format!("sim-tx-{sequence}"),
        "sequenceNumber": 1,
        "commitTimestamp": cartograph_model::Timestamp::now().unix_millis(),
        "commitNumber": sequence,
        "commitUser": user,
        "changedFields": changed_fields,
        "nulledFields": [],
        "diffFields": [],
    })
}

fn envelope(object: &str, replay: u64, payload: &Map<String, Value>) -> Value {
    json!({
        "channel": format!("/data/{object}ChangeEvent"),
        "data": {
            "schema": format!("sim-{object}-schema"),
            "event": {"replayId": replay},
            "payload": payload,
        }
    })
}

/// A gap event (`GAP_UPDATE`, ...) for `ids`: header only, no field values, as Salesforce
/// sends when it cannot produce the full event.
pub(crate) fn gap_event(object: &str, ids: &[&str], change_type: &str, replay: u64) -> Value {
    let mut payload = Map::new();
    payload.insert(
        "ChangeEventHeader".into(),
        header(
            object,
            ids,
            change_type,
            &[],
            "",
            INTEGRATION_USER_ID,
            replay,
        ),
    );
    envelope(object, replay, &payload)
}

/// Queues `events` as one relay delivery; the URL and body to post when a target is set.
fn enqueue(shared: &Shared, events: Vec<Value>) -> Option<(String, String)> {
    if events.is_empty() {
        return None;
    }
    let body = Value::Array(events).to_string();
    let mut channel = lock(&shared.cdc);
    let url = channel
        .target
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1/webhooks/crm".to_owned());
    channel.outbox.push(WebhookRequest::post(
        url.clone(),
        vec![
            ("Content-Type".into(), "application/json".into()),
            (
                RELAY_SECRET_HEADER.into(),
                shared.config.cdc_relay_secret.clone(),
            ),
        ],
        body.clone().into_bytes(),
    ));
    channel.target.is_some().then_some((url, body))
}

async fn post(shared: &Shared, url: String, body: String) {
    let sent = shared
        .http
        .post(&url)
        .header("content-type", "application/json")
        .header(RELAY_SECRET_HEADER, shared.config.cdc_relay_secret.clone())
        .body(body)
        .send()
        .await;
    let ok = sent.is_ok_and(|r| r.status().is_success());
    lock(&shared.cdc).delivered.push(ok);
}

/// Queues `events` and posts them when a target is set.
pub(crate) async fn publish(shared: &Shared, events: Vec<Value>) {
    if let Some((url, body)) = enqueue(shared, events) {
        post(shared, url, body).await;
    }
}

fn publish_in_background(shared: &Arc<Shared>, events: Vec<Value>) {
    if let Some((url, body)) = enqueue(shared, events)
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        let shared = Arc::clone(shared);
        runtime.spawn(async move { post(&shared, url, body).await });
    }
}

impl SalesforceSim {
    /// Runs `change` on the org as the UI user would (CDC events with an empty
    /// `changeOrigin`, `commitUser` = [`UI_USER_ID`]).
    pub(crate) fn as_user<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let (out, events) = {
            let mut state = self.shared.state();
            let before = snapshot(&state);
            let out = change(&mut state);
            let events = diff(
                &mut state,
                &before,
                &Writer::User,
                &mut lock(&self.shared.cdc).next_replay,
            );
            (out, events)
        };
        publish_in_background(&self.shared, events);
        out
    }

    /// Changes fields of a Contact or Lead as a person in the UI would: `LastModifiedById`
    /// becomes [`UI_USER_ID`], `SystemModstamp` moves, and a CDC `UPDATE` event with an
    /// empty `changeOrigin` is emitted. `false` for an unknown record.
    ///
    /// The edit is refused (`false`, nothing changed) when a field does not exist on the
    /// object, as the UI offers only existing fields (see
    /// [`SalesforceSim::add_custom_field`]).
    pub fn edit_as_user(&self, sobject: &str, id: &str, fields: &[(&str, Value)]) -> bool {
        self.as_user(|state| {
            let (_, describe) = state.handle(
                "GET",
                &["sobjects", sobject, "describe"],
                &BTreeMap::new(),
                &Value::Null,
                None,
            );
            let known: Vec<String> = describe["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(|f| f["name"].as_str())
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            if fields
                .iter()
                .any(|(name, _)| !known.contains(&name.to_ascii_lowercase()))
            {
                return false;
            }
            let Some(row) = state
                .rows
                .get_mut(sobject)
                .and_then(|rows| rows.iter_mut().find(|r| r.id == id))
            else {
                return false;
            };
            for (name, value) in fields {
                row.fields.insert((*name).to_owned(), value.clone());
            }
            row.fields.insert("LastModifiedDate".into(), json!(now()));
            true
        })
    }

    /// Adds a custom field to an object as an admin would in Setup (visible to the
    /// integration user); `false` when it already exists.
    pub fn add_custom_field(&self, sobject: &str, name: &str) -> bool {
        self.shared.state().add_field(sobject, name)
    }

    /// Emits a gap event (`GAP_UPDATE`, `GAP_CREATE`, ..., `GAP_OVERFLOW`) for `ids`, as
    /// Salesforce does when it cannot produce the full events.
    pub fn emit_gap_event(&self, sobject: &str, ids: &[&str], change_type: &str) {
        let event = {
            let mut channel = lock(&self.shared.cdc);
            channel.next_replay += 1;
            gap_event(sobject, ids, change_type, channel.next_replay)
        };
        publish_in_background(&self.shared, vec![event]);
    }

    /// Every relay delivery since the last call (also those already posted to the target).
    pub fn take_change_events(&self) -> Vec<WebhookRequest> {
        std::mem::take(&mut lock(&self.shared.cdc).outbox)
    }

    /// Whether each posted delivery got a 2xx, in order.
    pub fn cdc_deliveries(&self) -> Vec<bool> {
        lock(&self.shared.cdc).delivered.clone()
    }
}

/// The simulator's CDC channel state.
#[derive(Debug, Default)]
pub(crate) struct Channel {
    pub(crate) target: Option<String>,
    pub(crate) outbox: Vec<WebhookRequest>,
    pub(crate) delivered: Vec<bool>,
    pub(crate) next_replay: u64,
}
