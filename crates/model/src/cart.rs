//! Carts, for abandoned-cart recovery.

use serde::{Deserialize, Serialize};

use crate::common::{EmailAddress, SourceRef};
use crate::money::Money;
use crate::order::LineItem;
use crate::timestamp::Timestamp;

/// Where a cart is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CartState {
    /// Being shopped.
    #[default]
    Active,
    /// Idle long enough to count as abandoned.
    Abandoned,
    /// Turned into an order.
    Converted,
}

/// A shopping cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    /// Where it comes from (cart ids are often UUIDs).
    pub source: SourceRef,
    /// The customer account; `None` for guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<SourceRef>,
    /// The shopper's email, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Items in the cart.
    #[serde(default)]
    pub items: Vec<LineItem>,
    /// Cart value (the currency is the cart's currency).
    pub value: Money,
    /// Lifecycle state.
    #[serde(default)]
    pub state: CartState,
    /// Link that brings the shopper back to this cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_url: Option<String>,
    /// Channel or store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// When the cart was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// When it was declared abandoned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_at: Option<Timestamp>,
    /// The order it became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_order: Option<SourceRef>,
}
