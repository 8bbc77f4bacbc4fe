//! Reading ecommerce orders back for revenue reconciliation: the connection's orders by
//! `limit` (at most 100) and `offset`, or by `filters[externalid]` for samples. Abandoned
//! carts (no `externalid`) are left out; amounts are integer cents.

use cartograph_connector::{CrmOrder, Cursor, Error, ErrorKind, ListRequest, Page, Result};
use cartograph_model::{Currency, Money, Timestamp};
use serde_json::Value;

use super::ActiveCampaign;
use crate::error::CONNECTOR;
use crate::wire::EcomOrder;

/// ActiveCampaign's largest page.
const PAGE_MAX: u32 = 100;

/// The order as reconciliation sees it; `None` for carts (no `externalid`).
fn crm_order(order: &EcomOrder) -> Option<CrmOrder> {
    let key = order.externalid.as_deref().filter(|k| !k.is_empty())?;
    let mut out = CrmOrder::new(order.id.clone(), key);
    let currency = order
        .currency
        .as_deref()
        .and_then(|c| Currency::new(&c.to_uppercase()).ok());
    let cents = match &order.total_price {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    out.amount = cents
        .zip(currency)
        .map(|(c, cur)| Money::from_minor(c, cur));
    out.day = order
        .external_created_date
        .as_deref()
        .and_then(|d| Timestamp::parse_rfc3339(d.trim()).ok())
        .map(|t| t.date());
    Some(out)
}

impl ActiveCampaign {
    /// One page of the connection's orders.
    pub(super) async fn read_order_page(&self, request: &ListRequest) -> Result<Page<CrmOrder>> {
        let offset: u64 = match &request.cursor {
            None => 0,
            Some(c) => c.as_str().parse().map_err(|_| {
                Error::new(ErrorKind::Invalid, "not an ActiveCampaign order cursor")
                    .with_connector(CONNECTOR)
                    .with_operation("read_orders")
                    .with_field("cursor")
            })?,
        };
        let limit = request.limit.unwrap_or(PAGE_MAX).clamp(1, PAGE_MAX);
        let connection = self.connection_id().await?;
        let (rows, total) = self
            .client
            .list_ecom_orders(&connection, limit, offset)
            .await?;
        let seen = offset + rows.len() as u64;
        let more = !rows.is_empty() && total.is_none_or(|t| seen < t);
        Ok(Page {
            items: rows.iter().filter_map(crm_order).collect(),
            next: more.then(|| Cursor::new(seen.to_string())),
        })
    }

    /// Orders by order key: the default mapping writes the store's own order id (the key's
    /// last segment) into `externalid`; a mapping that writes the whole key is found too.
    pub(super) async fn find_orders_by_key(&self, keys: &[String]) -> Result<Vec<CrmOrder>> {
        let connection = self.connection_id().await?;
        let mut out = Vec::new();
        for key in keys {
            let bare = key.rsplit_once('/').map_or(key.as_str(), |(_, id)| id);
            let mut found = self
                .client
                .find_ecom_order(&connection, "externalid", bare)
                .await?;
            if found.is_none() && bare != key {
                found = self
                    .client
                    .find_ecom_order(&connection, "externalid", key)
                    .await?;
            }
            out.extend(found.as_ref().and_then(crm_order));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(json: &str) -> EcomOrder {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cents_and_the_store_date_are_read_and_carts_are_left_out() {
        let o = crm_order(&order(
            r#"{"id":"7","externalid":"1001","totalPrice":12550,"currency":"eur","externalCreatedDate":"2026-03-01T23:59:59Z"}"#,
        ))
        .unwrap();
        assert_eq!(o.key, "1001");
        assert_eq!(o.amount, Some(Money::from_minor(12550, Currency::EUR)));
        assert_eq!(o.day, Some(time::macros::date!(2026 - 03 - 01)));
        let s = crm_order(&order(
            r#"{"id":"8","externalid":1002,"totalPrice":"99","currency":"USD","externalCreatedDate":"junk"}"#,
        ))
        .unwrap();
        assert_eq!(s.amount, Some(Money::from_minor(99, Currency::USD)));
        assert_eq!(s.day, None);
        assert!(
            crm_order(&order(
                r#"{"id":"9","externalcheckoutid":"c1","totalPrice":5}"#
            ))
            .is_none()
        );
    }
}
