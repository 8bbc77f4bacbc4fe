//! Write helpers of [`MemoryCrm`]: call checks, property checks, contact resolution and the
//! contact upsert itself.

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{
    ContactRef, ContactUpsert, CrmContact, CrmEventKind, CrmObjectType, IdentityKeys, PropertyMap,
};

use super::crm::MemoryCrm;
use super::crm_state::CrmState;

/// Where one upsert input goes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    Existing(String),
    New(String),
}

impl MemoryCrm {
    pub(crate) fn error(
        &self,
        kind: ErrorKind,
        operation: &'static str,
        message: impl Into<String>,
    ) -> Error {
        Error::new(kind, message)
            .with_connector(self.shared.name.clone())
            .with_operation(operation)
    }

    /// Fault check, capability check and batch size check of one call.
    pub(crate) fn begin(&self, operation: &'static str, allowed: bool, len: usize) -> Result<()> {
        self.shared.faults.check(&self.shared.name, operation)?;
        if !allowed {
            return Err(Error::unsupported(self.shared.name.clone(), operation));
        }
        if len > self.shared.max_batch {
            return Err(self
                .error(
                    ErrorKind::Invalid,
                    operation,
                    format!(
                        "batch of {len} is over the maximum of {}",
                        self.shared.max_batch
                    ),
                )
                .with_status(400));
        }
        Ok(())
    }

    /// The first undefined property among `properties`, as a per-record error.
    pub(crate) fn unknown_property(
        &self,
        state: &CrmState,
        operation: &'static str,
        key: &str,
        object: &CrmObjectType,
        properties: &PropertyMap,
    ) -> Option<Error> {
        if !self.shared.strict_properties {
            return None;
        }
        let name = properties.keys().find(|name| {
            !state
                .properties
                .contains_key(&(object.clone(), (*name).clone()))
        })?;
        Some(
            self.error(
                ErrorKind::Invalid,
                operation,
                format!("property {name} does not exist on {object}"),
            )
            .with_vendor_code("PROPERTY_DOESNT_EXIST")
            .with_record(key.to_owned())
            .with_field(name.clone()),
        )
    }

    pub(crate) fn failed(state: &mut CrmState, key: &str, error: Error) -> RecordOutcome {
        state.counts.failed += 1;
        RecordOutcome::failed(key.to_owned(), error)
    }

    pub(crate) fn resolve(
        &self,
        state: &CrmState,
        operation: &'static str,
        key: &str,
        contact: Option<&ContactRef>,
    ) -> std::result::Result<Option<String>, Error> {
        let found = match contact {
            None => return Ok(None),
            Some(ContactRef::CrmId(id)) => state.contacts.contains_key(id).then(|| id.clone()),
            Some(ContactRef::Email(email)) => state.contact_by_email(email).cloned(),
        };
        found.map(Some).ok_or_else(|| {
            self.error(ErrorKind::NotFound, operation, "contact not found")
                .with_record(key.to_owned())
                .with_field("contact")
        })
    }

    pub(crate) fn target(
        &self,
        state: &CrmState,
        input: &ContactUpsert,
    ) -> std::result::Result<Target, Error> {
        let op = "upsert_contacts";
        if let Some(err) = self
            .shared
            .faults
            .record_failure(&self.shared.name, op, &input.key)
        {
            return Err(err);
        }
        if let Some(err) = self.unknown_property(
            state,
            op,
            &input.key,
            &CrmObjectType::Contact,
            &input.properties,
        ) {
            return Err(err);
        }
        let IdentityKeys {
            email,
            secondary_emails,
            crm_id,
            ..
        } = &input.identity;
        if let Some(id) = crm_id {
            return if state.contacts.contains_key(id) {
                Ok(Target::Existing(id.clone()))
            } else {
                Err(self
                    .error(ErrorKind::NotFound, op, "no contact with this id")
                    .with_record(input.key.clone())
                    .with_field("crm_id"))
            };
        }
        let Some(email) = email else {
            return Err(self
                .error(ErrorKind::Invalid, op, "an email or a CRM id is required")
                .with_record(input.key.clone())
                .with_field("email"));
        };
        let known = std::iter::once(email)
            .chain(secondary_emails)
            .find_map(|e| state.contact_by_email(e));
        Ok(match known {
            Some(id) => Target::Existing(id.clone()),
            None => Target::New(email.normalized().to_owned()),
        })
    }

    pub(crate) fn apply_upsert(
        &self,
        state: &mut CrmState,
        input: &ContactUpsert,
        target: Target,
    ) -> RecordOutcome {
        let now = self.shared.clock.now();
        let app = Some(self.shared.app_id.as_str());
        let (id, created) = match target {
            Target::Existing(id) => (id, false),
            Target::New(_) => {
                let id = state.next_id("contact");
                let email = input.identity.email.clone();
                if let Some(e) = &email {
                    state.emails.insert(e.normalized().to_owned(), id.clone());
                }
                state.contacts.insert(
                    id.clone(),
                    CrmContact {
                        crm_id: id.clone(),
                        email,
                        secondary_emails: Vec::new(),
                        properties: PropertyMap::new(),
                        updated_at: Some(now),
                    },
                );
                state.event(
                    now,
                    app,
                    CrmEventKind::ContactCreated { crm_id: id.clone() },
                );
                (id, true)
            }
        };
        // Emails the contact does not have yet (and nobody else has) become secondary ones.
        let mut changed = false;
        let extra: Vec<_> = input
            .identity
            .email
            .iter()
            .chain(&input.identity.secondary_emails)
            .filter(|e| !state.emails.contains_key(e.normalized()))
            .cloned()
            .collect();
        for e in extra {
            state.emails.insert(e.normalized().to_owned(), id.clone());
            if let Some(c) = state.contacts.get_mut(&id) {
                c.secondary_emails.push(e);
                c.updated_at = Some(now);
                changed = true;
            }
        }
        changed |= state.set_properties(&id, &input.properties, now, app);
        if created {
            state.counts.contacts_created += 1;
            RecordOutcome::created(input.key.clone(), id)
        } else if changed {
            state.counts.contacts_updated += 1;
            RecordOutcome::updated(input.key.clone(), id)
        } else {
            state.counts.contacts_unchanged += 1;
            RecordOutcome::unchanged(input.key.clone(), Some(id))
        }
    }
}
