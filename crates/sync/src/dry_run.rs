//! Dry run: compute every CRM write and record it instead of sending it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cartograph_connector::{Capabilities, CrmSink, RecordOutcome, Result};
use cartograph_model::{
    Association, ContactUpsert, CrmContact, EnrollmentRequest, IdentityKeys, OrderRecord,
    ProductRecord, PropertyDefinition, TaskRequest,
};
use serde::Serialize;

/// One write a dry run would have made.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum PlannedWrite {
    /// A contact upsert.
    Contact(ContactUpsert),
    /// An order record.
    Order(OrderRecord),
    /// A product.
    Product(ProductRecord),
    /// An association.
    Association(Association),
    /// A task or case.
    Task(TaskRequest),
    /// An enrollment.
    Enrollment(EnrollmentRequest),
    /// A property definition.
    Property(PropertyDefinition),
}

/// A sink that reads through to the real CRM (lookups are harmless) and records writes.
pub struct DryRunSink {
    inner: Arc<dyn CrmSink>,
    log: Mutex<Vec<PlannedWrite>>,
}

impl std::fmt::Debug for DryRunSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DryRunSink")
            .field("inner", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl DryRunSink {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn CrmSink>) -> Self {
        Self {
            inner,
            log: Mutex::new(Vec::new()),
        }
    }

    /// The writes recorded so far.
    pub fn log(&self) -> Vec<PlannedWrite> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn record<T: Clone>(
        &self,
        items: &[T],
        key: impl Fn(&T) -> String,
        wrap: impl Fn(T) -> PlannedWrite,
    ) -> Vec<RecordOutcome> {
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        items
            .iter()
            .map(|item| {
                log.push(wrap(item.clone()));
                RecordOutcome::unchanged(key(item), None)
            })
            .collect()
    }
}

#[async_trait]
impl CrmSink for DryRunSink {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn profile(&self) -> Option<cartograph_connector::CrmProfile> {
        self.inner.profile()
    }

    fn required_properties(&self) -> Vec<cartograph_model::PropertyDefinition> {
        self.inner.required_properties()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn transport_stats(&self) -> Option<cartograph_connector::TransportStats> {
        self.inner.transport_stats()
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.inner.find_contacts(keys).await
    }

    async fn read_orders(
        &self,
        request: &cartograph_connector::ListRequest,
    ) -> Result<cartograph_connector::Page<cartograph_connector::CrmOrder>> {
        self.inner.read_orders(request).await
    }

    async fn find_orders(&self, keys: &[String]) -> Result<Vec<cartograph_connector::CrmOrder>> {
        self.inner.find_orders(keys).await
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(contacts, |c| c.key.clone(), PlannedWrite::Contact))
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(orders, |o| o.key.clone(), PlannedWrite::Order))
    }

    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(products, |p| p.key.clone(), PlannedWrite::Product))
    }

    async fn associate(&self, associations: &[Association]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(
            associations,
            |a| format!("{}->{}", a.from.id, a.to.id),
            PlannedWrite::Association,
        ))
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(tasks, |t| t.key.clone(), PlannedWrite::Task))
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(requests, |e| e.key.clone(), PlannedWrite::Enrollment))
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        Ok(self.record(definitions, |d| d.name.clone(), PlannedWrite::Property))
    }
}
