//! The HubSpot [`CrmProfile`]: what the sync engine needs to plan writes for HubSpot.

use cartograph_connector::{ContactKeying, CrmProfile, MappingNames, RevenueFields};
use cartograph_model::OrderObject;

/// The profile name, also the key of stored HubSpot record ids.
pub const PROFILE_NAME: &str = "hubspot";

/// The default mapping file (`crates/hubspot/mappings/hubspot.toml`).
pub const DEFAULT_MAPPING: &str = include_str!("../mappings/hubspot.toml");

/// HubSpot's profile: mappings `contact`, `deal`, `line_item`, `product`; orders become
/// deals; revenue is read from `amount`, `closedate`, `deal_currency_code`; contacts are
/// unique by email.
///
/// ```
/// let profile = cartograph_hubspot::profile();
/// assert_eq!(profile.name, "hubspot");
/// assert_eq!(profile.mappings.order, "deal");
/// assert!(profile.contact_keying.merges_by_email());
/// ```
pub fn profile() -> CrmProfile {
    CrmProfile::new(PROFILE_NAME, DEFAULT_MAPPING)
        .with_mappings(
            MappingNames::new("contact", "deal")
                .with_line_items("line_item")
                .with_products("product"),
        )
        .with_order_object(OrderObject::Deal)
        .with_revenue_fields(RevenueFields::new(
            "amount",
            "closedate",
            "deal_currency_code",
        ))
        .with_contact_keying(ContactKeying::Email)
}
