//! Revenue reconciliation against what the CRM holds: the store's revenue per day and
//! currency (the orders the engine has seen) compared with the order records read back from
//! the CRM through [`CrmSink::read_orders`] (in full) or [`CrmSink::find_orders`] (a
//! deterministic sample of the store's orders), order by order and exact to the cent.
//!
//! Each store order in scope is *matched* (same amount, currency and day), *missing in CRM*,
//! or *differs* (amount or currency, or day); a CRM record whose key is no store order is
//! *only in CRM* (full reads only: a sample looks up store orders). Order records the engine
//! wrote for orders that are not revenue (cancelled orders, carts) are left out.
//!
//! ```no_run
//! # async fn demo(pipeline: cartograph_sync::Pipeline) -> Result<(), cartograph_connector::Error> {
//! use cartograph_sync::reconcile::ReadBack;
//!
//! let report = pipeline.reconcile_with_crm(&ReadBack::Full).await?;
//! println!("{:.2} % aligned", report.alignment() * 100.0);
//! for difference in &report.differences {
//!     println!("{}: {}", difference.key, difference.kind.as_str());
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cartograph_connector::{CrmOrder, CrmSink, ListRequest, Result};
use cartograph_core::reconcile::Entry;
use cartograph_model::{Currency, Decimal, Money};
use serde::{Deserialize, Serialize};
use time::Date;

/// How much of the CRM to read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum ReadBack {
    /// Every order record, page by page (finds records only the CRM holds).
    #[default]
    Full,
    /// About one store order in `one_in`, chosen by a stable hash of the order key (the
    /// same orders every run), looked up by key. Cheaper on large accounts; cannot see
    /// records only the CRM holds.
    Sample {
        /// Sampling ratio (1 = every store order).
        one_in: u32,
    },
}

impl ReadBack {
    /// Whether the store order `key` is in scope.
    fn includes(&self, key: &str) -> bool {
        match self {
            Self::Full => true,
            Self::Sample { one_in } => {
                crate::intake::fnv1a(key.as_bytes()) % u64::from((*one_in).max(1)) == 0
            }
        }
    }
}

/// Page size asked of the CRM for full reads (clamped by each connector).
const PAGE_SIZE: u32 = 100;
/// Keys per lookup call for samples.
const LOOKUP_CHUNK: usize = 100;

/// What differs about one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// A store order with no record in the CRM (never written, or deleted there).
    MissingInCrm,
    /// The CRM's amount or currency is not the store's (to the cent), or it is unreadable.
    AmountDiffers,
    /// Same amount, another day.
    DayDiffers,
    /// A CRM order record whose key is no store order the engine has seen.
    OnlyInCrm,
    /// A second CRM record for the same order key.
    DuplicateInCrm,
}

impl DifferenceKind {
    /// The name used in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MissingInCrm => "missing in CRM",
            Self::AmountDiffers => "amount differs",
            Self::DayDiffers => "day differs",
            Self::OnlyInCrm => "only in CRM",
            Self::DuplicateInCrm => "duplicate in CRM",
        }
    }
}

/// One order that explains a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// The order key (the store's, or the CRM's for records only the CRM holds).
    pub key: String,
    /// What differs.
    pub kind: DifferenceKind,
    /// The store side.
    pub store: Option<Entry>,
    /// The CRM side.
    pub crm: Option<CrmOrder>,
}

/// Totals for one day and currency: the store order's day, or the CRM record's for
/// records only the CRM holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// The UTC day.
    pub day: Date,
    /// The currency.
    pub currency: Currency,
    /// Store revenue of the orders in scope.
    pub store: Money,
    /// What the CRM holds for them (and for records only it holds), same currency only.
    pub crm: Money,
    /// Store orders in scope.
    pub store_orders: u64,
    /// Orders that match to the cent.
    pub matched: u64,
    /// Store orders with no CRM record.
    pub missing_in_crm: u64,
    /// Store orders whose CRM amount, currency or day differs.
    pub differs: u64,
    /// CRM records that are no store order.
    pub only_in_crm: u64,
}

impl DayTotals {
    fn new(day: Date, currency: Currency) -> Self {
        Self {
            day,
            currency,
            store: Money::zero(currency),
            crm: Money::zero(currency),
            store_orders: 0,
            matched: 0,
            missing_in_crm: 0,
            differs: 0,
            only_in_crm: 0,
        }
    }

    /// `store - crm`.
    pub fn difference(&self) -> Money {
        Money::new(self.store.amount() - self.crm.amount(), self.currency)
    }
}

/// The reconciliation of the store's revenue with the CRM's order records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmReconciliation {
    /// How the CRM was read.
    pub read_back: ReadBack,
    /// One line per (day, currency), in order.
    pub days: Vec<DayTotals>,
    /// Every order that is not matched, by kind then key.
    pub differences: Vec<Difference>,
    /// Store revenue orders in scope (all, or the sample).
    pub store_orders: u64,
    /// Orders that match to the cent.
    pub matched: u64,
    /// CRM order records read back.
    pub crm_records_read: u64,
    /// CRM records left out because their store order is not revenue (cancelled, carts).
    pub not_revenue: u64,
}

impl CrmReconciliation {
    /// Matched orders over everything compared (store orders in scope plus records only in
    /// the CRM); 1.0 when there was nothing to compare.
    pub fn alignment(&self) -> f64 {
        let only =
            self.count(DifferenceKind::OnlyInCrm) + self.count(DifferenceKind::DuplicateInCrm);
        let total = self.store_orders + only;
        if total == 0 {
            return 1.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.matched as f64 / total as f64;
        ratio
    }

    /// Whether every order matches and nothing is only in the CRM.
    pub fn is_exact(&self) -> bool {
        self.differences.is_empty()
    }

    /// How many differences are of `kind`.
    pub fn count(&self, kind: DifferenceKind) -> u64 {
        self.differences.iter().filter(|d| d.kind == kind).count() as u64
    }
}

/// Store keys, found by their full key or, where the CRM stores the platform's bare order
/// id, by the key's last segment when no two store keys share it.
struct KeyIndex<'a> {
    full: &'a BTreeMap<String, Entry>,
    not_revenue: &'a BTreeSet<String>,
    bare: HashMap<&'a str, Option<&'a str>>,
}

impl<'a> KeyIndex<'a> {
    fn new(full: &'a BTreeMap<String, Entry>, not_revenue: &'a BTreeSet<String>) -> Self {
        let mut bare: HashMap<&str, Option<&str>> = HashMap::new();
        for key in full.keys().chain(not_revenue.iter()) {
            if let Some((_, id)) = key.rsplit_once('/') {
                bare.entry(id)
                    .and_modify(|k| {
                        if *k != Some(key.as_str()) {
                            *k = None;
                        }
                    })
                    .or_insert(Some(key.as_str()));
            }
        }
        Self {
            full,
            not_revenue,
            bare,
        }
    }

    /// The store key a CRM key stands for.
    fn resolve(&self, crm_key: &str) -> Option<&'a str> {
        if let Some((k, _)) = self.full.get_key_value(crm_key) {
            return Some(k.as_str());
        }
        if let Some(k) = self.not_revenue.get(crm_key) {
            return Some(k.as_str());
        }
        if crm_key.contains('/') {
            return None;
        }
        self.bare.get(crm_key).copied().flatten()
    }
}

/// Reads the CRM back and reconciles it with the store entries `store` (by key);
/// `not_revenue` are keys of order records written for orders that are not revenue.
///
/// # Errors
/// The sink's read errors (`Unsupported` when it cannot read orders back).
pub async fn reconcile_with_crm(
    sink: &dyn CrmSink,
    store: &BTreeMap<String, Entry>,
    not_revenue: &BTreeSet<String>,
    read_back: &ReadBack,
) -> Result<CrmReconciliation> {
    let in_scope: BTreeMap<String, Entry> = store
        .iter()
        .filter(|(k, _)| read_back.includes(k))
        .map(|(k, e)| (k.clone(), e.clone()))
        .collect();
    let records = match read_back {
        ReadBack::Full => {
            let mut all = Vec::new();
            let mut request = ListRequest::all().with_limit(PAGE_SIZE);
            loop {
                let page = sink.read_orders(&request).await?;
                all.extend(page.items);
                match page.next {
                    Some(next) => request = request.at(Some(next)),
                    None => break,
                }
            }
            all
        }
        ReadBack::Sample { .. } => {
            let keys: Vec<String> = in_scope.keys().cloned().collect();
            let mut all = Vec::new();
            for chunk in keys.chunks(LOOKUP_CHUNK) {
                all.extend(sink.find_orders(chunk).await?);
            }
            all
        }
    };
    Ok(compare(&in_scope, not_revenue, read_back, records))
}

/// The comparison itself (pure).
fn compare(
    store: &BTreeMap<String, Entry>,
    not_revenue: &BTreeSet<String>,
    read_back: &ReadBack,
    records: Vec<CrmOrder>,
) -> CrmReconciliation {
    let index = KeyIndex::new(store, not_revenue);
    let crm_records_read = records.len() as u64;
    let mut by_key: BTreeMap<&str, CrmOrder> = BTreeMap::new();
    let mut differences = Vec::new();
    let mut days: BTreeMap<(Date, Currency), DayTotals> = BTreeMap::new();
    let mut skipped = 0;
    for record in records {
        let resolved = index.resolve(&record.key);
        match resolved {
            Some(key) if not_revenue.contains(key) && !store.contains_key(key) => skipped += 1,
            Some(key) if store.contains_key(key) => {
                if by_key.contains_key(key) {
                    differences.push(Difference {
                        key: key.to_owned(),
                        kind: DifferenceKind::DuplicateInCrm,
                        store: None,
                        crm: Some(record),
                    });
                } else {
                    by_key.insert(key, record);
                }
            }
            // A store order outside the sample: not compared.
            Some(_) => {}
            None => {
                let key = record.key.clone();
                if let (Some(day), Some(amount)) = (record.day, record.amount) {
                    let line = days
                        .entry((day, amount.currency()))
                        .or_insert_with(|| DayTotals::new(day, amount.currency()));
                    line.crm = add(line.crm, amount);
                    line.only_in_crm += 1;
                }
                differences.push(Difference {
                    key,
                    kind: DifferenceKind::OnlyInCrm,
                    store: None,
                    crm: Some(record),
                });
            }
        }
    }
    let mut matched = 0;
    for (key, entry) in store {
        let currency = entry.amount.currency();
        let line = days
            .entry((entry.day, currency))
            .or_insert_with(|| DayTotals::new(entry.day, currency));
        line.store = add(line.store, entry.amount);
        line.store_orders += 1;
        let crm = by_key.remove(key.as_str());
        let kind = match &crm {
            None => Some(DifferenceKind::MissingInCrm),
            Some(r) => {
                if let Some(amount) = r.amount.filter(|a| a.currency() == currency) {
                    line.crm = add(line.crm, amount);
                }
                if r.amount != Some(entry.amount) {
                    Some(DifferenceKind::AmountDiffers)
                } else if r.day != Some(entry.day) {
                    Some(DifferenceKind::DayDiffers)
                } else {
                    None
                }
            }
        };
        match kind {
            None => {
                matched += 1;
                line.matched += 1;
            }
            Some(kind) => {
                if kind == DifferenceKind::MissingInCrm {
                    line.missing_in_crm += 1;
                } else {
                    line.differs += 1;
                }
                differences.push(Difference {
                    key: key.clone(),
                    kind,
                    store: Some(entry.clone()),
                    crm,
                });
            }
        }
    }
    differences.sort_by(|a, b| (a.kind as u8, &a.key).cmp(&(b.kind as u8, &b.key)));
    CrmReconciliation {
        read_back: read_back.clone(),
        days: days.into_values().collect(),
        differences,
        store_orders: store.len() as u64,
        matched,
        crm_records_read,
        not_revenue: skipped,
    }
}

/// Adds amounts of one currency exactly.
fn add(total: Money, amount: Money) -> Money {
    let sum: Decimal = total.amount() + amount.amount();
    Money::new(sum, total.currency())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, cents: i64, day: Date) -> Entry {
        Entry {
            key: key.to_owned(),
            day,
            amount: Money::from_minor(cents, Currency::EUR),
        }
    }

    fn record(id: &str, key: &str, cents: i64, day: Date) -> CrmOrder {
        CrmOrder::new(id, key)
            .with_amount(Money::from_minor(cents, Currency::EUR))
            .with_day(day)
    }

    const D1: Date = time::macros::date!(2026 - 03 - 01);
    const D2: Date = time::macros::date!(2026 - 03 - 02);

    #[test]
    fn every_kind_of_difference_is_named_and_counted_per_day() {
        let store: BTreeMap<String, Entry> = [
            entry("shop/order/1", 1000, D1),
            entry("shop/order/2", 2000, D1),
            entry("shop/order/3", 3000, D1),
            entry("shop/order/4", 4000, D2),
            entry("shop/order/5", 5000, D2),
        ]
        .into_iter()
        .map(|e| (e.key.clone(), e))
        .collect();
        let not_revenue = BTreeSet::from(["shop/order/9".to_owned()]);
        let records = vec![
            record("a", "shop/order/1", 1000, D1),
            // Bare store id, as ActiveCampaign stores it; one cent off.
            record("b", "2", 2001, D1),
            record("d", "shop/order/4", 4000, D1),
            record("e", "shop/order/5", 5000, D2),
            record("e2", "shop/order/5", 5000, D2),
            record("x", "shop/order/77", 700, D2),
            record("y", "shop/order/78", 800, D2),
            record("z", "shop/order/9", 900, D2),
        ];
        let r = compare(&store, &not_revenue, &ReadBack::Full, records);
        assert_eq!(r.store_orders, 5);
        assert_eq!(r.matched, 2);
        assert_eq!(r.crm_records_read, 8);
        assert_eq!(r.not_revenue, 1);
        let kinds: Vec<(&str, DifferenceKind)> = r
            .differences
            .iter()
            .map(|d| (d.key.as_str(), d.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("shop/order/3", DifferenceKind::MissingInCrm),
                ("shop/order/2", DifferenceKind::AmountDiffers),
                ("shop/order/4", DifferenceKind::DayDiffers),
                ("shop/order/77", DifferenceKind::OnlyInCrm),
                ("shop/order/78", DifferenceKind::OnlyInCrm),
                ("shop/order/5", DifferenceKind::DuplicateInCrm),
            ]
        );
        // 2 matched of 5 store orders + 3 records only (or twice) in the CRM.
        assert!((r.alignment() - 0.25).abs() < 1e-9);
        let d1 = &r.days[0];
        assert_eq!((d1.day, d1.store_orders, d1.matched), (D1, 3, 1));
        assert_eq!((d1.missing_in_crm, d1.differs), (1, 1));
        assert_eq!(d1.store, Money::from_minor(6000, Currency::EUR));
        // Order 4's CRM amount counts on the store order's day.
        assert_eq!(d1.crm, Money::from_minor(3001, Currency::EUR));
        assert_eq!(d1.difference(), Money::from_minor(2999, Currency::EUR));
        let d2 = &r.days[1];
        assert_eq!((d2.store_orders, d2.matched, d2.only_in_crm), (2, 1, 2));
        assert_eq!(
            d2.crm,
            Money::from_minor(4000 + 5000 + 700 + 800, Currency::EUR)
        );
    }

    #[test]
    fn identical_sides_are_exact_and_fully_aligned() {
        let store: BTreeMap<String, Entry> = (1..=50)
            .map(|n| entry(&format!("shop/order/{n}"), n * 101, D1))
            .map(|e| (e.key.clone(), e))
            .collect();
        let records = store
            .values()
            .map(|e| record(&e.key, &e.key, e.amount.to_minor().unwrap(), e.day))
            .collect();
        let r = compare(&store, &BTreeSet::new(), &ReadBack::Full, records);
        assert!(r.is_exact(), "{:?}", r.differences);
        assert!((r.alignment() - 1.0).abs() < f64::EPSILON);
        assert!(r.days.iter().all(|d| d.difference().is_zero()));
    }

    #[test]
    fn a_bare_id_shared_by_two_store_keys_matches_neither() {
        let store: BTreeMap<String, Entry> =
            [entry("a/order/1", 100, D1), entry("b/order/1", 100, D1)]
                .into_iter()
                .map(|e| (e.key.clone(), e))
                .collect();
        let r = compare(
            &store,
            &BTreeSet::new(),
            &ReadBack::Full,
            vec![record("r", "1", 100, D1)],
        );
        assert_eq!(r.matched, 0);
        assert_eq!(r.count(DifferenceKind::OnlyInCrm), 1);
        assert_eq!(r.count(DifferenceKind::MissingInCrm), 2);
    }

    #[test]
    fn samples_are_stable_and_roughly_the_ratio() {
        let sample = ReadBack::Sample { one_in: 10 };
        let picked = (0..10_000)
            .filter(|n| sample.includes(&format!("shop/order/{n}")))
            .count();
        assert!((800..1200).contains(&picked), "{picked}");
        assert!(ReadBack::Sample { one_in: 1 }.includes("anything"));
        assert_eq!(
            sample.includes("shop/order/42"),
            ReadBack::Sample { one_in: 10 }.includes("shop/order/42")
        );
    }
}
