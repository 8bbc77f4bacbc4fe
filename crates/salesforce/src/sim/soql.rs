//! The SOQL subset the connector sends: `SELECT f, ... FROM Obj [WHERE f IN ('a', ...) |
//! f = 'a' [OR ...]] [LIMIT n]`.

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub(crate) select: Vec<String>,
    pub(crate) from: String,
    /// OR-ed conditions: field, accepted values.
    pub(crate) conditions: Vec<(String, Vec<String>)>,
    pub(crate) limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Punct(char),
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
            out.push(Token::Punct(c));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                    w.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Token::Word(w));
        } else {
            return Err(format!("unexpected token '{c}'"));
        }
    }
    Ok(out)
}

fn keyword(t: Option<&Token>, kw: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
}

pub(crate) fn parse(text: &str) -> Result<Query, String> {
    let toks = tokens(text)?;
    let mut i = 0;
    if !keyword(toks.first(), "SELECT") {
        return Err("unexpected token: expected SELECT".into());
    }
    i += 1;
    let mut select = Vec::new();
    loop {
        match toks.get(i) {
            Some(Token::Word(w)) => select.push(w.clone()),
            _ => return Err("expected a field name".into()),
        }
        i += 1;
        if toks.get(i) == Some(&Token::Punct(',')) {
            i += 1;
        } else {
            break;
        }
    }
    if !keyword(toks.get(i), "FROM") {
        return Err("expected FROM".into());
    }
    i += 1;
    let from = match toks.get(i) {
        Some(Token::Word(w)) => w.clone(),
        _ => return Err("expected an object name".into()),
    };
    i += 1;
    let mut conditions = Vec::new();
    if keyword(toks.get(i), "WHERE") {
        i += 1;
        loop {
            let field = match toks.get(i) {
                Some(Token::Word(w)) => w.clone(),
                _ => return Err("expected a field in WHERE".into()),
            };
            i += 1;
            let mut values = Vec::new();
            if toks.get(i) == Some(&Token::Punct('=')) {
                i += 1;
                match toks.get(i) {
                    Some(Token::Str(s)) => values.push(s.clone()),
                    _ => return Err("expected a string literal".into()),
                }
                i += 1;
            } else if keyword(toks.get(i), "IN") {
                i += 1;
                if toks.get(i) != Some(&Token::Punct('(')) {
                    return Err("expected (".into());
                }
                i += 1;
                loop {
                    match toks.get(i) {
                        Some(Token::Str(s)) => values.push(s.clone()),
                        _ => return Err("expected a string literal".into()),
                    }
                    i += 1;
                    match toks.get(i) {
                        Some(Token::Punct(',')) => i += 1,
                        Some(Token::Punct(')')) => {
                            i += 1;
                            break;
                        }
                        _ => return Err("expected , or )".into()),
                    }
                }
            } else {
                return Err("only = and IN are supported".into());
            }
            conditions.push((field, values));
            if keyword(toks.get(i), "OR") {
                i += 1;
            } else {
                break;
            }
        }
    }
    let mut limit = None;
    if keyword(toks.get(i), "LIMIT") {
        i += 1;
        match toks.get(i) {
            Some(Token::Word(n)) => limit = Some(n.parse().map_err(|_| "bad LIMIT".to_owned())?),
            _ => return Err("expected a number".into()),
        }
        i += 1;
    }
    if i != toks.len() {
        return Err("unexpected tokens after the query".into());
    }
    Ok(Query {
        select,
        from,
        conditions,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_connector_sends() {
        let q = parse(r"SELECT Id, Email FROM Contact WHERE Email IN ('a@b.co', 'o\'hara@x.io') OR Id = '003' LIMIT 5")
            .expect("parses");
        assert_eq!(q.select, vec!["Id", "Email"]);
        assert_eq!(q.from, "Contact");
        assert_eq!(q.conditions[0].1, vec!["a@b.co", "o'hara@x.io"]);
        assert_eq!(q.conditions[1], ("Id".to_owned(), vec!["003".to_owned()]));
        assert_eq!(q.limit, Some(5));
        assert!(parse("SELECT FROM Contact").is_err());
        assert!(parse("SELECT Id FROM Contact WHERE Email LIKE 'a%'").is_err());
    }
}
