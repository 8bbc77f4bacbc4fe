//! Declarative field mapping: canonical records to CRM property values.
//!
//! A [`MappingFile`] is data (TOML or JSON): value maps, target [`PropertyDefinition`]s and
//! [`MappingSpec`]s whose fields are small expressions such as
//! `order.line_items[*].sku | distinct | join(", ")`. [`MappingFile::compile`] checks every
//! path, transform, type and target property once and returns a [`Plan`] (or every problem
//! found, each naming the mapping and field). Applying a plan never panics: each field
//! either lands in the [`PropertyMap`] or becomes a [`FieldError`] naming the record, the
//! field and the reason. The language is described in `docs/mapping.md`.
//!
//! ```
//! use cartograph_core::mapping::{Context, Input, MappingFile};
//! use cartograph_core::metrics::sample;
//! use cartograph_model::PropertyValue;
//!
//! let file = MappingFile::from_toml(r#"
//! crm = "examplecrm"
//!
//! [[properties]]
//! object = "deal"
//! name = "order_key"
//! label = "Order key"
//! type = "string"
//!
//! [[mappings]]
//! name = "sale"
//! object = "deal"
//! subject = "order"
//! fields = [
//!   { target = "order_key", source = "order.key", required = true },
//! ]
//! "#)?;
//! let sale = file.compile("sale", &[])?;
//! let order = &sample::orders(1, 1, 42)[0];
//! let out = sale.apply(&Input::order(order), &Context::default());
//! assert!(out.errors.is_empty(), "{:?}", out.errors);
//! assert_eq!(out.properties["order_key"], PropertyValue::String(order.source.to_string()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use cartograph_model::{
    Cart, CrmObjectType, Customer, LineItem, Order, Product, PropertyDefinition, PropertyMap,
    PropertyType, Refund,
};

mod apply;
mod compile;
#[cfg(test)]
#[path = "tests_defaults.rs"]
pub(crate) mod defaults;
mod error;
mod eval;
mod fold;
mod parse;
mod records;
mod schema;
mod spec;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_apply;

pub use error::{
    CompileError, CompileErrorKind, CompileErrors, FieldError, FieldErrorReason, LoadError,
};
pub use records::{order_record, product_record};
pub use spec::{FieldSpec, MappingFile, MappingSpec, OnNull, Subject, TargetProperty};

use crate::metrics::CustomerMetrics;
pub use crate::metrics::Rates;
use crate::rules::CustomerStatus;
use compile::{Cx, Expr};
use schema::{Kind, Ty};

/// The records a plan reads. Set the subject's record and whatever else the mapping uses;
/// paths into records that are not given evaluate to missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Input<'a> {
    /// `customer.*`
    pub customer: Option<&'a Customer>,
    /// `order.*`
    pub order: Option<&'a Order>,
    /// `line_item.*`
    pub line_item: Option<&'a LineItem>,
    /// `refund.*`
    pub refund: Option<&'a Refund>,
    /// `product.*`
    pub product: Option<&'a Product>,
    /// `cart.*`
    pub cart: Option<&'a Cart>,
    /// `metrics.*`
    pub metrics: Option<&'a CustomerMetrics>,
    /// `status.*`
    pub status: Option<&'a CustomerStatus>,
}

impl<'a> Input<'a> {
    /// An order alone.
    pub fn order(order: &'a Order) -> Self {
        Self {
            order: Some(order),
            ..Self::default()
        }
    }

    /// A customer alone.
    pub fn customer(customer: &'a Customer) -> Self {
        Self {
            customer: Some(customer),
            ..Self::default()
        }
    }

    /// A product alone.
    pub fn product(product: &'a Product) -> Self {
        Self {
            product: Some(product),
            ..Self::default()
        }
    }

    /// One line of an order.
    pub fn line_item(order: &'a Order, line_item: &'a LineItem) -> Self {
        Self {
            order: Some(order),
            line_item: Some(line_item),
            ..Self::default()
        }
    }
}

/// Host-provided data for applying plans.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// Exchange rates for `convert`; without them `convert` is a per-field error.
    pub rates: Option<&'a Rates>,
}

/// The result of applying a plan to one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The mapped properties.
    pub properties: PropertyMap,
    /// Fields that could not be mapped.
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone)]
struct CompiledField {
    target: String,
    definition: PropertyDefinition,
    expr: Expr,
    /// Every value the expression can produce was checked against the options at compile
    /// time (it ends in `map`), so applying skips the check.
    options_checked: bool,
    when: Option<Expr>,
    required: bool,
    on_null: OnNull,
}

/// A compiled mapping, ready to apply to any number of records.
#[derive(Debug, Clone)]
pub struct Plan {
    name: String,
    object: CrmObjectType,
    subject: Subject,
    fields: Vec<CompiledField>,
}

fn target_fits(ty: Ty, kind: PropertyType) -> Result<(), &'static str> {
    if ty.kind == Kind::Any || ty.kind == Kind::Null {
        return Ok(());
    }
    if ty.list {
        return if kind == PropertyType::MultiEnumeration {
            Ok(())
        } else {
            Err("; reduce the list with join, first, count or sum")
        };
    }
    let ok = match (ty.kind, kind) {
        (Kind::Money, _) => {
            return Err("; use `| amount`, `| decimal(2)` after it, or `| minor_units`");
        }
        (Kind::Obj(_), _) => return Err("; read a field of it"),
        (_, PropertyType::String)
        | (Kind::Num, PropertyType::Number)
        | (Kind::Bool, PropertyType::Bool)
        | (Kind::Date | Kind::DateTime, PropertyType::Date | PropertyType::DateTime)
        | (
            Kind::Str | Kind::Bool | Kind::Num,
            PropertyType::Enumeration | PropertyType::MultiEnumeration,
        ) => true,
        (Kind::Str, PropertyType::Number) => return Err("; use `| number`"),
        (Kind::Str, PropertyType::Date | PropertyType::DateTime) => {
            return Err("; use `| date` or `| datetime`");
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err("") }
}

impl MappingFile {
    /// Compiles the mapping `name` against this file's property definitions plus `extra`
    /// (e.g. the properties read from the CRM account).
    pub fn compile(&self, name: &str, extra: &[PropertyDefinition]) -> Result<Plan, CompileErrors> {
        let err = |field: &str, kind| CompileError {
            mapping: name.to_owned(),
            field: field.to_owned(),
            kind,
        };
        let Some(spec) = self.mapping(name) else {
            return Err(CompileErrors(vec![err(
                "-",
                CompileErrorKind::UnknownMapping {
                    name: name.to_owned(),
                },
            )]));
        };
        let cx = Cx {
            subject: spec.subject,
            maps: &self.maps,
            languages: &self.languages,
        };
        let lookup = |prop: &str| {
            extra
                .iter()
                .chain(self.properties.iter().map(|p| &p.definition))
                .find(|d| d.object == spec.object && d.name == prop)
        };
        let mut errors = Vec::new();
        let mut fields = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for f in &spec.fields {
            if !seen.insert(f.target.as_str()) {
                errors.push(err(&f.target, CompileErrorKind::DuplicateTarget));
                continue;
            }
            let Some(def) = lookup(&f.target) else {
                errors.push(err(
                    &f.target,
                    CompileErrorKind::UnknownTarget {
                        object: spec.object.to_string(),
                        property: f.target.clone(),
                    },
                ));
                continue;
            };
            let compiled = compile_expr(&f.source, &cx).and_then(|(expr, ty)| {
                target_fits(ty, def.kind).map_err(|hint| CompileErrorKind::TargetType {
                    property: f.target.clone(),
                    property_type: format!("{:?}", def.kind).to_lowercase(),
                    found: ty.name(),
                    hint: hint.to_owned(),
                })?;
                check_options(&expr, def)?;
                Ok(expr)
            });
            let when = f.when.as_deref().map(|w| {
                compile_expr(w, &cx).and_then(|(e, ty)| {
                    if ty == Ty::one(Kind::Bool) || ty.kind == Kind::Any {
                        Ok(e)
                    } else {
                        Err(CompileErrorKind::Condition { found: ty.name() })
                    }
                })
            });
            match (compiled, when.transpose()) {
                (Ok(expr), Ok(when)) => fields.push(CompiledField {
                    target: f.target.clone(),
                    definition: def.clone(),
                    options_checked: matches!(expr.ops.last(), Some((compile::Op::Map { .. }, _))),
                    expr,
                    when,
                    required: f.required,
                    on_null: f.on_null,
                }),
                (a, b) => {
                    if let Err(k) = a {
                        errors.push(err(&f.target, k));
                    }
                    if let Err(k) = b {
                        errors.push(err(&format!("{} (when)", f.target), k));
                    }
                }
            }
        }
        if errors.is_empty() {
            // Sorted by target, so a record's properties arrive in map order.
            fields.sort_by(|a, b| a.target.cmp(&b.target));
            Ok(Plan {
                name: spec.name.clone(),
                object: spec.object.clone(),
                subject: spec.subject,
                fields,
            })
        } else {
            Err(CompileErrors(errors))
        }
    }
}

fn compile_expr(text: &str, cx: &Cx<'_>) -> Result<(Expr, Ty), CompileErrorKind> {
    let ast = parse::parse(text).map_err(|e| CompileErrorKind::Syntax {
        expr: text.to_owned(),
        offset: e.offset,
        message: e.message,
    })?;
    compile::compile(&ast, cx)
}

fn check_options(expr: &Expr, def: &PropertyDefinition) -> Result<(), CompileErrorKind> {
    let enumerated = matches!(
        def.kind,
        PropertyType::Enumeration | PropertyType::MultiEnumeration
    );
    if !enumerated || def.options.is_empty() {
        return Ok(());
    }
    for value in compile::constant_outputs(expr).unwrap_or_default() {
        if !def.options.iter().any(|o| o.value == value) {
            return Err(CompileErrorKind::NotAnOption {
                property: def.name.clone(),
                value,
            });
        }
    }
    Ok(())
}

impl Plan {
    /// The mapping's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CRM object written.
    pub fn object(&self) -> &CrmObjectType {
        &self.object
    }

    /// The record read.
    pub fn subject(&self) -> Subject {
        self.subject
    }

    /// The target properties, in field order.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.target.as_str())
    }
}
