//! In-memory connectors: [`MemoryCommerce`] (a commerce platform: `CommerceSource` and
//! `CommerceWriter`) and [`MemoryCrm`] (a CRM: `CrmSink` and `CrmSource`).
//!
//! Both keep their state behind `std::sync` locks, share it between clones, stamp writes with
//! a controllable [`Clock`], and carry a [`Faults`] injector that fails chosen calls or records
//! so pipelines can test retries and dead letters. Both pass every conformance suite in
//! [`crate::conformance`].

mod commerce;
mod commerce_source;
mod commerce_writer;
mod crm;
mod crm_sink;
mod crm_source;
mod crm_state;
mod crm_write;
mod support;
mod webhook;

pub use commerce::{MemoryCommerce, MemoryCommerceBuilder};
pub use crm::{MemoryCrm, MemoryCrmBuilder};
pub use crm_source::{CRM_SECRET_HEADER, MemoryCrmEvent};
pub use crm_state::{MemoryEnrollment, MemoryOrder, MemoryProduct, MemoryTask, WriteCounts};
pub use support::{Clock, Faults};
pub use webhook::{MemoryWebhookEvent, SECRET_HEADER};
