//! Integration tests: wiremock tests of every operation, the simulator, the testkit
//! conformance suites against the simulator, and request bodies checked against the
//! (corrected) ActiveCampaign OpenAPI file.
// Test code: stylistic pedantic lints are relaxed; unwrap is allowed in helpers.
#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::redundant_closure_for_method_calls,
    clippy::default_trait_access,
    clippy::needless_pass_by_value,
    clippy::items_after_statements,
    missing_docs,
    unreachable_pub
)]

mod answers;
mod conformance;
mod contacts;
mod errors;
mod mapping;
mod orders;
mod sim;
mod spec;
mod support;
mod tasks;
