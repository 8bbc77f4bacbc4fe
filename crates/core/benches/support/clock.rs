//! The bench clock shared by the core benches: wall-clock time by default; thread CPU time
//! with `CARTOGRAPH_BENCH_CLOCK=cpu`, which leaves out time the thread spent waiting for a
//! core on a loaded machine.

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
