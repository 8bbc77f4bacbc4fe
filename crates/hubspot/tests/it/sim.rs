//! The connector against the stateful simulator.

use std::time::Duration;

use cartograph_connector::{
    CrmSink, CrmSource, ErrorKind, ListRequest, WebhookRequest, WriteStatus, drain,
};
use cartograph_http::Secret;
use cartograph_hubspot::sim::{Fault, HubSpotSim, SimConfig};
use cartograph_hubspot::{HubSpot, HubSpotAuth, HubSpotConfig};
use cartograph_model::{
    ContactRef, CrmEventKind, EnrollmentRequest, EnrollmentTarget, IdentityKeys, OrderObject,
    Origin, PropertyValue, TaskKind, TaskPriority, TaskRequest, Timestamp,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::orders::order;
use crate::support::*;

async fn connected(sim: &HubSpotSim) -> HubSpot {
    let hs = HubSpot::new(
        sim.connector_config()
            .unwrap()
            .retry(fast_retry())
            .build()
            .unwrap(),
    )
    .unwrap();
    let out = hs
        .ensure_properties(&hs.required_properties())
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    hs
}

#[tokio::test]
async fn contacts_are_unique_by_email_case_insensitively() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    let first = hs
        .upsert_contacts(&[contact("a", "Ada@Example.com", &[("firstname", "Ada")])])
        .await
        .unwrap();
    assert!(
        matches!(first[0].status, WriteStatus::Created),
        "{:?}",
        first[0]
    );
    let again = hs
        .upsert_contacts(&[contact("a", "ADA@example.COM", &[("firstname", "Ada")])])
        .await
        .unwrap();
    assert!(
        matches!(again[0].status, WriteStatus::Unchanged),
        "{:?}",
        again[0]
    );
    let changed = hs
        .upsert_contacts(&[contact("a", "ada@example.com", &[("lastname", "Lovelace")])])
        .await
        .unwrap();
    assert!(matches!(changed[0].status, WriteStatus::Updated));
    assert_eq!(sim.records("contacts").len(), 1);
    let stored = sim.contact_by_email("ADA@EXAMPLE.COM").unwrap();
    assert_eq!(stored.properties["email"], "ada@example.com");
    assert_eq!(stored.properties["lastname"], "Lovelace");
}

#[tokio::test]
async fn secondary_email_resolves_to_the_existing_contact() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    let id = sim.insert("contacts", &[("email", "main@example.com")], None);
    sim.add_secondary_email(&id, "Old@Example.com");
    let out = hs
        .upsert_contacts(&[contact("s", "old@example.com", &[("firstname", "Sec")])])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{:?}", out[0]);
    assert_eq!(out[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(sim.records("contacts").len(), 1);
    let found = hs
        .find_contacts(&[IdentityKeys {
            email: Some(email("old@example.com")),
            ..IdentityKeys::default()
        }])
        .await
        .unwrap();
    assert_eq!(found[0].as_ref().unwrap().crm_id, id);
}

#[tokio::test]
async fn unknown_and_wrong_typed_properties_are_rejected_per_record() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    sim.define_property("contacts", "orders_count", "number", "number", &[], false);
    let mut bad_type = contact("t", "t@example.com", &[]);
    bad_type
        .properties
        .insert("orders_count".into(), PropertyValue::String("many".into()));
    let out = hs
        .upsert_contacts(&[
            contact("ok", "ok@example.com", &[("firstname", "Ok")]),
            contact("u", "u@example.com", &[("no_such_property", "x")]),
            bad_type,
        ])
        .await
        .unwrap();
    assert!(out[0].is_ok());
    assert_eq!(
        out[1].error().unwrap().vendor_code(),
        Some("PROPERTY_DOESNT_EXIST")
    );
    assert_eq!(out[1].error().unwrap().field(), Some("no_such_property"));
    assert_eq!(
        out[2].error().unwrap().vendor_code(),
        Some("INVALID_DECIMAL")
    );
    assert_eq!(sim.records("contacts").len(), 1);
}

#[tokio::test]
async fn simulator_rejects_oversized_and_duplicate_batches() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/crm/v3/objects/contacts/batch/upsert", sim.base_url());
    let token = sim.config().token;
    let inputs: Vec<_> = (0..101)
        .map(
            |n| json!({"id": format!("u{n}@example.com"), "idProperty": "email", "properties": {}}),
        )
        .collect();
    let big = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"inputs": inputs}))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 400);
    let dup = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"inputs": [
            {"id": "a@example.com", "idProperty": "email", "properties": {}},
            {"id": "A@EXAMPLE.com", "idProperty": "email", "properties": {}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 400);
    let body: serde_json::Value = dup.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("Duplicate"));
    let unauthorized = http
        .post(&url)
        .bearer_auth("wrong")
        .json(&json!({"inputs": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert!(sim.records("contacts").is_empty());
}

#[tokio::test]
async fn recording_an_order_twice_creates_one_deal() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    hs.upsert_contacts(&[contact("b", "buyer@example.com", &[])])
        .await
        .unwrap();
    let product = cartograph_model::ProductRecord {
        key: "sku-1".into(),
        properties: props(&[("name", "Mug")]),
    };
    hs.upsert_products(&[product]).await.unwrap();
    let first = hs
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .unwrap();
    assert!(
        matches!(first[0].status, WriteStatus::Created),
        "{:?}",
        first[0]
    );
    let second = hs
        .record_orders(&[order("o-1", OrderObject::Deal)])
        .await
        .unwrap();
    assert!(
        matches!(second[0].status, WriteStatus::Updated),
        "{:?}",
        second[0]
    );
    assert_eq!(first[0].id, second[0].id);
    let deals = sim.records("deals");
    assert_eq!(deals.len(), 1);
    assert_eq!(deals[0].properties["amount"], "125.50");
    assert_eq!(deals[0].properties["dealstage"], "closedwon");
    let items = sim.records("line_items");
    assert_eq!(items.len(), 1);
    let product_id = sim.records("products")[0].id.clone();
    assert_eq!(items[0].properties["hs_product_id"], product_id);
    let links = sim.associations("deals", &deals[0].id);
    assert!(links.iter().any(|(t, ..)| t == "contacts"), "{links:?}");
    assert!(
        links
            .iter()
            .any(|(t, id, _)| t == "line_items" && *id == items[0].id)
    );
}

#[tokio::test]
async fn tasks_and_enrollment_against_the_portal() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    let out = hs
        .upsert_contacts(&[contact(
            "b",
            "buyer@example.com",
            &[("hubspot_owner_id", "9")],
        )])
        .await
        .unwrap();
    let contact_id = out[0].id.clone().unwrap();
    let task = TaskRequest {
        key: "t-1".into(),
        kind: TaskKind::Task,
        subject: "Refund".into(),
        body: "Call".into(),
        priority: TaskPriority::High,
        due_at: Some(Timestamp::now()),
        contact: Some(ContactRef::Email(email("buyer@example.com"))),
        order_key: None,
        owner_id: None,
    };
    for _ in 0..2 {
        let out = hs.create_tasks(std::slice::from_ref(&task)).await.unwrap();
        assert!(out[0].is_ok(), "{:?}", out[0]);
    }
    let tasks = sim.records("tasks");
    assert_eq!(tasks.len(), 1, "idempotent by key");
    assert_eq!(tasks[0].properties["hubspot_owner_id"], "9");
    let list = sim.create_list("vip", "MANUAL");
    sim.define_property(
        "contacts",
        "cart_abandoned",
        "bool",
        "booleancheckbox",
        &["true", "false"],
        false,
    );
    let req = |key: &str, target, origin| EnrollmentRequest {
        key: key.into(),
        contact: ContactRef::CrmId(contact_id.clone()),
        target,
        reason: String::new(),
        origin,
    };
    let out = hs
        .enroll(&[
            req(
                "l",
                EnrollmentTarget::List { id: list.clone() },
                Origin::Live,
            ),
            req(
                "p",
                EnrollmentTarget::TriggerProperty {
                    name: "cart_abandoned".into(),
                    value: PropertyValue::Bool(true),
                },
                Origin::Live,
            ),
            req(
                "h",
                EnrollmentTarget::List { id: list.clone() },
                Origin::Historical,
            ),
        ])
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    assert_eq!(sim.list_members(&list), std::slice::from_ref(&contact_id));
    assert_eq!(
        sim.contact_by_email("buyer@example.com")
            .unwrap()
            .properties["cart_abandoned"],
        "true"
    );
}

#[tokio::test]
async fn delta_listing_moves_past_the_10000_search_cap() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = HubSpot::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    let base = 1_700_000_000_000_i64;
    for n in 0..10_050_i64 {
        sim.insert(
            "contacts",
            &[("email", &format!("c{n}@example.com"))],
            Some(Timestamp::from_unix_millis(base + n).unwrap()),
        );
    }
    let all = drain(&ListRequest::all().with_limit(200), |req| {
        let hs = hs.clone();
        async move { hs.list_contacts(&req).await }
    })
    .await
    .unwrap();
    let mut ids: Vec<_> = all.iter().map(|c| c.crm_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10_050);
    let searches = sim
        .requests()
        .iter()
        .filter(|(_, p, _)| p.ends_with("/search"))
        .count();
    assert!(searches >= 51);
}

#[tokio::test]
async fn burst_limit_429s_are_retried_and_daily_limit_parks() {
    let sim = HubSpotSim::start(SimConfig {
        burst: 3,
        time_scale: cartograph_sim::TimeScale::new(0.005),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let hs = HubSpot::new(
        sim.connector_config()
            .unwrap()
            .retry(fast_retry().with_max_attempts(10))
            .build()
            .unwrap(),
    )
    .unwrap();
    for n in 0..12 {
        let out = hs
            .upsert_contacts(&[contact(&format!("k{n}"), &format!("r{n}@example.com"), &[])])
            .await
            .unwrap();
        assert!(out[0].is_ok(), "{:?}", out[0]);
    }
    assert_eq!(sim.records("contacts").len(), 12);
    sim.set_daily_remaining(0);
    let err = hs
        .upsert_contacts(&[contact("d", "d@example.com", &[])])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::QuotaExhausted);
    assert!(err.retry_after().unwrap() > Duration::ZERO);
}

#[tokio::test]
async fn injected_server_errors_are_retried() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    sim.faults().push(Fault::ServerError(503));
    sim.faults().push(Fault::ServerError(503));
    let out = hs
        .upsert_contacts(&[contact("f", "f@example.com", &[])])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{:?}", out[0]);
    sim.faults().push(Fault::Latency(Duration::from_millis(20)));
    assert!(
        hs.find_contacts(&[IdentityKeys {
            email: Some(email("f@example.com")),
            ..IdentityKeys::default()
        }])
        .await
        .unwrap()[0]
            .is_some()
    );
}

#[tokio::test]
async fn oauth_tokens_are_refreshed_after_a_401() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let c = sim.config();
    let config = HubSpotConfig::builder(HubSpotAuth::OAuth {
        client_id: c.client_id.clone(),
        client_secret: Secret::new(c.client_secret.clone()),
        refresh_token: Secret::new(c.refresh_token.clone()),
        token_url: None,
    })
    .base_url(sim.base_url())
    .unwrap()
    .retry(fast_retry())
    .build()
    .unwrap();
    let hs = HubSpot::new(config).unwrap();
    let keys = [IdentityKeys {
        email: Some(email("x@example.com")),
        ..IdentityKeys::default()
    }];
    hs.find_contacts(&keys).await.unwrap();
    sim.revoke_oauth_tokens();
    hs.find_contacts(&keys).await.unwrap();
    let token_calls = sim
        .requests()
        .iter()
        .filter(|(_, p, _)| p == "/oauth/v1/token")
        .count();
    assert_eq!(token_calls, 2);
}

#[tokio::test]
async fn webhooks_flag_our_own_writes_and_pass_user_changes() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let target = format!("{}/hook", receiver.uri());
    sim.set_webhook_target(&target);
    let hs = connected(&sim).await;
    let out = hs
        .upsert_contacts(&[contact("w", "w@example.com", &[("firstname", "Wen")])])
        .await
        .unwrap();
    let id = out[0].id.clone().unwrap();
    sim.update_contact_as_user(&id, &[("lastname", "Li")]).await;
    let received = receiver.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let to_request = |r: &wiremock::Request| WebhookRequest {
        method: "POST".into(),
        url: target.clone(),
        headers: r
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect(),
        body: r.body.clone(),
        received_at: Timestamp::now(),
    };
    let ours = hs.parse_webhook(&to_request(&received[0])).unwrap();
    assert!(
        !ours.is_empty() && ours.iter().all(|e| e.is_own_write),
        "{ours:?}"
    );
    assert!(ours.iter().any(|e| matches!(&e.kind, CrmEventKind::ContactPropertyChanged { property, .. } if property == "firstname")));
    let theirs = hs.parse_webhook(&to_request(&received[1])).unwrap();
    assert_eq!(theirs.len(), 1);
    assert!(!theirs[0].is_own_write);
    assert_eq!(theirs[0].change_source.as_deref(), Some("CRM_UI"));
    assert!(sim.deliveries().iter().all(|(_, ok)| *ok));
}

#[tokio::test]
async fn dated_flavour_works_against_the_simulator() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let mapping = cartograph_hubspot::HubSpotMapping {
        order_object: Some(OrderObject::Order),
        ..Default::default()
    };
    let config = sim
        .connector_config()
        .unwrap()
        .api_flavor(cartograph_hubspot::ApiFlavor::Dated202603)
        .mapping(mapping);
    let hs = HubSpot::new(config.build().unwrap()).unwrap();
    hs.ensure_properties(&hs.required_properties())
        .await
        .unwrap();
    hs.upsert_contacts(&[contact("b", "buyer@example.com", &[])])
        .await
        .unwrap();
    let mut o = order("o-9", OrderObject::Order);
    o.properties = props(&[("hs_currency_code", "EUR"), ("hs_total_price", "125.50")]);
    let out = hs.record_orders(&[o]).await.unwrap();
    assert!(out[0].is_ok(), "{:?}", out[0]);
    assert_eq!(sim.records("orders").len(), 1);
    assert!(
        sim.requests()
            .iter()
            .all(|(_, p, _)| !p.contains("/v3/") && !p.contains("/v4/"))
    );
}

#[tokio::test]
async fn deals_read_back_page_by_page_and_by_order_key() {
    let sim = HubSpotSim::start(SimConfig::default()).await.unwrap();
    let hs = connected(&sim).await;
    hs.upsert_contacts(&[contact("b", "buyer@example.com", &[])])
        .await
        .unwrap();
    let orders: Vec<_> = (0..5)
        .map(|n| {
            let mut o = order(&format!("shop/order/{n}"), OrderObject::Deal);
            o.line_items.clear();
            o
        })
        .collect();
    let out = hs.record_orders(&orders).await.unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    // A deal made by hand carries no order key and is not read back.
    sim.insert("deals", &[("dealname", "By hand"), ("amount", "9")], None);

    let mut pages = 0;
    let read = drain(&ListRequest::all().with_limit(2), |request| {
        pages += 1;
        let hs = &hs;
        async move { hs.read_orders(&request).await }
    })
    .await
    .unwrap();
    assert_eq!(pages, 3, "6 deals at 2 a page");
    let mut keys: Vec<&str> = read.iter().map(|o| o.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        (0..5)
            .map(|n| format!("shop/order/{n}"))
            .collect::<Vec<_>>()
    );
    let first = &read[0];
    assert_eq!(
        first.amount,
        Some(cartograph_model::Money::parse("125.50", cartograph_model::Currency::EUR).unwrap())
    );
    assert_eq!(first.day, Some(time::macros::date!(2024 - 05 - 01)));
    let listing = sim
        .requests()
        .into_iter()
        .find(|(m, uri, _)| m == "GET" && uri.contains("/0-3?"))
        .unwrap();
    assert!(listing.1.contains("limit=2"), "{listing:?}");
    assert!(listing.1.contains("cartograph_order_id"), "{listing:?}");

    // An oversized page hint is clamped to HubSpot's 100, which the simulator enforces.
    let all = hs
        .read_orders(&ListRequest::all().with_limit(5000))
        .await
        .unwrap();
    assert_eq!(all.items.len(), 5);
    assert!(all.next.is_none());
    let refused = reqwest::Client::new()
        .get(format!("{}/crm/v3/objects/0-3?limit=101", sim.base_url()))
        .bearer_auth(sim.config().token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);

    let found = hs
        .find_orders(&["shop/order/3".into(), "shop/order/404".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "shop/order/3");
}
