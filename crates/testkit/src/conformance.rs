//! Conformance suites: one `async fn` per contract, run by every implementation.
pub mod commerce_source;
mod support;
