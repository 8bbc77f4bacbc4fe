//! The simulated account's records and the API semantics over them.

use std::collections::BTreeMap;

use cartograph_connector::WebhookRequest;
use cartograph_model::Timestamp;
use cartograph_sim::SimRecordView;
use serde_json::{Value, json};

mod api;
mod ecom;

/// An automation run an ecommerce record started (what `source: 1` does and `source: 0`
/// must never do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triggered {
    /// `makes_a_purchase` or `abandoned_cart`.
    pub automation: String,
    /// The buyer's email.
    pub email: String,
    /// The ecomOrder id.
    pub order_id: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Contact {
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) phone: String,
    pub(crate) cdate: String,
    pub(crate) udate: String,
    /// Field id -> value.
    pub(crate) fields: BTreeMap<u64, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    url: String,
    sources: Vec<String>,
    events: Vec<String>,
    push: bool,
}

/// A response: status and JSON body.
pub(crate) type Reply = (u16, Value);

pub(crate) fn error(status: u16, code: &str, title: &str, field: &str) -> Reply {
    (
        status,
        json!({"errors": [{"title": title, "detail": "", "code": code,
                           "source": {"pointer": format!("/data/attributes/{field}")}}]}),
    )
}

fn not_found(what: &str) -> Reply {
    (
        404,
        json!({"message": format!("No Result found for {what}")}),
    )
}

pub(crate) fn now() -> String {
    let now = Timestamp::now();
    Timestamp::from_unix_seconds(now.unix_seconds())
        .unwrap_or(now)
        .to_rfc3339()
}

fn s(v: &Value, name: &str) -> String {
    match v.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn id_of(v: &Value, name: &str) -> Option<u64> {
    s(v, name).parse().ok()
}

#[derive(Debug, Default)]
pub(crate) struct State {
    next: u64,
    pub(crate) contacts: BTreeMap<u64, Contact>,
    /// id -> (title, type, perstag)
    fields: BTreeMap<u64, (String, String, String)>,
    tags: BTreeMap<u64, String>,
    contact_tags: BTreeMap<u64, (u64, u64)>,
    lists: BTreeMap<u64, String>,
    /// (list, contact) -> status
    contact_lists: BTreeMap<(u64, u64), u8>,
    connections: BTreeMap<u64, Value>,
    customers: BTreeMap<u64, Value>,
    orders: BTreeMap<u64, Value>,
    notes: BTreeMap<u64, (u64, String)>,
    automations: BTreeMap<u64, String>,
    webhooks: Vec<Webhook>,
    pub(crate) enrollments: Vec<(String, String)>,
    pub(crate) triggered: Vec<Triggered>,
    pub(crate) bulk_imports: usize,
    pub(crate) deliveries: Vec<WebhookRequest>,
    /// Deliveries for push webhooks, taken by the server task.
    pub(crate) outbox: Vec<WebhookRequest>,
}

impl State {
    pub(crate) fn new() -> Self {
        let mut state = Self::default();
        state.create_list("Master Contact List");
        state
    }

    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub(crate) fn create_list(&mut self, name: &str) -> String {
        let id = self.id();
        self.lists.insert(id, name.to_owned());
        id.to_string()
    }

    pub(crate) fn create_automation(&mut self, name: &str) -> String {
        let id = self.id();
        self.automations.insert(id, name.to_owned());
        id.to_string()
    }

    /// Whether a webhook posts to `url`.
    pub(crate) fn has_webhook(&self, url: &str) -> bool {
        self.webhooks.iter().any(|w| w.url == url)
    }

    pub(crate) fn add_webhook(&mut self, url: &str, push: bool) {
        self.webhooks.push(Webhook {
            url: url.to_owned(),
            sources: ["public", "admin", "system"].map(String::from).to_vec(),
            events: ["update", "subscribe", "unsubscribe"]
                .map(String::from)
                .to_vec(),
            push,
        });
    }

    pub(crate) fn contact_by_email(&self, email: &str) -> Option<String> {
        self.contacts
            .iter()
            .find(|(_, c)| c.email.eq_ignore_ascii_case(email.trim()))
            .map(|(id, _)| id.to_string())
    }

    fn contact_json(id: u64, c: &Contact) -> Value {
        json!({"id": id.to_string(), "email": c.email, "firstName": c.first_name,
               "lastName": c.last_name, "phone": c.phone, "cdate": c.cdate, "udate": c.udate})
    }

    fn emit(&mut self, kind: &str, source: &str, contact: u64, list: Option<u64>) {
        let Some(c) = self.contacts.get(&contact).cloned() else {
            return;
        };
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("type", kind)
            .append_pair("date_time", &now())
            .append_pair("initiated_by", source)
            .append_pair("initiated_from", source)
            .append_pair("list", &list.unwrap_or(0).to_string())
            .append_pair("contact[id]", &contact.to_string())
            .append_pair("contact[email]", &c.email)
            .append_pair("contact[first_name]", &c.first_name)
            .append_pair("contact[last_name]", &c.last_name)
            .append_pair("contact[phone]", &c.phone);
        for (field, value) in &c.fields {
            if let Some((_, _, tag)) = self.fields.get(field) {
                form.append_pair(&format!("contact[fields][{}]", tag.to_lowercase()), value);
            }
        }
        let body = form.finish().into_bytes();
        for hook in &self.webhooks {
            if hook.events.iter().any(|e| e == kind) && hook.sources.iter().any(|s| s == source) {
                let request = WebhookRequest::post(
                    hook.url.clone(),
                    vec![(
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    )],
                    body.clone(),
                );
                if hook.push {
                    self.outbox.push(request.clone());
                }
                self.deliveries.push(request);
            }
        }
    }

    pub(crate) fn edit_contact(
        &mut self,
        contact: &str,
        property: &str,
        value: &str,
        source: &str,
    ) -> bool {
        let Ok(id) = contact.parse::<u64>() else {
            return false;
        };
        let field = self
            .fields
            .iter()
            .find(|(_, (_, _, tag))| tag.eq_ignore_ascii_case(property))
            .map(|(id, _)| *id);
        let Some(c) = self.contacts.get_mut(&id) else {
            return false;
        };
        match property {
            "firstName" => value.clone_into(&mut c.first_name),
            "lastName" => value.clone_into(&mut c.last_name),
            "phone" => value.clone_into(&mut c.phone),
            "email" => value.clone_into(&mut c.email),
            _ => match field {
                Some(f) => {
                    c.fields.insert(f, value.to_owned());
                }
                None => return false,
            },
        }
        c.udate = now();
        self.emit("update", source, id, None);
        true
    }

    pub(crate) fn set_list_status(&mut self, list: &str, contact: &str, status: u8, source: &str) {
        if let (Ok(l), Ok(c)) = (list.parse(), contact.parse()) {
            self.contact_lists.insert((l, c), status);
            self.emit(
                if status == 1 {
                    "subscribe"
                } else {
                    "unsubscribe"
                },
                source,
                c,
                Some(l),
            );
        }
    }

    pub(crate) fn list_status(&self, list: &str, contact: &str) -> Option<u8> {
        let key = (list.parse().ok()?, contact.parse().ok()?);
        self.contact_lists.get(&key).copied()
    }

    pub(crate) fn contact_tag_names(&self, contact: &str) -> Vec<String> {
        let Ok(c) = contact.parse::<u64>() else {
            return Vec::new();
        };
        self.contact_tags
            .values()
            .filter(|(ct, _)| *ct == c)
            .filter_map(|(_, t)| self.tags.get(t).cloned())
            .collect()
    }

    pub(crate) fn contact_views(&self) -> Vec<SimRecordView> {
        self.contacts
            .iter()
            .map(|(id, c)| {
                let mut properties: BTreeMap<String, String> = [
                    ("email", &c.email),
                    ("firstName", &c.first_name),
                    ("lastName", &c.last_name),
                    ("phone", &c.phone),
                    ("udate", &c.udate),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.clone()))
                .collect();
                for (field, value) in &c.fields {
                    if let Some((_, _, tag)) = self.fields.get(field) {
                        properties.insert(tag.clone(), value.clone());
                    }
                }
                SimRecordView {
                    id: id.to_string(),
                    properties,
                }
            })
            .collect()
    }

    /// Sets one field of an ecommerce order as a user would; `false` for an unknown order.
    pub(crate) fn edit_order(&mut self, id: &str, field: &str, value: Value) -> bool {
        match id.parse().ok().and_then(|i: u64| self.orders.get_mut(&i)) {
            Some(Value::Object(order)) => {
                order.insert(field.to_owned(), value);
                true
            }
            _ => false,
        }
    }

    /// Deletes an ecommerce order as a user would; `false` for an unknown order.
    pub(crate) fn delete_order(&mut self, id: &str) -> bool {
        id.parse()
            .ok()
            .and_then(|i: u64| self.orders.remove(&i))
            .is_some()
    }

    pub(crate) fn order_views(&self) -> Vec<SimRecordView> {
        self.orders
            .iter()
            .map(|(id, o)| {
                let mut properties = BTreeMap::new();
                if let Some(map) = o.as_object() {
                    for (k, v) in map {
                        let text = match v {
                            Value::String(s) => s.clone(),
                            Value::Array(a) => a.len().to_string(),
                            other => other.to_string(),
                        };
                        properties.insert(k.clone(), text);
                    }
                }
                SimRecordView {
                    id: id.to_string(),
                    properties,
                }
            })
            .collect()
    }

    pub(crate) fn customer_views(&self) -> Vec<SimRecordView> {
        self.customers
            .iter()
            .map(|(id, c)| SimRecordView {
                id: id.to_string(),
                properties: ["connectionid", "externalid", "email", "acceptsMarketing"]
                    .into_iter()
                    .map(|k| (k.to_owned(), s(c, k)))
                    .collect(),
            })
            .collect()
    }

    pub(crate) fn note_views(&self) -> Vec<SimRecordView> {
        self.notes
            .iter()
            .map(|(id, (contact, note))| SimRecordView {
                id: id.to_string(),
                properties: [
                    ("contact".to_owned(), contact.to_string()),
                    ("note".to_owned(), note.clone()),
                ]
                .into(),
            })
            .collect()
    }
}
