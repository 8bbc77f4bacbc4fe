//! Evaluation of compiled expressions and conversion into CRM property values.

use std::borrow::Cow;
use std::cell::RefCell;

use cartograph_model::{
    AttributeValue, Decimal, PropertyDefinition, PropertyType, PropertyValue, Timestamp,
    parse_decimal,
};
use rust_decimal::RoundingStrategy;
use time::Date;
use time::format_description::well_known::Iso8601;

use super::Input;
use super::compile::{Cmp, Expr, Op, Root, Step, Term};
use super::error::{FieldErrorReason as R, cut};
use super::fold::{self, SumAcc};
use super::parse::Lit;
use super::schema::{Obj, Value, custom};
use crate::metrics::Rates;

/// Boxed errors keep the result as small as a value: results move through every step.
type Res<'a> = Result<Value<'a>, Box<R>>;

fn root<'a>(root: Root, input: &Input<'a>) -> Value<'a> {
    let obj = match root {
        Root::Customer => input.customer.map(Obj::Customer),
        Root::Order => input.order.map(Obj::Order),
        Root::LineItem => input.line_item.map(Obj::LineItem),
        Root::Refund => input.refund.map(Obj::Refund),
        Root::Product => input.product.map(Obj::Product),
        Root::Cart => input.cart.map(Obj::Cart),
        Root::Metrics => input.metrics.map(Obj::Metrics),
        Root::Status => input.status.map(Obj::Status),
    };
    obj.map_or(Value::Null, Value::Obj)
}

pub(crate) fn step<'a>(v: Value<'a>, s: &'a Step) -> Value<'a> {
    match v {
        Value::List(items) => {
            if let Step::Index(i) = s {
                return items.into_iter().nth(*i).unwrap_or(Value::Null);
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                push_flat(&mut out, step(item, s));
            }
            Value::List(out)
        }
        Value::Slice(items) => {
            if let Step::Index(i) = s {
                return items.get(*i).unwrap_or(Value::Null);
            }
            // Step straight through the borrowed elements: one list, the output.
            let mut out = Vec::with_capacity(items.len());
            items.for_each(|item| push_flat(&mut out, step(item, s)));
            Value::List(out)
        }
        Value::Obj(o) => match s {
            Step::Get(g) => g.read(o),
            Step::Custom(key) => custom(&o)
                .and_then(|c| c.get(key))
                .map_or(Value::Null, Value::Attr),
            _ => Value::Null,
        },
        Value::Money(m) => match s {
            Step::Amount => Value::Num(m.amount()),
            Step::Currency => Value::Str(Cow::Owned(owned_text(m.currency().code()))),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Appends a stepped element to a list: missing values are dropped, lists flattened.
fn push_flat<'a>(out: &mut Vec<Value<'a>>, v: Value<'a>) {
    match v {
        Value::Null => {}
        Value::List(inner) => out.extend(inner),
        Value::Slice(inner) => inner.for_each(|x| out.push(x)),
        x => out.push(x),
    }
}

/// Turns a custom attribute into a plain value (localized text stays an attribute).
pub(crate) fn concrete(v: Value<'_>) -> Value<'_> {
    let a = match v {
        Value::Attr(a) => a,
        Value::Slice(items) => return Value::List(items.to_list()),
        other => return other,
    };
    match a {
        AttributeValue::String(s) | AttributeValue::Enum(s) => Value::Str(Cow::Borrowed(s)),
        AttributeValue::Number(n) => Value::Num(*n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Date(d) => Value::Date(*d),
        AttributeValue::DateTime(t) => Value::DateTime(*t),
        AttributeValue::Money(m) => Value::Money(*m),
        AttributeValue::Localized(_) => v,
        AttributeValue::List(items) => {
            Value::List(items.iter().map(|i| concrete(Value::Attr(i))).collect())
        }
        AttributeValue::Json(serde_json::Value::Null) => Value::Null,
        AttributeValue::Json(j) => Value::Str(Cow::Owned(j.to_string())),
    }
}

fn lit(l: &Lit) -> Value<'_> {
    match l {
        Lit::Str(s) => Value::Str(Cow::Borrowed(s)),
        Lit::Num(n) => Value::Num(*n),
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Null => Value::Null,
    }
}

/// Evaluates an expression.
pub(crate) fn eval<'a>(expr: &'a Expr, input: &Input<'a>, rates: Option<&'a Rates>) -> Res<'a> {
    let mut folded = 0;
    let mut v = match &expr.term {
        Term::Path { root: r, steps } if fold::folds(&expr.ops) => {
            let (v, n) = fold::path(root(*r, input), steps, &expr.ops)?;
            folded = n;
            v
        }
        Term::Path { root: r, steps } => {
            let mut v = root(*r, input);
            for s in steps {
                v = step(v, s);
            }
            v
        }
        Term::Lit(l) => lit(l),
        Term::Concat(parts) => concat(None, parts, input, rates)?,
        Term::Coalesce(parts) => {
            let mut out = Value::Null;
            for p in parts {
                let v = eval(p, input, rates)?;
                if !is_empty(&v) {
                    out = v;
                    break;
                }
            }
            out
        }
    };
    for (op, lift) in &expr.ops[folded..] {
        // The usual inputs of the hottest transforms, without the general dispatch.
        match (op, &v) {
            (Op::Amount, Value::Money(m)) => {
                v = Value::Num(m.amount());
                continue;
            }
            (Op::Decimal(scale), Value::Num(n)) if n.scale() <= *scale => {
                // Widening the scale is exact: no rounding needed.
                let mut n = *n;
                n.rescale(*scale);
                v = Value::Num(n);
                continue;
            }
            (
                Op::Map {
                    table, fallback, ..
                },
                Value::Str(key),
            ) => {
                if let Some(out) = table.get(key.as_ref()).or(fallback.as_ref()) {
                    v = Value::Str(Cow::Borrowed(out));
                    continue;
                }
            }
            _ => {}
        }
        if let Value::Slice(items) = v {
            // Whole-list questions need no materialized list.
            let n = items.len();
            let quick = match op {
                Op::Count => Some(Value::Num(Decimal::from(n as u64))),
                Op::Present => Some(Value::Bool(n > 0)),
                Op::First => Some(items.get(0).unwrap_or(Value::Null)),
                Op::Last => Some(
                    n.checked_sub(1)
                        .and_then(|i| items.get(i))
                        .unwrap_or(Value::Null),
                ),
                _ => None,
            };
            if let Some(q) = quick {
                v = q;
                continue;
            }
        }
        v = concrete(v);
        v = match v {
            Value::List(items) if *lift => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match apply(op, concrete(item), input, rates)? {
                        Value::Null => {}
                        x => out.push(x),
                    }
                }
                Value::List(out)
            }
            other => apply(op, other, input, rates)?,
        };
    }
    Ok(v)
}

fn is_empty(v: &Value<'_>) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Slice(l) => l.len() == 0,
        _ => false,
    }
}

/// Text of a scalar for `concat`, `join`, `string` and comparisons.
pub(crate) fn text<'a>(v: &Value<'a>) -> Option<Cow<'a, str>> {
    Some(match v {
        Value::Str(s) => s.clone(),
        Value::Num(n) => Cow::Owned(n.normalize().to_string()),
        Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Value::Date(d) => Cow::Owned(iso_date(*d)),
        Value::DateTime(t) => Cow::Owned(t.to_rfc3339()),
        Value::Money(m) => Cow::Owned(m.amount().normalize().to_string()),
        _ => return None,
    })
}

fn iso_date(d: Date) -> String {
    d.format(&Iso8601::DATE).unwrap_or_else(|_| d.to_string())
}

fn concat<'a>(
    first: Option<&Value<'a>>,
    parts: &'a [Expr],
    input: &Input<'a>,
    rates: Option<&'a Rates>,
) -> Res<'a> {
    let mut out = spare_string(32);
    let mut any = false;
    if let Some(t) = first.and_then(text) {
        out.push_str(&t);
        any = true;
    }
    for p in parts {
        let v = concrete(eval(p, input, rates)?);
        let counts = !matches!(p.term, Term::Lit(_)) || !p.ops.is_empty();
        if let Value::Str(Cow::Owned(t)) = v {
            // A built part (e.g. a record key): copy it and keep its buffer.
            out.push_str(&t);
            give_back(t);
            any = any || counts;
        } else if let Some(t) = text(&v) {
            out.push_str(&t);
            any = any || counts;
        }
    }
    // A concatenation of constants around missing values is missing.
    Ok(if any {
        Value::Str(Cow::Owned(out))
    } else {
        give_back(out);
        Value::Null
    })
}

fn lit_eq(v: &Value<'_>, l: &Lit) -> bool {
    match (v, l) {
        (Value::Null, Lit::Null) => true,
        (Value::Num(a), Lit::Num(b)) => a == b,
        (Value::Money(a), Lit::Num(b)) => a.amount() == *b,
        (Value::Bool(a), Lit::Bool(b)) => a == b,
        (v, Lit::Str(s)) => text(v).is_some_and(|t| t == s.as_str()),
        _ => false,
    }
}

fn parse_datetime(s: &str) -> Result<Timestamp, R> {
    if let Ok(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    if let Ok(ms) = s.trim().parse::<i64>() {
        if let Ok(t) = Timestamp::from_unix_millis(ms) {
            return Ok(t);
        }
    }
    parse_date(s)
        .map(Timestamp::start_of_day)
        .map_err(|_| R::Parse {
            value: cut(s),
            expected: "datetime",
        })
}

fn parse_date(s: &str) -> Result<Date, R> {
    Date::parse(s.trim(), &Iso8601::DATE).map_err(|_| R::Parse {
        value: cut(s),
        expected: "date",
    })
}

// Boxed on purpose: evaluator results stay as small as a value.
#[allow(clippy::unnecessary_box_returns)]
pub(crate) fn type_err(expected: &str, v: &Value<'_>) -> Box<R> {
    Box::new(R::Type {
        expected: expected.to_owned(),
        found: v.type_name().to_owned(),
    })
}

#[allow(clippy::too_many_lines)]
fn apply<'a>(op: &'a Op, v: Value<'a>, input: &Input<'a>, rates: Option<&'a Rates>) -> Res<'a> {
    if matches!(v, Value::Null)
        && !matches!(
            op,
            Op::Default(_) | Op::Count | Op::Present | Op::Concat(_) | Op::Eq(_) | Op::Ne(_)
        )
    {
        return Ok(Value::Null);
    }
    Ok(match op {
        Op::Trim => match v {
            Value::Str(Cow::Borrowed(s)) => Value::Str(Cow::Borrowed(s.trim())),
            Value::Str(Cow::Owned(s)) => Value::Str(Cow::Owned(s.trim().to_owned())),
            other => return Err(type_err("string", &other)),
        },
        Op::Lower | Op::Upper => match v {
            Value::Str(s) => {
                let lower = matches!(op, Op::Lower);
                let done = if lower {
                    !s.chars().any(char::is_uppercase)
                } else {
                    !s.chars().any(char::is_lowercase)
                };
                if done {
                    Value::Str(s)
                } else if lower {
                    Value::Str(Cow::Owned(s.to_lowercase()))
                } else {
                    Value::Str(Cow::Owned(s.to_uppercase()))
                }
            }
            other => return Err(type_err("string", &other)),
        },
        Op::Default(l) => {
            if is_empty(&v) {
                lit(l)
            } else {
                v
            }
        }
        Op::Concat(parts) => concat(Some(&v), parts, input, rates)?,
        Op::Map {
            name,
            table,
            fallback,
        } => {
            let key = text(&v).ok_or_else(|| type_err("string", &v))?;
            match table.get(key.as_ref()).or(fallback.as_ref()) {
                Some(out) => Value::Str(Cow::Borrowed(out)),
                None => {
                    return Err(Box::new(R::Unmapped {
                        map: name.clone(),
                        value: cut(&key),
                    }));
                }
            }
        }
        Op::IsoDate => match v {
            Value::Date(d) => Value::Str(Cow::Owned(iso_date(d))),
            Value::DateTime(t) => Value::Str(Cow::Owned(iso_date(t.date()))),
            other => return Err(type_err("date", &other)),
        },
        Op::Rfc3339 => match v {
            Value::Date(d) => Value::Str(Cow::Owned(Timestamp::start_of_day(d).to_rfc3339())),
            Value::DateTime(t) => Value::Str(Cow::Owned(t.to_rfc3339())),
            other => return Err(type_err("datetime", &other)),
        },
        Op::EpochMs => match v {
            Value::Date(d) => Value::Num(Decimal::from(Timestamp::start_of_day(d).unix_millis())),
            Value::DateTime(t) => Value::Num(Decimal::from(t.unix_millis())),
            other => return Err(type_err("datetime", &other)),
        },
        Op::ToDate => match v {
            Value::Date(d) => Value::Date(d),
            Value::DateTime(t) => Value::Date(t.date()),
            Value::Str(s) => {
                Value::Date(parse_date(&s).or_else(|_| parse_datetime(&s).map(|t| t.date()))?)
            }
            other => return Err(type_err("date", &other)),
        },
        Op::ToDateTime => match v {
            Value::Date(d) => Value::DateTime(Timestamp::start_of_day(d)),
            Value::DateTime(t) => Value::DateTime(t),
            Value::Str(s) => Value::DateTime(parse_datetime(&s)?),
            Value::Num(n) => {
                let ms = i64::try_from(n.trunc().mantissa()).map_err(|_| R::Overflow)?;
                Value::DateTime(Timestamp::from_unix_millis(ms).map_err(|_| R::Overflow)?)
            }
            other => return Err(type_err("datetime", &other)),
        },
        Op::Decimal(scale) => match v {
            // Money amounts usually carry the scale already: nothing to round.
            Value::Num(n) if n.scale() == *scale => Value::Num(n),
            Value::Num(n) => {
                let mut r =
                    n.round_dp_with_strategy(*scale, RoundingStrategy::MidpointAwayFromZero);
                r.rescale(*scale);
                Value::Num(r)
            }
            other => return Err(type_err("number", &other)),
        },
        Op::Amount => match v {
            Value::Money(m) => Value::Num(m.amount()),
            other => return Err(type_err("money", &other)),
        },
        Op::CurrencyCode => match v {
            Value::Money(m) => Value::Str(Cow::Owned(owned_text(m.currency().code()))),
            other => return Err(type_err("money", &other)),
        },
        Op::MinorUnits => match v {
            Value::Money(m) => Value::Num(Decimal::from(
                m.round_to_minor().to_minor().map_err(R::from)?,
            )),
            other => return Err(type_err("money", &other)),
        },
        Op::Convert(to) => match v {
            Value::Money(m) => {
                let rates = rates.ok_or(R::NoRates)?;
                Value::Money(
                    rates
                        .convert(&m, to.unwrap_or(rates.base))
                        .map_err(R::from)?,
                )
            }
            other => return Err(type_err("money", &other)),
        },
        Op::Sum => sum(v)?,
        Op::Count => Value::Num(Decimal::from(match &v {
            Value::List(l) => l.len() as u64,
            Value::Null => 0,
            _ => 1,
        })),
        Op::First => match v {
            Value::List(l) => l.into_iter().next().unwrap_or(Value::Null),
            x => x,
        },
        Op::Last => match v {
            Value::List(l) => l.into_iter().next_back().unwrap_or(Value::Null),
            x => x,
        },
        Op::Join(sep) => match v {
            Value::List(items) => join(&items, sep)?,
            x => x,
        },
        Op::Distinct => match v {
            Value::List(mut items) => {
                // In place, first occurrence wins, order kept.
                let mut kept = 0;
                for i in 0..items.len() {
                    if !items[..kept].contains(&items[i]) {
                        items.swap(kept, i);
                        kept += 1;
                    }
                }
                items.truncate(kept);
                Value::List(items)
            }
            x => x,
        },
        Op::Eq(l) => Value::Bool(lit_eq(&v, l)),
        Op::Ne(l) => Value::Bool(!lit_eq(&v, l)),
        Op::In(ls) => Value::Bool(ls.iter().any(|l| lit_eq(&v, l))),
        Op::Compare(c, n) => {
            let x = match v {
                Value::Num(x) => x,
                Value::Money(m) => m.amount(),
                other => return Err(type_err("number", &other)),
            };
            Value::Bool(match c {
                Cmp::Gt => x > *n,
                Cmp::Gte => x >= *n,
                Cmp::Lt => x < *n,
                Cmp::Lte => x <= *n,
            })
        }
        Op::Present => Value::Bool(!is_empty(&v)),
        Op::Not => match v {
            Value::Bool(b) => Value::Bool(!b),
            other => return Err(type_err("bool", &other)),
        },
        Op::And(e) | Op::Or(e) => {
            let Value::Bool(a) = v else {
                return Err(type_err("bool", &v));
            };
            let and = matches!(op, Op::And(_));
            if and != a {
                return Ok(Value::Bool(a));
            }
            match concrete(eval(e, input, rates)?) {
                Value::Bool(b) => Value::Bool(b),
                Value::Null => Value::Bool(false),
                other => return Err(type_err("bool", &other)),
            }
        }
        Op::If(a, b) => match v {
            Value::Bool(true) => lit(a),
            Value::Bool(false) => lit(b),
            other => return Err(type_err("bool", &other)),
        },
        Op::ToString => text(&v).map_or(Value::Null, Value::Str),
        Op::ToNumber => match v {
            Value::Num(n) => Value::Num(n),
            Value::Str(s) => Value::Num(parse_decimal(&s).map_err(|_| R::Parse {
                value: cut(&s),
                expected: "number",
            })?),
            other => return Err(type_err("number", &other)),
        },
        Op::Localized(langs) => localized(v, langs)?,
    })
}

fn join<'a>(items: &[Value<'a>], sep: &str) -> Res<'a> {
    if items.is_empty() {
        return Ok(Value::Null);
    }
    let guess: usize = items
        .iter()
        .map(|i| match i {
            Value::Str(s) => s.len(),
            _ => 8,
        })
        .sum::<usize>()
        + sep.len() * (items.len() - 1);
    let mut out = spare_string(guess);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match item {
            Value::Str(s) => out.push_str(s),
            other => out.push_str(&text(other).ok_or_else(|| type_err("string", other))?),
        }
    }
    Ok(Value::Str(Cow::Owned(out)))
}

fn sum(v: Value<'_>) -> Res<'_> {
    let Value::List(items) = v else { return Ok(v) };
    let mut acc = SumAcc::default();
    for item in items {
        acc.push(item)?;
    }
    acc.finish()
}

/// Picks a localized text: for each requested tag in order, the tag itself, then its
/// language prefix (`de-CH` -> `de`), case-insensitively.
fn localized<'a>(v: Value<'a>, langs: &[String]) -> Res<'a> {
    let map = match v {
        Value::Attr(AttributeValue::Localized(m)) => m,
        Value::Str(s) => return Ok(Value::Str(s)),
        other => return Err(type_err("localized", &other)),
    };
    let find = |tag: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(tag))
            .map(|(_, v)| Value::Str(Cow::Borrowed(v.as_str())))
    };
    for tag in langs {
        if let Some(v) = find(tag) {
            return Ok(v);
        }
        if let Some(v) = tag.split_once('-').and_then(|(prefix, _)| find(prefix)) {
            return Ok(v);
        }
    }
    Err(Box::new(R::NoLanguage(langs.to_vec())))
}

fn option_ok(def: &PropertyDefinition, value: &str) -> Result<(), R> {
    if def.options.is_empty() || def.options.iter().any(|o| o.value == value) {
        Ok(())
    } else {
        Err(R::NotAnOption { value: cut(value) })
    }
}

thread_local! {
    /// Text buffers of overwritten properties, handed to the next expression that builds
    /// text: applying a plan record after record into the same map stops allocating.
    static SPARE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// At most this many spare buffers per thread, each at most this large.
const SPARE_COUNT: usize = 64;
const SPARE_BYTES: usize = 4096;

/// An empty string with room for `min` bytes, reusing a spare buffer when there is one.
pub(crate) fn spare_string(min: usize) -> String {
    match SPARE.with_borrow_mut(Vec::pop) {
        Some(mut s) => {
            s.reserve(min);
            s
        }
        None => String::with_capacity(min),
    }
}

/// `text` in a (possibly reused) buffer of its own.
fn owned_text(text: &str) -> String {
    let mut s = spare_string(text.len());
    s.push_str(text);
    s
}

/// Keeps a no longer needed buffer for [`spare_string`].
pub(crate) fn give_back(mut s: String) {
    if s.capacity() == 0 || s.capacity() > SPARE_BYTES {
        return;
    }
    s.clear();
    SPARE.with_borrow_mut(|spare| {
        if spare.len() < SPARE_COUNT {
            spare.push(s);
        }
    });
}

/// A finalized property value; text may still borrow from the record, so it can be copied
/// into an existing buffer instead of allocating.
pub(crate) enum Out<'a> {
    Text(Cow<'a, str>),
    Enum(Cow<'a, str>),
    Value(PropertyValue),
}

impl Out<'_> {
    pub(crate) fn into_value(self) -> PropertyValue {
        match self {
            Self::Text(t) => PropertyValue::String(t.into_owned()),
            Self::Enum(t) => PropertyValue::Enumeration(t.into_owned()),
            Self::Value(v) => v,
        }
    }

    /// Stores the value in `slot`, reusing its text buffer when both are text (a replaced
    /// buffer is kept for the next text an expression builds).
    pub(crate) fn assign(self, slot: &mut PropertyValue) {
        match (self, slot) {
            (Self::Text(Cow::Borrowed(t)), PropertyValue::String(buf))
            | (Self::Enum(Cow::Borrowed(t)), PropertyValue::Enumeration(buf)) => {
                buf.clear();
                buf.push_str(t);
            }
            (out, slot) => {
                let old = std::mem::replace(slot, out.into_value());
                if let PropertyValue::String(buf) | PropertyValue::Enumeration(buf) = old {
                    give_back(buf);
                }
            }
        }
    }
}

/// Converts a value into the property's type; `None` for a missing value.
pub(crate) fn finalize<'a>(
    v: Value<'a>,
    def: &PropertyDefinition,
    check_options: bool,
) -> Result<Option<Out<'a>>, Box<R>> {
    // Boxed here: the result of every field passes through the caller.
    finalize_value(v, def, check_options).map_err(Box::new)
}

#[inline]
fn finalize_value<'a>(
    v: Value<'a>,
    def: &PropertyDefinition,
    check_options: bool,
) -> Result<Option<Out<'a>>, R> {
    let v = concrete(v);
    if matches!(v, Value::Null) {
        return Ok(None);
    }
    let kind = def.kind;
    let expected = || format!("{kind:?}").to_lowercase();
    let wrong = |v: &Value<'_>| R::Type {
        expected: expected(),
        found: v.type_name().to_owned(),
    };
    Ok(Some(match kind {
        PropertyType::String => match v {
            Value::Str(s) => Out::Text(s),
            Value::List(_) | Value::Slice(_) | Value::Money(_) | Value::Obj(_) | Value::Attr(_) => {
                return Err(wrong(&v));
            }
            _ => Out::Text(text(&v).ok_or_else(|| wrong(&v))?),
        },
        PropertyType::Enumeration => match v {
            Value::Str(s) => {
                if check_options {
                    option_ok(def, &s)?;
                }
                Out::Enum(s)
            }
            Value::Bool(_) | Value::Num(_) => {
                let t = text(&v).ok_or_else(|| wrong(&v))?;
                option_ok(def, &t)?;
                Out::Enum(t)
            }
            _ => return Err(wrong(&v)),
        },
        PropertyType::Number => Out::Value(match v {
            Value::Num(n) => PropertyValue::Number(n),
            Value::Str(s) => PropertyValue::Number(parse_decimal(&s).map_err(|_| R::Parse {
                value: cut(&s),
                expected: "number",
            })?),
            other => return Err(wrong(&other)),
        }),
        PropertyType::Bool => Out::Value(match v {
            Value::Bool(b) => PropertyValue::Bool(b),
            Value::Str(s) if s == "true" || s == "false" => PropertyValue::Bool(s == "true"),
            other => return Err(wrong(&other)),
        }),
        PropertyType::Date => Out::Value(match v {
            Value::Date(d) => PropertyValue::Date(d),
            Value::DateTime(t) => PropertyValue::Date(t.date()),
            Value::Str(s) => PropertyValue::Date(parse_date(&s)?),
            other => return Err(wrong(&other)),
        }),
        PropertyType::DateTime => Out::Value(match v {
            Value::DateTime(t) => PropertyValue::DateTime(t),
            Value::Date(d) => PropertyValue::DateTime(Timestamp::start_of_day(d)),
            Value::Str(s) => PropertyValue::DateTime(parse_datetime(&s)?),
            other => return Err(wrong(&other)),
        }),
        PropertyType::MultiEnumeration => {
            let items = match v {
                Value::List(items) => items,
                one => vec![one],
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let t = text(&concrete(item.clone())).ok_or_else(|| wrong(&item))?;
                option_ok(def, &t)?;
                out.push(t.into_owned());
            }
            Out::Value(PropertyValue::MultiEnumeration(out))
        }
    }))
}
