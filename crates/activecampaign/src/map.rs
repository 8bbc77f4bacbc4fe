//! Pure conversion between canonical intents and ActiveCampaign wire types.

use std::collections::HashMap;

use cartograph_connector::{Error, Result};
use cartograph_model::{
    ContactUpsert, CrmContact, EmailAddress, OrderRecord, Origin, PropertyMap, PropertyType,
    PropertyValue, Timestamp,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

use crate::wire::{
    BulkContact, BulkField, BulkList, Contact, ContactSync, EcomOrderInput, FieldValueInput,
    OrderProduct,
};

/// Contact properties that are standard `/contact/sync` fields, not custom fields.
pub const STANDARD_CONTACT_FIELDS: [&str; 4] = ["email", "firstName", "lastName", "phone"];

/// Contact property the connector reads (not written as a field): whether the person
/// accepted marketing; `true` subscribes them to the configured list (status 1) unless they
/// unsubscribed.
pub const ACCEPTS_MARKETING: &str = "acceptsMarketing";

/// `source` of a Deep Data record: 0 for historical (never fires automations), 1 for live.
pub const fn source(origin: Origin) -> u8 {
    match origin {
        Origin::Historical => 0,
        Origin::Live => 1,
    }
}

/// A property value as ActiveCampaign field text: numbers plain, booleans `1`/`0`, dates
/// `YYYY-MM-DD`, instants RFC 3339, multi-values `||a||b||`, null empty.
pub fn field_text(value: &PropertyValue) -> String {
    match value {
        PropertyValue::String(s) | PropertyValue::Enumeration(s) => s.clone(),
        PropertyValue::Number(n) => n.normalize().to_string(),
        PropertyValue::Bool(b) => if *b { "1" } else { "0" }.to_owned(),
        PropertyValue::Date(d) => d.to_string(),
        PropertyValue::DateTime(t) => t.to_rfc3339(),
        PropertyValue::MultiEnumeration(v) => format!("||{}||", v.join("||")),
        PropertyValue::Null => String::new(),
    }
}

/// The ActiveCampaign field type for a canonical property type.
pub const fn field_type(kind: PropertyType) -> &'static str {
    match kind {
        PropertyType::String | PropertyType::Number | PropertyType::Bool => "text",
        PropertyType::Date => "date",
        PropertyType::DateTime => "datetime",
        PropertyType::Enumeration => "dropdown",
        PropertyType::MultiEnumeration => "listbox",
    }
}

/// The `/contact/sync` body for one upsert. `email` is the address to write (from the
/// identity, or the stored contact when the upsert names only a record id); `fields` maps
/// upper-case personalization tags to field ids.
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] naming the record and property when a
/// property is not a known custom field.
pub fn contact_sync<S: std::hash::BuildHasher>(
    upsert: &ContactUpsert,
    email: &str,
    fields: &HashMap<String, String, S>,
) -> Result<ContactSync> {
    let mut body = ContactSync {
        email: email.to_owned(),
        ..ContactSync::default()
    };
    for (name, value) in &upsert.properties {
        let text = || Some(field_text(value)).filter(|t| !t.is_empty());
        match name.as_str() {
            "email" | ACCEPTS_MARKETING => {}
            "firstName" => body.first_name = text(),
            "lastName" => body.last_name = text(),
            "phone" => body.phone = text(),
            other => {
                let Some(id) = fields.get(&other.to_uppercase()) else {
                    return Err(Error::invalid_field(
                        upsert.key.clone(),
                        other.to_owned(),
                        "no such ActiveCampaign custom field (ensure_properties creates it)",
                    )
                    .with_connector(crate::error::CONNECTOR)
                    .with_operation("upsert_contacts"));
                };
                body.field_values.push(FieldValueInput {
                    field: id.clone(),
                    value: field_text(value),
                });
            }
        }
    }
    Ok(body)
}

/// One contact of a bulk import: the same fields as [`contact_sync`], plus `tags` and, when
/// the person accepted marketing, `list` to subscribe to.
///
/// # Errors
/// As for [`contact_sync`].
pub fn bulk_contact<S: std::hash::BuildHasher>(
    upsert: &ContactUpsert,
    email: &str,
    fields: &HashMap<String, String, S>,
    tags: &[String],
    list: Option<&str>,
) -> Result<BulkContact> {
    let sync = contact_sync(upsert, email, fields)?;
    Ok(BulkContact {
        email: sync.email,
        first_name: sync.first_name,
        last_name: sync.last_name,
        phone: sync.phone,
        tags: tags.to_vec(),
        fields: sync
            .field_values
            .into_iter()
            .map(|f| BulkField {
                id: f.field,
                value: f.value,
            })
            .collect(),
        subscribe: list
            .filter(|_| accepts_marketing(&upsert.properties))
            .map(|l| BulkList {
                listid: l.to_owned(),
            })
            .into_iter()
            .collect(),
    })
}

/// Whether an upsert says the person accepted marketing.
pub fn accepts_marketing(properties: &PropertyMap) -> bool {
    matches!(
        properties.get(ACCEPTS_MARKETING),
        Some(PropertyValue::Bool(true))
    ) || matches!(properties.get(ACCEPTS_MARKETING), Some(PropertyValue::String(s)) if s == "1" || s == "true")
}

/// Parses an ActiveCampaign timestamp (`2018-09-29T16:55:35-05:00`, or
/// `2018-09-29 16:55:35` taken as UTC).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(text)
        .ok()
        .or_else(|| Timestamp::parse_rfc3339(&format!("{}Z", text.replacen(' ', "T", 1))).ok())
}

/// A contact read from ActiveCampaign as a canonical [`CrmContact`] (properties
/// `email`, `firstName`, `lastName`, `phone`; `updated_at` from `udate`).
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] naming the contact and field when `udate`
/// is not a timestamp.
pub fn contact(wire: &Contact) -> Result<CrmContact> {
    let record = format!("activecampaign:contact:{}", wire.id);
    let updated_at = match wire.udate.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(text) => Some(parse_time(text).ok_or_else(|| {
            Error::invalid_field(
                record.clone(),
                "udate",
                format!("not a timestamp: {text:?}"),
            )
            .with_connector(crate::error::CONNECTOR)
        })?),
    };
    let mut properties = PropertyMap::new();
    let mut put = |name: &str, value: Option<&String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            properties.insert(name.to_owned(), PropertyValue::String(v.clone()));
        }
    };
    put("email", Some(&wire.email));
    put("firstName", wire.first_name.as_ref());
    put("lastName", wire.last_name.as_ref());
    put("phone", wire.phone.as_ref());
    Ok(CrmContact {
        crm_id: wire.id.clone(),
        email: EmailAddress::new(wire.email.clone()),
        secondary_emails: Vec::new(),
        properties,
        updated_at,
    })
}

fn invalid(key: &str, field: &str, why: impl Into<String>) -> Error {
    Error::invalid_field(key.to_owned(), field.to_owned(), why)
        .with_connector(crate::error::CONNECTOR)
        .with_operation("record_orders")
}

fn text(props: &PropertyMap, name: &str) -> Option<String> {
    match props.get(name)? {
        PropertyValue::Null => None,
        v => Some(field_text(v)).filter(|t| !t.is_empty()),
    }
}

/// Integer cents from a property already in minor units; must be whole and >= 0.
fn cents(key: &str, props: &PropertyMap, name: &str) -> Result<Option<i64>> {
    let value = match props.get(name) {
        None | Some(PropertyValue::Null) => return Ok(None),
        Some(PropertyValue::Number(n)) => *n,
        Some(PropertyValue::String(s)) => s
            .trim()
            .parse::<Decimal>()
            .map_err(|_| invalid(key, name, format!("not a number: {s:?}")))?,
        Some(other) => {
            return Err(invalid(
                key,
                name,
                format!("expected integer cents, got {}", other.type_name()),
            ));
        }
    };
    if value.is_sign_negative() && !value.is_zero() {
        return Err(invalid(
            key,
            name,
            "amounts cannot be negative (refunds lower the order totals instead)",
        ));
    }
    if value.fract() != Decimal::ZERO {
        return Err(invalid(key, name, format!("{value} is not whole cents")));
    }
    value
        .to_i64()
        .map(Some)
        .ok_or_else(|| invalid(key, name, "amount out of range"))
}

fn date_text(props: &PropertyMap, name: &str) -> Option<String> {
    match props.get(name)? {
        PropertyValue::DateTime(t) => Some(t.to_rfc3339()),
        PropertyValue::Date(d) => Some(Timestamp::start_of_day(*d).to_rfc3339()),
        PropertyValue::Null => None,
        other => Some(field_text(other)).filter(|t| !t.is_empty()),
    }
}

/// Whether a record is an abandoned cart (it carries `abandonedDate`, or a checkout id and
/// no order id).
pub fn is_cart(record: &OrderRecord) -> bool {
    record.properties.contains_key("abandonedDate")
        || (record.properties.contains_key("externalcheckoutid")
            && !record.properties.contains_key("externalid"))
}

/// The `ecomOrder` body for one order record (or abandoned cart), `source` from its origin.
///
/// # Errors
/// [`cartograph_connector::ErrorKind::Invalid`] naming the record and field for a missing
/// email or currency, negative or fractional cents.
pub fn ecom_order(
    record: &OrderRecord,
    email: &str,
    connection_id: &str,
    customer_id: &str,
) -> Result<EcomOrderInput> {
    let key = record.key.as_str();
    let p = &record.properties;
    let cart = is_cart(record);
    let (externalid, externalcheckoutid) = if cart {
        (
            None,
            Some(text(p, "externalcheckoutid").unwrap_or_else(|| key.to_owned())),
        )
    } else {
        (
            Some(text(p, "externalid").unwrap_or_else(|| key.to_owned())),
            text(p, "externalcheckoutid"),
        )
    };
    let currency = text(p, "currency")
        .map(|c| c.to_uppercase())
        .ok_or_else(|| invalid(key, "currency", "missing"))?;
    if email.trim().is_empty() {
        return Err(invalid(key, "email", "missing"));
    }
    let total_price = cents(key, p, "totalPrice")?.unwrap_or(0);
    let shipping_amount = cents(key, p, "shippingAmount")?;
    let tax_amount = cents(key, p, "taxAmount")?;
    let discount_amount = cents(key, p, "discountAmount")?;
    let mut products = Vec::with_capacity(record.line_items.len());
    for line in &record.line_items {
        let lp = &line.properties;
        let line_key = format!("{key}/{}", line.key);
        let quantity = cents(&line_key, lp, "quantity")?.unwrap_or(1);
        let externalid = text(lp, "externalid").unwrap_or_else(|| line.key.clone());
        products.push(OrderProduct {
            name: text(lp, "name").unwrap_or_else(|| externalid.clone()),
            externalid,
            price: cents(&line_key, lp, "price")?.unwrap_or(0),
            quantity,
            sku: text(lp, "sku"),
            category: text(lp, "category"),
            image_url: text(lp, "imageUrl"),
            product_url: text(lp, "productUrl"),
        });
    }
    Ok(EcomOrderInput {
        externalid,
        externalcheckoutid,
        source: source(record.origin),
        email: email.to_owned(),
        total_price,
        shipping_amount,
        tax_amount,
        discount_amount,
        currency,
        connectionid: connection_id.to_owned(),
        customerid: customer_id.to_owned(),
        order_url: text(p, "orderUrl"),
        external_created_date: date_text(p, "externalCreatedDate"),
        external_updated_date: date_text(p, "externalUpdatedDate"),
        abandoned_date: if cart {
            date_text(p, "abandonedDate")
        } else {
            None
        },
        shipping_method: text(p, "shippingMethod"),
        order_number: text(p, "orderNumber"),
        order_products: products,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cartograph_model::{ContactRef, IdentityKeys, LineItemRecord, OrderObject};

    fn props(pairs: &[(&str, PropertyValue)]) -> PropertyMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn record(origin: Origin, extra: &[(&str, PropertyValue)]) -> OrderRecord {
        let mut properties = props(&[
            ("externalid", PropertyValue::String("1001".into())),
            ("totalPrice", PropertyValue::Number(Decimal::new(45678, 0))),
            (
                "shippingAmount",
                PropertyValue::Number(Decimal::new(500, 0)),
            ),
            ("currency", PropertyValue::String("usd".into())),
            ("orderNumber", PropertyValue::String("1001".into())),
            ("shippingMethod", PropertyValue::String("UPS Ground".into())),
            (
                "externalCreatedDate",
                PropertyValue::DateTime(
                    Timestamp::parse_rfc3339("2024-05-01T10:00:00Z").expect("valid"),
                ),
            ),
        ]);
        properties.extend(props(extra));
        OrderRecord {
            key: "bigcommerce:order:1001".into(),
            object: OrderObject::Order,
            contact: Some(ContactRef::Email(
                EmailAddress::new("ada@example.com").expect("valid"),
            )),
            properties,
            line_items: vec![LineItemRecord {
                key: "l1".into(),
                product_key: None,
                properties: props(&[
                    ("externalid", PropertyValue::String("77".into())),
                    ("name", PropertyValue::String("Widget".into())),
                    ("price", PropertyValue::Number(Decimal::new(22589, 0))),
                    ("quantity", PropertyValue::Number(Decimal::new(2, 0))),
                    ("category", PropertyValue::String("Tools".into())),
                ]),
            }],
            origin,
        }
    }

    #[test]
    fn historical_orders_are_source_zero_and_live_source_one() {
        let hist = ecom_order(
            &record(Origin::Historical, &[]),
            "ada@example.com",
            "1",
            "9",
        )
        .expect("valid");
        assert_eq!(hist.source, 0);
        let live =
            ecom_order(&record(Origin::Live, &[]), "ada@example.com", "1", "9").expect("valid");
        assert_eq!(live.source, 1);
        let json = serde_json::to_value(&live).expect("serializes");
        assert_eq!(json["totalPrice"], 45678);
        assert_eq!(json["currency"], "USD");
        assert_eq!(json["orderProducts"][0]["price"], 22589);
        assert_eq!(json["orderProducts"][0]["quantity"], 2);
        assert_eq!(json["orderProducts"][0]["category"], "Tools");
        assert_eq!(json["externalCreatedDate"], "2024-05-01T10:00:00Z");
        assert_eq!(json["shippingMethod"], "UPS Ground");
        assert!(json.get("abandonedDate").is_none());
    }

    #[test]
    fn negative_or_fractional_cents_name_the_field() {
        let bad = record(
            Origin::Live,
            &[("totalPrice", PropertyValue::Number(Decimal::new(-100, 0)))],
        );
        let err = ecom_order(&bad, "a@b.c", "1", "9").expect_err("negative");
        assert_eq!(err.field(), Some("totalPrice"));
        assert_eq!(err.record(), Some("bigcommerce:order:1001"));
        let bad = record(
            Origin::Live,
            &[("taxAmount", PropertyValue::Number(Decimal::new(1005, 1)))],
        );
        let err = ecom_order(&bad, "a@b.c", "1", "9").expect_err("fraction");
        assert_eq!(err.field(), Some("taxAmount"));
    }

    #[test]
    fn abandoned_carts_carry_checkout_id_and_no_order_id() {
        let mut cart = record(
            Origin::Live,
            &[
                ("externalcheckoutid", PropertyValue::String("cart-9".into())),
                (
                    "abandonedDate",
                    PropertyValue::DateTime(
                        Timestamp::parse_rfc3339("2024-05-02T10:00:00Z").expect("valid"),
                    ),
                ),
            ],
        );
        cart.properties.remove("externalid");
        assert!(is_cart(&cart));
        let body = ecom_order(&cart, "a@b.c", "1", "9").expect("valid");
        assert_eq!(body.externalid, None);
        assert_eq!(body.externalcheckoutid.as_deref(), Some("cart-9"));
        assert_eq!(body.abandoned_date.as_deref(), Some("2024-05-02T10:00:00Z"));
    }

    #[test]
    fn contact_sync_splits_standard_and_custom_fields() {
        let upsert = ContactUpsert {
            key: "p1".into(),
            identity: IdentityKeys::default(),
            properties: props(&[
                ("firstName", PropertyValue::String("Ada".into())),
                ("ECOM_LTV", PropertyValue::Number(Decimal::new(12050, 2))),
                (
                    "ECOM_TOP_CATEGORIES",
                    PropertyValue::MultiEnumeration(vec!["a".into(), "b".into()]),
                ),
                (ACCEPTS_MARKETING, PropertyValue::Bool(true)),
            ]),
            origin: Origin::Live,
        };
        let fields: HashMap<String, String> = [
            ("ECOM_LTV".to_owned(), "3".to_owned()),
            ("ECOM_TOP_CATEGORIES".to_owned(), "4".to_owned()),
        ]
        .into();
        let body = contact_sync(&upsert, "ada@example.com", &fields).expect("valid");
        assert_eq!(body.first_name.as_deref(), Some("Ada"));
        assert_eq!(
            body.field_values,
            vec![
                FieldValueInput {
                    field: "3".into(),
                    value: "120.5".into()
                },
                FieldValueInput {
                    field: "4".into(),
                    value: "||a||b||".into()
                },
            ]
        );
        assert!(accepts_marketing(&upsert.properties));
        let mut unknown = upsert.clone();
        unknown
            .properties
            .insert("NOPE".into(), PropertyValue::String("x".into()));
        let err = contact_sync(&unknown, "ada@example.com", &fields).expect_err("unknown");
        assert_eq!(err.field(), Some("NOPE"));
        assert_eq!(err.record(), Some("p1"));
    }

    #[test]
    fn contacts_read_from_the_vendor_shape() {
        let wire: Contact = serde_json::from_value(serde_json::json!({
            "id": "7", "email": "Ada@Example.com", "firstName": "Ada", "lastName": "",
            "phone": "", "cdate": "2018-09-29T16:55:35-05:00", "udate": "2018-09-29T16:55:35-05:00"
        }))
        .expect("valid");
        let c = contact(&wire).expect("valid");
        assert_eq!(c.crm_id, "7");
        assert_eq!(
            c.properties.get("firstName"),
            Some(&PropertyValue::String("Ada".into()))
        );
        assert!(!c.properties.contains_key("lastName"));
        assert_eq!(
            c.updated_at.map(|t| t.to_rfc3339()).as_deref(),
            Some("2018-09-29T21:55:35Z")
        );
        let bad: Contact = serde_json::from_value(
            serde_json::json!({"id": 8, "email": "x@y.z", "udate": "yesterday"}),
        )
        .expect("valid");
        let err = contact(&bad).expect_err("bad udate");
        assert_eq!(err.field(), Some("udate"));
    }
}
