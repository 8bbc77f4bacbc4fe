//! Webhook intake: verify, enqueue durably, answer within milliseconds.
//!
//! A host's HTTP server hands the raw request to [`Intake::commerce`] or [`Intake::crm`] and
//! answers with the returned [`IntakeResponse::status`]. Nothing is fetched here: thin
//! notifications are hydrated later by a worker, so the vendor gets its answer as soon as the
//! notification is committed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cartograph_connector::{CommerceSource, CrmSource, Error, ErrorKind, WebhookRequest};
use cartograph_model::Timestamp;
use serde::Serialize;

use crate::health::Health;
use crate::queue_item::WorkItem;
use crate::store::{EnqueueOutcome, NewDeadLetter, NewQueuedEvent, Store, StoreResult};

/// What intake did with one webhook request, and the HTTP status to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeResponse {
    /// HTTP status for the vendor: 200 when stored (or a known duplicate), 401 for a bad
    /// signature, 405 for a method other than POST, 413 for a body over the limit, 500 when
    /// intake is misconfigured (no webhook secret), 503 when the store could not commit or no
    /// worker of this process can drain the queue (the vendor keeps the delivery and retries).
    pub status: u16,
    /// Notifications newly queued.
    pub queued: usize,
    /// Notifications already queued or processed (redeliveries).
    pub duplicates: usize,
    /// Echoes of this integration's own CRM writes, ignored by the loop guard.
    pub echoes: usize,
    /// Requests stored as dead letters because their body could not be parsed.
    pub dead_lettered: usize,
    /// Why the request was refused, when it was.
    pub error: Option<String>,
}

impl IntakeResponse {
    fn refused(status: u16, error: &Error) -> Self {
        Self {
            status,
            queued: 0,
            duplicates: 0,
            echoes: 0,
            dead_lettered: 0,
            error: Some(error.to_string()),
        }
    }
}

/// Largest webhook body taken by default: far above any vendor's delivery (HubSpot batches
/// at most 100 small events, BigCommerce sends one thin notification).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Most of an unparsable body kept in its dead letter; the rest is cut (and said so).
pub const DEAD_LETTER_BODY_CAP: usize = 64 * 1024;

/// Verifies webhooks and queues them durably.
#[derive(Clone)]
pub struct Intake {
    store: Arc<dyn Store>,
    health: Option<Arc<Health>>,
    max_body: usize,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// Intake writing to `store`, with no worker health attached (workers run elsewhere).
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            health: None,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// Refuses deliveries (503) while `health` says no worker of this process can drain.
    #[must_use]
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = Some(health);
        self
    }

    /// Largest body taken (default [`DEFAULT_MAX_BODY`]); larger ones answer 413 and are
    /// not stored.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Checks that hold before anything is parsed: method, size, and whether the queue is
    /// being drained.
    fn precheck(&self, source: &str, request: &WebhookRequest) -> Option<IntakeResponse> {
        if !request.method.eq_ignore_ascii_case("POST") {
            let error = Error::new(
                ErrorKind::Invalid,
                format!("webhook method {} is not POST", request.method),
            );
            tracing::warn!(source, error = %error, "webhook refused");
            return Some(IntakeResponse::refused(405, &error));
        }
        if request.body.len() > self.max_body {
            let error = Error::new(
                ErrorKind::Invalid,
                format!(
                    "webhook body of {} bytes is over the {}-byte limit",
                    request.body.len(),
                    self.max_body
                ),
            );
            tracing::warn!(source, error = %error, "webhook refused");
            return Some(IntakeResponse::refused(413, &error));
        }
        if let Some(reason) = self.health.as_ref().and_then(|h| h.refusal()) {
            let error = Error::new(ErrorKind::Unavailable, reason);
            tracing::error!(source, error = %error, "webhook refused");
            return Some(IntakeResponse::refused(503, &error));
        }
        None
    }

    /// Takes a commerce webhook: verifies it with the source's `parse_webhook` and queues
    /// each notification under its dedupe key.
    pub async fn commerce(
        &self,
        source: &dyn CommerceSource,
        request: &WebhookRequest,
    ) -> IntakeResponse {
        if let Some(refused) = self.precheck(source.name(), request) {
            return refused;
        }
        match source.parse_webhook(request) {
            Ok(notifications) => {
                let items: Vec<_> = notifications
                    .into_iter()
                    .map(|n| {
                        (
                            format!("{}:{}", source.name(), n.id),
                            WorkItem::CommerceNotification { notification: n },
                        )
                    })
                    .collect();
                self.enqueue(source.name(), items, 0).await
            }
            Err(error) => self.refuse(source.name(), request, &error).await,
        }
    }

    /// Takes a CRM webhook: verifies and parses it with the CRM source, drops echoes of this
    /// integration's own writes (loop guard), and queues the rest under their event ids.
    pub async fn crm(&self, source: &dyn CrmSource, request: &WebhookRequest) -> IntakeResponse {
        if let Some(refused) = self.precheck(source.name(), request) {
            return refused;
        }
        match source.parse_webhook(request) {
            Ok(events) => {
                let total = events.len();
                let items: Vec<_> = events
                    .into_iter()
                    .filter(|e| !e.is_own_write)
                    .map(|e| {
                        // Without a vendor event id, the key is the time, the record and
                        // a digest of what changed: a redelivery has all three, while two
                        // different changes of one contact in the same second (vendors
                        // that stamp whole seconds) must not collapse into one.
                        let key = match &e.id {
                            Some(id) => format!("{}:{id}", source.name()),
                            None => format!(
                                "{}:{}:{}:{:016x}",
                                source.name(),
                                e.occurred_at.unix_millis(),
                                WorkItem::CrmEvent {
                                    event: Box::new(e.clone())
                                }
                                .record(),
                                fnv1a(
                                    serde_json::to_string(&e.kind)
                                        .unwrap_or_default()
                                        .as_bytes()
                                )
                            ),
                        };
                        (key, WorkItem::CrmEvent { event: Box::new(e) })
                    })
                    .collect();
                let echoes = total - items.len();
                if echoes > 0 {
                    tracing::debug!(echoes, "ignored echoes of our own CRM writes");
                }
                self.enqueue(source.name(), items, echoes).await
            }
            Err(error) => self.refuse(source.name(), request, &error).await,
        }
    }

    async fn enqueue(
        &self,
        source: &str,
        items: Vec<(String, WorkItem)>,
        echoes: usize,
    ) -> IntakeResponse {
        let now = Timestamp::now();
        let mut events = Vec::with_capacity(items.len());
        for (key, item) in items {
            match NewQueuedEvent::for_item(key, source, &item, now) {
                Ok(event) => events.push(event),
                Err(e) => {
                    let error =
                        Error::new(ErrorKind::Other, format!("cannot encode work item: {e}"));
                    return IntakeResponse::refused(500, &error);
                }
            }
        }
        match with_store_retries(|| self.store.enqueue(&events)).await {
            Ok(outcomes) => {
                let queued = outcomes
                    .iter()
                    .filter(|o| matches!(o, EnqueueOutcome::Queued(_)))
                    .count();
                IntakeResponse {
                    status: 200,
                    queued,
                    duplicates: outcomes.len() - queued,
                    echoes,
                    dead_lettered: 0,
                    error: None,
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook intake could not commit to the store");
                IntakeResponse::refused(503, &Error::new(ErrorKind::Unavailable, e.to_string()))
            }
        }
    }

    /// A request that failed verification or parsing. Bad signatures are refused (401) and
    /// not stored: they are not the vendor's. With no secret configured nothing can be
    /// verified: the request is refused with 500 and not stored (the vendor retries once the
    /// host is fixed). A verified-looking request whose body cannot be parsed is kept as a
    /// dead letter so nothing is lost, and acknowledged so the vendor stops retrying a body
    /// that will never parse.
    async fn refuse(
        &self,
        source: &str,
        request: &WebhookRequest,
        error: &Error,
    ) -> IntakeResponse {
        match error.kind() {
            ErrorKind::Signature | ErrorKind::Unauthorized => {
                tracing::warn!(source, error = %error, "webhook refused");
                IntakeResponse::refused(401, error)
            }
            ErrorKind::Config => {
                tracing::error!(source, error = %error, "webhook intake is misconfigured");
                IntakeResponse::refused(500, error)
            }
            _ => {
                let letter = NewDeadLetter {
                    record: format!(
                        "{source}/webhook/{}-{:016x}",
                        request.received_at.unix_millis(),
                        fnv1a(&request.body)
                    ),
                    stage: "intake".to_owned(),
                    error_kind: error.kind().as_str().to_owned(),
                    message: error.to_string(),
                    attempts: 1,
                    payload_kind: "raw_webhook".to_owned(),
                    payload: raw_payload(request),
                    source: source.to_owned(),
                    at: request.received_at,
                };
                match with_store_retries(|| self.store.add_dead_letter(&letter)).await {
                    Ok(_) => IntakeResponse {
                        status: 200,
                        queued: 0,
                        duplicates: 0,
                        echoes: 0,
                        dead_lettered: 1,
                        error: Some(error.to_string()),
                    },
                    Err(e) => IntakeResponse::refused(
                        503,
                        &Error::new(ErrorKind::Unavailable, e.to_string()),
                    ),
                }
            }
        }
    }
}

/// Attempts of a store write at intake (the first and two retries) while the store answers
/// a retryable error (busy, locked, disk full). The waits are short (5 ms, then 25 ms): the
/// vendor is waiting for its answer, and a 503 makes it redeliver anyway.
const STORE_ATTEMPTS: u32 = 3;

/// Runs `write` until it succeeds, fails for good, or [`STORE_ATTEMPTS`] are spent. A retry
/// after a commit whose answer was lost is harmless: the keys are deduplicated.
async fn with_store_retries<T, F, Fut>(mut write: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut attempt = 1;
    loop {
        match write().await {
            Err(e) if e.is_retryable() && attempt < STORE_ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "webhook intake: store busy, retrying");
                tokio::time::sleep(Duration::from_millis(5 * 5_u64.pow(attempt - 1))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The URL as a dead letter keeps it: no query, and the path's last segment hidden when the
/// path has three or more. Vendors that sign nothing carry their shared secret there
/// (ActiveCampaign's `/webhooks/crm/<secret>`, `?token=` schemes), and a dead letter must
/// not hold a secret.
fn stored_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<unparsable url>".to_owned();
    };
    parsed.set_query(None);
    parsed.set_fragment(None);
    let _ = parsed.set_password(None);
    let _ = parsed.set_username("");
    let segments: Vec<String> = parsed
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    if segments.len() >= 3 {
        let kept = segments[..segments.len() - 1].join("/");
        parsed.set_path(&format!("{kept}/***"));
    }
    parsed.to_string()
}

/// Hides payment card numbers in `text`: runs of 13 to 19 digits (spaces or dashes between
/// them allowed) that start with 2 to 6, as card numbers do, and pass the Luhn check become
/// `[card number]`. A vendor may put payment data in a payload it should not, and a dead
/// letter must not keep it. Millisecond timestamps (they start with 1) and most ids stay.
fn redact_card_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_run = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit());
        if starts_run && let Some(end) = card_number_at(bytes, i) {
            out.push_str("[card number]");
            i = end;
            continue;
        }
        let next = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + next]);
        i += next;
    }
    out
}

/// The end of a card number starting at `start`, if one does.
fn card_number_at(bytes: &[u8], start: usize) -> Option<usize> {
    let mut digits = Vec::with_capacity(19);
    let mut end = start;
    let mut i = start;
    while i < bytes.len() && digits.len() < 20 {
        match bytes[i] {
            b @ b'0'..=b'9' => {
                digits.push(b - b'0');
                i += 1;
                end = i;
            }
            b' ' | b'-' if i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() => i += 1,
            _ => break,
        }
    }
    let followed_by_digit = bytes.get(end).is_some_and(u8::is_ascii_digit);
    if !(13..=19).contains(&digits.len()) || followed_by_digit || !(2..=6).contains(&digits[0]) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(n, d)| {
            let d = u32::from(*d);
            if n % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    (sum % 10 == 0).then_some(end)
}

/// The raw request as JSON text for a dead letter: method, URL (see [`stored_url`]), header
/// names (values can hold shared secrets) and the body as text, cut at
/// [`DEAD_LETTER_BODY_CAP`] bytes, with card numbers hidden ([`redact_card_numbers`]).
fn raw_payload(request: &WebhookRequest) -> String {
    let cut = request.body.len() > DEAD_LETTER_BODY_CAP;
    let body = &request.body[..request.body.len().min(DEAD_LETTER_BODY_CAP)];
    serde_json::json!({
        "method": request.method,
        "url": stored_url(&request.url),
        "header_names": request.headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        "body": redact_card_numbers(&String::from_utf8_lossy(body)),
        "body_bytes": request.body.len(),
        "body_truncated": cut,
        "received_at": request.received_at,
    })
    .to_string()
}

/// A stable 64-bit FNV-1a hash, the same in every process and build: intake tells apart
/// two bad deliveries that arrive in the same millisecond by it, and sampled reconciliation
/// picks the same orders everywhere.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::{redact_card_numbers, stored_url};

    #[test]
    fn card_numbers_are_hidden_and_timestamps_and_ids_kept() {
        assert_eq!(
            redact_card_numbers(r#"{"pan":"4111111111111111","id":70001,"at":1700000000000}"#),
            r#"{"pan":"[card number]","id":70001,"at":1700000000000}"#
        );
        assert_eq!(
            redact_card_numbers("card 5555 5555 5555 4444 or 3782-822463-10005, cvv é"),
            "card [card number] or [card number], cvv é"
        );
        // Not Luhn-valid, or too long, or not a card's first digit: kept.
        for kept in [
            "4111111111111112",
            "41111111111111110000",
            "9111111111111111",
        ] {
            assert_eq!(redact_card_numbers(kept), kept);
        }
    }

    #[test]
    fn a_stored_url_keeps_no_query_credentials_or_trailing_secret_segment() {
        assert_eq!(
            stored_url("https://user:pw@app.example/webhooks/crm/hook-s3cret?token=t0k#f"),
            "https://app.example/webhooks/crm/***"
        );
        assert_eq!(
            stored_url("https://app.example/webhooks/commerce?x=1"),
            "https://app.example/webhooks/commerce"
        );
        assert_eq!(stored_url("not a url"), "<unparsable url>");
    }
}
