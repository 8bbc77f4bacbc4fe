//! Contracts of [`CommerceWriter`]. Run them against a platform that has none of the
//! `cw-…@example.com` customers yet (a fresh simulator, or one loaded with a [`Seed`]).
//!
//! Writers without `customer_writes` skip the write contracts and only run
//! [`unsupported_operations_match_capabilities`].
//!
//! [`Seed`]: crate::fixtures::Seed

use cartograph_connector::{CommerceWriter, ErrorKind, WriteStatus};
use cartograph_model::{CustomerWrite, EmailAddress};

use super::support::{assert_outcome_keys, assert_unsupported, expect_supported, status};

fn email(contract: &str, n: usize) -> EmailAddress {
    EmailAddress::new(format!("CW-{contract}-{n}@Example.COM"))
        .unwrap_or_else(|| unreachable!("never blank"))
}

fn create(contract: &str, n: usize) -> CustomerWrite {
    CustomerWrite {
        key: format!("cw-{contract}-{n}"),
        email: Some(email(contract, n)),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        ..CustomerWrite::default()
    }
}

fn lower(e: &EmailAddress) -> EmailAddress {
    EmailAddress::new(e.normalized()).unwrap_or_else(|| e.clone())
}

/// Creates one customer and returns its id.
async fn create_one(w: &dyn CommerceWriter, contract: &str, n: usize) -> String {
    let name = w.name().to_owned();
    let out = expect_supported(
        &name,
        "upsert_customers",
        w.upsert_customers(&[create(contract, n)]).await,
    );
    assert_eq!(
        out.len(),
        1,
        "conformance [{name}] upsert_customers: one outcome per input"
    );
    match (&out[0].status, &out[0].id) {
        (WriteStatus::Created, Some(id)) => id.clone(),
        _ => panic!(
            "conformance [{name}] creating a new customer must be Created with an id; got {} id {:?}",
            status(&out[0]),
            out[0].id
        ),
    }
}

/// A created customer is found by its email in any letter case, exactly once; an unknown
/// email finds nothing.
pub async fn find_by_email_is_case_insensitive(w: &dyn CommerceWriter) {
    if !w.capabilities().customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let id = create_one(w, "find", 1).await;
    let found = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[lower(&email("find", 1))]).await,
    );
    let ids: Vec<_> = found.iter().map(|c| c.source.id.as_str()).collect();
    assert_eq!(
        ids,
        [id.as_str()],
        "conformance [{name}] find_customers_by_email must match case-insensitively"
    );
    let none = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[email("find", 99)]).await,
    );
    assert!(
        none.is_empty(),
        "conformance [{name}] find_customers_by_email found an unknown email"
    );
}

/// `upsert_customers` returns one outcome per input, in input order, with distinct ids for
/// distinct new customers.
pub async fn upsert_outcomes_one_per_input_in_order(w: &dyn CommerceWriter) {
    if !w.capabilities().customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let writes = [create("order", 3), create("order", 1), create("order", 2)];
    let out = expect_supported(&name, "upsert_customers", w.upsert_customers(&writes).await);
    assert_outcome_keys(
        &name,
        "upsert_customers",
        &out,
        &["cw-order-3", "cw-order-1", "cw-order-2"],
    );
    let mut ids: Vec<_> = out
        .iter()
        .map(|o| match (&o.status, &o.id) {
            (WriteStatus::Created, Some(id)) => id.clone(),
            _ => panic!(
                "conformance [{name}] new customer {} must be Created with an id; got {}",
                o.key,
                status(o)
            ),
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        3,
        "conformance [{name}] three new customers got {} distinct ids",
        ids.len()
    );
}

/// Creating a customer whose email already exists (in another letter case) never makes a
/// second customer: the outcome fails, or updates the same customer.
pub async fn existing_email_never_creates_a_second_customer(w: &dyn CommerceWriter) {
    if !w.capabilities().customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let id = create_one(w, "dupe", 1).await;
    let mut again = create("dupe", 1);
    again.key = "cw-dupe-again".into();
    again.email = EmailAddress::new(email("dupe", 1).as_str().to_uppercase());
    let out = expect_supported(
        &name,
        "upsert_customers",
        w.upsert_customers(&[again]).await,
    );
    match (&out[0].status, &out[0].id) {
        (WriteStatus::Failed(_), _) => {}
        (WriteStatus::Updated | WriteStatus::Unchanged, Some(got)) if *got == id => {}
        _ => panic!(
            "conformance [{name}] creating an existing email must fail or touch customer {id}; got {} id {:?}",
            status(&out[0]),
            out[0].id
        ),
    }
    let found = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[email("dupe", 1)]).await,
    );
    assert_eq!(
        found.len(),
        1,
        "conformance [{name}] two customers share one email"
    );
}

/// A write with an id updates that customer (`Updated`, same id) and the change is visible.
pub async fn update_by_id_changes_fields(w: &dyn CommerceWriter) {
    if !w.capabilities().customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let id = create_one(w, "update", 1).await;
    let change = CustomerWrite {
        key: "cw-update-change".into(),
        id: Some(id.clone()),
        first_name: Some("Augusta".into()),
        ..CustomerWrite::default()
    };
    let out = expect_supported(
        &name,
        "upsert_customers",
        w.upsert_customers(&[change]).await,
    );
    assert!(
        matches!(out[0].status, WriteStatus::Updated)
            && out[0].id.as_deref().is_none_or(|got| got == id),
        "conformance [{name}] changing a customer by id must be Updated for {id}; got {} id {:?}",
        status(&out[0]),
        out[0].id
    );
    let found = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[email("update", 1)]).await,
    );
    assert_eq!(
        found.first().and_then(|c| c.first_name.as_deref()),
        Some("Augusta"),
        "conformance [{name}] the update is not visible"
    );
}

/// Updating an id that does not exist fails that record only; the rest of the batch is
/// written.
pub async fn update_missing_id_fails_only_that_record(w: &dyn CommerceWriter) {
    if !w.capabilities().customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let ghost = CustomerWrite {
        key: "cw-missing-ghost".into(),
        id: Some("999999992".into()),
        first_name: Some("Nobody".into()),
        ..CustomerWrite::default()
    };
    let out = expect_supported(
        &name,
        "upsert_customers",
        w.upsert_customers(&[ghost, create("missing", 1)]).await,
    );
    assert_outcome_keys(
        &name,
        "upsert_customers",
        &out,
        &["cw-missing-ghost", "cw-missing-1"],
    );
    assert!(
        matches!(&out[0].status, WriteStatus::Failed(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Invalid)),
        "conformance [{name}] updating a missing id must fail with NotFound or Invalid; got {}",
        status(&out[0])
    );
    assert!(
        out[1].is_ok(),
        "conformance [{name}] a failing record must not fail the rest: {}",
        status(&out[1])
    );
}

/// A batch larger than `Capabilities::max_batch` is refused as a whole with `Invalid`, and
/// nothing of it is written.
pub async fn batch_over_max_is_refused(w: &dyn CommerceWriter) {
    let caps = w.capabilities();
    if !caps.customer_writes || caps.max_batch == 0 {
        return;
    }
    let name = w.name().to_owned();
    let writes: Vec<_> = (0..=caps.max_batch).map(|n| create("max", n)).collect();
    match w.upsert_customers(&writes).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::Invalid,
            "conformance [{name}] oversized batch: {e}"
        ),
        Ok(_) => panic!(
            "conformance [{name}] a batch of {} (max {}) must be refused",
            writes.len(),
            caps.max_batch
        ),
    }
    let found = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[email("max", 0)]).await,
    );
    assert!(
        found.is_empty(),
        "conformance [{name}] a refused batch wrote customers"
    );
}

/// With `customer_groups`, a created group can be assigned and shows on the customer.
pub async fn assigned_group_shows_on_customer(w: &dyn CommerceWriter) {
    let caps = w.capabilities();
    if !caps.customer_groups || !caps.customer_writes {
        return;
    }
    let name = w.name().to_owned();
    let id = create_one(w, "group", 1).await;
    let group = expect_supported(
        &name,
        "create_customer_group",
        w.create_customer_group("Conformance VIP").await,
    );
    expect_supported(
        &name,
        "assign_customer_group",
        w.assign_customer_group(&id, &group.source.id).await,
    );
    let found = expect_supported(
        &name,
        "find_customers_by_email",
        w.find_customers_by_email(&[email("group", 1)]).await,
    );
    assert!(
        found
            .first()
            .is_some_and(|c| c.customer_group_ids.contains(&group.source.id)),
        "conformance [{name}] the assigned group {} is not on customer {id}",
        group.source.id
    );
}

/// Operations outside the capabilities answer `Unsupported`; declared ones do not.
pub async fn unsupported_operations_match_capabilities(w: &dyn CommerceWriter) {
    let name = w.name().to_owned();
    let caps = w.capabilities();
    let find = w.find_customers_by_email(&[]).await;
    let upsert = w.upsert_customers(&[]).await;
    if caps.customer_writes {
        expect_supported(&name, "find_customers_by_email", find);
        expect_supported(&name, "upsert_customers", upsert);
    } else {
        assert_unsupported(&name, "find_customers_by_email", find);
        assert_unsupported(&name, "upsert_customers", upsert);
    }
    if !caps.customer_groups {
        assert_unsupported(
            &name,
            "create_customer_group",
            w.create_customer_group("x").await,
        );
        assert_unsupported(
            &name,
            "assign_customer_group",
            w.assign_customer_group("1", "1").await,
        );
    }
    let segment = w.add_to_segment("conformance", &[]).await;
    if caps.segments {
        expect_supported(&name, "add_to_segment", segment);
    } else {
        assert_unsupported(&name, "add_to_segment", segment);
    }
}

/// Runs every `CommerceWriter` contract.
pub async fn run_all(w: &dyn CommerceWriter) {
    find_by_email_is_case_insensitive(w).await;
    upsert_outcomes_one_per_input_in_order(w).await;
    existing_email_never_creates_a_second_customer(w).await;
    update_by_id_changes_fields(w).await;
    update_missing_id_fails_only_that_record(w).await;
    batch_over_max_is_refused(w).await;
    assigned_group_shows_on_customer(w).await;
    unsupported_operations_match_capabilities(w).await;
}
