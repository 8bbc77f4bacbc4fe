//! Helpers shared by the suites: listing any commerce stream as `(id, modified)` rows and
//! draining it with loop guards.

use std::collections::BTreeSet;

use cartograph_connector::{
    CommerceSource, Cursor, ErrorKind, ListRequest, Page, RecordOutcome, Result, Stream,
    WriteStatus,
};
use cartograph_model::Timestamp;

/// Every stream a `CommerceSource` can list.
pub(crate) const COMMERCE_STREAMS: [Stream; 8] = [
    Stream::Customers,
    Stream::Orders,
    Stream::Refunds,
    Stream::Products,
    Stream::Categories,
    Stream::Brands,
    Stream::CustomerGroups,
    Stream::Carts,
];

/// One listed record, reduced to what the contracts check.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) modified: Option<Timestamp>,
}

fn rows<T>(page: Page<T>, f: impl Fn(&T) -> Row) -> Page<Row> {
    Page {
        items: page.items.iter().map(f).collect(),
        next: page.next,
    }
}

/// Lists one page of `stream`.
pub(crate) async fn list(
    src: &dyn CommerceSource,
    stream: Stream,
    request: &ListRequest,
) -> Result<Page<Row>> {
    Ok(match stream {
        Stream::Customers => rows(src.list_customers(request).await?, |c| Row {
            id: c.source.id.clone(),
            modified: c.updated_at.or(c.created_at),
        }),
        Stream::Orders => rows(src.list_orders(request).await?, |o| Row {
            id: o.source.id.clone(),
            modified: Some(o.updated_at.unwrap_or(o.created_at)),
        }),
        Stream::Refunds => rows(src.list_refunds(request).await?, |r| Row {
            id: r.source.id.clone(),
            modified: Some(r.created_at),
        }),
        Stream::Products => rows(src.list_products(request).await?, |p| Row {
            id: p.source.id.clone(),
            modified: p.updated_at.or(p.created_at),
        }),
        Stream::Categories => rows(src.list_categories(request).await?, |c| Row {
            id: c.source.id.clone(),
            modified: None,
        }),
        Stream::Brands => rows(src.list_brands(request).await?, |b| Row {
            id: b.source.id.clone(),
            modified: None,
        }),
        Stream::CustomerGroups => rows(src.list_customer_groups(request).await?, |g| Row {
            id: g.source.id.clone(),
            modified: None,
        }),
        Stream::Carts => rows(src.list_carts(request).await?, |c| Row {
            id: c.source.id.clone(),
            modified: c.updated_at.or(c.created_at),
        }),
        other => panic!("conformance: {} is not a commerce stream", other.as_str()),
    })
}

/// Follows `next` until the last page, panicking on errors, repeated cursors or listings
/// that never end (`expected` bounds the number of pages).
pub(crate) async fn drain_rows(
    src: &dyn CommerceSource,
    stream: Stream,
    request: &ListRequest,
    expected: usize,
) -> Vec<Row> {
    let name = src.name().to_owned();
    let max_pages = expected * 2 + 10;
    let mut out = Vec::new();
    let mut cursors: BTreeSet<String> = BTreeSet::new();
    let mut cursor: Option<Cursor> = None;
    for _ in 0..max_pages {
        let page = list(src, stream, &request.at(cursor.clone()))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "conformance [{name}] listing {} failed at cursor {cursor:?}: {e}",
                    stream.as_str()
                )
            });
        out.extend(page.items);
        match page.next {
            None => return out,
            Some(next) => {
                assert!(
                    cursors.insert(next.as_str().to_owned()),
                    "conformance [{name}] listing {} returned cursor {:?} twice: paging loops",
                    stream.as_str(),
                    next.as_str()
                );
                cursor = Some(next);
            }
        }
    }
    panic!(
        "conformance [{name}] listing {} did not end within {max_pages} pages",
        stream.as_str()
    )
}

/// Asserts a result is an `Unsupported` error.
pub(crate) fn assert_unsupported<T>(name: &str, what: &str, result: Result<T>) {
    match result {
        Err(e) if e.kind() == ErrorKind::Unsupported => {}
        Err(e) => panic!(
            "conformance [{name}] {what} is not in Capabilities, so it must fail with Unsupported; got {e}"
        ),
        Ok(_) => panic!(
            "conformance [{name}] {what} is not in Capabilities, so it must fail with Unsupported; it succeeded"
        ),
    }
}

/// Asserts a call declared supported did not answer `Unsupported`, and returns its value.
pub(crate) fn expect_supported<T>(name: &str, what: &str, result: Result<T>) -> T {
    match result {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::Unsupported => panic!(
            "conformance [{name}] Capabilities declare {what}, but it answered Unsupported: {e}"
        ),
        Err(e) => panic!("conformance [{name}] {what} failed: {e}"),
    }
}

/// Asserts outcomes are one per input key, in input order.
pub(crate) fn assert_outcome_keys(
    name: &str,
    what: &str,
    outcomes: &[RecordOutcome],
    keys: &[&str],
) {
    let got: Vec<&str> = outcomes.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        got, keys,
        "conformance [{name}] {what} must return one outcome per input, in input order"
    );
}

/// Short text for an outcome status, for messages.
pub(crate) fn status(outcome: &RecordOutcome) -> String {
    match &outcome.status {
        WriteStatus::Created => "Created".into(),
        WriteStatus::Updated => "Updated".into(),
        WriteStatus::Unchanged => "Unchanged".into(),
        WriteStatus::Partial { written, error } => format!("Partial({written:?}, {error})"),
        WriteStatus::Failed(e) => format!("Failed({e})"),
    }
}
