//! The API semantics: one method per route, over [`State`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::ecom::{Kind, read_answer, render_order};
use super::{Contact, Reply, State, Webhook, error, id_of, not_found, now, s};

impl State {
    /// Serves one API call (after auth, quota and faults).
    pub(crate) fn handle(
        &mut self,
        method: &str,
        path: &[&str],
        q: &BTreeMap<String, String>,
        body: &Value,
    ) -> Reply {
        match (method, path) {
            ("GET", ["contacts"]) => self.list_contacts(q),
            ("GET", ["contacts", id]) => match id
                .parse()
                .ok()
                .and_then(|i| self.contacts.get(&i).map(|c| (i, c)))
            {
                Some((i, c)) => (200, json!({"contact": Self::contact_json(i, c)})),
                None => not_found("Subscriber"),
            },
            ("POST", ["contact", "sync"]) => self.sync_contact(body),
            ("GET", ["contacts", id, "contactLists"]) => {
                let c: u64 = id.parse().unwrap_or(0);
                let rows: Vec<Value> = self
                    .contact_lists
                    .iter()
                    .filter(|((_, ct), _)| *ct == c)
                    .map(|((l, ct), st)| json!({"list": l.to_string(), "contact": ct.to_string(), "status": st.to_string()}))
                    .collect();
                (200, json!({"contactLists": rows}))
            }
            ("GET", ["contacts", id, "notes"]) => {
                let c: u64 = id.parse().unwrap_or(0);
                let rows: Vec<Value> = self
                    .notes
                    .iter()
                    .filter(|(_, (ct, _))| *ct == c)
                    .map(|(i, (_, n))| json!({"id": i.to_string(), "note": n}))
                    .collect();
                (200, json!({"notes": rows}))
            }
            ("GET", ["fields"]) => {
                let all: Vec<Value> = self
                    .fields
                    .iter()
                    .map(|(i, (t, k, p))| json!({"id": i.to_string(), "title": t, "type": k, "perstag": p}))
                    .collect();
                page(q, "fields", all)
            }
            ("POST", ["fields"]) => {
                let f = &body["field"];
                let tag = s(f, "perstag").to_uppercase();
                if s(f, "title").is_empty() {
                    return error(422, "field_missing", "Title is required", "title");
                }
                if self.fields.values().any(|(_, _, p)| *p == tag) {
                    return error(
                        422,
                        "duplicate",
                        "Personalization tag already exists",
                        "perstag",
                    );
                }
                let id = self.id();
                self.fields
                    .insert(id, (s(f, "title"), s(f, "type"), tag.clone()));
                (
                    201,
                    json!({"field": {"id": id.to_string(), "perstag": tag}}),
                )
            }
            ("GET", ["tags"]) => {
                let search = q.get("search").cloned().unwrap_or_default().to_lowercase();
                let rows: Vec<Value> = self
                    .tags
                    .iter()
                    .filter(|(_, t)| t.to_lowercase().contains(&search))
                    .map(|(i, t)| json!({"id": i.to_string(), "tag": t, "tagType": "contact"}))
                    .collect();
                page(q, "tags", rows)
            }
            ("POST", ["tags"]) => {
                let id = self.id();
                self.tags.insert(id, s(&body["tag"], "tag"));
                (
                    201,
                    json!({"tag": {"id": id.to_string(), "tag": s(&body["tag"], "tag")}}),
                )
            }
            ("POST", ["contactTags"]) => {
                let ct = &body["contactTag"];
                let (Some(c), Some(t)) = (id_of(ct, "contact"), id_of(ct, "tag")) else {
                    return error(
                        422,
                        "field_missing",
                        "contact and tag are required",
                        "contact",
                    );
                };
                if !self.contacts.contains_key(&c) || !self.tags.contains_key(&t) {
                    return error(
                        422,
                        "related_missing",
                        "No Result found for Subscriber or Tag",
                        "contact",
                    );
                }
                if let Some((i, _)) = self.contact_tags.iter().find(|(_, v)| **v == (c, t)) {
                    return (200, json!({"contactTag": {"id": i.to_string()}}));
                }
                let id = self.id();
                self.contact_tags.insert(id, (c, t));
                (
                    201,
                    json!({"contactTag": {"id": id.to_string(), "contact": c.to_string(), "tag": t.to_string()}}),
                )
            }
            ("GET", ["lists"]) => {
                let name = q.get("filters[name]");
                let rows: Vec<Value> = self
                    .lists
                    .iter()
                    .filter(|(_, n)| name.is_none_or(|w| *n == w))
                    .map(|(i, n)| json!({"id": i.to_string(), "name": n}))
                    .collect();
                page(q, "lists", rows)
            }
            ("POST", ["contactLists"]) => {
                let cl = &body["contactList"];
                let (Some(l), Some(c)) = (id_of(cl, "list"), id_of(cl, "contact")) else {
                    return error(
                        422,
                        "field_missing",
                        "list and contact are required",
                        "list",
                    );
                };
                if !self.lists.contains_key(&l) || !self.contacts.contains_key(&c) {
                    return error(
                        422,
                        "related_missing",
                        "No Result found for List or Subscriber",
                        "list",
                    );
                }
                let status: u8 = s(cl, "status").parse().unwrap_or(1);
                self.set_list_status(&l.to_string(), &c.to_string(), status, "api");
                // The spec answers `POST /contactLists` with 200, not 201.
                (
                    200,
                    json!({"contactList": {"list": l.to_string(), "contact": c.to_string(), "status": status}}),
                )
            }
            ("GET", ["connections"]) => {
                let rows = filter(&self.connections, q);
                page(q, "connections", rows)
            }
            ("POST", ["connections"]) => {
                let c = body["connection"].clone();
                if self.connections.values().any(|o| {
                    s(o, "service") == s(&c, "service") && s(o, "externalid") == s(&c, "externalid")
                }) {
                    return error(
                        422,
                        "duplicate",
                        "The integration has already been connected",
                        "externalid",
                    );
                }
                self.insert(Kind::Connection, c)
            }
            ("GET", ["ecomCustomers"]) => page(q, "ecomCustomers", filter(&self.customers, q)),
            ("POST", ["ecomCustomers"]) => {
                let c = body["ecomCustomer"].clone();
                if !self
                    .connections
                    .contains_key(&id_of(&c, "connectionid").unwrap_or(0))
                {
                    return error(
                        422,
                        "related_missing",
                        "Connection not found",
                        "connectionid",
                    );
                }
                if self.customers.values().any(|o| {
                    s(o, "connectionid") == s(&c, "connectionid")
                        && s(o, "externalid") == s(&c, "externalid")
                }) {
                    return error(422, "duplicate", "Customer already exists", "externalid");
                }
                self.insert(Kind::Customer, c)
            }
            ("PUT", ["ecomCustomers", id]) => {
                let Some(key) = id
                    .parse::<u64>()
                    .ok()
                    .filter(|i| self.customers.contains_key(i))
                else {
                    return not_found("EcomCustomer");
                };
                let patch = body["ecomCustomer"].clone();
                let mut merged = self.customers.get(&key).cloned().unwrap_or_default();
                if let (Some(target), Value::Object(p)) = (merged.as_object_mut(), patch) {
                    target.extend(p);
                }
                self.customers.insert(key, merged.clone());
                (200, json!({"ecomCustomer": merged}))
            }
            ("GET", ["ecomOrders"]) => {
                let rows = filter(&self.orders, q)
                    .iter()
                    .map(|o| render_order(o).0)
                    .collect();
                page(q, "ecomOrders", rows)
            }
            ("POST", ["ecomOrders"]) => self.create_order(body["ecomOrder"].clone()),
            ("PUT", ["ecomOrders", id]) => self.update_order(id, body["ecomOrder"].clone()),
            ("GET", ["ecomOrders", id]) => {
                match id.parse().ok().and_then(|i| self.orders.get(&i)) {
                    Some(o) => (200, read_answer(o)),
                    None => not_found("EcomOrder"),
                }
            }
            ("POST", ["notes"]) => {
                let n = &body["note"];
                let Some(c) = id_of(n, "relid").filter(|c| self.contacts.contains_key(c)) else {
                    return error(
                        422,
                        "related_missing",
                        "No Result found for Subscriber",
                        "relid",
                    );
                };
                let id = self.id();
                self.notes.insert(id, (c, s(n, "note")));
                (
                    201,
                    json!({"note": {"id": id.to_string(), "note": s(n, "note")}}),
                )
            }
            ("POST", ["contactAutomations"]) => {
                let ca = &body["contactAutomation"];
                let (Some(c), Some(a)) = (id_of(ca, "contact"), id_of(ca, "automation")) else {
                    return error(
                        422,
                        "field_missing",
                        "contact and automation are required",
                        "contact",
                    );
                };
                if !self.contacts.contains_key(&c) || !self.automations.contains_key(&a) {
                    return error(
                        422,
                        "related_missing",
                        "No Result found for Subscriber or Automation",
                        "automation",
                    );
                }
                let id = self.id();
                self.enrollments
                    .push((c.to_string(), format!("automation:{a}")));
                (
                    201,
                    json!({"contactAutomation": {"id": id.to_string(), "contact": c.to_string(), "automation": a.to_string()}}),
                )
            }
            ("POST", ["import", "bulk_import"]) => self.bulk_import(body),
            ("POST", ["webhooks"]) => {
                let w = &body["webhook"];
                let list = |name: &str| -> Vec<String> {
                    w[name]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                self.webhooks.push(Webhook {
                    url: s(w, "url"),
                    sources: list("sources"),
                    events: list("events"),
                    push: false,
                });
                let id = self.id();
                (
                    201,
                    json!({"webhook": {"id": id.to_string(), "url": s(w, "url")}}),
                )
            }
            _ => not_found("route"),
        }
    }

    fn list_contacts(&self, q: &BTreeMap<String, String>) -> Reply {
        let email = q.get("email");
        let after = q.get("filters[updated_after]");
        let member = |id: u64| match (q.get("listid"), q.get("status")) {
            (None, _) => true,
            (Some(l), status) => l.parse::<u64>().ok().is_some_and(|l| {
                self.contact_lists
                    .get(&(l, id))
                    .is_some_and(|st| status.is_none_or(|want| *want == st.to_string()))
            }),
        };
        let mut rows: Vec<(&u64, &Contact)> = self
            .contacts
            .iter()
            .filter(|(id, _)| member(**id))
            .filter(|(_, c)| email.is_none_or(|e| c.email.eq_ignore_ascii_case(e.trim())))
            .filter(|(_, c)| {
                after.is_none_or(|d| c.udate.get(..10).is_some_and(|day| day >= d.as_str()))
            })
            .collect();
        if q.get("orders[udate]")
            .is_some_and(|o| o.eq_ignore_ascii_case("ASC"))
        {
            rows.sort_by(|a, b| (&a.1.udate, a.0).cmp(&(&b.1.udate, b.0)));
        }
        let all = rows
            .into_iter()
            .map(|(i, c)| Self::contact_json(*i, c))
            .collect();
        page(q, "contacts", all)
    }

    fn sync_contact(&mut self, body: &Value) -> Reply {
        self.sync_contact_as(body, "api")
    }

    pub(super) fn sync_contact_as(&mut self, body: &Value, source: &str) -> Reply {
        let c = &body["contact"];
        let email = s(c, "email").trim().to_owned();
        if email.is_empty() || !email.contains('@') {
            return error(
                422,
                "field_invalid",
                "Contact Email Address is not valid.",
                "email",
            );
        }
        let mut values = Vec::new();
        if let Some(fv) = c.get("fieldValues") {
            let Some(items) = fv.as_array() else {
                return error(
                    422,
                    "field_invalid",
                    "fieldValues must be an array",
                    "fieldValues",
                );
            };
            for item in items {
                match id_of(item, "field").filter(|f| self.fields.contains_key(f)) {
                    Some(f) => values.push((f, s(item, "value"))),
                    None => {
                        return error(422, "field_invalid", "Unknown custom field", "fieldValues");
                    }
                }
            }
        }
        let existing = self
            .contact_by_email(&email)
            .and_then(|i| i.parse::<u64>().ok());
        let (id, status) = match existing {
            Some(id) => (id, 200),
            None => {
                let id = self.id();
                let at = now();
                self.contacts.insert(
                    id,
                    Contact {
                        email: email.clone(),
                        cdate: at.clone(),
                        udate: at,
                        ..Contact::default()
                    },
                );
                (id, 201)
            }
        };
        if let Some(contact) = self.contacts.get_mut(&id) {
            for (name, slot) in [
                ("firstName", &mut contact.first_name),
                ("lastName", &mut contact.last_name),
                ("phone", &mut contact.phone),
            ] {
                if c.get(name).is_some() {
                    *slot = s(c, name);
                }
            }
            contact.email = email;
            contact.fields.extend(values);
            contact.udate = now();
        }
        self.emit("update", source, id, None);
        let contact = self.contacts.get(&id).cloned().unwrap_or_default();
        (status, json!({"contact": Self::contact_json(id, &contact)}))
    }
}

/// Rows matching every `filters[x]=v` (string comparison, `email` case-insensitive).
fn filter(rows: &BTreeMap<u64, Value>, q: &BTreeMap<String, String>) -> Vec<Value> {
    rows.values()
        .filter(|row| {
            q.iter().all(|(k, want)| {
                let Some(field) = k.strip_prefix("filters[").and_then(|r| r.strip_suffix(']'))
                else {
                    return true;
                };
                let got = s(row, field);
                if field == "email" {
                    got.eq_ignore_ascii_case(want)
                } else {
                    got == *want
                }
            })
        })
        .cloned()
        .collect()
}

/// `limit` (default 20, max 100) / `offset` paging with `meta.total` as a string.
fn page(q: &BTreeMap<String, String>, name: &str, all: Vec<Value>) -> Reply {
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let total = all.len();
    let rows: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let mut out = Map::new();
    out.insert(name.to_owned(), Value::Array(rows));
    out.insert("meta".to_owned(), json!({"total": total.to_string()}));
    (200, Value::Object(out))
}
