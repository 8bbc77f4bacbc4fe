//! The sync engine: turns commerce and CRM events into CRM and store writes through the pure
//! core (identity resolution, mapping plans, metrics, lifecycle and suppression rules,
//! change detection), and implements the worker's [`Handler`].
//!
//! One batch goes through five steps: hydrate notifications, resolve each record to a person,
//! apply events to the person's ledger and plan the writes (the recipes), skip writes whose
//! mapped properties did not change, then write in vendor-sized batches and settle each item
//! by the outcomes of its writes.

mod config;
mod plan;
mod quality;
mod reverse;
mod state;
pub(crate) mod texts;
mod write;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, CrmSink, Error, ErrorKind};
use cartograph_core::identity::{IdentityIndex, IdentityRecord, PersonId, StoredLink};
use cartograph_core::mapping::{CompileErrors, Plan};
use cartograph_model::{CommerceEvent, CrmEvent, Origin, Timestamp};

pub use config::{EngineConfig, OrdersAs, Recipes, ReverseConfig};
pub use quality::{LatencySummary, QualityReport};
pub use state::PersonState;
pub use texts::{TaskText, TaskTexts};

use crate::observe::Counters;
use crate::queue_item::{ItemOutcome, WorkItem};
use crate::store::{Store, StoreError};
use crate::worker::Handler;

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A mapping does not compile.
    #[error("mapping does not compile: {0}")]
    Mapping(#[from] CompileErrors),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored state could not be read back.
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
}

pub(crate) struct Plans {
    pub(crate) contact: Plan,
    pub(crate) order: Plan,
    pub(crate) line_item: Option<Plan>,
    pub(crate) product: Option<Plan>,
}

/// Engines made in this process (part of each engine's lock-holder id).
static ENGINES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The engine. Build it with [`Engine::new`]; share it as `Arc<Engine>` between workers and
/// listing modes.
pub struct Engine {
    pub(crate) source: Arc<dyn CommerceSource>,
    pub(crate) writer: Option<Arc<dyn CommerceWriter>>,
    pub(crate) sink: Arc<dyn CrmSink>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) config: EngineConfig,
    pub(crate) crm: String,
    pub(crate) plans: Plans,
    pub(crate) index: Mutex<IdentityIndex>,
    pub(crate) population: Mutex<plan::PopulationCache>,
    pub(crate) quality: Mutex<quality::Quality>,
    /// Unique per engine instance (process id, start time): prefixes lock holder names.
    id: String,
    batches: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("source", &self.source.name())
            .field("crm", &self.crm)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Builds an engine: compiles the mappings (every problem reported at once) and rebuilds
    /// the identity index from the store's links.
    pub async fn new(
        source: Arc<dyn CommerceSource>,
        writer: Option<Arc<dyn CommerceWriter>>,
        sink: Arc<dyn CrmSink>,
        store: Arc<dyn Store>,
        counters: Arc<Counters>,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let m = &config.mapping;
        let plans = Plans {
            contact: m.compile(&config.mappings.contact, &[])?,
            order: m.compile(&config.mappings.order, &[])?,
            line_item: config
                .mappings
                .line_item
                .as_deref()
                .map(|name| m.compile(name, &[]))
                .transpose()?,
            product: config
                .mappings
                .product
                .as_deref()
                .map(|name| m.compile(name, &[]))
                .transpose()?,
        };
        let mut links = Vec::new();
        for link in store.load_links().await? {
            if link.record.is_empty() {
                continue;
            }
            let record: IdentityRecord =
                serde_json::from_str(&link.record).map_err(|e| EngineError::Corrupt {
                    what: format!("identity link {}/{}", link.system, link.external_id),
                    reason: e.to_string(),
                })?;
            links.push(StoredLink {
                person: PersonId::new(link.person),
                record,
            });
        }
        let index = match &config.identity_model {
            Some(model) => {
                IdentityIndex::from_links_with_model(config.identity.clone(), model.clone(), links)
            }
            None => IdentityIndex::from_links(config.identity.clone(), links),
        };
        let crm = config.crm.clone().unwrap_or_else(|| sink.name().to_owned());
        Ok(Self {
            source,
            writer,
            sink,
            store,
            counters,
            population: Mutex::new(plan::PopulationCache::new(config.tiers)),
            quality: Mutex::new(quality::Quality::default()),
            config,
            crm,
            plans,
            index: Mutex::new(index),
            id: format!(
                "engine-{}-{}-{}",
                std::process::id(),
                cartograph_model::Timestamp::now().unix_millis(),
                ENGINES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ),
            batches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The custom properties the mappings write (built-in CRM properties excluded), to
    /// create in the CRM before syncing.
    pub fn property_definitions(&self) -> Vec<cartograph_model::PropertyDefinition> {
        self.config.mapping.custom_properties().cloned().collect()
    }

    /// Data-quality figures so far: match and duplicate rates, event latency, reconciliation.
    pub fn quality_report(&self) -> QualityReport {
        lock(&self.quality).report(self.config.base())
    }

    /// Reads the CRM's order records back through the sink and reconciles them with the
    /// store's revenue the engine has seen (see [`crate::reconcile`]).
    ///
    /// # Errors
    /// The sink's read errors (`Unsupported` when it cannot read orders back).
    pub async fn reconcile_with_crm(
        &self,
        read_back: &crate::reconcile::ReadBack,
    ) -> Result<crate::reconcile::CrmReconciliation, Error> {
        let (store, not_revenue) = {
            let q = lock(&self.quality);
            (q.commerce_entries().clone(), q.not_revenue_keys().clone())
        };
        crate::reconcile::reconcile_with_crm(self.sink.as_ref(), &store, &not_revenue, read_back)
            .await
    }

    /// How many people the identity index knows.
    pub fn people(&self) -> usize {
        lock(&self.index).len()
    }

    async fn handle_commerce(
        &self,
        events: Vec<(usize, CommerceEvent)>,
        enqueued: Option<&[Timestamp]>,
        out: &mut [Option<ItemOutcome>],
    ) {
        let holder = self.next_holder();
        let (mut planned, locked) = match self.plan(events, &holder).await {
            Ok(planned) => planned,
            Err(e) => {
                let err =
                    Error::new(ErrorKind::Unavailable, format!("store: {e}")).with_retryable(true);
                for slot in out.iter_mut().filter(|s| s.is_none()) {
                    *slot = Some(ItemOutcome::Retry { error: err.clone() });
                }
                return;
            }
        };
        if let Some(enqueued) = enqueued {
            for (i, at) in &mut planned.event_times {
                if let Some(received) = enqueued.get(*i) {
                    *at = event_time(*at, *received);
                }
            }
        }
        // Renew the people's locks while the batch writes (a rate-limited write can outlast
        // one lock period); release them once its state is saved.
        let (store, lock_for) = (&self.store, self.config.subject_lock_for);
        let (holder_ref, locked_ref) = (&holder, &locked);
        crate::renew::renewing(lock_for, self.write(planned, out), move || async move {
            let now = cartograph_model::Timestamp::now();
            if let Err(e) = store
                .lock_subjects(holder_ref, locked_ref, lock_for, now)
                .await
            {
                tracing::warn!(error = %e, "cannot renew person locks");
            }
        })
        .await;
        if !locked.is_empty()
            && let Err(e) = self.store.unlock_subjects(&holder, &locked).await
        {
            tracing::warn!(error = %e, "cannot release person locks; they expire on their own");
        }
    }

    /// A lock holder name unique to one batch: the engine's id and a batch counter.
    fn next_holder(&self) -> String {
        let n = self
            .batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}-{n}", self.id)
    }
}

/// The time latency is measured from: the vendor's event time, or, when that has whole
/// seconds only (BigCommerce's `created_at`) and the intake received the event within that
/// second, the intake's millisecond time (the event happened in between, so the whole
/// second would overstate latency by up to a second).
fn event_time(occurred: Timestamp, received: Timestamp) -> Timestamp {
    let whole_second =
        occurred.truncated_to_millis() == occurred && occurred.unix_millis().rem_euclid(1000) == 0;
    let within = received >= occurred && received - occurred < time::Duration::SECOND;
    if whole_second && within {
        received
    } else {
        occurred
    }
}

#[async_trait]
impl Handler for Engine {
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome> {
        self.handle_items(items, None).await
    }

    async fn handle_queued(&self, items: &[WorkItem], enqueued: &[Timestamp]) -> Vec<ItemOutcome> {
        self.handle_items(items, Some(enqueued)).await
    }
}

impl Engine {
    async fn handle_items(
        &self,
        items: &[WorkItem],
        enqueued: Option<&[Timestamp]>,
    ) -> Vec<ItemOutcome> {
        let mut out: Vec<Option<ItemOutcome>> = items.iter().map(|_| None).collect();
        let mut commerce = Vec::new();
        let mut crm: Vec<(usize, CrmEvent)> = Vec::new();
        let mut to_hydrate = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                WorkItem::CommerceEvent { event } => commerce.push((i, (**event).clone())),
                WorkItem::CommerceNotification { notification } => {
                    to_hydrate.push((i, notification));
                }
                WorkItem::CrmEvent { event } => crm.push((i, (**event).clone())),
            }
        }
        for chunk in to_hydrate.chunks(self.config.hydrate_concurrency.max(1)) {
            let results = futures::future::join_all(
                chunk
                    .iter()
                    .map(|(_, n)| self.source.hydrate(n, Origin::Live)),
            )
            .await;
            for ((i, _), result) in chunk.iter().zip(results) {
                match result {
                    Ok(Some(event)) => {
                        self.counters.add_read(1);
                        commerce.push((*i, event));
                    }
                    // The resource is gone or needs nothing: done.
                    Ok(None) => out[*i] = Some(ItemOutcome::Done),
                    Err(error) => out[*i] = Some(ItemOutcome::from_error("hydrate", error)),
                }
            }
        }
        commerce.sort_by_key(|(i, _)| *i);
        if !commerce.is_empty() {
            self.handle_commerce(commerce, enqueued, &mut out).await;
        }
        for (i, event) in crm {
            out[i] = Some(self.handle_crm_event(&event).await);
        }
        out.into_iter()
            .map(|o| o.unwrap_or(ItemOutcome::Done))
            .collect()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keys of the engine's rows in the store's key-value metrics table.
pub(crate) mod keys {
    /// A person's ledger.
    pub(crate) fn person(person: &str) -> String {
        format!("person:{person}")
    }
    /// A person's lock subject.
    pub(crate) fn lock(person: &str) -> String {
        format!("person:{person}")
    }
    /// The person an order belongs to.
    pub(crate) fn order_owner(order: &str) -> String {
        format!("order-owner:{order}")
    }
}

pub(crate) type Ledger = BTreeMap<String, PersonState>;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(ms).unwrap()
    }

    #[test]
    fn latency_starts_at_the_intake_when_the_vendor_time_has_whole_seconds_only() {
        // BigCommerce's created_at: 12:00:05; received at 12:00:05.730: the event happened in
        // between, so the whole second would add up to 999 ms of latency that never was.
        let second = 1_780_000_005_000;
        assert_eq!(event_time(at(second), at(second + 730)), at(second + 730));
        // A vendor time with milliseconds is kept as it is.
        assert_eq!(event_time(at(second + 5), at(second + 730)), at(second + 5));
        // Received a second or more later (a delayed delivery): the vendor's time stands.
        assert_eq!(event_time(at(second), at(second + 1_000)), at(second));
        // A clock skew (received before the event's second): the vendor's time stands.
        assert_eq!(event_time(at(second), at(second - 20)), at(second));
    }
}
