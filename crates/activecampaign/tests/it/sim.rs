//! Simulator behaviour through the connector: automations fire only for live orders, carts
//! convert, quota, auth, faults.

use cartograph_activecampaign::ActiveCampaign;
use cartograph_activecampaign::sim::{ActiveCampaignSim, SimConfig};
use cartograph_connector::{CrmSink, ErrorKind};
use cartograph_model::IdentityKeys;
use cartograph_model::{Origin, PropertyValue, Timestamp};
use cartograph_sim::{CrmSimulator, Fault};

use crate::orders::order;
use crate::support::*;

async fn start() -> (ActiveCampaignSim, ActiveCampaign) {
    let sim = ActiveCampaignSim::start(SimConfig::fast()).await.unwrap();
    let ac = ActiveCampaign::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    (sim, ac)
}

#[tokio::test]
async fn historical_orders_never_trigger_automations_and_live_ones_trigger_exactly_one() {
    let (sim, ac) = start().await;
    ac.upsert_contacts(&[upsert("p", "ada@example.com", Default::default())])
        .await
        .unwrap();
    let out = ac
        .record_orders(&[
            order("h1", Origin::Historical, 100),
            order("h2", Origin::Historical, 200),
        ])
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    assert!(sim.triggered_automations().is_empty());
    let out = ac
        .record_orders(&[order("l1", Origin::Live, 300)])
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    let runs = sim.triggered_automations();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].automation, "makes_a_purchase");
    assert_eq!(sim.order_records().len(), 3);
    // A retry of the live order updates it and triggers nothing more.
    ac.record_orders(&[order("l1", Origin::Live, 300)])
        .await
        .unwrap();
    assert_eq!(sim.triggered_automations().len(), 1);
    assert_eq!(sim.order_records().len(), 3);
}

#[tokio::test]
async fn an_abandoned_cart_is_recovered_by_the_later_order() {
    let (sim, ac) = start().await;
    let mut cart = order("cart-1", Origin::Live, 900);
    cart.properties.remove("externalid");
    cart.properties
        .insert("externalcheckoutid".into(), text("cart-1"));
    cart.properties.insert(
        "abandonedDate".into(),
        PropertyValue::DateTime(Timestamp::now()),
    );
    ac.record_orders(&[cart]).await.unwrap();
    assert_eq!(sim.orders_in_state(2).len(), 1);
    let mut converted = order("o-9", Origin::Live, 900);
    converted
        .properties
        .insert("externalcheckoutid".into(), text("cart-1"));
    let out = ac.record_orders(&[converted]).await.unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    assert_eq!(sim.orders_in_state(3).len(), 1, "{:?}", sim.order_records());
    assert_eq!(sim.order_records().len(), 1);
    let kinds: Vec<_> = sim
        .triggered_automations()
        .into_iter()
        .map(|t| t.automation)
        .collect();
    assert_eq!(kinds, ["abandoned_cart", "makes_a_purchase"]);
}

#[tokio::test]
async fn contacts_are_tagged_and_subscribed_unless_they_unsubscribed() {
    let (sim, ac) = start().await;
    let yes = props(&[("acceptsMarketing", PropertyValue::Bool(true))]);
    let out = ac
        .upsert_contacts(&[upsert("a", "a@example.com", yes.clone())])
        .await
        .unwrap();
    let id = out[0].id.clone().unwrap();
    assert_eq!(sim.contact_tags(&id), ["bigcommerce-customer"]);
    assert_eq!(sim.list_status("1", &id), Some(1));
    sim.set_list_status_as_user("1", &id, 2);
    ac.upsert_contacts(&[upsert("a", "a@example.com", yes)])
        .await
        .unwrap();
    assert_eq!(
        sim.list_status("1", &id),
        Some(2),
        "an unsubscribed contact was re-subscribed"
    );
    assert_eq!(sim.contacts().len(), 1);
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_403() {
    let sim = ActiveCampaignSim::start(SimConfig::fast()).await.unwrap();
    let config = sim.connector_config().unwrap().build().unwrap();
    let config = cartograph_activecampaign::ActiveCampaignConfig {
        api_token: cartograph_http::Secret::new("wrong"),
        ..config
    };
    let ac = ActiveCampaign::new(config).unwrap();
    let err = ac
        .find_contacts(&[IdentityKeys {
            email: Some(email("a@example.com")),
            ..Default::default()
        }])
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[tokio::test]
async fn injected_429_and_503_are_retried() {
    let (sim, ac) = start().await;
    sim.faults()
        .push(Fault::RateLimited(std::time::Duration::from_secs(1)));
    sim.faults().push(Fault::ServerError(503));
    let found = ac
        .find_contacts(&[IdentityKeys {
            email: Some(email("a@example.com")),
            ..Default::default()
        }])
        .await
        .unwrap();
    assert!(found[0].is_none());
    let stats = ac.transport_stats().unwrap();
    assert_eq!((stats.rate_limited, stats.server_errors), (1, 1));
}

#[tokio::test]
async fn a_dropped_connection_serves_the_request_and_cuts_its_answer() {
    let (sim, _) = start().await;
    sim.faults().push(Fault::Drop);
    let http = cartograph_http::reqwest::Client::new();
    let outcome = async {
        http.post(format!("{}/contact/sync", sim.api_url()))
            .header("Api-Token", SimConfig::fast().token)
            .json(&serde_json::json!({"contact": {"email": "cut@example.com"}}))
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(
        outcome.is_err(),
        "a transport error, not an answer: {outcome:?}"
    );
    // The write happened: the outcome is unknown to the client, as with a real drop.
    assert!(sim.contact_by_email("cut@example.com").is_some());
}

#[tokio::test]
async fn the_quota_answers_429_past_five_requests_per_second() {
    let sim = ActiveCampaignSim::start(SimConfig {
        time_scale: cartograph_sim::TimeScale::new(100.0),
        ..SimConfig::fast()
    })
    .await
    .unwrap();
    // No client-side limiter and no retries: the sixth request inside the window is refused.
    let config = sim
        .connector_config()
        .unwrap()
        .rate_limit(cartograph_http::RateLimit::new(
            1_000_000,
            std::time::Duration::from_secs(1),
        ))
        .retry(cartograph_http::RetryPolicy::none())
        .build()
        .unwrap();
    let ac = ActiveCampaign::new(config).unwrap();
    let keys = [IdentityKeys {
        email: Some(email("a@example.com")),
        ..Default::default()
    }];
    for _ in 0..5 {
        ac.find_contacts(&keys).await.unwrap();
    }
    let err = ac.find_contacts(&keys).await.expect_err("over quota");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.retry_after().is_some());
}

#[tokio::test]
async fn person_edits_are_pushed_as_form_webhooks_and_parsed_with_the_path_secret() {
    use cartograph_connector::{CrmSource, WebhookRequest};
    use cartograph_model::CrmEventKind;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, ResponseTemplate};

    let (sim, ac) = start().await;
    let intake = wiremock::MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/ac/sim-webhook-secret"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&intake)
        .await;
    // The simulator registers the intake URL with its webhook secret as the last segment.
    sim.deliver_webhooks_to(&format!("{}/hooks/ac", intake.uri()))
        .await
        .unwrap();
    let url = format!("{}/hooks/ac/sim-webhook-secret", intake.uri());
    let out = ac
        .upsert_contacts(&[upsert("a", "a@example.com", Default::default())])
        .await
        .unwrap();
    let id = out[0].id.clone().unwrap();
    assert!(sim.update_contact_as_user(&id, "firstName", "Grace"));
    // Our own write (source api) is not delivered; the person's edit is.
    let mut received = Vec::new();
    for _ in 0..200 {
        received = intake.received_requests().await.unwrap_or_default();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(received.len(), 1, "exactly the person's edit is delivered");
    let config = sim.connector_config().unwrap().build().unwrap();
    let receiver = ActiveCampaign::new(config).unwrap();
    let request = WebhookRequest::post(url, Vec::new(), received[0].body.clone());
    let events = receiver.parse_webhook(&request).unwrap();
    assert!(events.iter().any(|e| !e.is_own_write
        && matches!(&e.kind, CrmEventKind::ContactPropertyChanged { crm_id, property, value }
            if *crm_id == id && property == "firstName" && value.as_deref() == Some("Grace"))));
    let forged = WebhookRequest::post(
        format!("{}/hooks/ac/guess", intake.uri()),
        Vec::new(),
        received[0].body.clone(),
    );
    assert_eq!(
        receiver.parse_webhook(&forged).unwrap_err().kind(),
        ErrorKind::Signature
    );
}

#[tokio::test]
async fn historical_batches_go_through_one_bulk_import_that_respects_unsubscribes() {
    let (sim, ac) = start().await;
    let yes = props(&[
        ("acceptsMarketing", PropertyValue::Bool(true)),
        ("firstName", text("Backfilled")),
    ]);
    let first = ac
        .upsert_contacts(&[upsert("u", "u0@example.com", yes.clone())])
        .await
        .unwrap();
    let unsubscribed = first[0].id.clone().unwrap();
    sim.set_list_status_as_user("1", &unsubscribed, 2);
    let batch: Vec<_> = (0..12)
        .map(|i| {
            let mut u = upsert(&format!("k{i}"), &format!("u{i}@example.com"), yes.clone());
            u.origin = Origin::Historical;
            u
        })
        .collect();
    let out = ac.upsert_contacts(&batch).await.unwrap();
    assert_eq!(out.len(), 12);
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
    assert_eq!(sim.bulk_imports(), 1);
    assert_eq!(sim.contacts().len(), 12);
    assert_eq!(sim.list_status("1", &unsubscribed), Some(2));
    let other = sim.contact_by_email("u5@example.com").unwrap();
    assert_eq!(other.properties["firstName"], "Backfilled");
    assert_eq!(sim.list_status("1", &other.id), Some(1));
    assert_eq!(sim.contact_tags(&other.id), ["bigcommerce-customer"]);
}

#[tokio::test]
async fn list_memberships_reports_subscribed_then_unsubscribed_contacts() {
    use cartograph_connector::{CrmSource, ListRequest, drain};

    let (sim, ac) = start().await;
    let yes = props(&[("acceptsMarketing", PropertyValue::Bool(true))]);
    let mut ids = Vec::new();
    for i in 0..3 {
        let out = ac
            .upsert_contacts(&[upsert(
                &format!("m{i}"),
                &format!("m{i}@example.com"),
                yes.clone(),
            )])
            .await
            .unwrap();
        ids.push(out[0].id.clone().unwrap());
    }
    sim.set_list_status_as_user("1", &ids[1], 2);
    let changes = drain(&ListRequest::all().with_limit(1), |req| {
        let ac = &ac;
        async move { ac.list_memberships("1", &req).await }
    })
    .await
    .unwrap();
    let added: Vec<_> = changes
        .iter()
        .filter(|c| c.added)
        .map(|c| c.contact_crm_id.clone())
        .collect();
    let removed: Vec<_> = changes
        .iter()
        .filter(|c| !c.added)
        .map(|c| c.contact_crm_id.clone())
        .collect();
    assert_eq!(added, [ids[0].clone(), ids[2].clone()]);
    assert_eq!(removed, [ids[1].clone()]);
}

#[tokio::test]
async fn the_harness_view_shows_contacts_orders_notes_and_enrollments() {
    use cartograph_model::{
        ContactRef, EnrollmentRequest, EnrollmentTarget, TaskKind, TaskPriority, TaskRequest,
    };

    let sim = ActiveCampaignSim::start(SimConfig::fast()).await.unwrap();
    let sink = sim.sink().unwrap();
    assert_eq!(sink.name(), "activecampaign");
    assert!(sim.crm_source().unwrap().is_some());
    let out = sink
        .upsert_contacts(&[upsert(
            "a",
            "Ada@Example.com",
            props(&[("firstName", text("Ada"))]),
        )])
        .await
        .unwrap();
    let id = out[0].id.clone().unwrap();
    sink.record_orders(&[order("o-1", Origin::Live, 4200)])
        .await
        .unwrap();
    let automation = sim.create_automation("vip");
    sink.enroll(&[EnrollmentRequest {
        key: "e".into(),
        contact: ContactRef::CrmId(id.clone()),
        target: EnrollmentTarget::Automation {
            id: automation.clone(),
        },
        reason: String::new(),
        origin: Origin::Live,
    }])
    .await
    .unwrap();
    sink.create_tasks(&[TaskRequest {
        key: "t".into(),
        kind: TaskKind::Task,
        subject: "Refund".into(),
        body: "Order o-1 refunded".into(),
        priority: TaskPriority::High,
        due_at: None,
        contact: Some(ContactRef::Email(email("ada@example.com"))),
        order_key: Some("o-1".into()),
        owner_id: None,
    }])
    .await
    .unwrap();
    let contact = sim.contact_by_email("ada@example.com").unwrap();
    assert_eq!(contact.id, id);
    assert_eq!(contact.properties["firstName"], "Ada");
    let orders = sim.order_records();
    assert_eq!(orders[0].properties["totalPrice"], "4200");
    assert_eq!(orders[0].properties["source"], "1");
    assert_eq!(
        sim.enrollments(),
        [(id.clone(), format!("automation:{automation}"))]
    );
    assert!(sim.tasks()[0].properties["note"].contains("Refund"));
    assert!(sim.request_count() > 0);
}
