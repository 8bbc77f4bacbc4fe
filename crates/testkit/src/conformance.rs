//! Conformance suites: one `pub async fn` per contract, each taking the system under test as
//! `&dyn Trait` (plus the fixture it needs) and panicking with a message that names the
//! connector and the broken contract.
//!
//! | Module | Takes | Fixture |
//! |---|---|---|
//! | [`commerce_source`] | `&dyn CommerceSource` | the [`Seed`](crate::fixtures::Seed) it was loaded with |
//! | [`commerce_writer`] | `&dyn CommerceWriter` | none (writes `cw-…` customers) |
//! | [`crm_sink`] | `&dyn CrmSink` | [`CrmFixture`](crate::fixtures::CrmFixture) |
//! | [`crm_source`] | `&dyn CrmSource` + the same system's `&dyn CrmSink` + a [`CrmHarness`] | [`CrmFixture`](crate::fixtures::CrmFixture) |
//!
//! Each module has a `run_all` that runs every contract in order. Contracts for operations a
//! connector does not declare in its `Capabilities` are skipped, and
//! `unsupported_operations_match_capabilities` checks those answer `ErrorKind::Unsupported`.

pub mod commerce_source;
pub mod commerce_writer;
pub mod crm_sink;
pub mod crm_source;
mod support;

pub use crm_source::CrmHarness;
