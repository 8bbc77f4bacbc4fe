//! Type-checking compilation of expressions into evaluable form.

use std::collections::BTreeMap;

use cartograph_model::{Currency, Decimal};
use rustc_hash::FxHashMap;

use super::error::CompileErrorKind as E;
use super::parse::{Ast, Lit, Seg};
use super::schema::{self, Get, Kind, ObjKind, Ty};
use super::spec::Subject;

/// A path root: one of the records given to [`Input`](super::Input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Customer,
    Order,
    LineItem,
    Refund,
    Product,
    Cart,
    Metrics,
    Status,
}

impl Root {
    fn parse(name: &str) -> Option<(Self, ObjKind)> {
        Some(match name {
            "customer" => (Self::Customer, ObjKind::Customer),
            "order" => (Self::Order, ObjKind::Order),
            "line_item" => (Self::LineItem, ObjKind::LineItem),
            "refund" => (Self::Refund, ObjKind::Refund),
            "product" => (Self::Product, ObjKind::Product),
            "cart" => (Self::Cart, ObjKind::Cart),
            "metrics" => (Self::Metrics, ObjKind::Metrics),
            "status" => (Self::Status, ObjKind::Status),
            _ => return None,
        })
    }
}

/// One compiled path step.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Get(Get),
    Custom(String),
    Index(usize),
    Amount,
    Currency,
}

/// The start of an expression.
#[derive(Debug, Clone)]
pub(crate) enum Term {
    Path { root: Root, steps: Vec<Step> },
    Lit(Lit),
    Concat(Vec<Expr>),
    Coalesce(Vec<Expr>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A compiled transform.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Trim,
    Lower,
    Upper,
    Default(Lit),
    Concat(Vec<Expr>),
    Map {
        name: String,
        table: FxHashMap<String, String>,
        fallback: Option<String>,
    },
    IsoDate,
    Rfc3339,
    EpochMs,
    ToDate,
    ToDateTime,
    Decimal(u32),
    Amount,
    CurrencyCode,
    MinorUnits,
    Convert(Option<Currency>),
    Sum,
    Count,
    First,
    Last,
    Join(String),
    Distinct,
    Eq(Lit),
    Ne(Lit),
    In(Vec<Lit>),
    Compare(Cmp, Decimal),
    Present,
    Not,
    And(Box<Expr>),
    Or(Box<Expr>),
    If(Lit, Lit),
    ToString,
    ToNumber,
    Localized(Vec<String>),
}

/// A compiled expression: a term and its transforms (`lift`: applied to each element).
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub(crate) term: Term,
    pub(crate) ops: Vec<(Op, bool)>,
}

/// What compilation needs to know.
pub(crate) struct Cx<'a> {
    pub(crate) subject: Subject,
    pub(crate) maps: &'a BTreeMap<String, BTreeMap<String, String>>,
    pub(crate) languages: &'a [String],
}

const SCALARS: &str = "string, number, bool, date or datetime";

fn lit_kind(l: &Lit) -> Kind {
    match l {
        Lit::Str(_) => Kind::Str,
        Lit::Num(_) => Kind::Num,
        Lit::Bool(_) => Kind::Bool,
        Lit::Null => Kind::Null,
    }
}

fn lit_arg(name: &str, args: &[Ast], i: usize) -> Result<Lit, E> {
    match args.get(i) {
        Some(Ast::Lit(l)) => Ok(l.clone()),
        Some(a) => a
            .as_ident()
            .map(|s| Lit::Str(s.to_owned()))
            .ok_or_else(|| E::BadArguments {
                name: name.to_owned(),
                reason: format!("argument {} must be a constant", i + 1),
            }),
        None => Err(E::BadArguments {
            name: name.to_owned(),
            reason: format!("argument {} is missing", i + 1),
        }),
    }
}

fn str_arg(name: &str, args: &[Ast], i: usize) -> Result<String, E> {
    match lit_arg(name, args, i)? {
        Lit::Str(s) => Ok(s),
        _ => Err(E::BadArguments {
            name: name.to_owned(),
            reason: format!("argument {} must be text", i + 1),
        }),
    }
}

fn num_arg(name: &str, args: &[Ast], i: usize) -> Result<Decimal, E> {
    match lit_arg(name, args, i)? {
        Lit::Num(n) => Ok(n),
        _ => Err(E::BadArguments {
            name: name.to_owned(),
            reason: format!("argument {} must be a number", i + 1),
        }),
    }
}

fn arity(name: &str, args: &[Ast], min: usize, max: usize) -> Result<(), E> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(E::BadArguments {
            name: name.to_owned(),
            reason: format!("takes {want} argument(s), got {}", args.len()),
        });
    }
    Ok(())
}

fn mismatch(name: &str, expected: &str, found: Ty) -> E {
    E::TypeMismatch {
        transform: name.to_owned(),
        expected: expected.to_owned(),
        found: found.name(),
    }
}

/// Compiles an expression, returning it with its static type.
pub(crate) fn compile(ast: &Ast, cx: &Cx<'_>) -> Result<(Expr, Ty), E> {
    match ast {
        Ast::Lit(l) => Ok((
            Expr {
                term: Term::Lit(l.clone()),
                ops: Vec::new(),
            },
            Ty::one(lit_kind(l)),
        )),
        Ast::Path { root, segs } => path(root, segs, cx),
        Ast::Call { name, args } => call(name, args, cx),
        Ast::Pipe { input, name, args } => {
            let (mut expr, ty) = compile(input, cx)?;
            let (op, out, lift) = transform(name, args, ty, cx)?;
            expr.ops.push((op, lift));
            Ok((expr, out))
        }
    }
}

fn path(root_name: &str, segs: &[Seg], cx: &Cx<'_>) -> Result<(Expr, Ty), E> {
    let text = || Ast::path_text(root_name, segs);
    let unknown = |reason: String| E::UnknownPath {
        path: text(),
        reason,
    };
    let Some((root, kind)) = Root::parse(root_name) else {
        return Err(unknown(format!(
            "no root `{root_name}`; roots are customer, order, line_item, refund, product, cart, metrics, status"
        )));
    };
    if !cx.subject.roots().contains(&root_name) {
        return Err(unknown(format!(
            "a {} mapping can read {}",
            cx.subject.name(),
            cx.subject.roots().join(", ")
        )));
    }
    let mut ty = Ty::one(Kind::Obj(kind));
    let mut iterating = false;
    let mut steps = Vec::new();
    let mut i = 0;
    while i < segs.len() {
        match &segs[i] {
            Seg::All => {
                if !ty.list {
                    return Err(unknown("[*] used on a value that is not a list".to_owned()));
                }
                iterating = true;
            }
            Seg::Index(n) => {
                if !ty.list || iterating {
                    return Err(unknown(
                        "[index] used on a value that is not a list".to_owned(),
                    ));
                }
                steps.push(Step::Index(*n));
                ty = ty.with_list(false);
            }
            Seg::Key(_) => return Err(unknown("[\"key\"] only follows `custom`".to_owned())),
            Seg::Field(name) => {
                if ty.list && !iterating {
                    return Err(unknown(format!(
                        "`{name}` is read from a list: write [*] (every element) or [0] before it"
                    )));
                }
                match ty.kind {
                    Kind::Obj(k) if name == "custom" && schema::has_custom(k) => {
                        let Some(Seg::Key(key)) = segs.get(i + 1) else {
                            return Err(unknown("write custom[\"key\"]".to_owned()));
                        };
                        steps.push(Step::Custom(key.clone()));
                        ty = Ty::one(Kind::Any).with_list(ty.list);
                        i += 1;
                    }
                    Kind::Obj(k) => {
                        let (fty, get) = schema::field(k, name).ok_or_else(|| {
                            unknown(format!(
                                "{} has no field `{name}`; it has {}",
                                k.name(),
                                schema::field_names(k).join(", ")
                            ))
                        })?;
                        steps.push(Step::Get(get));
                        ty = fty.with_list(ty.list || fty.list);
                        if fty.list {
                            // A new list: reading into its elements needs another [*].
                            iterating = false;
                        }
                    }
                    Kind::Money if name == "amount" || name == "currency" => {
                        steps.push(if name == "amount" {
                            Step::Amount
                        } else {
                            Step::Currency
                        });
                        let k = if name == "amount" {
                            Kind::Num
                        } else {
                            Kind::Str
                        };
                        ty = Ty {
                            kind: k,
                            list: ty.list,
                        };
                    }
                    _ => {
                        return Err(unknown(format!(
                            "a {} value has no field `{name}`",
                            Ty::one(ty.kind).name()
                        )));
                    }
                }
            }
        }
        i += 1;
    }
    Ok((
        Expr {
            term: Term::Path { root, steps },
            ops: Vec::new(),
        },
        ty,
    ))
}

fn scalar_text(ty: Ty) -> bool {
    !ty.list
        && matches!(
            ty.kind,
            Kind::Str
                | Kind::Num
                | Kind::Bool
                | Kind::Date
                | Kind::DateTime
                | Kind::Any
                | Kind::Null
        )
}

fn call(name: &str, args: &[Ast], cx: &Cx<'_>) -> Result<(Expr, Ty), E> {
    match name {
        "concat" => {
            let parts = concat_parts(name, args, cx)?;
            Ok((
                Expr {
                    term: Term::Concat(parts),
                    ops: Vec::new(),
                },
                Ty::one(Kind::Str),
            ))
        }
        "coalesce" => {
            arity(name, args, 1, 16)?;
            let mut out_ty: Option<Ty> = None;
            let mut parts = Vec::new();
            for a in args {
                let (e, ty) = compile(a, cx)?;
                if ty.kind != Kind::Null {
                    match out_ty {
                        Some(t) if t != ty && t.kind != Kind::Any && ty.kind != Kind::Any => {
                            return Err(mismatch(name, &t.name(), ty));
                        }
                        Some(t) if t.kind == Kind::Any => {}
                        _ => out_ty = Some(ty),
                    }
                }
                parts.push(e);
            }
            Ok((
                Expr {
                    term: Term::Coalesce(parts),
                    ops: Vec::new(),
                },
                out_ty.unwrap_or(Ty::one(Kind::Null)),
            ))
        }
        _ => Err(E::UnknownTransform {
            name: name.to_owned(),
        }),
    }
}

fn concat_parts(name: &str, args: &[Ast], cx: &Cx<'_>) -> Result<Vec<Expr>, E> {
    arity(name, args, 1, 32)?;
    args.iter()
        .map(|a| {
            let (e, ty) = compile(a, cx)?;
            if scalar_text(ty) {
                Ok(e)
            } else {
                Err(mismatch(name, SCALARS, ty))
            }
        })
        .collect()
}

/// Type-checks one `| name(args)` step.
fn transform(name: &str, args: &[Ast], input: Ty, cx: &Cx<'_>) -> Result<(Op, Ty, bool), E> {
    let k = input.kind;
    let any = k == Kind::Any || k == Kind::Null;
    let lift = input.list;
    // Scalar transform: `accepts` on the element kind, output kind `out`, lifted over lists.
    let scalar = |ok: bool, expected: &str, op: Op, out: Kind| -> Result<(Op, Ty, bool), E> {
        if ok || any {
            Ok((
                op,
                Ty {
                    kind: out,
                    list: lift,
                },
                lift,
            ))
        } else {
            Err(mismatch(name, expected, input))
        }
    };
    let need_list = |op: Op, out: Ty| -> Result<(Op, Ty, bool), E> {
        if input.list || any {
            Ok((op, out, false))
        } else {
            Err(mismatch(name, "a list", input))
        }
    };
    match name {
        "trim" | "lower" | "upper" => {
            arity(name, args, 0, 0)?;
            let op = match name {
                "trim" => Op::Trim,
                "lower" => Op::Lower,
                _ => Op::Upper,
            };
            scalar(k == Kind::Str, "string", op, Kind::Str)
        }
        "default" => {
            arity(name, args, 1, 1)?;
            let l = lit_arg(name, args, 0)?;
            let lk = lit_kind(&l);
            let out = if any { lk } else { k };
            let fits = any || lk == k || lk == Kind::Null || (k == Kind::Str && lk != Kind::Null);
            if !fits || input.list {
                return Err(mismatch(
                    name,
                    &format!("a {} value", Ty::one(lk).name()),
                    input,
                ));
            }
            Ok((Op::Default(l), Ty::one(out), false))
        }
        "concat" => {
            if !scalar_text(input) {
                return Err(mismatch(name, SCALARS, input));
            }
            Ok((
                Op::Concat(concat_parts(name, args, cx)?),
                Ty::one(Kind::Str),
                false,
            ))
        }
        "map" => {
            arity(name, args, 1, 2)?;
            let map_name = args[0]
                .as_ident()
                .map(str::to_owned)
                .map_or_else(|| str_arg(name, args, 0), Ok)?;
            let table = cx.maps.get(&map_name).ok_or_else(|| E::UnknownMap {
                name: map_name.clone(),
            })?;
            let fallback = if args.len() == 2 {
                Some(str_arg(name, args, 1)?)
            } else {
                table.get("*").cloned()
            };
            let table = table
                .iter()
                .filter(|(k, _)| *k != "*")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let op = Op::Map {
                name: map_name,
                table,
                fallback,
            };
            scalar(
                matches!(k, Kind::Str | Kind::Bool | Kind::Num),
                "string",
                op,
                Kind::Str,
            )
        }
        "iso_date" => scalar(
            matches!(k, Kind::Date | Kind::DateTime),
            "date or datetime",
            Op::IsoDate,
            Kind::Str,
        ),
        "rfc3339" => scalar(
            matches!(k, Kind::Date | Kind::DateTime),
            "date or datetime",
            Op::Rfc3339,
            Kind::Str,
        ),
        "epoch_ms" => scalar(
            matches!(k, Kind::Date | Kind::DateTime),
            "date or datetime",
            Op::EpochMs,
            Kind::Num,
        ),
        "date" => scalar(
            matches!(k, Kind::Date | Kind::DateTime | Kind::Str),
            "datetime or text",
            Op::ToDate,
            Kind::Date,
        ),
        "datetime" => scalar(
            matches!(k, Kind::Date | Kind::DateTime | Kind::Str | Kind::Num),
            "date, text or epoch milliseconds",
            Op::ToDateTime,
            Kind::DateTime,
        ),
        "decimal" => {
            arity(name, args, 1, 1)?;
            let scale = num_arg(name, args, 0)?;
            let scale = u32::try_from(scale.mantissa())
                .ok()
                .filter(|s| *s <= 12 && scale.scale() == 0)
                .ok_or_else(|| E::BadArguments {
                    name: name.to_owned(),
                    reason: "scale must be a whole number from 0 to 12".to_owned(),
                })?;
            scalar(
                k == Kind::Num,
                "number (use `amount` first for money)",
                Op::Decimal(scale),
                Kind::Num,
            )
        }
        "amount" => scalar(k == Kind::Money, "money", Op::Amount, Kind::Num),
        "currency" => scalar(k == Kind::Money, "money", Op::CurrencyCode, Kind::Str),
        "minor_units" => scalar(k == Kind::Money, "money", Op::MinorUnits, Kind::Num),
        "convert" => {
            arity(name, args, 0, 1)?;
            let to = if args.is_empty() {
                None
            } else {
                let code = str_arg(name, args, 0)?;
                Some(Currency::new(&code).map_err(|e| E::BadArguments {
                    name: name.to_owned(),
                    reason: e.to_string(),
                })?)
            };
            scalar(k == Kind::Money, "money", Op::Convert(to), Kind::Money)
        }
        "sum" => {
            let out = match k {
                Kind::Num | Kind::Money => k,
                Kind::Any | Kind::Null => Kind::Any,
                _ => return Err(mismatch(name, "a list of numbers or money", input)),
            };
            need_list(Op::Sum, Ty::one(out))
        }
        "count" => Ok((Op::Count, Ty::one(Kind::Num), false)),
        "first" | "last" => {
            let op = if name == "first" { Op::First } else { Op::Last };
            Ok((op, input.with_list(false), false))
        }
        "join" => {
            arity(name, args, 0, 1)?;
            let sep = if args.is_empty() {
                ", ".to_owned()
            } else {
                str_arg(name, args, 0)?
            };
            if matches!(k, Kind::Str | Kind::Num | Kind::Any | Kind::Null) {
                Ok((Op::Join(sep), Ty::one(Kind::Str), false))
            } else {
                Err(mismatch(name, "a list of text or numbers", input))
            }
        }
        "distinct" => need_list(Op::Distinct, input),
        "eq" | "ne" => {
            arity(name, args, 1, 1)?;
            let l = lit_arg(name, args, 0)?;
            let op = if name == "eq" { Op::Eq(l) } else { Op::Ne(l) };
            scalar(scalar_text(input.with_list(false)), SCALARS, op, Kind::Bool)
        }
        "in" => {
            arity(name, args, 1, 64)?;
            let lits = (0..args.len())
                .map(|i| lit_arg(name, args, i))
                .collect::<Result<_, _>>()?;
            scalar(
                scalar_text(input.with_list(false)),
                SCALARS,
                Op::In(lits),
                Kind::Bool,
            )
        }
        "gt" | "gte" | "lt" | "lte" => {
            arity(name, args, 1, 1)?;
            let n = num_arg(name, args, 0)?;
            let c = match name {
                "gt" => Cmp::Gt,
                "gte" => Cmp::Gte,
                "lt" => Cmp::Lt,
                _ => Cmp::Lte,
            };
            scalar(
                matches!(k, Kind::Num | Kind::Money),
                "number or money",
                Op::Compare(c, n),
                Kind::Bool,
            )
        }
        "present" => Ok((Op::Present, Ty::one(Kind::Bool), false)),
        "not" => scalar(k == Kind::Bool, "bool", Op::Not, Kind::Bool),
        "and" | "or" => {
            arity(name, args, 1, 1)?;
            let (e, ty) = compile(&args[0], cx)?;
            if ty != Ty::one(Kind::Bool) && ty.kind != Kind::Any {
                return Err(mismatch(name, "a bool argument", ty));
            }
            if input.list || !(k == Kind::Bool || any) {
                return Err(mismatch(name, "bool", input));
            }
            let op = if name == "and" {
                Op::And(Box::new(e))
            } else {
                Op::Or(Box::new(e))
            };
            Ok((op, Ty::one(Kind::Bool), false))
        }
        "if" => {
            arity(name, args, 2, 2)?;
            let (a, b) = (lit_arg(name, args, 0)?, lit_arg(name, args, 1)?);
            let (ka, kb) = (lit_kind(&a), lit_kind(&b));
            let out = if ka == Kind::Null { kb } else { ka };
            if ka != kb && ka != Kind::Null && kb != Kind::Null {
                return Err(E::BadArguments {
                    name: name.to_owned(),
                    reason: "both branches must have the same type".to_owned(),
                });
            }
            scalar(k == Kind::Bool, "bool", Op::If(a, b), out)
        }
        "string" => scalar(
            scalar_text(input.with_list(false)),
            SCALARS,
            Op::ToString,
            Kind::Str,
        ),
        "number" => scalar(
            matches!(k, Kind::Str | Kind::Num),
            "text or number",
            Op::ToNumber,
            Kind::Num,
        ),
        "localized" => {
            let langs = if args.is_empty() {
                cx.languages.to_vec()
            } else {
                (0..args.len())
                    .map(|i| str_arg(name, args, i))
                    .collect::<Result<_, _>>()?
            };
            if langs.is_empty() {
                return Err(E::BadArguments {
                    name: name.to_owned(),
                    reason: "no languages: pass them, e.g. localized('de-CH', 'en'), or set `languages` in the file".to_owned(),
                });
            }
            scalar(
                k == Kind::Str,
                "a localized attribute",
                Op::Localized(langs),
                Kind::Str,
            )
        }
        _ => Err(E::UnknownTransform {
            name: name.to_owned(),
        }),
    }
}

/// The constant values an expression can produce, when they are all known at compile time
/// (a constant, or a final `map` or `if`).
pub(crate) fn constant_outputs(expr: &Expr) -> Option<Vec<String>> {
    let text = |l: &Lit| match l {
        Lit::Str(s) => Some(s.clone()),
        Lit::Num(n) => Some(n.to_string()),
        Lit::Bool(b) => Some(b.to_string()),
        Lit::Null => None,
    };
    match expr.ops.last() {
        None => match &expr.term {
            Term::Lit(l) => Some(text(l).into_iter().collect()),
            _ => None,
        },
        Some((
            Op::Map {
                table, fallback, ..
            },
            _,
        )) => Some(
            table
                .values()
                .cloned()
                .chain(fallback.iter().cloned())
                .collect(),
        ),
        Some((Op::If(a, b), _)) => Some([text(a), text(b)].into_iter().flatten().collect()),
        Some(_) => None,
    }
}
