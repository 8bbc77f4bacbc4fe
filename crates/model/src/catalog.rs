//! Products, variants, categories and brands.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::common::{Attributes, SourceRef};
use crate::money::Money;
use crate::timestamp::Timestamp;

/// Whether a product can be bought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// In stock or not tracked.
    #[default]
    Available,
    /// Out of stock.
    OutOfStock,
    /// Can be pre-ordered.
    Preorder,
    /// Not purchasable.
    Disabled,
}

/// A product variant (SKU).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// Variant id.
    pub id: String,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Price, when it differs from the product's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Units in stock, when tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<i64>,
    /// Option values (`Size` -> `M`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Where it comes from.
    pub source: SourceRef,
    /// Name.
    pub name: String,
    /// SKU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Description (may be HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Money>,
    /// Sale price, when on sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sale_price: Option<Money>,
    /// Category ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_ids: Vec<String>,
    /// Brand id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    /// Variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// Units in stock, when tracked at product level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<i64>,
    /// Availability.
    #[serde(default)]
    pub availability: Availability,
    /// Visible in the storefront.
    #[serde(default)]
    pub is_visible: bool,
    /// Product page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Main image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// When created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Custom attributes.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom: Attributes,
}

/// A catalog category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Where it comes from.
    pub source: SourceRef,
    /// Name.
    pub name: String,
    /// Parent category id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
}

/// A brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    /// Where it comes from.
    pub source: SourceRef,
    /// Name.
    pub name: String,
}
