//! Contracts of [`CommerceSource`]. Each function takes the source loaded with exactly the
//! records of `seed` (ids as the source reports them: see [`Seed::map_ids`]).

use std::collections::{BTreeMap, BTreeSet};

use cartograph_connector::{CommerceSource, ListRequest, Stream, WebhookRequest};
use cartograph_model::Timestamp;

use super::support::{COMMERCE_STREAMS, assert_unsupported, drain_rows, list};
use crate::fixtures::Seed;

/// Page sizes the listing contracts use.
const LIMITS: [u32; 3] = [1, 2, 5];

/// Streams the source lists, in a stable order.
fn listed(src: &dyn CommerceSource) -> Vec<Stream> {
    let caps = src.capabilities();
    COMMERCE_STREAMS
        .into_iter()
        .filter(|s| caps.can_list(*s))
        .collect()
}

/// Listing every declared stream with small page sizes (1, 2, 5) returns every seeded record
/// exactly once: no duplicates across pages, no gaps, nothing extra, ids exactly as seeded
/// (leading zeros and non-numeric ids included), and the listing ends.
pub async fn lists_every_record_exactly_once(src: &dyn CommerceSource, seed: &Seed) {
    let name = src.name().to_owned();
    for stream in listed(src) {
        let expected: BTreeSet<String> = seed.ids(stream).into_iter().collect();
        for limit in LIMITS {
            let rows = drain_rows(
                src,
                stream,
                &ListRequest::all().with_limit(limit),
                expected.len(),
            )
            .await;
            let mut seen = BTreeMap::<&str, usize>::new();
            for r in &rows {
                assert!(
                    !r.id.is_empty() && r.id.trim() == r.id,
                    "conformance [{name}] {} listed an empty or padded id {:?}",
                    stream.as_str(),
                    r.id
                );
                *seen.entry(r.id.as_str()).or_default() += 1;
            }
            let duplicates: Vec<_> = seen
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(id, _)| *id)
                .collect();
            assert!(
                duplicates.is_empty(),
                "conformance [{name}] listing {} with limit {limit} returned ids more than once: {duplicates:?}",
                stream.as_str()
            );
            let got: BTreeSet<String> = seen.keys().map(|s| (*s).to_owned()).collect();
            let missing: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "conformance [{name}] listing {} with limit {limit}: missing {missing:?}, unexpected {extra:?}",
                stream.as_str()
            );
        }
    }
}

/// Lists the whole stream and picks a `since` in the middle of the modification times.
async fn middle_since(
    src: &dyn CommerceSource,
    stream: Stream,
    seed: &Seed,
) -> Option<(Timestamp, Vec<(String, Timestamp)>)> {
    let name = src.name().to_owned();
    let all = drain_rows(src, stream, &ListRequest::all(), seed.ids(stream).len()).await;
    let mut times: Vec<(String, Timestamp)> = all
        .into_iter()
        .map(|r| {
            let at = r.modified.unwrap_or_else(|| {
                panic!(
                    "conformance [{name}] {} is a delta stream but record {} has no modification time",
                    stream.as_str(),
                    r.id
                )
            });
            (r.id, at)
        })
        .collect();
    if times.len() < 2 {
        return None;
    }
    times.sort_by_key(|(_, at)| *at);
    let since = times[times.len() / 2].1;
    Some((since, times))
}

/// For every delta stream, `since` returns exactly the records modified at or after it (none
/// older, none missing, no duplicates), also across small pages.
pub async fn since_returns_records_modified_at_or_after(src: &dyn CommerceSource, seed: &Seed) {
    let name = src.name().to_owned();
    let caps = src.capabilities();
    for stream in listed(src).into_iter().filter(|s| caps.can_delta(*s)) {
        let Some((since, all)) = middle_since(src, stream, seed).await else {
            continue;
        };
        let expected: BTreeSet<&str> = all
            .iter()
            .filter(|(_, at)| *at >= since)
            .map(|(id, _)| id.as_str())
            .collect();
        let rows = drain_rows(
            src,
            stream,
            &ListRequest::since(since).with_limit(2),
            all.len(),
        )
        .await;
        let mut got = BTreeSet::new();
        for r in &rows {
            let at = r.modified.unwrap_or(Timestamp::UNIX_EPOCH);
            assert!(
                at >= since,
                "conformance [{name}] {} since {since} returned {} modified {at}, before since",
                stream.as_str(),
                r.id
            );
            assert!(
                got.insert(r.id.as_str()),
                "conformance [{name}] {} since {since} returned {} twice",
                stream.as_str(),
                r.id
            );
        }
        let missing: Vec<_> = expected.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "conformance [{name}] {} since {since} missed records modified at or after it: {missing:?}",
            stream.as_str()
        );
    }
}

/// For every delta stream, a `since` listing comes oldest modification first across pages.
pub async fn since_lists_oldest_first(src: &dyn CommerceSource, seed: &Seed) {
    let name = src.name().to_owned();
    let caps = src.capabilities();
    for stream in listed(src).into_iter().filter(|s| caps.can_delta(*s)) {
        let Some((_, all)) = middle_since(src, stream, seed).await else {
            continue;
        };
        let earliest = all[0].1;
        let rows = drain_rows(
            src,
            stream,
            &ListRequest::since(earliest).with_limit(2),
            all.len(),
        )
        .await;
        for pair in rows.windows(2) {
            assert!(
                pair[0].modified <= pair[1].modified,
                "conformance [{name}] {} since-listing is not oldest first: {} ({:?}) came before {} ({:?})",
                stream.as_str(),
                pair[0].id,
                pair[0].modified,
                pair[1].id,
                pair[1].modified
            );
        }
    }
}

/// `get_customer`, `get_order`, `get_product` and `get_cart` return the seeded record for its
/// id (same id, email, total and currency, name, value). A getter answering `Unsupported` is
/// skipped.
pub async fn get_by_id_returns_seeded_record(src: &dyn CommerceSource, seed: &Seed) {
    let name = src.name().to_owned();
    let missing = |what: &str, id: &str| -> ! {
        panic!("conformance [{name}] get_{what}({id:?}) returned None for a seeded record")
    };
    let skip = |e: &cartograph_connector::Error, what: &str| {
        assert!(
            e.kind() == cartograph_connector::ErrorKind::Unsupported,
            "conformance [{name}] get_{what} failed: {e}"
        );
    };
    for c in &seed.customers {
        match src.get_customer(&c.source.id).await {
            Ok(Some(got)) => {
                assert_eq!(
                    got.source.id, c.source.id,
                    "conformance [{name}] get_customer id"
                );
                assert_eq!(
                    got.email.as_ref().map(|e| e.normalized().to_owned()),
                    c.email.as_ref().map(|e| e.normalized().to_owned()),
                    "conformance [{name}] get_customer({:?}) email",
                    c.source.id
                );
            }
            Ok(None) => missing("customer", &c.source.id),
            Err(e) => {
                skip(&e, "customer");
                break;
            }
        }
    }
    for o in &seed.orders {
        match src.get_order(&o.source.id).await {
            Ok(Some(got)) => {
                assert_eq!(
                    got.source.id, o.source.id,
                    "conformance [{name}] get_order id"
                );
                assert_eq!(
                    (got.currency, got.total),
                    (o.currency, o.total),
                    "conformance [{name}] get_order({:?}) currency and total must be exact",
                    o.source.id
                );
            }
            Ok(None) => missing("order", &o.source.id),
            Err(e) => {
                skip(&e, "order");
                break;
            }
        }
    }
    for p in &seed.products {
        match src.get_product(&p.source.id).await {
            Ok(Some(got)) => assert_eq!(
                (&got.source.id, &got.name),
                (&p.source.id, &p.name),
                "conformance [{name}] get_product"
            ),
            Ok(None) => missing("product", &p.source.id),
            Err(e) => {
                skip(&e, "product");
                break;
            }
        }
    }
    for c in &seed.carts {
        match src.get_cart(&c.source.id).await {
            Ok(Some(got)) => assert_eq!(
                (&got.source.id, got.value),
                (&c.source.id, c.value),
                "conformance [{name}] get_cart"
            ),
            Ok(None) => missing("cart", &c.source.id),
            Err(e) => {
                skip(&e, "cart");
                break;
            }
        }
    }
}

/// Getters answer `Ok(None)` (not an error) for ids that do not exist; `get_order_refunds` of
/// a missing order is empty or `NotFound`.
pub async fn get_missing_returns_none(src: &dyn CommerceSource) {
    let name = src.name().to_owned();
    let id = "999999991";
    let check = |what: &str, result: cartograph_connector::Result<bool>| match result {
        Ok(false) => {}
        Ok(true) => {
            panic!("conformance [{name}] get_{what}({id:?}) found a record that does not exist")
        }
        Err(e) if e.kind() == cartograph_connector::ErrorKind::Unsupported => {}
        Err(e) => panic!(
            "conformance [{name}] get_{what}({id:?}) must be Ok(None) for a missing id, got {e}"
        ),
    };
    check("customer", src.get_customer(id).await.map(|r| r.is_some()));
    check("order", src.get_order(id).await.map(|r| r.is_some()));
    check("product", src.get_product(id).await.map(|r| r.is_some()));
    check(
        "cart",
        src.get_cart("00000000-0000-4000-8000-999999999999")
            .await
            .map(|r| r.is_some()),
    );
    match src.get_order_refunds(id).await {
        Ok(refunds) => assert!(
            refunds.is_empty(),
            "conformance [{name}] get_order_refunds of a missing order returned refunds"
        ),
        Err(e) => assert!(
            matches!(
                e.kind(),
                cartograph_connector::ErrorKind::NotFound
                    | cartograph_connector::ErrorKind::Unsupported
            ),
            "conformance [{name}] get_order_refunds of a missing order: {e}"
        ),
    }
}

/// `get_order_refunds` returns each seeded refund under its order, and only that order's
/// refunds. Skipped when it answers `Unsupported`.
pub async fn order_refunds_belong_to_their_order(src: &dyn CommerceSource, seed: &Seed) {
    let name = src.name().to_owned();
    for r in &seed.refunds {
        let refunds = match src.get_order_refunds(&r.order.id).await {
            Ok(refunds) => refunds,
            Err(e) if e.kind() == cartograph_connector::ErrorKind::Unsupported => return,
            Err(e) => panic!(
                "conformance [{name}] get_order_refunds({:?}) failed: {e}",
                r.order.id
            ),
        };
        assert!(
            refunds
                .iter()
                .any(|got| got.source.id == r.source.id && got.amount == r.amount),
            "conformance [{name}] get_order_refunds({:?}) lacks refund {:?} of {}",
            r.order.id,
            r.source.id,
            r.amount
        );
        assert!(
            refunds.iter().all(|got| got.order.id == r.order.id),
            "conformance [{name}] get_order_refunds({:?}) returned another order's refund",
            r.order.id
        );
    }
}

/// Streams outside `Capabilities::list` answer `Unsupported`, streams inside do not; every
/// delta stream is listable; `parse_webhook` answers `Unsupported` exactly when webhooks are
/// not declared.
pub async fn unsupported_operations_match_capabilities(src: &dyn CommerceSource) {
    let name = src.name().to_owned();
    let caps = src.capabilities();
    for stream in &caps.delta {
        assert!(
            caps.can_list(*stream),
            "conformance [{name}] {} is declared delta but not listable",
            stream.as_str()
        );
    }
    let probe = ListRequest::all().with_limit(1);
    for stream in COMMERCE_STREAMS {
        let result = list(src, stream, &probe).await;
        let what = format!("list_{}", stream.as_str());
        if caps.can_list(stream) {
            super::support::expect_supported(&name, &what, result);
        } else {
            assert_unsupported(&name, &what, result);
        }
    }
    let request = WebhookRequest::post(
        "https://hooks.example/conformance",
        Vec::new(),
        b"{}".to_vec(),
    );
    let result = src.parse_webhook(&request);
    if caps.webhooks {
        if let Err(e) = result {
            assert!(
                e.kind() != cartograph_connector::ErrorKind::Unsupported,
                "conformance [{name}] declares webhooks but parse_webhook answered Unsupported"
            );
        }
    } else {
        assert_unsupported(&name, "parse_webhook", result);
    }
}

/// Runs every `CommerceSource` contract.
pub async fn run_all(src: &dyn CommerceSource, seed: &Seed) {
    lists_every_record_exactly_once(src, seed).await;
    since_returns_records_modified_at_or_after(src, seed).await;
    since_lists_oldest_first(src, seed).await;
    get_by_id_returns_seeded_record(src, seed).await;
    get_missing_returns_none(src).await;
    order_refunds_belong_to_their_order(src, seed).await;
    unsupported_operations_match_capabilities(src).await;
}
