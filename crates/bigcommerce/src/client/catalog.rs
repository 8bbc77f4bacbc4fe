//! Catalog (products with variants, categories, brands) and carts (v3).

use cartograph_connector::Result;
use cartograph_http::Request;
use cartograph_http::url::path_segment;
use cartograph_model::Timestamp;

use super::{Client, MAX_LIMIT};
use crate::map::v3_filter_time;
use crate::wire::{
    Brand, Cart, CartRedirectUrls, Category, Collection, Product, ProductCategories, Single,
};

/// Ids per `id:in` lookup: within a page ([`MAX_LIMIT`]) and a short URL (about 1 kB of
/// ids).
pub const ID_CHUNK: usize = 100;

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

    /// `GET /v3/catalog/products?id:in=...&include_fields=categories`: the category ids of
    /// the products `ids`, one request per [`ID_CHUNK`] ids (absent products are left
    /// out). An empty `ids` asks nothing.
    pub async fn product_categories(&self, ids: &[u64]) -> Result<Vec<ProductCategories>> {
        self.by_ids(
            "/v3/catalog/products",
            "get_product_categories",
            ids,
            Some("categories"),
        )
        .await
    }

    /// `GET /v3/catalog/categories?id:in=...&include_fields=name,parent_id`: the
    /// categories `ids`, one request per [`ID_CHUNK`] ids (absent categories are left
    /// out). An empty `ids` asks nothing.
    pub async fn categories_by_id(&self, ids: &[u64]) -> Result<Vec<Category>> {
        self.by_ids(
            "/v3/catalog/categories",
            "get_categories_by_id",
            ids,
            Some("name,parent_id"),
        )
        .await
    }

    /// A v3 `id:in` lookup: one request per [`ID_CHUNK`] ids, each one page sized to hold
    /// its chunk.
    async fn by_ids<T: serde::de::DeserializeOwned>(
        &self,
        path: &'static str,
        operation: &'static str,
        ids: &[u64],
        fields: Option<&str>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(ID_CHUNK) {
            let mut request = Request::get(path)
                .operation(operation)
                .query("id:in", super::join_ids(chunk))
                .query("page", "1")
                .query("limit", chunk.len().to_string());
            if let Some(fields) = fields {
                request = request.query("include_fields", fields);
            }
            out.extend(self.collection::<T>(request).await?.data);
        }
        Ok(out)
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
