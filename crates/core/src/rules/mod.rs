//! Lifecycle, suppression and abandoned-cart rules, configurable, with defaults.
//!
//! Everything here is a pure function of metrics, scores, a cart and the current time the
//! host passes in (`now`): no clock is read.

use cartograph_model::{Cart, CartState, Decimal, Money, Timestamp};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::metrics::{CustomerMetrics, Rfm, ValueTier};

#[cfg(test)]
mod tests;

/// Where a person is in their life as a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    /// Known, no paid order yet.
    Lead,
    /// One paid order.
    Customer,
    /// Two or more paid orders.
    Repeat,
    /// In a VIP value tier.
    Vip,
    /// Buying less often than usual, not yet lapsed.
    ChurnRisk,
    /// No order for the lapse period.
    Lapsed,
}

impl Lifecycle {
    /// Stable lowercase name (the serde name, and the CRM option value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Customer => "customer",
            Self::Repeat => "repeat_customer",
            Self::Vip => "vip",
            Self::ChurnRisk => "churn_risk",
            Self::Lapsed => "lapsed",
        }
    }
}

/// Lifecycle settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LifecycleConfig {
    /// Days without a paid order after which a customer is lapsed (default 120).
    pub lapsed_after_days: u32,
    /// A repeat customer is at churn risk when the days since their last order exceed this
    /// factor times their average days between orders (default 2).
    pub churn_risk_factor: Decimal,
    /// Tiers that make a customer VIP (default: `vip`).
    pub vip_tiers: Vec<ValueTier>,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            lapsed_after_days: 120,
            churn_risk_factor: Decimal::TWO,
            vip_tiers: vec![ValueTier::Vip],
        }
    }
}

/// Suppression settings: windows after which a flag clears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuppressionConfig {
    /// Days a refund suppresses marketing (default 30).
    pub refund_days: u32,
    /// Days a cancelled or declined order suppresses marketing (default 30).
    pub cancellation_days: u32,
    /// Days an open case suppresses marketing, counted from when it opened (default 14).
    pub open_case_days: u32,
}

impl Default for SuppressionConfig {
    fn default() -> Self {
        Self {
            refund_days: 30,
            cancellation_days: 30,
            open_case_days: 14,
        }
    }
}

/// Abandoned-cart settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CartConfig {
    /// Minutes of inactivity after which a cart is abandoned (default 60).
    pub idle_minutes: u32,
}

impl Default for CartConfig {
    fn default() -> Self {
        Self { idle_minutes: 60 }
    }
}

/// All rule settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RulesConfig {
    /// Lifecycle.
    pub lifecycle: LifecycleConfig,
    /// Suppression.
    pub suppression: SuppressionConfig,
    /// Abandoned carts.
    pub cart: CartConfig,
}

/// Marketing suppression flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// A refund inside its window.
    pub recent_refund: bool,
    /// A cancelled or declined order inside its window.
    pub recent_cancellation: bool,
    /// An open case inside its window.
    pub open_case: bool,
    /// Any of the above: marketing sends stop.
    pub suppressed: bool,
    /// When the last active flag clears.
    pub until: Option<Timestamp>,
}

/// A cart the rules consider abandoned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonedCart {
    /// The cart id.
    pub cart_id: String,
    /// When it became abandoned (last activity + idle period).
    pub abandoned_at: Timestamp,
    /// Cart value.
    pub value: Money,
    /// Number of lines.
    pub item_count: u64,
    /// Link back to the cart.
    pub recovery_url: Option<String>,
}

/// The rules' verdict on a cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum CartVerdict {
    /// Abandoned: start recovery.
    Abandoned(AbandonedCart),
    /// Could become abandoned: look again at `due_at`.
    Pending {
        /// When the idle period ends.
        due_at: Timestamp,
    },
    /// Not a recovery candidate (any recovery in progress ends).
    Ended {
        /// Why.
        reason: CartEnd,
    },
}

/// Why a cart is not a recovery candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartEnd {
    /// No items.
    Empty,
    /// No known email.
    NoEmail,
    /// The cart became an order.
    Converted,
    /// An order was placed after the cart's last activity.
    OrderFollowed,
}

/// Everything the rules know about one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerStatus {
    /// Lifecycle stage.
    pub lifecycle: Lifecycle,
    /// Value tier.
    pub tier: Option<ValueTier>,
    /// RFM scores.
    pub rfm: Option<Rfm>,
    /// Suppression flags.
    pub suppression: Suppression,
    /// The person's abandoned cart, if any.
    pub abandoned_cart: Option<AbandonedCart>,
}

/// Inputs of [`evaluate`].
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The person's metrics (`None`: no orders at all).
    pub metrics: Option<&'a CustomerMetrics>,
    /// Value tier from [`Population::tier`](crate::metrics::Population::tier).
    pub tier: Option<ValueTier>,
    /// RFM from [`Population::rfm`](crate::metrics::Population::rfm).
    pub rfm: Option<Rfm>,
    /// When the person's most recent still-open case was opened.
    pub open_case_at: Option<Timestamp>,
    /// The person's most recent cart.
    pub cart: Option<&'a Cart>,
    /// The current time.
    pub now: Timestamp,
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

/// Lifecycle stage. Precedence: lead (no paid order), lapsed, churn risk, VIP, repeat,
/// customer.
pub fn lifecycle(
    config: &LifecycleConfig,
    metrics: Option<&CustomerMetrics>,
    tier: Option<ValueTier>,
    now: Timestamp,
) -> Lifecycle {
    let Some(m) = metrics.filter(|m| m.paid_order_count > 0) else {
        return Lifecycle::Lead;
    };
    if let Some(last) = m.last_order_at {
        if now - last >= days(config.lapsed_after_days) {
            return Lifecycle::Lapsed;
        }
        if let Some(gap) = m.average_days_between_orders {
            let since = i64::try_from((now - last).whole_milliseconds()).unwrap_or(i64::MAX);
            let since_ms = Decimal::from(since);
            let limit_ms = gap * config.churn_risk_factor * Decimal::from(86_400_000_i64);
            if m.paid_order_count >= 2 && since_ms > limit_ms {
                return Lifecycle::ChurnRisk;
            }
        }
    }
    if tier.is_some_and(|t| config.vip_tiers.contains(&t)) {
        Lifecycle::Vip
    } else if m.paid_order_count >= 2 {
        Lifecycle::Repeat
    } else {
        Lifecycle::Customer
    }
}

/// Suppression flags at `now`.
pub fn suppression(
    config: &SuppressionConfig,
    metrics: Option<&CustomerMetrics>,
    open_case_at: Option<Timestamp>,
    now: Timestamp,
) -> Suppression {
    let mut s = Suppression::default();
    let mut check = |at: Option<Timestamp>, window: u32| -> bool {
        let Some(at) = at else { return false };
        let end = at + days(window);
        let active = at <= now && now < end;
        if active {
            s.until = s.until.max(Some(end));
        }
        active
    };
    let refund = check(metrics.and_then(|m| m.last_refund_at), config.refund_days);
    let cancel = check(
        metrics.and_then(|m| m.last_cancelled_at),
        config.cancellation_days,
    );
    let case = check(open_case_at, config.open_case_days);
    s.recent_refund = refund;
    s.recent_cancellation = cancel;
    s.open_case = case;
    s.suppressed = refund || cancel || case;
    s
}

/// The verdict on a cart at `now`: abandoned when it has items and a known email, is not
/// converted, has been idle `idle_minutes` and no order followed its last activity.
pub fn abandoned_cart(
    config: &CartConfig,
    cart: &Cart,
    last_order_at: Option<Timestamp>,
    now: Timestamp,
) -> CartVerdict {
    let ended = |reason| CartVerdict::Ended { reason };
    if cart.state == CartState::Converted || cart.converted_order.is_some() {
        return ended(CartEnd::Converted);
    }
    if cart.items.is_empty() {
        return ended(CartEnd::Empty);
    }
    if cart.email.is_none() {
        return ended(CartEnd::NoEmail);
    }
    let activity = cart
        .updated_at
        .or(cart.created_at)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    if last_order_at.is_some_and(|o| o >= activity) {
        return ended(CartEnd::OrderFollowed);
    }
    let due = activity + Duration::minutes(i64::from(config.idle_minutes));
    if now < due {
        return CartVerdict::Pending { due_at: due };
    }
    CartVerdict::Abandoned(AbandonedCart {
        cart_id: cart.source.id.clone(),
        abandoned_at: due,
        value: cart.value,
        item_count: cart.items.len() as u64,
        recovery_url: cart.recovery_url.clone(),
    })
}

/// Lifecycle, suppression and abandoned cart for one person.
pub fn evaluate(config: &RulesConfig, facts: &Facts<'_>) -> CustomerStatus {
    let last_order = facts.metrics.and_then(|m| m.last_order_at);
    let abandoned_cart =
        facts.cart.and_then(
            |c| match abandoned_cart(&config.cart, c, last_order, facts.now) {
                CartVerdict::Abandoned(a) => Some(a),
                _ => None,
            },
        );
    CustomerStatus {
        abandoned_cart,
        lifecycle: lifecycle(&config.lifecycle, facts.metrics, facts.tier, facts.now),
        tier: facts.tier,
        rfm: facts.rfm,
        suppression: suppression(
            &config.suppression,
            facts.metrics,
            facts.open_case_at,
            facts.now,
        ),
    }
}
