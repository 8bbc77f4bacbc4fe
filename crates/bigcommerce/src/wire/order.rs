//! v2 orders (decimal strings, RFC 2822 dates) and v3 refunds.

use serde::{Deserialize, Serialize};

use super::DecimalString;

/// A link to an order sub-resource (`products`, `shipping_addresses`, `coupons`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceLink {
    /// Absolute URL.
    #[serde(default)]
    pub url: String,
    /// Path under `/v2`, e.g. `/orders/100/products`.
    #[serde(default)]
    pub resource: String,
}

/// A v2 order (`order_Shared` + `order_RespOnly`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Id.
    pub id: u64,
    /// Customer account (0 = guest).
    #[serde(default)]
    pub customer_id: u64,
    /// Created, RFC 2822.
    #[serde(default)]
    pub date_created: String,
    /// Modified, RFC 2822.
    #[serde(default)]
    pub date_modified: String,
    /// Shipped, RFC 2822 or empty.
    #[serde(default)]
    pub date_shipped: String,
    /// Status id (0..=14).
    #[serde(default)]
    pub status_id: u32,
    /// Status label (merchants can relabel).
    #[serde(default)]
    pub status: String,
    /// Subtotal excluding tax.
    #[serde(default)]
    pub subtotal_ex_tax: DecimalString,
    /// Subtotal including tax.
    #[serde(default)]
    pub subtotal_inc_tax: DecimalString,
    /// Tax on the subtotal.
    #[serde(default)]
    pub subtotal_tax: DecimalString,
    /// Shipping excluding tax.
    #[serde(default)]
    pub shipping_cost_ex_tax: DecimalString,
    /// Shipping including tax.
    #[serde(default)]
    pub shipping_cost_inc_tax: DecimalString,
    /// Handling excluding tax.
    #[serde(default)]
    pub handling_cost_ex_tax: DecimalString,
    /// Handling including tax.
    #[serde(default)]
    pub handling_cost_inc_tax: DecimalString,
    /// Wrapping excluding tax.
    #[serde(default)]
    pub wrapping_cost_ex_tax: DecimalString,
    /// Total excluding tax.
    #[serde(default)]
    pub total_ex_tax: DecimalString,
    /// Total including tax (what was charged).
    #[serde(default)]
    pub total_inc_tax: DecimalString,
    /// Total tax.
    #[serde(default)]
    pub total_tax: DecimalString,
    /// Order-level discount.
    #[serde(default)]
    pub discount_amount: DecimalString,
    /// Coupon discount.
    #[serde(default)]
    pub coupon_discount: DecimalString,
    /// Always `0.0000`: refunds live in v3 `payment_actions/refunds`.
    #[serde(default)]
    pub refunded_amount: DecimalString,
    /// Number of items.
    #[serde(default)]
    pub items_total: u64,
    /// Number of items shipped.
    #[serde(default)]
    pub items_shipped: u64,
    /// Payment method label.
    #[serde(default)]
    pub payment_method: String,
    /// Payment status (`captured`, `authorized`, `refunded`, ...).
    #[serde(default)]
    pub payment_status: String,
    /// Display currency shown to the shopper.
    #[serde(default)]
    pub currency_code: String,
    /// Transactional currency actually charged.
    #[serde(default)]
    pub default_currency_code: String,
    /// Display-to-transactional rate.
    #[serde(default)]
    pub currency_exchange_rate: DecimalString,
    /// Archived.
    #[serde(default)]
    pub is_deleted: bool,
    /// Newsletter opt-in at checkout.
    #[serde(default)]
    pub is_email_opt_in: bool,
    /// Sales channel.
    #[serde(default)]
    pub channel_id: u64,
    /// The cart it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
    /// `www`, `manual`, `external`, ...
    #[serde(default)]
    pub order_source: String,
    /// External id (marketplaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Shopper's message.
    #[serde(default)]
    pub customer_message: String,
    /// Billing address (with the buyer's email).
    #[serde(default)]
    pub billing_address: BillingAddress,
    /// Link to the products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<ResourceLink>,
    /// Link to the shipping addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_addresses: Option<ResourceLink>,
    /// Link to the coupons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupons: Option<ResourceLink>,
}

/// A v2 billing address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingAddress {
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Company.
    #[serde(default)]
    pub company: String,
    /// Street 1.
    #[serde(default)]
    pub street_1: String,
    /// Street 2.
    #[serde(default)]
    pub street_2: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State name.
    #[serde(default)]
    pub state: String,
    /// Postal code.
    #[serde(default)]
    pub zip: String,
    /// Country name.
    #[serde(default)]
    pub country: String,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country_iso2: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// Email.
    #[serde(default)]
    pub email: String,
}

/// A v2 order shipping address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderShippingAddress {
    /// Id.
    #[serde(default)]
    pub id: u64,
    /// Order.
    #[serde(default)]
    pub order_id: u64,
    /// The address fields.
    #[serde(flatten)]
    pub address: BillingAddress,
    /// Shipping method label.
    #[serde(default)]
    pub shipping_method: String,
}

/// A v2 order line (`orderProducts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderProduct {
    /// Line id.
    pub id: u64,
    /// Order.
    #[serde(default)]
    pub order_id: u64,
    /// Catalog product (0 for custom products).
    #[serde(default)]
    pub product_id: u64,
    /// Variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<u64>,
    /// Name as sold.
    #[serde(default)]
    pub name: String,
    /// SKU.
    #[serde(default)]
    pub sku: String,
    /// `physical` or `digital`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Catalog price.
    #[serde(default)]
    pub base_price: DecimalString,
    /// Unit price excluding tax.
    #[serde(default)]
    pub price_ex_tax: DecimalString,
    /// Unit price including tax.
    #[serde(default)]
    pub price_inc_tax: DecimalString,
    /// Line total excluding tax.
    #[serde(default)]
    pub total_ex_tax: DecimalString,
    /// Line total including tax.
    #[serde(default)]
    pub total_inc_tax: DecimalString,
    /// Line tax.
    #[serde(default)]
    pub total_tax: DecimalString,
    /// Quantity.
    #[serde(default)]
    pub quantity: u64,
    /// Refunded quantity.
    #[serde(default)]
    pub quantity_refunded: u64,
    /// Discounts applied to this line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_discounts: Vec<AppliedDiscount>,
    /// Chosen options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub product_options: Vec<OrderProductOption>,
}

/// A discount applied to an order line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    /// Discount id (text or number).
    #[serde(default)]
    pub id: serde_json::Value,
    /// Amount.
    #[serde(default)]
    pub amount: DecimalString,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Coupon code, when a coupon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// An option chosen on an order line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderProductOption {
    /// Option name.
    #[serde(default)]
    pub display_name: String,
    /// Chosen value.
    #[serde(default)]
    pub display_value: String,
}

/// A coupon used on an order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCoupon {
    /// Id.
    #[serde(default)]
    pub id: u64,
    /// Coupon.
    #[serde(default)]
    pub coupon_id: u64,
    /// Order.
    #[serde(default)]
    pub order_id: u64,
    /// Code.
    #[serde(default)]
    pub code: String,
    /// The coupon's configured amount (percent or money, by `type`).
    #[serde(default)]
    pub amount: DecimalString,
    /// Coupon type.
    #[serde(rename = "type", default)]
    pub kind: i64,
    /// The discount it gave on this order.
    #[serde(default)]
    pub discount: DecimalString,
}

/// A v2 order status (`GET /v2/order_statuses`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatus {
    /// Id.
    pub id: u32,
    /// Label.
    #[serde(default)]
    pub name: String,
    /// Built-in label.
    #[serde(default)]
    pub system_label: String,
    /// Merchant label.
    #[serde(default)]
    pub custom_label: String,
}

/// A v3 refund (`Refund`). Amounts are JSON numbers in the order's transactional currency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    /// Id.
    pub id: u64,
    /// Order.
    pub order_id: u64,
    /// Staff user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    /// Created (RFC 3339).
    #[serde(default)]
    pub created: String,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Total refunded.
    pub total_amount: serde_json::Number,
    /// Tax refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<serde_json::Number>,
    /// Merchant overrode the calculated amounts.
    #[serde(default)]
    pub uses_merchant_override_values: bool,
    /// Items.
    #[serde(default)]
    pub items: Vec<RefundItem>,
    /// Payments.
    #[serde(default)]
    pub payments: Vec<RefundPayment>,
}

/// A refunded item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundItem {
    /// `PRODUCT`, `SHIPPING`, `HANDLING`, `ORDER`, `GIFT_WRAPPING`, `FEE`.
    pub item_type: String,
    /// Order product id (for `PRODUCT`).
    #[serde(default)]
    pub item_id: u64,
    /// Reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u64>,
    /// Amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_amount: Option<serde_json::Number>,
}

/// A refund payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefundPayment {
    /// Id.
    #[serde(default)]
    pub id: u64,
    /// Provider.
    #[serde(default)]
    pub provider_id: String,
    /// Amount.
    pub amount: serde_json::Number,
    /// Offline refund.
    #[serde(default)]
    pub offline: bool,
    /// Declined by the provider.
    #[serde(default)]
    pub is_declined: bool,
}
