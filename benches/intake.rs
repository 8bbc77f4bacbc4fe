//! Webhook intake hot paths: verification and parsing of a signed BigCommerce delivery, and
//! durable enqueueing into the SQLite queue through `Intake` with 64 concurrent deliveries
//! (one group commit), each beside a `serde_json` parse + serialize of the same bodies.
//!
//! `cargo bench --bench intake`. The end-to-end figures (loopback HTTP, many senders, p99)
//! are in `examples/bench_report` (`intake_events_per_sec`, `intake_ack_p99_ms`).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cartograph::bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph::bigcommerce::sim::{SIM_HEADER_SECRET, SimConfig};
use cartograph::bigcommerce::webhook::{
    H_WEBHOOK_ID, H_WEBHOOK_SIGNATURE, H_WEBHOOK_TIMESTAMP, decode_signing_secret, sign,
};
use cartograph::bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph::connector::{CommerceSource, WebhookRequest};
use cartograph::http::Secret;
use cartograph::model::Timestamp;
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{Intake, Store};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

const CONCURRENT: usize = 64;

fn connector() -> BigCommerce {
    let sim = SimConfig::default();
    let mut b = BigCommerceConfig::builder(sim.store_hash, sim.access_token)
        .base_url("http://127.0.0.1:9")
        .webhook_header_secret(SIM_HEADER_SECRET);
    if let Some(s) = sim.signing_secret {
        b = b.webhook_signing_secret(s);
    }
    BigCommerce::new(b.build().expect("config")).expect("connector")
}

/// A signed `store/order/updated` delivery with a unique hash.
fn delivery(n: u64) -> WebhookRequest {
    let secret = SimConfig::default().signing_secret.expect("secret");
    let key = decode_signing_secret(&Secret::new(secret)).expect("key");
    let ts = Timestamp::now().unix_seconds();
    let body = serde_json::to_vec(&json!({
        "scope": "store/order/updated",
        "store_id": "1001",
        "data": {"type": "order", "id": n + 1},
        "hash": format!("{n:040x}"),
        "created_at": ts,
        "producer": "stores/simstore",
    }))
    .expect("body");
    let id = format!("msg_{n}");
    let signature = sign(&key, &id, ts, &body);
    WebhookRequest::post(
        "http://127.0.0.1/webhooks/commerce",
        vec![
            ("content-type".into(), "application/json".into()),
            (DEFAULT_SECRET_HEADER.into(), SIM_HEADER_SECRET.into()),
            (H_WEBHOOK_ID.into(), id),
            (H_WEBHOOK_TIMESTAMP.into(), ts.to_string()),
            (H_WEBHOOK_SIGNATURE.into(), signature),
        ],
        body,
    )
}

fn verify(c: &mut Criterion) {
    let bc = connector();
    let request = delivery(1);
    let mut g = c.benchmark_group("intake_verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("bigcommerce_parse_webhook_signed", |b| {
        b.iter(|| black_box(bc.parse_webhook(black_box(&request)).expect("valid")));
    });
    g.bench_function("baseline_serde_json_parse_serialize", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(&request.body).expect("json");
            black_box(serde_json::to_vec(&v).expect("json"))
        });
    });
    g.finish();
}

fn enqueue(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path().join("bench.sqlite")).expect("store"));
    let intake = Intake::new(Arc::clone(&store));
    let source: Arc<dyn CommerceSource> = Arc::new(connector());
    let next = AtomicU64::new(0);
    let mut g = c.benchmark_group("intake_durable");
    g.throughput(Throughput::Elements(CONCURRENT as u64));
    g.sample_size(30);
    g.bench_function("sqlite_full_group_commit_64_concurrent", |b| {
        b.iter_batched(
            || {
                (0..CONCURRENT)
                    .map(|_| delivery(next.fetch_add(1, Ordering::Relaxed)))
                    .collect::<Vec<_>>()
            },
            |requests| {
                rt.block_on(async {
                    let calls = requests.into_iter().map(|r| {
                        let (intake, source) = (intake.clone(), Arc::clone(&source));
                        tokio::spawn(async move { intake.commerce(source.as_ref(), &r).await })
                    });
                    for call in calls.collect::<Vec<_>>() {
                        let answer = call.await.expect("task");
                        assert_eq!(answer.status, 200);
                    }
                });
            },
            criterion::BatchSize::SmallInput,
        );
    });
    let bodies: Vec<Vec<u8>> = (0..CONCURRENT as u64).map(|n| delivery(n).body).collect();
    g.bench_function("baseline_serde_json_parse_serialize_64", |b| {
        b.iter(|| {
            for body in &bodies {
                let v: serde_json::Value = serde_json::from_slice(body).expect("json");
                black_box(serde_json::to_vec(&v).expect("json"));
            }
        });
    });
    g.finish();
}

criterion_group!(benches, verify, enqueue);
criterion_main!(benches);
