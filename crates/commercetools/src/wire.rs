//! Serde types mirroring the commercetools HTTP API (vendor names kept, camelCase on the
//! wire). Only the fields Cartograph reads are declared; unknown fields are ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A `{limit, offset, count, total?, results[]}` query response.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PagedQueryResponse<T> {
    /// The limit used.
    #[serde(default)]
    pub limit: u32,
    /// Count of results on this page.
    #[serde(default)]
    pub count: u32,
    /// Results.
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
}

/// A localized string: language tag -> text.
pub type LocalizedString = BTreeMap<String, String>;

/// A `Reference` / `KeyReference` (`{typeId, id}` or `{typeId, key}`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    /// Referenced type (`customer`, `order`, `category`, ...).
    #[serde(default)]
    pub type_id: String,
    /// Id (references).
    #[serde(default)]
    pub id: Option<String>,
    /// Key (key references, e.g. `store`).
    #[serde(default)]
    pub key: Option<String>,
    /// Expanded object, when `expand` was used.
    #[serde(default)]
    pub obj: Option<Value>,
}

/// `TypedMoney`: `centPrecision` or `highPrecision`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TypedMoney {
    /// `centPrecision` or `highPrecision` (absent on plain `Money` inputs).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// ISO 4217 code.
    pub currency_code: String,
    /// Amount in the currency's minor units (rounded for high precision).
    pub cent_amount: i64,
    /// Fraction digits of `centAmount` (or of `preciseAmount` for high precision).
    #[serde(default)]
    pub fraction_digits: Option<u32>,
    /// High-precision amount in `fractionDigits` digits.
    #[serde(default)]
    pub precise_amount: Option<i64>,
}

/// `Address`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub street_name: Option<String>,
    #[serde(default)]
    pub street_number: Option<String>,
    #[serde(default)]
    pub additional_street_info: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 (required by the API).
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `CustomFields`: a custom type reference and its field values.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CustomFields {
    /// The custom type.
    #[serde(default, rename = "type")]
    pub kind: Option<Reference>,
    /// Field name -> JSON value (typed by the custom type).
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
}

/// `LastModifiedBy` / `CreatedBy` (client logging).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientLogging {
    /// The API client that made the change.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// `Customer`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub customer_number: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub date_of_birth: Option<String>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub default_shipping_address_id: Option<String>,
    #[serde(default)]
    pub default_billing_address_id: Option<String>,
    #[serde(default)]
    pub billing_address_ids: Vec<String>,
    #[serde(default)]
    pub shipping_address_ids: Vec<String>,
    #[serde(default)]
    pub is_email_verified: bool,
    #[serde(default)]
    pub customer_group: Option<Reference>,
    #[serde(default)]
    pub custom: Option<CustomFields>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub stores: Vec<Reference>,
    /// `Password` or `ExternalAuth`.
    #[serde(default)]
    pub authentication_mode: Option<String>,
    pub created_at: String,
    pub last_modified_at: String,
    #[serde(default)]
    pub last_modified_by: Option<ClientLogging>,
}

/// `CustomerGroup`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerGroup {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub key: Option<String>,
    pub name: String,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}

/// `Price` of a variant.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    #[serde(default)]
    pub id: Option<String>,
    pub value: TypedMoney,
    #[serde(default)]
    pub discounted: Option<DiscountedPrice>,
}

/// `DiscountedPrice`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DiscountedPrice {
    pub value: TypedMoney,
}

/// A product `Attribute` (`{name, value}`; value typed by the product type).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Attribute {
    pub name: String,
    #[serde(default)]
    pub value: Value,
}

/// `Image`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Image {
    pub url: String,
}

/// `ProductVariant`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductVariant {
    pub id: i64,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub prices: Vec<Price>,
    /// The price selected by price selection (when queried with `priceCurrency`).
    #[serde(default)]
    pub price: Option<Price>,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
    #[serde(default)]
    pub images: Vec<Image>,
    #[serde(default)]
    pub availability: Option<Availability>,
}

/// `ProductVariantAvailability`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    #[serde(default)]
    pub is_on_stock: Option<bool>,
    #[serde(default)]
    pub available_quantity: Option<i64>,
}

/// `ProductProjection` (current projection).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductProjection {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub description: Option<LocalizedString>,
    #[serde(default)]
    pub slug: Option<LocalizedString>,
    #[serde(default)]
    pub categories: Vec<Reference>,
    #[serde(default)]
    pub master_variant: Option<ProductVariant>,
    #[serde(default)]
    pub variants: Vec<ProductVariant>,
    #[serde(default)]
    pub published: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}

/// `Category`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub parent: Option<Reference>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}

/// `TaxedPrice` / `TaxedItemPrice`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxedPrice {
    pub total_net: TypedMoney,
    pub total_gross: TypedMoney,
    #[serde(default)]
    pub total_tax: Option<TypedMoney>,
}

/// `DiscountOnTotalPrice`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountOnTotalPrice {
    pub discounted_amount: TypedMoney,
}

/// `DiscountedLineItemPriceForQuantity` (only its amount is read).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedPricePerQuantity {
    pub quantity: i64,
    pub discounted_price: DiscountedLineItemPrice,
}

/// `DiscountedLineItemPrice`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountedLineItemPrice {
    pub value: TypedMoney,
}

/// `LineItem` (of a cart or order).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub id: String,
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub product_key: Option<String>,
    #[serde(default)]
    pub name: LocalizedString,
    #[serde(default)]
    pub variant: Option<ProductVariant>,
    pub price: Price,
    pub quantity: i64,
    pub total_price: TypedMoney,
    #[serde(default)]
    pub taxed_price: Option<TaxedPrice>,
    #[serde(default)]
    pub discounted_price_per_quantity: Vec<DiscountedPricePerQuantity>,
    #[serde(default)]
    pub custom: Option<CustomFields>,
}

/// `ShippingInfo`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingInfo {
    #[serde(default)]
    pub shipping_method_name: Option<String>,
    pub price: TypedMoney,
}

/// `DiscountCodeInfo`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscountCodeInfo {
    pub discount_code: Reference,
    #[serde(default)]
    pub state: Option<String>,
}

/// `PaymentInfo` of an order.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PaymentInfo {
    #[serde(default)]
    pub payments: Vec<Reference>,
}

/// `Order`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub order_number: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    pub total_price: TypedMoney,
    #[serde(default)]
    pub taxed_price: Option<TaxedPrice>,
    #[serde(default)]
    pub discount_on_total_price: Option<DiscountOnTotalPrice>,
    #[serde(default)]
    pub shipping_info: Option<ShippingInfo>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[serde(default)]
    pub discount_codes: Vec<DiscountCodeInfo>,
    /// `Open`, `Confirmed`, `Complete`, `Cancelled`.
    pub order_state: String,
    #[serde(default)]
    pub payment_state: Option<String>,
    #[serde(default)]
    pub shipment_state: Option<String>,
    #[serde(default)]
    pub return_info: Vec<Value>,
    #[serde(default)]
    pub payment_info: Option<PaymentInfo>,
    #[serde(default)]
    pub cart: Option<Reference>,
    #[serde(default)]
    pub store: Option<Reference>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub custom: Option<CustomFields>,
    #[serde(default)]
    pub completed_at: Option<String>,
    pub created_at: String,
    pub last_modified_at: String,
    #[serde(default)]
    pub last_modified_by: Option<ClientLogging>,
}

/// `Cart`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub anonymous_id: Option<String>,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    pub total_price: TypedMoney,
    /// `Active`, `Merged`, `Ordered`, `Frozen`.
    pub cart_state: String,
    #[serde(default)]
    pub store: Option<Reference>,
    pub created_at: String,
    pub last_modified_at: String,
}

/// `Transaction` of a payment.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: String,
    #[serde(default)]
    pub timestamp: Option<String>,
    /// `Authorization`, `CancelAuthorization`, `Charge`, `Refund`, `Chargeback`.
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: TypedMoney,
    #[serde(default)]
    pub interaction_id: Option<String>,
    /// `Initial`, `Pending`, `Success`, `Failure`.
    #[serde(default)]
    pub state: Option<String>,
}

/// `Payment`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub id: String,
    pub version: i64,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub customer: Option<Reference>,
    pub amount_planned: TypedMoney,
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_modified_at: Option<String>,
}

/// A `Message` of the Messages API (the typed rest kept as JSON for
/// [`crate::webhook::notifications`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub last_modified_at: String,
    #[serde(default)]
    pub sequence_number: Option<i64>,
    #[serde(default)]
    pub resource_version: Option<i64>,
    #[serde(default)]
    pub resource: Option<Reference>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}
