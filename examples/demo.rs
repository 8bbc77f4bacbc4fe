//! Cartograph end to end, in under a minute, with nothing but this process.
//!
//! `cargo run --release --example demo` (BigCommerce into HubSpot), or pick the pair:
//! `cargo run --release --example demo -- --pair bigcommerce:activecampaign` or
//! `--pair commercetools:hubspot` (`commerce:crm`; every pair compiled in works, wired by
//! `cartograph::harness`).
//!
//! 1. Starts the commerce and CRM simulators in-process (real HTTP on 127.0.0.1).
//! 2. Seeds the store with generated customers (with realistic duplicates: case and alias
//!    variants, guest checkouts, households), a catalog, tens of thousands of orders and
//!    refunds.
//! 3. Backfills history into HubSpot on a SQLite store in a temporary folder (historical:
//!    no automation fires).
//! 4. Goes live: the store simulator posts signed webhooks (commercetools: subscription
//!    deliveries in the Pub/Sub push shape) for new orders, status changes, refunds, carts
//!    abandoned and converted to the intake server; workers drain the queue,
//!    including a burst during which HubSpot answers 429s and 5xx.
//! 5. Reads the order records back from the CRM and reconciles them with the store's
//!    revenue, order by order, exact to the cent.
//! 6. Prints what happened: contacts, duplicates prevented, orders written and skipped,
//!    tasks, enrollments, review items, dead letters, latency, reconciliation, throughput.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::connector::Stream;
use cartograph::core::metrics::Rates;
use cartograph::harness::{
    BACKFILL_STREAMS, CommerceSystem, CrmSystem, Harness, SeedData, parse_pair, start_commerce,
    start_crm,
};
use cartograph::model::{
    Brand, Cart, CartState, Category, Currency, Customer, Decimal, LineItem, Money, Order,
    OrderStatus, PaymentStatus, Product, RawStatus, RecordKind, Refund, SourceRef, Timestamp,
};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::reconcile::{DifferenceKind, ReadBack};
use cartograph::sync::{ListConfig, Store, WorkerConfig};
use cartograph::testkit::generate::{GeneratorConfig, RecordOrigin, generate};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PEOPLE_RECORDS: usize = 4_000;
const ORDERS: usize = 20_000;
const PRODUCTS: usize = 60;
const LIVE_ORDERS: usize = 300;
const BURST_ORDERS: usize = 300;
const LIVE_CARTS: usize = 120;
/// One CRM order record in this many has its amount overwritten by a "user" before the
/// read-back, and one in `DELETE_ONE_IN` is deleted: the drift reconciliation must find.
const EDIT_ONE_IN: usize = 97;
const DELETE_ONE_IN: usize = 331;

/// A small deterministic generator (splitmix64), so every run tells the same story.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

fn usd(cents: i64) -> Money {
    Money::from_minor(cents, Currency::USD)
}

/// The store's data: customer accounts (one per email, case-insensitively, as BigCommerce
/// enforces) and guest identities that only ever check out as guests.
struct Shop {
    accounts: Vec<Customer>,
    guests: Vec<Customer>,
    products: Vec<Product>,
    categories: Vec<Category>,
    brands: Vec<Brand>,
}

fn shop(rng: &mut Rng) -> Shop {
    let data = generate(&GeneratorConfig::new(7, PEOPLE_RECORDS));
    let mut emails = BTreeSet::new();
    let (mut accounts, mut guests) = (Vec::new(), Vec::new());
    for (i, record) in data.records.into_iter().enumerate() {
        let mut c = record.customer;
        let Some(email) = c.email.clone() else {
            continue;
        };
        let guest = !matches!(record.origin, RecordOrigin::Account) && i % 3 != 0;
        if guest || !emails.insert(email.normalized().to_owned()) {
            c.is_guest = true;
            guests.push(c);
        } else {
            c.source = SourceRef::new(
                "bigcommerce",
                RecordKind::Customer,
                (1000 + accounts.len()).to_string(),
            );
            c.updated_at = Some(Timestamp::now() - time::Duration::days(400));
            accounts.push(c);
        }
    }
    let categories: Vec<Category> = ["Apparel", "Shoes", "Outdoor", "Kitchen", "Books", "Garden"]
        .iter()
        .enumerate()
        .map(|(i, name)| Category {
            source: SourceRef::new("bigcommerce", RecordKind::Category, (20 + i).to_string()),
            name: (*name).into(),
            parent_id: None,
        })
        .collect();
    let brands: Vec<Brand> = ["Northwind", "Contoso", "Fabrikam"]
        .iter()
        .enumerate()
        .map(|(i, name)| Brand {
            source: SourceRef::new("bigcommerce", RecordKind::Brand, (40 + i).to_string()),
            name: (*name).into(),
        })
        .collect();
    let products = (0..PRODUCTS)
        .map(|i| {
            let cents = i64::try_from(900 + rng.below(25_000)).unwrap_or(900);
            Product {
                source: SourceRef::new("bigcommerce", RecordKind::Product, (100 + i).to_string()),
                name: format!("{} item {i}", categories[i % categories.len()].name),
                sku: Some(format!("SKU-{i:04}")),
                description: None,
                price: Some(usd(cents)),
                sale_price: None,
                category_ids: vec![categories[i % categories.len()].source.id.clone()],
                brand_id: Some(brands[i % brands.len()].source.id.clone()),
                variants: vec![],
                inventory: Some(50),
                availability: cartograph::model::Availability::Available,
                is_visible: true,
                url: Some(format!("/products/{i}")),
                image_url: None,
                created_at: Some(Timestamp::now() - time::Duration::days(800)),
                updated_at: Some(Timestamp::now() - time::Duration::days(400)),
                custom: cartograph::model::Attributes::new(),
            }
        })
        .collect();
    Shop {
        accounts,
        guests,
        products,
        categories,
        brands,
    }
}

fn order(shop: &Shop, rng: &mut Rng, id: usize, at: Timestamp, status: OrderStatus) -> Order {
    // Two thirds of orders come from accounts; the rest are guest checkouts.
    let buyer = if rng.below(3) < 2 {
        &shop.accounts[rng.below(shop.accounts.len())]
    } else {
        &shop.guests[rng.below(shop.guests.len())]
    };
    let lines: Vec<LineItem> = (0..=rng.below(4))
        .map(|n| {
            let p = &shop.products[rng.below(shop.products.len())];
            let qty = i64::try_from(1 + rng.below(3)).unwrap_or(1);
            let unit = p.price.unwrap_or_else(|| usd(1000));
            LineItem {
                id: format!("{id}-{n}"),
                sku: p.sku.clone(),
                product_id: Some(p.source.id.clone()),
                variant_id: None,
                name: p.name.clone(),
                quantity: Decimal::from(qty),
                unit_price: unit,
                total: unit.checked_mul(Decimal::from(qty)).unwrap_or(unit),
                discount: None,
                tax: None,
                categories: vec![
                    shop.categories[rng.below(shop.categories.len())]
                        .name
                        .clone(),
                ],
                brand: None,
                image_url: None,
                product_url: p.url.clone(),
                custom: cartograph::model::Attributes::new(),
            }
        })
        .collect();
    let subtotal = Money::sum(Currency::USD, lines.iter().map(|l| &l.total)).unwrap_or(usd(0));
    let shipping = usd(599);
    Order {
        source: SourceRef::new("bigcommerce", RecordKind::Order, id.to_string()),
        number: Some(id.to_string()),
        customer: (!buyer.is_guest).then(|| buyer.source.clone()),
        email: buyer.email.clone(),
        status,
        raw_status: RawStatus::default(),
        payment_status: if status.is_revenue() {
            PaymentStatus::Paid
        } else {
            PaymentStatus::Pending
        },
        fulfillment_status: cartograph::model::FulfillmentStatus::Unfulfilled,
        currency: Currency::USD,
        subtotal,
        discount: usd(0),
        tax: usd(0),
        shipping,
        total: subtotal.checked_add(&shipping).unwrap_or(subtotal),
        coupons: vec![],
        billing_address: buyer.primary_address().cloned(),
        shipping_addresses: vec![],
        channel: None,
        line_items: lines,
        created_at: at,
        updated_at: Some(at),
        paid_at: None,
        shipped_at: None,
        is_archived: false,
        custom: cartograph::model::Attributes::new(),
    }
}

fn history(shop: &Shop, rng: &mut Rng) -> (Vec<Order>, Vec<Refund>) {
    let statuses = [
        OrderStatus::Completed,
        OrderStatus::Completed,
        OrderStatus::Shipped,
        OrderStatus::Shipped,
        OrderStatus::AwaitingFulfillment,
        OrderStatus::Cancelled,
        OrderStatus::Incomplete,
    ];
    let start = Timestamp::now() - time::Duration::days(730);
    let orders: Vec<Order> = (0..ORDERS)
        .map(|i| {
            let at = start + time::Duration::minutes(i64::try_from(i * 52).unwrap_or(0));
            let status = statuses[rng.below(statuses.len())];
            order(shop, rng, 100_000 + i, at, status)
        })
        .collect();
    let refunds = orders
        .iter()
        .filter(|o| o.is_revenue())
        .step_by(40)
        .enumerate()
        .map(|(n, o)| Refund {
            source: SourceRef::new("bigcommerce", RecordKind::Refund, (1 + n).to_string()),
            order: o.source.clone(),
            amount: o.line_items[0].total,
            items: vec![],
            reason: Some("Returned".into()),
            created_at: o.created_at + time::Duration::days(10),
        })
        .collect();
    (orders, refunds)
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), BoxError> {
    if std::env::var_os("CARTOGRAPH_DEBUG").is_some() {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .init();
    }
    let (commerce_system, crm_system) = pair_from_args()?;
    let (shop_name, crm_name) = (display_commerce(commerce_system), display_crm(crm_system));
    let started = Instant::now();
    let mut rng = Rng(2026);
    eprintln!("Cartograph demo: {shop_name} simulator -> Cartograph -> {crm_name} simulator\n");

    // 1. Simulators (the vendor's documented quotas, on clocks running fast).
    let bc = start_commerce(commerce_system).await?;
    let hs = start_crm(crm_system).await?;

    // 2. Seed the store.
    let shop = shop(&mut rng);
    let (orders, refunds) = history(&shop, &mut rng);
    bc.seed(&SeedData {
        categories: shop.categories.clone(),
        brands: shop.brands.clone(),
        products: shop.products.clone(),
        customers: shop.accounts.clone(),
        orders: orders.clone(),
        refunds: refunds.clone(),
        ..SeedData::default()
    });
    eprintln!(
        "Store seeded: {} customer accounts, {} guest identities (duplicates of {} records), {} products, {} orders, {} refunds",
        shop.accounts.len(),
        shop.guests.len(),
        PEOPLE_RECORDS,
        shop.products.len(),
        orders.len(),
        refunds.len()
    );

    // 3. Pipeline on a SQLite file.
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cartograph.sqlite");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db)?);
    let shipped = hs.create_enrollment_target("Orders shipped");
    let abandoned = hs.create_enrollment_target("Abandoned carts");
    let (shipped_target, abandoned_target) = (shipped.clone(), abandoned.clone());
    let harness = Harness::builder(
        Arc::clone(&bc),
        Arc::clone(&hs),
        Arc::clone(&store),
        Rates::new(Currency::USD),
    )
    .tune(move |config| {
        if let Some(target) = shipped_target {
            config
                .recipes
                .status_enrollments
                .insert(OrderStatus::Shipped.as_str().into(), target);
        }
        config.recipes.abandoned_cart_enrollment = abandoned_target;
        config.recipes.high_value_threshold = Some(Decimal::new(600, 0));
    })
    .list_config(ListConfig {
        page_size: 250,
        ..ListConfig::default()
    })
    .worker_config(WorkerConfig {
        retry_base: Duration::from_millis(50),
        ..WorkerConfig::default()
    })
    // Webhooks are subscribed once the backfill is done.
    .webhooks(false)
    .build()
    .await?;
    let pipeline = Arc::clone(&harness.pipeline);

    // 4. Backfill with a progress bar.
    let bars = MultiProgress::new();
    let total = (shop.accounts.len() + shop.products.len() + orders.len() + refunds.len()) as u64;
    let bar = bars.add(ProgressBar::new(total));
    bar.set_style(style(
        "backfill  {bar:40} {pos:>6}/{len} records {per_sec} {msg}",
    ));
    let backfill_started = Instant::now();
    let run = {
        let pipeline = Arc::clone(&pipeline);
        tokio::spawn(async move { pipeline.backfill(&BACKFILL_STREAMS).await })
    };
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut ticks = 0_u32;
    while !run.is_finished() {
        let c = pipeline.counters();
        bar.set_position(c.read.min(total));
        ticks += 1;
        if plain && ticks % 20 == 0 {
            eprintln!(
                "backfill: {} of {total} records read, {} written, {} unchanged",
                c.read, c.written, c.unchanged
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = run.await??;
    let backfill_secs = backfill_started.elapsed().as_secs_f64();
    bar.set_position(total);
    bar.finish_with_message(format!("done in {backfill_secs:.1} s"));
    let after_backfill = pipeline.counters();

    // 5. Live: intake server, webhooks from the store, two workers.
    harness.deliver_webhooks().await?;
    let workers = pipeline.spawn_workers(2);

    let live = bars.add(ProgressBar::new_spinner());
    live.set_style(style("live      {spinner} {msg}"));
    let mut next_id = 200_000;
    let mut placed = Vec::new();
    for i in 0..LIVE_ORDERS {
        let mut o = order(
            &shop,
            &mut rng,
            next_id,
            Timestamp::now(),
            OrderStatus::AwaitingFulfillment,
        );
        if i % 10 == 0 {
            // A high-value order: deal plus a task for the owner.
            o.line_items[0].quantity = Decimal::from(20);
            o.line_items[0].total = o.line_items[0].unit_price.checked_mul(Decimal::from(20))?;
            o.subtotal = Money::sum(Currency::USD, o.line_items.iter().map(|l| &l.total))?;
            o.total = o.subtotal.checked_add(&o.shipping)?;
        }
        placed.push(bc.place_order(&o));
        next_id += 1;
    }
    live.set_message(format!("{LIVE_ORDERS} orders placed"));
    for (i, id) in placed.iter().enumerate() {
        let status = if i % 7 == 0 {
            OrderStatus::Cancelled
        } else {
            OrderStatus::Shipped
        };
        if i % 2 == 0 {
            bc.set_order_status(id, status);
        }
        if i % 15 == 1 {
            bc.refund_order(id, Decimal::new(1500, 2), "Damaged in transit");
        }
    }
    let mut carts = Vec::new();
    for i in 0..LIVE_CARTS {
        let buyer = &shop.accounts[rng.below(shop.accounts.len())];
        let p = &shop.products[rng.below(shop.products.len())];
        let unit = p.price.unwrap_or_else(|| usd(1000));
        carts.push(bc.create_cart(&Cart {
            source: SourceRef::new(bc.system(), RecordKind::Cart, format!("demo-cart-{i}")),
            customer: Some(buyer.source.clone()),
            email: buyer.email.clone(),
            items: vec![LineItem {
                id: format!("cl-{i}"),
                sku: p.sku.clone(),
                product_id: Some(p.source.id.clone()),
                variant_id: None,
                name: p.name.clone(),
                quantity: Decimal::ONE,
                unit_price: unit,
                total: unit,
                discount: None,
                tax: None,
                categories: vec![],
                brand: None,
                image_url: None,
                product_url: p.url.clone(),
                custom: cartograph::model::Attributes::new(),
            }],
            value: unit,
            state: CartState::Active,
            recovery_url: None,
            channel: None,
            created_at: Some(Timestamp::now()),
            updated_at: Some(Timestamp::now()),
            abandoned_at: None,
            converted_order: None,
        }));
    }
    live.set_message("carts created; waiting for them to be abandoned (1 h of store time)");
    tokio::time::sleep(Duration::from_secs(3)).await;
    if harness.source.capabilities().can_delta(Stream::Carts) {
        // Platforms without an abandoned-cart event (commercetools): the scheduled idle-cart
        // sweep, a delta listing of carts, finds the idle ones abandoned.
        live.set_message("idle-cart sweep (delta listing of carts)");
        pipeline.delta(&[Stream::Carts]).await?;
    }
    let converted = carts
        .iter()
        .step_by(3)
        .filter(|id| bc.convert_cart(id).is_some())
        .count();
    // A Black-Friday burst while the CRM sheds load.
    hs.set_fault_rates(0.25, 0.0);
    live.set_message(format!("burst: {crm_name} answering some 429s and 503s"));
    for _ in 0..BURST_ORDERS {
        let o = order(
            &shop,
            &mut rng,
            next_id,
            Timestamp::now(),
            OrderStatus::AwaitingFulfillment,
        );
        bc.place_order(&o);
        next_id += 1;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    hs.set_fault_rates(0.0, 0.15);
    tokio::time::sleep(Duration::from_millis(800)).await;
    hs.set_fault_rates(0.0, 0.0);

    // Wait until deliveries stop arriving and the queue is empty.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut seen, mut quiet_since) = (0, Instant::now());
    loop {
        let queue = store.queue_stats(Timestamp::now()).await?;
        let deliveries = bc.webhook_deliveries().0;
        live.set_message(format!(
            "{deliveries} webhook deliveries, queue: {} ready, {} in flight, {} delayed",
            queue.ready, queue.leased, queue.delayed
        ));
        if deliveries != seen {
            (seen, quiet_since) = (deliveries, Instant::now());
        }
        let quiet = quiet_since.elapsed() > Duration::from_secs(1);
        if (queue.total() == 0 && quiet) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if std::env::var_os("CARTOGRAPH_DEBUG_LETTERS").is_some() {
        let mut kinds = BTreeMap::new();
        for l in store
            .dead_letters(&cartograph::sync::DeadLetterFilter {
                limit: Some(1000),
                ..Default::default()
            })
            .await?
        {
            if l.stage == "review" {
                continue;
            }
            let msg: String = l.message.chars().take(400).collect();
            *kinds
                .entry((
                    l.stage.clone(),
                    msg.split(']').next_back().unwrap_or_default().to_owned(),
                ))
                .or_insert(0) += 1;
        }
        for ((stage, msg), n) in &kinds {
            eprintln!("{n:>5} {stage}: {msg}");
        }
    }
    let left = store.queue_stats(Timestamp::now()).await?.total();
    workers.shutdown().await?;
    live.finish_with_message(if left == 0 {
        "live traffic drained".to_owned()
    } else {
        format!("stopped waiting with {left} events still queued")
    });

    // 6. CRM users at work: a few order records edited (amount overwritten) or deleted in
    // the CRM, as sales reps do; then read the CRM back and reconcile it with the store.
    let amount_field = harness
        .sink
        .profile()
        .map(|p| p.revenue_fields.amount)
        .unwrap_or_default();
    let (mut edited, mut deleted) = (0_usize, 0_usize);
    for (n, record) in hs.order_records().iter().enumerate() {
        if n % EDIT_ONE_IN == 5 && hs.edit_order_record(&record.id, &amount_field, "1") {
            edited += 1;
        } else if n % DELETE_ONE_IN == 7 && hs.delete_order_record(&record.id) {
            deleted += 1;
        }
    }
    let read_started = Instant::now();
    let read_back = pipeline.reconcile_with_crm(&ReadBack::Full).await?;
    let read_secs = read_started.elapsed().as_secs_f64();

    // 7. The story.
    let counters = pipeline.counters();
    let quality = pipeline.quality();
    let contacts = hs.contacts();
    let all_letters = pipeline.dead_letter_count().await?;
    let reviews = store
        .dead_letters(&cartograph::sync::DeadLetterFilter {
            stage: Some("review".into()),
            limit: Some(100_000),
            ..Default::default()
        })
        .await?
        .len() as u64;
    let dead = all_letters - reviews;
    let emails: BTreeSet<String> = contacts
        .iter()
        .filter_map(|c| {
            ["email", "Email", "mail"]
                .iter()
                .find_map(|k| c.properties.get(*k))
                .map(|e| e.to_lowercase())
        })
        .collect();
    let (deliveries, failed_deliveries) = bc.webhook_deliveries();
    let (store_total, crm_total): (Decimal, Decimal) = read_back
        .days
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(a, b), d| {
            (a + d.store.amount(), b + d.crm.amount())
        });
    let store_orders = orders.len() + LIVE_ORDERS + BURST_ORDERS + converted;
    println!();
    println!("Summary");
    println!(
        "  store records backfilled      {:>8}  in {backfill_secs:.1} s ({:.0} records/s)",
        report.read,
        f64::from(u32::try_from(report.read).unwrap_or(u32::MAX)) / backfill_secs.max(0.001)
    );
    println!(
        "  {:<30}{:>8}  ({} unique emails: never two contacts for one email)",
        format!("{crm_name} contacts"),
        contacts.len(),
        emails.len()
    );
    println!(
        "  duplicates prevented          {:>8}  (distinct records merged into another record's person: {:.1} % of {} records; repeat orders are not counted)",
        quality.duplicates_prevented,
        quality.duplicate_rate * 100.0,
        quality.resolved
    );
    println!(
        "  store orders                  {store_orders:>8}  ({} incomplete orders skipped: checkout never finished, never sent to {crm_name})",
        quality.orders_skipped
    );
    for (object, count) in hs.record_counts().into_iter().skip(1) {
        println!("  {:<30}{count:>8}", format!("{crm_name} {object}"));
    }
    for (label, target) in [("shipped", &shipped), ("abandoned carts", &abandoned)] {
        if let Some(target) = target {
            println!(
                "  {:<30}{:>8}",
                format!("enrolled: {label}"),
                hs.enrolled_in(target)
            );
        }
    }
    println!(
        "  CRM writes (created/updated)  {:>8}  unchanged skipped {}",
        counters.written, counters.unchanged
    );
    println!(
        "  webhook deliveries            {deliveries:>8}  ({failed_deliveries} not 2xx, retried by the store)"
    );
    let hubspot_transport = pipeline.transport().sink.unwrap_or_default();
    println!(
        "  {:<30}{:>8}  ({} answered 429, {} answered 5xx; {} retried by the connector, {} by the queue)",
        format!("{crm_name} requests"),
        hubspot_transport.requests,
        hubspot_transport.rate_limited,
        hubspot_transport.server_errors,
        hubspot_transport.retries,
        counters.retried
    );
    println!(
        "  review items                  {reviews:>8}  (ambiguous identities, shared mailboxes: not failures, the order still reaches the email's contact)"
    );
    println!("  dead letters                  {dead:>8}  (failures an operator must look at)");
    println!(
        "  live latency p50 / p99        {:>5} ms / {} ms  (store event to CRM write, over {} live events; from the intake's millisecond time where the store's event time has whole seconds)",
        quality.latency.p50_ms, quality.latency.p99_ms, quality.latency.count
    );
    println!(
        "  reconciliation (CRM read back) {:>6.2} %  aligned: {} of {} store orders match to the cent; {} missing in CRM, {} amount differs, {} day differs, {} only in CRM",
        read_back.alignment() * 100.0,
        read_back.matched,
        read_back.store_orders,
        read_back.count(DifferenceKind::MissingInCrm),
        read_back.count(DifferenceKind::AmountDiffers),
        read_back.count(DifferenceKind::DayDiffers),
        read_back.count(DifferenceKind::OnlyInCrm)
            + read_back.count(DifferenceKind::DuplicateInCrm),
    );
    println!(
        "                                          store {store_total} vs CRM {crm_total} over {} day/currency lines; {} {crm_name} records read in {read_secs:.1} s",
        read_back.days.len(),
        read_back.crm_records_read
    );
    println!(
        "                                          drift made by {crm_name} users before the read-back: {edited} amounts overwritten, {deleted} records deleted (cancelled orders' records among them are not revenue)"
    );
    for difference in read_back.differences.iter().take(5) {
        println!(
            "                                          {}: {}",
            difference.key,
            difference.kind.as_str()
        );
    }
    println!(
        "  live events after backfill    {:>8}",
        counters.read.saturating_sub(after_backfill.read)
    );
    if left > 0 {
        println!(
            "  still queued at the summary   {left:>8}  (the demo stopped waiting after 30 s: figures above leave these events out)"
        );
    }
    println!(
        "  total time                    {:>7.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `--pair commerce:crm` (default `bigcommerce:hubspot`).
fn pair_from_args() -> Result<(CommerceSystem, CrmSystem), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut pair = (CommerceSystem::BigCommerce, CrmSystem::HubSpot);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pair" => {
                let value = args.next().ok_or("--pair needs commerce:crm")?;
                pair = parse_pair(&value)?;
            }
            other => {
                return Err(format!("unknown argument {other:?} (use --pair commerce:crm)").into());
            }
        }
    }
    Ok(pair)
}

fn display_commerce(system: CommerceSystem) -> &'static str {
    match system {
        CommerceSystem::BigCommerce => "BigCommerce",
        CommerceSystem::Commercetools => "commercetools",
        _ => system.as_str(),
    }
}

fn display_crm(system: CrmSystem) -> &'static str {
    match system {
        CrmSystem::HubSpot => "HubSpot",
        CrmSystem::Salesforce => "Salesforce",
        CrmSystem::ActiveCampaign => "ActiveCampaign",
        _ => system.as_str(),
    }
}
