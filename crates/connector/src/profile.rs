//! [`CrmProfile`]: what the sync engine must know about a CRM to plan writes for it, owned
//! by the CRM's connector crate (its default mapping file, the mapping names per record
//! kind, the object orders become, the fields revenue reconciliation reads back, and how
//! contacts are keyed). The engine reads nothing vendor-specific from anywhere else, so a
//! new CRM is one crate with one profile.
//!
//! ```
//! use cartograph_connector::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
//! use cartograph_model::OrderObject;
//!
//! let profile = CrmProfile::new("examplecrm", "crm = \"examplecrm\"\n")
//!     .with_mappings(
//!         MappingNames::new("person", "sale")
//!             .with_line_items("sale_line")
//!             .with_products("article"),
//!     )
//!     .with_order_object(OrderObject::Order)
//!     .with_revenue_fields(RevenueFields::new("total", "sold_on", "currency"))
//!     .with_contact_keying(ContactKeying::ExternalId);
//! assert_eq!(profile.mappings.order, "sale");
//! assert!(!profile.contact_keying.merges_by_email());
//! ```

use std::borrow::Cow;

use cartograph_model::OrderObject;
use serde::{Deserialize, Serialize};

/// The mapping names inside a CRM's mapping file, one per record kind the engine writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingNames {
    /// Contact mapping (customer, metrics and status to contact properties).
    pub contact: String,
    /// Order mapping (order to deal, opportunity or commerce order).
    pub order: String,
    /// Line-item mapping; `None` sends no line items.
    #[serde(default)]
    pub line_item: Option<String>,
    /// Product mapping; `None` for CRMs without a product catalog (product events then
    /// write nothing).
    #[serde(default)]
    pub product: Option<String>,
}

impl MappingNames {
    /// Contact and order mapping names; no line items, no products.
    pub fn new(contact: impl Into<String>, order: impl Into<String>) -> Self {
        Self {
            contact: contact.into(),
            order: order.into(),
            line_item: None,
            product: None,
        }
    }

    /// Sets the product mapping name.
    #[must_use]
    pub fn with_products(mut self, name: impl Into<String>) -> Self {
        self.product = Some(name.into());
        self
    }

    /// Sets the line-item mapping name.
    #[must_use]
    pub fn with_line_items(mut self, name: impl Into<String>) -> Self {
        self.line_item = Some(name.into());
        self
    }
}

/// Which properties of a written order record hold its amount, its day and its currency:
/// what CRM-side revenue reconciliation reads back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueFields {
    /// Amount property.
    pub amount: String,
    /// Date or date-time property.
    pub date: String,
    /// Currency code property.
    pub currency: String,
    /// Whether the amount is written in the currency's minor units (cents), as
    /// ActiveCampaign's ecommerce orders are.
    #[serde(default)]
    pub minor_units: bool,
}

impl RevenueFields {
    /// The three property names.
    pub fn new(
        amount: impl Into<String>,
        date: impl Into<String>,
        currency: impl Into<String>,
    ) -> Self {
        Self {
            amount: amount.into(),
            date: date.into(),
            currency: currency.into(),
            minor_units: false,
        }
    }

    /// Marks the amount as written in minor units.
    #[must_use]
    pub fn in_minor_units(mut self) -> Self {
        self.minor_units = true;
        self
    }
}

/// How a CRM tells contacts apart, which decides whether two people sharing one mailbox can
/// be two contacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKeying {
    /// One contact per email address (HubSpot, ActiveCampaign): people who share a mailbox
    /// are merged into one contact upsert per batch.
    #[default]
    Email,
    /// By an external-id field the connector writes (e.g. a Salesforce External ID field):
    /// people sharing a mailbox stay separate contacts.
    ExternalId,
    /// By the CRM's own record id, remembered by the store after the first write.
    RecordId,
}

impl ContactKeying {
    /// Whether contact upserts of one batch are merged per normalized email.
    pub const fn merges_by_email(self) -> bool {
        matches!(self, Self::Email)
    }

    /// The name used in config files and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::ExternalId => "external_id",
            Self::RecordId => "record_id",
        }
    }
}

/// What the sync engine must know about one CRM. Each CRM connector crate exports its
/// profile (e.g. `cartograph_hubspot::profile()`), and its [`crate::CrmSink`] returns it from
/// [`crate::CrmSink::profile`] (reflecting the connector's config, such as an order-object
/// override), so the pipeline can check that engine and sink agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmProfile {
    /// The CRM's name: the key of stored CRM record ids and hashes (e.g. `hubspot`).
    pub name: Cow<'static, str>,
    /// The default mapping file (TOML, as read by `cartograph_core::mapping::MappingFile`).
    pub mapping_toml: Cow<'static, str>,
    /// Mapping names inside that file.
    pub mappings: MappingNames,
    /// The CRM object orders become.
    pub order_object: OrderObject,
    /// The order-record properties revenue reconciliation reads.
    pub revenue_fields: RevenueFields,
    /// How contacts are keyed.
    pub contact_keying: ContactKeying,
}

impl CrmProfile {
    /// A profile named `name` with its mapping file; mapping names `contact` and `order`
    /// (no line items, no products), orders as [`OrderObject::Order`], revenue read from
    /// `amount`/`date`/`currency`, contacts keyed by email. Adjust with the `with_*` methods.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        mapping_toml: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            name: name.into(),
            mapping_toml: mapping_toml.into(),
            mappings: MappingNames::new("contact", "order"),
            order_object: OrderObject::Order,
            revenue_fields: RevenueFields::new("amount", "date", "currency"),
            contact_keying: ContactKeying::Email,
        }
    }

    /// Sets the mapping names.
    #[must_use]
    pub fn with_mappings(mut self, mappings: MappingNames) -> Self {
        self.mappings = mappings;
        self
    }

    /// Sets the order object.
    #[must_use]
    pub fn with_order_object(mut self, object: OrderObject) -> Self {
        self.order_object = object;
        self
    }

    /// Sets the revenue fields.
    #[must_use]
    pub fn with_revenue_fields(mut self, fields: RevenueFields) -> Self {
        self.revenue_fields = fields;
        self
    }

    /// Sets the contact keying.
    #[must_use]
    pub fn with_contact_keying(mut self, keying: ContactKeying) -> Self {
        self.contact_keying = keying;
        self
    }

    /// Sets the mapping file.
    #[must_use]
    pub fn with_mapping_toml(mut self, toml: impl Into<Cow<'static, str>>) -> Self {
        self.mapping_toml = toml.into();
        self
    }
}
