//! Contracts of [`CrmSink`]. Each contract writes its own contacts (emails from
//! [`CrmFixture::email`]), so they can run one after another against one system. Contracts
//! for operations the sink does not declare are skipped.

use cartograph_connector::{CrmSink, ErrorKind, RecordOutcome, WriteStatus};
use cartograph_model::{
    ContactRef, ContactUpsert, EmailAddress, EnrollmentRequest, EnrollmentTarget, IdentityKeys,
    LineItemRecord, OrderObject, OrderRecord, Origin, PropertyValue, TaskKind, TaskPriority,
    TaskRequest,
};

use super::support::{assert_outcome_keys, assert_unsupported, expect_supported, status};
use crate::fixtures::CrmFixture;

fn upsert(fx: &CrmFixture, contract: &str, n: usize, value: &str) -> ContactUpsert {
    ContactUpsert {
        key: fx.key(contract, n),
        identity: IdentityKeys {
            email: Some(fx.email(contract, n)),
            ..IdentityKeys::default()
        },
        properties: [(
            fx.contact_property.clone(),
            PropertyValue::String(value.to_owned()),
        )]
        .into(),
        origin: Origin::Live,
    }
}

fn by_email(email: &EmailAddress) -> IdentityKeys {
    IdentityKeys {
        email: Some(email.clone()),
        ..IdentityKeys::default()
    }
}

fn lower(email: &EmailAddress) -> EmailAddress {
    EmailAddress::new(email.normalized()).unwrap_or_else(|| email.clone())
}

async fn write(sink: &dyn CrmSink, inputs: &[ContactUpsert]) -> Vec<RecordOutcome> {
    let name = sink.name().to_owned();
    let out = expect_supported(&name, "upsert_contacts", sink.upsert_contacts(inputs).await);
    let keys: Vec<&str> = inputs.iter().map(|i| i.key.as_str()).collect();
    assert_outcome_keys(&name, "upsert_contacts", &out, &keys);
    out
}

/// Writes one contact that must succeed, returning its CRM id (from the outcome, else from a
/// lookup).
async fn ensure_contact(sink: &dyn CrmSink, fx: &CrmFixture, contract: &str, n: usize) -> String {
    let name = sink.name().to_owned();
    let out = write(sink, &[upsert(fx, contract, n, "Ada")]).await;
    assert!(
        out[0].is_ok(),
        "conformance [{name}] writing a valid contact failed: {}",
        status(&out[0])
    );
    if let Some(id) = &out[0].id {
        return id.clone();
    }
    let found = expect_supported(
        &name,
        "find_contacts",
        sink.find_contacts(&[by_email(&fx.email(contract, n))])
            .await,
    );
    found.into_iter().next().flatten().map_or_else(
        || panic!("conformance [{name}] a written contact is not found by email"),
        |c| c.crm_id,
    )
}

/// `find_contacts` finds a written contact by its email in another letter case, answers
/// `None` for an unknown email, one answer per input in input order.
pub async fn lookup_finds_contact_by_email_case_insensitively(sink: &dyn CrmSink, fx: &CrmFixture) {
    let name = sink.name().to_owned();
    let id = ensure_contact(sink, fx, "lookup", 1).await;
    let keys = [
        by_email(&fx.email("lookup", 404)),
        by_email(&lower(&fx.email("lookup", 1))),
    ];
    let found = expect_supported(&name, "find_contacts", sink.find_contacts(&keys).await);
    assert_eq!(
        found.len(),
        2,
        "conformance [{name}] find_contacts must answer once per input"
    );
    assert!(
        found[0].is_none(),
        "conformance [{name}] find_contacts found an unknown email"
    );
    assert_eq!(
        found[1].as_ref().map(|c| c.crm_id.as_str()),
        Some(id.as_str()),
        "conformance [{name}] find_contacts must find {} by {} (case-insensitive), in input order",
        fx.email("lookup", 1),
        lower(&fx.email("lookup", 1))
    );
}

/// Upserting the same person twice (second time with the email in another case) is never
/// two contacts: the second outcome is `Updated` or `Unchanged` with the same id.
pub async fn upsert_twice_is_one_contact(sink: &dyn CrmSink, fx: &CrmFixture) {
    let name = sink.name().to_owned();
    let id = ensure_contact(sink, fx, "twice", 1).await;
    let mut again = upsert(fx, "twice", 1, "Ada");
    again.identity.email = EmailAddress::new(fx.email("twice", 1).as_str().to_uppercase());
    let out = write(sink, &[again]).await;
    assert!(
        matches!(out[0].status, WriteStatus::Updated | WriteStatus::Unchanged)
            && out[0].id.as_deref().is_none_or(|got| got == id),
        "conformance [{name}] a second upsert of {id} must be Updated or Unchanged for the same id; got {} id {:?}",
        status(&out[0]),
        out[0].id
    );
}

/// Outcomes are one per input, in input order (not sorted, not grouped by status), and new
/// contacts get distinct ids.
pub async fn outcomes_one_per_input_in_input_order(sink: &dyn CrmSink, fx: &CrmFixture) {
    let name = sink.name().to_owned();
    let inputs = [
        upsert(fx, "order", 3, "C"),
        upsert(fx, "order", 1, "A"),
        upsert(fx, "order", 2, "B"),
    ];
    let out = write(sink, &inputs).await;
    let mut ids: Vec<_> = out.iter().filter_map(|o| o.id.clone()).collect();
    for o in &out {
        assert!(
            o.is_ok(),
            "conformance [{name}] valid contact {} failed: {}",
            o.key,
            status(o)
        );
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        n,
        "conformance [{name}] distinct new contacts share an id"
    );
}

/// Two inputs for one contact in one batch (same email, different case) never create two
/// contacts: at most one is `Created`, and any that succeed name the same id.
pub async fn duplicate_inputs_in_batch_never_create_two_contacts(
    sink: &dyn CrmSink,
    fx: &CrmFixture,
) {
    let name = sink.name().to_owned();
    let first = upsert(fx, "dupe", 1, "A");
    let mut second = upsert(fx, "dupe", 1, "B");
    second.key = fx.key("dupe", 2);
    second.identity.email = Some(lower(&fx.email("dupe", 1)));
    let out = write(sink, &[first, second]).await;
    let created = out
        .iter()
        .filter(|o| matches!(o.status, WriteStatus::Created))
        .count();
    assert!(
        created <= 1,
        "conformance [{name}] two inputs for one email created {created} contacts"
    );
    let mut ids: Vec<_> = out
        .iter()
        .filter(|o| o.is_ok())
        .filter_map(|o| o.id.clone())
        .collect();
    ids.dedup();
    assert!(
        ids.len() <= 1,
        "conformance [{name}] two inputs for one email wrote different contacts {ids:?}"
    );
}

/// A batch larger than `Capabilities::max_batch` is refused as a whole with `Invalid`, and
/// none of it is written.
pub async fn batch_over_max_is_refused(sink: &dyn CrmSink, fx: &CrmFixture) {
    let name = sink.name().to_owned();
    let max = sink.capabilities().max_batch;
    if max == 0 {
        return;
    }
    let inputs: Vec<_> = (0..=max).map(|n| upsert(fx, "max", n, "A")).collect();
    match sink.upsert_contacts(&inputs).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::Invalid,
            "conformance [{name}] oversized batch: {e}"
        ),
        Ok(_) => panic!(
            "conformance [{name}] a batch of {} (max {max}) must be refused",
            inputs.len()
        ),
    }
    let found = expect_supported(
        &name,
        "find_contacts",
        sink.find_contacts(&[by_email(&fx.email("max", 0))]).await,
    );
    assert!(
        found[0].is_none(),
        "conformance [{name}] a refused batch wrote contacts"
    );
}

fn order(fx: &CrmFixture, contract: &str, contact: &EmailAddress) -> OrderRecord {
    OrderRecord {
        key: fx.key(contract, 1),
        object: OrderObject::Deal,
        contact: Some(ContactRef::Email(contact.clone())),
        properties: fx.order_properties.clone(),
        line_items: vec![LineItemRecord {
            key: format!("{}-l1", fx.key(contract, 1)),
            product_key: None,
            properties: fx.line_item_properties.clone(),
        }],
        origin: Origin::Live,
    }
}

/// Retried outcomes must not create a second record: not `Created` again, same id.
fn assert_retry(name: &str, what: &str, first: &RecordOutcome, retry: &RecordOutcome) {
    assert!(
        first.is_ok(),
        "conformance [{name}] {what}: a valid record failed: {}",
        status(first)
    );
    assert!(
        matches!(retry.status, WriteStatus::Updated | WriteStatus::Unchanged),
        "conformance [{name}] {what}: retrying key {} must be Updated or Unchanged, got {}",
        retry.key,
        status(retry)
    );
    if let (Some(a), Some(b)) = (&first.id, &retry.id) {
        assert_eq!(
            a, b,
            "conformance [{name}] {what}: a retry wrote a second record"
        );
    }
}

/// `record_orders` is idempotent by key: recording the same order again (a retry) never
/// creates a second order.
pub async fn record_orders_is_idempotent_by_key(sink: &dyn CrmSink, fx: &CrmFixture) {
    if !sink.capabilities().orders {
        return;
    }
    let name = sink.name().to_owned();
    ensure_contact(sink, fx, "orders", 1).await;
    let record = order(fx, "orders", &fx.email("orders", 1));
    let first = expect_supported(
        &name,
        "record_orders",
        sink.record_orders(std::slice::from_ref(&record)).await,
    );
    let retry = expect_supported(&name, "record_orders", sink.record_orders(&[record]).await);
    assert_outcome_keys(
        &name,
        "record_orders",
        &retry,
        &[fx.key("orders", 1).as_str()],
    );
    assert_retry(&name, "record_orders", &first[0], &retry[0]);
}

/// `create_tasks` is idempotent by key: the same key never opens a second task.
pub async fn create_tasks_is_idempotent_by_key(sink: &dyn CrmSink, fx: &CrmFixture) {
    if !sink.capabilities().tasks {
        return;
    }
    let name = sink.name().to_owned();
    ensure_contact(sink, fx, "tasks", 1).await;
    let task = TaskRequest {
        key: fx.key("tasks", 1),
        kind: TaskKind::Task,
        subject: "Follow up refund".into(),
        body: "Written by the conformance suite".into(),
        priority: TaskPriority::High,
        due_at: None,
        contact: Some(ContactRef::Email(fx.email("tasks", 1))),
        order_key: None,
        owner_id: None,
    };
    let first = expect_supported(
        &name,
        "create_tasks",
        sink.create_tasks(std::slice::from_ref(&task)).await,
    );
    let retry = expect_supported(&name, "create_tasks", sink.create_tasks(&[task]).await);
    assert_retry(&name, "create_tasks", &first[0], &retry[0]);
}

/// Historical enrollment requests are answered `Unchanged` (never enroll); a live one for the
/// fixture's target is written.
pub async fn historical_enrollments_do_not_enroll(sink: &dyn CrmSink, fx: &CrmFixture) {
    let caps = sink.capabilities();
    if caps.enrollment.is_empty() {
        return;
    }
    let name = sink.name().to_owned();
    let id = ensure_contact(sink, fx, "enroll", 1).await;
    let request = |n: usize, origin| EnrollmentRequest {
        key: fx.key("enroll", n),
        contact: ContactRef::CrmId(id.clone()),
        target: fx.enrollment_target.clone(),
        reason: "conformance".into(),
        origin,
    };
    let out = expect_supported(
        &name,
        "enroll",
        sink.enroll(&[request(1, Origin::Historical)]).await,
    );
    assert!(
        matches!(out[0].status, WriteStatus::Unchanged),
        "conformance [{name}] a historical enrollment must be Unchanged (never enroll); got {}",
        status(&out[0])
    );
    let method_supported = match &fx.enrollment_target {
        EnrollmentTarget::Workflow { .. } => caps
            .enrollment
            .contains(&cartograph_connector::EnrollmentMethod::Workflow),
        EnrollmentTarget::List { .. } => caps
            .enrollment
            .contains(&cartograph_connector::EnrollmentMethod::List),
        EnrollmentTarget::Campaign { .. } => caps
            .enrollment
            .contains(&cartograph_connector::EnrollmentMethod::Campaign),
        EnrollmentTarget::Automation { .. } => caps
            .enrollment
            .contains(&cartograph_connector::EnrollmentMethod::Automation),
        EnrollmentTarget::TriggerProperty { .. } => caps
            .enrollment
            .contains(&cartograph_connector::EnrollmentMethod::TriggerProperty),
    };
    if method_supported {
        let live = expect_supported(
            &name,
            "enroll",
            sink.enroll(&[request(2, Origin::Live)]).await,
        );
        assert!(
            live[0].is_ok(),
            "conformance [{name}] a live enrollment failed: {}",
            status(&live[0])
        );
    }
}

/// `ensure_properties` is idempotent: ensuring the same definition again is `Unchanged`.
pub async fn ensure_properties_is_idempotent(sink: &dyn CrmSink, fx: &CrmFixture) {
    if !sink.capabilities().property_definitions {
        return;
    }
    let name = sink.name().to_owned();
    let def = fx.namespaced_property();
    let first = expect_supported(
        &name,
        "ensure_properties",
        sink.ensure_properties(std::slice::from_ref(&def)).await,
    );
    assert!(
        first[0].is_ok(),
        "conformance [{name}] ensure_properties failed: {}",
        status(&first[0])
    );
    let again = expect_supported(
        &name,
        "ensure_properties",
        sink.ensure_properties(&[def]).await,
    );
    assert!(
        matches!(again[0].status, WriteStatus::Unchanged),
        "conformance [{name}] ensuring an existing property again must be Unchanged; got {}",
        status(&again[0])
    );
}

/// Writing an unknown property fails that record with `Invalid` while the rest of the batch
/// is written.
pub async fn unknown_property_fails_only_that_record(sink: &dyn CrmSink, fx: &CrmFixture) {
    let name = sink.name().to_owned();
    let mut bad = upsert(fx, "unknown", 2, "B");
    bad.properties.insert(
        fx.unknown_property.clone(),
        PropertyValue::String("x".into()),
    );
    let inputs = [
        upsert(fx, "unknown", 1, "A"),
        bad,
        upsert(fx, "unknown", 3, "C"),
    ];
    let out = write(sink, &inputs).await;
    assert!(
        matches!(&out[1].status, WriteStatus::Failed(e) if e.kind() == ErrorKind::Invalid),
        "conformance [{name}] writing unknown property {} must fail that record with Invalid; got {}",
        fx.unknown_property,
        status(&out[1])
    );
    for o in [&out[0], &out[2]] {
        assert!(
            o.is_ok(),
            "conformance [{name}] one bad record failed a good one: {}",
            status(o)
        );
    }
    let keys = [
        by_email(&fx.email("unknown", 1)),
        by_email(&fx.email("unknown", 3)),
    ];
    let found = expect_supported(&name, "find_contacts", sink.find_contacts(&keys).await);
    assert!(
        found.iter().all(Option::is_some),
        "conformance [{name}] the good records of a half-failed batch are missing"
    );
}

/// Operations outside the capabilities answer `Unsupported`; declared ones accept an empty
/// batch with no outcomes.
pub async fn unsupported_operations_match_capabilities(sink: &dyn CrmSink) {
    let name = sink.name().to_owned();
    let caps = sink.capabilities();
    let check =
        |what: &str, declared: bool, result: cartograph_connector::Result<Vec<RecordOutcome>>| {
            if declared {
                let out = expect_supported(&name, what, result);
                assert!(
                    out.is_empty(),
                    "conformance [{name}] {what} of an empty batch returned outcomes"
                );
            } else {
                assert_unsupported(&name, what, result);
            }
        };
    check("record_orders", caps.orders, sink.record_orders(&[]).await);
    check(
        "upsert_products",
        caps.products,
        sink.upsert_products(&[]).await,
    );
    check("create_tasks", caps.tasks, sink.create_tasks(&[]).await);
    check(
        "enroll",
        !caps.enrollment.is_empty(),
        sink.enroll(&[]).await,
    );
    check(
        "ensure_properties",
        caps.property_definitions,
        sink.ensure_properties(&[]).await,
    );
}

/// Runs every `CrmSink` contract.
pub async fn run_all(sink: &dyn CrmSink, fx: &CrmFixture) {
    lookup_finds_contact_by_email_case_insensitively(sink, fx).await;
    upsert_twice_is_one_contact(sink, fx).await;
    outcomes_one_per_input_in_input_order(sink, fx).await;
    duplicate_inputs_in_batch_never_create_two_contacts(sink, fx).await;
    batch_over_max_is_refused(sink, fx).await;
    record_orders_is_idempotent_by_key(sink, fx).await;
    create_tasks_is_idempotent_by_key(sink, fx).await;
    historical_enrollments_do_not_enroll(sink, fx).await;
    ensure_properties_is_idempotent(sink, fx).await;
    unknown_property_fails_only_that_record(sink, fx).await;
    unsupported_operations_match_capabilities(sink).await;
}
