//! Simulator tests (feature `sim`): the connector against the stateful project (paging
//! past the page size, token expiry and re-auth, version conflicts, faults, in-store
//! queries, subscription deliveries), the answer shapes against the commercetools spec, and
//! the testkit conformance suites.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod conformance;
mod events;
mod shapes;
mod support;
