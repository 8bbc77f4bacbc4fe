//! Customers and customer groups, both directions.

use cartograph_connector::{Error, ErrorKind, Result};
use cartograph_model::{
    Address, AddressKind, AttributeValue, ConsentState, Customer, CustomerGroup, CustomerWrite,
    EmailAddress, RecordKind, SourceRef, non_blank,
};

use super::{bad, numeric_id, rfc3339_opt};
use crate::wire;

/// The custom attribute that carries `accepts_product_review_abandoned_cart_emails`.
pub const ABANDONED_CART_OPT_IN: &str = "accepts_abandoned_cart_emails";

/// A v3 customer as a canonical [`Customer`].
///
/// Attributes become `attribute:<attribute_id>` (text), form fields `form_field:<name>`,
/// segment ids a `segment_ids` list; the group (when not 0) is the only
/// `customer_group_ids` entry.
pub fn customer(system: &str, c: &wire::Customer) -> Result<Customer> {
    let source = SourceRef::new(system, RecordKind::Customer, c.id.to_string());
    let record = source.to_string();
    let mut out = Customer::new(source);
    out.email = EmailAddress::new(c.email.clone());
    if out.email.is_none() {
        return Err(bad(&record, "email", "customer has no email"));
    }
    out.first_name = non_blank(Some(&c.first_name));
    out.last_name = non_blank(Some(&c.last_name));
    out.company = non_blank(c.company.as_ref());
    out.phone = non_blank(c.phone.as_ref());
    out.addresses = c.addresses.iter().map(address).collect();
    out.customer_group_ids = c
        .customer_group_id
        .filter(|id| *id > 0)
        .map(|id| vec![id.to_string()])
        .unwrap_or_default();
    out.channel = c.origin_channel_id.map(|id| id.to_string());
    out.created_at = rfc3339_opt(&record, "date_created", c.date_created.as_deref())?;
    out.updated_at = rfc3339_opt(&record, "date_modified", c.date_modified.as_deref())?;
    if let Some(flag) = c.accepts_product_review_abandoned_cart_emails {
        out.custom
            .insert(ABANDONED_CART_OPT_IN.into(), AttributeValue::Bool(flag));
    }
    if let Some(category) = non_blank(c.tax_exempt_category.as_ref()) {
        out.custom.insert(
            "tax_exempt_category".into(),
            AttributeValue::String(category),
        );
    }
    for a in &c.attributes {
        out.custom.insert(
            format!("attribute:{}", a.attribute_id),
            AttributeValue::String(a.attribute_value.clone()),
        );
    }
    for f in &c.form_fields {
        let value = match &f.value {
            serde_json::Value::String(s) => AttributeValue::String(s.clone()),
            serde_json::Value::Array(items) => AttributeValue::List(
                items
                    .iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => AttributeValue::String(s.clone()),
                        other => AttributeValue::Json(other.clone()),
                    })
                    .collect(),
            ),
            other => AttributeValue::Json(other.clone()),
        };
        out.custom.insert(format!("form_field:{}", f.name), value);
    }
    if let Some(segments) = c.segment_ids.as_ref().filter(|s| !s.is_empty()) {
        out.custom.insert(
            "segment_ids".into(),
            AttributeValue::List(
                segments
                    .iter()
                    .map(|s| AttributeValue::String(s.clone()))
                    .collect(),
            ),
        );
    }
    Ok(out)
}

fn address(a: &wire::CustomerAddress) -> Address {
    Address {
        kind: match a.address_type.as_deref() {
            Some("residential" | "commercial") => AddressKind::Other,
            _ => AddressKind::Unknown,
        },
        first_name: non_blank(a.first_name.as_ref()),
        last_name: non_blank(a.last_name.as_ref()),
        company: non_blank(a.company.as_ref()),
        line1: non_blank(a.address1.as_ref()),
        line2: non_blank(a.address2.as_ref()),
        city: non_blank(a.city.as_ref()),
        region: non_blank(a.state_or_province.as_ref()),
        region_code: None,
        postcode: non_blank(a.postal_code.as_ref()),
        country_code: non_blank(a.country_code.as_ref()).map(|c| c.to_ascii_uppercase()),
        country: non_blank(a.country.as_ref()),
        phone: non_blank(a.phone.as_ref()),
    }
}

/// A v2 customer group as a canonical [`CustomerGroup`].
pub fn customer_group(system: &str, g: &wire::CustomerGroup) -> CustomerGroup {
    CustomerGroup {
        source: SourceRef::new(system, RecordKind::CustomerGroup, g.id.to_string()),
        name: g.name.clone(),
        is_default: g.is_default,
    }
}

/// A canonical [`CustomerWrite`] as a `POST`/`PUT /v3/customers` body item.
///
/// Creates need `email`, `first_name` and `last_name` (BigCommerce refuses the batch
/// otherwise). `email_consent` sets `accepts_product_review_abandoned_cart_emails`
/// (Subscribed = true, Unsubscribed = false); the only supported custom attribute is
/// `accepts_abandoned_cart_emails` (bool): any other is refused rather than dropped.
pub fn customer_input(w: &CustomerWrite) -> Result<wire::CustomerInput> {
    let record = format!("customer write {}", w.key);
    let id =
        w.id.as_deref()
            .map(|id| numeric_id(&record, "id", id))
            .transpose()?;
    let group = w
        .customer_group_id
        .as_deref()
        .map(|id| numeric_id(&record, "customer_group_id", id))
        .transpose()?;
    let mut input = wire::CustomerInput {
        id,
        email: w.email.as_ref().map(|e| e.as_str().to_owned()),
        first_name: non_blank(w.first_name.as_ref()),
        last_name: non_blank(w.last_name.as_ref()),
        company: w.company.clone(),
        phone: w.phone.clone(),
        customer_group_id: group,
        accepts_product_review_abandoned_cart_emails: match w.email_consent {
            Some(ConsentState::Subscribed) => Some(true),
            Some(ConsentState::Unsubscribed) => Some(false),
            _ => None,
        },
    };
    for (name, value) in &w.custom {
        match (name.as_str(), value) {
            (ABANDONED_CART_OPT_IN, AttributeValue::Bool(flag)) => {
                input.accepts_product_review_abandoned_cart_emails = Some(*flag);
            }
            _ => {
                return Err(Error::invalid_field(
                    record,
                    format!("custom.{name}"),
                    "BigCommerce customer writes support no such attribute",
                )
                .with_connector("bigcommerce"));
            }
        }
    }
    if id.is_none() {
        for (field, missing) in [
            ("email", input.email.is_none()),
            ("first_name", input.first_name.is_none()),
            ("last_name", input.last_name.is_none()),
        ] {
            if missing {
                return Err(Error::new(
                    ErrorKind::Invalid,
                    "required to create a BigCommerce customer",
                )
                .with_connector("bigcommerce")
                .with_record(record)
                .with_field(field));
            }
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use cartograph_model::Timestamp;

    use super::*;

    // Trimmed from the shape of `GET /v3/customers?include=addresses,attributes,formfields`.
    const CUSTOMER: &str = r#"{
      "id": 7, "email": "Jane.Smith@Example.com", "first_name": "Jane", "last_name": "Smith",
      "company": "", "phone": "555-123-4567", "customer_group_id": 3,
      "date_created": "2024-05-14T09:34:00Z", "date_modified": "2024-06-01T10:00:00Z",
      "accepts_product_review_abandoned_cart_emails": true, "origin_channel_id": 1,
      "addresses": [{"id": 1, "customer_id": 7, "first_name": "Jane", "last_name": "Smith",
        "address1": "Addr 1", "address2": "", "city": "San Francisco",
        "state_or_province": "California", "postal_code": "33333", "country_code": "us",
        "country": "United States", "address_type": "residential"}],
      "attributes": [{"id": 9, "attribute_id": 2, "attribute_value": "Large", "customer_id": 7}],
      "form_fields": [{"name": "shirt_size", "value": "Large"},
                      {"name": "colors", "value": ["red", "blue"]}],
      "segment_ids": ["5bb733a9-5491-47b3-9451-9ae8d6a6bc6b"]
    }"#;

    #[test]
    fn customer_maps_every_field() {
        let wire: wire::Customer = serde_json::from_str(CUSTOMER).unwrap();
        let c = customer("bigcommerce", &wire).unwrap();
        assert_eq!(c.source.to_string(), "bigcommerce/customer/7");
        assert_eq!(
            c.email.as_ref().unwrap().normalized(),
            "jane.smith@example.com"
        );
        assert_eq!(c.email.as_ref().unwrap().as_str(), "Jane.Smith@Example.com");
        assert_eq!(c.first_name.as_deref(), Some("Jane"));
        assert_eq!(c.company, None, "blank company is dropped");
        assert_eq!(c.customer_group_ids, vec!["3".to_owned()]);
        assert_eq!(c.channel.as_deref(), Some("1"));
        assert_eq!(
            c.updated_at,
            Some(Timestamp::parse_rfc3339("2024-06-01T10:00:00Z").unwrap())
        );
        let a = &c.addresses[0];
        assert_eq!(a.line1.as_deref(), Some("Addr 1"));
        assert_eq!(a.line2, None);
        assert_eq!(a.region.as_deref(), Some("California"));
        assert_eq!(a.country_code.as_deref(), Some("US"));
        assert_eq!(c.custom[ABANDONED_CART_OPT_IN], AttributeValue::Bool(true));
        assert_eq!(
            c.custom["attribute:2"],
            AttributeValue::String("Large".into())
        );
        assert_eq!(
            c.custom["form_field:colors"],
            AttributeValue::List(vec![
                AttributeValue::String("red".into()),
                AttributeValue::String("blue".into())
            ])
        );
        assert!(c.custom.contains_key("segment_ids"));
    }

    #[test]
    fn group_zero_means_no_group_and_bad_dates_fail() {
        let mut wire: wire::Customer = serde_json::from_str(CUSTOMER).unwrap();
        wire.customer_group_id = Some(0);
        assert!(customer("bc", &wire).unwrap().customer_group_ids.is_empty());
        wire.date_modified = Some("Tue, 20 Nov 2012 00:00:00 +0000".into());
        let err = customer("bc", &wire).unwrap_err();
        assert_eq!(err.field(), Some("date_modified"));
        assert_eq!(err.record(), Some("bc/customer/7"));
    }

    #[test]
    fn writes_need_names_on_create_and_numeric_ids() {
        let mut w = CustomerWrite {
            key: "k1".into(),
            email: EmailAddress::new("a@example.com"),
            first_name: Some("A".into()),
            ..CustomerWrite::default()
        };
        let err = customer_input(&w).unwrap_err();
        assert_eq!(err.field(), Some("last_name"));
        w.last_name = Some("B".into());
        w.email_consent = Some(ConsentState::Subscribed);
        let input = customer_input(&w).unwrap();
        assert_eq!(
            input.accepts_product_review_abandoned_cart_emails,
            Some(true)
        );
        assert_eq!(
            serde_json::to_value(&input).unwrap(),
            serde_json::json!({"email": "a@example.com", "first_name": "A", "last_name": "B",
                "accepts_product_review_abandoned_cart_emails": true})
        );
        w.id = Some("x1".into());
        assert_eq!(customer_input(&w).unwrap_err().field(), Some("id"));
        w.id = Some("12".into());
        w.custom
            .insert("loyalty".into(), AttributeValue::String("gold".into()));
        assert_eq!(
            customer_input(&w).unwrap_err().field(),
            Some("custom.loyalty")
        );
    }
}
