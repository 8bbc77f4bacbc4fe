//! Contacts: lookup before write (`batch/read` by email), merging inputs that point at one
//! contact, `batch/upsert` by email, `batch/update` by id.

use std::collections::{BTreeMap, HashMap};

use cartograph_connector::{Error, RecordOutcome, Result};
use cartograph_model::{ContactUpsert, CrmContact, IdentityKeys};

use super::{HubSpotClient, Slot, outcome};
use crate::map::{contact_from_wire, format_properties, same_value};
use crate::wire::{SimpleObject, UpdateInput, UpsertInput};

/// Contacts found by a lookup.
#[derive(Debug, Default)]
pub(crate) struct ContactIndex {
    objects: Vec<SimpleObject>,
    by_id: HashMap<String, usize>,
    by_primary: HashMap<String, usize>,
    by_secondary: HashMap<String, usize>,
}

impl ContactIndex {
    fn new(objects: Vec<SimpleObject>) -> Self {
        let mut index = Self::default();
        for (i, object) in objects.iter().enumerate() {
            index.by_id.insert(object.id.clone(), i);
            if let Some(email) = object.prop("email") {
                index.by_primary.insert(email.trim().to_lowercase(), i);
            }
            for email in object.prop("hs_additional_emails").unwrap_or("").split(';') {
                let email = email.trim().to_lowercase();
                if !email.is_empty() {
                    index.by_secondary.entry(email).or_insert(i);
                }
            }
        }
        index.objects = objects;
        index
    }

    /// The contact for `keys` and whether it matched by its primary email.
    pub(crate) fn resolve(&self, keys: &IdentityKeys) -> Option<(&SimpleObject, bool)> {
        if let Some(i) = keys.crm_id.as_ref().and_then(|id| self.by_id.get(id)) {
            let primary = keys.email.as_ref().is_some_and(|e| {
                self.objects[*i]
                    .prop("email")
                    .is_some_and(|p| p.eq_ignore_ascii_case(e.normalized()))
            });
            return Some((&self.objects[*i], primary));
        }
        if let Some(i) = keys
            .email
            .as_ref()
            .and_then(|e| self.by_primary.get(e.normalized()))
        {
            return Some((&self.objects[*i], true));
        }
        keys.email
            .iter()
            .chain(&keys.secondary_emails)
            .find_map(|e| {
                self.by_secondary
                    .get(e.normalized())
                    .or_else(|| self.by_primary.get(e.normalized()))
            })
            .map(|i| (&self.objects[*i], false))
    }
}

impl HubSpotClient {
    /// Reads the contacts for `keys` by record id and by every email (lowercased).
    pub(crate) async fn lookup_contacts(
        &self,
        keys: &[&IdentityKeys],
        extra_properties: &[String],
        operation: &'static str,
    ) -> Result<ContactIndex> {
        let mut properties = self.config.mapping.contact_read_properties.clone();
        for name in ["email", "hs_additional_emails"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain(extra_properties.iter().cloned())
        {
            if !properties.contains(&name) {
                properties.push(name);
            }
        }
        let emails: Vec<String> = keys
            .iter()
            .flat_map(|k| k.email.iter().chain(&k.secondary_emails))
            .map(|e| e.normalized().to_owned())
            .collect();
        let ids: Vec<String> = keys.iter().filter_map(|k| k.crm_id.clone()).collect();
        let mut objects = Vec::new();
        if !ids.is_empty() {
            objects.extend(
                self.batch_read("contacts", None, &ids, &properties, operation)
                    .await?,
            );
        }
        if !emails.is_empty() {
            objects.extend(
                self.batch_read("contacts", Some("email"), &emails, &properties, operation)
                    .await?,
            );
        }
        Ok(ContactIndex::new(objects))
    }

    /// Looks contacts up; one answer per input, in order.
    ///
    /// # Errors
    /// The call failed.
    pub async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        let refs: Vec<&IdentityKeys> = keys.iter().collect();
        let index = self.lookup_contacts(&refs, &[], "find_contacts").await?;
        Ok(keys
            .iter()
            .map(|k| index.resolve(k).map(|(o, _)| contact_from_wire(o)))
            .collect())
    }

    /// Creates or updates contacts: looks them up first, merges inputs that resolve to the
    /// same contact (later inputs win per property), skips contacts that already hold every
    /// value, upserts by email (lowercased) and updates by id contacts found only through a
    /// secondary email or their record id.
    ///
    /// # Errors
    /// The whole call failed before anything was written.
    pub async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        const OP: &str = "upsert_contacts";
        let mut outcomes: Vec<Option<RecordOutcome>> = contacts.iter().map(|_| None).collect();
        let mut formatted: Vec<Option<BTreeMap<String, String>>> = Vec::new();
        for (i, c) in contacts.iter().enumerate() {
            if c.identity.email.is_none() && c.identity.crm_id.is_none() {
                outcomes[i] = Some(RecordOutcome::failed(
                    &c.key,
                    Error::invalid_field(
                        &c.key,
                        "identity.email",
                        "a contact needs an email or a CRM id",
                    )
                    .with_connector("hubspot")
                    .with_operation(OP),
                ));
                formatted.push(None);
                continue;
            }
            match format_properties(&c.key, &c.properties) {
                Ok(props) => formatted.push(Some(props)),
                Err(err) => {
                    outcomes[i] = Some(RecordOutcome::failed(&c.key, err.with_operation(OP)));
                    formatted.push(None);
                }
            }
        }
        let live: Vec<usize> = (0..contacts.len())
            .filter(|i| formatted[*i].is_some())
            .collect();
        if live.is_empty() {
            return Ok(outcomes.into_iter().flatten().collect());
        }
        let names: Vec<String> = live
            .iter()
            .flat_map(|i| contacts[*i].properties.keys().cloned())
            .collect();
        let refs: Vec<&IdentityKeys> = live.iter().map(|i| &contacts[*i].identity).collect();
        let index = self.lookup_contacts(&refs, &names, OP).await?;

        // Group inputs by the contact they resolve to.
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<String, usize> = HashMap::new();
        for &i in &live {
            let c = &contacts[i];
            let found = index.resolve(&c.identity);
            let email = c.identity.email.as_ref().map(|e| e.normalized().to_owned());
            let key = match (found, &email) {
                (Some((o, _)), _) => format!("id:{}", o.id),
                (None, Some(e)) => format!("email:{e}"),
                (None, None) => format!("id:{}", c.identity.crm_id.clone().unwrap_or_default()),
            };
            let g = *group_of.entry(key).or_insert_with(|| {
                groups.push(Group {
                    members: Vec::new(),
                    existing: found.map(|(o, _)| o.clone()),
                    upsert_email: None,
                    update_id: None,
                    properties: BTreeMap::new(),
                });
                groups.len() - 1
            });
            let group = &mut groups[g];
            group.members.push(i);
            if let Some(props) = &formatted[i] {
                group.properties.extend(props.clone());
            }
            match (found, &email) {
                (Some((o, true)), _) => {
                    group.upsert_email = o.prop("email").map(str::to_lowercase);
                }
                (None, Some(e)) => group.upsert_email = Some(e.clone()),
                (Some((o, false)), _) => group.update_id = Some(o.id.clone()),
                (None, None) => group.update_id.clone_from(&c.identity.crm_id),
            }
        }

        let mut upserts = Vec::new();
        let mut upsert_groups = Vec::new();
        let mut updates = Vec::new();
        let mut update_groups = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            if let Some(existing) = &group.existing {
                let unchanged = group
                    .properties
                    .iter()
                    .all(|(k, v)| same_value(existing.prop(k), v));
                if unchanged {
                    for &i in &group.members {
                        outcomes[i] = Some(RecordOutcome::unchanged(
                            &contacts[i].key,
                            Some(existing.id.clone()),
                        ));
                    }
                    continue;
                }
            }
            if let Some(email) = &group.upsert_email {
                let mut properties = group.properties.clone();
                properties.insert("email".into(), email.clone());
                upserts.push(UpsertInput {
                    id: email.clone(),
                    id_property: Some("email".into()),
                    object_write_trace_id: None,
                    properties,
                });
                upsert_groups.push(g);
            } else {
                let mut properties = group.properties.clone();
                // Matched through a secondary email: never overwrite the primary one.
                properties.remove("email");
                updates.push(UpdateInput {
                    id: group
                        .update_id
                        .clone()
                        .or_else(|| group.existing.as_ref().map(|o| o.id.clone()))
                        .unwrap_or_default(),
                    object_write_trace_id: None,
                    properties,
                });
                update_groups.push(g);
            }
        }
        let upserted = if upserts.is_empty() {
            Vec::new()
        } else {
            self.upsert_all("contacts", "email", &upserts, OP).await?
        };
        let updated = if updates.is_empty() {
            Vec::new()
        } else {
            self.update_all("contacts", updates, OP).await?
        };
        for (slot, g) in upserted
            .into_iter()
            .zip(upsert_groups)
            .chain(updated.into_iter().zip(update_groups))
        {
            spread(&groups[g].members, contacts, &slot, &mut outcomes);
        }
        Ok(outcomes
            .into_iter()
            .zip(contacts)
            .map(|(o, c)| o.unwrap_or_else(|| RecordOutcome::unchanged(&c.key, None)))
            .collect())
    }
}

struct Group {
    members: Vec<usize>,
    existing: Option<SimpleObject>,
    upsert_email: Option<String>,
    update_id: Option<String>,
    properties: BTreeMap<String, String>,
}

fn spread(
    members: &[usize],
    contacts: &[ContactUpsert],
    slot: &Slot,
    outcomes: &mut [Option<RecordOutcome>],
) {
    for (n, &i) in members.iter().enumerate() {
        let copy = match slot {
            Ok(o) => Ok(o.clone()),
            Err(e) => Err(e.clone()),
        };
        // Only the first merged input reports a creation; the others were folded into it.
        let copy = match copy {
            Ok(mut o) if n > 0 => {
                o.new = Some(false);
                Ok(o)
            }
            other => other,
        };
        outcomes[i] = Some(outcome(&contacts[i].key, copy));
    }
}
