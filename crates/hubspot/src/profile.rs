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

#[cfg(test)]
mod tests {
    use cartograph_http::Secret;
    use cartograph_model::CrmObjectType;
    use toml::{Table, Value};

    use super::DEFAULT_MAPPING;
    use crate::{HubSpotAuth, HubSpotConfig, required_properties};

    fn text<'a>(table: &'a Value, key: &str) -> Option<&'a str> {
        table.get(key).and_then(Value::as_str)
    }

    /// Deals carry one order key: the unique property the connector upserts by, which the
    /// default mapping writes too (not a second unique property with the same value).
    #[test]
    fn deals_carry_exactly_one_unique_order_key() {
        let config = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("t"),
        })
        .build()
        .expect("valid");
        let required: Vec<_> = required_properties(&config)
            .into_iter()
            .filter(|d| d.object == CrmObjectType::Deal)
            .collect();
        assert_eq!(required.len(), 1, "{required:?}");
        let key = required[0].name.as_str();
        assert!(required[0].unique);
        assert_eq!(key, config.mapping.order_id_property);

        let file: Table = toml::from_str(DEFAULT_MAPPING).expect("default mapping parses");
        let unique: Vec<&str> = file["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .filter(|p| text(p, "object") == Some("deal"))
            .filter(|p| p.get("unique").and_then(Value::as_bool) == Some(true))
            .filter_map(|p| text(p, "name"))
            .collect();
        assert_eq!(unique, [key], "unique deal properties of the mapping");
        let deal = file["mappings"]
            .as_array()
            .expect("mappings")
            .iter()
            .find(|m| text(m, "name") == Some("deal"))
            .expect("deal mapping");
        let from_key: Vec<&str> = deal["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter(|f| text(f, "source") == Some("order.key"))
            .filter_map(|f| text(f, "target"))
            .collect();
        assert_eq!(
            from_key,
            [key],
            "deal properties written from the order key"
        );
    }

    #[test]
    fn line_items_and_products_carry_only_the_connectors_unique_key() {
        let config = HubSpotConfig::builder(HubSpotAuth::PrivateApp {
            token: Secret::new("t"),
        })
        .build()
        .expect("valid");
        let file: Table = toml::from_str(DEFAULT_MAPPING).expect("default mapping parses");
        for (object, kind, key) in [
            (
                "line_item",
                CrmObjectType::LineItem,
                &config.mapping.line_item_id_property,
            ),
            (
                "product",
                CrmObjectType::Product,
                &config.mapping.product_id_property,
            ),
        ] {
            let required: Vec<_> = required_properties(&config)
                .into_iter()
                .filter(|d| d.object == kind && d.unique)
                .map(|d| d.name)
                .collect();
            assert_eq!(
                required.as_slice(),
                std::slice::from_ref(key),
                "{object}: the connector's key"
            );
            let unique: Vec<&str> = file["properties"]
                .as_array()
                .expect("properties")
                .iter()
                .filter(|p| text(p, "object") == Some(object))
                .filter(|p| p.get("unique").and_then(Value::as_bool) == Some(true))
                .filter_map(|p| text(p, "name"))
                .filter(|name| name != key)
                .collect();
            assert!(
                unique.is_empty(),
                "{object}: a second unique key in the mapping: {unique:?}"
            );
        }
    }
}
