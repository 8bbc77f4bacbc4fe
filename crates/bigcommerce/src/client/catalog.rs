//! Catalog (products with variants, categories, brands) and carts (v3).

use cartograph_connector::Result;
use cartograph_http::Request;
use cartograph_http::url::path_segment;
use cartograph_model::Timestamp;

use super::{Client, MAX_LIMIT};
use crate::map::v3_filter_time;
use crate::wire::{Brand, Cart, CartRedirectUrls, Category, Collection, Product, Single};

impl Client {
    /// `GET /v3/catalog/products?include=variants,images`.
    pub async fn list_products(
        &self,
        modified_since: Option<Timestamp>,
        ids: &[u64],
        page: u32,
        limit: u32,
    ) -> Result<Collection<Product>> {
        let mut request = Request::get("/v3/catalog/products")
            .operation("list_products")
            .query("include", "variants,images")
            .query("page", page.max(1).to_string())
            .query("limit", limit.clamp(1, MAX_LIMIT).to_string());
        if let Some(since) = modified_since {
            request = request
                .query("date_modified:min", v3_filter_time(since))
                .query("sort", "date_modified")
                .query("direction", "asc");
        }
        if !ids.is_empty() {
            request = request.query("id:in", super::join_ids(ids));
        }
        self.collection(request).await
    }

    /// `GET /v3/catalog/products/{id}?include=variants,images`; `None` when absent.
    pub async fn get_product(&self, id: u64) -> Result<Option<Product>> {
        let request = Request::get(format!("/v3/catalog/products/{id}"))
            .operation("get_product")
            .query("include", "variants,images");
        Ok(self
            .optional::<Single<Product>>(request)
            .await?
            .map(|s| s.data))
    }

    /// `GET /v3/catalog/categories`.
    pub async fn list_categories(&self, page: u32, limit: u32) -> Result<Collection<Category>> {
        self.collection(
            Request::get("/v3/catalog/categories")
                .operation("list_categories")
                .query("page", page.max(1).to_string())
                .query("limit", limit.clamp(1, MAX_LIMIT).to_string()),
        )
        .await
    }

    /// `GET /v3/catalog/brands`.
    pub async fn list_brands(&self, page: u32, limit: u32) -> Result<Collection<Brand>> {
        self.collection(
            Request::get("/v3/catalog/brands")
                .operation("list_brands")
                .query("page", page.max(1).to_string())
                .query("limit", limit.clamp(1, MAX_LIMIT).to_string()),
        )
        .await
    }

    /// `GET /v3/carts/{id}`; `None` when absent (converted carts are deleted).
    pub async fn get_cart(&self, id: &str) -> Result<Option<Cart>> {
        let request = Request::get(format!("/v3/carts/{}", path_segment(id, "cart id")?))
            .operation("get_cart");
        Ok(self
            .optional::<Single<Cart>>(request)
            .await?
            .map(|s| s.data))
    }

    /// `POST /v3/carts/{id}/redirect_urls`: the recovery links of a cart. The body is `{}`
    /// (no `query_params`) sent as `application/json`: the spec declares a JSON request
    /// body and a `Content-Type` header for this operation.
    pub async fn cart_redirect_urls(&self, id: &str) -> Result<CartRedirectUrls> {
        let request = Request::post(format!(
            "/v3/carts/{}/redirect_urls",
            path_segment(id, "cart id")?
        ))
        .json(serde_json::json!({}))
        .operation("cart_redirect_urls")
        .retry_safe(true);
        Ok(self.json::<Single<CartRedirectUrls>>(request).await?.data)
    }
}
