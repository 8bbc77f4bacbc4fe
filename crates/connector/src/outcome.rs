//! Per-record results of batch writes: vendor batches half-succeed.

use crate::error::Error;

/// What a write did to one record.
#[derive(Debug)]
pub enum WriteStatus {
    /// A new record was created.
    Created,
    /// An existing record was changed.
    Updated,
    /// Nothing needed to change (or the write was intentionally skipped, e.g. an enrollment
    /// for a historical record).
    Unchanged,
    /// This record failed; the rest of the batch may still have succeeded.
    Failed(Error),
}

/// The result for one input of a batch write.
#[derive(Debug)]
pub struct RecordOutcome {
    /// The input's key (as given by the caller).
    pub key: String,
    /// The vendor's id for the record, when known.
    pub id: Option<String>,
    /// What happened.
    pub status: WriteStatus,
}

impl RecordOutcome {
    /// A created record.
    pub fn created(key: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            id: Some(id.into()),
            status: WriteStatus::Created,
        }
    }

    /// An updated record.
    pub fn updated(key: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            id: Some(id.into()),
            status: WriteStatus::Updated,
        }
    }

    /// An unchanged record.
    pub fn unchanged(key: impl Into<String>, id: Option<String>) -> Self {
        Self {
            key: key.into(),
            id,
            status: WriteStatus::Unchanged,
        }
    }

    /// A failed record.
    pub fn failed(key: impl Into<String>, error: Error) -> Self {
        Self {
            key: key.into(),
            id: None,
            status: WriteStatus::Failed(error),
        }
    }

    /// Whether the record was written or needed nothing.
    pub fn is_ok(&self) -> bool {
        !matches!(self.status, WriteStatus::Failed(_))
    }

    /// The error, if the record failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.status {
            WriteStatus::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// What a connector's HTTP transport has done so far: requests sent, retries, and the
/// vendor's rate-limit and server-error answers (most of which the transport retried
/// before the caller saw anything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransportStats {
    /// Attempts sent (retries included).
    pub requests: u64,
    /// Attempts that were retries of an earlier attempt.
    pub retries: u64,
    /// 429 answers.
    pub rate_limited: u64,
    /// 5xx answers.
    pub server_errors: u64,
}
