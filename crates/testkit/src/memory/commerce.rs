//! [`MemoryCommerce`]: an in-memory commerce platform (source and writer).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use cartograph_connector::{Capabilities, EnrollmentMethod, Error, ErrorKind, Result, Stream};
use cartograph_model::{
    Brand, Cart, Category, Customer, CustomerGroup, Order, OrderStatus, Product, RawStatus, Refund,
};

use super::support::{Clock, Faults};
use crate::fixtures::Seed;

/// The streams [`MemoryCommerce`] lists by default.
const COMMERCE_STREAMS: [Stream; 8] = [
    Stream::Customers,
    Stream::Orders,
    Stream::Refunds,
    Stream::Products,
    Stream::Categories,
    Stream::Brands,
    Stream::CustomerGroups,
    Stream::Carts,
];

/// An in-memory commerce platform implementing both
/// [`CommerceSource`](cartograph_connector::CommerceSource) and
/// [`CommerceWriter`](cartograph_connector::CommerceWriter) over one shared state.
///
/// - Customers are unique by case-insensitive email.
/// - Listings page with opaque keyset cursors, oldest modification first (ties broken by id);
///   the page size is configurable and `ListRequest::limit` can only lower it. `since` keeps
///   records modified at or after it (customers, orders, refunds, products, carts); categories,
///   brands and groups have no modification time and ignore it.
/// - Webhooks use a small JSON shape of its own, see [`MemoryWebhookEvent`](super::MemoryWebhookEvent).
/// - Clones share the same state, so a test can keep a handle while a pipeline owns an
///   `Arc<dyn CommerceSource>`.
///
/// ```
/// use cartograph_connector::{CommerceSource, ListRequest};
/// use cartograph_testkit::{fixtures::Seed, memory::MemoryCommerce};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let shop = MemoryCommerce::builder().page_size(5).build();
/// shop.load(&Seed::default())?;
/// let page = shop.list_orders(&ListRequest::all()).await?;
/// assert_eq!(page.items.len(), 5);
/// assert!(page.next.is_some());
/// # Ok::<(), cartograph_connector::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct MemoryCommerce {
    pub(crate) shared: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) page_size: usize,
    pub(crate) max_batch: usize,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) capabilities: Capabilities,
    pub(crate) state: RwLock<CommerceState>,
    pub(crate) faults: Faults,
    pub(crate) clock: Clock,
}

#[derive(Debug, Default)]
pub(crate) struct CommerceState {
    pub(crate) customers: BTreeMap<String, Customer>,
    /// Normalized email -> customer id.
    pub(crate) emails: BTreeMap<String, String>,
    pub(crate) orders: BTreeMap<String, Order>,
    pub(crate) refunds: BTreeMap<String, Refund>,
    pub(crate) products: BTreeMap<String, Product>,
    pub(crate) categories: BTreeMap<String, Category>,
    pub(crate) brands: BTreeMap<String, Brand>,
    pub(crate) groups: BTreeMap<String, CustomerGroup>,
    pub(crate) carts: BTreeMap<String, Cart>,
    pub(crate) segments: BTreeMap<String, BTreeSet<String>>,
    pub(crate) next_id: u64,
}

impl CommerceState {
    pub(crate) fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("mem-{prefix}-{}", self.next_id)
    }

    /// Stores a customer, keeping the email index right. Fails with `Conflict` when another
    /// customer has the email.
    pub(crate) fn put_customer(&mut self, connector: &str, customer: Customer) -> Result<()> {
        let id = customer.source.id.clone();
        if let Some(email) = &customer.email
            && let Some(other) = self.emails.get(email.normalized())
            && *other != id
        {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("email already used by customer {other}"),
            )
            .with_connector(connector.to_owned())
            .with_operation("insert_customer")
            .with_vendor_code("DUPLICATE_EMAIL")
            .with_record(id)
            .with_field("email"));
        }
        if let Some(old) = self.customers.get(&id).and_then(|c| c.email.as_ref()) {
            self.emails.remove(old.normalized());
        }
        if let Some(email) = &customer.email {
            self.emails
                .insert(email.normalized().to_owned(), id.clone());
        }
        self.customers.insert(id, customer);
        Ok(())
    }
}

/// Builds a [`MemoryCommerce`].
#[derive(Debug, Clone)]
pub struct MemoryCommerceBuilder {
    name: String,
    page_size: usize,
    max_batch: usize,
    webhook_secret: Option<String>,
    capabilities: Option<Capabilities>,
    clock: Clock,
}

impl MemoryCommerceBuilder {
    /// The system name (default `"memory"`).
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The largest page a listing returns (default 50, at least 1).
    #[must_use]
    pub fn page_size(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The largest `upsert_customers` batch (default 10, like BigCommerce).
    #[must_use]
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch;
        self
    }

    /// Requires inbound webhooks to carry this secret in the `x-memory-webhook-secret`
    /// header; others fail with `ErrorKind::Signature`.
    #[must_use]
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }

    /// Overrides the declared capabilities, e.g. to act like a vendor that cannot list carts:
    /// operations outside them answer `ErrorKind::Unsupported`.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = Some(capabilities);
        self
    }

    /// Shares a clock (e.g. with a [`MemoryCrm`](super::MemoryCrm)).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the platform, empty.
    pub fn build(self) -> MemoryCommerce {
        let capabilities = self.capabilities.unwrap_or_else(|| Capabilities {
            list: COMMERCE_STREAMS.to_vec(),
            delta: vec![
                Stream::Customers,
                Stream::Orders,
                Stream::Refunds,
                Stream::Products,
                Stream::Carts,
            ],
            webhooks: true,
            webhook_signatures: self.webhook_secret.is_some(),
            max_batch: self.max_batch,
            customer_writes: true,
            customer_groups: true,
            segments: true,
            enrollment: Vec::<EnrollmentMethod>::new(),
            ..Capabilities::default()
        });
        MemoryCommerce {
            shared: Arc::new(Shared {
                name: self.name,
                page_size: self.page_size,
                max_batch: self.max_batch,
                webhook_secret: self.webhook_secret,
                capabilities,
                state: RwLock::new(CommerceState::default()),
                faults: Faults::default(),
                clock: self.clock,
            }),
        }
    }
}

impl Default for MemoryCommerce {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCommerce {
    /// An empty platform named `"memory"` with the default settings.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> MemoryCommerceBuilder {
        MemoryCommerceBuilder {
            name: "memory".into(),
            page_size: 50,
            max_batch: 10,
            webhook_secret: None,
            capabilities: None,
            clock: Clock::default(),
        }
    }

    /// An empty platform loaded with `seed`.
    ///
    /// # Errors
    /// When the seed has two customers with one email.
    pub fn with_seed(seed: &Seed) -> Result<Self> {
        let shop = Self::new();
        shop.load(seed)?;
        Ok(shop)
    }

    /// The fault injector and call counter.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The clock stamped on writes.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, CommerceState> {
        self.shared
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, CommerceState> {
        self.shared
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn not_found(&self, operation: &'static str, kind: &str, id: &str) -> Error {
        Error::new(ErrorKind::NotFound, format!("no {kind} {id}"))
            .with_connector(self.shared.name.clone())
            .with_operation(operation)
            .with_record(id.to_owned())
    }

    /// Adds every record of `seed` (replacing records with the same ids).
    ///
    /// # Errors
    /// `Conflict` when a customer's email belongs to another customer.
    pub fn load(&self, seed: &Seed) -> Result<()> {
        for c in &seed.customers {
            self.insert_customer(c.clone())?;
        }
        let mut state = self.write();
        for g in &seed.customer_groups {
            state.groups.insert(g.source.id.clone(), g.clone());
        }
        for o in &seed.orders {
            state.orders.insert(o.source.id.clone(), o.clone());
        }
        for r in &seed.refunds {
            state.refunds.insert(r.source.id.clone(), r.clone());
        }
        for p in &seed.products {
            state.products.insert(p.source.id.clone(), p.clone());
        }
        for c in &seed.categories {
            state.categories.insert(c.source.id.clone(), c.clone());
        }
        for b in &seed.brands {
            state.brands.insert(b.source.id.clone(), b.clone());
        }
        for c in &seed.carts {
            state.carts.insert(c.source.id.clone(), c.clone());
        }
        Ok(())
    }

    /// Adds or replaces a customer (by id), as is.
    ///
    /// # Errors
    /// `Conflict` when another customer has the same email (case-insensitive).
    pub fn insert_customer(&self, customer: Customer) -> Result<()> {
        self.write().put_customer(&self.shared.name, customer)
    }

    /// Adds or replaces an order (by id), as is.
    pub fn insert_order(&self, order: Order) {
        self.write().orders.insert(order.source.id.clone(), order);
    }

    /// Adds or replaces a refund (by id), as is.
    pub fn insert_refund(&self, refund: Refund) {
        self.write()
            .refunds
            .insert(refund.source.id.clone(), refund);
    }

    /// Adds or replaces a product (by id), as is.
    pub fn insert_product(&self, product: Product) {
        self.write()
            .products
            .insert(product.source.id.clone(), product);
    }

    /// Adds or replaces a category (by id).
    pub fn insert_category(&self, category: Category) {
        self.write()
            .categories
            .insert(category.source.id.clone(), category);
    }

    /// Adds or replaces a brand (by id).
    pub fn insert_brand(&self, brand: Brand) {
        self.write().brands.insert(brand.source.id.clone(), brand);
    }

    /// Adds or replaces a customer group (by id).
    pub fn insert_customer_group(&self, group: CustomerGroup) {
        self.write().groups.insert(group.source.id.clone(), group);
    }

    /// Adds or replaces a cart (by id), as is.
    pub fn insert_cart(&self, cart: Cart) {
        self.write().carts.insert(cart.source.id.clone(), cart);
    }

    /// Changes a customer with `change` and stamps `updated_at` with the clock.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict` when the new email belongs to another customer.
    pub fn update_customer(
        &self,
        id: &str,
        change: impl FnOnce(&mut Customer),
    ) -> Result<Customer> {
        let mut state = self.write();
        let mut customer = state
            .customers
            .get(id)
            .cloned()
            .ok_or_else(|| self.not_found("update_customer", "customer", id))?;
        change(&mut customer);
        customer.updated_at = Some(self.shared.clock.now());
        state.put_customer(&self.shared.name, customer.clone())?;
        Ok(customer)
    }

    /// Sets an order's status (raw status id = the canonical name) and stamps `updated_at`.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub fn update_order_status(&self, id: &str, status: OrderStatus) -> Result<Order> {
        let mut state = self.write();
        let order = state
            .orders
            .get_mut(id)
            .ok_or_else(|| self.not_found("update_order_status", "order", id))?;
        order.status = status;
        order.raw_status = RawStatus {
            id: Some(status.as_str().to_owned()),
            label: Some(status.as_str().replace('_', " ")),
        };
        order.updated_at = Some(self.shared.clock.now());
        Ok(order.clone())
    }

    /// Changes an order with `change` and stamps `updated_at`.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub fn update_order(&self, id: &str, change: impl FnOnce(&mut Order)) -> Result<Order> {
        let mut state = self.write();
        let order = state
            .orders
            .get_mut(id)
            .ok_or_else(|| self.not_found("update_order", "order", id))?;
        change(order);
        order.updated_at = Some(self.shared.clock.now());
        Ok(order.clone())
    }

    /// Changes a cart with `change` and stamps `updated_at`.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub fn update_cart(&self, id: &str, change: impl FnOnce(&mut Cart)) -> Result<Cart> {
        let mut state = self.write();
        let cart = state
            .carts
            .get_mut(id)
            .ok_or_else(|| self.not_found("update_cart", "cart", id))?;
        change(cart);
        cart.updated_at = Some(self.shared.clock.now());
        Ok(cart.clone())
    }

    /// Removes a customer; whether it existed.
    pub fn delete_customer(&self, id: &str) -> bool {
        let mut state = self.write();
        let Some(customer) = state.customers.remove(id) else {
            return false;
        };
        if let Some(email) = customer.email {
            state.emails.remove(email.normalized());
        }
        true
    }

    /// Removes a cart (converted carts are often deleted); whether it existed.
    pub fn delete_cart(&self, id: &str) -> bool {
        self.write().carts.remove(id).is_some()
    }

    /// Removes a product; whether it existed.
    pub fn delete_product(&self, id: &str) -> bool {
        self.write().products.remove(id).is_some()
    }

    /// Every customer, by id.
    pub fn customers(&self) -> Vec<Customer> {
        self.read().customers.values().cloned().collect()
    }

    /// Every order, by id.
    pub fn orders(&self) -> Vec<Order> {
        self.read().orders.values().cloned().collect()
    }

    /// Every refund, by id.
    pub fn refunds(&self) -> Vec<Refund> {
        self.read().refunds.values().cloned().collect()
    }

    /// Every product, by id.
    pub fn products(&self) -> Vec<Product> {
        self.read().products.values().cloned().collect()
    }

    /// Every cart, by id.
    pub fn carts(&self) -> Vec<Cart> {
        self.read().carts.values().cloned().collect()
    }

    /// Every customer group, by id.
    pub fn customer_groups(&self) -> Vec<CustomerGroup> {
        self.read().groups.values().cloned().collect()
    }

    /// The customer ids in a segment.
    pub fn segment_members(&self, segment_id: &str) -> Vec<String> {
        self.read()
            .segments
            .get(segment_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}
