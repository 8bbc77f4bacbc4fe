//! Pure conversions between the canonical model and HubSpot's wire types.

use std::collections::BTreeMap;

use cartograph_connector::{Error, Result};
use cartograph_model::{
    CrmContact, CrmObjectType, EmailAddress, PropertyDefinition, PropertyMap, PropertyType,
    PropertyValue, TaskPriority, Timestamp,
};
use time::macros::format_description;

use crate::wire::{OptionInput, Property, PropertyCreate, SimpleObject};

/// The object type segment used in paths (`contacts`, `0-3` for deals, `line_items`...).
pub fn object_type(object: &CrmObjectType) -> String {
    match object {
        CrmObjectType::Contact => "contacts".into(),
        CrmObjectType::Company => "companies".into(),
        CrmObjectType::Deal => "0-3".into(),
        CrmObjectType::Order => "orders".into(),
        CrmObjectType::LineItem => "line_items".into(),
        CrmObjectType::Product => "products".into(),
        CrmObjectType::Task => "tasks".into(),
        CrmObjectType::Case => "tickets".into(),
        CrmObjectType::Cart => "carts".into(),
        CrmObjectType::Custom(name) => name.clone(),
    }
}

/// Formats one value the way HubSpot wants: always a string; numbers as plain decimals,
/// dates `YYYY-MM-DD`, date-times epoch milliseconds, bools `true`/`false`, multi-select
/// options joined with `;`, `Null` as the empty string (which clears the property).
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] naming `record` and `field` when a
/// multi-select option contains `;` or is empty.
pub fn format_value(record: &str, field: &str, value: &PropertyValue) -> Result<String> {
    Ok(match value {
        PropertyValue::String(s) | PropertyValue::Enumeration(s) => s.clone(),
        // Digits, sign, point and dashes: the body writer's text, without `fmt`.
        PropertyValue::Number(_) | PropertyValue::DateTime(_) => {
            let mut text = String::with_capacity(24);
            crate::body::write_plain_value(&mut text, value);
            text
        }
        PropertyValue::Date(d) if (0..=9999).contains(&d.year()) => {
            let mut text = String::with_capacity(10);
            crate::body::write_plain_value(&mut text, value);
            text
        }
        PropertyValue::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
        PropertyValue::Date(d) => d
            .format(format_description!("[year]-[month]-[day]"))
            .map_err(|e| Error::invalid_field(record, field, format!("bad date: {e}")))?,
        PropertyValue::MultiEnumeration(options) => {
            if let Some(bad) = options.iter().find(|o| o.is_empty() || o.contains(';')) {
                return Err(Error::invalid_field(
                    record,
                    field,
                    format!("multi-select option {bad:?} is empty or contains ';'"),
                )
                .with_connector("hubspot"));
            }
            options.join(";")
        }
        PropertyValue::Null => String::new(),
    })
}

/// Formats a whole property map.
///
/// # Errors
/// As for [`format_value`].
pub fn format_properties(
    record: &str,
    properties: &PropertyMap,
) -> Result<BTreeMap<String, String>> {
    properties
        .iter()
        .map(|(name, value)| Ok((name.clone(), format_value(record, name, value)?)))
        .collect()
}

/// Whether a value HubSpot returned equals what we would write (numbers compared as
/// decimals, so `"10.0"` equals `"10"`).
pub fn same_value(current: Option<&str>, wanted: &str) -> bool {
    let current = current.unwrap_or("");
    if current == wanted {
        return true;
    }
    match (
        current.parse::<rust_decimal::Decimal>(),
        wanted.parse::<rust_decimal::Decimal>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Parses HubSpot's date-time forms: ISO 8601 or epoch milliseconds.
pub fn parse_hubspot_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Timestamp::from_unix_millis(ms).ok();
    }
    Timestamp::parse_rfc3339(text).ok()
}

/// A contact read from HubSpot: properties kept as strings, secondary emails from
/// `hs_additional_emails` (`;`-separated).
pub fn contact_from_wire(object: &SimpleObject) -> CrmContact {
    let email = object.prop("email").and_then(EmailAddress::new);
    let secondary_emails = object
        .prop("hs_additional_emails")
        .map(|s| s.split(';').filter_map(EmailAddress::new).collect())
        .unwrap_or_default();
    let properties = object
        .properties
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|v| (k.clone(), PropertyValue::String(v.clone())))
        })
        .collect();
    let updated_at = object
        .prop("lastmodifieddate")
        .and_then(parse_hubspot_time)
        .or_else(|| object.updated_at.as_deref().and_then(parse_hubspot_time));
    CrmContact {
        crm_id: object.id.clone(),
        email,
        secondary_emails,
        properties,
        updated_at,
    }
}

/// HubSpot `type` and `fieldType` for a canonical property type.
pub fn hubspot_type(kind: PropertyType) -> (&'static str, &'static str) {
    match kind {
        PropertyType::String => ("string", "text"),
        PropertyType::Number => ("number", "number"),
        PropertyType::Bool => ("bool", "booleancheckbox"),
        PropertyType::Date => ("date", "date"),
        PropertyType::DateTime => ("datetime", "date"),
        PropertyType::Enumeration => ("enumeration", "select"),
        PropertyType::MultiEnumeration => ("enumeration", "checkbox"),
    }
}

/// Whether an existing HubSpot property has the wanted type.
pub fn type_matches(existing: &Property, kind: PropertyType) -> bool {
    let (t, field) = hubspot_type(kind);
    if existing.kind != t {
        return false;
    }
    match kind {
        PropertyType::MultiEnumeration => existing.field_type == "checkbox",
        PropertyType::Enumeration => existing.field_type != "checkbox",
        _ => existing.field_type.is_empty() || t != "enumeration" || existing.field_type == field,
    }
}

/// The creation body for a definition, in `group` unless it names its own.
pub fn property_create(def: &PropertyDefinition, group: &str) -> PropertyCreate {
    let (kind, field_type) = hubspot_type(def.kind);
    let mut options: Vec<OptionInput> = def
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| OptionInput {
            label: o.label.clone(),
            value: o.value.clone(),
            hidden: false,
            display_order: i32::try_from(i).ok(),
        })
        .collect();
    if def.kind == PropertyType::Bool && options.is_empty() {
        options = [("Yes", "true"), ("No", "false")]
            .iter()
            .enumerate()
            .map(|(i, (label, value))| OptionInput {
                label: (*label).into(),
                value: (*value).into(),
                hidden: false,
                display_order: i32::try_from(i).ok(),
            })
            .collect();
    }
    PropertyCreate {
        name: def.name.clone(),
        label: def.label.clone(),
        kind: kind.into(),
        field_type: field_type.into(),
        group_name: def.group.clone().unwrap_or_else(|| group.to_owned()),
        description: def.description.clone(),
        options,
        has_unique_value: def.unique,
    }
}

/// HubSpot's task priority values.
pub fn task_priority(priority: TaskPriority) -> &'static str {
    match priority {
        TaskPriority::Low => "LOW",
        TaskPriority::Medium => "MEDIUM",
        TaskPriority::High => "HIGH",
    }
}

#[cfg(test)]
mod tests {
    use cartograph_model::{Decimal, PropertyOption};

    use super::*;

    #[test]
    fn values_are_formatted_as_hubspot_strings() {
        let d = time::macros::date!(2024 - 02 - 29);
        let cases = [
            (PropertyValue::String("x".into()), "x"),
            (PropertyValue::Number(Decimal::new(12550, 2)), "125.50"),
            (PropertyValue::Number(Decimal::new(-3, 0)), "-3"),
            (PropertyValue::Bool(true), "true"),
            (PropertyValue::Bool(false), "false"),
            (PropertyValue::Date(d), "2024-02-29"),
            (
                PropertyValue::DateTime(Timestamp::from_unix_millis(1_700_000_000_123).expect("t")),
                "1700000000123",
            ),
            (PropertyValue::Enumeration("gold".into()), "gold"),
            (
                PropertyValue::MultiEnumeration(vec!["a".into(), "b".into()]),
                "a;b",
            ),
            (PropertyValue::Null, ""),
        ];
        for (value, want) in cases {
            assert_eq!(format_value("r", "f", &value).expect("ok"), want);
        }
        let err = format_value(
            "p-1",
            "tags",
            &PropertyValue::MultiEnumeration(vec!["a;b".into()]),
        )
        .expect_err("bad option");
        assert_eq!(err.record(), Some("p-1"));
        assert_eq!(err.field(), Some("tags"));
        let big = Decimal::from_str_exact("123456789012345678.000001").expect("d");
        assert_eq!(
            format_value("r", "f", &PropertyValue::Number(big)).expect("ok"),
            "123456789012345678.000001"
        );
    }

    #[test]
    fn contacts_map_from_wire() {
        let object: SimpleObject = serde_json::from_value(serde_json::json!({
            "id": "51",
            "properties": {"email": "ada@example.com", "hs_additional_emails": "a@x.io;b@y.io",
                           "lastmodifieddate": "2024-05-01T10:00:00.000Z", "phone": null},
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-05-01T10:00:00Z", "archived": false
        }))
        .expect("valid");
        let contact = contact_from_wire(&object);
        assert_eq!(contact.crm_id, "51");
        assert_eq!(
            contact.email.as_ref().map(EmailAddress::as_str),
            Some("ada@example.com")
        );
        assert_eq!(contact.secondary_emails.len(), 2);
        assert!(!contact.properties.contains_key("phone"));
        assert_eq!(
            contact.updated_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2024-05-01T10:00:00Z")
        );
    }

    #[test]
    fn property_definitions_map_to_types() {
        let def = PropertyDefinition {
            object: CrmObjectType::Deal,
            name: "cartograph_order_id".into(),
            label: "Order id".into(),
            kind: PropertyType::String,
            options: vec![],
            group: None,
            unique: true,
            description: None,
        };
        let body = property_create(&def, "cartograph");
        assert_eq!(
            (body.kind.as_str(), body.field_type.as_str()),
            ("string", "text")
        );
        assert!(body.has_unique_value);
        assert_eq!(body.group_name, "cartograph");
        let multi = PropertyDefinition {
            kind: PropertyType::MultiEnumeration,
            options: vec![PropertyOption {
                value: "a".into(),
                label: "A".into(),
            }],
            ..def
        };
        let body = property_create(&multi, "g");
        assert_eq!(
            (body.kind.as_str(), body.field_type.as_str()),
            ("enumeration", "checkbox")
        );
        assert_eq!(body.options.len(), 1);
        assert!(same_value(Some("10.0"), "10"));
        assert!(!same_value(None, "10"));
    }
}
