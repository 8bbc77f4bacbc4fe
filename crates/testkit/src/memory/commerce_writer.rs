//! `CommerceWriter` for [`MemoryCommerce`].

use cartograph_connector::{
    Capabilities, CommerceWriter, Error, ErrorKind, RecordOutcome, Result, async_trait,
};
use cartograph_model::{
    Customer, CustomerGroup, CustomerWrite, EmailAddress, RecordKind, SourceRef,
};

use super::commerce::{CommerceState, MemoryCommerce};

impl MemoryCommerce {
    fn writer_begin(&self, operation: &'static str, allowed: bool) -> Result<()> {
        self.shared.faults.check(&self.shared.name, operation)?;
        if allowed {
            Ok(())
        } else {
            Err(Error::unsupported(self.shared.name.clone(), operation))
        }
    }

    fn write_one(&self, state: &mut CommerceState, w: &CustomerWrite) -> RecordOutcome {
        let name = &self.shared.name;
        let fail = |kind, field: &str, message: &str| {
            RecordOutcome::failed(
                w.key.clone(),
                Error::new(kind, message)
                    .with_connector(name.clone())
                    .with_operation("upsert_customers")
                    .with_record(w.key.clone())
                    .with_field(field.to_owned()),
            )
        };
        if let Some(err) = self
            .shared
            .faults
            .record_failure(name, "upsert_customers", &w.key)
        {
            return RecordOutcome::failed(w.key.clone(), err);
        }
        if let Some(group) = &w.customer_group_id
            && !state.groups.contains_key(group)
        {
            return fail(
                ErrorKind::Invalid,
                "customer_group_id",
                "no such customer group",
            );
        }
        let (existing, id) = if let Some(id) = &w.id {
            match state.customers.get(id) {
                Some(c) => (Some(c.clone()), id.clone()),
                None => return fail(ErrorKind::NotFound, "id", "no such customer"),
            }
        } else {
            let Some(email) = &w.email else {
                return fail(ErrorKind::Invalid, "email", "email is required to create");
            };
            if state.emails.contains_key(email.normalized()) {
                return fail(ErrorKind::Conflict, "email", "email already in use");
            }
            (None, state.next_id("cust"))
        };
        let before = existing.clone();
        let mut customer = existing.unwrap_or_else(|| {
            Customer::new(SourceRef::new(
                name.clone(),
                RecordKind::Customer,
                id.clone(),
            ))
        });
        apply(&mut customer, w);
        if before.as_ref() == Some(&customer) {
            return RecordOutcome::unchanged(w.key.clone(), Some(id));
        }
        let now = self.shared.clock.now();
        if before.is_none() {
            customer.created_at = Some(now);
        }
        customer.updated_at = Some(now);
        match state.put_customer(name, customer) {
            Ok(()) if before.is_none() => RecordOutcome::created(w.key.clone(), id),
            Ok(()) => RecordOutcome::updated(w.key.clone(), id),
            Err(e) => RecordOutcome::failed(
                w.key.clone(),
                e.with_operation("upsert_customers")
                    .with_record(w.key.clone()),
            ),
        }
    }
}

fn apply(c: &mut Customer, w: &CustomerWrite) {
    fn set<T: Clone>(field: &mut Option<T>, value: Option<&T>) {
        if let Some(v) = value {
            *field = Some(v.clone());
        }
    }
    set(&mut c.email, w.email.as_ref());
    set(&mut c.first_name, w.first_name.as_ref());
    set(&mut c.last_name, w.last_name.as_ref());
    set(&mut c.phone, w.phone.as_ref());
    set(&mut c.company, w.company.as_ref());
    if let Some(group) = &w.customer_group_id {
        c.customer_group_ids = vec![group.clone()];
    }
    if let Some(state) = w.email_consent
        && c.consent.email.state != state
    {
        c.consent.email.state = state;
        c.consent.email.source = Some("api".to_owned());
    }
    for (k, v) in &w.custom {
        c.custom.insert(k.clone(), v.clone());
    }
}

#[async_trait]
impl CommerceWriter for MemoryCommerce {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn capabilities(&self) -> Capabilities {
        self.shared.capabilities.clone()
    }

    async fn find_customers_by_email(&self, emails: &[EmailAddress]) -> Result<Vec<Customer>> {
        self.writer_begin(
            "find_customers_by_email",
            self.shared.capabilities.customer_writes,
        )?;
        let state = self.read();
        let mut found: Vec<Customer> = Vec::new();
        for email in emails {
            if let Some(c) = state
                .emails
                .get(email.normalized())
                .and_then(|id| state.customers.get(id))
                && !found.iter().any(|f| f.source.id == c.source.id)
            {
                found.push(c.clone());
            }
        }
        Ok(found)
    }

    async fn upsert_customers(&self, writes: &[CustomerWrite]) -> Result<Vec<RecordOutcome>> {
        self.writer_begin("upsert_customers", self.shared.capabilities.customer_writes)?;
        if writes.len() > self.shared.max_batch {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "batch of {} is over the maximum of {}",
                    writes.len(),
                    self.shared.max_batch
                ),
            )
            .with_connector(self.shared.name.clone())
            .with_operation("upsert_customers")
            .with_status(400));
        }
        let mut state = self.write();
        Ok(writes
            .iter()
            .map(|w| self.write_one(&mut state, w))
            .collect())
    }

    async fn create_customer_group(&self, name: &str) -> Result<CustomerGroup> {
        self.writer_begin(
            "create_customer_group",
            self.shared.capabilities.customer_groups,
        )?;
        let mut state = self.write();
        if let Some(g) = state.groups.values().find(|g| g.name == name) {
            return Ok(g.clone());
        }
        let id = state.next_id("group");
        let group = CustomerGroup {
            source: SourceRef::new(
                self.shared.name.clone(),
                RecordKind::CustomerGroup,
                id.clone(),
            ),
            name: name.to_owned(),
            is_default: false,
        };
        state.groups.insert(id, group.clone());
        Ok(group)
    }

    async fn assign_customer_group(&self, customer_id: &str, group_id: &str) -> Result<()> {
        self.writer_begin(
            "assign_customer_group",
            self.shared.capabilities.customer_groups,
        )?;
        let now = self.shared.clock.now();
        let mut state = self.write();
        let not_found = |what: &str, id: &str| {
            Error::new(ErrorKind::NotFound, format!("no such {what}"))
                .with_connector(self.shared.name.clone())
                .with_operation("assign_customer_group")
                .with_record(id.to_owned())
        };
        if !state.groups.contains_key(group_id) {
            return Err(not_found("customer group", group_id));
        }
        let customer = state
            .customers
            .get_mut(customer_id)
            .ok_or_else(|| not_found("customer", customer_id))?;
        if customer.customer_group_ids != [group_id] {
            customer.customer_group_ids = vec![group_id.to_owned()];
            customer.updated_at = Some(now);
        }
        Ok(())
    }

    async fn add_to_segment(
        &self,
        segment_id: &str,
        customer_ids: &[String],
    ) -> Result<Vec<RecordOutcome>> {
        self.writer_begin("add_to_segment", self.shared.capabilities.segments)?;
        let mut state = self.write();
        let mut outcomes = Vec::with_capacity(customer_ids.len());
        for id in customer_ids {
            if !state.customers.contains_key(id) {
                outcomes.push(RecordOutcome::failed(
                    id.clone(),
                    Error::new(ErrorKind::NotFound, "no such customer")
                        .with_connector(self.shared.name.clone())
                        .with_operation("add_to_segment")
                        .with_record(id.clone()),
                ));
                continue;
            }
            let added = state
                .segments
                .entry(segment_id.to_owned())
                .or_default()
                .insert(id.clone());
            outcomes.push(if added {
                RecordOutcome::created(id.clone(), id.clone())
            } else {
                RecordOutcome::unchanged(id.clone(), Some(id.clone()))
            });
        }
        Ok(outcomes)
    }
}
