//! Tasks: `batch/upsert` by the unique task-key property (so a retry never opens a second
//! task), owner defaulting to the contact's owner, associated to the contact and the deal.

use std::collections::HashMap;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{ContactRef, OrderObject, TaskKind, TaskRequest, Timestamp};

use super::{HubSpotClient, outcome};
use crate::error::CONNECTOR;
use crate::map::task_priority;
use crate::wire::UpsertInput;

const OP: &str = "create_tasks";

fn not_found(key: &str, field: &str, message: &str) -> Error {
    Error::new(ErrorKind::NotFound, message.to_owned())
        .with_connector(CONNECTOR)
        .with_operation(OP)
        .with_record(key.to_owned())
        .with_field(field.to_owned())
        .with_retryable(true)
}

impl HubSpotClient {
    /// Opens tasks; idempotent by [`TaskRequest::key`]. Cases are not supported. A task
    /// written whose association to the contact or order then failed is
    /// [`Partial`](cartograph_connector::WriteStatus::Partial).
    ///
    /// # Errors
    /// The whole call failed before anything was written.
    pub async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        let m = &self.config.mapping;
        let mut outcomes: Vec<Option<RecordOutcome>> = tasks.iter().map(|_| None).collect();
        let refs: Vec<&ContactRef> = tasks.iter().filter_map(|t| t.contact.as_ref()).collect();
        let by_email = self.contact_ids(&refs, OP).await?;
        let order_object = match m.order_object.unwrap_or_default() {
            OrderObject::Deal => "0-3",
            OrderObject::Order => "orders",
        };
        let order_keys: Vec<String> = tasks.iter().filter_map(|t| t.order_key.clone()).collect();
        let orders = self
            .ids_by_unique(order_object, &m.order_id_property, &order_keys, OP)
            .await?;
        let mut contact_of: Vec<Option<String>> = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            let contact = match &task.contact {
                None => None,
                Some(ContactRef::CrmId(id)) => Some(id.clone()),
                Some(ContactRef::Email(e)) => {
                    let found = by_email.get(e.normalized()).cloned();
                    if found.is_none() {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &task.key,
                            not_found(
                                &task.key,
                                "contact",
                                "the task's contact is not in HubSpot yet",
                            ),
                        ));
                    }
                    found
                }
            };
            contact_of.push(contact);
            if task.kind == TaskKind::Case {
                outcomes[i] = Some(RecordOutcome::failed(
                    &task.key,
                    Error::unsupported(CONNECTOR, OP)
                        .with_record(task.key.clone())
                        .with_field("kind"),
                ));
            }
            if let Some(order) = &task.order_key {
                if outcomes[i].is_none() && !orders.contains_key(order) {
                    outcomes[i] = Some(RecordOutcome::failed(
                        &task.key,
                        not_found(
                            &task.key,
                            "order_key",
                            "the task's order is not in HubSpot yet",
                        ),
                    ));
                }
            }
        }
        // Owners default to the contact's owner.
        let need_owner: Vec<String> = tasks
            .iter()
            .zip(&contact_of)
            .filter(|(t, _)| t.owner_id.is_none())
            .filter_map(|(_, c)| c.clone())
            .collect();
        let owners: HashMap<String, String> = if need_owner.is_empty() {
            HashMap::new()
        } else {
            self.batch_read(
                "contacts",
                None,
                &need_owner,
                &["hubspot_owner_id".into()],
                OP,
            )
            .await?
            .into_iter()
            .filter_map(|o| {
                o.prop("hubspot_owner_id")
                    .map(|v| (o.id.clone(), v.to_owned()))
            })
            .collect()
        };
        let mut inputs = Vec::new();
        let mut idx = Vec::new();
        for (i, task) in tasks.iter().enumerate() {
            if outcomes[i].is_some() {
                continue;
            }
            let mut p = std::collections::BTreeMap::new();
            p.insert(m.task_key_property.clone(), task.key.clone());
            p.insert("hs_task_subject".into(), task.subject.clone());
            p.insert("hs_task_body".into(), task.body.clone());
            p.insert(
                "hs_task_priority".into(),
                task_priority(task.priority).into(),
            );
            p.insert("hs_task_status".into(), "NOT_STARTED".into());
            p.insert("hs_task_type".into(), "TODO".into());
            let due = task.due_at.unwrap_or_else(Timestamp::now);
            p.insert("hs_timestamp".into(), due.unix_millis().to_string());
            let owner = task
                .owner_id
                .clone()
                .or_else(|| contact_of[i].as_ref().and_then(|c| owners.get(c).cloned()));
            if let Some(owner) = owner {
                p.insert("hubspot_owner_id".into(), owner);
            }
            inputs.push(UpsertInput {
                id: task.key.clone(),
                id_property: Some(m.task_key_property.clone()),
                object_write_trace_id: None,
                properties: p,
            });
            idx.push(i);
        }
        if inputs.is_empty() {
            return Ok(finish(outcomes, tasks));
        }
        let slots = self
            .upsert_all("tasks", &m.task_key_property, &inputs, OP)
            .await?;
        let mut contact_links = Vec::new();
        let mut deal_links = Vec::new();
        let mut contact_owner = Vec::new();
        let mut deal_owner = Vec::new();
        for (i, slot) in idx.into_iter().zip(slots) {
            if let Ok(task) = &slot {
                if let Some(c) = &contact_of[i] {
                    contact_links.push((task.id.clone(), c.clone()));
                    contact_owner.push(i);
                }
                if let Some(d) = tasks[i].order_key.as_ref().and_then(|k| orders.get(k)) {
                    deal_links.push((task.id.clone(), d.clone()));
                    deal_owner.push(i);
                }
            }
            outcomes[i] = Some(outcome(&tasks[i].key, slot));
        }
        for (to, links, owners) in [
            ("contacts", contact_links, contact_owner),
            (order_object, deal_links, deal_owner),
        ] {
            if links.is_empty() {
                continue;
            }
            let results = self.associate_pairs("tasks", to, &links, None, OP).await;
            for (i, result) in owners.into_iter().zip(results) {
                if let Err(err) = result {
                    // The task exists: partial (first failure wins), a retry upserts it
                    // again by its key.
                    let err = err.with_record(tasks[i].key.clone());
                    outcomes[i] = outcomes[i].take().map(|o| o.into_partial(err));
                }
            }
        }
        Ok(finish(outcomes, tasks))
    }
}

fn finish(outcomes: Vec<Option<RecordOutcome>>, tasks: &[TaskRequest]) -> Vec<RecordOutcome> {
    outcomes
        .into_iter()
        .zip(tasks)
        .map(|(o, t)| o.unwrap_or_else(|| RecordOutcome::unchanged(&t.key, None)))
        .collect()
}
