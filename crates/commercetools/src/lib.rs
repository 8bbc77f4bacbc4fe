#![doc = include_str!("../README.md")]

pub mod client;
pub mod config;
pub mod connector;
pub mod error;
pub mod map;
#[cfg(feature = "sim")]
pub mod sim;
pub mod webhook;
// The wire types mirror the commercetools API one to one; their fields are documented in the
// vendor's API reference (`specs/commercetools`).
#[allow(missing_docs)]
pub mod wire;
pub mod writer;

pub use client::{Client, Keyset};
pub use config::{CommercetoolsConfig, CommercetoolsConfigBuilder};
pub use connector::{Commercetools, capabilities};
pub use error::CommercetoolsPolicy;
