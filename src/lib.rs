#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! | Module | Crate | Feature |
//! |---|---|---|
//! | [`model`] | `cartograph-model`: canonical records, money, time, CRM intents | always |
//! | [`core`] | `cartograph-core`: pure normalization, identity, mapping, metrics, rules | always |
//! | [`connector`] | `cartograph-connector`: traits, error, paging, capabilities | always |
//! | [`http`] | `cartograph-http`: HTTP plumbing shared by connectors | always |
//! | `sync` | `cartograph-sync`: pipelines, modes, queue, dead letters | `sync` (default) |
//! | `sync::router`, `axum` | `cartograph-sync`'s intake router, and the axum it serves on | `axum` |
//! | `store_sqlite` | `cartograph-store-sqlite`: the embedded default store | `sqlite` (default) |
//! | `store_postgres` | `cartograph-store-postgres`: one PostgreSQL queue for many workers | `postgres` |
//! | `bigcommerce` | `cartograph-bigcommerce` | `bigcommerce` |
//! | `commercetools` | `cartograph-commercetools` | `commercetools` |
//! | `hubspot` | `cartograph-hubspot` | `hubspot` |
//! | `salesforce` | `cartograph-salesforce` | `salesforce` |
//! | `activecampaign` | `cartograph-activecampaign` | `activecampaign` |
//! | `harness` | the pair harness: any commerce simulator, any CRM simulator, one pipeline | `sim` |
//! | `sim` | `cartograph-sim`: what every simulator shares (time scale, quotas, faults) | `sim` |
//! | `testkit` | `cartograph-testkit`: in-memory connectors, conformance suites, generators | `testkit` |
//!
//! `sim` adds the vendor simulators of the enabled connectors and the pair harness, for
//! tests. See `docs/architecture.md` in the repository for the whole picture.

pub use cartograph_connector as connector;
pub use cartograph_core as core;
pub use cartograph_http as http;
pub use cartograph_model as model;

/// The axum version the intake router is built on (feature `axum`), to serve or nest it.
#[cfg(feature = "axum")]
pub use axum;
#[cfg(feature = "activecampaign")]
pub use cartograph_activecampaign as activecampaign;
#[cfg(feature = "bigcommerce")]
pub use cartograph_bigcommerce as bigcommerce;
#[cfg(feature = "commercetools")]
pub use cartograph_commercetools as commercetools;
#[cfg(feature = "hubspot")]
pub use cartograph_hubspot as hubspot;
#[cfg(feature = "salesforce")]
pub use cartograph_salesforce as salesforce;
#[cfg(feature = "sim")]
pub mod harness;
/// What every simulator shares (feature `sim`): time scale, quotas, faults, local serving,
/// the pair-harness traits; e.g. `cartograph::sim::TimeScale` in a simulator's config.
#[cfg(feature = "sim")]
pub use cartograph_sim as sim;
#[cfg(feature = "postgres")]
pub use cartograph_store_postgres as store_postgres;
#[cfg(feature = "sqlite")]
pub use cartograph_store_sqlite as store_sqlite;
#[cfg(feature = "sync")]
pub use cartograph_sync as sync;
#[cfg(feature = "testkit")]
pub use cartograph_testkit as testkit;
