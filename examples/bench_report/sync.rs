//! `sync_fraction_of_rate_ceiling` and `backfill_peak_rss_mb`.
//!
//! Both run the real pipeline (BigCommerce connector -> engine -> HubSpot connector, SQLite
//! store) against the two simulators, wired by the pair harness (`cartograph::harness`) as
//! the demo and the end-to-end tests are.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig as BcSimConfig};
use cartograph::connector::{CommerceSource, CommerceWriter, CrmSink, CrmSource, Stream};
use cartograph::core::metrics::{Rates, sample};
use cartograph::harness::{
    CommerceSimulator, CrmSimulator, Harness, PairConnectors, PipelineOptions, pair_pipeline,
};
use cartograph::http::RateLimit;
use cartograph::hubspot::HubSpot;
use cartograph::hubspot::sim::{HubSpotSim, SimConfig as HsSimConfig};
use cartograph::model::{Currency, Customer, Decimal, Order, RecordKind, SourceRef};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{Pipeline, Store, WorkerConfig};
use cartograph::testkit::generate::{GeneratorConfig, generate};
use serde_json::{Value, json};

use crate::child;
use crate::report::{Figure, current_rss_mb, median, peak_rss_mb, round_json};
use crate::trace::StatusCounts;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// HubSpot quota of the sync figure: requests per 10 s window (the Free/Starter burst).
pub(crate) const SYNC_BURST: u32 = 100;
/// Time scale of the sync figure: the 10 s window lasts 2 s.
pub(crate) const SYNC_TIME_SCALE: f64 = 0.2;

pub(crate) fn rates() -> Rates {
    Rates::new(Currency::USD)
        .with_rate(Currency::EUR, Decimal::new(108, 2))
        .with_rate(Currency::GBP, Decimal::new(127, 2))
        .with_rate(Currency::JPY, Decimal::new(67, 4))
}

/// `n` distinct people as BigCommerce customers with ids `1..=n` (no duplicates, no shared
/// mailboxes: one contact per customer is the expected result).
pub(crate) fn customers(n: usize, seed: u64) -> Vec<Customer> {
    let config = GeneratorConfig {
        duplicate_share: 0.0,
        household_share: 0.0,
        shared_phone_share: 0.0,
        shared_email_share: 0.0,
        namesake_share: 0.0,
        ..GeneratorConfig::new(seed, n)
    };
    generate(&config)
        .records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let mut c = r.customer;
            c.source = SourceRef::new("bigcommerce", RecordKind::Customer, (i + 1).to_string());
            c
        })
        .collect()
}

/// `n` orders of those customers (five line items each), ids `1..=n`.
pub(crate) fn orders(n: usize, customers: &[Customer]) -> Vec<Order> {
    let mut orders = sample::orders(n, customers.len().max(1), 13);
    for (i, o) in orders.iter_mut().enumerate() {
        o.source.id = (i + 1).to_string();
        if let Some(c) = &mut o.customer {
            let k: usize = c.id.parse().unwrap_or(0);
            if let Some(cust) = customers.get(k) {
                c.id.clone_from(&cust.source.id);
                o.email.clone_from(&cust.email);
            }
        }
    }
    orders
}

fn bc_sim_config() -> BcSimConfig {
    BcSimConfig {
        quota: 10_000_000,
        ..BcSimConfig::default()
    }
}

/// The pipeline of the backfill child, whose simulators run in the parent: connectors
/// pointed at their URLs, wired as the harness wires every pair.
async fn remote_pipeline(
    bc_url: &str,
    hs_url: &str,
    store: Arc<dyn Store>,
) -> Result<Pipeline, BoxError> {
    let bc = Arc::new(BigCommerce::new(
        bc_sim_config().connector_config_at(bc_url).build()?,
    )?);
    let hs = Arc::new(HubSpot::new(
        HsSimConfig::default()
            .connector_config_at(hs_url)?
            // No client-side quota to speak of: the figure is memory, not pacing.
            .rate_limit(RateLimit::new(1_000_000, Duration::from_secs(1)).with_burst(500_000))
            .daily_limit(0)
            .build()?,
    )?);
    let connectors = PairConnectors {
        source: Arc::clone(&bc) as Arc<dyn CommerceSource>,
        writer: Some(bc as Arc<dyn CommerceWriter>),
        sink: Arc::clone(&hs) as Arc<dyn CrmSink>,
        crm_source: Some(hs as Arc<dyn CrmSource>),
    };
    let options = PipelineOptions {
        worker: Some(worker_config()),
        ..PipelineOptions::default()
    };
    Ok(pair_pipeline(connectors, store, rates(), options).await?)
}

/// Fast worker retries (the simulators answer in microseconds).
fn worker_config() -> WorkerConfig {
    WorkerConfig {
        retry_base: Duration::from_millis(10),
        ..WorkerConfig::default()
    }
}

struct SyncRun {
    records_per_sec: f64,
    seconds: f64,
    written: usize,
    not_written: usize,
    responses_429: u64,
    attempts: u64,
    hubspot_http_secs: f64,
    bigcommerce_http_secs: f64,
    requests: Value,
    dead_letters: u64,
}

async fn sync_run(n: usize, seed: u64, counts: &StatusCounts) -> Result<SyncRun, BoxError> {
    let bc_sim = Arc::new(BigCommerceSim::start(bc_sim_config()).await?);
    // The connector gets the portal's quota on the simulator's clock (SYNC_BURST per 2 s).
    let hs_sim = Arc::new(
        HubSpotSim::start(HsSimConfig {
            burst: SYNC_BURST,
            time_scale: cartograph_sim::TimeScale::new(SYNC_TIME_SCALE),
            daily: u32::MAX,
            ..HsSimConfig::default()
        })
        .await?,
    );
    let window = Duration::from_secs(10).mul_f64(SYNC_TIME_SCALE);
    let customers = customers(n, seed);
    bc_sim.seed_customers(&customers);
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("sync.sqlite"))?);
    let harness = Harness::builder(
        Arc::clone(&bc_sim) as Arc<dyn CommerceSimulator>,
        Arc::clone(&hs_sim) as Arc<dyn CrmSimulator>,
        store,
        rates(),
    )
    .worker_config(worker_config())
    // Delta listing only: no webhook deliveries compete with the measured requests.
    .webhooks(false)
    .build()
    .await?;
    let p = &harness.pipeline;
    // Let the quota window used by setup (property checks) expire before timing.
    tokio::time::sleep(window).await;
    let log_start = hs_sim.requests().len();
    let (hs0, bc0) = (counts.get("hubspot"), counts.get("bigcommerce"));
    let t = Instant::now();
    p.delta(&[Stream::Customers]).await?;
    p.worker("bench").run_until_idle().await?;
    let seconds = t.elapsed().as_secs_f64();
    let (hs1, bc1) = (counts.get("hubspot"), counts.get("bigcommerce"));
    let emails: BTreeSet<String> = hs_sim
        .records("contacts")
        .iter()
        .filter_map(|c| c.properties.get("email").map(|e| e.to_lowercase()))
        .collect();
    let written = customers
        .iter()
        .filter(|c| {
            c.email
                .as_ref()
                .is_some_and(|e| emails.contains(&e.normalized().to_lowercase()))
        })
        .count();
    let mut by_path = std::collections::BTreeMap::<String, u64>::new();
    for (method, uri, _) in hs_sim.requests().iter().skip(log_start) {
        let path = uri.split('?').next().unwrap_or_default();
        *by_path.entry(format!("{method} {path}")).or_default() += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(SyncRun {
        records_per_sec: written as f64 / seconds,
        seconds,
        written,
        not_written: n - written,
        responses_429: hs1.limited - hs0.limited,
        attempts: hs1.attempts - hs0.attempts,
        hubspot_http_secs: hs1.busy_secs - hs0.busy_secs,
        bigcommerce_http_secs: bc1.busy_secs - bc0.busy_secs,
        requests: json!(by_path),
        dead_letters: p.dead_letter_count().await?,
    })
}

/// The sync figure: `runs` fresh runs of `n` contacts.
pub(crate) async fn measure_sync(
    n: usize,
    runs: usize,
    counts: &StatusCounts,
) -> Result<Figure, BoxError> {
    let mut results = Vec::with_capacity(runs);
    for run in 0..runs {
        results.push(sync_run(n, 100 + run as u64, counts).await?);
    }
    let window_s = 10.0 * SYNC_TIME_SCALE;
    #[allow(clippy::cast_precision_loss)]
    let ceiling = f64::from(SYNC_BURST) * cartograph::hubspot::MAX_BATCH as f64 / window_s;
    let fractions: Vec<f64> = results
        .iter()
        .map(|r| r.records_per_sec / ceiling)
        .collect();
    let not_written: usize = results.iter().map(|r| r.not_written).sum();
    let limited: u64 = results.iter().map(|r| r.responses_429).sum();
    #[allow(clippy::cast_precision_loss)]
    let runs_json: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "seconds": round_json(r.seconds),
                "records_per_sec": round_json(r.records_per_sec),
                "written": r.written,
                "not_written": r.not_written,
                "responses_429": r.responses_429,
                "hubspot_attempts": r.attempts,
                "hubspot_requests_per_sec": round_json(r.attempts as f64 / r.seconds),
                "hubspot_http_seconds": round_json(r.hubspot_http_secs),
                "bigcommerce_http_seconds": round_json(r.bigcommerce_http_secs),
                "other_seconds": round_json(r.seconds - r.hubspot_http_secs - r.bigcommerce_http_secs),
                "dead_letters": r.dead_letters,
                "hubspot_requests_by_path": r.requests,
            })
        })
        .collect();
    Ok(Figure::new(
        "sync_fraction_of_rate_ceiling",
        median(&fractions),
        "fraction (median of runs)",
        json!({"contacts": n, "runs": runs, "mode": "delta of BigCommerce customers into HubSpot"}),
    )
    .target(">= 0.9 with 0 lost", |v| v >= 0.9)
    .detail(json!({
        "quota": {"allowed_requests_per_sec": f64::from(SYNC_BURST) / window_s, "requests_per_window": SYNC_BURST, "window_seconds": window_s, "batch_size": cartograph::hubspot::MAX_BATCH},
        "ceiling_records_per_sec": ceiling,
        "records_per_sec_median": median(&results.iter().map(|r| r.records_per_sec).collect::<Vec<_>>()),
        "responses_429_total": limited,
        "records_not_written_total": not_written,
        "fraction_runs": fractions,
        "runs": runs_json,
    })))
}

/// The child's backfill: connectors to the parent's simulators, a fresh SQLite store, a
/// backfill of customers and orders and a drained queue; prints one JSON object.
pub(crate) fn child_main(n: usize, bc_url: &str, hs_url: &str) -> Result<(), BoxError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let rss_start = current_rss_mb();
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("bf.sqlite"))?);
        let p = remote_pipeline(bc_url, hs_url, store).await?;
        let t = Instant::now();
        let report = p.backfill(&[Stream::Customers, Stream::Orders]).await?;
        p.worker("bench").run_until_idle().await?;
        let seconds = t.elapsed().as_secs_f64();
        let out = json!({
            "customers": n,
            "orders": n / 2,
            "seconds": seconds,
            "read": report.read,
            "handled": report.handled,
            "dead_lettered": report.dead_lettered,
            "dead_letters": p.dead_letter_count().await?,
            "rss_start_mb": rss_start,
            "rss_end_mb": current_rss_mb(),
            "peak_rss_mb": peak_rss_mb(),
        });
        println!("{out}");
        Ok::<_, BoxError>(())
    })
}

/// Runs one backfill child per size with the simulators served by this process.
async fn backfill_size(n: usize) -> Result<Value, BoxError> {
    let bc_sim = BigCommerceSim::start(bc_sim_config()).await?;
    let hs_sim = HubSpotSim::start(HsSimConfig {
        burst: 1_000_000,
        daily: u32::MAX,
        ..HsSimConfig::default()
    })
    .await?;
    let customers = customers(n, 42);
    bc_sim.seed_customers(&customers);
    bc_sim.seed_orders(&orders(n / 2, &customers));
    let (bc_url, hs_url) = (bc_sim.base_url(), hs_sim.base_url().to_owned());
    let size = n.to_string();
    let v = tokio::task::spawn_blocking(move || {
        child::run_json(&["backfill", &size, &bc_url, &hs_url])
    })
    .await??;
    Ok(v)
}

/// The memory figure at `small`, `10 * small` and, when `hundredfold`, `100 * small`
/// customers (half as many orders each); the target compares the largest with the smallest.
pub(crate) async fn measure_backfill(small: usize, hundredfold: bool) -> Result<Figure, BoxError> {
    let factors: &[usize] = if hundredfold { &[1, 10, 100] } else { &[1, 10] };
    let mut runs = Vec::with_capacity(factors.len());
    for f in factors {
        runs.push(backfill_size(small * f).await?);
    }
    let peak = |v: &Value| v["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
    let sizes: Vec<usize> = factors.iter().map(|f| small * f).collect();
    let peaks: Vec<f64> = runs.iter().map(peak).collect();
    let (first, last) = (peaks[0], peaks[peaks.len() - 1]);
    let growth = last / first;
    Ok(Figure::new(
        "backfill_peak_rss_mb",
        last,
        "MiB (VmHWM of the child, largest size)",
        json!({"customers": sizes, "orders": sizes.iter().map(|n| n / 2).collect::<Vec<_>>()}),
    )
    .target("largest <= 1.2 x smallest", move |_| growth <= 1.2)
    .detail(json!({
        "peak_rss_mb_small": first,
        "peak_rss_mb_large": last,
        "peak_rss_mb_by_size": peaks,
        "growth_large_over_small": growth,
        "growth_10x_over_small": peaks.get(1).map(|p| p / first),
        "small": runs[0],
        "large": runs[runs.len() - 1],
        "runs": runs,
        "note": "the simulators run in the parent process; the child holds the connectors, engine, pipeline and SQLite store only",
    })))
}
