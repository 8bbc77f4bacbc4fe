//! The suites fail on broken implementations: each test wraps a memory connector with one
//! planted bug and checks the matching contract panics with a message naming it.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::panic::AssertUnwindSafe;

use cartograph_connector::{
    Capabilities, CommerceSource, CommerceWriter, CrmSink, CrmSource, ListRequest, Page,
    RecordOutcome, Result, WebhookRequest, WriteStatus, async_trait,
};
use cartograph_model::{
    ContactUpsert, CrmContact, CrmEvent, Customer, CustomerWrite, EmailAddress, EnrollmentRequest,
    IdentityKeys, Order, OrderRecord, Origin, Product, PropertyDefinition, Refund, TaskRequest,
};
use cartograph_testkit::conformance::{commerce_source, commerce_writer, crm_sink, crm_source};
use cartograph_testkit::fixtures::{CrmFixture, Seed};
use cartograph_testkit::memory::{MemoryCommerce, MemoryCrm};
use futures::FutureExt;

/// Runs a suite future and returns its panic message; fails the test if it did not panic.
async fn panic_message(fut: impl Future<Output = ()>) -> String {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(()) => panic!("the suite accepted a broken implementation"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default(),
    }
}

#[derive(Clone, Copy)]
enum SourceBug {
    DuplicateFirstItem,
    IgnoreSince,
    DropLastPage,
    ClaimCartsButRefuse,
    GetMissingIsError,
}

struct BrokenSource {
    inner: MemoryCommerce,
    bug: SourceBug,
}

impl BrokenSource {
    fn new(seed: &Seed, bug: SourceBug) -> Self {
        let inner = MemoryCommerce::builder().page_size(3).build();
        inner.load(seed).unwrap();
        Self { inner, bug }
    }

    fn fix_request(&self, request: &ListRequest) -> ListRequest {
        let mut request = request.clone();
        if matches!(self.bug, SourceBug::IgnoreSince) {
            request.since = None;
        }
        request
    }

    fn fix_page<T: Clone>(&self, mut page: Page<T>) -> Page<T> {
        match self.bug {
            SourceBug::DuplicateFirstItem => {
                if let Some(first) = page.items.first().cloned() {
                    page.items.push(first);
                }
            }
            SourceBug::DropLastPage => {
                page.next = None;
            }
            _ => {}
        }
        page
    }
}

#[async_trait]
impl CommerceSource for BrokenSource {
    fn name(&self) -> &'static str {
        "broken"
    }

    fn capabilities(&self) -> Capabilities {
        CommerceSource::capabilities(&self.inner)
    }

    async fn list_customers(&self, request: &ListRequest) -> Result<Page<Customer>> {
        Ok(self.fix_page(
            self.inner
                .list_customers(&self.fix_request(request))
                .await?,
        ))
    }

    async fn list_orders(&self, request: &ListRequest) -> Result<Page<Order>> {
        Ok(self.fix_page(self.inner.list_orders(&self.fix_request(request)).await?))
    }

    async fn list_refunds(&self, request: &ListRequest) -> Result<Page<Refund>> {
        Ok(self.fix_page(self.inner.list_refunds(&self.fix_request(request)).await?))
    }

    async fn list_products(&self, request: &ListRequest) -> Result<Page<Product>> {
        Ok(self.fix_page(self.inner.list_products(&self.fix_request(request)).await?))
    }

    // Carts are declared listable but (with ClaimCartsButRefuse) fall back to the
    // trait's Unsupported default.
    async fn list_carts(&self, request: &ListRequest) -> Result<Page<cartograph_model::Cart>> {
        if matches!(self.bug, SourceBug::ClaimCartsButRefuse) {
            return Err(cartograph_connector::Error::unsupported(
                "broken",
                "list_carts",
            ));
        }
        Ok(self.fix_page(self.inner.list_carts(&self.fix_request(request)).await?))
    }

    async fn list_categories(&self, r: &ListRequest) -> Result<Page<cartograph_model::Category>> {
        self.inner.list_categories(r).await
    }

    async fn list_brands(&self, r: &ListRequest) -> Result<Page<cartograph_model::Brand>> {
        self.inner.list_brands(r).await
    }

    async fn list_customer_groups(
        &self,
        r: &ListRequest,
    ) -> Result<Page<cartograph_model::CustomerGroup>> {
        self.inner.list_customer_groups(r).await
    }

    async fn get_customer(&self, id: &str) -> Result<Option<Customer>> {
        match (self.bug, self.inner.get_customer(id).await?) {
            (SourceBug::GetMissingIsError, None) => Err(cartograph_connector::Error::new(
                cartograph_connector::ErrorKind::NotFound,
                "404",
            )),
            (_, found) => Ok(found),
        }
    }
}

#[tokio::test]
async fn listing_suite_catches_a_duplicated_page_item() {
    let seed = Seed::default();
    let src = BrokenSource::new(&seed, SourceBug::DuplicateFirstItem);
    let msg = panic_message(commerce_source::lists_every_record_exactly_once(
        &src, &seed,
    ))
    .await;
    assert!(msg.contains("more than once"), "{msg}");
}

#[tokio::test]
async fn listing_suite_catches_a_gap() {
    let seed = Seed::default();
    let src = BrokenSource::new(&seed, SourceBug::DropLastPage);
    let msg = panic_message(commerce_source::lists_every_record_exactly_once(
        &src, &seed,
    ))
    .await;
    assert!(msg.contains("missing"), "{msg}");
}

#[tokio::test]
async fn since_suite_catches_an_ignored_since() {
    let seed = Seed::default();
    let src = BrokenSource::new(&seed, SourceBug::IgnoreSince);
    // Listing everything still passes: the bug is only visible with `since`.
    commerce_source::lists_every_record_exactly_once(&src, &seed).await;
    let msg = panic_message(commerce_source::since_returns_records_modified_at_or_after(
        &src, &seed,
    ))
    .await;
    assert!(msg.contains("before since"), "{msg}");
}

#[tokio::test]
async fn capability_suite_catches_a_declared_stream_that_is_unsupported() {
    let seed = Seed::default();
    let src = BrokenSource::new(&seed, SourceBug::ClaimCartsButRefuse);
    let msg = panic_message(commerce_source::unsupported_operations_match_capabilities(
        &src,
    ))
    .await;
    assert!(msg.contains("list_carts"), "{msg}");
}

#[tokio::test]
async fn get_suite_catches_an_error_for_a_missing_id() {
    let src = BrokenSource::new(&Seed::default(), SourceBug::GetMissingIsError);
    let msg = panic_message(commerce_source::get_missing_returns_none(&src)).await;
    assert!(msg.contains("Ok(None)"), "{msg}");
}

#[derive(Clone, Copy)]
enum SinkBug {
    ReverseOutcomes,
    EnrollHistorical,
    OrdersAlwaysCreated,
    IgnoreUnknownProperties,
    AcceptOversizedBatches,
    CaseSensitiveLookup,
}

struct BrokenSink {
    inner: MemoryCrm,
    bug: SinkBug,
}

impl BrokenSink {
    fn new(bug: SinkBug) -> Self {
        let inner = match bug {
            SinkBug::IgnoreUnknownProperties => MemoryCrm::builder().allow_any_property().build(),
            _ => MemoryCrm::new(),
        };
        Self { inner, bug }
    }
}

#[async_trait]
impl CrmSink for BrokenSink {
    fn name(&self) -> &'static str {
        "broken-crm"
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = CrmSink::capabilities(&self.inner);
        if matches!(self.bug, SinkBug::AcceptOversizedBatches) {
            caps.max_batch = 2;
        }
        caps
    }

    async fn find_contacts(&self, keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        let found = self.inner.find_contacts(keys).await?;
        if !matches!(self.bug, SinkBug::CaseSensitiveLookup) {
            return Ok(found);
        }
        Ok(found
            .into_iter()
            .zip(keys)
            .map(|(c, k)| {
                c.filter(|c| {
                    c.email.as_ref().map(EmailAddress::as_str)
                        == k.email.as_ref().map(EmailAddress::as_str)
                })
            })
            .collect())
    }

    async fn upsert_contacts(&self, contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        let mut out = self.inner.upsert_contacts(contacts).await?;
        if matches!(self.bug, SinkBug::ReverseOutcomes) {
            out.reverse();
        }
        Ok(out)
    }

    async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        let mut out = self.inner.record_orders(orders).await?;
        if matches!(self.bug, SinkBug::OrdersAlwaysCreated) {
            for o in &mut out {
                o.status = WriteStatus::Created;
            }
        }
        Ok(out)
    }

    async fn create_tasks(&self, tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        self.inner.create_tasks(tasks).await
    }

    async fn enroll(&self, requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        let mut requests = requests.to_vec();
        if matches!(self.bug, SinkBug::EnrollHistorical) {
            for r in &mut requests {
                r.origin = Origin::Live;
            }
        }
        self.inner.enroll(&requests).await
    }

    async fn ensure_properties(
        &self,
        definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        self.inner.ensure_properties(definitions).await
    }
}

#[tokio::test]
async fn crm_suite_catches_outcomes_out_of_order() {
    let sink = BrokenSink::new(SinkBug::ReverseOutcomes);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::outcomes_one_per_input_in_input_order(&sink, &fx)).await;
    assert!(msg.contains("input order"), "{msg}");
}

#[tokio::test]
async fn crm_suite_catches_historical_enrollment() {
    let sink = BrokenSink::new(SinkBug::EnrollHistorical);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::historical_enrollments_do_not_enroll(&sink, &fx)).await;
    assert!(msg.contains("historical enrollment"), "{msg}");
}

#[tokio::test]
async fn crm_suite_catches_a_retried_order_created_twice() {
    let sink = BrokenSink::new(SinkBug::OrdersAlwaysCreated);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::record_orders_is_idempotent_by_key(&sink, &fx)).await;
    assert!(msg.contains("retrying key"), "{msg}");
}

#[tokio::test]
async fn crm_suite_catches_unknown_properties_accepted() {
    let sink = BrokenSink::new(SinkBug::IgnoreUnknownProperties);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::unknown_property_fails_only_that_record(
        &sink, &fx,
    ))
    .await;
    assert!(msg.contains("unknown property"), "{msg}");
}

#[tokio::test]
async fn crm_suite_catches_an_oversized_batch_accepted() {
    let sink = BrokenSink::new(SinkBug::AcceptOversizedBatches);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::batch_over_max_is_refused(&sink, &fx)).await;
    assert!(msg.contains("must be refused"), "{msg}");
}

#[tokio::test]
async fn crm_suite_catches_a_case_sensitive_lookup() {
    let sink = BrokenSink::new(SinkBug::CaseSensitiveLookup);
    let fx = CrmFixture::default();
    let msg = panic_message(crm_sink::lookup_finds_contact_by_email_case_insensitively(
        &sink, &fx,
    ))
    .await;
    assert!(msg.contains("case-insensitive"), "{msg}");
}

/// A writer whose email lookup is case-sensitive.
struct CaseSensitiveWriter(MemoryCommerce);

#[async_trait]
impl CommerceWriter for CaseSensitiveWriter {
    fn name(&self) -> &'static str {
        "broken-writer"
    }

    fn capabilities(&self) -> Capabilities {
        CommerceWriter::capabilities(&self.0)
    }

    async fn find_customers_by_email(&self, emails: &[EmailAddress]) -> Result<Vec<Customer>> {
        let found = self.0.find_customers_by_email(emails).await?;
        Ok(found
            .into_iter()
            .filter(|c| {
                emails
                    .iter()
                    .any(|e| c.email.as_ref().map(EmailAddress::as_str) == Some(e.as_str()))
            })
            .collect())
    }

    async fn upsert_customers(&self, writes: &[CustomerWrite]) -> Result<Vec<RecordOutcome>> {
        self.0.upsert_customers(writes).await
    }
}

#[tokio::test]
async fn writer_suite_catches_a_case_sensitive_lookup() {
    let writer = CaseSensitiveWriter(MemoryCommerce::new());
    let msg = panic_message(commerce_writer::find_by_email_is_case_insensitive(&writer)).await;
    assert!(msg.contains("case-insensitively"), "{msg}");
}

/// A CRM source that flags every webhook event as the integration's own write.
struct EverythingIsOwn(MemoryCrm);

#[async_trait]
impl CrmSource for EverythingIsOwn {
    fn name(&self) -> &'static str {
        "broken-source"
    }

    fn capabilities(&self) -> Capabilities {
        CrmSource::capabilities(&self.0)
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        let mut events = self.0.parse_webhook(request)?;
        for e in &mut events {
            e.is_own_write = true;
        }
        Ok(events)
    }
}

#[tokio::test]
async fn crm_source_suite_catches_foreign_changes_flagged_as_own() {
    let crm = MemoryCrm::new();
    let source = EverythingIsOwn(crm.clone());
    let fx = CrmFixture::default();
    let msg = panic_message(crm_source::own_writes_are_flagged(&source, &crm, &crm, &fx)).await;
    assert!(msg.contains("a person's change was flagged"), "{msg}");
}
