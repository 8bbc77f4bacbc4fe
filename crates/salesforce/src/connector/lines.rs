//! Opportunities with line items: one Composite call per order (`allOrNone`), the
//! Opportunity upserted by its External ID first and its `OpportunityLineItem`s chained to
//! it by `@{opp[0].id}`. Lines are keyed `{order key}#{line key}` in the External ID field,
//! so a re-run updates them, deletes the ones the order no longer has (lines a rep added,
//! without the key, stay) and creates none twice. Each line needs a `PricebookEntry` of its
//! product in the standard price book: products and entries missing from the org are
//! created from the line (name, SKU, price) before the Composite call.

use std::collections::{HashMap, HashSet};

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use serde_json::{Map, Value, json};

use super::catalog::{ENTRY_PREFIX, entry_key, split_prefixed};
use super::{Pending, QUERY_CHUNK, Salesforce, is_fatal, outcome, wrote_any};
use crate::client::soql_quote;
use crate::composite::{
    MAX_COLLECTION_RECORDS, MAX_COLLECTION_SUBREQUESTS, SubResponse, Subrequest, culprit,
};
use crate::error::CONNECTOR;
use crate::map;

/// Property prefix of the `Product2` fields a line item mapping writes (used when the
/// line's product is not in the org yet).
pub(super) const PRODUCT_PREFIX: &str = "Product2.";

/// The product a line without a product id or SKU is booked on.
pub const CUSTOM_ITEM_KEY: &str = "cartograph/custom-item";

/// One line of an order.
pub(super) struct LineWrite {
    /// The line's key in the External ID field: `{order key}#{line key}`.
    pub(super) ext: String,
    /// The product's External ID.
    pub(super) product: String,
    /// The entry currency (multi-currency orgs).
    pub(super) currency: Option<String>,
    /// `Product2` fields for a product that must be created.
    pub(super) product_body: Map<String, Value>,
    /// `OpportunityLineItem` fields.
    pub(super) body: Map<String, Value>,
}

/// Entry id (or why there is none) by (lower-case product External ID, currency).
pub(super) type Entries = HashMap<(String, Option<String>), std::result::Result<String, Error>>;

/// What [`Salesforce::prepare`] read.
struct Prepared {
    multi: bool,
    fields: HashSet<String>,
    entries: Entries,
    pricebook: String,
    /// Opportunity id by lower-case order External ID.
    opportunity_of: HashMap<String, String>,
    /// Lines by Opportunity id.
    existing: HashMap<String, Vec<Value>>,
}

/// An Opportunity with its lines.
pub(super) struct OrderWrite {
    pub(super) index: usize,
    pub(super) pending: Pending,
    pub(super) lines: Vec<LineWrite>,
}

/// The External ID of a line's product: the line's product key, which is the key the
/// product sync writes (`{system}/product/{id}`), else the SKU (`{system}/sku/{sku}`, the
/// system taken from the order key), else [`CUSTOM_ITEM_KEY`].
pub fn line_product_key(order_key: &str, product_key: Option<&str>, sku: Option<&str>) -> String {
    let system = order_key.split('/').next().unwrap_or(order_key);
    match (
        product_key.map(str::trim).filter(|k| !k.is_empty()),
        sku.map(str::trim).filter(|s| !s.is_empty()),
    ) {
        (Some(k), _) => k.to_owned(),
        (None, Some(s)) => format!("{system}/sku/{s}"),
        (None, None) => CUSTOM_ITEM_KEY.to_owned(),
    }
}

/// Splits a mapped line body into line fields, product fields and the entry currency.
pub(super) fn split_line(
    mut body: Map<String, Value>,
) -> (Map<String, Value>, Map<String, Value>, Option<String>) {
    let mut product = split_prefixed(&mut body, PRODUCT_PREFIX);
    let entry = split_prefixed(&mut body, ENTRY_PREFIX);
    let currency = entry
        .get("CurrencyIsoCode")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if !product.contains_key("Name") {
        let name = body
            .get("Description")
            .and_then(Value::as_str)
            .unwrap_or("Custom item");
        product.insert("Name".into(), json!(name));
    }
    (body, product, currency)
}

/// Packs `ops` into Composite calls of at most [`MAX_COLLECTION_SUBREQUESTS`] collections,
/// in order.
fn pack(ops: Vec<Subrequest>) -> Vec<Vec<Subrequest>> {
    let mut calls: Vec<Vec<Subrequest>> = Vec::new();
    for op in ops {
        match calls.last_mut() {
            Some(call) if call.len() < MAX_COLLECTION_SUBREQUESTS => call.push(op),
            _ => calls.push(vec![op]),
        }
    }
    calls
}

/// `op` with `@{opp[0].id}` replaced by the Opportunity's id (for calls after the first).
fn resolve(mut op: Subrequest, opportunity: &str) -> Subrequest {
    if let Some(body) = &op.body {
        let text = body.to_string().replace("@{opp[0].id}", opportunity);
        op.body = serde_json::from_str(&text).ok();
    }
    op
}

/// `e` as the error of line `line` of `order`: field `line_items[{line}]`, or
/// `line_items[{line}].{field}` when Salesforce named the field.
fn line_error(order: &str, line: &str, e: &Error) -> Error {
    let field = match e.field() {
        Some(f) if !f.starts_with("line_items") => format!("line_items[{line}].{f}"),
        Some(f) => f.to_owned(),
        None => format!("line_items[{line}]"),
    };
    Error::new(e.kind(), format!("line {line}: {}", e.message()))
        .with_connector(CONNECTOR)
        .with_record(order.to_owned())
        .with_field(field)
        .with_retryable(e.is_retryable())
}

impl Salesforce {
    /// What the Composite calls of `orders` need: the entries of their lines (products and
    /// entries created where missing), the standard price book, and the lines already in
    /// the org by Opportunity.
    async fn prepare(&self, orders: &[OrderWrite]) -> Result<Prepared> {
        const OP: &str = "record_orders";
        let order_ext = self.config.order_external_id_field.clone();
        let line_ext = self.config.external_id_field.clone();
        let multi = self.multi_currency().await?;
        let fields = self.fields_of("OpportunityLineItem", false).await?;
        let entries = self.line_entries(orders).await?;
        let pricebook = self.standard_pricebook(OP).await?;
        // Lines already in the org, by the Opportunity's External ID.
        let exts: Vec<String> = orders.iter().map(|o| o.pending.ext.clone()).collect();
        let mut opportunity_of: HashMap<String, String> = HashMap::new();
        for chunk in exts.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT Id, {order_ext} FROM Opportunity WHERE {order_ext} IN ({})",
                list.join(", ")
            );
            for row in self.client.query(&soql, OP).await? {
                if let (Some(id), Some(ext)) = (map::text(&row, "Id"), map::text(&row, &order_ext))
                {
                    opportunity_of.insert(ext.to_lowercase(), id);
                }
            }
        }
        let opp_ids: Vec<String> = opportunity_of.values().cloned().collect();
        let mut existing: HashMap<String, Vec<Value>> = HashMap::new();
        for chunk in opp_ids.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|v| soql_quote(v)).collect();
            let soql = format!(
                "SELECT Id, OpportunityId, PricebookEntryId, {line_ext} FROM OpportunityLineItem \
                 WHERE OpportunityId IN ({})",
                list.join(", ")
            );
            for row in self.client.query(&soql, OP).await? {
                if let Some(opp) = map::text(&row, "OpportunityId") {
                    existing.entry(opp).or_default().push(row);
                }
            }
        }
        Ok(Prepared {
            multi,
            fields,
            entries,
            pricebook,
            opportunity_of,
            existing,
        })
    }

    /// Writes orders with line items, one Composite call per order (more when an order
    /// needs more than five collections); fills `out` at each order's index.
    pub(super) async fn write_with_lines(
        &self,
        orders: Vec<OrderWrite>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        if orders.is_empty() {
            return Ok(());
        }
        let order_ext = self.config.order_external_id_field.clone();
        let line_ext = self.config.external_id_field.clone();
        let Prepared {
            multi,
            fields,
            entries,
            pricebook,
            opportunity_of,
            existing,
        } = match self.prepare(&orders).await {
            Ok(p) => p,
            Err(e) if is_fatal(&e) && !wrote_any(out) => return Err(e),
            // Other orders of the call are written: these fail, the call answers.
            Err(e) => {
                for o in &orders {
                    out[o.index] = Some(RecordOutcome::failed(
                        o.pending.key.clone(),
                        e.clone().with_record(o.pending.key.clone()),
                    ));
                }
                return Ok(());
            }
        };
        for order in orders {
            let key = order.pending.key.clone();
            let mut ops = Vec::new();
            let mut opp = order.pending.body.clone();
            opp.insert(order_ext.clone(), json!(order.pending.ext));
            let current = opportunity_of
                .get(&order.pending.ext.to_lowercase())
                .and_then(|id| existing.get(id))
                .cloned()
                .unwrap_or_default();
            // Salesforce refuses a price book or currency change once an Opportunity has
            // lines: both are set only while it has none.
            let settable = current.is_empty();
            if settable {
                opp.insert("Pricebook2Id".into(), json!(pricebook));
            }
            if multi {
                // Lines take entries of the Opportunity's currency: one currency per order.
                let currencies: HashSet<String> = order
                    .lines
                    .iter()
                    .filter_map(|l| l.currency.as_deref())
                    .map(|c| c.trim().to_ascii_uppercase())
                    .collect();
                if currencies.len() > 1 {
                    let mut list: Vec<String> = currencies.into_iter().collect();
                    list.sort();
                    out[order.index] = Some(RecordOutcome::failed(
                        key.clone(),
                        Error::invalid_field(
                            key.clone(),
                            "line_items",
                            format!("lines in several currencies ({})", list.join(", ")),
                        )
                        .with_connector(CONNECTOR),
                    ));
                    continue;
                }
                if let Some(c) = currencies.into_iter().next().filter(|_| settable) {
                    opp.entry("CurrencyIsoCode").or_insert(json!(c));
                }
            }
            ops.push(Subrequest::upsert(
                "opp",
                "Opportunity",
                &order_ext,
                vec![Value::Object(opp)],
            ));
            let mut creates = Vec::new();
            let mut updates = Vec::new();
            let mut deletes = Vec::new();
            let mut kept = HashSet::new();
            let mut refused = None;
            for line in &order.lines {
                let line_key = line.ext.rsplit_once('#').map_or("", |(_, k)| k).to_owned();
                if let Err(e) = Self::check_fields(&key, "OpportunityLineItem", &line.body, &fields)
                {
                    refused = Some(line_error(&key, &line_key, &e));
                    break;
                }
                let currency = multi.then(|| line.currency.clone()).flatten();
                let entry = match entries.get(&entry_key(
                    &line.product.to_lowercase(),
                    currency.as_deref(),
                )) {
                    Some(Ok(id)) => id.clone(),
                    Some(Err(e)) => {
                        refused = Some(line_error(&key, &line_key, e));
                        break;
                    }
                    None => {
                        let e = Error::new(ErrorKind::Invalid, "no price book entry");
                        refused = Some(line_error(&key, &line_key, &e));
                        break;
                    }
                };
                let found = current.iter().find(|r| {
                    map::text(r, &line_ext).is_some_and(|e| e.eq_ignore_ascii_case(&line.ext))
                });
                match found.and_then(|r| Some((map::text(r, "Id")?, r))) {
                    Some((id, row))
                        if map::text(row, "PricebookEntryId").as_deref() == Some(&entry) =>
                    {
                        kept.insert(id.clone());
                        let mut body = line.body.clone();
                        body.insert("Id".into(), json!(id));
                        updates.push(Value::Object(body));
                    }
                    other => {
                        // Another product: the entry of a line cannot change, so it is
                        // replaced (deleted first: the key is unique).
                        if let Some((id, _)) = other {
                            deletes.push(id);
                        }
                        let mut body = line.body.clone();
                        body.insert("OpportunityId".into(), json!("@{opp[0].id}"));
                        body.insert("PricebookEntryId".into(), json!(entry));
                        body.insert(line_ext.clone(), json!(line.ext));
                        creates.push(Value::Object(body));
                    }
                }
            }
            if let Some(e) = refused {
                out[order.index] = Some(RecordOutcome::failed(key, e));
                continue;
            }
            let prefix = format!("{}#", key.to_lowercase());
            for row in &current {
                let ours = map::text(row, &line_ext)
                    .is_some_and(|e| e.to_lowercase().starts_with(&prefix));
                if let Some(id) = map::text(row, "Id")
                    && ours
                    && !kept.contains(&id)
                    && !deletes.contains(&id)
                {
                    deletes.push(id);
                }
            }
            for (n, chunk) in deletes.chunks(MAX_COLLECTION_RECORDS).enumerate() {
                ops.push(Subrequest::delete(&format!("del{n}"), chunk));
            }
            for (n, chunk) in updates.chunks(MAX_COLLECTION_RECORDS).enumerate() {
                ops.push(Subrequest::update(
                    &format!("upd{n}"),
                    "OpportunityLineItem",
                    chunk.to_vec(),
                ));
            }
            for (n, chunk) in creates.chunks(MAX_COLLECTION_RECORDS).enumerate() {
                ops.push(Subrequest::create(
                    &format!("new{n}"),
                    "OpportunityLineItem",
                    chunk.to_vec(),
                ));
            }
            self.send_order(&key, order.index, pack(ops), out).await?;
        }
        Ok(())
    }

    /// The key of the line whose record a line collection refused (`None` when the
    /// failure is not a line's).
    fn refused_line(&self, call: &[Subrequest], responses: &[SubResponse]) -> Option<String> {
        let ext = &self.config.external_id_field;
        call.iter().zip(responses).find_map(|(sub, response)| {
            let results = response.save_results();
            let n = results.iter().position(|r| {
                !r.success
                    && r.errors
                        .first()
                        .is_none_or(|e| e.error_code != "ALL_OR_NONE_OPERATION_ROLLED_BACK")
            })?;
            let record = sub.body.as_ref()?.get("records")?.get(n)?;
            let line = map::text(record, ext).or_else(|| {
                // An update names the line by Id only.
                map::text(record, "Id")
            })?;
            Some(
                line.rsplit_once('#')
                    .map_or(line.clone(), |(_, k)| k.to_owned()),
            )
        })
    }

    /// Sends one order's Composite calls: the first (with the Opportunity) decides whether
    /// the order is written; a later one that fails leaves it `Partial`.
    async fn send_order(
        &self,
        key: &str,
        index: usize,
        calls: Vec<Vec<Subrequest>>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        let mut opportunity: Option<String> = None;
        for call in calls {
            let call: Vec<Subrequest> = match &opportunity {
                Some(id) => call.into_iter().map(|op| resolve(op, id)).collect(),
                None => call,
            };
            let responses: std::result::Result<Vec<SubResponse>, Error> =
                self.client.composite(&call, "record_orders").await;
            let failure = match responses {
                Ok(responses) => match culprit(&responses) {
                    None => {
                        if opportunity.is_none() {
                            let result = responses
                                .first()
                                .and_then(|r| r.save_results().into_iter().next())
                                .unwrap_or_default();
                            let written = outcome(key, &result);
                            opportunity.clone_from(&written.id);
                            out[index] = Some(written);
                        }
                        continue;
                    }
                    Some(e) => match self.refused_line(&call, &responses) {
                        Some(line) => line_error(key, &line, &e)
                            .with_vendor_code(e.vendor_code().unwrap_or_default().to_owned()),
                        None => e,
                    },
                },
                Err(e) if is_fatal(&e) && !wrote_any(out) => return Err(e),
                Err(e) => e,
            };
            let failure = failure.with_record(key.to_owned());
            out[index] = Some(match out[index].take() {
                Some(written) if opportunity.is_some() => written.into_partial(failure),
                _ => RecordOutcome::failed(key, failure),
            });
            return Ok(());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_products_follow_the_product_sync_keys() {
        let order = "bigcommerce/order/100";
        assert_eq!(
            line_product_key(order, Some("bigcommerce/product/77"), Some("SKU-1")),
            "bigcommerce/product/77"
        );
        assert_eq!(
            line_product_key(order, None, Some("SKU-1")),
            "bigcommerce/sku/SKU-1"
        );
        assert_eq!(line_product_key(order, Some(" "), None), CUSTOM_ITEM_KEY);
    }

    #[test]
    fn calls_hold_at_most_five_collections_and_later_ones_name_the_opportunity() {
        let ops: Vec<Subrequest> = (0..7)
            .map(|n| {
                Subrequest::create(
                    &format!("new{n}"),
                    "OpportunityLineItem",
                    vec![json!({"OpportunityId": "@{opp[0].id}"})],
                )
            })
            .collect();
        let calls = pack(ops);
        assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 2]);
        let op = resolve(calls[1][0].clone(), "006X");
        assert_eq!(
            op.body.unwrap()["records"][0]["OpportunityId"],
            json!("006X")
        );
    }
}
