//! The Salesforce [`CrmProfile`]: what the sync engine needs to plan writes for Salesforce.

use cartograph_connector::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
use cartograph_model::OrderObject;

/// The profile name, also the key of stored Salesforce record ids.
pub const PROFILE_NAME: &str = "salesforce";

/// The default mapping file (`crates/salesforce/mappings/salesforce.toml`).
pub const DEFAULT_MAPPING: &str = include_str!("../mappings/salesforce.toml");

/// Salesforce's profile: mappings `contact` and `opportunity`; orders become opportunities;
/// revenue is read from `Ecom_Order_Total__c` (the store total: `Amount` becomes the sum of
/// the line items once an Opportunity has products), `CloseDate`, `Ecom_Currency__c`; contacts are keyed by the
/// connector's External ID field, so two people sharing a mailbox stay two contacts.
///
/// ```
/// let profile = cartograph_salesforce::profile();
/// assert_eq!(profile.mappings.order, "opportunity");
/// assert!(!profile.contact_keying.merges_by_email());
/// ```
pub fn profile() -> CrmProfile {
    profile_for(crate::config::PersonObject::Contact)
}

/// The profile for people written as Contacts (mapping `contact`) or Leads (mapping
/// `lead`).
///
/// ```
/// use cartograph_salesforce::config::PersonObject;
/// assert_eq!(cartograph_salesforce::profile::profile_for(PersonObject::Lead).mappings.contact, "lead");
/// ```
pub fn profile_for(person: crate::config::PersonObject) -> CrmProfile {
    let contact = match person {
        crate::config::PersonObject::Contact => "contact",
        crate::config::PersonObject::Lead => "lead",
    };
    CrmProfile::new(PROFILE_NAME, DEFAULT_MAPPING)
        .with_mappings(
            MappingNames::new(contact, "opportunity")
                .with_line_items("line_item")
                .with_products("product"),
        )
        .with_order_object(OrderObject::Deal)
        .with_revenue_fields(RevenueFields::new(
            "Ecom_Order_Total__c",
            "CloseDate",
            "Ecom_Currency__c",
        ))
        .with_contact_keying(ContactKeying::ExternalId)
}
