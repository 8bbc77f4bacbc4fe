//! The SOQL subset the connector sends: `SELECT f, ... FROM Obj [WHERE cond] [ORDER BY f
//! [ASC|DESC], ...] [LIMIT n]`, where `cond` combines `f = v`, `f != v`, `f < v`, `f <= v`,
//! `f > v`, `f >= v` and `f IN (v, ...)` with `AND`, `OR`, `NOT` and parentheses (`AND`
//! binds tighter than `OR`). Values are string literals (`'a'`), numbers, `true`/`false`,
//! `null` and unquoted datetimes (`2024-05-01T10:00:00Z`).

use std::cmp::Ordering;

use rust_decimal::Decimal;
use serde_json::Value;

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

/// A literal of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Literal {
    /// `'text'`.
    Str(String),
    /// A number, `true`/`false`, `null` or a datetime, as written.
    Bare(String),
}

/// A WHERE condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(String, Op, Literal),
    In(String, Vec<Literal>),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) select: Vec<String>,
    pub(crate) from: String,
    pub(crate) filter: Option<Expr>,
    /// Fields and whether descending.
    pub(crate) order_by: Vec<(String, bool)>,
    pub(crate) limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Punct(&'static str),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated string literal".into()),
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('r') => s.push('\r'),
                        Some('t') => s.push('\t'),
                        Some(other) => s.push(other),
                        None => return Err("bad escape".into()),
                    },
                    Some('\'') => break,
                    Some(other) => s.push(other),
                }
            }
            out.push(Token::Str(s));
        } else if matches!(c, ',' | '(' | ')' | '=') {
            chars.next();
            out.push(Token::Punct(match c {
                ',' => ",",
                '(' => "(",
                ')' => ")",
                _ => "=",
            }));
        } else if matches!(c, '<' | '>' | '!') {
            chars.next();
            let eq = chars.peek() == Some(&'=');
            if eq {
                chars.next();
            }
            out.push(Token::Punct(match (c, eq) {
                ('<', false) => "<",
                ('<', true) => "<=",
                ('>', false) => ">",
                ('>', true) => ">=",
                ('!', true) => "!=",
                _ => return Err("unexpected token '!'".into()),
            }));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            // Datetimes and negative numbers carry '-', ':' and '+' inside one literal.
            let literal = c.is_ascii_digit() || c == '-';
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                let part = c.is_ascii_alphanumeric()
                    || c == '_'
                    || c == '.'
                    || (literal && matches!(c, '-' | ':' | '+'));
                if !part {
                    break;
                }
                w.push(c);
                chars.next();
            }
            out.push(Token::Word(w));
        } else {
            return Err(format!("unexpected token '{c}'"));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = self.keyword(kw);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Punct(q)) if *q == p);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(format!("expected {what}")),
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        let lit = match self.peek() {
            Some(Token::Str(s)) => Literal::Str(s.clone()),
            Some(Token::Word(w)) => Literal::Bare(w.clone()),
            _ => return Err("expected a value".into()),
        };
        self.i += 1;
        Ok(lit)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while self.eat_keyword("OR") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.factor()?];
        while self.eat_keyword("AND") {
            parts.push(self.factor()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn factor(&mut self) -> Result<Expr, String> {
        if self.eat_punct("(") {
            let inner = self.or()?;
            if !self.eat_punct(")") {
                return Err("expected )".into());
            }
            return Ok(inner);
        }
        if self.eat_keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        let field = self.word("a field in WHERE")?;
        if self.eat_keyword("IN") {
            if !self.eat_punct("(") {
                return Err("expected (".into());
            }
            let mut values = vec![self.literal()?];
            while self.eat_punct(",") {
                values.push(self.literal()?);
            }
            if !self.eat_punct(")") {
                return Err("expected , or )".into());
            }
            return Ok(Expr::In(field, values));
        }
        let op = match self.peek() {
            Some(Token::Punct("=")) => Op::Eq,
            Some(Token::Punct("!=")) => Op::Ne,
            Some(Token::Punct("<")) => Op::Lt,
            Some(Token::Punct("<=")) => Op::Le,
            Some(Token::Punct(">")) => Op::Gt,
            Some(Token::Punct(">=")) => Op::Ge,
            _ => return Err("only =, !=, <, <=, >, >= and IN are supported".into()),
        };
        self.i += 1;
        Ok(Expr::Cmp(field, op, self.literal()?))
    }
}

pub(crate) fn parse(text: &str) -> Result<Query, String> {
    let mut p = Parser {
        toks: tokens(text)?,
        i: 0,
    };
    if !p.eat_keyword("SELECT") {
        return Err("unexpected token: expected SELECT".into());
    }
    let mut select = vec![p.word("a field name")?];
    while p.eat_punct(",") {
        select.push(p.word("a field name")?);
    }
    if !p.eat_keyword("FROM") {
        return Err("expected FROM".into());
    }
    let from = p.word("an object name")?;
    let filter = if p.eat_keyword("WHERE") {
        Some(p.or()?)
    } else {
        None
    };
    let mut order_by = Vec::new();
    if p.eat_keyword("ORDER") {
        if !p.eat_keyword("BY") {
            return Err("expected BY".into());
        }
        loop {
            let field = p.word("a field in ORDER BY")?;
            let desc = if p.eat_keyword("DESC") {
                true
            } else {
                p.eat_keyword("ASC");
                false
            };
            order_by.push((field, desc));
            if !p.eat_punct(",") {
                break;
            }
        }
    }
    let mut limit = None;
    if p.eat_keyword("LIMIT") {
        let n = p.word("a number")?;
        limit = Some(n.parse().map_err(|_| "bad LIMIT".to_owned())?);
    }
    if p.i != p.toks.len() {
        return Err("unexpected tokens after the query".into());
    }
    Ok(Query {
        select,
        from,
        filter,
        order_by,
        limit,
    })
}

impl Expr {
    /// Rewrites every field name (e.g. to the org's spelling); the first refusal wins.
    pub(crate) fn map_fields(
        &mut self,
        f: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<(), String> {
        match self {
            Self::And(parts) | Self::Or(parts) => {
                for p in parts {
                    p.map_fields(f)?;
                }
                Ok(())
            }
            Self::Not(inner) => inner.map_fields(f),
            Self::Cmp(field, _, _) | Self::In(field, _) => {
                *field = f(field)?;
                Ok(())
            }
        }
    }

    /// Whether a row (field -> value) satisfies the condition.
    pub(crate) fn matches(&self, get: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Self::And(parts) => parts.iter().all(|p| p.matches(get)),
            Self::Or(parts) => parts.iter().any(|p| p.matches(get)),
            Self::Not(inner) => !inner.matches(get),
            Self::Cmp(field, op, lit) => {
                let got = get(field);
                match compare(&got, lit) {
                    None => *op == Op::Ne && !(got.is_null() && is_null(lit)),
                    Some(ord) => match op {
                        Op::Eq => ord == Ordering::Equal,
                        Op::Ne => ord != Ordering::Equal,
                        Op::Lt => ord == Ordering::Less,
                        Op::Le => ord != Ordering::Greater,
                        Op::Gt => ord == Ordering::Greater,
                        Op::Ge => ord != Ordering::Less,
                    },
                }
            }
            Self::In(field, values) => {
                let got = get(field);
                values
                    .iter()
                    .any(|v| compare(&got, v) == Some(Ordering::Equal))
            }
        }
    }
}

fn is_null(lit: &Literal) -> bool {
    matches!(lit, Literal::Bare(w) if w.eq_ignore_ascii_case("null"))
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Orders a row value against a literal the way SOQL would: datetimes by instant, numbers
/// by value, text case-insensitively; `None` when either side is null (only `= null` and
/// `!= null` hold then).
fn compare(got: &Value, lit: &Literal) -> Option<Ordering> {
    if is_null(lit) {
        return got.is_null().then_some(Ordering::Equal);
    }
    let got = text_of(got)?;
    match lit {
        Literal::Str(s) => Some(got.to_lowercase().cmp(&s.to_lowercase())),
        Literal::Bare(w) => {
            if let (Some(a), Some(b)) = (crate::map::parse_time(&got), crate::map::parse_time(w)) {
                return Some(a.cmp(&b));
            }
            if let (Ok(a), Ok(b)) = (got.parse::<Decimal>(), w.parse::<Decimal>()) {
                return Some(a.cmp(&b));
            }
            Some(got.to_lowercase().cmp(&w.to_lowercase()))
        }
    }
}

/// Sorts rows by `ORDER BY` (nulls first, as SOQL's default for ascending).
pub(crate) fn sort(rows: &mut [Value], order_by: &[(String, bool)]) {
    rows.sort_by(|a, b| {
        for (field, desc) in order_by {
            let (x, y) = (&a[field.as_str()], &b[field.as_str()]);
            let ord = match (text_of(x), text_of(y)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => {
                    match (crate::map::parse_time(&x), crate::map::parse_time(&y)) {
                        (Some(p), Some(q)) => p.cmp(&q),
                        _ => x.cmp(&y),
                    }
                }
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> impl Fn(&str) -> Value {
        move |f: &str| v.get(f).cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn parses_what_the_connector_sends() {
        let q = parse(r"SELECT Id, Email FROM Contact WHERE Email IN ('a@b.co', 'o\'hara@x.io') OR Id = '003' LIMIT 5")
            .expect("parses");
        assert_eq!(q.select, vec!["Id", "Email"]);
        assert_eq!(q.from, "Contact");
        assert_eq!(
            q.filter,
            Some(Expr::Or(vec![
                Expr::In(
                    "Email".into(),
                    vec![
                        Literal::Str("a@b.co".into()),
                        Literal::Str("o'hara@x.io".into())
                    ]
                ),
                Expr::Cmp("Id".into(), Op::Eq, Literal::Str("003".into())),
            ]))
        );
        assert_eq!(q.limit, Some(5));
        assert!(parse("SELECT FROM Contact").is_err());
        assert!(parse("SELECT Id FROM Contact WHERE Email LIKE 'a%'").is_err());
    }

    #[test]
    fn keyset_delta_query_filters_and_orders() {
        let q = parse(
            "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= 2024-05-01T10:00:00Z \
             AND (SystemModstamp > 2024-05-01T10:00:05.000+0000 OR (SystemModstamp = \
             2024-05-01T10:00:05Z AND Id > '003B')) ORDER BY SystemModstamp ASC, Id LIMIT 2",
        )
        .expect("parses");
        assert_eq!(
            q.order_by,
            vec![("SystemModstamp".into(), false), ("Id".into(), false)]
        );
        let filter = q.filter.expect("where");
        let at = |id: &str, t: &str| json!({"Id": id, "SystemModstamp": t});
        for (r, want) in [
            (at("003A", "2024-05-01T10:00:05.000+0000"), false),
            (at("003B", "2024-05-01T10:00:05.000+0000"), false),
            (at("003C", "2024-05-01T10:00:05.000+0000"), true),
            (at("003A", "2024-05-01T10:00:06.000+0000"), true),
            (at("003Z", "2024-05-01T09:59:59.000+0000"), false),
        ] {
            assert_eq!(filter.matches(&row(r.clone())), want, "{r}");
        }
        let mut rows = vec![
            at("003B", "2024-05-01T10:00:06.000+0000"),
            at("003C", "2024-05-01T10:00:05.000+0000"),
            at("003A", "2024-05-01T10:00:06.000+0000"),
        ];
        sort(&mut rows, &q.order_by);
        let ids: Vec<&str> = rows.iter().filter_map(|r| r["Id"].as_str()).collect();
        assert_eq!(ids, ["003C", "003A", "003B"]);
    }

    #[test]
    fn null_and_not_follow_soql() {
        let q =
            parse("SELECT Id FROM Lead WHERE ConvertedContactId != null AND NOT Email = 'x@y.z'")
                .expect("parses");
        let filter = q.filter.expect("where");
        assert!(filter.matches(&row(json!({"ConvertedContactId": "003", "Email": "a@b.c"}))));
        assert!(!filter.matches(&row(json!({"ConvertedContactId": null, "Email": "a@b.c"}))));
        assert!(!filter.matches(&row(json!({"ConvertedContactId": "003", "Email": "X@y.z"}))));
    }
}
