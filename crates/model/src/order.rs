//! Orders, line items and refunds.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::common::{Address, Attributes, EmailAddress, SourceRef};
use crate::currency::Currency;
use crate::money::Money;
use crate::timestamp::Timestamp;

/// The canonical order status every vendor's statuses map into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Checkout started but never completed (BigCommerce status 0): not revenue.
    Incomplete,
    /// Placed, nothing else known yet.
    Pending,
    /// Waiting for payment.
    AwaitingPayment,
    /// Paid, waiting to be fulfilled.
    AwaitingFulfillment,
    /// Packed, waiting for the carrier.
    AwaitingShipment,
    /// Waiting for in-store pickup.
    AwaitingPickup,
    /// Held for manual verification.
    OnHold,
    /// Some items shipped.
    PartiallyShipped,
    /// Shipped.
    Shipped,
    /// Delivered to the customer.
    Delivered,
    /// Completed (fulfilled and closed).
    Completed,
    /// Cancelled.
    Cancelled,
    /// Payment declined.
    Declined,
    /// Partly refunded.
    PartiallyRefunded,
    /// Fully refunded.
    Refunded,
    /// Under payment dispute (chargeback).
    Disputed,
}

impl OrderStatus {
    /// Whether the order counts as revenue (placed and paid or on its way, not cancelled,
    /// declined or incomplete). Refunded amounts are subtracted separately.
    pub const fn is_revenue(self) -> bool {
        !matches!(
            self,
            Self::Incomplete | Self::Cancelled | Self::Declined | Self::AwaitingPayment
        )
    }

    /// Whether the order ended without revenue.
    pub const fn is_cancelled(self) -> bool {
        matches!(self, Self::Cancelled | Self::Declined)
    }

    /// Stable lowercase name (the serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::Pending => "pending",
            Self::AwaitingPayment => "awaiting_payment",
            Self::AwaitingFulfillment => "awaiting_fulfillment",
            Self::AwaitingShipment => "awaiting_shipment",
            Self::AwaitingPickup => "awaiting_pickup",
            Self::OnHold => "on_hold",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Declined => "declined",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Disputed => "disputed",
        }
    }
}

/// The vendor's own status, kept beside the canonical one (merchants relabel statuses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawStatus {
    /// Vendor status id (e.g. BigCommerce `status_id` as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Vendor label (possibly merchant-customized).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Payment state of an order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Not known.
    #[default]
    Unknown,
    /// Not yet paid.
    Pending,
    /// Authorized, not captured.
    Authorized,
    /// Paid.
    Paid,
    /// Partly refunded.
    PartiallyRefunded,
    /// Fully refunded.
    Refunded,
    /// Failed or declined.
    Failed,
    /// Voided.
    Voided,
}

/// Fulfilment state of an order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfillmentStatus {
    /// Not known.
    #[default]
    Unknown,
    /// Nothing shipped.
    Unfulfilled,
    /// Some items shipped.
    PartiallyFulfilled,
    /// Everything shipped.
    Fulfilled,
    /// Delivered.
    Delivered,
    /// Returned.
    Returned,
}

/// A coupon or discount code applied to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    /// The code.
    pub code: String,
    /// The discount it gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// One line of an order or cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    /// The line's id within its order or cart.
    pub id: String,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Variant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    /// Product name as sold.
    pub name: String,
    /// Quantity (exact; some platforms sell by weight).
    pub quantity: Decimal,
    /// Price of one unit, before order-level discounts.
    pub unit_price: Money,
    /// Line total (after line discounts).
    pub total: Money,
    /// Discount on this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
    /// Tax on this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    /// Category names (or ids when names are unknown), most specific last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Brand name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Product image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Product page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    /// Custom attributes (product options, line metafields).
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom: Attributes,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Where it comes from.
    pub source: SourceRef,
    /// The human-facing order number, when it differs from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// The customer account; `None` for guest orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<SourceRef>,
    /// The buyer's email (billing email for guests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Canonical status.
    pub status: OrderStatus,
    /// The vendor's status.
    #[serde(default)]
    pub raw_status: RawStatus,
    /// Payment state.
    #[serde(default)]
    pub payment_status: PaymentStatus,
    /// Fulfilment state.
    #[serde(default)]
    pub fulfillment_status: FulfillmentStatus,
    /// The currency actually charged (all amounts below are in it).
    pub currency: Currency,
    /// Sum of line items before order-level discounts, shipping and tax.
    pub subtotal: Money,
    /// Total discount.
    pub discount: Money,
    /// Total tax.
    pub tax: Money,
    /// Shipping and handling.
    pub shipping: Money,
    /// Grand total charged.
    pub total: Money,
    /// Coupons applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coupons: Vec<Coupon>,
    /// Billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping addresses (one per consignment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shipping_addresses: Vec<Address>,
    /// Sales channel or store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Line items.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// When the order was placed.
    pub created_at: Timestamp,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// When it was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<Timestamp>,
    /// When it shipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipped_at: Option<Timestamp>,
    /// Archived (soft-deleted) in the store.
    #[serde(default)]
    pub is_archived: bool,
    /// Custom attributes.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom: Attributes,
}

impl Order {
    /// Whether the order counts as revenue.
    pub fn is_revenue(&self) -> bool {
        !self.is_archived && self.status.is_revenue()
    }
}

/// One refunded line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundItem {
    /// The order line refunded, when the refund names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
    /// Quantity refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    /// Amount refunded for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// A refund of (part of) an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// Where it comes from.
    pub source: SourceRef,
    /// The refunded order.
    pub order: SourceRef,
    /// Total refunded.
    pub amount: Money,
    /// Lines refunded, when itemized.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<RefundItem>,
    /// The reason given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it happened.
    pub created_at: Timestamp,
}
