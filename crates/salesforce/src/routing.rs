//! Owner routing of Cases and Tasks: the configured User or queue per case reason.
//!
//! The reason of a [`TaskRequest`] is read from its idempotency key's prefix (`refund:`,
//! `return:`, `payment:`, `dispute:`, `delay:`), the keys the sync engine gives the
//! tasks it plans (decision 0027). A request that names its own `owner_id` keeps it.

use std::collections::BTreeMap;

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_model::{TaskKind, TaskRequest};
use serde::{Deserialize, Serialize};

const NOT_OWNER: &str = "must be a 15- or 18-character User (005) or queue (00G) id";

/// Why a Case (or Task) is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseReason {
    /// A refund (key prefix `refund:`).
    Refund,
    /// A return (key prefix `return:`).
    Return,
    /// A declined or failed payment (key prefix `payment:`).
    FailedPayment,
    /// A payment dispute or chargeback (key prefix `dispute:`).
    Dispute,
    /// A late fulfilment (key prefix `delay:`).
    FulfilmentDelay,
}

impl CaseReason {
    /// Every reason, in order.
    pub const ALL: [Self; 5] = [
        Self::Refund,
        Self::Return,
        Self::FailedPayment,
        Self::Dispute,
        Self::FulfilmentDelay,
    ];

    /// The idempotency-key prefix (before the `:`) that marks this reason.
    #[must_use]
    pub const fn key_prefix(self) -> &'static str {
        match self {
            Self::Refund => "refund",
            Self::Return => "return",
            Self::FailedPayment => "payment",
            Self::Dispute => "dispute",
            Self::FulfilmentDelay => "delay",
        }
    }

    /// The reason a task key carries, if any.
    ///
    /// ```
    /// use cartograph_salesforce::routing::CaseReason;
    /// assert_eq!(CaseReason::of_key("refund:bigcommerce:77"), Some(CaseReason::Refund));
    /// assert_eq!(CaseReason::of_key("order:bigcommerce:1"), None);
    /// ```
    #[must_use]
    pub fn of_key(key: &str) -> Option<Self> {
        let (prefix, _) = key.split_once(':')?;
        Self::ALL.into_iter().find(|r| r.key_prefix() == prefix)
    }
}

/// Which kind of record an owner id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerKind {
    /// A User (`005` prefix).
    User,
    /// A Group, as a queue (`00G` prefix).
    Queue,
}

/// The kind of a 15- or 18-character Salesforce id of a User or queue, or `None` when
/// `id` is neither.
///
/// ```
/// use cartograph_salesforce::routing::{OwnerKind, owner_kind};
/// assert_eq!(owner_kind("005000000000001AAA"), Some(OwnerKind::User));
/// assert_eq!(owner_kind("00G000000000001"), Some(OwnerKind::Queue));
/// assert_eq!(owner_kind("001000000000001AAA"), None); // an Account
/// ```
#[must_use]
pub fn owner_kind(id: &str) -> Option<OwnerKind> {
    if !matches!(id.len(), 15 | 18) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match &id[..3] {
        "005" => Some(OwnerKind::User),
        "00G" => Some(OwnerKind::Queue),
        _ => None,
    }
}

/// Owners of the Cases and Tasks the connector opens, applied when a
/// [`TaskRequest::owner_id`] is unset. Unset everywhere = Salesforce's default (the
/// integration user, or the org's assignment rules).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerRouting {
    /// Owner of Cases whose reason has no entry in `by_reason`: a User (`005`) or a queue
    /// (`00G`).
    #[serde(default)]
    pub case_owner: Option<String>,
    /// Owner of Tasks whose reason has no User in `by_reason`: a User only (Salesforce
    /// refuses a queue as a Task's owner with `FIELD_INTEGRITY_EXCEPTION`).
    #[serde(default)]
    pub task_owner: Option<String>,
    /// Owner per reason, a User or a queue: Cases of that reason go to it, and Tasks too
    /// when it is a User (a queue entry leaves Tasks to `task_owner`).
    #[serde(default)]
    pub by_reason: BTreeMap<CaseReason, String>,
}

impl OwnerRouting {
    /// Checks every id.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] naming the field (`routing.case_owner`,
    /// `routing.task_owner`, `routing.by_reason.<reason>`).
    pub fn validate(&self) -> Result<()> {
        let bad = |field: String, why: &str| {
            Error::new(ErrorKind::Config, why.to_owned())
                .with_connector(crate::error::CONNECTOR)
                .with_field(field)
        };
        if let Some(id) = &self.case_owner
            && owner_kind(id).is_none()
        {
            return Err(bad("routing.case_owner".into(), NOT_OWNER));
        }
        if let Some(id) = &self.task_owner
            && owner_kind(id) != Some(OwnerKind::User)
        {
            return Err(bad(
                "routing.task_owner".into(),
                "must be a 15- or 18-character User (005) id: Tasks cannot belong to queues",
            ));
        }
        for (reason, id) in &self.by_reason {
            if owner_kind(id).is_none() {
                let name = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(bad(format!("routing.by_reason.{name}"), NOT_OWNER));
            }
        }
        Ok(())
    }

    /// The owner a request gets: its own `owner_id`, else the routed one, else `None`.
    ///
    /// ```
    /// use cartograph_salesforce::routing::{CaseReason, OwnerRouting};
    /// use cartograph_model::{TaskKind, TaskRequest};
    ///
    /// let routing = OwnerRouting {
    ///     case_owner: Some("00G000000000001AAA".into()),
    ///     by_reason: [(CaseReason::Refund, "00G000000000002AAA".into())].into(),
    ///     ..OwnerRouting::default()
    /// };
    /// let case: TaskRequest = serde_json::from_value(serde_json::json!({
    ///     "key": "refund:bigcommerce:9", "kind": "case", "subject": "Refund"
    /// }))?;
    /// assert_eq!(routing.owner_for(&case), Some("00G000000000002AAA"));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn owner_for<'a>(&'a self, task: &'a TaskRequest) -> Option<&'a str> {
        if let Some(own) = &task.owner_id {
            return Some(own);
        }
        let routed = CaseReason::of_key(&task.key).and_then(|r| self.by_reason.get(&r));
        match task.kind {
            TaskKind::Case => routed.or(self.case_owner.as_ref()).map(String::as_str),
            TaskKind::Task => routed
                .filter(|id| owner_kind(id) == Some(OwnerKind::User))
                .or(self.task_owner.as_ref())
                .map(String::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "005000000000001AAA";
    const QUEUE: &str = "00G000000000001AAA";
    const REFUND_QUEUE: &str = "00G000000000002";
    const DISPUTE_USER: &str = "005000000000009AAA";

    fn request(key: &str, kind: TaskKind, owner: Option<&str>) -> TaskRequest {
        TaskRequest {
            key: key.into(),
            kind,
            subject: "s".into(),
            body: String::new(),
            priority: cartograph_model::TaskPriority::default(),
            due_at: None,
            contact: None,
            order_key: None,
            owner_id: owner.map(str::to_owned),
        }
    }

    fn routing() -> OwnerRouting {
        OwnerRouting {
            case_owner: Some(QUEUE.into()),
            task_owner: Some(USER.into()),
            by_reason: [
                (CaseReason::Refund, REFUND_QUEUE.into()),
                (CaseReason::Dispute, DISPUTE_USER.into()),
            ]
            .into(),
        }
    }

    #[test]
    fn every_reason_reads_back_from_its_prefix() {
        for reason in CaseReason::ALL {
            let key = format!("{}:store:1", reason.key_prefix());
            assert_eq!(CaseReason::of_key(&key), Some(reason));
        }
        assert_eq!(CaseReason::of_key("refund"), None);
        assert_eq!(CaseReason::of_key("refunded:x"), None);
        assert_eq!(CaseReason::of_key("cancel:x"), None);
    }

    #[test]
    fn own_owner_wins_over_routing() {
        let own = "005000000000077AAA";
        let r = routing();
        assert_eq!(
            r.owner_for(&request("refund:1", TaskKind::Case, Some(own))),
            Some(own)
        );
    }

    #[test]
    fn cases_go_to_the_reason_owner_else_the_default() {
        let r = routing();
        assert_eq!(
            r.owner_for(&request("refund:1", TaskKind::Case, None)),
            Some(REFUND_QUEUE)
        );
        assert_eq!(
            r.owner_for(&request("dispute:1", TaskKind::Case, None)),
            Some(DISPUTE_USER)
        );
        assert_eq!(
            r.owner_for(&request("delay:1", TaskKind::Case, None)),
            Some(QUEUE)
        );
        assert_eq!(
            r.owner_for(&request("order:1", TaskKind::Case, None)),
            Some(QUEUE)
        );
        assert_eq!(
            OwnerRouting::default().owner_for(&request("refund:1", TaskKind::Case, None)),
            None
        );
    }

    #[test]
    fn tasks_never_get_a_queue() {
        let r = routing();
        // The refund reason routes to a queue: the Task goes to the task owner instead.
        assert_eq!(
            r.owner_for(&request("refund:1", TaskKind::Task, None)),
            Some(USER)
        );
        assert_eq!(
            r.owner_for(&request("dispute:1", TaskKind::Task, None)),
            Some(DISPUTE_USER)
        );
        assert_eq!(
            r.owner_for(&request("order:1", TaskKind::Task, None)),
            Some(USER)
        );
        let no_task_owner = OwnerRouting {
            task_owner: None,
            ..routing()
        };
        assert_eq!(
            no_task_owner.owner_for(&request("refund:1", TaskKind::Task, None)),
            None
        );
    }

    #[test]
    fn deserializes_from_config_json() {
        let routing: OwnerRouting = serde_json::from_value(serde_json::json!({
            "case_owner": QUEUE,
            "by_reason": {"failed_payment": USER, "fulfilment_delay": REFUND_QUEUE},
        }))
        .expect("valid");
        assert_eq!(
            routing
                .by_reason
                .get(&CaseReason::FailedPayment)
                .map(String::as_str),
            Some(USER)
        );
        assert_eq!(
            routing.owner_for(&request("delay:9", TaskKind::Case, None)),
            Some(REFUND_QUEUE)
        );
        assert!(
            serde_json::from_value::<OwnerRouting>(
                serde_json::json!({"by_reason": {"chargeback": USER}})
            )
            .is_err(),
            "an unknown reason is refused"
        );
    }

    #[test]
    fn bad_ids_are_refused_by_field() {
        assert!(routing().validate().is_ok());
        let err = OwnerRouting {
            case_owner: Some("001000000000001AAA".into()),
            ..OwnerRouting::default()
        }
        .validate()
        .expect_err("an Account id");
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(err.field(), Some("routing.case_owner"));
        let err = OwnerRouting {
            task_owner: Some(QUEUE.into()),
            ..OwnerRouting::default()
        }
        .validate()
        .expect_err("a queue owning tasks");
        assert_eq!(err.field(), Some("routing.task_owner"));
        let err = OwnerRouting {
            by_reason: [(CaseReason::FailedPayment, "005000000000001A".into())].into(),
            ..OwnerRouting::default()
        }
        .validate()
        .expect_err("16 characters");
        assert_eq!(err.field(), Some("routing.by_reason.failed_payment"));
        assert_eq!(owner_kind("005-00000000001"), None);
    }
}
