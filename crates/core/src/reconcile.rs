//! Reconciliation: revenue per day and currency on the commerce side versus what was
//! written to the CRM, exact to the cent, with the orders that explain each difference.

use std::collections::BTreeMap;

use cartograph_model::{Currency, Decimal, Money, Order, OrderRecord, PropertyValue};
use serde::{Deserialize, Serialize};
use time::Date;

/// One order's revenue as counted on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The order key (`system/order/id`, the CRM's unique order-id value).
    pub key: String,
    /// The UTC day the revenue belongs to.
    pub day: Date,
    /// The amount, rounded to the currency's minor units.
    pub amount: Money,
}

impl Entry {
    /// The commerce side of an order: `None` when the order is not revenue (cancelled,
    /// declined, incomplete, awaiting payment or archived). Dated by its creation day.
    pub fn from_order(order: &Order) -> Option<Self> {
        order.is_revenue().then(|| Self {
            key: order.source.to_string(),
            day: order.created_at.date(),
            amount: order.total.round_to_minor(),
        })
    }

    /// The CRM side of an order record, read from the named amount, date and currency
    /// properties (the CRM profile's revenue fields);
    /// `None` when one is missing or unreadable.
    pub fn from_record(record: &OrderRecord, fields: &RecordFields) -> Option<Self> {
        let amount = match record.properties.get(&fields.amount)? {
            PropertyValue::Number(n) => *n,
            PropertyValue::String(s) => cartograph_model::parse_decimal(s).ok()?,
            _ => return None,
        };
        let day = match record.properties.get(&fields.date)? {
            PropertyValue::Date(d) => *d,
            PropertyValue::DateTime(t) => t.date(),
            _ => return None,
        };
        let currency = match record.properties.get(&fields.currency)? {
            PropertyValue::String(c) | PropertyValue::Enumeration(c) => Currency::new(c).ok()?,
            _ => return None,
        };
        let amount = if fields.minor_units {
            let mut scaled = amount;
            scaled
                .set_scale(scaled.scale() + currency.minor_units())
                .ok()?;
            scaled
        } else {
            amount
        };
        Some(Self {
            key: record.key.clone(),
            day,
            amount: Money::new(amount, currency).round_to_minor(),
        })
    }
}

/// Which properties of an [`OrderRecord`] hold the amount, the day and the currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFields {
    /// Amount property.
    pub amount: String,
    /// Date or datetime property.
    pub date: String,
    /// Currency code property.
    pub currency: String,
    /// Whether the amount is in the currency's minor units (cents).
    #[serde(default)]
    pub minor_units: bool,
}

impl RecordFields {
    /// The three property names.
    pub fn new(
        amount: impl Into<String>,
        date: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        Self {
            amount: amount.into(),
            date: date.into(),
            currency: currency.into(),
            minor_units: false,
        }
    }

    /// Marks the amount as written in minor units.
    #[must_use]
    pub fn in_minor_units(mut self) -> Self {
        self.minor_units = true;
        self
    }
}

/// Totals for one day and currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLine {
    /// The UTC day.
    pub day: Date,
    /// The currency.
    pub currency: Currency,
    /// Commerce revenue.
    pub commerce: Money,
    /// Revenue written to the CRM.
    pub crm: Money,
    /// `commerce - crm`.
    pub difference: Money,
    /// Orders counted on the commerce side.
    pub commerce_orders: u64,
    /// Orders counted on the CRM side.
    pub crm_orders: u64,
}

/// An order that explains a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The order key.
    pub key: String,
    /// Commerce side, if counted there.
    pub commerce: Option<Entry>,
    /// CRM side, if counted there.
    pub crm: Option<Entry>,
}

/// The reconciliation report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// One line per (day, currency), in order.
    pub days: Vec<DayLine>,
    /// Orders missing on one side or differing in amount, day or currency, by key.
    pub mismatches: Vec<Mismatch>,
}

impl Report {
    /// Whether both sides agree to the cent on every day and currency.
    pub fn is_balanced(&self) -> bool {
        self.mismatches.is_empty() && self.days.iter().all(|d| d.difference.is_zero())
    }
}

/// Compares both sides. A key present several times on one side counts once (the last).
pub fn reconcile(commerce: &[Entry], crm: &[Entry]) -> Report {
    let by_key = |entries: &[Entry]| -> BTreeMap<String, Entry> {
        entries.iter().map(|e| (e.key.clone(), e.clone())).collect()
    };
    let left = by_key(commerce);
    let right = by_key(crm);
    let mut days: BTreeMap<(Date, Currency), (Decimal, Decimal, u64, u64)> = BTreeMap::new();
    for e in left.values() {
        let d = days.entry((e.day, e.amount.currency())).or_default();
        d.0 += e.amount.amount();
        d.2 += 1;
    }
    for e in right.values() {
        let d = days.entry((e.day, e.amount.currency())).or_default();
        d.1 += e.amount.amount();
        d.3 += 1;
    }
    let days = days
        .into_iter()
        .map(|((day, currency), (c, r, nc, nr))| DayLine {
            day,
            currency,
            commerce: Money::new(c, currency).round_to_minor(),
            crm: Money::new(r, currency).round_to_minor(),
            difference: Money::new(c - r, currency).round_to_minor(),
            commerce_orders: nc,
            crm_orders: nr,
        })
        .collect();
    let mut keys: Vec<&String> = left.keys().chain(right.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    let mismatches = keys
        .into_iter()
        .filter_map(|k| {
            let (a, b) = (left.get(k), right.get(k));
            let same = match (a, b) {
                (Some(a), Some(b)) => {
                    a.day == b.day
                        && a.amount.currency() == b.amount.currency()
                        && a.amount == b.amount
                }
                _ => false,
            };
            (!same).then(|| Mismatch {
                key: k.clone(),
                commerce: a.cloned(),
                crm: b.cloned(),
            })
        })
        .collect();
    Report { days, mismatches }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{Context, Input, defaults};
    use crate::metrics::sample;

    #[test]
    fn hubspot_deals_reconcile_to_the_cent() {
        let plan = defaults::hubspot().unwrap().compile("deal", &[]).unwrap();
        let mut orders = sample::orders(200, 20, 9);
        for o in &mut orders {
            o.paid_at = None; // closedate = created_at
        }
        let commerce: Vec<Entry> = orders.iter().filter_map(Entry::from_order).collect();
        let mut crm: Vec<Entry> = orders
            .iter()
            .filter(|o| o.is_revenue())
            .map(|o| {
                let out = plan.apply(&Input::order(o), &Context::default());
                let record = OrderRecord {
                    key: o.source.to_string(),
                    object: cartograph_model::OrderObject::Deal,
                    contact: None,
                    properties: out.properties,
                    line_items: vec![],
                    origin: cartograph_model::Origin::Live,
                };
                Entry::from_record(
                    &record,
                    &RecordFields::new("amount", "closedate", "deal_currency_code"),
                )
                .unwrap()
            })
            .collect();
        let report = reconcile(&commerce, &crm);
        assert!(report.is_balanced(), "{:?}", report.mismatches);
        assert!(report.days.iter().any(|d| d.currency == Currency::EUR));

        // One cent off on one order, one order never written.
        let removed = crm.pop().unwrap();
        crm[0].amount = crm[0]
            .amount
            .checked_add(&Money::from_minor(1, crm[0].amount.currency()))
            .unwrap();
        let report = reconcile(&commerce, &crm);
        assert!(!report.is_balanced());
        assert_eq!(report.mismatches.len(), 2);
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.key == removed.key && m.crm.is_none())
        );
        let cent = report
            .mismatches
            .iter()
            .find(|m| m.key == crm[0].key)
            .unwrap();
        let diff = cent
            .crm
            .as_ref()
            .unwrap()
            .amount
            .checked_sub(&cent.commerce.as_ref().unwrap().amount)
            .unwrap();
        assert_eq!(diff.to_minor().unwrap(), 1);
    }
}
