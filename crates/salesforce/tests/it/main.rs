//! Integration tests: wiremock tests of the REST calls, the simulator, and the testkit
//! conformance suite against the simulator.
#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::too_many_lines,
    missing_docs,
    unreachable_pub
)]

mod auth;
mod campaigns;
mod conformance;
mod limits;
mod mapping;
mod routing;
mod sim;
mod source;
mod upsert_one;
mod wire;

// The write path: accounts, products, line items.
mod sim_write;
mod wire_campaigns;
mod wire_write;
