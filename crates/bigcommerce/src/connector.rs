//! [`BigCommerce`]: the `CommerceSource` and `CommerceWriter` implementations (glue between
//! the [`Client`] and the pure [`crate::map`] functions).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceSource, Error, ErrorKind, ListRequest, Page, Result, Stream,
    WebhookNotification, WebhookRequest,
};
use cartograph_model::{
    Brand, Cart, Category, Currency, Customer, CustomerGroup, Order, OrderStatus, Product, Refund,
    Timestamp,
};
use futures::StreamExt as _;

use crate::categories::LineCategories;
use crate::client::{Client, CustomerQuery, OrderQuery};
use crate::config::BigCommerceConfig;
use crate::cursor::{Dedupe, Pos, Position};
use crate::map;
use crate::wire;

/// How many record versions the delta de-duplication remembers per connector.
const DEDUPE_CAPACITY: usize = 100_000;

/// The BigCommerce connector. Use it as `Arc<dyn CommerceSource>` and
/// `Arc<dyn CommerceWriter>`.
#[derive(Debug)]
pub struct BigCommerce {
    pub(crate) client: Client,
    dedupe: Mutex<Dedupe>,
    currencies: Mutex<HashMap<u64, Currency>>,
    line_categories: LineCategories,
}

impl BigCommerce {
    /// A connector with its own HTTP client.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for invalid settings.
    pub fn new(config: BigCommerceConfig) -> Result<Self> {
        Client::new(config).map(Self::from_client)
    }

    /// A connector over an existing [`Client`].
    pub fn from_client(client: Client) -> Self {
        Self {
            client,
            dedupe: Mutex::new(Dedupe::new(DEDUPE_CAPACITY)),
            currencies: Mutex::new(HashMap::new()),
            line_categories: LineCategories::default(),
        }
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this connector's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(
        mut self,
        gate: std::sync::Arc<dyn cartograph_http::RequestGate>,
    ) -> Self {
        self.client = self.client.with_request_gate(gate);
        self
    }

    /// The low-level client (hooks, raw calls).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn config(&self) -> &BigCommerceConfig {
        self.client.config()
    }

    pub(crate) fn system(&self) -> &str {
        &self.client.config().system
    }

    /// Makes sure a hook for `scope` delivers to `destination` and is active: re-enables a
    /// deactivated one, creates a missing one carrying the first configured header secret.
    pub async fn ensure_hook(&self, scope: &str, destination: &str) -> Result<wire::Hook> {
        let hooks = self.client.list_hooks().await?;
        if let Some(hook) = hooks
            .into_iter()
            .find(|h| h.scope == scope && h.destination == destination)
        {
            if hook.is_active {
                return Ok(hook);
            }
            return self.client.reactivate_hook(hook.id).await;
        }
        let webhooks = &self.config().webhooks;
        let headers: BTreeMap<String, String> = webhooks
            .header_secrets
            .first()
            .map(|s| (webhooks.secret_header.clone(), s.expose().to_owned()))
            .into_iter()
            .collect();
        self.client.create_hook(scope, destination, headers).await
    }

    fn delta_from(&self, since: Option<Timestamp>) -> Option<Timestamp> {
        let overlap = i64::try_from(self.config().delta_overlap_secs).unwrap_or(i64::MAX);
        since.map(|s| s.saturating_sub(time::Duration::seconds(overlap)))
    }

    /// Drops record versions already delivered (see [`Dedupe`]); only for deltas.
    fn dedupe<T>(
        &self,
        stream: Stream,
        request: &ListRequest,
        run: u64,
        items: Vec<T>,
        key: impl Fn(&T) -> (String, Option<Timestamp>),
    ) -> Vec<T> {
        let Some(since) = request.since else {
            return items;
        };
        let mut d = self.dedupe.lock().unwrap_or_else(PoisonError::into_inner);
        items
            .into_iter()
            .filter(|item| {
                let (id, updated) = key(item);
                d.keep(stream, &id, updated, since, run)
            })
            .collect()
    }

    async fn full_order(&self, o: wire::Order) -> Result<Order> {
        let (products, shipping, coupons) = futures::try_join!(
            self.client.order_products(o.id),
            self.client.order_shipping_addresses(o.id),
            self.client.order_coupons(o.id),
        )?;
        self.remember_currency(&o);
        map::order(self.system(), &o, &products, &shipping, &coupons)
    }

    fn remember_currency(&self, o: &wire::Order) {
        let code = if o.default_currency_code.is_empty() {
            &o.currency_code
        } else {
            &o.default_currency_code
        };
        if let Ok(cur) = Currency::new(code) {
            self.currencies
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(o.id, cur);
        }
    }

    /// The transactional currency of an order (refunds carry none).
    async fn order_currency(&self, order_id: u64) -> Result<Currency> {
        let cached = self
            .currencies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&order_id)
            .copied();
        if let Some(cur) = cached {
            return Ok(cur);
        }
        let order = self.client.get_order(order_id).await?.ok_or_else(|| {
            Error::new(ErrorKind::NotFound, "refunded order not found")
                .with_connector("bigcommerce")
                .with_record(format!("{}/order/{order_id}", self.system()))
        })?;
        self.remember_currency(&order);
        let code = if order.default_currency_code.is_empty() {
            order.currency_code
        } else {
            order.default_currency_code
        };
        map::currency(
            &format!("{}/order/{order_id}", self.system()),
            "default_currency_code",
            &code,
        )
    }

    async fn refunds(&self, rows: Vec<wire::Refund>) -> Result<Vec<Refund>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let cur = self.order_currency(r.order_id).await?;
            out.push(map::refund(self.system(), r, cur)?);
        }
        Ok(out)
    }

    /// One page of a v3 offset listing without delta (categories, brands): the page the
    /// cursor points at, `fetch`ed as `(page, limit)`, each record mapped with `map`.
    async fn v3_listing<W, T, F>(
        &self,
        request: &ListRequest,
        fetch: impl FnOnce(u32, u32) -> F,
        map: impl Fn(&str, &W) -> T,
    ) -> Result<Page<T>>
    where
        F: Future<Output = Result<wire::Collection<W>>>,
    {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v3_page_size(request.limit);
        let page = fetch(position.page(), limit).await?;
        let next = Self::next_page(&position, &page.meta, page.data.len(), limit)
            .map(|p| position.next(p));
        Ok(Page {
            items: page.data.iter().map(|w| map(self.system(), w)).collect(),
            next,
        })
    }

    fn next_page(position: &Position, meta: &wire::Meta, count: usize, limit: u32) -> Option<Pos> {
        let more = match &meta.pagination {
            Some(p) if p.total_pages > 0 => p.current_page < p.total_pages,
            _ => count >= limit as usize && count > 0,
        };
        more.then(|| Pos::Page(position.page() + 1))
    }
}

/// A non-numeric id cannot exist in BigCommerce: lookups answer "not found" for it.
fn numeric(id: &str) -> Option<u64> {
    id.trim().parse::<u64>().ok()
}

#[async_trait]
impl CommerceSource for BigCommerce {
    fn name(&self) -> &str {
        self.system()
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn transport_stats(&self) -> Option<cartograph_connector::TransportStats> {
        Some(self.client.stats())
    }

    async fn list_customers(&self, request: &ListRequest) -> Result<Page<Customer>> {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v3_page_size(request.limit);
        let page = self
            .client
            .list_customers(&CustomerQuery {
                modified_since: self.delta_from(request.since),
                after: match &position.pos {
                    Pos::After(a) => Some(a.clone()),
                    Pos::Page(_) => None,
                },
                limit,
                ..CustomerQuery::default()
            })
            .await?;
        let cursor = page.meta.cursor_pagination.as_ref();
        let has_next = cursor
            .and_then(|c| c.links.as_ref())
            .and_then(|l| l.next.as_ref())
            .is_some_and(|n| !n.is_empty());
        let next = cursor
            .and_then(|c| c.end_cursor.clone())
            .filter(|_| has_next)
            .map(|end| position.next(Pos::After(end)));
        let items = page
            .data
            .iter()
            .map(|c| map::customer(self.system(), c))
            .collect::<Result<Vec<_>>>()?;
        let items = self.dedupe(Stream::Customers, request, position.run, items, |c| {
            (c.source.id.clone(), c.updated_at)
        });
        Ok(Page { items, next })
    }

    async fn list_orders(&self, request: &ListRequest) -> Result<Page<Order>> {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v2_page_size(request.limit);
        let rows = self
            .client
            .list_orders(&OrderQuery {
                modified_since: self.delta_from(request.since),
                page: position.page(),
                limit,
            })
            .await?;
        let Some(rows) = rows else {
            return Ok(Page::empty());
        };
        let next =
            (rows.len() >= limit as usize).then(|| position.next(Pos::Page(position.page() + 1)));
        let concurrency = self.config().order_detail_concurrency.max(1);
        let items: Vec<Order> = futures::stream::iter(rows.into_iter().map(|o| self.full_order(o)))
            .buffered(concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let mut items = self.dedupe(Stream::Orders, request, position.run, items, |o| {
            (o.source.id.clone(), o.updated_at)
        });
        // Line categories for the whole page at once (one catalog lookup, not one per line).
        self.line_categories.fill(&self.client, &mut items).await?;
        Ok(Page { items, next })
    }

    async fn list_refunds(&self, request: &ListRequest) -> Result<Page<Refund>> {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v3_page_size(request.limit);
        let page = self
            .client
            .list_refunds(self.delta_from(request.since), position.page(), limit)
            .await?;
        let next = Self::next_page(&position, &page.meta, page.data.len(), limit)
            .map(|p| position.next(p));
        let items = self.refunds(page.data).await?;
        let items = self.dedupe(Stream::Refunds, request, position.run, items, |r| {
            (r.source.id.clone(), Some(r.created_at))
        });
        Ok(Page { items, next })
    }

    async fn list_products(&self, request: &ListRequest) -> Result<Page<Product>> {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v3_page_size(request.limit);
        let page = self
            .client
            .list_products(self.delta_from(request.since), &[], position.page(), limit)
            .await?;
        let next = Self::next_page(&position, &page.meta, page.data.len(), limit)
            .map(|p| position.next(p));
        let cur = self.config().store_currency;
        self.line_categories
            .remember(page.data.iter().map(|p| (p.id, p.categories.clone())));
        let items = page
            .data
            .iter()
            .map(|p| map::product(self.system(), p, cur))
            .collect::<Result<Vec<_>>>()?;
        let items = self.dedupe(Stream::Products, request, position.run, items, |p| {
            (p.source.id.clone(), p.updated_at)
        });
        Ok(Page { items, next })
    }

    async fn list_categories(&self, request: &ListRequest) -> Result<Page<Category>> {
        self.v3_listing(
            request,
            |page, limit| self.client.list_categories(page, limit),
            map::category,
        )
        .await
    }

    async fn list_brands(&self, request: &ListRequest) -> Result<Page<Brand>> {
        self.v3_listing(
            request,
            |page, limit| self.client.list_brands(page, limit),
            map::brand,
        )
        .await
    }

    async fn list_customer_groups(&self, request: &ListRequest) -> Result<Page<CustomerGroup>> {
        let position = Position::from_cursor(request.cursor.as_ref(), Pos::Page(1))?;
        let limit = self.config().v2_page_size(request.limit);
        let Some(rows) = self
            .client
            .list_customer_groups(position.page(), limit)
            .await?
        else {
            return Ok(Page::empty());
        };
        let next =
            (rows.len() >= limit as usize).then(|| position.next(Pos::Page(position.page() + 1)));
        Ok(Page {
            items: rows
                .iter()
                .map(|g| map::customer_group(self.system(), g))
                .collect(),
            next,
        })
    }

    async fn get_customer(&self, id: &str) -> Result<Option<Customer>> {
        let Some(id) = numeric(id) else {
            return Ok(None);
        };
        self.client
            .get_customer(id)
            .await?
            .map(|c| map::customer(self.system(), &c))
            .transpose()
    }

    async fn get_order(&self, id: &str) -> Result<Option<Order>> {
        let Some(id) = numeric(id) else {
            return Ok(None);
        };
        match self.client.get_order(id).await? {
            Some(o) => {
                let mut order = self.full_order(o).await?;
                self.line_categories
                    .fill(&self.client, std::slice::from_mut(&mut order))
                    .await?;
                Ok(Some(order))
            }
            None => Ok(None),
        }
    }

    async fn get_order_refunds(&self, order_id: &str) -> Result<Vec<Refund>> {
        let Some(id) = numeric(order_id) else {
            return Ok(Vec::new());
        };
        let rows = self.client.order_refunds(id).await?;
        self.refunds(rows).await
    }

    async fn get_cart(&self, id: &str) -> Result<Option<Cart>> {
        let Some(cart) = self.client.get_cart(id).await? else {
            return Ok(None);
        };
        let recovery = match self.client.cart_redirect_urls(id).await {
            Ok(urls) => Some(urls.cart_url).filter(|u| !u.is_empty()),
            Err(err) => {
                tracing::warn!(error = %err, "cart recovery link unavailable");
                None
            }
        };
        let mut cart = map::cart(self.system(), &cart, recovery)?;
        self.line_categories
            .fill_lines(&self.client, cart.items.iter_mut().collect())
            .await?;
        Ok(Some(cart))
    }

    async fn get_product(&self, id: &str) -> Result<Option<Product>> {
        let Some(id) = numeric(id) else {
            return Ok(None);
        };
        let cur = self.config().store_currency;
        let Some(product) = self.client.get_product(id).await? else {
            return Ok(None);
        };
        self.line_categories
            .remember([(product.id, product.categories.clone())]);
        map::product(self.system(), &product, cur).map(Some)
    }

    fn map_status(&self, raw_status_id: &str) -> Option<OrderStatus> {
        raw_status_id
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(map::status_from_id)
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<WebhookNotification>> {
        crate::webhook::verify(request, &self.config().webhooks)?;
        crate::webhook::parse_body(self.system(), &request.body)
    }
}

/// What the BigCommerce connector supports.
pub fn capabilities() -> Capabilities {
    Capabilities {
        list: vec![
            Stream::Customers,
            Stream::Orders,
            Stream::Refunds,
            Stream::Products,
            Stream::Categories,
            Stream::Brands,
            Stream::CustomerGroups,
        ],
        delta: vec![
            Stream::Customers,
            Stream::Orders,
            Stream::Refunds,
            Stream::Products,
        ],
        webhooks: true,
        webhook_signatures: true,
        max_batch: crate::writer::MAX_UPSERT,
        customer_writes: true,
        customer_groups: true,
        segments: true,
        ..Capabilities::default()
    }
}
