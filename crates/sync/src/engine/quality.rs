//! Data-quality figures the engine keeps while it runs.

use std::collections::{BTreeMap, BTreeSet};

use cartograph_core::reconcile::{self, Entry};
use cartograph_model::Currency;
use serde::Serialize;

/// Latency from the event's time in the store to its CRM write, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: u64,
    /// 95th percentile.
    pub p95_ms: u64,
    /// 99th percentile.
    pub p99_ms: u64,
    /// Largest.
    pub max_ms: u64,
}

/// The data-quality report of a pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct QualityReport {
    /// Records resolved to a person.
    pub resolved: u64,
    /// Records that matched an existing person (duplicates prevented).
    pub duplicates_prevented: u64,
    /// Share of resolved records that matched an existing person.
    pub duplicate_rate: f64,
    /// Records routed to review because several people matched.
    pub ambiguous: u64,
    /// Orders written to the CRM with a contact.
    pub orders_with_contact: u64,
    /// Orders written to the CRM.
    pub orders_written: u64,
    /// Share of written orders whose buyer matched a contact.
    pub match_rate: f64,
    /// Live event latency (event time to CRM write).
    pub latency: LatencySummary,
    /// Revenue per day and currency, store versus CRM.
    pub reconciliation: reconcile::Report,
    /// The metrics base currency.
    pub base_currency: Currency,
}

/// Running tallies.
#[derive(Debug, Default)]
pub(crate) struct Quality {
    pub(crate) resolved: u64,
    pub(crate) duplicates_prevented: u64,
    pub(crate) ambiguous: u64,
    pub(crate) orders_written: u64,
    pub(crate) orders_with_contact: u64,
    latencies: Vec<u64>,
    commerce: BTreeMap<String, Entry>,
    crm: BTreeMap<String, Entry>,
    /// Keys of order records written that are not revenue (cancelled orders, carts): the
    /// CRM holds them, reconciliation leaves them out.
    not_revenue: BTreeSet<String>,
}

/// Latency samples kept (a reservoir would be fairer; the newest are what operators watch).
const MAX_SAMPLES: usize = 100_000;

impl Quality {
    pub(crate) fn latency(&mut self, ms: u64) {
        if self.latencies.len() >= MAX_SAMPLES {
            self.latencies.remove(0);
        }
        self.latencies.push(ms);
    }

    pub(crate) fn commerce_revenue(&mut self, entry: Entry) {
        self.not_revenue.remove(&entry.key);
        self.commerce.insert(entry.key.clone(), entry);
    }

    /// An order record written whose order is not (or no longer) revenue.
    pub(crate) fn not_revenue(&mut self, key: String) {
        self.commerce.remove(&key);
        self.crm.remove(&key);
        self.not_revenue.insert(key);
    }

    /// The store side of reconciliation: revenue entries of the orders seen, by key.
    pub(crate) fn commerce_entries(&self) -> &BTreeMap<String, Entry> {
        &self.commerce
    }

    /// Keys of order records written that are not revenue.
    pub(crate) fn not_revenue_keys(&self) -> &BTreeSet<String> {
        &self.not_revenue
    }

    pub(crate) fn crm_revenue(&mut self, entry: Entry) {
        self.crm.insert(entry.key.clone(), entry);
    }

    pub(crate) fn report(&self, base: Currency) -> QualityReport {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let pick = |q: f64| {
            if sorted.is_empty() {
                0
            } else {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
                sorted[idx.min(sorted.len() - 1)]
            }
        };
        let commerce: Vec<Entry> = self.commerce.values().cloned().collect();
        let crm: Vec<Entry> = self.crm.values().cloned().collect();
        #[allow(clippy::cast_precision_loss)]
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        QualityReport {
            resolved: self.resolved,
            duplicates_prevented: self.duplicates_prevented,
            duplicate_rate: ratio(self.duplicates_prevented, self.resolved),
            ambiguous: self.ambiguous,
            orders_with_contact: self.orders_with_contact,
            orders_written: self.orders_written,
            match_rate: ratio(self.orders_with_contact, self.orders_written),
            latency: LatencySummary {
                count: sorted.len() as u64,
                p50_ms: pick(0.50),
                p95_ms: pick(0.95),
                p99_ms: pick(0.99),
                max_ms: sorted.last().copied().unwrap_or(0),
            },
            reconciliation: reconcile::reconcile(&commerce, &crm),
            base_currency: base,
        }
    }
}
