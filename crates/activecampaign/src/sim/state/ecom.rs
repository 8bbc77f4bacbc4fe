//! Deep Data orders and carts, ecommerce customers and connections, and bulk import.

use serde_json::{Map, Value, json};

use super::{Reply, State, Triggered, error, id_of, not_found, s};

#[derive(Clone, Copy)]
pub(super) enum Kind {
    Connection,
    Customer,
}

impl State {
    pub(super) fn bulk_import(&mut self, body: &Value) -> Reply {
        let Some(contacts) = body["contacts"].as_array() else {
            return (
                400,
                json!({"success": 0, "message": "contacts is required"}),
            );
        };
        if contacts.len() > 250 {
            return (
                400,
                json!({"success": 0, "message": "Up to 250 contacts may be imported per request."}),
            );
        }
        let bad: Vec<Value> = contacts
            .iter()
            .enumerate()
            .filter(|(_, c)| !s(c, "email").contains('@'))
            .map(|(i, _)| json!({"contact": i, "failureReason": "Field 'email' incorrect format"}))
            .collect();
        if !bad.is_empty() {
            return (
                400,
                json!({"success": 0, "failureReasons": bad,
                "message": "JSON payload did not pass validation. Please fix failure Reasons and retry. The import was not queued for processing."}),
            );
        }
        for c in contacts {
            let mut contact = json!({"email": s(c, "email")});
            for (from, to) in [
                ("first_name", "firstName"),
                ("last_name", "lastName"),
                ("phone", "phone"),
            ] {
                if c.get(from).is_some() {
                    contact[to] = json!(s(c, from));
                }
            }
            let values: Vec<Value> = c["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| json!({"field": s(f, "id"), "value": s(f, "value")}))
                .collect();
            contact["fieldValues"] = Value::Array(values);
            let (_, synced) = self.sync_contact_as(&json!({ "contact": contact }), "system");
            let Some(id) = id_of(&synced["contact"], "id") else {
                continue;
            };
            for tag in c["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let tag_id = match self.tags.iter().find(|(_, t)| t.eq_ignore_ascii_case(tag)) {
                    Some((t, _)) => *t,
                    None => {
                        let t = self.id();
                        self.tags.insert(t, tag.to_owned());
                        t
                    }
                };
                if !self.contact_tags.values().any(|v| *v == (id, tag_id)) {
                    let ct = self.id();
                    self.contact_tags.insert(ct, (id, tag_id));
                }
            }
            for list in c["subscribe"].as_array().into_iter().flatten() {
                if let Some(l) = id_of(list, "listid").filter(|l| self.lists.contains_key(l))
                    && self.contact_lists.get(&(l, id)) != Some(&2)
                {
                    self.set_list_status(&l.to_string(), &id.to_string(), 1, "system");
                }
            }
        }
        self.bulk_imports += 1;
        (
            200,
            json!({"success": 1, "queued_contacts": contacts.len(),
                     "batchId": format!("sim-{}", self.bulk_imports), "message": "Contact import queued"}),
        )
    }

    pub(super) fn validate_order(&self, o: &Value) -> Option<Reply> {
        for name in ["email", "currency", "connectionid", "customerid"] {
            if s(o, name).is_empty() {
                return Some(error(
                    422,
                    "field_missing",
                    &format!("{name} is required"),
                    name,
                ));
            }
        }
        if s(o, "externalid").is_empty() && s(o, "externalcheckoutid").is_empty() {
            return Some(error(
                422,
                "field_missing",
                "externalid or externalcheckoutid is required",
                "externalid",
            ));
        }
        if !s(o, "externalcheckoutid").is_empty()
            && s(o, "externalid").is_empty()
            && s(o, "abandonedDate").is_empty()
        {
            return Some(error(
                422,
                "field_missing",
                "abandonedDate is required for carts",
                "abandonedDate",
            ));
        }
        if o["totalPrice"].as_i64().is_none_or(|t| t < 0) {
            return Some(error(
                422,
                "field_invalid",
                "totalPrice must be a non-negative integer (cents)",
                "totalPrice",
            ));
        }
        if !matches!(o.get("orderProducts"), None | Some(Value::Array(_))) {
            return Some(error(
                422,
                "field_invalid",
                "orderProducts must be an array",
                "orderProducts",
            ));
        }
        if !self
            .connections
            .contains_key(&id_of(o, "connectionid").unwrap_or(0))
        {
            return Some(error(
                422,
                "related_missing",
                "Connection not found",
                "connectionid",
            ));
        }
        if !self
            .customers
            .contains_key(&id_of(o, "customerid").unwrap_or(0))
        {
            return Some(error(
                422,
                "related_missing",
                "Customer not found",
                "customerid",
            ));
        }
        None
    }

    pub(super) fn trigger(&mut self, id: u64, o: &Value, automation: &str) {
        if s(o, "source") == "1" {
            self.triggered.push(Triggered {
                automation: automation.to_owned(),
                email: s(o, "email"),
                order_id: id.to_string(),
            });
        }
    }

    pub(super) fn create_order(&mut self, mut o: Value) -> Reply {
        if let Some(reply) = self.validate_order(&o) {
            return reply;
        }
        let ext = s(&o, "externalid");
        if !ext.is_empty()
            && self
                .orders
                .values()
                .any(|x| s(x, "connectionid") == s(&o, "connectionid") && s(x, "externalid") == ext)
        {
            return error(
                422,
                "duplicate",
                "An order with this externalid already exists",
                "externalid",
            );
        }
        let state = if ext.is_empty() { 2 } else { 1 };
        o["state"] = json!(state);
        let id = self.id();
        o["id"] = json!(id.to_string());
        self.orders.insert(id, o.clone());
        self.trigger(
            id,
            &o,
            if state == 2 {
                "abandoned_cart"
            } else {
                "makes_a_purchase"
            },
        );
        (201, answer(&o))
    }

    pub(super) fn update_order(&mut self, id: &str, patch: Value) -> Reply {
        let Some(key) = id
            .parse::<u64>()
            .ok()
            .filter(|i| self.orders.contains_key(i))
        else {
            return not_found("EcomOrder");
        };
        let mut merged = self.orders.get(&key).cloned().unwrap_or_default();
        let was_cart = s(&merged, "externalid").is_empty();
        if let (Some(target), Value::Object(p)) = (merged.as_object_mut(), patch) {
            target.extend(p);
        }
        if let Some(reply) = self.validate_order(&merged) {
            return reply;
        }
        if was_cart && !s(&merged, "externalid").is_empty() {
            merged["state"] = json!(3);
            self.trigger(key, &merged, "makes_a_purchase");
        }
        self.orders.insert(key, merged.clone());
        (200, answer(&merged))
    }

    pub(super) fn insert(&mut self, kind: Kind, mut v: Value) -> Reply {
        let id = self.id();
        v["id"] = json!(id.to_string());
        let name = match kind {
            Kind::Connection => {
                self.connections.insert(id, v.clone());
                // The spec answers `POST /connections` with 200, not 201.
                let mut out = Map::new();
                out.insert("connection".to_owned(), v);
                return (200, Value::Object(out));
            }
            Kind::Customer => {
                self.customers.insert(id, v.clone());
                "ecomCustomer"
            }
        };
        let mut out = Map::new();
        out.insert(name.to_owned(), v);
        (201, Value::Object(out))
    }
}

/// An order as ActiveCampaign renders it: ids, `source` and the other numeric-looking
/// fields as strings, `state` an integer, `orderProducts` / `orderDiscounts` the ids of
/// records the answer carries beside the order (`ecomOrderProducts`).
pub(super) fn render_order(o: &Value) -> (Value, Vec<Value>) {
    let mut out = o.clone();
    for name in ["connectionid", "customerid", "source", "id"] {
        if let Some(n) = o.get(name).filter(|v| v.is_number()) {
            out[name] = Value::String(n.to_string());
        }
    }
    if let Some(state) = o.get("state").and_then(|v| v.as_str()?.parse::<i64>().ok()) {
        out["state"] = json!(state);
    }
    let order_id = s(o, "id");
    let mut products = Vec::new();
    for list in ["orderProducts", "orderDiscounts"] {
        let Some(items) = o.get(list).and_then(Value::as_array) else {
            continue;
        };
        let mut ids = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let id = format!(
                "{order_id}{:02}{n}",
                if list == "orderProducts" { 1 } else { 2 }
            );
            if list == "orderProducts" {
                let mut product = item.clone();
                product["id"] = json!(id);
                product["orderid"] = json!(order_id);
                products.push(product);
            }
            ids.push(Value::String(id));
        }
        out[list] = Value::Array(ids);
    }
    (out, products)
}

/// `{ecomOrder, ecomOrderProducts}`: the answer of a create, update or read of one order.
fn answer(o: &Value) -> Value {
    let (order, products) = render_order(o);
    json!({"ecomOrder": order, "ecomOrderProducts": products})
}

/// The answer of `GET /ecomOrders/{id}`.
pub(super) fn read_answer(o: &Value) -> Value {
    answer(o)
}
