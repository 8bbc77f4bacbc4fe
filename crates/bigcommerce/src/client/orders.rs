//! Orders (v2: pages, 204 past the end) and refunds (v3 payment actions).

use cartograph_connector::Result;
use cartograph_http::Request;
use cartograph_model::Timestamp;

use super::{Client, MAX_LIMIT};
use crate::map::{v2_filter_time, v3_filter_time};
use crate::wire::{Collection, Order, OrderCoupon, OrderProduct, OrderShippingAddress, Refund};

/// What to ask `GET /v2/orders` for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// `min_date_modified` (RFC 2822; sorted `date_modified:asc`).
    pub modified_since: Option<Timestamp>,
    /// Page (1-based).
    pub page: u32,
    /// Page size (1..=250).
    pub limit: u32,
}

impl Client {
    /// `GET /v2/orders`; `None` when the page is past the end (204).
    pub async fn list_orders(&self, q: &OrderQuery) -> Result<Option<Vec<Order>>> {
        let mut request = Request::get("/v2/orders")
            .operation("list_orders")
            .query("page", q.page.max(1).to_string())
            .query("limit", q.limit.clamp(1, MAX_LIMIT).to_string());
        if let Some(since) = q.modified_since {
            request = request
                .query("min_date_modified", v2_filter_time(since))
                .query("sort", "date_modified:asc");
        }
        self.v2_page(request).await
    }

    /// `GET /v2/orders/{id}`; `None` when it does not exist.
    pub async fn get_order(&self, id: u64) -> Result<Option<Order>> {
        self.optional(Request::get(format!("/v2/orders/{id}")).operation("get_order"))
            .await
    }

    async fn v2_all<T: serde::de::DeserializeOwned>(
        &self,
        path: String,
        operation: &'static str,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let request = Request::get(path.clone())
                .operation(operation)
                .query("page", page.to_string())
                .query("limit", MAX_LIMIT.to_string());
            match self.v2_page::<T>(request).await? {
                None => return Ok(out),
                Some(rows) => {
                    let full = rows.len() >= MAX_LIMIT as usize;
                    if out.is_empty() {
                        // The usual single page: keep its vector, no copy.
                        out = rows;
                    } else {
                        out.extend(rows);
                    }
                    if !full {
                        return Ok(out);
                    }
                    page += 1;
                }
            }
        }
    }

    /// `GET /v2/orders/{id}/products` (every page).
    pub async fn order_products(&self, id: u64) -> Result<Vec<OrderProduct>> {
        self.v2_all(format!("/v2/orders/{id}/products"), "get_order_products")
            .await
    }

    /// `GET /v2/orders/{id}/shipping_addresses` (every page).
    pub async fn order_shipping_addresses(&self, id: u64) -> Result<Vec<OrderShippingAddress>> {
        self.v2_all(
            format!("/v2/orders/{id}/shipping_addresses"),
            "get_order_shipping_addresses",
        )
        .await
    }

    /// `GET /v2/orders/{id}/coupons` (every page).
    pub async fn order_coupons(&self, id: u64) -> Result<Vec<OrderCoupon>> {
        self.v2_all(format!("/v2/orders/{id}/coupons"), "get_order_coupons")
            .await
    }

    /// `GET /v3/orders/payment_actions/refunds` (ascending by id).
    pub async fn list_refunds(
        &self,
        created_since: Option<Timestamp>,
        page: u32,
        limit: u32,
    ) -> Result<Collection<Refund>> {
        let mut request = Request::get("/v3/orders/payment_actions/refunds")
            .operation("list_refunds")
            .query("page", page.max(1).to_string())
            .query("limit", limit.clamp(1, MAX_LIMIT).to_string());
        if let Some(since) = created_since {
            request = request.query("created:min", v3_filter_time(since));
        }
        self.collection(request).await
    }

    /// `GET /v3/orders/{id}/payment_actions/refunds`.
    pub async fn order_refunds(&self, order_id: u64) -> Result<Vec<Refund>> {
        let request = Request::get(format!("/v3/orders/{order_id}/payment_actions/refunds"))
            .operation("get_order_refunds");
        match self.collection::<Refund>(request).await {
            Ok(c) => Ok(c.data),
            Err(e) if e.is_not_found() => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}
