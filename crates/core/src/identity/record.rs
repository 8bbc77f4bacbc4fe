//! The flat record identity resolution reads.

use cartograph_model::{Customer, RecordKind};
use serde::{Deserialize, Serialize};

/// One record to resolve: a shop customer, a guest order's billing person, a CRM contact.
///
/// Every field except `id` may be absent. `id` is the caller's key for the record and must be
/// unique within one batch; `source` + `source_id` name the record in its system (the
/// external id), used by the `same_external_id` rule and by cross-system links.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdentityRecord {
    /// Caller's key for this record.
    pub id: String,
    /// The system the record comes from (`bigcommerce`, `hubspot`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The record's id in `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Email as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
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
    /// First street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address1: Option<String>,
    /// Second street line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Postcode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
    /// Region or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Country: ISO alpha-2 code, alpha-3 code or a common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

impl IdentityRecord {
    /// A record with only its key; set the other (public) fields afterwards.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// Sets the source system and id (builder style).
    #[must_use]
    pub fn with_source(mut self, system: impl Into<String>, id: impl Into<String>) -> Self {
        self.source = Some(system.into());
        self.source_id = Some(id.into());
        self
    }

    /// Sets the email (builder style).
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone (builder style).
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }

    /// Sets first and last name (builder style).
    #[must_use]
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets street line, postcode and country (builder style).
    #[must_use]
    pub fn with_address(
        mut self,
        line1: impl Into<String>,
        postcode: impl Into<String>,
        country: impl Into<String>,
    ) -> Self {
        self.address1 = Some(line1.into());
        self.postcode = Some(postcode.into());
        self.country = Some(country.into());
        self
    }

    /// The record of a canonical customer. `id` is the customer's [`SourceRef`] as text
    /// (`system/kind/id`); the source is `system` and the source id is `kind/id` for guests
    /// built from orders or carts, else the id. Names fall back to the primary address.
    ///
    /// [`SourceRef`]: cartograph_model::SourceRef
    pub fn from_customer(customer: &Customer) -> Self {
        let address = customer.primary_address();
        let from_addr = |f: fn(&cartograph_model::Address) -> &Option<String>| {
            address.and_then(|a| f(a).clone())
        };
        let source_id = match customer.source.kind {
            RecordKind::Customer | RecordKind::Contact => customer.source.id.clone(),
            kind => format!("{}/{}", kind.as_str(), customer.source.id),
        };
        Self {
            id: customer.source.to_string(),
            source: Some(customer.source.system.clone()),
            source_id: Some(source_id),
            email: customer.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: customer.phone.clone().or_else(|| from_addr(|a| &a.phone)),
            first_name: customer
                .first_name
                .clone()
                .or_else(|| from_addr(|a| &a.first_name)),
            last_name: customer
                .last_name
                .clone()
                .or_else(|| from_addr(|a| &a.last_name)),
            company: customer
                .company
                .clone()
                .or_else(|| from_addr(|a| &a.company)),
            address1: from_addr(|a| &a.line1),
            address2: from_addr(|a| &a.line2),
            city: from_addr(|a| &a.city),
            postcode: from_addr(|a| &a.postcode),
            region: from_addr(|a| &a.region),
            country: from_addr(|a| &a.country_code).or_else(|| from_addr(|a| &a.country)),
            birth_date: customer.date_of_birth.map(|d| d.to_string()),
        }
    }
}

impl From<&Customer> for IdentityRecord {
    fn from(customer: &Customer) -> Self {
        Self::from_customer(customer)
    }
}
