use std::collections::BTreeMap;

use cartograph_model::{Decimal, Origin, Timestamp};

use super::*;
use crate::map::format_properties;
use crate::wire::BatchInput;

/// The inputs as the connector built them before the body writer: formatted maps, the
/// connector's properties inserted, serialized by serde.
fn reference_order(m: &HubSpotMapping, order: &OrderRecord) -> Result<UpsertInput> {
    let mut properties = format_properties(&order.key, &order.properties)?;
    properties.insert(m.order_id_property.clone(), order.key.clone());
    match m.order_object.unwrap_or(order.object) {
        OrderObject::Deal => {
            properties
                .entry("dealname".into())
                .or_insert_with(|| format!("Order {}", order.key));
            properties
                .entry("pipeline".into())
                .or_insert_with(|| m.deal_pipeline.clone());
            properties
                .entry("dealstage".into())
                .or_insert_with(|| m.deal_stage.clone());
        }
        OrderObject::Order => {
            properties
                .entry("hs_order_name".into())
                .or_insert_with(|| format!("Order {}", order.key));
            if let Some(p) = &m.order_pipeline {
                properties
                    .entry("hs_pipeline".into())
                    .or_insert_with(|| p.clone());
            }
            if let Some(s) = &m.order_stage {
                properties
                    .entry("hs_pipeline_stage".into())
                    .or_insert_with(|| s.clone());
            }
        }
    }
    Ok(UpsertInput {
        id: order.key.clone(),
        id_property: None,
        object_write_trace_id: None,
        properties,
    })
}

fn reference_line(
    m: &HubSpotMapping,
    order_key: &str,
    line: &LineItemRecord,
    product: Option<&str>,
) -> Result<UpsertInput> {
    let key = format!("{order_key}:{}", line.key);
    let mut properties = format_properties(&key, &line.properties)?;
    properties.insert(m.line_item_id_property.clone(), key.clone());
    if let Some(pid) = product {
        properties.insert("hs_product_id".into(), pid.to_owned());
    }
    Ok(UpsertInput {
        id: key,
        id_property: None,
        object_write_trace_id: None,
        properties,
    })
}

fn reference_body(id_property: &str, inputs: &[UpsertInput], first: usize) -> String {
    let inputs = inputs
        .iter()
        .enumerate()
        .map(|(n, i)| UpsertInput {
            id_property: Some(id_property.to_owned()),
            object_write_trace_id: Some((first + n).to_string()),
            ..i.clone()
        })
        .collect();
    serde_json::to_string(&BatchInput { inputs }).unwrap()
}

fn props(pairs: &[(&str, PropertyValue)]) -> PropertyMap {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn every_kind() -> PropertyMap {
    props(&[
        ("amount", PropertyValue::Number(Decimal::new(-12_550, 3))),
        ("big", PropertyValue::Number(Decimal::MAX)),
        (
            "closedate",
            PropertyValue::Date(time::macros::date!(2024 - 02 - 29)),
        ),
        (
            "early",
            PropertyValue::Date(time::macros::date!(0007 - 01 - 05)),
        ),
        (
            "created",
            PropertyValue::DateTime(Timestamp::from_unix_millis(1_700_000_000_123).unwrap()),
        ),
        (
            "before_epoch",
            PropertyValue::DateTime(Timestamp::from_unix_millis(-86_400_001).unwrap()),
        ),
        ("gift", PropertyValue::Bool(true)),
        ("vip", PropertyValue::Bool(false)),
        ("tier", PropertyValue::Enumeration("gold \"plus\"".into())),
        (
            "tags",
            PropertyValue::MultiEnumeration(vec!["a\\b".into(), "é".into(), "c\n".into()]),
        ),
        ("cleared", PropertyValue::Null),
        (
            "note",
            PropertyValue::String("tab\there\u{1}\u{7f}\u{2028} ✓".into()),
        ),
        ("", PropertyValue::String("empty name".into())),
    ])
}

fn order(key: &str, object: OrderObject, properties: PropertyMap) -> OrderRecord {
    OrderRecord {
        key: key.into(),
        object,
        contact: None,
        properties,
        line_items: vec![
            LineItemRecord {
                key: "1".into(),
                product_key: Some("p-1".into()),
                properties: every_kind(),
            },
            LineItemRecord {
                key: "2\"".into(),
                product_key: None,
                properties: props(&[
                    (
                        "cartograph_line_item_id",
                        PropertyValue::String("mapped".into()),
                    ),
                    ("hs_product_id", PropertyValue::String("mapped".into())),
                    ("name", PropertyValue::String("Towel".into())),
                ]),
            },
        ],
        origin: Origin::Live,
    }
}

fn orders() -> Vec<OrderRecord> {
    let mut mapped = every_kind();
    for name in [
        "dealname",
        "pipeline",
        "cartograph_order_id",
        "hs_order_name",
    ] {
        mapped.insert(name.into(), PropertyValue::String(format!("mapped {name}")));
    }
    vec![
        order("shop/order/1", OrderObject::Deal, every_kind()),
        order("shop/order/\"2\"", OrderObject::Deal, mapped.clone()),
        order("shop/order/3", OrderObject::Order, every_kind()),
        order("shop/order/4", OrderObject::Order, mapped),
        order("shop/order/5", OrderObject::Deal, PropertyMap::new()),
    ]
}

fn mappings() -> Vec<HubSpotMapping> {
    let default = HubSpotMapping::default();
    vec![
        default.clone(),
        HubSpotMapping {
            order_object: Some(OrderObject::Order),
            order_pipeline: Some("orders-pipe".into()),
            order_stage: Some("placed".into()),
            ..default.clone()
        },
        HubSpotMapping {
            order_object: Some(OrderObject::Deal),
            // Unusual names that collide with the defaults and each other.
            order_id_property: "dealname".into(),
            line_item_id_property: "hs_product_id".into(),
            deal_pipeline: "p \"1\"".into(),
            ..default
        },
    ]
}

#[test]
fn order_and_line_item_bodies_are_byte_identical_to_the_serde_inputs() {
    for m in mappings() {
        let orders = orders();
        let inputs: Vec<OrderInput<'_>> = orders
            .iter()
            .map(|o| OrderInput::new(&m, o).unwrap())
            .collect();
        let reference: Vec<UpsertInput> = orders
            .iter()
            .map(|o| reference_order(&m, o).unwrap())
            .collect();
        for (input, o) in inputs.iter().zip(&orders) {
            assert_eq!(input.object_type(), order_object_type(&m, o));
            assert_eq!(input.id(), o.key);
        }
        assert_eq!(
            upsert_body(&m.order_id_property, &inputs, 7),
            reference_body(&m.order_id_property, &reference, 7)
        );
        let products = |l: &LineItemRecord| l.product_key.as_ref().map(|_| "901");
        let lines: Vec<LineItemInput<'_>> = orders
            .iter()
            .flat_map(|o| {
                o.line_items
                    .iter()
                    .map(|l| LineItemInput::new(&m, &o.key, l, products(l)).unwrap())
            })
            .collect();
        let reference: Vec<UpsertInput> = orders
            .iter()
            .flat_map(|o| {
                o.line_items
                    .iter()
                    .map(|l| reference_line(&m, &o.key, l, products(l)).unwrap())
            })
            .collect();
        assert_eq!(lines[1].key(), "shop/order/1:2\"");
        assert_eq!(
            upsert_body(&m.line_item_id_property, &lines, 0),
            reference_body(&m.line_item_id_property, &reference, 0)
        );
        assert_eq!(
            upsert_body(&m.line_item_id_property, &reference, 100),
            reference_body(&m.line_item_id_property, &reference, 100)
        );
    }
}

#[test]
fn bodies_are_valid_json_with_positions_as_trace_ids() {
    let m = HubSpotMapping::default();
    let orders = orders();
    let inputs: Vec<OrderInput<'_>> = orders
        .iter()
        .map(|o| OrderInput::new(&m, o).unwrap())
        .collect();
    let body: serde_json::Value =
        serde_json::from_str(&upsert_body(&m.order_id_property, &inputs, 200)).unwrap();
    let first = &body["inputs"][0];
    assert_eq!(first["objectWriteTraceId"], "200");
    assert_eq!(body["inputs"][4]["objectWriteTraceId"], "204");
    assert_eq!(first["idProperty"], "cartograph_order_id");
    assert_eq!(first["properties"]["dealname"], "Order shop/order/1");
    assert_eq!(first["properties"]["tags"], "a\\b;é;c\n");
    assert_eq!(first["properties"]["early"], "0007-01-05");
    assert_eq!(first["properties"]["before_epoch"], "-86400001");
    assert_eq!(
        body["inputs"][1]["properties"]["dealname"],
        "mapped dealname"
    );
    assert_eq!(
        body["inputs"][1]["properties"]["cartograph_order_id"], "shop/order/\"2\"",
        "the upsert key always wins"
    );
    assert_eq!(upsert_body::<UpsertInput>("x", &[], 0), r#"{"inputs":[]}"#);
}

#[test]
fn bad_values_are_refused_when_the_input_is_built() {
    let m = HubSpotMapping::default();
    let mut o = order("shop/order/9", OrderObject::Deal, every_kind());
    o.properties.insert(
        "bad".into(),
        PropertyValue::MultiEnumeration(vec!["a;b".into()]),
    );
    let err = OrderInput::new(&m, &o).unwrap_err();
    let want = format_properties(&o.key, &o.properties).unwrap_err();
    assert_eq!(err.record(), Some("shop/order/9"));
    assert_eq!(err.field(), Some("bad"));
    assert_eq!(err.to_string(), want.to_string());
    let mut line = o.line_items[0].clone();
    line.properties.insert(
        "x".into(),
        PropertyValue::MultiEnumeration(vec![String::new()]),
    );
    let err = LineItemInput::new(&m, &o.key, &line, None).unwrap_err();
    assert_eq!(err.record(), Some("shop/order/9:1"));
    assert_eq!(err.field(), Some("x"));
}

#[test]
fn strings_are_escaped_like_serde_json() {
    let mut every: String = (0_u8..=0x7f).map(char::from).collect();
    every.push_str("é✓\u{2028}\u{10ffff}\"\\");
    for s in [every.as_str(), "", "plain", "\"", "\\\\", "a\u{0}b"] {
        let mut out = String::new();
        write_str(&mut out, s);
        assert_eq!(out, serde_json::to_string(s).unwrap());
    }
    let map: BTreeMap<String, String> = [(every.clone(), every)].into();
    let input = UpsertInput {
        id: "\u{1f}".into(),
        id_property: None,
        object_write_trace_id: None,
        properties: map,
    };
    assert_eq!(
        upsert_body("e\"mail", std::slice::from_ref(&input), 3),
        reference_body("e\"mail", &[input], 3)
    );
}

#[test]
fn numbers_dates_and_times_are_written_like_display() {
    let mut decimals = vec![
        Decimal::ZERO,
        Decimal::new(0, 2),
        Decimal::new(-0, 4),
        Decimal::new(5, 3),
        Decimal::new(-5, 3),
        Decimal::new(12_550, 2),
        Decimal::new(-12_550, 2),
        Decimal::new(1, 28),
        Decimal::new(-1, 28),
        Decimal::new(i64::MAX, 0),
        Decimal::new(i64::MIN, 7),
        Decimal::MAX,
        Decimal::MIN,
        Decimal::from_i128_with_scale(79_228_162_514_264_337_593_543_950_335, 28),
        Decimal::from_i128_with_scale(18_446_744_073_709_551_616, 5),
        Decimal::from_str_exact("123456789012345678.000001").unwrap(),
    ];
    let mut negative_zero = Decimal::new(0, 2);
    negative_zero.set_sign_negative(true);
    decimals.push(negative_zero);
    for scale in 0..=28 {
        decimals.push(Decimal::new(1_234_567, scale));
        decimals.push(Decimal::new(-987_654_321_012, scale));
    }
    for d in decimals {
        let mut out = String::new();
        write_value_contents(&mut out, &PropertyValue::Number(d));
        assert_eq!(out, d.to_string(), "{d:?}");
    }
    for n in [
        0_u128,
        7,
        10,
        99,
        u128::from(u64::MAX),
        u128::from(u64::MAX) + 1,
        u128::MAX,
    ] {
        let mut out = String::new();
        write_u128(&mut out, n, 0);
        assert_eq!(out, n.to_string());
    }
    let mut out = String::new();
    write_u128(&mut out, 7, 4);
    assert_eq!(out, "0007");
    for (y, m, d) in [
        (0, 1, 1),
        (7, 1, 5),
        (999, 12, 31),
        (2024, 2, 29),
        (9999, 12, 31),
    ] {
        let date = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
        let value = PropertyValue::Date(date);
        // Independent of the writer: the time crate's own formatting.
        let want = date
            .format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap();
        let mut out = String::new();
        write_value_contents(&mut out, &value);
        assert_eq!(out, want);
        assert_eq!(format_value("r", "f", &value).unwrap(), want);
    }
    for ms in [
        0,
        1,
        -1,
        1_700_000_000_123,
        -86_400_001,
        253_402_300_799_999,
    ] {
        let value = PropertyValue::DateTime(Timestamp::from_unix_millis(ms).unwrap());
        let mut out = String::new();
        write_value_contents(&mut out, &value);
        assert_eq!(out, ms.to_string());
        assert_eq!(format_value("r", "f", &value).unwrap(), ms.to_string());
    }
    for d in [Decimal::new(-12_550, 3), Decimal::MAX, Decimal::new(0, 5)] {
        let value = PropertyValue::Number(d);
        assert_eq!(format_value("r", "f", &value).unwrap(), d.to_string());
    }
}

#[test]
fn escaping_is_decided_word_by_word_without_misses() {
    let mut s = String::from("abcdefghijklmnopqrstuvwxyz0123456789");
    assert!(!needs_escape(s.as_bytes()));
    for (i, c) in [
        (0, '"'),
        (7, '\\'),
        (8, '\u{1f}'),
        (35, '\n'),
        (17, '\u{0}'),
    ] {
        let mut t = s.clone();
        t.replace_range(i..=i, &c.to_string());
        assert!(needs_escape(t.as_bytes()), "{t:?}");
    }
    s.push_str("é✓\u{7f}\u{80}\u{ff}");
    assert!(!needs_escape(s.as_bytes()));
}
