//! The pipeline end to end on the in-memory store and CRM from the testkit, on a SQLite
//! store: backfill, live webhooks, recipes, dead letters, idempotence.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use cartograph_connector::{CommerceSource, CrmSink, NotificationKind, Stream};
use cartograph_core::metrics::Rates;
use cartograph_model::{
    Currency, Customer, Decimal, EnrollmentTarget, OrderStatus, RecordKind, SourceRef, Timestamp,
};
use cartograph_store_sqlite::SqliteStore;
use cartograph_sync::{DeadLetterFilter, EngineConfig, Pipeline, Store};
use cartograph_testkit::fixtures::Seed;
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm, MemoryWebhookEvent};

fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

struct World {
    _dir: tempfile::TempDir,
    shop: MemoryCommerce,
    crm: MemoryCrm,
    store: Arc<dyn Store>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("p.sqlite")).unwrap());
    World {
        _dir: dir,
        shop: MemoryCommerce::with_seed(&Seed::default()).unwrap(),
        crm: MemoryCrm::new(),
        store,
    }
}

async fn pipeline(w: &World, config: EngineConfig) -> Pipeline {
    // The CRM's built-in properties exist before any sync (HubSpot's email, firstname...).
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        w.crm.define_property(p.definition.clone());
    }
    Pipeline::builder()
        .source(Arc::new(w.shop.clone()) as Arc<dyn CommerceSource>)
        .writer(Arc::new(w.shop.clone()))
        .sink(Arc::new(w.crm.clone()) as Arc<dyn CrmSink>)
        .store(Arc::clone(&w.store))
        .engine(config)
        .build()
        .await
        .unwrap()
}

fn config() -> EngineConfig {
    let mut c = EngineConfig::for_profile(&cartograph_hubspot::profile(), rates()).unwrap();
    c.recipes.status_enrollments.insert(
        OrderStatus::Shipped.as_str().into(),
        EnrollmentTarget::List {
            id: "shipped-list".into(),
        },
    );
    c
}

const STREAMS: [Stream; 4] = [
    Stream::Customers,
    Stream::Products,
    Stream::Orders,
    Stream::Refunds,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_creates_one_contact_per_email_and_no_automations() {
    let w = world();
    let p = pipeline(&w, config()).await;
    let report = p.backfill(&STREAMS).await.unwrap();
    assert!(report.read > 0);
    let emails: BTreeSet<String> = w
        .shop
        .customers()
        .iter()
        .filter_map(|c| c.email.as_ref().map(|e| e.normalized().to_owned()))
        .chain(
            w.shop
                .orders()
                .iter()
                .filter_map(|o| o.email.as_ref().map(|e| e.normalized().to_owned())),
        )
        .collect();
    let contacts = w.crm.contacts();
    let contact_emails: BTreeSet<String> = contacts
        .iter()
        .filter_map(|c| c.email.as_ref().map(|e| e.normalized().to_owned()))
        .collect();
    assert_eq!(
        contacts.len(),
        contact_emails.len(),
        "never two contacts for one email"
    );
    assert!(contact_emails.is_subset(&emails));
    assert!(!contacts.is_empty());
    assert!(w.crm.enrollments().is_empty(), "a backfill never enrolls");
    assert!(w.crm.tasks().is_empty(), "a backfill never opens tasks");
    let revenue_orders = w
        .shop
        .orders()
        .iter()
        .filter(|o| o.status != OrderStatus::Incomplete && !o.is_archived)
        .count();
    assert_eq!(
        w.crm.orders().len(),
        revenue_orders,
        "one CRM order record per placed order"
    );
    assert!(w.crm.orders().iter().all(|o| o.versions == 1));
    assert_eq!(
        p.dead_letter_count().await.unwrap(),
        0,
        "{:?}",
        w.store
            .dead_letters(&DeadLetterFilter::default())
            .await
            .unwrap()
    );

    // Running everything again writes nothing new.
    let before = w.crm.counts();
    let again = p.backfill(&STREAMS).await.unwrap();
    assert_eq!(again.read, 0, "a finished backfill is not listed again");
    let delta = p.delta(&STREAMS).await.unwrap();
    assert_eq!(
        delta.handled, 0,
        "the overlap window re-reads nothing new: {delta:?}"
    );
    assert_eq!(w.crm.counts(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_status_change_enrolls_and_refund_opens_a_task() {
    let w = world();
    let p = pipeline(&w, config()).await;
    p.backfill(&STREAMS).await.unwrap();
    let order = w
        .shop
        .orders()
        .into_iter()
        .find(|o| o.email.is_some() && o.status != OrderStatus::Shipped && o.is_revenue())
        .unwrap();
    w.shop
        .update_order_status(&order.source.id, OrderStatus::Shipped)
        .unwrap();
    let req = w.shop.webhook_request(&[MemoryWebhookEvent::new(
        "delivery-1",
        RecordKind::Order,
        order.source.id.clone(),
        NotificationKind::StatusChanged {
            from: None,
            to: Some("shipped".into()),
        },
        Timestamp::now(),
    )]);
    let intake = p.intake();
    let answer = intake.commerce(p.source().as_ref(), &req).await;
    assert_eq!((answer.status, answer.queued), (200, 1));
    let redelivered = intake.commerce(p.source().as_ref(), &req).await;
    assert_eq!(redelivered.duplicates, 1, "same delivery id is a duplicate");
    let done = p.worker("w1").run_until_idle().await.unwrap();
    assert_eq!(done.completed, 1, "{done:?}");
    let enrollments = w.crm.enrollments();
    assert_eq!(enrollments.len(), 1);
    assert_eq!(
        enrollments[0].target,
        EnrollmentTarget::List {
            id: "shipped-list".into()
        }
    );

    // Refund: task for the owner, suppression on the contact.
    let refund = cartograph_model::Refund {
        source: SourceRef::new(w.shop.name(), RecordKind::Refund, "rf-live-1"),
        order: order.source.clone(),
        amount: order.total,
        items: vec![],
        reason: Some("damaged".into()),
        created_at: Timestamp::now(),
    };
    w.shop.insert_refund(refund);
    let req = w.shop.webhook_request(&[MemoryWebhookEvent::new(
        "delivery-2",
        RecordKind::Order,
        order.source.id.clone(),
        NotificationKind::Refunded {
            refund_id: Some("rf-live-1".into()),
        },
        Timestamp::now(),
    )]);
    assert_eq!(intake.commerce(p.source().as_ref(), &req).await.queued, 1);
    p.worker("w1").run_until_idle().await.unwrap();
    let tasks = w.crm.tasks();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0].request.subject.starts_with("Refund of"));
    let contact = w
        .crm
        .contact_by_email(order.email.as_ref().unwrap().as_str())
        .unwrap();
    assert_eq!(
        contact.properties.get("ecom_marketing_suppressed"),
        Some(&cartograph_model::PropertyValue::Bool(true)),
        "{:?}",
        contact.properties
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_without_email_is_a_typed_dead_letter_and_the_run_goes_on() {
    let w = world();
    let mut nameless = Customer::new(SourceRef::new(
        w.shop.name(),
        RecordKind::Customer,
        "no-email-1",
    ));
    nameless.first_name = Some("Anon".into());
    nameless.updated_at = Some(Timestamp::now());
    w.shop.insert_customer(nameless).unwrap();
    let p = pipeline(&w, config()).await;
    let report = p.backfill(&[Stream::Customers]).await.unwrap();
    assert_eq!(report.dead_lettered, 1);
    assert!(report.handled > 0, "the other customers were synced");
    let letters = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].stage, "map");
    assert_eq!(letters[0].error_kind, "invalid");
    assert!(
        letters[0].message.contains("field email"),
        "{}",
        letters[0].message
    );
    assert!(letters[0].record.ends_with("customer/no-email-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_but_reports_every_write() {
    let w = world();
    let config = config();
    for p in config.mapping.properties.iter().filter(|p| p.standard) {
        w.crm.define_property(p.definition.clone());
    }
    let p = Pipeline::builder()
        .source(Arc::new(w.shop.clone()) as Arc<dyn CommerceSource>)
        .sink(Arc::new(w.crm.clone()) as Arc<dyn CrmSink>)
        .store(Arc::clone(&w.store))
        .engine(config)
        .dry_run(true)
        .build()
        .await
        .unwrap();
    p.backfill(&STREAMS).await.unwrap();
    assert!(w.crm.contacts().is_empty(), "dry run wrote to the CRM");
    let log = p.dry_run_log().unwrap();
    assert!(
        log.iter()
            .any(|w| matches!(w, cartograph_sync::PlannedWrite::Contact(_)))
    );
    assert!(
        log.iter()
            .any(|w| matches!(w, cartograph_sync::PlannedWrite::Order(_)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_in_a_currency_without_a_rate_is_dead_lettered_with_the_field() {
    let w = world();
    let template = w
        .shop
        .orders()
        .into_iter()
        .find(|o| o.is_revenue() && o.email.is_some())
        .unwrap();
    let chf = Currency::new("CHF").unwrap();
    let mut order = template.clone();
    order.source = SourceRef::new(w.shop.name(), RecordKind::Order, "chf-1");
    order.currency = chf;
    for m in [
        &mut order.subtotal,
        &mut order.discount,
        &mut order.tax,
        &mut order.shipping,
        &mut order.total,
    ] {
        *m = cartograph_model::Money::new(m.amount(), chf);
    }
    order.line_items.clear();
    w.shop.insert_order(order);
    let p = pipeline(&w, config()).await;
    let report = p.backfill(&STREAMS).await.unwrap();
    assert_eq!(report.dead_lettered, 1, "{report:?}");
    let letters = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters[0].stage, "metrics");
    assert!(
        letters[0].message.contains("field total"),
        "{}",
        letters[0].message
    );
    assert!(letters[0].record.ends_with("order/chf-1"));
    assert!(
        w.crm
            .orders()
            .iter()
            .all(|o| !o.record.key.ends_with("chf-1"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_error_is_dead_lettered_and_the_run_goes_on() {
    let w = world();
    let mut nameless = Customer::new(SourceRef::new(
        w.shop.name(),
        RecordKind::Customer,
        "nameless-1",
    ));
    nameless.email = cartograph_model::EmailAddress::new("nameless@example.com");
    nameless.updated_at = Some(Timestamp::now());
    w.shop.insert_customer(nameless).unwrap();
    let mut c = config();
    let contact = c
        .mapping
        .mappings
        .iter_mut()
        .find(|m| m.name == "contact")
        .unwrap();
    contact
        .fields
        .iter_mut()
        .find(|f| f.target == "firstname")
        .unwrap()
        .required = true;
    let p = pipeline(&w, c).await;
    let report = p.backfill(&[Stream::Customers]).await.unwrap();
    assert!(report.handled > 0);
    let letters = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(
        (letters[0].stage.as_str(), letters[0].error_kind.as_str()),
        ("map", "invalid")
    );
    assert!(
        letters[0].message.contains("firstname"),
        "{}",
        letters[0].message
    );
    assert!(w.crm.contact_by_email("nameless@example.com").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_reads_changes_since_a_date_as_live_and_moves_the_delta_checkpoint() {
    let w = world();
    let p = pipeline(&w, config()).await;
    p.backfill(&STREAMS).await.unwrap();
    let order = w
        .shop
        .orders()
        .into_iter()
        .find(|o| o.is_revenue() && o.email.is_some() && o.status != OrderStatus::Shipped)
        .unwrap();
    let since = Timestamp::now();
    w.shop
        .update_order_status(&order.source.id, OrderStatus::Shipped)
        .unwrap();
    let report = p.catch_up(&[Stream::Orders], since).await.unwrap();
    assert_eq!(report.handled, 1, "{report:?}");
    assert_eq!(
        w.crm.enrollments().len(),
        1,
        "a catch-up is live: the status change enrolls"
    );
    let delta = p.delta(&[Stream::Orders]).await.unwrap();
    assert_eq!(delta.handled, 0, "the next delta starts after the catch-up");
    let reconciliation = p.quality().reconciliation;
    assert!(reconciliation.is_balanced(), "{reconciliation:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_workers_drain_the_queue_and_report_on_shutdown() {
    let w = world();
    let p = pipeline(&w, config()).await;
    p.backfill(&STREAMS).await.unwrap();
    let orders: Vec<_> = w
        .shop
        .orders()
        .into_iter()
        .filter(|o| o.email.is_some() && o.status != OrderStatus::Shipped && o.is_revenue())
        .take(4)
        .collect();
    assert_eq!(orders.len(), 4);
    let mut events = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        w.shop
            .update_order_status(&order.source.id, OrderStatus::Shipped)
            .unwrap();
        events.push(MemoryWebhookEvent::new(
            format!("pool-{i}"),
            RecordKind::Order,
            order.source.id.clone(),
            NotificationKind::StatusChanged {
                from: None,
                to: Some("shipped".into()),
            },
            Timestamp::now(),
        ));
    }
    let answer = p
        .intake()
        .commerce(p.source().as_ref(), &w.shop.webhook_request(&events))
        .await;
    assert_eq!(answer.queued, 4);

    let pool = p.spawn_workers(2);
    assert_eq!(pool.len(), 2);
    // Wait (bounded) for the four enrollments the queued events lead to.
    for _ in 0..500 {
        if w.crm.enrollments().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reports = pool.shutdown().await.unwrap();
    assert_eq!(reports.len(), 2, "one report per worker");
    let completed: usize = reports.iter().map(|r| r.completed).sum();
    assert_eq!(completed, 4, "{reports:?}");
    assert_eq!(w.crm.enrollments().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crm_event_of_an_unhandled_type_is_a_visible_dead_letter() {
    let w = world();
    let p = pipeline(&w, config()).await;
    let item = cartograph_sync::WorkItem::CrmEvent {
        event: Box::new(cartograph_model::CrmEvent {
            id: Some("evt-9".into()),
            occurred_at: Timestamp::now(),
            is_own_write: false,
            change_source: None,
            kind: cartograph_model::CrmEventKind::Unhandled {
                topic: "deal.creation".into(),
                object_id: Some("9".into()),
            },
        }),
    };
    p.store()
        .enqueue(&[cartograph_sync::NewQueuedEvent {
            key: "crm:evt-9".into(),
            source: "crm".into(),
            kind: item.kind().into(),
            payload: serde_json::to_string(&item).unwrap(),
            not_before: Timestamp::now(),
        }])
        .await
        .unwrap();
    let report = p.worker("w").run_until_idle().await.unwrap();
    assert_eq!(report.dead_lettered, 1);
    let letters = w
        .store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters[0].stage, "unhandled");
    assert_eq!(letters[0].record, "crm/deal.creation/9");
    assert!(
        letters[0].message.contains("deal.creation"),
        "{}",
        letters[0].message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_prevented_count_records_merged_not_repeat_orders() {
    let plain = world();
    let base = {
        let p = pipeline(&plain, config()).await;
        p.backfill(&STREAMS).await.unwrap();
        p.quality()
    };

    let w = world();
    let template = w
        .shop
        .orders()
        .into_iter()
        .find(|o| o.is_revenue() && o.customer.is_some() && o.email.is_some())
        .unwrap();
    let guest = |id: &str, email: &str| {
        let mut o = template.clone();
        o.source = SourceRef::new(w.shop.name(), RecordKind::Order, id);
        o.customer = None;
        o.email = cartograph_model::EmailAddress::new(email);
        o
    };
    // A new guest checks out three times with the same email and name: one record, one
    // person, no duplicate (the old count said two).
    for n in 0..3 {
        w.shop
            .insert_order(guest(&format!("g-{n}"), "new.guest@example.org"));
    }
    // The account holder checks out twice as a guest: one record merged into the
    // account's person, however many times it orders.
    let holder = template.email.clone().unwrap();
    for n in 0..2 {
        w.shop
            .insert_order(guest(&format!("h-{n}"), holder.as_str()));
    }
    // An incomplete order (checkout never finished) is never written.
    let mut incomplete = template.clone();
    incomplete.source = SourceRef::new(w.shop.name(), RecordKind::Order, "inc-1");
    incomplete.status = OrderStatus::Incomplete;
    w.shop.insert_order(incomplete);

    let p = pipeline(&w, config()).await;
    p.backfill(&STREAMS).await.unwrap();
    let q = p.quality();
    assert_eq!(q.resolved, base.resolved + 2, "{q:?} vs {base:?}");
    assert_eq!(
        q.duplicates_prevented,
        base.duplicates_prevented + 1,
        "{q:?} vs {base:?}"
    );
    assert_eq!(q.orders_skipped, base.orders_skipped + 1);
    assert_eq!(q.orders_written, base.orders_written + 5);
    assert!(
        w.crm
            .orders()
            .iter()
            .all(|o| !o.record.key.ends_with("inc-1"))
    );
}
