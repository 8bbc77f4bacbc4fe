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
    /// The record itself was written ([`RecordOutcome::id`] names it) but a later step of
    /// the same call for it failed: an association, its line items, a tag. The record
    /// exists in the vendor; the write is incomplete. Sending the same input again is safe
    /// (writes are idempotent by key, so no second record appears) and completes it.
    Partial {
        /// Whether the record was created or updated before the failure.
        written: Written,
        /// What failed after the record was written.
        error: Error,
    },
    /// This record failed and nothing of it is known to be written; the rest of the batch
    /// may still have succeeded.
    Failed(Error),
}

/// How a record that was written got there (see [`WriteStatus::Partial`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The record was created by this call.
    Created,
    /// The record existed and was updated.
    Updated,
}

impl Written {
    /// `Created` or `Updated` as the status of a complete write.
    pub fn status(self) -> WriteStatus {
        match self {
            Self::Created => WriteStatus::Created,
            Self::Updated => WriteStatus::Updated,
        }
    }
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

    /// A record written as `id` whose later step failed with `error`.
    ///
    /// ```
    /// use cartograph_connector::{Error, ErrorKind, RecordOutcome, Written};
    ///
    /// let err = Error::new(ErrorKind::Unavailable, "association timed out");
    /// let out = RecordOutcome::partial("order-1", "981", Written::Created, err);
    /// assert!(out.is_written() && !out.is_ok());
    /// assert_eq!(out.id.as_deref(), Some("981"));
    /// ```
    pub fn partial(
        key: impl Into<String>,
        id: impl Into<String>,
        written: Written,
        error: Error,
    ) -> Self {
        Self {
            key: key.into(),
            id: Some(id.into()),
            status: WriteStatus::Partial { written, error },
        }
    }

    /// Turns a written outcome into a partial one because a later step failed. An outcome
    /// that is already `Partial` or `Failed` keeps its first error; an `Unchanged` one
    /// counts as updated (the record exists).
    #[must_use]
    pub fn into_partial(self, error: Error) -> Self {
        let written = match self.status {
            WriteStatus::Created => Written::Created,
            WriteStatus::Updated | WriteStatus::Unchanged => Written::Updated,
            WriteStatus::Partial { .. } | WriteStatus::Failed(_) => return self,
        };
        Self {
            status: WriteStatus::Partial { written, error },
            ..self
        }
    }

    /// Whether the record was written (or needed nothing) and every step for it passed.
    pub fn is_ok(&self) -> bool {
        matches!(
            self.status,
            WriteStatus::Created | WriteStatus::Updated | WriteStatus::Unchanged
        )
    }

    /// Whether this call wrote the record itself (created or updated it), complete or
    /// [partial](WriteStatus::Partial).
    pub fn is_written(&self) -> bool {
        matches!(
            self.status,
            WriteStatus::Created | WriteStatus::Updated | WriteStatus::Partial { .. }
        )
    }

    /// The error, if the record failed or was written only in part.
    pub fn error(&self) -> Option<&Error> {
        match &self.status {
            WriteStatus::Failed(e) | WriteStatus::Partial { error: e, .. } => Some(e),
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
