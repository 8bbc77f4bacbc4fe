//! Every model type survives a serde round trip unchanged.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use cartograph_model::*;
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).expect("serialize");
    let back: T = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(&back, value, "round trip changed the value: {json}");
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_unix_seconds(s).unwrap()
}

fn usd(s: &str) -> Money {
    Money::parse(s, Currency::USD).unwrap()
}

fn address() -> Address {
    Address {
        kind: AddressKind::Billing,
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        line1: Some("1 Main St".into()),
        city: Some("Austin".into()),
        region: Some("Texas".into()),
        region_code: Some("TX".into()),
        postcode: Some("78701".into()),
        country_code: Some("US".into()),
        phone: Some("+15125550100".into()),
        ..Address::default()
    }
}

fn attributes() -> Attributes {
    let mut attrs = Attributes::new();
    attrs.insert("gift".into(), AttributeValue::Bool(true));
    attrs.insert("size".into(), AttributeValue::Number(Decimal::new(425, 1)));
    attrs.insert(
        "title".into(),
        AttributeValue::Localized(BTreeMap::from([
            ("en".into(), "Hat".into()),
            ("de".into(), "Hut".into()),
        ])),
    );
    attrs.insert("birthday".into(), AttributeValue::Date(ts(0).date()));
    attrs.insert("seen".into(), AttributeValue::DateTime(ts(100)));
    attrs.insert("credit".into(), AttributeValue::Money(usd("5.5000")));
    attrs.insert(
        "tags".into(),
        AttributeValue::List(vec![AttributeValue::Enum("vip".into())]),
    );
    attrs.insert(
        "raw".into(),
        AttributeValue::Json(serde_json::json!({"a": [1, 2]})),
    );
    attrs
}

fn line_item() -> LineItem {
    LineItem {
        id: "li-1".into(),
        sku: Some("HAT-1".into()),
        product_id: Some("77".into()),
        variant_id: Some("78".into()),
        name: "Hat".into(),
        quantity: Decimal::new(2, 0),
        unit_price: usd("10.0000"),
        total: usd("20.0000"),
        discount: Some(usd("0")),
        tax: Some(usd("1.6500")),
        categories: vec!["Apparel".into(), "Hats".into()],
        brand: Some("Acme".into()),
        image_url: None,
        product_url: Some("https://shop.example/hat".into()),
        custom: attributes(),
    }
}

fn order() -> Order {
    Order {
        source: SourceRef::new("bigcommerce", RecordKind::Order, "100"),
        number: Some("100".into()),
        customer: Some(SourceRef::new("bigcommerce", RecordKind::Customer, "7")),
        email: EmailAddress::new("Jane@Example.com"),
        status: OrderStatus::AwaitingFulfillment,
        raw_status: RawStatus {
            id: Some("11".into()),
            label: Some("Packing".into()),
        },
        payment_status: PaymentStatus::Paid,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        currency: Currency::USD,
        subtotal: usd("20.0000"),
        discount: usd("2.0000"),
        tax: usd("1.6500"),
        shipping: usd("5.0000"),
        total: usd("24.6500"),
        coupons: vec![Coupon {
            code: "SAVE2".into(),
            amount: Some(usd("2")),
        }],
        billing_address: Some(address()),
        shipping_addresses: vec![Address {
            kind: AddressKind::Shipping,
            ..address()
        }],
        channel: Some("1".into()),
        line_items: vec![line_item()],
        created_at: ts(1_700_000_000),
        updated_at: Some(ts(1_700_000_100)),
        paid_at: Some(ts(1_700_000_050)),
        shipped_at: None,
        is_archived: false,
        custom: attributes(),
    }
}

fn customer() -> Customer {
    Customer {
        email: EmailAddress::new("Jane@Example.com"),
        phone: Some("512 555 0100".into()),
        first_name: Some("Jane".into()),
        last_name: Some("Doe".into()),
        company: Some("Acme Inc.".into()),
        date_of_birth: Some(ts(0).date()),
        addresses: vec![address()],
        customer_group_ids: vec!["2".into()],
        consent: Consent {
            email: ChannelConsent {
                state: ConsentState::Subscribed,
                updated_at: Some(ts(5)),
                source: Some("checkout".into()),
            },
            sms: ChannelConsent::default(),
        },
        channel: Some("1".into()),
        tags: vec!["wholesale".into()],
        created_at: Some(ts(1)),
        updated_at: Some(ts(2)),
        custom: attributes(),
        ..Customer::new(SourceRef::new("bigcommerce", RecordKind::Customer, "7"))
    }
}

fn cart() -> Cart {
    Cart {
        source: SourceRef::new(
            "bigcommerce",
            RecordKind::Cart,
            "6b2c1a6e-0000-4000-8000-000000000001",
        ),
        customer: None,
        email: EmailAddress::new("guest@example.com"),
        items: vec![line_item()],
        value: usd("20.00"),
        state: CartState::Abandoned,
        recovery_url: Some("https://shop.example/cart.php?recover=abc".into()),
        channel: None,
        created_at: Some(ts(10)),
        updated_at: Some(ts(20)),
        abandoned_at: Some(ts(3620)),
        converted_order: None,
    }
}

fn product() -> Product {
    Product {
        source: SourceRef::new("bigcommerce", RecordKind::Product, "77"),
        name: "Hat".into(),
        sku: Some("HAT".into()),
        description: Some("<p>A hat</p>".into()),
        price: Some(usd("10")),
        sale_price: None,
        category_ids: vec!["23".into()],
        brand_id: Some("5".into()),
        variants: vec![Variant {
            id: "78".into(),
            sku: Some("HAT-1".into()),
            price: Some(usd("10")),
            inventory: Some(3),
            options: BTreeMap::from([("Size".into(), "M".into())]),
        }],
        inventory: Some(3),
        availability: Availability::Available,
        is_visible: true,
        url: Some("/hat/".into()),
        image_url: None,
        created_at: Some(ts(1)),
        updated_at: Some(ts(2)),
        custom: Attributes::new(),
    }
}

#[test]
fn commerce_records_round_trip() {
    round_trip(&customer());
    round_trip(&order());
    round_trip(&cart());
    round_trip(&product());
    round_trip(&Refund {
        source: SourceRef::new("bigcommerce", RecordKind::Refund, "9"),
        order: SourceRef::new("bigcommerce", RecordKind::Order, "100"),
        amount: usd("5.00"),
        items: vec![RefundItem {
            line_item_id: Some("li-1".into()),
            quantity: Some(Decimal::ONE),
            amount: Some(usd("5.00")),
        }],
        reason: Some("damaged".into()),
        created_at: ts(99),
    });
    round_trip(&Category {
        source: SourceRef::new("bigcommerce", RecordKind::Category, "23"),
        name: "Hats".into(),
        parent_id: Some("1".into()),
    });
    round_trip(&Brand {
        source: SourceRef::new("bigcommerce", RecordKind::Brand, "5"),
        name: "Acme".into(),
    });
    round_trip(&CustomerGroup {
        source: SourceRef::new("bigcommerce", RecordKind::CustomerGroup, "2"),
        name: "VIP".into(),
        is_default: false,
    });
    round_trip(&CustomerWrite {
        key: "p1".into(),
        id: Some("7".into()),
        email: EmailAddress::new("jane@example.com"),
        customer_group_id: Some("2".into()),
        email_consent: Some(ConsentState::Unsubscribed),
        ..CustomerWrite::default()
    });
}

#[test]
fn every_event_kind_round_trips() {
    let kinds = vec![
        CommerceEventKind::CustomerCreated {
            customer: Box::new(customer()),
        },
        CommerceEventKind::CustomerUpdated {
            customer: Box::new(customer()),
        },
        CommerceEventKind::CustomerDeleted,
        CommerceEventKind::OrderPlaced {
            order: Box::new(order()),
        },
        CommerceEventKind::OrderUpdated {
            order: Box::new(order()),
        },
        CommerceEventKind::OrderStatusChanged {
            order: Box::new(order()),
            from: Some(OrderStatus::AwaitingFulfillment),
            to: OrderStatus::Shipped,
        },
        CommerceEventKind::OrderRefunded {
            refund: Box::new(Refund {
                source: SourceRef::new("bigcommerce", RecordKind::Refund, "9"),
                order: SourceRef::new("bigcommerce", RecordKind::Order, "100"),
                amount: usd("5"),
                items: vec![],
                reason: None,
                created_at: ts(9),
            }),
            order: Some(Box::new(order())),
        },
        CommerceEventKind::OrderCancelled {
            order: Box::new(order()),
        },
        CommerceEventKind::CartUpdated {
            cart: Box::new(cart()),
        },
        CommerceEventKind::CartAbandoned {
            cart: Box::new(cart()),
        },
        CommerceEventKind::CartConverted {
            cart: None,
            order: SourceRef::new("bigcommerce", RecordKind::Order, "101"),
        },
        CommerceEventKind::ProductUpserted {
            product: Box::new(product()),
        },
        CommerceEventKind::ProductDeleted,
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let event = CommerceEvent {
            id: Some(format!("hash-{i}")),
            source: SourceRef::new("bigcommerce", RecordKind::Order, "100"),
            occurred_at: ts(1_700_000_000 + i64::try_from(i).unwrap()),
            origin: if i % 2 == 0 {
                Origin::Live
            } else {
                Origin::Historical
            },
            kind,
        };
        round_trip(&event);
    }
}

#[test]
fn crm_intents_round_trip() {
    let mut props = PropertyMap::new();
    props.insert(
        "email".into(),
        PropertyValue::String("jane@example.com".into()),
    );
    props.insert("ltv".into(), PropertyValue::Number(Decimal::new(12345, 2)));
    props.insert("vip".into(), PropertyValue::Bool(true));
    props.insert("first_order".into(), PropertyValue::Date(ts(0).date()));
    props.insert("last_seen".into(), PropertyValue::DateTime(ts(7)));
    props.insert(
        "stage".into(),
        PropertyValue::Enumeration("customer".into()),
    );
    props.insert(
        "cats".into(),
        PropertyValue::MultiEnumeration(vec!["a".into(), "b".into()]),
    );
    props.insert("cleared".into(), PropertyValue::Null);
    let contact = ContactRef::Email(EmailAddress::new("jane@example.com").unwrap());
    round_trip(&ContactUpsert {
        key: "person-1".into(),
        identity: IdentityKeys {
            email: EmailAddress::new("Jane@Example.com"),
            secondary_emails: vec![EmailAddress::new("j@work.example").unwrap()],
            phone: Some("+15125550100".into()),
            external_ids: vec![SourceRef::new("bigcommerce", RecordKind::Customer, "7")],
            crm_id: Some("501".into()),
        },
        properties: props.clone(),
        origin: Origin::Historical,
    });
    round_trip(&OrderRecord {
        key: "bigcommerce/order/100".into(),
        object: OrderObject::Deal,
        contact: Some(contact.clone()),
        properties: props.clone(),
        line_items: vec![LineItemRecord {
            key: "li-1".into(),
            product_key: Some("bigcommerce/product/77".into()),
            properties: props.clone(),
        }],
        origin: Origin::Live,
    });
    round_trip(&ProductRecord {
        key: "p".into(),
        properties: props.clone(),
    });
    round_trip(&Association {
        from: RecordRef {
            object: CrmObjectType::Contact,
            id: "1".into(),
        },
        to: RecordRef {
            object: CrmObjectType::Custom("2-123".into()),
            id: "2".into(),
        },
        label: None,
    });
    round_trip(&TaskRequest {
        key: "refund-9".into(),
        kind: TaskKind::Case,
        subject: "Refund".into(),
        body: "Order 100 refunded".into(),
        priority: TaskPriority::High,
        due_at: Some(ts(1000)),
        contact: Some(contact.clone()),
        order_key: Some("bigcommerce/order/100".into()),
        owner_id: None,
    });
    for target in [
        EnrollmentTarget::Workflow { id: "1".into() },
        EnrollmentTarget::List { id: "2".into() },
        EnrollmentTarget::Campaign { id: "3".into() },
        EnrollmentTarget::Automation { id: "4".into() },
        EnrollmentTarget::TriggerProperty {
            name: "ecom_shipped_at".into(),
            value: PropertyValue::DateTime(ts(5)),
        },
    ] {
        round_trip(&EnrollmentRequest {
            key: "e".into(),
            contact: contact.clone(),
            target,
            reason: "shipped".into(),
            origin: Origin::Live,
        });
    }
    round_trip(&PropertyDefinition {
        object: CrmObjectType::Deal,
        name: "ecom_order_id".into(),
        label: "Order id".into(),
        kind: PropertyType::Enumeration,
        options: vec![PropertyOption {
            value: "a".into(),
            label: "A".into(),
        }],
        group: Some("cartograph".into()),
        unique: true,
        description: None,
    });
    round_trip(&CrmContact {
        crm_id: "501".into(),
        email: EmailAddress::new("jane@example.com"),
        secondary_emails: vec![],
        properties: props,
        updated_at: Some(ts(3)),
    });
    for kind in [
        CrmEventKind::ContactCreated { crm_id: "1".into() },
        CrmEventKind::ContactPropertyChanged {
            crm_id: "1".into(),
            property: "lifecyclestage".into(),
            value: Some("customer".into()),
        },
        CrmEventKind::ContactDeleted { crm_id: "1".into() },
        CrmEventKind::ContactMerged {
            crm_id: "1".into(),
            merged_ids: vec!["2".into()],
        },
        CrmEventKind::MembershipChanged {
            change: MembershipChange {
                list_id: "9".into(),
                contact_crm_id: "1".into(),
                added: true,
                at: ts(4),
            },
        },
        CrmEventKind::FormSubmitted {
            submission: Box::new(FormSubmission {
                form_id: "f".into(),
                id: None,
                submitted_at: ts(5),
                email: EmailAddress::new("a@b.example"),
                contact_crm_id: None,
                fields: BTreeMap::from([("company".into(), "Acme".into())]),
                page_url: None,
            }),
        },
    ] {
        round_trip(&CrmEvent {
            id: Some("ev".into()),
            occurred_at: ts(6),
            is_own_write: true,
            change_source: Some("INTEGRATION".into()),
            kind,
        });
    }
}

proptest! {
    /// Minor units of any size and scale round-trip exactly through serde and back to units.
    #[test]
    fn minor_units_round_trip(units in any::<i64>(), digits in 0u32..=6) {
        let money = Money::from_minor_units(units, digits, Currency::EUR);
        let json = serde_json::to_string(&money).unwrap();
        let back: Money = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, money);
        prop_assert_eq!(back.amount().mantissa(), i128::from(units));
    }

    /// Decimal strings with up to 4 places (BigCommerce v2) parse and print back identically.
    #[test]
    fn four_place_strings_are_lossless(int in 0i64..10_000_000_000, frac in 0u32..10_000) {
        let text = format!("{int}.{frac:04}");
        let money = Money::parse(&text, Currency::USD).unwrap();
        prop_assert_eq!(money.amount().to_string(), text);
    }

    /// Adding then subtracting is exact.
    #[test]
    fn add_sub_is_exact(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
        let x = Money::from_minor(a, Currency::USD);
        let y = Money::from_minor(b, Currency::USD);
        prop_assert_eq!(x.checked_add(&y).unwrap().checked_sub(&y).unwrap(), x);
    }
}
