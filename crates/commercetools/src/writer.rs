//! [`CommerceWriter`] for commercetools: find customers by email, create (`ExternalAuth`, no
//! password), update with `{version, actions}` retried on 409 `ConcurrentModification` by
//! re-reading, `DuplicateField` on create treated as "exists: fetch it and update", customer
//! group create and assignment.

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceWriter, Error, ErrorKind, RecordOutcome, Result, TransportStats,
};
use cartograph_http::Request;
use cartograph_model::{
    AttributeValue, ConsentState, Customer, CustomerGroup, CustomerWrite, EmailAddress,
};
use serde_json::{Value, json};

use crate::connector::{Commercetools, capabilities};
use crate::map;
use crate::wire;

/// Emails per `email in (...)` query.
pub const EMAIL_BATCH: usize = 50;
/// Customer writes per `upsert_customers` call (each is its own request: commercetools has
/// no batch writes).
pub const MAX_UPSERT: usize = 50;
/// Attempts of an update that meets `ConcurrentModification`.
pub const CONFLICT_ATTEMPTS: usize = 3;

/// A predicate string literal (`"..."`, with `\` and `"` escaped).
pub fn literal(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The update actions that bring `current` to `write` (empty when nothing changes).
pub fn update_actions(
    current: &wire::Customer,
    write: &CustomerWrite,
    opt_in_field: &str,
) -> Vec<Value> {
    let mut actions = Vec::new();
    let mut text = |action: &str, field: &str, now: Option<&String>, want: Option<&String>| {
        if let Some(want) = want
            && now != Some(want)
        {
            actions.push(json!({"action": action, field: want}));
        }
    };
    text(
        "setFirstName",
        "firstName",
        current.first_name.as_ref(),
        write.first_name.as_ref(),
    );
    text(
        "setLastName",
        "lastName",
        current.last_name.as_ref(),
        write.last_name.as_ref(),
    );
    text(
        "setCompanyName",
        "companyName",
        current.company_name.as_ref(),
        write.company.as_ref(),
    );
    if let Some(group) = &write.customer_group_id
        && current.customer_group.as_ref().and_then(|g| g.id.as_ref()) != Some(group)
    {
        actions.push(json!({"action": "setCustomerGroup",
            "customerGroup": {"typeId": "customer-group", "id": group}}));
    }
    // Custom fields need a custom type on the customer; without one they are not written.
    let Some(custom) = &current.custom else {
        if !write.custom.is_empty() || write.email_consent.is_some() {
            tracing::warn!(customer = %current.id, "customer has no custom type: custom fields not written");
        }
        return actions;
    };
    let mut field = |name: &str, value: Value| {
        if custom.fields.get(name) != Some(&value) {
            actions.push(json!({"action": "setCustomField", "name": name, "value": value}));
        }
    };
    match write.email_consent {
        Some(ConsentState::Subscribed) => field(opt_in_field, Value::Bool(true)),
        Some(ConsentState::Unsubscribed) => field(opt_in_field, Value::Bool(false)),
        _ => {}
    }
    for (name, value) in &write.custom {
        let json = match value {
            AttributeValue::String(s) | AttributeValue::Enum(s) => Value::String(s.clone()),
            AttributeValue::Bool(b) => Value::Bool(*b),
            AttributeValue::Number(n) => {
                serde_json::from_str(&n.to_string()).unwrap_or(Value::String(n.to_string()))
            }
            AttributeValue::Json(v) => v.clone(),
            other => Value::String(other.as_text().unwrap_or_default()),
        };
        field(name, json);
    }
    actions
}

fn create_body(write: &CustomerWrite, email: &EmailAddress) -> Value {
    let mut body = json!({"email": email.as_str(), "authenticationMode": "ExternalAuth"});
    for (name, value) in [
        ("firstName", &write.first_name),
        ("lastName", &write.last_name),
        ("companyName", &write.company),
    ] {
        if let Some(v) = value {
            body[name] = Value::String(v.clone());
        }
    }
    if let Some(group) = &write.customer_group_id {
        body["customerGroup"] = json!({"typeId": "customer-group", "id": group});
    }
    body
}

impl Commercetools {
    async fn raw_customers_by_email(&self, emails: &[EmailAddress]) -> Result<Vec<wire::Customer>> {
        let mut out = Vec::new();
        for chunk in emails.chunks(EMAIL_BATCH) {
            let list = chunk
                .iter()
                .map(|e| literal(e.normalized()))
                .collect::<Vec<_>>()
                .join(", ");
            let request = Request::get(format!(
                "{}customers",
                self.client().config().store_prefix()
            ))
            .operation("find_customers_by_email")
            .query("where", format!("email in ({list})"))
            .query("limit", crate::config::MAX_LIMIT.to_string())
            .query("withTotal", "false");
            let page: wire::PagedQueryResponse<wire::Customer> =
                self.client().http().send(request).await?.json()?;
            out.extend(page.results);
        }
        Ok(out)
    }

    async fn raw_customer(&self, id: &str) -> Result<wire::Customer> {
        self.client()
            .get::<wire::Customer>("customers", id, &[])
            .await?
            .ok_or_else(|| {
                Error::new(ErrorKind::NotFound, "customer not found")
                    .with_record(format!("customer {id}"))
            })
    }

    /// Re-reads and re-applies on `ConcurrentModification`. `Ok(None)` when unchanged.
    async fn update_customer(&self, id: &str, write: &CustomerWrite) -> Result<Option<String>> {
        let opt_in = self.client().config().marketing_opt_in_field.clone();
        let mut last = None;
        for _ in 0..CONFLICT_ATTEMPTS {
            let current = self.raw_customer(id).await?;
            let actions = update_actions(&current, write, &opt_in);
            if actions.is_empty() {
                return Ok(None);
            }
            let request = Request::post(format!(
                "{}customers/{}",
                self.client().config().store_prefix(),
                cartograph_http::url::path_segment(id, "customer id")?
            ))
            .operation("update_customer")
            .json(json!({"version": current.version, "actions": actions}));
            match self.client().http().send(request).await {
                Ok(_) => return Ok(Some(current.id)),
                Err(err) if err.vendor_code() == Some("ConcurrentModification") => last = Some(err),
                Err(err) => return Err(err),
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Conflict, "concurrent modification")))
    }

    async fn upsert_one(&self, write: &CustomerWrite) -> Result<RecordOutcome> {
        let key = write.key.clone();
        let existing = match (&write.id, &write.email) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(email)) => self
                .raw_customers_by_email(std::slice::from_ref(email))
                .await?
                .into_iter()
                .next()
                .map(|c| c.id),
            (None, None) => {
                return Err(Error::invalid_field(
                    key,
                    "email",
                    "a new customer needs an email",
                ));
            }
        };
        if let Some(id) = existing {
            return Ok(match self.update_customer(&id, write).await? {
                Some(id) => RecordOutcome::updated(key, id),
                None => RecordOutcome::unchanged(key, Some(id)),
            });
        }
        let Some(email) = &write.email else {
            return Err(Error::invalid_field(
                key,
                "email",
                "a new customer needs an email",
            ));
        };
        let request = Request::post(format!(
            "{}customers",
            self.client().config().store_prefix()
        ))
        .operation("create_customer")
        .json(create_body(write, email));
        match self.client().http().send(request).await {
            Ok(response) => {
                let created: Value = response.json()?;
                let id = created
                    .pointer("/customer/id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Error::new(ErrorKind::Decode, "sign-up result without customer.id")
                            .with_field("customer.id")
                    })?
                    .to_owned();
                // Custom fields need a type; apply them with an update when set.
                if !write.custom.is_empty() || write.email_consent.is_some() {
                    self.update_customer(&id, write).await?;
                }
                Ok(RecordOutcome::created(key, id))
            }
            Err(err) if err.vendor_code() == Some("DuplicateField") => {
                // Exists (created concurrently or in another store): fetch and update.
                let found = self
                    .raw_customers_by_email(std::slice::from_ref(email))
                    .await?
                    .into_iter()
                    .next()
                    .ok_or(err)?;
                Ok(match self.update_customer(&found.id, write).await? {
                    Some(id) => RecordOutcome::updated(key, id),
                    None => RecordOutcome::unchanged(key, Some(found.id)),
                })
            }
            Err(err) => Err(err),
        }
    }
}

#[async_trait]
impl CommerceWriter for Commercetools {
    fn name(&self) -> &str {
        "commercetools"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            customer_writes: true,
            customer_groups: true,
            max_batch: MAX_UPSERT,
            ..capabilities()
        }
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client().stats())
    }

    async fn find_customers_by_email(&self, emails: &[EmailAddress]) -> Result<Vec<Customer>> {
        let ctx = self.context();
        self.raw_customers_by_email(emails)
            .await?
            .iter()
            .map(|c| map::customer(&ctx, c))
            .collect()
    }

    async fn upsert_customers(&self, writes: &[CustomerWrite]) -> Result<Vec<RecordOutcome>> {
        let max = CommerceWriter::capabilities(self).max_batch;
        if writes.len() > max {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "{} customer writes in one call; the commercetools writer takes at most {max}",
                    writes.len()
                ),
            )
            .with_connector("commercetools")
            .with_operation("upsert_customers"));
        }
        let mut out = Vec::with_capacity(writes.len());
        for write in writes {
            out.push(match self.upsert_one(write).await {
                Ok(outcome) => outcome,
                Err(err) => RecordOutcome::failed(write.key.clone(), err),
            });
        }
        Ok(out)
    }

    async fn create_customer_group(&self, name: &str) -> Result<CustomerGroup> {
        let request = Request::post("customer-groups")
            .operation("create_customer_group")
            .json(json!({"groupName": name}));
        let group: wire::CustomerGroup = self.client().http().send(request).await?.json()?;
        Ok(map::customer_group(&self.context(), &group))
    }

    async fn assign_customer_group(&self, customer_id: &str, group_id: &str) -> Result<()> {
        let write = CustomerWrite {
            key: customer_id.to_owned(),
            id: Some(customer_id.to_owned()),
            email: None,
            first_name: None,
            last_name: None,
            phone: None,
            company: None,
            customer_group_id: Some(group_id.to_owned()),
            email_consent: None,
            custom: cartograph_model::Attributes::new(),
        };
        self.update_customer(customer_id, &write).await.map(|_| ())
    }
}
