//! Tasks, Cases and Campaign enrollment.

use std::collections::BTreeMap;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{EnrollmentRequest, EnrollmentTarget, TaskKind, TaskRequest};
use serde_json::{Map, json};

use super::{Pending, Salesforce, collect, convert, invalid, is_fatal, start_batch};
use crate::config::PersonObject;
use crate::error::CONNECTOR;
use crate::map;

impl Salesforce {
    pub(super) async fn create_tasks_impl(
        &self,
        tasks: &[TaskRequest],
    ) -> Result<Vec<RecordOutcome>> {
        if !start_batch(tasks.len(), "create_tasks")? {
            return Ok(Vec::new());
        }
        let mut out: Vec<Option<RecordOutcome>> = tasks.iter().map(|_| None).collect();
        let lead = self.config.person_object == PersonObject::Lead;
        // Cases before tasks, always: once one object type is written, a fatal error on
        // the next fails its records, not the call.
        let mut by_object: BTreeMap<&'static str, Vec<(usize, Pending)>> = BTreeMap::new();
        for (i, task) in tasks.iter().enumerate() {
            let key = task.key.as_str();
            let who = match self.resolve(task.contact.as_ref()).await {
                Ok(who) => who,
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    out[i] = Some(RecordOutcome::failed(key, e.with_record(key.to_owned())));
                    continue;
                }
            };
            let mut description = task.body.clone();
            if let Some(order) = &task.order_key {
                description.push_str("\nOrder: ");
                description.push_str(order);
            }
            let mut body = Map::new();
            body.insert("Subject".into(), json!(task.subject));
            body.insert("Description".into(), json!(description));
            if let Some(owner) = self.config.routing.owner_for(task) {
                body.insert("OwnerId".into(), json!(owner));
            }
            let sobject = match task.kind {
                TaskKind::Case => {
                    body.insert("Priority".into(), json!(map::case_priority(task.priority)));
                    body.insert("Status".into(), json!("New"));
                    body.insert("Origin".into(), json!("Web"));
                    // Case.ContactId takes a Contact (a converted Lead resolves to one).
                    if let Some(who) = who.filter(|w| !lead || convert::is_contact_id(w)) {
                        body.insert("ContactId".into(), json!(who));
                    }
                    "Case"
                }
                TaskKind::Task => {
                    body.insert("Priority".into(), json!(map::task_priority(task.priority)));
                    body.insert("Status".into(), json!("Not Started"));
                    if let Some(due) = task.due_at {
                        body.insert("ActivityDate".into(), json!(due.date().to_string()));
                    }
                    if let Some(who) = who {
                        body.insert("WhoId".into(), json!(who));
                    }
                    "Task"
                }
            };
            by_object.entry(sobject).or_default().push((
                i,
                Pending {
                    key: key.to_owned(),
                    ext: key.to_owned(),
                    body,
                },
            ));
        }
        for (sobject, pending) in by_object {
            self.upsert_rounds(
                sobject,
                &self.config.external_id_field,
                pending,
                &mut out,
                "create_tasks",
            )
            .await?;
        }
        Ok(collect(tasks.iter().map(|t| t.key.as_str()), out))
    }

    pub(super) async fn enroll_impl(
        &self,
        requests: &[EnrollmentRequest],
    ) -> Result<Vec<RecordOutcome>> {
        let mut out = Vec::with_capacity(requests.len());
        let member_field = match self.config.person_object {
            PersonObject::Contact => "ContactId",
            PersonObject::Lead => "LeadId",
        };
        for request in requests {
            let key = request.key.as_str();
            if request.origin.is_historical() {
                out.push(RecordOutcome::unchanged(key, None));
                continue;
            }
            let EnrollmentTarget::Campaign { id: campaign } = &request.target else {
                out.push(RecordOutcome::failed(
                    key,
                    Error::unsupported(CONNECTOR, "enroll").with_record(key.to_owned()),
                ));
                continue;
            };
            let result = match self.resolve(Some(&request.contact)).await {
                Ok(Some(person)) => {
                    // A converted Lead resolves to its Contact.
                    let field = if convert::is_contact_id(&person) {
                        "ContactId"
                    } else {
                        member_field
                    };
                    let body = json!({
                        "CampaignId": campaign,
                        field: person,
                        "Status": self.config.campaign_member_status,
                    });
                    match self.client.create("CampaignMember", body, "enroll").await {
                        Ok(id) => Ok(RecordOutcome::created(key, id)),
                        // Already a member of this campaign.
                        Err(e) if e.kind() == ErrorKind::Conflict => {
                            Ok(RecordOutcome::unchanged(key, None))
                        }
                        Err(e) => Err(e),
                    }
                }
                Ok(None) => Err(invalid(key, "contact", "unknown contact")),
                Err(e) => Err(e),
            };
            match result {
                Ok(o) => out.push(o),
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => out.push(RecordOutcome::failed(key, e.with_record(key.to_owned()))),
            }
        }
        Ok(out)
    }
}
