//! Integration tests: wiremock for every HubSpot operation, the simulator, the testkit
//! conformance suites and the request-body spec check.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc, missing_docs, unreachable_pub)]

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
