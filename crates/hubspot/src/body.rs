//! Pure builders of the `batch/upsert` request bodies, written straight to JSON text.
//!
//! [`HubSpotClient::record_orders`](crate::HubSpotClient::record_orders) sends exactly these
//! bodies, and so does every other upsert of the connector: an [`OrderInput`] (deal or
//! commerce order), a [`LineItemInput`] or a plain [`UpsertInput`] goes through
//! [`upsert_body`], which writes `{"inputs":[...]}` with `idProperty` and
//! `objectWriteTraceId` (the input's position) set on every input. Nothing here does I/O,
//! so the whole-hop bench builds the very same bodies.
//!
//! Order and line-item properties are formatted while they are written (the rules of
//! [`format_value`]): no intermediate map of strings. Properties come out sorted by name,
//! with the connector's own properties merged in: the upsert key always, and for deals a
//! `dealname`, `pipeline` and `dealstage` when the mapping gave none.
//!
//! ```
//! use cartograph_hubspot::HubSpotMapping;
//! use cartograph_hubspot::body::{OrderInput, upsert_body};
//! use cartograph_model::{OrderObject, OrderRecord, Origin, PropertyValue};
//!
//! let order = OrderRecord {
//!     key: "shop/order/7".into(),
//!     object: OrderObject::Deal,
//!     contact: None,
//!     properties: [("amount".to_owned(), PropertyValue::Number(12.into()))].into(),
//!     line_items: Vec::new(),
//!     origin: Origin::Live,
//! };
//! let mapping = HubSpotMapping::default();
//! let input = OrderInput::new(&mapping, &order)?;
//! assert_eq!(input.object_type(), "0-3");
//! let body = upsert_body(&mapping.order_id_property, &[input], 0);
//! assert_eq!(
//!     body,
//!     r#"{"inputs":[{"id":"shop/order/7","idProperty":"cartograph_order_id","objectWriteTraceId":"0","properties":{"amount":"12","cartograph_order_id":"shop/order/7","dealname":"Order shop/order/7","dealstage":"closedwon","pipeline":"default"}}]}"#
//! );
//! # Ok::<(), cartograph_connector::Error>(())
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use cartograph_connector::Result;
use cartograph_model::{
    Decimal, LineItemRecord, OrderObject, OrderRecord, PropertyMap, PropertyValue,
};

use crate::config::HubSpotMapping;
use crate::map::format_value;
use crate::wire::UpsertInput;

/// One input of a `batch/upsert` body.
pub trait UpsertWrite {
    /// The value of the id property (HubSpot's answers are matched to inputs by it).
    fn id(&self) -> Cow<'_, str>;

    /// Appends this input as one JSON object, with `idProperty` = `id_property` and
    /// `objectWriteTraceId` = `trace`.
    fn write_json(&self, out: &mut String, id_property: &str, trace: usize);
}

/// The body of one `POST .../batch/upsert`: `inputs` in order, the `n`-th with
/// `objectWriteTraceId` = `first_trace + n` (the connector uses the input's position in
/// the whole call, so answers map back across chunks).
pub fn upsert_body<T: UpsertWrite>(id_property: &str, inputs: &[T], first_trace: usize) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str("{\"inputs\":[");
    for (n, input) in inputs.iter().enumerate() {
        if n > 0 {
            out.push(',');
        } else {
            input.write_json(&mut out, id_property, first_trace);
            // Room for the rest, sized on the first input (plus an eighth): one allocation
            // instead of a doubling series.
            let each = out.len() + out.len() / 8;
            out.reserve(each * (inputs.len() - 1) + 2);
            continue;
        }
        input.write_json(&mut out, id_property, first_trace + n);
    }
    out.push_str("]}");
    out
}

/// The CRM object type (path segment) an order is written as: `0-3` (deals) or `orders`,
/// per [`HubSpotMapping::order_object`] or else the record's own choice.
pub fn order_object_type(mapping: &HubSpotMapping, order: &OrderRecord) -> &'static str {
    match mapping.order_object.unwrap_or(order.object) {
        OrderObject::Deal => "0-3",
        OrderObject::Order => "orders",
    }
}

/// An order (deal or commerce order) checked and ready to be written: its properties
/// formatted as [`format_value`] does, the order key in
/// [`HubSpotMapping::order_id_property`], and, when the mapping did not set them, a name
/// (`Order {key}`) and the configured pipeline and stage.
#[derive(Debug, Clone, Copy)]
pub struct OrderInput<'a> {
    mapping: &'a HubSpotMapping,
    order: &'a OrderRecord,
    object: OrderObject,
}

impl<'a> OrderInput<'a> {
    /// Checks that every property can be formatted.
    ///
    /// # Errors
    /// As [`format_value`], naming the order key and the property.
    pub fn new(mapping: &'a HubSpotMapping, order: &'a OrderRecord) -> Result<Self> {
        check_properties(|| Cow::Borrowed(order.key.as_str()), &order.properties)?;
        Ok(Self {
            mapping,
            order,
            object: mapping.order_object.unwrap_or(order.object),
        })
    }

    /// The object type segment: `0-3` or `orders`.
    pub fn object_type(&self) -> &'static str {
        match self.object {
            OrderObject::Deal => "0-3",
            OrderObject::Order => "orders",
        }
    }

    /// The record.
    pub fn order(&self) -> &'a OrderRecord {
        self.order
    }

    fn extras(&self) -> Extras<'a> {
        let m = self.mapping;
        let key = self.order.key.as_str();
        let props = &self.order.properties;
        let mut extras = Extras::default();
        extras.set(&m.order_id_property, Text::Plain(key));
        match self.object {
            OrderObject::Deal => {
                extras.or_default(props, "dealname", Text::OrderName(key));
                extras.or_default(props, "pipeline", Text::Plain(&m.deal_pipeline));
                extras.or_default(props, "dealstage", Text::Plain(&m.deal_stage));
            }
            OrderObject::Order => {
                extras.or_default(props, "hs_order_name", Text::OrderName(key));
                if let Some(p) = &m.order_pipeline {
                    extras.or_default(props, "hs_pipeline", Text::Plain(p));
                }
                if let Some(s) = &m.order_stage {
                    extras.or_default(props, "hs_pipeline_stage", Text::Plain(s));
                }
            }
        }
        extras
    }
}

impl UpsertWrite for OrderInput<'_> {
    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.order.key)
    }

    fn write_json(&self, out: &mut String, id_property: &str, trace: usize) {
        write_head(out, Text::Plain(&self.order.key), id_property, trace);
        write_properties(out, &self.order.properties, &self.extras());
        out.push('}');
    }
}

/// A line item of an order, checked and ready to be written: its properties formatted as
/// [`format_value`] does, `{order key}:{line key}` in
/// [`HubSpotMapping::line_item_id_property`], and `hs_product_id` when the product is
/// known in HubSpot.
#[derive(Debug, Clone, Copy)]
pub struct LineItemInput<'a> {
    mapping: &'a HubSpotMapping,
    order_key: &'a str,
    line: &'a LineItemRecord,
    product_id: Option<&'a str>,
}

impl<'a> LineItemInput<'a> {
    /// Checks that every property can be formatted. `product_id` is the HubSpot record id
    /// of the line's product, when found.
    ///
    /// # Errors
    /// As [`format_value`], naming `{order key}:{line key}` and the property.
    pub fn new(
        mapping: &'a HubSpotMapping,
        order_key: &'a str,
        line: &'a LineItemRecord,
        product_id: Option<&'a str>,
    ) -> Result<Self> {
        check_properties(
            || Cow::Owned(format!("{order_key}:{}", line.key)),
            &line.properties,
        )?;
        Ok(Self {
            mapping,
            order_key,
            line,
            product_id,
        })
    }

    /// `{order key}:{line key}`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.order_key, self.line.key)
    }

    fn key_text(&self) -> Text<'a> {
        Text::LineKey(self.order_key, &self.line.key)
    }
}

impl UpsertWrite for LineItemInput<'_> {
    fn id(&self) -> Cow<'_, str> {
        Cow::Owned(self.key())
    }

    fn write_json(&self, out: &mut String, id_property: &str, trace: usize) {
        let mut extras = Extras::default();
        extras.set(&self.mapping.line_item_id_property, self.key_text());
        if let Some(pid) = self.product_id {
            extras.set("hs_product_id", Text::Plain(pid));
        }
        write_head(out, self.key_text(), id_property, trace);
        write_properties(out, &self.line.properties, &extras);
        out.push('}');
    }
}

impl UpsertWrite for UpsertInput {
    fn id(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.id)
    }

    fn write_json(&self, out: &mut String, id_property: &str, trace: usize) {
        write_head(out, Text::Plain(&self.id), id_property, trace);
        write_string_map(out, &self.properties);
        out.push('}');
    }
}

/// `{"id":..,"idProperty":..,"objectWriteTraceId":"..","properties":` (the field order of
/// [`UpsertInput`]'s serialization).
fn write_head(out: &mut String, id: Text<'_>, id_property: &str, trace: usize) {
    out.push_str("{\"id\":");
    id.write(out);
    out.push_str(",\"idProperty\":");
    write_str(out, id_property);
    out.push_str(",\"objectWriteTraceId\":\"");
    write_u128(out, trace as u128, 0);
    out.push_str("\",\"properties\":");
}

fn write_string_map(out: &mut String, map: &BTreeMap<String, String>) {
    out.push('{');
    for (n, (name, value)) in map.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write_str(out, name);
        out.push(':');
        write_str(out, value);
    }
    out.push('}');
}

/// The errors [`format_value`] would give; only multi-select options and dates outside
/// years 0..=9999 can fail. `record` names the record, built only for an error.
fn check_properties<'r>(record: impl Fn() -> Cow<'r, str>, properties: &PropertyMap) -> Result<()> {
    for (name, value) in properties {
        let risky = match value {
            PropertyValue::MultiEnumeration(_) => true,
            PropertyValue::Date(d) => !(0..=9999).contains(&d.year()),
            _ => false,
        };
        if risky {
            format_value(&record(), name, value)?;
        }
    }
    Ok(())
}

/// A string the connector writes.
#[derive(Debug, Clone, Copy)]
enum Text<'a> {
    Plain(&'a str),
    /// `Order {key}`.
    OrderName(&'a str),
    /// `{order key}:{line key}`.
    LineKey(&'a str, &'a str),
}

impl Text<'_> {
    /// As a JSON string.
    fn write(self, out: &mut String) {
        out.push('"');
        match self {
            Text::Plain(s) => write_str_contents(out, s),
            Text::OrderName(key) => {
                out.push_str("Order ");
                write_str_contents(out, key);
            }
            Text::LineKey(order, line) => {
                write_str_contents(out, order);
                out.push(':');
                write_str_contents(out, line);
            }
        }
        out.push('"');
    }
}

/// The connector's own properties of one input (at most four), in the order they take
/// effect: [`Extras::set`] overrides, [`Extras::or_default`] only fills a gap.
#[derive(Default)]
struct Extras<'a> {
    items: [(&'a str, Option<Text<'a>>); 4],
    len: usize,
}

impl<'a> Extras<'a> {
    fn position(&self, name: &str) -> Option<usize> {
        self.items[..self.len].iter().position(|(n, _)| *n == name)
    }

    fn push(&mut self, name: &'a str, text: Text<'a>) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (name, Some(text));
            self.len += 1;
        }
    }

    /// Like `BTreeMap::insert`.
    fn set(&mut self, name: &'a str, text: Text<'a>) {
        match self.position(name) {
            Some(i) => self.items[i].1 = Some(text),
            None => self.push(name, text),
        }
    }

    /// Like `BTreeMap::entry(..).or_insert(..)` on the record's properties plus these.
    fn or_default(&mut self, props: &PropertyMap, name: &'a str, text: Text<'a>) {
        if self.position(name).is_none() && !props.contains_key(name) {
            self.push(name, text);
        }
    }

    /// Sorted by name, as a `BTreeMap<String, _>` orders its keys.
    fn sorted(&self) -> [(&'a str, Option<Text<'a>>); 4] {
        let mut items = self.items;
        items[..self.len].sort_unstable_by(|a, b| a.0.cmp(b.0));
        items
    }
}

/// The properties object: the record's properties merged with `extras` by name (an extra
/// wins over a property of the same name), all sorted.
fn write_properties(out: &mut String, props: &PropertyMap, extras: &Extras<'_>) {
    let sorted = extras.sorted();
    let mut extras = sorted[..extras.len].iter().peekable();
    let mut props = props.iter().peekable();
    let mut first = true;
    out.push('{');
    loop {
        let order = match (props.peek(), extras.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((p, _)), Some((e, _))) => p.as_str().cmp(e),
        };
        if order == Ordering::Equal {
            // The extra replaces the property of the same name.
            props.next();
        }
        if !first {
            out.push(',');
        }
        first = false;
        if order == Ordering::Less {
            if let Some((name, value)) = props.next() {
                write_str(out, name);
                out.push_str(":\"");
                write_value_contents(out, value);
                out.push('"');
            }
        } else if let Some((name, text)) = extras.next() {
            write_str(out, name);
            out.push(':');
            match text {
                Some(text) => text.write(out),
                None => out.push_str("\"\""),
            }
        }
    }
    out.push('}');
}

/// The text of a value as [`format_value`] gives it, escaped for a JSON string. Values
/// that cannot be formatted were refused by [`check_properties`].
fn write_value_contents(out: &mut String, value: &PropertyValue) {
    match value {
        PropertyValue::String(s) | PropertyValue::Enumeration(s) => write_str_contents(out, s),
        PropertyValue::Number(_) | PropertyValue::DateTime(_) => write_plain_value(out, value),
        PropertyValue::Date(d) if (0..=9999).contains(&d.year()) => write_plain_value(out, value),
        PropertyValue::Date(_) => {
            if let Ok(text) = format_value("", "", value) {
                write_str_contents(out, &text);
            }
        }
        PropertyValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        PropertyValue::MultiEnumeration(options) => {
            for (n, option) in options.iter().enumerate() {
                if n > 0 {
                    out.push(';');
                }
                write_str_contents(out, option);
            }
        }
        PropertyValue::Null => {}
    }
}

/// The text of a number, a date-time (epoch milliseconds) or a date of years 0..=9999
/// (`YYYY-MM-DD`): digits, sign, point and dashes, nothing to escape. Other values write
/// nothing.
pub(crate) fn write_plain_value(out: &mut String, value: &PropertyValue) {
    match value {
        PropertyValue::Number(d) => write_decimal(out, d),
        PropertyValue::DateTime(t) => {
            let ms = t.unix_millis();
            if ms < 0 {
                out.push('-');
            }
            write_u128(out, u128::from(ms.unsigned_abs()), 0);
        }
        PropertyValue::Date(d) => {
            if let Ok(year) = u16::try_from(d.year()) {
                if year <= 9999 {
                    write_u128(out, u128::from(year), 4);
                    out.push('-');
                    write_u128(out, u128::from(u8::from(d.month())), 2);
                    out.push('-');
                    write_u128(out, u128::from(d.day()), 2);
                }
            }
        }
        _ => {}
    }
}

/// Room for any `u128` in decimal.
const DIGITS: usize = 40;

/// Writes `n` in decimal at the end of `buf` (which starts all `'0'`), returning where the
/// digits start; zero-padding is then just an earlier start.
fn digits(n: u128, buf: &mut [u8; DIGITS]) -> usize {
    let mut i = DIGITS;
    // Most values fit in 64 bits, where division by ten is cheap.
    if let Ok(mut small) = u64::try_from(n) {
        loop {
            i -= 1;
            buf[i] = b'0' + (small % 10) as u8;
            small /= 10;
            if small == 0 {
                return i;
            }
        }
    }
    let mut big = n;
    while big > 0 {
        i -= 1;
        buf[i] = b'0' + (big % 10) as u8;
        big /= 10;
    }
    i
}

fn push_ascii(out: &mut String, bytes: &[u8]) {
    out.extend(bytes.iter().map(|&b| char::from(b)));
}

/// `n` in decimal digits, zero-padded to `width`.
fn write_u128(out: &mut String, n: u128, width: usize) {
    let mut buf = [b'0'; DIGITS];
    let start = digits(n, &mut buf).min(DIGITS.saturating_sub(width));
    push_ascii(out, &buf[start..]);
}

/// A decimal as its `Display` writes it (sign, digits, point at the scale, at least one
/// integer digit; `-` on a negative zero too), without the formatting machinery.
fn write_decimal(out: &mut String, d: &Decimal) {
    if d.is_sign_negative() {
        out.push('-');
    }
    let scale = d.scale() as usize;
    let mut buf = [b'0'; DIGITS];
    let start = digits(d.mantissa().unsigned_abs(), &mut buf).min(DIGITS - scale - 1);
    let point = DIGITS - scale;
    push_ascii(out, &buf[start..point]);
    if scale > 0 {
        out.push('.');
        push_ascii(out, &buf[point..]);
    }
}

/// A JSON string, escaped as `serde_json` escapes it.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    write_str_contents(out, s);
    out.push('"');
}

/// The inside of a JSON string: `"` and `\` escaped, control characters as `\b`, `\t`,
/// `\n`, `\f`, `\r` or `\u00XX` (lower-case hex), everything else as it is.
fn write_str_contents(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // `i` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Whether any byte is `"`, `\\` or a control character, eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte of `x` is below `n` (n <= 128), or zero, where the result has its high bit.
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        if below(x, 0x20) | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\')))
            != 0
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

#[cfg(test)]
mod tests;
