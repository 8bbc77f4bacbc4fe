//! `CrmSink` for [`MemoryCrm`].

use std::collections::BTreeMap;

use cartograph_connector::{
    Capabilities, CrmSink, EnrollmentMethod, Error, ErrorKind, RecordOutcome, Result, WriteStatus,
    async_trait,
};
use cartograph_model::{
    Association, ContactUpsert, CrmContact, CrmObjectType, EnrollmentRequest, EnrollmentTarget,
    IdentityKeys, OrderObject, OrderRecord, ProductRecord, PropertyDefinition, TaskRequest,
};

use super::crm::MemoryCrm;
use super::crm_state::{MemoryEnrollment, MemoryOrder, MemoryProduct, MemoryTask};
use super::crm_write::Target;

/// Keys that occur more than once in a batch.
fn repeated<'a>(keys: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for k in keys {
        *seen.entry(k).or_default() += 1;
    }
    seen.retain(|_, n| *n > 1);
    seen
}

fn method(target: &EnrollmentTarget) -> EnrollmentMethod {
    match target {
        EnrollmentTarget::Workflow { .. } => EnrollmentMethod::Workflow,
        EnrollmentTarget::List { .. } => EnrollmentMethod::List,
        EnrollmentTarget::Campaign { .. } => EnrollmentMethod::Campaign,
        EnrollmentTarget::Automation { .. } => EnrollmentMethod::Automation,
        EnrollmentTarget::TriggerProperty { .. } => EnrollmentMethod::TriggerProperty,
    }
}

#[async_trait]
impl CrmSink for MemoryCrm {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn capabilities(&self) -> Capabilities {
        self.shared.capabilities.clone()
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.begin("find_contacts", true, keys.len())?;
        let state = self.state();
        Ok(keys
            .iter()
            .map(|k| {
                let id = k
                    .crm_id
                    .as_ref()
                    .filter(|id| state.contacts.contains_key(*id))
                    .or_else(|| {
                        k.email
                            .iter()
                            .chain(&k.secondary_emails)
                            .find_map(|e| state.contact_by_email(e))
                    })?;
                state.contacts.get(id).cloned()
            })
            .collect())
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        self.begin("upsert_contacts", true, contacts.len())?;
        let mut state = self.state();
        let targets: Vec<_> = contacts.iter().map(|c| self.target(&state, c)).collect();
        let mut per_target: BTreeMap<Target, usize> = BTreeMap::new();
        for t in targets.iter().flatten() {
            *per_target.entry(t.clone()).or_default() += 1;
        }
        let mut outcomes = Vec::with_capacity(contacts.len());
        for (input, target) in contacts.iter().zip(targets) {
            let outcome = match target {
                Err(e) => Self::failed(&mut state, &input.key, e),
                Ok(t) if per_target.get(&t).copied().unwrap_or(0) > 1 => {
                    let e = self
                        .error(
                            ErrorKind::Invalid,
                            "upsert_contacts",
                            "two inputs for the same contact in one batch",
                        )
                        .with_vendor_code("DUPLICATE_INPUT")
                        .with_record(input.key.clone());
                    Self::failed(&mut state, &input.key, e)
                }
                Ok(t) => self.apply_upsert(&mut state, input, t),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        let op = "record_orders";
        self.begin(op, self.shared.capabilities.orders, orders.len())?;
        let mut state = self.state();
        let dupes = repeated(orders.iter().map(|o| o.key.as_str()));
        let mut outcomes = Vec::with_capacity(orders.len());
        for o in orders {
            let object = match o.object {
                OrderObject::Deal => CrmObjectType::Deal,
                OrderObject::Order => CrmObjectType::Order,
            };
            let problem = if dupes.contains_key(o.key.as_str()) {
                Some(
                    self.error(
                        ErrorKind::Invalid,
                        op,
                        "the same order key twice in one batch",
                    )
                    .with_vendor_code("DUPLICATE_INPUT")
                    .with_record(o.key.clone()),
                )
            } else {
                self.shared
                    .faults
                    .record_failure(&self.shared.name, op, &o.key)
                    .or_else(|| self.unknown_property(&state, op, &o.key, &object, &o.properties))
                    .or_else(|| {
                        o.line_items.iter().find_map(|l| {
                            self.unknown_property(
                                &state,
                                op,
                                &o.key,
                                &CrmObjectType::LineItem,
                                &l.properties,
                            )
                        })
                    })
            };
            let contact = match problem {
                Some(e) => Err(e),
                None => self.resolve(&state, op, &o.key, o.contact.as_ref()),
            };
            let outcome = match contact {
                Err(e) => Self::failed(&mut state, &o.key, e),
                Ok(contact_id) => match state.orders.get_mut(&o.key) {
                    Some(existing)
                        if existing.record == *o && existing.contact_id == contact_id =>
                    {
                        RecordOutcome::unchanged(o.key.clone(), Some(existing.crm_id.clone()))
                    }
                    Some(existing) => {
                        existing.record = o.clone();
                        existing.contact_id = contact_id;
                        existing.versions += 1;
                        let id = existing.crm_id.clone();
                        state.counts.orders_updated += 1;
                        RecordOutcome::updated(o.key.clone(), id)
                    }
                    None => {
                        let id = state.next_id("order");
                        state.orders.insert(
                            o.key.clone(),
                            MemoryOrder {
                                crm_id: id.clone(),
                                record: o.clone(),
                                contact_id,
                                versions: 1,
                            },
                        );
                        state.counts.orders_created += 1;
                        RecordOutcome::created(o.key.clone(), id)
                    }
                },
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        let op = "upsert_products";
        self.begin(op, self.shared.capabilities.products, products.len())?;
        let mut state = self.state();
        let mut outcomes = Vec::with_capacity(products.len());
        for p in products {
            let problem = self
                .shared
                .faults
                .record_failure(&self.shared.name, op, &p.key)
                .or_else(|| {
                    self.unknown_property(
                        &state,
                        op,
                        &p.key,
                        &CrmObjectType::Product,
                        &p.properties,
                    )
                });
            let outcome = if let Some(e) = problem {
                Self::failed(&mut state, &p.key, e)
            } else if let Some(existing) = state.products.get_mut(&p.key) {
                if existing.record == *p {
                    RecordOutcome::unchanged(p.key.clone(), Some(existing.crm_id.clone()))
                } else {
                    existing.record = p.clone();
                    let id = existing.crm_id.clone();
                    state.counts.products_written += 1;
                    RecordOutcome::updated(p.key.clone(), id)
                }
            } else {
                let id = state.next_id("product");
                state.products.insert(
                    p.key.clone(),
                    MemoryProduct {
                        crm_id: id.clone(),
                        record: p.clone(),
                    },
                );
                state.counts.products_written += 1;
                RecordOutcome::created(p.key.clone(), id)
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn associate(&self, associations: &[Association]) -> Result<Vec<RecordOutcome>> {
        self.begin("associate", true, associations.len())?;
        let mut state = self.state();
        Ok(associations
            .iter()
            .map(|a| {
                let key = format!(
                    "{}:{}->{}:{}",
                    a.from.object, a.from.id, a.to.object, a.to.id
                );
                if state.associations.contains(a) {
                    RecordOutcome::unchanged(key, None)
                } else {
                    state.associations.push(a.clone());
                    RecordOutcome::created(key.clone(), key)
                }
            })
            .collect())
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        let op = "create_tasks";
        self.begin(op, self.shared.capabilities.tasks, tasks.len())?;
        let mut state = self.state();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for t in tasks {
            if let Some(existing) = state.tasks.get(&t.key) {
                outcomes.push(RecordOutcome::unchanged(
                    t.key.clone(),
                    Some(existing.crm_id.clone()),
                ));
                continue;
            }
            let contact = match self
                .shared
                .faults
                .record_failure(&self.shared.name, op, &t.key)
            {
                Some(e) => Err(e),
                None => self.resolve(&state, op, &t.key, t.contact.as_ref()),
            };
            let outcome = match contact {
                Err(e) => Self::failed(&mut state, &t.key, e),
                Ok(contact_id) => {
                    let id = state.next_id("task");
                    state.tasks.insert(
                        t.key.clone(),
                        MemoryTask {
                            crm_id: id.clone(),
                            request: t.clone(),
                            contact_id,
                        },
                    );
                    state.counts.tasks_created += 1;
                    RecordOutcome::created(t.key.clone(), id)
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        let op = "enroll";
        let caps = &self.shared.capabilities;
        self.begin(op, !caps.enrollment.is_empty(), requests.len())?;
        let mut state = self.state();
        let mut outcomes = Vec::with_capacity(requests.len());
        for r in requests {
            if r.origin.is_historical() {
                outcomes.push(RecordOutcome::unchanged(r.key.clone(), None));
                continue;
            }
            if !caps.enrollment.contains(&method(&r.target)) {
                let e = Error::unsupported(self.shared.name.clone(), op).with_record(r.key.clone());
                outcomes.push(Self::failed(&mut state, &r.key, e));
                continue;
            }
            if state.enrollments.iter().any(|e| e.key == r.key) {
                outcomes.push(RecordOutcome::unchanged(r.key.clone(), None));
                continue;
            }
            let contact = match self
                .shared
                .faults
                .record_failure(&self.shared.name, op, &r.key)
            {
                Some(e) => Err(e),
                None => self.resolve(&state, op, &r.key, Some(&r.contact)),
            };
            let outcome = match contact {
                Err(e) => Self::failed(&mut state, &r.key, e),
                Ok(contact_id) => {
                    state.enrollments.push(MemoryEnrollment {
                        key: r.key.clone(),
                        contact_id: contact_id.unwrap_or_default(),
                        target: r.target.clone(),
                        reason: r.reason.clone(),
                    });
                    state.counts.enrollments += 1;
                    RecordOutcome::created(r.key.clone(), r.key.clone())
                }
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        let op = "ensure_properties";
        self.begin(
            op,
            self.shared.capabilities.property_definitions,
            definitions.len(),
        )?;
        let mut state = self.state();
        Ok(definitions
            .iter()
            .map(|d| {
                let key = (d.object.clone(), d.name.clone());
                let status = match state.properties.get(&key) {
                    Some(existing) if existing == d => WriteStatus::Unchanged,
                    Some(_) => WriteStatus::Updated,
                    None => WriteStatus::Created,
                };
                if !matches!(status, WriteStatus::Unchanged) {
                    state.properties.insert(key, d.clone());
                    state.counts.properties_written += 1;
                }
                RecordOutcome {
                    key: d.name.clone(),
                    id: Some(d.name.clone()),
                    status,
                }
            })
            .collect())
    }
}
