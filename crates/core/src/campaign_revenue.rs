//! Daily store revenue per coupon code: the figures a host's daily job writes to the
//! CRM's campaign records.
//!
//! Rules, in one place:
//! - the latest version of each order counts (by `updated_at`, else `created_at`; equal
//!   times let the later one in the slice win), so a re-delivered or updated order is
//!   counted once, as it stands now;
//! - an order counts when [`Order::is_revenue`] holds (not incomplete, cancelled, declined,
//!   awaiting payment or archived); its `total` (gross: tax and shipping included, refunds
//!   not subtracted) goes to the UTC day of its `created_at`;
//! - an order counts toward each distinct code it carries, in full (an order with two
//!   coupons adds its total to both codes' rows);
//! - codes are compared trimmed and case-insensitively, and reported in upper case;
//! - amounts stay exact decimals, written with the currency's minor digits (`25.3000` from
//!   the store reads `25.30`; sub-cent digits are kept, never rounded); each currency gets
//!   its own row (no conversion);
//! - an order with a blank code, a total in another currency than the order's, or a
//!   negative total is rejected with a [`CampaignRevenueError`] naming the order and field,
//!   and adds nothing.
//!
//! The canonical [`Order`] carries no UTM attribution, so revenue is keyed by coupon code
//! only.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

pub use cartograph_model::CampaignRevenue;
use cartograph_model::{Currency, Money, Order};
use time::Date;

/// An order the aggregation could not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order}: {field}: {reason}")]
pub struct CampaignRevenueError {
    /// The order's key (`system/order/id`).
    pub order: String,
    /// The field at fault (`coupons[1].code`, `total`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// The rows (sorted by day, code, currency) and the orders rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignRevenueReport {
    /// One row per (day, code, currency).
    pub rows: Vec<CampaignRevenue>,
    /// Orders that added nothing, with the reason.
    pub rejected: Vec<CampaignRevenueError>,
}

/// Aggregates orders into daily revenue per coupon code.
///
/// ```
/// use cartograph_core::campaign_revenue::daily_campaign_revenue;
/// # use cartograph_core::metrics::sample;
/// # use cartograph_model::{Coupon, Currency, Money, Order, OrderStatus, Timestamp};
/// # fn order(id: usize, total: &str, codes: &[&str]) -> Order {
/// #     let mut o = sample::order(&mut sample::Rng::new(1), id, 1);
/// #     o.status = OrderStatus::Completed;
/// #     o.is_archived = false;
/// #     o.currency = Currency::EUR;
/// #     o.total = Money::parse(total, Currency::EUR).unwrap();
/// #     o.created_at = Timestamp::parse_rfc3339("2026-12-03T10:00:00Z").unwrap();
/// #     o.updated_at = None;
/// #     o.coupons = codes.iter().map(|c| Coupon { code: (*c).into(), amount: None }).collect();
/// #     o
/// # }
/// let report = daily_campaign_revenue(&[
///     order(1, "10.10", &["winter10"]),
///     order(2, "0.20", &["WINTER10 "]),
/// ]);
/// assert_eq!(report.rows.len(), 1);
/// assert_eq!(report.rows[0].code, "WINTER10");
/// assert_eq!(report.rows[0].revenue.amount().to_string(), "10.30");
/// assert_eq!(report.rows[0].orders, 2);
/// ```
#[must_use]
pub fn daily_campaign_revenue(orders: &[Order]) -> CampaignRevenueReport {
    let mut latest: BTreeMap<String, &Order> = BTreeMap::new();
    for order in orders {
        match latest.entry(order.source.to_string()) {
            Entry::Vacant(slot) => {
                slot.insert(order);
            }
            Entry::Occupied(mut slot) => {
                let version = |o: &Order| o.updated_at.unwrap_or(o.created_at);
                if version(order) >= version(slot.get()) {
                    slot.insert(order);
                }
            }
        }
    }
    let mut sums: BTreeMap<(Date, String, Currency), (Money, u32)> = BTreeMap::new();
    let mut rejected = Vec::new();
    for (key, order) in latest {
        if !order.is_revenue() || order.coupons.is_empty() {
            continue;
        }
        let day = order.created_at.date();
        let currency = order.total.currency();
        // Every new sum first: the order counts toward all its codes or none.
        let sums_after: Result<Vec<_>, _> = codes_of(&key, order).and_then(|codes| {
            codes
                .into_iter()
                .map(|code| {
                    let (sum, n) = sums
                        .get(&(day, code.clone(), currency))
                        .copied()
                        .unwrap_or((Money::zero(currency), 0));
                    sum.checked_add(&order.total)
                        .map(|sum| (code, sum, n + 1))
                        .map_err(|e| reject(&key, "total", e.to_string()))
                })
                .collect()
        });
        match sums_after {
            Ok(after) => {
                for (code, sum, n) in after {
                    sums.insert((day, code, currency), (sum, n));
                }
            }
            Err(error) => rejected.push(error),
        }
    }
    let rows = sums
        .into_iter()
        .map(|((day, code, _), (revenue, orders))| CampaignRevenue {
            day,
            code,
            revenue: at_minor_scale(revenue),
            orders,
        })
        .collect();
    CampaignRevenueReport { rows, rejected }
}

/// The same amount written with the currency's minor digits (`25.3000` -> `25.30`), or
/// more where they carry value (`0.125` stays): nothing is rounded.
fn at_minor_scale(money: Money) -> Money {
    let mut amount = money.amount().normalize();
    let minor = money.currency().minor_units();
    if amount.scale() < minor {
        amount.rescale(minor);
    }
    Money::new(amount, money.currency())
}

fn reject(order: &str, field: &str, reason: impl Into<String>) -> CampaignRevenueError {
    CampaignRevenueError {
        order: order.to_owned(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The order's distinct normalized codes, or why it cannot count.
fn codes_of(key: &str, order: &Order) -> Result<Vec<String>, CampaignRevenueError> {
    if order.total.currency() != order.currency {
        return Err(reject(
            key,
            "total",
            format!(
                "total in {} on an order in {}",
                order.total.currency(),
                order.currency
            ),
        ));
    }
    if order.total.is_negative() {
        return Err(reject(key, "total", "negative total"));
    }
    let mut codes = Vec::with_capacity(order.coupons.len());
    for (i, coupon) in order.coupons.iter().enumerate() {
        let code = coupon.code.trim().to_uppercase();
        if code.is_empty() {
            return Err(reject(
                key,
                &format!("coupons[{i}].code"),
                "blank coupon code",
            ));
        }
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests;
