//! The proof that a new CRM needs no change in core or sync: a made-up CRM ("Ledger CRM"),
//! defined only in this file (its own profile, its own mapping file with its own property
//! names, contacts keyed by an external id, orders as commerce orders with revenue in
//! `booked_total`/`booked_on`/`booked_currency`), runs a full backfill through the stock
//! pipeline, and revenue reconciliation reads its fields.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceSource, ContactKeying, CrmProfile, CrmSink, MappingNames, RecordOutcome,
    Result, RevenueFields, Stream,
};
use cartograph_core::metrics::Rates;
use cartograph_model::{
    ContactUpsert, CrmContact, Currency, Decimal, EnrollmentRequest, IdentityKeys, OrderObject,
    OrderRecord, ProductRecord, PropertyDefinition, TaskRequest,
};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{DeadLetterFilter, EngineConfig, Pipeline, Store};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};

const LEDGER_MAPPING: &str = r#"
crm = "ledgercrm"

[[properties]]
object = "contact"
name = "mail"
label = "Mail"
type = "string"

[[properties]]
object = "contact"
name = "given_name"
label = "Given name"
type = "string"

[[properties]]
object = "contact"
name = "lifetime_spend"
label = "Lifetime spend"
type = "number"

[[properties]]
object = "contact"
name = "orders_placed"
label = "Orders placed"
type = "number"

[[properties]]
object = "order"
name = "shop_order_ref"
label = "Shop order"
type = "string"

[[properties]]
object = "order"
name = "booked_total"
label = "Booked total"
type = "number"

[[properties]]
object = "order"
name = "booked_on"
label = "Booked on"
type = "date"

[[properties]]
object = "order"
name = "booked_currency"
label = "Booked currency"
type = "string"

[[mappings]]
name = "member"
object = "contact"
subject = "customer"
fields = [
  { target = "mail", source = "customer.email", required = true },
  { target = "given_name", source = "customer.first_name" },
  { target = "lifetime_spend", source = "metrics.lifetime_value | amount | decimal(2)" },
  { target = "orders_placed", source = "metrics.paid_order_count" },
]

[[mappings]]
name = "booking"
object = "order"
subject = "order"
fields = [
  { target = "shop_order_ref", source = "order.key", required = true },
  { target = "booked_total", source = "order.total | amount | decimal(2)" },
  { target = "booked_on", source = "order.created_at | date" },
  { target = "booked_currency", source = "order.currency" },
]
"#;

fn ledger_profile() -> CrmProfile {
    CrmProfile::new("ledgercrm", LEDGER_MAPPING)
        .with_mappings(MappingNames::new("member", "booking"))
        .with_order_object(OrderObject::Order)
        .with_revenue_fields(RevenueFields::new(
            "booked_total",
            "booked_on",
            "booked_currency",
        ))
        .with_contact_keying(ContactKeying::ExternalId)
}

/// The made-up CRM: an in-memory store of records behind its own name and profile.
#[derive(Clone)]
struct LedgerCrm {
    records: MemoryCrm,
}

#[async_trait]
impl CrmSink for LedgerCrm {
    fn name(&self) -> &str {
        "ledgercrm"
    }

    fn capabilities(&self) -> Capabilities {
        self.records.capabilities()
    }

    fn profile(&self) -> Option<CrmProfile> {
        Some(ledger_profile())
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        self.records.find_contacts(keys).await
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        self.records.upsert_contacts(contacts).await
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        self.records.record_orders(orders).await
    }

    async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        self.records.upsert_products(products).await
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        self.records.create_tasks(tasks).await
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        self.records.enroll(requests).await
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        self.records.ensure_properties(definitions).await
    }
}

fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_defined_outside_core_and_sync_runs_a_backfill_and_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("third.sqlite")).unwrap());
    let shop = MemoryCommerce::with_seed(&Seed::default()).unwrap();
    let crm = LedgerCrm {
        records: MemoryCrm::new(),
    };
    let sink: Arc<dyn CrmSink> = Arc::new(crm.clone());
    let config = EngineConfig::for_profile(&sink.profile().unwrap(), rates()).unwrap();
    let pipeline = Pipeline::builder()
        .source(Arc::new(shop.clone()) as Arc<dyn CommerceSource>)
        .sink(sink)
        .store(Arc::clone(&store))
        .engine(config)
        .build()
        .await
        .unwrap();
    let report = pipeline
        .backfill(&[Stream::Customers, Stream::Orders, Stream::Refunds])
        .await
        .unwrap();
    assert!(report.read > 0, "{report:?}");
    let dead = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");

    let contacts = crm.records.contacts();
    assert!(!contacts.is_empty());
    assert!(
        contacts.iter().all(
            |c| c.properties.contains_key("mail") && c.properties.contains_key("orders_placed")
        ),
        "contacts carry the made-up CRM's own property names"
    );
    let orders = crm.records.orders();
    assert!(!orders.is_empty());
    assert!(orders.iter().all(|o| o.record.object == OrderObject::Order));
    assert!(
        orders
            .iter()
            .all(|o| o.record.properties.contains_key("booked_total"))
    );
    // Reconciliation read the profile's revenue fields: a field name the engine guessed
    // wrong would read zero on the CRM side and unbalance every day.
    let reconciliation = pipeline.quality().reconciliation;
    assert!(!reconciliation.days.is_empty());
    assert!(reconciliation.is_balanced(), "{reconciliation:?}");
    // It cannot read orders back (the trait's default): reconciling against the CRM says
    // so, naming the operation, and the engine's own figures above stay available.
    let err = pipeline
        .reconcile_with_crm(&cartograph_sync::reconcile::ReadBack::Full)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), cartograph_connector::ErrorKind::Unsupported);
    assert!(err.to_string().contains("read_orders"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_configured_for_another_crm_is_refused_at_build() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("m.sqlite")).unwrap());
    let shop = MemoryCommerce::with_seed(&Seed::default()).unwrap();
    let other = CrmProfile::new("othercrm", LEDGER_MAPPING)
        .with_mappings(MappingNames::new("member", "booking"))
        .with_order_object(OrderObject::Order);
    let built = Pipeline::builder()
        .source(Arc::new(shop) as Arc<dyn CommerceSource>)
        .sink(Arc::new(LedgerCrm {
            records: MemoryCrm::new(),
        }))
        .store(store)
        .engine(EngineConfig::for_profile(&other, rates()).unwrap())
        .build()
        .await;
    let Err(err) = built else {
        panic!("a mismatch is refused");
    };
    match err {
        cartograph_sync::BuildError::Config(e) => {
            assert_eq!(e.kind(), cartograph_connector::ErrorKind::Config);
            assert_eq!(e.field(), Some("engine.profile"));
        }
        other => panic!("expected a Config error, got {other}"),
    }
}
