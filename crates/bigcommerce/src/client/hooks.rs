//! Webhook subscriptions (`/v3/hooks`): create, list, re-enable.

use std::collections::BTreeMap;

use cartograph_connector::Result;
use cartograph_http::Request;

use super::Client;
use crate::wire::{Hook, HookInput, Single};

impl Client {
    /// `GET /v3/hooks` (only the calling API account's hooks), every page.
    pub async fn list_hooks(&self) -> Result<Vec<Hook>> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let c = self
                .collection::<Hook>(
                    Request::get("/v3/hooks")
                        .operation("list_hooks")
                        .query("page", page.to_string())
                        .query("limit", "250"),
                )
                .await?;
            let more = c
                .meta
                .pagination
                .as_ref()
                .is_some_and(|p| p.current_page < p.total_pages);
            out.extend(c.data);
            if !more {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// `POST /v3/hooks`. `headers` are sent with every delivery (carry the shared secret).
    pub async fn create_hook(
        &self,
        scope: &str,
        destination: &str,
        headers: BTreeMap<String, String>,
    ) -> Result<Hook> {
        let body = HookInput {
            scope: Some(scope.to_owned()),
            destination: Some(destination.to_owned()),
            is_active: Some(true),
            headers: (!headers.is_empty()).then_some(headers),
        };
        let request = Request::post("/v3/hooks")
            .operation("create_hook")
            .serialize_json(&body)?;
        Ok(self.json::<Single<Hook>>(request).await?.data)
    }

    /// `PUT /v3/hooks/{id}` with `is_active: true`: re-enables a hook BigCommerce
    /// deactivated after about 48 h of failed deliveries.
    pub async fn reactivate_hook(&self, id: u64) -> Result<Hook> {
        let body = HookInput {
            is_active: Some(true),
            ..HookInput::default()
        };
        let request = Request::put(format!("/v3/hooks/{id}"))
            .operation("reactivate_hook")
            .serialize_json(&body)?;
        Ok(self.json::<Single<Hook>>(request).await?.data)
    }
}
