//! The whole mapping hop beside its two `serde_json` baselines (issue 4).
//!
//! `cargo bench --bench hop --all-features`: 500 generated orders (five line items each)
//! are seeded into the BigCommerce simulator and read back as the four v2 documents the
//! connector fetches per order. The definition of the hop and of both baselines lives in
//! `examples/bench_report/mapping.rs` (included here with `#[path]`, so this bench and
//! `bench_report`'s `mapping_ratio_vs_serde` measure the same thing):
//!
//! * `hop`: decode the way the connector does (`Response::json`, `client::v2_rows`),
//!   `bigcommerce::map::order`, `mapping::order_record` with the default HubSpot deal and
//!   line-item plans, then the HubSpot `batch/upsert` bodies `record_orders` sends
//!   (`hubspot::body`: deals, then line items in bodies of 100) as bytes;
//! * `baseline_serde_json_value`: each document parsed into `serde_json::Value` and
//!   serialized back (the baseline; target ratio >= 0.5);
//! * `baseline_serde_json_typed_wire`: each document parsed into the `bigcommerce::wire`
//!   types and serialized back (stricter, no target).
//!
//! Before criterion runs, an interleaved pass (the `bench_report` measurement) prints both
//! ratios, orders per second and the stage breakdown: ratios survive a loaded machine
//! better than absolute times.

// `criterion_group!` generates an undocumented public function; the shared modules carry
// report helpers this bench does not use.
#![allow(missing_docs, dead_code, unreachable_pub)]

#[path = "../examples/bench_report/mapping.rs"]
mod mapping;
#[path = "../examples/bench_report/report.rs"]
mod report;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ORDERS: usize = 500;
const RATIO_RUNS: usize = 15;

fn hop(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let corpus = rt.block_on(mapping::corpus(ORDERS)).expect("corpus");
    let plans = mapping::plans().expect("plans");

    let figures = mapping::measure(&corpus, RATIO_RUNS).expect("interleaved pass");
    eprintln!("hop, interleaved pass ({ORDERS} orders x {RATIO_RUNS} runs, medians, 1 thread):");
    for f in &figures {
        eprintln!(
            "  {:<34} {:>10.3} {}",
            f.name,
            f.value.unwrap_or(f64::NAN),
            f.unit
        );
    }
    if let Some(stages) = figures
        .first()
        .and_then(|f| f.detail.get("microseconds_per_order"))
    {
        eprintln!("  microseconds per order: {stages}");
    }

    let mut g = c.benchmark_group("mapping_hop");
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.bench_function("bigcommerce_wire_to_hubspot_upsert_bodies", |b| {
        b.iter(|| black_box(mapping::hop(&corpus, &plans, mapping::FULL).expect("hop")));
    });
    g.bench_function("baseline_serde_json_value_parse_serialize", |b| {
        b.iter(|| black_box(mapping::baseline_value(&corpus).expect("baseline")));
    });
    g.bench_function("baseline_serde_json_typed_wire_parse_serialize", |b| {
        b.iter(|| black_box(mapping::baseline_typed(&corpus).expect("baseline")));
    });
    g.finish();
}

criterion_group!(benches, hop);
criterion_main!(benches);
