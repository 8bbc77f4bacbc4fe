//! Products: `Product2` upserted by the product External ID, and their `PricebookEntry` in
//! the org's standard price book (one per product, and per currency where the org has
//! multi-currency), created and kept at the mapped price; and the products and entries
//! order lines need, created from the lines where the catalog sync has not written them.

use std::collections::{HashMap, HashSet};
use std::str::FromStr as _;

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::ProductRecord;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::lines::{Entries, LineWrite, OrderWrite};
use super::{
    Pending, QUERY_CHUNK, Salesforce, collect, is_fatal, outcome, save_error, start_batch,
};
use crate::client::soql_quote;
use crate::composite::MAX_COLLECTION_RECORDS;
use crate::error::CONNECTOR;
use crate::map;

/// Property prefix of the fields a product (or line item) mapping writes to the
/// `PricebookEntry` (`PricebookEntry.UnitPrice`, `PricebookEntry.CurrencyIsoCode`).
pub(super) const ENTRY_PREFIX: &str = "PricebookEntry.";

/// A standard price book entry.
#[derive(Debug, Clone)]
pub(super) struct PriceEntry {
    pub(super) id: String,
    unit_price: Option<Decimal>,
    active: bool,
}

/// Splits the `prefix`ed fields off `body` (prefix removed).
pub(super) fn split_prefixed(body: &mut Map<String, Value>, prefix: &str) -> Map<String, Value> {
    let keys: Vec<String> = body
        .keys()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect();
    keys.into_iter()
        .filter_map(|k| {
            let v = body.remove(&k)?;
            Some((k[prefix.len()..].to_owned(), v))
        })
        .collect()
}

/// An exact decimal of a JSON number or decimal string.
pub(super) fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// The entry key: product id and (multi-currency orgs) currency, upper case.
pub(super) fn entry_key(product: &str, currency: Option<&str>) -> (String, Option<String>) {
    (
        product.to_owned(),
        currency.map(|c| c.trim().to_ascii_uppercase()),
    )
}

impl Salesforce {
    /// The id of the org's standard price book, read once.
    ///
    /// # Errors
    /// `Config` when the org has no active standard price book (Setup must activate it).
    pub(super) async fn standard_pricebook(&self, operation: &'static str) -> Result<String> {
        if let Some(id) = self.pricebook.lock().await.clone() {
            return Ok(id);
        }
        let rows = self
            .client
            .query("SELECT Id, IsStandard, IsActive FROM Pricebook2", operation)
            .await?;
        let standard = rows
            .iter()
            .find(|r| map::text(r, "IsStandard").as_deref() == Some("true"));
        let Some(row) = standard else {
            return Err(
                Error::new(ErrorKind::Config, "the org has no standard price book")
                    .with_connector(CONNECTOR)
                    .with_operation(operation),
            );
        };
        if map::text(row, "IsActive").as_deref() != Some("true") {
            return Err(Error::new(
                ErrorKind::Config,
                "the standard price book is inactive: activate it in Setup (Price Books) so \
                 products can be priced",
            )
            .with_connector(CONNECTOR)
            .with_operation(operation));
        }
        let id = map::text(row, "Id").unwrap_or_default();
        *self.pricebook.lock().await = Some(id.clone());
        Ok(id)
    }

    /// Whether price book entries carry a currency (multi-currency orgs).
    pub(super) async fn multi_currency(&self) -> Result<bool> {
        Ok(self
            .fields_of("PricebookEntry", false)
            .await?
            .contains("currencyisocode"))
    }

    /// Product ids by (lower-case) External ID.
    pub(super) async fn product_ids(
        &self,
        exts: &[String],
        operation: &'static str,
    ) -> Result<HashMap<String, String>> {
        let field = &self.config.product_external_id_field;
        let mut unique: Vec<String> = exts.iter().map(|e| e.to_lowercase()).collect();
        unique.sort();
        unique.dedup();
        let mut out = HashMap::new();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT Id, {field} FROM Product2 WHERE {field} IN ({})",
                list.join(", ")
            );
            for row in self.client.query(&soql, operation).await? {
                if let (Some(id), Some(ext)) = (map::text(&row, "Id"), map::text(&row, field)) {
                    out.insert(ext.to_lowercase(), id);
                }
            }
        }
        Ok(out)
    }

    /// The standard price book entries of `products`.
    pub(super) async fn entries(
        &self,
        products: &[String],
        pricebook: &str,
        multi: bool,
        operation: &'static str,
    ) -> Result<HashMap<(String, Option<String>), PriceEntry>> {
        let mut unique: Vec<&String> = products.iter().collect();
        unique.sort();
        unique.dedup();
        let currency = if multi { ", CurrencyIsoCode" } else { "" };
        let mut out = HashMap::new();
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT Id, Product2Id, Pricebook2Id, UnitPrice, IsActive{currency} \
                 FROM PricebookEntry WHERE Product2Id IN ({})",
                list.join(", ")
            );
            for row in self.client.query(&soql, operation).await? {
                if map::text(&row, "Pricebook2Id").as_deref() != Some(pricebook) {
                    continue;
                }
                let (Some(id), Some(product)) =
                    (map::text(&row, "Id"), map::text(&row, "Product2Id"))
                else {
                    continue;
                };
                let cur = multi.then(|| map::text(&row, "CurrencyIsoCode")).flatten();
                let entry = PriceEntry {
                    id,
                    unit_price: row.get("UnitPrice").and_then(decimal),
                    active: map::text(&row, "IsActive").as_deref() != Some("false"),
                };
                out.insert(entry_key(&product, cur.as_deref()), entry);
            }
        }
        Ok(out)
    }

    /// Creates or updates the standard price book entries `wanted` (product id, entry
    /// fields with `UnitPrice`, optional `CurrencyIsoCode`, `IsActive`); one result per
    /// input: the entry id or the error naming `records[i]`.
    pub(super) async fn write_entries(
        &self,
        wanted: &[(String, Map<String, Value>)],
        records: &[String],
        operation: &'static str,
    ) -> Result<Vec<std::result::Result<String, Error>>> {
        let mut out: Vec<Option<std::result::Result<String, Error>>> =
            wanted.iter().map(|_| None).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let pricebook = self.standard_pricebook(operation).await?;
        let multi = self.multi_currency().await?;
        let products: Vec<String> = wanted.iter().map(|(p, _)| p.clone()).collect();
        let existing = self
            .entries(&products, &pricebook, multi, operation)
            .await?;
        let mut creates: Vec<(usize, Value)> = Vec::new();
        let mut updates: Vec<(usize, Value)> = Vec::new();
        let mut planned: HashMap<(String, Option<String>), usize> = HashMap::new();
        for (i, (product, fields)) in wanted.iter().enumerate() {
            let currency = multi
                .then(|| fields.get("CurrencyIsoCode").and_then(|v| v.as_str()))
                .flatten();
            let key = entry_key(product, currency);
            let price = fields.get("UnitPrice").and_then(decimal);
            let active = fields
                .get("IsActive")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if let Some(&first) = planned.get(&key) {
                // The same entry twice in one batch: the first input's price wins.
                out[i] = Some(Err(Error::new(
                    ErrorKind::Invalid,
                    format!("price book entry already written by {}", records[first]),
                )
                .with_connector(CONNECTOR)
                .with_record(records[i].clone())));
                continue;
            }
            planned.insert(key.clone(), i);
            match existing.get(&key) {
                Some(e) if e.unit_price == price && e.active == active => {
                    out[i] = Some(Ok(e.id.clone()));
                }
                Some(e) => {
                    let mut body = json!({ "Id": e.id, "IsActive": active });
                    if let Some(p) = price {
                        body["UnitPrice"] = json!(p.normalize().to_string());
                    }
                    updates.push((i, body));
                }
                None => {
                    let Some(p) = price else {
                        out[i] = Some(Err(Error::invalid_field(
                            records[i].clone(),
                            "PricebookEntry.UnitPrice",
                            "a product needs a price for its standard price book entry",
                        )
                        .with_connector(CONNECTOR)));
                        continue;
                    };
                    let mut body = json!({
                        "Pricebook2Id": pricebook,
                        "Product2Id": product,
                        "UnitPrice": p.normalize().to_string(),
                        "IsActive": active,
                    });
                    if let Some(c) = &key.1 {
                        body["CurrencyIsoCode"] = json!(c);
                    }
                    creates.push((i, body));
                }
            }
        }
        for (batch, create) in [(creates, true), (updates, false)] {
            for chunk in batch.chunks(crate::config::MAX_BATCH) {
                let bodies: Vec<Value> = chunk.iter().map(|(_, b)| b.clone()).collect();
                let results = if create {
                    self.client
                        .create_many("PricebookEntry", bodies, operation)
                        .await
                } else {
                    self.client
                        .update("PricebookEntry", bodies, operation)
                        .await
                };
                match results {
                    Ok(results) => {
                        for ((i, body), r) in chunk.iter().zip(&results) {
                            out[*i] = Some(match (&r.id, r.success) {
                                (Some(id), true) => Ok(id.clone()),
                                _ if r.success => Ok(map::text(body, "Id").unwrap_or_default()),
                                _ => Err(save_error(r).with_record(records[*i].clone())),
                            });
                        }
                    }
                    Err(e) if is_fatal(&e) => return Err(e),
                    Err(e) => {
                        for (i, _) in chunk {
                            out[*i] = Some(Err(e.clone().with_record(records[*i].clone())));
                        }
                    }
                }
            }
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.unwrap_or_else(|| {
                    Err(
                        Error::new(ErrorKind::Invalid, "price book entry not written")
                            .with_record(records[i].clone()),
                    )
                })
            })
            .collect())
    }

    /// The standard price book entry of every line's product, creating missing products
    /// and entries: by (lower-case product External ID, currency).
    pub(super) async fn line_entries(&self, orders: &[OrderWrite]) -> Result<Entries> {
        const OP: &str = "record_orders";
        let multi = self.multi_currency().await?;
        let ext_field = self.config.product_external_id_field.clone();
        let mut needs: Vec<(String, Option<String>, &LineWrite)> = Vec::new();
        let mut seen = HashSet::new();
        for line in orders.iter().flat_map(|o| &o.lines) {
            let currency = multi.then(|| line.currency.clone()).flatten();
            let key = entry_key(&line.product.to_lowercase(), currency.as_deref());
            if seen.insert(key.clone()) {
                needs.push((key.0, key.1, line));
            }
        }
        let exts: Vec<String> = needs.iter().map(|(p, _, _)| p.clone()).collect();
        let mut ids = self.product_ids(&exts, OP).await?;
        let mut failed: HashMap<String, Error> = HashMap::new();
        let fields = self.fields_of("Product2", false).await?;
        let mut missing: Vec<(String, Value)> = Vec::new();
        let mut queued = HashSet::new();
        for (product, _, line) in &needs {
            if ids.contains_key(product) || !queued.insert(product.clone()) {
                continue;
            }
            let mut body = line.product_body.clone();
            // Products are created inactive unless told; a line needs an active one.
            body.entry("IsActive").or_insert(json!(true));
            body.retain(|k, _| fields.contains(&k.to_ascii_lowercase()));
            body.insert(ext_field.clone(), json!(line.product));
            missing.push((product.clone(), Value::Object(body)));
        }
        for chunk in missing.chunks(MAX_COLLECTION_RECORDS) {
            let bodies = chunk.iter().map(|(_, b)| b.clone()).collect();
            match self.client.upsert("Product2", &ext_field, bodies, OP).await {
                Ok(results) => {
                    for ((product, _), r) in chunk.iter().zip(&results) {
                        match (&r.id, r.success) {
                            (Some(id), true) => {
                                ids.insert(product.clone(), id.clone());
                            }
                            _ => {
                                let o = outcome(product, r);
                                if let cartograph_connector::WriteStatus::Failed(e) = o.status {
                                    failed.insert(product.clone(), e);
                                }
                            }
                        }
                    }
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => {
                    for (product, _) in chunk {
                        failed.insert(product.clone(), e.clone());
                    }
                }
            }
        }
        let pricebook = self.standard_pricebook(OP).await?;
        let product_ids: Vec<String> = ids.values().cloned().collect();
        let existing = self.entries(&product_ids, &pricebook, multi, OP).await?;
        let mut out = HashMap::new();
        let mut wanted = Vec::new();
        let mut wanted_keys = Vec::new();
        for (product, currency, line) in needs {
            let key = (product.clone(), currency.clone());
            let Some(id) = ids.get(&product) else {
                let e = failed.get(&product).cloned().unwrap_or_else(|| {
                    Error::new(ErrorKind::Invalid, format!("product {product} not written"))
                });
                out.insert(key, Err(e));
                continue;
            };
            if let Some(entry) = existing.get(&entry_key(id, currency.as_deref())) {
                out.insert(key, Ok(entry.id.clone()));
                continue;
            }
            let mut fields = Map::new();
            fields.insert(
                "UnitPrice".into(),
                line.body.get("UnitPrice").cloned().unwrap_or(json!(0)),
            );
            fields.insert("IsActive".into(), json!(true));
            if let Some(c) = &currency {
                fields.insert("CurrencyIsoCode".into(), json!(c));
            }
            wanted.push((id.clone(), fields));
            wanted_keys.push(key);
        }
        let records: Vec<String> = wanted_keys.iter().map(|(p, _)| p.clone()).collect();
        let results = self.write_entries(&wanted, &records, OP).await?;
        out.extend(wanted_keys.into_iter().zip(results));
        Ok(out)
    }

    pub(super) async fn upsert_products_impl(
        &self,
        products: &[ProductRecord],
    ) -> Result<Vec<RecordOutcome>> {
        if !start_batch(products.len(), "upsert_products")? {
            return Ok(Vec::new());
        }
        let ext_field = self.config.product_external_id_field.clone();
        let fields = self.fields_of("Product2", false).await?;
        let entry_fields = self.fields_of("PricebookEntry", false).await?;
        let mut out: Vec<Option<RecordOutcome>> = products.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        let mut entries: Vec<Option<Map<String, Value>>> = products.iter().map(|_| None).collect();
        for (i, product) in products.iter().enumerate() {
            let key = product.key.as_str();
            let mut body = map::record(&product.properties);
            let mut entry = split_prefixed(&mut body, ENTRY_PREFIX);
            // Single-currency orgs have no CurrencyIsoCode: the entry is in the org currency.
            entry.retain(|k, _| entry_fields.contains(&k.to_ascii_lowercase()));
            // The entry stays active even for a hidden product (`Product2.IsActive` false):
            // orders of products no longer on sale must still get their lines.
            let ext = body
                .remove(&ext_field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| key.to_owned());
            match Self::check_fields(key, "Product2", &body, &fields) {
                Ok(()) => {
                    if entry.contains_key("UnitPrice") {
                        entries[i] = Some(entry);
                    }
                    pending.push((
                        i,
                        Pending {
                            key: key.to_owned(),
                            ext,
                            body,
                        },
                    ));
                }
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        self.upsert_rounds("Product2", &ext_field, pending, &mut out, "upsert_products")
            .await?;
        // The price of every written product, in the standard price book.
        let mut wanted = Vec::new();
        let mut owners = Vec::new();
        let mut records = Vec::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let written = out[i].as_ref().filter(|o| o.is_written());
            if let (Some(entry), Some(id)) = (entry, written.and_then(|o| o.id.clone())) {
                wanted.push((id, entry));
                owners.push(i);
                records.push(products[i].key.clone());
            }
        }
        match self
            .write_entries(&wanted, &records, "upsert_products")
            .await
        {
            Ok(results) => {
                for (i, r) in owners.into_iter().zip(results) {
                    if let Err(e) = r {
                        out[i] = out[i].take().map(|o| o.into_partial(e));
                    }
                }
            }
            Err(e) => {
                for i in owners {
                    let e = e.clone().with_record(products[i].key.clone());
                    out[i] = out[i].take().map(|o| o.into_partial(e));
                }
            }
        }
        Ok(collect(products.iter().map(|p| p.key.as_str()), out))
    }
}
