//! What the inbound queue carries, and what processing one item can end in.

use std::time::Duration;

use cartograph_connector::{Error, ErrorKind, WebhookNotification};
use cartograph_model::{CommerceEvent, CrmEvent, Timestamp};
use serde::{Deserialize, Serialize};

/// One unit of work on the queue. Stored as JSON; the variant name is the queue `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkItem {
    /// A thin commerce webhook notification: hydrate it, then process the event.
    CommerceNotification {
        /// The notification.
        notification: WebhookNotification,
    },
    /// A full commerce event (from a listing, a replay, or a connector that sends full
    /// payloads).
    CommerceEvent {
        /// The event.
        event: Box<CommerceEvent>,
    },
    /// A CRM event (CRM-to-store flows).
    CrmEvent {
        /// The event.
        event: Box<CrmEvent>,
    },
}

impl WorkItem {
    /// The queue `kind` of this item.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CommerceNotification { .. } => "commerce_notification",
            Self::CommerceEvent { .. } => "commerce_event",
            Self::CrmEvent { .. } => "crm_event",
        }
    }

    /// A human-readable name of the record concerned (for logs and dead letters).
    pub fn record(&self) -> String {
        match self {
            Self::CommerceNotification { notification } => notification.source.to_string(),
            Self::CommerceEvent { event } => event.source.to_string(),
            Self::CrmEvent { event } => match &event.kind {
                cartograph_model::CrmEventKind::ContactCreated { crm_id }
                | cartograph_model::CrmEventKind::ContactPropertyChanged { crm_id, .. }
                | cartograph_model::CrmEventKind::ContactDeleted { crm_id }
                | cartograph_model::CrmEventKind::ContactMerged { crm_id, .. } => {
                    format!("crm/contact/{crm_id}")
                }
                cartograph_model::CrmEventKind::MembershipChanged { change } => {
                    format!("crm/contact/{}", change.contact_crm_id)
                }
                cartograph_model::CrmEventKind::FormSubmitted { submission } => {
                    format!("crm/form/{}", submission.form_id)
                }
                cartograph_model::CrmEventKind::Unhandled { topic, object_id } => {
                    format!("crm/{topic}/{}", object_id.as_deref().unwrap_or("-"))
                }
            },
        }
    }
}

/// How processing one item ended.
#[derive(Debug)]
pub enum ItemOutcome {
    /// Done (written, unchanged, or deliberately skipped).
    Done,
    /// Failed in a way that may pass later: retry with backoff (at least `after` when set).
    Retry {
        /// The failure.
        error: Error,
    },
    /// Blocked by a long-window quota: try again at `until` without counting an attempt
    /// against the retry budget.
    Park {
        /// When to try again.
        until: Timestamp,
        /// The failure.
        error: Error,
    },
    /// Not tried: its subject is being processed elsewhere (another worker holds the
    /// person's lock). Try again at `until`; no attempt is counted.
    Defer {
        /// When to try again.
        until: Timestamp,
        /// Why (for the queue's last-error column and logs).
        reason: String,
    },
    /// Will never pass as is: dead-letter it with the stage that failed.
    Dead {
        /// Pipeline stage (`decode`, `hydrate`, `resolve`, `map`, `write`, ...).
        stage: &'static str,
        /// The failure.
        error: Error,
    },
}

impl ItemOutcome {
    /// Classifies a connector error met at `stage`: retryable errors retry, quota errors
    /// park until their reset, the rest are dead.
    pub fn from_error(stage: &'static str, error: Error) -> Self {
        if error.kind() == ErrorKind::QuotaExhausted {
            let wait = error.retry_after().unwrap_or(Duration::from_secs(3600));
            let until = Timestamp::now()
                .saturating_add(time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR));
            return Self::Park { until, error };
        }
        if error.is_retryable() {
            Self::Retry { error }
        } else {
            Self::Dead { stage, error }
        }
    }
}
