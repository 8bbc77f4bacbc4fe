//! `postgres_workers_scaling`: the real pipeline's workers on the PostgreSQL store, 1, 2 and
//! 4 of them, each with its own store and pipeline (as on separate machines), draining the
//! same queue of signed BigCommerce order webhooks: each event is hydrated from the
//! BigCommerce simulator (quota far above the load, so not the bottleneck), run through the
//! engine and written to an in-memory CRM (one order per person, so no worker waits for
//! another's people). An untimed first drain creates the contacts; the timed drains update
//! them. The value is the 4-worker throughput over the 1-worker one; events per second per
//! worker count are in the detail.
//!
//! Workers, PostgreSQL and the simulator share the machine's cores: the figure shows how far
//! the work spreads across workers here, not a per-core rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::sim::{BigCommerceSim, SimConfig};
use cartograph::connector::{CommerceSource, CrmSink, WebhookRequest};
use cartograph::model::Timestamp;
use cartograph::store_postgres::{PgConfig, PgStore};
use cartograph::sync::{DeadLetterFilter, EngineConfig, Pipeline, Store, WorkerConfig};
use cartograph::testkit::memory::MemoryCrm;
use serde_json::json;

use crate::intake::deliveries_for;
use crate::report::{Figure, median};
use crate::sync::{customers, orders, rates};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Worker counts.
const WORKERS: [usize; 3] = [1, 2, 4];
const NAME: &str = "postgres_workers_scaling";

/// The figure as null with `reason`.
pub(crate) fn missing(reason: &str) -> Figure {
    Figure::missing(NAME, "ratio (4 workers / 1)", json!(null), reason)
}

async fn pipeline(
    url: &str,
    schema: &str,
    sim: &BigCommerceSim,
    crm: &Arc<MemoryCrm>,
) -> Result<(Arc<Pipeline>, Arc<PgStore>), BoxError> {
    let store = Arc::new(PgStore::open(&PgConfig::new(url).with_schema(schema)).await?);
    let source = Arc::new(BigCommerce::new(sim.connector_config().build()?)?);
    let pipeline = Pipeline::builder()
        .source(source as Arc<dyn CommerceSource>)
        .sink(Arc::clone(crm) as Arc<dyn CrmSink>)
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .engine(EngineConfig::for_profile(
            &cartograph::hubspot::profile(),
            rates(),
        )?)
        .worker_config(WorkerConfig {
            idle_poll: Duration::from_millis(5),
            ..WorkerConfig::default()
        })
        .build()
        .await?;
    Ok((Arc::new(pipeline), store))
}

/// Queues `ids`' webhooks through the first pipeline's intake, then times `workers`
/// pipelines draining them; events per second, dead letters and deferrals.
async fn run(
    machines: &[(Arc<Pipeline>, Arc<PgStore>)],
    workers: usize,
    ids: &[usize],
    run: usize,
) -> Result<(f64, usize, usize), BoxError> {
    let (first, store) = &machines[0];
    let intake = first.intake();
    for d in deliveries_for(ids, run)? {
        let request = WebhookRequest::post("http://127.0.0.1/webhooks/commerce", d.headers, d.body);
        let answer = intake.commerce(first.source().as_ref(), &request).await;
        if answer.status != 200 || answer.queued != 1 {
            return Err(format!(
                "intake answered {} ({} queued)",
                answer.status, answer.queued
            )
            .into());
        }
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    let mut dead = 0;
    let mut deferred = 0;
    loop {
        let tasks: Vec<_> = machines[..workers]
            .iter()
            .enumerate()
            .map(|(w, (pipeline, _))| {
                let worker = pipeline.worker(&format!("scale-{run}-{w}"));
                tokio::spawn(async move { worker.run_until_idle().await })
            })
            .collect();
        for task in tasks {
            let report = task.await??;
            dead += report.dead_lettered;
            deferred += report.deferred;
        }
        // Events deferred (their person held by another worker) come due again shortly.
        if store.queue_stats(Timestamp::now()).await?.total() == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err("the queue did not drain within 300 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    #[allow(clippy::cast_precision_loss)]
    Ok((
        ids.len() as f64 / started.elapsed().as_secs_f64(),
        dead,
        deferred,
    ))
}

/// The figure on `url` (schema `schema`, which the caller drops): `events` orders per run,
/// `runs` runs per worker count.
pub(crate) async fn measure(
    url: &str,
    schema: &str,
    events: usize,
    runs: usize,
) -> Result<Figure, BoxError> {
    let sim = BigCommerceSim::start(SimConfig {
        quota: 10_000_000,
        ..SimConfig::default()
    })
    .await?;
    // One order per person: workers never wait for each other's people, so the figure is
    // the spread of the work, not of per-person ordering.
    let people = customers(events, 77);
    sim.seed_customers(&people);
    let mut placed = orders(events, &people);
    for (order, person) in placed.iter_mut().zip(&people) {
        if let Some(customer) = &mut order.customer {
            customer.id.clone_from(&person.source.id);
        }
        order.email.clone_from(&person.email);
    }
    let ids: Vec<usize> = sim
        .seed_orders(&placed)
        .iter()
        .map(|id| id.parse())
        .collect::<Result<_, _>>()?;
    // The CRM is not under test: it takes the vendor's built-in properties too.
    let crm = Arc::new(MemoryCrm::builder().allow_any_property().build());
    let mut machines = Vec::new();
    for _ in 0..WORKERS[WORKERS.len() - 1] {
        machines.push(pipeline(url, schema, &sim, &crm).await?);
    }
    let mut rates: Vec<(usize, Vec<f64>)> = WORKERS.iter().map(|w| (*w, Vec::new())).collect();
    // Untimed: the first drain creates every contact; the timed ones all update, alike.
    let (_, mut dead_letters, mut deferrals) = run(&machines, WORKERS[2], &ids, 999).await?;
    let mut n = 0;
    for _ in 0..runs {
        for (workers, per_sec) in &mut rates {
            let (rate, dead, deferred) = run(&machines, *workers, &ids, 1_000 + n).await?;
            n += 1;
            per_sec.push(rate);
            dead_letters += dead;
            deferrals += deferred;
        }
    }
    let first_dead = machines[0]
        .1
        .dead_letters(&DeadLetterFilter {
            limit: Some(1),
            ..DeadLetterFilter::default()
        })
        .await?
        .into_iter()
        .next()
        .map(|d| json!({"stage": d.stage, "error_kind": d.error_kind, "message": d.message}));
    let by_workers: serde_json::Map<String, serde_json::Value> = rates
        .iter()
        .map(|(w, r)| (w.to_string(), json!(median(r))))
        .collect();
    let one = median(&rates[0].1);
    let four = median(&rates[rates.len() - 1].1);
    Ok(Figure::new(
        NAME,
        four / one,
        "ratio (4 workers / 1)",
        json!({"events": events, "runs": runs, "workers": WORKERS}),
    )
    .detail(json!({
        "events_per_sec_by_workers": by_workers,
        "dead_letters": dead_letters,
        "first_dead_letter": first_dead,
        "deferrals": deferrals,
        "method": "pipelines with one PgStore each drain signed BigCommerce order webhooks: hydrate from the simulator (quota 10M per window, not the bottleneck), engine, in-memory CRM",
    })))
}
