//! Group commit for [`Store::enqueue`](cartograph_sync::Store::enqueue): concurrent calls are
//! gathered for up to `group_window` (or `max_group` events) and written by one `INSERT` in
//! one transaction, so one WAL flush acknowledges the whole group. `commit_lanes` groups
//! commit at once; while they do, the next group gathers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cartograph_sync::{EnqueueOutcome, NewQueuedEvent, StoreError, StoreResult};
use deadpool_postgres::Pool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::error;
use crate::ops::ENQUEUE;

/// One caller's events and where to send its outcomes.
pub(crate) struct Job {
    pub(crate) events: Vec<NewQueuedEvent>,
    pub(crate) reply: oneshot::Sender<StoreResult<Vec<EnqueueOutcome>>>,
}

/// Settings of the committer.
#[derive(Debug, Clone)]
pub(crate) struct GroupSettings {
    pub(crate) window: Duration,
    pub(crate) max_group: usize,
    pub(crate) lanes: usize,
    pub(crate) channel: String,
}

/// Runs until every sender is dropped: gathers jobs into groups and commits each group on a
/// free lane.
pub(crate) async fn run(pool: Pool, mut jobs: mpsc::Receiver<Job>, settings: GroupSettings) {
    let lanes = Arc::new(Semaphore::new(settings.lanes.max(1)));
    let settings = Arc::new(settings);
    loop {
        // Wait for a free lane first: while every lane commits, jobs pile up in the channel
        // and the next group is larger.
        let Ok(lane) = Arc::clone(&lanes).acquire_owned().await else {
            return;
        };
        let Some(first) = jobs.recv().await else {
            return;
        };
        let mut size = first.events.len();
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + settings.window;
        while size < settings.max_group {
            let next = if settings.window.is_zero() {
                jobs.try_recv().ok()
            } else {
                tokio::time::timeout_at(deadline, jobs.recv())
                    .await
                    .unwrap_or_default()
            };
            let Some(job) = next else { break };
            size += job.events.len();
            group.push(job);
        }
        let pool = pool.clone();
        let settings = Arc::clone(&settings);
        tokio::spawn(async move {
            commit(&pool, group, &settings.channel).await;
            drop(lane);
        });
    }
}

/// Commits a group; when it fails for a reason other than a transient one and holds more
/// than one job, each job is committed on its own so one bad event fails only its caller.
async fn commit(pool: &Pool, group: Vec<Job>, channel: &str) {
    let events: Vec<&NewQueuedEvent> = group.iter().flat_map(|j| &j.events).collect();
    match insert(pool, &events, channel).await {
        Ok(outcomes) => answer(group, outcomes),
        Err(e) if group.len() > 1 && !e.is_retryable() => {
            tracing::debug!(error = %e, jobs = group.len(), "group commit failed; committing jobs one by one");
            for job in group {
                let events: Vec<&NewQueuedEvent> = job.events.iter().collect();
                let result = insert(pool, &events, channel).await;
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            for job in group {
                let _ = job.reply.send(Err(error::copy(&e)));
            }
        }
    }
}

fn answer(group: Vec<Job>, outcomes: Vec<EnqueueOutcome>) {
    let mut outcomes = outcomes.into_iter();
    for job in group {
        let mine: Vec<EnqueueOutcome> = outcomes.by_ref().take(job.events.len()).collect();
        let _ = job.reply.send(Ok(mine));
    }
}

/// One `INSERT` for all `events` (retried at once on a serialization failure or deadlock);
/// one outcome per event, in order: the first event of a key that was inserted is `Queued`,
/// every other is `Duplicate`.
async fn insert(
    pool: &Pool,
    events: &[&NewQueuedEvent],
    channel: &str,
) -> StoreResult<Vec<EnqueueOutcome>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
    let sources: Vec<&str> = events.iter().map(|e| e.source.as_str()).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
    let due: Vec<i64> = events.iter().map(|e| e.not_before.unix_millis()).collect();
    let mut tries = 0;
    let rows = loop {
        let client = pool.get().await.map_err(|e| error::pool(&e))?;
        let now_ms = cartograph_model::Timestamp::now().unix_millis();
        let attempt = async {
            let stmt = client.prepare_cached(ENQUEUE).await?;
            client
                .query(
                    &stmt,
                    &[&keys, &sources, &kinds, &payloads, &due, &now_ms, &channel],
                )
                .await
        }
        .await;
        match attempt {
            Ok(rows) => break rows,
            Err(e) if error::is_conflict(&e) && tries < 4 => tries += 1,
            Err(e) => return Err(error::pg(&e)),
        }
    };
    let mut inserted: HashMap<String, i64> = rows
        .iter()
        .map(|r| (r.get::<_, String>(1), r.get::<_, i64>(0)))
        .collect();
    if inserted.len() > events.len() {
        return Err(StoreError::Backend(
            "enqueue returned more rows than events".to_owned(),
        ));
    }
    Ok(events
        .iter()
        .map(|e| {
            inserted
                .remove(&e.key)
                .map_or(EnqueueOutcome::Duplicate, EnqueueOutcome::Queued)
        })
        .collect())
}
