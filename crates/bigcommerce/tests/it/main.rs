//! wiremock tests of the BigCommerce connector: every unexpected request fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod carts;
mod categories;
mod delta;
mod errors;
mod paging;
mod support;
mod webhooks;
mod writer;
