//! Reading opportunities back for revenue reconciliation: SOQL over the order External ID
//! field and the profile's revenue fields, paged by `nextRecordsUrl` (up to 2,000 rows a
//! page, Salesforce's choice), or filtered `IN (...)` by order key for samples.

use cartograph_connector::{CrmOrder, Cursor, ListRequest, Page, Result};
use cartograph_model::{Currency, Money};
use serde_json::Value;

use super::{QUERY_CHUNK, Salesforce};
use crate::client::soql_quote;

const SOBJECT: &str = "Opportunity";

impl Salesforce {
    fn revenue_soql(&self, filter: Option<&[String]>) -> String {
        let f = &self.profile_fields();
        let ext = &self.config.order_external_id_field;
        let select = format!(
            "SELECT Id, {ext}, {}, {}, {} FROM {SOBJECT}",
            f.amount, f.date, f.currency
        );
        match filter {
            None => select,
            Some(keys) => {
                let list: Vec<String> = keys.iter().map(|k| soql_quote(k)).collect();
                format!("{select} WHERE {ext} IN ({})", list.join(", "))
            }
        }
    }

    fn profile_fields(&self) -> cartograph_connector::RevenueFields {
        crate::profile::profile_for(self.config.person_object).revenue_fields
    }

    /// One page of opportunities carrying the order key.
    pub(super) async fn read_order_page(&self, request: &ListRequest) -> Result<Page<CrmOrder>> {
        let soql = self.revenue_soql(None);
        let page = self
            .client
            .query_page(
                &soql,
                request.cursor.as_ref().map(Cursor::as_str),
                "read_orders",
            )
            .await?;
        let next = if page.done {
            None
        } else {
            page.next_records_url
                .as_deref()
                .map(|url| Cursor::new(url.split_once("/query/").map_or(url, |(_, rest)| rest)))
        };
        Ok(Page {
            items: page
                .records
                .iter()
                .filter_map(|r| self.crm_order(r))
                .collect(),
            next,
        })
    }

    /// Opportunities by order key.
    pub(super) async fn find_orders_by_key(&self, keys: &[String]) -> Result<Vec<CrmOrder>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(QUERY_CHUNK) {
            let rows = self
                .client
                .query(&self.revenue_soql(Some(chunk)), "find_orders")
                .await?;
            out.extend(rows.iter().filter_map(|r| self.crm_order(r)));
        }
        Ok(out)
    }

    /// `None` for opportunities without the order key (not written by the integration).
    fn crm_order(&self, row: &Value) -> Option<CrmOrder> {
        let f = self.profile_fields();
        let text = |name: &str| -> Option<String> {
            match row.get(name)? {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let key = text(&self.config.order_external_id_field)?;
        let id = text("Id").unwrap_or_default();
        let mut order = CrmOrder::new(id, key);
        let currency = text(&f.currency).and_then(|c| Currency::new(&c).ok());
        order.amount = text(&f.amount)
            .zip(currency)
            .and_then(|(a, c)| Money::parse(&a, c).ok())
            .map(|m| m.round_to_minor());
        order.day = text(&f.date).and_then(|d| {
            let day = d.get(..10).unwrap_or(&d);
            time::Date::parse(
                day,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        });
        Some(order)
    }
}
