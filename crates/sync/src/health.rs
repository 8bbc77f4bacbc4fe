//! Whether this process can still drain its queue, shared by a pipeline's workers and its
//! intake.
//!
//! A worker that meets a retryable store error (busy, locked, disk full) backs off and goes
//! on; one that meets an error it cannot recover from stops and records why here. While
//! workers of this process have stopped on such an error and none is running, intake answers
//! 503 so vendors keep their deliveries and retry, instead of being told "stored" for events
//! nobody will process. An intake-only process (workers elsewhere) never starts a worker, so
//! it keeps acknowledging what it durably stored.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// Live worker state of one process.
#[derive(Debug, Default)]
pub struct Health {
    running: AtomicUsize,
    store_errors: AtomicU64,
    failed: Mutex<Vec<WorkerFailure>>,
}

/// A worker that stopped on an error it could not recover from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerFailure {
    /// The worker's name.
    pub worker: String,
    /// The store error it stopped with.
    pub error: String,
}

/// A point-in-time copy of [`Health`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthSnapshot {
    /// Workers running now.
    pub running: usize,
    /// Retryable store errors workers backed off from since start.
    pub store_errors: u64,
    /// Workers that stopped for good, oldest first.
    pub failed: Vec<WorkerFailure>,
}

impl HealthSnapshot {
    /// Whether this process can drain its queue: a worker is running, or none was ever
    /// lost to an unrecoverable error (workers may run elsewhere).
    pub fn can_drain(&self) -> bool {
        self.running > 0 || self.failed.is_empty()
    }
}

impl Health {
    /// A copy of the current state.
    pub fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot {
            running: self.running.load(Ordering::Acquire),
            store_errors: self.store_errors.load(Ordering::Relaxed),
            failed: self.failed.lock().map(|f| f.clone()).unwrap_or_default(),
        }
    }

    /// Why intake must not acknowledge, when no worker of this process can drain the queue.
    pub fn refusal(&self) -> Option<String> {
        if self.running.load(Ordering::Acquire) > 0 {
            return None;
        }
        let failed = self.failed.lock().ok()?;
        failed.last().map(|f| {
            format!(
                "no worker can drain the queue: {} stopped on: {}",
                f.worker, f.error
            )
        })
    }

    pub(crate) fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self, worker: &str, error: &str) {
        if let Ok(mut failed) = self.failed.lock() {
            failed.push(WorkerFailure {
                worker: worker.to_owned(),
                error: error.to_owned(),
            });
        }
    }

    /// Marks a worker running until the guard drops; a panic unwinding through it is
    /// recorded as a failure.
    pub(crate) fn running<'a>(&'a self, worker: &'a str) -> RunningGuard<'a> {
        self.running.fetch_add(1, Ordering::AcqRel);
        RunningGuard {
            health: self,
            worker,
        }
    }
}

pub(crate) struct RunningGuard<'a> {
    health: &'a Health,
    worker: &'a str,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.health.failed(self.worker, "the worker panicked");
        }
        self.health.running.fetch_sub(1, Ordering::AcqRel);
    }
}
