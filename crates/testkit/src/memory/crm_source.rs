//! `CrmSource` for [`MemoryCrm`], and its webhook shape.

use cartograph_connector::{
    Capabilities, CrmSource, Error, ErrorKind, ListRequest, Page, Result, Stream, WebhookRequest,
    async_trait,
};
use cartograph_model::{
    CrmContact, CrmEvent, CrmEventKind, FormSubmission, MembershipChange, Timestamp,
};
use serde::{Deserialize, Serialize};

use super::crm::MemoryCrm;
use super::support::{Row, modified, page};

/// The header that carries the CRM webhook secret when one is configured.
pub const CRM_SECRET_HEADER: &str = "x-memory-crm-secret";

/// One event in a [`MemoryCrm`] webhook, shaped like HubSpot's: the change source and the id
/// of the app that made the change, not a ready-made "own write" flag.
///
/// The body is `{"events": [...]}` with events like
///
/// ```json
/// {"id": "mem-event-3", "occurred_at": "2024-01-01T00:00:00Z",
///  "change_source": "INTEGRATION", "source_id": "cartograph",
///  "type": "contact_property_changed", "crm_id": "mem-contact-1",
///  "property": "firstname", "value": "Ada"}
/// ```
///
/// `type` and the fields after it are a `CrmEventKind`. An event is the integration's own
/// write when `source_id` equals the CRM's app id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryCrmEvent {
    /// Event id.
    pub id: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// `INTEGRATION` for app writes, `CRM_UI` for people.
    pub change_source: String,
    /// The app that made the change, for `INTEGRATION` changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub kind: CrmEventKind,
}

#[derive(Serialize, Deserialize)]
struct Body {
    events: Vec<MemoryCrmEvent>,
}

impl MemoryCrm {
    fn to_event(&self, e: MemoryCrmEvent) -> CrmEvent {
        CrmEvent {
            id: Some(e.id),
            occurred_at: e.occurred_at,
            is_own_write: e.source_id.as_deref() == Some(self.shared.app_id.as_str()),
            change_source: Some(e.change_source),
            kind: e.kind,
        }
    }

    /// Every event so far, flagged as `parse_webhook` would flag it.
    pub fn events(&self) -> Vec<CrmEvent> {
        let events = self.state().events.clone();
        events.into_iter().map(|e| self.to_event(e)).collect()
    }

    /// The webhook delivery of every event not delivered yet; `None` when there are none.
    pub fn take_webhook(&self) -> Option<WebhookRequest> {
        let events = {
            let mut state = self.state();
            let pending = state.events[state.delivered..].to_vec();
            state.delivered = state.events.len();
            pending
        };
        if events.is_empty() {
            return None;
        }
        let body = serde_json::to_vec(&Body { events }).unwrap_or_default();
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(secret) = &self.shared.webhook_secret {
            headers.push((CRM_SECRET_HEADER.to_owned(), secret.clone()));
        }
        Some(WebhookRequest::post(
            "https://hooks.example/memory-crm",
            headers,
            body,
        ))
    }

    fn source_begin(&self, operation: &'static str, stream: Stream) -> Result<()> {
        self.shared.faults.check(&self.shared.name, operation)?;
        if self.shared.capabilities.can_list(stream) {
            Ok(())
        } else {
            Err(Error::unsupported(self.shared.name.clone(), operation))
        }
    }
}

#[async_trait]
impl CrmSource for MemoryCrm {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn capabilities(&self) -> Capabilities {
        self.shared.capabilities.clone()
    }

    async fn list_contacts(&self, request: &ListRequest) -> Result<Page<CrmContact>> {
        self.source_begin("list_contacts", Stream::Contacts)?;
        let rows = self
            .state()
            .contacts
            .values()
            .map(|c| Row {
                at: modified(c.updated_at, None),
                id: c.crm_id.clone(),
                item: c.clone(),
            })
            .collect();
        page(
            &self.shared.name,
            "list_contacts",
            rows,
            request,
            self.shared.page_size,
            true,
        )
    }

    async fn list_form_submissions(
        &self,
        form_id: &str,
        request: &ListRequest,
    ) -> Result<Page<FormSubmission>> {
        self.source_begin("list_form_submissions", Stream::FormSubmissions)?;
        let rows = self
            .state()
            .submissions
            .iter()
            .enumerate()
            .filter(|(_, s)| s.form_id == form_id)
            .map(|(i, s)| Row {
                at: s.submitted_at,
                id: s.id.clone().unwrap_or_else(|| format!("{i:010}")),
                item: s.clone(),
            })
            .collect();
        page(
            &self.shared.name,
            "list_form_submissions",
            rows,
            request,
            self.shared.page_size,
            true,
        )
    }

    async fn list_memberships(
        &self,
        list_id: &str,
        request: &ListRequest,
    ) -> Result<Page<MembershipChange>> {
        self.source_begin("list_memberships", Stream::ListMemberships)?;
        let rows = self
            .state()
            .memberships
            .iter()
            .enumerate()
            .filter(|(_, m)| m.list_id == list_id)
            .map(|(i, m)| Row {
                at: m.at,
                id: format!("{i:010}"),
                item: m.clone(),
            })
            .collect();
        page(
            &self.shared.name,
            "list_memberships",
            rows,
            request,
            self.shared.page_size,
            true,
        )
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        self.shared
            .faults
            .check(&self.shared.name, "parse_webhook")?;
        let err = |kind, message: String| {
            Error::new(kind, message)
                .with_connector(self.shared.name.clone())
                .with_operation("parse_webhook")
        };
        if !self.shared.capabilities.webhooks {
            return Err(Error::unsupported(
                self.shared.name.clone(),
                "parse_webhook",
            ));
        }
        if let Some(secret) = &self.shared.webhook_secret
            && request.header(CRM_SECRET_HEADER) != Some(secret.as_str())
        {
            return Err(err(
                ErrorKind::Signature,
                "missing or wrong webhook secret".into(),
            ));
        }
        let body: Body = serde_json::from_slice(&request.body)
            .map_err(|e| err(ErrorKind::Decode, format!("webhook body: {e}")))?;
        Ok(body.events.into_iter().map(|e| self.to_event(e)).collect())
    }
}
