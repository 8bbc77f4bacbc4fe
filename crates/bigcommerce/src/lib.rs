#![doc = include_str!("../README.md")]

pub mod config;
pub mod error;
pub mod map;
pub mod webhook;
pub mod wire;

pub use config::{BigCommerceConfig, BigCommerceConfigBuilder, WebhookConfig};
pub use error::BigCommercePolicy;
