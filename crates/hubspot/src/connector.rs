//! [`HubSpot`]: the `CrmSink` and `CrmSource` implementations (glue only).

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CrmOrder, CrmSink, CrmSource, EnrollmentMethod, Error, ErrorKind, ListRequest,
    Page, RecordOutcome, Result, Stream, WebhookRequest,
};
use cartograph_http::RateLimiter;
use cartograph_model::{
    Association, ContactUpsert, CrmContact, CrmEvent, EnrollmentRequest, IdentityKeys,
    MembershipChange, OrderRecord, ProductRecord, PropertyDefinition, TaskRequest,
};

use crate::client::HubSpotClient;
use crate::config::{HubSpotConfig, MAX_BATCH};
use crate::error::CONNECTOR;
use crate::signature::verify_v3;
use crate::webhook::{decode_events, to_crm_events};

/// The HubSpot connector: a [`CrmSink`] and a [`CrmSource`] for one portal.
#[derive(Clone, Debug)]
pub struct HubSpot {
    client: HubSpotClient,
}

impl HubSpot {
    /// A connector with its own rate limiter.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn new(config: HubSpotConfig) -> Result<Self> {
        Ok(Self {
            client: HubSpotClient::new(config)?,
        })
    }

    /// A connector sharing the portal's limiter with other clients of the same portal.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn with_rate_limiter(config: HubSpotConfig, limiter: Arc<RateLimiter>) -> Result<Self> {
        Ok(Self {
            client: HubSpotClient::with_rate_limiter(config, limiter)?,
        })
    }

    fn refuse_oversized(&self, operation: &'static str, len: usize) -> Result<()> {
        let max = self.client.config().batch_size;
        if len > max {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("{len} inputs exceed the batch maximum of {max}; split the batch"),
            )
            .with_connector(CONNECTOR)
            .with_operation(operation));
        }
        Ok(())
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this connector's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn cartograph_http::RequestGate>) -> Self {
        self.client = self.client.with_request_gate(gate);
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &HubSpotClient {
        &self.client
    }

    /// The custom properties the connector itself relies on (unique-value upsert keys for
    /// orders, line items, products and tasks); pass them to `ensure_properties` once.
    pub fn required_properties(&self) -> Vec<PropertyDefinition> {
        crate::required_properties(self.client.config())
    }
}

fn caps() -> Capabilities {
    Capabilities {
        list: vec![Stream::Contacts, Stream::ListMemberships],
        delta: vec![Stream::Contacts],
        webhooks: true,
        webhook_signatures: true,
        max_batch: MAX_BATCH,
        orders: true,
        products: true,
        tasks: true,
        enrollment: vec![
            EnrollmentMethod::TriggerProperty,
            EnrollmentMethod::List,
            EnrollmentMethod::Workflow,
        ],
        property_definitions: true,
        order_read_back: true,
        ..Capabilities::default()
    }
}

#[async_trait]
impl CrmSink for HubSpot {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = caps();
        c.max_batch = self.client.config().batch_size;
        if !self.client.config().legacy_workflow_enrollment {
            c.enrollment.retain(|m| *m != EnrollmentMethod::Workflow);
        }
        c
    }

    fn required_properties(&self) -> Vec<PropertyDefinition> {
        crate::required_properties(self.client.config())
    }

    fn profile(&self) -> Option<cartograph_connector::CrmProfile> {
        let mut profile = crate::profile();
        if let Some(object) = self.client.config().mapping.order_object {
            profile.order_object = object;
        }
        Some(profile)
    }

    fn transport_stats(&self) -> Option<cartograph_connector::TransportStats> {
        Some(self.client.stats())
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.refuse_oversized("find_contacts", keys.len())?;
        self.client.find_contacts(keys).await
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("upsert_contacts", contacts.len())?;
        self.client.upsert_contacts(contacts).await
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("record_orders", orders.len())?;
        self.client.record_orders(orders).await
    }

    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("upsert_products", products.len())?;
        self.client.upsert_products(products).await
    }

    async fn associate(&self, associations: &[Association]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("associate", associations.len())?;
        self.client.associate(associations).await
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("create_tasks", tasks.len())?;
        self.client.create_tasks(tasks).await
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("enroll", requests.len())?;
        self.client.enroll(requests).await
    }

    async fn read_orders(&self, request: &ListRequest) -> Result<Page<CrmOrder>> {
        self.client.read_orders(request).await
    }

    async fn find_orders(&self, keys: &[String]) -> Result<Vec<CrmOrder>> {
        self.client.find_orders(keys).await
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        self.refuse_oversized("ensure_properties", definitions.len())?;
        self.client.ensure_properties(definitions).await
    }
}

#[async_trait]
impl CrmSource for HubSpot {
    fn name(&self) -> &str {
        CONNECTOR
    }

    fn capabilities(&self) -> Capabilities {
        CrmSink::capabilities(self)
    }

    fn transport_stats(&self) -> Option<cartograph_connector::TransportStats> {
        Some(self.client.stats())
    }

    async fn list_contacts(&self, request: &ListRequest) -> Result<Page<CrmContact>> {
        self.client.list_contacts(request).await
    }

    async fn list_memberships(
        &self,
        list_id: &str,
        request: &ListRequest,
    ) -> Result<Page<MembershipChange>> {
        self.client.list_memberships(list_id, request).await
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        let config = self.client.config();
        let secret = config.client_secret.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "client_secret is needed to verify webhooks",
            )
            .with_connector(CONNECTOR)
            .with_operation("parse_webhook")
        })?;
        match (
            verify_v3(secret.expose(), request, config.webhook_tolerance),
            &config.previous_client_secret,
        ) {
            (Err(current), Some(previous)) if current.kind() == ErrorKind::Signature => {
                // During a rotation: the old secret still signs deliveries in flight.
                verify_v3(previous.expose(), request, config.webhook_tolerance)
                    .map_err(|_| current)?;
            }
            (verified, _) => verified?,
        }
        let events = decode_events(&request.body)?;
        to_crm_events(events, config.app_id.as_deref())
    }
}
