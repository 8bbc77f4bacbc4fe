//! Pull-based paging: `Page { items, next }` and the request that asks for one.

use std::fmt;
use std::future::Future;

use cartograph_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// An opaque position in a listing, produced by a connector and handed back to it.
///
/// Connectors encode whatever they need (a vendor cursor, a page number, a time window);
/// callers store it as a checkpoint and never look inside.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// Wraps a connector-specific position.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The connector-specific text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cursor({:?})", self.0)
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The records on this page.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this was the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A last page.
    pub fn last(items: Vec<T>) -> Self {
        Self { items, next: None }
    }

    /// An empty last page.
    pub fn empty() -> Self {
        Self::last(Vec::new())
    }

    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// What to list.
///
/// `since` asks for records modified at or after that time (delta sync); connectors overlap
/// their own windows as their vendor needs. `cursor` continues a listing from a previous
/// page's `next`. `limit` is a hint: connectors clamp it to the vendor's maximum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRequest {
    /// Only records modified at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Continue from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Cursor>,
    /// Page size hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl ListRequest {
    /// Everything, from the start (a backfill).
    pub fn all() -> Self {
        Self::default()
    }

    /// Records modified since `since` (a delta).
    pub fn since(since: Timestamp) -> Self {
        Self {
            since: Some(since),
            ..Self::default()
        }
    }

    /// The same request continued at `cursor`.
    #[must_use]
    pub fn at(&self, cursor: Option<Cursor>) -> Self {
        Self {
            cursor,
            ..self.clone()
        }
    }

    /// The same request with a page size hint.
    #[must_use]
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// Follows `next` cursors until the last page and collects every item.
///
/// Meant for tests and small listings; pipelines page explicitly so they can checkpoint.
///
/// ```
/// use cartograph_connector::{drain, ListRequest, Page, Cursor, Result};
///
/// # tokio_test_block_on(async {
/// let pages = drain(&ListRequest::all(), |req: ListRequest| async move {
///     Ok::<_, cartograph_connector::Error>(match req.cursor {
///         None => Page { items: vec![1, 2], next: Some(Cursor::new("p2")) },
///         Some(_) => Page::last(vec![3]),
///     })
/// })
/// .await?;
/// assert_eq!(pages, vec![1, 2, 3]);
/// # Ok::<(), cartograph_connector::Error>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub async fn drain<T, F, Fut>(request: &ListRequest, mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(ListRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let mut out = Vec::new();
    let mut next = request.cursor.clone();
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = fetch(request.at(next.clone())).await?;
        out.extend(page.items);
        match page.next {
            Some(cursor) => {
                if !seen.insert(cursor.clone()) {
                    return Err(crate::Error::new(
                        crate::ErrorKind::Other,
                        format!("listing repeated cursor {:?}", cursor.as_str()),
                    ));
                }
                next = Some(cursor);
            }
            None => return Ok(out),
        }
    }
}
