//! The connector against the simulator: sessions, paging, duplicate rules, orders, tasks,
//! cases, campaigns, custom fields, Leads.

use cartograph_connector::{CrmSink, ErrorKind, WriteStatus};
use cartograph_model::{
    ContactRef, ContactUpsert, CrmObjectType, EmailAddress, EnrollmentRequest, IdentityKeys,
    OrderObject, OrderRecord, Origin, PropertyDefinition, PropertyType, PropertyValue, TaskKind,
    TaskPriority, TaskRequest,
};
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};
use cartograph_salesforce::{PersonObject, Salesforce};
use cartograph_sim::CrmSimulator as _;

fn upsert(key: &str, mail: &str) -> ContactUpsert {
    ContactUpsert {
        key: key.into(),
        identity: IdentityKeys {
            email: EmailAddress::new(mail),
            ..IdentityKeys::default()
        },
        properties: [
            (
                "LastName".to_owned(),
                PropertyValue::String("Lovelace".into()),
            ),
            ("Company".to_owned(), PropertyValue::String("Acme".into())),
        ]
        .into(),
        origin: Origin::Live,
    }
}

fn by_email(mail: &str) -> IdentityKeys {
    IdentityKeys {
        email: EmailAddress::new(mail),
        ..IdentityKeys::default()
    }
}

async fn start(config: SimConfig) -> (SalesforceSim, Salesforce) {
    let sim = SalesforceSim::start(config).await.unwrap();
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    (sim, sf)
}

#[tokio::test]
async fn expired_sessions_are_refreshed_transparently() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let mut one = upsert("p1", "a@example.com");
    one.properties.remove("Company");
    sf.upsert_contacts(&[one]).await.unwrap();
    assert_eq!(sim.token_calls(), 1);
    sim.expire_sessions();
    let found = sf
        .find_contacts(&[by_email("A@example.com")])
        .await
        .unwrap();
    assert!(found[0].is_some());
    assert_eq!(sim.token_calls(), 2);
}

#[tokio::test]
async fn lookups_page_through_next_records_url() {
    let (sim, sf) = start(SimConfig {
        query_page_size: 3,
        ..SimConfig::fast()
    })
    .await;
    let inputs: Vec<ContactUpsert> = (0..8)
        .map(|n| {
            let mut u = upsert(&format!("p{n}"), &format!("p{n}@example.com"));
            u.properties.remove("Company");
            u
        })
        .collect();
    let out = sf.upsert_contacts(&inputs).await.unwrap();
    assert!(out.iter().all(|o| matches!(o.status, WriteStatus::Created)));
    let keys: Vec<IdentityKeys> = (0..8)
        .rev()
        .map(|n| by_email(&format!("P{n}@example.com")))
        .collect();
    let found = sf.find_contacts(&keys).await.unwrap();
    assert!(found.iter().all(Option::is_some));
    assert_eq!(
        found[0].as_ref().unwrap().crm_id,
        out[7].id.clone().unwrap()
    );
    assert_eq!(sim.contacts().len(), 8);
}

#[tokio::test]
async fn the_duplicate_rule_fails_a_create_as_a_conflict() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let mut first = upsert("p1", "same@example.com");
    first.properties.remove("Company");
    sf.upsert_contacts(&[first.clone()]).await.unwrap();
    sim.set_duplicate_rule(true);
    // Another person (another store customer) sharing the mailbox.
    let mut second = first.clone();
    second.key = "p2".into();
    second.identity.external_ids = vec![cartograph_model::SourceRef::new(
        "bigcommerce",
        cartograph_model::RecordKind::Customer,
        "42",
    )];
    let out = sf.upsert_contacts(&[second]).await.unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.vendor_code(), Some("DUPLICATES_DETECTED"));
    assert_eq!(sim.contacts().len(), 1);
}

#[tokio::test]
async fn orders_tasks_cases_and_campaigns() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let mut person = upsert("p1", "buyer@example.com");
    person.properties.remove("Company");
    let contact_id = sf.upsert_contacts(&[person]).await.unwrap()[0]
        .id
        .clone()
        .unwrap();
    let order = OrderRecord {
        key: "bigcommerce/order/100".into(),
        object: OrderObject::Deal,
        contact: Some(ContactRef::Email(
            EmailAddress::new("BUYER@example.com").unwrap(),
        )),
        properties: [
            (
                "Amount".to_owned(),
                PropertyValue::Number(cartograph_model::Decimal::new(12_345, 2)),
            ),
            (
                "StageName".to_owned(),
                PropertyValue::String("Closed Won".into()),
            ),
        ]
        .into(),
        line_items: Vec::new(),
        origin: Origin::Live,
    };
    let out = sf.record_orders(&[order]).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    let opp = &sim.order_records()[0];
    assert_eq!(opp.properties["Amount"], "123.45");
    assert_eq!(opp.properties["ContactId"], contact_id);
    assert_eq!(opp.properties["Ecom_Order_Id__c"], "bigcommerce/order/100");

    let task = |key: &str, kind| TaskRequest {
        key: key.into(),
        kind,
        subject: "Refund".into(),
        body: "Customer asked for a refund".into(),
        priority: TaskPriority::High,
        due_at: None,
        contact: Some(ContactRef::CrmId(contact_id.clone())),
        order_key: Some("bigcommerce/order/100".into()),
        owner_id: None,
    };
    let out = sf
        .create_tasks(&[task("t1", TaskKind::Task), task("c1", TaskKind::Case)])
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o.status, WriteStatus::Created)));
    let cases = sim.records("Case");
    assert_eq!(cases[0].properties["ContactId"], contact_id);
    assert_eq!(cases[0].properties["Priority"], "High");
    assert_eq!(sim.records("Task")[0].properties["WhoId"], contact_id);

    let target = sim.create_enrollment_target("First purchase").unwrap();
    let request = |key: &str, origin| EnrollmentRequest {
        key: key.into(),
        contact: ContactRef::CrmId(contact_id.clone()),
        target: target.clone(),
        reason: "first purchase".into(),
        origin,
    };
    let out = sf
        .enroll(&[
            request("e0", Origin::Historical),
            request("e1", Origin::Live),
            request("e2", Origin::Live),
        ])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Unchanged));
    assert!(matches!(out[1].status, WriteStatus::Created));
    assert!(matches!(out[2].status, WriteStatus::Unchanged));
    assert_eq!(sim.enrolled_in(&target), 1);
}

#[tokio::test]
async fn ensure_properties_creates_custom_fields_and_names_the_impossible() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let def = |name: &str| PropertyDefinition {
        object: CrmObjectType::Contact,
        name: name.into(),
        label: name.into(),
        kind: PropertyType::Number,
        options: Vec::new(),
        group: None,
        unique: false,
        description: None,
    };
    let out = sf
        .ensure_properties(&[def("Ecom_Lifetime_Value__c"), def("Email"), def("NoSuffix")])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created));
    assert!(matches!(out[1].status, WriteStatus::Unchanged));
    let err = out[2].error().unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.field(), Some("NoSuffix"));
    // The required External ID fields exist in the simulated org.
    let required = sf.required_properties();
    let again = sf.ensure_properties(&required).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o.status, WriteStatus::Unchanged))
    );
    drop(sim);
}

#[tokio::test]
async fn leads_are_written_when_configured() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .person_object(PersonObject::Lead)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sf.profile().unwrap().mappings.contact, "lead");
    let out = sf
        .upsert_contacts(&[upsert("p1", "lead@example.com")])
        .await
        .unwrap();
    assert!(matches!(out[0].status, WriteStatus::Created));
    assert_eq!(sim.records("Lead").len(), 1);
    assert!(sim.records("Contact").is_empty());
    let mut no_company = upsert("p2", "other@example.com");
    no_company.properties.remove("Company");
    let out = sf.upsert_contacts(&[no_company]).await.unwrap();
    let err = out[0].error().unwrap();
    assert_eq!(err.vendor_code(), Some("REQUIRED_FIELD_MISSING"));
    assert_eq!(err.field(), Some("Company"));
}

#[tokio::test]
async fn the_limit_header_and_injected_faults_are_survived() {
    let (sim, sf) = start(SimConfig::fast()).await;
    sim.faults().push(cartograph_sim::Fault::ServerError(503));
    sim.faults().push(cartograph_sim::Fault::RateLimited(
        std::time::Duration::from_secs(1),
    ));
    let found = sf
        .find_contacts(&[by_email("x@example.com")])
        .await
        .unwrap();
    assert!(found[0].is_none());
    assert!(sf.transport_stats().unwrap().retries >= 2);
}

#[tokio::test]
async fn a_contact_created_before_cartograph_is_adopted_not_duplicated() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let mut fields = serde_json::Map::new();
    fields.insert("Email".into(), serde_json::json!("Old@Example.com"));
    fields.insert("LastName".into(), serde_json::json!("Hopper"));
    let existing = sim.create_as_user("Contact", fields);
    let mut input = upsert("p1", "old@example.com");
    input.properties.remove("Company");
    let out = sf.upsert_contacts(&[input.clone()]).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some(existing.as_str()));
    let again = sf.upsert_contacts(&[input]).await.unwrap();
    assert_eq!(again[0].id.as_deref(), Some(existing.as_str()));
    let contacts = sim.contacts();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        contacts[0].properties["Cartograph_Key__c"],
        "old@example.com"
    );
    assert_eq!(contacts[0].properties["LastName"], "Lovelace");
}

#[tokio::test]
async fn every_custom_property_of_the_default_mapping_can_be_ensured() {
    let (_sim, sf) = start(SimConfig::fast()).await;
    let file = cartograph_core::mapping::MappingFile::from_toml(
        cartograph_salesforce::profile::DEFAULT_MAPPING,
    )
    .unwrap();
    let mut defs: Vec<PropertyDefinition> = file.custom_properties().cloned().collect();
    defs.extend(sf.required_properties());
    let out = sf.ensure_properties(&defs).await.unwrap();
    for o in &out {
        assert!(o.is_ok(), "{o:?}");
    }
    let again = sf.ensure_properties(&defs).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o.status, WriteStatus::Unchanged))
    );
}

async fn start_lead() -> (SalesforceSim, Salesforce) {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .person_object(PersonObject::Lead)
            .build()
            .unwrap(),
    )
    .unwrap();
    (sim, sf)
}

#[tokio::test]
async fn a_converted_lead_resolves_to_its_contact_without_a_duplicate() {
    let (sim, sf) = start_lead().await;
    let out = sf
        .upsert_contacts(&[upsert("p1", "lead@example.com")])
        .await
        .unwrap();
    let lead_id = out[0].id.clone().unwrap();
    let contact_id = sim.convert_lead(&lead_id).unwrap();
    assert!(sim.convert_lead(&lead_id).is_none(), "converted once");
    assert_eq!(sim.records("Account").len(), 1);

    // The org refuses writes to the converted Lead, in Salesforce's shape.
    let refused = sf
        .client()
        .update(
            "Lead",
            vec![serde_json::json!({"Id": lead_id, "FirstName": "Ada"})],
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        refused[0].errors[0].error_code,
        "CANNOT_UPDATE_CONVERTED_LEAD"
    );

    // Lookups answer the Contact, by email and by the Lead's id.
    let found = sf
        .find_contacts(&[
            by_email("LEAD@example.com"),
            IdentityKeys {
                crm_id: Some(lead_id.clone()),
                ..IdentityKeys::default()
            },
            IdentityKeys {
                crm_id: Some(contact_id.clone()),
                ..IdentityKeys::default()
            },
        ])
        .await
        .unwrap();
    for f in &found {
        assert_eq!(f.as_ref().unwrap().crm_id, contact_id);
    }

    // The next write of the same person goes to the Contact: no new Lead, no write to it.
    let writes_before = sim.request_log().len();
    let mut again = upsert("p1", "lead@example.com");
    again
        .properties
        .insert("FirstName".into(), PropertyValue::String("Ada".into()));
    let out = sf.upsert_contacts(&[again]).await.unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some(contact_id.as_str()));
    assert_eq!(sim.records("Lead").len(), 1);
    assert_eq!(sim.records("Contact").len(), 1);
    let contact = &sim.records("Contact")[0];
    assert_eq!(contact.properties["FirstName"], "Ada");
    assert_eq!(contact.properties["LastName"], "Lovelace");
    let lead = &sim.records("Lead")[0];
    assert!(!lead.properties.contains_key("FirstName"));
    assert_eq!(lead.properties["IsConverted"], "true");
    assert_eq!(lead.properties["ConvertedContactId"], contact_id);
    let writes: Vec<_> = sim.request_log()[writes_before..]
        .iter()
        .map(|(m, p, body)| {
            (
                m.clone(),
                p.clone(),
                body["records"][0]["attributes"]["type"].clone(),
            )
        })
        .collect();
    assert_eq!(
        writes,
        vec![(
            "PATCH".to_owned(),
            "composite/sobjects".to_owned(),
            serde_json::json!("Contact")
        )]
    );

    // Enrollment by email and a Case land on the Contact too.
    let campaign = sim.create_campaign("First purchase");
    let out = sf
        .enroll(&[EnrollmentRequest {
            key: "e1".into(),
            contact: ContactRef::Email(EmailAddress::new("lead@example.com").unwrap()),
            target: cartograph_model::EnrollmentTarget::Campaign {
                id: campaign.clone(),
            },
            reason: "first purchase".into(),
            origin: Origin::Live,
        }])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Created),
        "{:?}",
        out[0]
    );
    assert_eq!(
        sim.records("CampaignMember")[0].properties["ContactId"],
        contact_id
    );
    let task = |key: &str, kind| TaskRequest {
        key: key.into(),
        kind,
        subject: "Refund".into(),
        body: "Customer asked for a refund".into(),
        priority: TaskPriority::High,
        due_at: None,
        contact: Some(ContactRef::Email(
            EmailAddress::new("lead@example.com").unwrap(),
        )),
        order_key: None,
        owner_id: None,
    };
    let out = sf
        .create_tasks(&[task("t1", TaskKind::Task), task("c1", TaskKind::Case)])
        .await
        .unwrap();
    assert!(
        out.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{out:?}"
    );
    assert_eq!(sim.records("Task")[0].properties["WhoId"], contact_id);
    assert_eq!(sim.records("Case")[0].properties["ContactId"], contact_id);
}

#[tokio::test]
async fn an_email_matched_converted_lead_is_not_duplicated() {
    let (sim, sf) = start_lead().await;
    // A Lead entered by a rep (no External ID), then converted.
    let mut fields = serde_json::Map::new();
    fields.insert("LastName".into(), serde_json::json!("Hopper"));
    fields.insert("Company".into(), serde_json::json!("Navy"));
    fields.insert("Email".into(), serde_json::json!("grace@example.com"));
    let lead_id = sim.create_as_user("Lead", fields);
    let contact_id = sim.convert_lead(&lead_id).unwrap();
    let out = sf
        .upsert_contacts(&[upsert("p1", "Grace@example.com")])
        .await
        .unwrap();
    assert!(
        matches!(out[0].status, WriteStatus::Updated),
        "{:?}",
        out[0]
    );
    assert_eq!(out[0].id.as_deref(), Some(contact_id.as_str()));
    assert_eq!(sim.records("Lead").len(), 1);
    assert_eq!(sim.records("Contact").len(), 1);
    assert_eq!(sim.records("Contact")[0].properties["LastName"], "Lovelace");
}

#[tokio::test]
async fn a_phone_only_match_is_found() {
    let (sim, sf) = start(SimConfig::fast()).await;
    let mut fields = serde_json::Map::new();
    fields.insert("LastName".into(), serde_json::json!("Hopper"));
    fields.insert("Phone".into(), serde_json::json!("+14155550100"));
    let id = sim.create_as_user("Contact", fields.clone());
    // Two people behind one office number.
    fields.insert("Phone".into(), serde_json::json!("+14155550142"));
    sim.create_as_user("Contact", fields.clone());
    sim.create_as_user("Contact", fields);
    let phone = |p: &str| IdentityKeys {
        phone: Some(p.into()),
        ..IdentityKeys::default()
    };
    let found = sf
        .find_contacts(&[
            phone("+14155550100"),
            phone("+14155550142"),
            phone("+14155550999"),
        ])
        .await
        .unwrap();
    assert_eq!(found[0].as_ref().unwrap().crm_id, id);
    assert_eq!(found[1], None, "a shared phone identifies nobody");
    assert_eq!(found[2], None);
}

#[tokio::test]
async fn opportunities_read_back_page_by_next_records_url_and_by_order_key() {
    let (sim, sf) = start(SimConfig {
        query_page_size: 2,
        ..SimConfig::fast()
    })
    .await;
    let mut definitions = sf.required_properties();
    definitions.push(PropertyDefinition {
        object: CrmObjectType::Deal,
        name: "Ecom_Currency__c".into(),
        label: "Currency".into(),
        kind: PropertyType::String,
        options: Vec::new(),
        group: None,
        unique: false,
        description: None,
    });
    // The profile reads revenue from the store total (`Amount` becomes the line sum).
    definitions.push(PropertyDefinition {
        object: CrmObjectType::Deal,
        name: "Ecom_Order_Total__c".into(),
        label: "Order total".into(),
        kind: PropertyType::Number,
        options: Vec::new(),
        group: None,
        unique: false,
        description: None,
    });
    let out = sf.ensure_properties(&definitions).await.unwrap();
    assert!(
        out.iter().all(cartograph_connector::RecordOutcome::is_ok),
        "{out:?}"
    );
    let orders: Vec<OrderRecord> = (0..5)
        .map(|n| OrderRecord {
            key: format!("shop/order/{n}"),
            object: OrderObject::Deal,
            contact: None,
            properties: [
                (
                    "Amount".to_owned(),
                    PropertyValue::Number(cartograph_model::Decimal::new(1_000 + n, 2)),
                ),
                (
                    "Ecom_Order_Total__c".to_owned(),
                    PropertyValue::Number(cartograph_model::Decimal::new(1_000 + n, 2)),
                ),
                (
                    "CloseDate".to_owned(),
                    PropertyValue::Date(time::macros::date!(2026 - 03 - 01)),
                ),
                (
                    "Ecom_Currency__c".to_owned(),
                    PropertyValue::String("EUR".into()),
                ),
            ]
            .into(),
            line_items: Vec::new(),
            origin: Origin::Live,
        })
        .collect();
    let written = sf.record_orders(&orders).await.unwrap();
    assert!(
        written
            .iter()
            .all(cartograph_connector::RecordOutcome::is_ok),
        "{written:?}"
    );
    // An opportunity a sales rep made: no order key, not read back.
    let mut by_hand = serde_json::Map::new();
    by_hand.insert("Name".into(), serde_json::json!("By hand"));
    by_hand.insert("StageName".into(), serde_json::json!("Prospecting"));
    by_hand.insert("CloseDate".into(), serde_json::json!("2026-03-02"));
    sim.create_as_user("Opportunity", by_hand);

    let mut pages = 0;
    let read = cartograph_connector::drain(&cartograph_connector::ListRequest::all(), |request| {
        pages += 1;
        let sf = &sf;
        async move { sf.read_orders(&request).await }
    })
    .await
    .unwrap();
    assert_eq!(pages, 3, "6 opportunities at 2 a page");
    assert_eq!(read.len(), 5);
    let third = read.iter().find(|o| o.key == "shop/order/2").unwrap();
    assert_eq!(
        third.amount,
        Some(cartograph_model::Money::from_minor(
            1_002,
            cartograph_model::Currency::EUR
        ))
    );
    assert_eq!(third.day, Some(time::macros::date!(2026 - 03 - 01)));

    let found = sf
        .find_orders(&["shop/order/4".into(), "shop/order/404".into()])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].key, "shop/order/4");
}
