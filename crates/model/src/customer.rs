//! Shop customers and customer groups.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::common::{Address, Attributes, Consent, EmailAddress, SourceRef};
use crate::timestamp::Timestamp;

/// A shop customer, as the store knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Where the customer comes from.
    pub source: SourceRef,
    /// Email as given (normalized form available on the value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// Phone as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Date of birth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<Date>,
    /// Addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// Customer group (or segment) ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_group_ids: Vec<String>,
    /// Marketing consent.
    #[serde(default)]
    pub consent: Consent,
    /// Channel or store the customer belongs to (none = global).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Free tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whether this is a guest built from an order or cart rather than an account.
    #[serde(default)]
    pub is_guest: bool,
    /// When the customer was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// When the customer last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Custom attributes (metafields, form fields, attributes).
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom: Attributes,
}

impl Customer {
    /// A customer with only a source reference; fill the rest with struct update syntax.
    pub fn new(source: SourceRef) -> Self {
        Self {
            source,
            email: None,
            phone: None,
            first_name: None,
            last_name: None,
            company: None,
            date_of_birth: None,
            addresses: Vec::new(),
            customer_group_ids: Vec::new(),
            consent: Consent::default(),
            channel: None,
            tags: Vec::new(),
            is_guest: false,
            created_at: None,
            updated_at: None,
            custom: Attributes::new(),
        }
    }

    /// The first billing address, else the first address.
    pub fn primary_address(&self) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| a.kind == crate::common::AddressKind::Billing)
            .or_else(|| self.addresses.first())
    }
}

/// A customer group (BigCommerce) or segment (pricing / access group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerGroup {
    /// Where it comes from.
    pub source: SourceRef,
    /// Name.
    pub name: String,
    /// Whether new customers join it by default.
    #[serde(default)]
    pub is_default: bool,
}

/// A write of customer data back into a commerce platform (the CRM-to-store direction).
///
/// Only the fields that are `Some` are written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerWrite {
    /// Caller's key for matching the outcome to this input.
    pub key: String,
    /// The store's id when the customer exists (update); `None` creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Customer group to assign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_group_id: Option<String>,
    /// Email marketing consent to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_consent: Option<crate::common::ConsentState>,
    /// Custom attributes to set.
    #[serde(default, skip_serializing_if = "Attributes::is_empty")]
    pub custom: Attributes,
}
