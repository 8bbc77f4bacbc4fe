//! Integration tests: wiremock for every HubSpot operation, the simulator, the testkit
//! conformance suites and the request-body spec check.
// Test code: stylistic pedantic lints are relaxed (closures and small helpers read better
// inline); unwrap is allowed in helpers.
#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::redundant_closure_for_method_calls,
    clippy::needless_pass_by_value,
    clippy::items_after_statements,
    clippy::match_same_arms,
    clippy::semicolon_if_nothing_returned,
    missing_docs,
    unreachable_pub
)]

mod answers;
mod conformance;
mod contacts;
mod enroll;
mod errors;
mod orders;
mod properties;
mod read;
mod sim;
mod spec;
mod support;
mod tasks;
mod webhooks;
