//! Lead conversion: a converted Lead (`IsConverted = true`) stands for the Contact named by
//! its `ConvertedContactId`. Salesforce refuses writes to a converted Lead
//! (`CANNOT_UPDATE_CONVERTED_LEAD`), so lookups answer that Contact and writes go to it.

use std::collections::{HashMap, HashSet};

use cartograph_connector::{RecordOutcome, Result};
use cartograph_model::CrmContact;
use serde_json::{Value, json};

use super::{Pending, QUERY_CHUNK, Salesforce, is_fatal, outcome, wrote_any};
use crate::client::soql_quote;
use crate::map;

/// Fields a Lead lookup adds to its `SELECT`.
pub(super) const LEAD_FIELDS: &str = ", IsConverted, ConvertedContactId";

/// Contact fields read in place of a converted Lead.
const CONTACT_SELECT: &str = "Id, Email, FirstName, LastName, Phone, LastModifiedDate";

/// The Contact a queried Lead row was converted to (`None` for an unconverted Lead or any
/// other row).
pub(super) fn converted_to(row: &Value) -> Option<String> {
    (map::text(row, "IsConverted").as_deref() == Some("true"))
        .then(|| map::text(row, "ConvertedContactId"))
        .flatten()
        .filter(|id| !id.trim().is_empty())
}

/// [`converted_to`] of a looked-up person.
fn contact_converted_to(c: &CrmContact) -> Option<String> {
    let text = |name: &str| c.properties.get(name).and_then(map::prop_text);
    (text("IsConverted").as_deref() == Some("true"))
        .then(|| text("ConvertedContactId"))
        .flatten()
        .filter(|id| !id.trim().is_empty())
}

/// Whether a record id is a Contact's (key prefix `003`).
pub(super) fn is_contact_id(id: &str) -> bool {
    id.starts_with("003")
}

impl Salesforce {
    /// Contacts by id (one SOQL query per 100 ids).
    pub(super) async fn contacts_by_id(
        &self,
        ids: &[String],
        operation: &'static str,
    ) -> Result<Vec<CrmContact>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let mut out = Vec::new();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT {CONTACT_SELECT} FROM Contact WHERE Id IN ({})",
                list.join(", ")
            );
            out.extend(
                self.client
                    .query(&soql, operation)
                    .await?
                    .iter()
                    .filter_map(map::contact),
            );
        }
        Ok(out)
    }

    /// Every converted Lead among `found` replaced by its Contact (kept as is when that
    /// Contact no longer exists: writes to it then fail with `CANNOT_UPDATE_CONVERTED_LEAD`).
    pub(super) async fn follow_conversions(
        &self,
        found: Vec<Option<CrmContact>>,
    ) -> Result<Vec<Option<CrmContact>>> {
        let targets: Vec<String> = found
            .iter()
            .flatten()
            .filter_map(contact_converted_to)
            .collect();
        if targets.is_empty() {
            return Ok(found);
        }
        let contacts: HashMap<String, CrmContact> = self
            .contacts_by_id(&targets, "find_contacts")
            .await?
            .into_iter()
            .map(|c| (c.crm_id.clone(), c))
            .collect();
        Ok(found
            .into_iter()
            .map(|f| {
                f.map(|c| {
                    contact_converted_to(&c)
                        .and_then(|id| contacts.get(&id).cloned())
                        .unwrap_or(c)
                })
            })
            .collect())
    }

    /// Updates records by id through `PATCH /composite/sobjects`, in rounds so one call
    /// never carries an id twice; `ext` also writes the External ID. Outcomes are
    /// `Updated` (or the record's error); fatal errors as in `upsert_rounds`.
    pub(super) async fn update_by_id(
        &self,
        sobject: &str,
        items: Vec<(usize, String, Pending)>,
        ext: Option<&str>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        let mut rest = items;
        while !rest.is_empty() {
            let mut seen = HashSet::new();
            let (round, later): (Vec<_>, Vec<_>) = rest
                .into_iter()
                .partition(|(_, id, _)| seen.insert(id.clone()));
            rest = later;
            let bodies: Vec<Value> = round
                .iter()
                .map(|(_, id, p)| {
                    let mut body = p.body.clone();
                    body.insert("Id".into(), json!(id));
                    if let Some(field) = ext {
                        body.insert(field.to_owned(), json!(p.ext));
                    }
                    Value::Object(body)
                })
                .collect();
            match self.client.update(sobject, bodies, "upsert_contacts").await {
                Ok(results) => {
                    for ((i, _, p), r) in round.iter().zip(&results) {
                        let mut r = r.clone();
                        r.created = false;
                        out[*i] = Some(outcome(&p.key, &r));
                    }
                }
                Err(e) if is_fatal(&e) && !wrote_any(out) => return Err(e),
                Err(e) => {
                    let fatal = is_fatal(&e);
                    let unsent: &[(usize, String, Pending)] = if fatal { &rest } else { &[] };
                    for (i, _, p) in round.iter().chain(unsent) {
                        out[*i] = Some(RecordOutcome::failed(
                            p.key.clone(),
                            e.clone().with_record(p.key.clone()),
                        ));
                    }
                    if fatal {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes records whose Lead is converted to the Contact it became: only the fields
    /// Contact has (Lead-only fields such as `Company` or `LeadSource` are not sent), and
    /// never the External ID (it stays on the Lead, which keeps resolving to the Contact).
    pub(super) async fn write_converted(
        &self,
        items: Vec<(usize, String, Pending)>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let fields = self.fields_of("Contact", false).await?;
        let items = items
            .into_iter()
            .map(|(i, id, mut p)| {
                p.body
                    .retain(|name, _| fields.contains(&name.to_ascii_lowercase()));
                (i, id, p)
            })
            .collect();
        self.update_by_id("Contact", items, None, out).await
    }
}
