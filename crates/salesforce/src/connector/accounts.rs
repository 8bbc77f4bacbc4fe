//! Accounts (B2B): an order whose mapping writes `Account.*` fields (the default mapping:
//! `Account.Name` from the billing company) goes to the company's Account, upserted by the
//! External ID `company/<normalised name>`; the Account then carries the order totals,
//! order count, first and last order date, days between orders and top categories of its
//! won Opportunities, recomputed from the org after every write.

use std::collections::{BTreeMap, HashMap, HashSet};

use cartograph_connector::{Error, Result};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use time::Date;

use super::catalog::decimal;
use super::{QUERY_CHUNK, Salesforce, invalid, is_fatal, save_error};
use crate::client::soql_quote;
use crate::map;

/// Property prefix of the Account fields an order mapping writes (`Account.Name`).
pub(super) const ACCOUNT_PREFIX: &str = "Account.";

/// The Opportunity field with the store's order total (the default mapping writes it).
const TOTAL_FIELD: &str = "Ecom_Order_Total__c";

/// Categories kept in `Ecom_Top_Categories__c`.
const TOP_CATEGORIES: usize = 5;

/// The Account fields the connector computes.
pub const SUMMARY_FIELDS: &[&str] = &[
    "Ecom_Order_Count__c",
    "Ecom_Lifetime_Value__c",
    "Ecom_Currency__c",
    "Ecom_First_Order_Date__c",
    "Ecom_Last_Order_Date__c",
    "Ecom_Days_Between_Orders__c",
    "Ecom_Top_Categories__c",
];

/// The External ID of a company's Account: `company/` and the name, lower case, spaces
/// collapsed.
///
/// ```
/// assert_eq!(cartograph_salesforce::connector::account_key("  ACME  Corp "), "company/acme corp");
/// ```
pub fn account_key(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    format!("company/{}", words.join(" ").to_lowercase())
}

fn date_of(row: &Value, field: &str) -> Option<Date> {
    let text = map::text(row, field)?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.get(..10)?, &format).ok()
}

/// The summary of an Account from its Opportunities (`Ecom_Order_Total__c`, else `Amount`;
/// `CloseDate`, `IsWon`, the
/// currency field `currency`, the categories field `categories`): only won ones count.
/// The lifetime value is written only when every won order has one currency (money of
/// different currencies is never added); otherwise it and the currency are cleared.
pub fn account_summary(
    opportunities: &[Value],
    currency: Option<&str>,
    categories: Option<&str>,
) -> Map<String, Value> {
    let won: Vec<&Value> = opportunities
        .iter()
        .filter(|o| map::text(o, "IsWon").as_deref() == Some("true"))
        .collect();
    let mut out = Map::new();
    out.insert("Ecom_Order_Count__c".into(), json!(won.len()));
    let currencies: HashSet<String> = won
        .iter()
        .filter_map(|o| currency.and_then(|f| map::text(o, f)))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // The store total when the org has it (Amount is the line sum once there are lines).
    let total: Decimal = won
        .iter()
        .filter_map(|o| {
            o.get(TOTAL_FIELD)
                .and_then(decimal)
                .or_else(|| o.get("Amount").and_then(decimal))
        })
        .sum();
    if currencies.len() <= 1 {
        let mut total = total.round_dp(2);
        total.rescale(2);
        out.insert("Ecom_Lifetime_Value__c".into(), json!(total.to_string()));
        out.insert(
            "Ecom_Currency__c".into(),
            currencies
                .into_iter()
                .next()
                .map_or(Value::Null, Value::String),
        );
    } else {
        out.insert("Ecom_Lifetime_Value__c".into(), Value::Null);
        out.insert("Ecom_Currency__c".into(), Value::Null);
    }
    let mut dates: Vec<Date> = won.iter().filter_map(|o| date_of(o, "CloseDate")).collect();
    dates.sort();
    let first = dates.first().copied();
    let last = dates.last().copied();
    let date = |d: Option<Date>| d.map_or(Value::Null, |d| json!(d.to_string()));
    out.insert("Ecom_First_Order_Date__c".into(), date(first));
    out.insert("Ecom_Last_Order_Date__c".into(), date(last));
    let gaps = match (first, last) {
        (Some(f), Some(l)) if dates.len() > 1 => {
            let days = Decimal::from((l - f).whole_days());
            let n = Decimal::from(dates.len() - 1);
            json!((days / n).round_dp(1).normalize().to_string())
        }
        _ => Value::Null,
    };
    out.insert("Ecom_Days_Between_Orders__c".into(), gaps);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in &won {
        let Some(text) = categories.and_then(|f| map::text(o, f)) else {
            continue;
        };
        let mine: HashSet<&str> = text
            .split([';', ','])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        for c in mine {
            *counts.entry(c.to_owned()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    // Most orders first; ties by name (BTreeMap order is kept by the stable sort).
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    let top: Vec<String> = ranked
        .into_iter()
        .take(TOP_CATEGORIES)
        .map(|(c, _)| c)
        .collect();
    out.insert(
        "Ecom_Top_Categories__c".into(),
        if top.is_empty() {
            Value::Null
        } else {
            json!(top.join("; "))
        },
    );
    out
}

/// One Account to write: its External ID, body and the orders naming it.
struct Wanted {
    ext: String,
    body: Map<String, Value>,
    orders: Vec<usize>,
}

impl Salesforce {
    /// Upserts the Accounts of `orders` (index, `Account.*` fields without the prefix).
    /// An Account created before Cartograph (same name, no External ID, the only one) is
    /// adopted. Per order index: the Account id or why it could not be written.
    pub(super) async fn upsert_accounts(
        &self,
        orders: Vec<(usize, String, Map<String, Value>)>,
    ) -> Result<HashMap<usize, std::result::Result<String, Error>>> {
        let mut out = HashMap::new();
        if orders.is_empty() {
            return Ok(out);
        }
        let ext_field = self.config.external_id_field.clone();
        let fields = self.fields_of("Account", false).await?;
        let mut wanted: Vec<Wanted> = Vec::new();
        for (i, key, body) in orders {
            let name = body
                .get("Name")
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or_default()
                .to_owned();
            if name.is_empty() {
                out.insert(
                    i,
                    Err(invalid(
                        &key,
                        "Account.Name",
                        "a company order needs a name",
                    )),
                );
                continue;
            }
            if let Err(e) = Self::check_fields(&key, "Account", &body, &fields) {
                out.insert(i, Err(e));
                continue;
            }
            let ext = account_key(&name);
            match wanted.iter_mut().find(|w| w.ext == ext) {
                // Later orders of the batch win (their address is the newer one).
                Some(w) => {
                    w.body = body;
                    w.orders.push(i);
                }
                None => wanted.push(Wanted {
                    ext,
                    body,
                    orders: vec![i],
                }),
            }
        }
        let mut rows = Vec::new();
        for chunk in wanted.chunks(QUERY_CHUNK / 2) {
            let exts: Vec<String> = chunk.iter().map(|w| soql_quote(&w.ext)).collect();
            let names: Vec<String> = chunk
                .iter()
                .filter_map(|w| w.body.get("Name").and_then(Value::as_str))
                .map(|n| soql_quote(n.trim()))
                .collect();
            let soql = format!(
                "SELECT Id, Name, {ext_field} FROM Account WHERE {ext_field} IN ({}) OR Name IN ({})",
                exts.join(", "),
                names.join(", ")
            );
            rows.extend(self.client.query(&soql, "record_orders").await?);
        }
        let mut adopt = Vec::new();
        let mut upsert = Vec::new();
        for w in wanted {
            let keyed = rows
                .iter()
                .any(|r| map::text(r, &ext_field).is_some_and(|e| e.eq_ignore_ascii_case(&w.ext)));
            let orphans: Vec<String> = rows
                .iter()
                .filter(|r| {
                    map::text(r, &ext_field).is_none_or(|e| e.trim().is_empty())
                        && map::text(r, "Name").is_some_and(|n| account_key(&n) == w.ext)
                })
                .filter_map(|r| map::text(r, "Id"))
                .collect();
            match orphans.as_slice() {
                [id] if !keyed => adopt.push((id.clone(), w)),
                _ => upsert.push(w),
            }
        }
        let adopted: Vec<(Option<String>, &Wanted)> =
            adopt.iter().map(|(id, w)| (Some(id.clone()), w)).collect();
        let upserted: Vec<(Option<String>, &Wanted)> = upsert.iter().map(|w| (None, w)).collect();
        let bodies = |items: &[(Option<String>, &Wanted)]| -> Vec<Value> {
            items
                .iter()
                .map(|(id, w)| {
                    let mut body = w.body.clone();
                    body.insert(ext_field.clone(), json!(w.ext));
                    if let Some(id) = id {
                        body.insert("Id".into(), json!(id));
                    }
                    Value::Object(body)
                })
                .collect()
        };
        let adopted_results = self
            .client
            .update("Account", bodies(&adopted), "record_orders")
            .await;
        let upserted_results = self
            .client
            .upsert("Account", &ext_field, bodies(&upserted), "record_orders")
            .await;
        for (items, results) in [(&adopted, adopted_results), (&upserted, upserted_results)] {
            match results {
                Ok(results) => {
                    for ((known, w), r) in items.iter().zip(&results) {
                        let id = r.id.clone().or_else(|| known.clone());
                        for &i in &w.orders {
                            out.insert(
                                i,
                                match (&id, r.success) {
                                    (Some(id), true) => Ok(id.clone()),
                                    _ => Err(save_error(r)),
                                },
                            );
                        }
                    }
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    for (_, w) in items {
                        for &i in &w.orders {
                            out.insert(i, Err(e.clone()));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// Recomputes the summary of `accounts` from their store orders (Opportunities with the
    /// order External ID) and writes it; per Account, the error of a refused write.
    pub(super) async fn refresh_accounts(
        &self,
        accounts: &[String],
    ) -> Result<HashMap<String, Error>> {
        let mut out = HashMap::new();
        if accounts.is_empty() {
            return Ok(out);
        }
        let opp_fields = self.fields_of("Opportunity", false).await?;
        let order_ext = self.config.order_external_id_field.as_str();
        let account_fields = self.fields_of("Account", false).await?;
        let currency = ["CurrencyIsoCode", "Ecom_Currency__c"]
            .into_iter()
            .find(|f| opp_fields.contains(&f.to_ascii_lowercase()));
        let categories =
            Some("Ecom_Categories__c").filter(|f| opp_fields.contains(&f.to_ascii_lowercase()));
        let total = Some(TOTAL_FIELD).filter(|f| opp_fields.contains(&f.to_ascii_lowercase()));
        let mut extra = String::new();
        for f in currency.iter().chain(categories.iter()).chain(total.iter()) {
            extra.push_str(", ");
            extra.push_str(f);
        }
        let mut unique: Vec<&String> = accounts.iter().collect();
        unique.sort();
        unique.dedup();
        let mut by_account: HashMap<String, Vec<Value>> = HashMap::new();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT Id, AccountId, Amount, CloseDate, IsWon, {order_ext}{extra} \
                 FROM Opportunity WHERE AccountId IN ({})",
                list.join(", ")
            );
            for row in self.client.query(&soql, "record_orders").await? {
                // Store orders only: a deal a rep opened on the Account is no order.
                let is_order = map::text(&row, order_ext).is_some_and(|k| !k.trim().is_empty());
                if let Some(account) = map::text(&row, "AccountId").filter(|_| is_order) {
                    by_account.entry(account).or_default().push(row);
                }
            }
        }
        let bodies: Vec<Value> = unique
            .iter()
            .map(|id| {
                let rows = by_account.remove(*id).unwrap_or_default();
                let mut body = account_summary(&rows, currency, categories);
                // Fields the org lacks are skipped (ensure_properties creates them).
                body.retain(|k, _| account_fields.contains(&k.to_ascii_lowercase()));
                body.insert("Id".into(), json!(id));
                Value::Object(body)
            })
            .collect();
        match self.client.update("Account", bodies, "record_orders").await {
            Ok(results) => {
                for (id, r) in unique.iter().zip(&results) {
                    if !r.success {
                        out.insert((*id).clone(), save_error(r));
                    }
                }
            }
            Err(e) if is_fatal(&e) => return Err(e),
            Err(e) => {
                for id in unique {
                    out.insert(id.clone(), e.clone());
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opp(amount: &str, date: &str, won: bool, currency: &str, categories: &str) -> Value {
        json!({"Amount": amount, "CloseDate": date, "IsWon": won,
               "Ecom_Currency__c": currency, "Ecom_Categories__c": categories})
    }

    #[test]
    fn the_summary_counts_won_orders_exactly() {
        let rows = [
            opp("100.10", "2024-01-01", true, "USD", "Shoes; Socks"),
            opp("0.20", "2024-01-11", true, "usd", "Shoes"),
            opp("999.99", "2024-01-05", false, "USD", "Hats"),
            opp("50", "2024-01-31", true, "USD", "Bags; Shoes"),
        ];
        let s = account_summary(&rows, Some("Ecom_Currency__c"), Some("Ecom_Categories__c"));
        assert_eq!(s["Ecom_Order_Count__c"], json!(3));
        assert_eq!(s["Ecom_Lifetime_Value__c"], json!("150.30"));
        assert_eq!(s["Ecom_Currency__c"], json!("USD"));
        assert_eq!(s["Ecom_First_Order_Date__c"], json!("2024-01-01"));
        assert_eq!(s["Ecom_Last_Order_Date__c"], json!("2024-01-31"));
        assert_eq!(s["Ecom_Days_Between_Orders__c"], json!("15"));
        assert_eq!(s["Ecom_Top_Categories__c"], json!("Shoes; Bags; Socks"));
    }

    #[test]
    fn the_store_total_wins_over_the_line_sum() {
        let mut o = opp("50.00", "2024-01-01", true, "USD", "");
        o["Ecom_Order_Total__c"] = json!("57.90");
        let s = account_summary(&[o], Some("Ecom_Currency__c"), None);
        assert_eq!(s["Ecom_Lifetime_Value__c"], json!("57.90"));
    }

    #[test]
    fn mixed_currencies_are_never_added() {
        let rows = [
            opp("10", "2024-01-01", true, "USD", ""),
            opp("10", "2024-01-02", true, "EUR", ""),
        ];
        let s = account_summary(&rows, Some("Ecom_Currency__c"), None);
        assert_eq!(s["Ecom_Order_Count__c"], json!(2));
        assert_eq!(s["Ecom_Lifetime_Value__c"], Value::Null);
        assert_eq!(s["Ecom_Currency__c"], Value::Null);
        assert_eq!(s["Ecom_Top_Categories__c"], Value::Null);
    }
}
