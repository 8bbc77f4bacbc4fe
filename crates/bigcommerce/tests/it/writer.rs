use cartograph_connector::{CommerceWriter, ErrorKind, WriteStatus};
use cartograph_model::{CustomerWrite, EmailAddress};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::support;

fn write(i: usize) -> CustomerWrite {
    CustomerWrite {
        key: format!("k{i}"),
        email: EmailAddress::new(format!("new{i}@example.com")),
        first_name: Some("N".into()),
        last_name: Some(format!("{i}")),
        ..CustomerWrite::default()
    }
}

/// Echoes a customers batch back with ids; 413 over 10; 422 when a `bad@` email is in it.
fn echo(req: &Request) -> ResponseTemplate {
    let items: Vec<Value> = serde_json::from_slice(&req.body).unwrap();
    if items.len() > 10 {
        return ResponseTemplate::new(413).set_body_json(json!({"status": 413,
            "title": "The request payload is too large. The maximum number of items allowed in the array is 10.",
            "type": "/api-docs/getting-started/api-status-codes", "errors": {}}));
    }
    if items
        .iter()
        .any(|i| i["email"].as_str().is_some_and(|e| e.starts_with("bad@")))
    {
        return ResponseTemplate::new(422).set_body_json(json!({"status": 422,
            "title": "Create customers failed.", "type": "/x",
            "errors": {".email": "The email is already in use"}}));
    }
    let data: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let mut c = i.clone();
            c["id"] = i.get("id").cloned().unwrap_or(json!(1000 + n));
            c["email"] = i.get("email").cloned().unwrap_or(json!("x@example.com"));
            c
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({"data": data, "meta": {}}))
}

#[tokio::test]
async fn creates_are_split_into_batches_of_ten() {
    let server = support::server().await;
    Mock::given(method("POST"))
        .and(path(support::path("/v3/customers")))
        .respond_with(echo)
        .expect(3)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let writes: Vec<_> = (0..23).map(write).collect();
    let outcomes = bc.upsert_customers(&writes).await.unwrap();
    assert_eq!(outcomes.len(), 23);
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o.status, WriteStatus::Created))
    );
    assert_eq!(outcomes[22].key, "k22");
    let sizes: Vec<usize> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| serde_json::from_slice::<Vec<Value>>(&r.body).unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 10, 3]);
}

#[tokio::test]
async fn a_bad_record_fails_alone_and_updates_use_put() {
    let server = support::server().await;
    Mock::given(method("POST"))
        .and(path(support::path("/v3/customers")))
        .respond_with(echo)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(support::path("/v3/customers")))
        .and(body_json(json!([{"id": 5, "first_name": "Up"}])))
        .respond_with(echo)
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let mut writes: Vec<_> = (0..3).map(write).collect();
    writes[1].email = EmailAddress::new("bad@example.com");
    writes.push(CustomerWrite {
        key: "upd".into(),
        id: Some("5".into()),
        first_name: Some("Up".into()),
        ..CustomerWrite::default()
    });
    writes.push(CustomerWrite {
        key: "noname".into(),
        email: EmailAddress::new("x@example.com"),
        ..CustomerWrite::default()
    });
    let outcomes = bc.upsert_customers(&writes).await.unwrap();
    assert!(matches!(outcomes[0].status, WriteStatus::Created));
    let err = outcomes[1].error().expect("duplicate email fails");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("email"));
    assert!(matches!(outcomes[2].status, WriteStatus::Created));
    assert!(matches!(outcomes[3].status, WriteStatus::Updated));
    assert_eq!(outcomes[3].id.as_deref(), Some("5"));
    assert_eq!(outcomes[4].error().unwrap().field(), Some("first_name"));
}

#[tokio::test]
async fn find_by_email_uses_email_in() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .and(query_param("email:in", "a@example.com,b@example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": 1, "email": "A@Example.com", "first_name": "A", "last_name": "A"}], "meta": {}})))
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let found = bc
        .find_customers_by_email(&[
            EmailAddress::new("b@example.com").unwrap(),
            EmailAddress::new("A@example.com").unwrap(),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].source.id, "1");
}

#[tokio::test]
async fn segments_get_fifty_profiles_per_call_and_groups_are_assigned_by_put() {
    let server = support::server().await;
    Mock::given(method("GET"))
        .and(path(support::path("/v3/customers")))
        .and(query_param(
            "include",
            "addresses,attributes,formfields,shopper_profile_id,segment_ids",
        ))
        .respond_with(|req: &Request| {
            let ids: Vec<u64> = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "id:in")
                .unwrap()
                .1
                .split(',')
                .map(|s| s.parse().unwrap())
                .filter(|id| *id != 999)
                .collect();
            let data: Vec<Value> = ids
                .iter()
                .map(|id| {
                    json!({"id": id, "email": format!("c{id}@x.com"),
                    "shopper_profile_id": format!("sp-{id}")})
                })
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"data": data, "meta": {}}))
        })
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(support::path("/v3/segments/seg-1/shopper-profiles")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": []})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(support::path("/v3/customers")))
        .and(body_json(json!([{"id": 7, "customer_group_id": 3}])))
        .respond_with(echo)
        .expect(1)
        .mount(&server)
        .await;
    let bc = support::connector(&server);
    let mut ids: Vec<String> = (1..=60).map(|i| i.to_string()).collect();
    ids.push("999".into());
    let outcomes = bc.add_to_segment("seg-1", &ids).await.unwrap();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 60);
    assert_eq!(outcomes[60].error().unwrap().kind(), ErrorKind::NotFound);
    let sizes: Vec<usize> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("shopper-profiles"))
        .map(|r| serde_json::from_slice::<Vec<Value>>(&r.body).unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 10]);
    bc.assign_customer_group("7", "3").await.unwrap();
}
