//! Counters every mode updates, readable at any time (progress bars, summaries, metrics
//! exporters).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::store::RunTotals;

/// Live counters of a pipeline, shared by all its tasks.
#[derive(Debug, Default)]
pub struct Counters {
    read: AtomicU64,
    written: AtomicU64,
    unchanged: AtomicU64,
    dead_lettered: AtomicU64,
    retried: AtomicU64,
    rate_limited: AtomicU64,
    parked: AtomicU64,
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterSnapshot {
    /// Records read from sources (listed or hydrated).
    pub read: u64,
    /// CRM or store records written (created or updated).
    pub written: u64,
    /// Writes skipped because nothing changed.
    pub unchanged: u64,
    /// Items dead-lettered.
    pub dead_lettered: u64,
    /// Items scheduled for another attempt.
    pub retried: u64,
    /// Rate-limit answers met.
    pub rate_limited: u64,
    /// Items parked on a long-window quota.
    pub parked: u64,
}

macro_rules! counter {
    ($($name:ident => $field:ident),* $(,)?) => {
        impl Counters {
            $(
                #[doc = concat!("Adds `n` to `", stringify!($field), "`.")]
                pub fn $name(&self, n: u64) {
                    self.$field.fetch_add(n, Ordering::Relaxed);
                }
            )*
        }
    };
}

counter! {
    add_read => read,
    add_written => written,
    add_unchanged => unchanged,
    add_dead_lettered => dead_lettered,
    add_retried => retried,
    add_rate_limited => rate_limited,
    add_parked => parked,
}

impl Counters {
    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            read: self.read.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            parked: self.parked.load(Ordering::Relaxed),
        }
    }
}

impl CounterSnapshot {
    /// The difference since an earlier snapshot (per-run totals from shared counters).
    #[must_use]
    pub fn since(&self, earlier: &CounterSnapshot) -> CounterSnapshot {
        CounterSnapshot {
            read: self.read.saturating_sub(earlier.read),
            written: self.written.saturating_sub(earlier.written),
            unchanged: self.unchanged.saturating_sub(earlier.unchanged),
            dead_lettered: self.dead_lettered.saturating_sub(earlier.dead_lettered),
            retried: self.retried.saturating_sub(earlier.retried),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
            parked: self.parked.saturating_sub(earlier.parked),
        }
    }

    /// As run-log totals.
    pub fn totals(&self) -> RunTotals {
        RunTotals {
            read: self.read,
            written: self.written,
            unchanged: self.unchanged,
            dead_lettered: self.dead_lettered,
            retried: self.retried,
            rate_limited: self.rate_limited,
        }
    }
}
