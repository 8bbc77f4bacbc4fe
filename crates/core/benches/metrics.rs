//! Customer metrics over 1,000,000 generated orders and 200,000 customers: incremental
//! engine fed every order, then every customer's metrics built, then population scores.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use cartograph_core::metrics::{
    MetricsConfig, MetricsEngine, Population, Rates, TierConfig, sample,
};
use cartograph_model::{Currency, Decimal};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Wall-clock time by default; thread CPU time with `CARTOGRAPH_BENCH_CLOCK=cpu`.
#[path = "support/clock.rs"]
mod clock;

fn metrics(c: &mut Criterion<clock::Clock>) {
    let orders = sample::orders(1_000_000, 200_000, 5);
    let config = MetricsConfig::new(
        Rates::new(Currency::USD).with_rate(Currency::EUR, Decimal::new(10_837, 4)),
    );
    let mut g = c.benchmark_group("metrics");
    g.sample_size(10);
    g.throughput(Throughput::Elements(orders.len() as u64));
    g.bench_function("1m_orders_200k_customers", |b| {
        b.iter(|| {
            let mut engine = MetricsEngine::new(config.clone());
            for o in &orders {
                engine.upsert_order(o).expect("rates cover every currency");
            }
            let mut all = Vec::with_capacity(engine.customer_count());
            engine.for_each(|_, m| all.push(m));
            let pop = Population::build(all.iter(), TierConfig::default());
            let vip = all.iter().filter(|m| pop.tier(m).is_some()).count();
            black_box((vip, pop));
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(clock::Clock::from_env());
    targets = metrics
}
criterion_main!(benches);
