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
    /// Distinct records resolved to a person: customer accounts, and guest identities (a
    /// guest's repeat checkouts with the same email and name are one record).
    pub resolved: u64,
    /// Duplicates prevented: distinct records merged into a person another record created
    /// (an alias or case variant, a guest checkout of an account holder), never a repeat
    /// order of the same record. Counted by this process since it started.
    pub duplicates_prevented: u64,
    /// Share of resolved records merged into another record's person.
    pub duplicate_rate: f64,
    /// Records routed to review because several people matched.
    pub ambiguous: u64,
    /// Orders written to the CRM with a contact.
    pub orders_with_contact: u64,
    /// Orders written to the CRM.
    pub orders_written: u64,
    /// Orders never written to the CRM because they are incomplete (checkout not finished)
    /// or archived, by order: why the CRM holds fewer order records than the store orders.
    pub orders_skipped: u64,
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
    /// Keys of orders skipped as incomplete or archived (and not written since).
    skipped_orders: BTreeSet<String>,
    /// Hashes of the distinct records resolved (see [`QualityReport::resolved`]).
    identities: std::collections::HashSet<u64>,
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

    /// An order skipped as incomplete or archived.
    pub(crate) fn skipped_order(&mut self, key: String) {
        self.skipped_orders.insert(key);
    }

    /// An order record written (no longer skipped).
    pub(crate) fn order_written(&mut self, key: &str) {
        self.skipped_orders.remove(key);
    }

    /// A record resolved to a person; `matched` when it joined a person that existed
    /// before it. Counts it once per distinct record (`identity` hashes the record).
    pub(crate) fn resolved(&mut self, identity: u64, matched: bool) {
        if self.identities.insert(identity) {
            self.resolved += 1;
            if matched {
                self.duplicates_prevented += 1;
            }
        }
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
            orders_skipped: self.skipped_orders.len() as u64,
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
