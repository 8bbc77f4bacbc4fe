//! Enrollment. HubSpot has no v4 "enroll" call; the ways that exist: a trigger property a
//! workflow watches, a MANUAL/SNAPSHOT list membership, or the legacy v2 enroll-by-email
//! endpoint (when configured). Historical requests never enroll.

use cartograph_http::url::path_segment;
use std::collections::{BTreeMap, HashMap};

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_http::Request;
use cartograph_model::{ContactRef, EnrollmentRequest, EnrollmentTarget};

use super::{HubSpotClient, is_data_error, outcome};
use crate::error::CONNECTOR;
use crate::map::format_value;
use crate::wire::{MembershipsUpdateResponse, UpdateInput};

const OP: &str = "enroll";

impl HubSpotClient {
    /// Enrolls contacts; one outcome per request. Historical requests are `Unchanged`.
    ///
    /// # Errors
    /// The whole call failed before anything was written.
    pub async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        let mut outcomes: Vec<Option<RecordOutcome>> = requests.iter().map(|_| None).collect();
        let mut live = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            if r.origin.is_historical() {
                outcomes[i] = Some(RecordOutcome::unchanged(&r.key, None));
                continue;
            }
            match &r.target {
                EnrollmentTarget::Campaign { .. } | EnrollmentTarget::Automation { .. } => {
                    outcomes[i] = Some(RecordOutcome::failed(
                        &r.key,
                        Error::unsupported(CONNECTOR, OP)
                            .with_record(r.key.clone())
                            .with_field("target"),
                    ));
                }
                EnrollmentTarget::Workflow { .. } if !self.config.legacy_workflow_enrollment => {
                    outcomes[i] = Some(RecordOutcome::failed(
                        &r.key,
                        Error::new(ErrorKind::Unsupported, "workflow enrollment needs legacy_workflow_enrollment (v2 API); use a trigger property or a list")
                            .with_connector(CONNECTOR).with_operation(OP).with_record(r.key.clone()),
                    ));
                }
                _ => live.push(i),
            }
        }
        let refs: Vec<&ContactRef> = live.iter().map(|&i| &requests[i].contact).collect();
        let by_email = self.contact_ids(&refs, OP).await?;
        let mut ids: HashMap<usize, String> = HashMap::new();
        for &i in &live {
            let r = &requests[i];
            match &r.contact {
                ContactRef::CrmId(id) => {
                    ids.insert(i, id.clone());
                }
                ContactRef::Email(e) => match by_email.get(e.normalized()) {
                    Some(id) => {
                        ids.insert(i, id.clone());
                    }
                    None => {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &r.key,
                            Error::new(ErrorKind::NotFound, "contact not in HubSpot yet")
                                .with_connector(CONNECTOR)
                                .with_operation(OP)
                                .with_record(r.key.clone())
                                .with_field("contact")
                                .with_retryable(true),
                        ));
                    }
                },
            }
        }
        self.enroll_by_property(requests, &ids, &mut outcomes)
            .await?;
        self.enroll_in_lists(requests, &ids, &mut outcomes).await?;
        self.enroll_in_workflows(requests, &ids, &mut outcomes)
            .await?;
        Ok(outcomes
            .into_iter()
            .zip(requests)
            .map(|(o, r)| o.unwrap_or_else(|| RecordOutcome::unchanged(&r.key, None)))
            .collect())
    }

    async fn enroll_by_property(
        &self,
        requests: &[EnrollmentRequest],
        ids: &HashMap<usize, String>,
        outcomes: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        // One input per contact: a batch must never name a record twice.
        let mut per_contact: BTreeMap<String, (Vec<usize>, BTreeMap<String, String>)> =
            BTreeMap::new();
        for (i, r) in requests.iter().enumerate() {
            let (EnrollmentTarget::TriggerProperty { name, value }, Some(id)) =
                (&r.target, ids.get(&i))
            else {
                continue;
            };
            if outcomes[i].is_some() {
                continue;
            }
            match format_value(&r.key, name, value) {
                Ok(v) => {
                    let entry = per_contact.entry(id.clone()).or_default();
                    entry.0.push(i);
                    entry.1.insert(name.clone(), v);
                }
                Err(err) => {
                    outcomes[i] = Some(RecordOutcome::failed(&r.key, err.with_operation(OP)));
                }
            }
        }
        if per_contact.is_empty() {
            return Ok(());
        }
        let (members, inputs): (Vec<Vec<usize>>, Vec<UpdateInput>) = per_contact
            .into_iter()
            .map(|(id, (members, properties))| {
                (
                    members,
                    UpdateInput {
                        id,
                        object_write_trace_id: None,
                        properties,
                    },
                )
            })
            .unzip();
        let slots = self.update_all("contacts", inputs, OP).await?;
        for (members, slot) in members.into_iter().zip(slots) {
            for i in members {
                let copy = match &slot {
                    Ok(o) => Ok(o.clone()),
                    Err(e) => Err(e.clone()),
                };
                outcomes[i] = Some(outcome(&requests[i].key, copy));
            }
        }
        Ok(())
    }

    async fn enroll_in_lists(
        &self,
        requests: &[EnrollmentRequest],
        ids: &HashMap<usize, String>,
        outcomes: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        let mut per_list: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in requests.iter().enumerate() {
            if let (EnrollmentTarget::List { id }, true, None) =
                (&r.target, ids.contains_key(&i), &outcomes[i])
            {
                per_list.entry(id.clone()).or_default().push(i);
            }
        }
        for (list, members) in per_list {
            let mut record_ids: Vec<String> = Vec::new();
            for i in &members {
                if !record_ids.contains(&ids[i]) {
                    record_ids.push(ids[i].clone());
                }
            }
            let mut added = Vec::new();
            let mut missing = Vec::new();
            for chunk in record_ids.chunks(self.batch_size()) {
                let request = Request::put(format!(
                    "{}/{}/memberships/add",
                    self.paths.lists(),
                    path_segment(&list, "list id")?
                ))
                .operation(OP)
                .serialize_json(&chunk)?;
                match self.send(request).await {
                    Ok(response) => {
                        let body: MembershipsUpdateResponse = response.json()?;
                        added.extend(body.records_ids_added);
                        missing.extend(body.record_ids_missing);
                    }
                    Err(err) if is_data_error(&err) => {
                        for i in &members {
                            if chunk.contains(&ids[i]) {
                                outcomes[*i] = Some(RecordOutcome::failed(
                                    &requests[*i].key,
                                    err.clone().with_record(requests[*i].key.clone()),
                                ));
                            }
                        }
                    }
                    Err(err) => return Err(err),
                }
            }
            for i in members {
                if outcomes[i].is_some() {
                    continue;
                }
                let id = ids[&i].clone();
                let key = &requests[i].key;
                outcomes[i] = Some(if added.contains(&id) {
                    RecordOutcome::updated(key, id)
                } else if missing.contains(&id) {
                    RecordOutcome::failed(
                        key,
                        Error::new(ErrorKind::NotFound, "record is not in HubSpot")
                            .with_connector(CONNECTOR)
                            .with_operation(OP)
                            .with_record(key.clone()),
                    )
                } else {
                    // Already a member: HubSpot ignores it.
                    RecordOutcome::unchanged(key, Some(id))
                });
            }
        }
        Ok(())
    }

    async fn enroll_in_workflows(
        &self,
        requests: &[EnrollmentRequest],
        ids: &HashMap<usize, String>,
        outcomes: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        let wanted: Vec<usize> = (0..requests.len())
            .filter(|i| {
                matches!(requests[*i].target, EnrollmentTarget::Workflow { .. })
                    && ids.contains_key(i)
                    && outcomes[*i].is_none()
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let need: Vec<String> = wanted.iter().map(|i| ids[i].clone()).collect();
        let emails: HashMap<String, String> = self
            .batch_read("contacts", None, &need, &["email".into()], OP)
            .await?
            .into_iter()
            .filter_map(|o| o.prop("email").map(|e| (o.id.clone(), e.to_lowercase())))
            .collect();
        for i in wanted {
            let r = &requests[i];
            let EnrollmentTarget::Workflow { id: workflow } = &r.target else {
                continue;
            };
            let Some(email) = emails.get(&ids[&i]) else {
                outcomes[i] = Some(RecordOutcome::failed(
                    &r.key,
                    Error::new(ErrorKind::NotFound, "contact has no email")
                        .with_connector(CONNECTOR)
                        .with_operation(OP)
                        .with_record(r.key.clone()),
                ));
                continue;
            };
            let path = format!(
                "/automation/v2/workflows/{}/enrollments/contacts/{}",
                path_segment(workflow, "workflow id")?,
                path_segment(email, "email")?
            );
            match self.send(Request::post(path).operation(OP)).await {
                Ok(_) => outcomes[i] = Some(RecordOutcome::updated(&r.key, ids[&i].clone())),
                Err(err) if is_data_error(&err) => {
                    outcomes[i] = Some(RecordOutcome::failed(
                        &r.key,
                        err.with_record(r.key.clone()),
                    ));
                }
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}
