//! Serde types that mirror the BigCommerce API (v2 and v3), vendor field names kept.
//!
//! Every type both serializes and deserializes so the simulator answers with the very
//! shapes the client reads. Unknown fields are ignored; missing optional fields default.

mod catalog;
mod decimal;
mod order;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use catalog::{
    Brand, Cart, CartCurrency, CartItem, CartLineItems, CartRedirectUrls, Category, CustomUrl,
    OptionValue, Product, ProductCategories, ProductImage, Variant,
};
pub use decimal::DecimalString;
pub use order::{
    AppliedDiscount, BillingAddress, Order, OrderCoupon, OrderProduct, OrderProductOption,
    OrderShippingAddress, OrderStatus, Refund, RefundItem, RefundPayment, ResourceLink,
};

/// A v3 collection: `{ data: [...], meta: {...} }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    /// The records.
    pub data: Vec<T>,
    /// Paging information.
    #[serde(default)]
    pub meta: Meta,
}

/// A v3 single-record answer: `{ data: {...} }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Single<T> {
    /// The record.
    pub data: T,
    /// Metadata (usually empty).
    #[serde(default)]
    pub meta: serde_json::Value,
}

/// v3 `meta`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Offset paging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Cursor paging (customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_pagination: Option<CursorPagination>,
}

/// v3 `meta.pagination`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    /// Total records.
    #[serde(default)]
    pub total: u64,
    /// Records on this page.
    #[serde(default)]
    pub count: u64,
    /// Page size.
    #[serde(default)]
    pub per_page: u64,
    /// This page (1-based).
    #[serde(default)]
    pub current_page: u64,
    /// Number of pages.
    #[serde(default)]
    pub total_pages: u64,
    /// Links (query strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<PageLinks>,
}

/// v3 paging links.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageLinks {
    /// Previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// This page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// v3 `meta.cursor_pagination`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPagination {
    /// Records on this page.
    #[serde(default)]
    pub count: u64,
    /// Page size.
    #[serde(default)]
    pub per_page: u64,
    /// Cursor of the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_cursor: Option<String>,
    /// Cursor of the last record (pass as `after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_cursor: Option<String>,
    /// Links; `next` only when there is more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<PageLinks>,
}

/// A v3 customer (`customer_Full`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Id.
    pub id: u64,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// First name.
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    #[serde(default)]
    pub last_name: String,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Merchant notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Tax-exempt category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_exempt_category: Option<String>,
    /// Customer group (0 = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group_id: Option<u64>,
    /// Created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// Modified (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    /// Addresses (`include=addresses`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<CustomerAddress>,
    /// Attribute values (`include=attributes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<CustomerAttributeValue>,
    /// Form field values (`include=formfields`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form_fields: Vec<FormFieldValue>,
    /// Opt-in for product review and abandoned cart emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts_product_review_abandoned_cart_emails: Option<bool>,
    /// Channel the customer was created in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_channel_id: Option<u64>,
    /// Channels the customer may log into (`None` = global).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_ids: Option<Vec<u64>>,
    /// Shopper profile (`include=shopper_profile_id`, beta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopper_profile_id: Option<String>,
    /// Segments (`include=segment_ids`, beta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_ids: Option<Vec<String>>,
}

/// A v3 customer address (`address_Full`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAddress {
    /// Id.
    #[serde(default)]
    pub id: u64,
    /// Owner.
    #[serde(default)]
    pub customer_id: u64,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Street line 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    /// Street line 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_province: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `residential` or `commercial`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_type: Option<String>,
}

/// A customer attribute value (`attribute_Full`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAttributeValue {
    /// Value id.
    #[serde(default)]
    pub id: u64,
    /// The attribute's id (names live at `/v3/customers/attributes`).
    #[serde(default)]
    pub attribute_id: u64,
    /// The value, always text.
    #[serde(default)]
    pub attribute_value: String,
    /// Owner.
    #[serde(default)]
    pub customer_id: u64,
}

/// A form field value: `value` is text or a list of texts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormFieldValue {
    /// Field name.
    pub name: String,
    /// Value.
    pub value: serde_json::Value,
}

/// Body item of `POST /v3/customers` and `PUT /v3/customers`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInput {
    /// Id (PUT only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Email (required on POST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// First name (required on POST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name (required on POST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Customer group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group_id: Option<u64>,
    /// Opt-in for abandoned cart emails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts_product_review_abandoned_cart_emails: Option<bool>,
}

/// A v2 customer group.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGroup {
    /// Id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// New customers join it.
    #[serde(default)]
    pub is_default: bool,
    /// The guests' group.
    #[serde(default)]
    pub is_group_for_guests: bool,
}

/// A shopper profile (segments, beta).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopperProfile {
    /// UUID.
    pub id: String,
    /// The customer.
    #[serde(default)]
    pub customer_id: u64,
    /// Created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// A webhook subscription (`/v3/hooks`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hook {
    /// Id.
    pub id: u64,
    /// The API account that owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Store hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_hash: Option<String>,
    /// Scope, e.g. `store/order/*`.
    pub scope: String,
    /// HTTPS destination.
    pub destination: String,
    /// Custom headers sent with every delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// False once deactivated after failed retries.
    #[serde(default)]
    pub is_active: bool,
    /// Created (unix seconds).
    #[serde(default)]
    pub created_at: i64,
    /// Updated (unix seconds).
    #[serde(default)]
    pub updated_at: i64,
}

/// Body of `POST /v3/hooks` and `PUT /v3/hooks/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookInput {
    /// Scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Active flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Custom headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

/// A thin webhook payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookPayload {
    /// Scope, e.g. `store/order/statusUpdated`.
    pub scope: String,
    /// Store id (a string of digits).
    #[serde(default)]
    pub store_id: String,
    /// What the event is about.
    pub data: WebhookData,
    /// Delivery hash: identical across redeliveries (the dedupe key).
    pub hash: String,
    /// Unix seconds.
    pub created_at: i64,
    /// `stores/{store_hash}`.
    #[serde(default)]
    pub producer: String,
}

/// `data` of a webhook payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookData {
    /// `order`, `customer`, `product`, `sku`, `cart`, `cart_line_item`, `subscriber`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Integer (orders, products, customers) or UUID string (carts).
    pub id: serde_json::Value,
    /// `store/order/statusUpdated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WebhookStatus>,
    /// `store/order/refund/created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<WebhookRefund>,
    /// `store/cart/converted`.
    #[serde(rename = "orderId", default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<serde_json::Value>,
    /// `store/cart/abandoned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `store/cart/lineItem/*`.
    #[serde(rename = "cartId", default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<String>,
    /// `store/customer/address/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<WebhookOwner>,
    /// `store/sku/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<WebhookOwner>,
    /// `store/*/inventory/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<WebhookOwner>,
}

/// `data.status` of `store/order/statusUpdated`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookStatus {
    /// Before.
    pub previous_status_id: u32,
    /// After.
    pub new_status_id: u32,
}

/// `data.refund` of `store/order/refund/created`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRefund {
    /// The refund id.
    pub refund_id: u64,
}

/// The owning record of a sub-resource event (address, SKU, inventory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookOwner {
    /// Customer (addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<u64>,
    /// Product (SKUs, inventory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
    /// Variant (SKUs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<u64>,
}

/// A v3 error body: `{status, title, type, errors}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct V3Error {
    /// HTTP status.
    #[serde(default)]
    pub status: u16,
    /// Summary.
    #[serde(default)]
    pub title: String,
    /// Documentation link.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Detail, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors (`{"email": "..."}`), or a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Value>,
}

/// One entry of a v2 error body: `[{status, message}]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct V2Error {
    /// HTTP status.
    #[serde(default)]
    pub status: u16,
    /// Message.
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests;
