//! Mapping files as data: serde types loadable from TOML or JSON, and overrides.

use std::collections::BTreeMap;

use cartograph_model::{CrmObjectType, PropertyDefinition};
use serde::{Deserialize, Serialize};

use super::error::LoadError;

/// The record a mapping is about; it names the record in errors and decides which path
/// roots the mapping may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A person: roots `customer`, `metrics`, `status`, `cart`.
    Customer,
    /// An order: roots `order`, `customer`, `metrics`, `status`, `refund`.
    Order,
    /// One order line: roots `line_item`, `order`.
    LineItem,
    /// A product: root `product`.
    Product,
    /// A cart: roots `cart`, `customer`, `metrics`, `status`.
    Cart,
    /// A refund: roots `refund`, `order`, `customer`.
    Refund,
}

impl Subject {
    /// The subject's name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Order => "order",
            Self::LineItem => "line_item",
            Self::Product => "product",
            Self::Cart => "cart",
            Self::Refund => "refund",
        }
    }

    /// The path roots a mapping of this subject may read.
    pub const fn roots(self) -> &'static [&'static str] {
        match self {
            Self::Customer => &["customer", "metrics", "status", "cart"],
            Self::Order => &["order", "customer", "metrics", "status", "refund"],
            Self::LineItem => &["line_item", "order"],
            Self::Product => &["product"],
            Self::Cart => &["cart", "customer", "metrics", "status"],
            Self::Refund => &["refund", "order", "customer"],
        }
    }
}

/// What to do when a field's value is missing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnNull {
    /// Leave the property out of the write (default).
    #[default]
    Skip,
    /// Write an explicit clear.
    Clear,
}

/// One target property and the expression that fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The CRM property name.
    pub target: String,
    /// The expression (see `docs/mapping.md`).
    pub source: String,
    /// Only write when this boolean expression holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// A missing value is a per-record error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// What a missing value does.
    #[serde(default)]
    pub on_null: OnNull,
}

/// One mapping: a subject record to one CRM object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// Unique name in the file (`contact`, `deal`, ...).
    pub name: String,
    /// The CRM object written.
    pub object: CrmObjectType,
    /// The record read.
    pub subject: Subject,
    /// Fields.
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    /// In an override: targets to drop from the default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// A property definition plus whether the CRM already has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetProperty {
    /// The definition.
    #[serde(flatten)]
    pub definition: PropertyDefinition,
    /// A built-in CRM property (`true`) or one the integration must create.
    #[serde(default)]
    pub standard: bool,
}

/// A mapping file: the mappings for one CRM, the property definitions they write, value
/// maps and the language fallback chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// The CRM (`hubspot`, `salesforce`, `activecampaign`).
    pub crm: String,
    /// Language fallback chain for `localized` (e.g. `["de-CH", "de", "en"]`).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Named value maps (`"*"` is the fallback entry).
    #[serde(default)]
    pub maps: BTreeMap<String, BTreeMap<String, String>>,
    /// Target property definitions.
    #[serde(default)]
    pub properties: Vec<TargetProperty>,
    /// Mappings.
    #[serde(default)]
    pub mappings: Vec<MappingSpec>,
}

impl MappingFile {
    /// Reads a TOML mapping file.
    pub fn from_toml(text: &str) -> Result<Self, LoadError> {
        toml::from_str(text).map_err(|e| LoadError {
            format: "TOML",
            message: e.to_string(),
        })
    }

    /// Reads a JSON mapping file.
    pub fn from_json(text: &str) -> Result<Self, LoadError> {
        serde_json::from_str(text).map_err(|e| LoadError {
            format: "JSON",
            message: e.to_string(),
        })
    }

    /// The mapping named `name`.
    pub fn mapping(&self, name: &str) -> Option<&MappingSpec> {
        self.mappings.iter().find(|m| m.name == name)
    }

    /// The properties the integration must create in the CRM (not standard ones).
    pub fn custom_properties(&self) -> impl Iterator<Item = &PropertyDefinition> {
        self.properties
            .iter()
            .filter(|p| !p.standard)
            .map(|p| &p.definition)
    }

    /// Applies a merchant's overrides: languages replace when given; value maps replace by
    /// name; properties replace by object and name or are added; mappings merge by name
    /// (fields replace by target or are added, `remove` drops targets) or are added.
    pub fn merge(&mut self, overrides: MappingFile) {
        if !overrides.languages.is_empty() {
            self.languages = overrides.languages;
        }
        self.maps.extend(overrides.maps);
        for p in overrides.properties {
            let same = |q: &TargetProperty| {
                q.definition.object == p.definition.object && q.definition.name == p.definition.name
            };
            match self.properties.iter_mut().find(|q| same(q)) {
                Some(q) => *q = p,
                None => self.properties.push(p),
            }
        }
        for o in overrides.mappings {
            let Some(m) = self.mappings.iter_mut().find(|m| m.name == o.name) else {
                let mut o = o;
                o.remove.clear();
                self.mappings.push(o);
                continue;
            };
            m.object = o.object;
            m.subject = o.subject;
            m.fields.retain(|f| !o.remove.contains(&f.target));
            for f in o.fields {
                match m.fields.iter_mut().find(|g| g.target == f.target) {
                    Some(g) => *g = f,
                    None => m.fields.push(f),
                }
            }
        }
    }
}
