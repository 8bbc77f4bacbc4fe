use std::time::Duration;

use cartograph_commercetools::Commercetools;
use cartograph_commercetools::sim::SimConfig;
use cartograph_connector::{CommerceSource, CommerceWriter, ErrorKind, ListRequest, WriteStatus};
use cartograph_model::{Attributes, CustomerWrite, EmailAddress};
use cartograph_sim::CommerceSimulator as _;
use cartograph_sim::{Fault, TimeScale};
use cartograph_testkit::fixtures::Seed;
use reqwest::Method;
use serde_json::json;

use crate::support::{self, call};

async fn drain_customers(ct: &Commercetools) -> (Vec<String>, usize) {
    let mut request = ListRequest::all();
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = ct.list_customers(&request).await.unwrap();
        pages += 1;
        ids.extend(page.items.iter().map(|c| c.source.id.clone()));
        match page.next {
            Some(cursor) => request.cursor = Some(cursor),
            None => return (ids, pages),
        }
    }
}

#[tokio::test]
async fn keyset_paging_reads_more_than_the_page_limit_once_each_without_offset() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = Seed::builder()
        .system("commercetools")
        .customers(1_203)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    let seeded = sim.seed_customers(&seed.customers);
    let (ids, pages) = drain_customers(&ct).await;
    assert_eq!(pages, 3, "500 + 500 + 203");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 1_203);
    let mut expected = seeded;
    expected.sort();
    assert_eq!(unique, expected);
    let log = sim.request_log();
    assert!(log.iter().all(|(_, q)| !q.contains("offset")), "{log:?}");
    assert!(
        log.iter()
            .all(|(_, q)| q.contains("withTotal=false") && q.contains("limit=500"))
    );
    assert!(
        log[1].1.contains("id > "),
        "second page continues by keyset: {}",
        log[1].1
    );
}

#[tokio::test]
async fn offset_and_limit_caps_answer_invalid_input_like_the_api() {
    let (sim, _ct) = support::sim(SimConfig::default()).await;
    let (status, body) = call(&sim, Method::GET, "customers?offset=10001", None).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "InvalidInput");
    assert_eq!(body["statusCode"], 400);
    let (status, _) = call(&sim, Method::GET, "customers?offset=10000&limit=500", None).await;
    assert_eq!(status, 200);
    let (status, body) = call(&sim, Method::GET, "customers?limit=501", None).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("InvalidInput"))
    );
    let (status, body) = call(&sim, Method::GET, "customers?where=email%20%3D", None).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("InvalidInput"))
    );
}

#[tokio::test]
async fn with_total_default_sort_and_offset_behave_as_documented() {
    let (sim, _ct) = support::sim(SimConfig::default()).await;
    let seed = Seed::builder()
        .customers(7)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    sim.seed_customers(&seed.customers);
    let (status, body) = call(
        &sim,
        Method::GET,
        "customers?limit=3&offset=2&sort=email%20desc",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["total"].as_u64(),
            body["count"].as_u64(),
            body["offset"].as_u64()
        ),
        (Some(7), Some(3), Some(2))
    );
    let emails: Vec<String> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_owned())
        .collect();
    let mut all: Vec<String> = seed
        .customers
        .iter()
        .map(|c| c.email.as_ref().unwrap().as_str().to_owned())
        .collect();
    all.sort_by(|a, b| b.cmp(a));
    assert_eq!(emails, all[2..5]);
    let (_, body) = call(&sim, Method::GET, "customers?withTotal=false", None).await;
    assert!(body.get("total").is_none());
}

#[tokio::test]
async fn expired_token_gets_a_401_and_the_client_re_authenticates_once() {
    // A 120 s token at 1/1000 speed lives 120 ms; the client keeps it for 60 s.
    let (sim, ct) = support::sim(SimConfig {
        token_lifetime: Duration::from_secs(120),
        time_scale: TimeScale::new(0.001),
        ..SimConfig::default()
    })
    .await;
    let seed = Seed::builder()
        .customers(2)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    sim.seed_customers(&seed.customers);
    assert_eq!(
        ct.list_customers(&ListRequest::all())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(sim.tokens_issued(), 1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        ct.list_customers(&ListRequest::all())
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(sim.tokens_issued(), 2, "one new token after the 401");
    let log = sim.request_log();
    assert_eq!(log.len(), 3, "first list, the 401, the retry: {log:?}");
    // Revoked tokens too.
    sim.expire_tokens();
    ct.list_customers(&ListRequest::all()).await.unwrap();
    assert_eq!(sim.tokens_issued(), 3);
}

#[tokio::test]
async fn bad_client_secret_is_an_unauthorized_config_error_not_a_retry_loop() {
    let (sim, _) = support::sim(SimConfig::default()).await;
    let c = sim.config();
    let config = cartograph_commercetools::CommercetoolsConfig::builder(
        c.project_key.clone(),
        c.client_id.clone(),
        "wrong-secret",
    )
    .api_url(sim.api_url())
    .auth_url(sim.auth_url())
    .build()
    .unwrap();
    let err = Commercetools::new(config)
        .unwrap()
        .list_customers(&ListRequest::all())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(!format!("{err:?}").contains("wrong-secret"));
    assert_eq!(sim.request_count(), 0, "no API call without a token");
}

fn write(id: &str, first: &str) -> CustomerWrite {
    CustomerWrite {
        key: format!("w-{id}"),
        id: Some(id.to_owned()),
        email: None,
        first_name: Some(first.to_owned()),
        last_name: None,
        phone: None,
        company: None,
        customer_group_id: None,
        email_consent: None,
        custom: Attributes::new(),
    }
}

#[tokio::test]
async fn version_conflict_is_a_409_and_the_writer_re_reads_and_re_applies() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = Seed::builder()
        .customers(1)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    let id = sim.seed_customers(&seed.customers).remove(0);
    // Raw: a stale version answers 409 ConcurrentModification with currentVersion.
    let stale = json!({"version": 7, "actions": [{"action": "setFirstName", "firstName": "X"}]});
    let (status, body) = call(&sim, Method::POST, &format!("customers/{id}"), Some(stale)).await;
    assert_eq!(status, 409);
    assert_eq!(body["statusCode"], 409);
    assert_eq!(body["errors"][0]["code"], "ConcurrentModification");
    assert_eq!(body["errors"][0]["currentVersion"], 1);
    // Through the writer: another client lands between its read and its write.
    sim.interfere_with_next_update(&id);
    let outcome = ct.upsert_customers(&[write(&id, "Augusta")]).await.unwrap();
    assert!(
        matches!(outcome[0].status, WriteStatus::Updated),
        "{outcome:?}"
    );
    assert_eq!(outcome[0].id.as_deref(), Some(id.as_str()));
    let stored = sim.resource("customer", &id).unwrap();
    assert_eq!(stored["firstName"], "Augusta");
    assert_eq!(
        stored["version"], 3,
        "seeded 1, concurrent change 2, our retry 3"
    );
    let conflicts = sim
        .request_log()
        .iter()
        .filter(|(m, p)| m == "POST" && p.ends_with(&id))
        .count();
    assert_eq!(
        conflicts, 3,
        "stale raw write, conflicting write, retried write"
    );
    assert_eq!(stored["lastModifiedBy"]["clientId"], sim.config().client_id);
}

#[tokio::test]
async fn duplicate_email_on_sign_up_is_a_duplicate_field_and_the_writer_updates_instead() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = Seed::builder()
        .customers(1)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    let id = sim.seed_customers(&seed.customers).remove(0);
    let email = seed.customers[0]
        .email
        .as_ref()
        .unwrap()
        .as_str()
        .to_uppercase();
    let (status, body) = call(
        &sim,
        Method::POST,
        "customers",
        Some(json!({"email": email, "authenticationMode": "ExternalAuth"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "DuplicateField");
    assert_eq!(body["errors"][0]["field"], "email");
    assert_eq!(body["errors"][0]["duplicateValue"], email.as_str());
    let mut w = write("", "Grace");
    w.id = None;
    w.email = EmailAddress::new(&email);
    let outcome = ct.upsert_customers(&[w]).await.unwrap();
    assert_eq!(outcome[0].id.as_deref(), Some(id.as_str()), "{outcome:?}");
    assert_eq!(sim.count("customer"), 1);
    assert_eq!(sim.resource("customer", &id).unwrap()["firstName"], "Grace");
}

#[tokio::test]
async fn rate_limits_and_overload_are_retried_with_backoff() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = Seed::builder()
        .customers(3)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    sim.seed_customers(&seed.customers);
    sim.faults()
        .push(Fault::RateLimited(Duration::from_secs(1)));
    sim.faults()
        .push(Fault::RateLimited(Duration::from_secs(1)));
    sim.faults().push(Fault::ServerError(503));
    sim.faults().push(Fault::ServerError(502));
    let page = ct.list_customers(&ListRequest::all()).await.unwrap();
    assert_eq!(page.items.len(), 3);
    let stats = CommerceSource::transport_stats(&ct).unwrap();
    assert_eq!(stats.rate_limited, 2, "{stats:?}");
    assert_eq!(stats.server_errors, 2, "{stats:?}");
    assert_eq!(stats.retries, 4, "{stats:?}");
    assert_eq!(sim.request_count(), 5);
    // Past the retry budget the typed error comes back.
    for _ in 0..5 {
        sim.faults().push(Fault::ServerError(503));
    }
    let err = ct.list_customers(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(err.vendor_code(), Some("OverCapacity"));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn quota_answers_429s_in_the_error_shape_without_rate_limit_headers() {
    let (sim, _) = support::sim(SimConfig {
        quota: Some((2, Duration::from_secs(10))),
        time_scale: TimeScale::new(1.0),
        ..SimConfig::default()
    })
    .await;
    let token = support::token(&sim).await;
    let url = format!("{}/{}/customers", sim.api_url(), sim.config().project_key);
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        statuses.push(r.status().as_u16());
        if r.status().as_u16() == 429 {
            assert!(r.headers().get("retry-after").is_none());
            assert!(
                r.headers()
                    .keys()
                    .all(|k| !k.as_str().contains("rate-limit"))
            );
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["statusCode"], 429);
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn in_store_queries_see_only_the_store_records() {
    let (sim, _) = support::sim(SimConfig::default()).await;
    let mut seed = Seed::builder()
        .system("commercetools")
        .customers(6)
        .orders(0)
        .refunds(0)
        .carts(0)
        .build();
    for (i, c) in seed.customers.iter_mut().enumerate() {
        c.channel = (i % 2 == 0).then(|| "eu-store".to_owned());
    }
    let ids = sim.seed_customers(&seed.customers);
    let ct = Commercetools::new(
        sim.connector_config()
            .store_key("eu-store")
            .build()
            .unwrap(),
    )
    .unwrap();
    let page = ct.list_customers(&ListRequest::all()).await.unwrap();
    let mut got: Vec<_> = page.items.iter().map(|c| c.source.id.clone()).collect();
    got.sort();
    let mut want: Vec<_> = ids.iter().step_by(2).cloned().collect();
    want.sort();
    assert_eq!(got, want);
    assert!(
        page.items
            .iter()
            .all(|c| c.channel.as_deref() == Some("eu-store"))
    );
    assert!(
        ct.get_customer(&ids[1]).await.unwrap().is_none(),
        "a customer of no store is not in the store"
    );
    assert!(ct.get_customer(&ids[0]).await.unwrap().is_some());
    assert!(
        sim.request_log()
            .iter()
            .all(|(_, p)| p.contains("/in-store/key=eu-store/customers"))
    );
    // An unknown store is refused.
    let other =
        Commercetools::new(sim.connector_config().store_key("nowhere").build().unwrap()).unwrap();
    let err = other.list_customers(&ListRequest::all()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
}

#[tokio::test]
async fn orders_keep_exact_money_in_every_currency_and_refunds_come_from_payments() {
    let (sim, ct) = support::sim(SimConfig::default()).await;
    let seed = crate::support::seed();
    crate::support::load(&sim, &seed);
    for o in &seed.orders {
        let got = ct.get_order(&o.source.id).await.unwrap().unwrap();
        assert_eq!(
            (got.currency, got.total, got.tax, got.shipping),
            (o.currency, o.total, o.tax, o.shipping),
            "order {}",
            o.source.id
        );
        assert_eq!(got.line_items.len(), o.line_items.len());
    }
    let jpy = seed
        .orders
        .iter()
        .find(|o| o.currency.code() == "JPY")
        .expect("a JPY order");
    let raw = sim.resource("order", &jpy.source.id).unwrap();
    assert_eq!(raw["totalPrice"]["fractionDigits"], 0);
    for r in &seed.refunds {
        let refunds = ct.get_order_refunds(&r.order.id).await.unwrap();
        assert!(
            refunds
                .iter()
                .any(|x| x.source.id == r.source.id && x.amount == r.amount)
        );
    }
    let refunds = {
        let mut all = Vec::new();
        let mut req = ListRequest::all();
        loop {
            let page = ct.list_refunds(&req).await.unwrap();
            all.extend(page.items);
            match page.next {
                Some(c) => req.cursor = Some(c),
                None => break,
            }
        }
        all
    };
    assert_eq!(refunds.len(), seed.refunds.len());
}
