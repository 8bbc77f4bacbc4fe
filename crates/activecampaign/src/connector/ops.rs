//! The per-record operations behind the `CrmSink` methods.

use std::collections::HashMap;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{
    ContactRef, ContactUpsert, CrmObjectType, EnrollmentRequest, EnrollmentTarget, OrderRecord,
    PropertyDefinition, TaskRequest,
};

use super::ActiveCampaign;
use crate::error::CONNECTOR;
use crate::map;

impl ActiveCampaign {
    pub(super) async fn upsert_one(&self, input: &ContactUpsert) -> Result<RecordOutcome> {
        let key = input.key.as_str();
        let existing = match (&input.identity.email, &input.identity.crm_id) {
            (Some(email), _) => self.client.find_contact_by_email(email.as_str()).await?,
            (None, Some(id)) => self.client.get_contact(id).await?,
            (None, None) => {
                return Err(Error::invalid_field(
                    key,
                    "email",
                    "a contact needs an email or a record id",
                ));
            }
        };
        let email = match (&input.identity.email, &existing) {
            (Some(email), Some(found)) if found.email.eq_ignore_ascii_case(email.as_str()) => {
                found.email.clone()
            }
            (Some(email), _) => email.as_str().to_owned(),
            (None, Some(found)) => found.email.clone(),
            (None, None) => {
                return Err(
                    Error::new(ErrorKind::NotFound, "no contact with this record id")
                        .with_record(key.to_owned()),
                );
            }
        };
        let fields = if input.properties.keys().any(|k| {
            !map::STANDARD_CONTACT_FIELDS.contains(&k.as_str()) && k != map::ACCEPTS_MARKETING
        }) {
            self.fields(false).await?
        } else {
            HashMap::new()
        };
        let body = map::contact_sync(input, &email, &fields)?;
        let contact = self.client.sync_contact(&body).await?;
        let written = match existing {
            Some(_) => RecordOutcome::updated(key, contact.id.clone()),
            None => RecordOutcome::created(key, contact.id.clone()),
        };
        // The contact exists now: a failure of the steps after it (tags, the ecommerce
        // customer, the list) makes the outcome partial; `contact/sync` by email makes the
        // retry update the same contact.
        match self
            .after_sync(input, &email, &contact.id, existing.is_none())
            .await
        {
            Ok(()) => Ok(written),
            Err(e) => {
                let e = if e.record().is_some() {
                    e
                } else {
                    e.with_record(key.to_owned())
                };
                Ok(written.into_partial(e))
            }
        }
    }

    /// Tags a new contact, keeps its ecommerce customer's `acceptsMarketing` in step and
    /// subscribes it to the marketing list when it accepts.
    async fn after_sync(
        &self,
        input: &ContactUpsert,
        email: &str,
        contact_id: &str,
        new: bool,
    ) -> Result<()> {
        if new {
            for tag in &self.config.tags {
                let tag_id = self.tag_id(tag).await?;
                self.client.tag_contact(contact_id, &tag_id).await?;
            }
        }
        if input.properties.contains_key(map::ACCEPTS_MARKETING) {
            let accepts = map::accepts_marketing(&input.properties);
            self.ensure_ecom_customer(&input.properties, email, accepts)
                .await?;
            if accepts {
                let list = self.list_id().await?;
                self.subscribe(&list, contact_id).await?;
            }
        }
        Ok(())
    }

    /// A historical batch through `/import/bulk_import`: no lookups, tags and the list
    /// subscription travel with each contact (ActiveCampaign never re-subscribes someone who
    /// unsubscribed). Imports are queued, so outcomes are `Updated` without an id; a record
    /// the mapping refuses fails alone.
    pub(super) async fn bulk_upsert(
        &self,
        contacts: &[ContactUpsert],
    ) -> Result<Vec<RecordOutcome>> {
        let needs_fields = contacts.iter().any(|c| {
            c.properties.keys().any(|k| {
                !map::STANDARD_CONTACT_FIELDS.contains(&k.as_str()) && k != map::ACCEPTS_MARKETING
            })
        });
        let fields = if needs_fields {
            self.fields(false).await?
        } else {
            HashMap::new()
        };
        let list = if contacts
            .iter()
            .any(|c| map::accepts_marketing(&c.properties))
        {
            Some(self.list_id().await?)
        } else {
            None
        };
        let mut out: Vec<Option<RecordOutcome>> = Vec::with_capacity(contacts.len());
        let mut batch = Vec::new();
        for input in contacts {
            let Some(email) = &input.identity.email else {
                out.push(Some(RecordOutcome::failed(
                    input.key.clone(),
                    Error::invalid_field(input.key.clone(), "email", "bulk import needs an email"),
                )));
                continue;
            };
            match map::bulk_contact(
                input,
                email.as_str(),
                &fields,
                &self.config.tags,
                list.as_deref(),
            ) {
                Ok(contact) => {
                    batch.push(contact);
                    out.push(None);
                }
                Err(e) => out.push(Some(RecordOutcome::failed(input.key.clone(), e))),
            }
        }
        for chunk in batch.chunks(250) {
            self.imports.acquire().await;
            self.client.bulk_import(chunk).await?;
        }
        Ok(contacts
            .iter()
            .zip(out)
            .map(|(input, outcome)| {
                outcome.unwrap_or(RecordOutcome {
                    key: input.key.clone(),
                    id: None,
                    status: cartograph_connector::WriteStatus::Updated,
                })
            })
            .collect())
    }

    /// The buyer's ecommerce customer on the store's connection, created when missing
    /// (`externalid` = `ECOM_CUSTOMER_ID`, else the lower-cased email) with
    /// `acceptsMarketing` kept in step.
    async fn ensure_ecom_customer(
        &self,
        properties: &cartograph_model::PropertyMap,
        email: &str,
        accepts: bool,
    ) -> Result<String> {
        let connection = self.connection_id().await?;
        let wanted = if accepts { "1" } else { "0" };
        match self.client.find_ecom_customer(&connection, email).await? {
            Some(found) => {
                if found.accepts_marketing.as_deref() != Some(wanted) {
                    self.client
                        .set_accepts_marketing(&found.id, accepts)
                        .await?;
                }
                Ok(found.id)
            }
            None => {
                let externalid = properties
                    .get("ECOM_CUSTOMER_ID")
                    .map(map::field_text)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| email.to_lowercase());
                self.client
                    .create_ecom_customer(&connection, &externalid, email, accepts)
                    .await
            }
        }
    }

    pub(super) async fn order_one(&self, record: &OrderRecord) -> Result<RecordOutcome> {
        let key = record.key.as_str();
        let email = match &record.contact {
            Some(ContactRef::Email(email)) => email.as_str().to_owned(),
            Some(ContactRef::CrmId(id)) => self
                .client
                .get_contact(id)
                .await?
                .map(|c| c.email)
                .ok_or_else(|| Error::invalid_field(key, "contact", format!("no contact {id}")))?,
            None => match record.properties.get("email") {
                Some(v) => map::field_text(v),
                None => {
                    return Err(Error::invalid_field(
                        key,
                        "email",
                        "an ecommerce order needs the buyer's email",
                    ));
                }
            },
        };
        let connection = self.connection_id().await?;
        let customer = match self.client.find_ecom_customer(&connection, &email).await? {
            Some(c) => c.id,
            None => {
                self.client
                    .create_ecom_customer(&connection, &email.to_lowercase(), &email, false)
                    .await?
            }
        };
        let body = map::ecom_order(record, &email, &connection, &customer)?;
        let existing = match (&body.externalid, &body.externalcheckoutid) {
            (Some(id), checkout) => match self
                .client
                .find_ecom_order(&connection, "externalid", id)
                .await?
            {
                Some(found) => Some(found),
                // A converted cart: the cart record gains the order id.
                None => match checkout {
                    Some(cart) => {
                        self.client
                            .find_ecom_order(&connection, "externalcheckoutid", cart)
                            .await?
                    }
                    None => None,
                },
            },
            (None, Some(cart)) => {
                self.client
                    .find_ecom_order(&connection, "externalcheckoutid", cart)
                    .await?
            }
            (None, None) => None,
        };
        match existing {
            Some(found) => {
                self.client.update_ecom_order(&found.id, &body).await?;
                Ok(RecordOutcome::updated(key, found.id))
            }
            None => match self.client.create_ecom_order(&body).await {
                Ok(id) => Ok(RecordOutcome::created(key, id)),
                // Created by an earlier attempt whose answer was lost.
                Err(e) if e.kind() == ErrorKind::Conflict => {
                    let filter = if body.externalid.is_some() {
                        "externalid"
                    } else {
                        "externalcheckoutid"
                    };
                    let value = body
                        .externalid
                        .clone()
                        .or(body.externalcheckoutid.clone())
                        .unwrap_or_default();
                    match self
                        .client
                        .find_ecom_order(&connection, filter, &value)
                        .await?
                    {
                        Some(found) => {
                            self.client.update_ecom_order(&found.id, &body).await?;
                            Ok(RecordOutcome::updated(key, found.id))
                        }
                        None => Err(e),
                    }
                }
                Err(e) => Err(e),
            },
        }
    }

    pub(super) async fn task_one(&self, task: &TaskRequest) -> Result<RecordOutcome> {
        let key = task.key.as_str();
        let contact = match &task.contact {
            Some(c) => self.resolve_contact(c).await?,
            None => None,
        }
        .ok_or_else(|| {
            Error::invalid_field(
                key,
                "contact",
                "an ActiveCampaign note needs a known contact",
            )
        })?;
        let marker = format!("[cartograph:{key}]");
        if let Some(note) = self
            .client
            .contact_notes(&contact.crm_id)
            .await?
            .into_iter()
            .find(|n| n.note.contains(&marker))
        {
            return Ok(RecordOutcome::unchanged(key, Some(note.id)));
        }
        let mut text = format!("{}\n\n{}", task.subject, task.body);
        if let Some(order) = &task.order_key {
            text.push_str("\nOrder: ");
            text.push_str(order);
        }
        text.push('\n');
        text.push_str(&marker);
        let id = self.client.create_note(&contact.crm_id, &text).await?;
        Ok(RecordOutcome::created(key, id))
    }

    pub(super) async fn enroll_one(&self, request: &EnrollmentRequest) -> Result<RecordOutcome> {
        let key = request.key.as_str();
        if request.origin.is_historical() {
            return Ok(RecordOutcome::unchanged(key, None));
        }
        let contact = self
            .resolve_contact(&request.contact)
            .await?
            .ok_or_else(|| Error::invalid_field(key, "contact", "unknown contact"))?;
        match &request.target {
            EnrollmentTarget::Automation { id } => {
                let created = self.client.add_to_automation(&contact.crm_id, id).await?;
                Ok(RecordOutcome::created(key, created))
            }
            EnrollmentTarget::List { id } => {
                if self.subscribe(id, &contact.crm_id).await? {
                    Ok(RecordOutcome::created(key, contact.crm_id))
                } else {
                    Ok(RecordOutcome::unchanged(key, Some(contact.crm_id)))
                }
            }
            _ => Err(Error::unsupported(CONNECTOR, "enroll").with_record(key.to_owned())),
        }
    }

    pub(super) async fn property_one(
        &self,
        def: &PropertyDefinition,
        fields: &HashMap<String, String>,
    ) -> Result<RecordOutcome> {
        let key = def.name.as_str();
        if def.object != CrmObjectType::Contact
            || map::STANDARD_CONTACT_FIELDS.contains(&key)
            || key == map::ACCEPTS_MARKETING
        {
            // Deep Data objects have fixed fields; standard contact fields always exist.
            return Ok(RecordOutcome::unchanged(key, None));
        }
        let perstag = def.name.to_uppercase();
        if let Some(id) = fields.get(&perstag) {
            return Ok(RecordOutcome::unchanged(key, Some(id.clone())));
        }
        let id = self
            .client
            .create_field(
                &def.label,
                map::field_type(def.kind),
                &perstag,
                def.description.as_deref().unwrap_or(""),
            )
            .await?;
        if let Some(fields) = &mut self.cache.lock().await.fields {
            fields.insert(perstag, id.clone());
        }
        Ok(RecordOutcome::created(key, id))
    }
}
