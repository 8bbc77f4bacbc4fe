//! Population-wide scores: value tiers by lifetime-value percentile and RFM quintiles.

use cartograph_model::Decimal;
use serde::{Deserialize, Serialize};

use super::CustomerMetrics;

/// A customer's value tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueTier {
    /// The top slice by lifetime value (default top 10 %).
    Vip,
    /// The next slice (default next 20 %).
    High,
    /// Everyone else with a paid order (default remaining 70 %).
    Standard,
}

impl ValueTier {
    /// Stable lowercase name (the serde name, and the CRM option value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Vip => "vip",
            Self::High => "high",
            Self::Standard => "standard",
        }
    }
}

/// Tier sizes in percent of customers with a paid order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierConfig {
    /// Share of the top tier (default 10).
    pub vip_percent: u32,
    /// Share of the next tier (default 20).
    pub high_percent: u32,
}

impl Default for TierConfig {
    fn default() -> Self {
        Self {
            vip_percent: 10,
            high_percent: 20,
        }
    }
}

/// Recency, frequency and monetary scores, 1 (lowest) to 5 (highest) each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rfm {
    /// Recency of the last paid order (5 = most recent fifth).
    pub recency: u8,
    /// Number of paid orders.
    pub frequency: u8,
    /// Lifetime value.
    pub monetary: u8,
}

impl Rfm {
    /// The three digits, e.g. `"545"`.
    pub fn code(&self) -> String {
        format!("{}{}{}", self.recency, self.frequency, self.monetary)
    }
}

/// Cut points computed once over all customers; scoring one customer is then a few
/// comparisons, so incremental updates between population rebuilds stay cheap.
///
/// ```
/// use cartograph_core::metrics::{CustomerMetrics, Population, TierConfig, ValueTier};
/// use cartograph_model::{Currency, Money};
///
/// let people: Vec<CustomerMetrics> = (1..=10)
///     .map(|i| {
///         let mut m = CustomerMetrics::empty(Currency::USD);
///         m.paid_order_count = 1;
///         m.lifetime_value = Money::from_minor(i * 1000, Currency::USD);
///         m
///     })
///     .collect();
/// let pop = Population::build(people.iter(), TierConfig::default());
/// assert_eq!(pop.tier(&people[9]), Some(ValueTier::Vip));
/// assert_eq!(pop.tier(&people[7]), Some(ValueTier::High));
/// assert_eq!(pop.tier(&people[0]), Some(ValueTier::Standard));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Population {
    /// Smallest lifetime value in the top tier.
    pub vip_min: Option<Decimal>,
    /// Smallest lifetime value in the second tier.
    pub high_min: Option<Decimal>,
    /// Recency cut points (last order, unix milliseconds), ascending, four values.
    pub recency_breaks: Vec<i64>,
    /// Frequency cut points (paid orders), ascending.
    pub frequency_breaks: Vec<u64>,
    /// Monetary cut points (lifetime value), ascending.
    pub monetary_breaks: Vec<Decimal>,
}

fn breaks<T: Copy + Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort_unstable();
    sorted_breaks(&values)
}

/// Quintile cut points of ascending `values`.
fn sorted_breaks<T: Copy>(values: &[T]) -> Vec<T> {
    if values.is_empty() {
        return Vec::new();
    }
    let n = values.len();
    (1..5).map(|q| values[(n * q / 5).min(n - 1)]).collect()
}

/// Sorts decimals ascending. Lifetime values share one scale (minor units), and then
/// their mantissas order them exactly as their values do, at the cost of an integer
/// comparison instead of a decimal one.
fn sort_decimals(values: &mut [Decimal]) {
    match values.first().map(Decimal::scale) {
        Some(scale) if values.iter().all(|d| d.scale() == scale) => {
            values.sort_unstable_by_key(Decimal::mantissa);
        }
        _ => values.sort_unstable(),
    }
}

fn score<T: Ord>(value: &T, breaks: &[T]) -> u8 {
    let above = breaks.iter().filter(|b| value >= *b).count();
    u8::try_from(above.min(4)).unwrap_or(4) + 1
}

impl Population {
    /// Computes cut points over every customer with a paid order.
    pub fn build<'a>(
        metrics: impl IntoIterator<Item = &'a CustomerMetrics>,
        tiers: TierConfig,
    ) -> Self {
        let mut ltv = Vec::new();
        let mut recency = Vec::new();
        let mut frequency = Vec::new();
        for m in metrics {
            if m.paid_order_count == 0 {
                continue;
            }
            ltv.push(m.lifetime_value.amount());
            recency.push(m.last_order_at.map_or(i64::MIN, |t| t.unix_millis()));
            frequency.push(m.paid_order_count);
        }
        // One ascending sort serves the tiers (counted from the top) and the quintiles.
        sort_decimals(&mut ltv);
        let n = ltv.len();
        let count = |pct: u32| (n * pct as usize).div_ceil(100);
        let vip = count(tiers.vip_percent.min(100));
        let high = count(
            tiers
                .vip_percent
                .saturating_add(tiers.high_percent)
                .min(100),
        );
        Self {
            vip_min: (vip > 0).then(|| ltv[n - vip]),
            high_min: (high > 0).then(|| ltv[n - high]),
            recency_breaks: breaks(recency),
            frequency_breaks: breaks(frequency),
            monetary_breaks: sorted_breaks(&ltv),
        }
    }

    /// The customer's tier; `None` without a paid order.
    pub fn tier(&self, m: &CustomerMetrics) -> Option<ValueTier> {
        if m.paid_order_count == 0 {
            return None;
        }
        let ltv = m.lifetime_value.amount();
        if self.vip_min.is_some_and(|v| ltv >= v) {
            Some(ValueTier::Vip)
        } else if self.high_min.is_some_and(|v| ltv >= v) {
            Some(ValueTier::High)
        } else {
            Some(ValueTier::Standard)
        }
    }

    /// The customer's RFM scores; `None` without a paid order.
    pub fn rfm(&self, m: &CustomerMetrics) -> Option<Rfm> {
        let last = m.last_order_at?;
        if m.paid_order_count == 0 {
            return None;
        }
        Some(Rfm {
            recency: score(&last.unix_millis(), &self.recency_breaks),
            frequency: score(&m.paid_order_count, &self.frequency_breaks),
            monetary: score(&m.lifetime_value.amount(), &self.monetary_breaks),
        })
    }
}
