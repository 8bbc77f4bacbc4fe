//! Orders as Opportunities.

use std::collections::HashMap;

use cartograph_connector::{RecordOutcome, Result};
use cartograph_model::{ContactRef, OrderRecord, Timestamp};
use serde_json::json;

use super::{MAX_BATCH, Pending, Salesforce, collect, too_many};
use crate::config::PersonObject;
use crate::map;

impl Salesforce {
    pub(super) async fn record_orders_impl(
        &self,
        orders: &[OrderRecord],
    ) -> Result<Vec<RecordOutcome>> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        if orders.len() > MAX_BATCH {
            return Err(too_many(orders.len(), "record_orders"));
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
        let people = if emails.is_empty() || self.config.person_object == PersonObject::Lead {
            HashMap::new()
        } else {
            self.ids_by_email(&emails).await?
        };
        let today = Timestamp::now().date().to_string();
        let mut out: Vec<Option<RecordOutcome>> = orders.iter().map(|_| None).collect();
        let mut pending = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let key = order.key.as_str();
            let mut body = map::record(&order.properties);
            let ext = body
                .remove(&ext_field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| key.to_owned());
            body.entry("Name")
                .or_insert_with(|| json!(format!("Order {key}")));
            body.entry("StageName")
                .or_insert_with(|| json!("Prospecting"));
            body.entry("CloseDate").or_insert_with(|| json!(today));
            let contact = match &order.contact {
                Some(ContactRef::CrmId(id)) => Some(id.clone()),
                Some(ContactRef::Email(e)) => people.get(e.normalized()).cloned(),
                None => None,
            };
            if let Some(id) = contact
                && self.config.person_object == PersonObject::Contact
                && fields.contains("contactid")
            {
                body.insert("ContactId".into(), json!(id));
            }
            match Self::check_fields(key, sobject, &body, &fields) {
                Ok(()) => pending.push((
                    i,
                    Pending {
                        key: key.to_owned(),
                        ext,
                        body,
                    },
                )),
                Err(e) => out[i] = Some(RecordOutcome::failed(key, e)),
            }
        }
        self.upsert_rounds(sobject, &ext_field, pending, &mut out, "record_orders")
            .await?;
        Ok(collect(orders.iter().map(|o| o.key.as_str()), out))
    }
}
