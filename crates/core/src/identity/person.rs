//! Person ids and resolution decisions.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A resolved person: the cluster id the sync stores and maps to one CRM record per CRM.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(String);

impl PersonId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PersonId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for PersonId {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// One person a record could belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The person.
    pub person: PersonId,
    /// The strongest rule that matched one of the person's records.
    pub rule: String,
    /// That rule's score.
    pub score: f32,
}

/// What incremental resolution decided for one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The record belongs to a known person.
    Match {
        /// The person.
        person: PersonId,
        /// The rule that matched.
        rule: String,
        /// Its score.
        score: f32,
    },
    /// No known person matches.
    New,
    /// Several people match equally strongly: never merged automatically; route to review.
    Ambiguous {
        /// The matching people, best score first.
        candidates: Vec<Candidate>,
    },
}

/// One stored link: a record and the person it was resolved to. The pipeline persists these;
/// [`IdentityIndex::from_links`](super::IdentityIndex::from_links) rebuilds the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    /// The person.
    pub person: PersonId,
    /// The record as last seen.
    pub record: super::IdentityRecord,
}
