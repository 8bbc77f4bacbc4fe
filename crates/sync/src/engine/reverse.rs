//! CRM-to-store (recipe 8): a CRM property change, list membership or form submission puts
//! the customer into a store customer group.
//!
//! Loop guard: echoes of our own CRM writes never get here (intake drops events flagged
//! `is_own_write`), and the store's echo of the group change (a customer-updated webhook)
//! maps to the same contact properties as before, so change detection skips the CRM write.

use cartograph_connector::{Error, ErrorKind};
use cartograph_model::{CrmEvent, CrmEventKind, EmailAddress, IdentityKeys};

use super::Engine;
use crate::queue_item::ItemOutcome;

impl Engine {
    pub(crate) async fn handle_crm_event(&self, event: &CrmEvent) -> ItemOutcome {
        if event.is_own_write {
            return ItemOutcome::Done;
        }
        let reverse = &self.config.recipes.reverse;
        let (target, contact, email) = match &event.kind {
            CrmEventKind::ContactPropertyChanged {
                crm_id,
                property,
                value,
            } => {
                if reverse.group_property.as_deref() != Some(property.as_str()) {
                    return ItemOutcome::Done;
                }
                let Some(group) = value.as_ref().and_then(|v| reverse.groups_by_value.get(v))
                else {
                    return ItemOutcome::Done;
                };
                (group.clone(), Some(crm_id.clone()), None)
            }
            CrmEventKind::MembershipChanged { change } if change.added => {
                let Some(group) = reverse.groups_by_list.get(&change.list_id) else {
                    return ItemOutcome::Done;
                };
                (group.clone(), Some(change.contact_crm_id.clone()), None)
            }
            CrmEventKind::FormSubmitted { submission } => {
                let Some(group) = reverse.groups_by_form.get(&submission.form_id) else {
                    return ItemOutcome::Done;
                };
                (
                    group.clone(),
                    submission.contact_crm_id.clone(),
                    submission.email.clone(),
                )
            }
            CrmEventKind::Unhandled { topic, .. } => {
                return ItemOutcome::Dead {
                    stage: "unhandled",
                    error: Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "CRM event type {topic:?} is not handled (check the app's webhook \
                             subscriptions)"
                        ),
                    ),
                };
            }
            _ => return ItemOutcome::Done,
        };
        match self.assign_group(&target, contact, email).await {
            Ok(()) => ItemOutcome::Done,
            Err(error) => ItemOutcome::from_error("store_write", error),
        }
    }

    async fn assign_group(
        &self,
        group: &str,
        crm_id: Option<String>,
        email: Option<EmailAddress>,
    ) -> Result<(), Error> {
        let Some(writer) = &self.writer else {
            return Err(Error::new(
                ErrorKind::Config,
                "CRM-to-store rule configured but the pipeline has no commerce writer",
            ));
        };
        let email = match email {
            Some(e) => e,
            None => {
                let keys = IdentityKeys {
                    crm_id: crm_id.clone(),
                    ..IdentityKeys::default()
                };
                let found = self.sink.find_contacts(std::slice::from_ref(&keys)).await?;
                match found.into_iter().next().flatten().and_then(|c| c.email) {
                    Some(e) => e,
                    None => {
                        return Err(Error::new(
                            ErrorKind::NotFound,
                            "CRM contact has no email to find the store customer by",
                        )
                        .with_record(format!("crm/contact/{}", crm_id.unwrap_or_default()))
                        .with_field("email"));
                    }
                }
            }
        };
        let customers = writer
            .find_customers_by_email(std::slice::from_ref(&email))
            .await?;
        let Some(customer) = customers.into_iter().find(|c| !c.is_guest) else {
            // A CRM contact who has no store account: nothing to assign.
            tracing::debug!(email = %email.normalized(), "no store customer for CRM contact");
            return Ok(());
        };
        if customer.customer_group_ids.iter().any(|g| g == group) {
            self.counters.add_unchanged(1);
            return Ok(());
        }
        writer
            .assign_customer_group(&customer.source.id, group)
            .await?;
        self.counters.add_written(1);
        Ok(())
    }
}
