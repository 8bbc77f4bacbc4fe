//! [`Salesforce`]: the `CrmSink` implementation (glue over the client and the pure mapping).

use std::collections::{HashMap, HashSet};

use cartograph_connector::{
    Capabilities, CrmProfile, CrmSink, EnrollmentMethod, Error, ErrorKind, RecordOutcome, Result,
    TransportStats, async_trait,
};
use cartograph_model::{
    ContactUpsert, CrmContact, CrmObjectType, EnrollmentRequest, IdentityKeys, OrderRecord,
    ProductRecord, PropertyDefinition, TaskRequest,
};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::client::{SalesforceClient, SaveResult};
use crate::config::{MAX_BATCH, PersonObject, SalesforceConfig};
use crate::error::{CONNECTOR, from_api_error};

mod accounts;
mod campaigns;
mod catalog;
mod contacts;
mod convert;
mod lines;
mod orders;
mod properties;
mod revenue;
mod tasks;

pub use accounts::{SUMMARY_FIELDS, account_key, account_summary};
pub use campaigns::{
    CURRENCY_FIELD, DAILY_FIELD, LAST_DAY_FIELD, ORDERS_FIELD, TOTAL_FIELD, campaign_body,
    parse_days, revenue_key,
};
pub use lines::{CUSTOM_ITEM_KEY, line_product_key};

/// Keys per SOQL `IN (...)` list (keeps the query URL short).
const QUERY_CHUNK: usize = 100;

/// The Salesforce connector. Build it from a [`SalesforceConfig`].
#[derive(Debug)]
pub struct Salesforce {
    pub(crate) config: SalesforceConfig,
    pub(crate) client: SalesforceClient,
    /// sObject -> lower-case field names (from describe).
    fields: Mutex<HashMap<String, HashSet<String>>>,
    /// The standard price book's id (read once).
    pricebook: Mutex<Option<String>>,
}

/// One record to upsert: the caller's key, its External ID value and body, or why it
/// cannot be sent.
pub(super) struct Pending {
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

/// Whether a batch of `n` records is to be written: `false` for none, `Invalid` for more
/// than one collection takes.
fn start_batch(n: usize, operation: &'static str) -> Result<bool> {
    if n > MAX_BATCH {
        return Err(too_many(n, operation));
    }
    Ok(n > 0)
}

/// The error of a refused collection record (its first error).
fn save_error(result: &SaveResult) -> Error {
    result
        .errors
        .first()
        .map_or_else(
            || Error::new(ErrorKind::Invalid, "record refused without an error"),
            |e| from_api_error(e, ErrorKind::Invalid),
        )
        .with_connector(CONNECTOR)
}

fn outcome(key: &str, result: &SaveResult) -> RecordOutcome {
    match (&result.id, result.success) {
        (Some(id), true) if result.created => RecordOutcome::created(key, id.clone()),
        (Some(id), true) => RecordOutcome::updated(key, id.clone()),
        _ => RecordOutcome::failed(key, save_error(result).with_record(key.to_owned())),
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
            pricebook: Mutex::new(None),
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// org, on every machine) as well as this connector's own pacing (see
    /// [`SalesforceClient::with_request_gate`]).
    #[must_use]
    pub fn with_request_gate(
        mut self,
        gate: std::sync::Arc<dyn cartograph_http::RequestGate>,
    ) -> Self {
        self.client = self.client.with_request_gate(gate);
        self
    }

    /// The low-level client.
    pub fn client(&self) -> &SalesforceClient {
        &self.client
    }

    /// The config.
    pub fn config(&self) -> &SalesforceConfig {
        &self.config
    }

    pub(super) fn person(&self) -> &'static str {
        self.config.person_object.sobject()
    }

    /// Field names of `sobject` (lower case), described once and cached.
    pub(super) async fn fields_of(&self, sobject: &str, refresh: bool) -> Result<HashSet<String>> {
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
    pub(super) fn check_fields(
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
    pub(super) async fn upsert_rounds(
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
            products: true,
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
            Self::ext_definition(CrmObjectType::Company, ext, "Cartograph key"),
            Self::ext_definition(CrmObjectType::LineItem, ext, "Cartograph key"),
            Self::ext_definition(
                CrmObjectType::Product,
                &self.config.product_external_id_field,
                "Store product key",
            ),
        ]
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.find_contacts_impl(keys).await
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        self.upsert_contacts_impl(contacts).await
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
        self.record_orders_impl(orders).await
    }

    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        self.upsert_products_impl(products).await
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        self.create_tasks_impl(tasks).await
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        self.enroll_impl(requests).await
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        self.ensure_properties_impl(definitions).await
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
