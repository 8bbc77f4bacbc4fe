//! `intake_events_per_sec` and `intake_ack_p99_ms`.
//!
//! Signed BigCommerce webhooks (Standard Webhooks HMAC signature plus the custom header
//! secret, as the BigCommerce simulator sends them) are posted over loopback HTTP to
//! `cartograph::sync::router::intake_router` by many concurrent senders (one keep-alive
//! `reqwest` client). Each request is verified by the BigCommerce connector's
//! `parse_webhook` and committed to a fresh SQLite queue (`SqliteStore`, default `Full`
//! durability, group commit) before the 200 goes out. Latency is measured per request at the
//! sender, from send to the received status. Senders and server share the machine's cores.
//!
//! The headline runs measure intake while [`DRAINERS`] workers of the same pipeline drain the
//! same store (lease, hydrate from the simulator, complete): the real situation, where acks
//! share the store's writer with the workers. Runs without workers are in the detail.
//!
//! The same load is also sent in-process (`Intake::commerce` called directly from concurrent
//! tasks, no HTTP) and reported in the detail, to show what HTTP costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use cartograph::bigcommerce::BigCommerce;
use cartograph::bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph::bigcommerce::sim::{BigCommerceSim, SIM_HEADER_SECRET, SimConfig};
use cartograph::bigcommerce::webhook::{
    H_WEBHOOK_ID, H_WEBHOOK_SIGNATURE, H_WEBHOOK_TIMESTAMP, decode_signing_secret, sign,
};
use cartograph::connector::{CommerceSource, CrmSink, WebhookRequest};
use cartograph::core::metrics::Rates;
use cartograph::http::{Secret, reqwest};
use cartograph::model::{Currency, Timestamp};
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{EngineConfig, Pipeline, Store, WorkerConfig};
use cartograph::testkit::memory::MemoryCrm;
use serde_json::json;

use crate::report::{Figure, fs_type, median, percentile};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Concurrent senders.
pub(crate) const SENDERS: usize = 64;

/// Workers draining the queue during the headline runs.
pub(crate) const DRAINERS: usize = 2;

pub(crate) struct Signed {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

/// `n` distinct signed `store/order/updated` deliveries (distinct hashes: no duplicates).
fn deliveries(n: usize, run: usize) -> Result<Vec<Signed>, BoxError> {
    let ids: Vec<usize> = (1..=n).collect();
    deliveries_for(&ids, run)
}

/// Signed `store/order/updated` deliveries for the orders `ids` (distinct hashes).
pub(crate) fn deliveries_for(ids: &[usize], run: usize) -> Result<Vec<Signed>, BoxError> {
    let secret = SimConfig::default()
        .signing_secret
        .ok_or("simulator has no signing secret")?;
    let key = decode_signing_secret(&Secret::new(secret)).ok_or("bad signing secret")?;
    let ts = Timestamp::now().unix_seconds();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let body = serde_json::to_vec(&json!({
                "scope": "store/order/updated",
                "store_id": "1001",
                "data": {"type": "order", "id": id},
                "hash": format!("{:040x}", run * 10_000_000 + i),
                "created_at": ts,
                "producer": "stores/simstore",
            }))?;
            let msg_id = format!("msg_{run}_{i}");
            let signature = sign(&key, &msg_id, ts, &body);
            Ok(Signed {
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    (DEFAULT_SECRET_HEADER.into(), SIM_HEADER_SECRET.into()),
                    (H_WEBHOOK_ID.into(), msg_id),
                    (H_WEBHOOK_TIMESTAMP.into(), ts.to_string()),
                    (H_WEBHOOK_SIGNATURE.into(), signature),
                ],
                body,
            })
        })
        .collect()
}

struct Setup {
    pipeline: Arc<Pipeline>,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn setup(sim: &BigCommerceSim) -> Result<Setup, BoxError> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("intake.sqlite"))?);
    let bc = Arc::new(BigCommerce::new(sim.connector_config().build()?)?);
    let pipeline = Pipeline::builder()
        .source(bc as Arc<dyn CommerceSource>)
        .sink(Arc::new(MemoryCrm::new()) as Arc<dyn CrmSink>)
        .store(Arc::clone(&store))
        .engine(EngineConfig::for_profile(
            &cartograph::hubspot::profile(),
            Rates::new(Currency::USD),
        )?)
        .ensure_properties(false)
        // Drainers poll often, so they contend with intake for the whole (short) run.
        .worker_config(WorkerConfig {
            idle_poll: std::time::Duration::from_millis(5),
            ..WorkerConfig::default()
        })
        .build()
        .await?;
    Ok(Setup {
        pipeline: Arc::new(pipeline),
        store,
        _dir: dir,
    })
}

struct Run {
    per_sec: f64,
    latencies_ms: Vec<f64>,
    non_200: usize,
    /// Accepted into the store (queued, or already leased by a drainer).
    queued: u64,
    /// Events the drainers leased during the run.
    drained: u64,
}

/// Starts `n` workers draining `pipeline`'s queue until the returned sender says stop.
fn drain(
    pipeline: &Arc<Pipeline>,
    n: usize,
) -> (
    tokio::sync::watch::Sender<bool>,
    Vec<tokio::task::JoinHandle<u64>>,
) {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let workers = (0..n)
        .map(|w| {
            let worker = pipeline.worker(&format!("drain-{w}"));
            let rx = rx.clone();
            tokio::spawn(async move {
                worker
                    .run(rx)
                    .await
                    .map(|r| r.leased as u64)
                    .unwrap_or_default()
            })
        })
        .collect();
    (stop, workers)
}

async fn http_run(
    sim: &BigCommerceSim,
    count: usize,
    run: usize,
    drainers: usize,
) -> Result<Run, BoxError> {
    let s = setup(sim).await?;
    let (stop, workers) = drain(&s.pipeline, drainers);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}/webhooks/commerce", listener.local_addr()?);
    let app = cartograph::sync::router::intake_router(Arc::clone(&s.pipeline));
    let server = tokio::spawn(async move {
        let _ = cartograph::axum::serve(listener, app).await;
    });
    let work = Arc::new(deliveries(count, run)?);
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(SENDERS);
    for _ in 0..SENDERS {
        let (work, client, next, url) = (
            Arc::clone(&work),
            client.clone(),
            Arc::clone(&next),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut bad = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = work.get(i) else { break };
                let mut req = client.post(&url).body(d.body.clone());
                for (k, v) in &d.headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let t = Instant::now();
                let status = req.send().await.map(|r| r.status().as_u16());
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if status.ok() != Some(200) {
                    bad += 1;
                }
            }
            (lat, bad)
        }));
    }
    let mut latencies_ms = Vec::with_capacity(count);
    let mut non_200 = 0;
    for t in tasks {
        let (lat, bad) = t.await?;
        latencies_ms.extend(lat);
        non_200 += bad;
    }
    let elapsed = started.elapsed().as_secs_f64();
    server.abort();
    let _ = stop.send(true);
    let mut drained = 0;
    for w in workers {
        drained += w.await?;
    }
    // Accepted = still queued + leased by the drainers (each event once: keys are distinct).
    let queued = s.store.queue_stats(Timestamp::now()).await?.total() + drained;
    #[allow(clippy::cast_precision_loss)]
    Ok(Run {
        per_sec: count as f64 / elapsed,
        latencies_ms,
        non_200,
        queued,
        drained,
    })
}

async fn in_process_run(sim: &BigCommerceSim, count: usize, run: usize) -> Result<Run, BoxError> {
    let s = setup(sim).await?;
    let work = Arc::new(deliveries(count, run)?);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(SENDERS);
    for _ in 0..SENDERS {
        let (work, next, pipeline) = (
            Arc::clone(&work),
            Arc::clone(&next),
            Arc::clone(&s.pipeline),
        );
        tasks.push(tokio::spawn(async move {
            let intake = pipeline.intake();
            let source = Arc::clone(pipeline.source());
            let mut lat = Vec::new();
            let mut bad = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = work.get(i) else { break };
                let t = Instant::now();
                let request = WebhookRequest::post(
                    "http://127.0.0.1/webhooks/commerce",
                    d.headers.clone(),
                    d.body.clone(),
                );
                let answer = intake.commerce(source.as_ref(), &request).await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                if answer.status != 200 || answer.queued != 1 {
                    bad += 1;
                }
            }
            (lat, bad)
        }));
    }
    let mut latencies_ms = Vec::with_capacity(count);
    let mut non_200 = 0;
    for t in tasks {
        let (lat, bad) = t.await?;
        latencies_ms.extend(lat);
        non_200 += bad;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let queued = s.store.queue_stats(Timestamp::now()).await?.total();
    #[allow(clippy::cast_precision_loss)]
    Ok(Run {
        per_sec: count as f64 / elapsed,
        latencies_ms,
        non_200,
        queued,
        drained: 0,
    })
}

fn summarize(runs: &[Run]) -> serde_json::Value {
    let per_sec: Vec<f64> = runs.iter().map(|r| r.per_sec).collect();
    let p99s: Vec<f64> = runs
        .iter()
        .map(|r| percentile(&r.latencies_ms, 99.0))
        .collect();
    let p50s: Vec<f64> = runs
        .iter()
        .map(|r| percentile(&r.latencies_ms, 50.0))
        .collect();
    let max: f64 = runs
        .iter()
        .flat_map(|r| r.latencies_ms.iter().copied())
        .fold(0.0, f64::max);
    json!({
        "events_per_sec_median": median(&per_sec),
        "events_per_sec_runs": per_sec,
        "ack_p99_ms_median": median(&p99s),
        "ack_p99_ms_runs": p99s,
        "ack_p50_ms_median": median(&p50s),
        "ack_max_ms": max,
        "non_200_or_not_queued": runs.iter().map(|r| r.non_200).sum::<usize>(),
        "accepted_in_store_runs": runs.iter().map(|r| r.queued).collect::<Vec<_>>(),
        "drained_by_workers_runs": runs.iter().map(|r| r.drained).collect::<Vec<_>>(),
    })
}

/// Runs the HTTP and in-process measurements.
pub(crate) async fn measure(n: usize, runs: usize) -> Result<Vec<Figure>, BoxError> {
    let sim = BigCommerceSim::start(SimConfig::default()).await?;
    // Warm-up run (connection pool, SQLite, allocator), not counted.
    http_run(&sim, n.min(2_000), 999, 0).await?;
    let mut http = Vec::with_capacity(runs);
    let mut idle = Vec::with_capacity(runs);
    let mut local = Vec::with_capacity(runs);
    for run in 0..runs {
        http.push(http_run(&sim, n, run * 3, DRAINERS).await?);
        idle.push(http_run(&sim, n, run * 3 + 2, 0).await?);
        local.push(in_process_run(&sim, n, run * 3 + 1).await?);
    }
    let h = summarize(&http);
    let i = summarize(&idle);
    let l = summarize(&local);
    let lost: u64 = http
        .iter()
        .map(|r| (n as u64).saturating_sub(r.queued))
        .sum();
    let input = json!({
        "webhooks_per_run": n,
        "runs": runs,
        "senders": SENDERS,
        "draining_workers": DRAINERS,
        "transport": "loopback HTTP through cartograph::sync::router::intake_router (axum)",
    });
    let temp = std::env::temp_dir();
    let detail = json!({
        "http": h,
        "http_without_workers": i,
        "in_process": l,
        "webhooks_not_queued": lost,
        "store": "SqliteStore, Durability::Full (synchronous=FULL, WAL), group_window 1 ms, max_group 512, fresh file per run",
        "store_fs": fs_type(&temp),
        "latency": "per request at the sender: send -> status received (includes client and server HTTP work; senders share the cores)",
    });
    Ok(vec![
        Figure::new(
            "intake_events_per_sec",
            h["events_per_sec_median"].as_f64().unwrap_or(f64::NAN),
            "webhooks/s (median of runs)",
            input.clone(),
        )
        .target(">= 5000", |v| v >= 5000.0)
        .detail(detail),
        Figure::new(
            "intake_ack_p99_ms",
            h["ack_p99_ms_median"].as_f64().unwrap_or(f64::NAN),
            "ms (median of per-run p99)",
            input,
        )
        .target("< 20", |v| v < 20.0)
        .detail(json!({"in_process_p99_ms": l["ack_p99_ms_median"], "http_p50_ms": h["ack_p50_ms_median"], "http_without_workers_p99_ms": i["ack_p99_ms_median"]})),
    ])
}
