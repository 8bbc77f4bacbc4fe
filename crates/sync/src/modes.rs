//! Listing modes: backfill (full history, resumable from a checkpoint, marked historical so
//! CRM automations do not fire), delta (from checkpoints with an overlap window,
//! de-duplicated), and catch-up since a date.
//!
//! Pages go straight to the [`Handler`]; items that fail with a retryable error are handed to
//! the durable queue so the worker retries them, and permanent failures become dead letters:
//! the listing itself never stops on one bad record, and the checkpoint only moves past a page
//! once every record of it is settled.

use std::sync::Arc;
use std::time::Duration;

use cartograph_connector::{CommerceSource, Cursor, ErrorKind, ListRequest, Page, Stream};
use cartograph_model::{CommerceEvent, CommerceEventKind, Origin, Timestamp};
use serde::{Deserialize, Serialize};

use crate::observe::Counters;
use crate::queue_item::{ItemOutcome, WorkItem};
use crate::store::{NewDeadLetter, NewQueuedEvent, Store, StoreError, StoreResult};
use crate::worker::Handler;

/// Listing settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListConfig {
    /// Page size asked of the source (clamped by the connector).
    pub page_size: u32,
    /// How far before the checkpoint a delta starts again, to catch records written late with
    /// an earlier modification time. Records seen twice are skipped by their version key.
    #[serde(with = "crate::serde_millis")]
    pub overlap: Duration,
    /// How long a page waits for customers another worker holds (their events are retried
    /// in the listing until then) before handing them to the queue. A holder that died keeps
    /// its people for at most the engine's `subject_lock_for`, so the default waits past that.
    #[serde(with = "crate::serde_millis", default = "default_busy_wait")]
    pub busy_wait: Duration,
}

fn default_busy_wait() -> Duration {
    Duration::from_secs(40)
}

impl Default for ListConfig {
    fn default() -> Self {
        Self {
            page_size: 100,
            overlap: Duration::from_secs(300),
            busy_wait: default_busy_wait(),
        }
    }
}

/// What a listing run did per stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListReport {
    /// Records read.
    pub read: u64,
    /// Records skipped as already processed (overlap or resume).
    pub skipped: u64,
    /// Records handled successfully.
    pub handled: u64,
    /// Records handed to the queue for retry.
    pub queued_for_retry: u64,
    /// Records dead-lettered.
    pub dead_lettered: u64,
    /// Pages read.
    pub pages: u64,
}

impl ListReport {
    fn add(&mut self, other: &ListReport) {
        self.read += other.read;
        self.skipped += other.skipped;
        self.handled += other.handled;
        self.queued_for_retry += other.queued_for_retry;
        self.dead_lettered += other.dead_lettered;
        self.pages += other.pages;
    }
}

/// A listing failure that stops the run (the source itself failed, or the store).
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The source could not be listed (after its own retries).
    #[error("listing {stream} failed: {error}")]
    Source {
        /// The stream.
        stream: &'static str,
        /// The error.
        error: cartograph_connector::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs listings of one commerce source into a handler.
#[derive(Clone)]
pub struct Lister {
    source: Arc<dyn CommerceSource>,
    store: Arc<dyn Store>,
    handler: Arc<dyn Handler>,
    counters: Arc<Counters>,
    config: ListConfig,
}

impl std::fmt::Debug for Lister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lister")
            .field("source", &self.source.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

enum Phase {
    Backfill,
    Delta,
    CatchUp(Timestamp),
}

impl Lister {
    /// A lister.
    pub fn new(
        source: Arc<dyn CommerceSource>,
        store: Arc<dyn Store>,
        handler: Arc<dyn Handler>,
        counters: Arc<Counters>,
        config: ListConfig,
    ) -> Self {
        Self {
            source,
            store,
            handler,
            counters,
            config,
        }
    }

    /// Lists the full history of `streams` in order, as historical records. Resumes from the
    /// saved cursor after a crash; a stream whose backfill finished is not listed again.
    pub async fn backfill(&self, streams: &[Stream]) -> Result<ListReport, ListError> {
        self.run(streams, &Phase::Backfill).await
    }

    /// Lists what changed since each stream's checkpoint (minus the overlap), as live records.
    pub async fn delta(&self, streams: &[Stream]) -> Result<ListReport, ListError> {
        self.run(streams, &Phase::Delta).await
    }

    /// Lists what changed since `since`, as live records, and moves the checkpoints forward.
    pub async fn catch_up(
        &self,
        streams: &[Stream],
        since: Timestamp,
    ) -> Result<ListReport, ListError> {
        self.run(streams, &Phase::CatchUp(since)).await
    }

    async fn run(&self, streams: &[Stream], phase: &Phase) -> Result<ListReport, ListError> {
        let mut total = ListReport::default();
        for &stream in streams {
            let report = self.run_stream(stream, phase).await?;
            tracing::info!(
                source = self.source.name(),
                stream = stream.as_str(),
                ?report,
                "stream listed"
            );
            total.add(&report);
        }
        Ok(total)
    }

    async fn run_stream(&self, stream: Stream, phase: &Phase) -> Result<ListReport, ListError> {
        let source = self.source.name().to_owned();
        let key = format!("{}:{}", stream.as_str(), phase_name(phase));
        let mut checkpoint = self
            .store
            .checkpoint(&source, &key)
            .await?
            .unwrap_or_default();
        let mut report = ListReport::default();
        let (since, origin) = match phase {
            Phase::Backfill if checkpoint.backfill_done => return Ok(report),
            Phase::Backfill => (None, Origin::Historical),
            Phase::Delta => {
                let from = match checkpoint.since {
                    Some(s) => Some(s),
                    // A first delta starts where the backfill ended, if there was one.
                    None => self
                        .store
                        .checkpoint(&source, &format!("{}:backfill", stream.as_str()))
                        .await?
                        .and_then(|c| c.since),
                };
                (
                    from.map(|s| s.saturating_sub(to_time(self.config.overlap))),
                    Origin::Live,
                )
            }
            Phase::CatchUp(since) => (Some(*since), Origin::Live),
        };
        let request = ListRequest {
            since,
            cursor: checkpoint.cursor.clone().map(Cursor::new),
            limit: Some(self.config.page_size),
        };
        let mut high_water = checkpoint.since;
        let mut page = self.fetch(stream, &request).await?;
        loop {
            report.pages += 1;
            let next = page.next.clone();
            // The next page is read while this one is written, so listing latency hides under
            // the CRM writes. The checkpoint still moves only once this page is settled: after
            // a crash the prefetched page is read again.
            let settle = self.settle_page(stream, page.items, origin);
            let (settled, fetched) = match &next {
                Some(cursor) => {
                    let ahead = ListRequest {
                        cursor: Some(cursor.clone()),
                        ..request.clone()
                    };
                    let (settled, fetched) = tokio::join!(settle, self.fetch(stream, &ahead));
                    (settled, Some(fetched))
                }
                None => (settle.await, None),
            };
            let (page_report, newest) = settled?;
            report.add(&page_report);
            if let Some(newest) = newest {
                high_water = Some(high_water.map_or(newest, |h| h.max(newest)));
            }
            checkpoint.cursor = next.as_ref().map(|c| c.as_str().to_owned());
            checkpoint.saved_at = Some(Timestamp::now());
            if next.is_none() {
                checkpoint.since = high_water.or(Some(Timestamp::now()));
                if matches!(phase, Phase::Backfill) {
                    checkpoint.backfill_done = true;
                }
            }
            self.store
                .save_checkpoint(&source, &key, &checkpoint)
                .await?;
            // A failed read of the next page surfaces only now, after this page's progress
            // is saved.
            match fetched {
                Some(fetched) => page = fetched?,
                None => break,
            }
        }
        if matches!(phase, Phase::CatchUp(_)) {
            // A catch-up also moves the delta checkpoint, so the next delta continues from here.
            let delta_key = format!("{}:delta", stream.as_str());
            let mut delta = self
                .store
                .checkpoint(&source, &delta_key)
                .await?
                .unwrap_or_default();
            if delta.since < checkpoint.since {
                delta.since = checkpoint.since;
                delta.saved_at = Some(Timestamp::now());
                self.store
                    .save_checkpoint(&source, &delta_key, &delta)
                    .await?;
            }
        }
        Ok(report)
    }

    async fn fetch(
        &self,
        stream: Stream,
        request: &ListRequest,
    ) -> Result<Page<CommerceEvent>, ListError> {
        let source = &*self.source;
        let name = source.name();
        let err = |error| ListError::Source {
            stream: stream.as_str(),
            error,
        };
        let now = Timestamp::now();
        let event = |kind: CommerceEventKind, src, at: Option<Timestamp>| CommerceEvent {
            id: None,
            source: src,
            occurred_at: at.unwrap_or(now),
            origin: Origin::Live,
            kind,
        };
        let page = match stream {
            Stream::Customers => source.list_customers(request).await.map_err(err)?.map(|c| {
                let (src, at) = (c.source.clone(), c.updated_at.or(c.created_at));
                event(
                    CommerceEventKind::CustomerUpdated {
                        customer: Box::new(c),
                    },
                    src,
                    at,
                )
            }),
            Stream::Orders => source.list_orders(request).await.map_err(err)?.map(|o| {
                let (src, at) = (o.source.clone(), o.updated_at.or(Some(o.created_at)));
                event(
                    CommerceEventKind::OrderPlaced { order: Box::new(o) },
                    src,
                    at,
                )
            }),
            Stream::Refunds => source.list_refunds(request).await.map_err(err)?.map(|r| {
                let (src, at) = (r.source.clone(), Some(r.created_at));
                event(
                    CommerceEventKind::OrderRefunded {
                        refund: Box::new(r),
                        order: None,
                    },
                    src,
                    at,
                )
            }),
            Stream::Products => source.list_products(request).await.map_err(err)?.map(|p| {
                let (src, at) = (p.source.clone(), p.updated_at.or(p.created_at));
                event(
                    CommerceEventKind::ProductUpserted {
                        product: Box::new(p),
                    },
                    src,
                    at,
                )
            }),
            Stream::Carts => source.list_carts(request).await.map_err(err)?.map(|c| {
                let (src, at) = (c.source.clone(), c.updated_at.or(c.created_at));
                event(
                    CommerceEventKind::CartUpdated { cart: Box::new(c) },
                    src,
                    at,
                )
            }),
            other => {
                return Err(ListError::Source {
                    stream: other.as_str(),
                    error: cartograph_connector::Error::unsupported(name.to_owned(), "list"),
                });
            }
        };
        Ok(page)
    }

    /// Handles one page and settles every record; returns the report and the newest
    /// modification time among records that were fully handled or parked durably.
    async fn settle_page(
        &self,
        stream: Stream,
        events: Vec<CommerceEvent>,
        origin: Origin,
    ) -> StoreResult<(ListReport, Option<Timestamp>)> {
        let mut report = ListReport {
            read: events.len() as u64,
            ..ListReport::default()
        };
        self.counters.add_read(events.len() as u64);
        let newest = events.iter().map(|e| e.occurred_at).max();
        let keys: Vec<String> = events.iter().map(version_key).collect();
        let seen = self.store.processed(&keys).await?;
        let mut items = Vec::new();
        let mut item_keys = Vec::new();
        for ((mut event, key), seen) in events.into_iter().zip(keys).zip(seen) {
            if seen {
                report.skipped += 1;
                continue;
            }
            event.origin = origin;
            items.push(WorkItem::CommerceEvent {
                event: Box::new(event),
            });
            item_keys.push(key);
        }
        if items.is_empty() {
            return Ok((report, newest));
        }
        let mut done = Vec::new();
        let mut retry = Vec::new();
        let deadline = std::time::Instant::now() + self.config.busy_wait;
        loop {
            let outcomes = self.handler.handle(&items).await;
            let mut busy_items = Vec::new();
            let mut busy_keys = Vec::new();
            let mut busy_until: Option<Timestamp> = None;
            for ((item, key), outcome) in items.into_iter().zip(item_keys).zip(outcomes) {
                match outcome {
                    ItemOutcome::Done => {
                        report.handled += 1;
                        done.push(key);
                    }
                    ItemOutcome::Retry { error } | ItemOutcome::Park { error, .. } => {
                        if error.kind() == ErrorKind::RateLimited {
                            self.counters.add_rate_limited(1);
                        }
                        retry.push(self.requeue(&item, key, Timestamp::now())?);
                    }
                    // Another worker holds the person: wait for it here while the page may.
                    ItemOutcome::Defer { until, .. } => {
                        if std::time::Instant::now() < deadline {
                            busy_until = Some(busy_until.map_or(until, |u| u.min(until)));
                            busy_items.push(item);
                            busy_keys.push(key);
                        } else {
                            retry.push(self.requeue(&item, key, until)?);
                        }
                    }
                    ItemOutcome::Dead { stage, error } => {
                        report.dead_lettered += 1;
                        self.counters.add_dead_lettered(1);
                        self.store
                            .add_dead_letter(&NewDeadLetter {
                                record: item.record(),
                                stage: stage.to_owned(),
                                error_kind: error.kind().as_str().to_owned(),
                                message: error.to_string(),
                                attempts: 1,
                                payload_kind: item.kind().to_owned(),
                                payload: encode(&item)?,
                                source: self.source.name().to_owned(),
                                at: Timestamp::now(),
                            })
                            .await?;
                    }
                }
            }
            let Some(until) = busy_until else { break };
            let wait = (until - Timestamp::now())
                .try_into()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(10), Duration::from_secs(1));
            tracing::debug!(
                stream = stream.as_str(),
                busy = busy_items.len(),
                "waiting for customers held by another worker"
            );
            tokio::time::sleep(wait).await;
            items = busy_items;
            item_keys = busy_keys;
        }
        if !retry.is_empty() {
            report.queued_for_retry += retry.len() as u64;
            self.counters.add_retried(retry.len() as u64);
            self.store.enqueue(&retry).await?;
        }
        if !done.is_empty() {
            self.store.mark_processed(&done, Timestamp::now()).await?;
        }
        tracing::debug!(
            stream = stream.as_str(),
            handled = report.handled,
            "page settled"
        );
        Ok((report, newest))
    }
}

impl Lister {
    fn requeue(
        &self,
        item: &WorkItem,
        key: String,
        not_before: Timestamp,
    ) -> StoreResult<NewQueuedEvent> {
        NewQueuedEvent::for_item(key, self.source.name(), item, not_before).map_err(encode_error)
    }
}

fn encode(item: &WorkItem) -> StoreResult<String> {
    serde_json::to_string(item).map_err(encode_error)
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` passes
fn encode_error(e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("cannot encode work item: {e}"))
}

/// The processed-key of a listed record version: the record and its modification time, so
/// an overlap re-read is skipped but a later change is not.
pub fn version_key(event: &CommerceEvent) -> String {
    format!("{}@{}", event.source, event.occurred_at.unix_millis())
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Backfill => "backfill",
        Phase::Delta | Phase::CatchUp(_) => "delta",
    }
}

fn to_time(d: Duration) -> time::Duration {
    time::Duration::try_from(d).unwrap_or(time::Duration::HOUR)
}
