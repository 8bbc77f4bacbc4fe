//! Mapping throughput: the default HubSpot deal plan (20 properties) applied to canonical
//! orders with five line items, against a `serde_json` parse + serialize of the same orders
//! as a baseline in the same run.
//!
//! The whole hop (BigCommerce wire JSON -> canonical -> HubSpot batch-upsert body) needs the
//! BigCommerce and HubSpot connectors and is not measured here yet.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use cartograph_core::mapping::{Applied, Context, Input, defaults};
use cartograph_core::metrics::sample;
use cartograph_model::{Order, PropertyMap};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Wall-clock time by default; thread CPU time with `CARTOGRAPH_BENCH_CLOCK=cpu`, which
/// leaves out time the thread spent waiting for a core on a loaded machine.
mod clock {
    use std::time::{Duration, Instant};

    use criterion::measurement::{Measurement, ValueFormatter, WallTime};
    use rustix::time::{ClockId, clock_gettime};

    pub(crate) struct Clock {
        cpu: bool,
        wall: WallTime,
    }

    pub(crate) enum Start {
        Wall(Instant),
        Cpu(Duration),
    }

    fn cpu_now() -> Duration {
        let t = clock_gettime(ClockId::ThreadCPUTime);
        Duration::new(
            u64::try_from(t.tv_sec).unwrap_or(0),
            u32::try_from(t.tv_nsec).unwrap_or(0),
        )
    }

    impl Clock {
        pub(crate) fn from_env() -> Self {
            let cpu = std::env::var("CARTOGRAPH_BENCH_CLOCK").is_ok_and(|v| v == "cpu");
            if cpu {
                eprintln!("measuring thread CPU time (CARTOGRAPH_BENCH_CLOCK=cpu)");
            }
            Self {
                cpu,
                wall: WallTime,
            }
        }
    }

    impl Measurement for Clock {
        type Intermediate = Start;
        type Value = Duration;

        fn start(&self) -> Start {
            if self.cpu {
                Start::Cpu(cpu_now())
            } else {
                Start::Wall(Instant::now())
            }
        }
        fn end(&self, start: Start) -> Duration {
            match start {
                Start::Wall(t) => t.elapsed(),
                Start::Cpu(t) => cpu_now().saturating_sub(t),
            }
        }
        fn add(&self, a: &Duration, b: &Duration) -> Duration {
            *a + *b
        }
        fn zero(&self) -> Duration {
            Duration::ZERO
        }
        fn to_f64(&self, v: &Duration) -> f64 {
            v.as_secs_f64() * 1e9
        }
        fn formatter(&self) -> &dyn ValueFormatter {
            self.wall.formatter()
        }
    }
}

fn mapping(c: &mut Criterion<clock::Clock>) {
    let file = defaults::hubspot().expect("bundled mapping");
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
