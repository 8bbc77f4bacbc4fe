//! [`DecimalString`]: a v2 decimal amount, held parsed when its text is a plain decimal.

use std::borrow::Cow;
use std::fmt;

use cartograph_model::{Decimal, MoneyError, parse_decimal};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most digits held parsed (a `u64` mantissa, no rounding).
const MAX_DIGITS: usize = 18;

/// A v2 decimal amount: a string with four places (`"225.0000"`). Numbers are accepted on
/// input (the API documents "Float, Float-As-String, Integer") and kept as their text
/// (`serde_json`'s: `5`, `12.99`).
///
/// The text is always kept exactly. A plain decimal (optional `-`, digits without a
/// leading zero, optionally a point and digits, at most 18 digits) is held parsed: reading
/// it allocates nothing, turning it into money parses nothing, and it prints back to the
/// same text. Anything else (blank, `+1`, `1e3`, `12.5O`) is held as text and judged when
/// mapped, so a bad amount is an error naming the record and the field.
///
/// ```
/// use cartograph_bigcommerce::wire::DecimalString;
///
/// let amount = DecimalString::from("225.0000");
/// assert_eq!(amount.text(), "225.0000");
/// assert_eq!(amount.decimal()?.map(|d| d.to_string()).as_deref(), Some("225.0000"));
/// assert!(DecimalString::from(" ").is_blank());
/// assert!(DecimalString::from("12.5O").decimal().is_err());
/// # Ok::<(), cartograph_model::MoneyError>(())
/// ```
#[derive(Clone)]
pub struct DecimalString(Repr);

#[derive(Clone)]
enum Repr {
    /// The text is exactly this decimal's `Display`.
    Parsed(Decimal),
    Text(Box<str>),
}

impl DecimalString {
    /// From text, kept exactly.
    pub fn new(text: impl Into<String> + AsRef<str>) -> Self {
        match plain(text.as_ref()) {
            Some(d) => Self(Repr::Parsed(d)),
            None => Self(Repr::Text(text.into().into_boxed_str())),
        }
    }

    /// The text.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Parsed(d) => Cow::Owned(PlainText::new(d).as_str().to_owned()),
            Repr::Text(t) => Cow::Borrowed(t),
        }
    }

    /// Whether the text is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        match &self.0 {
            Repr::Parsed(_) => false,
            Repr::Text(t) => t.trim().is_empty(),
        }
    }

    /// The amount: `None` when blank, else the text read by
    /// [`parse_decimal`](cartograph_model::parse_decimal).
    ///
    /// # Errors
    /// The text is not a plain decimal number.
    pub fn decimal(&self) -> Result<Option<Decimal>, MoneyError> {
        match &self.0 {
            Repr::Parsed(d) => Ok(Some(*d)),
            Repr::Text(t) if t.trim().is_empty() => Ok(None),
            Repr::Text(t) => parse_decimal(t).map(Some),
        }
    }
}

/// The decimal a plain text stands for, when it prints back to the very same text.
fn plain(text: &str) -> Option<Decimal> {
    let bytes = text.as_bytes();
    let (negative, body) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    // At most 18 digits and a point; one pass over them.
    if body.is_empty() || body.len() > MAX_DIGITS + 1 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(b - b'0'),
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    let int_len = point.unwrap_or(body.len());
    let frac_len = point.map_or(0, |p| body.len() - p - 1);
    let leading_zero = int_len > 1 && body[0] == b'0';
    let digits = int_len + frac_len;
    if int_len == 0 || leading_zero || point.is_some() && frac_len == 0 || digits > MAX_DIGITS {
        return None;
    }
    // `-0` would print without its sign: keep it as text.
    if negative && mantissa == 0 {
        return None;
    }
    let mantissa = i64::try_from(mantissa).ok()?;
    let scale = u32::try_from(frac_len).ok()?;
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale,
    ))
}

impl Default for DecimalString {
    /// Blank.
    fn default() -> Self {
        Self(Repr::Text(Box::default()))
    }
}

impl PartialEq for DecimalString {
    /// Equal texts (`1.0` and `1.00` differ).
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Repr::Parsed(a), Repr::Parsed(b)) => {
                a.mantissa() == b.mantissa() && a.scale() == b.scale()
            }
            (Repr::Text(a), Repr::Text(b)) => a == b,
            // A text is never plain, so never the text of a parsed value.
            _ => false,
        }
    }
}

impl Eq for DecimalString {}

impl fmt::Display for DecimalString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Parsed(d) => f.write_str(PlainText::new(d).as_str()),
            Repr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for DecimalString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            // Digits, sign and point: nothing to escape.
            Repr::Parsed(d) => write!(f, "\"{}\"", PlainText::new(d).as_str()),
            Repr::Text(t) => write!(f, "{t:?}"),
        }
    }
}

impl From<&str> for DecimalString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for DecimalString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// The text of a parsed value, written on the stack: at most 18 digits, a sign and a
/// point (what [`plain`] accepts), so no formatting machinery is needed.
struct PlainText {
    bytes: [u8; 24],
    start: usize,
}

impl PlainText {
    fn new(d: &Decimal) -> Self {
        let mut bytes = [b'0'; 24];
        let scale = d.scale() as usize;
        // `plain` only builds values with at most 18 digits.
        let mut mantissa = u64::try_from(d.mantissa().unsigned_abs()).unwrap_or(u64::MAX);
        let mut i = bytes.len();
        let mut written = 0;
        while mantissa > 0 || written <= scale {
            if written == scale && scale > 0 {
                i -= 1;
                bytes[i] = b'.';
            }
            i -= 1;
            bytes[i] = b'0' + (mantissa % 10) as u8;
            mantissa /= 10;
            written += 1;
        }
        if d.is_sign_negative() {
            i -= 1;
            bytes[i] = b'-';
        }
        Self { bytes, start: i }
    }

    fn as_str(&self) -> &str {
        // ASCII digits, sign and point only.
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or_default()
    }
}

impl Serialize for DecimalString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Parsed(d) => serializer.serialize_str(PlainText::new(d).as_str()),
            Repr::Text(t) => serializer.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for DecimalString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DecimalStringVisitor)
    }
}

/// Takes the text of a string as it is, or the text of a number as `serde_json::Number`
/// prints it, without buffering the value first.
struct DecimalStringVisitor;

impl Visitor<'_> for DecimalStringVisitor {
    type Value = DecimalString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DecimalString, E> {
        Ok(DecimalString::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<DecimalString, E> {
        Ok(DecimalString::new(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DecimalString, E> {
        Ok(DecimalString::new(serde_json::Number::from(v).to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DecimalString, E> {
        Ok(DecimalString::new(serde_json::Number::from(v).to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<DecimalString, E> {
        serde_json::Number::from_f64(v)
            .map(|n| DecimalString::new(n.to_string()))
            .ok_or_else(|| E::invalid_value(de::Unexpected::Float(v), &self))
    }
}
