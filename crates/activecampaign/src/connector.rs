//! [`ActiveCampaign`]: the `CrmSink` and `CrmSource` implementations (glue over the client
//! and the pure mapping).

use std::collections::{HashMap, HashSet};

use cartograph_connector::{
    Capabilities, CrmProfile, CrmSink, CrmSource, Cursor, EnrollmentMethod, Error, ErrorKind,
    ListRequest, Page, RecordOutcome, Result, Stream, TransportStats, WebhookRequest, WriteStatus,
    async_trait,
};
use cartograph_model::{
    ContactRef, ContactUpsert, CrmContact, CrmEvent, EnrollmentRequest, IdentityKeys,
    MembershipChange, OrderRecord, PropertyDefinition, TaskRequest, Timestamp,
};
use tokio::sync::Mutex;

use crate::client::ActiveCampaignClient;
use crate::config::{ActiveCampaignConfig, DEFAULT_LIST_NAME, MAX_BATCH};
use crate::error::CONNECTOR;
use crate::map;

mod ops;
mod revenue;

/// The ActiveCampaign connector. Build it from an [`ActiveCampaignConfig`].
#[derive(Debug)]
pub struct ActiveCampaign {
    config: ActiveCampaignConfig,
    client: ActiveCampaignClient,
    cache: Mutex<Cache>,
    /// 100 bulk imports per minute.
    imports: std::sync::Arc<cartograph_http::RateLimiter>,
}

#[derive(Debug, Default)]
struct Cache {
    /// Upper-case perstag -> field id.
    fields: Option<HashMap<String, String>>,
    tags: HashMap<String, String>,
    list_id: Option<String>,
    connection_id: Option<String>,
}

fn record_error(key: &str, err: Error) -> Error {
    if err.record().is_some() {
        err
    } else {
        err.with_record(key.to_owned())
    }
}

impl ActiveCampaign {
    /// A connector for `config`.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn new(config: ActiveCampaignConfig) -> Result<Self> {
        config.validate()?;
        let client = ActiveCampaignClient::new(&config)?;
        let imports = cartograph_http::RateLimiter::shared(cartograph_http::RateLimit::new(
            100,
            std::time::Duration::from_secs(60),
        ))?;
        Ok(Self {
            config,
            client,
            cache: Mutex::new(Cache::default()),
            imports,
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this connector's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(
        mut self,
        gate: std::sync::Arc<dyn cartograph_http::RequestGate>,
    ) -> Self {
        self.client = self.client.with_request_gate(gate);
        self
    }

    /// The low-level client.
    pub fn client(&self) -> &ActiveCampaignClient {
        &self.client
    }

    /// The config.
    pub fn config(&self) -> &ActiveCampaignConfig {
        &self.config
    }

    /// Registers a webhook for contact updates and (un)subscriptions from every source
    /// but `api`, so this integration's own writes are not delivered back.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn register_webhook(&self, url: &str) -> Result<String> {
        self.client.register_webhook("cartograph", url).await
    }

    async fn fields(&self, refresh: bool) -> Result<HashMap<String, String>> {
        let mut cache = self.cache.lock().await;
        if let (Some(fields), false) = (&cache.fields, refresh) {
            return Ok(fields.clone());
        }
        let fields: HashMap<String, String> = self
            .client
            .list_fields()
            .await?
            .into_iter()
            .map(|f| (f.perstag.to_uppercase(), f.id))
            .collect();
        cache.fields = Some(fields.clone());
        Ok(fields)
    }

    async fn tag_id(&self, name: &str) -> Result<String> {
        if let Some(id) = self.cache.lock().await.tags.get(name) {
            return Ok(id.clone());
        }
        let id = match self.client.find_tag(name).await? {
            Some(tag) => tag.id,
            None => self.client.create_tag(name).await?,
        };
        self.cache
            .lock()
            .await
            .tags
            .insert(name.to_owned(), id.clone());
        Ok(id)
    }

    async fn list_id(&self) -> Result<String> {
        if let Some(id) = &self.config.list_id {
            return Ok(id.clone());
        }
        if let Some(id) = &self.cache.lock().await.list_id {
            return Ok(id.clone());
        }
        let list = self
            .client
            .find_list(DEFAULT_LIST_NAME)
            .await?
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Config,
                    format!("no list named {DEFAULT_LIST_NAME:?}; set list_id"),
                )
                .with_connector(CONNECTOR)
                .with_field("list_id")
            })?;
        self.cache.lock().await.list_id = Some(list.id.clone());
        Ok(list.id)
    }

    /// The Deep Data connection of the configured store, found or created.
    ///
    /// # Errors
    /// Transport and vendor errors.
    pub async fn connection_id(&self) -> Result<String> {
        if let Some(id) = &self.cache.lock().await.connection_id {
            return Ok(id.clone());
        }
        let c = &self.config.connection;
        let id = match self
            .client
            .find_connection(&c.service, &c.externalid)
            .await?
        {
            Some(conn) => conn.id,
            None => self.client.create_connection(c).await?,
        };
        self.cache.lock().await.connection_id = Some(id.clone());
        Ok(id)
    }

    /// Subscribes a contact to `list` with status 1 unless they unsubscribed from it
    /// (status 2): someone who unsubscribed is never re-subscribed. `Ok(false)` when
    /// nothing was written.
    async fn subscribe(&self, list: &str, contact: &str) -> Result<bool> {
        let memberships = self.client.contact_lists(contact).await?;
        if let Some(m) = memberships.contact_lists.iter().find(|m| m.list == list) {
            if m.status == "2" {
                tracing::debug!(contact, list, "contact unsubscribed; not re-subscribing");
                return Ok(false);
            }
            if m.status == "1" {
                return Ok(false);
            }
        }
        self.client.set_list_status(list, contact, 1).await?;
        Ok(true)
    }

    async fn resolve_contact(
        &self,
        contact: &ContactRef,
    ) -> Result<Option<cartograph_model::CrmContact>> {
        let wire = match contact {
            ContactRef::CrmId(id) => self.client.get_contact(id).await?,
            ContactRef::Email(email) => self.client.find_contact_by_email(email.as_str()).await?,
        };
        wire.as_ref().map(map::contact).transpose()
    }
}

/// Outcomes of a call that writes record by record. A fatal error fails the whole call
/// only while nothing is written; after that it fails its record and every record not yet
/// tried (unsent), so the call answers `Ok` with what was written.
struct Progress {
    out: Vec<RecordOutcome>,
    stop: Option<Error>,
}

impl Progress {
    fn new(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            stop: None,
        }
    }

    /// Whether the call stopped at a fatal error; if so the record `key` fails with it.
    fn stopped(&mut self, key: &str) -> bool {
        match &self.stop {
            Some(e) => {
                self.out
                    .push(RecordOutcome::failed(key, record_error(key, e.clone())));
                true
            }
            None => false,
        }
    }

    /// Settles the record `key`.
    ///
    /// # Errors
    /// The fatal error of the first record written or tried, when nothing is written.
    fn settle(&mut self, key: &str, result: Result<RecordOutcome>) -> Result<()> {
        match result {
            Ok(outcome) => {
                // Written in part by a fatal error: the records after it are not tried.
                if let WriteStatus::Partial { error, .. } = &outcome.status
                    && is_fatal(error)
                {
                    self.stop = Some(error.clone());
                }
                self.out.push(outcome);
            }
            Err(e) if is_fatal(&e) && !self.out.iter().any(RecordOutcome::is_written) => {
                return Err(e);
            }
            Err(e) => {
                if is_fatal(&e) {
                    self.stop = Some(e.clone());
                }
                self.out
                    .push(RecordOutcome::failed(key, record_error(key, e)));
            }
        }
        Ok(())
    }
}

/// Errors that fail the whole call: credentials, config, an exhausted retry budget.
fn is_fatal(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Unauthorized | ErrorKind::Config) || e.is_retryable()
}

#[async_trait]
impl CrmSink for ActiveCampaign {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            list: vec![Stream::Contacts, Stream::ListMemberships],
            delta: vec![Stream::Contacts],
            webhooks: true,
            webhook_signatures: false,
            max_batch: MAX_BATCH,
            orders: true,
            products: false,
            tasks: true,
            enrollment: vec![EnrollmentMethod::Automation, EnrollmentMethod::List],
            property_definitions: true,
            order_read_back: true,
            ..Capabilities::default()
        }
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client.stats())
    }

    fn profile(&self) -> Option<CrmProfile> {
        Some(crate::profile())
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let found = match (&key.crm_id, &key.email) {
                (Some(id), _) => self.client.get_contact(id).await?,
                (None, Some(email)) => self.client.find_contact_by_email(email.as_str()).await?,
                (None, None) => None,
            };
            out.push(found.as_ref().map(map::contact).transpose()?);
        }
        Ok(out)
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        if contacts.len() > MAX_BATCH {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!(
                    "{} contacts in one call; at most {MAX_BATCH}",
                    contacts.len()
                ),
            )
            .with_connector(CONNECTOR)
            .with_operation("upsert_contacts"));
        }
        let min = self.config.bulk_import_min;
        if min > 0 && contacts.len() >= min && contacts.iter().all(|c| c.origin.is_historical()) {
            return self.bulk_upsert(contacts).await;
        }
        let mut progress = Progress::new(contacts.len());
        for input in contacts {
            if !progress.stopped(&input.key) {
                progress.settle(&input.key, self.upsert_one(input).await)?;
            }
        }
        Ok(progress.out)
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
        let mut progress = Progress::new(orders.len());
        for record in orders {
            if !progress.stopped(&record.key) {
                progress.settle(&record.key, self.order_one(record).await)?;
            }
        }
        Ok(progress.out)
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        let mut progress = Progress::new(tasks.len());
        for task in tasks {
            if !progress.stopped(&task.key) {
                progress.settle(&task.key, self.task_one(task).await)?;
            }
        }
        Ok(progress.out)
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        let mut progress = Progress::new(requests.len());
        for request in requests {
            if !progress.stopped(&request.key) {
                progress.settle(&request.key, self.enroll_one(request).await)?;
            }
        }
        Ok(progress.out)
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        if definitions.is_empty() {
            return Ok(Vec::new());
        }
        let fields = self.fields(true).await?;
        let mut progress = Progress::new(definitions.len());
        for def in definitions {
            if !progress.stopped(&def.name) {
                progress.settle(&def.name, self.property_one(def, &fields).await)?;
            }
        }
        Ok(progress.out)
    }
}

/// One day: `filters[updated_after]` takes a date, so the window starts a day early and
/// the overlap is filtered by `udate` and de-duplicated.
const OVERLAP: time::Duration = time::Duration::DAY;

#[async_trait]
impl CrmSource for ActiveCampaign {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        CrmSink::capabilities(self)
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client.stats())
    }

    async fn list_contacts(&self, request: &ListRequest) -> Result<Page<CrmContact>> {
        let offset: u64 = match &request.cursor {
            None => 0,
            Some(c) => c.as_str().parse().map_err(|_| {
                Error::new(ErrorKind::Invalid, format!("bad cursor {:?}", c.as_str()))
                    .with_connector(CONNECTOR)
                    .with_operation("list_contacts")
            })?,
        };
        let limit = request.limit.unwrap_or(crate::client::MAX_PAGE);
        let date = request
            .since
            .map(|since: Timestamp| since.saturating_sub(OVERLAP).date().to_string());
        let page = self
            .client
            .list_contacts(date.as_deref(), offset, limit)
            .await?;
        let n = page.contacts.len() as u64;
        let mut seen = HashSet::new();
        let mut items = Vec::with_capacity(page.contacts.len());
        for wire in &page.contacts {
            if !seen.insert(wire.id.clone()) {
                continue;
            }
            let contact = map::contact(wire)?;
            if let Some(since) = request.since
                && contact.updated_at.is_some_and(|u| u < since)
            {
                continue;
            }
            items.push(contact);
        }
        let next_offset = offset + n;
        let next = (n > 0 && next_offset < page.meta.total())
            .then(|| Cursor::new(next_offset.to_string()));
        Ok(Page { items, next })
    }

    /// Subscribed contacts of the list (`added = true`, `at` = the contact's `udate`),
    /// then unsubscribed ones (`added = false`); `since` drops older changes. The cursor is
    /// `<status>:<offset>`.
    async fn list_memberships(
        &self,
        list_id: &str,
        request: &ListRequest,
    ) -> Result<Page<MembershipChange>> {
        let (status, offset) = match request.cursor.as_ref().map(Cursor::as_str) {
            None => (1u8, 0u64),
            Some(c) => c
                .split_once(':')
                .and_then(|(s, o)| Some((s.parse().ok()?, o.parse().ok()?)))
                .ok_or_else(|| {
                    Error::new(ErrorKind::Invalid, format!("bad cursor {c:?}"))
                        .with_connector(CONNECTOR)
                        .with_operation("list_memberships")
                })?,
        };
        let limit = request.limit.unwrap_or(crate::client::MAX_PAGE);
        let page = self
            .client
            .list_members(list_id, status, offset, limit)
            .await?;
        let n = page.contacts.len() as u64;
        let mut items = Vec::with_capacity(page.contacts.len());
        for wire in &page.contacts {
            let contact = map::contact(wire)?;
            let at = contact.updated_at.unwrap_or(Timestamp::UNIX_EPOCH);
            if request.since.is_some_and(|since| at < since) {
                continue;
            }
            items.push(MembershipChange {
                list_id: list_id.to_owned(),
                contact_crm_id: contact.crm_id,
                added: status == 1,
                at,
            });
        }
        let next_offset = offset + n;
        let next = if n > 0 && next_offset < page.meta.total() {
            Some(Cursor::new(format!("{status}:{next_offset}")))
        } else if status == 1 {
            Some(Cursor::new("2:0"))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        crate::webhook::verify(&self.config, request)?;
        crate::webhook::parse(&request.body)
    }
}
