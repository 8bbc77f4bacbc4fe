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
