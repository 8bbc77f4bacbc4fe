//! The default mappings, bundled as data (`crates/core/mappings/*.toml`).

use super::{LoadError, MappingFile};

const HUBSPOT: &str = include_str!("../../mappings/hubspot.toml");
const SALESFORCE: &str = include_str!("../../mappings/salesforce.toml");
const ACTIVECAMPAIGN: &str = include_str!("../../mappings/activecampaign.toml");

/// HubSpot: `contact`, `deal`, `line_item`, `product`.
pub fn hubspot() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(HUBSPOT)
}

/// Salesforce: `contact`, `lead`, `account`, `opportunity`, `order`, `case`.
pub fn salesforce() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(SALESFORCE)
}

/// ActiveCampaign: `contact`, `ecom_customer`, `ecom_order`, `ecom_order_product`.
pub fn activecampaign() -> Result<MappingFile, LoadError> {
    MappingFile::from_toml(ACTIVECAMPAIGN)
}

/// The default file for a CRM by name (`hubspot`, `salesforce`, `activecampaign`).
pub fn for_crm(crm: &str) -> Option<Result<MappingFile, LoadError>> {
    match crm {
        "hubspot" => Some(hubspot()),
        "salesforce" => Some(salesforce()),
        "activecampaign" => Some(activecampaign()),
        _ => None,
    }
}
