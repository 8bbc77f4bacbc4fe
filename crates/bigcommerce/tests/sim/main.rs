//! Simulator tests (feature `sim`): the connector end to end against the stateful store,
//! quotas, batch limits, faults, webhook emission and the testkit conformance suites.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod answers;
mod catalog_lookups;
mod conformance;
mod end_to_end;
mod limits;
mod support;
mod webhooks;
