//! The traits that join connectors and pipelines. All are object-safe and `Send + Sync`, and
//! are used as `Arc<dyn Trait>`.
//!
//! Every operation has a default that returns [`ErrorKind::Unsupported`]; a connector
//! implements what its vendor allows and declares it in [`Capabilities`].

use async_trait::async_trait;
use cartograph_model::{
    Association, Brand, Cart, Category, CommerceEvent, CommerceEventKind, ContactUpsert,
    CrmContact, CrmEvent, Customer, CustomerGroup, CustomerWrite, EmailAddress, EnrollmentRequest,
    FormSubmission, IdentityKeys, MembershipChange, Order, OrderRecord, OrderStatus, Origin,
    Product, ProductRecord, PropertyDefinition, RecordKind, Refund, TaskRequest,
};

use crate::capabilities::Capabilities;
#[cfg(doc)]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::outcome::{RecordOutcome, TransportStats};
use crate::page::{ListRequest, Page};
use crate::readback::CrmOrder;
use crate::webhook::{NotificationKind, WebhookNotification, WebhookRequest};

fn unsupported<T>(name: &str, operation: &'static str) -> Result<T> {
    Err(Error::unsupported(name.to_owned(), operation))
}

/// Reads a commerce platform: listings for backfill and delta sync, single records, and
/// inbound webhooks.
#[async_trait]
pub trait CommerceSource: Send + Sync {
    /// The system name used in every [`cartograph_model::SourceRef`] this source produces.
    fn name(&self) -> &str;

    /// What this source supports.
    fn capabilities(&self) -> Capabilities;

    /// Transport figures (requests, retries, 429s, 5xx) when the connector talks HTTP.
    fn transport_stats(&self) -> Option<TransportStats> {
        None
    }

    /// Customers, oldest modification first when `since` is set.
    async fn list_customers(&self, _request: &ListRequest) -> Result<Page<Customer>> {
        unsupported(self.name(), "list_customers")
    }

    /// Orders.
    async fn list_orders(&self, _request: &ListRequest) -> Result<Page<Order>> {
        unsupported(self.name(), "list_orders")
    }

    /// Refunds.
    async fn list_refunds(&self, _request: &ListRequest) -> Result<Page<Refund>> {
        unsupported(self.name(), "list_refunds")
    }

    /// Products with their variants.
    async fn list_products(&self, _request: &ListRequest) -> Result<Page<Product>> {
        unsupported(self.name(), "list_products")
    }

    /// Categories.
    async fn list_categories(&self, _request: &ListRequest) -> Result<Page<Category>> {
        unsupported(self.name(), "list_categories")
    }

    /// Brands.
    async fn list_brands(&self, _request: &ListRequest) -> Result<Page<Brand>> {
        unsupported(self.name(), "list_brands")
    }

    /// Customer groups.
    async fn list_customer_groups(&self, _request: &ListRequest) -> Result<Page<CustomerGroup>> {
        unsupported(self.name(), "list_customer_groups")
    }

    /// Carts (most platforms cannot list carts: carts then arrive by webhook only).
    async fn list_carts(&self, _request: &ListRequest) -> Result<Page<Cart>> {
        unsupported(self.name(), "list_carts")
    }

    /// One customer; `Ok(None)` when it does not exist.
    async fn get_customer(&self, _id: &str) -> Result<Option<Customer>> {
        unsupported(self.name(), "get_customer")
    }

    /// One order; `Ok(None)` when it does not exist.
    async fn get_order(&self, _id: &str) -> Result<Option<Order>> {
        unsupported(self.name(), "get_order")
    }

    /// The refunds of one order.
    async fn get_order_refunds(&self, _order_id: &str) -> Result<Vec<Refund>> {
        unsupported(self.name(), "get_order_refunds")
    }

    /// One cart; `Ok(None)` when it does not exist (converted carts are often deleted).
    async fn get_cart(&self, _id: &str) -> Result<Option<Cart>> {
        unsupported(self.name(), "get_cart")
    }

    /// One product; `Ok(None)` when it does not exist.
    async fn get_product(&self, _id: &str) -> Result<Option<Product>> {
        unsupported(self.name(), "get_product")
    }

    /// Maps a raw vendor status id to the canonical status (used when hydrating
    /// status-change notifications).
    fn map_status(&self, _raw_status_id: &str) -> Option<OrderStatus> {
        None
    }

    /// Verifies an inbound webhook and parses it into thin notifications. Pure and fast: no
    /// I/O, so intake can acknowledge within milliseconds. A bad or stale signature is an
    /// [`ErrorKind::Signature`] error; a malformed body is [`ErrorKind::Decode`].
    fn parse_webhook(&self, _request: &WebhookRequest) -> Result<Vec<WebhookNotification>> {
        unsupported(self.name(), "parse_webhook")
    }

    /// Fetches what a notification points at and turns it into a full event.
    /// `Ok(None)` when the resource is gone or the notification needs no action.
    ///
    /// The default implementation uses the `get_*` methods and [`CommerceSource::map_status`].
    async fn hydrate(
        &self,
        notification: &WebhookNotification,
        origin: Origin,
    ) -> Result<Option<CommerceEvent>> {
        default_hydrate(self, notification, origin).await
    }
}

/// The default [`CommerceSource::hydrate`]: fetch the resource by id and build the event.
pub async fn default_hydrate<S: CommerceSource + ?Sized>(
    source: &S,
    n: &WebhookNotification,
    origin: Origin,
) -> Result<Option<CommerceEvent>> {
    let id = n.source.id.as_str();
    let kind = match (n.source.kind, &n.kind) {
        (RecordKind::Customer, NotificationKind::Deleted) => {
            Some(CommerceEventKind::CustomerDeleted)
        }
        (RecordKind::Customer, NotificationKind::Created) => {
            source
                .get_customer(id)
                .await?
                .map(|c| CommerceEventKind::CustomerCreated {
                    customer: Box::new(c),
                })
        }
        (RecordKind::Customer, _) => {
            source
                .get_customer(id)
                .await?
                .map(|c| CommerceEventKind::CustomerUpdated {
                    customer: Box::new(c),
                })
        }
        (
            RecordKind::Order | RecordKind::Cart,
            NotificationKind::Deleted | NotificationKind::Other,
        ) => None,
        (RecordKind::Order, NotificationKind::Created) => source
            .get_order(id)
            .await?
            .map(|o| CommerceEventKind::OrderPlaced { order: Box::new(o) }),
        (RecordKind::Order, NotificationKind::StatusChanged { from, .. }) => {
            source.get_order(id).await?.map(|o| {
                let to = o.status;
                if to == OrderStatus::Cancelled {
                    CommerceEventKind::OrderCancelled { order: Box::new(o) }
                } else {
                    CommerceEventKind::OrderStatusChanged {
                        from: from.as_deref().and_then(|f| source.map_status(f)),
                        to,
                        order: Box::new(o),
                    }
                }
            })
        }
        (RecordKind::Order, NotificationKind::Refunded { refund_id }) => {
            let refunds = source.get_order_refunds(id).await?;
            let refund = match refund_id {
                Some(rid) => refunds.into_iter().find(|r| &r.source.id == rid),
                None => refunds.into_iter().max_by_key(|r| r.created_at),
            };
            match refund {
                Some(refund) => Some(CommerceEventKind::OrderRefunded {
                    refund: Box::new(refund),
                    order: source.get_order(id).await?.map(Box::new),
                }),
                None => None,
            }
        }
        (RecordKind::Order, _) => source
            .get_order(id)
            .await?
            .map(|o| CommerceEventKind::OrderUpdated { order: Box::new(o) }),
        (RecordKind::Cart, NotificationKind::Converted { order_id }) => {
            let order = cartograph_model::SourceRef::new(
                n.source.system.clone(),
                RecordKind::Order,
                order_id.clone(),
            );
            let cart = source.get_cart(id).await?.map(Box::new);
            Some(CommerceEventKind::CartConverted { cart, order })
        }
        (RecordKind::Cart, NotificationKind::Abandoned { .. }) => source
            .get_cart(id)
            .await?
            .map(|c| CommerceEventKind::CartAbandoned { cart: Box::new(c) }),
        (RecordKind::Cart, _) => source
            .get_cart(id)
            .await?
            .map(|c| CommerceEventKind::CartUpdated { cart: Box::new(c) }),
        (RecordKind::Product, NotificationKind::Deleted) => Some(CommerceEventKind::ProductDeleted),
        (RecordKind::Product, _) => {
            source
                .get_product(id)
                .await?
                .map(|p| CommerceEventKind::ProductUpserted {
                    product: Box::new(p),
                })
        }
        _ => None,
    };
    Ok(kind.map(|kind| CommerceEvent {
        id: Some(n.id.clone()),
        source: n.source.clone(),
        occurred_at: n.occurred_at,
        origin,
        kind,
    }))
}

/// Writes back into a commerce platform (the CRM-to-store direction).
#[async_trait]
pub trait CommerceWriter: Send + Sync {
    /// The system name.
    fn name(&self) -> &str;

    /// What this writer supports.
    fn capabilities(&self) -> Capabilities;

    /// Transport figures (requests, retries, 429s, 5xx) when the connector talks HTTP.
    fn transport_stats(&self) -> Option<TransportStats> {
        None
    }

    /// Customers whose email matches one of `emails` (case-insensitive).
    async fn find_customers_by_email(&self, _emails: &[EmailAddress]) -> Result<Vec<Customer>> {
        unsupported(self.name(), "find_customers_by_email")
    }

    /// Creates (no `id`) or updates (with `id`) customers; one outcome per input, in order.
    async fn upsert_customers(&self, _writes: &[CustomerWrite]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "upsert_customers")
    }

    /// Creates a customer group.
    async fn create_customer_group(&self, _name: &str) -> Result<CustomerGroup> {
        unsupported(self.name(), "create_customer_group")
    }

    /// Puts a customer into a group (replacing their current group where the platform allows
    /// only one).
    async fn assign_customer_group(&self, _customer_id: &str, _group_id: &str) -> Result<()> {
        unsupported(self.name(), "assign_customer_group")
    }

    /// Adds customers to a segment; one outcome per customer id.
    async fn add_to_segment(
        &self,
        _segment_id: &str,
        _customer_ids: &[String],
    ) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "add_to_segment")
    }
}

/// Writes into a CRM. Batch methods return one outcome per input, in input order; an `Err`
/// means the whole call failed (nothing is known to be written). Once a call has written
/// anything it answers `Ok`: records it wrote whose later steps (associations, line items)
/// failed are [`WriteStatus::Partial`](crate::WriteStatus::Partial), records it never got to
/// are `Failed`.
#[async_trait]
pub trait CrmSink: Send + Sync {
    /// The system name.
    fn name(&self) -> &str;

    /// What this sink supports.
    fn capabilities(&self) -> Capabilities;

    /// Transport figures (requests, retries, 429s, 5xx) when the connector talks HTTP.
    fn transport_stats(&self) -> Option<TransportStats> {
        None
    }

    /// The CRM profile this sink writes with (mapping file, mapping names, order object,
    /// revenue fields, contact keying), reflecting its config. `None` for sinks that take
    /// whatever the engine is configured with (in-memory test sinks). A pipeline refuses to
    /// build when the sink's profile names another CRM than the engine config.
    fn profile(&self) -> Option<crate::CrmProfile> {
        None
    }

    /// Properties the connector itself needs in the CRM before any write (its upsert keys,
    /// such as a unique order-id property), beside those the mappings write. A pipeline
    /// ensures both at `build()`.
    fn required_properties(&self) -> Vec<PropertyDefinition> {
        Vec::new()
    }

    /// Looks contacts up by identity keys before any write; one answer per input, in order.
    async fn find_contacts(&self, _keys: &[IdentityKeys]) -> Result<Vec<Option<CrmContact>>> {
        unsupported(self.name(), "find_contacts")
    }

    /// Creates or updates contacts.
    async fn upsert_contacts(&self, _contacts: &[ContactUpsert]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "upsert_contacts")
    }

    /// Records orders (deals, opportunities, commerce orders) with line items and their
    /// association to the contact; idempotent by [`OrderRecord::key`].
    async fn record_orders(&self, _orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "record_orders")
    }

    /// Creates or updates products; idempotent by [`ProductRecord::key`].
    async fn upsert_products(&self, _products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "upsert_products")
    }

    /// Links records.
    async fn associate(&self, _associations: &[Association]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "associate")
    }

    /// Opens tasks or cases; idempotent by [`TaskRequest::key`].
    async fn create_tasks(&self, _tasks: &[TaskRequest]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "create_tasks")
    }

    /// Enrolls contacts in workflows, lists, campaigns or automations. Historical requests are
    /// answered `Unchanged` and never enroll.
    async fn enroll(&self, _requests: &[EnrollmentRequest]) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "enroll")
    }

    /// Reads the order records (deals, opportunities, ecommerce orders) back, one page at a
    /// time, for revenue reconciliation: follow `next` with [`ListRequest::at`]; `limit` is
    /// clamped to the vendor's page maximum and `since` is ignored. Only records carrying
    /// the integration's order key are returned (not deals made by hand, not abandoned
    /// carts).
    async fn read_orders(&self, _request: &ListRequest) -> Result<Page<CrmOrder>> {
        unsupported(self.name(), "read_orders")
    }

    /// Looks order records up by order key ([`OrderRecord::key`]), for sampled
    /// reconciliation: the records found, in any order; keys with no record are absent.
    async fn find_orders(&self, _keys: &[String]) -> Result<Vec<CrmOrder>> {
        unsupported(self.name(), "find_orders")
    }

    /// Makes sure the integration's custom properties exist with the right types.
    async fn ensure_properties(
        &self,
        _definitions: &[PropertyDefinition],
    ) -> Result<Vec<RecordOutcome>> {
        unsupported(self.name(), "ensure_properties")
    }
}

/// Reads a CRM, for CRM-to-store flows.
#[async_trait]
pub trait CrmSource: Send + Sync {
    /// The system name.
    fn name(&self) -> &str;

    /// What this source supports.
    fn capabilities(&self) -> Capabilities;

    /// Transport figures (requests, retries, 429s, 5xx) when the connector talks HTTP.
    fn transport_stats(&self) -> Option<TransportStats> {
        None
    }

    /// Contacts changed since `request.since`, oldest first.
    async fn list_contacts(&self, _request: &ListRequest) -> Result<Page<CrmContact>> {
        unsupported(self.name(), "list_contacts")
    }

    /// Submissions of one form.
    async fn list_form_submissions(
        &self,
        _form_id: &str,
        _request: &ListRequest,
    ) -> Result<Page<FormSubmission>> {
        unsupported(self.name(), "list_form_submissions")
    }

    /// Current members of a list, as membership changes since `request.since`.
    async fn list_memberships(
        &self,
        _list_id: &str,
        _request: &ListRequest,
    ) -> Result<Page<MembershipChange>> {
        unsupported(self.name(), "list_memberships")
    }

    /// Verifies and parses an inbound CRM webhook. Events whose change source shows they are
    /// this integration's own writes come back with `is_own_write = true`.
    fn parse_webhook(&self, _request: &WebhookRequest) -> Result<Vec<CrmEvent>> {
        unsupported(self.name(), "parse_webhook")
    }
}

#[allow(dead_code)]
fn assert_object_safe(
    _: &dyn CommerceSource,
    _: &dyn CommerceWriter,
    _: &dyn CrmSink,
    _: &dyn CrmSource,
) {
}

#[allow(dead_code)]
const fn assert_send_sync<T: Send + Sync + ?Sized>() {}
const _: () = {
    assert_send_sync::<dyn CommerceSource>();
    assert_send_sync::<dyn CommerceWriter>();
    assert_send_sync::<dyn CrmSink>();
    assert_send_sync::<dyn CrmSource>();
    assert_send_sync::<Error>();
};
