//! v3 catalog (products, variants, categories, brands) and carts: JSON-number money.

use serde::{Deserialize, Serialize};

/// A v3 product.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `physical` or `digital`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// SKU.
    #[serde(default)]
    pub sku: String,
    /// Description (HTML).
    #[serde(default)]
    pub description: String,
    /// Price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<serde_json::Number>,
    /// Sale price (0 = not on sale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<serde_json::Number>,
    /// Category ids.
    #[serde(default)]
    pub categories: Vec<u64>,
    /// Brand (0 = none).
    #[serde(default)]
    pub brand_id: u64,
    /// Stock.
    #[serde(default)]
    pub inventory_level: i64,
    /// `none`, `product` or `variant`.
    #[serde(default)]
    pub inventory_tracking: String,
    /// `available`, `disabled` or `preorder`.
    #[serde(default)]
    pub availability: String,
    /// Visible in the storefront.
    #[serde(default)]
    pub is_visible: bool,
    /// Storefront URL path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_url: Option<CustomUrl>,
    /// Created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// Modified (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    /// Variants (`include=variants`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// Images (`include=images`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ProductImage>,
}

/// A storefront URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomUrl {
    /// Path, e.g. `/towel/`.
    #[serde(default)]
    pub url: String,
    /// Set by the merchant.
    #[serde(default)]
    pub is_customized: bool,
}

/// A product image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImage {
    /// Standard-size URL.
    #[serde(default)]
    pub url_standard: String,
    /// The main image.
    #[serde(default)]
    pub is_thumbnail: bool,
}

/// A product variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Id.
    pub id: u64,
    /// Product.
    #[serde(default)]
    pub product_id: u64,
    /// SKU.
    #[serde(default)]
    pub sku: String,
    /// Own price (`null` = the product's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<serde_json::Number>,
    /// Stock.
    #[serde(default)]
    pub inventory_level: i64,
    /// Option values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_values: Vec<OptionValue>,
}

/// A variant's option value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionValue {
    /// Option name (`Size`).
    #[serde(default)]
    pub option_display_name: String,
    /// Value (`M`).
    #[serde(default)]
    pub label: String,
}

/// A v3 product read with `include_fields=categories`: its id and category ids only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCategories {
    /// Id.
    pub id: u64,
    /// Category ids.
    #[serde(default)]
    pub categories: Vec<u64>,
}

/// A v3 category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Id.
    pub id: u64,
    /// Parent (0 = top level).
    #[serde(default)]
    pub parent_id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Visible.
    #[serde(default)]
    pub is_visible: bool,
}

/// A v3 brand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: String,
}

/// A v3 cart (`Cart_Full`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cart {
    /// UUID.
    pub id: String,
    /// Customer (0 = guest).
    #[serde(default)]
    pub customer_id: u64,
    /// Channel.
    #[serde(default)]
    pub channel_id: u64,
    /// Email, once the shopper gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Currency.
    #[serde(default)]
    pub currency: CartCurrency,
    /// Prices include tax.
    #[serde(default)]
    pub tax_included: bool,
    /// Sum of lines before cart-level discounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_amount: Option<serde_json::Number>,
    /// Cart-level discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<serde_json::Number>,
    /// Amount after discounts and coupons (tax included where applicable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_amount: Option<serde_json::Number>,
    /// Lines.
    #[serde(default)]
    pub line_items: CartLineItems,
    /// Created (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// Updated (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_time: Option<String>,
}

/// A cart's currency.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartCurrency {
    /// ISO 4217 code.
    #[serde(default)]
    pub code: String,
}

/// A cart's lines by type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CartLineItems {
    /// Physical items.
    #[serde(default)]
    pub physical_items: Vec<CartItem>,
    /// Digital items.
    #[serde(default)]
    pub digital_items: Vec<CartItem>,
    /// Custom items.
    #[serde(default)]
    pub custom_items: Vec<CartItem>,
}

/// A cart line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CartItem {
    /// Line id (UUID).
    pub id: String,
    /// Variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<u64>,
    /// Product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<u64>,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Product URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Quantity.
    #[serde(default)]
    pub quantity: u64,
    /// Image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Unit list price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price: Option<serde_json::Number>,
    /// Unit sale price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<serde_json::Number>,
    /// Line total at sale price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_sale_price: Option<serde_json::Number>,
    /// Line discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_amount: Option<serde_json::Number>,
}

/// `POST /v3/carts/{id}/redirect_urls` answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartRedirectUrls {
    /// Cart page.
    #[serde(default)]
    pub cart_url: String,
    /// Checkout page.
    #[serde(default)]
    pub checkout_url: String,
}
