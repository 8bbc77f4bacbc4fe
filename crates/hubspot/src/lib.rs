#![doc = include_str!("../README.md")]

pub mod body;
pub mod client;
pub mod config;
pub mod connector;
pub mod error;
pub mod map;
pub mod profile;
pub mod signature;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
pub mod wire;

use cartograph_model::{CrmObjectType, PropertyDefinition, PropertyType};

pub use client::{HubSpotClient, Paths, SearchCursor};
pub use config::{
    ApiFlavor, DEFAULT_BASE_URL, DEFAULT_DAILY_LIMIT, DEFAULT_RATE_LIMIT, HubSpotAuth,
    HubSpotConfig, HubSpotConfigBuilder, HubSpotMapping, MAX_BATCH,
};
pub use connector::HubSpot;
pub use profile::profile;

/// The unique-value properties the connector upserts by, for `ensure_properties`.
pub fn required_properties(config: &HubSpotConfig) -> Vec<PropertyDefinition> {
    let m = &config.mapping;
    let order_object = match m.order_object.unwrap_or_default() {
        cartograph_model::OrderObject::Deal => CrmObjectType::Deal,
        cartograph_model::OrderObject::Order => CrmObjectType::Order,
    };
    [
        (order_object, &m.order_id_property, "Cartograph order id"),
        (
            CrmObjectType::LineItem,
            &m.line_item_id_property,
            "Cartograph line item id",
        ),
        (
            CrmObjectType::Product,
            &m.product_id_property,
            "Cartograph product id",
        ),
        (
            CrmObjectType::Task,
            &m.task_key_property,
            "Cartograph task key",
        ),
    ]
    .into_iter()
    .map(|(object, name, label)| PropertyDefinition {
        object,
        name: name.clone(),
        label: label.into(),
        kind: PropertyType::String,
        options: Vec::new(),
        group: None,
        unique: true,
        description: Some("Upsert key written by Cartograph; do not edit.".into()),
    })
    .collect()
}
