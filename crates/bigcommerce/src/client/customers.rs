//! Customers (v3), customer groups (v2), shopper profiles and segments (v3).

use cartograph_connector::Result;
use cartograph_http::Request;
use cartograph_http::url::path_segment;
use cartograph_model::Timestamp;

use super::{Client, join_ids};
use crate::map::v3_filter_time;
use crate::wire::{Collection, Customer, CustomerGroup, CustomerInput, ShopperProfile};

/// What to ask `GET /v3/customers` for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CustomerQuery {
    /// `date_modified:min` (sent as a full UTC timestamp, sorted `date_modified:asc`).
    pub modified_since: Option<Timestamp>,
    /// The `after` cursor (`meta.cursor_pagination.end_cursor` of the previous page).
    pub after: Option<String>,
    /// Page size (1..=250).
    pub limit: u32,
    /// `id:in`.
    pub ids: Vec<u64>,
    /// `email:in`.
    pub emails: Vec<String>,
    /// Also include `shopper_profile_id` and `segment_ids` (beta).
    pub with_segments: bool,
}

impl Client {
    /// `GET /v3/customers` with addresses, attributes and form fields included.
    pub async fn list_customers(&self, q: &CustomerQuery) -> Result<Collection<Customer>> {
        let mut include = String::from("addresses,attributes,formfields");
        if q.with_segments {
            include.push_str(",shopper_profile_id,segment_ids");
        }
        let mut request = Request::get("/v3/customers")
            .operation("list_customers")
            .query("include", include)
            .query("limit", q.limit.clamp(1, super::MAX_LIMIT).to_string());
        if let Some(since) = q.modified_since {
            request = request
                .query("date_modified:min", v3_filter_time(since))
                .query("sort", "date_modified:asc");
        }
        if !q.ids.is_empty() {
            request = request.query("id:in", join_ids(&q.ids));
        }
        if !q.emails.is_empty() {
            request = request.query("email:in", q.emails.join(","));
        }
        if let Some(after) = &q.after {
            request = request.query("after", after.clone());
        }
        self.collection(request).await
    }

    /// `POST /v3/customers` (at most [`super::CUSTOMER_BATCH`]; not replayed after an
    /// ambiguous failure).
    pub async fn create_customers(&self, batch: &[CustomerInput]) -> Result<Vec<Customer>> {
        let request = Request::post("/v3/customers")
            .operation("create_customers")
            .serialize_json(batch)?;
        Ok(self.collection::<Customer>(request).await?.data)
    }

    /// `PUT /v3/customers` (at most [`super::CUSTOMER_BATCH`], each with `id`).
    pub async fn update_customers(&self, batch: &[CustomerInput]) -> Result<Vec<Customer>> {
        let request = Request::put("/v3/customers")
            .operation("update_customers")
            .serialize_json(batch)?;
        Ok(self.collection::<Customer>(request).await?.data)
    }

    /// `GET /v2/customer_groups` page; `None` past the last page (204).
    pub async fn list_customer_groups(
        &self,
        page: u32,
        limit: u32,
    ) -> Result<Option<Vec<CustomerGroup>>> {
        self.v2_page(
            Request::get("/v2/customer_groups")
                .operation("list_customer_groups")
                .query("page", page.to_string())
                .query("limit", limit.to_string()),
        )
        .await
    }

    /// `POST /v2/customer_groups`.
    pub async fn create_customer_group(&self, name: &str) -> Result<CustomerGroup> {
        self.json(
            Request::post("/v2/customer_groups")
                .operation("create_customer_group")
                .json(serde_json::json!({ "name": name })),
        )
        .await
    }

    /// `POST /v3/shopper-profiles` for customers that have none yet.
    pub async fn create_shopper_profiles(
        &self,
        customer_ids: &[u64],
    ) -> Result<Vec<ShopperProfile>> {
        let body: Vec<_> = customer_ids
            .iter()
            .map(|id| serde_json::json!({ "customer_id": id }))
            .collect();
        let request = Request::post("/v3/shopper-profiles")
            .operation("create_shopper_profiles")
            .serialize_json(&body)?;
        Ok(self.collection::<ShopperProfile>(request).await?.data)
    }

    /// `POST /v3/segments/{id}/shopper-profiles` (at most [`super::SEGMENT_BATCH`]).
    pub async fn add_shopper_profiles(
        &self,
        segment_id: &str,
        profile_ids: &[String],
    ) -> Result<Vec<ShopperProfile>> {
        let request = Request::post(format!(
            "/v3/segments/{}/shopper-profiles",
            path_segment(segment_id, "segment id")?
        ))
        .operation("add_to_segment")
        .retry_safe(true)
        .serialize_json(profile_ids)?;
        let response = self.http.send(request).await?;
        if response.is_empty() {
            return Ok(Vec::new());
        }
        Ok(response.json::<Collection<ShopperProfile>>()?.data)
    }

    /// One customer through the list endpoint (`id:in`; v3 has no single-customer GET),
    /// `None` when absent.
    pub async fn get_customer(&self, id: u64) -> Result<Option<Customer>> {
        let page = self
            .list_customers(&CustomerQuery {
                ids: vec![id],
                limit: 1,
                ..CustomerQuery::default()
            })
            .await?;
        Ok(page.data.into_iter().find(|c| c.id == id))
    }
}
