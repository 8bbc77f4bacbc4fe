//! CrmSource: contact delta search (window moves before 10,000), list memberships.

use cartograph_connector::{CrmSource, ListRequest};
use cartograph_hubspot::SearchCursor;
use cartograph_model::Timestamp;
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

const SEARCH: &str = "/crm/v3/objects/contacts/search";

fn contact_at(id: &str, ms: i64) -> serde_json::Value {
    object(
        id,
        json!({"email": format!("{id}@example.com"), "lastmodifieddate": Timestamp::from_unix_millis(ms).unwrap().to_rfc3339()}),
    )
}

#[tokio::test]
async fn list_contacts_searches_lastmodifieddate_ascending_and_pages() {
    let server = server().await;
    Mock::given(method("POST")).and(path(SEARCH))
        .and(body_partial_json(json!({
            "filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "1700000000000"}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            "limit": 2, "after": "0"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"total": 3,
            "results": [contact_at("1", 1_700_000_000_000), contact_at("2", 1_700_000_000_500)],
            "paging": {"next": {"after": "2", "link": "x"}}})))
        .expect(1).mount(&server).await;
    let hs = hubspot(&server);
    let since = Timestamp::from_unix_millis(1_700_000_000_000).unwrap();
    let page = hs
        .list_contacts(&ListRequest::since(since).with_limit(2))
        .await
        .unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|c| c.crm_id.as_str())
            .collect::<Vec<_>>(),
        ["1", "2"]
    );
    let cursor = SearchCursor::decode(page.next.as_ref().unwrap()).unwrap();
    assert_eq!((cursor.since_ms, cursor.after), (1_700_000_000_000, 2));
}

#[tokio::test]
async fn search_window_moves_forward_instead_of_paging_past_10000() {
    let server = server().await;
    Mock::given(method("POST"))
        .and(path(SEARCH))
        .and(body_partial_json(json!({"after": "9800"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 25000,
            "results": [contact_at("a", 1_000), contact_at("b", 5_000), contact_at("c", 5_000)],
            "paging": {"next": {"after": "10000"}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SEARCH))
        .and(body_partial_json(
            json!({"after": "0", "filterGroups": [{"filters": [{"value": "5000"}]}]}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"total": 15001,
            "results": [contact_at("c", 5_000), contact_at("d", 6_000)]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let hs = hubspot(&server);
    let start = SearchCursor {
        since_ms: 0,
        after: 9800,
        skip: vec![],
    }
    .encode();
    let page = hs
        .list_contacts(&ListRequest::all().at(Some(start)).with_limit(200))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let next = SearchCursor::decode(page.next.as_ref().unwrap()).unwrap();
    assert_eq!(
        next,
        SearchCursor {
            since_ms: 5_000,
            after: 0,
            skip: vec!["b".into(), "c".into()]
        }
    );
    let page = hs
        .list_contacts(&ListRequest::all().at(page.next).with_limit(200))
        .await
        .unwrap();
    // "c" sat on the window start and was already returned.
    assert_eq!(
        page.items
            .iter()
            .map(|c| c.crm_id.as_str())
            .collect::<Vec<_>>(),
        ["d"]
    );
    assert!(page.next.is_none());
}

#[tokio::test]
async fn list_memberships_reads_join_order() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/lists/12/memberships/join-order"))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [
            {"recordId": "1", "membershipTimestamp": "2024-01-01T00:00:00Z"},
            {"recordId": "2", "membershipTimestamp": "2024-03-01T00:00:00Z"}],
            "paging": {"next": {"after": "AoJ"}}})))
        .expect(1)
        .mount(&server)
        .await;
    let since = Timestamp::parse_rfc3339("2024-02-01T00:00:00Z").unwrap();
    let page = hubspot(&server)
        .list_memberships("12", &ListRequest::since(since))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].contact_crm_id, "2");
    assert!(page.items[0].added);
    assert_eq!(page.next.unwrap().as_str(), "AoJ");
}

#[tokio::test]
async fn list_ids_in_paths_are_escaped_and_never_reach_another_resource() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path(
            "/crm/v3/lists/7%2F..%2F..%2Fobjects%2Fcontacts/memberships/join-order",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": []})))
        .expect(1)
        .mount(&server)
        .await;
    let hs = hubspot(&server);
    let page = hs
        .list_memberships("7/../../objects/contacts", &ListRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
    let err = hs
        .list_memberships("..", &ListRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), cartograph_connector::ErrorKind::Invalid);
}
