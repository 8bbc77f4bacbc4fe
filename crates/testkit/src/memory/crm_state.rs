//! The state behind [`MemoryCrm`](super::MemoryCrm) and the records it exposes for assertions.

use std::collections::BTreeMap;

use cartograph_model::{
    Association, CrmContact, CrmEventKind, CrmObjectType, EmailAddress, EnrollmentTarget,
    FormSubmission, MembershipChange, OrderRecord, ProductRecord, PropertyDefinition, PropertyMap,
    PropertyValue, TaskRequest, Timestamp,
};

use super::crm_source::MemoryCrmEvent;

/// A recorded order (deal, opportunity, commerce order).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryOrder {
    /// The CRM record id.
    pub crm_id: String,
    /// The last record written for its key.
    pub record: OrderRecord,
    /// The associated contact's id, when the record named a contact.
    pub contact_id: Option<String>,
    /// How many writes changed it (1 = created, never updated).
    pub versions: usize,
}

/// A recorded product.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryProduct {
    /// The CRM record id.
    pub crm_id: String,
    /// The last record written for its key.
    pub record: ProductRecord,
}

/// An opened task or case.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryTask {
    /// The CRM record id.
    pub crm_id: String,
    /// The request that opened it.
    pub request: TaskRequest,
    /// The contact it concerns, when the request named one.
    pub contact_id: Option<String>,
}

/// A live enrollment that was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEnrollment {
    /// The request key.
    pub key: String,
    /// The enrolled contact's id.
    pub contact_id: String,
    /// Where the contact went.
    pub target: EnrollmentTarget,
    /// Why.
    pub reason: String,
}

/// What the CRM's writes did so far, for assertions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    /// Contacts created by `upsert_contacts`.
    pub contacts_created: usize,
    /// Contacts changed by `upsert_contacts`.
    pub contacts_updated: usize,
    /// Contact upserts that changed nothing.
    pub contacts_unchanged: usize,
    /// Orders created.
    pub orders_created: usize,
    /// Orders changed.
    pub orders_updated: usize,
    /// Products created or changed.
    pub products_written: usize,
    /// Tasks created.
    pub tasks_created: usize,
    /// Enrollments recorded.
    pub enrollments: usize,
    /// Property definitions created or changed.
    pub properties_written: usize,
    /// Per-record failures of any write.
    pub failed: usize,
}

#[derive(Debug, Default)]
pub(crate) struct CrmState {
    pub(crate) contacts: BTreeMap<String, CrmContact>,
    /// Normalized email (primary or secondary) -> contact id.
    pub(crate) emails: BTreeMap<String, String>,
    pub(crate) properties: BTreeMap<(CrmObjectType, String), PropertyDefinition>,
    pub(crate) orders: BTreeMap<String, MemoryOrder>,
    pub(crate) products: BTreeMap<String, MemoryProduct>,
    pub(crate) tasks: BTreeMap<String, MemoryTask>,
    pub(crate) enrollments: Vec<MemoryEnrollment>,
    pub(crate) associations: Vec<Association>,
    pub(crate) events: Vec<MemoryCrmEvent>,
    pub(crate) delivered: usize,
    pub(crate) submissions: Vec<FormSubmission>,
    pub(crate) memberships: Vec<MembershipChange>,
    pub(crate) counts: WriteCounts,
    pub(crate) next_id: u64,
}

impl CrmState {
    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("mem-{prefix}-{}", self.next_id)
    }

    pub(crate) fn contact_by_email(&self, email: &EmailAddress) -> Option<&String> {
        self.emails.get(email.normalized())
    }

    pub(crate) fn event(&mut self, at: Timestamp, own_app: Option<&str>, kind: CrmEventKind) {
        let id = format!("mem-event-{}", self.events.len() + 1);
        self.events.push(MemoryCrmEvent {
            id,
            occurred_at: at,
            change_source: if own_app.is_some() {
                "INTEGRATION"
            } else {
                "CRM_UI"
            }
            .to_owned(),
            source_id: own_app.map(str::to_owned),
            kind,
        });
    }

    /// Sets properties on a contact, emitting one event per change; whether anything changed.
    pub(crate) fn set_properties(
        &mut self,
        crm_id: &str,
        properties: &PropertyMap,
        at: Timestamp,
        own_app: Option<&str>,
    ) -> bool {
        let mut changes = Vec::new();
        if let Some(contact) = self.contacts.get_mut(crm_id) {
            for (name, value) in properties {
                let changed = if *value == PropertyValue::Null {
                    contact.properties.remove(name).is_some()
                } else if contact.properties.get(name) == Some(value) {
                    false
                } else {
                    contact.properties.insert(name.clone(), value.clone());
                    true
                };
                if changed {
                    changes.push((name.clone(), text(value)));
                }
            }
            if !changes.is_empty() {
                contact.updated_at = Some(at);
            }
        }
        let changed = !changes.is_empty();
        for (property, value) in changes {
            self.event(
                at,
                own_app,
                CrmEventKind::ContactPropertyChanged {
                    crm_id: crm_id.to_owned(),
                    property,
                    value,
                },
            );
        }
        changed
    }
}

/// A property value as the text a CRM webhook carries (`None` = cleared).
pub(crate) fn text(value: &PropertyValue) -> Option<String> {
    match value {
        PropertyValue::String(s) | PropertyValue::Enumeration(s) => Some(s.clone()),
        PropertyValue::Number(n) => Some(n.to_string()),
        PropertyValue::Bool(b) => Some(b.to_string()),
        PropertyValue::Date(d) => Some(d.to_string()),
        PropertyValue::DateTime(t) => Some(t.to_rfc3339()),
        PropertyValue::MultiEnumeration(v) => Some(v.join(";")),
        PropertyValue::Null => None,
    }
}
