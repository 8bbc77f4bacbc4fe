//! [`Salesforce`]: the `CrmSink` implementation (glue over the client and the pure mapping).

use std::collections::{BTreeMap, HashMap, HashSet};

use cartograph_connector::{
    Capabilities, CrmProfile, CrmSink, EnrollmentMethod, Error, ErrorKind, RecordOutcome, Result,
    TransportStats, async_trait,
};
use cartograph_model::{
    ContactRef, ContactUpsert, CrmContact, CrmObjectType, EnrollmentRequest, EnrollmentTarget,
    IdentityKeys, OrderRecord, PropertyDefinition, PropertyType, TaskKind, TaskRequest, Timestamp,
};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::client::{SalesforceClient, SaveResult, soql_quote};
use crate::config::{MAX_BATCH, PersonObject, SalesforceConfig};
use crate::error::{CONNECTOR, from_api_error};
use crate::map;

mod convert;
mod revenue;

/// Keys per SOQL `IN (...)` list (keeps the query URL short).
const QUERY_CHUNK: usize = 100;

/// The Salesforce connector. Build it from a [`SalesforceConfig`].
#[derive(Debug)]
pub struct Salesforce {
    config: SalesforceConfig,
    client: SalesforceClient,
    /// sObject -> lower-case field names (from describe).
    fields: Mutex<HashMap<String, HashSet<String>>>,
}

/// One record to upsert: the caller's key, its External ID value and body, or why it
/// cannot be sent.
struct Pending {
    key: String,
    ext: String,
    body: Map<String, Value>,
}

fn invalid(key: &str, field: &str, why: impl Into<String>) -> Error {
    Error::invalid_field(key.to_owned(), field.to_owned(), why).with_connector(CONNECTOR)
}

/// Errors that fail the whole call: credentials, config, an exhausted retry budget.
fn is_fatal(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Unauthorized | ErrorKind::Config) || e.is_retryable()
}

/// Whether any record of this call is written (so the call may no longer fail as a whole).
fn wrote_any(out: &[Option<RecordOutcome>]) -> bool {
    out.iter().flatten().any(RecordOutcome::is_written)
}

fn too_many(n: usize, operation: &'static str) -> Error {
    Error::new(
        ErrorKind::Invalid,
        format!("{n} records in one call; sObject Collections take at most {MAX_BATCH}"),
    )
    .with_connector(CONNECTOR)
    .with_operation(operation)
}

fn outcome(key: &str, result: &SaveResult) -> RecordOutcome {
    match (&result.id, result.success) {
        (Some(id), true) if result.created => RecordOutcome::created(key, id.clone()),
        (Some(id), true) => RecordOutcome::updated(key, id.clone()),
        _ => {
            let err = result.errors.first().map_or_else(
                || {
                    Error::new(ErrorKind::Invalid, "record refused without an error")
                        .with_connector(CONNECTOR)
                },
                |e| from_api_error(e, ErrorKind::Invalid),
            );
            RecordOutcome::failed(key, err.with_record(key.to_owned()))
        }
    }
}

impl Salesforce {
    /// A connector for `config`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn new(config: SalesforceConfig) -> Result<Self> {
        config.validate()?;
        let client = SalesforceClient::new(&config)?;
        Ok(Self {
            config,
            client,
            fields: Mutex::new(HashMap::new()),
        })
    }

    /// The low-level client.
    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// The config.
    pub fn config(&self) -> &SalesforceConfig {
        &self.config
    }

    fn person(&self) -> &'static str {
        self.config.person_object.sobject()
    }

    /// Field names of `sobject` (lower case), described once and cached.
    async fn fields_of(&self, sobject: &str, refresh: bool) -> Result<HashSet<String>> {
        if !refresh && let Some(f) = self.fields.lock().await.get(sobject) {
            return Ok(f.clone());
        }
        let names: HashSet<String> = self
            .client
            .describe_fields(sobject)
            .await?
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        self.fields
            .lock()
            .await
            .insert(sobject.to_owned(), names.clone());
        Ok(names)
    }

    /// Checks every field of `body` exists on the sObject.
    fn check_fields(
        key: &str,
        sobject: &str,
        body: &Map<String, Value>,
        fields: &HashSet<String>,
    ) -> Result<()> {
        for name in body.keys() {
            if !fields.contains(&name.to_ascii_lowercase()) {
                return Err(invalid(
                    key,
                    name,
                    format!(
                        "no field {name} on {sobject} (ensure_properties creates custom fields)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Upserts `pending` on `field` in rounds so one call never carries one External ID
    /// twice; fills `out` at each record's input position.
    ///
    /// A fatal error (credentials, exhausted retries) fails the whole call only while
    /// nothing in `out` is written yet; after that it fails this round and the ones not
    /// sent, record by record, so the caller can answer `Ok` with what was written.
    async fn upsert_rounds(
        &self,
        sobject: &str,
        field: &str,
        pending: Vec<(usize, Pending)>,
        out: &mut [Option<RecordOutcome>],
        operation: &'static str,
    ) -> Result<()> {
        let mut rest = pending;
        while !rest.is_empty() {
            let mut seen = HashSet::new();
            let mut round = Vec::new();
            let mut later = Vec::new();
            for item in rest {
                if seen.insert(item.1.ext.to_lowercase()) {
                    round.push(item);
                } else {
                    later.push(item);
                }
            }
            rest = later;
            let bodies: Vec<Value> = round
                .iter()
                .map(|(_, p)| {
                    let mut body = p.body.clone();
                    body.insert(field.to_owned(), Value::String(p.ext.clone()));
                    Value::Object(body)
                })
                .collect();
            match self.client.upsert(sobject, field, bodies, operation).await {
                Ok(results) => {
                    for ((i, p), r) in round.iter().zip(&results) {
                        out[*i] = Some(outcome(&p.key, r));
                    }
                }
                Err(e) if is_fatal(&e) && !wrote_any(out) => return Err(e),
                Err(e) if is_fatal(&e) => {
                    for (i, p) in round.iter().chain(&rest) {
                        out[*i] = Some(RecordOutcome::failed(
                            p.key.clone(),
                            e.clone().with_record(p.key.clone()),
                        ));
                    }
                    return Ok(());
                }
                Err(e) => {
                    for (i, p) in &round {
                        out[*i] = Some(RecordOutcome::failed(
                            p.key.clone(),
                            e.clone().with_record(p.key.clone()),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Lookup before write: a record whose External ID is not in the org yet but whose email
    /// belongs to a person without an External ID adopts that person (update by id, writing
    /// the External ID), so records created before Cartograph are never duplicated. On Lead,
    /// a record whose Lead (by External ID, else the email of a Lead without one) is
    /// converted is written to the Contact it became, never to the Lead. The rest is
    /// returned for the upsert.
    async fn adopt(
        &self,
        sobject: &str,
        contacts: &[ContactUpsert],
        pending: Vec<(usize, Pending)>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<Vec<(usize, Pending)>> {
        let ext_field = &self.config.external_id_field;
        let lead = sobject == "Lead";
        let email_of = |i: usize| {
            contacts[i]
                .identity
                .email
                .as_ref()
                .map(|e| e.normalized().to_owned())
        };
        let emails: Vec<String> = pending.iter().filter_map(|(i, _)| email_of(*i)).collect();
        // A Lead already keyed by its External ID may have been converted since.
        let exts: Vec<String> = if lead {
            pending.iter().map(|(_, p)| p.ext.clone()).collect()
        } else {
            Vec::new()
        };
        if emails.is_empty() && exts.is_empty() {
            return Ok(pending);
        }
        let extra = if lead { convert::LEAD_FIELDS } else { "" };
        let mut rows = Vec::new();
        let mut row_ids = HashSet::new();
        for (field, values) in [("Email", &emails), (ext_field.as_str(), &exts)] {
            let mut unique: Vec<&String> = values.iter().collect();
            unique.sort();
            unique.dedup();
            for chunk in unique.chunks(QUERY_CHUNK) {
                let list: Vec<String> = chunk.iter().map(|e| soql_quote(e)).collect();
                let soql = format!(
                    "SELECT Id, Email, {ext_field}{extra} FROM {sobject} WHERE {field} IN ({})",
                    list.join(", ")
                );
                for row in self.client.query(&soql, "upsert_contacts").await? {
                    if map::text(&row, "Id").is_some_and(|id| row_ids.insert(id)) {
                        rows.push(row);
                    }
                }
            }
        }
        let keyed = |ext: &str| {
            rows.iter()
                .find(|r| map::text(r, ext_field).is_some_and(|e| e.eq_ignore_ascii_case(ext)))
        };
        let mut adopted_ids = HashSet::new();
        let mut adopt = Vec::new();
        let mut converted = Vec::new();
        let mut rest = Vec::new();
        for (i, p) in pending {
            if let Some(row) = keyed(&p.ext) {
                match convert::converted_to(row) {
                    Some(contact) => converted.push((i, contact, p)),
                    None => rest.push((i, p)),
                }
                continue;
            }
            let email = email_of(i);
            let orphan = rows.iter().find(|r| {
                map::text(r, ext_field).is_none_or(|e| e.trim().is_empty())
                    && map::text(r, "Email").map(|e| e.to_lowercase()) == email
            });
            match orphan.map(|r| (convert::converted_to(r), map::text(r, "Id"))) {
                Some((Some(contact), _)) => converted.push((i, contact, p)),
                Some((None, Some(id))) if adopted_ids.insert(id.clone()) => {
                    adopt.push((i, id, p));
                }
                _ => rest.push((i, p)),
            }
        }
        self.write_converted(converted, out).await?;
        self.update_by_id(sobject, adopt, Some(ext_field), out)
            .await?;
        Ok(rest)
    }

    /// Lead conversion fields for the person `SELECT` (none on Contact).
    fn conversion_fields(&self) -> &'static str {
        match self.config.person_object {
            PersonObject::Contact => "",
            PersonObject::Lead => convert::LEAD_FIELDS,
        }
    }

    /// Person ids by normalized email (one SOQL query per 100 emails; a converted Lead
    /// answers its Contact's id).
    async fn ids_by_email(&self, emails: &[String]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::new();
        let mut unique: Vec<&String> = emails.iter().collect();
        unique.sort();
        unique.dedup();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|e| soql_quote(e)).collect();
            let soql = format!(
                "SELECT Id, Email{} FROM {} WHERE Email IN ({})",
                self.conversion_fields(),
                self.person(),
                list.join(", ")
            );
            for row in self.client.query(&soql, "find_contacts").await? {
                // A converted Lead stands for its Contact.
                let id = convert::converted_to(&row).or_else(|| map::text(&row, "Id"));
                if let (Some(id), Some(email)) = (id, map::text(&row, "Email")) {
                    out.entry(email.to_lowercase()).or_insert(id);
                }
            }
        }
        Ok(out)
    }

    async fn resolve(&self, contact: Option<&ContactRef>) -> Result<Option<String>> {
        match contact {
            None => Ok(None),
            Some(ContactRef::CrmId(id)) => Ok(Some(id.clone())),
            Some(ContactRef::Email(email)) => {
                let key = email.normalized().to_owned();
                Ok(self
                    .ids_by_email(std::slice::from_ref(&key))
                    .await?
                    .remove(&key))
            }
        }
    }

    fn person_ext(&self, input: &ContactUpsert) -> Option<String> {
        let field = &self.config.external_id_field;
        if let Some(v) = input.properties.get(field).and_then(map::prop_text)
            && !v.trim().is_empty()
        {
            return Some(v);
        }
        if let Some(source) = input.identity.external_ids.first() {
            return Some(source.to_string());
        }
        input
            .identity
            .email
            .as_ref()
            .map(|e| e.normalized().to_owned())
    }

    fn ext_definition(object: CrmObjectType, name: &str, label: &str) -> PropertyDefinition {
        PropertyDefinition {
            object,
            name: name.to_owned(),
            label: label.to_owned(),
            kind: PropertyType::String,
            options: Vec::new(),
            group: None,
            unique: true,
            description: Some("External ID written by Cartograph (upsert key)".into()),
        }
    }

    async fn property_one(&self, def: &PropertyDefinition) -> Result<RecordOutcome> {
        let key = def.name.as_str();
        let Some(sobject) = map::sobject(&def.object) else {
            return Err(invalid(
                key,
                key,
                format!("Salesforce has no {} object", def.object),
            ));
        };
        let fields = self.fields_of(&sobject, false).await?;
        if fields.contains(&def.name.to_ascii_lowercase()) {
            return Ok(RecordOutcome::unchanged(key, None));
        }
        if !crate::config::is_field_name(key) || !key.ends_with("__c") {
            return Err(invalid(
                key,
                key,
                format!("{sobject}.{key} does not exist and is not a custom field name (__c)"),
            ));
        }
        let api_name = key.trim_end_matches("__c");
        match self
            .client
            .create_custom_field(&sobject, key, map::field_metadata(def))
            .await
        {
            Ok(id) => {
                if let Some(f) = self.fields.lock().await.get_mut(&sobject) {
                    f.insert(def.name.to_ascii_lowercase());
                }
                Ok(RecordOutcome::created(key, id))
            }
            Err(e) if is_fatal(&e) => Err(e),
            Err(e) => Err(invalid(
                key,
                key,
                format!(
                    "{sobject}.{key} is missing and the Tooling API refused to create it ({}); \
                     create the field {api_name} in Setup",
                    e.message()
                ),
            )
            .with_vendor_code(e.vendor_code().unwrap_or("").to_owned())),
        }
    }
}

#[async_trait]
impl CrmSink for Salesforce {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_batch: MAX_BATCH,
            orders: true,
            tasks: true,
            enrollment: vec![EnrollmentMethod::Campaign],
            property_definitions: true,
            order_read_back: true,
            ..Capabilities::default()
        }
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client.stats())
    }

    fn profile(&self) -> Option<CrmProfile> {
        Some(crate::profile::profile_for(self.config.person_object))
    }

    fn required_properties(&self) -> Vec<PropertyDefinition> {
        let ext = &self.config.external_id_field;
        let person = match self.config.person_object {
            PersonObject::Contact => CrmObjectType::Contact,
            PersonObject::Lead => CrmObjectType::Custom("Lead".into()),
        };
        vec![
            Self::ext_definition(person, ext, "Cartograph key"),
            Self::ext_definition(
                CrmObjectType::Deal,
                &self.config.order_external_id_field,
                "Store order ID",
            ),
            Self::ext_definition(CrmObjectType::Task, ext, "Cartograph key"),
            Self::ext_definition(CrmObjectType::Case, ext, "Cartograph key"),
        ]
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        let ext_field = &self.config.external_id_field;
        let lead = self.config.person_object == PersonObject::Lead;
        let mut emails = Vec::new();
        let mut exts = Vec::new();
        let mut phones = Vec::new();
        let mut ids = Vec::new();
        let mut contact_ids = Vec::new();
        for k in keys {
            emails.extend(k.email.iter().map(|e| e.normalized().to_owned()));
            exts.extend(k.external_ids.iter().map(ToString::to_string));
            phones.extend(
                k.phone
                    .iter()
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty()),
            );
            if let Some(id) = &k.crm_id {
                // On Lead, a linked id may be the Contact a converted Lead became.
                if lead && convert::is_contact_id(id) {
                    contact_ids.push(id.clone());
                } else {
                    ids.push(id.clone());
                }
            }
        }
        let mut rows: Vec<CrmContact> = Vec::new();
        for (field, values) in [
            ("Email", &mut emails),
            (ext_field.as_str(), &mut exts),
            ("Phone", &mut phones),
            ("Id", &mut ids),
        ] {
            let mut seen = HashSet::new();
            values.retain(|v| seen.insert(v.clone()));
            for chunk in values.chunks(QUERY_CHUNK) {
                let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
                let soql = format!(
                    "SELECT Id, Email, FirstName, LastName, Phone, {ext_field}, LastModifiedDate{} \
                     FROM {} WHERE {field} IN ({})",
                    self.conversion_fields(),
                    self.person(),
                    list.join(", ")
                );
                rows.extend(
                    self.client
                        .query(&soql, "find_contacts")
                        .await?
                        .iter()
                        .filter_map(map::contact),
                );
            }
        }
        if !contact_ids.is_empty() {
            rows.extend(self.contacts_by_id(&contact_ids, "find_contacts").await?);
        }
        let ext_of = |c: &CrmContact| c.properties.get(ext_field).and_then(map::prop_text);
        let phone_of = |c: &CrmContact| c.properties.get("Phone").and_then(map::prop_text);
        let found: Vec<Option<CrmContact>> = keys
            .iter()
            .map(|k| {
                let by_id = k
                    .crm_id
                    .as_ref()
                    .and_then(|id| rows.iter().find(|c| &c.crm_id == id));
                let by_ext = || {
                    k.external_ids.iter().find_map(|s| {
                        let s = s.to_string();
                        rows.iter()
                            .find(|c| ext_of(c).is_some_and(|e| e.eq_ignore_ascii_case(&s)))
                    })
                };
                let by_email = || {
                    k.email.as_ref().and_then(|e| {
                        rows.iter().find(|c| {
                            c.email
                                .as_ref()
                                .is_some_and(|m| m.normalized() == e.normalized())
                        })
                    })
                };
                // Phones are shared (households, offices): a phone alone identifies a
                // person only when exactly one record carries it.
                let by_phone = || {
                    let phone = k.phone.as_deref().map(str::trim)?;
                    let holders: HashSet<&str> = rows
                        .iter()
                        .filter(|c| phone_of(c).is_some_and(|p| p.trim() == phone))
                        .map(|c| c.crm_id.as_str())
                        .collect();
                    let only = (holders.len() == 1).then(|| holders.into_iter().next())??;
                    rows.iter().find(|c| c.crm_id == only)
                };
                by_id
                    .or_else(by_ext)
                    .or_else(by_email)
                    .or_else(by_phone)
                    .cloned()
            })
            .collect();
        if lead {
            self.follow_conversions(found).await
        } else {
            Ok(found)
        }
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        if contacts.len() > MAX_BATCH {
            return Err(too_many(contacts.len(), "upsert_contacts"));
        }
        let sobject = self.person();
        let fields = self.fields_of(sobject, false).await?;
        let mut out: Vec<Option<RecordOutcome>> = contacts.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        for (i, input) in contacts.iter().enumerate() {
            let key = input.key.as_str();
            let mut body = map::record(&input.properties);
            body.remove(&self.config.external_id_field);
            if let Some(email) = &input.identity.email {
                body.entry("Email")
                    .or_insert_with(|| Value::String(email.as_str().to_owned()));
            }
            let checked = match self.person_ext(input) {
                None => Err(invalid(
                    key,
                    "Email",
                    "a contact needs an email or an external id",
                )),
                Some(ext) => Self::check_fields(key, sobject, &body, &fields).map(|()| ext),
            };
            match checked {
                Ok(ext) => pending.push((
                    i,
                    Pending {
                        key: key.to_owned(),
                        ext,
                        body,
                    },
                )),
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        let pending = self.adopt(sobject, contacts, pending, &mut out).await?;
        self.upsert_rounds(
            sobject,
            &self.config.external_id_field,
            pending,
            &mut out,
            "upsert_contacts",
        )
        .await?;
        Ok(collect(contacts.iter().map(|c| c.key.as_str()), out))
    }

    async fn read_orders(
        &self,
        request: &cartograph_connector::ListRequest,
    ) -> Result<cartograph_connector::Page<cartograph_connector::CrmOrder>> {
        self.read_order_page(request).await
    }

    async fn find_orders(&self, keys: &[String]) -> Result<Vec<cartograph_connector::CrmOrder>> {
        self.find_orders_by_key(keys).await
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        if orders.len() > MAX_BATCH {
            return Err(too_many(orders.len(), "record_orders"));
        }
        let sobject = "Opportunity";
        let ext_field = self.config.order_external_id_field.clone();
        let fields = self.fields_of(sobject, false).await?;
        let emails: Vec<String> = orders
            .iter()
            .filter_map(|o| match &o.contact {
                Some(ContactRef::Email(e)) => Some(e.normalized().to_owned()),
                _ => None,
            })
            .collect();
        let people = if emails.is_empty() || self.config.person_object == PersonObject::Lead {
            HashMap::new()
        } else {
            self.ids_by_email(&emails).await?
        };
        let today = Timestamp::now().date().to_string();
        let mut out: Vec<Option<RecordOutcome>> = orders.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let key = order.key.as_str();
            let mut body = map::record(&order.properties);
            let ext = body
                .remove(&ext_field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| key.to_owned());
            body.entry("Name")
                .or_insert_with(|| json!(format!("Order {key}")));
            body.entry("StageName")
                .or_insert_with(|| json!("Prospecting"));
            body.entry("CloseDate").or_insert_with(|| json!(today));
            let contact = match &order.contact {
                Some(ContactRef::CrmId(id)) => Some(id.clone()),
                Some(ContactRef::Email(e)) => people.get(e.normalized()).cloned(),
                None => None,
            };
            if let Some(id) = contact
                && self.config.person_object == PersonObject::Contact
                && fields.contains("contactid")
            {
                body.insert("ContactId".into(), json!(id));
            }
            match Self::check_fields(key, sobject, &body, &fields) {
                Ok(()) => pending.push((
                    i,
                    Pending {
                        key: key.to_owned(),
                        ext,
                        body,
                    },
                )),
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        self.upsert_rounds(sobject, &ext_field, pending, &mut out, "record_orders")
            .await?;
        Ok(collect(orders.iter().map(|o| o.key.as_str()), out))
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        if tasks.len() > MAX_BATCH {
            return Err(too_many(tasks.len(), "create_tasks"));
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
            if let Some(owner) = &task.owner_id {
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

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
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

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        // Describe afresh: fields may have been added in Setup since the cache was filled.
        let objects: HashSet<String> = definitions
            .iter()
            .filter_map(|d| map::sobject(&d.object))
            .collect();
        for sobject in &objects {
            match self.fields_of(sobject, true).await {
                Ok(_) => {}
                Err(e) if is_fatal(&e) => return Err(e),
                // An unknown object fails its definitions below.
                Err(_) => {
                    self.fields
                        .lock()
                        .await
                        .insert(sobject.clone(), HashSet::new());
                }
            }
        }
        let mut out = Vec::with_capacity(definitions.len());
        for def in definitions {
            match self.property_one(def).await {
                Ok(o) => out.push(o),
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => out.push(RecordOutcome::failed(def.name.clone(), e)),
            }
        }
        Ok(out)
    }
}

fn collect<'a>(
    keys: impl Iterator<Item = &'a str>,
    out: Vec<Option<RecordOutcome>>,
) -> Vec<RecordOutcome> {
    keys.zip(out)
        .map(|(key, o)| {
            o.unwrap_or_else(|| {
                RecordOutcome::failed(
                    key,
                    Error::new(ErrorKind::Invalid, "record not written")
                        .with_record(key.to_owned()),
                )
            })
        })
        .collect()
}
