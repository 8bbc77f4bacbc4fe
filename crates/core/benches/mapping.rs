//! Mapping throughput: the default HubSpot deal plan (20 properties) applied to canonical
//! orders with five line items, against a `serde_json` parse + serialize of the same orders
//! as a baseline in the same run.
//!
//! `deal_plan_20_props_reused_buffer` is the figure for issue 4's plan target (500,000
//! orders per second per core): `Plan::apply_reusing` into one `Applied` per thread, the
//! way a batch job applies one plan to many records. The other variants show what a fresh
//! `PropertyMap` per record costs (`apply`, `apply_into` on an empty map: one allocation per
//! property name and built value) and a deal with its five line-item records.
//!
//! The whole hop (BigCommerce wire JSON -> canonical -> HubSpot batch-upsert body) is the
//! workspace bench `cargo bench --bench hop` (definition in `examples/bench_report/mapping.rs`).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use cartograph_core::mapping::{Applied, Context, Input, MappingFile};
use cartograph_core::metrics::sample;
use cartograph_model::{Order, PropertyMap};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Wall-clock time by default; thread CPU time with `CARTOGRAPH_BENCH_CLOCK=cpu`.
#[path = "support/clock.rs"]
mod clock;

fn mapping(c: &mut Criterion<clock::Clock>) {
    let file = MappingFile::from_toml(include_str!("../../hubspot/mappings/hubspot.toml"))
        .expect("bundled mapping");
    let deal = file.compile("deal", &[]).expect("deal plan compiles");
    let line = file
        .compile("line_item", &[])
        .expect("line item plan compiles");
    let orders = sample::orders(1_000, 200, 11);
    let json: Vec<String> = orders
        .iter()
        .map(|o| serde_json::to_string(o).expect("serialize"))
        .collect();
    let cx = Context::default();
    let n = orders.len() as u64;

    let mut g = c.benchmark_group("mapping");
    g.throughput(Throughput::Elements(n));
    g.bench_function("deal_plan_20_props", |b| {
        let mut props = PropertyMap::new();
        let mut errors = Vec::new();
        b.iter(|| {
            for o in &orders {
                props.clear();
                deal.apply_into(&Input::order(o), &cx, &mut props, &mut errors);
                black_box(&props);
            }
        });
    });
    g.bench_function("deal_plan_20_props_reused_buffer", |b| {
        let mut out = Applied::default();
        b.iter(|| {
            for o in &orders {
                deal.apply_reusing(&Input::order(o), &cx, &mut out);
                black_box(&out);
            }
        });
    });
    g.bench_function("deal_plan_20_props_fresh_map", |b| {
        b.iter(|| {
            for o in &orders {
                black_box(deal.apply(&Input::order(o), &cx));
            }
        });
    });
    g.bench_function("deal_plus_5_line_items", |b| {
        b.iter(|| {
            for o in &orders {
                black_box(deal.apply(&Input::order(o), &cx));
                for l in &o.line_items {
                    black_box(line.apply(&Input::line_item(o, l), &cx));
                }
            }
        });
    });
    g.bench_function("baseline_serde_json_parse_serialize", |b| {
        b.iter(|| {
            for j in &json {
                let o: Order = serde_json::from_str(j).expect("parse");
                black_box(serde_json::to_string(&o).expect("serialize"));
            }
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(clock::Clock::from_env());
    targets = mapping
}
criterion_main!(benches);
