//! The ActiveCampaign [`CrmProfile`]: what the sync engine needs to plan writes for
//! ActiveCampaign.

use cartograph_connector::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
use cartograph_model::OrderObject;

/// The profile name, also the key of stored ActiveCampaign record ids.
pub const PROFILE_NAME: &str = "activecampaign";

/// The default mapping file (`crates/activecampaign/mappings/activecampaign.toml`).
pub const DEFAULT_MAPPING: &str = include_str!("../mappings/activecampaign.toml");

/// ActiveCampaign's profile: mappings `contact`, `ecom_order` and `ecom_order_product`;
/// orders become Deep Data ecommerce orders, revenue read from `totalPrice` (in cents),
/// `externalCreatedDate` and `currency`; contacts are unique by email.
///
/// ```
/// let profile = cartograph_activecampaign::profile();
/// assert_eq!(profile.mappings.order, "ecom_order");
/// assert!(profile.contact_keying.merges_by_email());
/// ```
pub fn profile() -> CrmProfile {
    CrmProfile::new(PROFILE_NAME, DEFAULT_MAPPING)
        .with_mappings(
            MappingNames::new("contact", "ecom_order").with_line_items("ecom_order_product"),
        )
        .with_order_object(OrderObject::Order)
        .with_revenue_fields(
            RevenueFields::new("totalPrice", "externalCreatedDate", "currency").in_minor_units(),
        )
        .with_contact_keying(ContactKeying::Email)
}

#[cfg(test)]
mod tests {
    #[test]
    fn profile_names_the_activecampaign_mappings() {
        let p = super::profile();
        assert_eq!(p.name, super::PROFILE_NAME);
        assert_eq!(p.mappings.contact, "contact");
        assert!(p.revenue_fields.minor_units);
    }
}
