//! Contracts of [`CrmSource`]. They write through the same system's [`CrmSink`] and, for
//! foreign changes and webhook deliveries, a [`CrmHarness`] the simulator implements.

use std::collections::{BTreeMap, BTreeSet};

use cartograph_connector::{
    CrmSink, CrmSource, Cursor, ErrorKind, ListRequest, Stream, WebhookRequest, async_trait,
};
use cartograph_model::{CrmContact, CrmEventKind, PropertyValue, Timestamp};

use super::support::{assert_unsupported, expect_supported, status};
use crate::fixtures::CrmFixture;
use crate::memory::MemoryCrm;

/// What the CRM source contracts need from a simulator beyond the traits: a way to change
/// a contact as a person would, and the webhooks the CRM would have sent.
#[async_trait]
pub trait CrmHarness: Send + Sync {
    /// Changes one contact property the way a person in the CRM UI would (not this
    /// integration). Panics when the simulator cannot.
    async fn edit_as_user(&self, crm_id: &str, property: &str, value: &str);

    /// Every webhook request the CRM would have delivered since the last call.
    async fn take_webhooks(&self) -> Vec<WebhookRequest>;
}

#[async_trait]
impl CrmHarness for MemoryCrm {
    async fn edit_as_user(&self, crm_id: &str, property: &str, value: &str) {
        if let Err(e) =
            self.edit_contact_as_user(crm_id, property, PropertyValue::String(value.to_owned()))
        {
            panic!("memory CRM harness: {e}");
        }
    }

    async fn take_webhooks(&self) -> Vec<WebhookRequest> {
        self.take_webhook().into_iter().collect()
    }
}

/// Drains `list_contacts`, panicking on errors, repeated cursors and endless listings.
async fn drain(source: &dyn CrmSource, request: &ListRequest) -> Vec<CrmContact> {
    let name = source.name().to_owned();
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let page = expect_supported(
            &name,
            "list_contacts",
            source.list_contacts(&request.at(cursor.clone())).await,
        );
        out.extend(page.items);
        match page.next {
            None => return out,
            Some(next) => {
                assert!(
                    seen.insert(next.as_str().to_owned()),
                    "conformance [{name}] list_contacts returned cursor {:?} twice",
                    next.as_str()
                );
                cursor = Some(next);
            }
        }
    }
    panic!("conformance [{name}] list_contacts did not end within 10000 pages")
}

/// Writes contacts `contract`/0..n through the sink and returns their ids.
async fn write_contacts(
    sink: &dyn CrmSink,
    fx: &CrmFixture,
    contract: &str,
    n: usize,
) -> Vec<String> {
    let name = sink.name().to_owned();
    let mut ids = Vec::new();
    for i in 0..n {
        let input = cartograph_model::ContactUpsert {
            key: fx.key(contract, i),
            identity: cartograph_model::IdentityKeys {
                email: Some(fx.email(contract, i)),
                ..Default::default()
            },
            properties: [(
                fx.contact_property.clone(),
                PropertyValue::String(format!("v{i}")),
            )]
            .into(),
            origin: cartograph_model::Origin::Live,
        };
        let out = expect_supported(
            &name,
            "upsert_contacts",
            sink.upsert_contacts(&[input]).await,
        );
        let id = match out.first() {
            Some(o) if o.is_ok() => o.id.clone(),
            Some(o) => panic!(
                "conformance [{name}] writing a valid contact failed: {}",
                status(o)
            ),
            None => panic!("conformance [{name}] upsert_contacts returned no outcome"),
        };
        let id = match id {
            Some(id) => id,
            None => expect_supported(
                &name,
                "find_contacts",
                sink.find_contacts(&[cartograph_model::IdentityKeys {
                    email: Some(fx.email(contract, i)),
                    ..Default::default()
                }])
                .await,
            )
            .into_iter()
            .flatten()
            .next()
            .map_or_else(
                || panic!("conformance [{name}] a written contact is not found"),
                |c| c.crm_id,
            ),
        };
        ids.push(id);
    }
    ids
}

/// Listing contacts with small pages returns every contact exactly once.
pub async fn list_contacts_pages_every_contact_once(
    source: &dyn CrmSource,
    sink: &dyn CrmSink,
    fx: &CrmFixture,
) {
    if !source.capabilities().can_list(Stream::Contacts) {
        return;
    }
    let name = source.name().to_owned();
    let ids = write_contacts(sink, fx, "list", 5).await;
    let listed = drain(source, &ListRequest::all().with_limit(2)).await;
    let mut counts = BTreeMap::<&str, usize>::new();
    for c in &listed {
        *counts.entry(c.crm_id.as_str()).or_default() += 1;
    }
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dupes.is_empty(),
        "conformance [{name}] list_contacts returned contacts twice: {dupes:?}"
    );
    for id in &ids {
        assert!(
            counts.contains_key(id.as_str()),
            "conformance [{name}] list_contacts missed contact {id}"
        );
    }
}

/// `list_contacts` with `since` returns only contacts changed at or after it, includes every
/// one that was, and picks up a contact changed later.
pub async fn list_contacts_since_returns_changed_contacts(
    source: &dyn CrmSource,
    sink: &dyn CrmSink,
    fx: &CrmFixture,
) {
    let caps = source.capabilities();
    if !caps.can_delta(Stream::Contacts) {
        return;
    }
    let name = source.name().to_owned();
    let ids = write_contacts(sink, fx, "since", 3).await;
    let all = drain(source, &ListRequest::all()).await;
    let at = |id: &str| -> Timestamp {
        all.iter()
            .find(|c| c.crm_id == id)
            .and_then(|c| c.updated_at)
            .unwrap_or_else(|| {
                panic!("conformance [{name}] contact {id} is not listed with an updated_at")
            })
    };
    let mut ours: Vec<(Timestamp, &str)> = ids.iter().map(|id| (at(id), id.as_str())).collect();
    ours.sort();
    let since = ours[1].0;
    let listed = drain(source, &ListRequest::since(since).with_limit(2)).await;
    for c in &listed {
        let updated = c.updated_at.unwrap_or(Timestamp::UNIX_EPOCH);
        assert!(
            updated >= since,
            "conformance [{name}] list_contacts since {since} returned {} changed {updated}",
            c.crm_id
        );
    }
    for (t, id) in &ours {
        if *t >= since {
            assert!(
                listed.iter().any(|c| c.crm_id == *id),
                "conformance [{name}] list_contacts since {since} missed {id} changed {t}"
            );
        }
    }
    // Change the oldest one: it must now show up.
    let oldest = ours[0].1.to_owned();
    let change = cartograph_model::ContactUpsert {
        key: fx.key("since", 100),
        identity: cartograph_model::IdentityKeys {
            crm_id: Some(oldest.clone()),
            ..Default::default()
        },
        properties: [(
            fx.contact_property.clone(),
            PropertyValue::String("changed".into()),
        )]
        .into(),
        origin: cartograph_model::Origin::Live,
    };
    expect_supported(
        &name,
        "upsert_contacts",
        sink.upsert_contacts(&[change]).await,
    );
    let listed = drain(source, &ListRequest::since(since)).await;
    assert!(
        listed.iter().any(|c| c.crm_id == oldest),
        "conformance [{name}] a contact changed after since is missing from list_contacts since"
    );
}

/// Webhook events caused by this integration's writes are flagged `is_own_write`; a change
/// made by a person is not.
pub async fn own_writes_are_flagged(
    source: &dyn CrmSource,
    sink: &dyn CrmSink,
    harness: &dyn CrmHarness,
    fx: &CrmFixture,
) {
    if !source.capabilities().webhooks {
        return;
    }
    let name = source.name().to_owned();
    harness.take_webhooks().await;
    let id = write_contacts(sink, fx, "own", 1).await.remove(0);
    harness
        .edit_as_user(&id, &fx.contact_property, "edited-by-a-person")
        .await;
    let mut events = Vec::new();
    for request in harness.take_webhooks().await {
        events.extend(expect_supported(
            &name,
            "parse_webhook",
            source.parse_webhook(&request),
        ));
    }
    let mut saw_person = false;
    for e in &events {
        if let CrmEventKind::ContactPropertyChanged {
            crm_id,
            property,
            value,
        } = &e.kind
            && *crm_id == id
            && *property == fx.contact_property
        {
            match value.as_deref() {
                Some("edited-by-a-person") => {
                    saw_person = true;
                    assert!(
                        !e.is_own_write,
                        "conformance [{name}] a person's change was flagged as our own write"
                    );
                }
                Some("v0") => assert!(
                    e.is_own_write,
                    "conformance [{name}] our own write was not flagged is_own_write"
                ),
                _ => {}
            }
        }
    }
    assert!(
        saw_person,
        "conformance [{name}] no webhook event for a person's change of {id}; got {events:?}"
    );
}

/// Operations outside the capabilities answer `Unsupported`; declared ones do not.
pub async fn unsupported_operations_match_capabilities(source: &dyn CrmSource) {
    let name = source.name().to_owned();
    let caps = source.capabilities();
    let probe = ListRequest::all().with_limit(1);
    let contacts = source.list_contacts(&probe).await;
    let forms = source.list_form_submissions("conformance", &probe).await;
    let members = source.list_memberships("conformance", &probe).await;
    let cases = [
        (Stream::Contacts, "list_contacts", contacts.map(|_| ())),
        (
            Stream::FormSubmissions,
            "list_form_submissions",
            forms.map(|_| ()),
        ),
        (
            Stream::ListMemberships,
            "list_memberships",
            members.map(|_| ()),
        ),
    ];
    for (stream, what, result) in cases {
        if caps.can_list(stream) {
            // A missing form or list may be NotFound; it must not be Unsupported.
            if let Err(e) = &result {
                assert!(
                    e.kind() == ErrorKind::NotFound,
                    "conformance [{name}] Capabilities declare {what}, but it failed: {e}"
                );
            }
        } else {
            assert_unsupported(&name, what, result);
        }
    }
    let request = WebhookRequest::post(
        "https://hooks.example/conformance",
        Vec::new(),
        b"{}".to_vec(),
    );
    let result = source.parse_webhook(&request);
    if caps.webhooks {
        if let Err(e) = result {
            assert!(
                e.kind() != ErrorKind::Unsupported,
                "conformance [{name}] declares webhooks but parse_webhook answered Unsupported"
            );
        }
    } else {
        assert_unsupported(&name, "parse_webhook", result);
    }
}

/// Runs every `CrmSource` contract.
pub async fn run_all(
    source: &dyn CrmSource,
    sink: &dyn CrmSink,
    harness: &dyn CrmHarness,
    fx: &CrmFixture,
) {
    list_contacts_pages_every_contact_once(source, sink, fx).await;
    list_contacts_since_returns_changed_contacts(source, sink, fx).await;
    own_writes_are_flagged(source, sink, harness, fx).await;
    unsupported_operations_match_capabilities(source).await;
}
