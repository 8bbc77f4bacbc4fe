//! Orders as Opportunities: the buyer as `ContactId` (a converted Lead's Contact in Lead
//! mode), the company's Account (B2B) or the buyer's Account as `AccountId`, line items
//! through Composite (see `lines`), then the buyer linked to the company's Account and
//! the Account's order summary refreshed.

use std::collections::HashMap;

use cartograph_connector::{RecordOutcome, Result};
use cartograph_model::{ContactRef, OrderRecord, Timestamp};
use serde_json::{Value, json};

use super::accounts::ACCOUNT_PREFIX;
use super::catalog::split_prefixed;
use super::lines::{LineWrite, OrderWrite, line_product_key, split_line};
use super::{Pending, QUERY_CHUNK, Salesforce, collect, convert, start_batch};
use crate::client::soql_quote;
use crate::config::PersonObject;
use crate::map;

/// A buyer found by email: the Contact to name on the Opportunity and its Account.
#[derive(Debug, Clone, Default)]
pub(super) struct Buyer {
    contact: Option<String>,
    account: Option<String>,
}

impl Salesforce {
    /// Buyers by normalised email. On Contact: the Contact and its `AccountId`. On Lead: a
    /// converted Lead's `ConvertedContactId` and `ConvertedAccountId`; an unconverted Lead
    /// names no Contact (an Opportunity's `ContactId` takes Contacts only).
    async fn buyers(&self, emails: &[String]) -> Result<HashMap<String, Buyer>> {
        let mut out = HashMap::new();
        let mut unique: Vec<&String> = emails.iter().collect();
        unique.sort();
        unique.dedup();
        let lead = self.config.person_object == PersonObject::Lead;
        let select = if lead {
            "Id, Email, IsConverted, ConvertedContactId, ConvertedAccountId"
        } else {
            "Id, Email, AccountId"
        };
        for chunk in unique.chunks(QUERY_CHUNK) {
            let list: Vec<String> = chunk.iter().map(|e| soql_quote(e)).collect();
            let soql = format!(
                "SELECT {select} FROM {} WHERE Email IN ({})",
                self.person(),
                list.join(", ")
            );
            for row in self.client.query(&soql, "record_orders").await? {
                let Some(email) = map::text(&row, "Email") else {
                    continue;
                };
                let buyer = if lead {
                    convert::converted_to(&row).map_or_else(Buyer::default, |contact| Buyer {
                        contact: Some(contact),
                        account: map::text(&row, "ConvertedAccountId"),
                    })
                } else {
                    Buyer {
                        contact: map::text(&row, "Id"),
                        account: map::text(&row, "AccountId"),
                    }
                };
                // A converted Lead wins over an unconverted one with the same email.
                let slot = out
                    .entry(email.to_lowercase())
                    .or_insert_with(Buyer::default);
                if slot.contact.is_none() {
                    *slot = buyer;
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn record_orders_impl(
        &self,
        orders: &[OrderRecord],
    ) -> Result<Vec<RecordOutcome>> {
        if !start_batch(orders.len(), "record_orders")? {
            return Ok(Vec::new());
        }
        let sobject = "Opportunity";
        let ext_field = self.config.order_external_id_field.clone();
        let fields = self.fields_of(sobject, false).await?;
        let emails: Vec<String> = orders
            .iter()
            .filter_map(|o| match &o.contact {
                Some(ContactRef::Email(e)) => Some(e.normalized().to_owned()),
                _ => None,
            })
            .collect();
        let buyers = if emails.is_empty() {
            HashMap::new()
        } else {
            self.buyers(&emails).await?
        };
        let buyer_of = |order: &OrderRecord| match &order.contact {
            Some(ContactRef::CrmId(id)) => Buyer {
                contact: convert::is_contact_id(id).then(|| id.clone()),
                account: None,
            },
            Some(ContactRef::Email(e)) => buyers.get(e.normalized()).cloned().unwrap_or_default(),
            None => Buyer::default(),
        };
        let today = Timestamp::now().date().to_string();
        let mut out: Vec<Option<RecordOutcome>> = orders.iter().map(|_| None).collect();
        let mut bodies = Vec::new();
        let mut companies = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let key = order.key.as_str();
            let mut body = map::record(&order.properties);
            let account = split_prefixed(&mut body, ACCOUNT_PREFIX);
            if account
                .get("Name")
                .and_then(Value::as_str)
                .is_some_and(|n| !n.trim().is_empty())
            {
                companies.push((i, key.to_owned(), account));
            }
            let ext = body
                .remove(&ext_field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| key.to_owned());
            body.entry("Name")
                .or_insert_with(|| json!(format!("Order {key}")));
            body.entry("StageName")
                .or_insert_with(|| json!("Prospecting"));
            body.entry("CloseDate").or_insert_with(|| json!(today));
            if let Some(id) = buyer_of(order).contact
                && fields.contains("contactid")
            {
                body.insert("ContactId".into(), json!(id));
            }
            match Self::check_fields(key, sobject, &body, &fields) {
                Ok(()) => bodies.push((i, ext, body)),
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        let accounts = self.upsert_accounts(companies).await?;
        let mut plain = Vec::new();
        let mut with_lines = Vec::new();
        for (i, ext, mut body) in bodies {
            let order = &orders[i];
            let account = match accounts.get(&i) {
                Some(Ok(id)) => Some(id.clone()),
                Some(Err(e)) => {
                    out[i] = Some(RecordOutcome::failed(
                        order.key.clone(),
                        e.clone().with_record(order.key.clone()),
                    ));
                    continue;
                }
                None => buyer_of(order).account,
            };
            if let Some(id) = account {
                body.insert("AccountId".into(), json!(id));
            }
            let pending = Pending {
                key: order.key.clone(),
                ext,
                body,
            };
            if order.line_items.is_empty() {
                plain.push((i, pending));
                continue;
            }
            let mut lines: Vec<LineWrite> = order
                .line_items
                .iter()
                .map(|l| {
                    let (body, product_body, currency) = split_line(map::record(&l.properties));
                    let sku = product_body.get("ProductCode").and_then(Value::as_str);
                    LineWrite {
                        ext: format!("{}#{}", order.key, l.key),
                        product: line_product_key(&order.key, l.product_key.as_deref(), sku),
                        currency,
                        product_body,
                        body,
                    }
                })
                .collect();
            // A line without a currency is in the order's (the one its other lines name).
            let named: Vec<String> = lines.iter().filter_map(|l| l.currency.clone()).collect();
            if let Some(first) = named.first().cloned()
                && named.iter().all(|c| c.eq_ignore_ascii_case(&first))
            {
                for l in &mut lines {
                    l.currency.get_or_insert_with(|| first.clone());
                }
            }
            with_lines.push(OrderWrite {
                index: i,
                pending,
                lines,
            });
        }
        self.upsert_rounds(sobject, &ext_field, plain, &mut out, "record_orders")
            .await?;
        self.write_with_lines(with_lines, &mut out).await?;
        self.link_companies(orders, &accounts, &buyers, &mut out)
            .await?;
        Ok(collect(orders.iter().map(|o| o.key.as_str()), out))
    }

    /// Links each company order's buyer (a Contact without an Account) to the company's
    /// Account, then refreshes the summary of every Account written to; a failure of
    /// either leaves the order `Partial`.
    async fn link_companies(
        &self,
        orders: &[OrderRecord],
        accounts: &HashMap<usize, std::result::Result<String, cartograph_connector::Error>>,
        buyers: &HashMap<String, Buyer>,
        out: &mut [Option<RecordOutcome>],
    ) -> Result<()> {
        let mut touched: HashMap<String, Vec<usize>> = HashMap::new();
        let mut links: HashMap<String, (String, Vec<usize>)> = HashMap::new();
        for (&i, account) in accounts {
            let (Ok(account), Some(o)) = (account, out[i].as_ref()) else {
                continue;
            };
            if !o.is_written() {
                continue;
            }
            touched.entry(account.clone()).or_default().push(i);
            let buyer = match &orders[i].contact {
                Some(ContactRef::Email(e)) => buyers.get(e.normalized()),
                _ => None,
            };
            if self.config.person_object == PersonObject::Contact
                && let Some(Buyer {
                    contact: Some(contact),
                    account: None,
                }) = buyer
            {
                let link = links
                    .entry(contact.clone())
                    .or_insert_with(|| (account.clone(), Vec::new()));
                link.1.push(i);
            }
        }
        let mut failures: Vec<(usize, cartograph_connector::Error)> = Vec::new();
        let link_list: Vec<(String, (String, Vec<usize>))> = links.into_iter().collect();
        for chunk in link_list.chunks(crate::config::MAX_BATCH) {
            let bodies: Vec<Value> = chunk
                .iter()
                .map(|(contact, (account, _))| json!({"Id": contact, "AccountId": account}))
                .collect();
            match self.client.update("Contact", bodies, "record_orders").await {
                Ok(results) => {
                    for ((contact, (_, idx)), r) in chunk.iter().zip(&results) {
                        if !r.success {
                            let o = super::outcome(contact, r);
                            if let cartograph_connector::WriteStatus::Failed(e) = o.status {
                                failures.extend(idx.iter().map(|&i| (i, e.clone())));
                            }
                        }
                    }
                }
                // The orders are written: even a fatal error only leaves them partial.
                Err(e) => {
                    failures.extend(
                        chunk
                            .iter()
                            .flat_map(|(_, (_, idx))| idx.iter().map(|&i| (i, e.clone()))),
                    );
                }
            }
        }
        let ids: Vec<String> = touched.keys().cloned().collect();
        for chunk in ids.chunks(crate::config::MAX_BATCH) {
            match self.refresh_accounts(chunk).await {
                Ok(errors) => {
                    for (account, e) in errors {
                        failures.extend(touched[&account].iter().map(|&i| (i, e.clone())));
                    }
                }
                Err(e) => {
                    for account in chunk {
                        failures.extend(touched[account].iter().map(|&i| (i, e.clone())));
                    }
                }
            }
        }
        for (i, e) in failures {
            let key = orders[i].key.clone();
            out[i] = out[i].take().map(|o| o.into_partial(e.with_record(key)));
        }
        Ok(())
    }
}
