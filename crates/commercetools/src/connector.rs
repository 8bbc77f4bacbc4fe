//! [`Commercetools`]: the [`CommerceSource`] implementation (glue between [`Client`] and
//! [`crate::map`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use cartograph_connector::{
    Capabilities, CommerceSource, ListRequest, Page, Result, Stream, TransportStats,
    WebhookNotification, WebhookRequest,
};
use cartograph_model::{
    Cart, Category, Customer, CustomerGroup, Order, OrderStatus, Product, Refund, Timestamp,
};

use crate::client::{Client, Keyset, Query, Resource};
use crate::config::CommercetoolsConfig;
use crate::map::{self, MapContext};
use crate::{webhook, wire};

/// Expansion that inlines an order's payments (refund transactions live there).
const EXPAND_PAYMENTS: &str = "paymentInfo.payments[*]";

/// What this connector supports.
pub fn capabilities() -> Capabilities {
    let streams = vec![
        Stream::Customers,
        Stream::Orders,
        Stream::Refunds,
        Stream::Products,
        Stream::Categories,
        Stream::CustomerGroups,
        Stream::Carts,
    ];
    Capabilities {
        // Categories and groups carry no modification time in the canonical model; refunds
        // change the payment, not the order's lastModifiedAt.
        delta: vec![
            Stream::Customers,
            Stream::Orders,
            Stream::Products,
            Stream::Carts,
        ],
        list: streams,
        webhooks: true,
        webhook_signatures: false,
        max_batch: 1,
        orders: true,
        products: true,
        ..Capabilities::default()
    }
}

/// Largest number of `(record, lastModifiedAt)` pairs remembered for delta de-duplication
/// (cleared when exceeded).
pub const DEDUPE_CAPACITY: usize = 1_000_000;

/// What a delta listing de-duplicates on: kind, id and modification time (every new
/// `version` has a new `lastModifiedAt`).
trait Versioned {
    fn version_key(&self) -> (String, Option<Timestamp>);
}

macro_rules! versioned {
    ($($ty:ty),*) => {$(
        impl Versioned for $ty {
            fn version_key(&self) -> (String, Option<Timestamp>) {
                (format!("{}:{}", self.source.kind.as_str(), self.source.id), self.updated_at)
            }
        }
    )*};
}
versioned!(Customer, Order, Product, Cart);

impl Versioned for Refund {
    fn version_key(&self) -> (String, Option<Timestamp>) {
        (format!("refund:{}", self.source.id), Some(self.created_at))
    }
}
impl Versioned for Category {
    fn version_key(&self) -> (String, Option<Timestamp>) {
        (format!("category:{}", self.source.id), None)
    }
}
impl Versioned for CustomerGroup {
    fn version_key(&self) -> (String, Option<Timestamp>) {
        (format!("customer_group:{}", self.source.id), None)
    }
}

/// Delivered `(record, lastModifiedAt)` pairs.
type Delivered = HashSet<(String, Option<Timestamp>)>;

/// The commercetools commerce source.
#[derive(Clone, Debug)]
pub struct Commercetools {
    client: Client,
    delivered: Arc<Mutex<Delivered>>,
    applied: Arc<Mutex<HashMap<String, i64>>>,
}

impl Commercetools {
    /// A connector from validated settings.
    ///
    /// # Errors
    /// [`cartograph_connector::ErrorKind::Config`] for invalid settings.
    pub fn new(config: CommercetoolsConfig) -> Result<Self> {
        Ok(Self {
            client: Client::new(config)?,
            delivered: Arc::default(),
            applied: Arc::default(),
        })
    }

    /// Runs every request through `gate` (e.g. a budget shared by all workers of the
    /// account, on every machine) instead of this connector's own in-process rate limiter.
    #[must_use]
    pub fn with_request_gate(mut self, gate: Arc<dyn cartograph_http::RequestGate>) -> Self {
        self.client = self.client.with_request_gate(gate);
        self
    }

    /// The low-level client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn config(&self) -> &CommercetoolsConfig {
        self.client.config()
    }

    /// The mapping context at this moment.
    pub fn context(&self) -> MapContext {
        let config = self.config();
        MapContext {
            system: config.system.clone(),
            languages: config.languages.clone(),
            opt_in_field: config.marketing_opt_in_field.clone(),
            abandoned_after: time::Duration::seconds(
                i64::try_from(config.abandoned_after_secs).unwrap_or(i64::MAX),
            ),
            now: Timestamp::now(),
        }
    }

    fn query(&self, request: &ListRequest) -> Result<Query> {
        let config = self.config();
        let overlap =
            time::Duration::seconds(i64::try_from(config.delta_overlap_secs).unwrap_or(i64::MAX));
        Ok(Query {
            since: request.since.map(|s| s.saturating_sub(overlap)),
            after: request
                .cursor
                .as_ref()
                .map(Keyset::from_cursor)
                .transpose()?,
            limit: request.limit.unwrap_or_else(|| config.limit()),
            predicates: Vec::new(),
            expand: Vec::new(),
        })
    }

    /// One keyset page: the mapped items and the cursor after the last raw record.
    ///
    /// A delta listing reaches back `delta_overlap_secs` before `since`; records from that
    /// window are returned only when their `(id, lastModifiedAt)` was not delivered before,
    /// so `since` keeps its "modified at or after" meaning for everything already seen.
    async fn page<W: Resource, T: Versioned>(
        &self,
        resource: &str,
        query: Query,
        since: Option<Timestamp>,
        map: impl Fn(&MapContext, &W) -> Result<Vec<T>>,
    ) -> Result<Page<T>> {
        let response = self.client.query::<W>(resource, &query).await?;
        let ctx = self.context();
        let full = u32::try_from(response.results.len()).unwrap_or(u32::MAX) >= query.limit;
        let next = if full {
            response
                .results
                .last()
                .and_then(Resource::keyset)
                .map(|k| k.to_cursor())
        } else {
            None
        };
        let mut items = Vec::with_capacity(response.results.len());
        for raw in &response.results {
            items.extend(map(&ctx, raw)?);
        }
        let mut delivered = self
            .delivered
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if delivered.len() > DEDUPE_CAPACITY {
            delivered.clear();
        }
        items.retain(|item| {
            let key = item.version_key();
            let before_since = matches!((since, key.1), (Some(s), Some(at)) if at < s);
            let fresh = delivered.insert(key);
            !before_since || fresh
        });
        Ok(Page { items, next })
    }

    /// One page of the Messages API (`GET /messages`, keyset on `lastModifiedAt, id`, delta
    /// from `since`) as notifications. Messages at or below the `resourceVersion` already
    /// applied for their resource are skipped, as are our own writes (`createdBy.clientId`);
    /// within a page they are ordered per resource by `sequenceNumber`. The project must
    /// have `messagesConfiguration.enabled`.
    ///
    /// # Errors
    /// Transport, API and payload errors.
    pub async fn poll_messages(&self, request: &ListRequest) -> Result<Page<WebhookNotification>> {
        let query = Query {
            since: request.since,
            after: request
                .cursor
                .as_ref()
                .map(Keyset::from_cursor)
                .transpose()?,
            limit: request.limit.unwrap_or_else(|| self.config().limit()),
            predicates: Vec::new(),
            expand: Vec::new(),
        };
        let response = self
            .client
            .query::<wire::Message>("messages", &query)
            .await?;
        let full = u32::try_from(response.results.len()).unwrap_or(u32::MAX) >= query.limit;
        let next = if full {
            response
                .results
                .last()
                .and_then(Resource::keyset)
                .map(|k| k.to_cursor())
        } else {
            None
        };
        let fresh: Vec<serde_json::Value> = {
            let mut applied = self.applied.lock().unwrap_or_else(PoisonError::into_inner);
            let mut fresh = Vec::new();
            for m in response.results {
                let resource = m
                    .resource
                    .as_ref()
                    .and_then(|r| r.id.clone())
                    .unwrap_or_default();
                if let Some(version) = m.resource_version {
                    if applied.get(&resource).is_some_and(|seen| *seen >= version) {
                        continue;
                    }
                    applied.insert(resource, version);
                }
                let mut payload = serde_json::to_value(&m).map_err(|e| {
                    cartograph_connector::Error::new(
                        cartograph_connector::ErrorKind::Decode,
                        e.to_string(),
                    )
                })?;
                payload["notificationType"] = serde_json::Value::String("Message".to_owned());
                fresh.push(payload);
            }
            fresh
        };
        let body = serde_json::to_vec(&fresh).map_err(|e| {
            cartograph_connector::Error::new(cartograph_connector::ErrorKind::Decode, e.to_string())
        })?;
        let items = if fresh.is_empty() {
            Vec::new()
        } else {
            webhook::parse_delivery(&self.config().system, Some(&self.config().client_id), &body)?
        };
        Ok(Page { items, next })
    }

    /// Carts that are abandoned now: `Active`, with an email or customer, idle longer than
    /// the configured window (the query a pipeline runs on a schedule).
    ///
    /// # Errors
    /// Transport, API and mapping errors.
    pub async fn list_abandoned_carts(&self, request: &ListRequest) -> Result<Page<Cart>> {
        let ctx = self.context();
        let cutoff = ctx.now.saturating_sub(ctx.abandoned_after);
        let mut query = self.query(request)?;
        query.predicates.push(format!(
            "cartState = \"Active\" and lastModifiedAt < \"{}\" and (customerEmail is defined or customerId is defined)",
            crate::client::predicate_time(cutoff)
        ));
        self.page("carts", query, request.since, |ctx, c: &wire::Cart| {
            Ok(vec![map::cart(ctx, c)?])
        })
        .await
    }
}

fn order_refunds(ctx: &MapContext, o: &wire::Order) -> Result<Vec<Refund>> {
    let mut out = Vec::new();
    for reference in o.payment_info.iter().flat_map(|p| &p.payments) {
        let Some(obj) = &reference.obj else {
            continue;
        };
        let payment: wire::Payment = serde_json::from_value(obj.clone()).map_err(|e| {
            cartograph_connector::Error::invalid_field(
                format!("order {}", o.id),
                "paymentInfo.payments",
                e.to_string(),
            )
        })?;
        out.extend(map::refunds(ctx, &o.id, &payment)?);
    }
    Ok(out)
}

#[async_trait]
impl CommerceSource for Commercetools {
    fn name(&self) -> &str {
        "commercetools"
    }

    fn capabilities(&self) -> Capabilities {
        capabilities()
    }

    fn transport_stats(&self) -> Option<TransportStats> {
        Some(self.client.stats())
    }

    async fn list_customers(&self, request: &ListRequest) -> Result<Page<Customer>> {
        self.page(
            "customers",
            self.query(request)?,
            request.since,
            |ctx, c| Ok(vec![map::customer(ctx, c)?]),
        )
        .await
    }

    async fn list_orders(&self, request: &ListRequest) -> Result<Page<Order>> {
        self.page("orders", self.query(request)?, request.since, |ctx, o| {
            Ok(vec![map::order(ctx, o)?])
        })
        .await
    }

    async fn list_refunds(&self, request: &ListRequest) -> Result<Page<Refund>> {
        let mut query = self.query(request)?;
        query.predicates.push("paymentInfo is defined".to_owned());
        query.expand.push(EXPAND_PAYMENTS.to_owned());
        self.page("orders", query, request.since, order_refunds)
            .await
    }

    async fn list_products(&self, request: &ListRequest) -> Result<Page<Product>> {
        self.page(
            "product-projections",
            self.query(request)?,
            request.since,
            |ctx, p| Ok(vec![map::product(ctx, p)?]),
        )
        .await
    }

    async fn list_categories(&self, request: &ListRequest) -> Result<Page<Category>> {
        self.page(
            "categories",
            self.query(request)?,
            request.since,
            |ctx, c| Ok(vec![map::category(ctx, c)]),
        )
        .await
    }

    async fn list_customer_groups(&self, request: &ListRequest) -> Result<Page<CustomerGroup>> {
        self.page(
            "customer-groups",
            self.query(request)?,
            request.since,
            |ctx, g| Ok(vec![map::customer_group(ctx, g)]),
        )
        .await
    }

    async fn list_carts(&self, request: &ListRequest) -> Result<Page<Cart>> {
        self.page("carts", self.query(request)?, request.since, |ctx, c| {
            Ok(vec![map::cart(ctx, c)?])
        })
        .await
    }

    async fn get_customer(&self, id: &str) -> Result<Option<Customer>> {
        let raw: Option<wire::Customer> = self.client.get("customers", id, &[]).await?;
        raw.map(|c| map::customer(&self.context(), &c)).transpose()
    }

    async fn get_order(&self, id: &str) -> Result<Option<Order>> {
        let raw: Option<wire::Order> = self.client.get("orders", id, &[]).await?;
        raw.map(|o| map::order(&self.context(), &o)).transpose()
    }

    async fn get_order_refunds(&self, order_id: &str) -> Result<Vec<Refund>> {
        let raw: Option<wire::Order> = self
            .client
            .get("orders", order_id, &[EXPAND_PAYMENTS])
            .await?;
        match raw {
            Some(o) => order_refunds(&self.context(), &o),
            None => Ok(Vec::new()),
        }
    }

    async fn get_cart(&self, id: &str) -> Result<Option<Cart>> {
        let raw: Option<wire::Cart> = self.client.get("carts", id, &[]).await?;
        raw.map(|c| map::cart(&self.context(), &c)).transpose()
    }

    async fn get_product(&self, id: &str) -> Result<Option<Product>> {
        let raw: Option<wire::ProductProjection> =
            self.client.get("product-projections", id, &[]).await?;
        raw.map(|p| map::product(&self.context(), &p)).transpose()
    }

    fn map_status(&self, raw_status_id: &str) -> Option<OrderStatus> {
        match raw_status_id {
            "Open" | "Confirmed" | "Complete" | "Cancelled" => {
                Some(map::order_status(raw_status_id, None, None))
            }
            _ => None,
        }
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<WebhookNotification>> {
        let config = self.config();
        webhook::parse_delivery(&config.system, Some(&config.client_id), &request.body)
    }
}
