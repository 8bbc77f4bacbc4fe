#![doc = include_str!("../README.md")]

pub mod store;

pub use store::{
    Checkpoint, DeadLetter, DeadLetterFilter, DeadLetterId, EnqueueOutcome, NewDeadLetter,
    NewQueuedEvent, QueueId, QueueStats, QueuedEvent, RecordLog, RunId, RunSummary, RunTotals,
    Store, StoreError, StoreResult,
};
