//! The portal's data: records, property definitions, associations, lists, enrollments,
//! and the validation HubSpot applies to writes.

use std::collections::{BTreeMap, BTreeSet};

use cartograph_model::Timestamp;
use serde_json::{Value, json};

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRecord {
    /// Record id (numeric string).
    pub id: String,
    /// Property values (strings, as HubSpot stores them).
    pub properties: BTreeMap<String, String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last write time.
    pub updated_at: Timestamp,
}

/// A property definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimProperty {
    /// Name.
    pub name: String,
    /// `string`, `number`, `date`, `datetime`, `enumeration`, `bool`.
    pub kind: String,
    /// `text`, `select`, `checkbox`...
    pub field_type: String,
    /// Option values.
    pub options: Vec<(String, String)>,
    /// Unique values (usable as `idProperty`).
    pub unique: bool,
    /// Group.
    pub group: String,
    /// Label.
    pub label: String,
    /// Set by HubSpot only.
    pub read_only: bool,
}

/// A list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimList {
    /// Name.
    pub name: String,
    /// `MANUAL`, `SNAPSHOT` or `DYNAMIC`.
    pub processing_type: String,
    /// Members with their join time, in join order.
    pub members: Vec<(String, Timestamp)>,
}

/// A validation failure, in HubSpot's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    /// `PROPERTY_DOESNT_EXIST`, `INVALID_INTEGER`, ...
    pub(crate) code: String,
    /// Property name.
    pub(crate) property: String,
    /// Message.
    pub(crate) message: String,
}

impl Invalid {
    /// The `errors[]` entry.
    pub(crate) fn detail(&self) -> Value {
        json!({"message": self.message, "code": self.code, "context": {"propertyName": [self.property]}})
    }
}

/// Canonical name of an object type (`0-3` and `deals` are the same).
pub(crate) fn canonical(object: &str) -> Option<&'static str> {
    Some(match object {
        "contacts" | "contact" | "0-1" => "contacts",
        "companies" | "company" | "0-2" => "companies",
        "deals" | "deal" | "0-3" => "deals",
        "tickets" | "0-5" => "tickets",
        "products" | "product" | "0-7" => "products",
        "line_items" | "line_item" | "0-8" => "line_items",
        "tasks" | "task" | "0-27" => "tasks",
        "orders" | "order" | "0-123" => "orders",
        "carts" | "cart" | "0-142" => "carts",
        _ => return None,
    })
}

/// The object type id of a canonical object name (`contacts` is `0-1`), as v4 answers
/// name types.
pub(crate) fn type_id(canonical: &str) -> &str {
    match canonical {
        "contacts" => "0-1",
        "companies" => "0-2",
        "deals" => "0-3",
        "tickets" => "0-5",
        "products" => "0-7",
        "line_items" => "0-8",
        "tasks" => "0-27",
        "orders" => "0-123",
        "carts" => "0-142",
        other => other,
    }
}

/// The property HubSpot bumps on every write of `object`.
pub(crate) fn modified_property(object: &str) -> &'static str {
    if object == "contacts" {
        "lastmodifieddate"
    } else {
        "hs_lastmodifieddate"
    }
}

fn prop(name: &str, kind: &str, field: &str, options: &[&str]) -> SimProperty {
    SimProperty {
        name: name.into(),
        kind: kind.into(),
        field_type: field.into(),
        options: options
            .iter()
            .map(|o| ((*o).to_owned(), (*o).to_owned()))
            .collect(),
        unique: false,
        group: "hubspot_defined".into(),
        label: name.into(),
        read_only: false,
    }
}

/// HubSpot's built-in properties the simulator knows.
pub(crate) fn default_properties(object: &str) -> Vec<SimProperty> {
    let text = |n: &str| prop(n, "string", "text", &[]);
    let number = |n: &str| prop(n, "number", "number", &[]);
    let datetime = |n: &str| prop(n, "datetime", "date", &[]);
    let mut props = match object {
        "contacts" => vec![
            text("email"),
            text("firstname"),
            text("lastname"),
            text("phone"),
            text("company"),
            text("city"),
            text("country"),
            text("zip"),
            text("address"),
            text("state"),
            text("hubspot_owner_id"),
            text("lifecyclestage"),
            text("hs_additional_emails"),
            datetime("lastmodifieddate"),
            datetime("createdate"),
        ],
        "companies" => vec![
            text("name"),
            text("domain"),
            datetime("hs_lastmodifieddate"),
        ],
        "deals" => vec![
            text("dealname"),
            number("amount"),
            text("dealstage"),
            text("pipeline"),
            datetime("closedate"),
            text("deal_currency_code"),
            text("hubspot_owner_id"),
            text("description"),
            datetime("hs_lastmodifieddate"),
            datetime("createdate"),
        ],
        "products" => vec![
            text("name"),
            number("price"),
            text("hs_sku"),
            text("description"),
            number("hs_cost_of_goods_sold"),
            text("hs_url"),
            text("hs_images"),
            datetime("hs_lastmodifieddate"),
        ],
        "line_items" => vec![
            text("name"),
            number("quantity"),
            number("price"),
            number("amount"),
            text("hs_product_id"),
            text("hs_sku"),
            number("discount"),
            text("hs_line_item_currency_code"),
            datetime("hs_lastmodifieddate"),
        ],
        "orders" => vec![
            text("hs_order_name"),
            text("hs_currency_code"),
            number("hs_total_price"),
            number("hs_subtotal_price"),
            text("hs_pipeline"),
            text("hs_pipeline_stage"),
            text("hs_external_order_id"),
            datetime("hs_lastmodifieddate"),
        ],
        "tasks" => vec![
            text("hs_task_subject"),
            text("hs_task_body"),
            prop(
                "hs_task_priority",
                "enumeration",
                "select",
                &["LOW", "MEDIUM", "HIGH", "NONE"],
            ),
            prop(
                "hs_task_status",
                "enumeration",
                "select",
                &[
                    "NOT_STARTED",
                    "IN_PROGRESS",
                    "WAITING",
                    "COMPLETED",
                    "DEFERRED",
                ],
            ),
            prop(
                "hs_task_type",
                "enumeration",
                "select",
                &["TODO", "CALL", "EMAIL"],
            ),
            datetime("hs_timestamp"),
            text("hubspot_owner_id"),
            datetime("hs_lastmodifieddate"),
        ],
        _ => vec![text("name"), datetime("hs_lastmodifieddate")],
    };
    for p in &mut props {
        if matches!(
            p.name.as_str(),
            "lastmodifieddate" | "hs_lastmodifieddate" | "createdate"
        ) {
            p.read_only = true;
        }
    }
    props
}

fn is_date(value: &str) -> bool {
    time::Date::parse(
        value,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .is_ok()
}

/// Checks one value against a definition the way HubSpot does.
pub(crate) fn check_value(def: &SimProperty, value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Ok(());
    }
    let bad = |code: &str, what: &str| {
        Err(Invalid {
            code: code.into(),
            property: def.name.clone(),
            message: format!("{value} was not a valid {what}."),
        })
    };
    match def.kind.as_str() {
        "number" if value.parse::<rust_decimal::Decimal>().is_err() => {
            return bad("INVALID_DECIMAL", "number");
        }
        "bool" if value != "true" && value != "false" => {
            return bad("INVALID_BOOLEAN", "boolean");
        }
        "date" => {
            let midnight_ms = value
                .parse::<i64>()
                .ok()
                .is_some_and(|ms| ms.rem_euclid(86_400_000) == 0);
            if !is_date(value) && !midnight_ms {
                return bad(
                    "INVALID_DATE",
                    "date (YYYY-MM-DD or midnight UTC in epoch ms)",
                );
            }
        }
        "datetime"
            if value.parse::<i64>().is_err()
                && Timestamp::parse_rfc3339(value).is_err()
                && !is_date(value) =>
        {
            return bad("INVALID_DATETIME", "datetime (epoch ms or ISO 8601)");
        }
        "enumeration" => {
            let parts: Vec<&str> = if def.field_type == "checkbox" {
                value.split(';').collect()
            } else {
                vec![value]
            };
            if let Some(p) = parts
                .iter()
                .find(|p| !def.options.iter().any(|(v, _)| v == *p))
            {
                return Err(Invalid {
                    code: "INVALID_OPTION".into(),
                    property: def.name.clone(),
                    message: format!("{p} was not one of the allowed options"),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Lookup indexes by (object, property): normalized value -> lowest record id holding it,
/// built on first use and kept current by [`Portal::write`], so upserts by email or by a
/// unique property stay O(log n) however large the portal grows.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    by: std::collections::HashMap<(String, String), std::collections::HashMap<String, u64>>,
}

impl Lookup {
    /// Forgets an index (rebuilt on next use).
    pub(crate) fn invalidate(&mut self, object: &str, property: &str) {
        self.by.remove(&(object.to_owned(), property.to_owned()));
    }
}

fn lookup_values(object: &str, property: &str, value: &str) -> Vec<String> {
    match (object, property) {
        ("contacts", "email") => vec![value.trim().to_lowercase()],
        ("contacts", "hs_additional_emails") => value
            .split(';')
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect(),
        _ => vec![value.to_owned()],
    }
}

/// All portal data.
#[derive(Debug, Default)]
pub(crate) struct Portal {
    next_id: u64,
    /// Lookup indexes (interior mutability: lookups happen through `&Portal`).
    pub(crate) lookup: std::cell::RefCell<Lookup>,
    /// Records by canonical object type, by numeric id.
    pub(crate) objects: BTreeMap<String, BTreeMap<u64, SimRecord>>,
    /// Property definitions by object type.
    pub(crate) properties: BTreeMap<String, BTreeMap<String, SimProperty>>,
    /// Property groups by object type.
    pub(crate) groups: BTreeMap<String, BTreeMap<String, String>>,
    /// Associations: (from type, from id, to type, to id, type id).
    pub(crate) associations: BTreeSet<(String, String, String, String, u32)>,
    /// Labels of association type ids (`USER_DEFINED` types the portal defines).
    pub(crate) association_labels: BTreeMap<u32, String>,
    /// Lists by id.
    pub(crate) lists: BTreeMap<String, SimList>,
    /// Legacy v2 enrollments (workflow id, email).
    pub(crate) enrollments: Vec<(String, String)>,
}

impl Portal {
    /// A portal with HubSpot's built-in properties.
    pub(crate) fn new() -> Self {
        let mut portal = Self {
            next_id: 100,
            ..Self::default()
        };
        for object in [
            "contacts",
            "companies",
            "deals",
            "products",
            "line_items",
            "orders",
            "tasks",
            "tickets",
            "carts",
        ] {
            portal.ensure_object(object);
        }
        portal
    }

    pub(crate) fn ensure_object(&mut self, object: &str) {
        if !self.properties.contains_key(object) {
            let defs = default_properties(object)
                .into_iter()
                .map(|p| (p.name.clone(), p))
                .collect();
            self.properties.insert(object.to_owned(), defs);
            self.groups
                .entry(object.to_owned())
                .or_default()
                .insert("hubspot_defined".into(), "HubSpot".into());
            self.objects.entry(object.to_owned()).or_default();
        }
    }

    /// A fresh record id.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Validates properties for a write; all problems at once.
    pub(crate) fn validate(&self, object: &str, props: &BTreeMap<String, String>) -> Vec<Invalid> {
        let defs = self.properties.get(object);
        let mut out = Vec::new();
        for (name, value) in props {
            match defs.and_then(|d| d.get(name)) {
                None => out.push(Invalid {
                    code: "PROPERTY_DOESNT_EXIST".into(),
                    property: name.clone(),
                    message: format!("Property \"{name}\" does not exist"),
                }),
                Some(def) if def.read_only => out.push(Invalid {
                    code: "READ_ONLY_VALUE".into(),
                    property: name.clone(),
                    message: format!(
                        "\"{name}\" is a read only property; its value cannot be set."
                    ),
                }),
                Some(def) => {
                    if let Err(e) = check_value(def, value) {
                        out.push(e);
                    }
                }
            }
        }
        out
    }

    /// Finds a record of `object` whose `property` equals `value` (emails
    /// case-insensitively, primary or secondary).
    pub(crate) fn find_by(&self, object: &str, property: &str, value: &str) -> Option<u64> {
        let records = self.objects.get(object)?;
        if property == "hs_object_id" {
            return value.parse().ok().filter(|id| records.contains_key(id));
        }
        if object == "contacts" && property == "email" {
            return self
                .indexed(object, "email", value)
                .or_else(|| self.indexed(object, "hs_additional_emails", value));
        }
        self.indexed(object, property, value)
    }

    fn indexed(&self, object: &str, property: &str, value: &str) -> Option<u64> {
        let wanted = lookup_values(object, property, value).into_iter().next()?;
        let mut lookup = self.lookup.borrow_mut();
        let index = lookup
            .by
            .entry((object.to_owned(), property.to_owned()))
            .or_insert_with(|| {
                let mut index = std::collections::HashMap::new();
                for (id, record) in self.objects.get(object).into_iter().flatten() {
                    if let Some(v) = record.properties.get(property) {
                        for key in lookup_values(object, property, v) {
                            index.entry(key).or_insert(*id);
                        }
                    }
                }
                index
            });
        index.get(&wanted).copied()
    }

    /// Whether `property` of `object` is a unique-value property (or `email` on contacts).
    pub(crate) fn is_unique(&self, object: &str, property: &str) -> bool {
        (object == "contacts" && property == "email")
            || property == "hs_object_id"
            || self
                .properties
                .get(object)
                .and_then(|d| d.get(property))
                .is_some_and(|p| p.unique)
    }

    /// Writes properties (creating the record when `id` is `None`); returns the id and
    /// the properties that actually changed.
    pub(crate) fn write(
        &mut self,
        object: &str,
        id: Option<u64>,
        props: &BTreeMap<String, String>,
        now: Timestamp,
    ) -> (u64, Vec<(String, String)>, bool) {
        let (id, created) = match id {
            Some(id) => (id, false),
            None => (self.next_id(), true),
        };
        let records = self.objects.entry(object.to_owned()).or_default();
        let record = records.entry(id).or_insert_with(|| SimRecord {
            id: id.to_string(),
            properties: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        });
        let mut changed = Vec::new();
        for (k, v) in props {
            let mut v = v.clone();
            if object == "contacts" && k == "email" {
                v = v.trim().to_lowercase();
            }
            if record.properties.get(k) != Some(&v) {
                let old = record.properties.insert(k.clone(), v.clone());
                let mut lookup = self.lookup.borrow_mut();
                if let Some(index) = lookup.by.get_mut(&(object.to_owned(), k.clone())) {
                    let stale = old.as_deref().is_some_and(|old| {
                        lookup_values(object, k, old)
                            .iter()
                            .any(|o| index.get(o) == Some(&id))
                    });
                    if stale {
                        // Another record may hold the old value too: rebuild on next use.
                        lookup.invalidate(object, k);
                    } else {
                        for key in lookup_values(object, k, &v) {
                            let slot = index.entry(key).or_insert(id);
                            *slot = (*slot).min(id);
                        }
                    }
                }
                changed.push((k.clone(), v));
            }
        }
        if created || !changed.is_empty() {
            record.updated_at = now;
            let iso = now.truncated_to_millis().to_rfc3339();
            record
                .properties
                .insert(modified_property(object).to_owned(), iso.clone());
            if created {
                record.properties.insert("createdate".into(), iso);
            }
        }
        record
            .properties
            .insert("hs_object_id".into(), id.to_string());
        (id, changed, created)
    }

    /// A record's JSON (`SimplePublicObject`), with only `wanted` properties when given.
    pub(crate) fn to_json(
        &self,
        object: &str,
        id: u64,
        wanted: Option<&[String]>,
    ) -> Option<Value> {
        let record = self.objects.get(object)?.get(&id)?;
        let mut props = serde_json::Map::new();
        match wanted {
            Some(names) if !names.is_empty() => {
                for n in names {
                    props.insert(
                        n.clone(),
                        record
                            .properties
                            .get(n)
                            .map_or(Value::Null, |v| Value::String(v.clone())),
                    );
                }
                props.insert("hs_object_id".into(), json!(record.id));
            }
            _ => {
                for (k, v) in &record.properties {
                    props.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        Some(json!({
            "id": record.id,
            "properties": props,
            "createdAt": record.created_at.to_rfc3339(),
            "updatedAt": record.updated_at.to_rfc3339(),
            "archived": false,
        }))
    }
}
