//! The simulated org's records and the REST semantics over them.

use std::collections::{BTreeMap, HashMap};

use cartograph_sim::SimRecordView;
use serde_json::{Map, Value, json};

mod catalog;
mod composite;

/// A response: status and JSON body.
pub(crate) type Reply = (u16, Value);

pub(crate) fn error(status: u16, code: &str, message: &str, fields: &[&str]) -> Reply {
    (
        status,
        json!([{"message": message, "errorCode": code, "fields": fields}]),
    )
}

fn record_error(code: &str, message: &str, fields: &[&str]) -> Value {
    json!({"id": null, "success": false, "errors": [
        {"statusCode": code, "message": message, "fields": fields}]})
}

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) fields: Map<String, Value>,
}

const STANDARD: &[(&str, &[&str])] = &[
    (
        "Contact",
        &[
            "Id",
            "Email",
            "FirstName",
            "LastName",
            "Phone",
            "MailingStreet",
            "MailingCity",
            "MailingState",
            "MailingPostalCode",
            "MailingCountry",
            "HasOptedOutOfEmail",
            "AccountId",
            "OwnerId",
            "LastModifiedDate",
            "SystemModstamp",
        ],
    ),
    (
        "Lead",
        &[
            "Id",
            "Email",
            "FirstName",
            "LastName",
            "Company",
            "Phone",
            "LeadSource",
            "HasOptedOutOfEmail",
            "IsConverted",
            "ConvertedContactId",
            "ConvertedAccountId",
            "ConvertedDate",
            "OwnerId",
            "LastModifiedDate",
            "SystemModstamp",
        ],
    ),
    (
        "Account",
        &[
            "Id",
            "Name",
            "Phone",
            "BillingStreet",
            "BillingCity",
            "BillingState",
            "BillingPostalCode",
            "BillingCountry",
            "OwnerId",
            "LastModifiedDate",
        ],
    ),
    (
        "Opportunity",
        &[
            "Id",
            "Name",
            "Amount",
            "CloseDate",
            "StageName",
            "Description",
            "ContactId",
            "AccountId",
            "OwnerId",
            "LastModifiedDate",
        ],
    ),
    (
        "Task",
        &[
            "Id",
            "Subject",
            "Description",
            "Priority",
            "Status",
            "ActivityDate",
            "WhoId",
            "WhatId",
            "OwnerId",
            "LastModifiedDate",
        ],
    ),
    (
        "Case",
        &[
            "Id",
            "Subject",
            "Description",
            "SuppliedEmail",
            "Status",
            "Origin",
            "Priority",
            "ContactId",
            "OwnerId",
            "LastModifiedDate",
        ],
    ),
    ("Campaign", &["Id", "Name", "IsActive", "LastModifiedDate"]),
    (
        "CampaignMember",
        &[
            "Id",
            "CampaignId",
            "ContactId",
            "LeadId",
            "Status",
            "LastModifiedDate",
        ],
    ),
    (
        "Order",
        &[
            "Id",
            "EffectiveDate",
            "Status",
            "Description",
            "AccountId",
            "BillingStreet",
            "BillingCity",
            "BillingPostalCode",
            "BillingCountry",
            "ShippingCity",
            "ShippingPostalCode",
            "ShippingCountry",
            "LastModifiedDate",
        ],
    ),
];

const REQUIRED: &[(&str, &[&str])] = &[
    ("Contact", &["LastName"]),
    ("Lead", &["LastName", "Company"]),
    ("Opportunity", &["Name", "StageName", "CloseDate"]),
    ("Campaign", &["Name"]),
];

/// Fields the API never writes (conversion sets them): a write naming one fails with
/// `INVALID_FIELD_FOR_INSERT_UPDATE`.
const READ_ONLY: &[(&str, &[&str])] = &[(
    "Lead",
    &[
        "IsConverted",
        "ConvertedContactId",
        "ConvertedAccountId",
        "ConvertedDate",
    ],
)];

/// Lead fields a conversion copies to the new Contact (the standard lead field mapping).
const CONVERTED_TO_CONTACT: &[&str] = &[
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "HasOptedOutOfEmail",
    "OwnerId",
];

fn converted_lead() -> Value {
    record_error(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "cannot reference converted lead",
        &[],
    )
}

fn is_converted(row: &Row) -> bool {
    row.fields.get("IsConverted") == Some(&Value::Bool(true))
}

fn read_only(object: &str, fields: &Map<String, Value>) -> Option<Value> {
    let names = READ_ONLY.iter().find(|(o, _)| *o == object)?.1;
    let name = names.iter().find(|n| fields.contains_key(**n))?;
    Some(record_error(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        &format!(
            "Unable to create/update fields: {name}. Please check the security settings of \
             this field and verify that it is read/write for your profile or permission set."
        ),
        &[name],
    ))
}

fn prefix(sobject: &str) -> &'static str {
    match sobject {
        "Contact" => "003",
        "Lead" => "00Q",
        "Account" => "001",
        "Opportunity" => "006",
        "Task" => "00T",
        "Case" => "500",
        "Campaign" => "701",
        "CampaignMember" => "00v",
        "Order" => "801",
        "Product2" => "01t",
        "Pricebook2" => "01s",
        "PricebookEntry" => "01u",
        "OpportunityLineItem" => "00k",
        "CustomField" => "00N",
        _ => "a00",
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The org.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// sObject -> field name -> canonical spelling (keys lower case).
    fields: HashMap<String, BTreeMap<String, String>>,
    pub(crate) rows: BTreeMap<String, Vec<Row>>,
    next_id: u64,
    /// Query cursor -> remaining rows.
    cursors: HashMap<String, Vec<Value>>,
    pub(crate) duplicate_rule: bool,
    pub(crate) page_size: usize,
    /// Writes whose `Sforce-Call-Options` named a client: (client, sObject, id).
    pub(crate) call_clients: Vec<String>,
}

impl State {
    pub(crate) fn new(page_size: usize, duplicate_rule: bool, preinstall: bool) -> Self {
        let mut state = Self {
            page_size: page_size.max(1),
            duplicate_rule,
            ..Self::default()
        };
        for (object, names) in STANDARD {
            for name in *names {
                state.add_field(object, name);
            }
        }
        if preinstall {
            for object in ["Contact", "Lead", "Task", "Case"] {
                state.add_field(object, crate::config::DEFAULT_EXTERNAL_ID_FIELD);
            }
            state.add_field(
                "Opportunity",
                crate::config::DEFAULT_ORDER_EXTERNAL_ID_FIELD,
            );
        }
        state.install_catalog(preinstall);
        state
    }

    pub(crate) fn add_field(&mut self, object: &str, name: &str) -> bool {
        self.fields
            .entry(object.to_owned())
            .or_default()
            .insert(name.to_ascii_lowercase(), name.to_owned())
            .is_none()
    }

    fn field(&self, object: &str, name: &str) -> Option<&String> {
        self.fields.get(object)?.get(&name.to_ascii_lowercase())
    }

    fn new_id(&mut self, object: &str) -> String {
        self.next_id += 1;
        format!("{}SIM{:012}", prefix(object), self.next_id)
    }

    pub(crate) fn insert(&mut self, object: &str, fields: Map<String, Value>) -> String {
        let id = self.new_id(object);
        let mut fields = fields;
        fields.insert("Id".into(), json!(id));
        fields.insert("LastModifiedDate".into(), json!(now()));
        if object == "Lead" {
            fields.entry("IsConverted").or_insert(json!(false));
        }
        self.rows.entry(object.to_owned()).or_default().push(Row {
            id: id.clone(),
            fields,
        });
        id
    }

    pub(crate) fn views(&self, object: &str) -> Vec<SimRecordView> {
        self.rows
            .get(object)
            .map(|rows| {
                rows.iter()
                    .map(|r| SimRecordView {
                        id: r.id.clone(),
                        properties: r
                            .fields
                            .iter()
                            .filter(|(_, v)| !v.is_null())
                            .map(|(k, v)| (k.clone(), text(v)))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn handle(
        &mut self,
        method: &str,
        segments: &[&str],
        query: &BTreeMap<String, String>,
        body: &Value,
        client: Option<&str>,
    ) -> Reply {
        if method != "GET"
            && let Some(c) = client
        {
            self.call_clients.push(c.to_owned());
        }
        let reply = match (method, segments) {
            ("POST", ["composite"]) => self.composite(body),
            ("POST", ["composite", "sobjects"]) => self.create_many(body),
            ("DELETE", ["composite", "sobjects"]) => (
                200,
                Value::Array(self.delete_many(query.get("ids").map_or("", String::as_str))),
            ),
            ("GET", ["query"]) => match query.get("q") {
                Some(q) => self.query(q),
                None => error(400, "MALFORMED_QUERY", "q is required", &[]),
            },
            ("GET", ["query", cursor]) => self.next_page(cursor),
            ("GET", ["sobjects", object, "describe"]) => self.describe(object),
            ("PATCH", ["composite", "sobjects", object, field]) => self.upsert(object, field, body),
            ("POST", ["sobjects", object]) => self.create(object, body),
            ("PATCH", ["composite", "sobjects"]) => self.update(body),
            ("POST", ["tooling", "sobjects", "CustomField"]) => self.custom_field(body),
            _ => error(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                &[],
            ),
        };
        self.derive();
        reply
    }

    fn describe(&self, object: &str) -> Reply {
        let Some(fields) = self.fields.get(object) else {
            return error(
                404,
                "NOT_FOUND",
                &format!("The requested resource does not exist: {object}"),
                &[],
            );
        };
        let fields: Vec<Value> = fields.values().map(|n| json!({"name": n})).collect();
        (200, json!({"name": object, "fields": fields}))
    }

    fn custom_field(&mut self, body: &Value) -> Reply {
        let full = body.get("FullName").map(text).unwrap_or_default();
        let Some((object, name)) = full.split_once('.') else {
            return error(
                400,
                "INVALID_FIELD",
                "FullName must be Object.Field__c",
                &["FullName"],
            );
        };
        if !self.fields.contains_key(object) {
            return error(
                400,
                "INVALID_TYPE",
                &format!("sObject type '{object}' is not supported."),
                &["FullName"],
            );
        }
        if !name.ends_with("__c") {
            return error(
                400,
                "INVALID_FIELD",
                "Custom field names must end with __c",
                &["FullName"],
            );
        }
        if !self.add_field(object, name) {
            return error(
                400,
                "DUPLICATE_DEVELOPER_NAME",
                "There is already a field with that name",
                &["FullName"],
            );
        }
        let id = self.new_id("CustomField");
        (201, json!({"id": id, "success": true, "errors": []}))
    }

    fn check_fields(&self, object: &str, record: &Map<String, Value>) -> Option<Reply> {
        for name in record.keys() {
            if name == "attributes" || self.field(object, name).is_some() {
                continue;
            }
            return Some(error(
                400,
                "INVALID_FIELD",
                &format!("No such column '{name}' on sobject of type {object}"),
                &[name],
            ));
        }
        None
    }

    fn missing_required(object: &str, fields: &Map<String, Value>) -> Option<Value> {
        let required = REQUIRED
            .iter()
            .chain(catalog::REQUIRED)
            .find(|(o, _)| *o == object)?
            .1;
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|f| {
                fields
                    .get(*f)
                    .is_none_or(|v| v.is_null() || text(v).trim().is_empty())
            })
            .collect();
        (!missing.is_empty()).then(|| {
            record_error(
                "REQUIRED_FIELD_MISSING",
                &format!("Required fields are missing: [{}]", missing.join(", ")),
                &missing,
            )
        })
    }

    fn duplicate(&self, object: &str, fields: &Map<String, Value>) -> bool {
        if !self.duplicate_rule || !matches!(object, "Contact" | "Lead") {
            return false;
        }
        let Some(email) = fields.get("Email").map(text).filter(|e| !e.is_empty()) else {
            return false;
        };
        self.rows.get(object).is_some_and(|rows| {
            rows.iter().any(|r| {
                r.fields
                    .get("Email")
                    .is_some_and(|e| text(e).eq_ignore_ascii_case(&email))
            })
        })
    }

    /// Canonical spelling of every key.
    fn canonical(&self, object: &str, record: &Map<String, Value>) -> Map<String, Value> {
        record
            .iter()
            .filter(|(k, _)| k.as_str() != "attributes")
            .map(|(k, v)| {
                (
                    self.field(object, k).cloned().unwrap_or_else(|| k.clone()),
                    v.clone(),
                )
            })
            .collect()
    }

    fn upsert(&mut self, object: &str, field: &str, body: &Value) -> Reply {
        if !self.fields.contains_key(object) {
            return error(
                404,
                "NOT_FOUND",
                &format!("sObject type '{object}' is not supported."),
                &[],
            );
        }
        let Some(ext) = self.field(object, field).cloned() else {
            return error(
                400,
                "INVALID_FIELD",
                &format!("Provided external ID field does not exist or is not accessible: {field}"),
                &[field],
            );
        };
        let records = body
            .get("records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if records.len() > 200 {
            return error(
                400,
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
                &[],
            );
        }
        let mut parsed = Vec::new();
        for r in &records {
            let Some(map) = r.as_object() else {
                return error(400, "JSON_PARSER_ERROR", "records must be objects", &[]);
            };
            if map
                .get("attributes")
                .and_then(|a| a.get("type"))
                .map(text)
                .as_deref()
                != Some(object)
            {
                return error(
                    400,
                    "INVALID_TYPE",
                    "every record needs attributes.type of the collection's object",
                    &[],
                );
            }
            if let Some(reply) = self.check_fields(object, map) {
                return reply;
            }
            parsed.push(self.canonical(object, map));
        }
        let mut counts: HashMap<String, usize> = HashMap::new();
        for p in &parsed {
            if let Some(v) = p.get(&ext) {
                *counts.entry(text(v).to_lowercase()).or_default() += 1;
            }
        }
        let mut results = Vec::new();
        for mut fields in parsed {
            let value = fields.get(&ext).map(text).unwrap_or_default();
            if value.is_empty() {
                results.push(record_error(
                    "REQUIRED_FIELD_MISSING",
                    &format!("External ID field {ext} is missing"),
                    &[&ext],
                ));
                continue;
            }
            if counts.get(&value.to_lowercase()).copied().unwrap_or(0) > 1 {
                results.push(record_error(
                    "DUPLICATE_EXTERNAL_ID",
                    &format!("Duplicate external id specified: {value}"),
                    &[&ext],
                ));
                continue;
            }
            if let Some(e) = read_only(object, &fields) {
                results.push(e);
                continue;
            }
            let rows = self.rows.entry(object.to_owned()).or_default();
            let matches: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.fields
                        .get(&ext)
                        .is_some_and(|v| text(v).eq_ignore_ascii_case(&value))
                })
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [] => {
                    if let Some(e) = Self::missing_required(object, &fields)
                        .or_else(|| self.check_catalog(object, &mut fields, None))
                    {
                        results.push(e);
                    } else if self.duplicate(object, &fields) {
                        results.push(record_error("DUPLICATES_DETECTED", "You're creating a duplicate record. We recommend you use an existing record instead.", &[]));
                    } else {
                        let id = self.insert(object, fields);
                        results.push(
                            json!({"id": id, "success": true, "errors": [], "created": true}),
                        );
                    }
                }
                [i] if is_converted(&rows[*i]) => results.push(converted_lead()),
                [i] => {
                    let i = *i;
                    let id = rows[i].id.clone();
                    if let Some(e) = self.check_catalog(object, &mut fields, Some(&id)) {
                        results.push(e);
                        continue;
                    }
                    let Some(row) = self.rows.get_mut(object).and_then(|r| r.get_mut(i)) else {
                        continue;
                    };
                    for (k, v) in fields {
                        row.fields.insert(k, v);
                    }
                    row.fields.insert("LastModifiedDate".into(), json!(now()));
                    results.push(
                        json!({"id": row.id, "success": true, "errors": [], "created": false}),
                    );
                }
                _ => results.push(record_error(
                    "DUPLICATE_EXTERNAL_ID",
                    &format!("{ext}: more than one record found for external id field: {value}"),
                    &[&ext],
                )),
            }
        }
        (200, Value::Array(results))
    }

    fn update(&mut self, body: &Value) -> Reply {
        let parsed = match self.typed_records(body) {
            Ok(p) => p,
            Err(reply) => return reply,
        };
        let mut results = Vec::new();
        for (object, mut fields) in parsed {
            let id = fields.remove("Id").map(|v| text(&v)).unwrap_or_default();
            if let Some(e) = self.check_catalog(&object, &mut fields, Some(&id)) {
                results.push(e);
                continue;
            }
            let row = self
                .rows
                .get_mut(&object)
                .and_then(|rows| rows.iter_mut().find(|r| r.id == id));
            if let Some(e) = read_only(&object, &fields) {
                results.push(e);
                continue;
            }
            match row {
                None => results.push(record_error("ENTITY_IS_DELETED", "entity is deleted", &[])),
                Some(row) if is_converted(row) => results.push(converted_lead()),
                Some(row) => {
                    for (k, v) in fields {
                        row.fields.insert(k, v);
                    }
                    row.fields.insert("LastModifiedDate".into(), json!(now()));
                    results.push(json!({"id": row.id, "success": true, "errors": []}));
                }
            }
        }
        (200, Value::Array(results))
    }

    /// Converts a Lead as the Convert button does: a new Account (named by `Company`) and
    /// Contact (name, email, phone, opt-out and owner copied), the Lead marked
    /// `IsConverted` with `ConvertedContactId`/`ConvertedAccountId`/`ConvertedDate`. The
    /// contact's id; `None` for an unknown or already converted Lead.
    pub(crate) fn convert_lead(&mut self, lead_id: &str) -> Option<String> {
        let lead = self
            .rows
            .get("Lead")?
            .iter()
            .find(|r| r.id == lead_id && !is_converted(r))?
            .fields
            .clone();
        let mut account = Map::new();
        let name = lead
            .get("Company")
            .or_else(|| lead.get("LastName"))
            .cloned()
            .unwrap_or_else(|| json!("Converted lead"));
        account.insert("Name".into(), name);
        let account_id = self.insert("Account", account);
        let mut contact: Map<String, Value> = CONVERTED_TO_CONTACT
            .iter()
            .filter_map(|f| lead.get(*f).map(|v| ((*f).to_owned(), v.clone())))
            .collect();
        contact.insert("AccountId".into(), json!(account_id));
        let contact_id = self.insert("Contact", contact);
        let row = self
            .rows
            .get_mut("Lead")?
            .iter_mut()
            .find(|r| r.id == lead_id)?;
        row.fields.insert("IsConverted".into(), json!(true));
        row.fields
            .insert("ConvertedContactId".into(), json!(contact_id));
        row.fields
            .insert("ConvertedAccountId".into(), json!(account_id));
        row.fields.insert(
            "ConvertedDate".into(),
            json!(cartograph_model::Timestamp::now().date().to_string()),
        );
        row.fields.insert("LastModifiedDate".into(), json!(now()));
        Some(contact_id)
    }

    /// Inserts a row as a person in the UI would (no External ID).
    pub(crate) fn insert_as_user(&mut self, object: &str, fields: Map<String, Value>) -> String {
        self.insert(object, fields)
    }

    fn create(&mut self, object: &str, body: &Value) -> Reply {
        let Some(map) = body.as_object() else {
            return error(400, "JSON_PARSER_ERROR", "body must be an object", &[]);
        };
        if !self.fields.contains_key(object) {
            return error(
                404,
                "NOT_FOUND",
                &format!("sObject type '{object}' is not supported."),
                &[],
            );
        }
        if let Some(reply) = self.check_fields(object, map) {
            return reply;
        }
        let fields = self.canonical(object, map);
        if object == "CampaignMember" {
            let campaign = fields.get("CampaignId").map(text).unwrap_or_default();
            let person = fields
                .get("ContactId")
                .or_else(|| fields.get("LeadId"))
                .map(text)
                .unwrap_or_default();
            let known = self
                .rows
                .get("Campaign")
                .is_some_and(|rows| rows.iter().any(|r| r.id == campaign));
            if !known {
                return error(
                    400,
                    "INVALID_CROSS_REFERENCE_KEY",
                    "invalid cross reference id",
                    &["CampaignId"],
                );
            }
            let exists = self.rows.get("CampaignMember").is_some_and(|rows| {
                rows.iter().any(|r| {
                    r.fields.get("CampaignId").map(text) == Some(campaign.clone())
                        && (r.fields.get("ContactId").map(text) == Some(person.clone())
                            || r.fields.get("LeadId").map(text) == Some(person.clone()))
                })
            });
            if exists {
                return error(400, "DUPLICATE_VALUE", "Already a campaign member.", &[]);
            }
        }
        let mut fields = fields;
        if let Some(e) = read_only(object, &fields)
            .or_else(|| Self::missing_required(object, &fields))
            .or_else(|| self.check_catalog(object, &mut fields, None))
        {
            // A single-record call answers an error array (`errorCode`, not `statusCode`).
            let errors: Vec<Value> = e["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| json!({"errorCode": x["statusCode"], "message": x["message"], "fields": x["fields"]}))
                .collect();
            return (400, Value::Array(errors));
        }
        let id = self.insert(object, fields);
        (201, json!({"id": id, "success": true, "errors": []}))
    }

    fn query(&mut self, soql: &str) -> Reply {
        let parsed = match super::soql::parse(soql) {
            Ok(q) => q,
            Err(why) => return error(400, "MALFORMED_QUERY", &why, &[]),
        };
        if !self.fields.contains_key(&parsed.from) {
            return error(
                400,
                "INVALID_TYPE",
                &format!("sObject type '{}' is not supported.", parsed.from),
                &[],
            );
        }
        let mut parsed = parsed;
        let from = parsed.from.clone();
        let mut canonical = |f: &str| self.field(&from, f).cloned().ok_or_else(|| f.to_owned());
        let renamed = parsed
            .select
            .iter()
            .chain(parsed.order_by.iter().map(|(f, _)| f))
            .map(|f| canonical(f))
            .collect::<Result<Vec<String>, String>>()
            .and_then(|names| {
                if let Some(filter) = parsed.filter.as_mut() {
                    filter.map_fields(&mut canonical)?;
                }
                Ok(names)
            });
        let names = match renamed {
            Ok(names) => names,
            Err(f) => {
                return error(
                    400,
                    "INVALID_FIELD",
                    &format!("No such column '{f}' on entity '{from}'"),
                    &[&f],
                );
            }
        };
        let (select, order) = names.split_at(parsed.select.len());
        let order_by: Vec<(String, bool)> = order
            .iter()
            .cloned()
            .zip(parsed.order_by.iter().map(|(_, desc)| *desc))
            .collect();
        let mut rows: Vec<Value> = self
            .rows
            .get(&from)
            .map(|rows| {
                rows.iter()
                    .filter(|r| {
                        parsed.filter.as_ref().is_none_or(|filter| {
                            filter.matches(&|f| r.fields.get(f).cloned().unwrap_or(Value::Null))
                        })
                    })
                    .map(|r| {
                        let mut out = Map::new();
                        out.insert("attributes".into(), json!({"type": from, "url": format!("/services/data/v62.0/sobjects/{from}/{}", r.id)}));
                        for f in select.iter().chain(order_by.iter().map(|(f, _)| f)) {
                            out.insert(f.clone(), r.fields.get(f).cloned().unwrap_or(Value::Null));
                        }
                        Value::Object(out)
                    })
                    .collect()
            })
            .unwrap_or_default();
        super::soql::sort(&mut rows, &order_by);
        for row in &mut rows {
            if let Some(map) = row.as_object_mut() {
                map.retain(|k, _| k == "attributes" || select.contains(k));
            }
        }
        if let Some(limit) = parsed.limit {
            rows.truncate(limit);
        }
        let total = rows.len();
        self.page(rows, total)
    }

    fn page(&mut self, mut rows: Vec<Value>, total: usize) -> Reply {
        let rest = if rows.len() > self.page_size {
            rows.split_off(self.page_size)
        } else {
            Vec::new()
        };
        let next = if rest.is_empty() {
            Value::Null
        } else {
            self.next_id += 1;
            let cursor = format!("01gSIM{:012}-{}", self.next_id, total - rest.len());
            self.cursors.insert(cursor.clone(), rest);
            json!(format!("/services/data/v62.0/query/{cursor}"))
        };
        let done = next.is_null();
        let mut body = json!({"totalSize": total, "done": done, "records": rows});
        if !done {
            body["nextRecordsUrl"] = next;
        }
        (200, body)
    }

    fn next_page(&mut self, cursor: &str) -> Reply {
        let Some(rows) = self.cursors.remove(cursor) else {
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]);
        };
        let offset: usize = cursor
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let total = offset + rows.len();
        self.page(rows, total)
    }
}

pub(crate) fn now() -> String {
    let now = cartograph_model::Timestamp::now();
    let t = cartograph_model::Timestamp::from_unix_seconds(now.unix_seconds()).unwrap_or(now);
    // Salesforce's shape: 2024-05-01T10:00:00.000+0000.
    t.to_rfc3339().replace('Z', ".000+0000")
}
