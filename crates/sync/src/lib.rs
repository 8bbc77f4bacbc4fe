#![doc = include_str!("../README.md")]

pub mod dry_run;
pub mod engine;
pub mod health;
pub mod intake;
pub mod modes;
pub mod observe;
pub mod pipeline;
pub mod queue_item;
pub mod reconcile;
mod renew;
#[cfg(feature = "axum")]
pub mod router;
pub mod store;
pub mod worker;

pub use dry_run::{DryRunSink, PlannedWrite};
pub use engine::{
    Engine, EngineConfig, EngineError, OrdersAs, QualityReport, Recipes, ReverseConfig, TaskText,
    TaskTexts,
};
pub use health::{Health, HealthSnapshot, WorkerFailure};
pub use intake::{Intake, IntakeResponse};
pub use modes::{ListConfig, ListError, ListReport, Lister, version_key};
pub use observe::{CounterSnapshot, Counters};
pub use pipeline::{BuildError, Pipeline, PipelineBuilder, TransportSummary};
pub use queue_item::{ItemOutcome, WorkItem};
pub use store::{
    BatchState, Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, Link,
    NewDeadLetter, NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary,
    RunTotals, Store, StoreError, StoreResult,
};
pub use worker::{BatchReport, Handler, Worker, WorkerConfig, WorkerPool};

/// Serde for `Duration` as integer milliseconds (config files).
pub(crate) mod serde_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
