//! Owner routing of Cases and Tasks on the simulator: per reason, default, own owner.

use cartograph_connector::{CrmSink, WriteStatus};
use cartograph_model::{TaskKind, TaskPriority, TaskRequest};
use cartograph_salesforce::Salesforce;
use cartograph_salesforce::routing::{CaseReason, OwnerRouting};
use cartograph_salesforce::sim::{SalesforceSim, SimConfig};

const REFUND_QUEUE: &str = "00G000000000001AAA";
const SUPPORT_QUEUE: &str = "00G000000000002AAA";
const DISPUTE_USER: &str = "005000000000003AAA";
const ACCOUNT_MANAGER: &str = "005000000000004AAA";

fn request(key: &str, kind: TaskKind, owner: Option<&str>) -> TaskRequest {
    TaskRequest {
        key: key.into(),
        kind,
        subject: "Order needs attention".into(),
        body: String::new(),
        priority: TaskPriority::High,
        due_at: None,
        contact: None,
        order_key: Some("bigcommerce/order/100".into()),
        owner_id: owner.map(str::to_owned),
    }
}

fn owner_of(sim: &SalesforceSim, sobject: &str, key: &str) -> Option<String> {
    sim.records(sobject)
        .into_iter()
        .find(|r| r.properties.get("Cartograph_Key__c").map(String::as_str) == Some(key))
        .unwrap_or_else(|| panic!("no {sobject} {key}"))
        .properties
        .get("OwnerId")
        .cloned()
}

#[tokio::test]
async fn cases_and_tasks_get_the_owner_routed_by_reason() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let routing = OwnerRouting {
        case_owner: Some(SUPPORT_QUEUE.into()),
        task_owner: Some(ACCOUNT_MANAGER.into()),
        by_reason: [
            (CaseReason::Refund, REFUND_QUEUE.into()),
            (CaseReason::Dispute, DISPUTE_USER.into()),
        ]
        .into(),
    };
    let sf = Salesforce::new(
        sim.connector_config()
            .unwrap()
            .routing(routing)
            .build()
            .unwrap(),
    )
    .unwrap();
    let out = sf
        .create_tasks(&[
            request("refund:r1", TaskKind::Case, None),
            request("dispute:d1", TaskKind::Case, None),
            request("delay:o1", TaskKind::Case, None),
            request("return:o2", TaskKind::Case, Some(DISPUTE_USER)),
            request("refund:r1", TaskKind::Task, None),
            request("dispute:d1", TaskKind::Task, None),
            request("order:o3", TaskKind::Task, None),
        ])
        .await
        .unwrap();
    assert!(
        out.iter().all(|o| matches!(o.status, WriteStatus::Created)),
        "{out:?}"
    );
    // Cases: the reason's owner, else the default; the request's own owner wins.
    assert_eq!(
        owner_of(&sim, "Case", "refund:r1").as_deref(),
        Some(REFUND_QUEUE)
    );
    assert_eq!(
        owner_of(&sim, "Case", "dispute:d1").as_deref(),
        Some(DISPUTE_USER)
    );
    assert_eq!(
        owner_of(&sim, "Case", "delay:o1").as_deref(),
        Some(SUPPORT_QUEUE)
    );
    assert_eq!(
        owner_of(&sim, "Case", "return:o2").as_deref(),
        Some(DISPUTE_USER)
    );
    // Tasks: a queue routed for the reason is skipped for the task owner.
    assert_eq!(
        owner_of(&sim, "Task", "refund:r1").as_deref(),
        Some(ACCOUNT_MANAGER)
    );
    assert_eq!(
        owner_of(&sim, "Task", "dispute:d1").as_deref(),
        Some(DISPUTE_USER)
    );
    assert_eq!(
        owner_of(&sim, "Task", "order:o3").as_deref(),
        Some(ACCOUNT_MANAGER)
    );
}

#[tokio::test]
async fn without_routing_no_owner_is_sent() {
    let sim = SalesforceSim::start(SimConfig::fast()).await.unwrap();
    let sf = Salesforce::new(sim.connector_config().unwrap().build().unwrap()).unwrap();
    sf.create_tasks(&[request("refund:r1", TaskKind::Case, None)])
        .await
        .unwrap();
    assert_eq!(owner_of(&sim, "Case", "refund:r1"), None);
}

#[test]
fn a_queue_as_task_owner_is_a_config_error() {
    let err = cartograph_salesforce::SalesforceConfig::builder(
        cartograph_salesforce::Environment::Sandbox,
        cartograph_salesforce::SalesforceAuth::ClientCredentials {
            client_id: "id".into(),
            client_secret: cartograph_http::Secret::new("s"),
        },
    )
    .routing(OwnerRouting {
        task_owner: Some(SUPPORT_QUEUE.into()),
        ..OwnerRouting::default()
    })
    .build()
    .unwrap_err();
    assert_eq!(err.field(), Some("routing.task_owner"));
}
