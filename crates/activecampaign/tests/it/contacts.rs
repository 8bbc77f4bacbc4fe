//! Contacts: lookup before write, `/contact/sync`, custom fields, tags, lists.

use cartograph_connector::{CrmSink, CrmSource, ListRequest, WriteStatus};
use cartograph_model::{IdentityKeys, PropertyValue, Timestamp};
use rust_decimal::Decimal;
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::{body_json, body_partial_json, query_param};

use crate::support::*;

#[tokio::test]
async fn new_contact_is_looked_up_synced_and_tagged() {
    let server = server().await;
    lookup(&server, "Ada@Example.com", None).await;
    on("POST", "contact/sync")
        .and(body_json(
            json!({"contact": {"email": "Ada@Example.com", "firstName": "Ada"}}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"contact": contact("7", "Ada@Example.com")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "tags")
        .and(query_param("search", "bigcommerce-customer"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"tags": [], "meta": {"total": "0"}})),
        )
        .mount(&server)
        .await;
    on("POST", "tags")
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"tag": {"id": "5", "tag": "bigcommerce-customer"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "contactTags")
        .and(body_json(json!({"contactTag": {"contact": 7, "tag": 5}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"contactTag": {"id": "1"}})))
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .upsert_contacts(&[upsert(
            "p1",
            "Ada@Example.com",
            props(&[("firstName", text("Ada"))]),
        )])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created), "{out:?}");
    assert_eq!(out[0].id.as_deref(), Some("7"));
}

#[tokio::test]
async fn existing_contact_is_updated_with_custom_field_values_and_not_retagged() {
    let server = server().await;
    lookup(
        &server,
        "ada@example.com",
        Some(contact("7", "ada@example.com")),
    )
    .await;
    on("GET", "fields")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "fields": [{"id": "3", "title": "Lifetime value", "type": "text", "perstag": "ECOM_LTV"}],
            "meta": {"total": "1"}})))
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "contact/sync")
        .and(body_json(json!({"contact": {"email": "ada@example.com",
            "fieldValues": [{"field": "3", "value": "120.5"}]}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"contact": contact("7", "ada@example.com")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let out = ac(&server)
        .upsert_contacts(&[upsert(
            "p1",
            "ada@example.com",
            props(&[("ECOM_LTV", PropertyValue::Number(Decimal::new(12050, 2)))]),
        )])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Updated), "{out:?}");
}

#[tokio::test]
async fn accepted_marketing_subscribes_but_never_resubscribes_an_unsubscribed_contact() {
    let server = server().await;
    lookup(
        &server,
        "a@example.com",
        Some(contact("7", "a@example.com")),
    )
    .await;
    lookup(
        &server,
        "b@example.com",
        Some(contact("8", "b@example.com")),
    )
    .await;
    for (id, mail) in [("7", "a@example.com"), ("8", "b@example.com")] {
        on("POST", "contact/sync")
            .and(body_json(json!({"contact": {"email": mail}})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"contact": contact(id, mail)})),
            )
            .mount(&server)
            .await;
    }
    on("GET", "connections")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "connections": [{"id": "1", "service": "bigcommerce", "externalid": "store-1"}]})))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "ecomCustomers")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ecomCustomers": []})))
        .expect(2)
        .mount(&server)
        .await;
    on("POST", "ecomCustomers")
        .and(body_partial_json(
            json!({"ecomCustomer": {"connectionid": "1", "acceptsMarketing": "1"}}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"ecomCustomer": {"id": "12"}})),
        )
        .expect(2)
        .mount(&server)
        .await;
    on("GET", "contacts/7/contactLists")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contactLists": []})))
        .mount(&server)
        .await;
    on("GET", "contacts/8/contactLists")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"contactLists": [{"list": "1", "contact": "8", "status": "2"}]}),
            ),
        )
        .mount(&server)
        .await;
    on("POST", "contactLists")
        .and(body_json(
            json!({"contactList": {"list": "1", "contact": "7", "status": "1"}}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"contactList": {"list": "1", "contact": "7", "status": "1"}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let yes = props(&[("acceptsMarketing", PropertyValue::Bool(true))]);
    let out = ac(&server)
        .upsert_contacts(&[
            upsert("a", "a@example.com", yes.clone()),
            upsert("b", "b@example.com", yes),
        ])
        .await
        .unwrap();
    assert!(out.iter().all(|o| o.is_ok()), "{out:?}");
}

#[tokio::test]
async fn unknown_custom_field_fails_only_that_record() {
    let server = server().await;
    lookup(&server, "a@example.com", None).await;
    on("GET", "fields")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"fields": [], "meta": {"total": "0"}})),
        )
        .mount(&server)
        .await;
    let out = ac(&server)
        .upsert_contacts(&[upsert("a", "a@example.com", props(&[("NOPE", text("x"))]))])
        .await
        .unwrap();
    let err = out[0].error().expect("failed");
    assert_eq!(err.field(), Some("NOPE"));
    assert_eq!(err.record(), Some("a"));
}

#[tokio::test]
async fn find_contacts_answers_once_per_key_in_order() {
    let server = server().await;
    lookup(
        &server,
        "a@example.com",
        Some(contact("7", "A@example.com")),
    )
    .await;
    lookup(&server, "zz@example.com", None).await;
    let found = ac(&server)
        .find_contacts(&[
            IdentityKeys {
                email: Some(email("zz@example.com")),
                ..Default::default()
            },
            IdentityKeys {
                email: Some(email("a@example.com")),
                ..Default::default()
            },
        ])
        .await
        .unwrap();
    assert!(found[0].is_none());
    assert_eq!(found[1].as_ref().map(|c| c.crm_id.as_str()), Some("7"));
}

#[tokio::test]
async fn list_contacts_since_overlaps_a_day_filters_by_udate_and_follows_offsets() {
    let server = server().await;
    let c =
        |id: &str, udate: &str| json!({"id": id, "email": format!("{id}@x.com"), "udate": udate});
    on("GET", "contacts")
        .and(query_param("filters[updated_after]", "2024-04-30"))
        .and(query_param("offset", "0"))
        .and(query_param("limit", "2"))
        .and(query_param("orders[udate]", "ASC"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "contacts": [c("1", "2024-04-30T23:00:00Z"), c("2", "2024-05-01T12:00:00Z")],
            "meta": {"total": "3"}})))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "contacts")
        .and(query_param("offset", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "contacts": [c("3", "2024-05-02T12:00:00Z")], "meta": {"total": "3"}})))
        .expect(1)
        .mount(&server)
        .await;
    let ac = ac(&server);
    let since = Timestamp::parse_rfc3339("2024-05-01T10:00:00Z").unwrap();
    let request = ListRequest::since(since).with_limit(2);
    let first = ac.list_contacts(&request).await.unwrap();
    assert_eq!(
        first
            .items
            .iter()
            .map(|c| c.crm_id.as_str())
            .collect::<Vec<_>>(),
        ["2"]
    );
    let second = ac.list_contacts(&request.at(first.next)).await.unwrap();
    assert_eq!(second.items[0].crm_id, "3");
    assert!(second.next.is_none());
}

#[tokio::test]
async fn historical_batch_is_bulk_imported_without_lookups_and_retried_past_the_import_limit() {
    let server = server().await;
    on("POST", "import/bulk_import")
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("retry-after", "0")
                .set_body_json(json!({"success": 0, "message": "Rate limit exceeded.",
                    "failureReasons": ["Up to 100 imports may be requested per minute."]})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let expected: Vec<_> = (0..10)
        .map(|i| json!({"email": format!("h{i}@example.com"), "first_name": "H", "tags": ["bigcommerce-customer"]}))
        .collect();
    on("POST", "import/bulk_import")
        .and(body_json(json!({"contacts": expected})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"success": 1, "queued_contacts": 10,
            "batchId": "b-1", "message": "Contact import queued"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let batch: Vec<_> = (0..10)
        .map(|i| {
            let mut u = upsert(
                &format!("k{i}"),
                &format!("h{i}@example.com"),
                props(&[("firstName", text("H"))]),
            );
            u.origin = cartograph_model::Origin::Historical;
            u
        })
        .collect();
    let out = ac(&server).upsert_contacts(&batch).await.unwrap();
    assert_eq!(out.len(), 10);
    assert!(out.iter().all(|o| o.is_ok() && o.id.is_none()), "{out:?}");
}

#[tokio::test]
async fn a_failed_tag_after_the_sync_is_a_partial_outcome() {
    let server = server().await;
    lookup(&server, "ada@example.com", None).await;
    on("POST", "contact/sync")
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"contact": contact("7", "ada@example.com")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The tag lookup fails past the retries: the contact exists, the tag does not.
    on("GET", "tags")
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let out = ac(&server)
        .upsert_contacts(&[
            upsert(
                "p1",
                "ada@example.com",
                props(&[("firstName", text("Ada"))]),
            ),
            upsert(
                "p2",
                "bob@example.com",
                props(&[("firstName", text("Bob"))]),
            ),
        ])
        .await
        .expect("the contact was written: the call must not fail as a whole");
    match &out[0].status {
        WriteStatus::Partial { written, error } => {
            assert_eq!(*written, cartograph_connector::Written::Created);
            assert!(error.is_retryable(), "{error}");
            assert_eq!(error.record(), Some("p1"));
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    assert_eq!(out[0].id.as_deref(), Some("7"));
    // The fatal error stops the call: p2 is not tried (the catch-all would see it).
    assert!(!out[1].is_written());
    assert!(out[1].error().unwrap().is_retryable());
}
