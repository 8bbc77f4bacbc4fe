//! Contacts and Leads: lookup before write, adoption of pre-existing people, upsert.

use std::collections::{HashMap, HashSet};

use cartograph_connector::{RecordOutcome, Result};
use cartograph_model::{ContactRef, ContactUpsert, CrmContact, IdentityKeys};
use serde_json::Value;

use super::{Pending, QUERY_CHUNK, Salesforce, collect, convert, invalid, start_batch};
use crate::client::soql_quote;
use crate::config::PersonObject;
use crate::map;

impl Salesforce {
    /// Lookup before write: a record whose External ID is not in the org yet but whose email
    /// belongs to a person without an External ID adopts that person (update by id, writing
    /// the External ID), so records created before Cartograph are never duplicated. On Lead,
    /// a record whose Lead (by External ID, else the email of a Lead without one) is
    /// converted is written to the Contact it became, never to the Lead. The rest is
    /// returned for the upsert.
    pub(super) async fn adopt(
        &self,
        sobject: &str,
        contacts: &[ContactUpsert],
        pending: Vec<(usize, Pending)>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<Vec<(usize, Pending)>> {
        let ext_field = &self.config.external_id_field;
        let lead = sobject == "Lead";
        let email_of = |i: usize| {
            contacts[i]
                .identity
                .email
                .as_ref()
                .map(|e| e.normalized().to_owned())
        };
        let emails: Vec<String> = pending.iter().filter_map(|(i, _)| email_of(*i)).collect();
        // A Lead already keyed by its External ID may have been converted since.
        let exts: Vec<String> = if lead {
            pending.iter().map(|(_, p)| p.ext.clone()).collect()
        } else {
            Vec::new()
        };
        if emails.is_empty() && exts.is_empty() {
            return Ok(pending);
        }
        let extra = if lead { convert::LEAD_FIELDS } else { "" };
        let mut rows = Vec::new();
        let mut row_ids = HashSet::new();
        for (field, values) in [("Email", &emails), (ext_field.as_str(), &exts)] {
            let mut unique: Vec<&String> = values.iter().collect();
            unique.sort();
            unique.dedup();
            for chunk in unique.chunks(QUERY_CHUNK) {
                let list: Vec<String> = chunk.iter().map(|e| soql_quote(e)).collect();
                let soql = format!(
                    "SELECT Id, Email, {ext_field}{extra} FROM {sobject} WHERE {field} IN ({})",
                    list.join(", ")
                );
                for row in self.client.query(&soql, "upsert_contacts").await? {
                    if map::text(&row, "Id").is_some_and(|id| row_ids.insert(id)) {
                        rows.push(row);
                    }
                }
            }
        }
        let keyed = |ext: &str| {
            rows.iter()
                .find(|r| map::text(r, ext_field).is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        };
        let mut adopted_ids = HashSet::new();
        let mut adopt = Vec::new();
        let mut converted = Vec::new();
        let mut rest = Vec::new();
        for (i, p) in pending {
            if let Some(row) = keyed(&p.ext) {
                match convert::converted_to(row) {
                    Some(contact) => converted.push((i, contact, p)),
                    None => rest.push((i, p)),
                }
                continue;
            }
            let email = email_of(i);
            let orphan = rows.iter().find(|r| {
                map::text(r, ext_field).is_none_or(|e| e.trim().is_empty())
                    && map::text(r, "Email").map(|e| e.to_lowercase()) == email
            });
            match orphan.map(|r| (convert::converted_to(r), map::text(r, "Id"))) {
                Some((Some(contact), _)) => converted.push((i, contact, p)),
                Some((None, Some(id))) if adopted_ids.insert(id.clone()) => {
                    adopt.push((i, id, p));
                }
                _ => rest.push((i, p)),
            }
        }
        self.write_converted(converted, out).await?;
        self.update_by_id(sobject, adopt, Some(ext_field), out)
            .await?;
        Ok(rest)
    }

    /// Lead conversion fields for the person `SELECT` (none on Contact).
    pub(super) fn conversion_fields(&self) -> &'static str {
        match self.config.person_object {
            PersonObject::Contact => "",
            PersonObject::Lead => convert::LEAD_FIELDS,
        }
    }

    /// Person ids by normalized email (one SOQL query per 100 emails; a converted Lead
    /// answers its Contact's id).
    pub(super) async fn ids_by_email(&self, emails: &[String]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let mut unique: Vec<&String> = emails.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|e| soql_quote(e)).collect();
            let soql = format!(
                "SELECT Id, Email{} FROM {} WHERE Email IN ({})",
                self.conversion_fields(),
                self.person(),
                list.join(", ")
            );
            for row in self.client.query(&soql, "find_contacts").await? {
                // A converted Lead stands for its Contact.
                let id = convert::converted_to(&row).or_else(|| map::text(&row, "Id"));
                if let (Some(id), Some(email)) = (id, map::text(&row, "Email")) {
                    out.entry(email.to_lowercase()).or_insert(id);
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn resolve(&self, contact: Option<&ContactRef>) -> Result<Option<String>> {
        match contact {
            None => Ok(None),
            Some(ContactRef::CrmId(id)) => Ok(Some(id.clone())),
            Some(ContactRef::Email(email)) => {
                let key = email.normalized().to_owned();
                Ok(self
                    .ids_by_email(std::slice::from_ref(&key))
                    .await?
                    .remove(&key))
            }
        }
    }

    pub(super) fn person_ext(&self, input: &ContactUpsert) -> Option<String> {
        let field = &self.config.external_id_field;
        if let Some(v) = input.properties.get(field).and_then(map::prop_text)
            && !v.trim().is_empty()
        {
            return Some(v);
        }
        if let Some(source) = input.identity.external_ids.first() {
            return Some(source.to_string());
        }
        input
            .identity
            .email
            .as_ref()
            .map(|e| e.normalized().to_owned())
    }

    pub(super) async fn find_contacts_impl(
        &self,
        keys: &[IdentityKeys],
    ) -> Result<Vec<Option<CrmContact>>> {
        let ext_field = &self.config.external_id_field;
        let lead = self.config.person_object == PersonObject::Lead;
        let mut emails = Vec::new();
        let mut exts = Vec::new();
        let mut phones = Vec::new();
        let mut ids = Vec::new();
        let mut contact_ids = Vec::new();
        for k in keys {
            emails.extend(k.email.iter().map(|e| e.normalized().to_owned()));
            exts.extend(k.external_ids.iter().map(ToString::to_string));
            phones.extend(
                k.phone
                    .iter()
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty()),
            );
            if let Some(id) = &k.crm_id {
                // On Lead, a linked id may be the Contact a converted Lead became.
                if lead && convert::is_contact_id(id) {
                    contact_ids.push(id.clone());
                } else {
                    ids.push(id.clone());
                }
            }
        }
        let mut rows: Vec<CrmContact> = Vec::new();
        for (field, values) in [
            ("Email", &mut emails),
            (ext_field.as_str(), &mut exts),
            ("Phone", &mut phones),
            ("Id", &mut ids),
        ] {
            let mut seen = HashSet::new();
            values.retain(|v| seen.insert(v.clone()));
            for chunk in values.chunks(QUERY_CHUNK) {
                let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
                let soql = format!(
                    "SELECT Id, Email, FirstName, LastName, Phone, {ext_field}, LastModifiedDate{} \
                     FROM {} WHERE {field} IN ({})",
                    self.conversion_fields(),
                    self.person(),
                    list.join(", ")
                );
                rows.extend(
                    self.client
                        .query(&soql, "find_contacts")
                        .await?
                        .iter()
                        .filter_map(map::contact),
                );
            }
        }
        if !contact_ids.is_empty() {
            rows.extend(self.contacts_by_id(&contact_ids, "find_contacts").await?);
        }
        let ext_of = |c: &CrmContact| c.properties.get(ext_field).and_then(map::prop_text);
        let phone_of = |c: &CrmContact| c.properties.get("Phone").and_then(map::prop_text);
        let found: Vec<Option<CrmContact>> = keys
            .iter()
            .map(|k| {
                let by_id = k
                    .crm_id
                    .as_ref()
                    .and_then(|id| rows.iter().find(|c| &c.crm_id == id));
                let by_ext = || {
                    k.external_ids.iter().find_map(|s| {
                        let s = s.to_string();
                        rows.iter()
                            .find(|c| ext_of(c).is_some_and(|e| e.eq_ignore_ascii_case(&s)))
                    })
                };
                let by_email = || {
                    k.email.as_ref().and_then(|e| {
                        rows.iter().find(|c| {
                            c.email
                                .as_ref()
                                .is_some_and(|m| m.normalized() == e.normalized())
                        })
                    })
                };
                // Phones are shared (households, offices): a phone alone identifies a
                // person only when exactly one record carries it.
                let by_phone = || {
                    let phone = k.phone.as_deref().map(str::trim)?;
                    let holders: HashSet<&str> = rows
                        .iter()
                        .filter(|c| phone_of(c).is_some_and(|p| p.trim() == phone))
                        .map(|c| c.crm_id.as_str())
                        .collect();
                    let only = (holders.len() == 1).then(|| holders.into_iter().next())??;
                    rows.iter().find(|c| c.crm_id == only)
                };
                by_id
                    .or_else(by_ext)
                    .or_else(by_email)
                    .or_else(by_phone)
                    .cloned()
            })
            .collect();
        if lead {
            self.follow_conversions(found).await
        } else {
            Ok(found)
        }
    }

    pub(super) async fn upsert_contacts_impl(
        &self,
        contacts: &[ContactUpsert],
    ) -> Result<Vec<RecordOutcome>> {
        if !start_batch(contacts.len(), "upsert_contacts")? {
            return Ok(Vec::new());
        }
        let sobject = self.person();
        let fields = self.fields_of(sobject, false).await?;
        let mut out: Vec<Option<RecordOutcome>> = contacts.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        for (i, input) in contacts.iter().enumerate() {
            let key = input.key.as_str();
            let mut body = map::record(&input.properties);
            body.remove(&self.config.external_id_field);
            if let Some(email) = &input.identity.email {
                body.entry("Email")
                    .or_insert_with(|| Value::String(email.as_str().to_owned()));
            }
            let checked = match self.person_ext(input) {
                None => Err(invalid(
                    key,
                    "Email",
                    "a contact needs an email or an external id",
                )),
                Some(ext) => Self::check_fields(key, sobject, &body, &fields).map(|()| ext),
            };
            match checked {
                Ok(ext) => pending.push((
                    i,
                    Pending {
                        key: key.to_owned(),
                        ext,
                        body,
                    },
                )),
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        let pending = self.adopt(sobject, contacts, pending, &mut out).await?;
        self.upsert_rounds(
            sobject,
            &self.config.external_id_field,
            pending,
            &mut out,
            "upsert_contacts",
        )
        .await?;
        Ok(collect(contacts.iter().map(|c| c.key.as_str()), out))
    }
}
