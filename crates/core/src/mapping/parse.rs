//! The expression language parser: `path | transform(args) | ...`.
//!
//! ```text
//! expr    := primary ( '|' IDENT ( '(' args? ')' )? )*
//! primary := STRING | NUMBER | 'true' | 'false' | 'null'
//!          | IDENT '(' args? ')'                       -- a function: concat, coalesce
//!          | IDENT ( '.' IDENT | '[' ( STRING | '*' | INT ) ']' )*   -- a path
//! args    := expr ( ',' expr )*
//! ```

use std::fmt::Write;
use std::str::FromStr;

use cartograph_model::Decimal;

/// A literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lit {
    Str(String),
    Num(Decimal),
    Bool(bool),
    Null,
}

/// One path segment after the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Field(String),
    Key(String),
    All,
    Index(usize),
}

/// The syntax tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ast {
    Path {
        root: String,
        segs: Vec<Seg>,
    },
    Lit(Lit),
    Call {
        name: String,
        args: Vec<Ast>,
    },
    Pipe {
        input: Box<Ast>,
        name: String,
        args: Vec<Ast>,
    },
}

impl Ast {
    /// The text of a bare identifier argument (`map(deal_stage)`), if it is one.
    pub(crate) fn as_ident(&self) -> Option<&str> {
        match self {
            Self::Path { root, segs } if segs.is_empty() => Some(root),
            _ => None,
        }
    }

    /// The path text, for messages.
    pub(crate) fn path_text(root: &str, segs: &[Seg]) -> String {
        let mut out = root.to_owned();
        for s in segs {
            match s {
                Seg::Field(f) => {
                    out.push('.');
                    out.push_str(f);
                }
                Seg::Key(k) => {
                    let _ = write!(out, "[{k:?}]");
                }
                Seg::All => out.push_str("[*]"),
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }
}

/// A syntax error at a character offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

/// Parses one expression.
pub(crate) fn parse(src: &str) -> Result<Ast, ParseError> {
    let mut p = Parser { src, pos: 0 };
    let ast = p.expr()?;
    p.ws();
    if p.pos < src.len() {
        return Err(p.err(format!("unexpected {:?}", p.rest_preview())));
    }
    Ok(ast)
}

impl Parser<'_> {
    fn err(&self, message: String) -> ParseError {
        ParseError {
            offset: self.pos,
            message,
        }
    }

    fn rest_preview(&self) -> String {
        self.src[self.pos..].chars().take(12).collect()
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        if self.eat(c) {
            Ok(())
        } else {
            let found = self
                .peek()
                .map_or("end of input".to_owned(), |f| format!("{f:?}"));
            Err(self.err(format!("expected {c:?}, found {found}")))
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.pos;
        while let Some(c) = self.peek() {
            let ok =
                c == '_' || c.is_ascii_alphabetic() || (self.pos > start && c.is_ascii_digit());
            if !ok {
                break;
            }
            self.pos += 1;
        }
        (self.pos > start).then(|| self.src[start..self.pos].to_owned())
    }

    fn expr(&mut self) -> Result<Ast, ParseError> {
        let mut ast = self.primary()?;
        while self.eat('|') {
            let name = self
                .ident()
                .ok_or_else(|| self.err("expected a transform name after '|'".to_owned()))?;
            let args = if self.eat('(') {
                self.args()?
            } else {
                Vec::new()
            };
            ast = Ast::Pipe {
                input: Box::new(ast),
                name,
                args,
            };
        }
        Ok(ast)
    }

    fn args(&mut self) -> Result<Vec<Ast>, ParseError> {
        let mut args = Vec::new();
        if self.eat(')') {
            return Ok(args);
        }
        loop {
            args.push(self.expr()?);
            if self.eat(')') {
                return Ok(args);
            }
            self.expect(',')?;
        }
    }

    fn string(&mut self, quote: char) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.err("unterminated string".to_owned()))?;
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    let e = self
                        .peek()
                        .ok_or_else(|| self.err("unterminated string".to_owned()))?;
                    self.pos += e.len_utf8();
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c if c == quote => return Ok(out),
                c => out.push(c),
            }
        }
    }

    fn number(&mut self) -> Result<Decimal, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || c == '.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        Decimal::from_str(text).map_err(|_| ParseError {
            offset: start,
            message: format!("invalid number {text:?}"),
        })
    }

    fn primary(&mut self) -> Result<Ast, ParseError> {
        self.ws();
        match self.peek() {
            Some(q @ ('\'' | '"')) => return Ok(Ast::Lit(Lit::Str(self.string(q)?))),
            Some(c) if c.is_ascii_digit() || c == '-' => {
                return Ok(Ast::Lit(Lit::Num(self.number()?)));
            }
            Some(_) => {}
            None => return Err(self.err("expected an expression".to_owned())),
        }
        let Some(root) = self.ident() else {
            return Err(self.err(format!("unexpected {:?}", self.rest_preview())));
        };
        match root.as_str() {
            "true" => return Ok(Ast::Lit(Lit::Bool(true))),
            "false" => return Ok(Ast::Lit(Lit::Bool(false))),
            "null" => return Ok(Ast::Lit(Lit::Null)),
            _ => {}
        }
        if self.eat('(') {
            let args = self.args()?;
            return Ok(Ast::Call { name: root, args });
        }
        let mut segs = Vec::new();
        loop {
            if self.eat('.') {
                let f = self
                    .ident()
                    .ok_or_else(|| self.err("expected a field name after '.'".to_owned()))?;
                segs.push(Seg::Field(f));
            } else if self.eat('[') {
                self.ws();
                match self.peek() {
                    Some('*') => {
                        self.pos += 1;
                        segs.push(Seg::All);
                    }
                    Some(q @ ('\'' | '"')) => segs.push(Seg::Key(self.string(q)?)),
                    Some(c) if c.is_ascii_digit() => {
                        let n = self.number()?;
                        let i = usize::try_from(n.trunc().mantissa())
                            .map_err(|_| self.err("index out of range".to_owned()))?;
                        segs.push(Seg::Index(i));
                    }
                    _ => {
                        return Err(
                            self.err("expected \"key\", * or an index inside [ ]".to_owned())
                        );
                    }
                }
                self.expect(']')?;
            } else {
                break;
            }
        }
        Ok(Ast::Path { root, segs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_paths_and_calls_parse() {
        let ast = parse(r#"order.line_items[*].sku | join(", ")"#).unwrap();
        let Ast::Pipe { input, name, args } = ast else {
            panic!()
        };
        assert_eq!(name, "join");
        assert_eq!(args, vec![Ast::Lit(Lit::Str(", ".into()))]);
        assert_eq!(
            *input,
            Ast::Path {
                root: "order".into(),
                segs: vec![
                    Seg::Field("line_items".into()),
                    Seg::All,
                    Seg::Field("sku".into())
                ]
            }
        );
        let ast = parse("concat('Order #', order.number) | trim").unwrap();
        assert!(matches!(ast, Ast::Pipe { .. }));
        let ast = parse(r#"order.custom["gift_message"]"#).unwrap();
        assert_eq!(
            ast,
            Ast::Path {
                root: "order".into(),
                segs: vec![Seg::Field("custom".into()), Seg::Key("gift_message".into())]
            }
        );
        assert_eq!(
            parse("-1.50").unwrap(),
            Ast::Lit(Lit::Num(Decimal::new(-150, 2)))
        );
    }

    #[test]
    fn syntax_errors_name_the_offset() {
        let err = parse("order.total |").unwrap_err();
        assert_eq!(err.offset, 13);
        let err = parse("order.total )").unwrap_err();
        assert!(err.message.contains("unexpected"), "{err:?}");
        assert!(parse("join('a'").is_err());
        assert!(parse("'open").is_err());
    }
}
