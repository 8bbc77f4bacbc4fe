//! Query predicates (`where=...`) and sort expressions as the commercetools API evaluates
//! them, over the JSON of a resource.
//!
//! Supported: comparisons `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=` against string, number and
//! boolean literals or input variables (`:name` with a `var.name` query parameter);
//! `in (...)` and `not in (...)`; `is defined`, `is not defined`, `is empty`,
//! `is not empty`; nested predicates on objects and arrays (`customerGroup(id = "...")`,
//! `lineItems(variant(sku = "A"))`, an array matches when any element does); `and`, `or`,
//! `not (...)` and parentheses. Datetimes compare as instants, whatever their precision.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;

use cartograph_model::Timestamp;
use serde_json::Value;

/// A parsed predicate.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(String, Op, Value),
    In(String, Vec<Value>, bool),
    Defined(String, bool),
    Empty(String, bool),
    Nested(String, Box<Expr>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(Value),
    Var(String),
    Op(Op),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".to_owned()),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            let next = chars.get(i + 1).ok_or("dangling escape")?;
                            s.push(*next);
                            i += 2;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '=' => {
                out.push(Tok::Op(Op::Eq));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op(Op::Ne));
                i += 2;
            }
            '<' => match chars.get(i + 1) {
                Some('=') => {
                    out.push(Tok::Op(Op::Le));
                    i += 2;
                }
                Some('>') => {
                    out.push(Tok::Op(Op::Ne));
                    i += 2;
                }
                _ => {
                    out.push(Tok::Op(Op::Lt));
                    i += 1;
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    out.push(Tok::Op(Op::Ge));
                    i += 2;
                } else {
                    out.push(Tok::Op(Op::Gt));
                    i += 1;
                }
            }
            ':' => {
                let start = i + 1;
                i = start;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                if i == start {
                    return Err("input variable without a name".to_owned());
                }
                out.push(Tok::Var(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+'))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number: serde_json::Number = serde_json::from_str(&text)
                    .map_err(|_| format!("bad number literal {text:?}"))?;
                out.push(Tok::Num(Value::Number(number)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character {other:?}")),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a HashMap<String, Vec<String>>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(word)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if &t == tok => Ok(()),
            other => Err(format!("expected {what}, found {other:?}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("not"))
            && self.toks.get(self.pos + 1) == Some(&Tok::Open)
        {
            self.pos += 1;
            self.expect(&Tok::Open, "'('")?;
            let inner = self.or()?;
            self.expect(&Tok::Close, "')'")?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(&Tok::Close, "')'")?;
            return Ok(inner);
        }
        self.field()
    }

    fn literal(&mut self) -> Result<Vec<Value>, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(vec![Value::String(s)]),
            Some(Tok::Num(n)) => Ok(vec![n]),
            Some(Tok::Ident(w)) if w == "true" || w == "false" => {
                Ok(vec![Value::Bool(w == "true")])
            }
            Some(Tok::Var(name)) => {
                let values = self
                    .vars
                    .get(&name)
                    .ok_or_else(|| format!("input variable 'var.{name}' is not given"))?;
                Ok(values.iter().cloned().map(Value::String).collect())
            }
            other => Err(format!("expected a literal, found {other:?}")),
        }
    }

    fn field(&mut self) -> Result<Expr, String> {
        let name = match self.next() {
            Some(Tok::Ident(name)) => name,
            other => return Err(format!("expected a field name, found {other:?}")),
        };
        match self.next() {
            Some(Tok::Op(op)) => {
                let mut values = self.literal()?;
                if values.len() != 1 {
                    return Err(format!("comparison on {name} needs one value"));
                }
                Ok(Expr::Cmp(name, op, values.remove(0)))
            }
            Some(Tok::Open) => {
                let inner = self.or()?;
                self.expect(&Tok::Close, "')'")?;
                Ok(Expr::Nested(name, Box::new(inner)))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("in") => {
                Ok(Expr::In(name, self.list()?, false))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("not") => {
                if !self.keyword("in") {
                    return Err(format!("expected 'in' after '{name} not'"));
                }
                Ok(Expr::In(name, self.list()?, true))
            }
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("is") => {
                let negated = self.keyword("not");
                if self.keyword("defined") {
                    Ok(Expr::Defined(name, negated))
                } else if self.keyword("empty") {
                    Ok(Expr::Empty(name, negated))
                } else {
                    Err(format!("expected 'defined' or 'empty' after '{name} is'"))
                }
            }
            other => Err(format!("unexpected {other:?} after field {name}")),
        }
    }

    fn list(&mut self) -> Result<Vec<Value>, String> {
        self.expect(&Tok::Open, "'(' of an 'in' list")?;
        let mut values = Vec::new();
        loop {
            values.extend(self.literal()?);
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::Close) => return Ok(values),
                other => return Err(format!("expected ',' or ')' in a list, found {other:?}")),
            }
        }
    }
}

/// Parses one `where` predicate; `vars` are the `var.<name>` query parameters.
pub(crate) fn parse(text: &str, vars: &HashMap<String, Vec<String>>) -> Result<Expr, String> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err("empty predicate".to_owned());
    }
    let mut parser = Parser { toks, pos: 0, vars };
    let expr = parser.or()?;
    if parser.pos < parser.toks.len() {
        return Err(format!(
            "unexpected {:?} after the predicate",
            parser.toks[parser.pos]
        ));
    }
    Ok(expr)
}

fn as_time(v: &Value) -> Option<Timestamp> {
    let s = v.as_str()?;
    if s.len() < 20 || s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    Timestamp::parse_rfc3339(s).ok()
}

/// Compares two JSON values the way predicates and sorting do: numbers numerically,
/// datetimes as instants, strings by code point, booleans false first; `None` when the kinds
/// differ.
pub(crate) fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(l), Value::Number(r)) => l.as_f64()?.partial_cmp(&r.as_f64()?),
        // The simulator writes every datetime in one form (UTC, milliseconds, `Z`), and text
        // of one shape orders like its instants; only text of different lengths is parsed.
        (Value::String(l), Value::String(r)) if l.len() == r.len() => Some(l.cmp(r)),
        (Value::String(l), Value::String(r)) => match (as_time(left), as_time(right)) {
            (Some(lt), Some(rt)) => Some(lt.cmp(&rt)),
            _ => Some(l.cmp(r)),
        },
        (Value::Bool(l), Value::Bool(r)) => Some(l.cmp(r)),
        _ => None,
    }
}

fn scalar_matches(v: &Value, op: Op, lit: &Value) -> bool {
    if let Value::Array(items) = v {
        return items.iter().any(|i| scalar_matches(i, op, lit));
    }
    let Some(ord) = compare(v, lit) else {
        return op == Op::Ne && !v.is_null();
    };
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    }
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.get(name).filter(|v| !v.is_null())
}

/// Customer emails are unique and compared case-insensitively by the platform; so are the
/// simulator's `email` predicates.
fn folded<'a>(name: &str, v: &'a Value, lit: &'a Value) -> (Cow<'a, Value>, Cow<'a, Value>) {
    match (name, v, lit) {
        ("email", Value::String(a), Value::String(b)) => (
            Cow::Owned(Value::String(a.to_lowercase())),
            Cow::Owned(Value::String(b.to_lowercase())),
        ),
        _ => (Cow::Borrowed(v), Cow::Borrowed(lit)),
    }
}

/// Whether `value` (a resource, or an object nested in it) satisfies `expr`.
pub(crate) fn matches(expr: &Expr, value: &Value) -> bool {
    if let Value::Array(items) = value {
        return items.iter().any(|item| matches(expr, item));
    }
    match expr {
        Expr::And(a, b) => matches(a, value) && matches(b, value),
        Expr::Or(a, b) => matches(a, value) || matches(b, value),
        Expr::Not(inner) => !matches(inner, value),
        Expr::Cmp(name, op, lit) => field(value, name).is_some_and(|v| {
            let (v, lit) = folded(name, v, lit);
            scalar_matches(&v, *op, &lit)
        }),
        Expr::In(name, lits, negated) => {
            let found = field(value, name).is_some_and(|v| {
                lits.iter().any(|l| {
                    let (v, l) = folded(name, v, l);
                    scalar_matches(&v, Op::Eq, &l)
                })
            });
            found != *negated
        }
        Expr::Defined(name, negated) => field(value, name).is_some() != *negated,
        Expr::Empty(name, negated) => {
            let empty = match field(value, name) {
                Some(Value::Array(items)) => items.is_empty(),
                Some(Value::Object(map)) => map.is_empty(),
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
                None => true,
            };
            empty != *negated
        }
        Expr::Nested(name, inner) => field(value, name).is_some_and(|v| matches(inner, v)),
    }
}

/// One `sort` parameter: a dotted path and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sort {
    pub(crate) path: Vec<String>,
    pub(crate) descending: bool,
}

/// Parses `lastModifiedAt asc`, `name.en desc`, `id` (ascending).
pub(crate) fn parse_sort(text: &str) -> Result<Sort, String> {
    let mut parts = text.split_whitespace();
    let path = parts.next().ok_or("empty sort expression")?;
    let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(format!("sort direction must be asc or desc, not {other:?}")),
    };
    if parts.next().is_some() || path.is_empty() {
        return Err(format!("malformed sort expression {text:?}"));
    }
    Ok(Sort {
        path: path.split('.').map(str::to_owned).collect(),
        descending,
    })
}

fn at_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

/// Orders two resources by the sort expressions (missing values last when ascending).
pub(crate) fn order_by(sorts: &[Sort], a: &Value, b: &Value) -> Ordering {
    for sort in sorts {
        let ord = match (at_path(a, &sort.path), at_path(b, &sort.path)) {
            (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        let ord = if sort.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(predicate: &str, value: &Value) -> bool {
        matches(&parse(predicate, &HashMap::new()).expect("parses"), value)
    }

    #[test]
    fn keyset_predicate_of_the_client_selects_records_after_the_position() {
        let p = r#"lastModifiedAt > "2026-01-01T00:00:00.000Z" or (lastModifiedAt = "2026-01-01T00:00:00.000Z" and id > "b")"#;
        let rec = |id: &str, t: &str| json!({"id": id, "lastModifiedAt": t});
        assert!(eval(p, &rec("a", "2026-01-01T00:00:01.000Z")));
        assert!(eval(p, &rec("c", "2026-01-01T00:00:00.000Z")));
        assert!(!eval(p, &rec("b", "2026-01-01T00:00:00.000Z")));
        assert!(!eval(p, &rec("z", "2025-12-31T23:59:59.999Z")));
        // Datetimes compare as instants whatever their precision.
        assert!(eval(
            r#"lastModifiedAt >= "2026-01-01T00:00:00Z""#,
            &rec("a", "2026-01-01T00:00:00.000Z")
        ));
    }

    #[test]
    fn in_defined_nested_and_arrays() {
        let c = json!({"email": "a@x.io", "customerGroup": {"typeId": "customer-group", "id": "g1"},
                       "lineItems": [{"variant": {"sku": "A"}}, {"variant": {"sku": "B"}}],
                       "customerId": null});
        assert!(eval(r#"email in ("b@x.io", "a@x.io")"#, &c));
        assert!(eval(r#"email not in ("b@x.io")"#, &c));
        assert!(eval(r#"customerGroup(id = "g1")"#, &c));
        assert!(eval(r#"lineItems(variant(sku = "B"))"#, &c));
        assert!(!eval(r#"lineItems(variant(sku = "C"))"#, &c));
        assert!(eval("customerId is not defined and email is defined", &c));
        assert!(eval(r#"not (email = "b@x.io")"#, &c));
        assert!(eval("lineItems is not empty", &c));
    }

    #[test]
    fn input_variables_and_syntax_errors() {
        let vars = HashMap::from([(
            "e".to_owned(),
            vec!["a@x.io".to_owned(), "b@x.io".to_owned()],
        )]);
        let expr = parse("email in :e", &vars);
        assert!(expr.is_err(), "in needs a parenthesized list");
        let expr = parse("email in (:e)", &vars).expect("parses");
        assert!(matches(&expr, &json!({"email": "b@x.io"})));
        assert!(parse("email = ", &vars).is_err());
        assert!(parse(r#"email = "a" extra"#, &vars).is_err());
        assert!(parse("version >= 2", &vars).is_ok());
    }

    #[test]
    fn sorts_by_paths_with_tie_breaks() {
        let sorts = vec![
            parse_sort("lastModifiedAt asc").expect("sort"),
            parse_sort("id desc").expect("sort"),
        ];
        let a = json!({"id": "a", "lastModifiedAt": "2026-01-01T00:00:00.000Z"});
        let b = json!({"id": "b", "lastModifiedAt": "2026-01-01T00:00:00.000Z"});
        assert_eq!(order_by(&sorts, &a, &b), Ordering::Greater);
        assert!(parse_sort("id sideways").is_err());
    }
}
