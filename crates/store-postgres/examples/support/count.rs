//! What the `many_workers` example and the multi-process test share: the worker of one
//! process (a handler that counts events per person under the person's lock) and the events.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cartograph_connector::{NotificationKind, WebhookNotification};
use cartograph_http::{HttpClient, Request};
use cartograph_model::{RecordKind, SourceRef, Timestamp};
use cartograph_store_postgres::PgStore;
use cartograph_sync::{
    BatchReport, Counters, Handler, ItemOutcome, NewQueuedEvent, Store, WorkItem, Worker,
    WorkerConfig,
};

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Adds one per event to its person's ledger row, holding the person's lock.
pub struct CountPerPerson {
    pub store: Arc<PgStore>,
    pub name: String,
    /// A vendor to call once per batch (through its client's shared quota), if any.
    pub vendor: Option<HttpClient>,
}

pub fn person(item: &WorkItem) -> String {
    match item {
        WorkItem::CommerceNotification { notification } => {
            format!("person:{}", notification.source.id)
        }
        other => format!("other:{}", other.record()),
    }
}

#[async_trait]
impl Handler for CountPerPerson {
    async fn handle(&self, items: &[WorkItem]) -> Vec<ItemOutcome> {
        if let Some(vendor) = &self.vendor {
            if vendor.send(Request::get("/batch")).await.is_err() {
                return items.iter().map(|_| retry("vendor call failed")).collect();
            }
        }
        let people: Vec<String> = items.iter().map(person).collect();
        // Short, so a killed worker's people are free again soon (a batch takes milliseconds).
        let hold = Duration::from_secs(3);
        let Ok(held) = self
            .store
            .lock_subjects(&self.name, &people, hold, Timestamp::now())
            .await
        else {
            return items.iter().map(|_| retry("lock failed")).collect();
        };
        let mine: Vec<String> = people
            .iter()
            .zip(&held)
            .filter(|(_, h)| **h)
            .map(|(p, _)| p.clone())
            .collect();
        let mut counts: HashMap<String, u64> = HashMap::new();
        if let Ok(rows) = self.store.ledger_rows(&mine).await {
            for (p, row) in mine.iter().zip(rows) {
                counts.insert(p.clone(), row.and_then(|r| r.parse().ok()).unwrap_or(0));
            }
        } else {
            let _ = self.store.unlock_subjects(&self.name, &mine).await;
            return items.iter().map(|_| retry("ledger read failed")).collect();
        }
        let mut outcomes = Vec::with_capacity(items.len());
        for (p, h) in people.iter().zip(&held) {
            if *h {
                *counts.entry(p.clone()).or_default() += 1;
                outcomes.push(ItemOutcome::Done);
            } else {
                outcomes.push(ItemOutcome::Defer {
                    until: Timestamp::now().saturating_add(time::Duration::milliseconds(20)),
                    reason: format!("{p} is held by another worker"),
                });
            }
        }
        let rows: Vec<(String, String)> = counts
            .into_iter()
            .map(|(p, n)| (p, n.to_string()))
            .collect();
        let saved = self.store.save_ledger_rows(&rows).await;
        let _ = self.store.unlock_subjects(&self.name, &mine).await;
        if saved.is_err() {
            return items.iter().map(|_| retry("ledger write failed")).collect();
        }
        outcomes
    }
}

pub fn retry(why: &str) -> ItemOutcome {
    ItemOutcome::Retry {
        error: cartograph_connector::Error::new(cartograph_connector::ErrorKind::Unavailable, why),
    }
}

pub fn notification(n: u64, people: u64) -> Result<NewQueuedEvent, Failure> {
    let item = WorkItem::CommerceNotification {
        notification: WebhookNotification {
            id: format!("evt-{n}"),
            source: SourceRef::new("shop", RecordKind::Customer, format!("c{}", n % people)),
            topic: "store/customer/updated".into(),
            kind: NotificationKind::Updated,
            occurred_at: Timestamp::now(),
        },
    };
    Ok(NewQueuedEvent {
        key: format!("shop:evt-{n}"),
        source: "shop".into(),
        kind: item.kind().into(),
        payload: serde_json::to_string(&item)?,
        not_before: Timestamp::now(),
    })
}

/// Runs one worker over `store` until the queue has been empty for a second.
pub async fn work(
    store: Arc<PgStore>,
    name: String,
    batch_size: usize,
    vendor: Option<HttpClient>,
) -> Result<BatchReport, Failure> {
    let handler = Arc::new(CountPerPerson {
        store: Arc::clone(&store),
        name: name.clone(),
        vendor,
    });
    let worker = Worker::new(
        Arc::clone(&store) as Arc<dyn Store>,
        handler,
        Arc::new(Counters::default()),
        WorkerConfig {
            name,
            batch_size,
            lease_for: Duration::from_secs(3),
            idle_poll: Duration::from_secs(2),
            retry_base: Duration::from_millis(50),
            ..WorkerConfig::default()
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let watcher = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut empty_since: Option<Instant> = None;
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let total = store
                    .queue_stats(Timestamp::now())
                    .await
                    .map_or(1, |s| s.total());
                if total == 0 {
                    if empty_since.get_or_insert_with(Instant::now).elapsed()
                        > Duration::from_secs(1)
                    {
                        let _ = stop.send(true);
                        return;
                    }
                } else {
                    empty_since = None;
                }
            }
        })
    };
    let report = worker.run(stopped).await?;
    watcher.abort();
    Ok(report)
}

/// Per-person counts against what `events` spread over `people` should give:
/// (counted, lost, repeated).
pub async fn tally(store: &PgStore, events: u64, people: u64) -> Result<(u64, u64, u64), Failure> {
    let keys: Vec<String> = (0..people).map(|p| format!("person:c{p}")).collect();
    let counts = store.ledger_rows(&keys).await?;
    let (mut lost, mut repeated, mut total) = (0_u64, 0_u64, 0_u64);
    for (p, count) in counts.iter().enumerate() {
        let p = u64::try_from(p)?;
        let expected = events / people + u64::from(p < events % people);
        let got: u64 = count.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
        total += got;
        lost += expected.saturating_sub(got);
        repeated += got.saturating_sub(expected);
    }
    Ok((total, lost, repeated))
}
