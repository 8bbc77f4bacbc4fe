//! [`HubSpotClient`]: builds HubSpot requests, sends them through `cartograph-http` and
//! decodes the answers. Split by resource: contacts, properties, orders (deals, orders,
//! line items, products, associations), tasks, enrollment, reading back.

mod associations;
mod contacts;
mod enroll;
mod orders;
mod properties;
mod read;
mod revenue;
mod tasks;

use std::collections::HashMap;
use std::sync::Arc;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_http::{
    Authenticator, BearerToken, HttpClient, OAuth2, OAuth2Config, RateLimiter, Request,
    RequestGate, Response,
};
use cartograph_model::Timestamp;

use crate::body::{UpsertWrite, upsert_body};
use crate::config::{ApiFlavor, HubSpotAuth, HubSpotConfig};
use crate::error::{CONNECTOR, CORRELATION_HEADER, DailyGate, HubSpotPolicy, batch_error};
use crate::wire::{
    BatchInput, BatchReadRequest, BatchResponse, ObjectId, SimpleObject, UpdateInput,
};

pub use read::{SEARCH_CAP, SearchCursor};

/// Builds the path of each resource for the configured [`ApiFlavor`].
#[derive(Debug, Clone, Copy)]
pub struct Paths {
    flavor: ApiFlavor,
}

impl Paths {
    /// Paths for `flavor`.
    pub const fn new(flavor: ApiFlavor) -> Self {
        Self { flavor }
    }

    /// `/crm/v3/objects/{type}` or `/crm/objects/2026-03/{type}`.
    pub fn objects(&self, object: &str) -> String {
        match self.flavor {
            ApiFlavor::V3 => format!("/crm/v3/objects/{object}"),
            ApiFlavor::Dated202603 => format!("/crm/objects/2026-03/{object}"),
        }
    }

    /// `/crm/v3/properties/{type}` or `/crm/properties/2026-03/{type}`.
    pub fn properties(&self, object: &str) -> String {
        match self.flavor {
            ApiFlavor::V3 => format!("/crm/v3/properties/{object}"),
            ApiFlavor::Dated202603 => format!("/crm/properties/2026-03/{object}"),
        }
    }

    /// `/crm/v3/lists` or `/crm/lists/2026-03`.
    pub fn lists(&self) -> &'static str {
        match self.flavor {
            ApiFlavor::V3 => "/crm/v3/lists",
            ApiFlavor::Dated202603 => "/crm/lists/2026-03",
        }
    }

    /// `/crm/v4/associations/{from}/{to}` or `/crm/associations/2026-03/{from}/{to}`.
    pub fn associations(&self, from: &str, to: &str) -> String {
        match self.flavor {
            ApiFlavor::V3 => format!("/crm/v4/associations/{from}/{to}"),
            ApiFlavor::Dated202603 => format!("/crm/associations/2026-03/{from}/{to}"),
        }
    }
}

/// Sends HubSpot API calls for one portal. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HubSpotClient {
    http: HttpClient,
    config: Arc<HubSpotConfig>,
    gate: Arc<DailyGate>,
    paths: Paths,
}

/// Which batch write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Upsert,
    Update,
}

/// A batch answer with the status and correlation id it came with.
pub(crate) struct BatchAnswer {
    pub(crate) status: u16,
    pub(crate) correlation: Option<String>,
    pub(crate) body: BatchResponse<SimpleObject>,
}

/// One input's result in a batch write.
pub(crate) type Slot = Result<SimpleObject, Error>;

impl HubSpotClient {
    /// Transport figures of this client (requests, retries, 429s, 5xx).
    pub fn stats(&self) -> cartograph_connector::TransportStats {
        self.http.stats()
    }

    /// A client with its own rate limiter (the portal's burst limit).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn new(config: HubSpotConfig) -> Result<Self> {
        let limit = config.rate_limit();
        // Half the window's budget may go at once unless the config names a burst.
        let limit = match limit.burst {
            Some(_) => limit,
            None => limit.with_burst(limit.requests / 2),
        };
        let limiter = RateLimiter::shared(limit)?;
        Self::with_rate_limiter(config, limiter)
    }

    /// A client sharing `limiter` with every other client of the same portal.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the config is invalid.
    pub fn with_rate_limiter(config: HubSpotConfig, limiter: Arc<RateLimiter>) -> Result<Self> {
        config.validate()?;
        let auth: Arc<dyn Authenticator> = match &config.auth {
            HubSpotAuth::PrivateApp { token } => Arc::new(BearerToken(token.clone())),
            HubSpotAuth::OAuth {
                client_id,
                client_secret,
                refresh_token,
                token_url,
            } => {
                let url = match token_url {
                    Some(url) => url.clone(),
                    None => config.base_url()?.join("/oauth/v1/token")?.to_string(),
                };
                let oauth = OAuth2Config::refresh_token(
                    &url,
                    client_id.clone(),
                    client_secret.clone(),
                    refresh_token.clone(),
                )?;
                Arc::new(OAuth2::new(oauth)?)
            }
        };
        let gate = Arc::new(DailyGate::new(config.time_zone, config.daily_limit));
        let http_config = config
            .settings
            .http_config(config.base_url()?, auth, Some(limiter));
        let http = HttpClient::new(http_config, Arc::new(HubSpotPolicy::new(Arc::clone(&gate))))?;
        Ok(Self {
            http,
            paths: Paths::new(config.api_flavor),
            config: Arc::new(config),
            gate,
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this client's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.http = self.http.with_request_gate(gate);
        self
    }

    /// The settings.
    pub fn config(&self) -> &HubSpotConfig {
        &self.config
    }

    /// The path builder.
    pub fn paths(&self) -> Paths {
        self.paths
    }

    /// When the daily quota resets, if HubSpot said it is spent.
    pub fn daily_quota_exhausted_until(&self) -> Option<Timestamp> {
        self.gate.exhausted_until()
    }

    /// Sends one request (after the daily gate).
    ///
    /// # Errors
    /// The shared error: typed from HubSpot's body, with the correlation id.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let operation = request.operation_name().to_owned();
        self.gate
            .admit(Timestamp::now())
            .map_err(|e| e.with_operation(operation))?;
        self.http.send(request).await
    }

    pub(crate) fn batch_size(&self) -> usize {
        self.config.batch_size
    }

    /// `POST {objects}/batch/read`, chunked; records not found are simply absent.
    pub(crate) async fn batch_read(
        &self,
        object: &str,
        id_property: Option<&str>,
        ids: &[String],
        properties: &[String],
        operation: &'static str,
    ) -> Result<Vec<SimpleObject>> {
        let mut unique: Vec<String> = Vec::new();
        for id in ids {
            if !unique.contains(id) {
                unique.push(id.clone());
            }
        }
        let mut out = Vec::new();
        for chunk in unique.chunks(self.batch_size()) {
            let body = BatchReadRequest {
                id_property: id_property.map(str::to_owned),
                inputs: chunk.iter().map(|id| ObjectId { id: id.clone() }).collect(),
                properties: properties.to_vec(),
                properties_with_history: Vec::new(),
            };
            let request = Request::post(format!("{}/batch/read", self.paths.objects(object)))
                .operation(operation)
                .query("archived", "false")
                .serialize_json(&body)?
                .retry_safe(true);
            let response = self.send(request).await?;
            let page: BatchResponse<SimpleObject> = response.json()?;
            out.extend(page.results);
        }
        Ok(out)
    }

    /// One batch write (`batch/upsert` or `batch/update`) of at most `batch_size` inputs,
    /// the JSON body already written.
    pub(crate) async fn batch_write_once(
        &self,
        object: &str,
        kind: WriteKind,
        body: Vec<u8>,
        operation: &'static str,
    ) -> Result<BatchAnswer> {
        let base = self.paths.objects(object);
        let request = match kind {
            WriteKind::Upsert => Request::post(format!("{base}/batch/upsert")),
            WriteKind::Update => Request::post(format!("{base}/batch/update")),
        }
        .json_bytes(body);
        // Upserts and updates by id are idempotent: safe to replay after a 5xx.
        let response = self
            .send(request.operation(operation).retry_safe(true))
            .await?;
        let correlation = response
            .headers
            .get(CORRELATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(BatchAnswer {
            status: response.status,
            correlation,
            body: response.json()?,
        })
    }

    /// Upserts `inputs` by `id_property` in chunks; one slot per input, in order.
    /// Trace ids are set to the input position. The bodies are [`upsert_body`]'s.
    pub(crate) async fn upsert_all<T: UpsertWrite + Sync>(
        &self,
        object: &str,
        id_property: &str,
        inputs: &[T],
        operation: &'static str,
    ) -> Result<Vec<Slot>> {
        let mut slots: Vec<Option<Slot>> = (0..inputs.len()).map(|_| None).collect();
        let mut written = false;
        let mut stop: Option<Error> = None;
        let size = self.batch_size();
        for (c, chunk) in inputs.chunks(size).enumerate() {
            let first = c * size;
            let positions = first..first + chunk.len();
            if let Some(err) = &stop {
                for i in positions {
                    slots[i] = Some(Err(err.clone()));
                }
                continue;
            }
            let body = upsert_body(id_property, chunk, first).into_bytes();
            let keys: Vec<(usize, String)> = chunk
                .iter()
                .enumerate()
                .map(|(n, input)| (first + n, input.id().into_owned()))
                .collect();
            match self
                .batch_write_once(object, WriteKind::Upsert, body, operation)
                .await
            {
                Ok(answer) => {
                    written = true;
                    for (i, slot) in correlate(&keys, answer, operation, |o, key| {
                        o.prop(id_property)
                            .is_some_and(|v| v.eq_ignore_ascii_case(key))
                    }) {
                        slots[i] = Some(slot);
                    }
                }
                Err(err) => {
                    if is_data_error(&err) {
                        for i in positions {
                            slots[i] = Some(Err(err.clone()));
                        }
                    } else if written {
                        for i in positions {
                            slots[i] = Some(Err(err.clone()));
                        }
                        stop = Some(err);
                    } else {
                        return Err(err);
                    }
                }
            }
        }
        Ok(finish(slots, operation))
    }

    /// Updates records by id in chunks; one slot per input, in order.
    pub(crate) async fn update_all(
        &self,
        object: &str,
        inputs: Vec<UpdateInput>,
        operation: &'static str,
    ) -> Result<Vec<Slot>> {
        let mut slots: Vec<Option<Slot>> = (0..inputs.len()).map(|_| None).collect();
        let mut written = false;
        let mut stop: Option<Error> = None;
        let indexed: Vec<(usize, UpdateInput)> = inputs.into_iter().enumerate().collect();
        for chunk in indexed.chunks(self.batch_size()) {
            if let Some(err) = &stop {
                for (i, _) in chunk {
                    slots[*i] = Some(Err(err.clone()));
                }
                continue;
            }
            let batch: Vec<UpdateInput> = chunk
                .iter()
                .map(|(i, input)| UpdateInput {
                    object_write_trace_id: Some(i.to_string()),
                    ..input.clone()
                })
                .collect();
            let keys: Vec<(usize, String)> = chunk
                .iter()
                .map(|(i, input)| (*i, input.id.clone()))
                .collect();
            let body = serde_json::to_vec(&BatchInput { inputs: batch }).map_err(|err| {
                Error::new(
                    ErrorKind::Invalid,
                    format!("cannot serialize request body: {err}"),
                )
            })?;
            match self
                .batch_write_once(object, WriteKind::Update, body, operation)
                .await
            {
                Ok(answer) => {
                    written = true;
                    for (i, slot) in correlate(&keys, answer, operation, |o, key| o.id == key) {
                        slots[i] = Some(slot);
                    }
                }
                Err(err) if is_data_error(&err) => {
                    for (i, _) in chunk {
                        slots[*i] = Some(Err(err.clone()));
                    }
                }
                Err(err) if written => {
                    for (i, _) in chunk {
                        slots[*i] = Some(Err(err.clone()));
                    }
                    stop = Some(err);
                }
                Err(err) => return Err(err),
            }
        }
        Ok(finish(slots, operation))
    }
}

fn finish(slots: Vec<Option<Slot>>, operation: &'static str) -> Vec<Slot> {
    slots
        .into_iter()
        .map(|s| {
            s.unwrap_or_else(|| {
                Err(Error::new(ErrorKind::Other, "input was not sent")
                    .with_connector(CONNECTOR)
                    .with_operation(operation))
            })
        })
        .collect()
}

/// Whether a whole-call error is about the data (fail those records, go on) rather than
/// about the call (rate limit, auth, network: stop).
pub(crate) fn is_data_error(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::NotFound
    )
}

/// Matches a batch answer to its inputs (`(position, id)`): results by trace id, then by
/// `matches`; errors by `context.objectWriteTraceId`, then `context.ids`. Inputs left
/// over get the unmatched error, or a "no result" error.
pub(crate) fn correlate(
    keys: &[(usize, String)],
    answer: BatchAnswer,
    operation: &'static str,
    matches: impl Fn(&SimpleObject, &str) -> bool,
) -> Vec<(usize, Slot)> {
    let BatchAnswer {
        status,
        correlation,
        body,
    } = answer;
    let mut slots: HashMap<usize, Slot> = HashMap::new();
    for result in body.results {
        let by_trace = result
            .object_write_trace_id
            .as_deref()
            .and_then(|t| t.parse::<usize>().ok())
            .filter(|t| keys.iter().any(|(i, _)| i == t));
        let position = by_trace.or_else(|| {
            keys.iter()
                .find(|(i, key)| !slots.contains_key(i) && matches(&result, key))
                .map(|(i, _)| *i)
        });
        if let Some(i) = position {
            slots.insert(i, Ok(result));
        }
    }
    let mut unmatched = Vec::new();
    for error in &body.errors {
        let mut targets: Vec<usize> = error
            .context
            .get("objectWriteTraceId")
            .into_iter()
            .flatten()
            .filter_map(|t| t.parse::<usize>().ok())
            .filter(|t| keys.iter().any(|(i, _)| i == t))
            .collect();
        if targets.is_empty() {
            if let Some(ids) = error.context.get("ids") {
                targets = keys
                    .iter()
                    .filter(|(_, key)| ids.iter().any(|id| id.eq_ignore_ascii_case(key)))
                    .map(|(i, _)| *i)
                    .collect();
            }
        }
        if targets.is_empty() {
            unmatched.push(error);
        }
        for i in targets {
            slots.insert(
                i,
                Err(batch_error(
                    error,
                    status,
                    correlation.as_deref(),
                    operation,
                )),
            );
        }
    }
    keys.iter()
        .map(|(i, _)| {
            let slot = slots.remove(i).unwrap_or_else(|| {
                Err(match unmatched.first() {
                    Some(error) => batch_error(error, status, correlation.as_deref(), operation),
                    None => {
                        let mut e = Error::new(
                            ErrorKind::Other,
                            "HubSpot returned no result for this input",
                        )
                        .with_connector(CONNECTOR)
                        .with_operation(operation)
                        .with_status(status);
                        if let Some(c) = &correlation {
                            e = e.with_request_id(c.clone());
                        }
                        e
                    }
                })
            });
            (*i, slot)
        })
        .collect()
}

/// Turns a write slot into an outcome for `key`.
pub(crate) fn outcome(key: &str, slot: Slot) -> RecordOutcome {
    match slot {
        Ok(object) if object.new == Some(true) => RecordOutcome::created(key, object.id),
        Ok(object) => RecordOutcome::updated(key, object.id),
        Err(err) => RecordOutcome::failed(key, err.with_record(key.to_owned())),
    }
}
