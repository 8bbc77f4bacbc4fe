//! A record the CRM wrote but whose later step (an association) failed: the engine counts
//! it as written, retries (or dead-letters) the item with an error saying the record
//! exists, and the retry writes the same record again by its key, never a second one.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cartograph_connector::{
    Capabilities, CommerceSource, CrmProfile, CrmSink, Error, ErrorKind, RecordOutcome, Result,
    TransportStats,
};
use cartograph_core::metrics::Rates;
use cartograph_model::{
    ContactUpsert, CrmContact, Currency, Decimal, EnrollmentRequest, IdentityKeys, OrderRecord,
    OrderStatus, ProductRecord, PropertyDefinition, TaskRequest,
};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{DeadLetterFilter, EngineConfig, Pipeline, Store, WorkerConfig};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};

/// The in-memory CRM, except that the first `budget` orders it writes come back
/// `WriteStatus::Partial` with `error` (as HubSpot answers when the contact association
/// fails after the deal upsert). Counts the writes of each order key.
struct AssociationFails {
    inner: MemoryCrm,
    budget: Mutex<usize>,
    error: Error,
    writes: Mutex<HashMap<String, usize>>,
    partial: Mutex<Vec<(String, String)>>,
}

#[cartograph_connector::async_trait]
impl CrmSink for AssociationFails {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn transport_stats(&self) -> Option<TransportStats> {
        self.inner.transport_stats()
    }
    fn profile(&self) -> Option<CrmProfile> {
        self.inner.profile()
    }
    fn required_properties(&self) -> Vec<PropertyDefinition> {
        self.inner.required_properties()
    }
    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.inner.find_contacts(keys).await
    }
    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        self.inner.upsert_contacts(contacts).await
    }
    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        let out = self.inner.record_orders(orders).await?;
        let mut budget = self.budget.lock().unwrap();
        let mut writes = self.writes.lock().unwrap();
        Ok(out
            .into_iter()
            .map(|o| {
                *writes.entry(o.key.clone()).or_default() += 1;
                if *budget > 0 && o.is_written() {
                    *budget -= 1;
                    self.partial
                        .lock()
                        .unwrap()
                        .push((o.key.clone(), o.id.clone().unwrap()));
                    let key = o.key.clone();
                    o.into_partial(self.error.clone().with_record(key))
                } else {
                    o
                }
            })
            .collect())
    }
    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        self.inner.upsert_products(products).await
    }
    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        self.inner.create_tasks(tasks).await
    }
    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        self.inner.enroll(requests).await
    }
    async fn ensure_properties(&self, defs: &[PropertyDefinition]) -> Result<Vec<RecordOutcome>> {
        self.inner.ensure_properties(defs).await
    }
}

struct World {
    _dir: tempfile::TempDir,
    shop: MemoryCommerce,
    crm: MemoryCrm,
    sink: Arc<AssociationFails>,
    store: Arc<dyn Store>,
}

fn association_error(kind: ErrorKind) -> Error {
    Error::new(kind, "association to the contact failed")
        .with_connector("memory")
        .with_operation("record_orders")
}

async fn world(budget: usize, error: Error) -> (World, Pipeline) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("p.sqlite")).unwrap());
    let shop = MemoryCommerce::with_seed(&Seed::default()).unwrap();
    let crm = MemoryCrm::new();
    let rates = Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4));
    let config = EngineConfig::for_profile(&cartograph_hubspot::profile(), rates).unwrap();
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        crm.define_property(p.definition.clone());
    }
    let sink = Arc::new(AssociationFails {
        inner: crm.clone(),
        budget: Mutex::new(budget),
        error,
        writes: Mutex::new(HashMap::new()),
        partial: Mutex::new(Vec::new()),
    });
    let pipeline = Pipeline::builder()
        .source(Arc::new(shop.clone()) as Arc<dyn CommerceSource>)
        .writer(Arc::new(shop.clone()))
        .sink(Arc::clone(&sink) as Arc<dyn CrmSink>)
        .store(Arc::clone(&store))
        .engine(config)
        .worker_config(WorkerConfig {
            retry_base: Duration::ZERO,
            retry_max: Duration::ZERO,
            ..WorkerConfig::default()
        })
        .build()
        .await
        .unwrap();
    (
        World {
            _dir: dir,
            shop,
            crm,
            sink,
            store,
        },
        pipeline,
    )
}

fn placed_orders(shop: &MemoryCommerce) -> usize {
    shop.orders()
        .iter()
        .filter(|o| o.status != OrderStatus::Incomplete && !o.is_archived)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_order_whose_association_failed_is_retried_without_a_duplicate() {
    let (w, p) = world(2, association_error(ErrorKind::Unavailable)).await;
    let report = p
        .backfill(&[
            cartograph_connector::Stream::Customers,
            cartograph_connector::Stream::Orders,
        ])
        .await
        .unwrap();
    let partial = w.sink.partial.lock().unwrap().clone();
    assert_eq!(partial.len(), 2, "two orders were written in part");
    assert!(
        report.queued_for_retry >= 2,
        "their items wait for a retry: {report:?}"
    );
    assert!(p.counters().written > 0);

    // The retry writes the same records (by key) again, completing them.
    let drained = p.worker("w1").run_until_idle().await.unwrap();
    assert!(drained.completed >= 2, "{drained:?}");
    let writes = w.sink.writes.lock().unwrap().clone();
    for (key, id) in &partial {
        assert_eq!(writes[key], 2, "order {key} was written again on retry");
        let in_crm: Vec<_> = w
            .crm
            .orders()
            .into_iter()
            .filter(|o| &o.record.key == key)
            .collect();
        assert_eq!(in_crm.len(), 1, "one CRM record for {key}");
        assert_eq!(&in_crm[0].crm_id, id, "the retry wrote the same record");
    }
    assert_eq!(w.crm.orders().len(), placed_orders(&w.shop));
    assert_eq!(p.dead_letter_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_order_whose_association_cannot_pass_is_dead_lettered_saying_it_exists() {
    let (w, p) = world(1, association_error(ErrorKind::Invalid)).await;
    p.backfill(&[
        cartograph_connector::Stream::Customers,
        cartograph_connector::Stream::Orders,
    ])
    .await
    .unwrap();
    let partial = w.sink.partial.lock().unwrap().clone();
    assert_eq!(partial.len(), 1);
    let (key, id) = &partial[0];
    let letters = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].stage, "complete_write");
    assert_eq!(letters[0].error_kind, "invalid");
    assert!(
        letters[0]
            .message
            .contains(&format!("{key} was written to the CRM as {id}")),
        "{}",
        letters[0].message
    );
    assert!(
        letters[0]
            .message
            .contains("association to the contact failed"),
        "{}",
        letters[0].message
    );
    // The record exists once; the other orders were written normally.
    assert_eq!(w.crm.orders().len(), placed_orders(&w.shop));
    assert!(matches!(
        w.sink.writes.lock().unwrap().get(key.as_str()),
        Some(1)
    ));
}
