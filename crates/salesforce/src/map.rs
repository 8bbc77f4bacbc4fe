//! Pure conversion between canonical intents and Salesforce JSON records.

use cartograph_model::{
    CrmContact, CrmObjectType, EmailAddress, PropertyMap, PropertyType, PropertyValue,
    TaskPriority, Timestamp,
};
use rust_decimal::prelude::ToPrimitive as _;
use serde_json::{Map, Value, json};

/// A property value as Salesforce JSON: integers as numbers, other decimals as exact decimal
/// strings (Salesforce converts them; no binary float ever carries money), dates
/// `YYYY-MM-DD`, instants RFC 3339, multi-select picklists `a;b`, null clears the field.
///
/// ```
/// use cartograph_model::{Decimal, PropertyValue};
/// use cartograph_salesforce::map::value;
///
/// assert_eq!(value(&PropertyValue::Number(Decimal::new(1999, 2))), "19.99");
/// assert_eq!(value(&PropertyValue::Number(Decimal::new(3, 0))), 3);
/// assert_eq!(value(&PropertyValue::MultiEnumeration(vec!["a".into(), "b".into()])), "a;b");
/// ```
pub fn value(v: &PropertyValue) -> Value {
    match v {
        PropertyValue::String(s) | PropertyValue::Enumeration(s) => Value::String(s.clone()),
        PropertyValue::Number(n) => {
            let n = n.normalize();
            if n.scale() == 0
                && let Some(i) = n.to_i64()
            {
                return json!(i);
            }
            Value::String(n.to_string())
        }
        PropertyValue::Bool(b) => Value::Bool(*b),
        PropertyValue::Date(d) => Value::String(d.to_string()),
        PropertyValue::DateTime(t) => Value::String(t.to_rfc3339()),
        PropertyValue::MultiEnumeration(values) => Value::String(values.join(";")),
        PropertyValue::Null => Value::Null,
    }
}

/// A property map as a Salesforce record body.
pub fn record(properties: &PropertyMap) -> Map<String, Value> {
    properties
        .iter()
        .map(|(k, v)| (k.clone(), value(v)))
        .collect()
}

/// A property value as text (`None` for null).
pub fn prop_text(v: &PropertyValue) -> Option<String> {
    match value(v) {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// JSON text of a record field (`None` for null or missing).
pub fn text(record: &Value, field: &str) -> Option<String> {
    match record.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The sObject of a canonical object type (`None` when Salesforce has no such object).
pub fn sobject(object: &CrmObjectType) -> Option<String> {
    Some(
        match object {
            CrmObjectType::Contact => "Contact",
            CrmObjectType::Company => "Account",
            CrmObjectType::Deal => "Opportunity",
            CrmObjectType::Order => "Order",
            CrmObjectType::LineItem => "OpportunityLineItem",
            CrmObjectType::Product => "Product2",
            CrmObjectType::Task => "Task",
            CrmObjectType::Case => "Case",
            CrmObjectType::Custom(name) => return Some(name.clone()),
            CrmObjectType::Cart => return None,
        }
        .to_owned(),
    )
}

/// Tooling API `Metadata` of a custom field.
pub fn field_metadata(def: &cartograph_model::PropertyDefinition) -> Value {
    let mut m = match def.kind {
        PropertyType::String => json!({"type": "Text", "length": 255}),
        PropertyType::Number => json!({"type": "Number", "precision": 18, "scale": 2}),
        PropertyType::Bool => json!({"type": "Checkbox", "defaultValue": "false"}),
        PropertyType::Date => json!({"type": "Date"}),
        PropertyType::DateTime => json!({"type": "DateTime"}),
        PropertyType::Enumeration | PropertyType::MultiEnumeration => {
            let values: Vec<Value> = def
                .options
                .iter()
                .map(|o| json!({"fullName": o.value, "label": o.label, "default": false}))
                .collect();
            let kind = if def.kind == PropertyType::Enumeration {
                json!({"type": "Picklist"})
            } else {
                json!({"type": "MultiselectPicklist", "visibleLines": 4})
            };
            let mut m = kind;
            m["valueSet"] = json!({"valueSetDefinition": {"value": values, "sorted": false}});
            m
        }
    };
    m["label"] = json!(def.label);
    if let Some(d) = &def.description {
        m["description"] = json!(d);
    }
    if def.unique && def.kind == PropertyType::String {
        m["externalId"] = json!(true);
        m["unique"] = json!(true);
    }
    m
}

/// Task `Priority` (`High`, `Normal`, `Low`).
pub const fn task_priority(p: TaskPriority) -> &'static str {
    match p {
        TaskPriority::High => "High",
        TaskPriority::Low => "Low",
        TaskPriority::Medium => "Normal",
    }
}

/// Case `Priority` (`High`, `Medium`, `Low`).
pub const fn case_priority(p: TaskPriority) -> &'static str {
    match p {
        TaskPriority::High => "High",
        TaskPriority::Low => "Low",
        TaskPriority::Medium => "Medium",
    }
}

/// Parses a Salesforce datetime (`2024-05-01T10:00:00.000+0000`, or RFC 3339).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(t) = Timestamp::parse_rfc3339(text) {
        return Some(t);
    }
    let (head, offset) = text.split_at(text.len().checked_sub(5)?);
    if (offset.starts_with('+') || offset.starts_with('-'))
        && offset[1..].chars().all(|c| c.is_ascii_digit())
    {
        let fixed = format!("{head}{}:{}", &offset[..3], &offset[3..]);
        return Timestamp::parse_rfc3339(&fixed).ok();
    }
    None
}

/// A queried person row as a [`CrmContact`] (every non-null field but `attributes` as a
/// string property).
pub fn contact(row: &Value) -> Option<CrmContact> {
    let id = text(row, "Id")?;
    let mut properties = PropertyMap::new();
    if let Some(map) = row.as_object() {
        for (k, v) in map {
            if k == "attributes" || v.is_null() {
                continue;
            }
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            properties.insert(k.clone(), PropertyValue::String(s));
        }
    }
    Some(CrmContact {
        crm_id: id,
        email: text(row, "Email").and_then(EmailAddress::new),
        secondary_emails: Vec::new(),
        properties,
        updated_at: text(row, "LastModifiedDate").and_then(|t| parse_time(&t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartograph_model::{Decimal, PropertyDefinition};

    #[test]
    fn numbers_never_become_floats() {
        assert_eq!(
            value(&PropertyValue::Number(Decimal::new(1_000_000_001, 2))),
            json!("10000000.01")
        );
        assert_eq!(
            value(&PropertyValue::Number(Decimal::new(1200, 2))),
            json!(12)
        );
        assert_eq!(value(&PropertyValue::Null), Value::Null);
    }

    #[test]
    fn salesforce_datetimes_parse() {
        let t = parse_time("2024-05-01T10:00:00.000+0000").expect("parses");
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00Z");
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn contacts_read_from_query_rows() {
        let row = json!({"attributes": {"type": "Contact"}, "Id": "003A", "Email": "a@b.co",
                         "LastName": "Lovelace", "Phone": null,
                         "LastModifiedDate": "2024-05-01T10:00:00.000+0000"});
        let c = contact(&row).expect("contact");
        assert_eq!(c.crm_id, "003A");
        assert_eq!(c.email.expect("email").as_str(), "a@b.co");
        assert!(c.properties.contains_key("LastName"));
        assert!(!c.properties.contains_key("Phone"));
        assert!(c.updated_at.is_some());
    }

    #[test]
    fn unique_text_fields_become_external_ids() {
        let def = PropertyDefinition {
            object: CrmObjectType::Contact,
            name: "Cartograph_Key__c".into(),
            label: "Key".into(),
            kind: PropertyType::String,
            options: Vec::new(),
            group: None,
            unique: true,
            description: None,
        };
        let m = field_metadata(&def);
        assert_eq!(m["externalId"], json!(true));
        assert_eq!(m["type"], json!("Text"));
        assert_eq!(
            sobject(&CrmObjectType::Deal).as_deref(),
            Some("Opportunity")
        );
    }
}
