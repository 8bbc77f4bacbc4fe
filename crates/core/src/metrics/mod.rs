//! Customer metrics from orders and refunds: paid order count, lifetime value net of refunds,
//! average order value, first and last order dates, average days between orders, most
//! purchased categories, and population-wide RFM scores and value tiers.
//!
//! All amounts are exact decimals in one base currency (converted with host-provided
//! [`Rates`], rounded to the base currency's minor units per order). [`MetricsEngine`]
//! updates incrementally from one order or refund at a time; [`recompute`] computes the
//! same metrics from scratch, and the two always agree (a property test checks it).
//!
//! Rules, in one place:
//! - an order is *paid* when [`Order::is_revenue`] holds (not incomplete, cancelled, declined,
//!   awaiting payment or archived);
//! - the latest version of an order wins: a version whose `updated_at` (else `created_at`) is
//!   older than the stored one is ignored; equal times let the later arrival win;
//! - refunds subtract from lifetime value only when their order is paid; every refund counts
//!   for "last refund at";
//! - an order belongs to the customer named by [`customer_key`] (its customer account, else
//!   its normalized email) unless the host passes its own key (after identity resolution);
//! - average order value is lifetime value / paid orders, rounded to minor units;
//! - an amount beyond [`MAX_AMOUNT`] or a line quantity beyond [`MAX_QUANTITY`] is a
//!   [`MetricsError::Overflow`] naming the record and field, so sums never overflow;
//! - top categories weigh the most specific category of each paid line by quantity; ties
//!   break by name.

use cartograph_model::{Currency, Decimal, Money, Order, Timestamp};
use serde::{Deserialize, Serialize};

mod categories;
mod customer_state;
mod engine;
mod interner;
mod population;
mod rates;
mod recompute;
pub mod sample;

pub use engine::{MetricsEngine, Outcome};
pub use population::{Population, Rfm, TierConfig, ValueTier};
pub use rates::{RateError, Rates};
pub use recompute::recompute;

/// Settings for metric computation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsConfig {
    /// Exchange rates; their base is the metrics currency.
    pub rates: Rates,
    /// How many top categories to keep (1 to 3; default 3).
    #[serde(default = "default_top")]
    pub top_categories: usize,
}

const fn default_top() -> usize {
    3
}

impl MetricsConfig {
    /// Metrics in `rates.base`, keeping three top categories.
    pub fn new(rates: Rates) -> Self {
        Self {
            rates,
            top_categories: default_top(),
        }
    }

    /// The base currency.
    pub fn base(&self) -> Currency {
        self.rates.base
    }

    pub(crate) fn top(&self) -> usize {
        self.top_categories.clamp(1, 3)
    }
}

/// The largest amount (after conversion into the base currency) an order total or refund may
/// have: far above any real order, and small enough that no sum over the engine's at most
/// 2^32 orders can leave the decimal range, so sums never overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000_000;

/// The largest quantity an order line may have (same reason as [`MAX_AMOUNT`]).
pub const MAX_QUANTITY: i64 = 1_000_000_000_000_000;

/// Whether a line quantity is within [`MAX_QUANTITY`].
pub(crate) fn quantity_in_range(quantity: Decimal) -> bool {
    // A mantissa within the bound is enough (the scale only shrinks the value) and needs no
    // decimal comparison; only larger mantissas are compared exactly.
    quantity.mantissa().unsigned_abs() <= u128::from(MAX_QUANTITY.unsigned_abs())
        || quantity.abs() <= Decimal::from(MAX_QUANTITY)
}

/// Whether the quantities that count (lines with a category) are all in range.
pub(crate) fn quantities_in_range(order: &Order) -> bool {
    order
        .line_items
        .iter()
        .filter(|l| !l.categories.is_empty())
        .all(|l| quantity_in_range(l.quantity))
}

/// `amount` if within [`MAX_AMOUNT`].
pub(crate) fn amount_in_range(amount: Decimal) -> Option<Decimal> {
    let fits = amount.mantissa().unsigned_abs() <= u128::from(MAX_AMOUNT.unsigned_abs())
        || amount.abs() <= Decimal::from(MAX_AMOUNT);
    fits.then_some(amount)
}

/// Why an order or refund could not be counted. The engine's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The amount could not be converted into the base currency.
    #[error("{record}: field {field}: {source}")]
    Conversion {
        /// The record (`system/kind/id`).
        record: String,
        /// The field.
        field: &'static str,
        /// Why.
        source: RateError,
    },
    /// An amount or quantity beyond [`MAX_AMOUNT`] / [`MAX_QUANTITY`] (sums of such values
    /// could leave the decimal range).
    #[error("{record}: field {field}: value out of range for metrics")]
    Overflow {
        /// The record.
        record: String,
        /// The field (`total`, `amount` or `line_items.quantity`).
        field: &'static str,
    },
}

/// One customer's metrics, all money in the base currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerMetrics {
    /// Number of paid orders.
    pub paid_order_count: u64,
    /// Sum of paid order totals.
    pub gross_revenue: Money,
    /// Sum of refunds on paid orders.
    pub refunded: Money,
    /// Gross revenue minus refunds.
    pub lifetime_value: Money,
    /// Lifetime value / paid orders (minor units), `None` without paid orders.
    pub average_order_value: Option<Money>,
    /// First paid order.
    pub first_order_at: Option<Timestamp>,
    /// Last paid order.
    pub last_order_at: Option<Timestamp>,
    /// Average days between paid orders (two places), `None` below two orders.
    pub average_days_between_orders: Option<Decimal>,
    /// Most purchased categories, most first.
    pub top_categories: Vec<String>,
    /// Most recent refund on any of the customer's orders.
    pub last_refund_at: Option<Timestamp>,
    /// Most recent cancelled or declined order.
    pub last_cancelled_at: Option<Timestamp>,
}

impl CustomerMetrics {
    /// Metrics of a customer without orders.
    pub fn empty(base: Currency) -> Self {
        Self {
            paid_order_count: 0,
            gross_revenue: fixed(Decimal::ZERO, base),
            refunded: fixed(Decimal::ZERO, base),
            lifetime_value: fixed(Decimal::ZERO, base),
            average_order_value: None,
            first_order_at: None,
            last_order_at: None,
            average_days_between_orders: None,
            top_categories: Vec::new(),
            last_refund_at: None,
            last_cancelled_at: None,
        }
    }
}

/// The default owner key of an order: its customer account (`system/customer/id`), else
/// `email:` + its normalized email; `None` for an anonymous order.
pub fn customer_key(order: &Order) -> Option<String> {
    order
        .customer
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| {
            order
                .email
                .as_ref()
                .map(|e| format!("email:{}", e.normalized()))
        })
}

/// When a version of an order was written (its `updated_at`, else `created_at`).
pub(crate) fn version_time(order: &Order) -> Timestamp {
    order.updated_at.unwrap_or(order.created_at)
}

/// When an order was cancelled (its last update, else its creation).
pub(crate) fn cancelled_time(order: &Order) -> Timestamp {
    order.updated_at.unwrap_or(order.created_at)
}

/// Average days between the first and last of `count` orders, two places.
pub(crate) fn average_gap(first: Timestamp, last: Timestamp, count: u64) -> Option<Decimal> {
    if count < 2 {
        return None;
    }
    let millis = Decimal::from(last.unix_millis() - first.unix_millis());
    let days = millis.checked_div(Decimal::from(
        86_400_000_i64 * i64::try_from(count - 1).ok()?,
    ))?;
    Some(days.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// Lifetime value / count, rounded to the currency's minor units.
pub(crate) fn average(ltv: Money, count: u64) -> Option<Money> {
    if count == 0 {
        return None;
    }
    // Integer fast path, the same result as the decimal division below: an amount at
    // minor-unit scale is an integer `n` of minor units, and `n / count` rounded half away
    // from zero is the answer. The decimal quotient carries 28 significant digits, so for
    // |n| < 10^15 its error stays under 10^-12 of a minor unit, while an inexact `n / count`
    // lies at least 1 / (2 * count) > 10^-10 from a rounding midpoint: both round alike.
    let amount = ltv.amount();
    let scale = ltv.currency().minor_units();
    let n = amount.mantissa();
    if amount.scale() == scale && n.unsigned_abs() < 1_000_000_000_000_000 && count < 1 << 32 {
        let c = i128::from(count);
        let (q, r) = (n / c, n % c);
        let q = if 2 * r.abs() >= c { q + n.signum() } else { q };
        if let Ok(avg) = Decimal::try_from_i128_with_scale(q, scale) {
            return Some(fixed(avg, ltv.currency()));
        }
    }
    average_exact(ltv, count)
}

/// [`average`] by decimal division.
pub(crate) fn average_exact(ltv: Money, count: u64) -> Option<Money> {
    if count == 0 {
        return None;
    }
    let avg = ltv.amount().checked_div(Decimal::from(count))?;
    let rounded = Money::new(avg, ltv.currency()).round_to_minor();
    Some(fixed(rounded.amount(), ltv.currency()))
}

/// Sorts category weights (most first, then by name) and keeps `n` names.
pub(crate) fn top_names(mut weights: Vec<(&str, Decimal)>, n: usize) -> Vec<String> {
    weights.retain(|(_, w)| *w > Decimal::ZERO);
    weights.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    weights
        .into_iter()
        .take(n)
        .map(|(c, _)| c.to_owned())
        .collect()
}

/// `amount` at the currency's minor-unit scale (amounts here are already whole minor units,
/// so this only normalizes the scale).
pub(crate) fn fixed(amount: Decimal, currency: Currency) -> Money {
    let mut d = if amount.is_zero() {
        Decimal::ZERO
    } else {
        amount
    };
    d.rescale(currency.minor_units());
    Money::new(d, currency)
}

#[cfg(test)]
mod tests;

/// `system/kind/id` (the `SourceRef` display form) without the formatting machinery.
pub(crate) fn source_key(r: &cartograph_model::SourceRef) -> String {
    let mut out = String::new();
    write_source_key(&mut out, r);
    out
}

/// Writes `system/kind/id` into `out`, replacing its contents (reuses its capacity).
pub(crate) fn write_source_key(out: &mut String, r: &cartograph_model::SourceRef) {
    let kind = r.kind.as_str();
    out.clear();
    out.reserve(r.system.len() + kind.len() + r.id.len() + 2);
    out.push_str(&r.system);
    out.push('/');
    out.push_str(kind);
    out.push('/');
    out.push_str(&r.id);
}
