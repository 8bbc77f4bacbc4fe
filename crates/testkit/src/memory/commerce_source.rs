//! `CommerceSource` for [`MemoryCommerce`].

use std::collections::BTreeMap;

use cartograph_connector::{
    Capabilities, CommerceSource, Error, ListRequest, Page, Result, Stream, WebhookNotification,
    WebhookRequest, async_trait,
};
use cartograph_model::{
    Brand, Cart, Category, Customer, CustomerGroup, Order, OrderStatus, Product, Refund, Timestamp,
};

use super::commerce::{CommerceState, MemoryCommerce};
use super::support::{Row, modified, page};
use super::webhook;

impl MemoryCommerce {
    fn begin(&self, operation: &'static str, stream: Option<Stream>) -> Result<()> {
        self.shared.faults.check(&self.shared.name, operation)?;
        match stream {
            Some(s) if !self.shared.capabilities.can_list(s) => {
                Err(Error::unsupported(self.shared.name.clone(), operation))
            }
            _ => Ok(()),
        }
    }

    fn list<T: Clone>(
        &self,
        operation: &'static str,
        stream: Stream,
        request: &ListRequest,
        pick: impl Fn(&CommerceState) -> &BTreeMap<String, T>,
        at: impl Fn(&T) -> Timestamp,
    ) -> Result<Page<T>> {
        self.begin(operation, Some(stream))?;
        let rows = {
            let state = self.read();
            pick(&state)
                .iter()
                .map(|(id, item)| Row {
                    at: at(item),
                    id: id.clone(),
                    item: item.clone(),
                })
                .collect()
        };
        page(
            &self.shared.name,
            operation,
            rows,
            request,
            self.shared.page_size,
            self.shared.capabilities.can_delta(stream),
        )
    }

    fn get<T: Clone>(
        &self,
        operation: &'static str,
        id: &str,
        pick: impl Fn(&CommerceState) -> &BTreeMap<String, T>,
    ) -> Result<Option<T>> {
        self.begin(operation, None)?;
        Ok(pick(&self.read()).get(id).cloned())
    }
}

fn no_time<T>(_: &T) -> Timestamp {
    Timestamp::UNIX_EPOCH
}

#[async_trait]
impl CommerceSource for MemoryCommerce {
    fn name(&self) -> &str {
        &self.shared.name
    }

    fn capabilities(&self) -> Capabilities {
        self.shared.capabilities.clone()
    }

    async fn list_customers(&self, request: &ListRequest) -> Result<Page<Customer>> {
        self.list(
            "list_customers",
            Stream::Customers,
            request,
            |s| &s.customers,
            |c| modified(c.updated_at, c.created_at),
        )
    }

    async fn list_orders(&self, request: &ListRequest) -> Result<Page<Order>> {
        self.list(
            "list_orders",
            Stream::Orders,
            request,
            |s| &s.orders,
            |o| o.updated_at.unwrap_or(o.created_at),
        )
    }

    async fn list_refunds(&self, request: &ListRequest) -> Result<Page<Refund>> {
        self.list(
            "list_refunds",
            Stream::Refunds,
            request,
            |s| &s.refunds,
            |r| r.created_at,
        )
    }

    async fn list_products(&self, request: &ListRequest) -> Result<Page<Product>> {
        self.list(
            "list_products",
            Stream::Products,
            request,
            |s| &s.products,
            |p| modified(p.updated_at, p.created_at),
        )
    }

    async fn list_categories(&self, request: &ListRequest) -> Result<Page<Category>> {
        self.list(
            "list_categories",
            Stream::Categories,
            request,
            |s| &s.categories,
            no_time,
        )
    }

    async fn list_brands(&self, request: &ListRequest) -> Result<Page<Brand>> {
        self.list(
            "list_brands",
            Stream::Brands,
            request,
            |s| &s.brands,
            no_time,
        )
    }

    async fn list_customer_groups(&self, request: &ListRequest) -> Result<Page<CustomerGroup>> {
        self.list(
            "list_customer_groups",
            Stream::CustomerGroups,
            request,
            |s| &s.groups,
            no_time,
        )
    }

    async fn list_carts(&self, request: &ListRequest) -> Result<Page<Cart>> {
        self.list(
            "list_carts",
            Stream::Carts,
            request,
            |s| &s.carts,
            |c| modified(c.updated_at, c.created_at),
        )
    }

    async fn get_customer(&self, id: &str) -> Result<Option<Customer>> {
        self.get("get_customer", id, |s| &s.customers)
    }

    async fn get_order(&self, id: &str) -> Result<Option<Order>> {
        self.get("get_order", id, |s| &s.orders)
    }

    async fn get_order_refunds(&self, order_id: &str) -> Result<Vec<Refund>> {
        self.begin("get_order_refunds", None)?;
        let mut refunds: Vec<Refund> = self
            .read()
            .refunds
            .values()
            .filter(|r| r.order.id == order_id)
            .cloned()
            .collect();
        refunds.sort_by(|a, b| (a.created_at, &a.source.id).cmp(&(b.created_at, &b.source.id)));
        Ok(refunds)
    }

    async fn get_cart(&self, id: &str) -> Result<Option<Cart>> {
        self.get("get_cart", id, |s| &s.carts)
    }

    async fn get_product(&self, id: &str) -> Result<Option<Product>> {
        self.get("get_product", id, |s| &s.products)
    }

    /// Raw status ids are the canonical snake_case names (`awaiting_fulfillment`).
    fn map_status(&self, raw_status_id: &str) -> Option<OrderStatus> {
        serde_json::from_value(serde_json::Value::String(raw_status_id.to_owned())).ok()
    }

    fn parse_webhook(&self, request: &WebhookRequest) -> Result<Vec<WebhookNotification>> {
        self.shared
            .faults
            .check(&self.shared.name, "parse_webhook")?;
        if !self.shared.capabilities.webhooks {
            return Err(Error::unsupported(
                self.shared.name.clone(),
                "parse_webhook",
            ));
        }
        webhook::parse(
            &self.shared.name,
            self.shared.webhook_secret.as_deref(),
            request,
        )
    }
}
