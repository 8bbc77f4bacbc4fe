//! What the simulated project holds: resources as the API's JSON, keyed by type and id,
//! access tokens, the message log, subscriptions and their deliveries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cartograph_model::Timestamp;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::client::predicate_time;

/// Resource type ids (`Reference.typeId`) the simulator stores.
pub(crate) const CUSTOMER: &str = "customer";
pub(crate) const ORDER: &str = "order";
pub(crate) const CART: &str = "cart";
pub(crate) const PRODUCT: &str = "product";
pub(crate) const CATEGORY: &str = "category";
pub(crate) const CUSTOMER_GROUP: &str = "customer-group";
pub(crate) const PAYMENT: &str = "payment";
pub(crate) const MESSAGE: &str = "message";

/// The endpoint (path segment) of each stored type.
pub(crate) fn type_of_endpoint(endpoint: &str) -> Option<&'static str> {
    Some(match endpoint {
        "customers" => CUSTOMER,
        "orders" => ORDER,
        "carts" => CART,
        "products" | "product-projections" => PRODUCT,
        "categories" => CATEGORY,
        "customer-groups" => CUSTOMER_GROUP,
        "payments" => PAYMENT,
        "messages" => MESSAGE,
        _ => return None,
    })
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: Instant,
}

/// One subscription delivery attempt to a push endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscription's id.
    pub subscription_id: String,
    /// The message or change notification delivered (message id, or
    /// `<typeId>:<id>:<version>` for changes).
    pub notification: String,
    /// Attempt number (1-based).
    pub attempt: u32,
    /// The receiver's status, `None` when the connection failed.
    pub status: Option<u16>,
}

/// A push subscription (a Google Cloud Pub/Sub topic with a push endpoint, as the simulator
/// models it).
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub(crate) id: String,
    pub(crate) endpoint: String,
    /// Message subscriptions: resource type ids.
    pub(crate) messages: BTreeSet<String>,
    /// Change subscriptions: resource type ids.
    pub(crate) changes: BTreeSet<String>,
    /// `CloudEvents` instead of `Platform` format.
    pub(crate) cloud_events: bool,
}

/// Everything the project holds.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) resources: HashMap<&'static str, BTreeMap<String, Value>>,
    /// Canonical (seed) id -> simulator id, per type id.
    pub(crate) aliases: HashMap<(&'static str, String), String>,
    pub(crate) stores: BTreeSet<String>,
    pub(crate) tokens: HashMap<String, Token>,
    pub(crate) tokens_issued: u64,
    pub(crate) sequence: HashMap<String, i64>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) outbox: Vec<super::events::Outgoing>,
    /// Resources whose next update meets a concurrent change first (test hook).
    pub(crate) interfere: BTreeSet<String>,
    pub(crate) requests: u64,
    /// The project key (in delivery payloads).
    pub(crate) project_key: String,
    /// Largest delivery payload before `payloadNotIncluded`.
    pub(crate) payload_limit: usize,
    /// `(method, path?query)` of every API request, decoded.
    pub(crate) log: Vec<(String, String)>,
    next_id: u64,
    last_time: Option<Timestamp>,
}

impl State {
    pub(crate) fn new(project_key: &str, payload_limit: usize) -> Self {
        Self {
            project_key: project_key.to_owned(),
            payload_limit,
            ..Self::default()
        }
    }

    /// A fresh UUID-shaped id (deterministic, ascending).
    pub(crate) fn uuid(&mut self) -> String {
        self.next_id += 1;
        format!("5c7e0000-0000-4000-8000-{:012x}", self.next_id)
    }

    /// Keeps a UUID-shaped canonical id, else assigns one; remembers the alias.
    pub(crate) fn claim(&mut self, type_id: &'static str, canonical: &str) -> String {
        if let Some(id) = self.aliases.get(&(type_id, canonical.to_owned())) {
            return id.clone();
        }
        let id = if is_uuid(canonical) {
            canonical.to_ascii_lowercase()
        } else {
            self.uuid()
        };
        self.aliases
            .insert((type_id, canonical.to_owned()), id.clone());
        id
    }

    /// The simulator id of a canonical id: the alias, or the id itself when it is stored.
    pub(crate) fn resolve(&self, type_id: &'static str, canonical: &str) -> Option<String> {
        self.aliases
            .get(&(type_id, canonical.to_owned()))
            .cloned()
            .or_else(|| self.get(type_id, canonical).map(|_| canonical.to_owned()))
    }

    pub(crate) fn all(&self, type_id: &'static str) -> impl Iterator<Item = &Value> {
        self.resources
            .get(type_id)
            .into_iter()
            .flat_map(BTreeMap::values)
    }

    pub(crate) fn get(&self, type_id: &'static str, id: &str) -> Option<&Value> {
        self.resources.get(type_id).and_then(|m| m.get(id))
    }

    pub(crate) fn get_mut(&mut self, type_id: &'static str, id: &str) -> Option<&mut Value> {
        self.resources.get_mut(type_id).and_then(|m| m.get_mut(id))
    }

    pub(crate) fn put(&mut self, type_id: &'static str, value: Value) {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.resources.entry(type_id).or_default().insert(id, value);
    }

    pub(crate) fn count(&self, type_id: &'static str) -> usize {
        self.resources.get(type_id).map_or(0, BTreeMap::len)
    }

    /// Now in the API's datetime form (UTC, milliseconds), strictly after every earlier
    /// answer of this method.
    pub(crate) fn now(&mut self) -> String {
        let mut t = Timestamp::now().truncated_to_millis();
        if let Some(last) = self.last_time
            && t <= last
        {
            t = last.saturating_add(time::Duration::milliseconds(1));
        }
        self.last_time = Some(t);
        predicate_time(t)
    }

    /// The next `sequenceNumber` of a resource's messages.
    pub(crate) fn next_sequence(&mut self, resource_id: &str) -> i64 {
        let n = self.sequence.entry(resource_id.to_owned()).or_insert(0);
        *n += 1;
        *n
    }
}

/// Whether `text` looks like a UUID (8-4-4-4-12 hex digits).
pub(crate) fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A `Reference` to a stored resource.
pub(crate) fn reference(type_id: &str, id: &str) -> Value {
    json!({"typeId": type_id, "id": id})
}

/// `LastModifiedBy` / `CreatedBy` of a change made by an API client.
pub(crate) fn client_logging(client_id: &str) -> Value {
    json!({"clientId": client_id, "isPlatformClient": false})
}
