#![doc = include_str!("../README.md")]

pub mod client;
pub mod config;
pub mod connector;
pub mod error;
pub mod map;
pub mod profile;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
pub mod wire;

pub use client::ActiveCampaignClient;
pub use config::{
    ActiveCampaignConfig, ActiveCampaignConfigBuilder, ConnectionSettings, DEFAULT_LIST_NAME,
    DEFAULT_RATE_LIMIT, DEFAULT_TAG, MAX_BATCH,
};
pub use connector::ActiveCampaign;
pub use profile::profile;
