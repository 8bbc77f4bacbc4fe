//! Shared plumbing of the in-memory connectors: a controllable clock, fault injection and
//! keyset paging with opaque cursors.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use cartograph_connector::{Cursor, Error, ErrorKind, ListRequest, Page, Result};
use cartograph_model::Timestamp;
use time::UtcDateTime;

/// Locks a mutex, recovering the data if a panicking test poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The time the in-memory connectors stamp on writes.
///
/// By default it follows the system clock but never repeats or goes back (each reading is at
/// least one microsecond after the previous one). [`Clock::set`] freezes it at a chosen
/// instant; [`Clock::advance`] moves a frozen clock forward. Clones share the same clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    inner: Arc<Mutex<ClockState>>,
}

#[derive(Debug, Default)]
struct ClockState {
    frozen: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Clock {
    /// The current time by this clock.
    pub fn now(&self) -> Timestamp {
        let mut state = lock(&self.inner);
        if let Some(frozen) = state.frozen {
            return frozen;
        }
        let mut now = Timestamp::now();
        if let Some(last) = state.last
            && now <= last
        {
            now = last.saturating_add(time::Duration::microseconds(1));
        }
        state.last = Some(now);
        now
    }

    /// Freezes the clock at `at`.
    pub fn set(&self, at: Timestamp) {
        lock(&self.inner).frozen = Some(at);
    }

    /// Moves the clock forward by `by` (freezing it at the current time first if it was
    /// following the system clock).
    pub fn advance(&self, by: Duration) {
        let now = self.now();
        let by = time::Duration::try_from(by).unwrap_or(time::Duration::MAX);
        lock(&self.inner).frozen = Some(now.saturating_add(by));
    }

    /// Follows the system clock again.
    pub fn unfreeze(&self) {
        lock(&self.inner).frozen = None;
    }
}

/// Fault injection and call counting for an in-memory connector.
///
/// Every trait call first asks the injector; a matching rule makes the whole call fail with an
/// error of the configured kind (retryable kinds are retryable, so pipelines can test their
/// retries and dead letters). Clones share the same rules and counts.
///
/// ```
/// use cartograph_connector::{CrmSink, ErrorKind};
/// use cartograph_testkit::memory::MemoryCrm;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let crm = MemoryCrm::new();
/// crm.faults().fail_next_op("upsert_contacts", 1, ErrorKind::Unavailable);
/// let err = crm.upsert_contacts(&[]).await.unwrap_err();
/// assert!(err.is_retryable());
/// assert!(crm.upsert_contacts(&[]).await.is_ok());
/// assert_eq!(crm.faults().calls("upsert_contacts"), 2);
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<FaultState>>,
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<Rule>,
    records: BTreeMap<String, ErrorKind>,
    calls: BTreeMap<String, usize>,
}

#[derive(Debug)]
struct Rule {
    operation: Option<String>,
    remaining: usize,
    kind: ErrorKind,
    retry_after: Option<Duration>,
}

impl Faults {
    /// Fails the next `n` calls of any operation with `kind`.
    pub fn fail_next(&self, n: usize, kind: ErrorKind) {
        self.push(None, n, kind, None);
    }

    /// Fails the next `n` calls of `operation` (the trait method name, e.g.
    /// `"upsert_contacts"`) with `kind`.
    pub fn fail_next_op(&self, operation: &str, n: usize, kind: ErrorKind) {
        self.push(Some(operation.to_owned()), n, kind, None);
    }

    /// Fails the next `n` calls of `operation` with [`ErrorKind::RateLimited`] carrying a
    /// `retry_after`.
    pub fn rate_limit_next(&self, operation: &str, n: usize, retry_after: Duration) {
        self.push(
            Some(operation.to_owned()),
            n,
            ErrorKind::RateLimited,
            Some(retry_after),
        );
    }

    /// Makes every write of the input with this key fail (a per-record `Failed` outcome with
    /// `kind`) until [`Faults::clear`].
    pub fn fail_record(&self, key: &str, kind: ErrorKind) {
        lock(&self.inner).records.insert(key.to_owned(), kind);
    }

    /// Removes every rule and record failure (call counts are kept).
    pub fn clear(&self) {
        let mut state = lock(&self.inner);
        state.rules.clear();
        state.records.clear();
    }

    /// How many times `operation` was called (including calls that failed).
    pub fn calls(&self, operation: &str) -> usize {
        lock(&self.inner).calls.get(operation).copied().unwrap_or(0)
    }

    /// Calls per operation.
    pub fn call_counts(&self) -> BTreeMap<String, usize> {
        lock(&self.inner).calls.clone()
    }

    fn push(
        &self,
        operation: Option<String>,
        n: usize,
        kind: ErrorKind,
        retry_after: Option<Duration>,
    ) {
        if n == 0 {
            return;
        }
        lock(&self.inner).rules.push(Rule {
            operation,
            remaining: n,
            kind,
            retry_after,
        });
    }

    /// Counts the call and fails it when a rule matches.
    pub(crate) fn check(&self, connector: &str, operation: &'static str) -> Result<()> {
        let mut state = lock(&self.inner);
        *state.calls.entry(operation.to_owned()).or_default() += 1;
        let index = state
            .rules
            .iter()
            .position(|r| r.operation.as_deref() == Some(operation))
            .or_else(|| state.rules.iter().position(|r| r.operation.is_none()));
        let Some(index) = index else {
            return Ok(());
        };
        let rule = &mut state.rules[index];
        rule.remaining -= 1;
        let kind = rule.kind;
        let retry_after = rule.retry_after;
        if rule.remaining == 0 {
            state.rules.remove(index);
        }
        let mut err = Error::new(kind, "injected fault")
            .with_connector(connector.to_owned())
            .with_operation(operation);
        if let Some(status) = status_for(kind) {
            err = err.with_status(status);
        }
        if let Some(after) = retry_after {
            err = err.with_retry_after(after);
        }
        Err(err)
    }

    /// The injected failure for one record, if any.
    pub(crate) fn record_failure(
        &self,
        connector: &str,
        operation: &'static str,
        key: &str,
    ) -> Option<Error> {
        let kind = *lock(&self.inner).records.get(key)?;
        Some(
            Error::new(kind, "injected record fault")
                .with_connector(connector.to_owned())
                .with_operation(operation)
                .with_record(key.to_owned()),
        )
    }
}

fn status_for(kind: ErrorKind) -> Option<u16> {
    Some(match kind {
        ErrorKind::Unauthorized => 401,
        ErrorKind::Forbidden => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::Conflict => 409,
        ErrorKind::Invalid => 400,
        ErrorKind::RateLimited | ErrorKind::QuotaExhausted => 429,
        ErrorKind::Unavailable => 503,
        ErrorKind::Timeout => 504,
        _ => return None,
    })
}

/// One listable record: its modification time (sort key), its id (tie-break) and the record.
pub(crate) struct Row<T> {
    pub(crate) at: Timestamp,
    pub(crate) id: String,
    pub(crate) item: T,
}

const CURSOR_PREFIX: &str = "mem1.";

/// Keyset paging: rows sorted by `(at, id)`, filtered by `since` (when `delta`), continued
/// after the position a cursor encodes, at most `max` per page (`request.limit` lowers it).
pub(crate) fn page<T>(
    connector: &str,
    operation: &'static str,
    mut rows: Vec<Row<T>>,
    request: &ListRequest,
    max: usize,
    delta: bool,
) -> Result<Page<T>> {
    rows.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    let after = match &request.cursor {
        Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| {
            Error::new(ErrorKind::Invalid, "malformed cursor")
                .with_connector(connector.to_owned())
                .with_operation(operation)
                .with_field("cursor")
        })?),
        None => None,
    };
    let since = if delta { request.since } else { None };
    let limit = request
        .limit
        .map_or(max, |l| usize::try_from(l).unwrap_or(max))
        .clamp(1, max.max(1));
    let mut remaining = rows.into_iter().filter(|row| {
        since.is_none_or(|s| row.at >= s)
            && after
                .as_ref()
                .is_none_or(|(at, id)| (row.at, row.id.as_str()) > (*at, id.as_str()))
    });
    let mut items = Vec::new();
    let mut last = None;
    for row in remaining.by_ref().take(limit) {
        last = Some((row.at, row.id));
        items.push(row.item);
    }
    let next = if remaining.next().is_some() {
        last.map(|(at, id)| encode_cursor(at, &id))
    } else {
        None
    };
    Ok(Page { items, next })
}

fn encode_cursor(at: Timestamp, id: &str) -> Cursor {
    Cursor::new(format!(
        "{CURSOR_PREFIX}{}.{id}",
        at.as_utc().unix_timestamp_nanos()
    ))
}

fn decode_cursor(cursor: &Cursor) -> Option<(Timestamp, String)> {
    let rest = cursor.as_str().strip_prefix(CURSOR_PREFIX)?;
    let (nanos, id) = rest.split_once('.')?;
    let nanos: i128 = nanos.parse().ok()?;
    let at = UtcDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some((Timestamp::from(at), id.to_owned()))
}

/// The modification time used for sorting: `updated`, else `created`, else the epoch.
pub(crate) fn modified(updated: Option<Timestamp>, created: Option<Timestamp>) -> Timestamp {
    updated.or(created).unwrap_or(Timestamp::UNIX_EPOCH)
}
