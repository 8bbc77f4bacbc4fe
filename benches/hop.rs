//! The whole mapping hop on BigCommerce wire JSON, beside its `serde_json` baseline.
//!
//! `cargo bench --bench hop`: 500 generated orders (five line items each) are seeded into the
//! BigCommerce simulator and read back as the four v2 documents the connector fetches per
//! order; `hop` decodes them the connector's way, maps them to canonical orders, builds the
//! HubSpot deal and line-item records with the default plans and serializes the
//! `batch/upsert` bodies; `baseline_serde_json` parses and serializes the same documents
//! into the same wire types. The ratio of the two is `mapping_ratio_vs_serde` in
//! `examples/bench_report` (the same code, shared through `#[path]`).

// `criterion_group!` generates an undocumented public function; the shared modules carry
// report helpers this bench does not use.
#![allow(missing_docs, dead_code, unreachable_pub)]

#[path = "../examples/bench_report/mapping.rs"]
mod mapping;
#[path = "../examples/bench_report/report.rs"]
mod report;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn hop(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let corpus = rt.block_on(mapping::corpus(500)).expect("corpus");
    let plans = mapping::plans().expect("plans");
    let mut g = c.benchmark_group("mapping_hop");
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.bench_function("bigcommerce_wire_to_hubspot_upsert_body", |b| {
        b.iter(|| black_box(mapping::hop(&corpus, &plans, mapping::FULL).expect("hop")));
    });
    g.bench_function("baseline_serde_json_parse_serialize", |b| {
        b.iter(|| black_box(mapping::baseline(&corpus).expect("baseline")));
    });
    g.finish();
}

criterion_group!(benches, hop);
criterion_main!(benches);
