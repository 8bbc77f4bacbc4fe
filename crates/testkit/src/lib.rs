#![doc = include_str!("../README.md")]

pub mod conformance;
#[cfg(feature = "store")]
pub mod faulty;
pub mod fixtures;
pub mod generate;
pub mod memory;
pub mod openapi;
#[cfg(feature = "store")]
pub mod store;
