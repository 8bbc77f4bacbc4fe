//! Reading deals (or commerce orders) back for revenue reconciliation: the full listing
//! (`GET {objects}/0-3`, `limit` at most 100, cursor `after` from `paging.next.after`) and
//! lookups by the unique order-id property (`batch/read` with `idProperty`).

use cartograph_connector::{CrmOrder, Cursor, ListRequest, Page, Result};
use cartograph_http::Request;
use cartograph_model::{Currency, Money, OrderObject};

use super::HubSpotClient;
use crate::map::parse_hubspot_time;
use crate::wire::{SearchResponse, SimpleObject};

/// HubSpot's largest page on object listings.
const LIST_PAGE_MAX: u32 = 100;

impl HubSpotClient {
    /// The object path segment orders are written as (`0-3` for deals, or `orders`).
    fn order_object(&self) -> &'static str {
        match self
            .config
            .mapping
            .order_object
            .unwrap_or(OrderObject::Deal)
        {
            OrderObject::Deal => "0-3",
            OrderObject::Order => "orders",
        }
    }

    /// The properties reconciliation reads: the order key and the profile's revenue fields.
    fn revenue_properties(&self) -> Vec<String> {
        let fields = crate::profile().revenue_fields;
        vec![
            self.config.mapping.order_id_property.clone(),
            fields.amount,
            fields.date,
            fields.currency,
        ]
    }

    /// One page of order records, oldest id first.
    ///
    /// # Errors
    /// The call failed.
    pub async fn read_orders(&self, request: &ListRequest) -> Result<Page<CrmOrder>> {
        const OP: &str = "read_orders";
        let limit = request
            .limit
            .unwrap_or(LIST_PAGE_MAX)
            .clamp(1, LIST_PAGE_MAX);
        let mut http = Request::get(self.paths.objects(self.order_object()))
            .operation(OP)
            .query("limit", limit.to_string())
            .query("properties", self.revenue_properties().join(","))
            .query("archived", "false");
        if let Some(after) = &request.cursor {
            http = http.query("after", after.as_str());
        }
        let page: SearchResponse = self.send(http).await?.json()?;
        let next = page
            .paging
            .and_then(|p| p.next)
            .map(|n| Cursor::new(n.after));
        Ok(Page {
            items: page
                .results
                .iter()
                .filter_map(|o| self.crm_order(o))
                .collect(),
            next,
        })
    }

    /// Order records by order key (`batch/read` on the unique order-id property).
    ///
    /// # Errors
    /// The call failed.
    pub async fn find_orders(&self, keys: &[String]) -> Result<Vec<CrmOrder>> {
        let found = self
            .batch_read(
                self.order_object(),
                Some(&self.config.mapping.order_id_property),
                keys,
                &self.revenue_properties(),
                "find_orders",
            )
            .await?;
        Ok(found.iter().filter_map(|o| self.crm_order(o)).collect())
    }

    /// `None` for deals without the order key (not written by the integration).
    fn crm_order(&self, object: &SimpleObject) -> Option<CrmOrder> {
        let fields = crate::profile().revenue_fields;
        let key = object.prop(&self.config.mapping.order_id_property)?;
        let mut order = CrmOrder::new(object.id.clone(), key);
        let currency = object
            .prop(&fields.currency)
            .and_then(|c| Currency::new(c).ok());
        order.amount = object
            .prop(&fields.amount)
            .zip(currency)
            .and_then(|(a, c)| Money::parse(a, c).ok())
            .map(|m| m.round_to_minor());
        order.day = object.prop(&fields.date).and_then(|d| {
            parse_hubspot_time(d).map(|t| t.date()).or_else(|| {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok()
            })
        });
        Some(order)
    }
}
