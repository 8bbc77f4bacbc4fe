//! Building blocks shared by every record: references, emails, addresses, consent, custom
//! attributes.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::money::Money;
use crate::timestamp::Timestamp;

/// The kind of record a [`SourceRef`] points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A shop customer.
    Customer,
    /// An order.
    Order,
    /// A refund of (part of) an order.
    Refund,
    /// A cart.
    Cart,
    /// A product.
    Product,
    /// A product variant (SKU).
    Variant,
    /// A catalog category.
    Category,
    /// A brand.
    Brand,
    /// A customer group or segment.
    CustomerGroup,
    /// A CRM contact.
    Contact,
}

impl RecordKind {
    /// Stable lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Order => "order",
            Self::Refund => "refund",
            Self::Cart => "cart",
            Self::Product => "product",
            Self::Variant => "variant",
            Self::Category => "category",
            Self::Brand => "brand",
            Self::CustomerGroup => "customer_group",
            Self::Contact => "contact",
        }
    }
}

/// Where a record comes from: system, kind and the system's own id (always a string).
///
/// `system` names the connector instance, e.g. `"bigcommerce"` or `"bigcommerce:abc123"` when
/// a host syncs several stores.
///
/// ```
/// use cartograph_model::{RecordKind, SourceRef};
///
/// let r = SourceRef::new("bigcommerce", RecordKind::Order, "100");
/// assert_eq!(r.to_string(), "bigcommerce/order/100");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    /// The system (connector instance).
    pub system: String,
    /// The kind of record.
    pub kind: RecordKind,
    /// The system's id for the record.
    pub id: String,
}

impl SourceRef {
    /// A reference.
    pub fn new(system: impl Into<String>, kind: RecordKind, id: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.system, self.kind.as_str(), self.id)
    }
}

/// Whether a record or event is live or part of a historical backfill.
///
/// Historical records must never fire "new purchase" automations in a CRM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Happened now (webhook, delta sync).
    #[default]
    Live,
    /// Read during a backfill of history.
    Historical,
}

impl Origin {
    /// Whether this is a backfill record.
    pub const fn is_historical(self) -> bool {
        matches!(self, Self::Historical)
    }
}

/// An email address as the customer gave it, with its simple normalized form
/// (trimmed, lower-cased).
///
/// The original is what gets written to a CRM; the normalized form is the lookup key.
/// Richer match keys (IDNA, provider-aware canonical forms) live in `cartograph-core`.
///
/// ```
/// use cartograph_model::EmailAddress;
///
/// let e = EmailAddress::new(" Jane@Gmail.com ").unwrap();
/// assert_eq!(e.as_str(), "Jane@Gmail.com");
/// assert_eq!(e.normalized(), "jane@gmail.com");
/// assert!(EmailAddress::new("   ").is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress {
    original: String,
    normalized: String,
}

impl EmailAddress {
    /// Wraps an address; `None` when it is blank after trimming.
    pub fn new(raw: impl Into<String>) -> Option<Self> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        Some(Self {
            normalized: trimmed.to_lowercase(),
            original: trimmed.to_owned(),
        })
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Trimmed and lower-cased: the simple lookup key.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The part after the last `@`, lower-cased, if any.
    pub fn domain(&self) -> Option<&str> {
        self.normalized.rsplit_once('@').map(|(_, d)| d)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({:?})", self.original)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = &'static str;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        EmailAddress::new(value).ok_or("email address is blank")
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.original
    }
}

/// What an address is used for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// Billing address.
    Billing,
    /// Shipping address.
    Shipping,
    /// Residential / other.
    Other,
    /// Not stated.
    #[default]
    Unknown,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// What it is used for.
    #[serde(default)]
    pub kind: AddressKind,
    /// Recipient first name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Recipient last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// First street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Second street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, province or region name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-2 subdivision code, when known (e.g. `CA` for California).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 country code, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Country name as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Phone for this address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A marketing consent state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Opted in.
    Subscribed,
    /// Opted out.
    Unsubscribed,
    /// Double opt-in pending.
    Pending,
    /// Never asked or unknown.
    #[default]
    NotSet,
}

/// Consent for one channel: state, when it was given, and where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelConsent {
    /// The state.
    #[serde(default)]
    pub state: ConsentState,
    /// When it last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Where it was collected (checkout, form, import, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Marketing consent per channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Email marketing.
    #[serde(default)]
    pub email: ChannelConsent,
    /// SMS marketing.
    #[serde(default)]
    pub sms: ChannelConsent,
}

/// A typed custom attribute value (metafield, custom field, localized attribute).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AttributeValue {
    /// Text.
    String(String),
    /// An exact number.
    Number(Decimal),
    /// A boolean.
    Bool(bool),
    /// A calendar date.
    Date(Date),
    /// An instant.
    DateTime(Timestamp),
    /// An amount of money.
    Money(Money),
    /// One of a fixed set of keys.
    Enum(String),
    /// Text per language tag (`en`, `de-CH`, ...).
    Localized(BTreeMap<String, String>),
    /// Several values.
    List(Vec<AttributeValue>),
    /// Anything else, kept as JSON.
    Json(serde_json::Value),
}

impl AttributeValue {
    /// The value as text when it is text-like (string, enum key, number, bool).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Self::String(s) | Self::Enum(s) => Some(s.clone()),
            Self::Number(n) => Some(n.to_string()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Date(d) => Some(d.to_string()),
            Self::DateTime(t) => Some(t.to_rfc3339()),
            _ => None,
        }
    }

    /// Type name used in error messages.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Self::String(_) => "string",
            Self::Number(_) => "number",
            Self::Bool(_) => "bool",
            Self::Date(_) => "date",
            Self::DateTime(_) => "datetime",
            Self::Money(_) => "money",
            Self::Enum(_) => "enum",
            Self::Localized(_) => "localized",
            Self::List(_) => "list",
            Self::Json(_) => "json",
        }
    }
}

/// Custom attributes by name, in a stable order.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// Trims a string and drops it when blank: the rule for every optional text field read from a
/// vendor.
pub fn non_blank(value: Option<impl AsRef<str>>) -> Option<String> {
    value.and_then(|v| {
        let t = v.as_ref().trim();
        (!t.is_empty()).then(|| t.to_owned())
    })
}
