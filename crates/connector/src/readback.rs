//! Reading order records back from a CRM: what revenue reconciliation compares with the
//! store, so it checks what the CRM holds rather than what the engine believes it wrote.
//!
//! ```
//! use cartograph_connector::CrmOrder;
//! use cartograph_model::{Currency, Money};
//!
//! let deal = CrmOrder::new("8001", "shop/order/7")
//!     .with_amount(Money::parse("12.50", Currency::EUR)?)
//!     .with_day(time::macros::date!(2026 - 03 - 01));
//! assert_eq!(deal.key, "shop/order/7");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use cartograph_model::Money;
use serde::{Deserialize, Serialize};
use time::Date;

/// One order record (deal, opportunity, ecommerce order) the integration wrote, as the CRM
/// holds it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrmOrder {
    /// The CRM's own record id.
    pub crm_id: String,
    /// The integration's order key as the CRM holds it in its unique order-id property: the
    /// full order key (`system/order/id`), or the store's bare order id where the CRM's
    /// mapping stores that (ActiveCampaign's `externalid`). Records without one were not
    /// written by the integration and are not read back.
    pub key: String,
    /// The amount with its currency, rounded to the currency's minor units; `None` when
    /// the record holds no readable amount or currency.
    pub amount: Option<Money>,
    /// The UTC day the revenue belongs to (close date, order date); `None` when the record
    /// holds no readable date.
    pub day: Option<Date>,
}

impl CrmOrder {
    /// A record with its CRM id and order key (no amount or day yet).
    pub fn new(crm_id: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            crm_id: crm_id.into(),
            key: key.into(),
            amount: None,
            day: None,
        }
    }

    /// Sets the amount (rounded to minor units).
    #[must_use]
    pub fn with_amount(mut self, amount: Money) -> Self {
        self.amount = Some(amount.round_to_minor());
        self
    }

    /// Sets the day.
    #[must_use]
    pub fn with_day(mut self, day: Date) -> Self {
        self.day = Some(day);
        self
    }
}
