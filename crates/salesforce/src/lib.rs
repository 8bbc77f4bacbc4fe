#![doc = include_str!("../README.md")]

pub mod cdc;
pub mod client;
pub mod composite;
pub mod config;
pub mod connector;
pub mod error;
pub mod jwt;
pub mod limits;
pub mod map;
pub mod profile;
pub mod routing;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
pub mod upsert_one;

pub use client::SalesforceClient;
pub use config::{
    DEFAULT_API_VERSION, DEFAULT_EXTERNAL_ID_FIELD, Environment, MAX_BATCH, PersonObject,
    SalesforceAuth, SalesforceConfig, SalesforceConfigBuilder,
};
pub use connector::Salesforce;
pub use profile::profile;
