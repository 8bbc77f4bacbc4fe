//! [`CrmSource`] for Salesforce: people changed since a cursor (SOQL on `SystemModstamp`,
//! keyset-paged), CDC change events from a relay as webhooks, and gap events re-read.
//!
//! `list_contacts` reads `Contact` (and first `Lead` when people are Leads) with
//! `WHERE SystemModstamp >= since ORDER BY SystemModstamp, Id LIMIT n`, following
//! `nextRecordsUrl` until `done`. The cursor is `object|SystemModstamp|Id` of the last row
//! (keyset: stable under concurrent writes, unlike an offset or a query locator that expires);
//! `updated_at` is `SystemModstamp`, which changes on every write, including automation.

use cartograph_connector::{
    Capabilities, CrmSource, Cursor, Error, ErrorKind, ListRequest, Page, Result, Stream,
    TransportStats, WebhookRequest, async_trait,
};
use cartograph_model::{CrmContact, CrmEvent, CrmEventKind, Timestamp};
use serde_json::Value;

use crate::cdc::{
    ChangeEvent, ChangeType, RELAY_SECRET_HEADER, parse_change_events, to_crm_events,
};
use crate::client::soql_quote;
use crate::config::PersonObject;
use crate::error::CONNECTOR;
use crate::{Salesforce, map};

/// Rows per `list_contacts` page unless the request says otherwise.
pub const DEFAULT_PAGE: u32 = 2000;

/// A SOQL datetime literal: `2024-05-01T10:00:00Z` (the documented form; Salesforce's
/// audit fields have whole seconds), or with exactly three fraction digits
/// (`2024-05-01T10:00:00.250Z`) for a time that has milliseconds.
fn soql_datetime(t: Timestamp) -> String {
    let millis = t.unix_millis().rem_euclid(1000);
    let seconds = Timestamp::from_unix_seconds(t.unix_millis().div_euclid(1000)).unwrap_or(t);
    let whole = seconds.to_rfc3339();
    if millis == 0 {
        whole
    } else {
        format!("{}.{millis:03}Z", whole.trim_end_matches('Z'))
    }
}

fn bad_cursor(cursor: &str) -> Error {
    Error::new(ErrorKind::Invalid, format!("bad cursor {cursor:?}"))
        .with_connector(CONNECTOR)
        .with_operation("list_contacts")
}

/// Constant-time comparison of the relay secret.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Salesforce {
    /// The objects `list_contacts` reads, in order.
    fn person_objects(&self) -> &'static [&'static str] {
        match self.config.person_object {
            PersonObject::Contact => &["Contact"],
            PersonObject::Lead => &["Lead", "Contact"],
        }
    }

    /// The fields read back: the standard ones, the External ID and `source_fields`.
    fn source_select(&self) -> String {
        let mut fields: Vec<&str> = vec![
            "Id",
            "Email",
            "FirstName",
            "LastName",
            "Phone",
            self.config.external_id_field.as_str(),
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
        ];
        for f in &self.config.source_fields {
            if !fields.iter().any(|have| have.eq_ignore_ascii_case(f)) {
                fields.push(f);
            }
        }
        fields.join(", ")
    }

    /// The integration user's id (`005...`): the last segment of the token response's `id`
    /// URL (`https://login.salesforce.com/id/00D.../005...`). Rows whose `LastModifiedById`
    /// (a property of every `list_contacts` item) equals it were last written by this
    /// integration (or another one sharing the user); `None` when the token response names
    /// no user.
    ///
    /// # Errors
    /// The token call failed.
    pub async fn integration_user_id(&self) -> Result<Option<String>> {
        self.client.integration_user_id().await
    }

    /// Turns change events into [`CrmEvent`]s like [`CrmSource::parse_webhook`], but
    /// re-reads the records of gap events (`GAP_*`, ids only) and reports their current
    /// `source_fields` (or, without any, the standard fields) as property changes; a record
    /// that no longer exists is reported deleted.
    ///
    /// # Errors
    /// Transport and vendor errors of the re-read.
    pub async fn resolve_change_events(&self, events: &[ChangeEvent]) -> Result<Vec<CrmEvent>> {
        let now = Timestamp::now();
        let mut out = Vec::new();
        for event in events {
            if event.change_type != ChangeType::Gap || !event.is_person() {
                out.extend(to_crm_events(
                    std::slice::from_ref(event),
                    &self.config.call_client,
                    now,
                ));
                continue;
            }
            let mut rows = Vec::new();
            for chunk in event.record_ids.chunks(100) {
                let ids: Vec<String> = chunk.iter().map(|id| soql_quote(id)).collect();
                rows.extend(
                    self.client
                        .query(
                            &format!(
                                "SELECT {} FROM {} WHERE Id IN ({})",
                                self.source_select(),
                                event.entity,
                                ids.join(", ")
                            ),
                            "resolve_change_events",
                        )
                        .await?,
                );
            }
            let fields: Vec<String> = if self.config.source_fields.is_empty() {
                ["Email", "FirstName", "LastName", "Phone"]
                    .map(str::to_owned)
                    .to_vec()
            } else {
                self.config.source_fields.clone()
            };
            for id in &event.record_ids {
                let occurred_at = event.committed_at.unwrap_or(now);
                let event_id = |suffix: &str| {
                    event
                        .event_id
                        .as_ref()
                        .map(|e| format!("{e}:{id}:{suffix}"))
                };
                let Some(row) = rows.iter().find(|r| r["Id"].as_str() == Some(id)) else {
                    out.push(CrmEvent {
                        id: event_id("deleted"),
                        occurred_at,
                        is_own_write: false,
                        change_source: None,
                        kind: CrmEventKind::ContactDeleted { crm_id: id.clone() },
                    });
                    continue;
                };
                for field in &fields {
                    let value = match &row[field.as_str()] {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    out.push(CrmEvent {
                        id: event_id(field),
                        occurred_at,
                        is_own_write: event.is_from_client(&self.config.call_client),
                        change_source: Some(format!("{} re-read", event.change_type_name)),
                        kind: CrmEventKind::ContactPropertyChanged {
                            crm_id: id.clone(),
                            property: field.clone(),
                            value,
                        },
                    });
                }
            }
        }
        Ok(out)
    }

    fn check_relay_secret(&self, request: &WebhookRequest) -> Result<()> {
        let refuse = |why: &str| {
            Error::new(ErrorKind::Signature, why.to_owned())
                .with_connector(CONNECTOR)
                .with_operation("parse_webhook")
        };
        let Some(secret) = &self.config.cdc_relay_secret else {
            return Err(Error::new(
                ErrorKind::Config,
                "cdc_relay_secret is needed to accept change events",
            )
            .with_connector(CONNECTOR)
            .with_operation("parse_webhook")
            .with_field("cdc_relay_secret"));
        };
        match request.header(RELAY_SECRET_HEADER) {
            Some(got) if same_secret(got, secret.expose()) => Ok(()),
            Some(_) => Err(refuse("CDC relay secret does not match")),
            None => Err(refuse("CDC relay secret header missing")),
        }
    }
}

#[async_trait]
impl CrmSource for Salesforce {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: vec![Stream::Contacts],
            delta: vec![Stream::Contacts],
            webhooks: true,
            // A shared secret from the relay, not a signature over the body.
            webhook_signatures: false,
            ..cartograph_connector::CrmSink::capabilities(self)
        }
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client.stats())
    }

    async fn list_contacts(&self, request: &ListRequest) -> Result<Page<CrmContact>> {
        let objects = self.person_objects();
        let (index, after) = match request.cursor.as_ref().map(Cursor::as_str) {
            None => (0, None),
            Some(c) => {
                let mut parts = c.splitn(3, '|');
                let (Some(object), Some(stamp), Some(id)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad_cursor(c));
                };
                let index = objects
                    .iter()
                    .position(|o| *o == object)
                    .ok_or_else(|| bad_cursor(c))?;
                let after = if stamp.is_empty() {
                    None
                } else {
                    let t = map::parse_time(stamp).ok_or_else(|| bad_cursor(c))?;
                    Some((t, id.to_owned()))
                };
                (index, after)
            }
        };
        let object = objects[index];
        let limit = request.limit.unwrap_or(DEFAULT_PAGE).clamp(1, DEFAULT_PAGE);
        let mut conditions = Vec::new();
        if let Some(since) = request.since {
            conditions.push(format!("SystemModstamp >= {}", soql_datetime(since)));
        }
        if let Some((t, id)) = &after {
            let t = soql_datetime(*t);
            conditions.push(format!(
                "(SystemModstamp > {t} OR (SystemModstamp = {t} AND Id > {}))",
                soql_quote(id)
            ));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {} FROM {object}{filter} ORDER BY SystemModstamp, Id LIMIT {limit}",
                    self.source_select()
                ),
                "list_contacts",
            )
            .await?;
        let full = rows.len() >= limit as usize;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut contact = map::contact(row).ok_or_else(|| {
                Error::new(ErrorKind::Decode, "queried row has no Id")
                    .with_connector(CONNECTOR)
                    .with_operation("list_contacts")
                    .with_field("Id")
            })?;
            if let Some(t) = row["SystemModstamp"].as_str().and_then(map::parse_time) {
                contact.updated_at = Some(t);
            }
            items.push(contact);
        }
        let next = match rows.last() {
            Some(last) if full => {
                let stamp = last["SystemModstamp"].as_str().unwrap_or_default();
                let id = last["Id"].as_str().unwrap_or_default();
                Some(Cursor::new(format!("{object}|{stamp}|{id}")))
            }
            _ => objects
                .get(index + 1)
                .map(|next| Cursor::new(format!("{next}||"))),
        };
        Ok(Page { items, next })
    }

    /// Change events from the CDC relay (see [`crate::cdc`]); the relay must send
    /// [`RELAY_SECRET_HEADER`] with `cdc_relay_secret`. Gap events come back as
    /// `Unhandled` (use [`Salesforce::resolve_change_events`] to re-read them instead).
    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        self.check_relay_secret(request)?;
        let events = parse_change_events(&request.body)?;
        Ok(to_crm_events(
            &events,
            &self.config.call_client,
            request.received_at,
        ))
    }
}
