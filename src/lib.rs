//! # Cartograph
//!
//! Keep commerce platforms and CRMs in sync. This facade re-exports the workspace crates;
//! enable one feature per connector.
//!
//! | Module | Crate |
//! |---|---|
//! | [`model`] | `cartograph-model`: canonical records, money, time, CRM intents |
//! | [`core`] | `cartograph-core`: pure normalization, identity, mapping, metrics, rules |
//! | [`connector`] | `cartograph-connector`: traits, error, paging, capabilities |
//! | [`http`] | `cartograph-http`: HTTP plumbing shared by connectors |
//!
//! See `docs/architecture.md` in the repository for the whole picture.

pub use cartograph_connector as connector;
pub use cartograph_core as core;
pub use cartograph_http as http;
pub use cartograph_model as model;
