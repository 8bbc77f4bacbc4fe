//! Identity resolution: who is who across shops, guest orders and CRMs.
//!
//! - [`IdentityRecord`]: the flat record resolved (from a [`cartograph_model::Customer`] or
//!   any source).
//! - [`RuleSet`]: ordered match rules as serde data, with shipped defaults.
//! - [`resolve_batch`]: blocking, rules, guarded union-find; independent of input order.
//! - [`IdentityIndex`]: incremental `resolve(record)` -> [`Decision`] (`Match`, `New`,
//!   `Ambiguous`), rebuildable from [`StoredLink`]s.
//! - [`MatchModel`]: a probabilistic (Fellegi-Sunter) model whose m and u are estimated
//!   from the unlabelled batch (EM), with term-frequency adjustment, explained scores, a
//!   match weight and a review band; batch ([`MatchModel::fit_resolve`]) and incremental
//!   ([`IdentityIndex::with_model`]).
//! - [`LinkGraph`]: (system, external id) -> person -> CRM record id per CRM.
//!
//! See `docs/identity.md` for the design and measured figures.

mod batch;
mod blocking;
mod features;
mod incremental;
mod links;
pub mod model;
mod person;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod quality;
mod record;
mod rules;
#[cfg(test)]
mod tests;

pub use batch::{BatchStats, MatchEdge, Resolution, resolve_batch};
pub use features::FieldIssue;
pub use incremental::{IdentityIndex, MODEL_RULE, SAME_RECORD};
pub use links::{ExternalKey, LinkError, LinkGraph, PersonLinks};
pub use model::{MatchModel, ModelConfig, ModelResolution, PairScore, ScoredPair};
pub use person::{Candidate, Decision, PersonId, StoredLink};
pub use record::IdentityRecord;
pub use rules::{Blank, Comparison, Field, MatchRule, Method, RuleSet};
