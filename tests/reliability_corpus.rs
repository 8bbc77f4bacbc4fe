//! Bad-input corpus through the real intake (`cartograph::sync::Intake`) on a SQLite store:
//! every malformed, truncated, mistyped, huge, deeply nested, non-UTF-8 or badly signed
//! BigCommerce delivery ends as a typed refusal (401/413) or a dead letter, never a panic and
//! never a silent drop (a 200 that neither queued, deduplicated nor dead-lettered anything).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cartograph::bigcommerce::config::DEFAULT_SECRET_HEADER;
use cartograph::bigcommerce::{BigCommerce, BigCommerceConfig};
use cartograph::connector::WebhookRequest;
use cartograph::model::Timestamp;
use cartograph::store_sqlite::SqliteStore;
use cartograph::sync::{DeadLetterFilter, Intake, Store};

const SECRET: &str = "hdr-secret-corpus";

fn valid(id: u64, hash: &str) -> String {
    format!(
        r#"{{"scope":"store/order/created","store_id":"1","data":{{"type":"order","id":{id}}},"hash":"{hash}","created_at":1700000000,"producer":"stores/abc123"}}"#
    )
}

fn request(secret: Option<&str>, body: Vec<u8>) -> WebhookRequest {
    let headers = secret
        .map(|s| vec![(DEFAULT_SECRET_HEADER.to_owned(), s.to_owned())])
        .unwrap_or_default();
    WebhookRequest::post("https://host/hooks/bc", headers, body)
}

/// (name, secret, body): bodies a vendor, a flaky network or an attacker could send.
fn corpus() -> Vec<(String, Option<&'static str>, Vec<u8>)> {
    let good = valid(1, "h1");
    let mut cases: Vec<(String, Option<&'static str>, Vec<u8>)> = Vec::new();
    for cut in [1, 10, good.len() / 2, good.len() - 1] {
        cases.push((
            format!("truncated at {cut}"),
            Some(SECRET),
            good.as_bytes()[..cut].to_vec(),
        ));
    }
    for body in [
        "",
        "null",
        "[]",
        "42",
        "\"text\"",
        "{",
        "{}",
        r#"{"scope":7}"#,
        r#"{"scope":"store/order/created","data":"x"}"#,
        r#"{"scope":"store/order/created","data":{"type":"order","id":"abc"},"hash":"h","created_at":1}"#,
        r#"{"scope":"store/order/created","data":{"type":"order","id":-1},"hash":"h","created_at":1}"#,
        r#"{"scope":"store/order/created","data":{"type":"order","id":1.5},"hash":"h","created_at":1}"#,
        r#"{"scope":"store/order/created","data":{"type":"order","id":null},"hash":"h","created_at":1}"#,
        r#"{"scope":"store/order/created","data":{"type":"order","id":1},"hash":"h","created_at":"yesterday"}"#,
    ] {
        cases.push((format!("malformed {body}"), Some(SECRET), body.into()));
    }
    let mut nested = "[".repeat(100_000);
    nested.push_str(&"]".repeat(100_000));
    cases.push(("deeply nested".into(), Some(SECRET), nested.into_bytes()));
    cases.push((
        "huge (over the body limit)".into(),
        Some(SECRET),
        vec![b' '; 2 * 1024 * 1024],
    ));
    let mut utf8 = valid(2, "h2").into_bytes();
    utf8.insert(10, 0xff);
    cases.push(("invalid UTF-8".into(), Some(SECRET), utf8));
    cases.push(("no secret".into(), None, valid(3, "h3").into()));
    cases.push(("wrong secret".into(), Some("guess"), valid(4, "h4").into()));
    cases
}

#[tokio::test]
async fn every_bad_delivery_is_refused_or_dead_lettered_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("c.sqlite")).unwrap());
    let intake = Intake::new(Arc::clone(&store));
    let config = BigCommerceConfig::builder("abc123", "t")
        .webhook_header_secret(SECRET)
        .build()
        .unwrap();
    let bc = BigCommerce::new(config).unwrap();

    let (mut queued, mut dead, mut refused) = (0, 0, 0);
    for (name, secret, body) in corpus() {
        let r = intake.commerce(&bc, &request(secret, body)).await;
        match r.status {
            200 => assert!(
                r.queued + r.duplicates + r.dead_lettered > 0,
                "{name}: 200 with nothing stored is a silent drop: {r:?}"
            ),
            401 | 413 => {
                assert!(r.error.is_some(), "{name}: refusal without a reason");
                assert_eq!(r.queued + r.dead_lettered, 0, "{name}: refused yet stored");
                refused += 1;
            }
            other => panic!("{name}: unexpected status {other}: {r:?}"),
        }
        queued += r.queued;
        dead += r.dead_lettered;
    }
    // Two valid events (distinct ids, one with a blank hash) and a redelivery of the first.
    for (body, want) in [
        (valid(10, "h10"), (1, 0)),
        (valid(11, ""), (1, 0)),
        (valid(10, "h10"), (0, 1)),
    ] {
        let r = intake
            .commerce(&bc, &request(Some(SECRET), body.into()))
            .await;
        assert_eq!((r.status, r.queued, r.duplicates), (200, want.0, want.1));
        queued += r.queued;
    }

    assert_eq!(
        refused, 3,
        "no secret, wrong secret and the huge body are refused"
    );
    let letters = store
        .dead_letters(&DeadLetterFilter::default())
        .await
        .unwrap();
    assert_eq!(letters.len(), dead, "every dead letter reported is stored");
    assert!(
        dead >= 18,
        "the malformed bodies are dead letters, got {dead}"
    );
    let ready = store.queue_stats(Timestamp::now()).await.unwrap().ready;
    assert_eq!(u64::try_from(queued).unwrap(), ready);
    assert!(
        letters.iter().all(|l| !l.payload.contains(SECRET)),
        "secrets are never stored in dead letters"
    );
}

/// A CRM delivery without vendor event ids (ActiveCampaign stamps whole seconds): every
/// change of one contact in one second is its own event, and only a redelivery dedupes.
#[tokio::test]
async fn crm_changes_of_one_contact_in_one_second_never_collapse_into_one() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("a.sqlite")).unwrap());
    let intake = Intake::new(Arc::clone(&store));
    let ac = cartograph::activecampaign::ActiveCampaign::new(
        cartograph::activecampaign::ActiveCampaignConfig::builder(cartograph::http::Secret::new(
            "api-token",
        ))
        .account("acme")
        .webhook_secret(cartograph::http::Secret::new("hook-secret"), None)
        .build()
        .unwrap(),
    )
    .unwrap();
    let post = |body: &str| {
        WebhookRequest::post(
            "https://host/webhooks/crm/hook-secret",
            Vec::new(),
            body.as_bytes().to_vec(),
        )
    };
    let at =
        "date_time=2026-01-01T10%3A00%3A00Z&contact%5Bid%5D=7&contact%5Bemail%5D=ada%40example.com";
    // One update of two fields, then a list subscription, all in the same second.
    let update = format!("type=update&initiated_by=admin&{at}&contact%5Bfirst_name%5D=Ada");
    let subscribe = format!("type=subscribe&initiated_by=public&list=3&{at}");
    let first = intake.crm(&ac, &post(&update)).await;
    assert_eq!(
        (first.status, first.queued, first.duplicates),
        (200, 2, 0),
        "{first:?}"
    );
    let second = intake.crm(&ac, &post(&subscribe)).await;
    assert_eq!(
        (second.status, second.queued, second.duplicates),
        (200, 1, 0),
        "{second:?}"
    );
    for again in [update, subscribe] {
        let r = intake.crm(&ac, &post(&again)).await;
        assert_eq!(
            (r.status, r.queued),
            (200, 0),
            "a redelivery is a duplicate: {r:?}"
        );
        assert!(r.duplicates > 0, "{r:?}");
    }
    assert_eq!(store.queue_stats(Timestamp::now()).await.unwrap().ready, 3);
}
