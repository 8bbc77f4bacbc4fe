#![doc = include_str!("../README.md")]

mod bounded;
mod categories;
pub mod client;
pub mod config;
pub mod connector;
mod cursor;
pub mod error;
pub mod map;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
pub mod wire;
pub mod writer;

pub use client::Client;
pub use config::{
    BigCommerceConfig, BigCommerceConfigBuilder, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT,
    WebhookConfig,
};
pub use connector::{BigCommerce, capabilities};
pub use error::BigCommercePolicy;
