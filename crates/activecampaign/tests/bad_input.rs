//! The bad-input corpus of `parse_webhook` (issue #19's standing suite): every case, built
//! here in code, ends as a typed rejection (kind asserted, the field named where the problem
//! is a field) or parsed events, never a panic; the counts per category are asserted.
//! Property tests feed arbitrary bytes and mutated valid bodies through the same entry point.
//!
//! ActiveCampaign neither signs deliveries nor sends a timestamp or a delivery id: a shared
//! secret in the URL path (or a proxy header) authenticates, so "stale" and "replayed" have
//! no meaning here beyond the secret check, and the store's dedupe sees no vendor key.

#![allow(clippy::unwrap_used)]

use std::sync::LazyLock;

use cartograph_activecampaign::{ActiveCampaign, ActiveCampaignConfig};
use cartograph_connector::{CrmSource, ErrorKind, WebhookRequest};
use cartograph_http::Secret;
use cartograph_model::{CrmEvent, CrmEventKind};
use proptest::prelude::*;

const SECRET: &str = "s3cret-hook";
const HOOK: &str = "https://host/hooks/ac/s3cret-hook";
/// `date_time` first and `contact[id]` last: every proper prefix lacks the type or the id.
const BODY: &str = "date_time=2024-05-01T10%3A00%3A00-05%3A00&type=update&initiated_by=admin&contact%5Bemail%5D=ada%40example.com&contact%5Bfirst_name%5D=Ada&contact%5Bid%5D=7";

/// One connector for every property case (building a client per case is slow).
static CONNECTOR: LazyLock<ActiveCampaign> = LazyLock::new(|| connector(None));

fn connector(header: Option<&str>) -> ActiveCampaign {
    let config = ActiveCampaignConfig::builder(Secret::new("api-token"))
        .account("acme")
        .webhook_secret(Secret::new(SECRET), header.map(str::to_owned))
        .build()
        .unwrap();
    ActiveCampaign::new(config).unwrap()
}

fn delivery(body: &[u8]) -> WebhookRequest {
    WebhookRequest::post(HOOK, Vec::new(), body.to_vec())
}

/// Outcomes of one category: parsed events and rejections.
#[derive(Default)]
struct Tally {
    parsed: Vec<CrmEvent>,
    rejected: usize,
}

impl Tally {
    /// Runs one case that must be rejected with `kind`, naming `field` when given.
    fn reject(
        &mut self,
        ac: &ActiveCampaign,
        label: &str,
        r: &WebhookRequest,
        kind: ErrorKind,
        field: Option<&str>,
    ) {
        let err = ac
            .parse_webhook(r)
            .err()
            .unwrap_or_else(|| panic!("{label}: accepted"));
        assert_eq!(err.kind(), kind, "{label}: {err}");
        if let Some(field) = field {
            let named =
                err.field().is_some_and(|f| f.contains(field)) || err.message().contains(field);
            assert!(named, "{label}: error does not name {field}: {err}");
        }
        self.rejected += 1;
    }

    fn accept(&mut self, ac: &ActiveCampaign, label: &str, r: &WebhookRequest) -> usize {
        match ac.parse_webhook(r) {
            Ok(events) => {
                let n = events.len();
                self.parsed.extend(events);
                n
            }
            Err(err) => panic!("{label}: rejected: {err}"),
        }
    }
}

#[test]
fn every_truncation_of_a_valid_body_is_a_decode_error() {
    let ac = connector(None);
    let mut t = Tally::default();
    for len in 0..BODY.len() {
        t.reject(
            &ac,
            &format!("prefix {len}"),
            &delivery(&BODY.as_bytes()[..len]),
            ErrorKind::Decode,
            None,
        );
    }
    assert_eq!(t.accept(&ac, "whole body", &delivery(BODY.as_bytes())), 2);
    assert_eq!((t.rejected, t.parsed.len()), (BODY.len(), 2));
}

#[test]
fn bad_values_are_decode_errors_naming_the_field() {
    let ac = connector(None);
    let mut t = Tally::default();
    let ids = [
        "",
        "%20",
        "abc",
        "-7",
        "7.5",
        "1e3",
        "..%2F..%2Fcontacts",
        "%FF",
        "7%00",
    ];
    for id in ids {
        let body = BODY.replace("contact%5Bid%5D=7", &format!("contact%5Bid%5D={id}"));
        t.reject(
            &ac,
            &format!("contact[id] = {id:?}"),
            &delivery(body.as_bytes()),
            ErrorKind::Decode,
            Some("contact[id]"),
        );
    }
    for time in [
        "",
        "yesterday",
        "2024-13-01T00%3A00%3A00Z",
        "1714575600",
        "2024-05-01T25%3A00%3A00Z",
    ] {
        let body = BODY.replace("2024-05-01T10%3A00%3A00-05%3A00", time);
        t.reject(
            &ac,
            &format!("date_time = {time:?}"),
            &delivery(body.as_bytes()),
            ErrorKind::Decode,
            Some("date_time"),
        );
    }
    let no_type = BODY.replace("type=update&", "");
    t.reject(
        &ac,
        "no type",
        &delivery(no_type.as_bytes()),
        ErrorKind::Decode,
        Some("type"),
    );
    let no_id = BODY.replace("&contact%5Bid%5D=7", "");
    t.reject(
        &ac,
        "no contact[id]",
        &delivery(no_id.as_bytes()),
        ErrorKind::Decode,
        Some("contact[id]"),
    );
    // An unknown type stays visible as `Unhandled`.
    let unknown = BODY.replace("type=update", "type=deal_add");
    assert_eq!(
        t.accept(&ac, "unknown type", &delivery(unknown.as_bytes())),
        1
    );
    assert!(
        matches!(&t.parsed[0].kind, CrmEventKind::Unhandled { topic, .. } if topic == "deal_add")
    );
    assert_eq!((t.rejected, t.parsed.len()), (9 + 5 + 2, 1));
}

#[test]
fn huge_nested_and_non_utf8_bodies_end_typed() {
    let ac = connector(None);
    let mut t = Tally::default();
    // Form bodies do not nest: 10,000 brackets are one odd key, ignored.
    let deep = format!("{}&{}=x", BODY, "%5B".repeat(10_000));
    assert_eq!(t.accept(&ac, "10,000 [", &delivery(deep.as_bytes())), 2);
    t.reject(
        &ac,
        "only brackets",
        &delivery("[".repeat(10_000).as_bytes()),
        ErrorKind::Decode,
        None,
    );
    let big = format!("{BODY}&contact%5Bfirst_name%5D={}", "x".repeat(4 << 20));
    assert_eq!(t.accept(&ac, "4 MiB value", &delivery(big.as_bytes())), 2);
    let mut many = BODY.to_owned();
    for i in 0..20_000 {
        many.push_str("&contact%5Bfields%5D%5Bf");
        many.push_str(&i.to_string());
        many.push_str("%5D=v");
    }
    assert_eq!(
        t.accept(&ac, "20,000 custom fields", &delivery(many.as_bytes())),
        20_002
    );
    // Invalid UTF-8 in a value is replaced (U+FFFD), not a panic; in the id it is no id.
    let mut raw = BODY.as_bytes().to_vec();
    let at = BODY.find("Ada").unwrap();
    raw.splice(at..at, [0xFF, 0xC3, 0x28]);
    assert_eq!(t.accept(&ac, "bad utf8 in a name", &delivery(&raw)), 2);
    let mut raw = BODY.as_bytes().to_vec();
    raw.extend([0xFF, 0xFE]);
    t.reject(
        &ac,
        "bad utf8 in the id",
        &delivery(&raw),
        ErrorKind::Decode,
        Some("contact[id]"),
    );
    t.reject(
        &ac,
        "all 0xFF",
        &delivery(&[0xFF; 64]),
        ErrorKind::Decode,
        None,
    );
    assert_eq!((t.rejected, t.parsed.len()), (3, 2 + 2 + 20_002 + 2));
}

#[test]
fn a_wrong_missing_or_near_secret_is_a_signature_error() {
    let mut t = Tally::default();
    let path = connector(None);
    let header = connector(Some("x-hook-secret"));
    t.accept(&path, "path secret", &delivery(BODY.as_bytes()));
    for url in [
        "https://host/hooks/ac",
        "https://host/hooks/ac/",
        "https://host/hooks/ac/s3cret-hoo",
        "https://host/hooks/ac/s3cret-hookx",
        "https://host/hooks/ac/S3CRET-HOOK",
        "https://host/hooks/ac/s3cret-hook/extra",
        "not a url",
    ] {
        let r = WebhookRequest::post(url, Vec::new(), BODY.as_bytes().to_vec());
        t.reject(&path, url, &r, ErrorKind::Signature, None);
    }
    let with = |v: &str| {
        WebhookRequest::post(
            "https://host/hooks/ac",
            vec![("X-Hook-Secret".into(), v.into())],
            BODY.as_bytes().to_vec(),
        )
    };
    t.accept(&header, "header secret", &with(SECRET));
    for v in ["", "s3cret", "wrong", "s3cret-hook2"] {
        t.reject(
            &header,
            &format!("header {v:?}"),
            &with(v),
            ErrorKind::Signature,
            None,
        );
    }
    t.reject(
        &header,
        "secret in the path, header expected",
        &delivery(BODY.as_bytes()),
        ErrorKind::Signature,
        None,
    );
    // No secret configured at all: refused (intake answers 500), never accepted
    // unauthenticated, whatever the URL carries.
    let open = ActiveCampaign::new(
        ActiveCampaignConfig::builder(Secret::new("api-token"))
            .account("acme")
            .build()
            .unwrap(),
    )
    .unwrap();
    for url in [HOOK, "https://host/hooks/ac", "https://host/hooks/ac/"] {
        let r = WebhookRequest::post(url, Vec::new(), BODY.as_bytes().to_vec());
        t.reject(
            &open,
            &format!("no secret configured, {url}"),
            &r,
            ErrorKind::Config,
            Some("webhook_secret"),
        );
    }
    assert_eq!((t.parsed.len(), t.rejected), (2 + 2, 7 + 4 + 1 + 3));
}

/// A typed outcome: parsed, or a kind a host dead-letters (never a panic).
fn settles(ac: &ActiveCampaign, r: &WebhookRequest) -> Result<(), TestCaseError> {
    if let Err(err) = ac.parse_webhook(r) {
        prop_assert!(
            matches!(err.kind(), ErrorKind::Decode | ErrorKind::Signature),
            "unexpected kind: {err}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        settles(&CONNECTOR, &delivery(&body))?;
    }

    #[test]
    fn mutated_valid_bodies_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut body = BODY.as_bytes().to_vec();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        if truncate {
            body.truncate(cut.index(body.len()));
        }
        settles(&CONNECTOR, &delivery(&body))?;
    }
}
