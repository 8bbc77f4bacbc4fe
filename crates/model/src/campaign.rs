//! Campaign figures: store revenue per day and campaign code, as a daily job writes them to
//! a CRM's campaign records.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::Money;

/// One day's revenue of one coupon code in one currency (see
/// `cartograph_core::campaign_revenue` for the rules that produce it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRevenue {
    /// The UTC day the orders were placed.
    pub day: Date,
    /// The coupon code, trimmed and upper case.
    pub code: String,
    /// Sum of the orders' totals, exact.
    pub revenue: Money,
    /// Number of orders counted.
    pub orders: u32,
}
