//! Orders (deals or the commerce `orders` object), their line items and products, all
//! idempotent through unique-value properties (`batch/upsert` with `idProperty`).

use std::collections::{BTreeMap, HashMap};

use cartograph_connector::{Error, ErrorKind, RecordOutcome, Result};
use cartograph_model::{ContactRef, OrderRecord, ProductRecord};

use super::{HubSpotClient, Slot, outcome};
use crate::body::{LineItemInput, OrderInput};
use crate::error::CONNECTOR;
use crate::map::format_properties;
use crate::wire::UpsertInput;

const OP: &str = "record_orders";

impl HubSpotClient {
    /// Resolves contact references to record ids (emails looked up, lowercased).
    pub(crate) async fn contact_ids(
        &self,
        refs: &[&ContactRef],
        operation: &'static str,
    ) -> Result<HashMap<String, String>> {
        let emails: Vec<String> = refs
            .iter()
            .filter_map(|r| match r {
                ContactRef::Email(e) => Some(e.normalized().to_owned()),
                ContactRef::CrmId(_) => None,
            })
            .collect();
        let mut map = HashMap::new();
        if !emails.is_empty() {
            let found = self
                .batch_read(
                    "contacts",
                    Some("email"),
                    &emails,
                    &[
                        "email".into(),
                        "hs_additional_emails".into(),
                        "hubspot_owner_id".into(),
                    ],
                    operation,
                )
                .await?;
            for o in found {
                if let Some(e) = o.prop("email") {
                    map.insert(e.to_lowercase(), o.id.clone());
                }
                for e in o.prop("hs_additional_emails").unwrap_or("").split(';') {
                    if !e.trim().is_empty() {
                        map.entry(e.trim().to_lowercase())
                            .or_insert_with(|| o.id.clone());
                    }
                }
            }
        }
        Ok(map)
    }

    /// Record ids of records by a unique property value.
    pub(crate) async fn ids_by_unique(
        &self,
        object: &str,
        property: &str,
        values: &[String],
        operation: &'static str,
    ) -> Result<HashMap<String, String>> {
        if values.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self
            .batch_read(
                object,
                Some(property),
                values,
                &[property.to_owned()],
                operation,
            )
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|o| o.prop(property).map(|v| (v.to_owned(), o.id.clone())))
            .collect())
    }

    /// Records orders with their line items and associations; idempotent by order key. An
    /// order written whose line items or associations then failed is
    /// [`Partial`](cartograph_connector::WriteStatus::Partial).
    ///
    /// # Errors
    /// The whole call failed before anything was written.
    pub async fn record_orders(&self, orders: &[OrderRecord]) -> Result<Vec<RecordOutcome>> {
        let m = &self.config.mapping;
        let mut outcomes: Vec<Option<RecordOutcome>> = orders.iter().map(|_| None).collect();
        let contact_refs: Vec<&ContactRef> =
            orders.iter().filter_map(|o| o.contact.as_ref()).collect();
        let contacts = self.contact_ids(&contact_refs, OP).await?;
        let product_keys: Vec<String> = orders
            .iter()
            .flat_map(|o| o.line_items.iter().filter_map(|l| l.product_key.clone()))
            .collect();
        let products = self
            .ids_by_unique("products", &m.product_id_property, &product_keys, OP)
            .await?;

        // Per object type: the orders to upsert and their contact ids.
        let mut plan: BTreeMap<&'static str, Vec<(usize, Option<String>)>> = BTreeMap::new();
        let mut inputs: BTreeMap<&'static str, Vec<OrderInput<'_>>> = BTreeMap::new();
        for (i, order) in orders.iter().enumerate() {
            if order.key.trim().is_empty() {
                outcomes[i] = Some(RecordOutcome::failed(
                    &order.key,
                    Error::invalid_field(&order.key, "key", "order key is empty")
                        .with_connector(CONNECTOR)
                        .with_operation(OP),
                ));
                continue;
            }
            let contact_id = match &order.contact {
                None => None,
                Some(ContactRef::CrmId(id)) => Some(id.clone()),
                Some(ContactRef::Email(e)) => match contacts.get(e.normalized()) {
                    Some(id) => Some(id.clone()),
                    None => {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &order.key,
                            Error::new(
                                ErrorKind::NotFound,
                                "the order's contact is not in HubSpot yet",
                            )
                            .with_connector(CONNECTOR)
                            .with_operation(OP)
                            .with_record(order.key.clone())
                            .with_field("contact")
                            .with_retryable(true),
                        ));
                        continue;
                    }
                },
            };
            let input = match OrderInput::new(m, order) {
                Ok(input) => input,
                Err(err) => {
                    outcomes[i] = Some(RecordOutcome::failed(&order.key, err.with_operation(OP)));
                    continue;
                }
            };
            let object = input.object_type();
            plan.entry(object).or_default().push((i, contact_id));
            inputs.entry(object).or_default().push(input);
        }

        // Once anything is written the call answers `Ok`: every later failure is the
        // affected records' own (`Partial` for written orders, `Failed` for the rest).
        let mut wrote_any = false;
        for (object, members) in plan {
            let batch = inputs.remove(object).unwrap_or_default();
            let slots = match self
                .upsert_all(object, &m.order_id_property, &batch, OP)
                .await
            {
                Ok(slots) => slots,
                Err(err) if !wrote_any => return Err(err),
                Err(err) => {
                    for (i, _) in members {
                        outcomes[i] = Some(RecordOutcome::failed(
                            &orders[i].key,
                            err.clone().with_record(orders[i].key.clone()),
                        ));
                    }
                    continue;
                }
            };
            wrote_any |= slots.iter().any(Result::is_ok);
            let mut written: Vec<(usize, String, Option<String>)> = Vec::new();
            for ((i, contact), slot) in members.into_iter().zip(slots) {
                if let Ok(o) = &slot {
                    written.push((i, o.id.clone(), contact));
                }
                outcomes[i] = Some(outcome(&orders[i].key, slot));
            }
            self.finish_orders(object, orders, &written, &products, &mut outcomes)
                .await;
        }
        Ok(outcomes
            .into_iter()
            .zip(orders)
            .map(|(o, r)| o.unwrap_or_else(|| RecordOutcome::unchanged(&r.key, None)))
            .collect())
    }

    /// Line items and associations of written orders. Never fails as a whole (the orders
    /// exist): a failure makes the order [`Partial`](cartograph_connector::WriteStatus::Partial), keeping its id;
    /// a retry upserts the same records again by their keys.
    async fn finish_orders(
        &self,
        object: &str,
        orders: &[OrderRecord],
        written: &[(usize, String, Option<String>)],
        products: &HashMap<String, String>,
        outcomes: &mut [Option<RecordOutcome>],
    ) {
        let m = &self.config.mapping;
        let mut items = Vec::new();
        let mut owners = Vec::new();
        for (i, order_id, _) in written {
            let order = &orders[*i];
            for line in &order.line_items {
                let product = line
                    .product_key
                    .as_ref()
                    .and_then(|k| products.get(k))
                    .map(String::as_str);
                match LineItemInput::new(m, &order.key, line, product) {
                    Ok(input) => items.push(input),
                    Err(err) => {
                        fail(outcomes, *i, order_id, &err.with_operation(OP));
                        continue;
                    }
                }
                owners.push((*i, order_id.clone()));
            }
        }
        let mut line_links = Vec::new();
        let mut line_owners = Vec::new();
        if !items.is_empty() {
            let slots: Vec<Slot> = match self
                .upsert_all("line_items", &m.line_item_id_property, &items, OP)
                .await
            {
                Ok(slots) => slots,
                Err(err) => owners.iter().map(|_| Err(err.clone())).collect(),
            };
            for ((i, order_id), slot) in owners.into_iter().zip(slots) {
                match slot {
                    Ok(line) => {
                        line_links.push((order_id.clone(), line.id));
                        line_owners.push((i, order_id));
                    }
                    Err(err) => fail(outcomes, i, &order_id, &err),
                }
            }
        }
        let mut contact_links = Vec::new();
        let mut contact_owners = Vec::new();
        for (i, order_id, contact) in written {
            if let Some(contact) = contact {
                contact_links.push((order_id.clone(), contact.clone()));
                contact_owners.push((*i, order_id.clone()));
            }
        }
        for (to, links, owners) in [
            ("contacts", contact_links, contact_owners),
            ("line_items", line_links, line_owners),
        ] {
            if links.is_empty() {
                continue;
            }
            let results = self.associate_pairs(object, to, &links, None, OP).await;
            for ((i, order_id), result) in owners.into_iter().zip(results) {
                if let Err(err) = result {
                    fail(outcomes, i, &order_id, &err);
                }
            }
        }
    }

    /// Creates or updates products by the unique product-id property.
    ///
    /// # Errors
    /// The whole call failed before anything was written.
    pub async fn upsert_products(&self, products: &[ProductRecord]) -> Result<Vec<RecordOutcome>> {
        const OP: &str = "upsert_products";
        let property = &self.config.mapping.product_id_property;
        let mut outcomes: Vec<Option<RecordOutcome>> = products.iter().map(|_| None).collect();
        let mut inputs = Vec::new();
        let mut idx = Vec::new();
        for (i, p) in products.iter().enumerate() {
            match format_properties(&p.key, &p.properties) {
                Ok(mut props) => {
                    props.insert(property.clone(), p.key.clone());
                    inputs.push(UpsertInput {
                        id: p.key.clone(),
                        id_property: Some(property.clone()),
                        object_write_trace_id: None,
                        properties: props,
                    });
                    idx.push(i);
                }
                Err(err) => {
                    outcomes[i] = Some(RecordOutcome::failed(&p.key, err.with_operation(OP)));
                }
            }
        }
        if !inputs.is_empty() {
            let slots = self.upsert_all("products", property, &inputs, OP).await?;
            for (i, slot) in idx.into_iter().zip(slots) {
                outcomes[i] = Some(outcome(&products[i].key, slot));
            }
        }
        Ok(outcomes
            .into_iter()
            .zip(products)
            .map(|(o, p)| o.unwrap_or_else(|| RecordOutcome::unchanged(&p.key, None)))
            .collect())
    }
}

/// Marks written order `i` partial (first failure wins), keeping the record id.
fn fail(outcomes: &mut [Option<RecordOutcome>], i: usize, order_id: &str, err: &Error) {
    let current = outcomes[i].take();
    outcomes[i] = Some(match current {
        Some(o) => {
            let key = o.key.clone();
            o.into_partial(err.clone().with_record(key))
        }
        None => RecordOutcome::partial(
            "",
            order_id,
            cartograph_connector::Written::Updated,
            err.clone(),
        ),
    });
}
