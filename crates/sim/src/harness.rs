//! The traits a vendor simulator implements so one pair harness can run any commerce x CRM
//! pair: seed canonical records into the commerce simulator, build connectors pointed at
//! both simulators, deliver webhooks to a pipeline's intake, drive live changes, and read
//! back what the CRM holds, in the same vocabulary for every vendor.
//!
//! The harness itself (pipeline, store, intake server) lives in the facade
//! (`cartograph::harness`, feature `sim`), because it needs the sync runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use cartograph_connector::{CommerceSource, CommerceWriter, CrmSink, CrmSource, Result};
use cartograph_model::{
    Brand, Cart, Category, Customer, CustomerGroup, Decimal, EnrollmentTarget, Order, OrderStatus,
    Product, Refund,
};

/// Canonical records to load into a commerce simulator before a backfill. Records refer to
/// each other by their canonical source ids (an order's `customer`, a refund's `order`); the
/// simulator assigns its own ids and reports them in [`Seeded`].
#[derive(Debug, Clone, Default)]
pub struct SeedData {
    /// Customer groups.
    pub customer_groups: Vec<CustomerGroup>,
    /// Categories.
    pub categories: Vec<Category>,
    /// Brands.
    pub brands: Vec<Brand>,
    /// Products.
    pub products: Vec<Product>,
    /// Customers.
    pub customers: Vec<Customer>,
    /// Orders.
    pub orders: Vec<Order>,
    /// Refunds.
    pub refunds: Vec<Refund>,
    /// Carts.
    pub carts: Vec<Cart>,
}

/// The ids a simulator gave seeded records, in input order per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Customer ids.
    pub customers: Vec<String>,
    /// Product ids.
    pub products: Vec<String>,
    /// Order ids.
    pub orders: Vec<String>,
    /// Refund ids.
    pub refunds: Vec<String>,
    /// Cart ids.
    pub carts: Vec<String>,
}

/// A running commerce-platform simulator, seen by the pair harness.
#[async_trait]
pub trait CommerceSimulator: Send + Sync {
    /// The system name its connector puts on every `SourceRef` (e.g. `bigcommerce`).
    fn system(&self) -> &str;

    /// The simulator's base URL.
    fn base_url(&self) -> String;

    /// A connector pointed at this simulator, as a source.
    ///
    /// # Errors
    /// When the connector cannot be built.
    fn source(&self) -> Result<Arc<dyn CommerceSource>>;

    /// The same connector as a store-side writer, when the platform supports CRM-to-store
    /// writes.
    ///
    /// # Errors
    /// When the connector cannot be built.
    fn writer(&self) -> Result<Option<Arc<dyn CommerceWriter>>>;

    /// Loads canonical records.
    fn seed(&self, data: &SeedData) -> Seeded;

    /// Subscribes the pipeline's intake: the simulator delivers its webhooks (or
    /// subscription messages) for customers, orders, refunds, carts and products to `url`,
    /// signed as the connector expects.
    ///
    /// # Errors
    /// When the subscription is refused.
    async fn deliver_webhooks_to(&self, url: &str) -> Result<()>;

    /// Places a new order as a shopper would (webhooks follow); returns its id.
    fn place_order(&self, order: &Order) -> String;

    /// Moves an order to a status (webhooks follow); `false` when unknown.
    fn set_order_status(&self, order_id: &str, status: OrderStatus) -> bool;

    /// Refunds part of an order (webhooks follow); the refund id, `None` when unknown.
    fn refund_order(&self, order_id: &str, amount: Decimal, reason: &str) -> Option<String>;

    /// Creates a cart as a shopper would; returns its id.
    fn create_cart(&self, cart: &Cart) -> String;

    /// Turns a cart into an order; the order id, `None` when unknown.
    fn convert_cart(&self, cart_id: &str) -> Option<String>;

    /// Requests served so far.
    fn request_count(&self) -> u64;

    /// Webhook deliveries attempted so far, and how many of them were not answered 2xx
    /// (retried by the simulator as the vendor does); `(0, 0)` when the platform pushes no
    /// webhooks.
    fn webhook_deliveries(&self) -> (usize, usize) {
        (0, 0)
    }
}

/// `(attempted, not answered 2xx)` of a simulator's webhook deliveries, from the status
/// each attempt got (`None` = no answer: refused connection, timeout): what
/// [`CommerceSimulator::webhook_deliveries`] reports.
///
/// ```
/// assert_eq!(cartograph_sim::harness::delivery_counts([Some(200), Some(503), None]), (3, 2));
/// ```
pub fn delivery_counts(statuses: impl IntoIterator<Item = Option<u16>>) -> (usize, usize) {
    statuses.into_iter().fold((0, 0), |(all, failed), status| {
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        (all + 1, failed + usize::from(!ok))
    })
}

/// A CRM record as a simulator holds it, property values as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimRecordView {
    /// The CRM's record id.
    pub id: String,
    /// Properties (field name -> value as text).
    pub properties: BTreeMap<String, String>,
}

/// A running CRM simulator, seen by the pair harness.
#[async_trait]
pub trait CrmSimulator: Send + Sync {
    /// The CRM's name (the profile name, e.g. `hubspot`).
    fn name(&self) -> &str;

    /// The simulator's base URL.
    fn base_url(&self) -> String;

    /// A connector pointed at this simulator, as a sink.
    ///
    /// # Errors
    /// When the connector cannot be built.
    fn sink(&self) -> Result<Arc<dyn CrmSink>>;

    /// The same connector as a CRM source (CRM-to-store flows), when supported.
    ///
    /// # Errors
    /// When the connector cannot be built.
    fn crm_source(&self) -> Result<Option<Arc<dyn CrmSource>>>;

    /// Makes the simulator post its change notifications to `url`, when the CRM has them.
    ///
    /// # Errors
    /// When the subscription is refused.
    async fn deliver_webhooks_to(&self, url: &str) -> Result<()>;

    /// Contacts (or leads) as stored.
    fn contacts(&self) -> Vec<SimRecordView>;

    /// The contact holding `email` (case-insensitive), if any.
    fn contact_by_email(&self, email: &str) -> Option<SimRecordView>;

    /// Order records (deals, opportunities, ecommerce orders) as stored.
    fn order_records(&self) -> Vec<SimRecordView>;

    /// Changes one property of an order record as a CRM user would (the value as text, in
    /// the CRM's own form: `"12.50"`, or cents for ActiveCampaign); `false` when there is
    /// no such record or the simulator cannot edit (the default).
    fn edit_order_record(&self, _id: &str, _property: &str, _value: &str) -> bool {
        false
    }

    /// Deletes an order record as a CRM user would; `false` when there is no such record
    /// or the simulator cannot delete (the default).
    fn delete_order_record(&self, _id: &str) -> bool {
        false
    }

    /// Tasks or cases opened.
    fn tasks(&self) -> Vec<SimRecordView>;

    /// Enrollments made (contact id, target), in order.
    fn enrollments(&self) -> Vec<(String, String)>;

    /// Requests served so far.
    fn request_count(&self) -> u64;

    /// Creates a target contacts can be enrolled in for a recipe (a list, a campaign, an
    /// automation) named `name`, when the CRM has one; `None` otherwise (the default).
    fn create_enrollment_target(&self, _name: &str) -> Option<EnrollmentTarget> {
        None
    }

    /// How many contacts are enrolled in `target` (members of the list, the campaign, the
    /// automation); 0 by default.
    fn enrolled_in(&self, _target: &EnrollmentTarget) -> usize {
        0
    }

    /// Sets the share of requests answered with a rate-limit error (429 in the vendor's
    /// shape) and with a 503, for burst demos; the default does nothing.
    fn set_fault_rates(&self, _rate_limited: f64, _server_errors: f64) {}

    /// Record counts per object for a summary, in the CRM's words (e.g. `("deals", 40)`),
    /// in display order; the default counts contacts, order records and tasks.
    fn record_counts(&self) -> Vec<(String, usize)> {
        vec![
            ("contacts".to_owned(), self.contacts().len()),
            ("order records".to_owned(), self.order_records().len()),
            ("tasks".to_owned(), self.tasks().len()),
        ]
    }
}
